/* howto_pipe: the HOWTO's pipe test: a producer writes 100000 numbered lines
 * ("%06u\n", one write() each) to a pipe read by another process, slowly
 * enough to be moved mid-way (and home, and out again). READY comes first,
 * PASS last, after SIGUSR1; the harness checks every line arrived in order.
 * Optional arguments: microseconds to sleep after every 100 lines (default
 * 1000), and the number of lines (default 100000). */
#include "victim.h"

#include <errno.h>


int main(int argc, char **argv)
{
	unsigned pause_us = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
	unsigned lines = argc > 2 ? (unsigned)atoi(argv[2]) : 100000u;
	char line[16];

	v_ready();
	for (unsigned i = 1; i <= lines; i++) {
		int n = snprintf(line, sizeof(line), "%06u\n", i);
		ssize_t w = write(1, line, (size_t)n); /* no EINTR: SA_RESTART */
		if (w != n)
			return v_fail("line %u: write gave %zd (%s)", i, w, strerror(errno));
		if (i % 100 == 0 && pause_us)
			usleep(pause_us);
	}
	v_wait();
	return v_pass();
}
