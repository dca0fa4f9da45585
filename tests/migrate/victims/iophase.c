/* iophase [idle]: a job that changes its nature. It computes until SIGUSR1,
 * then does nothing but small reads of a file (each one a forwarded call
 * while it runs away from home), or with "idle" nothing but sleep, until
 * SIGUSR2, and checks every byte it read. For the balancer: an I/O-heavy
 * process away should come home; an idle one's demand should fall. */
#include "victim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

static volatile sig_atomic_t stop_io;

static void on_usr2(int sig)
{
	(void)sig;
	stop_io = 1;
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/om-iophase.XXXXXX";
	unsigned char data[256], c;
	volatile uint64_t sum = 1;
	uint64_t n = 0, reads = 0;
	struct sigaction sa;
	int fd = mkstemp(path);

	if (fd < 0)
		return v_fail("mkstemp: %s", strerror(errno));
	unlink(path);
	for (int i = 0; i < 256; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	if (write(fd, data, sizeof(data)) != (ssize_t)sizeof(data))
		return v_fail("write: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);
	v_ready();
	alarm(0); /* runs as long as the harness wants */
	while (!v_go)
		sum = sum * 6364136223846793005ULL + ++n;
	if (argc > 1 && !strcmp(argv[1], "idle")) {
		sigset_t block, old;

		sigemptyset(&block);
		sigaddset(&block, SIGUSR2);
		sigprocmask(SIG_BLOCK, &block, &old);
		while (!stop_io) {
			sigset_t wait = old;

			sigdelset(&wait, SIGUSR2);
			sigsuspend(&wait);
		}
		return n ? v_pass() : v_fail("it never computed");
	}
	while (!stop_io) {
		off_t off = (off_t)(reads % 256);

		if (pread(fd, &c, 1, off) != 1)
			return v_fail("pread at %lld: %s", (long long)off, strerror(errno));
		if (c != data[off])
			return v_fail("byte %lld is %u, want %u", (long long)off, c, data[off]);
		reads++;
	}
	if (reads < 100)
		return v_fail("only %llu reads", (unsigned long long)reads);
	if (!n)
		return v_fail("it never computed");
	return v_pass();
}
