/* policy: the load balancer's decision, pure (no I/O, no clock, no globals).
 *
 * omd (daemon/balancer.c) fills a view of the cluster, one bal_node per
 * node from the gossiped load vector, and one bal_proc per process of ours
 * (its home is this node), wherever it runs; bal_decide() returns the moves
 * to make now. The same function drives the simulator (bench/balance_sim.c).
 *
 * Units: load is the openMosix load as a number (1.0 = one standard-speed
 * CPU fully busy; a 0.5-core node of standard speed with one busy process
 * is at 2.0). `one` is what one more fully CPU-bound process adds to a
 * node's load: OM_STD_SPEED / (speed * capacity_cores).
 *
 * Two policies:
 *  - BAL_MOSIX: after MOSIX (balancing-research.md 1.3): move a process
 *    from S to T when T, after receiving stab x its load, is still strictly
 *    below S's load.
 *  - BAL_OPPCOST: after Amir, Awerbuch, Barak et al. (E-Mosix): a node's
 *    cost is n^(load/scale); move when the cost saved at S exceeds stab x
 *    the marginal cost added at T.
 * Both share the rules that keep a cluster calm: a process younger than
 * min_age (HOWTO 15.1: short processes are not worth moving) or moved less
 * than min_stay ago is not moved; no process moves more than max_moves in
 * a 10 s window; a move must pay for itself (expected remaining time, taken
 * as its age, above cost_factor x the migration's cost: size over link
 * speed plus a fixed cost); an I/O-heavy process (forwarded calls would
 * slow it by more than io_slowdown) stays home or is brought home; locked
 * processes and masks are honoured; a node short of memory (free below
 * mem_low of its total) ushers processes to nodes with room first.
 */
#ifndef OM_BALANCE_POLICY_H
#define OM_BALANCE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "balance/mask.h"

enum bal_policy { BAL_MOSIX, BAL_OPPCOST };

struct bal_node {
	uint16_t id;
	bool usable;      /* up, known, takes guests (not blocked, quiet or expelling) */
	bool stay;        /* NODE_STAY: no automatic migration away from it */
	double load;      /* normalised load */
	double one;       /* load one more busy process adds there (> 0) */
	double free_mb;   /* free memory, MiB; < 0: unknown */
	double total_mb;  /* total memory, MiB; <= 0: unknown */
};

struct bal_proc {
	int32_t pid;
	uint16_t where;          /* node it runs on */
	double demand;           /* CPU it wants, 0..1 of a core (decayed estimate) */
	double mb;               /* resident size, MiB */
	double io_rate;          /* calls/s it would forward from away */
	uint64_t age_ms;         /* since it came under care */
	uint64_t since_move_ms;  /* since its last migration (huge if none) */
	unsigned recent_moves;   /* migrations in the last 10 s */
	bool locked;             /* no automatic migration */
	bool placed;             /* placed by hand: not moved for load or I/O (memory still) */
	bool io_hint;            /* iojob: keep it home */
	bool cpu_hint;           /* cpujob: count it as fully busy */
	const struct om_mask *mask; /* NULL: none */
	uint16_t refused_by;     /* a node that refused it (or failed) lately: not chosen; 0: none */
};

enum bal_reason { BAL_LOAD, BAL_MEMORY, BAL_IO };

struct bal_move {
	int32_t pid;
	uint16_t from, to;
	enum bal_reason reason;
};

struct bal_params {
	uint16_t home;           /* this node: the home of every process in the view */
	enum bal_policy policy;
	double stab;             /* stability factor (1.3) */
	uint64_t min_age_ms;     /* younger processes stay where they are */
	uint64_t min_stay_ms;    /* after a move, a process stays at least this long */
	unsigned max_moves;      /* per process in a 10 s window */
	double link_mb_s;        /* migration stream speed, MiB/s */
	double fixed_cost_s;     /* fixed cost of one migration, s */
	double cost_factor;      /* its age must exceed this x the cost of a move */
	double fwd_call_s;       /* cost of one forwarded call, s */
	double io_slowdown;      /* away, forwarding may cost at most this fraction */
	double mem_low;          /* fraction of total memory below which a node ushers */
	double min_demand;       /* processes wanting less CPU are not moved for load */
	bool home_stay;          /* this node's stay: no automatic migration at all */
	bool home_lstay;         /* lstay: processes running here stay here */
};

void bal_params_default(struct bal_params *p, uint16_t home);
const char *bal_policy_name(enum bal_policy p);
int bal_policy_parse(const char *s, enum bal_policy *out);
const char *bal_reason_name(enum bal_reason r);

/* Decide up to max moves. nodes[] and procs[] are updated as if the moves
 * had happened (loads, free memory, where, since_move, recent_moves), so
 * the caller may apply them one by one. Returns the number of moves. */
size_t bal_decide(const struct bal_params *p, struct bal_node *nodes, size_t nn,
	struct bal_proc *procs, size_t np, struct bal_move *out, size_t max);

/* Per-process demand with openMosix decay: keep `keep` per mille of the old
 * estimate per decay interval of interval_s; dt_s of elapsed time in which
 * the process wanted `wanted_s` seconds of CPU (run + run-queue wait).
 * keep 1000 means no decay (a cumulative average over total_s). */
double bal_demand_update(double old, double wanted_s, double dt_s, unsigned keep,
	double interval_s, double total_s);

#endif
