/* stream: authenticated TCP streams between daemons (port 4660: process
 * migration and node-to-node requests). A pure state machine over byte
 * buffers: the caller moves the bytes, nothing here touches a socket.
 *
 * Threat model. An attacker on the path can read, drop, inject, replay,
 * reorder and splice bytes, and can open connections, but does not hold the
 * cluster key. Promised: each side knows the other holds the cluster key;
 * every frame accepted was sent by that peer, on this connection, in this
 * order, unmodified. NOT promised: confidentiality (frames travel in
 * clear), and that the stream is complete: an attacker can cut a
 * connection after any frame, so a protocol on top must end with an
 * explicit final frame and treat EOF before it as failure. A key holder can
 * claim any node id (see proto/auth.h).
 *
 * Handshake (C = client, S = server, K = cluster key, all big-endian):
 *
 *	C -> S  HELLO     magic u32 "oMS1", version u8, type u8 = 1,
 *	                  client id u16, nonce_c[16]                (24 bytes)
 *	S -> C  HELLO_ACK magic u32, version u8, type u8 = 2,
 *	                  server id u16, nonce_s[16],
 *	                  MAC(K, "om-stream/srvmac" || T)           (40 bytes)
 *	C -> S  AUTH      MAC(K, "om-stream/climac" || T)           (16 bytes)
 *
 * T is the transcript: HELLO and the first 24 bytes of HELLO_ACK. Nonces
 * are fresh random, so neither proof can be replayed on another connection,
 * and the labels keep one side's proof from being reflected as the other's.
 * Each direction then has its own session key,
 * k_c2s = BLAKE2b(K, "om-stream/c2skey" || T), k_s2c likewise ("s2ckey").
 *
 * Frames (each direction counts its frames from 0 in ctr):
 *
 *	len u32, type u16, flags u16 (0), body[len],
 *	TAG(k_dir, ctr, ctr u64 || len || type || flags || body)   (len + 24)
 *
 * TAG is Poly1305 under a one-time key: the first 32 bytes of the ChaCha20
 * (IETF, RFC 8439) keystream of k_dir with the nonce 0u32 || ctr u64 and
 * block counter 0, as the ChaCha20-Poly1305 AEAD makes its MAC key (no
 * encryption). A counter is never used twice under one session key, so no
 * one-time key is reused. Poly1305 runs at several GB/s here, keyed
 * BLAKE2b at about 1: process images (hundreds of MiB) travel as frames.
 *
 * The counter is implicit, so a replayed, dropped, reordered or spliced
 * frame fails its MAC. After any failure the state is FAILED for good:
 * close the connection.
 *
 * Usage, client:  stream_auth_init(STREAM_CLIENT) -> stream_hello_encode ->
 *   stream_hello_ack_decode -> stream_auth_msg_encode -> READY.
 * Server:  stream_auth_init(STREAM_SERVER) -> stream_hello_decode ->
 *   stream_hello_ack_encode -> stream_auth_msg_decode -> READY.
 * Encoders return bytes written, -ENOBUFS (cap too small) or -EINVAL
 * (wrong state). Decoders return bytes consumed, -EAGAIN (need more bytes),
 * -EBADMSG (garbage), -EPROTO (foreign version), -EACCES (bad MAC: wrong
 * key or tampered), -EINVAL (wrong state).
 */
#ifndef OM_PROTO_STREAM_H
#define OM_PROTO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "proto/auth.h"

#define STREAM_PORT 4660
#define STREAM_MAGIC 0x6f4d5331u /* "oMS1" */
#define STREAM_VERSION 1
#define STREAM_NONCE_SIZE 16
#define STREAM_MAC_SIZE 16
#define STREAM_HELLO_SIZE 24
#define STREAM_HELLO_ACK_SIZE 40
#define STREAM_AUTH_SIZE 16
#define STREAM_FRAME_HDR_SIZE 8
#define STREAM_FRAME_OVERHEAD (STREAM_FRAME_HDR_SIZE + STREAM_MAC_SIZE)
#define STREAM_MAX_BODY (1u << 20) /* 1 MiB */

enum stream_role { STREAM_CLIENT, STREAM_SERVER };

enum stream_state {
	STREAM_INIT,	   /* nothing exchanged */
	STREAM_HELLO_SENT, /* client: waiting for HELLO_ACK */
	STREAM_ACK_OK,	   /* client: server proved the key; AUTH to send */
	STREAM_HELLO_RCVD, /* server: HELLO_ACK to send */
	STREAM_ACK_SENT,   /* server: waiting for AUTH */
	STREAM_READY,	   /* frames may flow */
	STREAM_FAILED,	   /* authentication or framing failed: close */
};

/* One connection's authentication state. Callers read nothing but
 * through the functions below; it holds key material: stream_auth_wipe()
 * it when done. */
struct stream_auth {
	uint8_t role;  /* enum stream_role */
	uint8_t state; /* enum stream_state */
	uint16_t self_id;
	uint16_t peer_id;		  /* the peer's id once known */
	uint16_t expect_peer;		  /* client: the server id wanted, 0 = any */
	uint8_t key[AUTH_KEY_SIZE];	  /* cluster key, wiped once READY */
	uint8_t nonce[STREAM_NONCE_SIZE]; /* our nonce */
	uint8_t transcript[STREAM_HELLO_SIZE + STREAM_HELLO_SIZE];
	uint8_t tx_key[AUTH_KEY_SIZE];
	uint8_t rx_key[AUTH_KEY_SIZE];
	uint64_t tx_ctr;
	uint64_t rx_ctr;
};

/* Start a connection's state with a fresh random nonce. self_id is our node
 * id; a client names the server it means to reach in expect_peer (0: any),
 * a server passes 0. Returns 0, -EINVAL (id 0) or -EIO (libsodium). */
int stream_auth_init(struct stream_auth *s, enum stream_role role, uint16_t self_id,
	uint16_t expect_peer, const uint8_t key[AUTH_KEY_SIZE]) __must_check;
/* The same with a given nonce: for tests and fuzzing only. A nonce must
 * never be used twice with one key. */
int stream_auth_init_nonce(struct stream_auth *s, enum stream_role role, uint16_t self_id,
	uint16_t expect_peer, const uint8_t key[AUTH_KEY_SIZE],
	const uint8_t nonce[STREAM_NONCE_SIZE]) __must_check;
/* Erase all key material (safe on a zeroed struct). */
void stream_auth_wipe(struct stream_auth *s);

/* Client: HELLO. */
int stream_hello_encode(struct stream_auth *s, uint8_t *buf, size_t cap) __must_check;
/* Server: HELLO. -EBADMSG also for client id 0. */
int stream_hello_decode(struct stream_auth *s, const uint8_t *buf, size_t len) __must_check;
/* Server: HELLO_ACK. */
int stream_hello_ack_encode(struct stream_auth *s, uint8_t *buf, size_t cap) __must_check;
/* Client: HELLO_ACK; also -ENXIO if an authenticated server is not the
 * expected one. */
int stream_hello_ack_decode(struct stream_auth *s, const uint8_t *buf, size_t len) __must_check;
/* Client: AUTH; READY afterwards (frames may follow AUTH at once). */
int stream_auth_msg_encode(struct stream_auth *s, uint8_t *buf, size_t cap) __must_check;
/* Server: AUTH; READY afterwards. */
int stream_auth_msg_decode(struct stream_auth *s, const uint8_t *buf, size_t len) __must_check;

bool stream_ready(const struct stream_auth *s);
bool stream_failed(const struct stream_auth *s);
/* The peer's node id: authenticated once READY (0 before it is known). */
uint16_t stream_peer_id(const struct stream_auth *s);

/* Frame body[0..len) of `type` into buf. The body may already sit at
 * buf + STREAM_FRAME_HDR_SIZE. Returns bytes written (len +
 * STREAM_FRAME_OVERHEAD), -EMSGSIZE (len > STREAM_MAX_BODY), -ENOBUFS, or
 * -EINVAL (not READY). */
int stream_frame_seal(struct stream_auth *s, uint8_t *buf, size_t cap, uint16_t type,
	const void *body, size_t len) __must_check;

/* Total size of the frame starting at buf, once its length field is in:
 * len + STREAM_FRAME_OVERHEAD, -EAGAIN (fewer than 4 bytes), or -EMSGSIZE
 * (body larger than STREAM_MAX_BODY: drop the connection). Lets a reader
 * size its buffer before the frame is complete. */
int stream_frame_size(const uint8_t *buf, size_t len) __must_check;

/* Check and take the first frame in buf[0..len). On success returns the
 * bytes consumed and points *body into buf. Errors: -EAGAIN (incomplete;
 * nothing changed), -EMSGSIZE (too large), -EACCES (bad MAC: tampered,
 * replayed, reordered), -EBADMSG (unknown flags), -EINVAL (not READY).
 * All but -EAGAIN leave the state FAILED. */
int stream_frame_open(struct stream_auth *s, const uint8_t *buf, size_t len, uint16_t *type,
	const uint8_t **body, size_t *body_len) __must_check;

#endif
