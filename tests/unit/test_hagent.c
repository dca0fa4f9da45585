/* Unit tests: mig/hagent.[ch], the resident loop of a migrated process's
 * home side. The loop's code runs for real in a forked child (as it runs
 * in the home process: registers set, no stack used), driven over its
 * socket pair; a signal for it is handled under ptrace the way the deputy
 * does (hagent_fixup at the stop, the signal suppressed). */
#include "mig/hagent.h"
#include "mig/mig.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t code_at;

/* the child: enter the loop with r12 = fd, r13 = msg; never returns */
static void __attribute__((noreturn)) run_loop(int fd, void *msg)
{
	__asm__ volatile("mov %0, %%r12\n\tmov %1, %%r13\n\tjmp *%2"
			 :
			 : "r"((uint64_t)fd), "r"(msg), "r"(code_at)
			 : "r12", "r13", "memory");
	__builtin_unreachable();
}

static long call(int sock, long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	uint64_t msg[7] = { (uint64_t)nr, a0, a1, a2, 0, 0, 0 };
	uint64_t r = 0;

	if (send(sock, msg, sizeof(msg), 0) != (ssize_t)sizeof(msg) ||
		recv(sock, &r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -99999;
	return (long)r;
}

static void test_regs(void)
{
	struct user_regs_struct r, base;
	const uint64_t at = 0x10000;

	memset(&base, 0xab, sizeof(base));
	hagent_start_regs(&r, &base, at, 7, at + HAGENT_PAGE);
	ok(r.rip == at && r.r12 == 7 && r.r13 == at + HAGENT_PAGE &&
			r.orig_rax == (unsigned long long)-1 && !(r.eflags & 0x100) && r.rbx == base.rbx,
		"start registers: rip, fd, msg, no syscall to restart, no trap flag");
	ok(hagent_idle(&r, at), "at the start it is idle");

	/* waiting for a request, interrupted: restarts as usual */
	r.rip = at + 18, r.rax = (unsigned long long)-MIG_ERESTARTSYS, r.orig_rax = SYS_read;
	ok(!hagent_fixup(&r, at) && hagent_idle(&r, at), "interrupted request read: left to restart");
	/* a request read but not run: answered without running */
	r.rip = at + 18, r.rax = HAGENT_REQ_SIZE, r.orig_rax = SYS_read;
	ok(hagent_fixup(&r, at) && r.rip == at + 68 &&
			r.rax == (unsigned long long)-MIG_ERESTARTNOINTR &&
			r.orig_rax == (unsigned long long)-1,
		"request read, call not started: -ERESTARTNOINTR, nothing restarted");
	r.rip = at + 50, r.rax = 1234, r.orig_rax = (unsigned long long)-1;
	ok(hagent_fixup(&r, at) && r.rip == at + 68, "loading the request: not run either");
	r.rip = at + 66;
	ok(hagent_fixup(&r, at) && r.rip == at + 68, "on the syscall instruction: not run either");
	/* the call interrupted: its restart code goes back */
	r.rip = at + 68, r.rax = (unsigned long long)-MIG_ERESTARTSYS, r.orig_rax = SYS_read;
	ok(hagent_fixup(&r, at) && r.rax == (unsigned long long)-MIG_ERESTARTSYS &&
			r.orig_rax == (unsigned long long)-1,
		"call interrupted: its -ERESTARTSYS returns, not restarted at home");
	/* the call done: nothing */
	r.rip = at + 68, r.rax = 5, r.orig_rax = SYS_write;
	ok(!hagent_fixup(&r, at), "call done: left alone");
	r.rip = at + 90, r.rax = (unsigned long long)-MIG_ERESTARTSYS, r.orig_rax = SYS_write;
	ok(!hagent_fixup(&r, at), "answer interrupted: restarts");
	r.rip = at - 2;
	ok(!hagent_fixup(&r, at) && !hagent_idle(&r, at), "outside the loop: nothing");
}

static void test_live(void)
{
	size_t len;
	const uint8_t *code = hagent_code(&len);
	void *page = mmap(NULL, 2 * HAGENT_PAGE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int sv[2], pp[2], st;
	char c = 0;
	pid_t pid;
	long r;

	if (page == MAP_FAILED || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) || pipe(pp)) {
		ok(0, "set up");
		return;
	}
	memcpy(page, code, len);
	if (mprotect(page, HAGENT_PAGE, PROT_READ | PROT_EXEC)) {
		ok(0, "mprotect");
		return;
	}
	code_at = (uint64_t)page;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		run_loop(sv[1], (uint8_t *)page + HAGENT_PAGE);
	}
	close(sv[1]);
	is_int(call(sv[0], SYS_getppid, 0, 0, 0), getpid(), "getppid runs in the loop's process");
	is_int(call(sv[0], SYS_getpid, 0, 0, 0), pid, "getpid too");
	is_int(call(sv[0], SYS_close, 12345, 0, 0), -EBADF, "errors come back as -errno");
	/* its descriptors are its own: write into the pipe it inherited */
	ok(call(sv[0], SYS_write, (uint64_t)pp[1], (uint64_t)(uintptr_t)"x", 1) == 1 &&
			read(pp[0], &c, 1) == 1 && c == 'x',
		"a write to its pipe arrives");

	/* under ptrace, like the deputy: a signal while it waits for a
	 * request restarts that read; one during a blocked call fails it
	 * with its restart code */
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
		ok(0, "seize: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	kill(pid, SIGUSR1);
	ok(waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGUSR1,
		"a signal stops it");
	{
		struct user_regs_struct regs;

		bool got = ptrace(PTRACE_GETREGS, pid, NULL, &regs) == 0;

		ok(got && hagent_idle(&regs, code_at) && !hagent_fixup(&regs, code_at),
			"idle at the stop: nothing to fix (at +%lld, rax %lld, orig %lld)",
			(long long)(regs.rip - code_at), (long long)regs.rax, (long long)regs.orig_rax);
	}
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	is_int(call(sv[0], SYS_getppid, 0, 0, 0), getpid(), "the request read restarted");

	uint64_t msg[7] = { SYS_read, (uint64_t)pp[0], (uint64_t)(uintptr_t)page + HAGENT_PAGE + 64,
		1, 0, 0, 0 };

	if (send(sv[0], msg, sizeof(msg), 0) != (ssize_t)sizeof(msg))
		ok(0, "send");
	usleep(50000); /* let it block in the read (either way the answer is right) */
	kill(pid, SIGUSR1);
	for (;;) {
		struct user_regs_struct regs;

		if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st))
			break;
		if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) == 0 && hagent_fixup(&regs, code_at))
			ptrace(PTRACE_SETREGS, pid, NULL, &regs);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		break;
	}
	if (recv(sv[0], &r, sizeof(r), 0) != sizeof(r))
		r = 0;
	ok(MIG_IS_RESTART(r), "a blocked call interrupted by a signal answers a restart code (%ld)",
		r);
	close(sv[0]); /* EOF: it parks for good */
	kill(pid, SIGKILL);
	waitpid(pid, &st, __WALL);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "it ends by SIGKILL");
	close(pp[0]);
	close(pp[1]);
	munmap(page, 2 * HAGENT_PAGE);
}

int main(void)
{
	test_regs();
	test_live();
	return tap_done();
}
