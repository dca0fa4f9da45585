/* procs: processes under the cluster's care (see procs.c). */
#ifndef OM_DAEMON_PROCS_H
#define OM_DAEMON_PROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "balance/mask.h"

struct node;

struct om_proc_opts {
	bool lock;          /* no automatic migration (explicit migrate still works) */
	char decay[8];      /* "", "cpu", "io", "none", "slow", "fast": balancer hints */
	struct om_mask mask; /* cluster mask: nodes it may (not) run on */
};

typedef void (*procs_done_fn)(void *arg, int err, const char *msg);

struct om_proc {
	pid_t pid;          /* the home pid; 0 = free slot */
	pid_t parent;       /* the process under care it descends from, or 0 (mosrun) */
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
	bool placed;          /* put where it is by hand: the balancer leaves it for load */
	uint16_t start_node;  /* mosrun -ID: moves there as soon as it has exec'd */
	uint64_t start_exe;   /* the inode of mosrun's executable, to notice the exec */
	uint16_t then_target; /* remote -> remote: after coming home, go on here */
	uint32_t then_addr;
	/* what the balancer knows of it (daemon/balancer.c) */
	uint64_t adopted_ms;
	uint64_t moves_ms[4];  /* when its last migrations committed (a ring) */
	double demand;         /* CPU it wants, 0..1 core, decayed */
	double mb;             /* resident size, MiB */
	double io_rate;        /* read/write calls per second */
	uint64_t sampled_ms, sched_ns, io_calls; /* the previous sample */
	uint64_t io_sampled_ms; /* away: the previous sample of io_calls */
	uint64_t rsched_ns, rsampled_ms; /* away: the node's last report of its copy */
	uint16_t rnode;         /* the node that report came from */
	uint16_t refused_by;    /* a move there failed lately (the balancer avoids it) */
	uint64_t refused_until;
	double sampled_s;      /* seconds of history in demand */
	uint64_t mig_start_ms; /* when the current migration out started */
	/* CPU time used at other nodes, which the home kernel cannot count
	 * (getrusage, times, `time` miss it): its copies' user + system time,
	 * added when it comes home or ends there; and that of its descendants
	 * under care that ended (as RUSAGE_CHILDREN would have it) */
	uint64_t remote_cpu_us;
	uint64_t children_remote_cpu_us;
};

struct om_proc *procs_find(pid_t pid);
size_t procs_count(void);
struct om_proc *procs_at(size_t idx);
int procs_adopt(struct node *n, pid_t pid, uid_t uid, gid_t gid, const struct om_proc_opts *o)
	__attribute__((warn_unused_result));
/* Start moving p to node target at addr; done(arg, 0|-errno, why) later. */
int procs_migrate(struct node *n, struct om_proc *p, uint16_t target, uint32_t addr,
	procs_done_fn done, void *arg) __attribute__((warn_unused_result));
/* Move p to target wherever it runs now: out from home, back home, or
 * from one remote node to another (through home: it comes home, then
 * leaves again). done(arg, 0|-errno, why) once it runs at target. */
int procs_move(struct node *n, struct om_proc *p, uint16_t target, uint32_t addr,
	procs_done_fn done, void *arg) __attribute__((warn_unused_result));
/* Migration speed seen lately (MiB/s of resident memory moved per second
 * of migration, smoothed over the migrations out of this node); 0 until
 * one big enough to tell has committed. */
double procs_link_mb_s(void);
/* Is a migration of p under way? */
bool procs_busy(const struct om_proc *p);
/* migrations committed in the last window_ms */
unsigned procs_recent_moves(const struct om_proc *p, uint64_t now, uint64_t window_ms);
/* Ask p's deputy to bring it back home; done(arg, ...) later. */
int procs_bring_home(struct node *n, struct om_proc *p, procs_done_fn done, void *arg)
	__attribute__((warn_unused_result));
void procs_child_exited(struct node *n, pid_t child, int status);
/* pid has just exec'd: a process mosrun asked to start elsewhere leaves now */
void procs_exec_event(struct node *n, pid_t pid);
/* mosrun -ID: p leaves for node once it has exec'd the program */
void procs_set_start(struct om_proc *p, uint16_t node);
/* notice such execs without process events (the balancer's tick) */
void procs_poll_exec(struct node *n);
/* a waiting client went away */
void procs_cancel_waiters(void *arg);

/* Guests: processes of other nodes that run here, one remote child each
 * (mig/remote.c). Expelling sends each home (SIGUSR1 to its remote). */
struct om_guest {
	pid_t remote;      /* our child serving it; 0 = free */
	uint16_t home_id;
	pid_t home_pid;
	uid_t uid;
	char comm[16];
	uint64_t since_ms;
};

int guests_add(pid_t remote, uint16_t home_id, pid_t home_pid, uid_t uid, const char *comm)
	__attribute__((warn_unused_result));
size_t guests_count(void);
const struct om_guest *guests_at(size_t idx);
/* a child exited: true if it served a guest */
bool guests_child_exited(pid_t child);
/* Ask every guest to go home; done(arg, 0, NULL) once all are gone.
 * 0 started, 1 no guests, -EALREADY. */
int guests_expel(procs_done_fn done, void *arg) __attribute__((warn_unused_result));
void guests_cancel_waiter(void *arg);

#endif
