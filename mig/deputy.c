/* deputy: the home side of a migrated process (see mig.h).
 *
 * States: FREEZE -> DUMP -> SEND -> (ACK) COMMITTED -> SERVING -> DONE.
 * Before the commit any failure detaches the process, which runs on at home
 * as if nothing happened. After it, the original process is parked inside a
 * blocking read() on a pipe of its own (so that a signal sent to it wakes the
 * tracer: ptrace then reports it, and we pass it on) and is woken by a byte
 * on that pipe whenever a forwarded call must run in it.
 */
#include "mig/mig.h"
#include "mig/chan.h"
#include "mig/fork.h"
#include "mig/hagent.h"
#include "mig/trace.h"
#include "mig/xfer.h"
#include "ckpt/image.h"
#include "ckpt/imgwire.h"
#include "ckpt/ptrace.h"
#include "lib/log.h"
#include "lib/util.h"
#include "proto/link.h"
#include "proto/migp.h"
#include "rsys/rsys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCRATCH_MIN (1u << 20)
#define PARK_FD 1000 /* where the parking pipe's read end goes, RLIMIT_NOFILE allowing */

struct deputy {
	const struct mig_deputy_args *a;
	struct mig_chan ch;
	pid_t pid;
	uint64_t insn;           /* a syscall instruction in the process's vDSO */
	uint64_t scratch;        /* our scratch mapping in the process */
	size_t scratch_len;
	int wake_fd;             /* our copy of the parking pipe's write end */
	int park_fd;             /* its read end, in the process */
	bool parked;
	/* the resident loop (mig/hagent.h), when planted */
	bool agent;              /* planted: forwarded calls go through it */
	bool agent_running;      /* it runs free (else stopped under ptrace) */
	uint64_t agent_code;     /* its code page; the message page follows */
	int agent_fd;            /* our end of its socket pair */
	int agent_pfd;           /* its end, in the process */
	uint8_t *after;          /* the scratch area read back after a call */
	size_t after_cap;
	int sfd;                 /* SIGCHLD signalfd while serving, or -1 */
	bool want_seen;          /* looked at the link during a blocked call */
	bool home_asked;         /* the daemon said "home" */
	bool daemon_gone;
	struct user_regs_struct regs; /* the process's registers when frozen */
	uint32_t rpid;           /* the process at the target */
	pid_t forked;            /* the child of the last injected fork */
	int stop_sig;            /* a job-control stop to let happen at home (LINK_STOPPED) */
	int start_stop;          /* it was in a group stop when it left: stays in it */
	uint32_t pending_sig[64];
	siginfo_t pending_info[64];
	unsigned npending;
	bool no_filemap;         /* send every page, even those the target can map from a file */
};

static void report(const struct deputy *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(const struct deputy *d, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(d->a->report_fd, line, (size_t)n) != n)
		pr_warn("deputy of %d: cannot report to the daemon", d->pid);
}

static int find_insn(pid_t pid, uint64_t *insn)
{
	uint64_t s, e;
	uint8_t buf[8192];
	int err = ptr_find_vdso(pid, &s, &e);

	if (err)
		return err;
	if (e - s > sizeof(buf))
		e = s + sizeof(buf);
	err = ptr_read_mem(pid, s, buf, e - s);
	if (err)
		return err;
	for (size_t i = 0; i + 1 < e - s; i++)
		if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
			*insn = s + i;
			return 0;
		}
	return -ENOENT;
}

/* Wait for the next stop of the process. Returns the stop signal (SIGTRAP
 * for our single steps), or -ESRCH if it is gone (*status says how). */
static int wait_stop(struct deputy *d, int *status)
{
	for (;;) {
		pid_t r = waitpid(d->pid, status, __WALL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -ESRCH;
		}
		if (WIFEXITED(*status) || WIFSIGNALED(*status))
			return -ESRCH;
		if (WIFSTOPPED(*status))
			return WSTOPSIG(*status);
	}
}

/* A command from the daemon on the report pipe: "home". */
static void read_command(struct deputy *d)
{
	char cmd[32];
	ssize_t n = read(d->a->report_fd, cmd, sizeof(cmd) - 1);

	if (n > 0 && !strncmp(cmd, "home", 4))
		d->home_asked = true;
	if (n == 0)
		d->daemon_gone = true; /* we die with it (pdeathsig) */
}

/* wait_stop() for a call the process asked for, which may block for ever:
 * a "home" from the daemon meanwhile interrupts it (PTRACE_INTERRUPT). */
static int wait_stop_fwd(struct deputy *d, int *status)
{
	bool interrupted = false;

	if (d->sfd < 0)
		return wait_stop(d, status);
	d->want_seen = false;
	for (;;) {
		struct pollfd p[3] = { { .fd = d->sfd, .events = POLLIN },
			{ .fd = d->daemon_gone ? -1 : d->a->report_fd, .events = POLLIN },
			{ .fd = d->want_seen ? -1 : d->ch.fd, .events = POLLIN } };
		struct signalfd_siginfo si;
		pid_t r = waitpid(d->pid, status, __WALL | WNOHANG);

		if (r < 0 && errno != EINTR)
			return -ESRCH;
		if (r == d->pid) {
			if (WIFEXITED(*status) || WIFSIGNALED(*status))
				return -ESRCH;
			if (WIFSTOPPED(*status))
				return WSTOPSIG(*status);
			continue;
		}
		if (d->home_asked && !interrupted) {
			interrupted = true;
			if (ptrace(PTRACE_INTERRUPT, d->pid, NULL, NULL) < 0)
				return -ESRCH;
			continue;
		}
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			return -errno;
		while (read(d->sfd, &si, sizeof(si)) == sizeof(si))
			;
		if (p[1].revents & (POLLIN | POLLHUP))
			read_command(d);
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			/* while a call blocks here, the remote only ever sends
			 * WANT_HOME (its node expels it) */
			uint16_t type;
			const uint8_t *body;
			size_t blen;

			d->want_seen = true; /* one look; a closed link shows later */
			if (mig_chan_recv(&d->ch, &type, &body, &blen, 1000) == 0 &&
				type == LINK_WANT_HOME)
				d->home_asked = true;
		}
	}
}

/* The process sits in a signal-delivery stop for sig: keep the signal and
 * its siginfo for the remote (the home process never handles it). */
static void queue_signal(struct deputy *d, int sig)
{
	siginfo_t si;

	if (sig <= 0 || sig > 64 || d->npending >= ARRAY_SIZE(d->pending_sig))
		return;
	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GETSIGINFO, d->pid, NULL, &si) < 0 || si.si_signo != sig) {
		memset(&si, 0, sizeof(si));
		si.si_signo = sig;
		si.si_code = SI_USER;
	}
	d->pending_info[d->npending] = si;
	d->pending_sig[d->npending++] = (uint32_t)sig;
}

/* Run one system call in the stopped process; signals that arrive are
 * queued for the remote. A call the process asked for (fwd) is not run if
 * a signal came first: *ret is then -ERESTARTNOINTR, and the remote runs it
 * again after the signal. A signal that interrupts it while it blocks makes
 * it return an -ERESTART* code (the single-step trap comes before that
 * signal's stop: drain_signals() collects it). */
static int inject(struct deputy *d, long nr, const uint64_t args[6], long *ret, bool fwd)
{
	struct user_regs_struct r = d->regs;
	bool early = false;
	int st, sig, err;

	r.rip = d->insn;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1;
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.r10 = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	err = ptr_setregs(d->pid, &r);
	if (err)
		return err;
	if (ptrace(PTRACE_SINGLESTEP, d->pid, NULL, NULL) < 0)
		return -errno;
	int reported_early = 0;

	for (;;) {
		sig = fwd ? wait_stop_fwd(d, &st) : wait_stop(d, &st);
		if (sig < 0)
			return sig;
		if (sig == SIGTRAP && (st >> 16) == 0) {
			/* a stop inside an interrupted call reports the step at
			 * that call's exit, before ours ran: step again */
			if (!early && !reported_early++ && ptr_getregs(d->pid, &r) == 0 &&
				r.rip == d->insn && r.rax == (unsigned long long)nr) {
				if (ptrace(PTRACE_SINGLESTEP, d->pid, NULL, NULL) < 0)
					return -errno;
				continue;
			}
			break;
		}
		if ((st >> 16) == PTRACE_EVENT_FORK || (st >> 16) == PTRACE_EVENT_VFORK ||
			(st >> 16) == PTRACE_EVENT_CLONE) {
			/* an injected fork made a child (serve_fork) */
			unsigned long m = 0;

			if (ptrace(PTRACE_GETEVENTMSG, d->pid, NULL, &m) == 0)
				d->forked = (pid_t)m;
			if (ptrace(PTRACE_SINGLESTEP, d->pid, NULL, NULL) < 0)
				return -errno;
			continue;
		}
		/* a group stop or our interrupt: keep stepping. A signal for
		 * the home pid: it belongs to the remote; step on, suppressed.
		 * Either before the call ran: a process's call becomes a
		 * harmless getppid, to be asked for again (after the signal,
		 * or at home) */
		if ((st >> 16) != PTRACE_EVENT_STOP)
			queue_signal(d, sig);
		else if (!d->home_asked)
			fwd = false; /* nothing to undo for a group stop */
		if (fwd && !early) {
			early = true;
			if (ptr_getregs(d->pid, &r) == 0 && r.rip == d->insn) {
				r.rax = SYS_getppid;
				if (ptr_setregs(d->pid, &r))
					return -ESRCH;
			}
		}
		if (ptrace(PTRACE_SINGLESTEP, d->pid, NULL, NULL) < 0)
			return -errno;
	}
	err = ptr_getregs(d->pid, &r);
	if (err)
		return err;
	*ret = early ? -MIG_ERESTARTNOINTR : (long)r.rax;
	return 0;
}

static int sys(struct deputy *d, long *ret, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
	uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };

	return inject(d, nr, args, ret, false);
}

/* After a call interrupted by a signal: the signal's stop comes after the
 * call's trap. Step through a harmless call to collect it (and any other). */
static int drain_signals(struct deputy *d)
{
	long ret;

	return sys(d, &ret, SYS_getppid, 0, 0, 0, 0, 0, 0);
}

static int agent_run(struct deputy *d);
static int agent_stop(struct deputy *d);

/* Park: step into read(PARK_FD) and return without waiting; the single
 * step traps once the read returns (our wake byte, or a signal). With the
 * resident loop: let it run. */
static int park(struct deputy *d)
{
	struct user_regs_struct r = d->regs;

	if (d->agent)
		return agent_run(d);

	r.rip = d->insn;
	r.rax = SYS_read;
	r.orig_rax = (unsigned long long)-1;
	r.rdi = (unsigned long long)d->park_fd;
	r.rsi = d->scratch;
	r.rdx = 1;
	if (ptr_setregs(d->pid, &r) || ptrace(PTRACE_SINGLESTEP, d->pid, NULL, NULL) < 0)
		return -ESRCH;
	d->parked = true;
	return 0;
}

/* Take the process out of its parking read: poke the pipe and wait. */
static int unpark(struct deputy *d)
{
	int st, sig;
	char c = 0;

	if (d->agent)
		return agent_stop(d);
	if (!d->parked)
		return 0;
	if (write(d->wake_fd, &c, 1) != 1)
		return -EIO;
	for (;;) {
		sig = wait_stop(d, &st);
		if (sig < 0)
			return sig;
		if (sig == SIGTRAP && (st >> 16) == 0)
			break;
		if ((st >> 16) != PTRACE_EVENT_STOP)
			queue_signal(d, sig);
		if (ptrace(PTRACE_SINGLESTEP, d->pid, NULL, NULL) < 0)
			return -errno;
	}
	d->parked = false;
	return 0;
}

/* Put the parking pipe's read end high, out of the way of the process's
 * own descriptors (which take the lowest free numbers), but below its
 * RLIMIT_NOFILE, and never over a descriptor it has. */
static int place_high(struct deputy *d, int fd, int *out)
{
	struct rlimit rl;
	long start = PARK_FD, ret;

	if (prlimit(d->pid, RLIMIT_NOFILE, NULL, &rl) == 0 && rl.rlim_cur <= (rlim_t)start)
		start = rl.rlim_cur > 4 ? (long)rl.rlim_cur - 1 : 3;
	for (; start > fd; start /= 2) {
		if (sys(d, &ret, SYS_fcntl, (uint64_t)fd, F_DUPFD_CLOEXEC, (uint64_t)start, 0, 0,
			    0))
			return -ESRCH;
		if (ret >= 0) {
			*out = (int)ret;
			return 1; /* fd is a spare now */
		}
	}
	*out = fd; /* every higher number is taken: it stays where it is */
	return 0;
}

static int place_park_fd(struct deputy *d, int fd)
{
	return place_high(d, fd, &d->park_fd);
}

/* ------------------------------------------------ the resident loop --- */

static int flush_signals(struct deputy *d);

/* Plant the resident loop (mig/hagent.h) in the stopped process: a code
 * page and a message page, and a socket pair whose one end stays in the
 * process (high, like the parking pipe) and the other comes to us. On any
 * failure the per-call injection stays in use. */
static int agent_plant(struct deputy *d)
{
	size_t clen;
	const uint8_t *code = hagent_code(&clen);
	long ret, base;
	int sv[2] = { -1, -1 }, pidfd, err;

	if (sys(d, &base, SYS_mmap, 0, 2 * HAGENT_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0) || base < 0)
		return -ENOMEM;
	err = -EFAULT;
	if (ptr_write_mem(d->pid, (uint64_t)base, code, clen) ||
		sys(d, &ret, SYS_mprotect, (uint64_t)base, HAGENT_PAGE, PROT_READ | PROT_EXEC, 0, 0,
			0) || ret < 0)
		goto out_unmap;
	err = sys(d, &ret, SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		(uint64_t)base + HAGENT_PAGE, 0, 0);
	if (err || ret < 0) {
		err = err ? err : (int)ret;
		goto out_unmap;
	}
	if ((err = ptr_read_mem(d->pid, (uint64_t)base + HAGENT_PAGE, sv, sizeof(sv))))
		goto out_unmap; /* (two descriptors we cannot name are left) */
	err = place_high(d, sv[0], &d->agent_pfd);
	if (err < 0)
		goto out_close;
	if (err && sys(d, &ret, SYS_close, (uint64_t)sv[0], 0, 0, 0, 0, 0))
		return -ESRCH;
	sv[0] = d->agent_pfd;
	pidfd = (int)syscall(SYS_pidfd_open, d->pid, 0);
	err = pidfd < 0 ? -errno : 0;
	if (!err) {
		d->agent_fd = (int)syscall(SYS_pidfd_getfd, pidfd, sv[1], 0);
		err = d->agent_fd < 0 ? -errno : 0;
		close(pidfd);
	}
	if (err)
		goto out_close;
	if (sys(d, &ret, SYS_close, (uint64_t)sv[1], 0, 0, 0, 0, 0))
		return -ESRCH;
	d->agent_code = (uint64_t)base;
	d->agent = true;
	return 0;
out_close:
	/* leave the process's descriptors as they were */
	for (int i = 0; i < 2; i++)
		if (sys(d, &ret, SYS_close, (uint64_t)sv[i], 0, 0, 0, 0, 0))
			return -ESRCH;
out_unmap:
	if (sys(d, &ret, SYS_munmap, (uint64_t)base, 2 * HAGENT_PAGE, 0, 0, 0, 0))
		return -ESRCH;
	return err;
}

/* Let the loop run free. */
static int agent_run(struct deputy *d)
{
	struct user_regs_struct r;

	if (d->agent_running)
		return 0;
	hagent_start_regs(&r, &d->regs, d->agent_code, d->agent_pfd, d->agent_code + HAGENT_PAGE);
	if (ptr_setregs(d->pid, &r) || ptrace(PTRACE_CONT, d->pid, NULL, NULL) < 0)
		return -ESRCH;
	d->agent_running = true;
	return 0;
}

/* The process stopped while the loop runs (status st from waitpid): a
 * signal for the home pid (queued for the remote, suppressed here) or our
 * interrupt for going home. A forwarded call in flight is answered as
 * hagent_fixup() says. Continues it; -ESRCH if it is gone. */
static int agent_on_stop(struct deputy *d, int st)
{
	struct user_regs_struct r;
	int ev = st >> 16;

	if (WIFEXITED(st) || WIFSIGNALED(st))
		return -ESRCH;
	if (!WIFSTOPPED(st))
		return 0;
	if (ev != PTRACE_EVENT_STOP)
		queue_signal(d, WSTOPSIG(st));
	if ((ev != PTRACE_EVENT_STOP || d->home_asked) && ptr_getregs(d->pid, &r) == 0 &&
		hagent_fixup(&r, d->agent_code) && ptr_setregs(d->pid, &r))
		return -ESRCH;
	if (ptrace(PTRACE_CONT, d->pid, NULL, NULL) < 0)
		return -ESRCH;
	return flush_signals(d);
}

/* Stop the idle loop (nothing in flight) for control by injection: our
 * interrupt, then one harmless call that steps past the interrupted read. */
static int agent_stop(struct deputy *d)
{
	int st, sig;
	long ret;

	if (!d->agent_running)
		return 0;
	if (ptrace(PTRACE_INTERRUPT, d->pid, NULL, NULL) < 0)
		return -ESRCH;
	for (;;) {
		sig = wait_stop(d, &st);
		if (sig < 0)
			return sig;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			break;
		queue_signal(d, sig); /* for the remote; suppressed here */
		if (ptrace(PTRACE_CONT, d->pid, NULL, NULL) < 0)
			return -ESRCH;
	}
	d->agent_running = false;
	return sys(d, &ret, SYS_getppid, 0, 0, 0, 0, 0, 0);
}

/* Run a forwarded call through the loop; its buffers are in place. Like
 * inject(): a "home" from the daemon (or WANT_HOME from the remote) while
 * it blocks interrupts it, and it comes back with a restart code. */
static int agent_call(struct deputy *d, long nr, const uint64_t args[6], long *ret)
{
	uint64_t msg[HAGENT_REQ_SIZE / 8] = { (uint64_t)nr, args[0], args[1], args[2], args[3],
		args[4], args[5] };
	bool interrupted = false;
	int err;

	if (send(d->agent_fd, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg))
		return -EIO;
	d->want_seen = false;
	for (;;) {
		struct pollfd p[4] = { { .fd = d->agent_fd, .events = POLLIN },
			{ .fd = d->sfd, .events = POLLIN },
			{ .fd = d->daemon_gone ? -1 : d->a->report_fd, .events = POLLIN },
			{ .fd = d->want_seen ? -1 : d->ch.fd, .events = POLLIN } };
		struct signalfd_siginfo si;
		int st;
		pid_t w;

		/* a reply is there: take it first, unless the process stopped
		 * (its signals must reach the remote before the result) */
		if (poll(p, 4, -1) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents & POLLIN) {
			while (read(d->sfd, &si, sizeof(si)) == sizeof(si))
				;
			while ((w = waitpid(d->pid, &st, __WALL | WNOHANG)) == d->pid)
				if ((err = agent_on_stop(d, st)))
					return err;
			if (w < 0 && errno != EINTR)
				return -ESRCH;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			uint64_t r;

			if (recv(d->agent_fd, &r, sizeof(r), 0) != (ssize_t)sizeof(r))
				return -EIO;
			*ret = (long)r;
			return 0;
		}
		if (p[2].revents & (POLLIN | POLLHUP))
			read_command(d);
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) {
			/* while a call blocks here, the remote only ever sends
			 * WANT_HOME (its node expels it) */
			uint16_t type;
			const uint8_t *body;
			size_t blen;

			d->want_seen = true;
			if (mig_chan_recv(&d->ch, &type, &body, &blen, 1000) == 0 &&
				type == LINK_WANT_HOME)
				d->home_asked = true;
		}
		if (d->home_asked && !interrupted) {
			interrupted = true;
			if (ptrace(PTRACE_INTERRUPT, d->pid, NULL, NULL) < 0)
				return -ESRCH;
		}
	}
}

/* After the commit the home process's memory is stale: its pages go back
 * to the kernel (MADV_DONTNEED on every private, writable, not executable
 * mapping), so that moving a process away frees memory at home too (memory
 * ushering). The mappings stay, only empty; coming home rebuilds them all
 * from the image. The stack is kept: it holds the command line and
 * environment that ps reads at home. */
static void release_home_memory(struct deputy *d)
{
	char path[64], line[512];
	unsigned long long start, end, total = 0;
	char perms[8];
	int off;
	long ret;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)d->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &off) < 3)
			continue;
		if (strcmp(perms, "rw-p") || strstr(line, "[stack]") || strstr(line, "[v"))
			continue;
		if (sys(d, &ret, SYS_madvise, start, end - start, MADV_DONTNEED, 0, 0, 0) == 0 &&
			ret == 0)
			total += end - start;
	}
	fclose(f);
	pr_debug("process %d: %llu KiB of stale memory released at home", d->pid, total >> 10);
}

static int set_up_home(struct deputy *d)
{
	long ret;
	uint64_t empty = 0, held;
	int err;

	err = find_insn(d->pid, &d->insn);
	if (!err) /* signals wait while we set up (a timer fires at home) */
		err = ptr_hold_signals(d->pid, &held);
	if (err)
		return err;
	release_home_memory(d);
	mig_trace("released");
	d->scratch_len = SCRATCH_MIN;
	err = sys(d, &ret, SYS_mmap, 0, d->scratch_len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
	if (err || ret < 0)
		return err ? err : (int)ret;
	d->scratch = (uint64_t)ret;
	/* the parking pipe, its read end at a high fd in the process */
	err = sys(d, &ret, SYS_pipe2, d->scratch, O_CLOEXEC, 0, 0, 0, 0);
	if (err || ret < 0)
		return err ? err : (int)ret;
	int pfd[2];

	err = ptr_read_mem(d->pid, d->scratch, pfd, sizeof(pfd));
	if (err)
		return err;
	err = place_park_fd(d, pfd[0]);
	if (err < 0)
		return err;
	int pidfd = (int)syscall(SYS_pidfd_open, d->pid, 0);

	if (pidfd < 0)
		return -errno;
	d->wake_fd = (int)syscall(SYS_pidfd_getfd, pidfd, pfd[1], 0);
	close(pidfd);
	if (d->wake_fd < 0)
		return -errno;
	if ((err && sys(d, &ret, SYS_close, (uint64_t)pfd[0], 0, 0, 0, 0, 0)) ||
		sys(d, &ret, SYS_close, (uint64_t)pfd[1], 0, 0, 0, 0, 0))
		return -ESRCH;
	/* forwarded calls through a resident loop; OM_MIG_AGENT=0 keeps the
	 * injection of every call (for comparison) */
	const char *env = getenv("OM_MIG_AGENT");

	if (!(env && !strcmp(env, "0")) && (err = agent_plant(d)))
		pr_warn("process %d: no resident loop (%s): its calls are injected one by one",
			d->pid, strerror(-err));
	mig_trace("home set up");
	/* every signal must reach us now: the real mask lives at the remote */
	return ptr_release_signals(d->pid, empty);
}

/* The target's MIG_ACK: 0, or -errno with why filled (its reason, or
 * why it did not answer). */
static int wait_ack(struct deputy *d, struct migp_ack *ack, int timeout_ms, char *why,
	size_t whycap)
{
	const uint8_t *body;
	size_t blen;
	uint16_t type;
	int err = mig_chan_recv(&d->ch, &type, &body, &blen, timeout_ms);

	if (!err && (type != LINK_MIG_ACK || migp_ack_decode(body, blen, ack) < 0))
		err = -EBADMSG;
	if (err) {
		snprintf(why, whycap, "node %u did not answer: %s", d->a->target_id, strerror(-err));
		return err;
	}
	if (ack->err)
		snprintf(why, whycap, "%s", ack->why);
	return ack->err;
}

/* /proc/PID/comm into comm (empty if unreadable) */
static void read_comm(pid_t pid, char comm[MIGP_COMM_LEN])
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, MIGP_COMM_LEN - 1);
		close(fd);
	}
	comm[n > 0 ? n : 0] = 0;
	comm[strcspn(comm, "\n")] = 0;
}

/* Is it in a job-control stop (state T: stopped, not traced)? */
static bool job_stopped(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return false;
	return p[1] == ' ' && p[2] == 'T';
}

/* A signal for the copy, made here (queued like one the home pid got). */
static void queue_fixed(struct deputy *d, int sig)
{
	if (d->npending >= ARRAY_SIZE(d->pending_sig))
		return;
	memset(&d->pending_info[d->npending], 0, sizeof(siginfo_t));
	d->pending_info[d->npending].si_signo = sig;
	d->pending_info[d->npending].si_code = SI_USER;
	d->pending_sig[d->npending++] = (uint32_t)sig;
}

/* Connect, say what comes (the target prepares meanwhile), freeze, dump
 * the layout, stream the image out of the frozen process, wait for the
 * target's verdict. 0 once committed. */
static int migrate_out(struct deputy *d, char *why, size_t whycap)
{
	const struct mig_deputy_args *a = d->a;
	struct ckpt_why cw = { 0 };
	struct ckpt_image *img = NULL;
	struct migp_begin b = { 0 };
	struct migp_ack ack;
	uint8_t buf[256];
	uint64_t len = 0, t0 = now_us(), tf = 0;
	int err, n;

	err = ckpt_check(d->pid, &cw);
	if (err) {
		snprintf(why, whycap, "%s", err == -ESRCH ? "no such process" : cw.words);
		return err;
	}
	mig_trace("check");
	/* before the freeze: the connection, and the target forks the
	 * process's stub while we freeze and dump */
	err = mig_chan_connect(&d->ch, a->target_addr, a->target_port, a->self_id, a->target_id,
		a->key, 5000);
	if (err) {
		snprintf(why, whycap, "node %u is down (cannot connect: %s)", a->target_id,
			err == -EACCES ? "wrong cluster key" : strerror(-err));
		return err;
	}
	mig_trace("connect");
	b.home_id = a->self_id;
	b.pid = (uint32_t)d->pid;
	b.uid = a->uid;
	b.gid = a->gid;
	b.image_len = 0; /* not known yet: the image's header says */
	b.stop_sig = job_stopped(d->pid) ? SIGSTOP : 0; /* checked again once frozen */
	read_comm(d->pid, b.comm);
	n = migp_begin_encode(buf, sizeof(buf), &b);
	err = n < 0 ? n : mig_chan_send(&d->ch, LINK_MIG_BEGIN, buf, (size_t)n);
	if (err) {
		snprintf(why, whycap, "node %u: %s", a->target_id, strerror(-err));
		mig_chan_close(&d->ch);
		return err;
	}
	mig_trace("begin");
	tf = now_us();
	err = ptr_seize(d->pid, false);
	if (err) {
		snprintf(why, whycap, "cannot freeze it: %s", strerror(-err));
		mig_chan_close(&d->ch);
		return err;
	}
	err = ptr_getregs(d->pid, &d->regs);
	if (!err) {
		/* frozen in a group stop, its trap names the stop signal */
		siginfo_t si = { 0 };

		if (ptrace(PTRACE_GETSIGINFO, d->pid, NULL, &si) == 0 &&
			mig_is_stop_signal(si.si_signo))
			d->start_stop = si.si_signo;
		if (!d->start_stop != !b.stop_sig)
			/* stopped or continued between the look and the
			 * freeze: the copy follows once committed */
			queue_fixed(d, d->start_stop ? SIGSTOP : SIGCONT);
		err = ckpt_dump_layout_opts(d->pid, &img, &cw,
			d->no_filemap ? 0 : CKPT_DUMP_FILEMAP);
	}
	if (err) {
		snprintf(why, whycap, "%s", err == -EBUSY ? cw.words : strerror(-err));
		goto out_detach;
	}
	mig_trace("freeze+layout");
	len = ckpt_image_encoded_size(img);
	/* the image goes at once; the target's "ready" (or why not) is read
	 * after it, as the target had the stream's start to prepare on */
	err = mig_xfer_send(&d->ch, d->pid, img);
	if (err) {
		/* a refusal closes the stream: its reason is the better one */
		if (wait_ack(d, &ack, 1000, why, whycap) == 0)
			snprintf(why, whycap, "sending the image to node %u: %s", a->target_id,
				strerror(-err));
		goto out_detach;
	}
	mig_trace("sent");
	err = wait_ack(d, &ack, 10000, why, whycap);
	mig_trace("ready");
	if (!err)
		err = wait_ack(d, &ack, 60000, why, whycap);
	if (err)
		goto out_detach;
	mig_trace("ack");
	pr_info("process %d (%s) now runs on node %u as %u: %llu KiB in %llu ms (frozen %llu ms)",
		d->pid, img->comm, a->target_id, ack.rpid, (unsigned long long)(len >> 10),
		(unsigned long long)(now_us() - t0) / 1000, (unsigned long long)(now_us() - tf) / 1000);
	ckpt_image_free(img);
	d->rpid = ack.rpid;
	return 0;
out_detach:
	ckpt_image_free(img);
	mig_chan_close(&d->ch);
	if (ptr_setregs(d->pid, &d->regs) == 0 && ptr_detach(d->pid))
		pr_warn("process %d: detach failed", d->pid);
	return err;
}

static int flush_signals(struct deputy *d);

/* A forwarded call: decode, lay out in the scratch area, run, answer. */
static int serve_syscall(struct deputy *d, const uint8_t *req, size_t len)
{
	struct rsys_call *c = NULL;
	uint64_t args[6];
	uint8_t *reply = NULL, *after = NULL;
	size_t need, rlen = 0, in_len = 0;
	const void *in;
	long ret = -ENOSYS;
	int err = rsys_req_decode(req, len, &c);

	if (err)
		return err; /* garbage from the remote: end the link */
	need = rsys_call_scratch_size(c);
	if (need > d->scratch_len) {
		bool running = d->agent_running;
		long r;

		if (running && (err = agent_stop(d)))
			goto out;

		/* grow the scratch area (the old one is dropped) */
		size_t nl = (need + 0xfffff) & ~(size_t)0xfffff;

		if (sys(d, &r, SYS_munmap, d->scratch, d->scratch_len, 0, 0, 0, 0) ||
			sys(d, &r, SYS_mmap, 0, nl, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0) || r < 0) {
			err = -ENOMEM;
			goto out;
		}
		d->scratch = (uint64_t)r;
		d->scratch_len = nl;
		if (running && (err = agent_run(d)))
			goto out;
	}
	err = rsys_call_layout(c, d->scratch, d->scratch_len);
	if (err)
		goto out;
	in = rsys_call_scratch_in(c, &in_len);
	size_t woff, wlen;

	rsys_call_write_range(c, &woff, &wlen);
	if (wlen && (err = ptr_write_mem(d->pid, d->scratch + woff, (const uint8_t *)in + woff,
			     wlen)))
		goto out;
	rsys_call_args(c, args);
	/* signals that came while we woke it go first: the remote delivers
	 * them, then asks again (a process that has them blocked there
	 * asks again at once). On the way home, it asks again at home. */
	if (d->npending || d->home_asked)
		ret = -MIG_ERESTARTNOINTR;
	else if (d->agent_running)
		err = agent_call(d, rsys_call_nr(c), args, &ret);
	else if (!(err = inject(d, rsys_call_nr(c), args, &ret, true)) && MIG_IS_RESTART(ret))
		err = drain_signals(d); /* the signal that interrupted it */
	if (err)
		goto out;
	size_t back = rsys_call_read_len(c), cap;

	if (back > d->after_cap) {
		free(d->after);
		d->after_cap = 0;
		d->after = malloc(back);
		if (!d->after) {
			err = -ENOMEM;
			goto out;
		}
		d->after_cap = back;
	}
	after = d->after;
	if (back && (err = ptr_read_mem(d->pid, d->scratch, after, back)))
		goto out;
	/* signals that interrupted the call go first: the remote delivers
	 * them before the call returns there */
	err = flush_signals(d);
	if (err)
		goto out;
	/* the reply is built in the channel's own frame buffer */
	reply = mig_chan_body(&d->ch, &cap);
	err = rsys_reply_encode(c, ret, after, back, reply, cap, &rlen);
	if (!err)
		err = mig_chan_send_body(&d->ch, LINK_SYSRET, rlen);
out:
	rsys_call_free(c);
	return err;
}

static int flush_signals(struct deputy *d)
{
	uint8_t buf[MIGP_SIGNAL_SIZE];

	for (unsigned i = 0; i < d->npending; i++) {
		int n = migp_signal_encode(buf, sizeof(buf), d->pending_sig[i], &d->pending_info[i]);

		if (n < 0 || mig_chan_send(&d->ch, LINK_SIGNAL, buf, (size_t)n))
			return -EIO;
	}
	d->npending = 0;
	return 0;
}

/* The copy forked (mig/fork.c): make the genuine child at home by a fork
 * injected into the home process, hand it over parked, tell the daemon
 * (which starts the child's own deputy) and answer the remote. */
static int serve_fork(struct deputy *d, const uint8_t *body, size_t blen)
{
	uint8_t buf[MIG_FORKED_SIZE];
	uint32_t rchild, exit_sig;
	long ret = -MIG_ERESTARTNOINTR;
	int err, n, st;

	if (mig_fork_req_decode(body, blen, &rchild, &exit_sig) < 0)
		return -EBADMSG;
	/* signals first, or on the way home: the remote asks again */
	if (!d->npending && !d->home_asked) {
		d->forked = 0;
		if (ptrace(PTRACE_SETOPTIONS, d->pid, NULL,
			    (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK |
				    PTRACE_O_TRACECLONE)) < 0)
			return -ESRCH;
		err = sys(d, &ret, SYS_clone, exit_sig, 0, 0, 0, 0, 0);
		if (ptrace(PTRACE_SETOPTIONS, d->pid, NULL, (void *)(long)PTRACE_O_EXITKILL) < 0)
			err = -ESRCH;
		if (err)
			return err;
		if (ret > 0) {
			pid_t child = d->forked > 0 ? d->forked : (pid_t)ret;

			if (ptr_wait_stop(child, &st) == 0 &&
				mig_fork_park_child(child, d->insn, d->park_fd, d->scratch,
					d->scratch_len) == 0) {
				report(d, "fork %ld %u", ret, rchild);
			} else {
				kill(child, SIGKILL);
				ret = -EAGAIN;
			}
		}
	}
	n = mig_forked_encode(buf, sizeof(buf), (int32_t)ret);
	err = flush_signals(d);
	if (!err)
		err = n < 0 ? n : mig_chan_send(&d->ch, LINK_FORKED, buf, (size_t)n);
	return err;
}

/* The copy takes a job-control stop (Ctrl-Z, SIGTTIN...): the home process
 * takes it too, by default action, so that its parent's wait (WUNTRACED),
 * the shell's jobs and SIGCHLD see it; the stop is delivered once it is
 * parked again (serve), and it stays stopped (PTRACE_LISTEN) until SIGCONT,
 * which goes on to the copy like any signal. */
static int stop_home(struct deputy *d, const uint8_t *body, size_t blen)
{
	struct {
		uint64_t handler, flags, restorer, mask;
	} dfl = { 0 };
	int32_t sig;
	long ret;

	if (mig_stopped_decode(body, blen, &sig) < 0 || !mig_is_stop_signal(sig))
		return -EBADMSG;
	if (ptr_write_mem(d->pid, d->scratch, &dfl, sizeof(dfl)) ||
		sys(d, &ret, SYS_rt_sigaction, (uint64_t)sig, d->scratch, 0, 8, 0, 0))
		return -ESRCH;
	d->stop_sig = sig;
	pr_info("process %d stops with its copy (%s)", d->pid, strsignal(sig));
	if (syscall(SYS_tgkill, d->pid, d->pid, sig) < 0)
		return -ESRCH;
	return 0;
}

/* A child forked after a move (mig/fork.c): take over the home child, which
 * waits parked, and connect it to its copy at the target. 0 once committed;
 * before that the home child cannot run (its memory is not its own): the
 * caller kills it. */
static int take_forked(struct deputy *d, char *why, size_t whycap)
{
	const struct mig_deputy_args *a = d->a;
	struct migp_begin b = { 0 };
	struct migp_ack ack;
	uint8_t buf[256];
	char path[64];
	int err, n;

	err = ptr_seize(d->pid, false);
	if (!err)
		err = ptr_getregs(d->pid, &d->regs);
	if (err) {
		snprintf(why, whycap, "cannot take over the forked child: %s", strerror(-err));
		return err;
	}
	err = mig_chan_connect(&d->ch, a->target_addr, a->target_port, a->self_id, a->target_id,
		a->key, 5000);
	if (err) {
		snprintf(why, whycap, "node %u is down (cannot connect: %s)", a->target_id,
			strerror(-err));
		return err;
	}
	b.home_id = a->self_id;
	b.pid = (uint32_t)d->pid;
	b.uid = a->uid;
	b.gid = a->gid;
	b.image_len = (uint64_t)a->fork_rpid;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)d->pid);
	if (read_file(path, b.comm, sizeof(b.comm)) > 0)
		b.comm[strcspn(b.comm, "\n")] = '\0';
	n = migp_begin_encode(buf, sizeof(buf), &b);
	err = n < 0 ? n : mig_chan_send(&d->ch, LINK_FORK_BEGIN, buf, (size_t)n);
	if (!err)
		err = wait_ack(d, &ack, 10000, why, whycap);
	if (err)
		return err;
	d->rpid = ack.rpid;
	pr_info("process %d, forked at node %u, runs there as %u", d->pid, a->target_id, ack.rpid);
	return 0;
}

/* The remote's process ended: end ours the same way. */
static int flush_signals(struct deputy *d);

static void finish(struct deputy *d, const struct migp_exit *e)
{
	long ret;
	int st;

	if (e->kind == MIGP_EXITED) {
		report(d, "exit 0 %d %llu", e->code, (unsigned long long)e->cpu_us);
		sys(d, &ret, SYS_exit_group, (uint64_t)e->code, 0, 0, 0, 0, 0);
	} else {
		/* default action, then deliver it */
		struct {
			uint64_t handler, flags, restorer, mask;
		} dfl = { 0 };

		report(d, "exit 1 %d %llu", e->code, (unsigned long long)e->cpu_us);
		if (ptr_write_mem(d->pid, d->scratch, &dfl, sizeof(dfl)) == 0)
			sys(d, &ret, SYS_rt_sigaction, (uint64_t)e->code, d->scratch, 0, 8, 0, 0);
		ptrace(PTRACE_CONT, d->pid, NULL, (void *)(long)e->code);
	}
	while (waitpid(d->pid, &st, __WALL) > 0 && !WIFEXITED(st) && !WIFSIGNALED(st))
		ptrace(PTRACE_CONT, d->pid, NULL, (void *)(long)(WIFSTOPPED(st) ? 0 : 0));
}

/* Bring the process back: the remote stops and dumps its copy, we rebuild
 * it inside the home process, which then runs on at home, untraced. */
static int go_home(struct deputy *d)
{
	struct ckpt_restore_opts opts;
	struct ckpt_restorer *rs;
	struct migp_begin b;
	struct migp_ack ack = { 0 };
	uint8_t buf[MIGP_ACK_SIZE];
	const uint8_t *body;
	size_t blen;
	uint16_t type;
	pid_t pid;
	long ret;
	int err, n;
	uint64_t t0 = now_us();

	err = mig_chan_send(&d->ch, LINK_GO_HOME, NULL, 0);
	while (!err) {
		err = mig_chan_recv(&d->ch, &type, &body, &blen, 60000);
		if (err)
			break;
		if (type == LINK_MIG_BEGIN) {
			if (migp_begin_decode(body, blen, &b) < 0)
				err = -EBADMSG;
			break;
		}
		if (type == LINK_EXIT) {
			struct migp_exit e;

			if (migp_exit_decode(body, blen, &e) < 0)
				return -EBADMSG;
			if (unpark(d) == 0)
				finish(d, &e);
			return 1; /* it ended on the way */
		}
		if (type != LINK_SYSCALL)
			err = -EBADMSG;
		else if (d->agent)
			err = serve_syscall(d, body, blen);
		else if (!(err = unpark(d)) && !(err = serve_syscall(d, body, blen)))
			err = park(d);
	}
	/* out of the parking read; our parking pipe and scratch go, the
	 * image has the rest: it is rebuilt inside the home process as it
	 * arrives */
	if (!err)
		err = unpark(d);
	if (err)
		return err;
	/* our parking pipe, loop and scratch go; the image has the rest */
	if (sys(d, &ret, SYS_close, (uint64_t)d->park_fd, 0, 0, 0, 0, 0) ||
		(d->agent && sys(d, &ret, SYS_close, (uint64_t)d->agent_pfd, 0, 0, 0, 0, 0)))
		return -ESRCH;
	close(d->wake_fd);
	d->wake_fd = -1;
	if (d->agent) {
		close(d->agent_fd);
		d->agent_fd = -1;
		d->agent = false;
	}
	ckpt_restore_opts_init(&opts);
	opts.stub = d->pid;
	err = ckpt_restore_prepare(&opts, &rs);
	if (!err)
		err = mig_xfer_recv(&d->ch, b.image_len, rs, &opts, &pid);
	ack.err = err;
	if (err)
		snprintf(ack.why, sizeof(ack.why), "cannot restore it at home: %s", strerror(-err));
	n = migp_ack_encode(buf, sizeof(buf), &ack);
	if (n > 0 && mig_chan_send(&d->ch, LINK_MIG_ACK, buf, (size_t)n))
		pr_debug("remote gone before the home ack");
	if (err)
		return err; /* the restore killed the process: "lost" */
	/* it runs at home again, untraced; signals that came meanwhile follow */
	if (ckpt_resume(d->pid))
		return -ESRCH;
	for (unsigned i = 0; i < d->npending; i++)
		kill(d->pid, (int)d->pending_sig[i]);
	pr_info("process %d is back home from node %u in %llu ms", d->pid, d->a->target_id,
		(unsigned long long)(now_us() - t0) / 1000);
	report(d, "home %llu", (unsigned long long)b.cpu_us);
	return 0;
}

static int serve(struct deputy *d)
{
	sigset_t set;
	int sfd, err;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return -errno;
	d->sfd = sfd;
	err = park(d);
	/* it left in a group stop (which our freeze did not end: the kernel
	 * keeps it until SIGCONT): trapped now, it reports that stop, and
	 * waits in it like a job stopped after the move */
	if (!err && d->start_stop && ptrace(PTRACE_INTERRUPT, d->pid, NULL, NULL) < 0)
		err = -errno;
	while (!err) {
		struct pollfd p[3] = { { .fd = d->ch.fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = d->daemon_gone ? -1 : d->a->report_fd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (d->home_asked) {
			/* asked for during a forwarded call, or just now */
			err = go_home(d);
			if (err >= 0)
				return 0; /* home, or it ended meanwhile */
			break;
		}
		if (!mig_chan_pending(&d->ch) && poll(p, 3, -1) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (p[2].revents & (POLLIN | POLLHUP)) {
			read_command(d); /* a command from the daemon */
			if (d->home_asked)
				continue;
		}
		/* the home process stopped: a signal for it, or it died (each
		 * stop raises a SIGCHLD after it; a forwarded call does not
		 * need these two calls) */
		int st = 0;
		pid_t r = 0;

		if (p[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			r = waitpid(d->pid, &st, __WALL | WNOHANG);
		}

		if (r == d->pid) {
			if (WIFEXITED(st) || WIFSIGNALED(st)) {
				pr_info("home process %d ended at home (%s %d): ending its remote part",
					d->pid, WIFEXITED(st) ? "exit" : "signal",
					WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
				if (mig_chan_send(&d->ch, LINK_KILL, NULL, 0))
					pr_debug("remote already gone");
				report(d, "exit %d %d", WIFEXITED(st) ? 0 : 1,
					WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
				return 0;
			}
			if (WIFSTOPPED(st)) {
				int sig = WSTOPSIG(st);

				if ((st >> 16) == 0 && sig == d->stop_sig) {
					/* the copy stopped: the home process
					 * stops too, for its parent to see (the
					 * resident loop just runs on) */
					d->stop_sig = 0;
					if (ptrace(d->agent ? PTRACE_CONT : PTRACE_SINGLESTEP, d->pid,
						    NULL, (void *)(long)sig) < 0)
						err = -errno;
					continue;
				}
				if ((st >> 16) == PTRACE_EVENT_STOP && mig_is_stop_signal(sig) &&
					!(d->agent && d->home_asked)) {
					/* in that group stop until SIGCONT */
					if (ptrace(PTRACE_LISTEN, d->pid, NULL, NULL) < 0)
						err = -errno;
					continue;
				}
			}
			if (WIFSTOPPED(st) && d->agent) {
				err = agent_on_stop(d, st);
				continue;
			}
			if (WIFSTOPPED(st)) {
				int sig = WSTOPSIG(st);

				if (sig == SIGTRAP && (st >> 16) == 0)
					d->parked = false; /* the park read returned */
				else if ((st >> 16) != PTRACE_EVENT_STOP)
					queue_signal(d, sig);
				if (!d->parked)
					err = park(d);
				else if (ptrace(PTRACE_SINGLESTEP, d->pid, NULL, NULL) < 0)
					err = -errno;
				if (!err)
					err = flush_signals(d);
				continue;
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !mig_chan_pending(&d->ch))
			continue;
		uint16_t type;
		const uint8_t *body;
		size_t blen;

		err = mig_chan_recv(&d->ch, &type, &body, &blen, 30000);
		if (err)
			break;
		switch (type) {
		case LINK_SYSCALL:
			if (d->agent) { /* the loop runs it */
				err = serve_syscall(d, body, blen);
				if (!err)
					err = flush_signals(d);
				break;
			}
			err = unpark(d);
			if (!err)
				err = serve_syscall(d, body, blen);
			if (!err)
				err = flush_signals(d);
			if (!err)
				err = park(d);
			break;
		case LINK_FORK:
			err = unpark(d);
			if (!err)
				err = serve_fork(d, body, blen);
			if (!err)
				err = park(d);
			break;
		case LINK_STOPPED:
			err = unpark(d);
			if (!err)
				err = stop_home(d, body, blen);
			if (!err)
				err = park(d);
			break;
		case LINK_WANT_HOME:
			/* its node expels it */
			d->home_asked = true;
			break;
		case LINK_EXIT: {
			struct migp_exit e;

			if (migp_exit_decode(body, blen, &e) < 0) {
				err = -EBADMSG;
				break;
			}
			if (unpark(d) == 0)
				finish(d, &e);
			return 0;
		}
		default:
			err = -EBADMSG;
		}
	}
	/* the remote part is lost (its node died, or the link broke): the
	 * process ends as killed by SIGKILL, which its parent sees */
	pr_warn("process %d: lost its remote part (%s): killing it", d->pid, strerror(-err));
	report(d, "lost");
	kill(d->pid, SIGKILL);
	int st;

	while (waitpid(d->pid, &st, __WALL) > 0 && !WIFEXITED(st) && !WIFSIGNALED(st))
		;
	return 1;
}

int mig_deputy_main(const struct mig_deputy_args *a)
{
	struct deputy d = { .a = a, .pid = a->pid, .wake_fd = -1, .park_fd = -1, .sfd = -1,
		.agent_fd = -1, .agent_pfd = -1 };
	char why[256] = "";
	int err;

	d.ch.fd = -1;
	mig_trace_start();
	if (a->fork_rpid) {
		err = take_forked(&d, why, sizeof(why));
		if (err) {
			/* its memory is not its own: it cannot run at home */
			pr_err("forked child %d: %s: killing it", d.pid, why);
			kill(d.pid, SIGKILL);
			report(&d, "lost");
			return 1;
		}
	} else {
		/* pages still the files' own are mapped from the same files at
		 * the target; if it has other files there (-ESTALE), once more
		 * with every page (OM_MIG_FILEMAP=0: always, for comparison) */
		const char *env = getenv("OM_MIG_FILEMAP");

		d.no_filemap = env && !strcmp(env, "0");
		err = migrate_out(&d, why, sizeof(why));
		if (err == -ESTALE && !d.no_filemap) {
			pr_info("process %d: node %u has other files: moving it with every page",
				d.pid, a->target_id);
			d.no_filemap = true;
			err = migrate_out(&d, why, sizeof(why));
		}
	}
	if (err) {
		report(&d, "fail %d %s", err, why);
		return 1;
	}
	/* committed: the copy runs at the target. Say so now, so that the
	 * answer to `migrate` does not wait for the home side's set-up below
	 * (calls from the copy queue on the link meanwhile, signals for the
	 * home pid in the kernel); if the set-up fails, the process is lost
	 * and "lost" follows. */
	report(&d, "ok %u %u", a->target_id, d.rpid);
	mig_trace("reported");
	if (ptrace(PTRACE_SETOPTIONS, d.pid, NULL, (void *)(long)PTRACE_O_EXITKILL) < 0 ||
		set_up_home(&d)) {
		pr_err("process %d: cannot prepare its home side", d.pid);
		if (mig_chan_send(&d.ch, LINK_KILL, NULL, 0))
			pr_debug("remote gone");
		kill(d.pid, SIGKILL);
		report(&d, "lost");
		return 1;
	}
	/* signals that came while we set up go first; then it is official */
	if (flush_signals(&d)) {
		kill(d.pid, SIGKILL);
		report(&d, "lost");
		return 1;
	}
	mig_trace("signals");
	mig_trace_log("deputy", d.pid);
	err = serve(&d);
	mig_chan_close(&d.ch);
	free(d.after);
	return err ? 1 : 0;
}
