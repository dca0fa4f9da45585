/* The home agent: run by the original process at home, it takes each
 * request of the direct link, runs it natively and answers. */
#include "agent/blob/sys.h"
#include "agent/afast.h"
#include "agent/agent.h"

#include <linux/errno.h>

struct agent_state agent_state __attribute__((section(".data.state"))) = {
	.magic = AGENT_MAGIC,
	.version = AGENT_VERSION,
	.fd = -1,
	.slow_fd = -1,
};

long agent_fwd_syscall(long nr, long a, long b, long c, long d, long e, long f,
	volatile uint32_t *sig);
/* The forwarded call. A tracer that stops the process between
 * agent_fwd_check and agent_fwd_insn (the syscall instruction) makes it
 * return -ERESTARTNOINTR unrun (agent_home_fixup()); one that wrote a
 * signal into the state before agent_fwd_check is seen here: the call
 * does not run either. */
__asm__(".pushsection .text\n"
	".globl agent_fwd_syscall\n"
	".hidden agent_fwd_syscall\n"
	"agent_fwd_syscall:\n"
	"\tmov %rdi, %rax\n"
	"\tmov %rsi, %rdi\n"
	"\tmov %rdx, %rsi\n"
	"\tmov %rcx, %rdx\n"
	"\tmov %r8, %r10\n"
	"\tmov %r9, %r8\n"
	"\tmov 8(%rsp), %r9\n"
	"\tmov 16(%rsp), %r11\n"
	".globl agent_fwd_check\n"
	".hidden agent_fwd_check\n"
	"agent_fwd_check:\n"
	"\tcmpl $0, (%r11)\n"
	"\tjne 1f\n"
	".globl agent_fwd_insn\n"
	".hidden agent_fwd_insn\n"
	"agent_fwd_insn:\n"
	"\tsyscall\n"
	"\tret\n"
	"1:\tmov $-513, %rax\n" /* -ERESTARTNOINTR */
	"\tret\n"
	".popsection\n");

static void die(struct agent_state *st, long err)
{
	st->last_err = err;
	st->phase = AGENT_DEAD;
	sys3(__NR_close, st->fd, 0, 0);
	st->fd = -1;
}

/* One request: 0, or -errno and the link is over. */
static int serve_one(struct agent_state *st)
{
	uint8_t *in = (uint8_t *)st->buf;
	uint8_t *out = in + st->buf_len / 2;
	uint8_t *hdr = in, *body = in + AFRAME_HDR_SIZE, tag[AFRAME_TAG_SIZE];
	struct acrypt_poly mac;
	struct afast_req req;
	struct afast_rep rep;
	struct blob_iov iov[1];
	uint32_t len, olen;
	uint16_t type;
	long args[6], ret;
	int err;

	st->phase = AGENT_IDLE;
	err = blob_read_full(st->fd, hdr, AFRAME_HDR_SIZE);
	if (err)
		return err;
	st->phase = AGENT_RECV;
	err = aframe_hdr_get(hdr, &len, &type);
	if (err)
		return err;
	if ((uint64_t)len + AFRAME_HDR_SIZE + AFRAME_TAG_SIZE > st->buf_len / 2)
		return -EMSGSIZE;
	err = blob_read_full(st->fd, body, len + AFRAME_TAG_SIZE);
	if (err)
		return err;
	/* authenticate before anything is parsed */
	aframe_mac_begin(&mac, &st->rx);
	acrypt_poly_update(&mac, in, AFRAME_HDR_SIZE + len);
	acrypt_poly_final(&mac, tag);
	if (!acrypt_eq16(tag, body + len))
		return -EACCES;
	st->rx.ctr++;
	if (type != AFAST_T_REQ || afast_req_get(&req, body, len))
		return -EBADMSG;
	/* relocation: the call's buffer into our scratch */
	for (int i = 0; i < 6; i++)
		args[i] = (long)req.args[i];
	if (req.kind == AFAST_IN)
		args[req.buf_arg] = (long)(body + AFAST_REQ_SIZE);
	else if (req.kind != AFAST_NONE)
		args[req.buf_arg] = (long)(out + AFRAME_HDR_SIZE + AFAST_REP_SIZE);
	st->seq = req.seq;
	st->phase = AGENT_RUN;
	__asm__ __volatile__("" ::: "memory");
	ret = agent_fwd_syscall((long)req.nr, args[0], args[1], args[2], args[3], args[4], args[5],
		&st->sig);
	st->phase = AGENT_REPLY;
	__asm__ __volatile__("" ::: "memory");
	/* from here on a tracer no longer writes sig: take it */
	afast_rep_make(&rep, &req, ret);
	rep.sig = st->sig;
	st->sig = 0;
	olen = AFAST_REP_SIZE + (rep.sig ? AFAST_SIGINFO_SIZE : 0) + rep.data_len;
	aframe_hdr_put(out, olen, AFAST_T_REP);
	afast_rep_put(out + AFRAME_HDR_SIZE, &rep);
	if (rep.sig) { /* the siginfo goes between the fixed part and the data */
		uint8_t *data = out + AFRAME_HDR_SIZE + AFAST_REP_SIZE;

		for (uint32_t i = rep.data_len; i-- > 0;)
			data[AFAST_SIGINFO_SIZE + i] = data[i];
		memcpy(data, (const void *)st->siginfo, AFAST_SIGINFO_SIZE);
	}
	aframe_mac_begin(&mac, &st->tx);
	acrypt_poly_update(&mac, out, AFRAME_HDR_SIZE + olen);
	acrypt_poly_final(&mac, out + AFRAME_HDR_SIZE + olen);
	st->tx.ctr++;
	iov[0].base = out;
	iov[0].len = AFRAME_HDR_SIZE + olen + AFRAME_TAG_SIZE;
	return blob_writev_full(st->fd, iov, 1);
}

struct k_pollfd {
	int fd;
	short events, revents;
};

#define K_POLLIN 0x001

/* One request of the deputy's slow path, hagent.h's protocol. 0, or
 * -ECONNRESET when the deputy is gone. */
static int serve_slow(struct agent_state *st)
{
	uint64_t msg[8];
	long r = sys6(__NR_recvfrom, st->slow_fd, (long)msg, sizeof(msg), 0, 0, 0);

	if (r == -EINTR || r == -EAGAIN)
		return 0;
	if (r != 56)
		return -ECONNRESET;
	st->phase = AGENT_RUN_SLOW;
	__asm__ __volatile__("" ::: "memory");
	msg[0] = (uint64_t)agent_fwd_syscall((long)msg[0], (long)msg[1], (long)msg[2],
		(long)msg[3], (long)msg[4], (long)msg[5], (long)msg[6], &st->sig);
	st->phase = AGENT_IDLE;
	sys6(__NR_sendto, st->slow_fd, (long)msg, 8, 0x4000 /* MSG_NOSIGNAL */, 0, 0);
	return 0;
}

/* Serve the link (and the deputy's slow path, when there is one) until
 * the link ends; returns why (-errno; -ECONNRESET: closed). */
long agent_home_main(void);
long agent_home_main(void)
{
	struct agent_state *st = &agent_state;
	int err = 0;

	if (st->magic != AGENT_MAGIC || st->fd < 0)
		return -EINVAL;
	while (!err) {
		if (st->slow_fd >= 0) {
			struct k_pollfd p[2] = { { st->fd, K_POLLIN, 0 }, { st->slow_fd, K_POLLIN, 0 } };
			long r = sys3(__NR_poll, p, 2, -1);

			if (r == -EINTR)
				continue;
			if (r < 0) {
				err = (int)r;
				break;
			}
			if (p[1].revents && serve_slow(st))
				st->slow_fd = -1; /* the deputy is gone: the link goes on */
			if (!p[0].revents)
				continue;
		}
		err = serve_one(st);
	}
	if (err == -EACCES || err == -EBADMSG)
		st->fails++;
	die(st, err);
	return err;
}
