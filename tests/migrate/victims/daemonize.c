/* daemonize: the classic double fork, after a move. The child calls
 * setsid() and forks the daemon, then exits; the parent reaps the child
 * (exit 0) and prints "daemon PID" and PASS. The daemon (reparented to
 * init at home, leader of its own session) checks getsid/getpgrp, says
 * "daemon up" through the inherited stdout, and runs until SIGTERM, when
 * it exits 0.
 */
#include "victim.h"

#include <errno.h>
#include <sys/wait.h>

static volatile sig_atomic_t term;

static void on_term(int sig)
{
	(void)sig;
	term = 1;
}

static void daemon_main(int fd)
{
	pid_t me = getpid();
	char msg[64];
	int n;

	signal(SIGTERM, on_term);
	if (getsid(0) != getppid() && getpgrp() == me)
		_exit(3); /* not a session's member but a group leader: wrong */
	n = snprintf(msg, sizeof(msg), "daemon up %d sid %d\n", (int)me, (int)getsid(0));
	if (write(fd, msg, (size_t)n) != n)
		_exit(4);
	while (!term)
		;
	_exit(0);
}

int main(void)
{
	int fds[2], st;
	pid_t c, d = 0;

	v_ready();
	v_wait();
	if (pipe(fds) < 0)
		return v_fail("pipe");
	c = fork();
	if (c < 0)
		return v_fail("fork: %s", strerror(errno));
	if (c == 0) {
		pid_t sid = setsid();

		if (sid != getpid())
			_exit(10);
		d = fork();
		if (d < 0)
			_exit(11);
		if (d == 0) {
			close(fds[0]);
			daemon_main(1);
		}
		if (write(fds[1], &d, sizeof(d)) != sizeof(d))
			_exit(12);
		_exit(0);
	}
	close(fds[1]);
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return v_fail("middle child: status %#x", st);
	if (read(fds[0], &d, sizeof(d)) != sizeof(d))
		return v_fail("no daemon pid");
	printf("daemon %d\n", (int)d);
	return v_pass();
}
