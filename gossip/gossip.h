/* gossip: the information vector of one node, MOSIX infod style.
 *
 * Every step the daemon refreshes our own entry (gossip_set_self), picks one
 * node (gossip_pick_target), builds a window of the freshest entries, our own
 * first (gossip_build), and sends it; whatever windows arrive are merged
 * (gossip_merge), keeping the fresher record of each node.
 *
 * Pure logic: no I/O, no clock reads, no globals. Time is always passed in as
 * a monotonic `now_ms`; ages travel as centiseconds (saturating at 65535).
 * Randomness comes from a private generator seeded at gossip_new().
 *
 * Cost: nodes live in a hash table keyed by id; the freshest window is kept
 * as a small sorted set (window + 1 entries). Merging one entry is O(1), plus
 * O(window) when it becomes one of the freshest; building a window is
 * O(window); picking a target O(1). Removing one of the freshest nodes costs
 * one O(n) scan. Memory: about 80 bytes per node.
 */
#ifndef OM_GOSSIP_H
#define OM_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "proto/info.h"
#include "proto/msg.h"

#define GOSSIP_MAX_WINDOW 1024u

struct gossip;

/* A new vector for node `self_id` (1..65535) that sends at most `window`
 * entries (1..GOSSIP_MAX_WINDOW, our own included) per message. `seed` drives
 * target choice. Holds only ourselves until nodes are added. NULL on bad
 * arguments or out of memory. Free with gossip_free() (NULL is fine). */
struct gossip *gossip_new(uint16_t self_id, unsigned window, uint64_t seed);
void gossip_free(struct gossip *g);

/* Membership (from the map or autodiscovery). A new node is alive and has no
 * information yet. add: 0, -EEXIST (already there, ourselves included),
 * -EINVAL (id 0), -ENOMEM. remove: 0, -ENOENT, -EINVAL (ourselves). */
int gossip_add_node(struct gossip *g, uint16_t id) __must_check;
/* Optional: make room for `nodes` other nodes up front (the map's size), so
 * that adding them does not grow the table step by step. 0, -EINVAL, -ENOMEM. */
int gossip_reserve(struct gossip *g, size_t nodes) __must_check;
int gossip_remove_node(struct gossip *g, uint16_t id) __must_check;
bool gossip_has_node(const struct gossip *g, uint16_t id);
/* nodes in the vector, ourselves included; alive ones, ourselves included */
size_t gossip_count(const struct gossip *g);
size_t gossip_alive_count(const struct gossip *g);

/* The failure detector's verdict. Dead nodes keep their entries and are still
 * chosen as targets now and then (see gossip_pick_target). 0, -ENOENT, or
 * -EINVAL for ourselves. */
int gossip_set_alive(struct gossip *g, uint16_t id, bool alive) __must_check;
bool gossip_is_alive(const struct gossip *g, uint16_t id);

/* Refresh our own entry: a copy of *info stamped `now_ms` (info->id is
 * overwritten with our id). */
void gossip_set_self(struct gossip *g, const struct om_load_info *info, uint64_t now_ms);
/* A quiet node does not advertise its own entry; it still relays others. */
void gossip_set_quiet(struct gossip *g, bool quiet);
bool gossip_is_quiet(const struct gossip *g);

/* Choose where to send this step ("mindead"): with probability
 * 1/max(5, alive nodes) any other node, dead ones included, otherwise an
 * alive one (any node if none is alive). 0 and *id set, or -ENOENT when we
 * are alone. */
int gossip_pick_target(struct gossip *g, uint64_t now_ms, uint16_t *id) __must_check;

/* Fill out[] with the window for `target`: our own entry first (unless quiet
 * or never set), then the freshest other entries, at most `window` in all
 * and at most `max`. Entries about the target itself and nodes we know
 * nothing about are left out. Ages are relative to now_ms, rounded up to
 * whole centiseconds (a relayed record never looks fresher than it is).
 * Returns the number of entries written. */
size_t gossip_build(struct gossip *g, uint64_t now_ms, uint16_t target,
	struct proto_info_entry *out, size_t max);

/* Merge a received window: for each entry about a known node other than us,
 * the record's origin is now_ms - age; it replaces ours if strictly fresher.
 * Returns the number of entries ignored because their node is unknown (the
 * caller may log that); entries about ourselves are ignored silently. */
size_t gossip_merge(struct gossip *g, uint64_t now_ms, const struct proto_info_entry *e, size_t n);

/* What we know about `id` (ourselves included): the record, and its age in
 * *age_ms (if not NULL). NULL when the node is unknown or we have no record
 * of it yet. The pointer is valid until the next call that changes g. */
const struct om_load_info *gossip_get(
	const struct gossip *g, uint16_t id, uint64_t now_ms, uint64_t *age_ms);

/* Walk every node in ascending id order (for mosctl status):
 *
 *	struct gossip_iter it = GOSSIP_ITER_INIT;
 *	struct gossip_node_view v;
 *	while (gossip_next(g, &it, now, &v))
 *		...;
 *
 * Changing membership during a walk ends it early or skips nodes. */
struct gossip_iter {
	size_t pos;
};
#define GOSSIP_ITER_INIT ((struct gossip_iter){.pos = 0})

struct gossip_node_view {
	uint16_t id;
	bool self;
	bool alive;
	const struct om_load_info *info; /* NULL when we have no record yet */
	uint64_t age_ms;		 /* 0 when info is NULL */
};

bool gossip_next(
	struct gossip *g, struct gossip_iter *it, uint64_t now_ms, struct gossip_node_view *v);

#endif
