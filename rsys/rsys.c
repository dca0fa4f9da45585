/* rsys: the codecs of forwarded system calls (see rsys.h for the flow and
 * the framing; rsys/table.c for the argument shapes).
 *
 * Section bodies, by kind (all integers big-endian on the wire; the
 * structures built in scratch are the process's native x86_64 layout):
 *
 *	kind            request                        reply
 *	PATH            u32 n (NUL included), n bytes  -
 *	IN, IN_FIXED    u32 n, n bytes                 -
 *	OUT, OUT_FIXED  u32 n                          u32 m, m bytes
 *	INOUT(_FIXED)   u32 n, n bytes                 u32 m, m bytes
 *	IOV_IN          u32 cnt, cnt x (u32 n, bytes)  -
 *	IOV_OUT         u32 cnt, cnt x u32 n           u32 m, m bytes (scattered)
 *	SOCKADDR_IN     u32 n, n bytes                 -
 *	VR_OUT          u32 *lenptr (signed)           u32 new *lenptr, u32 m, m bytes
 *	POLLFDS         u32 cnt, cnt x 8 bytes         u32 cnt, cnt x u16 revents
 *	FDSET           u32 n, n bytes                 u32 n, n bytes
 *	MSGHDR_IN       u8 has_name, [u32 n, bytes],   -
 *	                u32 cnt, cnt x (u32 n, bytes),
 *	                u8 has_ctl, [u32 n, bytes]
 *	MSGHDR_OUT      u8 has_name, [u32 cap],        u8 has_name, [u32 namelen,
 *	                u32 cnt, cnt x u32 n,          u32 m, bytes], u32 m, bytes,
 *	                u8 has_ctl, [u32 cap]          u32 controllen, bytes,
 *	                                               u32 msg_flags
 *	SIGSET_PAIR     u8 has_ss, u64 ss_len, [8 b]   -
 *
 * Struct iovec arrays, msghdr and socklen_t words never travel: the home
 * side rebuilds them in scratch from the lengths, so the kernel there only
 * ever sees pointers into scratch, with sizes that match the space laid
 * out. That is what the decoder checks hardest.
 */
#include "rsys/rsys.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "proto/wire.h"
#include "rsys/spec.h"

#define REQ_HDR (4 + 4 + 6 * 8 + 2 + 2)
#define REP_HDR (4 + 4 + 8 + 2 + 2)
#define ALIGN8(x) (((x) + (size_t)7) & ~(size_t)7)
#define PAGE 4096u
#define MSGHDR_SIZE 56
#define SIGSET_SIZE 8

static_assert(sizeof(struct iovec) == 16, "struct iovec");
static_assert(sizeof(struct msghdr) == MSGHDR_SIZE, "struct msghdr");
static_assert(offsetof(struct msghdr, msg_namelen) == 8, "msg_namelen");
static_assert(offsetof(struct msghdr, msg_iov) == 16, "msg_iov");
static_assert(offsetof(struct msghdr, msg_iovlen) == 24, "msg_iovlen");
static_assert(offsetof(struct msghdr, msg_control) == 32, "msg_control");
static_assert(offsetof(struct msghdr, msg_controllen) == 40, "msg_controllen");
static_assert(offsetof(struct msghdr, msg_flags) == 48, "msg_flags");
static_assert(offsetof(struct pollfd, revents) == 6, "pollfd.revents");
static_assert(RSYS_MAX_IOV * sizeof(struct iovec) + MSGHDR_SIZE < (64u << 10), "synth bound");

/* native loads and stores, for process memory and scratch */
static uint64_t ld64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t ld32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void st64(void *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void st32(void *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static bool is_output(uint8_t kind)
{
	switch (kind) {
	case RK_OUT:
	case RK_INOUT:
	case RK_OUT_FIXED:
	case RK_INOUT_FIXED:
	case RK_IOV_OUT:
	case RK_VR_OUT:
	case RK_POLLFDS:
	case RK_FDSET:
	case RK_MSGHDR_OUT:
		return true;
	}
	return false;
}

/* Does the reply carry output sections for this result? */
static bool out_expected(const struct rsys_shape *sh, long ret)
{
	return (sh->flags & SF_OUT_IF_POS) ? ret > 0 : ret >= 0;
}

/* The byte length of an IN/OUT/INOUT argument from its length argument.
 * With clamp (the remote side, which sees the process's raw arguments) a
 * count above RSYS_MAX_IO is cut when the argument allows it, and *newv
 * is the argument's new value; without (home side), it is refused. */
static int arg_len(
	const struct rsys_arg *a, const uint64_t *args, bool clamp, uint64_t *len, uint64_t *newv)
{
	uint64_t v = args[a->ref], elem = a->size ? a->size : 1;

	if (a->flags & AF_L32) {
		int32_t s = (int32_t)(uint32_t)v;

		if (s < 0)
			return -EINVAL;
		v = (uint64_t)s;
	} else if (a->flags & AF_U32) {
		v = (uint32_t)v;
	}
	if (v > RSYS_MAX_IO / elem) {
		if (!clamp || !(a->flags & AF_CLAMP))
			return -E2BIG;
		v = RSYS_MAX_IO / elem;
	}
	*len = v * elem;
	if (newv)
		*newv = v;
	return 0;
}

/* select's fd_set size in bytes for nfds (whole longs, as the kernel reads) */
static int fdset_len(
	const struct rsys_arg *a, const uint64_t *args, bool clamp, uint64_t *len, uint64_t *newv)
{
	int32_t n = (int32_t)(uint32_t)args[a->ref];

	if (n < 0)
		return -EINVAL;
	if ((uint32_t)n > RSYS_MAX_FDSET_BITS) {
		if (!clamp)
			return -E2BIG;
		n = RSYS_MAX_FDSET_BITS; /* the kernel cuts nfds to its fd table size too */
	}
	*len = ((uint64_t)n + 63) / 64 * 8;
	if (newv)
		*newv = (uint64_t)n;
	return 0;
}

/* The sockaddr/option capacity laid out for a value-result length */
static uint32_t vr_cap(int32_t inlen, uint32_t max)
{
	return inlen < 0 ? 0 : MIN((uint32_t)inlen, max);
}

/* ---------------------------------------------------------------------------------------- */
/* Remote side: encode                                                                      */

struct enc {
	struct wire_writer w;
	rsys_read_fn rd;
	void *ctx;
	uint64_t *args;	  /* the arguments as sent (clamped) */
	uint64_t out_sum; /* output space asked for */
};

#define ENC_FULL 1 /* the writer overflowed */

static int enc_read(struct enc *e, uint64_t addr, size_t n)
{
	uint8_t *p;

	if (!n)
		return 0;
	p = wire_reserve(&e->w, n);
	if (!p)
		return ENC_FULL;
	return e->rd(e->ctx, addr, p, n) ? -EFAULT : 0;
}

static int enc_path(struct enc *e, uint64_t addr)
{
	size_t lenpos = e->w.len, n = 0;

	wire_put32(&e->w, 0);
	for (;;) {
		size_t chunk = PAGE - (size_t)((addr + n) % PAGE);
		uint8_t *p, *nul;

		chunk = MIN(chunk, RSYS_MAX_PATH - n);
		if (!chunk)
			return -ENAMETOOLONG;
		p = wire_reserve(&e->w, chunk);
		if (!p)
			return ENC_FULL;
		if (e->rd(e->ctx, addr + n, p, chunk))
			return -EFAULT;
		nul = memchr(p, 0, chunk);
		if (nul) {
			size_t used = (size_t)(nul - p) + 1;

			e->w.len -= chunk - used;
			n += used;
			break;
		}
		n += chunk;
	}
	wire_put_u32(e->w.buf + lenpos, (uint32_t)n);
	return 0;
}

/* An iovec array: u32 count, then per element u32 length (+ its bytes if
 * in). The total is clamped to RSYS_MAX_IO; lengths beyond become 0.
 * toolong is the kernel's error for too many elements. */
static int enc_iov(
	struct enc *e, uint64_t addr, uint64_t cnt, bool in, int toolong, uint64_t *total)
{
	static_assert(RSYS_MAX_IOV * 16 <= 16384, "iov buffer");
	uint8_t *iov;
	uint64_t sum = 0;
	int r = 0;

	if (cnt > RSYS_MAX_IOV)
		return toolong;
	wire_put32(&e->w, (uint32_t)cnt);
	if (!cnt)
		goto out;
	iov = malloc(cnt * 16);
	if (!iov)
		return -ENOMEM;
	if (e->rd(e->ctx, addr, iov, cnt * 16)) {
		r = -EFAULT;
		goto out_free;
	}
	for (uint64_t i = 0; i < cnt && !r; i++) {
		uint64_t base = ld64(iov + 16 * i), len = ld64(iov + 16 * i + 8);

		if (len > (uint64_t)INT64_MAX) {
			r = -EINVAL;
			break;
		}
		len = MIN(len, RSYS_MAX_IO - sum);
		sum += len;
		wire_put32(&e->w, (uint32_t)len);
		if (in)
			r = enc_read(e, base, len);
	}
out_free:
	free(iov);
out:
	*total = sum;
	return r;
}

/* recvmsg/sendmsg: the msghdr's parts (see the table at the top) */
static int enc_msghdr(struct enc *e, uint64_t addr, bool in)
{
	uint8_t m[MSGHDR_SIZE];
	uint64_t name, iov, iovlen, ctl, ctllen, total;
	int32_t namelen;
	int r;

	if (e->rd(e->ctx, addr, m, sizeof(m)))
		return -EFAULT;
	name = ld64(m);
	namelen = (int32_t)ld32(m + 8);
	iov = ld64(m + 16);
	iovlen = ld64(m + 24);
	ctl = ld64(m + 32);
	ctllen = ld64(m + 40);

	wire_put8(&e->w, name != 0);
	if (name) {
		if (namelen < 0)
			return -EINVAL;
		namelen = (int32_t)MIN((uint32_t)namelen, RSYS_MAX_SOCKADDR);
		wire_put32(&e->w, (uint32_t)namelen);
		if (in) {
			r = enc_read(e, name, (size_t)namelen);
			if (r)
				return r;
		} else {
			e->out_sum += (uint32_t)namelen;
		}
	}
	r = enc_iov(e, iov, iovlen, in, -EMSGSIZE, &total);
	if (r)
		return r;
	if (!in)
		e->out_sum += total;
	if (in && ctllen > (uint64_t)INT32_MAX)
		return -ENOBUFS;
	if (in && !ctl && ctllen)
		return -EFAULT; /* recvmsg takes a NULL control as none */
	wire_put8(&e->w, ctl != 0);
	if (ctl) {
		if (in) {
			if (ctllen > RSYS_MAX_CONTROL)
				return -ENOBUFS;
			wire_put32(&e->w, (uint32_t)ctllen);
			return enc_read(e, ctl, ctllen);
		}
		ctllen = MIN(ctllen, RSYS_MAX_CONTROL);
		wire_put32(&e->w, (uint32_t)ctllen);
		e->out_sum += ctllen;
	}
	return 0;
}

static int enc_arg(struct enc *e, const struct rsys_arg *a, unsigned i)
{
	uint64_t addr = e->args[i], len, v;
	uint8_t buf[16];
	int32_t inlen;
	int r;

	switch (a->kind) {
	case RK_PATH:
		return enc_path(e, addr);
	case RK_IN:
	case RK_OUT:
	case RK_INOUT:
		r = arg_len(a, e->args, true, &len, &v);
		if (r)
			return r;
		e->args[a->ref] = v;
		wire_put32(&e->w, (uint32_t)len);
		if (a->kind != RK_OUT)
			return enc_read(e, addr, len);
		e->out_sum += len;
		return 0;
	case RK_IN_FIXED:
	case RK_OUT_FIXED:
	case RK_INOUT_FIXED:
		wire_put32(&e->w, a->size);
		if (a->kind != RK_OUT_FIXED)
			return enc_read(e, addr, a->size);
		e->out_sum += a->size;
		return 0;
	case RK_IOV_IN:
	case RK_IOV_OUT:
		r = enc_iov(e, addr, e->args[a->ref], a->kind == RK_IOV_IN, -EINVAL, &len);
		if (!r && a->kind == RK_IOV_OUT)
			e->out_sum += len;
		return r;
	case RK_SOCKADDR_IN:
		inlen = (int32_t)(uint32_t)e->args[a->ref];
		if (inlen < 0 || (uint32_t)inlen > RSYS_MAX_SOCKADDR)
			return -EINVAL;
		wire_put32(&e->w, (uint32_t)inlen);
		return enc_read(e, addr, (size_t)inlen);
	case RK_VR_OUT:
		if (e->rd(e->ctx, e->args[a->ref], buf, 4))
			return -EFAULT;
		inlen = (int32_t)ld32(buf);
		wire_put32(&e->w, (uint32_t)inlen);
		e->out_sum += vr_cap(inlen, a->size);
		return 0;
	case RK_POLLFDS:
		v = (uint32_t)e->args[a->ref];
		if (v > RSYS_MAX_POLLFDS)
			return -EINVAL;
		wire_put32(&e->w, (uint32_t)v);
		return enc_read(e, addr, v * sizeof(struct pollfd));
	case RK_FDSET:
		r = fdset_len(a, e->args, true, &len, &v);
		if (r)
			return r;
		e->args[a->ref] = v;
		wire_put32(&e->w, (uint32_t)len);
		return enc_read(e, addr, len);
	case RK_MSGHDR_IN:
	case RK_MSGHDR_OUT:
		return enc_msghdr(e, addr, a->kind == RK_MSGHDR_IN);
	case RK_SIGSET_PAIR:
		if (e->rd(e->ctx, addr, buf, 16))
			return -EFAULT;
		wire_put8(&e->w, ld64(buf) != 0);
		wire_put64(&e->w, ld64(buf + 8));
		if (!ld64(buf))
			return 0;
		if (ld64(buf + 8) != SIGSET_SIZE)
			return -EINVAL;
		return enc_read(e, ld64(buf), SIGSET_SIZE);
	}
	return -ENOSYS;
}

int rsys_req_encode(long nr, const uint64_t args[6], rsys_read_fn rd, void *ctx, uint8_t *buf,
	size_t cap, size_t *used)
{
	const struct rsys_shape *sh;
	uint64_t wargs[6];
	struct enc e = {
		.w = WIRE_WRITER(buf, MIN(cap, (size_t)RSYS_MAX_REQ)),
		.rd = rd,
		.ctx = ctx,
		.args = wargs,
	};
	unsigned nsect = 0;
	int r;

	r = rsys_shape_of(nr, args, &sh);
	if (r)
		return r;
	memcpy(wargs, args, sizeof(wargs));
	if (!wire_reserve(&e.w, REQ_HDR))
		return -ENOBUFS;
	for (unsigned i = 0; i < 6; i++) {
		const struct rsys_arg *a = &sh->a[i];

		if (a->kind == RK_SCALAR || a->kind == RK_LENPTR || !args[i])
			continue;
		wire_put8(&e.w, (uint8_t)i);
		wire_put8(&e.w, a->kind);
		r = enc_arg(&e, a, i);
		if (r == ENC_FULL || (!r && e.w.err))
			return cap < RSYS_MAX_REQ ? -ENOBUFS : -E2BIG;
		if (r)
			return r;
		nsect++;
	}
	if (e.out_sum > RSYS_MAX_REQ)
		return -E2BIG;
	wire_put_u32(buf, RSYS_REQ_MAGIC);
	wire_put_u32(buf + 4, (uint32_t)nr);
	for (unsigned i = 0; i < 6; i++)
		wire_put_u64(buf + 8 + 8 * i, wargs[i]);
	wire_put_u16(buf + 56, (uint16_t)nsect);
	wire_put_u16(buf + 58, 0);
	*used = e.w.len;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Home side: the decoded call                                                              */

enum { D_IN = 1, D_OUT = 2, D_INOUT = 3 };

struct region {
	uint32_t len;
	uint32_t off; /* in scratch, after layout */
	uint8_t dir;
	bool null;	     /* a NULL pointer: no space, address 0 */
	const uint8_t *data; /* initial bytes (in the request copy), or NULL */
};

/* Regions per item, from item->reg:
 *	simple kinds       [0] the buffer
 *	IOV_*              [0] iovec array, [1..cnt] data
 *	VR_OUT             [0] socklen_t word, [1] buffer
 *	MSGHDR_*           [0] msghdr, [1] name, [2] iovec array, [3..3+cnt) data, [3+cnt] control
 *	SIGSET_PAIR        [0] { ss, ss_len }, [1] the sigset
 */
struct item {
	uint8_t arg;
	uint8_t kind;
	const struct rsys_arg *spec;
	uint32_t reg;
	uint32_t cnt;	 /* iovecs or pollfds */
	int32_t vr_in;	 /* VR_OUT: *lenptr as the process gave it */
	uint64_t ss_len; /* SIGSET_PAIR */
};

struct rsys_call {
	long nr;
	const struct rsys_shape *sh;
	uint64_t wargs[6]; /* as received */
	uint64_t args[6];  /* rewritten by layout */
	uint8_t *req;	   /* our copy of the request; region data points here */
	struct item items[6];
	unsigned nitems;
	struct region *regs;
	unsigned nregs, capregs;
	size_t scratch_size;
	size_t out_sum;
	bool laid_out;
	uint8_t *image;
	size_t wr_off, rd_len;
};

static int add_region(
	struct rsys_call *c, uint64_t len, uint8_t dir, const uint8_t *data, bool null)
{
	struct region *r;

	if (len > RSYS_MAX_REQ)
		return -EBADMSG;
	if (c->nregs == c->capregs) {
		unsigned ncap = c->capregs ? 2 * c->capregs : 16;
		struct region *n = realloc(c->regs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->regs = n;
		c->capregs = ncap;
	}
	r = &c->regs[c->nregs++];
	*r = (struct region){.len = (uint32_t)len, .dir = dir, .data = data, .null = null};
	if (!null) {
		c->scratch_size += ALIGN8(len);
		if (dir == D_OUT)
			c->out_sum += len;
	}
	return 0;
}

/* the next n request bytes (NULL and err set if short) */
static const uint8_t *take(struct wire_reader *r, uint64_t n)
{
	if (n > wire_left(r)) {
		r->err = true;
		return NULL;
	}
	return wire_take(r, (size_t)n);
}

/* An iovec array; cnt_arg is the count argument (readv), or -1 (msghdr) */
static int dec_iov(
	struct rsys_call *c, struct wire_reader *r, int64_t cnt_arg, bool in, uint32_t *cnt_out)
{
	uint32_t cnt = wire_get32(r);
	uint64_t sum = 0;
	int e;

	if (r->err || (cnt_arg >= 0 && (uint64_t)cnt_arg != cnt) || cnt > RSYS_MAX_IOV)
		return -EBADMSG;
	e = add_region(c, (uint64_t)cnt * 16, D_IN, NULL, false);
	for (uint32_t i = 0; i < cnt && !e; i++) {
		uint32_t len = wire_get32(r);
		const uint8_t *p = NULL;

		sum += len;
		if (r->err || sum > RSYS_MAX_IO)
			return -EBADMSG;
		if (in && !(p = take(r, len)))
			return -EBADMSG;
		e = add_region(c, len, in ? D_IN : D_OUT, p, false);
	}
	*cnt_out = cnt;
	return e;
}

static int dec_msghdr(struct rsys_call *c, struct item *it, struct wire_reader *r, bool in)
{
	uint8_t has;
	uint32_t n = 0;
	const uint8_t *p = NULL;
	int e;

	e = add_region(c, MSGHDR_SIZE, in ? D_IN : D_INOUT, NULL, false);
	if (e)
		return e;
	has = wire_get8(r);
	if (has > 1)
		return -EBADMSG;
	if (has) {
		n = wire_get32(r);
		if (n > RSYS_MAX_SOCKADDR || (in && !(p = take(r, n))))
			return -EBADMSG;
	}
	e = add_region(c, n, in ? D_IN : D_OUT, p, !has);
	if (e)
		return e;
	e = dec_iov(c, r, -1, in, &it->cnt);
	if (e)
		return e;
	has = wire_get8(r);
	n = 0;
	p = NULL;
	if (has > 1)
		return -EBADMSG;
	if (has) {
		n = wire_get32(r);
		if (n > RSYS_MAX_CONTROL || (in && !(p = take(r, n))))
			return -EBADMSG;
	}
	return add_region(c, n, in ? D_IN : D_OUT, p, !has);
}

static int dec_arg(struct rsys_call *c, struct item *it, struct wire_reader *r)
{
	const struct rsys_arg *a = it->spec;
	uint64_t len;
	uint32_t n;
	const uint8_t *p;

	switch (a->kind) {
	case RK_PATH:
		n = wire_get32(r);
		if (r->err || !n || n > RSYS_MAX_PATH || !(p = take(r, n)))
			return -EBADMSG;
		if (memchr(p, 0, n) != p + n - 1)
			return -EBADMSG;
		return add_region(c, n, D_IN, p, false);
	case RK_IN:
	case RK_OUT:
	case RK_INOUT:
	case RK_FDSET:
		if ((a->kind == RK_FDSET ? fdset_len : arg_len)(a, c->wargs, false, &len, NULL))
			return -EBADMSG;
		n = wire_get32(r);
		if (r->err || n != len)
			return -EBADMSG;
		if (a->kind == RK_OUT)
			return add_region(c, n, D_OUT, NULL, false);
		if (!(p = take(r, n)))
			return -EBADMSG;
		return add_region(c, n, a->kind == RK_IN ? D_IN : D_INOUT, p, false);
	case RK_IN_FIXED:
	case RK_OUT_FIXED:
	case RK_INOUT_FIXED:
		n = wire_get32(r);
		if (r->err || n != a->size)
			return -EBADMSG;
		if (a->kind == RK_OUT_FIXED)
			return add_region(c, n, D_OUT, NULL, false);
		if (!(p = take(r, n)))
			return -EBADMSG;
		return add_region(c, n, a->kind == RK_IN_FIXED ? D_IN : D_INOUT, p, false);
	case RK_IOV_IN:
	case RK_IOV_OUT:
		if (c->wargs[a->ref] > RSYS_MAX_IOV)
			return -EBADMSG;
		return dec_iov(c, r, (int64_t)c->wargs[a->ref], a->kind == RK_IOV_IN, &it->cnt);
	case RK_SOCKADDR_IN:
		n = wire_get32(r);
		if (r->err || n > RSYS_MAX_SOCKADDR || n != (uint32_t)c->wargs[a->ref] ||
			!(p = take(r, n)))
			return -EBADMSG;
		return add_region(c, n, D_IN, p, false);
	case RK_VR_OUT:
		it->vr_in = (int32_t)wire_get32(r);
		if (r->err || !c->wargs[a->ref])
			return -EBADMSG;
		if (add_region(c, 4, D_INOUT, NULL, false))
			return -ENOMEM;
		return add_region(c, vr_cap(it->vr_in, a->size), D_OUT, NULL, false);
	case RK_POLLFDS:
		n = wire_get32(r);
		if (r->err || n > RSYS_MAX_POLLFDS || n != (uint32_t)c->wargs[a->ref] ||
			!(p = take(r, (uint64_t)n * sizeof(struct pollfd))))
			return -EBADMSG;
		it->cnt = n;
		return add_region(c, (uint64_t)n * sizeof(struct pollfd), D_INOUT, p, false);
	case RK_MSGHDR_IN:
	case RK_MSGHDR_OUT:
		return dec_msghdr(c, it, r, a->kind == RK_MSGHDR_IN);
	case RK_SIGSET_PAIR: {
		uint8_t has = wire_get8(r);

		it->ss_len = wire_get64(r);
		if (r->err || has > 1 || (has && it->ss_len != SIGSET_SIZE))
			return -EBADMSG;
		p = has ? take(r, SIGSET_SIZE) : NULL;
		if (has && !p)
			return -EBADMSG;
		if (add_region(c, 16, D_IN, NULL, false))
			return -ENOMEM;
		return add_region(c, SIGSET_SIZE, D_IN, p, !has);
	}
	}
	return -EBADMSG;
}

int rsys_req_decode(const uint8_t *buf, size_t len, struct rsys_call **out)
{
	struct wire_reader r = WIRE_READER(buf, len);
	struct rsys_call *c;
	unsigned nsect;
	int e = -EBADMSG;

	*out = NULL;
	if (len < REQ_HDR || len > RSYS_MAX_REQ || wire_get_u32(buf) != RSYS_REQ_MAGIC)
		return -EBADMSG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->req = malloc(len);
	if (!c->req) {
		e = -ENOMEM;
		goto out_free;
	}
	memcpy(c->req, buf, len);
	r = WIRE_READER(c->req, len);
	wire_get32(&r);
	c->nr = (long)wire_get32(&r);
	for (unsigned i = 0; i < 6; i++)
		c->wargs[i] = wire_get64(&r);
	nsect = wire_get16(&r);
	if (wire_get16(&r) || rsys_shape_of(c->nr, c->wargs, &c->sh))
		goto out_free;
	for (unsigned i = 0; i < 6; i++) {
		const struct rsys_arg *a = &c->sh->a[i];
		struct item *it;

		if (a->kind == RK_SCALAR || a->kind == RK_LENPTR || !c->wargs[i])
			continue;
		if (wire_get8(&r) != i || wire_get8(&r) != a->kind || r.err)
			goto out_free;
		it = &c->items[c->nitems++];
		*it = (struct item){.arg = (uint8_t)i, .kind = a->kind, .spec = a, .reg = c->nregs};
		e = dec_arg(c, it, &r);
		if (e)
			goto out_free;
		e = -EBADMSG;
	}
	if (r.err || wire_left(&r) || nsect != c->nitems || c->out_sum > RSYS_MAX_REQ ||
		c->scratch_size > RSYS_MAX_SCRATCH)
		goto out_free;
	*out = c;
	return 0;
out_free:
	rsys_call_free(c);
	return e == -ENOMEM ? e : -EBADMSG;
}

void rsys_call_free(struct rsys_call *c)
{
	if (!c)
		return;
	free(c->image);
	free(c->regs);
	free(c->req);
	free(c);
}

long rsys_call_nr(const struct rsys_call *c)
{
	return c->nr;
}

size_t rsys_call_scratch_size(const struct rsys_call *c)
{
	return c->scratch_size;
}

static uint64_t reg_addr(const struct rsys_call *c, uint64_t base, unsigned i)
{
	return c->regs[i].null ? 0 : base + c->regs[i].off;
}

/* Fill an iovec array region (regs[arr]) for the cnt data regions after it. */
static void build_iov(struct rsys_call *c, uint64_t base, unsigned arr, uint32_t cnt)
{
	uint8_t *p = c->image + c->regs[arr].off;

	for (uint32_t i = 0; i < cnt; i++) {
		st64(p + 16 * i, reg_addr(c, base, arr + 1 + i));
		st64(p + 16 * i + 8, c->regs[arr + 1 + i].len);
	}
}

int rsys_call_layout(struct rsys_call *c, uint64_t base, size_t cap)
{
	static const uint8_t order[] = {D_OUT, D_INOUT, D_IN};
	size_t off = 0;
	uint8_t *img;

	if (base % 8)
		return -EINVAL;
	if (cap < c->scratch_size)
		return -ENOSPC;
	img = realloc(c->image, c->scratch_size ? c->scratch_size : 1);
	if (!img)
		return -ENOMEM;
	c->image = img;
	memset(img, 0, c->scratch_size);
	for (unsigned k = 0; k < ARRAY_SIZE(order); k++) {
		if (order[k] == D_INOUT)
			c->wr_off = off;
		for (unsigned i = 0; i < c->nregs; i++) {
			struct region *r = &c->regs[i];

			if (r->dir != order[k] || r->null)
				continue;
			r->off = (uint32_t)off;
			if (r->data && r->len)
				memcpy(img + off, r->data, r->len);
			off += ALIGN8(r->len);
		}
		if (order[k] == D_INOUT)
			c->rd_len = off;
	}
	assert(off == c->scratch_size);

	memcpy(c->args, c->wargs, sizeof(c->args));
	for (unsigned i = 0; i < 6; i++)
		if (c->sh->a[i].kind != RK_SCALAR)
			c->args[i] = 0;
	for (unsigned k = 0; k < c->nitems; k++) {
		struct item *it = &c->items[k];
		unsigned g = it->reg;
		uint8_t *p = img + c->regs[g].off;

		c->args[it->arg] = reg_addr(c, base, g);
		switch (it->kind) {
		case RK_IOV_IN:
		case RK_IOV_OUT:
			build_iov(c, base, g, it->cnt);
			break;
		case RK_VR_OUT:
			st32(p, (uint32_t)(it->vr_in < 0 ? it->vr_in
							 : (int32_t)c->regs[g + 1].len));
			c->args[it->spec->ref] = reg_addr(c, base, g);
			c->args[it->arg] = reg_addr(c, base, g + 1);
			break;
		case RK_MSGHDR_IN:
		case RK_MSGHDR_OUT: {
			unsigned ctl = g + 3 + it->cnt;

			st64(p, reg_addr(c, base, g + 1));
			st32(p + 8, c->regs[g + 1].len);
			st64(p + 16, reg_addr(c, base, g + 2));
			st64(p + 24, it->cnt);
			st64(p + 32, reg_addr(c, base, ctl));
			st64(p + 40, c->regs[ctl].len);
			build_iov(c, base, g + 2, it->cnt);
			break;
		}
		case RK_SIGSET_PAIR:
			st64(p, reg_addr(c, base, g + 1));
			st64(p + 8, it->ss_len);
			break;
		}
	}
	c->laid_out = true;
	return 0;
}

void rsys_call_args(const struct rsys_call *c, uint64_t args[6])
{
	memcpy(args, c->laid_out ? c->args : c->wargs, 6 * sizeof(uint64_t));
}

const void *rsys_call_scratch_in(const struct rsys_call *c, size_t *len)
{
	*len = c->laid_out ? c->scratch_size : 0;
	return c->image;
}

void rsys_call_write_range(const struct rsys_call *c, size_t *off, size_t *len)
{
	*off = c->laid_out ? c->wr_off : 0;
	*len = c->laid_out ? c->scratch_size - c->wr_off : 0;
}

size_t rsys_call_read_len(const struct rsys_call *c)
{
	return c->laid_out ? c->rd_len : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Home side: the reply                                                                     */

static void put_reg(struct wire_writer *w, const uint8_t *s, const struct region *g, uint64_t n)
{
	wire_put32(w, (uint32_t)n);
	wire_put_bytes(w, s + g->off, (size_t)n);
}

/* n bytes gathered from the cnt data regions starting at regs[first] */
static void put_gather(struct wire_writer *w, const struct rsys_call *c, const uint8_t *s,
	unsigned first, uint32_t cnt, uint64_t n)
{
	wire_put32(w, (uint32_t)n);
	for (uint32_t i = 0; i < cnt && n; i++) {
		const struct region *g = &c->regs[first + i];
		size_t k = (size_t)MIN((uint64_t)g->len, n);

		wire_put_bytes(w, s + g->off, k);
		n -= k;
	}
}

static uint64_t iov_total(const struct rsys_call *c, unsigned first, uint32_t cnt)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < cnt; i++)
		sum += c->regs[first + i].len;
	return sum;
}

/* min(ret * elem, len) for ret >= 0 */
static uint64_t ret_bytes(long ret, uint64_t elem, uint64_t len)
{
	return (uint64_t)ret > len / elem ? len : (uint64_t)ret * elem;
}

static void rep_item(struct wire_writer *w, const struct rsys_call *c, const struct item *it,
	const uint8_t *s, long ret)
{
	const struct region *g = &c->regs[it->reg];
	const struct rsys_arg *a = it->spec;
	uint64_t n;

	wire_put8(w, it->arg);
	wire_put8(w, it->kind);
	switch (it->kind) {
	case RK_OUT:
	case RK_INOUT:
		n = (a->flags & AF_RET) ? ret_bytes(ret, a->size ? a->size : 1, g->len) : g->len;
		put_reg(w, s, g, n);
		break;
	case RK_OUT_FIXED:
	case RK_INOUT_FIXED:
	case RK_FDSET:
		put_reg(w, s, g, g->len);
		break;
	case RK_IOV_OUT:
		n = MIN((uint64_t)ret, iov_total(c, it->reg + 1, it->cnt));
		put_gather(w, c, s, it->reg + 1, it->cnt, n);
		break;
	case RK_VR_OUT: {
		int32_t nl = (int32_t)ld32(s + g->off);

		wire_put32(w, (uint32_t)nl);
		put_reg(w, s, g + 1, vr_cap(nl, g[1].len));
		break;
	}
	case RK_POLLFDS:
		wire_put32(w, it->cnt);
		for (uint32_t i = 0; i < it->cnt; i++) {
			uint16_t rev;

			memcpy(&rev, s + g->off + 8 * i + 6, 2);
			wire_put16(w, rev);
		}
		break;
	case RK_MSGHDR_OUT: {
		const uint8_t *m = s + g->off;
		const struct region *ctl = &g[3 + it->cnt];

		wire_put8(w, !g[1].null);
		if (!g[1].null) {
			int32_t nl = (int32_t)ld32(m + 8);

			wire_put32(w, (uint32_t)nl);
			put_reg(w, s, g + 1, vr_cap(nl, g[1].len));
		}
		n = MIN((uint64_t)ret, iov_total(c, it->reg + 3, it->cnt));
		put_gather(w, c, s, it->reg + 3, it->cnt, n);
		wire_put8(w, !ctl->null);
		put_reg(w, s, ctl, ctl->null ? 0 : MIN(ld64(m + 40), (uint64_t)ctl->len));
		wire_put32(w, ld32(m + 48));
		break;
	}
	}
}

int rsys_reply_encode(struct rsys_call *c, long ret, const void *scratch_after, size_t scratch_len,
	uint8_t *buf, size_t cap, size_t *used)
{
	struct wire_writer w = WIRE_WRITER(buf, cap);
	bool out = out_expected(c->sh, ret);
	unsigned nsect = 0;

	if (!c->laid_out || (out && scratch_len < c->rd_len))
		return -EINVAL;
	if (!wire_reserve(&w, REP_HDR))
		return -ENOBUFS;
	for (unsigned k = 0; out && k < c->nitems; k++) {
		if (!is_output(c->items[k].kind))
			continue;
		rep_item(&w, c, &c->items[k], scratch_after, ret);
		nsect++;
	}
	if (w.err)
		return -ENOBUFS;
	wire_put_u32(buf, RSYS_REP_MAGIC);
	wire_put_u32(buf + 4, (uint32_t)c->nr);
	wire_put_u64(buf + 8, (uint64_t)ret);
	wire_put_u16(buf + 16, (uint16_t)nsect);
	wire_put_u16(buf + 18, 0);
	*used = w.len;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Remote side: apply the reply                                                             */

struct app {
	struct wire_reader r;
	rsys_write_fn wr;
	rsys_read_fn rd;
	void *ctx;
	const uint64_t *args;
	long ret;
	bool commit; /* false: check only */
};

static int app_write(struct app *p, uint64_t addr, const void *src, size_t n)
{
	if (!p->commit || !n)
		return 0;
	return p->wr(p->ctx, addr, src, n) ? -EFAULT : 0;
}

/* u32 m, then m bytes that must be exactly `want` long; written to addr */
static int app_bytes(struct app *p, uint64_t addr, uint64_t want)
{
	uint32_t m = wire_get32(&p->r);
	const uint8_t *d;

	if (p->r.err || m != want || !(d = take(&p->r, m)))
		return -EBADMSG;
	return app_write(p, addr, d, m);
}

/* Re-read an iovec array (as encode did) and scatter u32 m bytes over it;
 * m must be min(ret, clamped total). */
static int app_scatter(struct app *p, uint64_t addr, uint64_t cnt)
{
	uint8_t *iov;
	uint64_t sum = 0, want;
	uint32_t m;
	const uint8_t *d;
	int r = 0;

	if (cnt > RSYS_MAX_IOV)
		return -EBADMSG;
	iov = malloc(cnt ? cnt * 16 : 1);
	if (!iov)
		return -ENOMEM;
	if (cnt && p->rd(p->ctx, addr, iov, cnt * 16)) {
		r = -EFAULT;
		goto out;
	}
	for (uint64_t i = 0; i < cnt; i++)
		sum += MIN(ld64(iov + 16 * i + 8), RSYS_MAX_IO - sum);
	want = MIN((uint64_t)p->ret, sum);
	m = wire_get32(&p->r);
	if (p->r.err || m != want || !(d = take(&p->r, m))) {
		r = -EBADMSG;
		goto out;
	}
	for (uint64_t i = 0; i < cnt && m && !r; i++) {
		size_t k = (size_t)MIN((uint64_t)m, ld64(iov + 16 * i + 8));

		r = app_write(p, ld64(iov + 16 * i), d, k);
		d += k;
		m -= (uint32_t)k;
	}
out:
	free(iov);
	return r;
}

static int app_msghdr(struct app *p, uint64_t addr)
{
	uint8_t m[MSGHDR_SIZE];
	uint64_t name, ctl, ctllen;
	int32_t namelen, nl;
	uint32_t n, flags;
	const uint8_t *d;
	int r;

	if (p->rd(p->ctx, addr, m, sizeof(m)))
		return -EFAULT;
	name = ld64(m);
	namelen = (int32_t)ld32(m + 8);
	ctl = ld64(m + 32);
	ctllen = MIN(ld64(m + 40), (uint64_t)RSYS_MAX_CONTROL);
	if (wire_get8(&p->r) != (name != 0))
		return -EBADMSG;
	if (name) {
		if (namelen < 0)
			return -EBADMSG;
		nl = (int32_t)wire_get32(&p->r);
		r = app_bytes(p, name, vr_cap(nl, MIN((uint32_t)namelen, RSYS_MAX_SOCKADDR)));
		if (r)
			return r;
		st32(m + 8, (uint32_t)nl);
	}
	r = app_scatter(p, ld64(m + 16), ld64(m + 24));
	if (r)
		return r;
	if (wire_get8(&p->r) != (ctl != 0))
		return -EBADMSG;
	n = wire_get32(&p->r);
	if (p->r.err || n > (ctl ? ctllen : 0) || !(d = take(&p->r, n)))
		return -EBADMSG;
	r = app_write(p, ctl, d, n);
	if (r)
		return r;
	flags = wire_get32(&p->r);
	if (p->r.err)
		return -EBADMSG;
	st64(m + 40, n);
	st32(m + 48, flags);
	/* the kernel writes msg_namelen (with a name), msg_controllen, msg_flags */
	if (name) {
		r = app_write(p, addr + 8, m + 8, 4);
		if (r)
			return r;
	}
	return app_write(p, addr + 40, m + 40, 12);
}

static int app_arg(struct app *p, const struct rsys_arg *a, unsigned i)
{
	uint64_t addr = p->args[i], len;
	uint8_t w[4];
	int32_t nl;
	uint32_t n;
	int r;

	switch (a->kind) {
	case RK_OUT:
	case RK_INOUT:
		if (arg_len(a, p->args, true, &len, NULL))
			return -EBADMSG;
		if (a->flags & AF_RET)
			len = ret_bytes(p->ret, a->size ? a->size : 1, len);
		return app_bytes(p, addr, len);
	case RK_OUT_FIXED:
	case RK_INOUT_FIXED:
		return app_bytes(p, addr, a->size);
	case RK_FDSET:
		if (fdset_len(a, p->args, true, &len, NULL))
			return -EBADMSG;
		return app_bytes(p, addr, len);
	case RK_IOV_OUT:
		return app_scatter(p, addr, p->args[a->ref]);
	case RK_VR_OUT:
		if (p->rd(p->ctx, p->args[a->ref], w, 4))
			return -EFAULT;
		nl = (int32_t)wire_get32(&p->r);
		r = app_bytes(p, addr, vr_cap(nl, vr_cap((int32_t)ld32(w), a->size)));
		st32(w, (uint32_t)nl);
		return r ?: app_write(p, p->args[a->ref], w, 4);
	case RK_POLLFDS: {
		uint8_t *fds;
		const uint8_t *d;

		n = wire_get32(&p->r);
		if (p->r.err || n != (uint32_t)p->args[a->ref] || n > RSYS_MAX_POLLFDS ||
			!(d = take(&p->r, (uint64_t)n * 2)))
			return -EBADMSG;
		if (!p->commit || !n)
			return 0;
		fds = malloc((size_t)n * 8);
		if (!fds)
			return -ENOMEM;
		r = p->rd(p->ctx, addr, fds, (size_t)n * 8) ? -EFAULT : 0;
		for (uint32_t k = 0; k < n && !r; k++) {
			uint16_t rev = wire_get_u16(d + 2 * k);

			memcpy(fds + 8 * k + 6, &rev, 2);
		}
		r = r ?: app_write(p, addr, fds, (size_t)n * 8);
		free(fds);
		return r;
	}
	case RK_MSGHDR_OUT:
		return app_msghdr(p, addr);
	}
	return -EBADMSG;
}

static int app_walk(struct app *p, const struct rsys_shape *sh, unsigned nsect)
{
	unsigned seen = 0;
	int r;

	if (!out_expected(sh, p->ret))
		return nsect ? -EBADMSG : 0;
	for (unsigned i = 0; i < 6; i++) {
		const struct rsys_arg *a = &sh->a[i];

		if (!is_output(a->kind) || !p->args[i])
			continue;
		if (wire_get8(&p->r) != i || wire_get8(&p->r) != a->kind || p->r.err)
			return -EBADMSG;
		r = app_arg(p, a, i);
		if (r)
			return r;
		seen++;
	}
	return seen == nsect ? 0 : -EBADMSG;
}

int rsys_reply_apply(long nr, const uint64_t args[6], const uint8_t *buf, size_t len,
	rsys_write_fn wr, rsys_read_fn rd, void *ctx, long *ret)
{
	const struct rsys_shape *sh;
	struct app p = {.wr = wr, .rd = rd, .ctx = ctx, .args = args};
	unsigned nsect;
	int r;

	if (len < REP_HDR || len > RSYS_MAX_REQ || wire_get_u32(buf) != RSYS_REP_MAGIC ||
		wire_get_u32(buf + 4) != (uint32_t)nr || wire_get_u16(buf + 18) ||
		rsys_shape_of(nr, args, &sh))
		return -EBADMSG;
	p.ret = (long)wire_get_u64(buf + 8);
	nsect = wire_get_u16(buf + 16);
	for (int pass = 0; pass < 2; pass++) {
		p.r = WIRE_READER(buf, len);
		p.r.pos = REP_HDR;
		p.commit = pass == 1;
		r = app_walk(&p, sh, nsect);
		if (r)
			return r;
		if (wire_left(&p.r))
			return -EBADMSG;
	}
	*ret = p.ret;
	return 0;
}
