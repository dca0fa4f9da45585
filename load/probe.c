#include "load/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

#define PROBE_BUF_MIN 4096
#define PROBE_BUF_MAX (16u << 20) /* a thread list or /proc/stat never needs more */
#define CG_PERIOD_US 100000	  /* CFS period used by load_cgroup_create() */

enum cg_ver { CG_NONE = 0, CG_V1 = 1, CG_V2 = 2 };

/* The hierarchies found in mountinfo. */
struct cg_mounts {
	char v1_cpu[PATH_MAX], v1_cpuacct[PATH_MAX], v1_memory[PATH_MAX];
	char v2[PATH_MAX];
	bool v2_cpu, v2_memory; /* controllers offered at the cgroup2 root */
};

/* One cgroup's directories, per role. */
struct cg_dirs {
	enum cg_ver cpu_ver, acct_ver, mem_ver;
	char cpu[PATH_MAX], acct[PATH_MAX], mem[PATH_MAX];
};

enum probe_kind { PROBE_HOST, PROBE_CGROUP };

struct load_probe {
	enum probe_kind kind;
	char *desc;
	char *proc;
	uint64_t (*clock_ns)(void);
	unsigned host_ncpus;
	struct ratelimit rl;

	char *buf; /* read buffer, grows as needed */
	size_t cap;

	int stat_fd, meminfo_fd;
	uint64_t prev_busy, prev_total; /* host: jiffies from /proc/stat */
	double last_util;

	/* cgroup */
	struct cg_dirs d;
	int quota_fd, period_fd; /* v1 cpu.cfs_quota_us/cfs_period_us, or v2 cpu.max */
	int usage_fd;		 /* v1 cpuacct.usage (ns) or v2 cpu.stat (usage_usec) */
	int memlimit_fd, memusage_fd;
	char tasks[PATH_MAX];
	uint64_t prev_usage_ns, prev_time_ns;
};

static const char *const cg_ver_name[] = {"none", "v1", "v2"};

/* ---- small file helpers ---- */

static int open_ro(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Read the whole of fd from offset 0 into p->buf, growing it if needed.
 * Returns the length or -errno; the buffer is NUL-terminated. */
static ssize_t probe_pread(struct load_probe *p, int fd)
{
	for (;;) {
		size_t len = 0;
		char *nb;

		while (len < p->cap - 1) {
			ssize_t n = pread(fd, p->buf + len, p->cap - 1 - len, (off_t)len);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
		if (len < p->cap - 1 || p->cap >= PROBE_BUF_MAX) {
			p->buf[len] = '\0';
			return (ssize_t)len;
		}
		/* full: grow and read again from the start */
		nb = realloc(p->buf, p->cap * 2);
		if (!nb)
			return -ENOMEM;
		p->buf = nb;
		p->cap *= 2;
	}
}

/* Like probe_pread() but opens and closes path. */
static ssize_t probe_read_path(struct load_probe *p, const char *path)
{
	ssize_t n;
	int fd = open_ro(path);

	if (fd < 0)
		return fd;
	n = probe_pread(p, fd);
	close(fd);
	return n;
}

static int write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* "key value" in a multi-line buffer (meminfo, /proc/stat, cpu.stat). */
static bool find_u64(const char *buf, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *s = buf;

	while (s && *s) {
		if (strncmp(s, key, klen) == 0 &&
			(s[klen] == ' ' || s[klen] == '\t' || s[klen] == ':')) {
			const char *v = s + klen;
			char *end;

			while (*v == ' ' || *v == '\t' || *v == ':')
				v++;
			errno = 0;
			*out = strtoull(v, &end, 10);
			return end != v && errno == 0;
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return false;
}

static unsigned detect_ncpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* ---- cgroup discovery ---- */

static bool valid_name(const char *name)
{
	const char *s = name;

	if (!name || !*name || *name == '/' || strlen(name) >= PATH_MAX / 2)
		return false;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
		if (*s == '/')
			s++;
		if (!*s && s[-1] == '/')
			return false;
	}
	return true;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape_octal(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
			s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

static bool has_token(const char *list, const char *tok, const char *seps)
{
	size_t tlen = strlen(tok);
	const char *s = list;

	while (*s) {
		size_t n = strcspn(s, seps);

		if (n == tlen && strncmp(s, tok, tlen) == 0)
			return true;
		s += n;
		s += strspn(s, seps);
	}
	return false;
}

static void set_once(char *dst, const char *src)
{
	if (!dst[0])
		snprintf(dst, PATH_MAX, "%s", src);
}

/* Parse mountinfo: id parent maj:min root mountpoint opts [optional...] - type source superopts */
static int cg_mounts_read(const char *mountinfo, struct cg_mounts *m)
{
	char *line = NULL, ctl[512];
	size_t lcap = 0;
	FILE *fp;

	memset(m, 0, sizeof(*m));
	fp = fopen(mountinfo, "re");
	if (!fp)
		return -errno;
	while (getline(&line, &lcap, fp) > 0) {
		char *f[64], *save = NULL, *tok;
		int n = 0, dash = -1, i;

		for (tok = strtok_r(line, " \n", &save); tok && n < (int)ARRAY_SIZE(f);
			tok = strtok_r(NULL, " \n", &save))
			f[n++] = tok;
		for (i = 6; i < n; i++) {
			if (strcmp(f[i], "-") == 0) {
				dash = i;
				break;
			}
		}
		if (n < 5 || dash < 0 || dash + 3 > n)
			continue;
		unescape_octal(f[4]);
		if (strlen(f[4]) >= PATH_MAX / 2)
			continue;
		if (strcmp(f[dash + 1], "cgroup") == 0 && dash + 3 < n) {
			const char *opts = f[dash + 3];

			if (has_token(opts, "cpu", ","))
				set_once(m->v1_cpu, f[4]);
			if (has_token(opts, "cpuacct", ","))
				set_once(m->v1_cpuacct, f[4]);
			if (has_token(opts, "memory", ","))
				set_once(m->v1_memory, f[4]);
		} else if (strcmp(f[dash + 1], "cgroup2") == 0 && !m->v2[0]) {
			char path[PATH_MAX];
			int fd;
			ssize_t len;

			snprintf(m->v2, sizeof(m->v2), "%s", f[4]);
			if (xsnprintf(path, sizeof(path), "%s/cgroup.controllers", m->v2))
				continue;
			fd = open_ro(path);
			if (fd < 0)
				continue;
			len = read(fd, ctl, sizeof(ctl) - 1);
			close(fd);
			if (len <= 0)
				continue;
			ctl[len] = '\0';
			m->v2_cpu = has_token(ctl, "cpu", " \n");
			m->v2_memory = has_token(ctl, "memory", " \n");
		}
	}
	free(line);
	fclose(fp);
	return 0;
}

static const char *mountinfo_path(const struct load_paths *paths)
{
	return paths && paths->mountinfo ? paths->mountinfo : "/proc/self/mountinfo";
}

/* Which hierarchy serves each role, and the cgroup's directory there.
 * Controllers live in one hierarchy at a time; v1 is checked first. */
static int cg_resolve(const struct load_paths *paths, const char *name, struct cg_dirs *d)
{
	struct cg_mounts m;
	int err;

	memset(d, 0, sizeof(*d));
	if (!valid_name(name)) {
		pr_err("load: invalid cgroup name '%s' (want a relative path like openmosix/node2)",
			name ? name : "(null)");
		return -EINVAL;
	}
	err = cg_mounts_read(mountinfo_path(paths), &m);
	if (err) {
		pr_err("load: cannot read %s: %s", mountinfo_path(paths), strerror(-err));
		return err;
	}
	if (m.v1_cpu[0]) {
		d->cpu_ver = CG_V1;
		err = xsnprintf(d->cpu, sizeof(d->cpu), "%s/%s", m.v1_cpu, name);
	} else if (m.v2[0] && m.v2_cpu) {
		d->cpu_ver = CG_V2;
		err = xsnprintf(d->cpu, sizeof(d->cpu), "%s/%s", m.v2, name);
	} else {
		pr_err("load: no cgroup hierarchy has the cpu controller (no v1 'cpu' mount, %s)",
			m.v2[0] ? "cgroup2 root does not offer 'cpu'" : "no cgroup2 mount");
		return -EOPNOTSUPP;
	}
	if (!err && m.v1_cpuacct[0]) {
		d->acct_ver = CG_V1;
		err = xsnprintf(d->acct, sizeof(d->acct), "%s/%s", m.v1_cpuacct, name);
	} else if (!err && m.v2[0]) {
		/* cpu.stat usage_usec exists in every v2 cgroup */
		d->acct_ver = CG_V2;
		err = xsnprintf(d->acct, sizeof(d->acct), "%s/%s", m.v2, name);
	}
	if (!err && m.v1_memory[0]) {
		d->mem_ver = CG_V1;
		err = xsnprintf(d->mem, sizeof(d->mem), "%s/%s", m.v1_memory, name);
	} else if (!err && m.v2[0] && m.v2_memory) {
		d->mem_ver = CG_V2;
		err = xsnprintf(d->mem, sizeof(d->mem), "%s/%s", m.v2, name);
	}
	if (err) {
		pr_err("load: cgroup path for '%s' too long", name);
		return err;
	}
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The distinct directories of a cgroup (a mount may carry several roles). */
static int cg_dir_list(const struct cg_dirs *d, const char *out[3])
{
	const char *all[3] = {d->cpu, d->acct_ver ? d->acct : NULL, d->mem_ver ? d->mem : NULL};
	int n = 0, i, j;

	for (i = 0; i < 3; i++) {
		bool dup = false;

		if (!all[i])
			continue;
		for (j = 0; j < n; j++)
			dup |= strcmp(out[j], all[i]) == 0;
		if (!dup)
			out[n++] = all[i];
	}
	return n;
}

/* ---- construction ---- */

static struct load_probe *probe_alloc(const struct load_paths *paths, enum probe_kind kind)
{
	struct load_probe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = kind;
	p->stat_fd = p->meminfo_fd = -1;
	p->quota_fd = p->period_fd = p->usage_fd = -1;
	p->memlimit_fd = p->memusage_fd = -1;
	p->rl = (struct ratelimit)RATELIMIT_INIT(10000, 3);
	p->clock_ns = paths && paths->clock_ns ? paths->clock_ns : now_ns;
	p->host_ncpus = paths && paths->ncpus ? paths->ncpus : detect_ncpus();
	p->proc = strdup(paths && paths->proc ? paths->proc : "/proc");
	p->cap = PROBE_BUF_MIN;
	p->buf = malloc(p->cap);
	if (!p->proc || !p->buf) {
		load_probe_free(p);
		return NULL;
	}
	return p;
}

static int open_proc_file(struct load_probe *p, const char *file, int *fd)
{
	char path[PATH_MAX];

	if (xsnprintf(path, sizeof(path), "%s/%s", p->proc, file))
		return -ENAMETOOLONG;
	*fd = open_ro(path);
	if (*fd < 0) {
		pr_err("load: cannot open %s: %s", path, strerror(-*fd));
		return *fd;
	}
	return 0;
}

struct host_mem {
	uint64_t total, avail, free;
};

static int read_meminfo(struct load_probe *p, struct host_mem *hm)
{
	ssize_t n = probe_pread(p, p->meminfo_fd);
	uint64_t kb;

	if (n < 0)
		return (int)n;
	memset(hm, 0, sizeof(*hm));
	if (!find_u64(p->buf, "MemTotal", &kb))
		return -EBADMSG;
	hm->total = kb << 10;
	if (find_u64(p->buf, "MemFree", &kb))
		hm->free = kb << 10;
	if (find_u64(p->buf, "MemAvailable", &kb))
		hm->avail = kb << 10;
	else
		hm->avail = hm->free; /* kernels before 3.14 */
	return 0;
}

/* /proc/stat: busy and total jiffies of the "cpu" line, and procs_running. */
static int read_proc_stat(struct load_probe *p, uint64_t *busy, uint64_t *total, uint64_t *running)
{
	unsigned long long v[8] = {0};
	ssize_t n = probe_pread(p, p->stat_fd);
	int i;

	if (n < 0)
		return (int)n;
	if (strncmp(p->buf, "cpu ", 4) != 0 ||
		sscanf(p->buf + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			&v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
		return -EBADMSG;
	if (!find_u64(p->buf, "procs_running", running))
		return -EBADMSG;
	/* user nice system idle iowait irq softirq steal (guest is inside user) */
	*total = 0;
	for (i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];
	return 0;
}

struct load_probe *load_probe_host_new(void)
{
	return load_probe_host_new_at(NULL);
}

struct load_probe *load_probe_host_new_at(const struct load_paths *paths)
{
	struct load_probe *p = probe_alloc(paths, PROBE_HOST);
	uint64_t running;
	char desc[64];
	int err = -ENOMEM;

	if (!p)
		goto out_errno;
	err = open_proc_file(p, "stat", &p->stat_fd);
	if (err)
		goto out_free;
	err = open_proc_file(p, "meminfo", &p->meminfo_fd);
	if (err)
		goto out_free;
	err = read_proc_stat(p, &p->prev_busy, &p->prev_total, &running);
	if (err) {
		pr_err("load: cannot parse %s/stat: %s", p->proc, strerror(-err));
		goto out_free;
	}
	snprintf(desc, sizeof(desc), "host (%u CPUs)", p->host_ncpus);
	p->desc = strdup(desc);
	if (!p->desc) {
		err = -ENOMEM;
		goto out_free;
	}
	return p;

out_free:
	load_probe_free(p);
out_errno:
	errno = -err;
	return NULL;
}

static int cg_open(const char *dir, const char *file, int *fd, bool required)
{
	char path[PATH_MAX];

	if (xsnprintf(path, sizeof(path), "%s/%s", dir, file))
		return -ENAMETOOLONG;
	*fd = open_ro(path);
	if (*fd >= 0)
		return 0;
	if (!required && *fd == -ENOENT) {
		*fd = -1;
		return 0;
	}
	pr_err("load: cannot open %s: %s", path, strerror(-*fd));
	return *fd;
}

static int cg_read_usage_ns(struct load_probe *p, uint64_t *ns);

struct load_probe *load_probe_cgroup_new(const char *name)
{
	return load_probe_cgroup_new_at(NULL, name);
}

struct load_probe *load_probe_cgroup_new_at(const struct load_paths *paths, const char *name)
{
	struct load_probe *p = probe_alloc(paths, PROBE_CGROUP);
	struct cg_dirs *d;
	char desc[3 * PATH_MAX + 128];
	int err = -ENOMEM;

	if (!p)
		goto out_errno;
	d = &p->d;
	err = cg_resolve(paths, name, d);
	if (err)
		goto out_free;
	if (!is_dir(d->cpu)) {
		pr_err("load: cgroup '%s' not found: no directory %s", name, d->cpu);
		err = -ENOENT;
		goto out_free;
	}
	if (d->acct_ver && !is_dir(d->acct)) {
		pr_warn("load: cgroup '%s' has no %s; utilisation will read 0", name, d->acct);
		d->acct_ver = CG_NONE;
	}
	if (d->mem_ver && !is_dir(d->mem)) {
		pr_warn("load: cgroup '%s' has no %s; memory will be the host's", name, d->mem);
		d->mem_ver = CG_NONE;
	}
	err = open_proc_file(p, "meminfo", &p->meminfo_fd);
	if (err)
		goto out_free;
	if (d->cpu_ver == CG_V1) {
		err = cg_open(d->cpu, "cpu.cfs_quota_us", &p->quota_fd, true);
		if (!err)
			err = cg_open(d->cpu, "cpu.cfs_period_us", &p->period_fd, true);
		if (!err)
			err = xsnprintf(p->tasks, sizeof(p->tasks), "%s/tasks", d->cpu);
	} else {
		/* no cpu.max until the parent enables cpu: then unlimited */
		err = cg_open(d->cpu, "cpu.max", &p->quota_fd, false);
		if (!err)
			err = xsnprintf(p->tasks, sizeof(p->tasks), "%s/cgroup.threads", d->cpu);
	}
	if (err)
		goto out_free;
	if (d->acct_ver == CG_V1)
		err = cg_open(d->acct, "cpuacct.usage", &p->usage_fd, true);
	else if (d->acct_ver == CG_V2)
		err = cg_open(d->acct, "cpu.stat", &p->usage_fd, true);
	if (err)
		goto out_free;
	if (d->mem_ver == CG_V1) {
		err = cg_open(d->mem, "memory.limit_in_bytes", &p->memlimit_fd, true);
		if (!err)
			err = cg_open(d->mem, "memory.usage_in_bytes", &p->memusage_fd, true);
	} else if (d->mem_ver == CG_V2) {
		err = cg_open(d->mem, "memory.max", &p->memlimit_fd, false);
		if (!err)
			err = cg_open(d->mem, "memory.current", &p->memusage_fd, false);
	}
	if (err)
		goto out_free;
	p->prev_time_ns = p->clock_ns();
	if (p->usage_fd >= 0) {
		err = cg_read_usage_ns(p, &p->prev_usage_ns);
		if (err) {
			pr_err("load: cannot read CPU usage of cgroup '%s': %s", name,
				strerror(-err));
			goto out_free;
		}
	}
	snprintf(desc, sizeof(desc), "cgroup %s (cpu %s %s, cpuacct %s %s, memory %s %s)", name,
		cg_ver_name[d->cpu_ver], d->cpu, cg_ver_name[d->acct_ver],
		d->acct_ver ? d->acct : "-", cg_ver_name[d->mem_ver], d->mem_ver ? d->mem : "-");
	p->desc = strdup(desc);
	if (!p->desc) {
		err = -ENOMEM;
		goto out_free;
	}
	pr_debug("load: probing %s", p->desc);
	return p;

out_free:
	load_probe_free(p);
out_errno:
	errno = -err;
	return NULL;
}

void load_probe_free(struct load_probe *p)
{
	if (!p)
		return;
	close_fd(&p->stat_fd);
	close_fd(&p->meminfo_fd);
	close_fd(&p->quota_fd);
	close_fd(&p->period_fd);
	close_fd(&p->usage_fd);
	close_fd(&p->memlimit_fd);
	close_fd(&p->memusage_fd);
	free(p->desc);
	free(p->proc);
	free(p->buf);
	free(p);
}

const char *load_probe_describe(const struct load_probe *p)
{
	return p && p->desc ? p->desc : "(none)";
}

/* ---- sampling ---- */

static int host_sample(struct load_probe *p, struct load_sample *s)
{
	uint64_t busy, total, running;
	struct host_mem hm;
	int err;

	err = read_proc_stat(p, &busy, &total, &running);
	if (err)
		return err;
	err = read_meminfo(p, &hm);
	if (err)
		return err;
	/* the sampling thread is running while it reads */
	s->runnable = running > 0 ? (double)(running - 1) : 0;
	if (total > p->prev_total && busy >= p->prev_busy)
		p->last_util =
			100.0 * (double)(busy - p->prev_busy) / (double)(total - p->prev_total);
	p->prev_busy = busy;
	p->prev_total = total;
	s->util = p->last_util > 100 ? 100 : p->last_util;
	s->ncpus = p->host_ncpus;
	s->capacity = p->host_ncpus;
	s->tmem = hm.total;
	s->mem = hm.avail;
	s->rmem = hm.free;
	return 0;
}

/* A single number (possibly "max") from a kept-open cgroup file. */
static int cg_read_num(struct load_probe *p, int fd, int64_t *out, bool *is_max)
{
	ssize_t n = probe_pread(p, fd);
	char *end;

	if (n < 0)
		return (int)n;
	*is_max = strncmp(p->buf, "max", 3) == 0;
	if (*is_max)
		return 0;
	errno = 0;
	*out = strtoll(p->buf, &end, 10);
	if (end == p->buf || errno)
		return -EBADMSG;
	return 0;
}

static int cg_read_usage_ns(struct load_probe *p, uint64_t *ns)
{
	ssize_t n;
	int64_t v;
	bool is_max;
	int err;

	if (p->d.acct_ver == CG_V1) {
		err = cg_read_num(p, p->usage_fd, &v, &is_max);
		if (err)
			return err;
		*ns = v > 0 ? (uint64_t)v : 0;
		return 0;
	}
	n = probe_pread(p, p->usage_fd);
	if (n < 0)
		return (int)n;
	if (!find_u64(p->buf, "usage_usec", ns))
		return -EBADMSG;
	*ns *= 1000;
	return 0;
}

/* CPU capacity in cores from the CFS quota; unlimited: the host's CPUs. */
static int cg_capacity(struct load_probe *p, double *cap)
{
	int64_t quota = -1, period = 0;
	bool is_max = false;
	int err;

	*cap = p->host_ncpus;
	if (p->quota_fd < 0)
		return 0;
	if (p->d.cpu_ver == CG_V1) {
		err = cg_read_num(p, p->quota_fd, &quota, &is_max);
		if (!err)
			err = cg_read_num(p, p->period_fd, &period, &is_max);
		if (err)
			return err;
	} else {
		ssize_t n = probe_pread(p, p->quota_fd);
		long long q, per;

		if (n < 0)
			return (int)n;
		if (strncmp(p->buf, "max", 3) == 0)
			return 0;
		if (sscanf(p->buf, "%lld %lld", &q, &per) != 2)
			return -EBADMSG;
		quota = q;
		period = per;
	}
	if (quota > 0 && period > 0)
		*cap = MIN((double)quota / (double)period, (double)p->host_ncpus);
	return 0;
}

/* Count the threads listed in p->tasks that are in state R. A thread that
 * vanishes between the list and its stat file is simply not counted. */
static int cg_runnable(struct load_probe *p, unsigned *count)
{
	pid_t self = gettid();
	ssize_t n = probe_read_path(p, p->tasks);
	char *s, *end;

	*count = 0;
	if (n < 0)
		return (int)n;
	for (s = p->buf; *s; s = end) {
		char path[PATH_MAX], stat[512], *rp;
		unsigned long tid;
		ssize_t len;
		int fd;

		tid = strtoul(s, &end, 10);
		if (end == s) {
			end = s + 1;
			continue;
		}
		if (tid == 0 || tid > INT_MAX || (pid_t)tid == self)
			continue;
		if (xsnprintf(path, sizeof(path), "%s/%lu/stat", p->proc, tid))
			return -ENAMETOOLONG;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone */
		len = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		if (len <= 0)
			continue; /* ESRCH: died after open */
		stat[len] = '\0';
		rp = strrchr(stat, ')');
		if (rp && rp[1] == ' ' && rp[2] == 'R')
			(*count)++;
	}
	return 0;
}

static int cg_memory(struct load_probe *p, struct load_sample *s)
{
	int64_t limit = 0, usage = 0;
	bool unlimited = true, is_max = false;
	struct host_mem hm;
	uint64_t total, used, free_b;
	int err;

	err = read_meminfo(p, &hm);
	if (err)
		return err;
	if (p->memlimit_fd >= 0) {
		err = cg_read_num(p, p->memlimit_fd, &limit, &is_max);
		if (err)
			return err;
		unlimited = is_max || limit <= 0 || (uint64_t)limit >= hm.total;
	}
	if (p->memusage_fd >= 0) {
		err = cg_read_num(p, p->memusage_fd, &usage, &is_max);
		if (err)
			return err;
	}
	if (p->memlimit_fd < 0 && p->memusage_fd < 0) {
		/* no memory controller: the host's view */
		s->tmem = hm.total;
		s->mem = hm.avail;
		s->rmem = hm.free;
		return 0;
	}
	total = unlimited ? hm.total : (uint64_t)limit;
	used = usage > 0 ? (uint64_t)usage : 0;
	free_b = total > used ? total - used : 0;
	s->tmem = total;
	s->mem = MIN(free_b, hm.avail);
	s->rmem = unlimited ? hm.free : s->mem;
	return 0;
}

static int cgroup_sample(struct load_probe *p, struct load_sample *s)
{
	uint64_t usage = 0, t;
	unsigned running;
	double cap;
	int err;

	err = cg_capacity(p, &cap);
	if (err)
		return err;
	err = cg_runnable(p, &running);
	if (err)
		return err;
	t = p->clock_ns();
	if (p->usage_fd >= 0) {
		err = cg_read_usage_ns(p, &usage);
		if (err)
			return err;
	}
	err = cg_memory(p, s);
	if (err)
		return err;
	s->runnable = running;
	s->capacity = cap;
	s->ncpus = (unsigned)ceil(cap - 1e-9);
	if (s->ncpus < 1)
		s->ncpus = 1;
	if (p->usage_fd >= 0 && t > p->prev_time_ns && usage >= p->prev_usage_ns && cap > 0) {
		double u = 100.0 * (double)(usage - p->prev_usage_ns) /
			   (cap * (double)(t - p->prev_time_ns));

		p->last_util = u > 100 ? 100 : u;
	}
	if (p->usage_fd >= 0) {
		p->prev_usage_ns = usage;
		p->prev_time_ns = t;
	}
	s->util = p->last_util;
	return 0;
}

int load_probe_sample(struct load_probe *p, struct load_sample *out)
{
	struct load_sample s = {0};
	int err;

	err = p->kind == PROBE_HOST ? host_sample(p, &s) : cgroup_sample(p, &s);
	if (err) {
		pr_ratelimited(
			&p->rl, LOG_WARN, "load: sampling %s failed: %s", p->desc, strerror(-err));
		return err;
	}
	*out = s;
	return 0;
}

/* ---- cgroup management ---- */

/* v2: walk down from the root to name, enabling the wanted controllers in
 * each ancestor's cgroup.subtree_control before making the next level. */
static int cg_v2_make(const char *root, const char *name, bool cpu, bool mem)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *s = name;
	int err;

	snprintf(dir, sizeof(dir), "%s", root);
	for (;;) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - name) : strlen(name);

		if (xsnprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir))
			return -ENAMETOOLONG;
		err = cpu ? write_str(path, "+cpu") : 0;
		if (!err && mem)
			err = write_str(path, "+memory");
		if (err) {
			pr_err("load: cannot enable controllers in %s: %s", path, strerror(-err));
			return err;
		}
		if (xsnprintf(dir, sizeof(dir), "%s/%.*s", root, (int)len, name))
			return -ENAMETOOLONG;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			pr_err("load: cannot create cgroup %s: %s", dir, strerror(-err));
			return err;
		}
		if (!slash)
			return 0;
		s = slash + 1;
	}
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	int err;

	if (xsnprintf(path, sizeof(path), "%s/%s", dir, file))
		return -ENAMETOOLONG;
	err = write_str(path, val);
	if (err)
		pr_err("load: cannot write '%s' to %s: %s", val, path, strerror(-err));
	return err;
}

static size_t root_len(const char *dir, const char *name)
{
	return strlen(dir) - strlen(name) - 1;
}

int load_cgroup_create(const char *name, double cores, uint64_t mem_bytes)
{
	return load_cgroup_create_at(NULL, name, cores, mem_bytes);
}

int load_cgroup_create_at(
	const struct load_paths *paths, const char *name, double cores, uint64_t mem_bytes)
{
	const char *dirs[3];
	struct cg_dirs d;
	char val[64];
	int err, n, i;

	err = cg_resolve(paths, name, &d);
	if (err)
		return err;
	if (d.cpu_ver == CG_V2 || d.mem_ver == CG_V2) {
		char root[PATH_MAX];
		const char *dir = d.cpu_ver == CG_V2 ? d.cpu : d.mem;

		snprintf(root, sizeof(root), "%.*s", (int)root_len(dir, name), dir);
		err = cg_v2_make(root, name, d.cpu_ver == CG_V2, d.mem_ver == CG_V2);
		if (err)
			return err;
	}
	n = cg_dir_list(&d, dirs);
	for (i = 0; i < n; i++) {
		err = mkdir_p(dirs[i], 0755);
		if (err) {
			pr_err("load: cannot create cgroup %s: %s", dirs[i], strerror(-err));
			return err;
		}
	}
	if (cores > 0) {
		long long quota = llround(cores * CG_PERIOD_US);

		if (quota < 1000)
			quota = 1000; /* the kernel's minimum, 1 ms */
		if (d.cpu_ver == CG_V1) {
			snprintf(val, sizeof(val), "%d", CG_PERIOD_US);
			err = cg_write(d.cpu, "cpu.cfs_period_us", val);
			if (err)
				return err;
			snprintf(val, sizeof(val), "%lld", quota);
			err = cg_write(d.cpu, "cpu.cfs_quota_us", val);
		} else {
			snprintf(val, sizeof(val), "%lld %d", quota, CG_PERIOD_US);
			err = cg_write(d.cpu, "cpu.max", val);
		}
		if (err)
			return err;
	}
	if (mem_bytes > 0 && d.mem_ver != CG_NONE) {
		snprintf(val, sizeof(val), "%" PRIu64, mem_bytes);
		err = cg_write(
			d.mem, d.mem_ver == CG_V1 ? "memory.limit_in_bytes" : "memory.max", val);
		if (err)
			return err;
	} else if (mem_bytes > 0) {
		pr_err("load: cannot limit memory of cgroup '%s': no memory controller", name);
		return -EOPNOTSUPP;
	}
	return 0;
}

int load_cgroup_attach(const char *name, pid_t pid)
{
	return load_cgroup_attach_at(NULL, name, pid);
}

int load_cgroup_attach_at(const struct load_paths *paths, const char *name, pid_t pid)
{
	const char *dirs[3];
	struct cg_dirs d;
	char val[32];
	int err, n, i, done = 0;

	if (pid <= 0)
		return -EINVAL;
	err = cg_resolve(paths, name, &d);
	if (err)
		return err;
	snprintf(val, sizeof(val), "%d", (int)pid);
	n = cg_dir_list(&d, dirs);
	for (i = 0; i < n; i++) {
		if (!is_dir(dirs[i]))
			continue;
		err = cg_write(dirs[i], "cgroup.procs", val);
		if (err)
			return err;
		done++;
	}
	if (!done) {
		pr_err("load: cannot attach %d: cgroup '%s' does not exist (%s)", (int)pid, name,
			d.cpu);
		return -ENOENT;
	}
	return 0;
}

int load_cgroup_remove(const char *name)
{
	return load_cgroup_remove_at(NULL, name);
}

int load_cgroup_remove_at(const struct load_paths *paths, const char *name)
{
	const char *dirs[3];
	struct cg_dirs d;
	int err, n, i, ret = 0;

	err = cg_resolve(paths, name, &d);
	if (err)
		return err;
	n = cg_dir_list(&d, dirs);
	for (i = 0; i < n; i++) {
		if (rmdir(dirs[i]) == 0 || errno == ENOENT)
			continue;
		err = -errno;
		pr_err("load: cannot remove cgroup %s: %s", dirs[i], strerror(-err));
		if (!ret)
			ret = err;
	}
	return ret;
}
