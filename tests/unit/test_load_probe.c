/* test_load_probe: the host and cgroup samplers (load/probe).
 *
 * Fake /proc and cgroup trees (v1 and v2 layouts) check the arithmetic;
 * then the real host probe, and, as root, a real cgroup with a 0.5-core
 * quota and a spinning child.
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "load/probe.h"
#include "tests/unit/tap.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define KiB 1024ull

static char root[64];
static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

/* Write a file under root, in place (the probe keeps fds open), creating
 * directories as needed. */
static __attribute__((format(printf, 2, 3))) void put(const char *rel, const char *fmt, ...)
{
	char path[512], dir[512], *slash;
	va_list ap;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (mkdir_p(dir, 0755))
		printf("# mkdir_p %s failed\n", dir);
	fp = fopen(path, "w");
	if (!fp) {
		printf("# cannot write %s\n", path);
		return;
	}
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
}

static char *slurp(const char *rel)
{
	static char buf[256];
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return NULL;
	return strstrip(buf);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void fake_proc(void)
{
	put("proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
			 "intr 12345 1 2 3\nctxt 999\nbtime 1\nprocesses 50\n"
			 "procs_running 3\nprocs_blocked 1\n");
	put("proc/meminfo", "MemTotal:        8000000 kB\nMemFree:         1000000 kB\n"
			    "MemAvailable:    4000000 kB\nBuffers:           10000 kB\n");
	put("proc/101/stat", "101 (busy) R 1 101 101 0 -1 4194560 0 0 0 0\n");
	put("proc/102/stat", "102 (sleepy (x) ) S 1 102 102 0 -1\n");
	put("proc/103/stat", "103 (a) b) R 1 103 103 0 -1\n"); /* ')' in the name */
	put("proc/105/stat", "105 (zombie) Z 1 105 105 0 -1\n");
	/* 104 is listed by the cgroups but has exited */
}

static void test_host_fake(void)
{
	char mi[128], proc[128];
	struct load_paths paths = {.proc = proc, .mountinfo = mi, .ncpus = 4};
	struct load_sample s;
	struct load_probe *p;

	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(mi, sizeof(mi), "%s/none", root);
	p = load_probe_host_new_at(&paths);
	ok(p != NULL, "fake host probe");
	if (!p)
		return;
	is_str(load_probe_describe(p), "host (4 CPUs)", "host describe");
	put("proc/stat", "cpu  250 0 150 900 0 0 0 0 0 0\nprocs_running 3\n");
	is_int(load_probe_sample(p, &s), 0, "fake host sample");
	ok(fabs(s.util - 200.0 / 3) < 1e-6, "host util from jiffies (%.3f)", s.util);
	ok(s.runnable == 2, "host runnable = procs_running - self (%.0f)", s.runnable);
	ok(s.ncpus == 4 && s.capacity == 4, "host ncpus and capacity");
	ok(s.tmem == 8000000 * KiB && s.mem == 4000000 * KiB && s.rmem == 1000000 * KiB,
		"host memory: MemTotal, MemAvailable, MemFree");
	/* no new jiffies: util stays */
	is_int(load_probe_sample(p, &s), 0, "fake host sample again");
	ok(fabs(s.util - 200.0 / 3) < 1e-6, "util kept when no time passed");
	put("proc/stat", "cpu  250 0 150 1000 100 0 0 0 0 0\nprocs_running 1\n");
	is_int(load_probe_sample(p, &s), 0, "idle host sample");
	ok(s.util == 0 && s.runnable == 0, "idle and iowait are not busy; only self runs");
	put("proc/stat", "garbage\n");
	is_int(load_probe_sample(p, &s), -EBADMSG, "garbage /proc/stat is -EBADMSG");
	load_probe_free(p);
}

static void write_mountinfo_v1(const char *mi)
{
	put(mi,
		"30 22 0:27 / %s/v1 rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"31 30 0:28 / %s/v1/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"32 30 0:29 / %s/v1/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
		"33 30 0:30 / %s/v1/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
		"34 30 0:31 / %s/v1/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
		"40 30 0:37 / %s/v1/unified rw,relatime - cgroup2 cgroup2 rw\n",
		root, root, root, root, root, root);
	put("v1/unified/cgroup.controllers", "hugetlb\n");
}

static void test_cgroup_v1_fake(void)
{
	char mi[128], proc[128];
	struct load_paths paths = {
		.proc = proc, .mountinfo = mi, .ncpus = 4, .clock_ns = fake_clock};
	struct load_sample s;
	struct load_probe *p;
	const char *d;

	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(mi, sizeof(mi), "%s/mountinfo-v1", root);
	write_mountinfo_v1("mountinfo-v1");
	put("v1/cpu/om/node2/cpu.cfs_quota_us", "150000\n");
	put("v1/cpu/om/node2/cpu.cfs_period_us", "100000\n");
	put("v1/cpu/om/node2/tasks", "101\n102\n103\n104\n105\n");
	put("v1/cpuacct/om/node2/cpuacct.usage", "1000000000\n");
	put("v1/memory/om/node2/memory.limit_in_bytes", "1073741824\n");
	put("v1/memory/om/node2/memory.usage_in_bytes", "268435456\n");

	fake_now = 1000000000ull;
	p = load_probe_cgroup_new_at(&paths, "om/node2");
	ok(p != NULL, "fake v1 cgroup probe");
	if (!p)
		return;
	d = load_probe_describe(p);
	ok(strstr(d, "cpu v1") && strstr(d, "cpuacct v1") && strstr(d, "memory v1"),
		"v1 describe: %s", d);
	put("v1/cpuacct/om/node2/cpuacct.usage", "1750000000\n");
	fake_now = 2000000000ull;
	is_int(load_probe_sample(p, &s), 0, "v1 sample");
	ok(fabs(s.capacity - 1.5) < 1e-9, "v1 capacity = quota/period (%.3f)", s.capacity);
	is_int(s.ncpus, 2, "v1 ncpus = ceil(1.5)");
	ok(s.runnable == 2, "v1 runnable: R threads, vanished and other states skipped (%.0f)",
		s.runnable);
	ok(fabs(s.util - 50) < 1e-9, "v1 util = 0.75 s / (1.5 x 1 s) (%.3f)", s.util);
	ok(s.tmem == GiB, "v1 tmem = limit");
	ok(s.mem == 768 * MiB && s.rmem == 768 * MiB, "v1 free = limit - usage, both");

	/* no quota, no memory limit */
	put("v1/cpu/om/node2/cpu.cfs_quota_us", "-1\n");
	put("v1/memory/om/node2/memory.limit_in_bytes", "9223372036854771712\n");
	put("v1/cpuacct/om/node2/cpuacct.usage", "9750000000\n");
	fake_now = 4000000000ull;
	is_int(load_probe_sample(p, &s), 0, "v1 unlimited sample");
	ok(s.capacity == 4 && s.ncpus == 4, "unlimited: the host's CPUs");
	ok(fabs(s.util - 100) < 1e-9, "util clamps at 100 (%.3f)", s.util);
	ok(s.tmem == 8000000 * KiB, "unlimited: tmem = MemTotal");
	ok(s.mem == 4000000 * KiB, "unlimited: free capped by MemAvailable");
	ok(s.rmem == 1000000 * KiB, "unlimited: rmem = MemFree");

	/* a quota above the host, a tiny one, usage above the limit */
	put("v1/cpu/om/node2/cpu.cfs_quota_us", "800000\n");
	is_int(load_probe_sample(p, &s), 0, "v1 big quota sample");
	ok(s.capacity == 4 && s.ncpus == 4, "quota capped at the host's CPUs");
	put("v1/cpu/om/node2/cpu.cfs_quota_us", "1000\n");
	put("v1/memory/om/node2/memory.limit_in_bytes", "268435456\n");
	put("v1/memory/om/node2/memory.usage_in_bytes", "300000000\n");
	is_int(load_probe_sample(p, &s), 0, "v1 tiny quota sample");
	ok(fabs(s.capacity - 0.01) < 1e-9 && s.ncpus == 1, "1%% of a core: ncpus 1");
	ok(s.tmem == 256 * MiB && s.mem == 0 && s.rmem == 0, "usage above limit: free 0");

	/* the cgroup disappears */
	put("v1/cpu/om/node2/cpu.cfs_quota_us", "oops\n");
	is_int(load_probe_sample(p, &s), -EBADMSG, "garbage quota is -EBADMSG");
	put("v1/cpu/om/node2/cpu.cfs_quota_us", "100000\n");
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/v1/cpu/om/node2/tasks", root);
		unlink(path);
	}
	is_int(load_probe_sample(p, &s), -ENOENT, "missing tasks file is -ENOENT");
	load_probe_free(p);

	/* errors at creation */
	errno = 0;
	ok(!load_probe_cgroup_new_at(&paths, "om/nope") && errno == ENOENT,
		"missing cgroup: ENOENT");
	errno = 0;
	ok(!load_probe_cgroup_new_at(&paths, "../etc") && errno == EINVAL, "'..' name: EINVAL");
	errno = 0;
	ok(!load_probe_cgroup_new_at(&paths, "/abs") && errno == EINVAL, "absolute: EINVAL");
	errno = 0;
	ok(!load_probe_cgroup_new_at(&paths, "a//b") && errno == EINVAL, "empty part: EINVAL");
	errno = 0;
	ok(!load_probe_cgroup_new_at(&paths, "a/") && errno == EINVAL, "trailing /: EINVAL");
	errno = 0;
	ok(!load_probe_cgroup_new_at(&paths, "") && errno == EINVAL, "empty: EINVAL");
}

static void test_cgroup_v1_combined_fake(void)
{
	char mi[128], proc[128];
	struct load_paths paths = {
		.proc = proc, .mountinfo = mi, .ncpus = 2, .clock_ns = fake_clock};
	struct load_sample s;
	struct load_probe *p;

	/* systemd-style "cpu,cpuacct" together, no memory controller, escaped path */
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(mi, sizeof(mi), "%s/mountinfo-v1c", root);
	put("mountinfo-v1c",
		"31 30 0:28 / %s/v1c/cpu\\054cpu\\040acct rw - cgroup cgroup rw,cpu,cpuacct\n",
		root);
	put("v1c/cpu,cpu acct/n1/cpu.cfs_quota_us", "50000\n");
	put("v1c/cpu,cpu acct/n1/cpu.cfs_period_us", "100000\n");
	put("v1c/cpu,cpu acct/n1/cpuacct.usage", "0\n");
	put("v1c/cpu,cpu acct/n1/tasks", "101\n");
	fake_now = 0;
	p = load_probe_cgroup_new_at(&paths, "n1");
	ok(p != NULL, "combined cpu,cpuacct mount with escaped path");
	if (!p)
		return;
	put("v1c/cpu,cpu acct/n1/cpuacct.usage", "250000000\n");
	fake_now = 1000000000ull;
	is_int(load_probe_sample(p, &s), 0, "combined sample");
	ok(s.capacity == 0.5 && s.ncpus == 1 && s.runnable == 1, "combined: capacity 0.5");
	ok(fabs(s.util - 50) < 1e-9, "combined: util 50 (%.3f)", s.util);
	ok(s.tmem == 8000000 * KiB && s.mem == 4000000 * KiB && s.rmem == 1000000 * KiB,
		"no memory controller: the host's memory");
	ok(strstr(load_probe_describe(p), "memory none") != NULL, "describe says memory none");
	load_probe_free(p);
}

static void test_cgroup_v2_fake(void)
{
	char mi[128], proc[128];
	struct load_paths paths = {
		.proc = proc, .mountinfo = mi, .ncpus = 4, .clock_ns = fake_clock};
	struct load_sample s;
	struct load_probe *p;

	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(mi, sizeof(mi), "%s/mountinfo-v2", root);
	put("mountinfo-v2",
		"25 1 0:22 / / rw - ext4 /dev/vda1 rw\n"
		"26 25 0:23 / %s/v2 rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
		"rw,nsdelegate,memory_recursiveprot\n",
		root);
	put("v2/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	put("v2/om/node3/cpu.max", "50000 100000\n");
	put("v2/om/node3/cpu.stat", "usage_usec 500000\nuser_usec 400000\nsystem_usec 100000\n");
	put("v2/om/node3/memory.max", "max\n");
	put("v2/om/node3/memory.current", "104857600\n");
	put("v2/om/node3/cgroup.threads", "101\n102\n");
	fake_now = 10000000000ull;
	p = load_probe_cgroup_new_at(&paths, "om/node3");
	ok(p != NULL, "fake v2 cgroup probe");
	if (!p)
		return;
	ok(strstr(load_probe_describe(p), "cpu v2") != NULL, "v2 describe: %s",
		load_probe_describe(p));
	put("v2/om/node3/cpu.stat", "usage_usec 750000\nuser_usec 400000\nsystem_usec 100000\n");
	fake_now = 11000000000ull;
	is_int(load_probe_sample(p, &s), 0, "v2 sample");
	ok(s.capacity == 0.5 && s.ncpus == 1, "v2 capacity from cpu.max");
	ok(s.runnable == 1, "v2 runnable from cgroup.threads");
	ok(fabs(s.util - 50) < 1e-9, "v2 util = 0.25 s / (0.5 x 1 s) (%.3f)", s.util);
	ok(s.tmem == 8000000 * KiB && s.mem == 4000000 * KiB && s.rmem == 1000000 * KiB,
		"v2 memory.max max: the host's total, free capped by MemAvailable, MemFree");

	put("v2/om/node3/cpu.max", "max 100000\n");
	put("v2/om/node3/memory.max", "536870912\n");
	fake_now += 1000000000ull;
	is_int(load_probe_sample(p, &s), 0, "v2 sample 2");
	ok(s.capacity == 4 && s.ncpus == 4, "v2 cpu.max max: the host's CPUs");
	ok(s.tmem == 512 * MiB && s.mem == 412 * MiB && s.rmem == 412 * MiB, "v2 limited memory");
	ok(s.util == 0, "no CPU used since the last sample: util 0");
	load_probe_free(p);

	/* a v2 root that does not offer cpu, and no v1: unsupported */
	put("mountinfo-v2n", "26 25 0:23 / %s/v2n rw - cgroup2 cgroup2 rw\n", root);
	put("v2n/cgroup.controllers", "memory pids\n");
	put("v2n/x/cgroup.threads", "\n");
	snprintf(mi, sizeof(mi), "%s/mountinfo-v2n", root);
	errno = 0;
	ok(!load_probe_cgroup_new_at(&paths, "x") && errno == EOPNOTSUPP,
		"no cpu controller anywhere: EOPNOTSUPP");
	snprintf(mi, sizeof(mi), "%s/no-such-mountinfo", root);
	errno = 0;
	ok(!load_probe_cgroup_new_at(&paths, "x") && errno == ENOENT, "no mountinfo: ENOENT");
}

static void test_manage_fake(void)
{
	char mi[128];
	struct load_paths paths = {.mountinfo = mi, .ncpus = 4};
	const char *v;

	/* v2: controllers enabled down the path, limits written */
	snprintf(mi, sizeof(mi), "%s/mountinfo-v2", root);
	is_int(load_cgroup_create_at(&paths, "omk/a/b", 0.25, 64 * MiB), 0, "v2 create");
	v = slurp("v2/cgroup.subtree_control");
	ok(v && strstr(v, "+memory"), "v2 root subtree_control written");
	v = slurp("v2/omk/a/cgroup.subtree_control");
	ok(v && strstr(v, "+memory"), "v2 parent subtree_control written");
	is_str(slurp("v2/omk/a/b/cpu.max"), "25000 100000", "v2 cpu.max");
	is_str(slurp("v2/omk/a/b/memory.max"), "67108864", "v2 memory.max");
	is_int(load_cgroup_attach_at(&paths, "omk/a/b", 4242), 0, "v2 attach");
	is_str(slurp("v2/omk/a/b/cgroup.procs"), "4242", "v2 attach writes cgroup.procs");
	is_int(load_cgroup_attach_at(&paths, "omk/zz", 4242), -ENOENT, "attach to nothing");
	is_int(load_cgroup_attach_at(&paths, "omk/a/b", 0), -EINVAL, "attach pid 0");

	/* v1: every hierarchy */
	snprintf(mi, sizeof(mi), "%s/mountinfo-v1", root);
	is_int(load_cgroup_create_at(&paths, "omk/n", 2, 0), 0, "v1 create");
	is_str(slurp("v1/cpu/omk/n/cpu.cfs_quota_us"), "200000", "v1 quota");
	is_str(slurp("v1/cpu/omk/n/cpu.cfs_period_us"), "100000", "v1 period");
	ok(slurp("v1/memory/omk/n/memory.limit_in_bytes") == NULL, "v1 no memory limit asked");
	is_int(load_cgroup_attach_at(&paths, "omk/n", 77), 0, "v1 attach");
	ok(slurp("v1/cpu/omk/n/cgroup.procs") && slurp("v1/cpuacct/omk/n/cgroup.procs") &&
			slurp("v1/memory/omk/n/cgroup.procs") &&
			!slurp("v1/cpuset/omk/n/cgroup.procs"),
		"v1 attach: cpu, cpuacct and memory hierarchies only");
	is_int(load_cgroup_create_at(&paths, "..", 1, 0), -EINVAL, "create '..'");
}

/* ---- real ---- */

static void test_host_real(void)
{
	struct load_probe *p = load_probe_host_new();
	struct load_sample s = {0};

	ok(p != NULL, "real host probe");
	if (!p)
		return;
	usleep(50000);
	is_int(load_probe_sample(p, &s), 0, "real host sample");
	ok(s.ncpus >= 1 && s.capacity == s.ncpus, "real host: ncpus %u", s.ncpus);
	ok(s.tmem > 0 && s.mem <= s.tmem && s.rmem <= s.tmem && s.mem > 0,
		"real host memory sane: %llu/%llu/%llu MiB", (unsigned long long)(s.tmem >> 20),
		(unsigned long long)(s.mem >> 20), (unsigned long long)(s.rmem >> 20));
	ok(s.util >= 0 && s.util <= 100 && s.runnable >= 0, "real host util %.1f%%, runnable %.0f",
		s.util, s.runnable);
	load_probe_free(p);
}

static pid_t spinner(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		volatile unsigned long n = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(30);
		for (;;)
			n++;
	}
	return pid;
}

static void test_cgroup_real(void)
{
	const char *why = NULL;
	char name[64];
	struct load_sample s1 = {0}, s2 = {0};
	struct load_probe *p = NULL;
	pid_t pid = -1;
	int err, status;

	snprintf(name, sizeof(name), "omtest-load-%d", (int)getpid());
	if (geteuid() != 0) {
		why = "not root";
		goto skip;
	}
	err = load_cgroup_create(name, 0.5, 0);
	if (err) {
		why = err == -EOPNOTSUPP ? "no cgroup cpu controller" : "cannot create a cgroup";
		printf("# create: %s\n", strerror(-err));
		if (load_cgroup_remove(name))
			printf("# cleanup failed\n");
		goto skip;
	}
	pid = spinner();
	ok(pid > 0, "fork a spinner");
	if (pid < 0)
		goto out_remove;
	is_int(load_cgroup_attach(name, pid), 0, "attach the spinner to %s", name);
	p = load_probe_cgroup_new(name);
	ok(p != NULL, "real cgroup probe");
	if (!p)
		goto out_kill;
	printf("# %s\n", load_probe_describe(p));
	usleep(300000);
	is_int(load_probe_sample(p, &s1), 0, "real cgroup sample 1");
	usleep(300000);
	is_int(load_probe_sample(p, &s2), 0, "real cgroup sample 2");
	ok(s2.capacity == 0.5, "real cgroup capacity 0.5 (%.3f)", s2.capacity);
	is_int(s2.ncpus, 1, "real cgroup ncpus 1");
	ok(s1.runnable >= 1 || s2.runnable >= 1, "real cgroup runnable >= 1 (%.0f, %.0f)",
		s1.runnable, s2.runnable);
	ok(s2.util > 50, "real cgroup util > 50%% of its capacity (%.1f%%, then %.1f%%)", s1.util,
		s2.util);
	ok(s2.tmem > 0 && s2.mem <= s2.tmem, "real cgroup memory sane");
	load_probe_free(p);
out_kill:
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
out_remove:
	/* the cgroup may take a moment to see the task gone */
	for (int i = 0; i < 50; i++) {
		err = load_cgroup_remove(name);
		if (err != -EBUSY)
			break;
		usleep(20000);
	}
	is_int(err, 0, "remove the cgroup");
	return;
skip:
	printf("ok %d - real cgroup with a 0.5-core quota # SKIP %s\n", ++tap_n, why);
}

int main(void)
{
	log_init("test_load_probe", LOG_ERR);
	snprintf(root, sizeof(root), "/tmp/om-test-load-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	fake_proc();
	test_host_fake();
	test_cgroup_v1_fake();
	test_cgroup_v1_combined_fake();
	test_cgroup_v2_fake();
	test_manage_fake();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	test_host_real();
	test_cgroup_real();
	return tap_done();
}
