/* restore: rebuild an image inside a fresh stub process, by system calls
 * injected into the stub itself (special mappings can only be moved, and
 * PR_SET_MM_MAP only done, by the process they belong to). */
#include "ckpt/image.h"
#include "ckpt/ptrace.h"
#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#define CKPT_RSEQ_FLAG_UNREGISTER 1
#define CKPT_SCRATCH_SIZE (3 * 4096)

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

/* move the stub's specials so that the vdso lands at vdso_to, keeping offsets */
static int move_specials(struct ptr_inject *ij, struct span cur[3], uint64_t vdso_to)
{
	int err;

	for (int k = 0; k < 3; k++) {
		uint64_t len = cur[k].end - cur[k].start;
		uint64_t to = vdso_to + (cur[k].start - cur[2].start);

		if (!cur[k].start)
			continue;
		err = RSYS(ij, NULL, "mremap of a special mapping", __NR_mremap, (long)cur[k].start,
			   (long)len, (long)len, MREMAP_MAYMOVE | MREMAP_FIXED, (long)to);
		if (err)
			return err;
	}
	for (int k = 0; k < 3; k++) {
		if (!cur[k].start)
			continue;
		uint64_t len = cur[k].end - cur[k].start;
		uint64_t to = vdso_to + (cur[k].start - cur[2].start);

		cur[k].start = to;
		cur[k].end = to + len;
	}
	return ptr_inject_rescan(ij);
}

/* Map every region at its place: those with contents writable (they are
 * filled next, by process_vm_writev, which faults the pages in from the
 * kernel: much cheaper here than MAP_POPULATE and a second pass), the
 * others with their final protection. */
static int map_regions(struct ptr_inject *ij, const struct ckpt_image *img)
{
	pid_t pid = ptr_inject_pid(ij);
	int err;

	for (uint32_t i = 0; i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];
		uint64_t len = r->end - r->start;
		long prot = r->flags & CKPT_RF_DATA ? PROT_READ | PROT_WRITE : r->prot;
		long flags = MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS;
		long got;

		if (r->flags & CKPT_RF_SPECIAL)
			continue;
		if (r->flags & CKPT_RF_STACK)
			flags |= MAP_GROWSDOWN;
		err = RSYS(ij, &got, "mmap of a region", __NR_mmap, (long)r->start, (long)len, prot,
			   flags, -1, 0);
		if (err)
			return err;
		if ((uint64_t)got != r->start) {
			pr_err("restore in %d: region %#" PRIx64 " mapped at %#lx", pid, r->start,
			       got);
			return -EFAULT;
		}
	}
	return 0;
}

/* Once the contents are in: the final protection of the regions that held
 * them writable. */
static int protect_regions(struct ptr_inject *ij, const struct ckpt_image *img)
{
	for (uint32_t i = 0; i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];
		int err;

		if (!(r->flags & CKPT_RF_DATA) || r->prot == (PROT_READ | PROT_WRITE))
			continue;
		err = RSYS(ij, NULL, "mprotect of a region", __NR_mprotect, (long)r->start,
			   (long)(r->end - r->start), (long)r->prot);
		if (err)
			return err;
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

/* per-task state that needs memory to pass: through a scratch mapping */
static int set_task_state(struct ptr_inject *ij, const struct ckpt_image *img)
{
	uint64_t own_actions = actions_set(ptr_inject_pid(ij));
	pid_t pid = ptr_inject_pid(ij);
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
		.auxv_size = img->auxv_words * 8,
		.exe_fd = (__u32)-1,
	};
	long scratch, r;
	int err, e2;

	err = RSYS(ij, &scratch, "mmap of the scratch area", __NR_mmap, 0, CKPT_SCRATCH_SIZE,
		   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (err)
		return err;
	mm.auxv = (__u64 *)(uintptr_t)(scratch + 4096);
	err = ptr_write_mem(pid, (uint64_t)scratch, &mm, sizeof(mm));
	if (!err && img->auxv_words)
		err = ptr_write_mem(pid, (uint64_t)scratch + 4096, img->auxv, img->auxv_words * 8);
	if (!err)
		err = RSYS(ij, NULL, "prctl(PR_SET_MM_MAP)", __NR_prctl, PR_SET_MM, PR_SET_MM_MAP,
			   scratch, sizeof(mm), 0);
	if (err)
		goto out_unmap;
	err = RSYS(ij, NULL, "set_tid_address", __NR_set_tid_address, (long)img->clear_child_tid);
	if (!err && img->robust_list)
		err = RSYS(ij, NULL, "set_robust_list", __NR_set_robust_list,
			   (long)img->robust_list, (long)img->robust_len);
	for (int sig = 1; !err && sig <= CKPT_NSIG; sig++) {
		static const struct ckpt_sigaction dfl;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* a default action over a default action: nothing to do */
		if (!memcmp(&img->sigact[sig - 1], &dfl, sizeof(dfl)) &&
		    !(own_actions >> (sig - 1) & 1))
			continue;
		err = ptr_write_mem(pid, (uint64_t)scratch, &img->sigact[sig - 1],
				    sizeof(img->sigact[0]));
		if (err)
			break;
		err = ptr_sys(ij, &r, __NR_rt_sigaction, sig, scratch, 0, 8);
		/* glibc's private signals 32/33 may be refused by nothing; log others */
		if (!err && r < 0)
			pr_warn("restore in %d: rt_sigaction(%d): %s", pid, sig, strerror((int)-r));
	}
	if (!err) {
		stack_t ss = {
			.ss_sp = (void *)(uintptr_t)img->altstack_sp,
			.ss_size = img->altstack_size,
			.ss_flags = (int)(img->altstack_flags & ~(uint32_t)SS_ONSTACK),
		};

		if (ss.ss_flags & SS_DISABLE)
			ss = (stack_t){ .ss_flags = SS_DISABLE };
		err = ptr_write_mem(pid, (uint64_t)scratch, &ss, sizeof(ss));
		if (!err)
			err = RSYS(ij, NULL, "sigaltstack", __NR_sigaltstack, scratch, 0);
	}
	if (!err)
		err = RSYS(ij, NULL, "personality", __NR_personality, (long)img->personality);
	if (!err) {
		char comm[16];

		memcpy(comm, img->comm, sizeof(comm));
		comm[15] = 0;
		err = ptr_write_mem(pid, (uint64_t)scratch, comm, sizeof(comm));
		if (!err)
			err = RSYS(ij, NULL, "prctl(PR_SET_NAME)", __NR_prctl, PR_SET_NAME, scratch);
	}
out_unmap:
	e2 = RSYS(ij, NULL, "munmap of the scratch area", __NR_munmap, scratch, CKPT_SCRATCH_SIZE);
	return err ? err : e2;
}

static int set_ids(struct ptr_inject *ij, const struct ckpt_restore_opts *opts)
{
	int err;

	err = RSYS(ij, NULL, "setgroups", __NR_setgroups, 0, 0);
	if (!err)
		err = RSYS(ij, NULL, "setresgid", __NR_setresgid, (long)opts->gid, (long)opts->gid,
			   (long)opts->gid);
	if (!err)
		err = RSYS(ij, NULL, "setresuid", __NR_setresuid, (long)opts->uid, (long)opts->uid,
			   (long)opts->uid);
	return err;
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
			/* the restart block stays at home: the call fails with EINTR */
			r->rax = (unsigned long long)-EINTR;
			break;
		}
	}
	r->orig_rax = (unsigned long long)-1;
}

struct ckpt_restorer {
	pid_t pid;			/* the stub being filled */
	struct ptr_inject *ij;
};

/* Steps 1-5 and the task state: everything but the contents, the final
 * protections, rseq, ids and registers. */
static int rebuild_layout(struct ptr_inject *ij, const struct ckpt_image *img)
{
	struct { uint64_t ptr; uint32_t size, sig, flags, pad; } rc = { 0 };
	struct span stub[3], want[3], *maps = NULL;
	pid_t pid = ptr_inject_pid(ij);
	uint64_t span_lo, span_hi, tmp = 0;
	size_t nmaps = 0;
	int err;

	/* 1. the stub's inherited rseq points into memory about to vanish */
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, (void *)sizeof(rc), &rc) > 0 && rc.ptr) {
		err = RSYS(ij, NULL, "rseq unregister", __NR_rseq, (long)rc.ptr, (long)rc.size,
			   CKPT_RSEQ_FLAG_UNREGISTER, (long)rc.sig);
		if (err)
			goto out;
	}
	/* 2. park vvar/vclock/vdso in a hole neither address space uses */
	err = stub_specials(pid, stub, &maps, &nmaps);
	if (err)
		goto out;
	err = match_specials(img, stub, want);
	if (err)
		goto out;
	span_lo = stub[2].start;
	span_hi = stub[2].end;
	for (int k = 0; k < 3; k++) {
		if (stub[k].start && stub[k].start < span_lo)
			span_lo = stub[k].start;
		if (stub[k].end > span_hi)
			span_hi = stub[k].end;
	}
	for (uint64_t t = 0x100000000000ULL; t < 0x7f0000000000ULL; t += 0x10000000000ULL) {
		if (!overlaps(t, t + (span_hi - span_lo), maps, nmaps) &&
		    !overlaps_img(t, t + (span_hi - span_lo), img)) {
			tmp = t;
			break;
		}
	}
	if (!tmp) {
		pr_err("restore: no free area to park the vDSO");
		err = -ENOMEM;
		goto out;
	}
	err = move_specials(ij, stub, tmp + (stub[2].start - span_lo));
	if (err)
		goto out;
	/* 3. everything else of the stub goes */
	err = RSYS(ij, NULL, "munmap below the vDSO", __NR_munmap, 4096, (long)(tmp - 4096));
	if (!err)
		err = RSYS(ij, NULL, "munmap above the vDSO", __NR_munmap,
			   (long)(tmp + (span_hi - span_lo)),
			   (long)(CKPT_TASK_SIZE - (tmp + (span_hi - span_lo))));
	/* 4. the image's address space, empty */
	if (!err)
		err = map_regions(ij, img);
	/* 5. the vDSO where the image's code expects it */
	if (!err)
		err = move_specials(ij, stub, want[2].start);
	/* 6. mm fields, tid address, robust list, signals, name */
	if (!err)
		err = set_task_state(ij, img);
out:
	free(maps);
	return err;
}

/* After the contents: protections, rseq, ids, registers, pending signals. */
static int rebuild_finish(struct ptr_inject *ij, const struct ckpt_image *img,
			  const struct ckpt_restore_opts *opts)
{
	pid_t pid = ptr_inject_pid(ij);
	struct user_regs_struct regs;
	int err;

	err = protect_regions(ij, img);
	/* rseq now, so that the kernel writes the cpu into the restored area */
	if (!err && img->rseq_ptr)
		err = RSYS(ij, NULL, "rseq registration", __NR_rseq, (long)img->rseq_ptr,
			   (long)img->rseq_len, 0, (long)img->rseq_sig);
	if (!err && opts->set_ids)
		err = set_ids(ij, opts);
	if (err)
		return err;
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

void ckpt_restore_abort(struct ckpt_restorer *rs)
{
	if (!rs)
		return;
	ptr_inject_free(rs->ij, false);
	kill(rs->pid, SIGKILL);
	waitpid(rs->pid, NULL, __WALL);
	free(rs);
}

int ckpt_restore_begin(const struct ckpt_image *img, const struct ckpt_restore_opts *opts,
		       struct ckpt_restorer **out)
{
	struct ckpt_restore_opts def;
	struct ckpt_restorer *rs;
	int err;

	if (!opts) {
		ckpt_restore_opts_init(&def);
		opts = &def;
	}
	if (ckpt_image_validate(img)) {
		pr_err("restore: the image is inconsistent");
		return -EINVAL;
	}
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->pid = opts->stub;
	if (rs->pid <= 0) {
		err = ckpt_stub_fork(opts, &rs->pid);
		if (err) {
			free(rs);
			return err;
		}
	}
	rs->ij = ptr_inject_new(rs->pid);
	err = rs->ij ? rebuild_layout(rs->ij, img) : -ESRCH;
	if (err) {
		ckpt_restore_abort(rs);
		return err;
	}
	*out = rs;
	return 0;
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
	err = rebuild_finish(rs->ij, img, opts);
	if (err) {
		ckpt_restore_abort(rs);
		return err;
	}
	*out_pid = rs->pid;
	ptr_inject_free(rs->ij, false);
	free(rs);
	return 0;
}

int ckpt_restore(const struct ckpt_image *img, const struct ckpt_restore_opts *opts,
		 pid_t *out_pid)
{
	struct ckpt_restorer *rs;
	int err;

	if (img->lazy) {
		pr_err("restore: the image holds no contents");
		return -EINVAL;
	}
	err = ckpt_restore_begin(img, opts, &rs);
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
