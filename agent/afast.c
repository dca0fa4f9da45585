#include "agent/afast.h"

#include <asm/unistd.h>
#include <linux/errno.h>

int afast_lookup(long nr, struct afast_spec *s)
{
	s->kind = AFAST_NONE;
	s->arg = AFAST_NO_BUF;
	s->len_arg = 0xff;
	s->fixed = 0;
	switch (nr) {
	case __NR_getppid:
	case __NR_getuid:
	case __NR_geteuid:
	case __NR_getgid:
	case __NR_getegid:
	case __NR_getpgrp:
	case __NR_lseek:
	case __NR_fsync:
	case __NR_fdatasync:
		return 0;
	case __NR_read:
	case __NR_pread64:
		s->kind = AFAST_OUT_RET;
		s->arg = 1;
		s->len_arg = 2;
		return 0;
	case __NR_write:
	case __NR_pwrite64:
		s->kind = AFAST_IN;
		s->arg = 1;
		s->len_arg = 2;
		return 0;
	case __NR_fstat:
		s->kind = AFAST_OUT_FULL;
		s->arg = 1;
		s->fixed = 144; /* struct stat, x86_64 */
		return 0;
	default:
		return -ENOSYS;
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int afast_req_make(struct afast_req *req, uint32_t seq, long nr, const uint64_t args[6])
{
	struct afast_spec s;

	if (afast_lookup(nr, &s))
		return -ENOSYS;
	req->seq = seq;
	req->nr = (uint32_t)nr;
	for (int i = 0; i < 6; i++)
		req->args[i] = args[i];
	req->buf_arg = s.arg;
	req->kind = s.kind;
	req->buf_len = 0;
	if (s.kind == AFAST_NONE)
		return 0;
	if (s.len_arg != 0xff) {
		if (req->args[s.len_arg] > AFAST_MAX_IO)
			req->args[s.len_arg] = AFAST_MAX_IO;
		req->buf_len = (uint32_t)req->args[s.len_arg];
	} else {
		req->buf_len = s.fixed;
	}
	return 0;
}

void afast_req_put(uint8_t o[AFAST_REQ_SIZE], const struct afast_req *req)
{
	put32(o, req->seq);
	put32(o + 4, req->nr);
	for (int i = 0; i < 6; i++)
		put64(o + 8 + 8 * i, req->args[i]);
	o[56] = req->buf_arg;
	o[57] = req->kind;
	o[58] = o[59] = 0;
	put32(o + 60, req->buf_len);
}

int afast_req_get(struct afast_req *req, const uint8_t *b, size_t len)
{
	struct afast_spec s;
	size_t want;

	if (len < AFAST_REQ_SIZE)
		return -EBADMSG;
	req->seq = get32(b);
	req->nr = get32(b + 4);
	for (int i = 0; i < 6; i++)
		req->args[i] = get64(b + 8 + 8 * i);
	req->buf_arg = b[56];
	req->kind = b[57];
	req->buf_len = get32(b + 60);
	if (b[58] || b[59] || afast_lookup(req->nr, &s))
		return -EBADMSG;
	if (req->kind != s.kind || req->buf_arg != s.arg)
		return -EBADMSG;
	if (s.kind == AFAST_NONE) {
		if (req->buf_len)
			return -EBADMSG;
	} else if (s.len_arg != 0xff) {
		if (req->buf_len > AFAST_MAX_IO || req->args[s.len_arg] != req->buf_len)
			return -EBADMSG;
	} else if (req->buf_len != s.fixed) {
		return -EBADMSG;
	}
	want = AFAST_REQ_SIZE + (s.kind == AFAST_IN ? req->buf_len : 0);
	return len == want ? 0 : -EBADMSG;
}

void afast_rep_make(struct afast_rep *rep, const struct afast_req *req, int64_t ret)
{
	rep->seq = req->seq;
	rep->sig = 0;
	rep->ret = ret;
	rep->data_len = 0;
	if (req->kind == AFAST_OUT_RET && ret > 0)
		rep->data_len = (uint64_t)ret < req->buf_len ? (uint32_t)ret : req->buf_len;
	else if (req->kind == AFAST_OUT_FULL && ret == 0)
		rep->data_len = req->buf_len;
}

void afast_rep_put(uint8_t o[AFAST_REP_SIZE], const struct afast_rep *rep)
{
	put32(o, rep->seq);
	put32(o + 4, rep->sig);
	put64(o + 8, (uint64_t)rep->ret);
	put32(o + 16, rep->data_len);
	put32(o + 20, 0);
}

int afast_rep_get(struct afast_rep *rep, const uint8_t b[AFAST_REP_SIZE], const struct afast_req *req)
{
	struct afast_rep want;

	rep->seq = get32(b);
	rep->sig = get32(b + 4);
	rep->ret = (int64_t)get64(b + 8);
	rep->data_len = get32(b + 16);
	if (get32(b + 20) || rep->seq != req->seq || rep->sig > 64)
		return -EBADMSG;
	/* a result the kernel could give: a count no larger than asked, or -errno */
	if (req->kind != AFAST_NONE && req->kind != AFAST_OUT_FULL && rep->ret > (int64_t)req->buf_len)
		return -EBADMSG;
	if (rep->ret < -4095)
		return -EBADMSG;
	afast_rep_make(&want, req, rep->ret);
	return rep->data_len == want.data_len ? 0 : -EBADMSG;
}
