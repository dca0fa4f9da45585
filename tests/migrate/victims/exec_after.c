/* exec_after: execve after a move. The first program sets up what an exec
 * must keep or reset, is moved away, then execs itself; the new program
 * (which runs at home: exec goes home) checks that argv and envp arrived,
 * the pid is the same, an FD_CLOEXEC descriptor is closed and a plain one
 * is open with its offset, a caught signal is back to SIG_DFL while an
 * ignored one stays ignored, and the signal mask is kept. It says EXECED,
 * waits for SIGUSR1 again (the harness moves the new program too), then
 * says PASS and exits with status 3.
 *
 * usage: exec_after            (first program)
 *        exec_after second PID (the exec'd program; internal)
 */
#include "victim.h"

#include <errno.h>
#include <fcntl.h>

static void on_usr2(int sig)
{
	(void)sig;
}

static int first(const char *self)
{
	struct sigaction sa;
	sigset_t m;
	char pid[32];
	int keep, gone;

	keep = open("/proc/self/exe", O_RDONLY); /* lands on fd 3 */
	gone = open("/dev/null", O_RDONLY | O_CLOEXEC); /* fd 4 */
	if (keep != 3 || gone != 4)
		return v_fail("fds %d %d", keep, gone);
	if (lseek(keep, 5, SEEK_SET) != 5)
		return v_fail("lseek");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	setenv("EXEC_AFTER", "kept across exec", 1);
	v_ready();
	v_wait();
	/* moved by now: exec (SIGHUP blocked: the mask must survive) */
	sigemptyset(&m);
	sigaddset(&m, SIGHUP);
	sigprocmask(SIG_BLOCK, &m, NULL);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	v_go = 0;
	execl(self, "exec_after", "second", pid, (char *)NULL);
	return v_fail("execl: %s", strerror(errno));
}

static int second(const char *pid)
{
	struct sigaction sa;
	sigset_t m;
	const char *env = getenv("EXEC_AFTER");

	if (atoi(pid) != (int)getpid())
		return v_fail("pid %d, was %s", (int)getpid(), pid);
	if (!env || strcmp(env, "kept across exec"))
		return v_fail("environment: %s", env ? env : "(unset)");
	if (lseek(3, 0, SEEK_CUR) != 5)
		return v_fail("fd 3 lost its offset or is closed");
	if (fcntl(4, F_GETFD) != -1 || errno != EBADF)
		return v_fail("FD_CLOEXEC fd 4 is still open");
	sigaction(SIGUSR2, NULL, &sa);
	if (sa.sa_handler != SIG_DFL)
		return v_fail("SIGUSR2 handler not reset");
	sigaction(SIGINT, NULL, &sa);
	if (sa.sa_handler != SIG_IGN)
		return v_fail("ignored SIGINT not kept");
	sigprocmask(SIG_SETMASK, NULL, &m);
	if (!sigismember(&m, SIGHUP))
		return v_fail("blocked mask not kept");
	printf("EXECED\n");
	fflush(stdout);
	/* the new program may move too; SIGUSR1 says go */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = v_on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	v_wait();
	v_pass();
	return 3;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "second"))
		return second(argv[2]);
	return first("/proc/self/exe");
}
