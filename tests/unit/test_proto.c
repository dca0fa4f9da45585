/* Unit tests: proto/wire.h, proto/auth.[ch] and proto/msg.[ch]. */
#include "proto/auth.h"
#include "proto/migp.h"
#include "proto/msg.h"
#include "proto/wire.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* computed independently: python3 hashlib.blake2b(key=bytes(range(32)), digest_size=16) */
#define GOLDEN_MAC "fff779261d205ae5cca0cb39656c2e01"

static const uint64_t NOW = 1700000000000000ull; /* wall clock, us */

static void test_key(uint8_t key[AUTH_KEY_SIZE], uint8_t first)
{
	for (int i = 0; i < AUTH_KEY_SIZE; i++)
		key[i] = (uint8_t)(first + i);
}

static struct proto_info_entry sample_entry(uint16_t id)
{
	struct proto_info_entry e = {
		.info.id = id,
		.info.status = NODE_CONF | NODE_UP | NODE_NOMFS,
		.info.ncpus = 8,
		.info.util = 73,
		.info.load = 412,
		.info.capacity = 800,
		.info.speed = 0x01020304,
		.info.tmem = 64000,
		.info.mem = 0xfffffffe,
		.info.rmem = 1234,
		.age_cs = 65535,
	};
	return e;
}

static bool entry_eq(const struct proto_info_entry *a, const struct proto_info_entry *b)
{
	const struct om_load_info *x = &a->info, *y = &b->info;

	return a->age_cs == b->age_cs && x->id == y->id && x->status == y->status &&
	       x->ncpus == y->ncpus && x->util == y->util && x->load == y->load &&
	       x->capacity == y->capacity && x->speed == y->speed && x->tmem == y->tmem &&
	       x->mem == y->mem && x->rmem == y->rmem;
}

static void test_wire(void)
{
	uint8_t b[16];
	struct wire_writer w;
	struct wire_reader r;

	wire_put_u16(b, 0x0102);
	wire_put_u32(b + 2, 0x03040506);
	wire_put_u64(b + 6, 0x0708090a0b0c0d0eull);
	ok(b[0] == 1 && b[1] == 2 && b[2] == 3 && b[5] == 6 && b[6] == 7 && b[13] == 0x0e,
		"wire: put is big-endian");
	ok(wire_get_u16(b) == 0x0102 && wire_get_u32(b + 2) == 0x03040506 &&
			wire_get_u64(b + 6) == 0x0708090a0b0c0d0eull,
		"wire: get inverts put");

	w = WIRE_WRITER(b, 7);
	wire_put32(&w, 0xdeadbeef);
	wire_put16(&w, 0xcafe);
	ok(!w.err && w.len == 6, "wire: writer within cap");
	wire_put16(&w, 0x1234);
	ok(w.err && w.len == 6 && b[6] != 0x12, "wire: writer overrun sets err, writes nothing");
	wire_put8(&w, 1);
	ok(w.err && w.len == 6, "wire: writer err is sticky");

	r = WIRE_READER(b, 6);
	ok(wire_get32(&r) == 0xdeadbeef && wire_get16(&r) == 0xcafe && !r.err && wire_left(&r) == 0,
		"wire: reader reads back");
	ok(wire_get8(&r) == 0 && r.err, "wire: reader overrun reads 0 and sets err");
	r = WIRE_READER(b, 3);
	ok(wire_get32(&r) == 0 && r.err && r.pos == 0, "wire: partial read consumes nothing");
	r = WIRE_READER(b, 1);
	ok(wire_get64(&r) == 0 && r.err, "wire: u64 overrun");
}

static void test_mac(void)
{
	uint8_t key[AUTH_KEY_SIZE], key2[AUTH_KEY_SIZE], mac[AUTH_MAC_SIZE], mac2[AUTH_MAC_SIZE];
	const char msg[] = "hello, cluster";

	test_key(key, 0);
	test_key(key2, 1);
	auth_mac(key, msg, sizeof(msg), mac);
	ok(auth_verify(key, msg, sizeof(msg), mac), "mac: verifies");
	ok(!auth_verify(key2, msg, sizeof(msg), mac), "mac: other key fails");
	ok(!auth_verify(key, msg, sizeof(msg) - 1, mac), "mac: other data fails");
	auth_mac(key, msg, sizeof(msg), mac2);
	ok(memcmp(mac, mac2, sizeof(mac)) == 0, "mac: deterministic");
	mac2[15] ^= 1;
	ok(!auth_verify(key, msg, sizeof(msg), mac2), "mac: flipped bit fails");
}

static void test_replay(void)
{
	struct replay_window w = {0};
	int ok_all = 1;

	is_int(replay_check(&w, 5, 1000), 0, "replay: first message is fresh");
	ok(w.incarnation == 0 && w.top == 0 && w.bitmap == 0,
		"replay: check alone records nothing");
	is_int(replay_accept(&w, 5, 1000), 0, "replay: accept first");
	is_int(replay_accept(&w, 5, 1000), -EALREADY, "replay: duplicate");
	is_int(replay_accept(&w, 5, 1001), 0, "replay: next");
	is_int(replay_accept(&w, 5, 1001), -EALREADY, "replay: duplicate of next");
	is_int(replay_accept(&w, 5, 1010), 0, "replay: jump ahead");
	is_int(replay_accept(&w, 5, 1005), 0, "replay: late but in window, once");
	is_int(replay_accept(&w, 5, 1005), -EALREADY, "replay: late duplicate");
	is_int(replay_accept(&w, 5, 1000), -EALREADY, "replay: old one still remembered");
	is_int(replay_accept(&w, 5, 1010 - 63), 0, "replay: 63 behind top is in window");
	is_int(replay_accept(&w, 5, 1010 - 64), -EALREADY, "replay: 64 behind top is too old");
	is_int(replay_accept(&w, 5, 1), -EALREADY, "replay: far older is too old");

	/* slide: seqs 1011..1100 fresh, then all of the last 64 are duplicates */
	for (uint64_t s = 1011; s <= 1100; s++)
		ok_all &= replay_accept(&w, 5, s) == 0;
	for (uint64_t s = 1100 - 63; s <= 1100; s++)
		ok_all &= replay_accept(&w, 5, s) == -EALREADY;
	ok(ok_all, "replay: window slides, every recent seq is refused again");

	is_int(replay_accept(&w, 5, 1100 + 1000), 0, "replay: big jump");
	is_int(replay_accept(&w, 5, 1100 + 1000 - 1), 0, "replay: bitmap cleared by big jump");
	is_int(replay_accept(&w, 5, UINT64_MAX), 0, "replay: max seq");
	is_int(replay_accept(&w, 5, UINT64_MAX), -EALREADY, "replay: max seq duplicate");

	is_int(replay_accept(&w, 6, 10), 0, "replay: newer incarnation resets the window");
	ok(w.incarnation == 6 && w.top == 10 && w.bitmap == 1, "replay: reset state");
	is_int(replay_accept(&w, 6, 10), -EALREADY, "replay: duplicate in new incarnation");
	is_int(replay_accept(&w, 6, 9), 0, "replay: older seq in new incarnation, in window");
	is_int(replay_accept(&w, 5, 5000), -ESTALE, "replay: stale incarnation");
	is_int(replay_check(&w, 5, UINT64_MAX), -ESTALE, "replay: stale even with high seq");

	replay_commit(&w, 5, 99999); /* must be ignored */
	ok(w.incarnation == 6 && w.top == 10, "replay: commit ignores a stale incarnation");
	is_int(replay_accept(&w, 6, 1000), 0, "replay: forward");
	replay_commit(&w, 6, 1000 - 64); /* below the window */
	ok(w.top == 1000 && w.bitmap == 1, "replay: commit ignores a seq below the window");
}

static void test_age(void)
{
	is_int(proto_age_cs(0), 0, "age: 0");
	is_int(proto_age_cs(1234), 123, "age: ms to cs");
	is_int(proto_age_cs(655350), 65535, "age: max");
	is_int(proto_age_cs(UINT64_MAX), 65535, "age: saturates");
}

static int seal(
	uint8_t *buf, size_t cap, uint8_t type, const void *body, size_t len, const uint8_t *key)
{
	struct proto_msg_hdr h = {
		.type = type,
		.flags = 0,
		.sender = 7,
		.incarnation = 1700000000123456789ull,
		.seq = NOW,
	};

	return proto_msg_seal(buf, cap, &h, body, len, key);
}

static void test_info_roundtrip(const uint8_t *key, size_t n)
{
	struct proto_info_entry in[PROTO_INFO_MAX_ENTRIES], out[PROTO_INFO_MAX_ENTRIES];
	uint8_t body[PROTO_MAX_BODY], dg[PROTO_MAX_DATAGRAM];
	struct proto_msg_hdr h;
	const uint8_t *b;
	size_t blen, got = 0;
	int len, blen_enc, same = 1;

	for (size_t i = 0; i < n; i++) {
		in[i] = sample_entry((uint16_t)(i + 1));
		in[i].age_cs = (uint16_t)(i * 1000);
		in[i].info.load = (uint16_t)(i * 7);
	}
	blen_enc = proto_info_encode(body, sizeof(body), in, n);
	is_int(blen_enc, 1 + (int)n * PROTO_INFO_ENTRY_SIZE, "info(%zu): encoded size", n);
	len = seal(dg, sizeof(dg), MSG_INFO, body, (size_t)blen_enc, key);
	is_int(len, PROTO_MSG_HDR_SIZE + blen_enc + PROTO_MAC_SIZE, "info(%zu): sealed size", n);
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0, "info(%zu): opens", n);
	ok(h.type == MSG_INFO && h.sender == 7 && h.version == PROTO_VERSION &&
			h.incarnation == 1700000000123456789ull && h.seq == NOW &&
			blen == (size_t)blen_enc && h.body_len == blen,
		"info(%zu): header fields", n);
	is_int(proto_info_decode(b, blen, out, PROTO_INFO_MAX_ENTRIES, &got), blen_enc,
		"info(%zu): decodes", n);
	for (size_t i = 0; i < n; i++)
		same &= entry_eq(&in[i], &out[i]);
	ok(got == n && same, "info(%zu): entries survive", n);
}

static void test_bodies(const uint8_t *key)
{
	struct proto_info_entry e = sample_entry(42), es[PROTO_INFO_MAX_ENTRIES + 1];
	struct proto_probe p = {.nonce = 0x0123456789abcdefull}, p2;
	struct proto_probe_ack a = {.nonce = 0xfedcba9876543210ull, .self = sample_entry(3)}, a2;
	struct proto_announce an = {.addr = 0xc0a80107,
				      .node_id = 7,
				      .info_port = 5428,
				      .mig_port = 4660,
				      .flags = PROTO_ANNOUNCE_LEAVING},
			      an2;
	uint8_t body[PROTO_MAX_BODY + 8], dg[PROTO_MAX_DATAGRAM];
	struct proto_msg_hdr h;
	const uint8_t *b;
	size_t blen, n;
	int len;

	test_info_roundtrip(key, 0);
	test_info_roundtrip(key, 1);
	test_info_roundtrip(key, PROTO_INFO_MAX_ENTRIES);

	/* exact byte layout of one entry */
	proto_info_entry_put(body, &e);
	ok(wire_get_u16(body) == 42 && wire_get_u16(body + 2) == 65535 &&
			wire_get_u16(body + 4) == (NODE_CONF | NODE_UP | NODE_NOMFS) &&
			body[6] == 8 && body[7] == 73 && wire_get_u16(body + 8) == 412 &&
			wire_get_u16(body + 10) == 800 && wire_get_u32(body + 12) == 0x01020304 &&
			wire_get_u32(body + 16) == 64000 && wire_get_u32(body + 20) == 0xfffffffe &&
			wire_get_u32(body + 24) == 1234,
		"info: entry layout");

	for (size_t i = 0; i < ARRAY_SIZE(es); i++)
		es[i] = sample_entry((uint16_t)(i + 1));
	is_int(proto_info_encode(body, sizeof(body), es, PROTO_INFO_MAX_ENTRIES + 1), -EMSGSIZE,
		"info: too many entries");
	is_int(proto_info_encode(body, 1 + 2 * PROTO_INFO_ENTRY_SIZE - 1, es, 2), -ENOBUFS,
		"info: cap too small");
	len = proto_info_encode(body, sizeof(body), es, 3);
	is_int(proto_info_decode(body, (size_t)len, es, 2, &n), -ENOBUFS, "info: max too small");
	is_int(proto_info_decode(body, (size_t)len - 1, es, 3, &n), -EBADMSG, "info: short body");
	is_int(proto_info_decode(body, (size_t)len + 1, es, 3, &n), -EBADMSG, "info: long body");
	body[0] = 2;
	is_int(proto_info_decode(body, (size_t)len, es, 3, &n), -EBADMSG, "info: count mismatch");
	is_int(proto_info_decode(body, 0, es, 3, &n), -EBADMSG, "info: empty body");
	body[0] = 0;
	is_int(proto_info_decode(body, 1, es, 3, &n), 1, "info: zero entries");
	is_int(n, 0, "info: zero entries count");
	memset(body, 0, sizeof(body));
	body[0] = 1;
	is_int(proto_info_decode(body, 1 + PROTO_INFO_ENTRY_SIZE, es, 3, &n), -EBADMSG,
		"info: node id 0 refused");
	body[0] = PROTO_INFO_MAX_ENTRIES + 1;
	is_int(proto_info_decode(body, 1 + (PROTO_INFO_MAX_ENTRIES + 1) * PROTO_INFO_ENTRY_SIZE, es,
		       ARRAY_SIZE(es), &n),
		-EBADMSG, "info: count above the maximum refused");

	/* probe */
	len = proto_probe_encode(body, sizeof(body), &p);
	is_int(len, PROTO_PROBE_SIZE, "probe: encoded size");
	len = seal(dg, sizeof(dg), MSG_PROBE, body, (size_t)len, key);
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0, "probe: opens");
	is_int(proto_probe_decode(b, blen, &p2), PROTO_PROBE_SIZE, "probe: decodes");
	ok(h.type == MSG_PROBE && p2.nonce == p.nonce, "probe: round trip");
	is_int(proto_probe_decode(b, blen - 1, &p2), -EBADMSG, "probe: short");
	is_int(proto_probe_decode(b, blen + 1, &p2), -EBADMSG, "probe: long");
	is_int(proto_probe_encode(body, 7, &p), -ENOBUFS, "probe: cap too small");

	/* probe ack */
	len = proto_probe_ack_encode(body, sizeof(body), &a);
	is_int(len, PROTO_PROBE_ACK_SIZE, "probe-ack: encoded size");
	len = seal(dg, sizeof(dg), MSG_PROBE_ACK, body, (size_t)len, key);
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0, "probe-ack: opens");
	is_int(proto_probe_ack_decode(b, blen, &a2), PROTO_PROBE_ACK_SIZE, "probe-ack: decodes");
	ok(h.type == MSG_PROBE_ACK && a2.nonce == a.nonce && entry_eq(&a.self, &a2.self),
		"probe-ack: round trip");
	is_int(proto_probe_ack_decode(b, blen - 1, &a2), -EBADMSG, "probe-ack: short");
	is_int(proto_probe_ack_encode(body, PROTO_PROBE_ACK_SIZE - 1, &a), -ENOBUFS,
		"probe-ack: cap too small");
	memset(body, 0, PROTO_PROBE_ACK_SIZE);
	is_int(proto_probe_ack_decode(body, PROTO_PROBE_ACK_SIZE, &a2), -EBADMSG,
		"probe-ack: node id 0 refused");

	/* leave */
	len = seal(dg, sizeof(dg), MSG_LEAVE, NULL, 0, key);
	is_int(len, PROTO_MSG_HDR_SIZE + PROTO_MAC_SIZE, "leave: size");
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0, "leave: opens");
	ok(h.type == MSG_LEAVE && blen == 0 && proto_leave_decode(b, blen) == 0,
		"leave: round trip");
	is_int(proto_leave_decode(body, 1), -EBADMSG, "leave: body refused");

	/* announce */
	len = proto_announce_encode(body, sizeof(body), &an);
	is_int(len, PROTO_ANNOUNCE_SIZE, "announce: encoded size");
	ok(body[0] == 0xc0 && body[3] == 0x07 && wire_get_u16(body + 4) == 7 &&
			wire_get_u16(body + 10) == PROTO_ANNOUNCE_LEAVING,
		"announce: layout");
	len = seal(dg, sizeof(dg), MSG_ANNOUNCE, body, (size_t)len, key);
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0, "announce: opens");
	is_int(proto_announce_decode(b, blen, &an2), PROTO_ANNOUNCE_SIZE, "announce: decodes");
	ok(an2.addr == an.addr && an2.node_id == 7 && an2.info_port == 5428 &&
			an2.mig_port == 4660 && an2.flags == PROTO_ANNOUNCE_LEAVING,
		"announce: round trip");
	is_int(proto_announce_decode(b, blen + 1, &an2), -EBADMSG, "announce: long");
	is_int(proto_announce_encode(body, PROTO_ANNOUNCE_SIZE - 1, &an), -ENOBUFS,
		"announce: cap too small");
	memset(body, 0, PROTO_ANNOUNCE_SIZE);
	is_int(proto_announce_decode(body, PROTO_ANNOUNCE_SIZE, &an2), -EBADMSG,
		"announce: node id 0 refused");
}

static void test_datagram(const uint8_t *key)
{
	uint8_t other[AUTH_KEY_SIZE], body[PROTO_MAX_BODY + 1], dg[PROTO_MAX_DATAGRAM + 8];
	struct proto_info_entry es[3] = {sample_entry(1), sample_entry(2), sample_entry(3)};
	struct proto_msg_hdr h = {.type = MSG_INFO, .sender = 9, .incarnation = 1, .seq = NOW};
	const uint8_t *b;
	size_t blen;
	int len, blen_enc, bad = 0, counts[3] = {0};

	blen_enc = proto_info_encode(body, sizeof(body), es, 3);
	len = proto_msg_seal(dg, sizeof(dg), &h, body, (size_t)blen_enc, key);
	ok(len > 0 && wire_get_u32(dg) == 0x6f4d5831 && dg[4] == 1 && dg[5] == MSG_INFO &&
			wire_get_u16(dg + 8) == 9 && wire_get_u16(dg + 10) == blen_enc &&
			wire_get_u64(dg + 12) == 1 && wire_get_u64(dg + 20) == NOW,
		"datagram: header layout");

	/* every truncation and one extra byte */
	for (int l = 0; l < len; l++)
		bad += proto_msg_open(dg, (size_t)l, key, NOW, &h, &b, &blen) != -EBADMSG;
	ok(bad == 0, "datagram: all %d truncations are -EBADMSG", len);
	dg[len] = 0;
	is_int(proto_msg_open(dg, (size_t)len + 1, key, NOW, &h, &b, &blen), -EBADMSG,
		"datagram: trailing byte");

	/* every single-bit flip */
	for (int i = 0; i < len * 8; i++) {
		int err;

		dg[i / 8] ^= (uint8_t)(1 << (i % 8));
		err = proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen);
		dg[i / 8] ^= (uint8_t)(1 << (i % 8));
		if (err == -EACCES)
			counts[0]++;
		else if (err == -EBADMSG)
			counts[1]++;
		else if (err == -EPROTO)
			counts[2]++;
		else
			bad++;
	}
	ok(bad == 0, "datagram: all %d bit flips rejected (%d -EACCES, %d -EBADMSG, %d -EPROTO)",
		len * 8, counts[0], counts[1], counts[2]);
	is_int(counts[2], 8, "datagram: flips of the version byte are -EPROTO");
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0,
		"datagram: intact after flips");

	test_key(other, 99);
	is_int(proto_msg_open(dg, (size_t)len, other, NOW, &h, &b, &blen), -EACCES,
		"datagram: wrong key is -EACCES");

	/* foreign versions, even correctly MACed */
	dg[4] = 2;
	auth_mac(key, dg, (size_t)len - PROTO_MAC_SIZE, dg + len - PROTO_MAC_SIZE);
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), -EPROTO,
		"datagram: version 2 is -EPROTO");
	dg[4] = 0;
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), -EPROTO,
		"datagram: version 0 is -EPROTO");
	dg[4] = PROTO_VERSION;
	auth_mac(key, dg, (size_t)len - PROTO_MAC_SIZE, dg + len - PROTO_MAC_SIZE);
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0, "datagram: restored");

	/* timestamp window */
	is_int(proto_msg_open(dg, (size_t)len, key, NOW + PROTO_MAX_SKEW_US, &h, &b, &blen), 0,
		"time: 60 s behind is accepted");
	is_int(proto_msg_open(dg, (size_t)len, key, NOW - PROTO_MAX_SKEW_US, &h, &b, &blen), 0,
		"time: 60 s ahead is accepted");
	is_int(proto_msg_open(dg, (size_t)len, key, NOW + PROTO_MAX_SKEW_US + 1, &h, &b, &blen),
		-ETIME, "time: too old is -ETIME");
	is_int(proto_msg_open(dg, (size_t)len, key, NOW - PROTO_MAX_SKEW_US - 1, &h, &b, &blen),
		-ETIME, "time: too far ahead is -ETIME");
	is_int(proto_msg_open(dg, (size_t)len, key, 0, &h, &b, &blen), -ETIME,
		"time: receiver clock at 0");
	is_int(proto_msg_open(dg, (size_t)len, key, UINT64_MAX, &h, &b, &blen), -ETIME,
		"time: receiver clock at max");
	is_int(proto_msg_open(dg, (size_t)len, other, NOW + 3600000000ull, &h, &b, &blen), -EACCES,
		"time: checked only after the MAC");

	/* sizes */
	memset(body, 0xa5, sizeof(body));
	len = proto_msg_seal(dg, sizeof(dg), &h, body, PROTO_MAX_BODY, key);
	is_int(len, PROTO_MAX_DATAGRAM, "size: largest body fills the datagram");
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0, "size: largest opens");
	is_int(proto_msg_seal(dg, sizeof(dg), &h, body, PROTO_MAX_BODY + 1, key), -EMSGSIZE,
		"size: body too large");
	is_int(proto_msg_seal(dg, PROTO_MSG_HDR_SIZE + 10 + PROTO_MAC_SIZE - 1, &h, body, 10, key),
		-ENOBUFS, "size: cap too small");
	/* a datagram over the limit but self-consistent is still garbage */
	memset(dg, 0, sizeof(dg));
	wire_put_u32(dg, PROTO_MAGIC);
	dg[4] = PROTO_VERSION;
	wire_put_u16(dg + 10, PROTO_MAX_BODY + 1);
	is_int(proto_msg_open(dg, PROTO_MAX_DATAGRAM + 1, key, NOW, &h, &b, &blen), -EBADMSG,
		"size: over 1400 bytes is -EBADMSG");
	wire_put_u32(dg, 0x6f4d5832);
	is_int(proto_msg_open(dg, 100, key, NOW, &h, &b, &blen), -EBADMSG, "bad magic");

	/* seal in place: body encoded at buf + header */
	blen_enc =
		proto_info_encode(dg + PROTO_MSG_HDR_SIZE, sizeof(dg) - PROTO_MSG_HDR_SIZE, es, 3);
	len = proto_msg_seal(dg, sizeof(dg), &h, dg + PROTO_MSG_HDR_SIZE, (size_t)blen_enc, key);
	is_int(proto_msg_open(dg, (size_t)len, key, NOW, &h, &b, &blen), 0, "seal in place");
	ok(blen == (size_t)blen_enc && b[0] == 3 && wire_get_u16(b + 1) == 1,
		"seal in place keeps the body");
}

/* A datagram pinned byte for byte, so the wire format cannot drift:
 * header and body as specified, then BLAKE2b-128 keyed with 00..1f. */
static void test_golden(void)
{
	static const char want[] = "6f4d5831"
				   "01"
				   "02"
				   "0000"
				   "0007"
				   "0008"
				   "000000000000002a"
				   "00060a0b0c0d0e0f"
				   "0000000000000001" GOLDEN_MAC;
	uint8_t key[AUTH_KEY_SIZE], dg[128], body[8];
	char hex[2 * sizeof(dg) + 1] = "";
	struct proto_msg_hdr h = {
		.type = MSG_PROBE, .sender = 7, .incarnation = 42, .seq = 0x00060a0b0c0d0e0full};
	struct proto_probe p = {.nonce = 1};
	int len;

	test_key(key, 0);
	len = proto_probe_encode(body, sizeof(body), &p);
	len = proto_msg_seal(dg, sizeof(dg), &h, body, (size_t)len, key);
	for (int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", dg[i]);
	is_str(hex, want, "golden: a sealed MSG_PROBE, byte for byte");
}

static char tmpdir[] = "/tmp/test_proto.XXXXXX";

static int write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	fchmod(fd, mode);
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void test_key_file(void)
{
	uint8_t key[AUTH_KEY_SIZE], key2[AUTH_KEY_SIZE], zero[AUTH_KEY_SIZE] = {0};
	char dir[128], path[192], text[512];
	struct stat st;
	ssize_t n;

	if (!mkdtemp(tmpdir)) {
		ok(0, "key: mkdtemp");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/etc/openmosix", tmpdir);
	snprintf(path, sizeof(path), "%s/cluster.key", dir);

	is_int(auth_key_load_or_create(path, key), 0, "key: created when absent");
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600 && S_ISREG(st.st_mode),
		"key: file mode 0600");
	ok(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700, "key: directory created 0700");
	n = read_file(path, text, sizeof(text));
	ok(n == AUTH_KEY_HEX_SIZE + 1 && text[AUTH_KEY_HEX_SIZE] == '\n', "key: 64 hex + newline");
	ok(memcmp(key, zero, sizeof(key)) != 0, "key: not all zero");
	is_int(auth_key_load_or_create(path, key2), 0, "key: loads");
	ok(memcmp(key, key2, sizeof(key)) == 0, "key: same key loaded back");

	chmod(path, 0644);
	is_int(auth_key_load_or_create(path, key2), -EPERM, "key: 0644 refused with -EPERM");
	chmod(path, 0640);
	is_int(auth_key_load_or_create(path, key2), -EPERM, "key: 0640 refused with -EPERM");
	chmod(path, 0604);
	is_int(auth_key_load_or_create(path, key2), -EPERM, "key: 0604 refused with -EPERM");
	chmod(path, 0400);
	is_int(auth_key_load_or_create(path, key2), 0, "key: 0400 accepted");
	chmod(path, 0600);
	if (geteuid() == 0) {
		ok(chown(path, 12345, 12345) == 0, "key: chown (as root)");
		is_int(auth_key_load_or_create(path, key2), -EPERM, "key: foreign owner refused");
		ok(chown(path, 0, 0) == 0, "key: chown back");
	} else {
		ok(1, "key: foreign owner # SKIP not root");
	}

	/* content */
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n", 0},
		{"", -EINVAL},
		{"\n", -EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n", -EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0\n", -EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n", -EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f ", -EINVAL},
		{" 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n", -EINVAL},
		{"00:102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", -EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n", -EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
		 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
			-EINVAL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int err;

		if (write_text(path, cases[i].text, 0600)) {
			ok(0, "key: write case %zu", i);
			continue;
		}
		memset(key2, 0xee, sizeof(key2));
		err = auth_key_load_or_create(path, key2);
		is_int(err, cases[i].want, "key: content case %zu", i);
		if (cases[i].want == 0) {
			test_key(key, 0);
			ok(memcmp(key, key2, sizeof(key)) == 0, "key: content case %zu value", i);
		} else {
			ok(memcmp(key2, zero, sizeof(key2)) == 0, "key: case %zu leaves key zeroed",
				i);
		}
	}
	is_int(auth_key_parse("00", 2, key2), -EINVAL, "key: parse short");

	is_int(auth_key_load_or_create(dir, key2), -EINVAL, "key: a directory is refused");
	snprintf(text, sizeof(text), "%s/nodir/x", path);
	ok(auth_key_load_or_create(text, key2) < 0, "key: path under a file fails");

	/* several processes creating the same key at once agree on one key */
	{
		enum { NPROC = 8 };
		int fds[2], same = 1, got = 0;
		uint8_t k[NPROC][AUTH_KEY_SIZE];

		snprintf(text, sizeof(text), "%s/race/cluster.key", tmpdir);
		if (pipe(fds) == 0) {
			for (int i = 0; i < NPROC; i++) {
				if (fork() == 0) {
					uint8_t kk[AUTH_KEY_SIZE];
					int e = auth_key_load_or_create(text, kk);

					if (e == 0 && write(fds[1], kk, sizeof(kk)) != sizeof(kk))
						_exit(2);
					_exit(e ? 1 : 0);
				}
			}
			close(fds[1]);
			while (got < NPROC && read(fds[0], k[got], AUTH_KEY_SIZE) == AUTH_KEY_SIZE)
				got++;
			close(fds[0]);
			while (wait(NULL) > 0)
				;
			for (int i = 1; i < got; i++)
				same &= memcmp(k[0], k[i], AUTH_KEY_SIZE) == 0;
		}
		ok(got == NPROC && same, "key: %d racing creators agree on one key", got);
	}

	/* relative name in the current directory */
	{
		char cwd[256];

		if (getcwd(cwd, sizeof(cwd)) && chdir(tmpdir) == 0) {
			is_int(auth_key_load_or_create("rel.key", key2), 0, "key: relative path");
			ok(stat("rel.key", &st) == 0 && (st.st_mode & 07777) == 0600,
				"key: relative file mode 0600");
			if (chdir(cwd))
				ok(0, "chdir back");
		}
	}

	/* clean up */
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			printf("# could not remove %s\n", tmpdir);
	}
}

static void test_guests(void)
{
	struct proto_guest_entry e[PROTO_GUEST_MAX_ENTRIES + 1], d[PROTO_GUEST_MAX_ENTRIES];
	uint8_t body[PROTO_MAX_BODY + 64];
	size_t n = 0;
	int len;

	for (size_t k = 0; k <= PROTO_GUEST_MAX_ENTRIES; k++)
		e[k] = (struct proto_guest_entry){ .home_pid = (uint32_t)(1000 + k),
			.sched_ns = 0x0102030405060708ull * (k + 1), .rss_kb = (uint32_t)(k * 4096) };
	is_int(PROTO_GUEST_MAX_ENTRIES, 84, "guests: 84 entries fit a datagram");
	len = proto_guests_encode(body, sizeof(body), e, 2);
	is_int(len, 1 + 2 * PROTO_GUEST_ENTRY_SIZE, "guests: encoded size");
	ok(body[0] == 2 && body[1] == 0 && body[4] == 0xe8 && body[5] == 0x01 && body[12] == 0x08,
		"guests: layout (count, big-endian pid and ns)");
	is_int(proto_guests_decode(body, (size_t)len, d, 2, &n), len, "guests: decodes");
	ok(n == 2 && d[1].home_pid == 1001 && d[1].sched_ns == e[1].sched_ns &&
			d[1].rss_kb == 4096,
		"guests: round trip");
	is_int(proto_guests_decode(body, (size_t)len, d, 1, &n), -ENOBUFS, "guests: caller too small");
	is_int(proto_guests_decode(body, (size_t)len - 1, d, 2, &n), -EBADMSG, "guests: short");
	is_int(proto_guests_decode(body, 0, d, 2, &n), -EBADMSG, "guests: empty");
	len = proto_guests_encode(body, sizeof(body), e, PROTO_GUEST_MAX_ENTRIES);
	ok(len > 0 && len <= (int)PROTO_MAX_BODY, "guests: a full body fits");
	is_int(proto_guests_encode(body, sizeof(body), e, PROTO_GUEST_MAX_ENTRIES + 1), -EMSGSIZE,
		"guests: too many");
	is_int(proto_guests_encode(body, 10, e, 1), -ENOBUFS, "guests: cap too small");
	e[0].home_pid = 0;
	len = proto_guests_encode(body, sizeof(body), e, 1);
	is_int(proto_guests_decode(body, (size_t)len, d, 1, &n), -EBADMSG, "guests: pid 0 refused");
	is_str(proto_msg_type_name(MSG_GUESTS), "guests", "guests: type name");
}

static void test_seq(void)
{
	uint64_t last = 0, a, b, c, d;

	a = proto_msg_next_seq(&last, 1000);
	b = proto_msg_next_seq(&last, 1000);
	c = proto_msg_next_seq(&last, 500);
	d = proto_msg_next_seq(&last, 5000);
	ok(a == 1000 && b == 1001 && c == 1002 && d == 5000 && last == 5000,
		"seq: strictly increasing though the clock stands or goes back");
	is_str(proto_msg_type_name(MSG_ANNOUNCE), "announce", "type name");
	is_str(proto_msg_type_name(200), "unknown", "unknown type name");
}

/* migp: a stopped job's stop signal and the CPU time used away travel
 * both ways intact; sizes are exact, garbage is refused */
static void test_migp(void)
{
	struct migp_begin b = { .home_id = 3, .pid = 4242, .uid = 1000, .gid = 100,
		.image_len = 77, .comm = "loop", .stop_sig = 20, .cpu_us = 1234567890123ULL };
	struct migp_begin b2;
	struct migp_exit e = { .kind = MIGP_KILLED, .code = 9, .cpu_us = 987654321ULL }, e2;
	uint8_t buf[256];
	int n;

	n = migp_begin_encode(buf, sizeof(buf), &b);
	is_int(n, MIGP_BEGIN_SIZE, "migp begin: encoded size");
	ok(migp_begin_decode(buf, (size_t)n, &b2) == n && b2.stop_sig == 20 &&
		b2.cpu_us == b.cpu_us && b2.pid == 4242 && !strcmp(b2.comm, "loop"),
		"migp begin: stop signal, CPU time, pid and name round trip");
	ok(migp_begin_decode(buf, (size_t)n - 1, &b2) == -EBADMSG, "migp begin: short is refused");
	buf[22 + MIGP_COMM_LEN] = 65;
	ok(migp_begin_decode(buf, (size_t)n, &b2) == -EBADMSG, "migp begin: signal 65 is refused");
	n = migp_exit_encode(buf, sizeof(buf), &e);
	is_int(n, MIGP_EXIT_SIZE, "migp exit: encoded size");
	ok(migp_exit_decode(buf, (size_t)n, &e2) == n && e2.kind == MIGP_KILLED && e2.code == 9 &&
		e2.cpu_us == e.cpu_us, "migp exit: kind, signal and CPU time round trip");
}

int main(void)
{
	uint8_t key[AUTH_KEY_SIZE];

	if (auth_init())
		return 1;
	test_key(key, 0x40);
	test_wire();
	test_mac();
	test_replay();
	test_age();
	test_bodies(key);
	test_datagram(key);
	test_golden();
	test_seq();
	test_guests();
	test_migp();
	test_key_file();
	return tap_done();
}
