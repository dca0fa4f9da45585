/* victim.h: the zdtm-style protocol shared by the victims (header only).
 *
 * A victim sets up its state, calls v_ready() (prints READY), then runs until
 * the harness sends SIGUSR1 (v_go set) after moving it, verifies, and ends
 * with v_pass() or v_fail(): PASS or "FAIL: reason" on stdout, exit 0 or 1.
 * Nothing else goes to stdout. A victim that hangs dies of SIGALRM.
 */
#ifndef OM_VICTIM_H
#define OM_VICTIM_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t v_go;

static void v_on_usr1(int sig)
{
	(void)sig;
	v_go = 1;
}

static inline void v_ready(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = v_on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	alarm(120);
	fputs("READY\n", stdout);
	fflush(stdout);
}

/* sleep in sigsuspend until SIGUSR1 came */
static inline void v_wait(void)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!v_go) {
		sigset_t wait = old;

		sigdelset(&wait, SIGUSR1);
		sigsuspend(&wait);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static inline int v_pass(void)
{
	fputs("PASS\n", stdout);
	fflush(stdout);
	return 0;
}

static inline __attribute__((format(printf, 1, 2))) int v_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\n", stdout);
	fflush(stdout);
	return 1;
}

#endif
