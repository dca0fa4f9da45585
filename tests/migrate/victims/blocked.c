/* blocked: moved while blocked in a system call.
 *   blocked read       in read(0) (the harness's fifo) at the move. The harness
 *                      then sends SIGUSR2 (an SA_RESTART handler: the read
 *                      must restart, not fail with EINTR) and writes
 *                      "hello\n", which the read returns at the remote.
 *   blocked eintr      the same, but the handler has no SA_RESTART: the read
 *                      fails with EINTR, as it would at home.
 *   blocked pipe       in read() on a pipe whose writer is a child at home;
 *                      the child copies the harness's line from stdin into
 *                      the pipe, then exits 0 (reaped after the move).
 *   blocked nanosleep  in a 2 s nanosleep at the move: it completes without
 *                      EINTR (a stop does not end a sleep natively either),
 *                      at least 2 s in all.
 *   blocked wait       in waitpid() for a child left at home, which reads the
 *                      harness's line from stdin and exits 7: the wait
 *                      returns its pid and status after the move.
 *   blocked poll       in poll() on stdin (no timeout) at the move; the
 *                      harness's line makes it return POLLIN, then read(). */
#include "victim.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t usr2;

static void on_usr2(int sig)
{
	(void)sig;
	usr2++;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int check_line(const char *what, ssize_t n, const char *buf)
{
	if (n != 6 || memcmp(buf, "hello\n", 6))
		return v_fail("%s returned %zd (%s)", what, n,
			n < 0 ? strerror(errno) : "unexpected data");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "read";
	char buf[64];
	ssize_t n;

	if (!strcmp(mode, "read") || !strcmp(mode, "eintr")) {
		bool restart = !strcmp(mode, "read");
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr2;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigaction(SIGUSR2, &sa, NULL);
		v_ready();
		n = read(0, buf, sizeof(buf));
		if (!restart && (n != -1 || errno != EINTR))
			return v_fail("read(0) returned %zd (%s), want EINTR", n,
				n < 0 ? strerror(errno) : "data");
		if (restart && check_line("read(0)", n, buf))
			return 1;
		if (usr2 != 1)
			return v_fail("the SIGUSR2 handler ran %d times, want 1", (int)usr2);
	} else if (!strcmp(mode, "pipe")) {
		int p[2], st;
		pid_t pid;

		if (pipe(p))
			return v_fail("pipe: %s", strerror(errno));
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return v_fail("fork: %s", strerror(errno));
		if (pid == 0) {
			close(p[0]);
			n = read(0, buf, sizeof(buf));
			_exit(n > 0 && write(p[1], buf, (size_t)n) == n ? 0 : 3);
		}
		close(p[1]);
		close(0);
		v_ready();
		n = read(p[0], buf, sizeof(buf));
		if (check_line("read(pipe)", n, buf))
			return 1;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			return v_fail("the child: status %#x (%s)", st, strerror(errno));
	} else if (!strcmp(mode, "nanosleep")) {
		struct timespec req = { 2, 0 }, rem;
		double t0, el;
		int eintr = 0;
		sigset_t usr1, old;

		/* the harness's SIGUSR1 may come during the sleep: it waits */
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, &old);
		v_ready();
		t0 = mono();
		while (nanosleep(&req, &rem)) {
			if (errno != EINTR)
				return v_fail("nanosleep: %s", strerror(errno));
			eintr++;
			req = rem;
		}
		el = mono() - t0;
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (eintr)
			return v_fail("nanosleep failed with EINTR %d times", eintr);
		if (el < 2 || el > 30)
			return v_fail("slept %.3f s (%d EINTR), want 2", el, eintr);
	} else if (!strcmp(mode, "wait")) {
		int st = 0;
		pid_t pid, got;

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return v_fail("fork: %s", strerror(errno));
		if (pid == 0) {
			n = read(0, buf, sizeof(buf));
			_exit(n == 6 && !memcmp(buf, "hello\n", 6) ? 7 : 3);
		}
		close(0);
		v_ready();
		got = waitpid(pid, &st, 0);
		if (got != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
			return v_fail("waitpid returned %d (%s), status %#x, want %d exited 7",
				(int)got, got < 0 ? strerror(errno) : "ok", st, (int)pid);
	} else if (!strcmp(mode, "poll")) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		int r;

		v_ready();
		r = poll(&pfd, 1, -1);
		if (r != 1 || !(pfd.revents & POLLIN))
			return v_fail("poll returned %d (%s), revents %#x", r,
				r < 0 ? strerror(errno) : "ok", pfd.revents);
		n = read(0, buf, sizeof(buf));
		if (check_line("read(0) after poll", n, buf))
			return 1;
	} else {
		return v_fail("unknown mode %s", mode);
	}
	v_wait();
	return v_pass();
}
