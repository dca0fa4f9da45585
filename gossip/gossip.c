/* gossip: the information vector of one node (see gossip.h).
 *
 * Layout:
 *  - tab[]: the nodes themselves, in an open-addressing hash table keyed by
 *    id (info.id; 0 marks a free cell), linear probing, backward-shift
 *    deletion, at most half full. Ids below the table size sit at their own
 *    index, so a cluster numbered 1..n has no collisions and one lookup is
 *    one cache line: merging is bound by those misses on big clusters.
 *  - order[]: table positions of the other nodes, alive ones first
 *    ([0, n_alive) alive, [n_alive, n) dead), so a uniform pick among alive
 *    or among all nodes is one random index. Every node remembers its index
 *    in order[] (order_pos).
 *  - top[]: the window + 1 freshest nodes that have a record, freshest first
 *    (one spare so that leaving out the target still fills the window).
 *    Records only ever get fresher, so a node that dropped out of top[] can
 *    only come back by being updated itself, which is where it is offered
 *    again. Only removing a node that is in top[] needs a full scan.
 *    A node's GN_IN_TOP flag may be stale (set while it was pushed out):
 *    clearing it on eviction would cost a cache miss per merged entry, so it
 *    only means "look in top[]".
 *  - sorted[]: (id, position) in ascending id order for the iterator,
 *    rebuilt lazily after membership changes.
 *
 * Ages go on the wire in centiseconds, rounded up: a relayed record can only
 * look older than it is, never fresher, so a record that comes back to a node
 * that already holds it is never mistaken for news.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip.h"

#define GOSSIP_SEND_TO_ANY_CYCLE 5u /* mindead: 1/max(5, alive) goes to any node */
#define AGE_CS_MAX 65535u
#define MERGE_BATCH 64

enum {
	GN_HAS_INFO = 1 << 0,
	GN_IN_TOP = 1 << 1,
};

struct gnode {
	uint64_t origin_ms;	  /* when the record was current, our clock */
	struct om_load_info info; /* info.id is the key; the rest valid with GN_HAS_INFO */
	uint16_t order_pos;	  /* index in order[] */
	uint8_t flags;
};

struct top_ent {
	uint64_t origin_ms;
	uint32_t pos;
};

struct sorted_ent {
	uint16_t id;
	uint32_t pos; /* UINT32_MAX: ourselves */
};

struct gossip {
	uint16_t self_id;
	unsigned window;
	uint64_t rng;

	bool quiet;
	bool self_set;
	struct om_load_info self_info;
	uint64_t self_ms;

	struct gnode *tab;
	size_t tmask;
	unsigned tbits;

	uint32_t *order;
	size_t n, n_alive, order_cap;

	struct top_ent *top;
	size_t top_n, top_cap;

	struct sorted_ent *sorted;
	size_t sorted_n;
	bool sorted_dirty;
};

/* --- randomness: splitmix64 -------------------------------------------- */

static uint64_t rng_next(struct gossip *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [0, n), n < 2^32 */
static size_t rng_below(struct gossip *g, size_t n)
{
	return (size_t)(((rng_next(g) >> 32) * (uint64_t)n) >> 32);
}

/* --- the table --------------------------------------------------------------- */

/* Ids below the table size map to themselves; the high bits of larger ids
 * are mixed in so that strided numbering does not pile up. */
static size_t home_of(unsigned tbits, size_t tmask, uint16_t id)
{
	uint32_t hi = (uint32_t)id >> tbits;

	return ((size_t)id + hi * 2654435761u) & tmask;
}

static long find_pos(const struct gossip *g, uint16_t id)
{
	size_t i;

	if (id == 0)
		return -1;
	for (i = home_of(g->tbits, g->tmask, id);; i = (i + 1) & g->tmask) {
		if (g->tab[i].info.id == id)
			return (long)i;
		if (g->tab[i].info.id == 0)
			return -1;
	}
}

static size_t free_pos(const struct gossip *g, uint16_t id)
{
	size_t i = home_of(g->tbits, g->tmask, id);

	while (g->tab[i].info.id != 0)
		i = (i + 1) & g->tmask;
	return i;
}

/* the node at table position `from` now lives at `to` */
static void node_moved(struct gossip *g, size_t from, size_t to)
{
	size_t i;

	g->order[g->tab[to].order_pos] = (uint32_t)to;
	if (!(g->tab[to].flags & GN_IN_TOP))
		return;
	for (i = 0; i < g->top_n; i++)
		if (g->top[i].pos == from)
			g->top[i].pos = (uint32_t)to;
}

static void tab_delete(struct gossip *g, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t k;

		j = (j + 1) & g->tmask;
		if (g->tab[j].info.id == 0)
			break;
		k = home_of(g->tbits, g->tmask, g->tab[j].info.id);
		/* the node at j may stay if its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		g->tab[i] = g->tab[j];
		node_moved(g, j, i);
		i = j;
	}
	memset(&g->tab[i], 0, sizeof(g->tab[i]));
}

/* room for `want` other nodes: the table at most half full, order[] sized */
static int reserve(struct gossip *g, size_t want)
{
	unsigned bits = g->tbits;
	struct gnode *old = g->tab, *nt;
	size_t oldcap = old ? g->tmask + 1 : 0, i;

	if (want > g->order_cap) {
		size_t cap = MAX(want, 2 * g->order_cap);
		uint32_t *no = realloc(g->order, cap * sizeof(*no));

		if (!no)
			return -ENOMEM;
		g->order = no;
		g->order_cap = cap;
	}
	while (bits < 4 || ((size_t)1 << bits) < 2 * want)
		bits++;
	if (old && bits == g->tbits)
		return 0;
	nt = calloc((size_t)1 << bits, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	g->tab = nt;
	g->tbits = bits;
	g->tmask = ((size_t)1 << bits) - 1;
	for (i = 0; i < g->top_n; i++) /* park top[] as ids while positions change */
		g->top[i].pos = old[g->top[i].pos].info.id;
	for (i = 0; i < oldcap; i++) {
		size_t p;

		if (old[i].info.id == 0)
			continue;
		p = free_pos(g, old[i].info.id);
		g->tab[p] = old[i];
		g->order[g->tab[p].order_pos] = (uint32_t)p;
	}
	for (i = 0; i < g->top_n; i++)
		g->top[i].pos = (uint32_t)find_pos(g, (uint16_t)g->top[i].pos);
	free(old);
	g->sorted_dirty = true;
	return 0;
}

static void swap_order(struct gossip *g, size_t a, size_t b)
{
	uint32_t t = g->order[a];

	g->order[a] = g->order[b];
	g->order[b] = t;
	g->tab[g->order[a]].order_pos = (uint16_t)a;
	g->tab[g->order[b]].order_pos = (uint16_t)b;
}

/* --- the freshest set ------------------------------------------------------ */

/* Take a node flagged GN_IN_TOP out of top[]; false if it was not really
 * there (a stale flag). */
static bool top_remove(struct gossip *g, size_t pos)
{
	size_t i;

	g->tab[pos].flags &= (uint8_t)~GN_IN_TOP;
	for (i = 0; i < g->top_n; i++)
		if (g->top[i].pos == pos)
			break;
	if (i == g->top_n)
		return false;
	memmove(&g->top[i], &g->top[i + 1], (g->top_n - i - 1) * sizeof(g->top[0]));
	g->top_n--;
	return true;
}

/* Offer a node that has a record and is not in top[]. Among equal origins
 * the newest arrival goes first. */
static void top_offer(struct gossip *g, size_t pos)
{
	struct gnode *nd = &g->tab[pos];
	size_t i = 0;

	assert((nd->flags & (GN_HAS_INFO | GN_IN_TOP)) == GN_HAS_INFO);
	while (i < g->top_n && g->top[i].origin_ms > nd->origin_ms)
		i++;
	if (g->top_n == g->top_cap) {
		if (i == g->top_n)
			return;
		g->top_n--; /* the last one drops out; its flag goes stale */
	}
	memmove(&g->top[i + 1], &g->top[i], (g->top_n - i) * sizeof(g->top[0]));
	g->top[i].origin_ms = nd->origin_ms;
	g->top[i].pos = (uint32_t)pos;
	g->top_n++;
	nd->flags |= GN_IN_TOP;
}

/* after a node left a full top[]: bring in the freshest one outside it */
static void top_refill(struct gossip *g)
{
	size_t i, best = SIZE_MAX;

	for (i = 0; i < g->n; i++) /* make the flags exact first */
		g->tab[g->order[i]].flags &= (uint8_t)~GN_IN_TOP;
	for (i = 0; i < g->top_n; i++)
		g->tab[g->top[i].pos].flags |= GN_IN_TOP;
	for (i = 0; i < g->n; i++) {
		const struct gnode *nd = &g->tab[g->order[i]];

		if ((nd->flags & (GN_HAS_INFO | GN_IN_TOP)) != GN_HAS_INFO)
			continue;
		if (best == SIZE_MAX || nd->origin_ms > g->tab[best].origin_ms)
			best = g->order[i];
	}
	if (best != SIZE_MAX)
		top_offer(g, best);
}

/* --- public ------------------------------------------------------------------ */

struct gossip *gossip_new(uint16_t self_id, unsigned window, uint64_t seed)
{
	struct gossip *g;

	if (self_id == 0 || window == 0 || window > GOSSIP_MAX_WINDOW)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->self_id = self_id;
	g->window = window;
	g->rng = seed;
	g->top_cap = window + 1;
	g->top = calloc(g->top_cap, sizeof(*g->top));
	if (!g->top)
		goto out_free;
	if (reserve(g, 1))
		goto out_free;
	g->sorted_dirty = true;
	return g;

out_free:
	gossip_free(g);
	return NULL;
}

void gossip_free(struct gossip *g)
{
	if (!g)
		return;
	free(g->tab);
	free(g->order);
	free(g->top);
	free(g->sorted);
	free(g);
}

int gossip_reserve(struct gossip *g, size_t nodes)
{
	if (nodes > OM_MAX_NODE_ID)
		return -EINVAL;
	return reserve(g, nodes);
}

int gossip_add_node(struct gossip *g, uint16_t id)
{
	struct gnode *nd;
	size_t p;
	int err;

	if (id == 0)
		return -EINVAL;
	if (id == g->self_id || find_pos(g, id) >= 0)
		return -EEXIST;
	err = reserve(g, g->n + 1);
	if (err)
		return err;
	p = free_pos(g, id);
	nd = &g->tab[p];
	memset(nd, 0, sizeof(*nd));
	nd->info.id = id;
	nd->order_pos = (uint16_t)g->n;
	g->order[g->n++] = (uint32_t)p;
	/* new nodes are alive: move it from the dead part's end to its start */
	swap_order(g, g->n - 1, g->n_alive);
	g->n_alive++;
	g->sorted_dirty = true;
	return 0;
}

int gossip_set_alive(struct gossip *g, uint16_t id, bool alive)
{
	size_t op;
	long p;

	if (id == g->self_id)
		return -EINVAL;
	p = find_pos(g, id);
	if (p < 0)
		return -ENOENT;
	op = g->tab[p].order_pos;
	if (alive && op >= g->n_alive) {
		swap_order(g, op, g->n_alive);
		g->n_alive++;
	} else if (!alive && op < g->n_alive) {
		swap_order(g, op, g->n_alive - 1);
		g->n_alive--;
	}
	return 0;
}

int gossip_remove_node(struct gossip *g, uint16_t id)
{
	bool refill = false;
	long p;
	int err;

	if (id == g->self_id)
		return -EINVAL;
	p = find_pos(g, id);
	if (p < 0)
		return -ENOENT;
	if (g->tab[p].flags & GN_IN_TOP) {
		refill = g->top_n == g->top_cap;
		refill &= top_remove(g, (size_t)p);
	}
	err = gossip_set_alive(g, id, false);
	assert(err == 0);
	(void)err;
	swap_order(g, g->tab[p].order_pos, g->n - 1);
	g->n--;
	tab_delete(g, (size_t)p);
	if (refill)
		top_refill(g);
	g->sorted_dirty = true;
	return 0;
}

bool gossip_has_node(const struct gossip *g, uint16_t id)
{
	return id == g->self_id || find_pos(g, id) >= 0;
}

size_t gossip_count(const struct gossip *g)
{
	return g->n + 1;
}

size_t gossip_alive_count(const struct gossip *g)
{
	return g->n_alive + 1;
}

bool gossip_is_alive(const struct gossip *g, uint16_t id)
{
	long p;

	if (id == g->self_id)
		return true;
	p = find_pos(g, id);
	return p >= 0 && g->tab[p].order_pos < g->n_alive;
}

void gossip_set_self(struct gossip *g, const struct om_load_info *info, uint64_t now_ms)
{
	g->self_info = *info;
	g->self_info.id = g->self_id;
	g->self_ms = now_ms;
	g->self_set = true;
}

void gossip_set_quiet(struct gossip *g, bool quiet)
{
	g->quiet = quiet;
}

bool gossip_is_quiet(const struct gossip *g)
{
	return g->quiet;
}

int gossip_pick_target(struct gossip *g, uint64_t now_ms, uint16_t *id)
{
	size_t alive = g->n_alive + 1, cycle = MAX(GOSSIP_SEND_TO_ANY_CYCLE, alive);

	if (g->n == 0)
		return -ENOENT;
	if (g->n_alive == 0 || rng_below(g, cycle) == 0)
		*id = g->tab[g->order[rng_below(g, g->n)]].info.id;
	else
		*id = g->tab[g->order[rng_below(g, g->n_alive)]].info.id;
	return 0;
}

static uint64_t age_of(uint64_t origin_ms, uint64_t now_ms)
{
	return now_ms > origin_ms ? now_ms - origin_ms : 0;
}

static uint16_t age_cs(uint64_t age_ms)
{
	uint64_t cs = age_ms / 10 + (age_ms % 10 != 0);

	return (uint16_t)MIN(cs, (uint64_t)AGE_CS_MAX);
}

size_t gossip_build(struct gossip *g, uint64_t now_ms, uint16_t target,
	struct proto_info_entry *out, size_t max)
{
	size_t lim = MIN((size_t)g->window, max), cnt = 0, i;

	for (i = 0; i < g->top_n && i <= lim; i++)
		__builtin_prefetch(&g->tab[g->top[i].pos]);
	if (lim > 0 && !g->quiet && g->self_set && target != g->self_id) {
		out[cnt].info = g->self_info;
		out[cnt].age_cs = age_cs(age_of(g->self_ms, now_ms));
		cnt++;
	}
	for (i = 0; i < g->top_n && cnt < lim; i++) {
		const struct gnode *nd = &g->tab[g->top[i].pos];

		if (nd->info.id == target)
			continue;
		out[cnt].info = nd->info;
		out[cnt].age_cs = age_cs(age_of(nd->origin_ms, now_ms));
		cnt++;
	}
	return cnt;
}

/* Entries go through in batches: prefetch every node's home cell first so
 * that the cache misses of a whole window overlap. */
size_t gossip_merge(struct gossip *g, uint64_t now_ms, const struct proto_info_entry *e, size_t n)
{
	size_t unknown = 0, base, i, m;

	for (base = 0; base < n; base += m) {
		m = n - base;
		if (m > MERGE_BATCH)
			m = MERGE_BATCH;
		for (i = 0; i < m; i++)
			__builtin_prefetch(
				&g->tab[home_of(g->tbits, g->tmask, e[base + i].info.id)]);
		for (i = 0; i < m; i++) {
			const struct proto_info_entry *x = &e[base + i];
			uint64_t age = (uint64_t)x->age_cs * 10, origin;
			struct gnode *nd;
			long p;

			if (x->info.id == g->self_id)
				continue;
			p = find_pos(g, x->info.id);
			if (p < 0) {
				unknown++;
				continue;
			}
			origin = now_ms > age ? now_ms - age : 0;
			nd = &g->tab[p];
			if ((nd->flags & GN_HAS_INFO) && origin <= nd->origin_ms)
				continue;
			if (nd->flags & GN_IN_TOP)
				top_remove(g, (size_t)p);
			nd->info = x->info;
			nd->origin_ms = origin;
			nd->flags |= GN_HAS_INFO;
			top_offer(g, (size_t)p);
		}
	}
	return unknown;
}

static const struct om_load_info *view_at(
	const struct gossip *g, long p, uint64_t now_ms, uint64_t *age_ms)
{
	const struct gnode *nd;

	if (p < 0) {
		if (!g->self_set)
			return NULL;
		if (age_ms)
			*age_ms = age_of(g->self_ms, now_ms);
		return &g->self_info;
	}
	nd = &g->tab[p];
	if (!(nd->flags & GN_HAS_INFO))
		return NULL;
	if (age_ms)
		*age_ms = age_of(nd->origin_ms, now_ms);
	return &nd->info;
}

const struct om_load_info *gossip_get(
	const struct gossip *g, uint16_t id, uint64_t now_ms, uint64_t *age_ms)
{
	long p;

	if (id == g->self_id)
		return view_at(g, -1, now_ms, age_ms);
	p = find_pos(g, id);
	return p < 0 ? NULL : view_at(g, p, now_ms, age_ms);
}

static int cmp_sorted(const void *a, const void *b)
{
	return (int)((const struct sorted_ent *)a)->id - (int)((const struct sorted_ent *)b)->id;
}

static int sort_ids(struct gossip *g)
{
	struct sorted_ent *s = realloc(g->sorted, (g->n + 1) * sizeof(*s));
	size_t i;

	if (!s)
		return -ENOMEM;
	g->sorted = s;
	for (i = 0; i < g->n; i++) {
		s[i].pos = g->order[i];
		s[i].id = g->tab[s[i].pos].info.id;
	}
	s[g->n].id = g->self_id;
	s[g->n].pos = UINT32_MAX;
	qsort(s, g->n + 1, sizeof(*s), cmp_sorted);
	g->sorted_n = g->n + 1;
	g->sorted_dirty = false;
	return 0;
}

bool gossip_next(
	struct gossip *g, struct gossip_iter *it, uint64_t now_ms, struct gossip_node_view *v)
{
	const struct sorted_ent *s;

	if (g->sorted_dirty && sort_ids(g))
		return false;
	if (it->pos >= g->sorted_n)
		return false;
	s = &g->sorted[it->pos++];
	memset(v, 0, sizeof(*v));
	v->id = s->id;
	v->self = s->pos == UINT32_MAX;
	v->alive = v->self || g->tab[s->pos].order_pos < g->n_alive;
	v->info = view_at(g, v->self ? -1 : (long)s->pos, now_ms, &v->age_ms);
	if (!v->info)
		v->age_ms = 0;
	return true;
}
