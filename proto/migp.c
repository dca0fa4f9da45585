#include "proto/migp.h"
#include "proto/wire.h"

#include <errno.h>
#include <string.h>

static int put_str(uint8_t *p, const char *s, size_t n)
{
	size_t l = strnlen(s, n - 1);

	memset(p, 0, n);
	memcpy(p, s, l);
	return 0;
}

/* a fixed string field must hold its NUL */
static int get_str(const uint8_t *p, char *s, size_t n)
{
	if (!memchr(p, 0, n))
		return -EBADMSG;
	memcpy(s, p, n);
	return 0;
}

int migp_begin_encode(uint8_t *buf, size_t cap, const struct migp_begin *b)
{
	if (cap < MIGP_BEGIN_SIZE)
		return -ENOBUFS;
	wire_put_u16(buf, b->home_id);
	wire_put_u32(buf + 2, b->pid);
	wire_put_u32(buf + 6, b->uid);
	wire_put_u32(buf + 10, b->gid);
	wire_put_u64(buf + 14, b->image_len);
	put_str(buf + 22, b->comm, MIGP_COMM_LEN);
	buf[22 + MIGP_COMM_LEN] = b->stop_sig;
	wire_put_u64(buf + 23 + MIGP_COMM_LEN, b->cpu_us);
	return MIGP_BEGIN_SIZE;
}

int migp_begin_decode(const uint8_t *buf, size_t len, struct migp_begin *b)
{
	if (len != MIGP_BEGIN_SIZE)
		return -EBADMSG;
	b->home_id = wire_get_u16(buf);
	b->pid = wire_get_u32(buf + 2);
	b->uid = wire_get_u32(buf + 6);
	b->gid = wire_get_u32(buf + 10);
	b->image_len = wire_get_u64(buf + 14);
	if (!b->home_id || !b->pid || b->pid > 0x3fffffff)
		return -EBADMSG;
	if (get_str(buf + 22, b->comm, MIGP_COMM_LEN))
		return -EBADMSG;
	b->stop_sig = buf[22 + MIGP_COMM_LEN];
	b->cpu_us = wire_get_u64(buf + 23 + MIGP_COMM_LEN);
	if (b->stop_sig > 64)
		return -EBADMSG;
	return MIGP_BEGIN_SIZE;
}

int migp_ack_encode(uint8_t *buf, size_t cap, const struct migp_ack *a)
{
	if (cap < MIGP_ACK_SIZE)
		return -ENOBUFS;
	wire_put_u32(buf, (uint32_t)a->err);
	wire_put_u32(buf + 4, a->rpid);
	put_str(buf + 8, a->why, MIGP_WHY_LEN);
	return MIGP_ACK_SIZE;
}

int migp_ack_decode(const uint8_t *buf, size_t len, struct migp_ack *a)
{
	if (len != MIGP_ACK_SIZE)
		return -EBADMSG;
	a->err = (int32_t)wire_get_u32(buf);
	a->rpid = wire_get_u32(buf + 4);
	if (a->err > 0 || a->err < -4095 || get_str(buf + 8, a->why, MIGP_WHY_LEN))
		return -EBADMSG;
	return MIGP_ACK_SIZE;
}

int migp_exit_encode(uint8_t *buf, size_t cap, const struct migp_exit *e)
{
	if (cap < MIGP_EXIT_SIZE)
		return -ENOBUFS;
	buf[0] = e->kind;
	buf[1] = e->core;
	wire_put_u32(buf + 2, (uint32_t)e->code);
	wire_put_u64(buf + 6, e->cpu_us);
	return MIGP_EXIT_SIZE;
}

int migp_exit_decode(const uint8_t *buf, size_t len, struct migp_exit *e)
{
	if (len != MIGP_EXIT_SIZE)
		return -EBADMSG;
	e->kind = buf[0];
	e->core = buf[1];
	e->code = (int32_t)wire_get_u32(buf + 2);
	e->cpu_us = wire_get_u64(buf + 6);
	if (e->kind > MIGP_KILLED || e->core > 1)
		return -EBADMSG;
	if (e->kind == MIGP_KILLED ? (e->code < 1 || e->code > 64) : (e->code < 0 || e->code > 255))
		return -EBADMSG;
	return MIGP_EXIT_SIZE;
}

int migp_signal_encode(uint8_t *buf, size_t cap, uint32_t sig, const void *info)
{
	if (cap < MIGP_SIGNAL_SIZE)
		return -ENOBUFS;
	wire_put_u32(buf, sig);
	memcpy(buf + 4, info, MIGP_SIGINFO_LEN);
	return MIGP_SIGNAL_SIZE;
}

int migp_signal_decode(const uint8_t *buf, size_t len, uint32_t *sig, void *info)
{
	int32_t si_signo;

	if (len != MIGP_SIGNAL_SIZE)
		return -EBADMSG;
	*sig = wire_get_u32(buf);
	memcpy(info, buf + 4, MIGP_SIGINFO_LEN);
	memcpy(&si_signo, buf + 4, sizeof(si_signo));
	if (*sig < 1 || *sig > 64 || (uint32_t)si_signo != *sig)
		return -EBADMSG;
	return MIGP_SIGNAL_SIZE;
}
