/* auth: the cluster key, message authentication codes and replay windows.
 *
 * Every node of a cluster shares one 32-byte secret, the cluster key, kept
 * in a file readable by its owner only. Datagrams (proto/msg.h) and stream
 * handshakes (proto/stream.h) carry a MAC keyed by it:
 * keyed BLAKE2b with a 16-byte output (libsodium crypto_generichash).
 *
 * A member holding the key is trusted: the key authenticates "a member of
 * this cluster", not which member. A node id inside a message is only as
 * honest as every key holder.
 */
#ifndef OM_PROTO_AUTH_H
#define OM_PROTO_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define AUTH_KEY_SIZE 32
#define AUTH_KEY_HEX_SIZE (2 * AUTH_KEY_SIZE)
#define AUTH_MAC_SIZE 16

/* Initialise libsodium (idempotent, thread-safe). 0 or -EIO. Functions
 * that need randomness call it themselves; daemons call it at start-up. */
int auth_init(void) __must_check;

/* Load the cluster key from `path`, or create it if the file is absent.
 *
 * The file holds exactly 64 hex digits and an optional newline. It must be
 * a regular file owned by us (or root) and not accessible to group or
 * others. An absent file is created with mode 0600 from fresh random bytes
 * (its directory with 0700 if missing), without replacing a file that
 * another process creates at the same moment.
 *
 * Returns 0, -EPERM (permissions too open, wrong owner), -EINVAL (bad
 * content or not a regular file), or another -errno. Logs the reason. */
int auth_key_load_or_create(const char *path, uint8_t key[AUTH_KEY_SIZE]) __must_check;

/* Parse the key file text: 64 hex digits, optionally followed by "\n".
 * 0 or -EINVAL. Pure. */
int auth_key_parse(const char *text, size_t len, uint8_t key[AUTH_KEY_SIZE]) __must_check;

/* MAC of data[0..len): BLAKE2b keyed with `key`, 16-byte output. */
void auth_mac(
	const uint8_t key[AUTH_KEY_SIZE], const void *data, size_t len, uint8_t out[AUTH_MAC_SIZE]);

/* true if `mac` is the MAC of data[0..len); compares in constant time. */
bool auth_verify(const uint8_t key[AUTH_KEY_SIZE], const void *data, size_t len,
	const uint8_t mac[AUTH_MAC_SIZE]);

/* Replay protection for one peer's datagrams.
 *
 * A message is named by (incarnation, seq): the incarnation grows when the
 * peer restarts, seq grows strictly within an incarnation. The window
 * remembers the highest seq seen (`top`) and which of the 64 seqs
 * top-63..top were seen (bit i of `bitmap` = top-i).
 *
 * Zero-initialise a window for a peer not heard from yet.
 *
 * Use replay_check() before, and replay_commit() only after the message
 * was authenticated, so forged messages cannot move the window. */
struct replay_window {
	uint64_t incarnation;
	uint64_t top;
	uint64_t bitmap;
};

#define REPLAY_WINDOW_SIZE 64

/* 0 if (incarnation, seq) is fresh; -EALREADY if it was seen or is older
 * than the window; -ESTALE if the incarnation is older than the peer's
 * known one. Does not modify the window. */
int replay_check(const struct replay_window *w, uint64_t incarnation, uint64_t seq) __must_check;

/* Record (incarnation, seq) as seen. A newer incarnation resets the window.
 * Ignores what replay_check() would refuse. */
void replay_commit(struct replay_window *w, uint64_t incarnation, uint64_t seq);

/* replay_check() and, if fresh, replay_commit(). */
int replay_accept(struct replay_window *w, uint64_t incarnation, uint64_t seq) __must_check;

#endif
