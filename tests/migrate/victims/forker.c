/* forker: fork after a move. Moved away, it forks N children (fork, vfork,
 * posix_spawn through clone, and a plain clone-as-fork); each child checks
 * that getpid() and getppid() are its home identity, writes through an
 * inherited descriptor (the offset is shared with the parent), and exits
 * with its own status; one dies of a signal. The parent reaps each with
 * waitpid, WNOHANG polling and waitid, checks the statuses, gets SIGCHLD,
 * checks the shared offset, and prints PASS.
 *
 * usage: forker [N]   (default 4)
 */
#include "victim.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;
static volatile sig_atomic_t nchld;

static void on_chld(int sig)
{
	(void)sig;
	nchld++;
}

static int child(int fd, pid_t parent, int code)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "child %d of %d\n", (int)getpid(), (int)parent);

	if (getppid() != parent)
		_exit(100);
	if (write(fd, line, (size_t)n) != n)
		_exit(101);
	_exit(code);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	char path[] = "/tmp/forker.XXXXXX";
	struct sigaction sa;
	pid_t me, kid[64];
	off_t expect = 0;
	int fd, st;

	if (n < 1 || n > 60)
		return v_fail("bad N");
	fd = mkstemp(path);
	if (fd < 0)
		return v_fail("mkstemp: %s", strerror(errno));
	unlink(path);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	me = getpid();
	v_ready();
	v_wait();
	/* moved by now: N forks, each child exits with 10 + i */
	for (int i = 0; i < n; i++) {
		kid[i] = fork();
		if (kid[i] < 0)
			return v_fail("fork %d: %s", i, strerror(errno));
		if (kid[i] == 0)
			child(fd, me, 10 + i);
		expect += snprintf(NULL, 0, "child %d of %d\n", (int)kid[i], (int)me);
	}
	for (int i = n - 1; i >= 0; i--) {
		if (waitpid(kid[i], &st, 0) != kid[i])
			return v_fail("waitpid %d: %s", (int)kid[i], strerror(errno));
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 10 + i)
			return v_fail("child %d: status %#x, want exit %d", i, st, 10 + i);
	}
	/* the children's writes moved the shared offset */
	if (lseek(fd, 0, SEEK_CUR) != expect)
		return v_fail("shared offset %lld, want %lld", (long long)lseek(fd, 0, SEEK_CUR),
			(long long)expect);
	/* vfork + _exit */
	pid_t v = vfork();

	if (v == 0)
		_exit(42);
	if (v < 0 || waitpid(v, &st, 0) != v || !WIFEXITED(st) || WEXITSTATUS(st) != 42)
		return v_fail("vfork: %d status %#x", (int)v, st);
	/* a child killed by a signal, reaped with waitid after WNOHANG polling */
	pid_t k = fork();

	if (k == 0) {
		pause();
		_exit(1);
	}
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)k, &si, WEXITED | WNOHANG) < 0 || si.si_pid != 0)
		return v_fail("WNOHANG on a live child");
	kill(k, SIGTERM);
	if (waitid(P_PID, (id_t)k, &si, WEXITED) < 0 || si.si_pid != k || si.si_code != CLD_KILLED ||
		si.si_status != SIGTERM)
		return v_fail("waitid: pid %d code %d status %d", (int)si.si_pid, si.si_code,
			si.si_status);
	/* posix_spawn (clone(CLONE_VM|CLONE_VFORK) in glibc) of a real program */
	pid_t sp;
	char *args[] = { "sh", "-c", "exit 7", NULL };

	if (posix_spawn(&sp, "/bin/sh", NULL, NULL, args, environ))
		return v_fail("posix_spawn");
	if (waitpid(sp, &st, 0) != sp || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return v_fail("posix_spawn: status %#x", st);
	if (nchld < 1)
		return v_fail("no SIGCHLD");
	if (errno = 0, wait(NULL) != -1 || errno != ECHILD)
		return v_fail("a child left over");
	return v_pass();
}
