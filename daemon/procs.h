/* procs: processes under the cluster's care (see procs.c). */
#ifndef OM_DAEMON_PROCS_H
#define OM_DAEMON_PROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct node;

struct om_proc_opts {
	bool lock;          /* no automatic migration (explicit migrate still works) */
	char decay[8];      /* "", "cpu", "io", "none", "slow", "fast": balancer hints */
};

typedef void (*procs_done_fn)(void *arg, int err, const char *msg);

struct om_proc {
	pid_t pid;          /* the home pid; 0 = free slot */
	uid_t uid;
	gid_t gid;
	uint16_t where;     /* node it runs on */
	unsigned nmigs;
	struct om_proc_opts opts;
	pid_t deputy;       /* the deputy child while one exists */
	pid_t remote_pid;
	int report_fd;
	struct node *node;
	procs_done_fn done; /* the request waiting for the migration's outcome */
	void *done_arg;
};

struct om_proc *procs_find(pid_t pid);
size_t procs_count(void);
struct om_proc *procs_at(size_t idx);
int procs_adopt(struct node *n, pid_t pid, uid_t uid, gid_t gid, const struct om_proc_opts *o)
	__attribute__((warn_unused_result));
/* Start moving p to node target at addr; done(arg, 0|-errno, why) later. */
int procs_migrate(struct node *n, struct om_proc *p, uint16_t target, uint32_t addr,
	procs_done_fn done, void *arg) __attribute__((warn_unused_result));
/* Ask p's deputy to bring it back home; done(arg, ...) later. */
int procs_bring_home(struct node *n, struct om_proc *p, procs_done_fn done, void *arg)
	__attribute__((warn_unused_result));
void procs_child_exited(struct node *n, pid_t child, int status);
/* a waiting client went away */
void procs_cancel_waiters(void *arg);

#endif
