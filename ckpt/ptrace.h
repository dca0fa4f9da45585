/* ptrace: freeze a process, inject system calls into it, read and write its
 * memory. The low layer of the migration engine (CRIU's compel, in small).
 *
 *   ptr_seize(pid)                      SEIZE + INTERRUPT, wait for the stop
 *   struct ptr_inject *ij = ptr_inject_new(pid);
 *   ptr_syscall(ij, __NR_getpid, args, &ret);
 *   ptr_inject_free(ij, true);          puts the saved registers back
 *   ptr_detach(pid)
 *
 * Every action returns 0 or -errno and logs once where it fails. -ESRCH means
 * the process is gone (or not stopped under us), -EPERM that it is not ours.
 */
#ifndef OM_CKPT_PTRACE_H
#define OM_CKPT_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#define __ptr_must_check __attribute__((warn_unused_result))

/* Seize pid (PTRACE_O_EXITKILL if exitkill) and stop it: returns once the
 * tracee sits in its PTRACE_EVENT_STOP. A process in a group stop is
 * trapped by the seize itself (PTRACE_GETSIGINFO there names the stop
 * signal, else SIGTRAP), and stays in that group stop once detached. */
int ptr_seize(pid_t pid, bool exitkill) __ptr_must_check;
/* Wait (with __WALL) until pid is in a ptrace stop; *status gets the raw
 * waitpid status. -ECHILD/-ESRCH if it died meanwhile (logged). */
int ptr_wait_stop(pid_t pid, int *status) __ptr_must_check;

/* Hold every signal of a stopped tracee (PTRACE_SETSIGMASK: all blocked),
 * its mask saved in *saved, so that calls injected into it are not cut by
 * a signal (a timer firing at home): they stay pending and come once the
 * mask is given back (ptr_release_signals) and the tracee runs. */
int ptr_hold_signals(pid_t pid, uint64_t *saved) __ptr_must_check;
int ptr_release_signals(pid_t pid, uint64_t saved) __ptr_must_check;
/* Detach from a stopped tracee, which then runs on. */
int ptr_detach(pid_t pid) __ptr_must_check;

int ptr_getregs(pid_t pid, struct user_regs_struct *regs) __ptr_must_check;
int ptr_setregs(pid_t pid, const struct user_regs_struct *regs) __ptr_must_check;
/* The whole xstate (NT_X86_XSTATE); *len in: capacity, out: real length. */
int ptr_get_xstate(pid_t pid, void *buf, size_t *len) __ptr_must_check;
int ptr_set_xstate(pid_t pid, const void *buf, size_t len) __ptr_must_check;

/* Remote memory: the whole range or -errno (-EFAULT for an unreadable one).
 * process_vm_readv/writev, falling back to /proc/PID/mem. */
int ptr_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len) __ptr_must_check;
int ptr_write_mem(pid_t pid, uint64_t addr, const void *buf, size_t len) __ptr_must_check;

/* Find the [vdso] of pid in /proc/PID/maps: 0 or -ENOENT. */
int ptr_find_vdso(pid_t pid, uint64_t *start, uint64_t *end) __ptr_must_check;

/* An injection context over one stopped tracee: its registers as they were
 * when it was made and the address of a `syscall` instruction in its vDSO. */
struct ptr_inject;

/* NULL on failure (logged). The tracee must be in a ptrace stop. */
struct ptr_inject *ptr_inject_new(pid_t pid);
/* Run syscall nr with up to six args in the tracee; *ret gets rax (the
 * syscall's result, -errno style). Returns 0 or -errno of ptrace itself. */
int ptr_syscall(struct ptr_inject *ij, long nr, const long args[6], long *ret) __ptr_must_check;
/* The vDSO moved (the tracee mremapped it): look for the instruction again. */
int ptr_inject_rescan(struct ptr_inject *ij) __ptr_must_check;
/* The registers saved by ptr_inject_new. */
const struct user_regs_struct *ptr_inject_regs(const struct ptr_inject *ij);
pid_t ptr_inject_pid(const struct ptr_inject *ij);
/* Frees ij; with restore, first sets the saved registers back (logged on
 * failure). Accepts NULL. */
void ptr_inject_free(struct ptr_inject *ij, bool restore);

/* A batch: system calls the tracee makes one after the other by itself,
 * with one stop for all instead of one per call. The loop doing it
 * (ptr_batch_code, PTR_BATCH_CODE_LEN bytes) must sit in executable memory
 * of the tracee, and the table of calls in writable memory of it: each
 * entry is struct ptr_call as it is (64 bytes). The batch stops at the
 * first call that fails. */
struct ptr_call {
	long nr;
	long args[6];
	long ret;
};
#define PTR_BATCH_CODE_LEN 56
extern const uint8_t ptr_batch_code[PTR_BATCH_CODE_LEN];

/* Run calls[0..n) with the loop at code and the table written at table.
 * *done gets how many succeeded, their results are in calls[].ret; when
 * one failed (*done < n), its result is in calls[*done].ret. Returns 0 (whether or not a call failed) or
 * -errno of ptrace itself (-EINTR: a signal stopped the tracee first). */
int ptr_batch(struct ptr_inject *ij, uint64_t code, uint64_t table, struct ptr_call *calls,
	      size_t n, size_t *done) __ptr_must_check;

/* Convenience: the same syscall with the args listed. */
#define ptr_sys(ij, ret, nr, ...)                                                          \
	ptr_syscall(ij, nr, (const long[6]){ __VA_ARGS__ }, ret)

#endif
