/* ptrace: seize, stop, inject system calls, remote memory access. */
#include "ckpt/ptrace.h"
#include "lib/log.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

struct ptr_inject {
	pid_t pid;
	uint64_t insn;		/* address of a `syscall` (0f 05) in the vDSO */
	struct user_regs_struct saved;
};

/* why a ptrace call on pid failed, in words */
static const char *ptr_why(int err)
{
	switch (err) {
	case ESRCH:
		return "process gone or not stopped under us";
	case EPERM:
		return "not permitted (not ours, or traced by someone else)";
	default:
		return strerror(err);
	}
}

int ptr_wait_stop(pid_t pid, int *status)
{
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, __WALL);

		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			pr_err("waitpid %d: %s", pid, strerror(err));
			return -err;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			pr_err("process %d is gone (%s %d)", pid, WIFEXITED(st) ? "exit" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			return -ESRCH;
		}
		if (WIFSTOPPED(st))
			break;
	}
	if (status)
		*status = st;
	return 0;
}

int ptr_seize(pid_t pid, bool exitkill)
{
	int st, err;

	if (ptrace(PTRACE_SEIZE, pid, NULL, exitkill ? (void *)PTRACE_O_EXITKILL : NULL) < 0) {
		err = errno;
		pr_err("seize %d: %s", pid, ptr_why(err));
		return -err;
	}
	/* a process in a group stop (SIGSTOP, Ctrl-Z) is trapped by the
	 * seize itself (the kernel waits for that trap before returning):
	 * an interrupt now would stay pending and trap it again at the
	 * first call we inject */
	if (waitpid(pid, &st, __WALL | WNOHANG) == pid) {
		if (WIFSTOPPED(st) && st >> 16 == PTRACE_EVENT_STOP)
			return 0;
		if (!WIFSTOPPED(st)) {
			pr_err("process %d is gone", pid);
			return -ESRCH;
		}
		/* a signal stop: pass it on, then interrupt as usual */
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(st)) < 0) {
			err = errno;
			pr_err("continue %d past signal %d: %s", pid, WSTOPSIG(st), ptr_why(err));
			goto out_detach;
		}
	}
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
		err = errno;
		pr_err("interrupt %d: %s", pid, ptr_why(err));
		goto out_detach;
	}
	/* a signal may arrive before the interrupt stop: pass it on and wait again */
	for (;;) {
		err = -ptr_wait_stop(pid, &st);
		if (err)
			return -err;
		if (st >> 16 == PTRACE_EVENT_STOP)
			return 0;
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(st)) < 0) {
			err = errno;
			pr_err("continue %d past signal %d: %s", pid, WSTOPSIG(st), ptr_why(err));
			goto out_detach;
		}
	}
out_detach:
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return -err;
}

int ptr_detach(pid_t pid)
{
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0) {
		int err = errno;

		pr_err("detach %d: %s", pid, ptr_why(err));
		return -err;
	}
	return 0;
}

int ptr_getregs(pid_t pid, struct user_regs_struct *regs)
{
	if (ptrace(PTRACE_GETREGS, pid, NULL, regs) < 0) {
		int err = errno;

		pr_err("getregs %d: %s", pid, ptr_why(err));
		return -err;
	}
	return 0;
}

int ptr_setregs(pid_t pid, const struct user_regs_struct *regs)
{
	if (ptrace(PTRACE_SETREGS, pid, NULL, regs) < 0) {
		int err = errno;

		pr_err("setregs %d: %s", pid, ptr_why(err));
		return -err;
	}
	return 0;
}

int ptr_get_xstate(pid_t pid, void *buf, size_t *len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = *len };

	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov) < 0) {
		int err = errno;

		pr_err("get xstate of %d: %s", pid, ptr_why(err));
		return -err;
	}
	*len = iov.iov_len;
	return 0;
}

int ptr_set_xstate(pid_t pid, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &iov) < 0) {
		int err = errno;

		pr_err("set xstate of %d (%zu bytes): %s", pid, len, ptr_why(err));
		return -err;
	}
	return 0;
}

/* /proc/PID/mem, for what process_vm_* cannot do */
static int ptr_procmem(pid_t pid, uint64_t addr, void *buf, size_t len, bool wr)
{
	char path[64];
	size_t done = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, (wr ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = wr ? pwrite(fd, (char *)buf + done, len - done, (off_t)(addr + done))
			       : pread(fd, (char *)buf + done, len - done, (off_t)(addr + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EFAULT;
			break;
		}
		done += (size_t)n;
	}
	close(fd);
	return err;
}

static int ptr_vm(pid_t pid, uint64_t addr, void *buf, size_t len, bool wr)
{
	size_t done = 0;
	int err;

	while (done < len) {
		struct iovec l = { (char *)buf + done, len - done };
		struct iovec r = { (void *)(uintptr_t)(addr + done), len - done };
		ssize_t n = wr ? process_vm_writev(pid, &l, 1, &r, 1, 0)
			       : process_vm_readv(pid, &l, 1, &r, 1, 0);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		err = n < 0 ? errno : EFAULT;
		if (err == EINTR)
			continue;
		if (err == ESRCH) {
			pr_err("%s memory of %d: process is gone", wr ? "write" : "read", pid);
			return -ESRCH;
		}
		/* ENOSYS, EPERM...: try /proc/PID/mem for the rest */
		err = ptr_procmem(pid, addr + done, (char *)buf + done, len - done, wr);
		if (err) {
			pr_err("%s %zu bytes at %#" PRIx64 " of %d: %s", wr ? "write" : "read",
			       len - done, addr + done, pid, strerror(-err));
			return err;
		}
		return 0;
	}
	return 0;
}

int ptr_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	return ptr_vm(pid, addr, buf, len, false);
}

int ptr_write_mem(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	return ptr_vm(pid, addr, (void *)buf, len, true);
}

int ptr_find_vdso(pid_t pid, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	FILE *fp;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fp = fopen(path, "re");
	if (!fp) {
		err = -errno;
		pr_err("open %s: %s", path, strerror(-err));
		return err == -ENOENT ? -ESRCH : err;
	}
	while (fgets(line, sizeof(line), fp)) {
		unsigned long long s, e;

		if (!strstr(line, "[vdso]"))
			continue;
		if (sscanf(line, "%llx-%llx", &s, &e) == 2) {
			*start = s;
			*end = e;
			err = 0;
		}
		break;
	}
	fclose(fp);
	if (err)
		pr_err("process %d has no [vdso]", pid);
	return err;
}

int ptr_inject_rescan(struct ptr_inject *ij)
{
	uint64_t s, e;
	unsigned char *buf;
	int err;

	err = ptr_find_vdso(ij->pid, &s, &e);
	if (err)
		return err;
	if (e <= s || e - s > (1 << 20)) {
		pr_err("odd [vdso] of %d: %#" PRIx64 "-%#" PRIx64, ij->pid, s, e);
		return -EINVAL;
	}
	buf = malloc(e - s);
	if (!buf)
		return -ENOMEM;
	err = ptr_read_mem(ij->pid, s, buf, e - s);
	if (err)
		goto out_free;
	err = -ENOENT;
	for (size_t i = 0; i + 1 < e - s; i++) {
		if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
			ij->insn = s + i;
			err = 0;
			break;
		}
	}
	if (err)
		pr_err("no syscall instruction in the [vdso] of %d", ij->pid);
out_free:
	free(buf);
	return err;
}

struct ptr_inject *ptr_inject_new(pid_t pid)
{
	struct ptr_inject *ij = calloc(1, sizeof(*ij));

	if (!ij)
		return NULL;
	ij->pid = pid;
	if (ptr_getregs(pid, &ij->saved) || ptr_inject_rescan(ij)) {
		free(ij);
		return NULL;
	}
	return ij;
}

int ptr_hold_signals(pid_t pid, uint64_t *saved)
{
	uint64_t all = ~0ULL;

	if (ptrace(PTRACE_GETSIGMASK, pid, (void *)sizeof(*saved), saved) < 0 ||
		ptrace(PTRACE_SETSIGMASK, pid, (void *)sizeof(all), &all) < 0) {
		int err = errno;

		pr_err("signal mask of %d: %s", pid, ptr_why(err));
		return -err;
	}
	return 0;
}

int ptr_release_signals(pid_t pid, uint64_t saved)
{
	if (ptrace(PTRACE_SETSIGMASK, pid, (void *)sizeof(saved), &saved) < 0) {
		int err = errno;

		pr_err("signal mask of %d: %s", pid, ptr_why(err));
		return -err;
	}
	return 0;
}

int ptr_syscall(struct ptr_inject *ij, long nr, const long args[6], long *ret)
{
	struct user_regs_struct r = ij->saved;
	int st, err;

	r.rip = ij->insn;
	r.rax = (unsigned long long)nr;
	/* no restart logic may touch the frame we made */
	r.orig_rax = (unsigned long long)-1;
	r.rdi = (unsigned long long)args[0];
	r.rsi = (unsigned long long)args[1];
	r.rdx = (unsigned long long)args[2];
	r.r10 = (unsigned long long)args[3];
	r.r8 = (unsigned long long)args[4];
	r.r9 = (unsigned long long)args[5];
	err = ptr_setregs(ij->pid, &r);
	if (err)
		return err;
	/* A tracee stopped inside a system call (a sleep a signal interrupted)
	 * reports the single step once at that call's exit, before running
	 * our instruction: then rip is still ours, and we step again. */
	for (int tries = 0;; tries++) {
		if (ptrace(PTRACE_SINGLESTEP, ij->pid, NULL, NULL) < 0) {
			err = errno;
			pr_err("singlestep %d: %s", ij->pid, ptr_why(err));
			return -err;
		}
		err = ptr_wait_stop(ij->pid, &st);
		if (err)
			return err;
		if (WSTOPSIG(st) != SIGTRAP) {
			pr_err("syscall %ld injected into %d stopped with signal %d instead of SIGTRAP",
			       nr, ij->pid, WSTOPSIG(st));
			return -EINTR;
		}
		err = ptr_getregs(ij->pid, &r);
		if (err)
			return err;
		if (r.rip != ij->insn || tries >= 2)
			break;
	}
	if (r.rip != ij->insn + 2) {
		pr_err("syscall %ld injected into %d: rip %#llx, expected %#" PRIx64, nr, ij->pid,
		       r.rip, ij->insn + 2);
		return -EFAULT;
	}
	*ret = (long)r.rax;
	return 0;
}

const struct user_regs_struct *ptr_inject_regs(const struct ptr_inject *ij)
{
	return &ij->saved;
}

pid_t ptr_inject_pid(const struct ptr_inject *ij)
{
	return ij->pid;
}

void ptr_inject_free(struct ptr_inject *ij, bool restore)
{
	if (!ij)
		return;
	if (restore && ptr_setregs(ij->pid, &ij->saved))
		pr_err("registers of %d not restored", ij->pid);
	free(ij);
}

/* The batch loop (x86_64): rbx = table, r12 = count; for each entry load
 * rax and the six arguments, syscall, store rax; stop at the first result
 * in [-4095, -1] or at the end, with int3 (a SIGTRAP stop for us).
 *	0: test r12,r12; je done; mov rax,[rbx]; mov rdi,[rbx+8];
 *	   mov rsi,[rbx+16]; mov rdx,[rbx+24]; mov r10,[rbx+32];
 *	   mov r8,[rbx+40]; mov r9,[rbx+48]; syscall; mov [rbx+56],rax;
 *	   cmp rax,-4095; jae done; add rbx,64; dec r12; jmp 0
 *	done: int3 */
const uint8_t ptr_batch_code[PTR_BATCH_CODE_LEN] = {
	0x4d, 0x85, 0xe4, 0x74, 0x32, 0x48, 0x8b, 0x03, 0x48, 0x8b, 0x7b, 0x08,
	0x48, 0x8b, 0x73, 0x10, 0x48, 0x8b, 0x53, 0x18, 0x4c, 0x8b, 0x53, 0x20,
	0x4c, 0x8b, 0x43, 0x28, 0x4c, 0x8b, 0x4b, 0x30, 0x0f, 0x05, 0x48, 0x89,
	0x43, 0x38, 0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, 0x73, 0x09, 0x48, 0x83,
	0xc3, 0x40, 0x49, 0xff, 0xcc, 0xeb, 0xc9, 0xcc,
};

_Static_assert(sizeof(struct ptr_call) == 64, "the batch loop's table entry");

int ptr_batch(struct ptr_inject *ij, uint64_t code, uint64_t table, struct ptr_call *calls,
	      size_t n, size_t *done)
{
	struct user_regs_struct r = ij->saved;
	size_t left;
	int st, err;

	*done = 0;
	if (!n)
		return 0;
	err = ptr_write_mem(ij->pid, table, calls, n * sizeof(*calls));
	if (err)
		return err;
	r.rip = code;
	r.rbx = table;
	r.r12 = n;
	r.orig_rax = (unsigned long long)-1; /* no restart logic on our frame */
	err = ptr_setregs(ij->pid, &r);
	if (err)
		return err;
	if (ptrace(PTRACE_CONT, ij->pid, NULL, NULL) < 0) {
		err = errno;
		pr_err("continue %d into a batch: %s", ij->pid, ptr_why(err));
		return -err;
	}
	err = ptr_wait_stop(ij->pid, &st);
	if (err)
		return err;
	if (WSTOPSIG(st) != SIGTRAP) {
		pr_err("a batch of %zu calls in %d stopped with signal %d instead of SIGTRAP", n,
		       ij->pid, WSTOPSIG(st));
		return -EINTR;
	}
	err = ptr_getregs(ij->pid, &r);
	if (err)
		return err;
	left = (size_t)r.r12;
	if (left > n || r.rip != code + PTR_BATCH_CODE_LEN) {
		pr_err("a batch in %d ended at %#llx with %zu calls left", ij->pid, r.rip, left);
		return -EFAULT;
	}
	*done = n - left;
	/* the results: those that ran, and the one that failed */
	return ptr_read_mem(ij->pid, table, calls, (*done + (left ? 1 : 0)) * sizeof(*calls));
}
