/* Unit tests for gossip/: the information vector. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip.h"
#include "tests/unit/tap.h"

static struct om_load_info mkinfo(uint16_t id, uint16_t load)
{
	struct om_load_info i;

	memset(&i, 0, sizeof(i));
	i.id = id;
	i.status = NODE_CONF | NODE_UP;
	i.load = load;
	i.ncpus = 1;
	i.speed = OM_STD_SPEED;
	return i;
}

static struct proto_info_entry mkent(uint16_t id, uint16_t load, uint16_t age_cs)
{
	struct proto_info_entry e;

	memset(&e, 0, sizeof(e));
	e.info = mkinfo(id, load);
	e.age_cs = age_cs;
	return e;
}

static bool has_id(const struct proto_info_entry *e, size_t n, uint16_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (e[i].info.id == id)
			return true;
	return false;
}

static struct gossip *mkvec(uint16_t self, unsigned window, uint16_t first, uint16_t last)
{
	struct gossip *g = gossip_new(self, window, 42 + 1000003ull * self);
	unsigned id;

	for (id = first; g && id <= last; id++)
		if (id != self && gossip_add_node(g, (uint16_t)id))
			return NULL;
	return g;
}

static void test_new_and_membership(void)
{
	struct gossip *g;
	uint16_t t;

	ok(gossip_new(0, 8, 1) == NULL, "new: id 0 refused");
	ok(gossip_new(1, 0, 1) == NULL, "new: window 0 refused");
	ok(gossip_new(1, GOSSIP_MAX_WINDOW + 1, 1) == NULL, "new: oversized window refused");
	gossip_free(NULL);

	g = gossip_new(7, 8, 1);
	ok(g != NULL, "new");
	is_int(gossip_count(g), 1, "holds only ourselves");
	is_int(gossip_pick_target(g, 0, &t), -ENOENT, "alone: no target");
	is_int(gossip_add_node(g, 7), -EEXIST, "add self: -EEXIST");
	is_int(gossip_add_node(g, 0), -EINVAL, "add id 0: -EINVAL");
	is_int(gossip_add_node(g, 3), 0, "add 3");
	is_int(gossip_add_node(g, 3), -EEXIST, "add 3 again: -EEXIST");
	is_int(gossip_add_node(g, 65535), 0, "add 65535");
	is_int(gossip_reserve(g, 70000), -EINVAL, "reserve beyond the id space: -EINVAL");
	is_int(gossip_reserve(g, 100), 0, "reserve 100");
	is_int(gossip_count(g), 3, "count 3");
	is_int(gossip_alive_count(g), 3, "new nodes are alive");
	ok(gossip_has_node(g, 3) && gossip_has_node(g, 7) && !gossip_has_node(g, 4), "has_node");
	ok(gossip_get(g, 3, 0, NULL) == NULL, "no info yet");
	ok(gossip_get(g, 7, 0, NULL) == NULL, "own entry not set yet");
	is_int(gossip_set_alive(g, 7, false), -EINVAL, "cannot mark ourselves dead");
	is_int(gossip_set_alive(g, 4, false), -ENOENT, "set_alive unknown: -ENOENT");
	is_int(gossip_set_alive(g, 3, false), 0, "mark 3 dead");
	ok(!gossip_is_alive(g, 3) && gossip_is_alive(g, 65535) && gossip_is_alive(g, 7),
		"is_alive");
	is_int(gossip_alive_count(g), 2, "alive count 2");
	is_int(gossip_remove_node(g, 7), -EINVAL, "cannot remove ourselves");
	is_int(gossip_remove_node(g, 4), -ENOENT, "remove unknown: -ENOENT");
	is_int(gossip_remove_node(g, 3), 0, "remove dead 3");
	ok(!gossip_has_node(g, 3), "3 gone");
	is_int(gossip_alive_count(g), 2, "alive count still 2");
	is_int(gossip_pick_target(g, 0, &t), 0, "target with one other");
	is_int(t, 65535, "the only other node");
	gossip_free(g);
}

static void test_merge_fresher_only(void)
{
	struct gossip *g = mkvec(1, 8, 1, 4);
	struct proto_info_entry e[4];
	uint64_t age;

	e[0] = mkent(2, 100, 50); /* origin 10000 - 500 = 9500 */
	is_int(gossip_merge(g, 10000, e, 1), 0, "merge one");
	ok(gossip_get(g, 2, 10000, &age) && gossip_get(g, 2, 10000, NULL)->load == 100,
		"record stored");
	is_int(age, 500, "age 500 ms");

	e[0] = mkent(2, 200, 60); /* origin 9400: older */
	gossip_merge(g, 10000, e, 1);
	is_int(gossip_get(g, 2, 10000, &age)->load, 100, "older record ignored");
	is_int(age, 500, "age unchanged");

	e[0] = mkent(2, 300, 50); /* origin 9500: same age is not news */
	gossip_merge(g, 10000, e, 1);
	is_int(gossip_get(g, 2, 10000, NULL)->load, 100, "equally old record ignored");

	e[0] = mkent(2, 400, 10); /* origin 10900 at now 11000: fresher */
	gossip_merge(g, 11000, e, 1);
	is_int(gossip_get(g, 2, 11000, &age)->load, 400, "fresher record replaces");
	is_int(age, 100, "age 100 ms");

	e[0] = mkent(9, 1, 0);
	e[1] = mkent(1, 1, 0);
	e[2] = mkent(0, 1, 0);
	e[3] = mkent(3, 33, 0);
	is_int(gossip_merge(g, 12000, e, 4), 2, "unknown ids 9 and 0 counted");
	ok(gossip_get(g, 1, 12000, NULL) == NULL, "entry about ourselves ignored");
	is_int(gossip_get(g, 3, 12000, NULL)->load, 33, "known entry after unknown ones merged");

	e[0] = mkent(4, 44, 65535); /* older than our clock: origin clamps to 0 */
	gossip_merge(g, 100, e, 1);
	ok(gossip_get(g, 4, 100, &age) != NULL && age == 100, "very old record kept, age from 0");
	gossip_free(g);
}

static void test_ages(void)
{
	struct gossip *g = mkvec(1, 8, 1, 3);
	struct om_load_info me = mkinfo(99, 5);
	struct proto_info_entry e[8];
	uint64_t age;
	size_t n;

	gossip_set_self(g, &me, 1000);
	ok(gossip_get(g, 1, 1000, &age) != NULL, "own entry readable");
	is_int(gossip_get(g, 1, 1000, NULL)->id, 1, "own id forced to ours");
	n = gossip_build(g, 1500, 2, e, 8);
	is_int(n, 1, "only our entry known");
	is_int(e[0].age_cs, 50, "own age 500 ms = 50 cs");
	n = gossip_build(g, 1999, 2, e, 8);
	ok(n == 1 && e[0].age_cs == 100, "999 ms rounds up to 100 cs");
	n = gossip_build(g, 900, 2, e, 8);
	ok(n == 1 && e[0].age_cs == 0, "clock before the stamp: age 0");

	e[0] = mkent(3, 1, 30);
	gossip_merge(g, 2000, e, 1);
	gossip_get(g, 3, 2500, &age);
	is_int(age, 800, "merged age grows with now");
	n = gossip_build(g, 2500, 2, e, 8);
	is_int(n, 2, "own + 3");
	ok(e[0].info.id == 1 && e[1].info.id == 3 && e[1].age_cs == 80, "relayed age 80 cs");
	n = gossip_build(g, 2000000, 2, e, 8);
	is_int(e[1].age_cs, 65535, "age saturates");
	gossip_free(g);
}

static void test_build_window(void)
{
	struct gossip *g = mkvec(10, 5, 1, 30);
	struct om_load_info me = mkinfo(10, 1);
	struct proto_info_entry in[30], out[64];
	size_t n, i;
	int sorted = 1;

	/* node k's record is k cs old */
	for (i = 0; i < 30; i++)
		in[i] = mkent((uint16_t)(i + 1), (uint16_t)i, (uint16_t)(i + 1));
	gossip_merge(g, 100000, in, 30);
	gossip_set_self(g, &me, 100000);

	n = gossip_build(g, 100000, 20, out, 64);
	is_int(n, 5, "window of 5");
	is_int(out[0].info.id, 10, "own entry first");
	is_int(out[0].age_cs, 0, "own entry fresh");
	ok(out[1].info.id == 1 && out[2].info.id == 2 && out[3].info.id == 3 && out[4].info.id == 4,
		"then the freshest others");
	n = gossip_build(g, 100000, 2, out, 64);
	ok(n == 5 && !has_id(out, n, 2), "target's own entry left out");
	ok(out[1].info.id == 1 && out[2].info.id == 3 && out[4].info.id == 5,
		"the next freshest fills its place");
	for (i = 2; i < n; i++)
		sorted &= out[i].age_cs >= out[i - 1].age_cs;
	ok(sorted, "others sorted freshest first");
	n = gossip_build(g, 100000, 1, out, 3);
	is_int(n, 3, "max caps the window");
	n = gossip_build(g, 100000, 1, out, 0);
	is_int(n, 0, "max 0");

	gossip_set_quiet(g, true);
	ok(gossip_is_quiet(g), "quiet");
	n = gossip_build(g, 100000, 20, out, 64);
	ok(n == 5 && !has_id(out, n, 10), "quiet: own entry not advertised");
	is_int(out[0].info.id, 1, "quiet: still relays others");
	gossip_set_quiet(g, false);

	/* a refreshed old record moves to the front */
	in[0] = mkent(25, 7, 0);
	gossip_merge(g, 100000, in, 1);
	n = gossip_build(g, 100000, 20, out, 64);
	ok(n == 5 && out[1].info.id == 25, "freshened record moves to the front");

	/* removing one of the freshest brings in the next */
	is_int(gossip_remove_node(g, 1), 0, "remove node 1");
	n = gossip_build(g, 100000, 20, out, 64);
	ok(n == 5 && !has_id(out, n, 1) && out[4].info.id == 4, "removed node gone, next one in");
	ok(gossip_get(g, 1, 100000, NULL) == NULL, "removed node has no record");
	in[0] = mkent(1, 7, 0);
	is_int(gossip_merge(g, 100000, in, 1), 1, "entry about a removed node is unknown");
	is_int(gossip_add_node(g, 1), 0, "re-add node 1");
	ok(gossip_get(g, 1, 100000, NULL) == NULL, "re-added node starts empty");
	gossip_free(g);
}

static void test_iterator(void)
{
	struct gossip *g = gossip_new(50, 4, 3);
	struct om_load_info me = mkinfo(50, 1);
	struct proto_info_entry e = mkent(7, 1, 20);
	struct gossip_iter it = GOSSIP_ITER_INIT;
	struct gossip_node_view v;
	uint16_t ids[8], want[] = {2, 7, 50, 900};
	size_t n = 0, i;
	int okv = 1;

	if (gossip_add_node(g, 900) || gossip_add_node(g, 7) || gossip_add_node(g, 2) ||
		gossip_add_node(g, 60) || gossip_set_alive(g, 2, false) ||
		gossip_remove_node(g, 60))
		okv = 0;
	gossip_set_self(g, &me, 1000);
	gossip_merge(g, 1000, &e, 1);
	while (n < ARRAY_SIZE(ids) && gossip_next(g, &it, 1500, &v)) {
		ids[n++] = v.id;
		if (v.id == 50)
			okv &= v.self && v.alive && v.info && v.age_ms == 500;
		else if (v.id == 7)
			okv &= !v.self && v.alive && v.info && v.info->id == 7 && v.age_ms == 700;
		else if (v.id == 2)
			okv &= !v.alive && !v.info && v.age_ms == 0;
	}
	is_int(n, 4, "iterator visits every node");
	for (i = 0; i < n && i < ARRAY_SIZE(want); i++)
		okv &= ids[i] == want[i];
	ok(okv, "ascending ids with alive/self/info/age");
	gossip_free(g);
}

/* mindead: dead nodes are chosen once in a while, alive ones otherwise */
static void test_mindead(void)
{
	struct gossip *g = mkvec(1, 8, 1, 101); /* 100 others */
	const int draws = 200000;
	int dead = 0, selfpick = 0, i, k, bad = 0;
	double want;
	uint16_t t;

	for (k = 52; k <= 101; k++) /* 50 dead, 50 alive others */
		bad |= gossip_set_alive(g, (uint16_t)k, false);
	ok(!bad, "mark 50 dead");
	for (i = 0; i < draws; i++) {
		if (gossip_pick_target(g, 0, &t))
			bad = 1;
		dead += t >= 52;
		selfpick += t == 1;
	}
	/* any node with p = 1/max(5, 51); half of "any" is dead */
	want = draws * (1.0 / 51) * 0.5;
	ok(!bad && selfpick == 0, "never ourselves");
	ok(dead > 0.8 * want && dead < 1.2 * want, "dead picked rarely: %d of %d (expect ~%.0f)",
		dead, draws, want);

	/* few alive: the cycle is 5 */
	for (k = 4; k <= 51; k++)
		bad |= gossip_set_alive(g, (uint16_t)k, false);
	is_int(gossip_alive_count(g), 3, "two alive others");
	for (i = 0, dead = 0; i < draws; i++) {
		bad |= gossip_pick_target(g, 0, &t);
		dead += t > 3;
	}
	want = draws * 0.2 * 98 / 100;
	ok(!bad && dead > 0.9 * want && dead < 1.1 * want,
		"few alive: dead picked 1/5 of the time: %d (expect ~%.0f)", dead, want);

	/* none alive: dead ones are all there is */
	bad |= gossip_set_alive(g, 2, false) | gossip_set_alive(g, 3, false);
	for (i = 0, dead = 0; i < 1000; i++) {
		bad |= gossip_pick_target(g, 0, &t);
		dead += t != 1;
	}
	ok(!bad && dead == 1000, "all dead: still picks a node");
	gossip_free(g);

	/* the same seed gives the same choices */
	{
		struct gossip *a = mkvec(1, 8, 1, 64), *b = mkvec(1, 8, 1, 64);
		uint16_t ta, tb;
		int same = 1;

		for (i = 0; i < 1000; i++) {
			same &= gossip_pick_target(a, 0, &ta) == 0 &&
				gossip_pick_target(b, 0, &tb) == 0;
			same &= ta == tb;
		}
		ok(same, "seeded: reproducible");
		gossip_free(a);
		gossip_free(b);
	}
}

/* Random operations against a brute-force view: the window must always be
 * the freshest records (by age multiset), whatever the tie-breaking. */
static int cmp_age(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

enum { RND_IDS = 40 };

/* one pass of random operations over the ids in ids[] (ourselves: id 1) */
static void random_ops(const char *name, const uint16_t *ids, uint64_t seed)
{
	const unsigned window = 6;
	struct gossip *g = gossip_new(1, window, seed);
	struct proto_info_entry out[16], e;
	uint16_t got[16], want[RND_IDS];
	bool member[RND_IDS] = {false}, alive[RND_IDS] = {false};
	uint64_t now = 100000;
	int step, mism = 0, bad = 0, memb = 0, iter = 0;

	for (step = 0; step < 20000 && !bad; step++) {
		struct gossip_iter it = GOSSIP_ITER_INIT;
		struct gossip_node_view v;
		size_t n, nw = 0, i, nm = 0, na = 0;
		unsigned op, k, tk;
		uint16_t id, target, prev = 0;
		int err;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		op = (unsigned)(seed >> 60);
		k = (unsigned)((seed >> 20) % RND_IDS);
		id = ids[k];
		now += (seed >> 40) % 7;
		if (op == 0) {
			err = gossip_remove_node(g, id);
			bad |= member[k] ? err != 0 : err != -ENOENT;
			member[k] = alive[k] = false;
		} else if (op <= 2) {
			err = gossip_add_node(g, id);
			bad |= member[k] ? err != -EEXIST : err != 0;
			if (!member[k])
				alive[k] = true;
			member[k] = true;
		} else if (op == 3) {
			bool a = (seed >> 8) & 1;

			err = gossip_set_alive(g, id, a);
			bad |= member[k] ? err != 0 : err != -ENOENT;
			if (member[k])
				alive[k] = a;
		} else if (op == 4) {
			bad |= gossip_reserve(g, (seed >> 8) % 48) != 0;
		} else {
			e = mkent(id, 1, (uint16_t)((seed >> 8) % 300));
			gossip_merge(g, now, &e, 1);
		}

		/* the window is the freshest records, whatever the tie-breaking */
		tk = (unsigned)((seed >> 30) % RND_IDS);
		target = ids[tk];
		n = gossip_build(g, now, target, out, 16);
		for (i = 0; i < n; i++) {
			got[i] = out[i].age_cs;
			bad |= out[i].info.id == target;
		}
		for (k = 0; k < RND_IDS; k++) {
			uint64_t age;

			if (k != tk && gossip_get(g, ids[k], now, &age))
				want[nw++] = (uint16_t)((age + 9) / 10);
			memb += gossip_has_node(g, ids[k]) != member[k];
			memb += gossip_is_alive(g, ids[k]) != (member[k] && alive[k]);
			memb += !member[k] && gossip_get(g, ids[k], now, NULL) != NULL;
			nm += member[k];
			na += member[k] && alive[k];
		}
		qsort(want, nw, sizeof(want[0]), cmp_age);
		qsort(got, n, sizeof(got[0]), cmp_age);
		if (n != MIN(nw, (size_t)window) || (n && memcmp(got, want, n * sizeof(got[0]))))
			mism++;
		memb += gossip_count(g) != nm + 1 || gossip_alive_count(g) != na + 1;

		/* targets are members, never ourselves */
		if (gossip_pick_target(g, now, &id) == 0) {
			for (k = 0; k < RND_IDS && ids[k] != id; k++)
				;
			memb += k == RND_IDS || !member[k];
		} else {
			memb += nm != 0;
		}

		/* the iterator: every member and ourselves, ascending */
		i = 0;
		while (gossip_next(g, &it, now, &v)) {
			iter += v.id <= prev || !gossip_has_node(g, v.id);
			iter += v.alive != gossip_is_alive(g, v.id) || v.self != (v.id == 1);
			iter += v.info != gossip_get(g, v.id, now, NULL);
			prev = v.id;
			i++;
		}
		iter += i != nm + 1;
	}
	ok(!bad, "random ops, %s ids: results as expected, target never sent", name);
	is_int(mism, 0, "random ops, %s ids: the window is always the freshest records", name);
	is_int(memb, 0, "random ops, %s ids: membership, liveness and targets match", name);
	is_int(iter, 0, "random ops, %s ids: the iterator walks the members in order", name);
	gossip_free(g);
}

static void test_random_vs_bruteforce(void)
{
	uint16_t dense[RND_IDS], sparse[RND_IDS], strided[RND_IDS];
	unsigned k;

	for (k = 0; k < RND_IDS; k++) {
		dense[k] = (uint16_t)(2 + k);
		sparse[k] = (uint16_t)(2 + (k * 40503u) % 65534u); /* distinct, all over */
		strided[k] = (uint16_t)(64 + k * 1024u % 65472u);  /* same low bits */
	}
	random_ops("dense", dense, 9);
	random_ops("sparse", sparse, 10);
	random_ops("strided", strided, 11);
}

/* A 16-node cluster gossiping in lockstep: everybody learns everybody. */
static void test_converge(void)
{
	enum { N = 16, W = 4 };
	struct gossip *g[N];
	struct proto_info_entry msg[N][W];
	size_t len[N];
	uint16_t to[N];
	uint64_t now = 1000;
	int i, j, step, converged = -1, bad = 0;

	for (i = 0; i < N; i++) {
		g[i] = mkvec((uint16_t)(i + 1), W, 1, N);
		bad |= g[i] == NULL;
	}
	if (bad) {
		ok(0, "cluster set up");
		return;
	}
	for (step = 1; step <= 60 && converged < 0; step++, now += 500) {
		int all = 1;

		for (i = 0; i < N; i++) {
			struct om_load_info me = mkinfo((uint16_t)(i + 1), (uint16_t)step);

			gossip_set_self(g[i], &me, now);
			bad |= gossip_pick_target(g[i], now, &to[i]);
			len[i] = gossip_build(g[i], now, to[i], msg[i], W);
		}
		for (i = 0; i < N; i++)
			bad |= gossip_merge(g[to[i] - 1], now, msg[i], len[i]) != 0;
		for (i = 0; i < N; i++)
			for (j = 0; j < N; j++)
				all &= gossip_get(g[i], (uint16_t)(j + 1), now, NULL) != NULL;
		if (all)
			converged = step;
	}
	ok(!bad, "cluster: no errors");
	ok(converged > 0 && converged <= 40, "16 nodes, window %d: all know all after %d steps", W,
		converged);
	for (i = 0; i < N; i++)
		gossip_free(g[i]);
}

int main(void)
{
	test_new_and_membership();
	test_merge_fresher_only();
	test_ages();
	test_build_window();
	test_iterator();
	test_mindead();
	test_random_vs_bruteforce();
	test_converge();
	return tap_done();
}
