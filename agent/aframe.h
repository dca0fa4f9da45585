/* aframe: the stream frames of proto/stream.h, sealed and checked with
 * agent/acrypt.c instead of libsodium, piece by piece, so an agent can MAC
 * a header it built and a body that stays in the process's own buffer
 * (sent with writev, received straight into place).
 *
 *	len u32, type u16, flags u16 (0), body[len],
 *	Poly1305(BLAKE2b(k_dir, ctr u64) [32 bytes], len || type || flags || body)
 *
 * Byte for byte what stream_frame_seal() makes with the same direction
 * key and counter (tests/unit/test_agent.c checks both ways). Freestanding.
 */
#ifndef OM_AGENT_AFRAME_H
#define OM_AGENT_AFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "agent/acrypt.h"

#define AFRAME_HDR_SIZE 8
#define AFRAME_TAG_SIZE 16
#define AFRAME_MAX_BODY (1u << 20) /* STREAM_MAX_BODY */

/* One direction of a link: its key and the next frame's counter. */
struct aframe_dir {
	uint8_t key[ACRYPT_KEY_SIZE];
	uint64_t ctr;
};

void aframe_hdr_put(uint8_t hdr[AFRAME_HDR_SIZE], uint32_t len, uint16_t type);
/* len and type of a header; -EMSGSIZE (body > AFRAME_MAX_BODY) or
 * -EBADMSG (flags not 0: checked before the MAC, which is no weaker: the
 * frame is dropped either way). 0 otherwise. */
int aframe_hdr_get(const uint8_t hdr[AFRAME_HDR_SIZE], uint32_t *len, uint16_t *type);
/* Start the MAC of frame number d->ctr (d->ctr is not advanced). */
void aframe_mac_begin(struct acrypt_poly *p, const struct aframe_dir *d);

#endif
