/* mig: the two ends of a migrated process, each in a process of its own
 * (children of omd, so the daemon's loop never blocks):
 *
 *  - the deputy, at home: freezes the process, sends its image to the
 *    target and, once the target commits, keeps the original process
 *    stopped under ptrace and executes its forwarded system calls inside
 *    it, so descriptors, cwd, credentials, pid and parent stay genuine;
 *    signals sent to the home pid are passed on; the exit is carried out
 *    at home so the parent reaps it as usual.
 *  - the remote, at the target: restores the image into a fresh process
 *    (as the owner's uid, in the node's cgroup), stops it at every system
 *    call that must happen at home (seccomp RET_TRACE, mig/filter.c) and
 *    forwards it (rsys/).
 *
 * At home, forwarded calls run in a resident loop planted in the original
 * (mig/hagent.h), ptrace only controls it; at the target, every forwarded
 * call is still a ptrace (seccomp) stop of the copy: an in-process agent
 * there is future work (docs/ARCHITECTURE.md).
 */
#ifndef OM_MIG_MIG_H
#define OM_MIG_MIG_H

#include <stdint.h>
#include <sys/types.h>

#include "proto/auth.h"

struct mig_chan;
struct migp_begin;

/* The kernel's restart codes (include/linux/errno.h, never seen by a
 * process). A forwarded call interrupted at home by a signal returns one
 * of them to the remote, after the signal: the remote then restarts the
 * call or fails it with EINTR, as the kernel would, by the signal's
 * disposition there (remote.c). */
#define MIG_ERESTARTSYS 512
#define MIG_ERESTARTNOINTR 513
#define MIG_ERESTARTNOHAND 514
#define MIG_ERESTART_RESTARTBLOCK 516
#define MIG_IS_RESTART(ret) ((ret) <= -MIG_ERESTARTSYS && (ret) >= -MIG_ERESTART_RESTARTBLOCK)

struct mig_deputy_args {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint16_t self_id;
	uint16_t target_id;
	uint32_t target_addr; /* IPv4, host order */
	uint16_t target_port;
	const uint8_t *key;
	int report_fd; /* lines for the daemon: "ok ID RPID", "fail ERRNO WHY", "exit K CODE", "lost",
			* "home", "fork CHILD RCHILD" (mig/fork.c) */
	pid_t fork_rpid; /* nonzero: pid is a home child forked after a move, already
			  * running at the target as fork_rpid: take it over (mig/fork.c) */
};

/* The deputy's whole life; returns the process exit code. */
int mig_deputy_main(const struct mig_deputy_args *a);

struct mig_remote_args {
	uint16_t self_id;
	const char *cgroup; /* the node's cgroup for guests, or NULL */
};

/* The remote's whole life, on an adopted channel after MIG_BEGIN. */
int mig_remote_main(const struct mig_remote_args *a, struct mig_chan *ch,
	const struct migp_begin *b);
/* A spare remote (mig/spare.c): prepares a stub (forked, in the node's
 * cgroup, emptied) before any process is announced, then waits on sock
 * for omd to hand it a connection after MIG_BEGIN (mig_handover_send) and
 * goes on as mig_remote_main. Exits 0 if sock closes first. */
int mig_remote_spare_main(const struct mig_remote_args *a, int sock);
struct stream_auth;
/* omd's side: fd (the accepted connection, its stream state auth), the
 * MIG_BEGIN body and the bytes read after it go to the spare. 0 or -errno. */
int mig_handover_send(int sock, int fd, const struct stream_auth *auth, const uint8_t *body,
	size_t blen, const uint8_t *left, size_t llen);
/* The spare's side: the channel adopted, b decoded; -ECANCELED if the
 * daemon closed sock instead. */
int mig_handover_recv(int sock, struct mig_chan *ch, struct migp_begin *b);

/* The same for a child a guest forked here, after FORK_BEGIN (mig/fork.c):
 * b->pid is the home child, b->image_len the child's pid here. */
int mig_remote_fork_main(const struct mig_remote_args *a, struct mig_chan *ch,
	const struct migp_begin *b);

#endif
