/* remote: the target side of a migrated process (see mig.h).
 *
 * States: RECEIVE -> RESTORE -> (ACK) RUNNING -> DONE. The restored copy
 * runs freely for everything local (memory, its own signals, time,
 * futexes); its seccomp filter stops it at every other system call, which
 * goes home through the channel and comes back as a result.
 */
#include "mig/mig.h"
#include "mig/chan.h"
#include "mig/filter.h"
#include "mig/fork.h"
#include "mig/trace.h"
#include "mig/xfer.h"
#include "ckpt/image.h"
#include "ckpt/imgwire.h"
#include "ckpt/ptrace.h"
#include "lib/log.h"
#include "lib/util.h"
#include "load/probe.h"
#include "proto/link.h"
#include "proto/migp.h"
#include "rsys/rsys.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* a forwarded call and its reply travel in one frame each */
static_assert(RSYS_MAX_REQ <= STREAM_MAX_BODY, "rsys requests must fit a link frame");

struct remote {
	struct mig_chan *ch;
	pid_t home_pid;
	pid_t pid; /* the copy */
	bool exit_sent;
	bool go_home;          /* home asked for it back during a forwarded call */
	bool want_sent;        /* we asked home to take it back (expel) */
	bool stopped;          /* held in a job-control stop (LINK_STOPPED) until SIGCONT */
	bool held;             /* stopped before a call that must run at home (execve),
				* rewound onto it: waiting for GO_HOME */
	int sfd;               /* signalfd: SIGCHLD, and SIGUSR1 = expel */
	long restart_nr;       /* interrupted call to restart or fail at the next signal, or -1 */
	uint8_t *req;
	siginfo_t fwd[65];     /* per signal: the siginfo from home to deliver */
	bool fwd_set[65];
	void *io_buf;          /* while we make a call of our own at home (fmap) */
	size_t io_len;
};

static bool trace_run; /* the first run() of this process ends the trace */

static int ack(struct mig_chan *ch, int err, uint32_t rpid, const char *why)
{
	struct migp_ack a = { .err = err, .rpid = rpid };
	uint8_t buf[MIGP_ACK_SIZE];
	int n;

	snprintf(a.why, sizeof(a.why), "%s", why ? why : "");
	n = migp_ack_encode(buf, sizeof(buf), &a);
	return n < 0 ? n : mig_chan_send(ch, LINK_MIG_ACK, buf, (size_t)n);
}

/* Where a call we make ourselves (fmap_home_call) reads and writes: an
 * address range no process of ours uses (above the 47-bit user space),
 * redirected by mem_read/mem_write into a buffer of ours. */
#define IO_BASE 0x800000000000ULL

static bool io_local(const struct remote *r, uint64_t addr, size_t len)
{
	return len <= r->io_len && addr >= IO_BASE && addr - IO_BASE <= r->io_len - len;
}

static int mem_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
	struct remote *r = ctx;

	if (r->io_buf)
		return io_local(r, addr, len) ? (memcpy(dst, (uint8_t *)r->io_buf + (addr - IO_BASE),
							 len), 0) : -EFAULT;
	return ptr_read_mem(r->pid, addr, dst, len) ? -EFAULT : 0;
}

static int mem_write(void *ctx, uint64_t addr, const void *src, size_t len)
{
	struct remote *r = ctx;

	if (r->io_buf)
		return io_local(r, addr, len) ? (memcpy((uint8_t *)r->io_buf + (addr - IO_BASE), src,
							 len), 0) : -EFAULT;
	return ptr_write_mem(r->pid, addr, src, len) ? -EFAULT : 0;
}

/* CPU time (user + system) the copy has used here, in µs, from /proc (0
 * if it is gone): home keeps it, as its kernel cannot count it */
static uint64_t copy_cpu_us(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) ||
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2 ||
		hz <= 0)
		return 0;
	return (ut + st) * 1000000ULL / (unsigned long long)hz;
}

static int send_exit(struct remote *r, int kind, int code, bool core, uint64_t cpu_us)
{
	struct migp_exit e = { .kind = (uint8_t)kind, .code = code, .core = core,
		.cpu_us = cpu_us };
	uint8_t buf[MIGP_EXIT_SIZE];
	int n = migp_exit_encode(buf, sizeof(buf), &e);

	r->exit_sent = true;
	return n < 0 ? n : mig_chan_send(r->ch, LINK_EXIT, buf, (size_t)n);
}

/* the copy ended with wait status st (reaped with rusage ru): tell home how */
static int send_exit_status(struct remote *r, int st, const struct rusage *ru)
{
	uint64_t cpu = (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000ULL +
		(uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);

	return send_exit(r, WIFEXITED(st) ? MIGP_EXITED : MIGP_KILLED,
		WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), WIFSIGNALED(st) && WCOREDUMP(st),
		cpu);
}

/* a frame from home while the copy runs or waits: SIGNAL or KILL */
static int home_frame(struct remote *r, uint16_t type, const uint8_t *body, size_t len)
{
	uint32_t sig;
	siginfo_t si;

	switch (type) {
	case LINK_SIGNAL:
		if (migp_signal_decode(body, len, &sig, &si) < 0)
			return -EBADMSG;
		/* raise it here; at its delivery stop the home's siginfo replaces ours */
		r->fwd[sig] = si;
		r->fwd_set[sig] = true;
		if (syscall(SYS_tgkill, r->pid, r->pid, (int)sig) < 0)
			pr_debug("signal %u to %d: %s", sig, r->pid, strerror(errno));
		if (r->stopped && sig == SIGCONT) {
			/* the job goes on: at home it did already */
			r->stopped = false;
			if (ptrace(PTRACE_CONT, r->pid, NULL, NULL) < 0)
				return -ESRCH;
		}
		return 0;
	case LINK_KILL:
		return -ECANCELED;
	case LINK_GO_HOME:
		return -EXDEV; /* the run loop sends it home */
	default:
		return -EBADMSG;
	}
}

/* Forward one call; *ret gets the result for the process. */
/* Our node expels its guests (omd sent us SIGUSR1): ask home to take the
 * process back; home answers with GO_HOME when it can. */
static int want_home(struct remote *r)
{
	if (r->want_sent)
		return 0;
	r->want_sent = true;
	pr_info("guest %d (home pid %d): expelled, asking its home to take it back", r->pid,
		r->home_pid);
	return mig_chan_send(r->ch, LINK_WANT_HOME, NULL, 0);
}

/* drain the signalfd; 0 or the error of asking home */
static int read_signals(struct remote *r)
{
	struct signalfd_siginfo si;
	int err = 0;

	while (read(r->sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGUSR1 && !err)
			err = want_home(r);
	return err;
}

static int forward(struct remote *r, long nr, const uint64_t args[6], long *ret)
{
	size_t used = 0, cap;
	uint8_t *req = mig_chan_body(r->ch, &cap); /* built in place, no copy */
	int err = rsys_req_encode(nr, args, mem_read, r, req, cap, &used);

	if (err) {
		*ret = err; /* the call's own result: EFAULT, ENOTTY, ENOSYS... */
		return 0;
	}
	err = mig_chan_send_body(r->ch, LINK_SYSCALL, used);
	while (!err) {
		uint16_t type;
		const uint8_t *body;
		size_t blen;

		if (!mig_chan_pending(r->ch)) {
			/* the call may block at home for ever: an expel must get through */
			struct pollfd p[2] = { { .fd = r->ch->fd, .events = POLLIN },
				{ .fd = r->sfd, .events = POLLIN } };

			if (poll(p, 2, -1) < 0 && errno != EINTR)
				return -errno;
			if ((p[1].revents & POLLIN) && (err = read_signals(r)))
				break;
			if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
		}
		err = mig_chan_recv(r->ch, &type, &body, &blen, -1);
		if (err)
			break;
		if (type == LINK_SYSRET) {
			err = rsys_reply_apply(nr, args, body, blen, mem_write, mem_read, r, ret);
			if (err == -EFAULT) {
				*ret = -EFAULT;
				err = 0;
			}
			return err;
		}
		err = home_frame(r, type, body, blen);
		if (err == -EXDEV) {
			r->go_home = true; /* once this call is done */
			err = 0;
		}
	}
	return err;
}

/* Does the copy have a signal it will take (pending, not blocked)? */
static bool signal_deliverable(pid_t pid)
{
	char st[2048];
	unsigned long long pnd = 0, shd = 0, blk = 0;

	if (proc_read(pid, "status", st, sizeof(st)) <= 0)
		return false;
	proc_status_field(st, "SigPnd", 16, &pnd);
	proc_status_field(st, "ShdPnd", 16, &shd);
	proc_status_field(st, "SigBlk", 16, &blk);
	return ((pnd | shd) & ~blk) != 0;
}

/* A forwarded call came back interrupted (-ERESTART*): signals from home
 * are pending in the copy. Skip it with that code now; at the stop that
 * delivers the first signal, restore its number as the kernel's own
 * restart logic wants it (ERESTARTSYS restarts under SA_RESTART, fails
 * with EINTR otherwise, restarts if no handler runs...). If no signal can
 * be delivered (blocked there), it is restarted at once, as a blocked
 * signal interrupts nothing. */
static void interrupted(struct remote *r, struct user_regs_struct *regs, long nr, long *ret)
{
	/* the home's restart block is not the copy's: restart it whole */
	if (*ret == -MIG_ERESTART_RESTARTBLOCK)
		*ret = -MIG_ERESTARTNOHAND;
	if (signal_deliverable(r->pid)) {
		r->restart_nr = nr;
		return;
	}
	regs->rip -= 2; /* back onto the syscall instruction */
	*ret = nr;
}

/* At a signal-delivery stop: give a skipped, interrupted call its number
 * back, so that the kernel restarts it or fails it with EINTR. */
static void restart_at_signal(struct remote *r)
{
	struct user_regs_struct regs;

	if (r->restart_nr < 0)
		return;
	if (ptr_getregs(r->pid, &regs) == 0) {
		regs.orig_rax = (unsigned long long)r->restart_nr;
		if (ptr_setregs(r->pid, &regs))
			pr_debug("guest %d: cannot restart its call", r->pid);
	}
	r->restart_nr = -1;
}

/* execve: the new program must start at home, so that its arguments,
 * environment, FD_CLOEXEC and signal resets are the home kernel's own. The
 * copy stays stopped, rewound onto the call; we ask home to take it back
 * and, once it has, the call runs again there (send_home). */
static int hold_for_home(struct remote *r, struct user_regs_struct *regs)
{
	regs->rax = regs->orig_rax;
	regs->rip -= 2;
	regs->orig_rax = (unsigned long long)-1;
	if (ptr_setregs(r->pid, regs))
		return -ESRCH;
	r->held = true;
	pr_debug("guest %d (home pid %d): execve: going home to run it", r->pid, r->home_pid);
	r->want_sent = false; /* ask even if an expel asked before */
	return want_home(r) ? -EIO : 1;
}

/* Reap the local children forks made (CLONE_PARENT made them ours, and
 * their own forks' children too) once their own servers are done with
 * them; the copy itself is left to the run loop. */
static void reap_kids(struct remote *r)
{
	for (;;) {
		siginfo_t si = { 0 };

		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 ||
			si.si_pid <= 0 || si.si_pid == r->pid)
			return;
		waitpid(si.si_pid, NULL, __WALL | WNOHANG);
	}
}

/* Run clone(flags) in the copy, stopped at its fork's seccomp stop: the
 * child (traced by us, stopped) is made a child of ours. *child gets its
 * pid, or the call's -errno; *regs the copy's registers after the call. */
static int local_clone(struct remote *r, struct user_regs_struct *regs, uint64_t flags,
	uint64_t stack, pid_t *child)
{
	struct user_regs_struct c = *regs;
	unsigned long msg = 0;
	int st, err;

	c.orig_rax = SYS_clone;
	c.rdi = flags;
	c.rsi = stack;
	c.rdx = 0;
	c.r10 = flags & CLONE_CHILD_CLEARTID ? c.r10 : 0;
	if (ptr_setregs(r->pid, &c) ||
		ptrace(PTRACE_SETOPTIONS, r->pid, NULL,
			(void *)(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK |
				PTRACE_O_TRACESYSGOOD)) < 0 ||
		ptrace(PTRACE_SYSCALL, r->pid, NULL, NULL) < 0)
		return -ESRCH;
	for (;;) {
		if (waitpid(r->pid, &st, __WALL) != r->pid || !WIFSTOPPED(st))
			return -ESRCH;
		if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_FORK << 8))) {
			ptrace(PTRACE_GETEVENTMSG, r->pid, NULL, &msg);
		} else if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			break; /* the call's exit */
		} else if ((st >> 16) == 0) {
			/* a signal before the exit stop: deliver it later */
			int sig = WSTOPSIG(st);

			if (sig != SIGTRAP)
				syscall(SYS_tgkill, r->pid, r->pid, sig);
		}
		if (ptrace(PTRACE_SYSCALL, r->pid, NULL, NULL) < 0)
			return -ESRCH;
	}
	err = ptr_getregs(r->pid, regs);
	if (!err)
		err = ptrace(PTRACE_SETOPTIONS, r->pid, NULL,
			(void *)(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)) < 0 ? -ESRCH : 0;
	if (err)
		return err;
	*child = (long)regs->rax < 0 ? (pid_t)(long)regs->rax : (pid_t)msg;
	if (*child > 0 && ptr_wait_stop(*child, &st))
		*child = -EAGAIN;
	return 0;
}

/* Has the process a tracer (its own server, for a forked child)? */
static bool traced(pid_t pid)
{
	char path[64], buf[2048], *t;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return read_file(path, buf, sizeof(buf)) > 0 && (t = strstr(buf, "TracerPid:")) &&
		atoi(t + 10) != 0;
}

/* A vfork's parent resumes once its child has left this node (gone home
 * to exec, or ended): our child (CLONE_PARENT), so its exit shows here
 * once its own server has collected it. Meanwhile signals from home wait
 * in the parent, as they do natively; KILL ends the wait. */
static int vfork_wait(struct remote *r, pid_t child)
{
	uint64_t t0 = now_us();

	for (;;) {
		siginfo_t si = { 0 };
		struct pollfd p[2] = { { .fd = r->ch->fd, .events = POLLIN },
			{ .fd = r->sfd, .events = POLLIN } };
		int err, k;

		if (waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 ||
			si.si_pid == child)
			return 0; /* gone (reap_kids reaps it) */
		/* its server never came (its home side failed): wait no more */
		if (now_us() - t0 > 10000000 && !traced(child))
			return 0;
		k = mig_chan_pending(r->ch) ? 1 : poll(p, 2, 1000);
		if (k < 0 && errno != EINTR)
			return -errno;
		if (k <= 0)
			continue;
		if ((p[1].revents & POLLIN) && (err = read_signals(r)))
			return err;
		if (mig_chan_pending(r->ch) || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			uint16_t type;
			const uint8_t *body;
			size_t blen;

			err = mig_chan_recv(r->ch, &type, &body, &blen, 30000);
			if (!err)
				err = home_frame(r, type, body, blen);
			if (err == -EXDEV) {
				r->go_home = true; /* once the child has gone */
				err = 0;
			}
			if (err)
				return err;
		}
	}
}

/* fork, vfork, clone-as-fork (mig/fork.c): the child is made here and at
 * home; *ret is what the parent's call returns (the home child's pid). */
static int remote_fork(struct remote *r, const struct user_regs_struct *at, long nr,
	const uint64_t a[6], long *ret)
{
	struct user_regs_struct after = *at;
	uint8_t buf[MIG_FORK_REQ_SIZE];
	uint64_t flags;
	uint32_t exit_sig;
	pid_t child;
	int32_t res = -EIO;
	int err;

	*ret = mig_fork_flags(nr, a, &flags, &exit_sig);
	if (*ret)
		return 0;
	err = local_clone(r, &after, flags, nr == SYS_clone ? a[1] : 0, &child);
	if (err)
		return err;
	if (child < 0) {
		*ret = child;
		return 0;
	}
	int n = mig_fork_req_encode(buf, sizeof(buf), (uint32_t)child, exit_sig);

	err = n < 0 ? n : mig_chan_send(r->ch, LINK_FORK, buf, (size_t)n);
	while (!err) {
		uint16_t type;
		const uint8_t *body;
		size_t blen;

		err = mig_chan_recv(r->ch, &type, &body, &blen, -1);
		if (err)
			break;
		if (type == LINK_FORKED) {
			if (mig_forked_decode(body, blen, &res) < 0)
				err = -EBADMSG;
			break;
		}
		err = home_frame(r, type, body, blen);
		if (err == -EXDEV) {
			r->go_home = true; /* once this call is done */
			err = 0;
		}
	}
	if (err || res <= 0) {
		/* no child at home: ours goes, unseen */
		kill(child, SIGKILL);
		waitpid(child, NULL, __WALL);
		*ret = err ? -EAGAIN : res;
		return err;
	}
	/* the child's registers are the parent's but for the result (and its
	 * stack): a system call changes no other register, and ours changed
	 * the argument registers to make the clone */
	struct user_regs_struct cr;
	uint32_t tid = (uint32_t)res;

	if (ptr_getregs(child, &cr) == 0) {
		unsigned long long fs = cr.fs_base, gs = cr.gs_base;

		cr = *at;
		cr.rax = 0;
		cr.orig_rax = (unsigned long long)-1;
		if (nr == SYS_clone && a[1])
			cr.rsp = a[1];
		cr.fs_base = fs;
		cr.gs_base = gs;
		if (ptr_setregs(child, &cr))
			pr_debug("guest %d: cannot set its child's registers", r->pid);
	}
	/* the tids the parent and the child expect: the home child's pid */

	if (nr == SYS_clone && (a[0] & CLONE_PARENT_SETTID) &&
		ptr_write_mem(r->pid, a[2], &tid, sizeof(tid)))
		pr_debug("guest %d: cannot write the parent's tid", r->pid);
	if (nr == SYS_clone && (a[0] & CLONE_CHILD_SETTID) &&
		ptr_write_mem(child, a[3], &tid, sizeof(tid)))
		pr_debug("guest %d: cannot write the child's tid", r->pid);
	/* the child waits, stopped, for its own server (mig_remote_fork_main) */
	if (syscall(SYS_tgkill, child, child, SIGSTOP) < 0 ||
		ptrace(PTRACE_DETACH, child, NULL, NULL) < 0)
		pr_warn("guest %d: cannot let its child %d go", r->pid, (int)child);
	pr_debug("guest %d (home pid %d) forked: %d here, %d at home", r->pid, r->home_pid,
		(int)child, (int)res);
	*ret = res;
	if (nr == SYS_vfork || (nr == SYS_clone && (a[0] & CLONE_VFORK)))
		return vfork_wait(r, child);
	return 0;
}

/* ------------------------------------------- file mappings after a move --- */

/* A call of our own at home, on the process's behalf (its descriptors):
 * pointers at IO_BASE + off mean buf + off. *ret: the call's result. */
static int fmap_home_call(struct remote *r, long nr, const uint64_t a[6], void *buf,
	size_t len, long *ret)
{
	int err;

	r->io_buf = buf;
	r->io_len = len;
	err = forward(r, nr, a, ret);
	r->io_buf = NULL;
	r->io_len = 0;
	return err;
}

/* Run system call nr(a) in the copy, stopped at the seccomp stop of the
 * call it asked for (which this one replaces) or, with again, at the exit
 * stop of one we ran before (it is rewound onto its syscall instruction).
 * *regs: the registers at its exit stop; *ret its result. Signals that
 * stop it meanwhile are kept in sigs (raised again once we are done). */
static int copy_syscall(struct remote *r, struct user_regs_struct *regs, bool again, long nr,
	const uint64_t a[6], long *ret, uint64_t *sigs)
{
	struct user_regs_struct c = *regs;
	int st, exits = again ? 2 : 1; /* rewound: its entry stop, then its exit stop */

	if (again) {
		c.rip -= 2;
		c.rax = (unsigned long long)nr;
	}
	c.orig_rax = (unsigned long long)nr;
	c.rdi = a[0];
	c.rsi = a[1];
	c.rdx = a[2];
	c.r10 = a[3];
	c.r8 = a[4];
	c.r9 = a[5];
	if (ptr_setregs(r->pid, &c) ||
		ptrace(PTRACE_SETOPTIONS, r->pid, NULL,
			(void *)(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL |
				PTRACE_O_TRACESYSGOOD)) < 0 ||
		ptrace(PTRACE_SYSCALL, r->pid, NULL, NULL) < 0)
		return -ESRCH;
	while (exits) {
		if (waitpid(r->pid, &st, __WALL) != r->pid || !WIFSTOPPED(st))
			return -ESRCH;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			exits--;
		else if ((st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP && WSTOPSIG(st) <= 64)
			*sigs |= 1ULL << (WSTOPSIG(st) - 1); /* delivered later */
		if (exits && ptrace(PTRACE_SYSCALL, r->pid, NULL, NULL) < 0)
			return -ESRCH;
	}
	if (ptr_getregs(r->pid, regs) ||
		ptrace(PTRACE_SETOPTIONS, r->pid, NULL,
			(void *)(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)) < 0)
		return -ESRCH;
	*ret = (long)regs->rax;
	return 0;
}

/* mmap of a descriptor (it lives at home): the mapping is built here from
 * the file's contents, read at home by preads of ours, as a private
 * anonymous mapping with the same address, length and protection. A
 * read-only MAP_SHARED mapping is taken as a private one (it does not see
 * later changes of the file); a writable one cannot be kept coherent with
 * the home's file: -ENODEV. At the seccomp stop of the call; 1 when the
 * call was made here (regs hold its exit: the result is in place), 0 with
 * *ret the call's result (an error, or -ERESTART*: nothing was done yet). */
static int fmap(struct remote *r, struct user_regs_struct *regs, const uint64_t a[6], long *ret)
{
	uint64_t addr = a[0], len = a[1], prot = a[2], flags = a[3], off = a[5], sigs = 0;
	uint64_t plen = (len + CKPT_PAGE_SIZE - 1) & ~(CKPT_PAGE_SIZE - 1), got = 0, want;
	uint64_t type = flags & MAP_TYPE, fd = (uint64_t)(int)a[4];
	struct user_regs_struct at = *regs;
	struct stat st;
	uint8_t *buf = MAP_FAILED;
	long res = 0;
	int err;

	if (!len || !plen || (off & (CKPT_PAGE_SIZE - 1)) || off + plen < off)
		return *ret = -EINVAL, 0;
	if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return *ret = -EINVAL, 0;
	if (type != MAP_PRIVATE && (prot & PROT_WRITE))
		return *ret = -ENODEV, 0; /* not coherent with the home's file */
	/* the descriptor, as the kernel would check it */
	err = fmap_home_call(r, SYS_fcntl, (uint64_t[6]){ fd, F_GETFL }, NULL, 0, &res);
	if (err || res < 0)
		return *ret = res, err;
	if (res & O_PATH)
		return *ret = -EBADF, 0;
	if ((res & O_ACCMODE) == O_WRONLY)
		return *ret = -EACCES, 0;
	err = fmap_home_call(r, SYS_fstat, (uint64_t[6]){ fd, IO_BASE }, &st, sizeof(st), &res);
	if (err || res < 0)
		return *ret = res, err;
	if (!S_ISREG(st.st_mode))
		return *ret = -ENODEV, 0; /* devices, pipes, sockets: not here */
	/* the contents: the file's bytes in range; the rest of the last page,
	 * and pages past the end of the file, stay zero */
	want = (uint64_t)st.st_size > off ? MIN(len, (uint64_t)st.st_size - off) : 0;
	if (want) {
		buf = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			return *ret = -ENOMEM, 0;
	}
	while (got < want) {
		size_t n = (size_t)MIN(want - got, rsys_max_io());

		err = fmap_home_call(r, SYS_pread64,
			(uint64_t[6]){ fd, IO_BASE, n, off + got }, buf + got, n, &res);
		if (err || res < 0) {
			*ret = res;
			goto out;
		}
		if (res == 0)
			break; /* the file shrank meanwhile */
		got += (uint64_t)res;
	}
	/* the mapping, writable for the contents, then its own protection */
	err = copy_syscall(r, regs, false, SYS_mmap,
		(uint64_t[6]){ addr, plen, PROT_READ | PROT_WRITE,
			(flags & ~(uint64_t)(MAP_TYPE | MAP_SYNC)) | MAP_PRIVATE | MAP_ANONYMOUS,
			(uint64_t)-1, 0 }, &res, &sigs);
	if (err)
		goto out;
	addr = (uint64_t)res;
	if (res >= 0 && got && ptr_write_mem(r->pid, addr, buf, got))
		res = -EFAULT;
	if (res >= 0 && prot != (PROT_READ | PROT_WRITE)) {
		long pr;

		err = copy_syscall(r, regs, true, SYS_mprotect, (uint64_t[6]){ addr, plen, prot },
			&pr, &sigs);
		if (!err && pr < 0)
			res = pr;
	}
	if (!err) {
		/* the call returns; the registers are the caller's but rax */
		struct user_regs_struct fin = at;

		fin.rax = (unsigned long long)res;
		fin.orig_rax = (unsigned long long)SYS_mmap;
		err = ptr_setregs(r->pid, &fin) ? -ESRCH : 1;
	}
	for (int s = 1; s <= 64; s++)
		if (sigs >> (s - 1) & 1)
			syscall(SYS_tgkill, r->pid, r->pid, s);
out:
	if (buf != MAP_FAILED)
		munmap(buf, want);
	return err;
}

/* A seccomp stop: the call was not local. 1: the copy stays stopped. */
static int on_syscall(struct remote *r)
{
	struct user_regs_struct regs;
	uint64_t a[6];
	long nr, ret = -ENOSYS;
	int err = ptr_getregs(r->pid, &regs);

	if (err)
		return err;
	nr = (long)regs.orig_rax;
	a[0] = regs.rdi;
	a[1] = regs.rsi;
	a[2] = regs.rdx;
	a[3] = regs.r10;
	a[4] = regs.r8;
	a[5] = regs.r9;

	switch (rsys_classify(nr)) {
	case RSYS_FORWARD:
		err = forward(r, nr, a, &ret);
		if (err)
			return err;
		if (MIG_IS_RESTART(ret))
			interrupted(r, &regs, nr, &ret);
		break;
	case RSYS_SPECIAL:
		switch (nr) {
		case SYS_getpid:
		case SYS_gettid:
			ret = r->home_pid; /* the process keeps its home identity */
			break;
		case SYS_kill:
		case SYS_tkill:
		case SYS_tgkill:
			/* to itself: deliver here, by our pid */
			if ((pid_t)a[0] == r->home_pid || ((nr == SYS_kill) && (pid_t)a[0] == r->pid)) {
				regs.rdi = (unsigned long long)r->pid;
				if (nr == SYS_tgkill)
					regs.rsi = (unsigned long long)r->pid;
				if (ptr_setregs(r->pid, &regs))
					return -ESRCH;
				return 0; /* runs here */
			}
			/* to other processes, groups (kill(0), kill(-PGID)), all:
			 * sent from home, where the process's group and
			 * credentials are genuine (it gets its own share there) */
			err = forward(r, nr, a, &ret);
			if (err)
				return err;
			if (MIG_IS_RESTART(ret))
				interrupted(r, &regs, nr, &ret);
			break;
		case SYS_exit:
		case SYS_exit_group:
			err = send_exit(r, MIGP_EXITED, (int)(a[0] & 0xff), false,
				copy_cpu_us(r->pid));
			return err; /* let it exit here too */
		case SYS_execve:
		case SYS_execveat:
			return hold_for_home(r, &regs);
		case SYS_fork:
		case SYS_vfork:
		case SYS_clone:
		case SYS_clone3:
			err = remote_fork(r, &regs, nr, a, &ret);
			if (err)
				return err;
			if (MIG_IS_RESTART(ret))
				interrupted(r, &regs, nr, &ret);
			break;
		case SYS_mmap:
			if (a[3] & MAP_ANONYMOUS)
				return 0; /* anonymous memory is local */
			err = fmap(r, &regs, a, &ret);
			if (err)
				return err == 1 ? 0 : err; /* 1: made here, its result in place */
			if (MIG_IS_RESTART(ret))
				interrupted(r, &regs, nr, &ret);
			break;
		case SYS_setitimer:
		case SYS_getitimer:
			if (a[0] != ITIMER_REAL)
				return 0; /* CPU-time timers count where it runs */
			/* fall through */
		case SYS_alarm:
		case SYS_timer_create:
		case SYS_timer_settime:
		case SYS_timer_gettime:
		case SYS_timer_getoverrun:
		case SYS_timer_delete:
			/* real-time timers live in the home process, which
			 * keeps them across every move; they fire there and
			 * their signals come here like any other */
			err = forward(r, nr, a, &ret);
			if (err)
				return err;
			if (MIG_IS_RESTART(ret))
				interrupted(r, &regs, nr, &ret);
			break;
		case SYS_prctl:
			return 0;
		default:
			ret = -ENOSYS; /* fork, exec, ptrace...: later work */
			break;
		}
		break;
	default:
		ret = -ENOSYS;
		break;
	}
	regs.orig_rax = (unsigned long long)-1; /* skip it: the result is ours */
	regs.rax = (unsigned long long)ret;
	return ptr_setregs(r->pid, &regs);
}

/* Send the copy home: stop it where it is, dump it, ship the image, and
 * once home has rebuilt it, end the copy. */
static int send_home(struct remote *r)
{
	struct ckpt_image *img = NULL;
	struct ckpt_why why = { 0 };
	struct migp_begin b = { 0 };
	struct migp_ack a;
	uint8_t buf[MIGP_BEGIN_SIZE];
	const uint8_t *body;
	size_t blen;
	uint16_t type;
	int st, err, n;

	/* held (execve) or in a job-control stop: it is stopped already, in
	 * a ptrace stop it can be dumped in, and a stopped job stays stopped
	 * at home (the home process is in its group stop: see go_home) */
	if (!r->held && !r->stopped && syscall(SYS_tgkill, r->pid, r->pid, SIGSTOP) < 0)
		return -ESRCH;
	for (; !r->held && !r->stopped;) {
		struct rusage ru = { 0 };

		if (wait4(r->pid, &st, __WALL, &ru) != r->pid)
			return -ESRCH;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			send_exit_status(r, st, &ru);
			return 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
			/* in a call that goes home: stop before it, so it runs
			 * again at home once the process is back */
			struct user_regs_struct regs;

			if (ptr_getregs(r->pid, &regs))
				return -ESRCH;
			regs.rax = regs.orig_rax;
			regs.rip -= 2;
			regs.orig_rax = (unsigned long long)-1;
			if (ptr_setregs(r->pid, &regs))
				return -ESRCH;
			/* our SIGSTOP is still pending: let it stop the copy
			 * at the syscall instruction (the call skipped), or
			 * the dump's first injected call would meet it */
			r->restart_nr = -1;
			if (ptrace(PTRACE_CONT, r->pid, NULL, NULL) < 0)
				return -ESRCH;
			continue;
		}
		if (WSTOPSIG(st) == SIGSTOP) {
			/* ours: stopped where it ran, or right after a skipped,
			 * interrupted call: that one runs again at home */
			if (r->restart_nr >= 0) {
				struct user_regs_struct regs;

				if (ptr_getregs(r->pid, &regs))
					return -ESRCH;
				regs.rax = (unsigned long long)r->restart_nr;
				regs.rip -= 2;
				r->restart_nr = -1;
				if (ptr_setregs(r->pid, &regs))
					return -ESRCH;
			}
			break;
		}
		/* another signal on the way: deliver it, wait on */
		restart_at_signal(r);
		if (ptrace(PTRACE_CONT, r->pid, NULL, (void *)(long)WSTOPSIG(st)) < 0)
			return -ESRCH;
	}
	err = ckpt_dump_layout(r->pid, &img, &why);
	if (err) {
		pr_err("guest %d: cannot dump it to send it home: %s %s (%s)", r->pid, why.words,
			why.detail, strerror(-err));
		return err;
	}
	b.home_id = 1; /* unused on the way home */
	b.pid = (uint32_t)r->home_pid;
	b.image_len = ckpt_image_encoded_size(img);
	b.cpu_us = copy_cpu_us(r->pid);
	snprintf(b.comm, sizeof(b.comm), "%s", img->comm);
	n = migp_begin_encode(buf, sizeof(buf), &b);
	err = n < 0 ? n : mig_chan_send(r->ch, LINK_MIG_BEGIN, buf, (size_t)n);
	if (!err)
		err = mig_xfer_send(r->ch, r->pid, img);
	ckpt_image_free(img);
	if (!err)
		err = mig_chan_recv(r->ch, &type, &body, &blen, 60000);
	if (!err && (type != LINK_MIG_ACK || migp_ack_decode(body, blen, &a) < 0))
		err = -EBADMSG;
	if (err)
		pr_err("guest %d: sending it home failed: %s", r->pid, strerror(-err));
	else if (a.err)
		pr_err("guest %d: home could not take it back: %s", r->pid, a.why);
	/* either way the copy ends: at home it runs now, or it is lost */
	r->exit_sent = true;
	kill(r->pid, SIGKILL);
	while (waitpid(r->pid, NULL, __WALL) > 0)
		;
	if (!err)
		pr_info("guest %d (home pid %d) went home", r->pid, r->home_pid);
	return err ? err : -ECANCELED;
}

static int run(struct remote *r)
{
	int sfd = r->sfd, err = 0;

	/* a stopped job's copy starts held in its stop, until SIGCONT */
	if (!r->stopped && ptrace(PTRACE_CONT, r->pid, NULL, NULL) < 0)
		return -errno;
	if (trace_run) {
		mig_trace("running");
		mig_trace_log("remote", r->pid);
		trace_run = false;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = r->ch->fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN } };
		struct signalfd_siginfo si;
		struct rusage ru = { 0 };
		int st;
		pid_t w;

		if (!mig_chan_pending(r->ch) && poll(p, 2, -1) < 0 && errno != EINTR)
			return -errno;
		(void)si;
		if ((err = read_signals(r)))
			goto out;
		reap_kids(r);
		while ((w = wait4(r->pid, &st, __WALL | WNOHANG, &ru)) == r->pid) {
			int sig = 0;

			if (WIFEXITED(st) || WIFSIGNALED(st)) {
				if (!r->exit_sent)
					send_exit_status(r, st, &ru);
				return 0;
			}
			if (!WIFSTOPPED(st))
				continue;
			if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
				r->restart_nr = -1;
				err = on_syscall(r);
				if (err == 1)
					break; /* held: it stays stopped until it goes home */
				if (err)
					goto out;
			} else {
				siginfo_t got;

				sig = WSTOPSIG(st); /* a signal for the copy: deliver it */
				if ((st >> 16) == 0)
					restart_at_signal(r);
				if ((st >> 16) == 0 && mig_stops_by_default(r->pid, sig)) {
					/* a job-control stop: the copy waits here,
					 * the home process stops for its shell */
					uint8_t b[MIG_FORKED_SIZE];
					int k = mig_stopped_encode(b, sizeof(b), sig);

					r->fwd_set[sig] = false;
					r->stopped = true;
					err = k < 0 ? k : mig_chan_send(r->ch, LINK_STOPPED, b,
						(size_t)k);
					if (err)
						goto out;
					continue;
				}
				/* ours (forwarded from home)? then with the home's siginfo */
				if (sig > 0 && sig <= 64 && r->fwd_set[sig] &&
					ptrace(PTRACE_GETSIGINFO, r->pid, NULL, &got) == 0 &&
					got.si_code == SI_TKILL && got.si_pid == getpid()) {
					r->fwd_set[sig] = false;
					if (ptrace(PTRACE_SETSIGINFO, r->pid, NULL, &r->fwd[sig]) < 0)
						pr_debug("siginfo of %d lost", sig);
				}
			}
			if (ptrace(PTRACE_CONT, r->pid, NULL, (void *)(long)sig) < 0)
				goto out;
		}
		if (r->go_home) {
			/* asked for while a call was away: now it can go */
			err = send_home(r);
			if (err == -ECANCELED || err == 0)
				return 0;
			goto out;
		}
		/* look again: a forwarded call above may have read what woke us */
		struct pollfd now = { .fd = r->ch->fd, .events = POLLIN };

		if (mig_chan_pending(r->ch) ||
			(poll(&now, 1, 0) > 0 && (now.revents & (POLLIN | POLLHUP | POLLERR)))) {
			uint16_t type;
			const uint8_t *body;
			size_t blen;

			err = mig_chan_recv(r->ch, &type, &body, &blen, 30000);
			if (!err)
				err = home_frame(r, type, body, blen);
			if (err == -EXDEV) {
				err = send_home(r);
				if (err == -ECANCELED || err == 0)
					return 0;
			}
			if (err)
				goto out;
		}
	}
out:
	/* home is gone (or told us to stop): nothing may be left behind */
	pr_info("guest %d (home pid %d): %s: killing it", r->pid, r->home_pid,
		err == -ECANCELED ? "its home process ended" : "lost its home");
	kill(r->pid, SIGKILL);
	while (waitpid(r->pid, NULL, __WALL) > 0)
		;
	return err == -ECANCELED ? 0 : err;
}

/* A child forked by a guest here (mig/fork.c): its server seizes it and
 * serves it like any copy; b->pid is the home child, b->image_len the
 * local child's pid. */
int mig_remote_fork_main(const struct mig_remote_args *a, struct mig_chan *ch,
	const struct migp_begin *b)
{
	struct remote r = { .ch = ch, .home_pid = (pid_t)b->pid, .restart_nr = -1 };
	pid_t child = (pid_t)b->image_len;
	char why[128];
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	r.req = malloc(RSYS_MAX_REQ);
	if (r.sfd < 0 || !r.req) {
		free(r.req);
		return 1;
	}
	err = mig_fork_seize_child(child, 5000);
	if (!err && ptrace(PTRACE_SETOPTIONS, child, NULL,
			    (void *)(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)) < 0)
		err = -errno;
	if (err) {
		snprintf(why, sizeof(why), "node %u cannot take the forked child %d: %s",
			a->self_id, (int)child, strerror(-err));
		pr_err("%s", why);
		kill(child, SIGKILL);
		ack(ch, err, 0, why);
		free(r.req);
		return 1;
	}
	r.pid = child;
	if (ack(ch, 0, (uint32_t)child, NULL)) {
		kill(child, SIGKILL);
		free(r.req);
		return 1;
	}
	pr_info("guest %d: %s, forked (pid %u at node %u, uid %u)", child, b->comm, b->pid,
		b->home_id, b->uid);
	err = run(&r);
	free(r.req);
	return err ? 1 : 0;
}

/* What a remote prepares before it knows the process: its signalfd, the
 * forwarding filter, the stub (forked, in the node's cgroup, emptied). */
struct remote_prep {
	int sfd;
	struct ckpt_restore_opts opts;
	struct ckpt_restorer *rs;
	struct sock_filter insns[128];
	const char *why; /* when it failed */
};

static int remote_prepare(const struct mig_remote_args *a, struct remote_prep *pp)
{
	sigset_t set;
	int err, nf, devnull;

	memset(pp, 0, sizeof(*pp));
	/* SIGCHLD (the copy) and SIGUSR1 (expel) come through a signalfd */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pp->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (pp->sfd < 0)
		return pp->why = "no signalfd", -errno;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ckpt_restore_opts_init(&pp->opts);
	pp->opts.stdio[0] = pp->opts.stdio[1] = pp->opts.stdio[2] = devnull;
	/* the end of the restore: the owner's ids (known with the process),
	 * then the forwarding filter (local calls run, others stop for us) */
	nf = mig_filter_build(pp->insns, ARRAY_SIZE(pp->insns));
	if (nf < 0)
		return pp->why = "cannot build the forwarding filter", nf;
	pp->opts.set_ids = true;
	pp->opts.filter = pp->insns;
	pp->opts.filter_len = (unsigned)nf;
	err = ckpt_stub_fork(&pp->opts, &pp->opts.stub);
	if (err)
		return pp->why = "cannot create a process here", err;
	mig_trace("stub forked");
	if (a->cgroup && load_cgroup_attach(a->cgroup, pp->opts.stub))
		pr_warn("a guest: cannot put it in cgroup %s", a->cgroup);
	/* the stub emptied now, while home freezes and dumps (home streams
	 * the image without waiting for this answer) */
	mig_trace("cgroup");
	err = ckpt_restore_prepare(&pp->opts, &pp->rs);
	if (err)
		return pp->why = "cannot prepare a process here", err;
	mig_trace("stub emptied");
	return 0;
}

/* The move itself, on a prepared stub: receive, restore, run. */
static int remote_serve(const struct mig_remote_args *a, struct mig_chan *ch,
	const struct migp_begin *b, struct remote_prep *pp)
{
	struct remote r = { .ch = ch, .home_pid = (pid_t)b->pid, .restart_nr = -1,
		.sfd = pp->sfd };
	struct ckpt_restore_opts *opts = &pp->opts;
	char why[128];
	int err;

	opts->uid = b->uid;
	opts->gid = b->gid;
	err = ack(ch, 0, 0, "ready");
	if (err) {
		ckpt_restore_abort(pp->rs);
		return 1;
	}
	/* the image is rebuilt in the stub as it arrives */
	err = mig_xfer_recv(ch, b->image_len, pp->rs, opts, &r.pid);
	if (err) {
		snprintf(why, sizeof(why), "node %u cannot restore it: %s", a->self_id,
			strerror(-err));
		ack(ch, err, 0, why);
		return 1;
	}
	if (ptrace(PTRACE_SETOPTIONS, r.pid, NULL,
		    (void *)(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)) < 0) {
		err = -errno;
		snprintf(why, sizeof(why), "node %u cannot prepare it: %s", a->self_id,
			strerror(-err));
		kill(r.pid, SIGKILL);
		waitpid(r.pid, NULL, __WALL);
		ack(ch, err, 0, why);
		return 1;
	}
	r.req = malloc(RSYS_MAX_REQ);
	mig_trace("restored");
	if (!r.req || ack(ch, 0, (uint32_t)r.pid, NULL)) {
		kill(r.pid, SIGKILL);
		waitpid(r.pid, NULL, __WALL);
		free(r.req);
		return 1;
	}
	pr_info("guest %d: %s (pid %u at node %u, uid %u)%s", r.pid, b->comm, b->pid, b->home_id,
		b->uid, b->stop_sig ? ", stopped" : "");
	r.stopped = b->stop_sig != 0; /* held where the restore left it */
	trace_run = true;
	err = run(&r);
	free(r.req);
	return err ? 1 : 0;
}

int mig_remote_main(const struct mig_remote_args *a, struct mig_chan *ch,
	const struct migp_begin *b)
{
	struct remote_prep pp;
	int err;

	mig_trace_start();
	err = remote_prepare(a, &pp);
	if (err) {
		ack(ch, err, 0, pp.why);
		return 1;
	}
	return remote_serve(a, ch, b, &pp);
}

int mig_remote_spare_main(const struct mig_remote_args *a, int sock)
{
	struct remote_prep pp;
	struct migp_begin b;
	struct mig_chan ch;
	int err;

	/* the stub is ready before any process is announced */
	err = remote_prepare(a, &pp);
	if (err) {
		pr_warn("no spare server: %s: %s", pp.why, strerror(-err));
		return 1;
	}
	err = mig_handover_recv(sock, &ch, &b);
	close(sock);
	mig_trace_start();
	if (err) {
		ckpt_restore_abort(pp.rs);
		return err == -ECANCELED ? 0 : 1; /* not needed after all */
	}
	return remote_serve(a, &ch, &b, &pp);
}
