/* fork: fork, vfork and clone-as-fork of a migrated process (see fork.c). */
#ifndef OM_MIG_FORK_H
#define OM_MIG_FORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* FORK (remote -> home): the child made at the target, the exit signal */
#define MIG_FORK_REQ_SIZE 8
/* FORKED (home -> remote): the home child's pid, or -errno */
#define MIG_FORKED_SIZE 4

int mig_fork_req_encode(uint8_t *buf, size_t cap, uint32_t rpid, uint32_t exit_sig);
int mig_fork_req_decode(const uint8_t *buf, size_t len, uint32_t *rpid, uint32_t *exit_sig);
int mig_forked_encode(uint8_t *buf, size_t cap, int32_t res);
int mig_forked_decode(const uint8_t *buf, size_t len, int32_t *res);
/* STOPPED (remote -> home): the stop signal, the same 4-byte body */
#define mig_stopped_encode mig_forked_encode
#define mig_stopped_decode mig_forked_decode

/* Job control: a stop signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) */
bool mig_is_stop_signal(int sig);
/* Would sig stop pid (default action: neither caught nor ignored)? */
bool mig_stops_by_default(pid_t pid, int sig);

/* How the call (fork, vfork, clone with args a) is done after a move:
 * *local gets the clone flags for the copy's local child (made a child of
 * the remote server with CLONE_PARENT; CLONE_VM and CLONE_VFORK dropped:
 * a vfork becomes a fork), *exit_sig the exit signal for the home child.
 * -ENOSYS for threads and sharing clones (CLONE_THREAD, CLONE_FILES,
 * namespaces...): those do not move. */
int mig_fork_flags(long nr, const uint64_t a[6], uint64_t *local, uint32_t *exit_sig);

/* The home child was just made by a fork injected into the home process
 * and sits in its first ptrace stop under us: drop what it inherited of
 * our deputy's plumbing (the parking descriptor, the scratch mapping),
 * block every signal and leave it, untraced, inside pause() at the
 * syscall instruction insn, until its own deputy seizes it. */
int mig_fork_park_child(pid_t child, uint64_t insn, int park_fd, uint64_t scratch,
	size_t scratch_len);

/* At the target: wait (up to timeout_ms) until the local child pid is
 * stopped and untraced (its parent's server let it go), then seize it.
 * 0 once it sits in a ptrace stop under us. */
int mig_fork_seize_child(pid_t pid, int timeout_ms);

#endif
