/* image: the checkpoint of one single-threaded process, and the two halves
 * of the engine that make and consume it.
 *
 *   ckpt_check(pid, &why)            can pid move at all? (before seizing)
 *   ptr_seize(pid, true)
 *   ckpt_dump(pid, &img, &why)       on the seized, stopped pid
 *   ckpt_restore(img, &opts, &copy)  a fresh process, left stopped under us
 *   ckpt_resume(copy)                detach: the copy runs
 *   ckpt_image_free(img)
 *
 * The struct is public: the transfer code walks the regions. An image owns
 * everything it points to; ckpt_image_free() releases it all.
 */
#ifndef OM_CKPT_IMAGE_H
#define OM_CKPT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#define __ckpt_must_check __attribute__((warn_unused_result))

/* user address space limit of x86_64 with 4-level paging */
#define CKPT_TASK_SIZE 0x7ffffffff000ULL
#define CKPT_PAGE_SIZE 4096ULL

/* ckpt_region.flags */
enum {
	CKPT_RF_DATA = 1 << 0,	   /* contents are in data (readable private memory) */
	CKPT_RF_STACK = 1 << 1,	   /* [stack]: MAP_GROWSDOWN */
	CKPT_RF_HEAP = 1 << 2,	   /* [heap] */
	CKPT_RF_VDSO = 1 << 3,	   /* [vdso]: address only */
	CKPT_RF_VVAR = 1 << 4,	   /* [vvar]: address only */
	CKPT_RF_VCLOCK = 1 << 5,   /* [vvar_vclock]: address only */
	CKPT_RF_FILE = 1 << 6,	   /* was a file mapping (name holds the path) */
	CKPT_RF_SHARED_RO = 1 << 7, /* was a read-only MAP_SHARED file: restored private */
	CKPT_RF_FILEMAP = 1 << 8,  /* private file pages unchanged from the file: mapped
				    * from name at pgoff by the restore, no contents
				    * (file_size and file_mtime_ns say which file) */
};
#define CKPT_RF_SPECIAL (CKPT_RF_VDSO | CKPT_RF_VVAR | CKPT_RF_VCLOCK)
#define CKPT_RF_ALL 0x1ff

struct ckpt_region {
	uint64_t start, end;	/* page aligned, end exclusive */
	uint32_t prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	uint32_t flags;		/* CKPT_RF_* */
	uint64_t pgoff;		/* file offset, for information */
	char *name;		/* path or [name]; NULL for anonymous */
	void *data;		/* end - start bytes when CKPT_RF_DATA (mmap'd) */
	/* CKPT_RF_FILEMAP: the file as home saw it; the restore maps it only
	 * if the file at name has this size and modification time */
	uint64_t file_size, file_mtime_ns;
};

/* Why a process cannot move: bits, named like openMosix's cantmove words. */
enum {
	CKPT_WHY_MONKEY = 1 << 0,   /* "monkey": writable shared file mapping */
	CKPT_WHY_MMAP_DEV = 1 << 1, /* "mmap_dev": a device is mapped */
	CKPT_WHY_MEM_LOCK = 1 << 2, /* "mem_lock": mlock'd memory */
	CKPT_WHY_CLONE_VM = 1 << 3, /* "clone_vm": more than one thread */
	CKPT_WHY_RT_SCHED = 1 << 4, /* "rt_sched": real-time scheduling */
	CKPT_WHY_SYSTEM = 1 << 5,   /* "system": init or a kernel thread */
	CKPT_WHY_PTRACED = 1 << 6,  /* "ptraced": traced by someone else */
	CKPT_WHY_SHM = 1 << 7,	    /* "shm": SysV/POSIX/anonymous shared memory */
	CKPT_WHY_GONE = 1 << 8,	    /* "gone": no such process */
};

struct ckpt_why {
	unsigned mask;		/* CKPT_WHY_* */
	char words[128];	/* "clone_vm shm": the cantmove words */
	char detail[512];	/* what exactly, e.g. the shared mappings */
};

/* The word of one CKPT_WHY_* bit ("monkey"...), or NULL. */
const char *ckpt_why_word(unsigned bit);

struct ckpt_mm {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
};

/* a sigaction as the kernel keeps it (struct kernel_sigaction) */
struct ckpt_sigaction {
	uint64_t handler, flags, restorer, mask;
};

#define CKPT_NSIG 64
#define CKPT_XSTATE_MAX 16384
#define CKPT_AUXV_MAX 1024	/* in uint64_t words */
#define CKPT_CMDLINE_MAX 4096
#define CKPT_MAX_REGIONS 65536

struct ckpt_image {
	uint32_t pid;			/* at home */
	char comm[16];			/* NUL terminated */
	char *cmdline;			/* NUL-separated args; cmdline_len bytes */
	uint32_t cmdline_len;
	uint32_t personality;

	struct user_regs_struct regs;	/* as stopped (no restart fixup yet) */
	uint8_t *xstate;		/* NT_X86_XSTATE, xstate_len bytes */
	uint32_t xstate_len;

	struct ckpt_mm mm;
	uint64_t *auxv;			/* auxv_words words, pairs ending with AT_NULL */
	uint32_t auxv_words;

	uint64_t clear_child_tid;
	uint64_t robust_list, robust_len;
	uint64_t rseq_ptr, rseq_len, rseq_sig;	/* rseq_ptr == 0: not registered */

	uint64_t sigmask;		/* blocked signals, bit n-1 for signal n */
	uint64_t sigpending;		/* private and shared pending, seen at dump */
	struct ckpt_sigaction sigact[CKPT_NSIG];	/* index n-1 for signal n */
	uint64_t altstack_sp, altstack_size;
	uint32_t altstack_flags;

	uint32_t nr_regions;
	struct ckpt_region *regions;	/* sorted by address, not overlapping */
	/* lazy: the contents are not held here (every data is NULL): they are
	 * read from the stopped process while being sent (ckpt_dump_layout),
	 * or were written straight into the new process as they arrived */
	bool lazy;
};

/* A new empty image; NULL when out of memory. */
struct ckpt_image *ckpt_image_new(void);
/* Frees the image and everything it owns; accepts NULL. */
void ckpt_image_free(struct ckpt_image *img);
/* Append a region (copies name; takes ownership of data, an mmap of
 * end - start bytes or NULL). 0 or -errno. */
int ckpt_image_add_region(struct ckpt_image *img, const struct ckpt_region *r) __ckpt_must_check;
/* A MAP_POPULATE'd buffer for region contents (NULL on failure); freed by
 * ckpt_image_free or ckpt_data_free. */
void *ckpt_data_alloc(size_t len, bool populate);
void ckpt_data_free(void *data, size_t len);
/* Sanity of an image from elsewhere: regions sorted, page aligned, below
 * CKPT_TASK_SIZE, not overlapping, data where flagged (none if lazy), each
 * special once, sizes within the CKPT_*_MAX bounds. 0 or -EINVAL. */
int ckpt_image_validate(const struct ckpt_image *img) __ckpt_must_check;
/* Bytes of memory contents the image carries. */
uint64_t ckpt_image_data_bytes(const struct ckpt_image *img);

/* One line of /proc/PID/maps into r (name malloc'd or NULL; data NULL;
 * flags get STACK/HEAP/VDSO/VVAR/VCLOCK/FILE). *shared is set for 's'
 * mappings. 0, or -EINVAL for a line that does not parse. */
int ckpt_parse_maps_line(const char *line, struct ckpt_region *r, bool *shared) __ckpt_must_check;

/* Can pid move? 0 if so; -EBUSY with why filled if not; -ESRCH if gone.
 * A tracer equal to ourselves is allowed. */
int ckpt_check(pid_t pid, struct ckpt_why *why) __ckpt_must_check;

/* Dump pid, which must be seized and stopped by us (ptr_seize). The tracee
 * is left stopped with its registers as they were. why may be NULL.
 * 0, -EBUSY (cannot move, why says why), -ESRCH, other -errno. */
int ckpt_dump(pid_t pid, struct ckpt_image **out, struct ckpt_why *why) __ckpt_must_check;
/* The same without the contents: a lazy image, whose CKPT_RF_DATA regions
 * are read from the still stopped pid as they are sent (mig/xfer.c). */
int ckpt_dump_layout(pid_t pid, struct ckpt_image **out, struct ckpt_why *why) __ckpt_must_check;
/* ckpt_dump_layout with options: CKPT_DUMP_FILEMAP: the pages of private
 * file mappings that are still the file's own become CKPT_RF_FILEMAP
 * regions (no contents; the restore maps the file, and fails with -ESTALE
 * if it has another size or mtime there, or cannot open it). */
#define CKPT_DUMP_FILEMAP 1u
int ckpt_dump_layout_opts(pid_t pid, struct ckpt_image **out, struct ckpt_why *why,
			  unsigned opts) __ckpt_must_check;

/* Restoring. Terminology (CRIU's): the "stub" is the real, empty process an
 * image is rebuilt in: a traced child forked for it (ckpt_stub_fork) or,
 * when a process comes home, the original process itself. It is not a
 * placeholder in the code sense. */
struct ckpt_restore_opts {
	pid_t stub;		/* from ckpt_stub_fork, or 0 to fork one now */
	int stdio[3];		/* fds the stub dup2()s onto 0..2; -1 = keep */
	bool set_ids;		/* drop to uid/gid at the end of the restore */
	uid_t uid;
	gid_t gid;
	/* a seccomp filter (filter_len struct sock_filter) installed last,
	 * after the ids, with no_new_privs; filter_len 0: none */
	const void *filter;
	unsigned filter_len;
};

/* opts: no stub process given yet (one is forked), stdio kept, ids kept,
 * no filter */
void ckpt_restore_opts_init(struct ckpt_restore_opts *opts);

/* Fork the stub that a restore fills: a traced child stopped in SIGSTOP,
 * with no big buffers (fork it before the dump). 0 or -errno. */
int ckpt_stub_fork(const struct ckpt_restore_opts *opts, pid_t *out) __ckpt_must_check;

/* Rebuild img in a fresh process (opts->stub, or a new stub); *out_pid is
 * the copy, our child, left STOPPED under ptrace. On failure the stub is
 * killed and reaped. 0 or -errno. */
int ckpt_restore(const struct ckpt_image *img, const struct ckpt_restore_opts *opts,
		 pid_t *out_pid) __ckpt_must_check;

/* The same in steps, for contents that arrive while the address space is
 * built (mig/xfer.c):
 *   ckpt_restore_prepare(opts, &rs)     the target process (opts->stub,
 *        or a newly forked one) emptied: its own memory unmapped, its vDSO parked (before any
 *        image is known)
 *   ckpt_restore_layout(rs, layout)     the layout's address space, empty
 *        and writable, and its task state; layout may be lazy and must
 *        stay valid until finish
 *   ckpt_restore_write(rs, addr, p, len)    contents, inside data regions
 *   ckpt_restore_finish(rs, layout, opts, &pid)  protections, rseq, ids,
 *        registers: *pid as ckpt_restore's
 * prepare, layout and finish clean up after themselves when they fail
 * (the stub is killed and reaped, rs freed); after a failed write, or to
 * give up, ckpt_restore_abort() does it (NULL accepted). */
struct ckpt_restorer;
int ckpt_restore_prepare(const struct ckpt_restore_opts *opts, struct ckpt_restorer **out)
	__ckpt_must_check;
int ckpt_restore_layout(struct ckpt_restorer *rs, const struct ckpt_image *img)
	__ckpt_must_check;
int ckpt_restore_write(struct ckpt_restorer *rs, uint64_t addr, const void *p, size_t len)
	__ckpt_must_check;
int ckpt_restore_finish(struct ckpt_restorer *rs, const struct ckpt_image *img,
			const struct ckpt_restore_opts *opts, pid_t *out_pid) __ckpt_must_check;
void ckpt_restore_abort(struct ckpt_restorer *rs);

/* Let a restored copy run (detach). 0 or -errno. */
int ckpt_resume(pid_t pid) __ckpt_must_check;

#endif
