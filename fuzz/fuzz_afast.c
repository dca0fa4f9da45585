/* Fuzz target: the direct link's frames and fast-call bodies (agent/),
 * what the in-process agents parse from the network.
 *
 * The first input byte selects what the rest is:
 *   0  a request body: afast_req_get(); one that decodes must be a call
 *      of the fast set with exactly its buffer, and re-encode to the same
 *      fixed part;
 *   1  u32 nr, u64 args[6], then a reply's fixed part checked against the
 *      request afast_req_make() builds for nr(args): afast_rep_get();
 *   2  a frame as the home agent reads it: header checked, then the MAC
 *      over the rest under a fixed key (it must fail, or the body is a
 *      request handed to afast_req_get());
 *   other: the rest is tried as all three.
 * Seeds: fuzz/corpus/afast (made by hand from the unit test's cases).
 */
#include "agent/afast.h"
#include "agent/aframe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void req(const uint8_t *d, size_t n)
{
	struct afast_req q;
	struct afast_spec s;
	uint8_t again[AFAST_REQ_SIZE];

	if (afast_req_get(&q, d, n))
		return;
	check(afast_lookup(q.nr, &s) == 0 && q.kind == s.kind && q.buf_arg == s.arg);
	check(q.buf_len <= AFAST_MAX_IO);
	check(n == AFAST_REQ_SIZE + (q.kind == AFAST_IN ? q.buf_len : 0));
	afast_req_put(again, &q);
	check(memcmp(again, d, AFAST_REQ_SIZE) == 0);
}

static void rep(const uint8_t *d, size_t n)
{
	uint64_t args[6];
	struct afast_req q;
	struct afast_rep r;
	long nr;

	if (n < 4 + 48 + AFAST_REP_SIZE)
		return;
	nr = (long)be(d, 4);
	for (int i = 0; i < 6; i++)
		args[i] = be(d + 4 + 8 * i, 8);
	if (afast_req_make(&q, (uint32_t)be(d + 52, 4), nr, args))
		return;
	if (afast_rep_get(&r, d + 52, &q))
		return;
	check(r.seq == q.seq && r.sig <= 64 && r.ret >= -4095);
	check(r.data_len <= q.buf_len);
	check(q.kind == AFAST_OUT_RET || q.kind == AFAST_OUT_FULL || r.data_len == 0);
}

static void frame(const uint8_t *d, size_t n)
{
	static const struct aframe_dir key = { .key = { 7 }, .ctr = 3 };
	struct acrypt_poly mac;
	uint8_t tag[AFRAME_TAG_SIZE];
	uint32_t len;
	uint16_t type;
	int r;

	if (n < AFRAME_HDR_SIZE)
		return;
	r = aframe_hdr_get(d, &len, &type);
	check(r == 0 || r == -EMSGSIZE || r == -EBADMSG);
	if (r || n < (size_t)AFRAME_HDR_SIZE + len + AFRAME_TAG_SIZE)
		return;
	check(len <= AFRAME_MAX_BODY);
	aframe_mac_begin(&mac, &key);
	acrypt_poly_update(&mac, d, AFRAME_HDR_SIZE + len);
	acrypt_poly_final(&mac, tag);
	if (acrypt_eq16(tag, d + AFRAME_HDR_SIZE + len))
		req(d + AFRAME_HDR_SIZE, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0]) {
	case 0:
		req(data + 1, size - 1);
		break;
	case 1:
		rep(data + 1, size - 1);
		break;
	case 2:
		frame(data + 1, size - 1);
		break;
	default:
		req(data + 1, size - 1);
		rep(data + 1, size - 1);
		frame(data + 1, size - 1);
	}
	return 0;
}
