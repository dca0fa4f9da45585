/* pipes: a child forked before the move stays home, connected by two pipes.
 * After the move the victim sends it a request and reads its answer, then
 * reaps it at home with waitpid: exit status 7. */
#include "victim.h"

#include <errno.h>
#include <sys/wait.h>

static int child(int rd, int wr)
{
	char req[32], ans[64];
	ssize_t n = read(rd, req, sizeof(req) - 1);
	int len;

	if (n <= 0)
		_exit(3);
	req[n] = 0;
	len = snprintf(ans, sizeof(ans), "answer to %s from %d", req, (int)getpid());
	if (write(wr, ans, (size_t)len) != len)
		_exit(4);
	_exit(7);
}

int main(void)
{
	int to[2], from[2], st;
	char buf[64], want[64];
	pid_t pid, w;
	ssize_t n;

	if (pipe(to) || pipe(from))
		return v_fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return v_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		return child(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	v_ready();
	v_wait();
	if (write(to[1], "ping", 4) != 4)
		return v_fail("write the request: %s", strerror(errno));
	n = read(from[0], buf, sizeof(buf) - 1);
	if (n < 0)
		return v_fail("read the answer: %s", strerror(errno));
	buf[n] = 0;
	snprintf(want, sizeof(want), "answer to ping from %d", (int)pid);
	if (strcmp(buf, want))
		return v_fail("answer '%s', want '%s'", buf, want);
	n = read(from[0], buf, sizeof(buf));
	if (n != 0)
		return v_fail("after the answer: read gave %zd, want 0 (EOF)", n);
	/* at home SIGCHLD is ignored by default: no EINTR is expected */
	w = waitpid(pid, &st, 0);
	if (w != pid)
		return v_fail("waitpid gave %d: %s", (int)w, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return v_fail("child status %#x, want exit 7", st);
	if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD)
		return v_fail("a second waitpid did not fail with ECHILD");
	return v_pass();
}
