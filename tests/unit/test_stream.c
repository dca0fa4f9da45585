/* Unit tests: proto/stream.[ch], the authenticated stream handshake and frames. */
#include "proto/stream.h"
#include "proto/wire.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Computed independently with python3 (hashlib.blake2b for the proofs and
 * session keys; the cryptography package's ChaCha20 and Poly1305 for the
 * frame tag) from the spec in proto/stream.h: key 00..1f, nonce_c 11.., nonce_s 22.., ids 1 and 2;
 * HELLO, HELLO_ACK (with the server proof), AUTH (the client proof), then
 * one frame: header (body 3 bytes, type 0x0102), body "abc", MAC. */
#define GOLDEN_STREAM                                                                              \
	"6f4d53310101000111111111111111111111111111111111"                                         \
	"6f4d53310102000222222222222222222222222222222222"                                         \
	"44d75d5b920225932af827b8cd1b9fb8"                                                         \
	"9065518e441a488b42fe072b1ac174ac"                                                         \
	"0000000301020000"                                                                         \
	"616263"                                                                                   \
	"9f7ac0c0499a6a27a3d06e807d8408ba"

static uint8_t key_a[AUTH_KEY_SIZE], key_b[AUTH_KEY_SIZE];

static void init(struct stream_auth *s, enum stream_role role, uint16_t self, uint16_t expect,
	const uint8_t *key)
{
	if (stream_auth_init(s, role, self, expect, key))
		ok(0, "stream_auth_init");
}

/* Run the handshake between c (client) and s (server); wire bytes go
 * through buf. Returns 0, or the first error with *who set to 'c' or 's'. */
static int handshake(struct stream_auth *c, struct stream_auth *s, char *who)
{
	uint8_t buf[64];
	int n, err;

	*who = 'c';
	n = stream_hello_encode(c, buf, sizeof(buf));
	if (n < 0)
		return n;
	*who = 's';
	if ((err = stream_hello_decode(s, buf, (size_t)n)) < 0)
		return err;
	if ((n = stream_hello_ack_encode(s, buf, sizeof(buf))) < 0)
		return n;
	*who = 'c';
	if ((err = stream_hello_ack_decode(c, buf, (size_t)n)) < 0)
		return err;
	if ((n = stream_auth_msg_encode(c, buf, sizeof(buf))) < 0)
		return n;
	*who = 's';
	if ((err = stream_auth_msg_decode(s, buf, (size_t)n)) < 0)
		return err;
	return 0;
}

static void pair(struct stream_auth *c, struct stream_auth *s)
{
	char who;

	if (stream_auth_init(c, STREAM_CLIENT, 1, 2, key_a) ||
		stream_auth_init(s, STREAM_SERVER, 2, 0, key_a) || handshake(c, s, &who))
		ok(0, "pair: handshake");
}

static void test_handshake(void)
{
	struct stream_auth c, s;
	char who = 0;
	int err;

	is_int(stream_auth_init(&c, STREAM_CLIENT, 1, 2, key_a), 0, "init client");
	is_int(stream_auth_init(&s, STREAM_SERVER, 2, 0, key_a), 0, "init server");
	ok(memcmp(c.nonce, s.nonce, STREAM_NONCE_SIZE) != 0, "nonces differ");
	is_int(handshake(&c, &s, &who), 0, "same key: handshake succeeds");
	ok(stream_ready(&c) && stream_ready(&s), "same key: both sides READY");
	ok(stream_peer_id(&c) == 2 && stream_peer_id(&s) == 1, "peer ids authenticated");
	ok(memcmp(c.tx_key, s.rx_key, AUTH_KEY_SIZE) == 0 &&
			memcmp(c.rx_key, s.tx_key, AUTH_KEY_SIZE) == 0 &&
			memcmp(c.tx_key, c.rx_key, AUTH_KEY_SIZE) != 0,
		"session keys: agree, one per direction");
	{
		uint8_t zero[AUTH_KEY_SIZE] = {0};

		ok(memcmp(c.key, zero, AUTH_KEY_SIZE) == 0 &&
				memcmp(s.key, zero, AUTH_KEY_SIZE) == 0,
			"cluster key forgotten once READY");
	}
	stream_auth_wipe(&c);
	stream_auth_wipe(&s);
	ok(!stream_ready(&c) && stream_failed(&c), "wipe");

	/* different keys: the client refuses the server's proof */
	is_int(stream_auth_init(&c, STREAM_CLIENT, 1, 0, key_b), 0, "init client, key b");
	is_int(stream_auth_init(&s, STREAM_SERVER, 2, 0, key_a), 0, "init server, key a");
	err = handshake(&c, &s, &who);
	ok(err == -EACCES && who == 'c' && stream_failed(&c),
		"different keys: client says -EACCES");

	/* different keys: the server refuses a client that carries on anyway */
	{
		uint8_t buf[64];
		int n;

		init(&c, STREAM_CLIENT, 1, 0, key_b);
		init(&s, STREAM_SERVER, 2, 0, key_a);
		n = stream_hello_encode(&c, buf, sizeof(buf));
		is_int(stream_hello_decode(&s, buf, (size_t)n), STREAM_HELLO_SIZE, "hello decodes");
		n = stream_hello_ack_encode(&s, buf, sizeof(buf));
		/* a client that skips the check: take the ack into the transcript */
		memcpy(c.transcript + STREAM_HELLO_SIZE, buf, STREAM_HELLO_SIZE);
		c.state = STREAM_ACK_OK;
		n = stream_auth_msg_encode(&c, buf, sizeof(buf));
		is_int(stream_auth_msg_decode(&s, buf, (size_t)n), -EACCES,
			"different keys: server says -EACCES");
		ok(stream_failed(&s) && !stream_ready(&s), "server FAILED");
		is_int(stream_auth_msg_decode(&s, buf, (size_t)n), -EINVAL, "FAILED is final");
	}

	/* expected peer */
	init(&c, STREAM_CLIENT, 1, 3, key_a);
	init(&s, STREAM_SERVER, 2, 0, key_a);
	err = handshake(&c, &s, &who);
	ok(err == -ENXIO && who == 'c', "client refuses an authenticated but unexpected server");

	/* bad init */
	is_int(stream_auth_init(&c, STREAM_CLIENT, 0, 0, key_a), -EINVAL, "init: id 0");
	is_int(stream_auth_init(&s, STREAM_SERVER, 2, 5, key_a), -EINVAL,
		"init: server with expected peer");
	ok(stream_failed(&c), "init failure leaves FAILED");
}

static void test_handshake_attacks(void)
{
	struct stream_auth c, s, c2, s2;
	uint8_t hello[64], ack[64], auth[64], buf[64];
	int nh, na, nu, bad = 0, eagain_ok = 1;

	init(&c, STREAM_CLIENT, 1, 0, key_a);
	init(&s, STREAM_SERVER, 2, 0, key_a);
	nh = stream_hello_encode(&c, hello, sizeof(hello));
	is_int(nh, STREAM_HELLO_SIZE, "hello size");
	ok(wire_get_u32(hello) == STREAM_MAGIC && hello[4] == STREAM_VERSION && hello[5] == 1 &&
			wire_get_u16(hello + 6) == 1 &&
			memcmp(hello + 8, c.nonce, STREAM_NONCE_SIZE) == 0,
		"hello layout");

	/* partial input */
	for (int l = 0; l < nh; l++)
		eagain_ok &= stream_hello_decode(&s, hello, (size_t)l) == -EAGAIN;
	ok(eagain_ok && s.state == STREAM_INIT, "hello: every prefix is -EAGAIN");
	memcpy(buf, hello, (size_t)nh);
	buf[0] = 'G';
	is_int(stream_hello_decode(&s, buf, 1), -EBADMSG, "hello: stranger refused at byte 1");
	init(&s, STREAM_SERVER, 2, 0, key_a);
	memcpy(buf, hello, (size_t)nh);
	buf[4] = 2;
	is_int(stream_hello_decode(&s, buf, 5), -EPROTO, "hello: foreign version at byte 5");
	init(&s, STREAM_SERVER, 2, 0, key_a);
	memcpy(buf, hello, (size_t)nh);
	buf[5] = 2;
	is_int(stream_hello_decode(&s, buf, (size_t)nh), -EBADMSG, "hello: wrong type");
	init(&s, STREAM_SERVER, 2, 0, key_a);
	memcpy(buf, hello, (size_t)nh);
	buf[6] = buf[7] = 0;
	is_int(stream_hello_decode(&s, buf, (size_t)nh), -EBADMSG, "hello: client id 0");
	init(&s, STREAM_SERVER, 2, 0, key_a);
	is_int(stream_hello_decode(&s, hello, (size_t)nh + 10), nh,
		"hello: consumes only its own bytes");

	na = stream_hello_ack_encode(&s, ack, sizeof(ack));
	is_int(na, STREAM_HELLO_ACK_SIZE, "ack size");
	ok(wire_get_u32(ack) == STREAM_MAGIC && ack[5] == 2 && wire_get_u16(ack + 6) == 2,
		"ack layout");
	eagain_ok = 1;
	for (int l = 0; l < na; l++)
		eagain_ok &= stream_hello_ack_decode(&c, ack, (size_t)l) == -EAGAIN;
	ok(eagain_ok && c.state == STREAM_HELLO_SENT, "ack: every prefix is -EAGAIN");

	/* every bit flip in the ack is refused */
	for (int i = 0; i < na * 8; i++) {
		int err;

		c2 = c;
		ack[i / 8] ^= (uint8_t)(1 << (i % 8));
		err = stream_hello_ack_decode(&c2, ack, (size_t)na);
		ack[i / 8] ^= (uint8_t)(1 << (i % 8));
		bad += !(err == -EACCES || err == -EBADMSG || err == -EPROTO);
	}
	ok(bad == 0, "ack: all %d bit flips refused", na * 8);

	/* the server's proof reflected as the client's */
	s2 = s;
	is_int(stream_auth_msg_decode(&s2, ack + STREAM_HELLO_SIZE, STREAM_MAC_SIZE), -EACCES,
		"reflection of the server proof is refused");

	is_int(stream_hello_ack_decode(&c, ack, (size_t)na), na, "ack accepted");
	nu = stream_auth_msg_encode(&c, auth, sizeof(auth));
	is_int(nu, STREAM_AUTH_SIZE, "auth size");
	eagain_ok = 1;
	for (int l = 0; l < nu; l++)
		eagain_ok &= stream_auth_msg_decode(&s, auth, (size_t)l) == -EAGAIN;
	ok(eagain_ok && s.state == STREAM_ACK_SENT, "auth: every prefix is -EAGAIN");
	bad = 0;
	for (int i = 0; i < nu * 8; i++) {
		s2 = s;
		auth[i / 8] ^= (uint8_t)(1 << (i % 8));
		bad += stream_auth_msg_decode(&s2, auth, (size_t)nu) != -EACCES;
		auth[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	ok(bad == 0, "auth: all %d bit flips refused", nu * 8);
	is_int(stream_auth_msg_decode(&s, auth, (size_t)nu), nu, "auth accepted");

	/* replaying the recorded client side against a new server session */
	init(&s2, STREAM_SERVER, 2, 0, key_a);
	is_int(stream_hello_decode(&s2, hello, (size_t)nh), nh, "replay: hello accepted again");
	na = stream_hello_ack_encode(&s2, buf, sizeof(buf));
	is_int(stream_auth_msg_decode(&s2, auth, (size_t)nu), -EACCES,
		"replay: old AUTH refused by a new server nonce");

	/* replaying the recorded server side against a new client session */
	init(&c2, STREAM_CLIENT, 1, 0, key_a);
	nh = stream_hello_encode(&c2, buf, sizeof(buf));
	is_int(stream_hello_ack_decode(&c2, ack, STREAM_HELLO_ACK_SIZE), -EACCES,
		"replay: old HELLO_ACK refused by a new client nonce");

	/* wrong-state calls */
	is_int(stream_hello_encode(&s, buf, sizeof(buf)), -EINVAL, "server cannot send hello");
	is_int(stream_hello_ack_decode(&s, buf, sizeof(buf)), -EINVAL, "server cannot take ack");
	init(&c2, STREAM_CLIENT, 1, 0, key_a);
	is_int(stream_hello_encode(&c2, buf, STREAM_HELLO_SIZE - 1), -ENOBUFS, "hello: cap");
	is_int(stream_auth_msg_encode(&c2, buf, sizeof(buf)), -EINVAL, "auth before ack");
	{
		uint16_t t;
		const uint8_t *b;
		size_t bl;

		is_int(stream_frame_seal(&c2, buf, sizeof(buf), 1, "x", 1), -EINVAL,
			"no frames before READY");
		is_int(stream_frame_open(&c2, buf, sizeof(buf), &t, &b, &bl), -EINVAL,
			"no frames before READY (open)");
	}
	stream_auth_wipe(&c);
	stream_auth_wipe(&s);
}

/* Deterministic handshake pinned byte for byte. */
static void test_golden(void)
{
	struct stream_auth c, s;
	uint8_t nc[STREAM_NONCE_SIZE], ns[STREAM_NONCE_SIZE], key[AUTH_KEY_SIZE];
	uint8_t buf[128];
	char hex[2 * sizeof(buf) + 1] = "";
	int n = 0, k;

	for (int i = 0; i < AUTH_KEY_SIZE; i++)
		key[i] = (uint8_t)i;
	memset(nc, 0x11, sizeof(nc));
	memset(ns, 0x22, sizeof(ns));
	if (stream_auth_init_nonce(&c, STREAM_CLIENT, 1, 2, key, nc) ||
		stream_auth_init_nonce(&s, STREAM_SERVER, 2, 0, key, ns))
		ok(0, "golden init");
	k = stream_hello_encode(&c, buf, sizeof(buf));
	if (k > 0 && stream_hello_decode(&s, buf, (size_t)k) == k)
		n += k;
	k = stream_hello_ack_encode(&s, buf + n, sizeof(buf) - (size_t)n);
	if (k > 0 && stream_hello_ack_decode(&c, buf + n, (size_t)k) == k)
		n += k;
	k = stream_auth_msg_encode(&c, buf + n, sizeof(buf) - (size_t)n);
	if (k > 0 && stream_auth_msg_decode(&s, buf + n, (size_t)k) == k)
		n += k;
	k = stream_frame_seal(&c, buf + n, sizeof(buf) - (size_t)n, 0x0102, "abc", 3);
	if (k > 0)
		n += k;
	for (int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", buf[i]);
	is_str(hex, GOLDEN_STREAM, "golden: handshake and first frame, byte for byte");
}

static void test_frames(void)
{
	struct stream_auth c, s, c2, s2, s3;
	uint8_t buf[4096], f1[256], f2[256];
	const uint8_t *body;
	size_t blen;
	uint16_t type;
	int n1, n2, n, bad, eagain_ok = 1;

	pair(&c, &s);
	n1 = stream_frame_seal(&c, f1, sizeof(f1), 7, "first", 5);
	n2 = stream_frame_seal(&c, f2, sizeof(f2), 8, "second", 6);
	is_int(n1, 5 + STREAM_FRAME_OVERHEAD, "frame size");
	ok(wire_get_u32(f1) == 5 && wire_get_u16(f1 + 4) == 7 && wire_get_u16(f1 + 6) == 0 &&
			memcmp(f1 + 8, "first", 5) == 0,
		"frame layout");
	is_int(stream_frame_size(f1, 3), -EAGAIN, "frame_size: needs 4 bytes");
	is_int(stream_frame_size(f1, 4), n1, "frame_size");

	/* reorder */
	s2 = s;
	is_int(stream_frame_open(&s2, f2, (size_t)n2, &type, &body, &blen), -EACCES,
		"reordered frame is refused");
	ok(stream_failed(&s2), "and the stream is FAILED");
	is_int(stream_frame_open(&s2, f1, (size_t)n1, &type, &body, &blen), -EINVAL,
		"FAILED stays failed");

	/* truncation: every prefix waits, state unchanged */
	for (int l = 0; l < n1; l++)
		eagain_ok &= stream_frame_open(&s, f1, (size_t)l, &type, &body, &blen) == -EAGAIN;
	ok(eagain_ok && s.rx_ctr == 0 && stream_ready(&s), "frame: every prefix is -EAGAIN");

	is_int(stream_frame_open(&s, f1, (size_t)n1, &type, &body, &blen), n1, "frame 1 opens");
	ok(type == 7 && blen == 5 && memcmp(body, "first", 5) == 0 && body == f1 + 8,
		"frame 1 contents");
	/* replay */
	s2 = s;
	is_int(stream_frame_open(&s2, f1, (size_t)n1, &type, &body, &blen), -EACCES,
		"replayed frame is refused");
	is_int(stream_frame_open(&s, f2, (size_t)n2, &type, &body, &blen), n2, "frame 2 opens");
	ok(type == 8 && blen == 6 && memcmp(body, "second", 6) == 0, "frame 2 contents");

	/* reflection: a frame sent back to its sender */
	c2 = c;
	is_int(stream_frame_open(&c2, f1, (size_t)n1, &type, &body, &blen), -EACCES,
		"reflected frame is refused");

	/* the other direction, and several frames in one buffer */
	n = 0;
	for (int i = 0; i < 5; i++) {
		char msg[16];
		int k;

		snprintf(msg, sizeof(msg), "reply %d", i);
		k = stream_frame_seal(&s, buf + n, sizeof(buf) - (size_t)n, (uint16_t)(100 + i),
			msg, strlen(msg));
		n += k > 0 ? k : 0;
	}
	{
		int off = 0, good = 1;

		for (int i = 0; i < 5; i++) {
			char msg[16];
			int k = stream_frame_open(
				&c, buf + off, (size_t)(n - off), &type, &body, &blen);

			snprintf(msg, sizeof(msg), "reply %d", i);
			good &= k > 0 && type == 100 + i && blen == strlen(msg) &&
				memcmp(body, msg, blen) == 0;
			off += k > 0 ? k : 0;
		}
		ok(good && off == n, "server to client: 5 frames from one buffer");
		is_int(stream_frame_open(&c, buf + off, 0, &type, &body, &blen), -EAGAIN,
			"empty buffer is -EAGAIN");
	}

	/* bit flips, splicing a shortened length */
	n1 = stream_frame_seal(&c, f1, sizeof(f1), 9, "flip me please", 14);
	bad = 0;
	for (int i = 0; i < n1 * 8; i++) {
		int err;

		s2 = s;
		f1[i / 8] ^= (uint8_t)(1 << (i % 8));
		err = stream_frame_open(&s2, f1, (size_t)n1, &type, &body, &blen);
		f1[i / 8] ^= (uint8_t)(1 << (i % 8));
		/* a longer length waits for bytes that, once there, fail the MAC */
		bad += !(err == -EACCES || err == -EMSGSIZE || err == -EAGAIN);
	}
	ok(bad == 0, "frame: all %d bit flips refused", n1 * 8);
	s2 = s;
	wire_put_u32(f1, 10);
	is_int(stream_frame_open(&s2, f1, (size_t)n1, &type, &body, &blen), -EACCES,
		"frame: shortened length is refused");
	wire_put_u32(f1, 14);

	/* a frame from another connection with the same key */
	pair(&c2, &s3);
	s2 = s;
	n2 = stream_frame_seal(&c2, f2, sizeof(f2), 9, "flip me please", 14);
	is_int(stream_frame_open(&s2, f2, (size_t)n2, &type, &body, &blen), -EACCES,
		"frame spliced from another connection is refused");
	is_int(stream_frame_open(&s, f1, (size_t)n1, &type, &body, &blen), n1,
		"the genuine frame still opens");

	/* flags are reserved: a correctly MACed frame with flags set is garbage */
	{
		crypto_onetimeauth_poly1305_state st;
		uint8_t ctr[8], nonce[12] = { 0 }, otk[32];

		n1 = stream_frame_seal(&c, f1, sizeof(f1), 1, "x", 1);
		wire_put_u16(f1 + 6, 0x8000);
		wire_put_u64(ctr, c.tx_ctr - 1);
		memcpy(nonce + 4, ctr, sizeof(ctr));
		crypto_stream_chacha20_ietf(otk, sizeof(otk), nonce, c.tx_key);
		crypto_onetimeauth_poly1305_init(&st, otk);
		crypto_onetimeauth_poly1305_update(&st, ctr, sizeof(ctr));
		crypto_onetimeauth_poly1305_update(&st, f1, 9);
		crypto_onetimeauth_poly1305_final(&st, f1 + 9);
		s2 = s;
		is_int(stream_frame_open(&s2, f1, (size_t)n1, &type, &body, &blen), -EBADMSG,
			"frame: unknown flags are -EBADMSG");
	}
	stream_auth_wipe(&c);
	stream_auth_wipe(&s);
	stream_auth_wipe(&c2);
	stream_auth_wipe(&s3);
}

static void test_sizes(void)
{
	struct stream_auth c, s;
	uint8_t hdr[8], small[64];
	uint8_t *big;
	size_t cap = STREAM_MAX_BODY + STREAM_FRAME_OVERHEAD, blen;
	const uint8_t *body;
	uint16_t type;
	int n;

	pair(&c, &s);
	big = calloc(1, cap + 1);
	if (!big) {
		ok(0, "calloc");
		return;
	}
	is_int(stream_frame_seal(&c, big, cap + 1, 1, big, STREAM_MAX_BODY + 1), -EMSGSIZE,
		"seal: body over 1 MiB is -EMSGSIZE");
	is_int(stream_frame_seal(&c, small, sizeof(small), 1, "0123456789", 10), 10 + 24,
		"seal: small");
	is_int(stream_frame_open(&s, small, 34, &type, &body, &blen), 34, "open small");
	is_int(stream_frame_seal(&c, small, 10 + 23, 1, "0123456789", 10), -ENOBUFS,
		"seal: cap too small");
	is_int(stream_frame_seal(&c, small, sizeof(small), 1, NULL, 0), 24, "seal: empty body");
	is_int(stream_frame_open(&s, small, 24, &type, &body, &blen), 24, "open: empty body");
	is_int(blen, 0, "empty body length");

	/* largest body, sealed in place */
	memset(big + STREAM_FRAME_HDR_SIZE, 0x5a, STREAM_MAX_BODY);
	n = stream_frame_seal(&c, big, cap, 2, big + STREAM_FRAME_HDR_SIZE, STREAM_MAX_BODY);
	is_int(n, (int)cap, "seal: 1 MiB body in place");
	is_int(stream_frame_open(&s, big, cap, &type, &body, &blen), (int)cap, "open: 1 MiB body");
	ok(blen == STREAM_MAX_BODY && body[0] == 0x5a && body[blen - 1] == 0x5a, "1 MiB contents");
	free(big);

	/* a length over the limit is refused from the header alone */
	wire_put_u32(hdr, STREAM_MAX_BODY + 1);
	wire_put_u32(hdr + 4, 0);
	is_int(stream_frame_size(hdr, 4), -EMSGSIZE, "frame_size: oversize");
	is_int(stream_frame_open(&s, hdr, 4, &type, &body, &blen), -EMSGSIZE,
		"open: oversize refused before the body arrives");
	ok(stream_failed(&s), "oversize leaves FAILED");
	wire_put_u32(hdr, UINT32_MAX);
	is_int(stream_frame_size(hdr, 8), -EMSGSIZE, "frame_size: 4 GiB");
	stream_auth_wipe(&c);
	stream_auth_wipe(&s);
}

int main(void)
{
	if (auth_init())
		return 1;
	randombytes_buf(key_a, sizeof(key_a));
	randombytes_buf(key_b, sizeof(key_b));
	test_handshake();
	test_handshake_attacks();
	test_golden();
	test_frames();
	test_sizes();
	return tap_done();
}
