/* signals: handler state moves. SIGUSR2 has an SA_SIGINFO|SA_RESTART handler
 * with a mask (the harness sends it after the move); SIGHUP is blocked and
 * pending (raised before the move); SIGPIPE is ignored; a SIGSEGV handler
 * runs on the sigaltstack (SA_ONSTACK) for a fault made after the move. */
#include "victim.h"

#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>

#define ALT_SIZE (64 * 1024)

static volatile sig_atomic_t usr2_count, usr2_code, segv_on_alt;
static volatile uintptr_t segv_addr;
static char *alt;
static sigjmp_buf segv_jmp;

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGUSR2 && si->si_signo == SIGUSR2)
		usr2_code = si->si_code;
	usr2_count++;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	char here;

	(void)sig;
	(void)uc;
	segv_on_alt = &here >= alt && &here < alt + ALT_SIZE;
	segv_addr = (uintptr_t)si->si_addr;
	siglongjmp(segv_jmp, 1);
}

int main(void)
{
	struct sigaction sa, old;
	sigset_t set, pend;
	stack_t ss;
	char *noaccess;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr2;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGUSR2, &sa, NULL);

	alt = malloc(ALT_SIZE);
	ss = (stack_t){ .ss_sp = alt, .ss_size = ALT_SIZE };
	if (!alt || sigaltstack(&ss, NULL))
		return v_fail("sigaltstack");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGHUP);
	noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (noaccess == MAP_FAILED)
		return v_fail("mmap");

	v_ready();
	v_wait();
	for (int i = 0; i < 500 && !usr2_count; i++)
		usleep(10000);

	if (usr2_count != 1)
		return v_fail("SIGUSR2 handler ran %d times, want 1", (int)usr2_count);
	if (usr2_code != SI_USER)
		return v_fail("SIGUSR2 si_code %d, want SI_USER", (int)usr2_code);
	sigaction(SIGUSR2, NULL, &old);
	if (old.sa_sigaction != on_usr2 || !(old.sa_flags & SA_SIGINFO) ||
	    !(old.sa_flags & SA_RESTART) || !sigismember(&old.sa_mask, SIGTERM))
		return v_fail("SIGUSR2 action changed (flags %#x)", old.sa_flags);
	sigaction(SIGPIPE, NULL, &old);
	if (old.sa_handler != SIG_IGN)
		return v_fail("SIGPIPE no longer ignored");
	sigprocmask(SIG_BLOCK, NULL, &set);
	if (!sigismember(&set, SIGHUP) || sigismember(&set, SIGUSR2))
		return v_fail("signal mask changed");
	sigpending(&pend);
	if (!sigismember(&pend, SIGHUP))
		return v_fail("the blocked SIGHUP is no longer pending");
	if (sigaltstack(NULL, &ss) || ss.ss_sp != alt || ss.ss_size != ALT_SIZE)
		return v_fail("sigaltstack changed");
	if (sigsetjmp(segv_jmp, 1) == 0) {
		*(volatile char *)noaccess = 1;
		return v_fail("no SIGSEGV");
	}
	if (!segv_on_alt)
		return v_fail("SIGSEGV handler did not run on the alternate stack");
	if (segv_addr != (uintptr_t)noaccess)
		return v_fail("SIGSEGV at %#lx, want %p", (unsigned long)segv_addr, noaccess);
	return v_pass();
}
