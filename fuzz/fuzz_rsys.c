/* Fuzz target: forwarded system calls (rsys/rsys.h).
 *
 * The first input byte selects what the rest is:
 *   0  a request: rsys_req_decode(); a call that decodes is laid out in a
 *      fixed scratch area and must then give consistent ranges, and a
 *      reply for it must encode (for a few results) and be accepted or
 *      refused cleanly by rsys_reply_apply();
 *   1  a reply with its context: u32 nr, u64 args[6], u32 memlen, memlen
 *      bytes of process memory at FUZZ_MEM_BASE, then the reply, given to
 *      rsys_reply_apply() over that fake memory (big-endian integers);
 *   other: the rest is tried both ways (as a request, and as a reply to
 *      read(0, FUZZ_MEM_BASE, 64) over 64 bytes of memory).
 * The seed corpus comes from the unit test:
 *   build/tests/test_rsys --write-corpus fuzz/corpus/rsys
 */
#include "rsys/rsys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MEM_BASE 0x10000000ull /* the unit test's fake memory base */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct mem {
	uint8_t *p;
	size_t len;
};

static int mem_rd(void *ctx, uint64_t addr, void *dst, size_t len)
{
	struct mem *m = ctx;

	if (addr < FUZZ_MEM_BASE || addr - FUZZ_MEM_BASE > m->len ||
		len > m->len - (addr - FUZZ_MEM_BASE))
		return -EFAULT;
	memcpy(dst, m->p + (addr - FUZZ_MEM_BASE), len);
	return 0;
}

static int mem_wr(void *ctx, uint64_t addr, const void *src, size_t len)
{
	struct mem *m = ctx;

	if (addr < FUZZ_MEM_BASE || addr - FUZZ_MEM_BASE > m->len ||
		len > m->len - (addr - FUZZ_MEM_BASE))
		return -EFAULT;
	memcpy(m->p + (addr - FUZZ_MEM_BASE), src, len);
	return 0;
}

static uint8_t scratch[RSYS_MAX_SCRATCH] __attribute__((aligned(8)));
static uint8_t rep[RSYS_MAX_REQ];

static void apply(long nr, const uint64_t args[6], struct mem *m, const uint8_t *b, size_t len)
{
	long ret;
	int r = rsys_reply_apply(nr, args, b, len, mem_wr, mem_rd, m, &ret);

	check(r == 0 || r == -EBADMSG || r == -EFAULT);
}

static void request(const uint8_t *b, size_t len)
{
	static const long rets[] = {-EINTR, 0, 1, 7, 100000, 0x7fffffffl};
	struct rsys_call *c;
	size_t sz, off, wl, il, rl, pl;
	uint64_t a[6];
	struct mem none = {NULL, 0};
	int r = rsys_req_decode(b, len, &c);

	check(r == 0 || r == -EBADMSG);
	if (r)
		return;
	sz = rsys_call_scratch_size(c);
	check(sz <= RSYS_MAX_SCRATCH);
	check(rsys_call_layout(c, (uint64_t)(uintptr_t)scratch, sz) == 0);
	rsys_call_scratch_in(c, &il);
	rsys_call_write_range(c, &off, &wl);
	rl = rsys_call_read_len(c);
	check(il == sz && off <= sz && off + wl == sz && rl <= sz && off <= rl);
	rsys_call_args(c, a);
	memcpy(scratch, rsys_call_scratch_in(c, &il), sz);
	for (size_t i = 0; i < sizeof(rets) / sizeof(rets[0]); i++) {
		r = rsys_reply_encode(c, rets[i], scratch, rl, rep, sizeof(rep), &pl);
		check(r == 0);
		apply(rsys_call_nr(c), a, &none, rep, pl);
	}
	rsys_call_free(c);
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void reply(const uint8_t *b, size_t len)
{
	uint64_t args[6];
	struct mem m;
	long nr;

	if (len < 4 + 48 + 4)
		return;
	nr = (long)(uint32_t)be(b, 4);
	for (int i = 0; i < 6; i++)
		args[i] = be(b + 4 + 8 * i, 8);
	m.len = (size_t)be(b + 52, 4);
	b += 56;
	len -= 56;
	if (m.len > len)
		return;
	m.p = malloc(m.len ? m.len : 1);
	memcpy(m.p, b, m.len);
	apply(nr, args, &m, b + m.len, len - m.len);
	free(m.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0]) {
	case 0:
		request(data + 1, size - 1);
		break;
	case 1:
		reply(data + 1, size - 1);
		break;
	default: {
		uint8_t mem[64] = {0};
		struct mem m = {mem, sizeof(mem)};
		const uint64_t args[6] = {0, FUZZ_MEM_BASE, 64};

		request(data + 1, size - 1);
		apply(0, args, &m, data + 1, size - 1);
		break;
	}
	}
	return 0;
}
