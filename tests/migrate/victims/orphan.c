/* orphan: an orphaned process group with a stopped member, after a move.
 * Moved away, it makes a group of its own (setpgid), forks a child that
 * stops itself (SIGSTOP), waits until it sees the stop (WUNTRACED), prints
 * PASS and exits. If its parent is in the same session and whoever adopts
 * the child is not (init, or a subreaper in another session), its group is
 * then orphaned with a stopped member, so the kernel sends the group SIGHUP
 * and SIGCONT: the child, handling both, says so ("child PID hup 1 cont 1")
 * and exits 7 (8 if either is missing).
 *
 * orphan setsid: only setsid() after the move: the new session and group
 * are its home pid, and it has no controlling terminal any more; prints
 * "sid PID", waits for a second SIGUSR1, passes.
 */
#include "victim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>

static volatile sig_atomic_t hup, cont;

static void on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

static void on_cont(int sig)
{
	(void)sig;
	cont = 1;
}

static void child(void)
{
	char line[64];
	int n;

	signal(SIGHUP, on_hup);
	signal(SIGCONT, on_cont);
	alarm(60);
	kill(getpid(), SIGSTOP);
	while (!hup || !cont)
		pause(); /* the alarm ends a wait for signals that never come */
	n = snprintf(line, sizeof(line), "child %d hup %d cont %d\n", (int)getpid(), (int)hup,
		(int)cont);
	if (write(1, line, (size_t)n) != n)
		_exit(9);
	_exit(hup && cont ? 7 : 8);
}

static int new_session(void)
{
	pid_t sid = setsid();

	if (sid < 0)
		return v_fail("setsid: %s", strerror(errno));
	if (sid != getpid() || getsid(0) != getpid() || getpgrp() != getpid())
		return v_fail("setsid %d, getsid %d, getpgrp %d, pid %d", (int)sid, (int)getsid(0),
			(int)getpgrp(), (int)getpid());
	if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO)
		return v_fail("a controlling terminal after setsid (%s)", strerror(errno));
	printf("sid %d\n", (int)sid);
	fflush(stdout);
	v_go = 0;
	v_wait(); /* the harness looks at it meanwhile */
	return v_pass();
}

int main(int argc, char **argv)
{
	pid_t c;
	int st;

	v_ready();
	v_wait();
	if (argc > 1 && !strcmp(argv[1], "setsid"))
		return new_session();
	if (setpgid(0, 0) < 0)
		return v_fail("setpgid: %s", strerror(errno));
	c = fork();
	if (c < 0)
		return v_fail("fork: %s", strerror(errno));
	if (c == 0)
		child();
	if (waitpid(c, &st, WUNTRACED) != c || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
		return v_fail("child %d: status %#x, want stopped by SIGSTOP", (int)c, st);
	printf("child %d stopped\n", (int)c);
	return v_pass();
}
