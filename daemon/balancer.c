/* balancer: automatic load balancing and memory ushering in omd.
 *
 * Every BAL_TICK_MS the home node looks at its own processes (those whose
 * home is here), wherever they run:
 *  1. samples the ones running here: CPU wanted (run time plus run-queue
 *     wait from /proc/PID/schedstat, so a process starved on a crowded node
 *     still counts as wanting a whole CPU), resident size, read/write call
 *     rate (/proc/PID/io), decayed with the node's decay settings and the
 *     process's hint (mosrun -c/-i/-n/-s/-f, cpujob, iojob, ...);
 *  2. builds the view: every node's load from the gossip vector (ours from
 *     the local smoothed value), corrected for the moves we started lately
 *     and the vector does not show yet;
 *  3. asks balance/policy.c (pure) for moves, and starts them.
 * Each node decides only for its own processes, so two homes never fight
 * over one process; the stability margin and the per-process limits keep
 * several homes from stampeding to one idle node.
 */
#include "balance/policy.h"
#include "daemon/balancer.h"
#include "daemon/node.h"
#include "daemon/procs.h"
#include "gossip/gossip.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"
#include "load/loadcalc.h"
#include "map/map.h"
#include "proto/msg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAL_TICK_MS 250
#define BAL_MAX_MOVES 4       /* started per tick */
#define BAL_PENDING_MS 2500   /* how long a started move corrects the view */
#define BAL_MAX_PENDING 64
#define BAL_MAX_VIEW 4096

struct pending {
	uint16_t id;
	uint64_t ms;      /* how long it holds */
	double load;      /* the load we expect there at least (arrivals) or at most (departures) */
	bool floor;
	uint64_t until_ms;
};

static struct {
	struct ev_timer *timer;
	enum bal_policy policy;
	struct pending pend[BAL_MAX_PENDING];
	uint64_t moves_started, moves_failed;
	struct bal_node nodes[BAL_MAX_VIEW];
	struct bal_proc view[BAL_MAX_VIEW];
	struct om_proc *owner[BAL_MAX_VIEW];
	unsigned ticks;
} B;

static void add_pending(uint16_t id, double load, bool floor, uint64_t ms)
{
	uint64_t now = now_ms();
	struct pending *slot = NULL;

	for (int i = 0; i < BAL_MAX_PENDING; i++) {
		if (B.pend[i].until_ms <= now) {
			slot = &B.pend[i];
			break;
		}
	}
	if (!slot)
		return; /* a full table only makes the view staler */
	*slot = (struct pending){ .id = id, .load = load, .floor = floor,
		.until_ms = now + ms };
}

static double corrected(uint16_t id, double load, uint64_t now)
{
	for (int i = 0; i < BAL_MAX_PENDING; i++) {
		const struct pending *q = &B.pend[i];

		if (q->id != id || q->until_ms <= now)
			continue;
		if (q->floor && load < q->load)
			load = q->load;
		else if (!q->floor && load > q->load)
			load = q->load;
	}
	return load;
}

/* read two numbers from /proc/PID/schedstat: run and wait ns */
static int read_sched(pid_t pid, uint64_t *ns)
{
	char path[64], buf[128];
	unsigned long long run, wait;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return -EINVAL;
	*ns = run + wait;
	return 0;
}

static int read_io_calls(pid_t pid, uint64_t *calls)
{
	char path[64], buf[512];
	unsigned long long r = 0, w = 0;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	p = strstr(buf, "syscr:");
	if (p)
		sscanf(p, "syscr: %llu", &r);
	p = strstr(buf, "syscw:");
	if (p)
		sscanf(p, "syscw: %llu", &w);
	*calls = r + w;
	return 0;
}

static double read_rss_mb(pid_t pid)
{
	char path[64], buf[128];
	unsigned long long size, rss;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if (read_file(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%llu %llu", &size, &rss) != 2)
		return -1;
	return (double)rss * 4096.0 / (1024.0 * 1024.0);
}

static unsigned keep_for(const struct node *n, const struct om_proc *p)
{
	if (!strcmp(p->opts.decay, "none"))
		return 1000;
	if (!strcmp(p->opts.decay, "fast"))
		return n->admin.fast_decay;
	return n->admin.slow_decay;
}

/* refresh what we know of a process running here */
static void sample_proc(struct node *n, struct om_proc *p, uint64_t now)
{
	uint64_t ns, calls;
	double mb;

	if (read_sched(p->pid, &ns))
		return;
	if (p->sampled_ms && now > p->sampled_ms && ns >= p->sched_ns) {
		double dt = (double)(now - p->sampled_ms) / 1000.0;

		p->sampled_s += dt;
		p->demand = bal_demand_update(p->demand, (double)(ns - p->sched_ns) / 1e9, dt,
			keep_for(n, p), n->admin.decay_interval, p->sampled_s);
		if (!read_io_calls(p->pid, &calls) && calls >= p->io_calls)
			p->io_rate = 0.5 * p->io_rate + 0.5 * (double)(calls - p->io_calls) / dt;
		p->io_calls = calls;
	} else if (!read_io_calls(p->pid, &calls)) {
		p->io_calls = calls;
	}
	p->sched_ns = ns;
	p->sampled_ms = now;
	mb = read_rss_mb(p->pid);
	if (mb >= 0)
		p->mb = mb;
}

/* a process running away: its forwarded reads and writes are carried out
 * by its home process, so the home pid's own call counters are its I/O
 * rate (CPU demand stays the last value measured here) */
static void sample_away(struct om_proc *p, uint64_t now)
{
	uint64_t calls;

	if (read_io_calls(p->pid, &calls))
		return;
	if (p->io_sampled_ms && now > p->io_sampled_ms && calls >= p->io_calls) {
		double dt = (double)(now - p->io_sampled_ms) / 1000.0;

		p->io_rate = 0.5 * p->io_rate + 0.5 * (double)(calls - p->io_calls) / dt;
	}
	p->io_calls = calls;
	p->io_sampled_ms = now;
}

/* the child of `parent` that `tracer` traces (a guest's copy), or 0 */
static pid_t traced_child(pid_t parent, pid_t tracer)
{
	char path[96], buf[1024], st[2048], *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	for (char *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		long c = strtol(t, NULL, 10);
		unsigned long long tp;

		if (c > 0 && proc_read((pid_t)c, "status", st, sizeof(st)) > 0 &&
			!proc_status_field(st, "TracerPid", 10, &tp) && tp == (unsigned long long)tracer)
			return (pid_t)c;
	}
	return 0;
}

/* a guest's copy: its server's traced child, or (forked after a move) a
 * child of another guest's server that this server traces */
static pid_t copy_of(const struct om_guest *g)
{
	const struct om_guest *h;
	pid_t c = traced_child(g->remote, g->remote);

	for (size_t i = 0; !c && (h = guests_at(i)); i++)
		if (h->remote && h->remote != g->remote)
			c = traced_child(h->remote, g->remote);
	return c;
}

/* Tell each home node what its guests here use (MSG_GUESTS): it cannot
 * see them, and its balancer wants their CPU demand. */
static void report_guests(struct node *n)
{
	static struct proto_guest_entry e[PROTO_GUEST_MAX_ENTRIES];
	uint8_t body[PROTO_MAX_BODY];
	const struct om_guest *g, *h;

	for (size_t i = 0; (g = guests_at(i)); i++) {
		size_t k = 0;
		bool first = true;

		if (!g->remote)
			continue;
		for (size_t j = 0; j < i && first; j++) /* each home once */
			if ((h = guests_at(j)) && h->remote && h->home_id == g->home_id)
				first = false;
		if (!first)
			continue;
		for (size_t j = i; (h = guests_at(j)); j++) {
			pid_t c;
			uint64_t ns;
			double mb;
			int len;

			if (!h->remote || h->home_id != g->home_id || (c = copy_of(h)) <= 0 ||
				read_sched(c, &ns))
				continue;
			mb = read_rss_mb(c);
			e[k++] = (struct proto_guest_entry){ .home_pid = (uint32_t)h->home_pid,
				.sched_ns = ns, .rss_kb = mb > 0 ? (uint32_t)(mb * 1024.0) : 0 };
			if (k == PROTO_GUEST_MAX_ENTRIES) {
				len = proto_guests_encode(body, sizeof(body), e, k);
				if (len > 0)
					info_send(n, g->home_id, MSG_GUESTS, body, (size_t)len);
				k = 0;
			}
		}
		if (k) {
			int len = proto_guests_encode(body, sizeof(body), e, k);

			if (len > 0)
				info_send(n, g->home_id, MSG_GUESTS, body, (size_t)len);
		}
	}
}

void balancer_guest_report(struct node *n, uint16_t from, const struct proto_guest_entry *e,
	size_t cnt)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < cnt; i++) {
		struct om_proc *p = procs_find((pid_t)e[i].home_pid);

		if (!p || p->where != from || from == n->self_id || procs_busy(p))
			continue; /* not ours, or not there: ignored */
		if (p->rnode == from && p->rsampled_ms && now > p->rsampled_ms &&
			e[i].sched_ns >= p->rsched_ns) {
			double dt = (double)(now - p->rsampled_ms) / 1000.0;

			p->sampled_s += dt;
			p->demand = bal_demand_update(p->demand,
				(double)(e[i].sched_ns - p->rsched_ns) / 1e9, dt, keep_for(n, p),
				n->admin.decay_interval, p->sampled_s);
		}
		p->rnode = from;
		p->rsched_ns = e[i].sched_ns;
		p->rsampled_ms = now;
		if (e[i].rss_kb)
			p->mb = (double)e[i].rss_kb / 1024.0;
	}
}

static double one_of(uint32_t speed, double capacity_cores)
{
	if (!speed)
		speed = OM_STD_SPEED;
	if (capacity_cores <= 0)
		capacity_cores = 1;
	return (double)OM_STD_SPEED / ((double)speed * capacity_cores);
}

/* every node we could use, ourselves first */
static size_t build_nodes(struct node *n, uint64_t now, const struct bal_proc *view, size_t np)
{
	const struct load_sample *s = &n->last_sample;
	size_t k = 0;
	struct bal_node *me = &B.nodes[k++];

	memset(me, 0, sizeof(*me));
	me->id = n->self_id;
	me->usable = true;
	me->stay = n->admin.stay;
	me->one = one_of(n->admin.speed, s->capacity);
	/* the local value rises slowly (against transients); our processes
	 * are at least min_age old when they move, so the last period's
	 * average is the better guide when it is higher */
	me->load = corrected(n->self_id, loadcalc_norm(MAX(n->lc.local, n->lc.last), n->admin.speed,
		s->capacity), now);
	/* our own processes here want at least what they measure: the
	 * smoothed load lags behind a burst of new jobs by seconds */
	{
		double mine = 0;

		for (size_t i = 0; i < np; i++)
			if (view[i].where == n->self_id)
				mine += view[i].demand;
		if (mine * me->one > me->load)
			me->load = mine * me->one;
	}
	me->total_mb = (double)s->tmem / (1024.0 * 1024.0);
	me->free_mb = s->tmem ? (double)s->mem / (1024.0 * 1024.0) : -1;
	for (unsigned id = 1; id <= OM_MAX_NODE_ID && k < BAL_MAX_VIEW; id++) {
		const struct peer *pe = &n->peers[id];
		const struct om_load_info *in;
		struct bal_node *b;
		uint64_t age;

		if (!pe->used || id == n->self_id || pe->state != MEMBER_ALIVE)
			continue;
		in = gossip_get(n->gossip, (uint16_t)id, now, &age);
		if (!in || !(in->status & NODE_UP))
			continue;
		b = &B.nodes[k++];
		memset(b, 0, sizeof(*b));
		b->id = (uint16_t)id;
		b->usable = !(in->status & (NODE_BLOCK | NODE_QUIET | NODE_EXPEL));
		b->stay = in->status & NODE_STAY;
		b->one = one_of(in->speed, in->capacity / 100.0);
		b->load = corrected((uint16_t)id, in->load / 100.0, now);
		b->total_mb = in->tmem;
		b->free_mb = in->tmem ? (double)in->mem : -1;
	}
	return k;
}

static void fill_proc(struct node *n, struct om_proc *p, struct bal_proc *b, uint64_t now)
{
	uint64_t last = 0;

	for (int i = 0; i < 4; i++)
		if (p->moves_ms[i] > last)
			last = p->moves_ms[i];
	memset(b, 0, sizeof(*b));
	b->pid = p->pid;
	b->where = p->where;
	b->demand = p->demand;
	b->mb = p->mb;
	b->io_rate = p->io_rate;
	b->age_ms = now - p->adopted_ms;
	/* never moved: only min_age holds it, not the stay after a move */
	b->since_move_ms = last ? now - last : UINT64_MAX / 2;
	b->recent_moves = procs_recent_moves(p, now, 10000);
	b->locked = p->opts.lock;
	b->placed = p->placed;
	b->io_hint = !strcmp(p->opts.decay, "io");
	b->cpu_hint = !strcmp(p->opts.decay, "cpu");
	b->mask = &p->opts.mask;
	b->refused_by = now < p->refused_until ? p->refused_by : 0;
}

#define BAL_REFUSED_MS 30000 /* a node that refused a process is not tried again for it so soon */

static void move_done(void *arg, int err, const char *why)
{
	pid_t pid = (pid_t)((intptr_t)arg & 0xffffffff);
	uint16_t to = (uint16_t)((intptr_t)arg >> 32);
	struct om_proc *p;

	if (err) {
		B.moves_failed++;
		pr_info("balancer: moving process %d to node %u failed: %s", (int)pid, to,
			why && *why ? why : strerror(-err));
		if ((p = procs_find(pid))) {
			p->refused_by = to;
			p->refused_until = now_ms() + BAL_REFUSED_MS;
		}
	}
}

static void start_move(struct node *n, struct om_proc *p, const struct bal_move *m,
	const struct bal_node *from, const struct bal_node *to)
{
	uint32_t addr = 0;
	int err;

	if (m->to != n->self_id && map_addr_of(n->map, m->to, &addr))
		return;
	err = procs_move(n, p, m->to, addr, move_done,
		(void *)(((intptr_t)m->to << 32) | (intptr_t)(uint32_t)p->pid));
	if (err) {
		pr_debug("balancer: cannot move process %d: %s", (int)p->pid, strerror(-err));
		return;
	}
	B.moves_started++;
	pr_info("balancer: process %d %u -> %u (%s; loads %.2f -> %.2f)", (int)p->pid, m->from,
		m->to, bal_reason_name(m->reason), from->load, to->load);
	/* the view already holds the loads after the move: keep them until
	 * the measurements catch up */
	add_pending(m->to, to->load, true, BAL_PENDING_MS);
	/* our own load shows a departure after one load period; a remote
	 * node's exported value decays slowly */
	add_pending(m->from, from->load, false, m->from == n->self_id ? 1500 : BAL_PENDING_MS);
}

static void params_for(struct node *n, struct bal_params *bp)
{
	bal_params_default(bp, n->self_id);
	bp->policy = B.policy;
	if (procs_link_mb_s() > 0)
		bp->link_mb_s = procs_link_mb_s(); /* measured on our own migrations */
	bp->home_stay = n->admin.stay;
	bp->home_lstay = n->admin.lstay;
}

static void tick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct node *n = arg;
	uint64_t now = now_ms();
	struct bal_params bp;
	struct bal_move moves[BAL_MAX_MOVES];
	struct om_proc *p;
	size_t nn, np = 0, k;

	ev_timer_start(t, BAL_TICK_MS);
	procs_poll_exec(n);
	if (++B.ticks % (1000 / BAL_TICK_MS) == 0)
		report_guests(n);
	for (size_t i = 0; (p = procs_at(i)); i++) {
		if (p->where == n->self_id && !procs_busy(p)) {
			sample_proc(n, p, now);
			p->io_sampled_ms = p->rsampled_ms = 0;
		} else if (!procs_busy(p)) {
			sample_away(p, now);
		}
		if (procs_busy(p) || np >= BAL_MAX_VIEW)
			continue;
		if (p->where == n->self_id && kill(p->pid, 0) < 0)
			continue;
		fill_proc(n, p, &B.view[np], now);
		B.owner[np++] = p;
	}
	if (n->off || !np)
		return;
	params_for(n, &bp);
	nn = build_nodes(n, now, B.view, np);
	k = bal_decide(&bp, B.nodes, nn, B.view, np, moves, BAL_MAX_MOVES);
	for (size_t i = 0; i < k; i++) {
		const struct bal_node *from = NULL, *to = NULL;

		for (size_t j = 0; j < nn; j++) {
			if (B.nodes[j].id == moves[i].from)
				from = &B.nodes[j];
			if (B.nodes[j].id == moves[i].to)
				to = &B.nodes[j];
		}
		for (size_t j = 0; j < np; j++)
			if (B.view[j].pid == moves[i].pid && from && to)
				start_move(n, B.owner[j], &moves[i], from, to);
	}
}

int balancer_init(struct node *n, const char *policy)
{
	B.policy = BAL_MOSIX;
	if (policy && bal_policy_parse(policy, &B.policy)) {
		fprintf(stderr, "omd: unknown balancing policy '%s' (mosix or oppcost)\n", policy);
		return -EINVAL;
	}
	B.timer = ev_timer_new(n->loop, tick, n);
	if (!B.timer)
		return -ENOMEM;
	ev_timer_start(B.timer, BAL_TICK_MS);
	return 0;
}

const char *balancer_policy(void)
{
	return bal_policy_name(B.policy);
}

void balancer_counters(uint64_t *started, uint64_t *failed)
{
	*started = B.moves_started;
	*failed = B.moves_failed;
}

uint16_t balancer_best_node(struct node *n, struct om_proc *p)
{
	struct bal_params bp;
	struct bal_proc one;
	struct bal_move m;
	size_t nn;
	uint64_t now = now_ms();

	params_for(n, &bp);
	/* an explicit request: no age, stay or lock rules; count it as busy */
	bp.home_stay = bp.home_lstay = false;
	bp.min_age_ms = bp.min_stay_ms = 0;
	bp.max_moves = ~0u;
	bp.cost_factor = 0;
	bp.min_demand = 0;
	bp.io_slowdown = 1e9;
	fill_proc(n, p, &one, now);
	one.locked = false;
	one.placed = false;
	one.io_hint = false;
	one.cpu_hint = true;
	one.recent_moves = 0;
	nn = build_nodes(n, now, NULL, 0);
	if (bal_decide(&bp, B.nodes, nn, &one, 1, &m, 1) == 1)
		return m.to;
	return p->where;
}
