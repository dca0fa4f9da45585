/* test_balance: cluster masks and the balancer's decision (balance/). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "balance/mask.h"
#include "balance/policy.h"
#include "tests/unit/tap.h"

static void test_mask(void)
{
	struct om_mask m = { 0 };
	char buf[256];

	ok(om_mask_parse("1,3-5,9", &m) == 0, "parse a list with a range");
	ok(om_mask_listed(&m, 1) && !om_mask_listed(&m, 2) && om_mask_listed(&m, 4) &&
		om_mask_listed(&m, 9) && !om_mask_listed(&m, 10), "the listed nodes");
	is_int(om_mask_format(&m, buf, sizeof(buf)), 7, "format length");
	is_str(buf, "1,3-5,9", "format round trip");
	ok(om_mask_parse("0x15", &m) == 0, "the original's bit-list");
	om_mask_format(&m, buf, sizeof(buf));
	is_str(buf, "1,3,5", "bit PE-1 is node PE");
	ok(om_mask_parse("", &m) == 0 && om_mask_format(&m, buf, sizeof(buf)) == 0, "empty list");
	ok(om_mask_parse("0", &m) == -EINVAL, "node 0 refused");
	ok(om_mask_parse("1025", &m) == -EINVAL, "beyond the mask refused");
	ok(om_mask_parse("5-3", &m) == -EINVAL, "backwards range refused");
	ok(om_mask_parse("1,,2", &m) == -EINVAL, "empty element refused");
	ok(om_mask_parse("x", &m) == -EINVAL, "garbage refused");
	ok(om_mask_parse("0x", &m) == -EINVAL, "empty bit-list refused");
	ok(om_mask_parse("1024", &m) == 0 && om_mask_listed(&m, 1024), "the last node");
	ok(om_mask_format(&m, buf, 3) == -ENOSPC, "short buffer");

	ok(om_mask_parse("2", &m) == 0, "parse 2");
	m.on = false;
	ok(om_mask_permits(&m, 2, 1) && om_mask_permits(&m, 3, 1), "off: everything allowed");
	m.on = true;
	m.allow = false;
	ok(!om_mask_permits(&m, 2, 1) && om_mask_permits(&m, 3, 1), "DENY keeps it off node 2");
	m.allow = true;
	ok(om_mask_permits(&m, 2, 1) && !om_mask_permits(&m, 3, 1), "ALLOW only node 2");
	ok(om_mask_permits(&m, 1, 1), "home is always allowed");
}

/* nodes 1..k, 0.5 cores each (one busy process adds 2.0) */
static size_t mknodes(struct bal_node *nodes, size_t k, const double *loads)
{
	for (size_t i = 0; i < k; i++)
		nodes[i] = (struct bal_node){ .id = (uint16_t)(i + 1), .usable = true, .load = loads[i],
			.one = 2.0, .free_mb = 1000, .total_mb = 2000 };
	return k;
}

static void mkprocs(struct bal_proc *p, size_t np, uint16_t where)
{
	for (size_t i = 0; i < np; i++)
		p[i] = (struct bal_proc){ .pid = (int32_t)(100 + i), .where = where, .demand = 1.0,
			.mb = 10, .age_ms = 5000, .since_move_ms = 5000 };
}

static unsigned count_at(const struct bal_proc *p, size_t np, uint16_t id)
{
	unsigned k = 0;

	for (size_t i = 0; i < np; i++)
		k += p[i].where == id;
	return k;
}

static void test_spread(enum bal_policy pol)
{
	struct bal_params bp;
	struct bal_node nodes[3];
	struct bal_proc procs[6];
	struct bal_move mv[16];
	double loads[3] = { 12, 0, 0 };
	size_t k;

	bal_params_default(&bp, 1);
	bp.policy = pol;
	mknodes(nodes, 3, loads);
	mkprocs(procs, 6, 1);
	k = bal_decide(&bp, nodes, 3, procs, 6, mv, 16);
	is_int(k, 4, "%s: 6 jobs on node 1 of 3: 4 moves", bal_policy_name(pol));
	ok(count_at(procs, 6, 1) == 2 && count_at(procs, 6, 2) == 2 && count_at(procs, 6, 3) == 2,
		"%s: two per node", bal_policy_name(pol));
	ok(mv[0].from == 1 && mv[0].reason == BAL_LOAD, "%s: moves are for load", bal_policy_name(pol));
	/* steady state: nothing more to do */
	for (size_t i = 0; i < 6; i++)
		procs[i].since_move_ms = 5000, procs[i].recent_moves = 0;
	is_int(bal_decide(&bp, nodes, 3, procs, 6, mv, 16), 0, "%s: balanced: no move",
		bal_policy_name(pol));
}

static void test_rules(void)
{
	struct bal_params bp;
	struct bal_node nodes[3];
	struct bal_proc procs[2];
	struct bal_move mv[4];
	double loads[3] = { 4, 0, 0 };
	struct om_mask m = { 0 };

	bal_params_default(&bp, 1);

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	procs[0].age_ms = procs[1].age_ms = bp.min_age_ms - 1;
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "young processes stay");

	mknodes(nodes, 3, loads);
	mkprocs(procs, 1, 1);
	procs[0].refused_by = 2;
	{
		size_t k = bal_decide(&bp, nodes, 3, procs, 1, mv, 4);

		ok(k == 1 && mv[0].to == 3, "a node that refused it lately is not chosen (to %u)",
			k ? mv[0].to : 0);
		mknodes(nodes, 3, loads);
		mkprocs(procs, 1, 1);
		procs[0].refused_by = 3;
		nodes[1].load = 0.5; /* busier than 3, still worth it */
		k = bal_decide(&bp, nodes, 3, procs, 1, mv, 4);
		ok(k == 1 && mv[0].to == 2, "nor the other way round (to %u)", k ? mv[0].to : 0);
	}

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	procs[0].locked = procs[1].locked = true;
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "locked processes stay");

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	procs[0].recent_moves = procs[1].recent_moves = 3;
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "3 moves in 10 s: no more");

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	procs[0].since_move_ms = procs[1].since_move_ms = 100;
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "just moved: stays a while");

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	bp.home_stay = true;
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "stay: no automatic migration");
	bp.home_stay = false;
	bp.home_lstay = true;
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "lstay: local processes stay");
	bp.home_lstay = false;

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	nodes[1].usable = nodes[2].usable = false;
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "blocked or quiet nodes not chosen");

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	nodes[1].usable = false;
	ok(bal_decide(&bp, nodes, 3, procs, 2, mv, 4) == 1 && mv[0].to == 3, "only the open node");

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	ok(om_mask_parse("2", &m) == 0, "parse 2");
	m.on = true;
	m.allow = false;
	procs[0].mask = procs[1].mask = &m;
	ok(bal_decide(&bp, nodes, 3, procs, 2, mv, 4) == 1 && mv[0].to == 3, "mask keeps it off 2");
	m.allow = true;
	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	procs[0].mask = procs[1].mask = &m;
	ok(bal_decide(&bp, nodes, 3, procs, 2, mv, 4) == 1 && mv[0].to == 2, "mask allows only 2");

	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	procs[0].io_rate = procs[1].io_rate = 20000; /* 20000 calls/s x 150 us: 3x slower */
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "I/O-heavy processes stay home");
	mkprocs(procs, 2, 2);
	procs[0].io_hint = true;
	ok(bal_decide(&bp, nodes, 3, procs, 2, mv, 4) >= 1 && mv[0].to == 1 && mv[0].reason == BAL_IO,
		"an iojob away comes home");

	/* a big process: not worth moving while young relative to its cost */
	mknodes(nodes, 3, loads);
	mkprocs(procs, 2, 1);
	procs[0].mb = procs[1].mb = 2000; /* 10 s at 200 MiB/s */
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "moving must pay for itself");

	/* speed: a slow master (node 1 at half speed: one process = 4.0) pushes work away */
	{
		double l2[3] = { 4, 0, 0 };

		mknodes(nodes, 3, l2);
		nodes[0].one = 4.0;
		mkprocs(procs, 1, 1);
		ok(bal_decide(&bp, nodes, 3, procs, 1, mv, 4) == 1 && mv[0].from == 1,
			"a slow node pushes even its only process away");
		mknodes(nodes, 3, l2);
		nodes[0].load = 2;
		mkprocs(procs, 1, 1);
		is_int(bal_decide(&bp, nodes, 3, procs, 1, mv, 4), 0,
			"equal nodes keep a single process home");
	}
}

static void test_memory(void)
{
	struct bal_params bp;
	struct bal_node nodes[3];
	struct bal_proc procs[2];
	struct bal_move mv[4];
	double loads[3] = { 0, 0, 0 };

	bal_params_default(&bp, 1);
	mknodes(nodes, 3, loads);
	nodes[0].free_mb = 100; /* 5% of 2000 */
	nodes[2].free_mb = 1800;
	mkprocs(procs, 2, 1);
	procs[0].mb = 50;
	procs[1].mb = 900;
	procs[0].demand = procs[1].demand = 0;
	ok(bal_decide(&bp, nodes, 3, procs, 2, mv, 4) >= 1 && mv[0].pid == 101 && mv[0].to == 3 &&
		mv[0].reason == BAL_MEMORY, "short of memory: the biggest goes where memory is free");
	mknodes(nodes, 3, loads);
	nodes[0].free_mb = 100;
	nodes[1].free_mb = nodes[2].free_mb = 500;
	mkprocs(procs, 2, 1);
	procs[1].mb = 900;
	procs[0].demand = procs[1].demand = 0;
	is_int(bal_decide(&bp, nodes, 3, procs, 2, mv, 4), 0, "no room anywhere: it stays");
}

static void test_hetero(void)
{
	/* 0.25, 0.5 and 1.0 cores; 14 busy processes at home (node 1) */
	struct bal_params bp;
	struct bal_node nodes[3] = {
		{ .id = 1, .usable = true, .one = 4.0, .free_mb = -1 },
		{ .id = 2, .usable = true, .one = 2.0, .free_mb = -1 },
		{ .id = 3, .usable = true, .one = 1.0, .free_mb = -1 },
	};
	struct bal_proc procs[14];
	struct bal_move mv[32];

	bal_params_default(&bp, 1);
	mkprocs(procs, 14, 1);
	nodes[0].load = 14 * 4.0;
	bal_decide(&bp, nodes, 3, procs, 14, mv, 32);
	unsigned a = count_at(procs, 14, 1), b = count_at(procs, 14, 2), c = count_at(procs, 14, 3);
	ok(a <= b && b <= c && c >= 6 && a <= 3, "work follows capacity: %u/%u/%u on 0.25/0.5/1.0",
		a, b, c);
}

static void test_demand(void)
{
	double d = 0;

	d = bal_demand_update(d, 0.5, 0.5, 975, 1, 0.5);
	ok(fabs(d - 1.0) < 1e-9, "first sample taken as is");
	for (int i = 0; i < 4; i++)
		d = bal_demand_update(d, 0, 0.5, 975, 1, 1.0 + 0.5 * i);
	ok(d > 0.15 && d < 0.3, "young: a lifetime average (%.3f)", d);
	double slow = 1, fast = 1;
	for (int i = 0; i < 100; i++) {
		slow = bal_demand_update(slow, 0, 1, 975, 1, 1000 + i);
		fast = bal_demand_update(fast, 0, 1, 926, 1, 1000 + i);
	}
	ok(fabs(slow - pow(0.975, 100)) < 1e-6 && fabs(fast - pow(0.926, 100)) < 1e-6,
		"old: decays by the slow / fast rate per interval");
	ok(bal_demand_update(0.3, 5, 1, 975, 1, 10) <= 1.0, "clamped to one CPU");
	double none = 1;
	for (int i = 0; i < 10; i++)
		none = bal_demand_update(none, 0, 1, 1000, 1, 11 + i);
	ok(fabs(none - 10.0 / 20.0) < 1e-9, "no decay: the cumulative average");
}

int main(void)
{
	test_mask();
	test_spread(BAL_MOSIX);
	test_spread(BAL_OPPCOST);
	test_rules();
	test_memory();
	test_hetero();
	test_demand();
	return tap_done();
}
