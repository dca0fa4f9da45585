/* sleepcall: moved while blocked in a system call.
 *   sleepcall read       blocked in read(0): the harness writes "hello\n" to
 *                        stdin after the move; the read restarts and gets it.
 *   sleepcall nanosleep  a 1.5 s nanosleep (EINTR resumed with the remaining
 *                        time) must last at least 1.5 s in total. */
#include "victim.h"

#include <errno.h>
#include <time.h>

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "read";

	if (!strcmp(mode, "read")) {
		char buf[64];
		ssize_t n;

		v_ready();
		n = read(0, buf, sizeof(buf));
		if (n != 6 || memcmp(buf, "hello\n", 6))
			return v_fail("read returned %zd (%s)", n, n < 0 ? strerror(errno) : "data");
	} else if (!strcmp(mode, "nanosleep")) {
		struct timespec req = { 1, 500000000 }, rem;
		double t0, el;
		int eintr = 0;

		v_ready();
		t0 = mono();
		while (nanosleep(&req, &rem)) {
			if (errno != EINTR)
				return v_fail("nanosleep: %s", strerror(errno));
			eintr++;
			req = rem;
		}
		el = mono() - t0;
		if (el < 1.5 || el > 20)
			return v_fail("slept %.3f s (%d EINTR), want 1.5", el, eintr);
	} else {
		return v_fail("unknown mode %s", mode);
	}
	v_wait();
	return v_pass();
}
