/* mig_helper: the programs bench/migrate.sh runs; not a benchmark itself
 * (bench/run.sh skips names ending in _helper). Each subcommand prints
 * one or more result lines "WHAT key=value ..." on stdout, times in ns.
 *
 *   mem MIB          the migration victim: MIB MiB of anonymous memory
 *                    filled with a pattern, READY, then spins reading
 *                    CLOCK_MONOTONIC (vDSO: no system call, nothing
 *                    forwarded) until SIGUSR1 and keeps the longest gap
 *                    between two readings: the time it was frozen. Then
 *                    checks one word per page and reports.
 *   stream MIB REPS  the physical reference for moving MIB MiB: a child
 *                    sends them over loopback TCP from populated memory,
 *                    we receive into memory freshly mmap'd with
 *                    MAP_POPULATE; timed from accept() (populate included)
 *                    to the last byte. Median of REPS.
 *   pingpong N       loopback TCP round trip, 1 byte each way, TCP_NODELAY,
 *                    N round trips after a warm-up; median and p99.
 *   fwd FILE [wait]  times 10000 getppid(), 10000 1-byte write()s to a
 *                    pipe to itself (drained, untimed), 1000 64 KiB
 *                    pread()s of FILE; with "wait", first READY and wait
 *                    for SIGUSR1 (the harness migrates it meanwhile).
 *   agentlink FILE [traced]
 *                    the same loops as fwd, through the direct link of
 *                    agent/agent.h between two local processes (the agent
 *                    blob at both ends, loopback TCP), without the
 *                    migration engine: what the mechanism costs; with
 *                    "traced", a ptrace tracer sits on the copy as the
 *                    remote does today (each trap is then also a stop)
 *   cpu ITERS        fixed CPU work; prints its own time
 *   getppid N        N getppid() system calls; prints its own time
 *   overhead MOSRUN RUNS CPU_ITERS NCALLS
 *                    runs "cpu" and "getppid" RUNS times each, alternately
 *                    plain and under MOSRUN; median, min and max wall
 *                    times (fork to reap), median CPU times (wait4) and
 *                    median in-program times.
 *
 * Exit: 0 ok, 1 a check failed, 2 usage, 3 a system call failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/afast.h"
#include "agent/agent.h"
#include "lib/util.h"

#include <sodium.h>

#define EXIT_CHECK 1
#define EXIT_USAGE 2
#define EXIT_SYS 3

#define MIB (1UL << 20)
#define PAGE 4096UL

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

static void __attribute__((noreturn)) die_sys(const char *what)
{
	fprintf(stderr, "mig_helper: %s: %s\n", what, strerror(errno));
	exit(EXIT_SYS);
}

static void catch_usr1(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL))
		die_sys("sigaction");
}

static void ready(void)
{
	fputs("READY\n", stdout);
	fflush(stdout);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* sorts v; the q-quantile (nearest rank) */
static uint64_t quantile(uint64_t *v, size_t n, double q)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	i = (size_t)(q * (double)n + 0.5);
	if (i > 0)
		i--;
	return v[MIN(i, n - 1)];
}

static uint64_t pattern(uint64_t i)
{
	return i * 0x9e3779b97f4a7c15ULL ^ (i >> 11);
}

/* ------------------------------------------------------------------ mem --- */

static int cmd_mem(long mib)
{
	size_t len = (size_t)mib * MIB, bad = 0;
	uint64_t *w, prev, t, gap = 0;

	w = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED)
		die_sys("mmap");
	for (size_t i = 0; i < len / 8; i++)
		w[i] = pattern(i);
	catch_usr1();
	alarm(600); /* never outlive a broken harness for long */
	ready();
	prev = now_ns();
	while (!go) {
		t = now_ns();
		if (t - prev > gap)
			gap = t - prev;
		prev = t;
	}
	for (size_t i = 0; i < len / 8; i += PAGE / 8)
		bad += w[i] != pattern(i);
	printf("mem mib=%ld frozen_ns=%llu bad_pages=%zu\n", mib, (unsigned long long)gap, bad);
	fflush(stdout);
	return bad ? EXIT_CHECK : 0;
}

/* ----------------------------------------------------------- tcp helpers --- */

/* a listening socket on 127.0.0.1, any port; *port set */
static int tcp_listen(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die_sys("socket");
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1) ||
		getsockname(fd, (struct sockaddr *)&sa, &sl))
		die_sys("bind/listen");
	*port = ntohs(sa.sin_port);
	return fd;
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die_sys("socket");
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die_sys("connect");
	return fd;
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die_sys("TCP_NODELAY");
}

static void reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "mig_helper: child %d failed (status 0x%x)\n", pid, st);
		exit(EXIT_SYS);
	}
}

/* --------------------------------------------------------------- stream --- */

static void stream_send(uint16_t port, size_t len)
{
	uint8_t *src = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	size_t off = 0;
	int fd;

	if (src == MAP_FAILED)
		die_sys("mmap");
	for (size_t i = 0; i < len; i += PAGE)
		src[i] = (uint8_t)i; /* resident, not the zero page */
	fd = tcp_connect(port);
	while (off < len) {
		ssize_t n = send(fd, src + off, len - off, 0);

		if (n < 0 && errno != EINTR)
			die_sys("send");
		if (n > 0)
			off += (size_t)n;
	}
	close(fd);
	_exit(0);
}

/* one transfer; total and populate times */
static void stream_once(size_t len, uint64_t *total, uint64_t *pop)
{
	uint16_t port;
	int lfd = tcp_listen(&port), fd;
	pid_t pid = fork();
	uint64_t t0;
	uint8_t *dst;
	size_t off = 0;

	if (pid < 0)
		die_sys("fork");
	if (pid == 0)
		stream_send(port, len);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die_sys("accept");
	t0 = now_ns();
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		-1, 0);
	if (dst == MAP_FAILED)
		die_sys("mmap");
	*pop = now_ns() - t0;
	while (off < len) {
		ssize_t n = recv(fd, dst + off, len - off, 0);

		if (n < 0 && errno != EINTR)
			die_sys("recv");
		if (n == 0) {
			fprintf(stderr, "mig_helper: stream ended after %zu of %zu bytes\n", off, len);
			exit(EXIT_SYS);
		}
		if (n > 0)
			off += (size_t)n;
	}
	*total = now_ns() - t0;
	close(fd);
	close(lfd);
	munmap(dst, len);
	reap(pid);
}

static int cmd_stream(long mib, long reps)
{
	uint64_t total[reps], pop[reps];

	for (long r = 0; r < reps; r++)
		stream_once((size_t)mib * MIB, &total[r], &pop[r]);
	printf("stream mib=%ld total_ns=%llu populate_ns=%llu\n", mib,
		(unsigned long long)quantile(total, (size_t)reps, 0.5),
		(unsigned long long)quantile(pop, (size_t)reps, 0.5));
	return 0;
}

/* ------------------------------------------------------------- pingpong --- */

static void xfer1(int fd, bool out)
{
	char c = 'x';
	ssize_t n;

	do
		n = out ? send(fd, &c, 1, 0) : recv(fd, &c, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		fprintf(stderr, "mig_helper: ping-pong %s: %s\n", out ? "send" : "recv",
			n < 0 ? strerror(errno) : "connection closed");
		exit(EXIT_SYS);
	}
}

static int cmd_pingpong(long n)
{
	uint16_t port;
	int lfd = tcp_listen(&port), fd;
	long warm = n / 10;
	uint64_t *rtt = calloc((size_t)n, sizeof(*rtt));
	pid_t pid;

	if (!rtt)
		die_sys("calloc");
	pid = fork();
	if (pid < 0)
		die_sys("fork");
	if (pid == 0) {
		fd = tcp_connect(port);
		nodelay(fd);
		for (long i = 0; i < n + warm; i++) {
			xfer1(fd, false);
			xfer1(fd, true);
		}
		_exit(0);
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die_sys("accept");
	nodelay(fd);
	for (long i = 0; i < n + warm; i++) {
		uint64_t t0 = now_ns();

		xfer1(fd, true);
		xfer1(fd, false);
		if (i >= warm)
			rtt[i - warm] = now_ns() - t0;
	}
	close(fd);
	close(lfd);
	reap(pid);
	printf("pingpong n=%ld median_ns=%llu p99_ns=%llu p10_ns=%llu\n", n,
		(unsigned long long)quantile(rtt, (size_t)n, 0.5),
		(unsigned long long)quantile(rtt, (size_t)n, 0.99),
		(unsigned long long)quantile(rtt, (size_t)n, 0.1));
	free(rtt);
	return 0;
}

/* ------------------------------------------------------------------ fwd --- */

#define FWD_N 10000
#define FWD_NREAD 1000
#define FWD_WARM 100
#define RDSZ (64UL << 10)

static void report(const char *what, uint64_t *v, size_t n, size_t bytes)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	printf("fwd call=%s n=%zu median_ns=%llu p99_ns=%llu mean_ns=%llu p10_ns=%llu", what, n,
		(unsigned long long)quantile(v, n, 0.5), (unsigned long long)quantile(v, n, 0.99),
		(unsigned long long)(sum / n), (unsigned long long)quantile(v, n, 0.1));
	if (bytes)
		printf(" mb_s=%.0f", (double)bytes * (double)n / ((double)sum / 1e9) / 1e6);
	printf("\n");
}

/* the three timed loops over an open FILE (size bytes) and a pipe p */
static void fwd_run(int fd, off_t size, const int p[2])
{
	static uint64_t t[FWD_N];
	char *buf = malloc(RDSZ), c;
	off_t off = 0;

	if (!buf)
		die_sys("malloc");
	memset(buf, 0, RDSZ);
	for (int i = -FWD_WARM; i < FWD_N; i++) {
		uint64_t t0 = now_ns();

		syscall(SYS_getppid); /* not glibc's: it must enter the kernel */
		if (i >= 0)
			t[i] = now_ns() - t0;
	}
	report("getppid", t, FWD_N, 0);
	for (int i = -FWD_WARM; i < FWD_N; i++) {
		uint64_t t0 = now_ns();

		if (write(p[1], "x", 1) != 1)
			die_sys("write");
		if (i >= 0)
			t[i] = now_ns() - t0;
		if (read(p[0], &c, 1) != 1)
			die_sys("read");
	}
	report("write", t, FWD_N, 0);
	for (int i = -FWD_WARM; i < FWD_NREAD; i++) {
		uint64_t t0 = now_ns();

		if (pread(fd, buf, RDSZ, off) != (ssize_t)RDSZ)
			die_sys("pread");
		if (i >= 0)
			t[i] = now_ns() - t0;
		off += (off_t)RDSZ;
		if (off + (off_t)RDSZ > size)
			off = 0;
	}
	report("pread64k", t, FWD_NREAD, RDSZ);
	fflush(stdout);
	free(buf);
}

static int fwd_open(const char *path, int p[2], off_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || pipe2(p, O_CLOEXEC))
		die_sys(path);
	if (st.st_size < (off_t)RDSZ) {
		fprintf(stderr, "mig_helper: %s: smaller than 64 KiB\n", path);
		exit(EXIT_USAGE);
	}
	*size = st.st_size;
	return fd;
}

static int cmd_fwd(const char *path, bool wait)
{
	int p[2], fd;
	off_t size;

	fd = fwd_open(path, p, &size);
	if (wait) {
		sigset_t block, old;

		catch_usr1();
		alarm(600);
		sigemptyset(&block);
		sigaddset(&block, SIGUSR1);
		sigprocmask(SIG_BLOCK, &block, &old);
		ready();
		sigdelset(&old, SIGUSR1);
		while (!go)
			sigsuspend(&old);
		sigprocmask(SIG_UNBLOCK, &block, NULL);
	}
	fwd_run(fd, size, p);
	return 0;
}

/* ------------------------------------------------------------ agentlink --- */

/* The same loops through the direct link of agent/agent.h, without the
 * migration engine: a "home" process opens FILE and the pipe and serves
 * the link with the agent blob; its child, the "copy", traps its fast-set
 * calls into the blob's SIGSYS handler, which sends them home over
 * loopback TCP (TCP_NODELAY), authenticated. The cost of the mechanism
 * alone: one round trip per call plus trap, MACs and copies. */
static int cmd_agentlink(const char *path, bool traced)
{
	uint8_t *cbase = agent_map_self(0), *hbase = agent_map_self(2 * (AFAST_MAX_IO + 4096));
	uint16_t port;
	int lfd = tcp_listen(&port), cfd, hfd, p[2], fd, st, cp[2];
	off_t size;
	pid_t home, copy;
	long err;

	if (pipe(cp))
		die_sys("pipe");

	if (!cbase || !hbase || sodium_init() < 0)
		die_sys("agent blob");
	agent_link_keys(agent_state_at(cbase), agent_state_at(hbase));
	cfd = tcp_connect(port);
	hfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (hfd < 0)
		die_sys("accept");
	close(lfd);
	nodelay(cfd);
	nodelay(hfd);
	home = fork();
	if (home < 0)
		die_sys("fork");
	if (home == 0) {
		fd = fwd_open(path, p, &size);
		copy = fork();
		if (copy < 0)
			die_sys("fork");
		if (copy == 0) {
			close(hfd);
			if (agent_install_self(cbase, cfd, false))
				die_sys("agent_install_self");
			fwd_run(fd, size, p);
			_exit(0);
		}
		close(cfd);
		if (write(cp[1], &copy, sizeof(copy)) != sizeof(copy))
			die_sys("write");
		agent_state_at(hbase)->fd = hfd;
		err = ((long (*)(void))(void *)(hbase + AGENT_OFF_HOME_MAIN))();
		if (waitpid(copy, &st, 0) != copy || !WIFEXITED(st) || WEXITSTATUS(st))
			_exit(EXIT_SYS);
		_exit(err == -ECONNRESET ? 0 : EXIT_SYS);
	}
	close(cfd);
	close(hfd);
	if (read(cp[0], &copy, sizeof(copy)) != sizeof(copy))
		die_sys("read");
	/* traced: like the remote today, a ptrace tracer of the copy, which
	 * then sees each SIGSYS of the filter as a signal-delivery stop and
	 * passes it on */
	if (traced) {
		if (ptrace(PTRACE_SEIZE, copy, NULL, NULL))
			die_sys("PTRACE_SEIZE");
		while (waitpid(copy, &st, __WALL) == copy && WIFSTOPPED(st))
			ptrace(PTRACE_CONT, copy, NULL, (void *)(long)((st >> 16) ? 0 : WSTOPSIG(st)));
	}
	reap(home);
	return 0;
}

/* ------------------------------------------------------------- overhead --- */

static uint64_t cpu_work(long iters)
{
	uint64_t s = 1;

	for (long i = 0; i < iters; i++)
		s = (s ^ (uint64_t)i) * 6364136223846793005ULL + 1442695040888963407ULL;
	return s;
}

static int cmd_cpu(long iters)
{
	uint64_t t0 = now_ns(), s = cpu_work(iters);

	printf("cpu iters=%ld ns=%llu sum=%llx\n", iters, (unsigned long long)(now_ns() - t0),
		(unsigned long long)s);
	return 0;
}

static int cmd_getppid(long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("getppid n=%ld ns=%llu\n", n, (unsigned long long)(now_ns() - t0));
	return 0;
}

/* run argv; its wall time (fork to reap), the CPU time it used (user +
 * system, from wait4) and the ns= it printed */
static void timed_run(char *const argv[], uint64_t *wall, uint64_t *cpu, uint64_t *inner)
{
	char out[256], *ns;
	ssize_t n, got = 0;
	struct rusage ru;
	int p[2], st;
	uint64_t t0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		die_sys("pipe");
	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		die_sys("fork");
	if (pid == 0) {
		dup2(p[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "mig_helper: %s failed (status 0x%x)\n", argv[0], st);
		exit(EXIT_SYS);
	}
	*wall = now_ns() - t0;
	*cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
		(uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	close(p[0]);
	out[got] = 0;
	ns = strstr(out, " ns=");
	if (!ns) {
		fprintf(stderr, "mig_helper: %s said \"%s\"\n", argv[0], out);
		exit(EXIT_SYS);
	}
	*inner = strtoull(ns + 4, NULL, 10);
}

static int cmd_overhead(const char *self, char *mosrun, long runs, char *iters, char *ncalls)
{
	char *argv[2][2][5] = {
		{ { (char *)self, "cpu", iters, NULL }, { mosrun, (char *)self, "cpu", iters, NULL } },
		{ { (char *)self, "getppid", ncalls, NULL },
			{ mosrun, (char *)self, "getppid", ncalls, NULL } },
	};
	static const char *const names[2] = { "cpu", "getppid" };
	uint64_t wall[2][2][runs], cpu[2][2][runs], inner[2][2][runs];

	for (int w = 0; w < 2; w++) {
		for (long r = 0; r < runs; r++)
			for (int m = 0; m < 2; m++) /* alternate: drift hits both */
				timed_run(argv[w][m], &wall[w][m][r], &cpu[w][m][r],
					&inner[w][m][r]);
		for (int m = 0; m < 2; m++) {
			/* quantile sorts: [0] is then the minimum, [runs - 1] the maximum */
			uint64_t med = quantile(wall[w][m], (size_t)runs, 0.5);

			printf("overhead work=%s mosrun=%d runs=%ld wall_ns=%llu cpu_ns=%llu "
			       "inner_ns=%llu min_ns=%llu max_ns=%llu\n",
				names[w], m, runs, (unsigned long long)med,
				(unsigned long long)quantile(cpu[w][m], (size_t)runs, 0.5),
				(unsigned long long)quantile(inner[w][m], (size_t)runs, 0.5),
				(unsigned long long)wall[w][m][0],
				(unsigned long long)wall[w][m][runs - 1]);
		}
	}
	return 0;
}

static long arg_long(const char *s, long min, long max)
{
	long v;

	if (parse_long(s, min, max, &v)) {
		fprintf(stderr, "mig_helper: bad number \"%s\" (want %ld..%ld)\n", s, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	char self[4096];
	ssize_t n;

	if (!strcmp(cmd, "mem") && argc == 3)
		return cmd_mem(arg_long(argv[2], 1, 1 << 20));
	if (!strcmp(cmd, "stream") && argc == 4)
		return cmd_stream(arg_long(argv[2], 1, 1 << 20), arg_long(argv[3], 1, 100));
	if (!strcmp(cmd, "pingpong") && argc == 3)
		return cmd_pingpong(arg_long(argv[2], 10, 10000000));
	if (!strcmp(cmd, "fwd") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "wait"))))
		return cmd_fwd(argv[2], argc == 4);
	if (!strcmp(cmd, "agentlink") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "traced"))))
		return cmd_agentlink(argv[2], argc == 4);
	if (!strcmp(cmd, "cpu") && argc == 3)
		return cmd_cpu(arg_long(argv[2], 1, 1L << 40));
	if (!strcmp(cmd, "getppid") && argc == 3)
		return cmd_getppid(arg_long(argv[2], 1, 1L << 40));
	if (!strcmp(cmd, "overhead") && argc == 6) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			die_sys("/proc/self/exe");
		self[n] = 0;
		arg_long(argv[4], 1, 1L << 40);
		arg_long(argv[5], 1, 1L << 40);
		return cmd_overhead(self, argv[2], arg_long(argv[3], 1, 100), argv[4], argv[5]);
	}
	fprintf(stderr, "usage: mig_helper mem MIB | stream MIB REPS | pingpong N |\n"
			"       fwd FILE [wait] | agentlink FILE [traced] | cpu ITERS | getppid N |\n"
			"       overhead MOSRUN RUNS CPU_ITERS NCALLS\n");
	return EXIT_USAGE;
}
