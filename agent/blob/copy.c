/* The copy agent: the SIGSYS handler of a migrated copy. A call of the
 * fast set that the seccomp filter trapped goes home over the direct link
 * as one frame; the reply's data lands straight in the process's buffer
 * and its result in rax. */
#include "agent/blob/sys.h"
#include "agent/afast.h"
#include "agent/agent.h"

#include <asm/sigcontext.h>
#include <linux/errno.h>
#include <linux/signal.h>

extern struct agent_state agent_state;

/* the kernel's ucontext on x86_64, as far as we use it */
struct k_ucontext {
	unsigned long uc_flags;
	void *uc_link;
	struct {
		void *ss_sp;
		int ss_flags;
		size_t ss_size;
	} uc_stack;
	struct sigcontext uc_mcontext;
};

struct k_siginfo_sys {
	int si_signo, si_errno, si_code, pad0;
	void *call_addr;
	int syscall;
	unsigned int arch;
};

#define SYS_SECCOMP_CODE 1

static void fatal(struct agent_state *st, long err)
{
	st->last_err = err;
	st->phase = AGENT_DEAD;
	/* the call may have run at home: there is no right result to give,
	 * so the process ends as if killed */
	sys3(__NR_kill, sys3(__NR_getpid, 0, 0, 0), SIGKILL, 0);
	sys3(__NR_exit_group, 128 + SIGKILL, 0, 0);
}

static long fast_call(struct agent_state *st, long nr, const uint64_t args[6], uint32_t *sig,
	uint8_t siginfo[AFAST_SIGINFO_SIZE])
{
	uint8_t hdr[AFRAME_HDR_SIZE + AFAST_REQ_SIZE], tag[AFRAME_TAG_SIZE];
	uint8_t rhdr[AFRAME_HDR_SIZE + AFAST_REP_SIZE], rtag[AFRAME_TAG_SIZE];
	struct blob_iov iov[3];
	struct acrypt_poly mac;
	struct afast_req req;
	struct afast_rep rep;
	uint8_t *data = 0;
	uint32_t len, rlen, sigsz, dlen;
	uint16_t type;
	int n = 0, err;

	*sig = 0;
	if (afast_req_make(&req, (uint32_t)++st->seq, nr, args))
		return -ENOSYS;
	len = AFAST_REQ_SIZE + (req.kind == AFAST_IN ? req.buf_len : 0);
	if (req.kind != AFAST_NONE)
		data = (uint8_t *)req.args[req.buf_arg];
	aframe_hdr_put(hdr, len, AFAST_T_REQ);
	afast_req_put(hdr + AFRAME_HDR_SIZE, &req);
	aframe_mac_begin(&mac, &st->tx);
	acrypt_poly_update(&mac, hdr, sizeof(hdr));
	iov[n].base = hdr;
	iov[n++].len = sizeof(hdr);
	if (req.kind == AFAST_IN && req.buf_len) {
		acrypt_poly_update(&mac, data, req.buf_len);
		iov[n].base = data;
		iov[n++].len = req.buf_len;
	}
	acrypt_poly_final(&mac, tag);
	iov[n].base = tag;
	iov[n++].len = sizeof(tag);
	st->tx.ctr++;
	err = blob_writev_full(st->fd, iov, n);
	if (err)
		fatal(st, err);
	st->cphase = AGENT_C_WAIT;
	/* the reply: header and fixed part, siginfo, data into place, tag
	 * (nothing is used before the MAC is checked; sizes are bounded
	 * by the request first) */
	err = blob_read_full(st->fd, rhdr, sizeof(rhdr));
	if (!err)
		err = aframe_hdr_get(rhdr, &rlen, &type);
	sigsz = rhdr[AFRAME_HDR_SIZE + 4] | rhdr[AFRAME_HDR_SIZE + 5] | rhdr[AFRAME_HDR_SIZE + 6] |
			rhdr[AFRAME_HDR_SIZE + 7] ? AFAST_SIGINFO_SIZE : 0;
	if (!err && (type != AFAST_T_REP || rlen < AFAST_REP_SIZE + sigsz ||
			    rlen - AFAST_REP_SIZE - sigsz > (req.kind == AFAST_IN ? 0 : req.buf_len)))
		err = -EBADMSG;
	dlen = rlen - AFAST_REP_SIZE - sigsz;
	if (!err && sigsz)
		err = blob_read_full(st->fd, siginfo, sigsz);
	if (!err && dlen)
		err = blob_read_full(st->fd, data, dlen);
	if (!err)
		err = blob_read_full(st->fd, rtag, sizeof(rtag));
	if (err)
		fatal(st, err);
	aframe_mac_begin(&mac, &st->rx);
	acrypt_poly_update(&mac, rhdr, sizeof(rhdr));
	if (sigsz)
		acrypt_poly_update(&mac, siginfo, sigsz);
	if (dlen)
		acrypt_poly_update(&mac, data, dlen);
	acrypt_poly_final(&mac, tag);
	if (!acrypt_eq16(tag, rtag))
		fatal(st, -EACCES);
	st->rx.ctr++;
	if (afast_rep_get(&rep, rhdr + AFRAME_HDR_SIZE, &req) || rep.data_len != dlen)
		fatal(st, -EBADMSG);
	*sig = rep.sig;
	return (long)rep.ret;
}

long agent_slow_syscall(long nr, const uint64_t *args);
/* The slow path: the same call, from the one instruction of ours the
 * filter sends to the tracer (the remote forwards it as it forwards any
 * call; with no tracer the kernel fails it with ENOSYS). */
__asm__(".pushsection .text\n"
	".globl agent_slow_syscall\n"
	".hidden agent_slow_syscall\n"
	"agent_slow_syscall:\n"
	"\tmov %rdi, %rax\n"
	"\tmov %rsi, %r11\n"
	"\tmov 0(%r11), %rdi\n"
	"\tmov 8(%r11), %rsi\n"
	"\tmov 16(%r11), %rdx\n"
	"\tmov 24(%r11), %r10\n"
	"\tmov 32(%r11), %r8\n"
	"\tmov 40(%r11), %r9\n"
	".globl agent_slow_insn\n"
	".hidden agent_slow_insn\n"
	"agent_slow_insn:\n"
	"\tsyscall\n"
	"\tret\n"
	".popsection\n");

void agent_hold(void);
/* Held for the tracer on the way out of the handler (state->hold). */
__asm__(".pushsection .text\n"
	".globl agent_hold\n"
	".hidden agent_hold\n"
	"agent_hold:\n"
	"\tmov $39, %eax\n" /* getpid: harmless if it ever ran */
	".globl agent_hold_insn\n"
	".hidden agent_hold_insn\n"
	"agent_hold_insn:\n"
	"\tsyscall\n"
	"\tret\n"
	".popsection\n");

/* the kernel's struct sigaction (rt_sigaction) */
struct k_sigaction {
	unsigned long handler, flags, restorer, mask;
};

#define K_SA_RESTART 0x10000000ul
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* The call was interrupted at home by sig (ret a -ERESTART* code): what
 * the kernel would do here, where the process runs and its handlers are.
 * true: run it again (once sig's handler, raised next, has run). */
static int restarts(long ret, uint32_t sig)
{
	struct k_sigaction act;

	if (sys6(__NR_rt_sigaction, sig, 0, (long)&act, 8, 0, 0))
		return ret == -ERESTARTNOINTR;
	if (act.handler <= 1) /* SIG_DFL, SIG_IGN: no handler runs */
		return 1;
	return ret == -ERESTARTNOINTR || (ret == -ERESTARTSYS && (act.flags & K_SA_RESTART));
}

void agent_sigsys(int sig, void *si, void *uc);
void agent_sigsys(int sig, void *si, void *uc)
{
	struct agent_state *st = &agent_state;
	struct k_siginfo_sys *info = si;
	struct sigcontext *mc = &((struct k_ucontext *)uc)->uc_mcontext;
	uint64_t args[6] = { mc->rdi, mc->rsi, mc->rdx, mc->r10, mc->r8, mc->r9 };
	uint8_t hinfo[AFAST_SIGINFO_SIZE];
	uint32_t hsig = 0;
	long ret;

	if (info->si_code != SYS_SECCOMP_CODE)
		return; /* a SIGSYS someone sent: nothing to emulate */
	st->cnr = (uint32_t)info->syscall;
	st->cuc = (uint64_t)uc;
	st->cphase = AGENT_C_SEND;
	/* the tracer wants us out: this call is not sent, it runs again
	 * after the move */
	if (st->hold) {
		mc->rip -= 2;
		mc->rax = (uint64_t)info->syscall;
		goto out;
	}
	/* no link (or not ours: a forked child shares it but must not use
	 * it): the tracer forwards the call */
	if (st->phase == AGENT_DEAD || st->fd < 0 || sys3(__NR_getpid, 0, 0, 0) != st->pid) {
		st->cphase = AGENT_C_SLOW;
		ret = agent_slow_syscall(info->syscall, args);
	} else
		ret = fast_call(st, info->syscall, args, &hsig, hinfo);
	if (ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK) {
		/* without a signal: the home's tracer interrupted it to move */
		if (!hsig || restarts(ret, hsig)) {
			mc->rip -= 2; /* back onto the syscall instruction */
			ret = info->syscall;
		} else {
			ret = -EINTR;
		}
	}
	mc->rax = (uint64_t)ret;
	st->cphase = AGENT_C_DONE;
	if (hsig) /* pending until this handler returns: then it runs first */
		sys6(__NR_rt_tgsigqueueinfo, sys3(__NR_getpid, 0, 0, 0),
			sys3(__NR_gettid, 0, 0, 0), hsig, (long)hinfo, 0, 0);
out:
	if (st->hold) {
		st->cphase = AGENT_C_HOLD;
		agent_hold();
	}
	st->cphase = AGENT_C_OUT;
}

/* the end of the code: everything the filter lets through is before it */
__asm__(".pushsection .text.zend, \"ax\"\n"
	".globl agent_text_end\n"
	".hidden agent_text_end\n"
	"agent_text_end:\n"
	"\tret\n"
	".popsection\n");
