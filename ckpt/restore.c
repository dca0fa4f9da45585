/* restore: rebuild an image inside a fresh stub process, by system calls
 * injected into the stub itself (special mappings can only be moved, and
 * PR_SET_MM_MAP only done, by the process they belong to). */
#include "ckpt/image.h"
#include "ckpt/ptrace.h"
#include "lib/log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#define CKPT_RSEQ_FLAG_UNREGISTER 1

/* kernel restart codes, seen in rax of a task stopped inside a syscall */
#define CKPT_ERESTARTSYS 512
#define CKPT_ERESTARTNOINTR 513
#define CKPT_ERESTARTNOHAND 514
#define CKPT_ERESTART_RESTARTBLOCK 516

static const unsigned special_kinds[] = { CKPT_RF_VVAR, CKPT_RF_VCLOCK, CKPT_RF_VDSO };

void ckpt_restore_opts_init(struct ckpt_restore_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->stdio[0] = opts->stdio[1] = opts->stdio[2] = -1;
}

int ckpt_stub_fork(const struct ckpt_restore_opts *opts, pid_t *out)
{
	pid_t pid;
	int st, err;

	pid = fork();
	if (pid < 0) {
		err = -errno;
		pr_err("fork of a stub: %s", strerror(errno));
		return err;
	}
	if (pid == 0) {
		/* the stub: only what the copy should inherit; no logging */
		for (int i = 0; i < 3; i++)
			if (opts && opts->stdio[i] >= 0 && opts->stdio[i] != i &&
			    dup2(opts->stdio[i], i) < 0)
				_exit(126);
		syscall(SYS_close_range, 3, ~0U, 0);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(126);
		/* kill, not raise(): no getpid through libc wrappers */
		kill(getpid(), SIGSTOP);
		_exit(127);	/* resumed without a restore */
	}
	err = ptr_wait_stop(pid, &st);
	if (err)
		return err;
	if (WSTOPSIG(st) != SIGSTOP) {
		pr_err("stub %d stopped with signal %d, not SIGSTOP", pid, WSTOPSIG(st));
		err = -EPROTO;
		goto out_kill;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)PTRACE_O_EXITKILL) < 0) {
		err = -errno;
		pr_err("options of stub %d: %s", pid, strerror(errno));
		goto out_kill;
	}
	*out = pid;
	return 0;
out_kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	return err;
}

int ckpt_resume(pid_t pid)
{
	return ptr_detach(pid);
}

/* an injected call whose failure ends the restore: logs with what it was */
static int rsys(struct ptr_inject *ij, long *ret, const char *what, long nr, const long a[6])
{
	long r;
	int err = ptr_syscall(ij, nr, a, &r);

	if (err)
		return err;
	if (r < 0 && r > -4096) {
		pr_err("restore in %d: %s: %s", ptr_inject_pid(ij), what, strerror((int)-r));
		return (int)r;
	}
	if (ret)
		*ret = r;
	return 0;
}

#define RSYS(ij, ret, what, nr, ...) rsys(ij, ret, what, nr, (const long[6]){ __VA_ARGS__ })

struct span {
	uint64_t start, end;
};

/* the stub's special mappings, by kind (index into special_kinds) */
static int stub_specials(pid_t pid, struct span sp[3], struct span **maps, size_t *nmaps)
{
	char path[64], line[4200];
	FILE *fp;
	size_t n = 0, cap = 0;
	struct span *m = NULL;

	memset(sp, 0, 3 * sizeof(*sp));
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fp = fopen(path, "re");
	if (!fp) {
		pr_err("open %s: %s", path, strerror(errno));
		return -ESRCH;
	}
	while (fgets(line, sizeof(line), fp)) {
		struct ckpt_region r;
		bool shared;

		if (ckpt_parse_maps_line(line, &r, &shared))
			continue;
		free(r.name);
		for (int k = 0; k < 3; k++)
			if (r.flags & special_kinds[k])
				sp[k] = (struct span){ r.start, r.end };
		if (n == cap) {
			struct span *nm = realloc(m, (cap = cap ? 2 * cap : 64) * sizeof(*m));

			if (!nm) {
				free(m);
				fclose(fp);
				return -ENOMEM;
			}
			m = nm;
		}
		m[n++] = (struct span){ r.start, r.end };
	}
	fclose(fp);
	*maps = m;
	*nmaps = n;
	return 0;
}

static bool overlaps(uint64_t s, uint64_t e, const struct span *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s < m[i].end && m[i].start < e)
			return true;
	return false;
}

static bool overlaps_img(uint64_t s, uint64_t e, const struct ckpt_image *img)
{
	for (uint32_t i = 0; i < img->nr_regions; i++)
		if (s < img->regions[i].end && img->regions[i].start < e)
			return true;
	return false;
}

/* where the image's vvar/vclock/vdso are; the layout must match the stub's */
static int match_specials(const struct ckpt_image *img, const struct span stub[3],
			  struct span want[3])
{
	memset(want, 0, 3 * sizeof(*want));
	for (uint32_t i = 0; i < img->nr_regions; i++)
		for (int k = 0; k < 3; k++)
			if (img->regions[i].flags & special_kinds[k])
				want[k] = (struct span){ img->regions[i].start, img->regions[i].end };
	if (!want[2].start || !stub[2].start) {
		pr_err("restore: no [vdso] in the %s", want[2].start ? "stub" : "image");
		return -EINVAL;
	}
	for (int k = 0; k < 3; k++) {
		if (!want[k].start != !stub[k].start ||
		    want[k].end - want[k].start != stub[k].end - stub[k].start ||
		    (want[k].start && want[k].start - want[2].start != stub[k].start - stub[2].start)) {
			pr_err("restore: the vDSO layout of the image differs from this kernel's");
			return -EINVAL;
		}
	}
	return 0;
}

/* signals whose action in pid is not the default (ignored or caught), as
 * /proc/PID/status shows them: bit n-1 for signal n; all set if unknown */
static uint64_t actions_set(pid_t pid)
{
	char path[64], line[128];
	unsigned long long ign = ~0ULL, cgt = ~0ULL, v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return ~0ULL;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "SigIgn: %llx", &v) == 1)
			ign = v;
		else if (sscanf(line, "SigCgt: %llx", &v) == 1)
			cgt = v;
	}
	fclose(f);
	return ign | cgt;
}

/* the registers the copy starts with: an interrupted syscall restarts */
static void restart_fixup(struct user_regs_struct *r)
{
	if ((long long)r->orig_rax >= 0) {
		switch ((long long)r->rax) {
		case -CKPT_ERESTARTSYS:
		case -CKPT_ERESTARTNOINTR:
		case -CKPT_ERESTARTNOHAND:
			r->rax = r->orig_rax;
			r->rip -= 2;
			break;
		case -CKPT_ERESTART_RESTARTBLOCK:
			/* the restart block stays where the call was cut.
			 * poll (which always takes this way, even without a
			 * timeout) and the sleeps start again with their own
			 * arguments, still in their registers, as natively a
			 * stop does not end them: a relative timeout starts
			 * again whole (longer, never shorter; an absolute one
			 * is exact). Anything else fails with EINTR. */
			switch ((long long)r->orig_rax) {
			case __NR_poll:
			case __NR_nanosleep:
			case __NR_clock_nanosleep:
				r->rax = r->orig_rax;
				r->rip -= 2;
				break;
			default:
				r->rax = (unsigned long long)-EINTR;
				break;
			}
			break;
		}
	}
	r->orig_rax = (unsigned long long)-1;
}

/* The restorer's own mapping in the target process, next to the parked vDSO: the
 * batch loop (ckpt/ptrace.h), what some calls point to, and the table of
 * calls. Nearly every step is one batch: one stop of the target for dozens
 * of calls, instead of one each. */
#define SCR_LEN (64 * 1024)
#define CKPT_MAX_FILES 256			/* files mapped by CKPT_RF_FILEMAP regions */
#define SCR_MM 256				/* struct prctl_mm_map */
#define SCR_AUXV 512				/* the auxv */
#define SCR_SS (SCR_AUXV + CKPT_AUXV_MAX * 8)	/* stack_t */
#define SCR_COMM (SCR_SS + 64)			/* the name */
#define SCR_SIGACT (SCR_COMM + 64)		/* CKPT_NSIG sigactions */
#define SCR_FILTER (SCR_SIGACT + CKPT_NSIG * 32)	/* struct sock_fprog, then its code */
#define SCR_TABLE 16384
#define SCR_PATHS 49152				/* paths of CKPT_RF_FILEMAP files */
#define SCR_MAX_FILTER ((SCR_TABLE - SCR_FILTER - 16) / sizeof(struct sock_filter))
#define SCR_MAX_CALLS ((SCR_PATHS - SCR_TABLE) / sizeof(struct ptr_call))
static_assert(PTR_BATCH_CODE_LEN <= SCR_MM && sizeof(struct prctl_mm_map) <= SCR_AUXV - SCR_MM &&
		      sizeof(stack_t) <= 64 && SCR_SIGACT + CKPT_NSIG * 32 <= SCR_TABLE,
	      "the scratch mapping's layout");

struct ckpt_restorer {
	pid_t pid;			/* the stub being filled */
	struct ptr_inject *ij;
	struct span cur[3];		/* where its vvar/vclock/vdso are now */
	uint64_t park_lo, park_hi;	/* the span they are parked in */
	uint64_t scratch;		/* our mapping: [park_hi, park_hi + SCR_LEN) */
	bool moved;			/* the vDSO moved since the last rescan */
	/* the calls of the next batch */
	struct ptr_call *calls;
	const char **what;
	uint8_t *tolerate;		/* a failure is logged, the rest runs on */
	size_t n, cap;
	bool oom;
};

static void add_call(struct ckpt_restorer *rs, bool tolerate, const char *what, long nr,
		     const long a[6])
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 64;
		struct ptr_call *c = realloc(rs->calls, cap * sizeof(*c));
		const char **w = c ? realloc(rs->what, cap * sizeof(*w)) : NULL;
		uint8_t *t = w ? realloc(rs->tolerate, cap) : NULL;

		if (c)
			rs->calls = c;
		if (w)
			rs->what = w;
		if (t)
			rs->tolerate = t;
		if (!c || !w || !t) {
			rs->oom = true;
			return;
		}
		rs->cap = cap;
	}
	rs->calls[rs->n] = (struct ptr_call){ .nr = nr };
	memcpy(rs->calls[rs->n].args, a, sizeof(rs->calls[0].args));
	rs->what[rs->n] = what;
	rs->tolerate[rs->n] = tolerate;
	rs->n++;
}

#define CALL(rs, what, nr, ...) add_call(rs, false, what, nr, (const long[6]){ __VA_ARGS__ })

/* Run the calls gathered, in batches; the first failure ends it (logged
 * with what it was), unless that call tolerates failing. 0 or -errno. */
static int run_calls(struct ckpt_restorer *rs)
{
	size_t i = 0, n = rs->n;
	int err = rs->oom ? -ENOMEM : 0;

	rs->n = 0;
	rs->oom = false;
	while (!err && i < n) {
		size_t k = n - i < SCR_MAX_CALLS ? n - i : SCR_MAX_CALLS, done;

		err = ptr_batch(rs->ij, rs->scratch, rs->scratch + SCR_TABLE, rs->calls + i, k,
				&done);
		if (err)
			break;
		i += done;
		if (done == k)
			continue;
		/* calls[i] failed */
		if (rs->tolerate[i]) {
			pr_warn("restore in %d: %s: %s", rs->pid, rs->what[i],
				strerror((int)-rs->calls[i].ret));
		} else {
			pr_err("restore in %d: %s: %s", rs->pid, rs->what[i],
			       strerror((int)-rs->calls[i].ret));
			err = (int)rs->calls[i].ret;
		}
		i++;
	}
	return err;
}

/* a single injected call (through the vDSO's syscall instruction) */
static int one_call(struct ckpt_restorer *rs, long *ret, const char *what, long nr,
		    const long a[6])
{
	if (rs->moved) {
		int err = ptr_inject_rescan(rs->ij);

		if (err)
			return err;
		rs->moved = false;
	}
	return rsys(rs->ij, ret, what, nr, a);
}

#define ONE(rs, ret, what, nr, ...) one_call(rs, ret, what, nr, (const long[6]){ __VA_ARGS__ })

/* calls that move the specials so that the vdso lands at vdso_to, keeping
 * their offsets */
static void move_specials(struct ckpt_restorer *rs, uint64_t vdso_to)
{
	struct span *cur = rs->cur;
	uint64_t vdso = cur[2].start;

	for (int k = 0; k < 3; k++) {
		uint64_t len = cur[k].end - cur[k].start;
		uint64_t to = vdso_to + (cur[k].start - vdso);

		if (!cur[k].start)
			continue;
		CALL(rs, "mremap of a special mapping", __NR_mremap, (long)cur[k].start, (long)len,
		     (long)len, MREMAP_MAYMOVE | MREMAP_FIXED, (long)to);
		cur[k].start = to;
		cur[k].end = to + len;
	}
	rs->moved = true;
}

/* Open, in the stub, every file that CKPT_RF_FILEMAP regions map, once
 * each (one batch); fd[i] gets region i's descriptor there, -1 for other
 * regions. The file must have, here, the size and mtime home saw:
 * -ESTALE if not (or if it cannot be opened), so that the sender can try
 * again with every byte. 0 or -errno. */
static int open_files(struct ckpt_restorer *rs, const struct ckpt_image *img, long *fd)
{
	uint32_t first[CKPT_MAX_FILES], nf = 0;
	uint64_t at = SCR_PATHS;
	int err = 0;

	for (uint32_t i = 0; i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];
		struct stat st;
		uint32_t k;

		fd[i] = -1;
		if (!(r->flags & CKPT_RF_FILEMAP))
			continue;
		for (k = 0; k < nf; k++)
			if (!strcmp(img->regions[first[k]].name, r->name))
				break;
		if (k < nf) {
			fd[i] = -2 - (long)k; /* the k-th file's, once opened */
			continue;
		}
		if (stat(r->name, &st) || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size != r->file_size ||
		    (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec !=
			    r->file_mtime_ns) {
			pr_warn("restore: %s is not the file home maps: sending its pages instead",
				r->name);
			return -ESTALE;
		}
		size_t nl = strlen(r->name) + 1;

		if (nf == CKPT_MAX_FILES || at + nl > SCR_LEN)
			return -ESTALE; /* too many files: every byte then */
		err = ptr_write_mem(rs->pid, rs->scratch + at, r->name, nl);
		if (err)
			return err;
		first[nf] = i;
		fd[i] = -2 - (long)nf++;
		CALL(rs, "open of a mapped file", __NR_openat, AT_FDCWD, (long)(rs->scratch + at),
		     O_RDONLY | O_CLOEXEC);
		at += nl;
	}
	if (!nf)
		return 0;
	err = run_calls(rs);
	if (err)
		return err == -ENOENT || err == -EACCES ? -ESTALE : err;
	for (uint32_t i = 0; i < img->nr_regions; i++)
		if (fd[i] <= -2)
			fd[i] = rs->calls[-2 - fd[i]].ret;
	return 0;
}

/* Calls that close what open_files opened (after the mmaps). */
static void close_files(struct ckpt_restorer *rs, const struct ckpt_image *img, const long *fd)
{
	for (uint32_t i = 0; i < img->nr_regions; i++) {
		uint32_t k;

		if (fd[i] < 0)
			continue;
		for (k = 0; k < i && fd[k] != fd[i]; k++)
			;
		if (k == i)
			CALL(rs, "close of a mapped file", __NR_close, fd[i]);
	}
}

/* Calls that map every region at its place, writable (those with contents
 * are filled next by process_vm_writev, which faults the pages in from
 * the kernel: cheaper here than MAP_POPULATE and a second pass). Adjacent
 * regions are mapped together; each gets its own protection at the end
 * (protect_regions). A CKPT_RF_FILEMAP region is mapped from its file
 * (fd[i] in the stub), with its own protection at once. */
static void map_regions(struct ckpt_restorer *rs, const struct ckpt_image *img, const long *fd)
{
	for (uint32_t i = 0, j; i < img->nr_regions; i = j) {
		const struct ckpt_region *r = &img->regions[i];
		long flags = MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS;
		uint64_t end = r->end;

		j = i + 1;
		if (r->flags & CKPT_RF_SPECIAL)
			continue;
		if (r->flags & CKPT_RF_FILEMAP) {
			CALL(rs, "mmap of a file region", __NR_mmap, (long)r->start,
			     (long)(r->end - r->start), (long)r->prot, MAP_FIXED | MAP_PRIVATE, fd[i],
			     (long)r->pgoff);
			continue;
		}
		if (r->flags & CKPT_RF_STACK)
			flags |= MAP_GROWSDOWN;
		else
			while (j < img->nr_regions && img->regions[j].start == end &&
			       !(img->regions[j].flags &
				 (CKPT_RF_SPECIAL | CKPT_RF_STACK | CKPT_RF_FILEMAP)))
				end = img->regions[j++].end;
		CALL(rs, "mmap of a region", __NR_mmap, (long)r->start, (long)(end - r->start),
		     PROT_READ | PROT_WRITE, flags, -1, 0);
	}
}

/* Calls that give each region its own protection, once the contents are in. */
static void protect_regions(struct ckpt_restorer *rs, const struct ckpt_image *img)
{
	for (uint32_t i = 0; i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];

		if ((r->flags & (CKPT_RF_SPECIAL | CKPT_RF_FILEMAP)) ||
		    r->prot == (PROT_READ | PROT_WRITE))
			continue;
		CALL(rs, "mprotect of a region", __NR_mprotect, (long)r->start,
		     (long)(r->end - r->start), (long)r->prot);
	}
}

/* Calls for the per-task state (mm fields, tid address, robust list,
 * signals, altstack, personality, name); what they point to goes into the
 * scratch mapping first. */
static int set_task_state(struct ckpt_restorer *rs, const struct ckpt_image *img)
{
	uint64_t own_actions = actions_set(rs->pid), scr = rs->scratch;
	struct prctl_mm_map mm = {
		.start_code = img->mm.start_code,
		.end_code = img->mm.end_code,
		.start_data = img->mm.start_data,
		.end_data = img->mm.end_data,
		.start_brk = img->mm.start_brk,
		.brk = img->mm.brk,
		.start_stack = img->mm.start_stack,
		.arg_start = img->mm.arg_start,
		.arg_end = img->mm.arg_end,
		.env_start = img->mm.env_start,
		.env_end = img->mm.env_end,
		.auxv = (__u64 *)(uintptr_t)(scr + SCR_AUXV),
		.auxv_size = img->auxv_words * 8,
		.exe_fd = (__u32)-1,
	};
	stack_t ss = {
		.ss_sp = (void *)(uintptr_t)img->altstack_sp,
		.ss_size = img->altstack_size,
		.ss_flags = (int)(img->altstack_flags & ~(uint32_t)SS_ONSTACK),
	};
	char comm[16];
	int err;

	if (ss.ss_flags & SS_DISABLE)
		ss = (stack_t){ .ss_flags = SS_DISABLE };
	memcpy(comm, img->comm, sizeof(comm));
	comm[15] = 0;
	err = ptr_write_mem(rs->pid, scr + SCR_MM, &mm, sizeof(mm));
	if (!err && img->auxv_words)
		err = ptr_write_mem(rs->pid, scr + SCR_AUXV, img->auxv, img->auxv_words * 8);
	if (!err)
		err = ptr_write_mem(rs->pid, scr + SCR_SS, &ss, sizeof(ss));
	if (!err)
		err = ptr_write_mem(rs->pid, scr + SCR_COMM, comm, sizeof(comm));
	if (!err)
		err = ptr_write_mem(rs->pid, scr + SCR_SIGACT, img->sigact, sizeof(img->sigact));
	if (err)
		return err;
	CALL(rs, "prctl(PR_SET_MM_MAP)", __NR_prctl, PR_SET_MM, PR_SET_MM_MAP,
	     (long)(scr + SCR_MM), sizeof(mm), 0);
	CALL(rs, "set_tid_address", __NR_set_tid_address, (long)img->clear_child_tid);
	if (img->robust_list)
		CALL(rs, "set_robust_list", __NR_set_robust_list, (long)img->robust_list,
		     (long)img->robust_len);
	for (int sig = 1; sig <= CKPT_NSIG; sig++) {
		static const struct ckpt_sigaction dfl;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* a default action over a default action: nothing to do */
		if (!memcmp(&img->sigact[sig - 1], &dfl, sizeof(dfl)) &&
		    !(own_actions >> (sig - 1) & 1))
			continue;
		/* glibc's private signals may be refused: logged, not fatal */
		add_call(rs, true, "rt_sigaction", __NR_rt_sigaction,
			 (const long[6]){ sig, (long)(scr + SCR_SIGACT + 32 * (sig - 1)), 0, 8 });
	}
	CALL(rs, "sigaltstack", __NR_sigaltstack, (long)(scr + SCR_SS), 0);
	CALL(rs, "personality", __NR_personality, (long)img->personality);
	CALL(rs, "prctl(PR_SET_NAME)", __NR_prctl, PR_SET_NAME, (long)(scr + SCR_COMM));
	return 0;
}

/* Park the specials (and our scratch after them) where [t, t + span +
 * SCR_LEN) overlaps neither `avoid` nor img (if given). Without a scratch
 * yet, it is made there (one injected call) and the move is its first
 * batch; with one, the specials move in a batch and the scratch by an
 * injected call of its own (the loop cannot move itself). */
static int park(struct ckpt_restorer *rs, const struct span *avoid, size_t navoid,
		const struct ckpt_image *img)
{
	uint64_t len = rs->park_hi - rs->park_lo, tmp = 0;
	long got;
	int err;

	for (uint64_t t = 0x100000000000ULL; t < 0x7f0000000000ULL; t += 0x10000000000ULL) {
		if (!overlaps(t, t + len + SCR_LEN, avoid, navoid) &&
		    (!img || !overlaps_img(t, t + len + SCR_LEN, img))) {
			tmp = t;
			break;
		}
	}
	if (!tmp) {
		pr_err("restore: no free area to park the vDSO");
		return -ENOMEM;
	}
	if (!rs->scratch) {
		err = ONE(rs, &got, "mmap of the restorer's scratch", __NR_mmap, (long)(tmp + len),
			  SCR_LEN, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (!err && (uint64_t)got != tmp + len)
			err = -EFAULT;
		if (!err)
			err = ptr_write_mem(rs->pid, tmp + len, ptr_batch_code, PTR_BATCH_CODE_LEN);
		if (err)
			return err;
		rs->scratch = tmp + len;
	}
	move_specials(rs, tmp + (rs->cur[2].start - rs->park_lo));
	err = run_calls(rs);
	if (!err && rs->scratch != tmp + len) {
		err = ONE(rs, &got, "mremap of the restorer's scratch", __NR_mremap,
			  (long)rs->scratch, SCR_LEN, SCR_LEN, MREMAP_MAYMOVE | MREMAP_FIXED,
			  (long)(tmp + len));
		if (!err)
			rs->scratch = tmp + len;
	}
	if (err)
		return err;
	rs->park_lo = tmp;
	rs->park_hi = tmp + len;
	return 0;
}

/* Steps 1-3, before any image is known: the stub's rseq off, its vDSO
 * parked, everything else of it unmapped. */
static int empty_stub(struct ckpt_restorer *rs)
{
	struct { uint64_t ptr; uint32_t size, sig, flags, pad; } rc = { 0 };
	struct span *maps = NULL;
	size_t nmaps = 0;
	int err;

	/* 2. park vvar/vclock/vdso in a hole the stub does not use */
	err = stub_specials(rs->pid, rs->cur, &maps, &nmaps);
	if (err)
		return err;
	if (!rs->cur[2].start) {
		pr_err("restore: process %d has no [vdso]", rs->pid);
		err = -EINVAL;
		goto out;
	}
	rs->park_lo = rs->cur[2].start;
	rs->park_hi = rs->cur[2].end;
	for (int k = 0; k < 3; k++) {
		if (rs->cur[k].start && rs->cur[k].start < rs->park_lo)
			rs->park_lo = rs->cur[k].start;
		if (rs->cur[k].end > rs->park_hi)
			rs->park_hi = rs->cur[k].end;
	}
	/* 1. the stub's inherited rseq points into memory about to vanish
	 * (first in the batch) */
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, rs->pid, (void *)sizeof(rc), &rc) > 0 &&
	    rc.ptr)
		CALL(rs, "rseq unregister", __NR_rseq, (long)rc.ptr, (long)rc.size,
		     CKPT_RSEQ_FLAG_UNREGISTER, (long)rc.sig);
	err = park(rs, maps, nmaps, NULL);
	if (err)
		goto out;
	/* 3. everything else of the stub goes */
	CALL(rs, "munmap below the vDSO", __NR_munmap, 4096, (long)(rs->park_lo - 4096));
	CALL(rs, "munmap above the vDSO", __NR_munmap, (long)(rs->scratch + SCR_LEN),
	     (long)(CKPT_TASK_SIZE - (rs->scratch + SCR_LEN)));
	err = run_calls(rs);
out:
	free(maps);
	return err;
}

/* Steps 4-6 once the layout is known: everything but the contents, the
 * final protections, rseq, ids and registers. */
static int rebuild_layout(struct ckpt_restorer *rs, const struct ckpt_image *img)
{
	struct span want[3], here = { rs->park_lo, rs->scratch + SCR_LEN };
	long *fd = calloc(img->nr_regions ? img->nr_regions : 1, sizeof(*fd));
	int err = fd ? 0 : -ENOMEM;

	if (!err)
		err = match_specials(img, rs->cur, want);
	/* the parking place is the image's: park elsewhere */
	if (!err && overlaps_img(here.start, here.end, img))
		err = park(rs, &here, 1, img);
	/* the files that regions map, open in the stub */
	if (!err)
		err = open_files(rs, img, fd);
	if (err) {
		free(fd);
		return err;
	}
	/* 4. the image's address space, empty (or the file's pages), the
	 * files closed again */
	map_regions(rs, img, fd);
	close_files(rs, img, fd);
	free(fd);
	/* 5. the vDSO where the image's code expects it */
	move_specials(rs, want[2].start);
	/* 6. mm fields, tid address, robust list, signals, name */
	err = set_task_state(rs, img);
	if (!err)
		err = run_calls(rs);
	return err;
}

/* After the contents: protections, rseq, ids, a seccomp filter, our
 * scratch gone, registers, pending signals. */
static int rebuild_finish(struct ckpt_restorer *rs, const struct ckpt_image *img,
			  const struct ckpt_restore_opts *opts)
{
	pid_t pid = rs->pid;
	struct user_regs_struct regs;
	int err;

	protect_regions(rs, img);
	/* rseq now, so that the kernel writes the cpu into the restored area */
	if (img->rseq_ptr)
		CALL(rs, "rseq registration", __NR_rseq, (long)img->rseq_ptr, (long)img->rseq_len,
		     0, (long)img->rseq_sig);
	if (opts->set_ids) {
		CALL(rs, "setgroups", __NR_setgroups, 0, 0);
		CALL(rs, "setresgid", __NR_setresgid, (long)opts->gid, (long)opts->gid,
		     (long)opts->gid);
		CALL(rs, "setresuid", __NR_setresuid, (long)opts->uid, (long)opts->uid,
		     (long)opts->uid);
	}
	if (opts->filter_len) {
		struct sock_fprog prog = {
			.len = (unsigned short)opts->filter_len,
			.filter = (struct sock_filter *)(uintptr_t)(rs->scratch + SCR_FILTER + 16),
		};

		if (opts->filter_len > SCR_MAX_FILTER)
			return -E2BIG;
		err = ptr_write_mem(pid, rs->scratch + SCR_FILTER, &prog, sizeof(prog));
		if (!err)
			err = ptr_write_mem(pid, rs->scratch + SCR_FILTER + 16, opts->filter,
					    opts->filter_len * sizeof(struct sock_filter));
		if (err)
			return err;
		CALL(rs, "prctl(PR_SET_NO_NEW_PRIVS)", __NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		CALL(rs, "seccomp filter", __NR_seccomp, SECCOMP_SET_MODE_FILTER, 0,
		     (long)(rs->scratch + SCR_FILTER));
	}
	err = run_calls(rs);
	if (!err)
		err = ONE(rs, NULL, "munmap of the restorer's scratch", __NR_munmap,
			  (long)rs->scratch, SCR_LEN);
	if (err)
		return err;
	rs->scratch = 0;
	/* 7. the registers */
	regs = img->regs;
	restart_fixup(&regs);
	err = ptr_setregs(pid, &regs);
	if (!err && img->xstate_len)
		err = ptr_set_xstate(pid, img->xstate, img->xstate_len);
	if (!err && ptrace(PTRACE_SETSIGMASK, pid, (void *)sizeof(uint64_t), &img->sigmask) < 0) {
		err = -errno;
		pr_err("restore: signal mask of %d: %s", pid, strerror(errno));
	}
	/* pending signals, by number only (their siginfo stays at home) */
	for (int sig = 1; !err && sig <= CKPT_NSIG; sig++)
		if ((img->sigpending >> (sig - 1) & 1) && (img->sigmask >> (sig - 1) & 1) &&
		    sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_tgkill, pid, pid, sig);
	return err;
}

static void restorer_free(struct ckpt_restorer *rs)
{
	ptr_inject_free(rs->ij, false);
	free(rs->calls);
	free(rs->what);
	free(rs->tolerate);
	free(rs);
}

void ckpt_restore_abort(struct ckpt_restorer *rs)
{
	if (!rs)
		return;
	kill(rs->pid, SIGKILL);
	waitpid(rs->pid, NULL, __WALL);
	restorer_free(rs);
}

int ckpt_restore_prepare(const struct ckpt_restore_opts *opts, struct ckpt_restorer **out)
{
	struct ckpt_restorer *rs = calloc(1, sizeof(*rs));
	int err;

	if (!rs)
		return -ENOMEM;
	rs->pid = opts ? opts->stub : 0;
	if (rs->pid <= 0) {
		err = ckpt_stub_fork(opts, &rs->pid);
		if (err) {
			free(rs);
			return err;
		}
	}
	rs->ij = ptr_inject_new(rs->pid);
	{
		/* no signal may cut the restore's calls (a timer of the
		 * process we restore into); the image's mask comes last */
		uint64_t mask;

		err = rs->ij ? ptr_hold_signals(rs->pid, &mask) : -ESRCH;
	}
	if (!err)
		err = empty_stub(rs);
	if (err) {
		ckpt_restore_abort(rs);
		return err;
	}
	*out = rs;
	return 0;
}

int ckpt_restore_layout(struct ckpt_restorer *rs, const struct ckpt_image *img)
{
	int err;

	if (ckpt_image_validate(img)) {
		pr_err("restore: the image is inconsistent");
		err = -EINVAL;
	} else {
		err = rebuild_layout(rs, img);
	}
	if (err)
		ckpt_restore_abort(rs);
	return err;
}

int ckpt_restore_write(struct ckpt_restorer *rs, uint64_t addr, const void *p, size_t len)
{
	return ptr_write_mem(rs->pid, addr, p, len);
}

int ckpt_restore_finish(struct ckpt_restorer *rs, const struct ckpt_image *img,
			const struct ckpt_restore_opts *opts, pid_t *out_pid)
{
	struct ckpt_restore_opts def;
	int err;

	if (!opts) {
		ckpt_restore_opts_init(&def);
		opts = &def;
	}
	err = rebuild_finish(rs, img, opts);
	if (err) {
		ckpt_restore_abort(rs);
		return err;
	}
	*out_pid = rs->pid;
	restorer_free(rs);
	return 0;
}

int ckpt_restore(const struct ckpt_image *img, const struct ckpt_restore_opts *opts,
		 pid_t *out_pid)
{
	struct ckpt_restorer *rs;
	int err;

	if (img->lazy || ckpt_image_validate(img)) {
		pr_err("restore: the image is inconsistent or holds no contents");
		return -EINVAL;
	}
	err = ckpt_restore_prepare(opts, &rs);
	if (!err)
		err = ckpt_restore_layout(rs, img);
	if (err)
		return err;
	for (uint32_t i = 0; i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];

		if (!(r->flags & CKPT_RF_DATA))
			continue;
		err = ckpt_restore_write(rs, r->start, r->data, r->end - r->start);
		if (err) {
			ckpt_restore_abort(rs);
			return err;
		}
	}
	return ckpt_restore_finish(rs, img, opts, out_pid);
}
