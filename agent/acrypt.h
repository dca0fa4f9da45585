/* acrypt: the two primitives of the stream frames (proto/stream.h),
 * BLAKE2b (RFC 7693, keyed) and Poly1305 (RFC 8439), written out in
 * freestanding C.
 *
 * Why by hand: the in-process agents (agent/blob/) are a flat blob of
 * position-independent code planted into a migrated process and into its
 * home original; they run without libc, so libsodium cannot be linked
 * there. The daemon and the migration processes keep using libsodium;
 * tests/unit/test_agent.c checks these against it on random inputs.
 *
 * No libc, no globals, no allocation: this file is compiled twice, into
 * libom (for the tests and the deputy/remote) and into the blob.
 */
#ifndef OM_AGENT_ACRYPT_H
#define OM_AGENT_ACRYPT_H

#include <stddef.h>
#include <stdint.h>

#define ACRYPT_KEY_SIZE 32
#define ACRYPT_TAG_SIZE 16

/* out[0..outlen) = BLAKE2b-outlen(key[0..keylen), in[0..inlen)):
 * 1 <= outlen <= 64, keylen <= 64 (0: unkeyed). */
void acrypt_blake2b(uint8_t *out, size_t outlen, const void *in, size_t inlen, const uint8_t *key,
	size_t keylen);

/* Poly1305, incremental. */
struct acrypt_poly {
	uint64_t r[3], h[3], pad[2];
	uint8_t buf[16];
	size_t left;
};

void acrypt_poly_init(struct acrypt_poly *p, const uint8_t key[ACRYPT_KEY_SIZE]);
void acrypt_poly_update(struct acrypt_poly *p, const void *m, size_t len);
/* tag; wipes the state */
void acrypt_poly_final(struct acrypt_poly *p, uint8_t tag[ACRYPT_TAG_SIZE]);

/* 1 if a and b (16 bytes) are equal, in time independent of where they differ */
int acrypt_eq16(const uint8_t *a, const uint8_t *b);
/* zero n bytes in a way the compiler keeps */
void acrypt_wipe(void *p, size_t n);

#endif
