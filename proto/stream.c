#include "proto/stream.h"

#include "proto/wire.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>

enum { HS_HELLO = 1, HS_HELLO_ACK = 2 };

#define LABEL_SIZE 16
static const char label_srvmac[] = "om-stream/srvmac";
static const char label_climac[] = "om-stream/climac";
static const char label_c2skey[] = "om-stream/c2skey";
static const char label_s2ckey[] = "om-stream/s2ckey";

static_assert(sizeof(label_srvmac) == LABEL_SIZE + 1 && sizeof(label_climac) == LABEL_SIZE + 1 &&
		      sizeof(label_c2skey) == LABEL_SIZE + 1 &&
		      sizeof(label_s2ckey) == LABEL_SIZE + 1,
	"labels have one length, so label || transcript is unambiguous");
static_assert(STREAM_HELLO_SIZE == 4 + 1 + 1 + 2 + STREAM_NONCE_SIZE, "HELLO layout");
static_assert(STREAM_HELLO_ACK_SIZE == STREAM_HELLO_SIZE + STREAM_MAC_SIZE, "HELLO_ACK layout");
static_assert(STREAM_AUTH_SIZE == STREAM_MAC_SIZE, "AUTH layout");
static_assert(STREAM_FRAME_HDR_SIZE == 4 + 2 + 2, "frame header layout");
static_assert(STREAM_MAC_SIZE == AUTH_MAC_SIZE, "one MAC size");
static_assert(STREAM_MAX_BODY + STREAM_FRAME_OVERHEAD <= INT32_MAX, "sizes fit an int");

/* BLAKE2b keyed with `key` over label || transcript, outlen bytes. */
static void derive(uint8_t *out, size_t outlen, const uint8_t key[AUTH_KEY_SIZE], const char *label,
	const uint8_t *t, size_t tlen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, AUTH_KEY_SIZE, outlen);
	crypto_generichash_update(&st, (const uint8_t *)label, LABEL_SIZE);
	crypto_generichash_update(&st, t, tlen);
	crypto_generichash_final(&st, out, outlen);
	sodium_memzero(&st, sizeof(st));
}

static bool proof_ok(const struct stream_auth *s, const char *label, const uint8_t *mac)
{
	uint8_t want[STREAM_MAC_SIZE];
	bool ok;

	derive(want, sizeof(want), s->key, label, s->transcript, sizeof(s->transcript));
	ok = crypto_verify_16(want, mac) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* Both proofs are done: derive the session keys, forget K. */
static void become_ready(struct stream_auth *s)
{
	bool client = s->role == STREAM_CLIENT;
	const uint8_t *t = s->transcript;
	size_t tlen = sizeof(s->transcript);

	derive(client ? s->tx_key : s->rx_key, AUTH_KEY_SIZE, s->key, label_c2skey, t, tlen);
	derive(client ? s->rx_key : s->tx_key, AUTH_KEY_SIZE, s->key, label_s2ckey, t, tlen);
	sodium_memzero(s->key, sizeof(s->key));
	s->tx_ctr = 0;
	s->rx_ctr = 0;
	s->state = STREAM_READY;
}

static int fail(struct stream_auth *s, int err)
{
	s->state = STREAM_FAILED;
	sodium_memzero(s->key, sizeof(s->key));
	sodium_memzero(s->tx_key, sizeof(s->tx_key));
	sodium_memzero(s->rx_key, sizeof(s->rx_key));
	return err;
}

int stream_auth_init_nonce(struct stream_auth *s, enum stream_role role, uint16_t self_id,
	uint16_t expect_peer, const uint8_t key[AUTH_KEY_SIZE],
	const uint8_t nonce[STREAM_NONCE_SIZE])
{
	memset(s, 0, sizeof(*s));
	s->state = STREAM_FAILED;
	if (!self_id || (role != STREAM_CLIENT && role != STREAM_SERVER) ||
		(role == STREAM_SERVER && expect_peer))
		return -EINVAL;
	s->role = (uint8_t)role;
	s->state = STREAM_INIT;
	s->self_id = self_id;
	s->expect_peer = expect_peer;
	memcpy(s->key, key, AUTH_KEY_SIZE);
	memcpy(s->nonce, nonce, STREAM_NONCE_SIZE);
	return 0;
}

int stream_auth_init(struct stream_auth *s, enum stream_role role, uint16_t self_id,
	uint16_t expect_peer, const uint8_t key[AUTH_KEY_SIZE])
{
	uint8_t nonce[STREAM_NONCE_SIZE];
	int err;

	memset(s, 0, sizeof(*s));
	s->state = STREAM_FAILED;
	err = auth_init();
	if (err)
		return err;
	randombytes_buf(nonce, sizeof(nonce));
	return stream_auth_init_nonce(s, role, self_id, expect_peer, key, nonce);
}

void stream_auth_wipe(struct stream_auth *s)
{
	sodium_memzero(s, sizeof(*s));
	s->state = STREAM_FAILED;
}

/* The 24 bytes HELLO and HELLO_ACK share: magic, version, type, id, nonce. */
static void hs_put(uint8_t *p, uint8_t type, uint16_t id, const uint8_t *nonce)
{
	wire_put_u32(p, STREAM_MAGIC);
	wire_put_u8(p + 4, STREAM_VERSION);
	wire_put_u8(p + 5, type);
	wire_put_u16(p + 6, id);
	memcpy(p + 8, nonce, STREAM_NONCE_SIZE);
}

/* Check the framing bytes as soon as they arrive, so a stranger speaking
 * another protocol is refused without waiting for `need` bytes. */
static int hs_check(const uint8_t *p, size_t len, uint8_t type, size_t need)
{
	uint8_t magic[4];

	if (len == 0)
		return -EAGAIN;
	wire_put_u32(magic, STREAM_MAGIC);
	if (memcmp(p, magic, MIN(len, sizeof(magic))) != 0)
		return -EBADMSG;
	if (len > 4 && p[4] != STREAM_VERSION)
		return -EPROTO;
	if (len > 5 && p[5] != type)
		return -EBADMSG;
	return len < need ? -EAGAIN : 0;
}

int stream_hello_encode(struct stream_auth *s, uint8_t *buf, size_t cap)
{
	if (s->role != STREAM_CLIENT || s->state != STREAM_INIT)
		return -EINVAL;
	if (cap < STREAM_HELLO_SIZE)
		return -ENOBUFS;
	hs_put(buf, HS_HELLO, s->self_id, s->nonce);
	memcpy(s->transcript, buf, STREAM_HELLO_SIZE);
	s->state = STREAM_HELLO_SENT;
	return STREAM_HELLO_SIZE;
}

int stream_hello_decode(struct stream_auth *s, const uint8_t *buf, size_t len)
{
	int err;

	if (s->role != STREAM_SERVER || s->state != STREAM_INIT)
		return -EINVAL;
	err = hs_check(buf, len, HS_HELLO, STREAM_HELLO_SIZE);
	if (err == -EAGAIN)
		return err;
	if (err)
		return fail(s, err);
	s->peer_id = wire_get_u16(buf + 6);
	if (!s->peer_id)
		return fail(s, -EBADMSG);
	memcpy(s->transcript, buf, STREAM_HELLO_SIZE);
	s->state = STREAM_HELLO_RCVD;
	return STREAM_HELLO_SIZE;
}

int stream_hello_ack_encode(struct stream_auth *s, uint8_t *buf, size_t cap)
{
	uint8_t *t2 = s->transcript + STREAM_HELLO_SIZE;

	if (s->role != STREAM_SERVER || s->state != STREAM_HELLO_RCVD)
		return -EINVAL;
	if (cap < STREAM_HELLO_ACK_SIZE)
		return -ENOBUFS;
	hs_put(t2, HS_HELLO_ACK, s->self_id, s->nonce);
	memcpy(buf, t2, STREAM_HELLO_SIZE);
	derive(buf + STREAM_HELLO_SIZE, STREAM_MAC_SIZE, s->key, label_srvmac, s->transcript,
		sizeof(s->transcript));
	s->state = STREAM_ACK_SENT;
	return STREAM_HELLO_ACK_SIZE;
}

int stream_hello_ack_decode(struct stream_auth *s, const uint8_t *buf, size_t len)
{
	uint16_t peer;
	int err;

	if (s->role != STREAM_CLIENT || s->state != STREAM_HELLO_SENT)
		return -EINVAL;
	err = hs_check(buf, len, HS_HELLO_ACK, STREAM_HELLO_ACK_SIZE);
	if (err == -EAGAIN)
		return err;
	if (err)
		return fail(s, err);
	memcpy(s->transcript + STREAM_HELLO_SIZE, buf, STREAM_HELLO_SIZE);
	if (!proof_ok(s, label_srvmac, buf + STREAM_HELLO_SIZE))
		return fail(s, -EACCES);
	/* authenticated from here on */
	peer = wire_get_u16(buf + 6);
	if (!peer)
		return fail(s, -EBADMSG);
	if (s->expect_peer && peer != s->expect_peer)
		return fail(s, -ENXIO);
	s->peer_id = peer;
	s->state = STREAM_ACK_OK;
	return STREAM_HELLO_ACK_SIZE;
}

int stream_auth_msg_encode(struct stream_auth *s, uint8_t *buf, size_t cap)
{
	if (s->role != STREAM_CLIENT || s->state != STREAM_ACK_OK)
		return -EINVAL;
	if (cap < STREAM_AUTH_SIZE)
		return -ENOBUFS;
	derive(buf, STREAM_MAC_SIZE, s->key, label_climac, s->transcript, sizeof(s->transcript));
	become_ready(s);
	return STREAM_AUTH_SIZE;
}

int stream_auth_msg_decode(struct stream_auth *s, const uint8_t *buf, size_t len)
{
	if (s->role != STREAM_SERVER || s->state != STREAM_ACK_SENT)
		return -EINVAL;
	if (len < STREAM_AUTH_SIZE)
		return -EAGAIN;
	if (!proof_ok(s, label_climac, buf))
		return fail(s, -EACCES);
	become_ready(s);
	return STREAM_AUTH_SIZE;
}

bool stream_ready(const struct stream_auth *s)
{
	return s->state == STREAM_READY;
}

bool stream_failed(const struct stream_auth *s)
{
	return s->state == STREAM_FAILED;
}

uint16_t stream_peer_id(const struct stream_auth *s)
{
	return s->peer_id;
}

/* TAG(k, ctr, ctr || header || body) (proto/stream.h); header and body
 * are contiguous at p. */
static void frame_mac(const uint8_t key[AUTH_KEY_SIZE], uint64_t ctr, const uint8_t *p, size_t len,
	uint8_t out[STREAM_MAC_SIZE])
{
	crypto_onetimeauth_poly1305_state st;
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };
	uint8_t otk[crypto_onetimeauth_poly1305_KEYBYTES];
	uint8_t c[8];

	static_assert(crypto_stream_chacha20_ietf_KEYBYTES == AUTH_KEY_SIZE, "session key size");
	static_assert(crypto_onetimeauth_poly1305_BYTES == STREAM_MAC_SIZE, "tag size");
	wire_put_u64(c, ctr);
	memcpy(nonce + 4, c, sizeof(c));
	crypto_stream_chacha20_ietf(otk, sizeof(otk), nonce, key);
	crypto_onetimeauth_poly1305_init(&st, otk);
	crypto_onetimeauth_poly1305_update(&st, c, sizeof(c));
	crypto_onetimeauth_poly1305_update(&st, p, len);
	crypto_onetimeauth_poly1305_final(&st, out);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(otk, sizeof(otk));
}

int stream_frame_seal(struct stream_auth *s, uint8_t *buf, size_t cap, uint16_t type,
	const void *body, size_t len)
{
	size_t total = len + STREAM_FRAME_OVERHEAD;

	if (s->state != STREAM_READY)
		return -EINVAL;
	if (len > STREAM_MAX_BODY)
		return -EMSGSIZE;
	if (cap < total)
		return -ENOBUFS;
	if (s->tx_ctr == UINT64_MAX)
		return fail(s, -EOVERFLOW);
	if (len && body != buf + STREAM_FRAME_HDR_SIZE) /* sealed in place: no copy */
		memmove(buf + STREAM_FRAME_HDR_SIZE, body, len);
	wire_put_u32(buf, (uint32_t)len);
	wire_put_u16(buf + 4, type);
	wire_put_u16(buf + 6, 0);
	frame_mac(s->tx_key, s->tx_ctr, buf, STREAM_FRAME_HDR_SIZE + len,
		buf + STREAM_FRAME_HDR_SIZE + len);
	s->tx_ctr++;
	return (int)total;
}

int stream_frame_size(const uint8_t *buf, size_t len)
{
	uint32_t blen;

	if (len < 4)
		return -EAGAIN;
	blen = wire_get_u32(buf);
	if (blen > STREAM_MAX_BODY)
		return -EMSGSIZE;
	return (int)(blen + STREAM_FRAME_OVERHEAD);
}

int stream_frame_open(struct stream_auth *s, const uint8_t *buf, size_t len, uint16_t *type,
	const uint8_t **body, size_t *body_len)
{
	uint8_t want[STREAM_MAC_SIZE];
	size_t blen;
	int total;
	bool ok;

	if (s->state != STREAM_READY)
		return -EINVAL;
	total = stream_frame_size(buf, len);
	if (total == -EAGAIN)
		return total;
	if (total < 0)
		return fail(s, total);
	if (len < (size_t)total)
		return -EAGAIN;
	blen = (size_t)total - STREAM_FRAME_OVERHEAD;
	frame_mac(s->rx_key, s->rx_ctr, buf, STREAM_FRAME_HDR_SIZE + blen, want);
	ok = crypto_verify_16(want, buf + STREAM_FRAME_HDR_SIZE + blen) == 0;
	sodium_memzero(want, sizeof(want));
	if (!ok)
		return fail(s, -EACCES);
	/* authenticated from here on */
	if (wire_get_u16(buf + 6) != 0)
		return fail(s, -EBADMSG);
	if (s->rx_ctr == UINT64_MAX)
		return fail(s, -EOVERFLOW);
	s->rx_ctr++;
	*type = wire_get_u16(buf + 4);
	*body = buf + STREAM_FRAME_HDR_SIZE;
	*body_len = blen;
	return total;
}
