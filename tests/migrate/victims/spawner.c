/* spawner: programs started after a move, every way libc has: vfork and
 * exec (the child execs at home, the parent resumes only after that: it
 * checks it waited for a child that dawdles before its exec), posix_spawn,
 * system() and popen(); each runs a shell that prints a line and exits with
 * its own status, which the parent checks. clone3 answers ENOSYS after a
 * move (glibc then falls back to clone, which posix_spawn just used).
 */
#include "victim.h"

#include <errno.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(void)
{
	char *args[] = { "sh", "-c", "echo spawned $PPID; exit 6", NULL };
	char line[64] = "";
	pid_t v, sp;
	FILE *p;
	int st;

	v_ready();
	v_wait();
	/* vfork + exec: the parent is suspended until the child execs (the
	 * child dawdles 300 ms first) */
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	v = vfork();
	if (v == 0) {
		usleep(300000);
		execl("/bin/sh", "sh", "-c", "echo vforked $PPID; exit 5", (char *)NULL);
		_exit(127);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 300)
		return v_fail("vfork: the parent went on before its child's exec");
	if (v < 0 || waitpid(v, &st, 0) != v || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
		return v_fail("vfork+exec: %d status %#x", (int)v, st);
	if (posix_spawn(&sp, "/bin/sh", NULL, NULL, args, environ))
		return v_fail("posix_spawn");
	if (waitpid(sp, &st, 0) != sp || !WIFEXITED(st) || WEXITSTATUS(st) != 6)
		return v_fail("posix_spawn: status %#x", st);
	st = system("echo system; exit 7");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return v_fail("system: status %#x", st);
	p = popen("echo popen-line", "r");
	if (!p || !fgets(line, sizeof(line), p) || strcmp(line, "popen-line\n"))
		return v_fail("popen: read '%s'", line);
	st = pclose(p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return v_fail("pclose: status %#x", st);
#ifdef SYS_clone3
	{
		/* an empty clone3 (fork-like): refused with ENOSYS after a move */
		struct {
			unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack,
				stack_size, tls;
		} ca = { .exit_signal = SIGCHLD };
		long r = syscall(SYS_clone3, &ca, sizeof(ca));

		if (r == 0)
			_exit(0);
		if (r > 0) {
			waitpid((pid_t)r, NULL, 0);
			printf("clone3 ran\n");
		} else {
			printf("clone3 %s\n", errno == ENOSYS ? "ENOSYS" : strerror(errno));
		}
	}
#endif
	return v_pass();
}
