/* dump: what can move, and the checkpoint of a seized, stopped process. */
#include "ckpt/image.h"
#include "ckpt/ptrace.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#define CKPT_PF_KTHREAD 0x00200000

struct ckpt_rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

static void why_add(struct ckpt_why *why, unsigned bit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_add(struct ckpt_why *why, unsigned bit, const char *fmt, ...)
{
	size_t l;
	va_list ap;

	if (!(why->mask & bit)) {
		l = strlen(why->words);
		snprintf(why->words + l, sizeof(why->words) - l, "%s%s", l ? " " : "",
			 ckpt_why_word(bit));
	}
	why->mask |= bit;
	l = strlen(why->detail);
	if (l + 2 >= sizeof(why->detail))
		return;
	if (l)
		why->detail[l++] = ';', why->detail[l++] = ' ', why->detail[l] = 0;
	va_start(ap, fmt);
	vsnprintf(why->detail + l, sizeof(why->detail) - l, fmt, ap);
	va_end(ap);
}

/* a small /proc/PID/NAME file into buf; bytes or -errno (-ESRCH when gone) */

/* "Key:\tvalue" of /proc/PID/status, as a number in base */

/* fields of /proc/PID/stat, counted from 1, after the (comm) */
static int stat_fields(pid_t pid, unsigned long long *f, int nf)
{
	char buf[2048], *p;
	ssize_t n = proc_read(pid, "stat", buf, sizeof(buf));
	int i;

	if (n < 0)
		return (int)n;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p += 2;		/* field 3: state */
	memset(f, 0, sizeof(*f) * (size_t)nf);
	for (i = 3; i < nf && *p; i++) {
		char *end;

		if (i == 3)
			f[i] = (unsigned char)*p, end = p + 1;
		else
			f[i] = strtoull(p, &end, 10);
		p = end;
		while (*p == ' ')
			p++;
	}
	return i >= 52 ? 0 : -EINVAL;
}

static void check_maps(pid_t pid, struct ckpt_why *why)
{
	char path[64], line[4200];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fp = fopen(path, "re");
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		struct ckpt_region r;
		bool shared;
		const char *n;

		if (ckpt_parse_maps_line(line, &r, &shared))
			continue;
		n = r.name ? r.name : "";
		if (!strncmp(n, "/dev/", 5) && strncmp(n, "/dev/zero", 9) && strncmp(n, "/dev/shm/", 9))
			why_add(why, CKPT_WHY_MMAP_DEV, "device %s at %#" PRIx64, n, r.start);
		else if (shared && (!strncmp(n, "/SYSV", 5) || !strncmp(n, "/dev/shm/", 9)))
			why_add(why, CKPT_WHY_SHM, "shared memory %s at %#" PRIx64, n, r.start);
		else if (shared && (r.prot & PROT_WRITE) && (r.flags & CKPT_RF_FILE) &&
			 strncmp(n, "/dev/zero", 9) && strncmp(n, "/memfd:", 7))
			why_add(why, CKPT_WHY_MONKEY, "writable shared file %s at %#" PRIx64, n,
				r.start);
		else if (shared && (r.prot & PROT_WRITE))
			why_add(why, CKPT_WHY_SHM, "writable shared mapping %s at %#" PRIx64,
				*n ? n : "(anonymous)", r.start);
		else if (shared)
			pr_debug("%d: read-only shared %s at %#" PRIx64 " will move as a private copy",
				 pid, n, r.start);
		free(r.name);
	}
	fclose(fp);
}

int ckpt_check(pid_t pid, struct ckpt_why *why)
{
	struct ckpt_why local;
	char status[4096];
	unsigned long long v, f[53];
	ssize_t n;

	if (!why)
		why = &local;
	memset(why, 0, sizeof(*why));
	n = proc_read(pid, "status", status, sizeof(status));
	if (n < 0 || stat_fields(pid, f, 53)) {
		why_add(why, CKPT_WHY_GONE, "no process %d", pid);
		pr_err("check %d: no such process", pid);
		return -ESRCH;
	}
	if (pid == 1 || (f[9] & CKPT_PF_KTHREAD))
		why_add(why, CKPT_WHY_SYSTEM, "%s", pid == 1 ? "init" : "kernel thread");
	if (!proc_status_field(status, "Threads", 10, &v) && v > 1)
		why_add(why, CKPT_WHY_CLONE_VM, "%llu threads", v);
	if (!proc_status_field(status, "TracerPid", 10, &v) && v && v != (unsigned long long)getpid())
		why_add(why, CKPT_WHY_PTRACED, "traced by %llu", v);
	if (!proc_status_field(status, "VmLck", 10, &v) && v)
		why_add(why, CKPT_WHY_MEM_LOCK, "%llu kB locked", v);
	if (f[41] == SCHED_FIFO || f[41] == SCHED_RR || f[41] == 6 /* SCHED_DEADLINE */)
		why_add(why, CKPT_WHY_RT_SCHED, "policy %llu", f[41]);
	if (!(f[9] & CKPT_PF_KTHREAD))
		check_maps(pid, why);
	if (why->mask) {
		pr_debug("process %d cannot move: %s (%s)", pid, why->words, why->detail);
		return -EBUSY;
	}
	return 0;
}

/* What only the process itself can tell, asked by system calls it makes
 * for us: one batch (ckpt/ptrace.h) in a scratch mapping of its own, so
 * three stops in all. Signal actions are asked for where /proc says they
 * are not the default (`actions`, bit n-1 for signal n), and for SIGCHLD,
 * whose flags matter even under the default action; the others stay
 * SIG_DFL with no flags. A call that fails leaves its field as it was. */
#define DSCR_LEN 12288
#define DSCR_TID 64		/* PR_GET_TID_ADDRESS's word */
#define DSCR_SS 128		/* stack_t */
#define DSCR_ACT 256		/* the sigactions, 32 bytes each */
#define DSCR_TABLE 4096		/* the calls */

static int dump_injected(pid_t pid, struct ckpt_image *img, uint64_t actions)
{
	struct ptr_inject *ij = ptr_inject_new(pid);
	struct ptr_call calls[CKPT_NSIG + 4];
	uint8_t scr[DSCR_TABLE];
	size_t n = 0, at = 0, done;
	long ret, scratch = 0;
	int err, brk_i, tid_i, ss_i, pers_i, sig_i[CKPT_NSIG + 1] = { 0 };

	_Static_assert(DSCR_ACT + CKPT_NSIG * 32 <= DSCR_TABLE &&
			       DSCR_TABLE + sizeof(calls) <= DSCR_LEN && PTR_BATCH_CODE_LEN <= DSCR_TID,
		       "the dump's scratch layout");
	uint64_t mask;

	if (!ij)
		return -ESRCH;
	err = ptr_hold_signals(pid, &mask); /* a timer may fire meanwhile */
	if (err) {
		ptr_inject_free(ij, false);
		return err;
	}
	err = ptr_sys(ij, &ret, __NR_mmap, 0, DSCR_LEN, PROT_READ | PROT_WRITE | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (err)
		goto out;
	if (ret < 0 && ret > -4096) {
		err = (int)ret;
		pr_err("mmap of a scratch area in %d: %s", pid, strerror((int)-ret));
		goto out;
	}
	scratch = ret;
	err = ptr_write_mem(pid, (uint64_t)scratch, ptr_batch_code, PTR_BATCH_CODE_LEN);
	if (err)
		goto out;
#define DCALL(nr, ...) (calls[n] = (struct ptr_call){ nr, { __VA_ARGS__ }, 0 }, (int)n++)
	brk_i = DCALL(__NR_brk, 0);
	tid_i = DCALL(__NR_prctl, PR_GET_TID_ADDRESS, scratch + DSCR_TID);
	for (int sig = 1; sig <= CKPT_NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP &&
		    (sig == SIGCHLD || (actions >> (sig - 1) & 1)))
			sig_i[sig] = DCALL(__NR_rt_sigaction, sig, 0,
					   scratch + DSCR_ACT + 32 * (sig - 1), 8);
	ss_i = DCALL(__NR_sigaltstack, 0, scratch + DSCR_SS);
	pers_i = DCALL(__NR_personality, 0xffffffffL);
#undef DCALL
	/* a failed call ends a batch: the rest runs in the next one */
	while (at < n) {
		err = ptr_batch(ij, (uint64_t)scratch, (uint64_t)scratch + DSCR_TABLE, calls + at,
				n - at, &done);
		if (err)
			goto out;
		at += done;
		if (at < n)
			at++; /* calls[at - 1] failed: its ret says how */
	}
	err = ptr_read_mem(pid, (uint64_t)scratch, scr, sizeof(scr));
	if (err)
		goto out;
	img->mm.brk = (uint64_t)calls[brk_i].ret;
	if (calls[tid_i].ret == 0)
		memcpy(&img->clear_child_tid, scr + DSCR_TID, 8);
	for (int sig = 1; sig <= CKPT_NSIG; sig++) {
		uint64_t w[4];

		if (!sig_i[sig] || calls[sig_i[sig]].ret)
			continue; /* default, or refused: kept default */
		memcpy(w, scr + DSCR_ACT + 32 * (sig - 1), sizeof(w));
		img->sigact[sig - 1] = (struct ckpt_sigaction){ w[0], w[1], w[2], w[3] };
	}
	if (calls[ss_i].ret == 0) {
		stack_t ss;

		memcpy(&ss, scr + DSCR_SS, sizeof(ss));
		img->altstack_sp = (uint64_t)(uintptr_t)ss.ss_sp;
		img->altstack_size = ss.ss_size;
		img->altstack_flags = (uint32_t)ss.ss_flags;
	}
	img->personality = (uint32_t)calls[pers_i].ret;
out:
	if (scratch) {
		int e2 = ptr_sys(ij, &ret, __NR_munmap, scratch, DSCR_LEN);

		if (!err && e2)
			err = e2;
	}
	ptr_inject_free(ij, true);
	{
		int e3 = ptr_release_signals(pid, mask);

		if (!err && e3)
			err = e3;
	}
	return err;
}

/* A private file mapping r of a lazy image, cut where its pages change
 * from still being the file's own to not: those go as CKPT_RF_FILEMAP
 * regions (the restore maps them from the same file), the others as
 * usual. A page is the file's own if it is absent and not swapped (it
 * would be read from the file) or present as a page-cache page
 * (/proc/PID/pagemap bit 61); an anonymous page there is a copy the
 * process wrote (or relocated), and travels. Only when the path names,
 * for us, the very file mapped (same device and inode as
 * /proc/PID/map_files). 1 if added, 0 if r is to be added as usual. */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE (1ULL << 61)

static int add_file_region(pid_t pid, struct ckpt_image *img, const struct ckpt_region *r,
			   int pmfd)
{
	uint64_t npages = (r->end - r->start) / CKPT_PAGE_SIZE, *pm;
	char mf[96];
	struct stat a, b;
	size_t nl = strlen(r->name);
	int err = 0;

	if (pmfd < 0 || (nl > 10 && !strcmp(r->name + nl - 10, " (deleted)")))
		return 0;
	snprintf(mf, sizeof(mf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, r->start, r->end);
	if (stat(mf, &a) || stat(r->name, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino ||
	    !S_ISREG(b.st_mode))
		return 0;
	pm = malloc(npages * 8);
	if (!pm)
		return 0;
	if (pread(pmfd, pm, npages * 8, (off_t)(r->start / CKPT_PAGE_SIZE * 8)) !=
	    (ssize_t)(npages * 8)) {
		free(pm);
		return 0;
	}
	for (uint64_t i = 0, j; !err && i < npages; i = j) {
		bool own = pm[i] & PM_PRESENT ? pm[i] & PM_FILE : !(pm[i] & PM_SWAPPED);
		struct ckpt_region s = *r;

		for (j = i + 1; j < npages; j++)
			if ((pm[j] & PM_PRESENT ? pm[j] & PM_FILE : !(pm[j] & PM_SWAPPED)) != own)
				break;
		s.start = r->start + i * CKPT_PAGE_SIZE;
		s.end = r->start + j * CKPT_PAGE_SIZE;
		s.pgoff = r->pgoff + i * CKPT_PAGE_SIZE;
		if (own) {
			s.flags |= CKPT_RF_FILEMAP;
			s.file_size = (uint64_t)b.st_size;
			s.file_mtime_ns = (uint64_t)b.st_mtim.tv_sec * 1000000000ULL +
					  (uint64_t)b.st_mtim.tv_nsec;
		} else if (r->prot & PROT_READ) {
			s.flags |= CKPT_RF_DATA;
		}
		err = ckpt_image_add_region(img, &s);
	}
	free(pm);
	return err ? err : 1;
}

/* The regions of /proc/PID/maps; with contents, every readable one that
 * is not special is read (a lazy image has them flagged, not read; with
 * CKPT_DUMP_FILEMAP, the pages of private file mappings that are still
 * the file's own are not sent at all: add_file_region). */
static int dump_regions(pid_t pid, struct ckpt_image *img, bool contents, unsigned opts)
{
	char path[64], line[4200];
	FILE *fp;
	int err = 0, pmfd = -1;

	if (!contents && (opts & CKPT_DUMP_FILEMAP)) {
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
		pmfd = open(path, O_RDONLY | O_CLOEXEC);
	}

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fp = fopen(path, "re");
	if (!fp)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), fp)) {
		struct ckpt_region r;
		bool shared;
		size_t len;

		err = ckpt_parse_maps_line(line, &r, &shared);
		if (err) {
			pr_err("%d: unexpected maps line: %s", pid, line);
			break;
		}
		if (r.start >= CKPT_TASK_SIZE) {	/* [vsyscall] */
			free(r.name);
			continue;
		}
		if (shared)
			r.flags |= CKPT_RF_SHARED_RO;
		len = r.end - r.start;
		if (!contents && !shared && (r.flags & CKPT_RF_FILE) &&
		    (err = add_file_region(pid, img, &r, pmfd))) {
			free(r.name);
			if (err < 0)
				break;
			err = 0;
			continue;
		}
		if ((r.prot & PROT_READ) && !(r.flags & CKPT_RF_SPECIAL) && !contents) {
			r.flags |= CKPT_RF_DATA;
		} else if ((r.prot & PROT_READ) && !(r.flags & CKPT_RF_SPECIAL)) {
			r.data = ckpt_data_alloc(len, true);
			if (!r.data) {
				err = -ENOMEM;
				pr_err("%d: no memory for %zu bytes of %s", pid, len,
				       r.name ? r.name : "anonymous memory");
			} else {
				err = ptr_read_mem(pid, r.start, r.data, len);
				r.flags |= CKPT_RF_DATA;
			}
		}
		if (!err)
			err = ckpt_image_add_region(img, &r);
		free(r.name);
		if (err) {
			ckpt_data_free(r.data, len);
			break;
		}
	}
	fclose(fp);
	if (pmfd >= 0)
		close(pmfd);
	return err;
}

static int dump(pid_t pid, struct ckpt_image **out, struct ckpt_why *why, bool contents,
		unsigned opts)
{
	struct ckpt_rseq_conf rc = { 0 };
	struct ckpt_image *img;
	unsigned long long f[53], v, ign, actions = ~0ULL;
	char buf[CKPT_CMDLINE_MAX + 1];
	size_t xlen = CKPT_XSTATE_MAX;
	ssize_t n;
	int err;

	err = ckpt_check(pid, why);
	if (err)
		return err;
	img = ckpt_image_new();
	if (!img)
		return -ENOMEM;
	img->pid = (uint32_t)pid;
	img->xstate = malloc(CKPT_XSTATE_MAX);
	if (!img->xstate) {
		err = -ENOMEM;
		goto out_free;
	}
	err = ptr_getregs(pid, &img->regs);
	if (!err)
		err = ptr_get_xstate(pid, img->xstate, &xlen);
	if (err)
		goto out_free;
	img->xstate_len = (uint32_t)xlen;

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, (void *)sizeof(rc), &rc) < 0) {
		pr_warn("rseq configuration of %d: %s (assuming none)", pid, strerror(errno));
		memset(&rc, 0, sizeof(rc));
	}
	img->rseq_ptr = rc.rseq_abi_pointer;
	img->rseq_len = rc.rseq_abi_size;
	img->rseq_sig = rc.signature;

	{
		size_t len = 0;
		void *head = NULL;

		if (syscall(SYS_get_robust_list, pid, &head, &len) < 0) {
			err = -errno;
			pr_err("robust list of %d: %s", pid, strerror(errno));
			goto out_free;
		}
		img->robust_list = (uint64_t)(uintptr_t)head;
		img->robust_len = len;
	}
	if (ptrace(PTRACE_GETSIGMASK, pid, (void *)sizeof(uint64_t), &img->sigmask) < 0) {
		err = -errno;
		pr_err("signal mask of %d: %s", pid, strerror(errno));
		goto out_free;
	}

	n = proc_read(pid, "status", buf, sizeof(buf));
	if (n > 0) {
		if (!proc_status_field(buf, "SigPnd", 16, &v))
			img->sigpending |= v;
		if (!proc_status_field(buf, "ShdPnd", 16, &v))
			img->sigpending |= v;
		if (!proc_status_field(buf, "SigIgn", 16, &ign) && !proc_status_field(buf, "SigCgt", 16, &v))
			actions = ign | v;
	}
	err = dump_injected(pid, img, actions);
	if (err)
		goto out_free;

	err = stat_fields(pid, f, 53);
	if (err) {
		pr_err("stat of %d: %s", pid, strerror(-err));
		goto out_free;
	}
	img->mm.start_code = f[26];
	img->mm.end_code = f[27];
	img->mm.start_stack = f[28];
	img->mm.start_data = f[45];
	img->mm.end_data = f[46];
	img->mm.start_brk = f[47];
	img->mm.arg_start = f[48];
	img->mm.arg_end = f[49];
	img->mm.env_start = f[50];
	img->mm.env_end = f[51];

	n = proc_read(pid, "comm", buf, sizeof(buf));
	if (n > 0) {
		buf[strcspn(buf, "\n")] = 0;
		buf[sizeof(img->comm) - 1] = 0;
		memcpy(img->comm, buf, sizeof(img->comm));
	}
	n = proc_read(pid, "cmdline", buf, sizeof(buf));
	if (n > 0) {
		img->cmdline = malloc((size_t)n);
		if (!img->cmdline) {
			err = -ENOMEM;
			goto out_free;
		}
		memcpy(img->cmdline, buf, (size_t)n);
		img->cmdline_len = (uint32_t)n;
	}
	{
		uint64_t aux[CKPT_AUXV_MAX];
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, aux, sizeof(aux));
		if (fd >= 0)
			close(fd);
		if (n <= 0 || n % 16) {
			err = n < 0 ? -errno : -EINVAL;
			pr_err("auxv of %d: %s", pid, n < 0 ? strerror(errno) : "odd size");
			goto out_free;
		}
		img->auxv = malloc((size_t)n);
		if (!img->auxv) {
			err = -ENOMEM;
			goto out_free;
		}
		memcpy(img->auxv, aux, (size_t)n);
		img->auxv_words = (uint32_t)(n / 8);
	}

	img->lazy = !contents;
	err = dump_regions(pid, img, contents, opts);
	if (err)
		goto out_free;
	*out = img;
	return 0;
out_free:
	ckpt_image_free(img);
	return err;
}

int ckpt_dump(pid_t pid, struct ckpt_image **out, struct ckpt_why *why)
{
	return dump(pid, out, why, true, 0);
}

int ckpt_dump_layout(pid_t pid, struct ckpt_image **out, struct ckpt_why *why)
{
	return dump(pid, out, why, false, 0);
}

int ckpt_dump_layout_opts(pid_t pid, struct ckpt_image **out, struct ckpt_why *why,
			  unsigned opts)
{
	return dump(pid, out, why, false, opts);
}
