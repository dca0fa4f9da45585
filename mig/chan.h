/* chan: a blocking, authenticated frame channel over one TCP connection
 * (proto/stream.h), for the migration processes (deputy and remote), which
 * run outside the daemon's event loop. */
#ifndef OM_MIG_CHAN_H
#define OM_MIG_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "proto/stream.h"

struct mig_chan {
	int fd;
	struct stream_auth auth;
	uint8_t *in;
	size_t in_len, in_cap, in_off; /* in[in_off..in_len) not yet consumed */
	uint8_t *out;
	size_t out_cap;
};

/* Connect to addr:port (IPv4, host order) and authenticate as self_id,
 * wanting peer_id. 0 or -errno (-EACCES: wrong key). */
int mig_chan_connect(struct mig_chan *ch, uint32_t addr, uint16_t port, uint16_t self_id,
	uint16_t peer_id, const uint8_t key[AUTH_KEY_SIZE], int timeout_ms) __must_check;
/* Take over an authenticated server-side connection with `left` bytes of
 * input already read past the last frame. 0 or -ENOMEM. */
int mig_chan_adopt(struct mig_chan *ch, int fd, const struct stream_auth *auth,
	const uint8_t *left, size_t left_len) __must_check;
void mig_chan_close(struct mig_chan *ch);

int mig_chan_send(struct mig_chan *ch, uint16_t type, const void *body, size_t len) __must_check;
/* A frame built in place: the body goes to mig_chan_body() (*cap bytes of
 * room), then mig_chan_send_body() seals and sends its first len bytes,
 * without a copy. The buffer is the channel's: the next send reuses it. */
uint8_t *mig_chan_body(struct mig_chan *ch, size_t *cap);
int mig_chan_send_body(struct mig_chan *ch, uint16_t type, size_t len) __must_check;
/* Next frame; *body points into the channel's buffer until the next recv.
 * timeout_ms < 0 waits for ever. 0, -ETIMEDOUT, -ECONNRESET (closed), -EACCES. */
int mig_chan_recv(struct mig_chan *ch, uint16_t *type, const uint8_t **body, size_t *len,
	int timeout_ms) __must_check;
/* true if a whole frame is already buffered (poll the fd otherwise) */
int mig_chan_pending(const struct mig_chan *ch);

#endif
