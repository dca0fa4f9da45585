/* policy: the balancer's decision (see policy.h). */
#include "balance/policy.h"

#include <errno.h>
#include <math.h>
#include <sys/types.h>
#include <string.h>

void bal_params_default(struct bal_params *p, uint16_t home)
{
	memset(p, 0, sizeof(*p));
	p->home = home;
	p->policy = BAL_MOSIX;
	p->stab = 1.3;
	p->min_age_ms = 500;
	p->min_stay_ms = 2000;
	p->max_moves = 3;
	p->link_mb_s = 200;
	p->fixed_cost_s = 0.15;
	p->cost_factor = 2.0;
	p->fwd_call_s = 150e-6;
	p->io_slowdown = 0.5;
	p->mem_low = 0.20;
	p->min_demand = 0.2;
}

const char *bal_policy_name(enum bal_policy p)
{
	return p == BAL_OPPCOST ? "oppcost" : "mosix";
}

int bal_policy_parse(const char *s, enum bal_policy *out)
{
	if (!strcmp(s, "mosix"))
		*out = BAL_MOSIX;
	else if (!strcmp(s, "oppcost"))
		*out = BAL_OPPCOST;
	else
		return -EINVAL;
	return 0;
}

const char *bal_reason_name(enum bal_reason r)
{
	switch (r) {
	case BAL_MEMORY:
		return "memory";
	case BAL_IO:
		return "io";
	default:
		return "load";
	}
}

double bal_demand_update(double old, double wanted_s, double dt_s, unsigned keep,
	double interval_s, double total_s)
{
	double x, k, prev;

	if (dt_s <= 0)
		return old;
	x = wanted_s / dt_s;
	if (x < 0)
		x = 0;
	if (x > 1)
		x = 1;
	prev = total_s - dt_s;
	if (prev <= 0)
		return x;
	/* a lifetime average while the process is young; once its history is
	 * longer than the decay's horizon, old use fades at the decay rate */
	k = prev / total_s;
	if (keep < 1000 && interval_s > 0) {
		double kd = pow((double)keep / 1000.0, dt_s / interval_s);

		if (kd < k)
			k = kd;
	}
	return k * old + (1 - k) * x;
}

static ssize_t node_index(const struct bal_node *nodes, size_t nn, uint16_t id)
{
	for (size_t i = 0; i < nn; i++)
		if (nodes[i].id == id)
			return (ssize_t)i;
	return -1;
}

static double move_cost_s(const struct bal_params *p, const struct bal_proc *pr, bool two_hop)
{
	double c = p->fixed_cost_s + (p->link_mb_s > 0 ? pr->mb / p->link_mb_s : 0);

	return two_hop ? 2 * c : c;
}

static bool io_heavy(const struct bal_params *p, const struct bal_proc *pr)
{
	return pr->io_hint || pr->io_rate * p->fwd_call_s > p->io_slowdown;
}

/* not locked, settled, and not moved too often lately */
static bool settled(const struct bal_params *p, const struct bal_proc *pr)
{
	return !pr->locked && pr->since_move_ms >= p->min_stay_ms &&
		pr->recent_moves < p->max_moves;
}

static bool permits(const struct bal_params *p, const struct bal_proc *pr, uint16_t id)
{
	if (pr->refused_by && pr->refused_by == id && id != p->home)
		return false;
	return !pr->mask || om_mask_permits(pr->mask, id, p->home);
}

/* can node t take pr without running short of memory itself? */
static bool has_room(const struct bal_params *p, const struct bal_node *t, const struct bal_proc *pr)
{
	if (t->free_mb < 0 || t->total_mb <= 0)
		return true;
	return t->free_mb - pr->mb >= p->mem_low * t->total_mb;
}

static bool short_of_memory(const struct bal_params *p, const struct bal_node *s)
{
	return s->free_mb >= 0 && s->total_mb > 0 && s->free_mb < p->mem_low * s->total_mb;
}

/* a node may receive a process of ours: home always can */
static bool can_receive(const struct bal_params *p, const struct bal_node *t)
{
	return t->id == p->home || t->usable;
}

static double demand_of(const struct bal_params *p, const struct bal_proc *pr)
{
	return pr->cpu_hint ? 1.0 : pr->demand;
}

static void apply(const struct bal_params *p, struct bal_node *s, struct bal_node *t,
	struct bal_proc *pr, enum bal_reason why, struct bal_move *out)
{
	double d = demand_of(p, pr);

	out->pid = pr->pid;
	out->from = s->id;
	out->to = t->id;
	out->reason = why;
	s->load -= s->one * d;
	if (s->load < 0)
		s->load = 0;
	t->load += t->one * d;
	if (s->free_mb >= 0)
		s->free_mb += pr->mb;
	if (t->free_mb >= 0)
		t->free_mb -= pr->mb;
	pr->where = t->id;
	pr->since_move_ms = 0;
	pr->recent_moves++;
}

/* memory ushering: the biggest process of ours on a node short of memory
 * goes home if home has room, else to the node with the most free memory */
static bool decide_memory(const struct bal_params *p, struct bal_node *nodes, size_t nn,
	struct bal_proc *procs, size_t np, struct bal_move *out)
{
	for (size_t si = 0; si < nn; si++) {
		struct bal_node *s = &nodes[si];
		struct bal_proc *big = NULL;
		struct bal_node *best = NULL;

		if (!short_of_memory(p, s) || (s->id == p->home && p->home_lstay) ||
			(s->id != p->home && s->stay))
			continue;
		for (size_t i = 0; i < np; i++)
			if (procs[i].where == s->id && settled(p, &procs[i]) &&
				(!big || procs[i].mb > big->mb))
				big = &procs[i];
		if (!big)
			continue;
		for (size_t ti = 0; ti < nn; ti++) {
			struct bal_node *t = &nodes[ti];

			if (t == s || !can_receive(p, t) || !permits(p, big, t->id) ||
				!has_room(p, t, big) || t->free_mb < 0)
				continue;
			if (t->id == p->home) {
				best = t;
				break;
			}
			if (!best || t->free_mb > best->free_mb)
				best = t;
		}
		if (best) {
			apply(p, s, best, big, BAL_MEMORY, out);
			return true;
		}
	}
	return false;
}

/* an I/O-heavy process away from home comes home */
static bool decide_io(const struct bal_params *p, struct bal_node *nodes, size_t nn,
	struct bal_proc *procs, size_t np, struct bal_move *out)
{
	ssize_t hi = node_index(nodes, nn, p->home);

	if (hi < 0)
		return false;
	for (size_t i = 0; i < np; i++) {
		struct bal_proc *pr = &procs[i];
		ssize_t si;

		if (pr->where == p->home || !io_heavy(p, pr) || !settled(p, pr) || pr->placed)
			continue;
		si = node_index(nodes, nn, pr->where);
		if (si < 0 || nodes[si].stay)
			continue;
		apply(p, &nodes[si], &nodes[hi], pr, BAL_IO, out);
		return true;
	}
	return false;
}

static double oc_cost(double base, double load, double scale)
{
	return pow(base, load / scale);
}

/* How much better the cluster is with pr (demand d) moved from s to t;
 * <= 0: not worth it. */
static double gain(const struct bal_params *p, const struct bal_node *s, const struct bal_node *t,
	double d, double base, double scale)
{
	if (p->policy == BAL_OPPCOST) {
		double saved = oc_cost(base, s->load, scale) - oc_cost(base, s->load - s->one * d, scale);
		double added = oc_cost(base, t->load + t->one * d, scale) - oc_cost(base, t->load, scale);

		return saved - p->stab * added;
	}
	return s->load - (t->load + p->stab * t->one * d);
}

static bool decide_load(const struct bal_params *p, struct bal_node *nodes, size_t nn,
	struct bal_proc *procs, size_t np, struct bal_move *out)
{
	struct bal_proc *bp = NULL;
	struct bal_node *bs = NULL, *bt = NULL;
	double best = 0, scale = 1, base = nn > 2 ? (double)nn : 2.0;

	/* the opportunity cost's utilisation scale: the highest load a node
	 * could reach now (the doubling trick's running maximum) */
	for (size_t i = 0; i < nn; i++)
		if (nodes[i].load + nodes[i].one > scale)
			scale = nodes[i].load + nodes[i].one;
	for (size_t i = 0; i < np; i++) {
		struct bal_proc *pr = &procs[i];
		double d = demand_of(p, pr);
		ssize_t si;
		struct bal_node *s;

		if (!settled(p, pr) || pr->placed || pr->age_ms < p->min_age_ms || io_heavy(p, pr) ||
			d < p->min_demand)
			continue;
		si = node_index(nodes, nn, pr->where);
		if (si < 0)
			continue;
		s = &nodes[si];
		if ((s->id == p->home && p->home_lstay) || (s->id != p->home && s->stay))
			continue;
		for (size_t ti = 0; ti < nn; ti++) {
			struct bal_node *t = &nodes[ti];
			bool two_hop = s->id != p->home && t->id != p->home;
			double g;

			if (t == s || !can_receive(p, t) || !permits(p, pr, t->id) ||
				!has_room(p, t, pr))
				continue;
			if ((double)pr->age_ms / 1000.0 < p->cost_factor * move_cost_s(p, pr, two_hop))
				continue;
			g = gain(p, s, t, d, base, scale);
			/* prefer bringing a process home on a tie: no deputy traffic */
			if (t->id == p->home)
				g *= 1.0001;
			if (g > best) {
				best = g;
				bp = pr;
				bs = s;
				bt = t;
			}
		}
	}
	if (!bp)
		return false;
	apply(p, bs, bt, bp, BAL_LOAD, out);
	return true;
}

size_t bal_decide(const struct bal_params *p, struct bal_node *nodes, size_t nn,
	struct bal_proc *procs, size_t np, struct bal_move *out, size_t max)
{
	size_t n = 0;

	if (p->home_stay)
		return 0;
	while (n < max) {
		if (decide_memory(p, nodes, nn, procs, np, &out[n]) ||
			decide_io(p, nodes, nn, procs, np, &out[n]) ||
			decide_load(p, nodes, nn, procs, np, &out[n]))
			n++;
		else
			break;
	}
	return n;
}
