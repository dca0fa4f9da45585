/* Fuzz target: authenticated streams (proto/stream.h).
 *
 * The handshake runs with a fixed key and fixed nonces, so the states are
 * the same on every run and the seed corpus (a valid HELLO_ACK, AUTH and
 * sealed frames for those states) gets past the MACs. Each input is:
 *   1. decoded as HELLO, HELLO_ACK and AUTH by a side waiting for it;
 *   2. opened as a sequence of frames by both READY sides;
 *   3. cut into bodies that are sealed, then reopened from the
 *      concatenated stream fed in uneven pieces: all must come back.
 *
 * Build with -DFUZZ_GEN_CORPUS for a main() that writes the seed corpus:
 *   cc -DFUZZ_GEN_CORPUS -D_GNU_SOURCE -I. fuzz/fuzz_stream.c proto/auth.c \
 *      proto/stream.c lib/log.c lib/util.c -lsodium -o /tmp/gen_stream &&
 *   /tmp/gen_stream fuzz/corpus/stream
 */
#include "proto/stream.h"
#include "proto/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t fuzz_key[AUTH_KEY_SIZE] = "oMS1fuzz-key-for-the-seed-corpus"; /* no NUL */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The deterministic states, built once. */
static struct {
	struct stream_auth srv_init;  /* server waiting for HELLO */
	struct stream_auth cli_hello; /* client waiting for HELLO_ACK */
	struct stream_auth srv_ack;   /* server waiting for AUTH */
	struct stream_auth cli_ready, srv_ready;
	uint8_t hello[STREAM_HELLO_SIZE], ack[STREAM_HELLO_ACK_SIZE], auth[STREAM_AUTH_SIZE];
	bool done;
} st;

static void setup(void)
{
	uint8_t nc[STREAM_NONCE_SIZE], ns[STREAM_NONCE_SIZE];
	struct stream_auth c, s;

	if (st.done)
		return;
	memset(nc, 0x11, sizeof(nc));
	memset(ns, 0x22, sizeof(ns));
	check(stream_auth_init_nonce(&c, STREAM_CLIENT, 1, 2, fuzz_key, nc) == 0);
	check(stream_auth_init_nonce(&s, STREAM_SERVER, 2, 0, fuzz_key, ns) == 0);
	st.srv_init = s;
	check(stream_hello_encode(&c, st.hello, sizeof(st.hello)) == STREAM_HELLO_SIZE);
	st.cli_hello = c;
	check(stream_hello_decode(&s, st.hello, sizeof(st.hello)) == STREAM_HELLO_SIZE);
	check(stream_hello_ack_encode(&s, st.ack, sizeof(st.ack)) == STREAM_HELLO_ACK_SIZE);
	st.srv_ack = s;
	check(stream_hello_ack_decode(&c, st.ack, sizeof(st.ack)) == STREAM_HELLO_ACK_SIZE);
	check(stream_auth_msg_encode(&c, st.auth, sizeof(st.auth)) == STREAM_AUTH_SIZE);
	check(stream_auth_msg_decode(&s, st.auth, sizeof(st.auth)) == STREAM_AUTH_SIZE);
	check(stream_ready(&c) && stream_ready(&s));
	st.cli_ready = c;
	st.srv_ready = s;
	st.done = true;
}

static void open_all(struct stream_auth s, const uint8_t *data, size_t size)
{
	size_t off = 0;
	const uint8_t *body;
	size_t blen;
	uint16_t type;
	int r;

	for (;;) {
		r = stream_frame_open(&s, data + off, size - off, &type, &body, &blen);
		if (r < 0)
			break;
		check(r >= STREAM_FRAME_OVERHEAD && (size_t)r <= size - off);
		check(body == data + off + STREAM_FRAME_HDR_SIZE &&
			blen + STREAM_FRAME_OVERHEAD == (size_t)r);
		off += (size_t)r;
	}
	check(r == -EAGAIN || r == -EACCES || r == -EMSGSIZE || r == -EBADMSG);
	check(r == -EAGAIN ? stream_ready(&s) : stream_failed(&s));
}

static void seal_and_reopen(const uint8_t *data, size_t size)
{
	struct stream_auth tx = st.cli_ready, rx = st.srv_ready;
	size_t off = 0, wlen = 0, nframes = 0, roff = 0, avail = 0, k = 0;
	uint8_t *wire;
	size_t cap = size * 2 + 64 * STREAM_FRAME_OVERHEAD + 64;
	size_t starts[64], lens[64];

	wire = malloc(cap);
	check(wire != NULL);
	/* bodies: a length byte, then that many bytes (at most 64 frames) */
	while (off < size && nframes < 64) {
		size_t l = MIN((size_t)data[off], size - off - 1);
		int r;

		starts[nframes] = off + 1;
		lens[nframes] = l;
		r = stream_frame_seal(
			&tx, wire + wlen, cap - wlen, (uint16_t)nframes, data + off + 1, l);
		check(r == (int)(l + STREAM_FRAME_OVERHEAD));
		wlen += (size_t)r;
		off += 1 + l;
		nframes++;
	}
	/* feed in pieces whose sizes come from the data */
	while (k < nframes) {
		const uint8_t *body;
		size_t blen;
		uint16_t type;
		int r = stream_frame_open(&rx, wire + roff, avail - roff, &type, &body, &blen);

		if (r == -EAGAIN) {
			size_t step = 1 + (size ? data[(avail * 7) % size] : 0);

			check(avail < wlen);
			avail = MIN(avail + step, wlen);
			continue;
		}
		check(r > 0 && type == k && blen == lens[k] &&
			(blen == 0 || memcmp(body, data + starts[k], blen) == 0));
		roff += (size_t)r;
		k++;
	}
	check(roff == wlen);
	free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_auth s;
	int r;

	setup();

	/* 1. handshake messages */
	s = st.srv_init;
	r = stream_hello_decode(&s, data, size);
	check(r == STREAM_HELLO_SIZE || r == -EAGAIN || r == -EBADMSG || r == -EPROTO);
	if (r > 0) {
		uint8_t ack[STREAM_HELLO_ACK_SIZE];

		check(stream_peer_id(&s) != 0);
		check(stream_hello_ack_encode(&s, ack, sizeof(ack)) == STREAM_HELLO_ACK_SIZE);
	}
	s = st.cli_hello;
	r = stream_hello_ack_decode(&s, data, size);
	check(r == STREAM_HELLO_ACK_SIZE || r == -EAGAIN || r == -EBADMSG || r == -EPROTO ||
		r == -EACCES || r == -ENXIO);
	if (r > 0) {
		uint8_t auth[STREAM_AUTH_SIZE];

		check(stream_peer_id(&s) == 2);
		check(stream_auth_msg_encode(&s, auth, sizeof(auth)) == STREAM_AUTH_SIZE);
		check(stream_ready(&s));
	}
	s = st.srv_ack;
	r = stream_auth_msg_decode(&s, data, size);
	check(r == STREAM_AUTH_SIZE || r == -EAGAIN || r == -EACCES);
	if (r > 0)
		open_all(s, data + r, size - (size_t)r); /* AUTH with frames pipelined */

	/* 2. frames */
	r = stream_frame_size(data, size);
	check(r == -EAGAIN || r == -EMSGSIZE || r >= STREAM_FRAME_OVERHEAD);
	open_all(st.srv_ready, data, size);
	open_all(st.cli_ready, data, size);

	/* 3. seal and reopen */
	seal_and_reopen(data, size);
	return 0;
}

#ifdef FUZZ_GEN_CORPUS
static uint8_t out[1 << 16];
static size_t outlen;

static void add(const void *p, size_t n)
{
	check(outlen + n <= sizeof(out));
	memcpy(out + outlen, p, n);
	outlen += n;
}

static void seal(struct stream_auth *s, uint16_t type, const char *body)
{
	int r = stream_frame_seal(s, out + outlen, sizeof(out) - outlen, type, body, strlen(body));

	check(r > 0);
	outlen += (size_t)r;
}

static void emit(const char *dir, const char *name)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(out, 1, outlen, fp) != outlen || fclose(fp)) {
		perror(path);
		exit(1);
	}
	outlen = 0;
}

int main(int argc, char **argv)
{
	struct stream_auth c, s;
	const char *d;
	uint8_t hdr[8];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	d = argv[1];
	setup();

	add(st.hello, sizeof(st.hello));
	emit(d, "hello");
	add(st.ack, sizeof(st.ack));
	emit(d, "hello-ack");
	add(st.auth, sizeof(st.auth));
	emit(d, "auth");
	c = st.cli_ready;
	add(st.auth, sizeof(st.auth));
	seal(&c, 1, "pipelined after auth");
	emit(d, "auth-then-frame");

	c = st.cli_ready;
	seal(&c, 1, "hello server");
	emit(d, "c2s-one");
	c = st.cli_ready;
	seal(&c, 1, "");
	seal(&c, 2, "two");
	seal(&c, 0xffff, "three, with a longer body to chew on");
	emit(d, "c2s-three");
	s = st.srv_ready;
	seal(&s, 7, "reply");
	seal(&s, 8, "");
	emit(d, "s2c-two");
	c = st.cli_ready;
	seal(&c, 1, "a");
	out[outlen - 1] ^= 1; /* bad MAC */
	emit(d, "c2s-bad-mac");
	c = st.cli_ready;
	seal(&c, 1, "truncated frame");
	outlen -= 5;
	emit(d, "c2s-truncated");
	wire_put_u32(hdr, STREAM_MAX_BODY + 1);
	wire_put_u32(hdr + 4, 0);
	add(hdr, sizeof(hdr));
	emit(d, "oversize");
	add("\x05hello\x00\x03"
	    "abc\x10"
	    "0123456789abcdef",
		1 + 5 + 1 + 1 + 3 + 1 + 16);
	emit(d, "bodies");
	add("GET / HTTP/1.0\r\n\r\n", 18);
	emit(d, "stranger");
	return 0;
}
#endif
