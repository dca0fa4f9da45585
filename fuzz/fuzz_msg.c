/* Fuzz target: authenticated datagrams (proto/msg.h).
 *
 * Random bytes almost never carry a valid MAC, so each input is used
 * three ways:
 *   1. as a datagram: proto_msg_open() with a fixed key and clock (the seed
 *      corpus holds datagrams sealed with that key, so mutations of them
 *      reach the post-MAC code), then the body decoder for its type;
 *   2. as a body: every body decoder directly;
 *   3. sealed as a body with the fixed key, then opened and decoded, which
 *      must always succeed and give the same bytes back.
 * Decoded bodies are re-encoded and must reproduce the input exactly.
 *
 * Build with -DFUZZ_GEN_CORPUS for a main() that writes the seed corpus:
 *   cc -DFUZZ_GEN_CORPUS -D_GNU_SOURCE -I. fuzz/fuzz_msg.c proto/auth.c proto/msg.c \
 *      lib/log.c lib/util.c -lsodium -o /tmp/gen_msg && /tmp/gen_msg fuzz/corpus/msg
 */
#include "proto/auth.h"
#include "proto/msg.h"
#include "proto/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NOW_US 1700000000000000ull

static const uint8_t fuzz_key[AUTH_KEY_SIZE] = "oMX1fuzz-key-for-the-seed-corpus"; /* no NUL */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Decode b as a body of `type`; if it decodes, it must re-encode to b. */
static void decode_body(unsigned type, const uint8_t *b, size_t len)
{
	static struct proto_info_entry e[PROTO_INFO_MAX_ENTRIES];
	static uint8_t out[PROTO_MAX_BODY];
	struct proto_probe p;
	struct proto_probe_ack a;
	struct proto_announce an;
	static struct proto_guest_entry g[PROTO_GUEST_MAX_ENTRIES];
	size_t n = 0;
	int r;

	switch (type) {
	case MSG_INFO:
		r = proto_info_decode(b, len, e, PROTO_INFO_MAX_ENTRIES, &n);
		if (r >= 0) {
			check((size_t)r == len && n <= PROTO_INFO_MAX_ENTRIES);
			check(proto_info_encode(out, sizeof(out), e, n) == r);
			check(memcmp(out, b, len) == 0);
		} else {
			check(r == -EBADMSG);
		}
		/* a smaller caller array must fail cleanly, never overrun */
		r = proto_info_decode(b, len, e, 1, &n);
		check(r == -EBADMSG || r == -ENOBUFS || (r >= 0 && n <= 1));
		break;
	case MSG_PROBE:
		r = proto_probe_decode(b, len, &p);
		if (r >= 0) {
			check(proto_probe_encode(out, sizeof(out), &p) == r && (size_t)r == len);
			check(memcmp(out, b, len) == 0);
		}
		break;
	case MSG_PROBE_ACK:
		r = proto_probe_ack_decode(b, len, &a);
		if (r >= 0) {
			check(proto_probe_ack_encode(out, sizeof(out), &a) == r &&
				(size_t)r == len);
			check(memcmp(out, b, len) == 0);
		}
		break;
	case MSG_LEAVE:
		r = proto_leave_decode(b, len);
		check(r == (len ? -EBADMSG : 0));
		break;
	case MSG_ANNOUNCE:
		r = proto_announce_decode(b, len, &an);
		if (r >= 0) {
			check(proto_announce_encode(out, sizeof(out), &an) == r &&
				(size_t)r == len);
			check(memcmp(out, b, len) == 0);
		}
		break;
	case MSG_GUESTS:
		r = proto_guests_decode(b, len, g, PROTO_GUEST_MAX_ENTRIES, &n);
		if (r >= 0) {
			check((size_t)r == len && n <= PROTO_GUEST_MAX_ENTRIES);
			check(proto_guests_encode(out, sizeof(out), g, n) == r);
			check(memcmp(out, b, len) == 0);
			for (size_t k = 0; k < n; k++)
				check(g[k].home_pid != 0);
		} else {
			check(r == -EBADMSG);
		}
		r = proto_guests_decode(b, len, g, 1, &n);
		check(r == -EBADMSG || r == -ENOBUFS || (r >= 0 && n <= 1));
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t dg[PROTO_MAX_DATAGRAM];
	struct proto_msg_hdr h = {0}, h2;
	struct replay_window w = {0};
	const uint8_t *body;
	size_t blen;
	int r, len;

	/* 1. as a datagram */
	r = proto_msg_open(data, size, fuzz_key, FUZZ_NOW_US, &h, &body, &blen);
	check(r == 0 || r == -EBADMSG || r == -EPROTO || r == -EACCES || r == -ETIME);
	if (r == 0) {
		check(body == data + PROTO_MSG_HDR_SIZE && blen == h.body_len &&
			size == PROTO_MSG_HDR_SIZE + blen + PROTO_MAC_SIZE);
		decode_body(h.type, body, blen);
		check(replay_accept(&w, h.incarnation, h.seq) == 0);
		check(replay_accept(&w, h.incarnation, h.seq) == -EALREADY);
		(void)proto_msg_type_name(h.type);
	}

	/* 2. as a body, every decoder */
	for (unsigned t = MSG_INFO; t <= MSG_GUESTS; t++)
		decode_body(t, data, size);

	/* 3. sealed with the key, opened again */
	if (size <= PROTO_MAX_BODY) {
		h.type = size ? (uint8_t)(data[0] % (MSG_GUESTS + 1)) : MSG_LEAVE;
		h.flags = size > 1 ? data[1] : 0;
		h.sender = 1;
		h.incarnation = size;
		h.seq = FUZZ_NOW_US - size;
		len = proto_msg_seal(dg, sizeof(dg), &h, data, size, fuzz_key);
		check(len == (int)(PROTO_MSG_HDR_SIZE + size + PROTO_MAC_SIZE));
		r = proto_msg_open(dg, (size_t)len, fuzz_key, FUZZ_NOW_US, &h2, &body, &blen);
		check(r == 0 && blen == size && (size == 0 || memcmp(body, data, size) == 0));
		check(h2.type == h.type && h2.flags == h.flags && h2.sender == h.sender &&
			h2.incarnation == h.incarnation && h2.seq == h.seq);
		decode_body(h2.type, body, blen);
		/* and any damage is caught */
		check(proto_msg_open(dg, (size_t)len - 1, fuzz_key, FUZZ_NOW_US, &h2, &body,
			      &blen) == -EBADMSG);
		if (size) {
			size_t bit = (data[size - 1] * 131u + size) % ((size_t)len * 8);

			dg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			r = proto_msg_open(
				dg, (size_t)len, fuzz_key, FUZZ_NOW_US, &h2, &body, &blen);
			check(r == -EACCES || r == -EBADMSG || r == -EPROTO);
		}
	} else {
		check(proto_msg_seal(dg, sizeof(dg), &h, data, size, fuzz_key) == -EMSGSIZE);
	}
	return 0;
}

#ifdef FUZZ_GEN_CORPUS
static void emit(const char *dir, const char *name, const uint8_t *buf, int len)
{
	char path[512];
	FILE *fp;

	if (len < 0) {
		fprintf(stderr, "%s: encode failed: %d\n", name, len);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(buf, 1, (size_t)len, fp) != (size_t)len || fclose(fp)) {
		perror(path);
		exit(1);
	}
}

static struct proto_info_entry gen_entry(unsigned i)
{
	struct proto_info_entry e = {
		.info.id = (uint16_t)(i + 1),
		.info.status = NODE_CONF | NODE_UP,
		.info.ncpus = (uint8_t)(1 + i % 64),
		.info.util = (uint8_t)(i * 7 % 101),
		.info.load = (uint16_t)(i * 37),
		.info.capacity = (uint16_t)(100 * (1 + i % 64)),
		.info.speed = OM_STD_SPEED + i,
		.info.tmem = 16384,
		.info.mem = 8000 - i,
		.info.rmem = 4000 + i,
		.age_cs = (uint16_t)(i * 100),
	};
	return e;
}

static void emit_sealed(const char *dir, const char *name, uint8_t type, const uint8_t *body,
	int blen, uint64_t seq, const uint8_t *key)
{
	uint8_t dg[PROTO_MAX_DATAGRAM];
	struct proto_msg_hdr h = {
		.type = type, .sender = 3, .incarnation = FUZZ_NOW_US * 1000 - 5, .seq = seq};

	emit(dir, name, dg, proto_msg_seal(dg, sizeof(dg), &h, body, (size_t)blen, key));
}

int main(int argc, char **argv)
{
	static struct proto_info_entry e[PROTO_INFO_MAX_ENTRIES];
	uint8_t body[PROTO_MAX_BODY], other[AUTH_KEY_SIZE];
	struct proto_probe p = {.nonce = 0x1122334455667788ull};
	struct proto_probe_ack a = {.nonce = 0x1122334455667788ull, .self = gen_entry(2)};
	struct proto_announce an = {
		.addr = 0x0a000005, .node_id = 5, .info_port = 5428, .mig_port = 4660};
	const char *d;
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	d = argv[1];
	for (unsigned i = 0; i < PROTO_INFO_MAX_ENTRIES; i++)
		e[i] = gen_entry(i);

	n = proto_info_encode(body, sizeof(body), e, 0);
	emit_sealed(d, "info-0", MSG_INFO, body, n, FUZZ_NOW_US, fuzz_key);
	n = proto_info_encode(body, sizeof(body), e, 1);
	emit_sealed(d, "info-1", MSG_INFO, body, n, FUZZ_NOW_US, fuzz_key);
	emit(d, "body-info-1", body, n);
	n = proto_info_encode(body, sizeof(body), e, 5);
	emit_sealed(d, "info-5", MSG_INFO, body, n, FUZZ_NOW_US - 59000000, fuzz_key);
	n = proto_info_encode(body, sizeof(body), e, PROTO_INFO_MAX_ENTRIES);
	emit_sealed(d, "info-48", MSG_INFO, body, n, FUZZ_NOW_US + 1, fuzz_key);

	n = proto_probe_encode(body, sizeof(body), &p);
	emit_sealed(d, "probe", MSG_PROBE, body, n, FUZZ_NOW_US, fuzz_key);
	emit(d, "body-probe", body, n);
	n = proto_probe_ack_encode(body, sizeof(body), &a);
	emit_sealed(d, "probe-ack", MSG_PROBE_ACK, body, n, FUZZ_NOW_US, fuzz_key);
	emit(d, "body-probe-ack", body, n);
	emit_sealed(d, "leave", MSG_LEAVE, body, 0, FUZZ_NOW_US, fuzz_key);
	n = proto_announce_encode(body, sizeof(body), &an);
	emit_sealed(d, "announce", MSG_ANNOUNCE, body, n, FUZZ_NOW_US, fuzz_key);
	emit(d, "body-announce", body, n);
	an.flags = PROTO_ANNOUNCE_LEAVING;
	n = proto_announce_encode(body, sizeof(body), &an);
	emit_sealed(d, "announce-leaving", MSG_ANNOUNCE, body, n, FUZZ_NOW_US, fuzz_key);

	{
		struct proto_guest_entry ge[3] = {{.home_pid = 1234, .sched_ns = 987654321, .rss_kb = 2048},
			{.home_pid = 77, .sched_ns = 0, .rss_kb = 0},
			{.home_pid = 0xfffffffe, .sched_ns = ~0ull, .rss_kb = ~0u}};

		n = proto_guests_encode(body, sizeof(body), ge, 3);
		emit_sealed(d, "guests-3", MSG_GUESTS, body, n, FUZZ_NOW_US, fuzz_key);
		emit(d, "body-guests-3", body, n);
	}

	/* valid MAC, but refused later or by the body decoder */
	emit_sealed(d, "unknown-type", 99, body, 4, FUZZ_NOW_US, fuzz_key);
	emit_sealed(d, "too-old", MSG_PROBE, body, 8, FUZZ_NOW_US - 61000000, fuzz_key);
	emit_sealed(
		d, "info-bad-count", MSG_INFO, (const uint8_t *)"\x02", 1, FUZZ_NOW_US, fuzz_key);
	memset(other, 0x5a, sizeof(other));
	emit_sealed(d, "other-key", MSG_PROBE, body, 8, FUZZ_NOW_US, other);
	{
		uint8_t dg[PROTO_MAX_DATAGRAM];
		struct proto_msg_hdr h = {.type = MSG_PROBE, .sender = 3, .seq = FUZZ_NOW_US};

		n = proto_msg_seal(dg, sizeof(dg), &h, body, 8, fuzz_key);
		dg[4] = 2; /* a future version, MACed */
		auth_mac(fuzz_key, dg, (size_t)n - PROTO_MAC_SIZE, dg + n - PROTO_MAC_SIZE);
		emit(d, "version-2", dg, n);
	}
	return 0;
}
#endif
