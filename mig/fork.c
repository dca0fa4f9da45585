/* fork: a migrated process forks.
 *
 * The child must be genuine at home (a real child of the home process: its
 * pid, parenthood, wait, SIGCHLD and the file descriptors shared with the
 * parent are the kernel's own) and must run where the parent runs (its
 * memory is there). So a fork after a move happens twice:
 *
 *   remote server S1 (target)              deputy D1 (home)
 *   the copy stops at fork (seccomp)
 *   the copy clones locally -> C_r
 *     (CLONE_PARENT: a child of S1; it
 *      stays stopped under S1)
 *   FORK {C_r, exit signal}      ------->  the fork is injected into the home
 *                                          process -> C_h (stopped under D1,
 *                                          PTRACE_O_TRACEFORK), which is left
 *                                          parked in pause(), signals blocked
 *                                <-------  FORKED {C_h or -errno}
 *   C_h written where the parent and the child expect their tids;
 *   the parent's fork returns C_h; C_r is
 *   left group-stopped, untraced                D1 tells omd "fork C_h C_r"
 *
 *   omd (home) starts a deputy D2 for C_h: it seizes C_h and connects to the
 *   target with FORK_BEGIN {C_h, C_r}; the target's omd checks that C_r is
 *   a child of one of that home's guests and starts a server S2, which
 *   seizes C_r. From there C_h/C_r are an ordinary migrated process: its
 *   calls go home to C_h, its exit is C_h's exit, which the home parent
 *   reaps. If the home fork fails, C_r is killed unseen and the parent's
 *   fork fails with the home's errno.
 *
 * This file has the pieces that need neither end's state: the two small
 * frames, the flag rules, and the two hand-overs of a stopped child.
 */
#include "mig/fork.h"
#include "ckpt/ptrace.h"
#include "lib/log.h"
#include "lib/util.h"
#include "proto/wire.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int mig_fork_req_encode(uint8_t *buf, size_t cap, uint32_t rpid, uint32_t exit_sig)
{
	if (cap < MIG_FORK_REQ_SIZE)
		return -ENOSPC;
	wire_put_u32(buf, rpid);
	wire_put_u32(buf + 4, exit_sig);
	return MIG_FORK_REQ_SIZE;
}

int mig_fork_req_decode(const uint8_t *buf, size_t len, uint32_t *rpid, uint32_t *exit_sig)
{
	if (len != MIG_FORK_REQ_SIZE)
		return -EBADMSG;
	*rpid = wire_get_u32(buf);
	*exit_sig = wire_get_u32(buf + 4);
	if (*rpid < 2 || *exit_sig > 64)
		return -EBADMSG;
	return MIG_FORK_REQ_SIZE;
}

int mig_forked_encode(uint8_t *buf, size_t cap, int32_t res)
{
	if (cap < MIG_FORKED_SIZE)
		return -ENOSPC;
	wire_put_u32(buf, (uint32_t)res);
	return MIG_FORKED_SIZE;
}

int mig_forked_decode(const uint8_t *buf, size_t len, int32_t *res)
{
	if (len != MIG_FORKED_SIZE)
		return -EBADMSG;
	*res = (int32_t)wire_get_u32(buf);
	return MIG_FORKED_SIZE;
}

/* flags a fork-like clone may carry: they concern only the child's own
 * memory and tids, which we handle */
#define FORK_OK_FLAGS                                                                      \
	(CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |    \
		CLONE_PARENT_SETTID | CLONE_SETTLS)

int mig_fork_flags(long nr, const uint64_t a[6], uint64_t *local, uint32_t *exit_sig)
{
	uint64_t f;

	switch (nr) {
	case SYS_fork:
	case SYS_vfork:
		f = SIGCHLD;
		break;
	case SYS_clone:
		f = a[0];
		if (f & ~(uint64_t)FORK_OK_FLAGS)
			return -ENOSYS; /* threads, shared tables, namespaces: do not move */
		break;
	default:
		return -ENOSYS; /* clone3: libc falls back to clone */
	}
	*exit_sig = (uint32_t)(f & CSIGNAL);
	if (*exit_sig > 64)
		return -EINVAL;
	/* the tids are written by the server (the home child's pid);
	 * the child's clear-on-exit address is local business */
	*local = (f & (CSIGNAL | CLONE_CHILD_CLEARTID | CLONE_SETTLS)) | CLONE_PARENT;
	return 0;
}

int mig_fork_park_child(pid_t child, uint64_t insn, int park_fd, uint64_t scratch,
	size_t scratch_len)
{
	struct ptr_inject *ij = ptr_inject_new(child);
	struct user_regs_struct r;
	uint64_t all = ~(uint64_t)0;
	long ret;
	int err = -ESRCH;

	if (!ij)
		return -ESRCH;
	if (ptr_sys(ij, &ret, SYS_close, park_fd) ||
		ptr_sys(ij, &ret, SYS_munmap, (long)scratch, (long)scratch_len))
		goto out;
	r = *ptr_inject_regs(ij);
	ptr_inject_free(ij, false);
	ij = NULL;
	/* nothing reaches it until its deputy takes it: signals wait */
	if (ptrace(PTRACE_SETSIGMASK, child, (void *)sizeof(all), &all) < 0)
		goto out;
	r.rip = insn;
	r.rax = SYS_pause;
	r.orig_rax = (unsigned long long)-1;
	if (ptr_setregs(child, &r))
		goto out;
	if (ptrace(PTRACE_DETACH, child, NULL, NULL) < 0)
		goto out;
	err = 0;
out:
	ptr_inject_free(ij, false);
	if (err)
		pr_err("home child %d: cannot hand it over to its deputy", (int)child);
	return err;
}

bool mig_is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

bool mig_stops_by_default(pid_t pid, int sig)
{
	char path[64], line[128];
	unsigned long long cgt = 0, ign = 0;
	FILE *f;

	if (sig == SIGSTOP)
		return true;
	if (!mig_is_stop_signal(sig))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "SigCgt: %llx", &cgt);
		sscanf(line, "SigIgn: %llx", &ign);
	}
	fclose(f);
	return !((cgt | ign) & (1ull << (sig - 1)));
}

/* "T" in /proc/PID/status and no tracer */
static bool stopped_untraced(pid_t pid)
{
	char path[64], line[128];
	char state = 0;
	long tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "State: %c", &state);
		sscanf(line, "TracerPid: %ld", &tracer);
	}
	fclose(f);
	return state == 'T' && tracer == 0;
}

int mig_fork_seize_child(pid_t pid, int timeout_ms)
{
	uint64_t until = now_ms() + (uint64_t)timeout_ms;
	int st;

	while (!stopped_untraced(pid)) {
		if (now_ms() > until || (kill(pid, 0) < 0 && errno == ESRCH))
			return -ESRCH;
		usleep(1000);
	}
	/* seizing a stopped process traps it at once */
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
		return -errno;
	return ptr_wait_stop(pid, &st);
}
