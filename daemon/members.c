/* members: the membership state machine of every peer.
 *
 *   UNKNOWN --heard--> ALIVE --info too old--> SUSPECT --3 probes lost--> DEAD
 *      ^                 ^  <--fresh info/ack--'                            |
 *      |                 '-------------------- heard (rejoin) -------------'
 *   LEFT: the peer said goodbye (setpe -off, omd stopping); only a datagram
 *   from the peer itself brings it back.
 *
 * "Info too old" means neither a direct datagram nor relayed gossip about the
 * peer is younger than the suspicion timeout, which scales with the expected
 * gossip age of the cluster. A suspect is probed directly every 100 ms, so a
 * node that is really gone is declared dead within about a second on a LAN.
 */
#include "daemon/node.h"
#include "gossip/gossip.h"
#include "lib/log.h"
#include "lib/util.h"
#include "map/map.h"
#include "proto/msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_INTERVAL_MS 100
#define PROBES_BEFORE_DEAD 3
#define DEAD_PROBE_INTERVAL_MS 1000
#define DISC_FORGET_MS 5000 /* autodiscovery: silent and dead this long: removed */

const char *member_state_name(enum member_state s)
{
	switch (s) {
	case MEMBER_ALIVE:
		return "alive";
	case MEMBER_SUSPECT:
		return "suspect";
	case MEMBER_DEAD:
		return "dead";
	case MEMBER_LEFT:
		return "left";
	default:
		return "unknown";
	}
}

static const char *ip_str(uint32_t addr, char *buf)
{
	struct in_addr a = { .s_addr = htonl(addr) };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void set_state(struct node *n, struct peer *p, enum member_state s, uint64_t now)
{
	char ip[INET_ADDRSTRLEN];

	if (p->state == s)
		return;
	if (s == MEMBER_ALIVE && p->state == MEMBER_SUSPECT)
		pr_debug("node %u: suspicion cleared", p->id);
	else if (s == MEMBER_ALIVE)
		pr_info("openMosix #%u is at IP address %s (up)", p->id, ip_str(p->addr, ip));
	else if (s == MEMBER_DEAD && p->state != MEMBER_UNKNOWN)
		pr_info("openMosix #%u (%s) is down: no answer for %llu ms", p->id,
			ip_str(p->addr, ip), (unsigned long long)(now - p->state_since_ms));
	else if (s == MEMBER_LEFT)
		pr_info("openMosix #%u (%s) left the cluster", p->id, ip_str(p->addr, ip));
	else
		pr_debug("node %u: %s -> %s", p->id, member_state_name(p->state),
			member_state_name(s));
	p->state = s;
	p->state_since_ms = now;
	if (gossip_set_alive(n->gossip, p->id, s == MEMBER_ALIVE || s == MEMBER_SUSPECT))
		pr_debug("node %u: not in the information vector", p->id);
}

struct peer *members_get(struct node *n, uint16_t id)
{
	if (id == 0 || id == n->self_id || !n->peers[id].used)
		return NULL;
	return &n->peers[id];
}

int members_sync_map(struct node *n)
{
	size_t count = n->map ? map_node_count(n->map) : 0;
	bool *keep = calloc(OM_MAX_NODE_ID + 1, sizeof(bool));
	unsigned npeers = 0;

	if (!keep)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		uint16_t id;
		uint32_t addr;

		if (map_node_at(n->map, i, &id, &addr) || id == n->self_id)
			continue;
		keep[id] = true;
		struct peer *p = &n->peers[id];

		if (!p->used || p->addr != addr) {
			memset(p, 0, sizeof(*p));
			p->id = id;
			p->addr = addr;
			p->used = true;
			p->state = MEMBER_UNKNOWN;
			p->state_since_ms = now_ms();
			if (gossip_add_node(n->gossip, id) < 0)
				pr_warn("node %u: cannot add to the information vector", id);
			if (gossip_set_alive(n->gossip, id, false))
				pr_debug("node %u: not in the information vector", id);
		}
		npeers++;
	}
	for (unsigned id = 1; id <= OM_MAX_NODE_ID; id++) {
		if (n->peers[id].used && !keep[id]) {
			if (gossip_remove_node(n->gossip, (uint16_t)id))
				pr_debug("node %u: not in the information vector", id);
			memset(&n->peers[id], 0, sizeof(n->peers[id]));
		}
	}
	free(keep);
	n->npeers = npeers;
	return 0;
}

void members_heard(struct node *n, struct peer *p, uint64_t now)
{
	p->last_direct_ms = now;
	p->probes_unanswered = 0;
	set_state(n, p, MEMBER_ALIVE, now);
}

void members_left(struct node *n, struct peer *p, uint64_t now)
{
	p->probes_unanswered = 0;
	set_state(n, p, MEMBER_LEFT, now);
}

unsigned members_expected_age_ms(const struct node *n)
{
	/* a few steps plus about n/window steps (push gossip's mean age) */
	unsigned steps = 3 + (2 * n->npeers) / PROTO_INFO_MAX_ENTRIES;

	return MAX(600u, steps * n->cfg.info_interval_ms);
}

static void probe(struct node *n, struct peer *p, uint64_t now)
{
	struct proto_probe pr;
	uint8_t body[16];
	int len;

	p->probe_nonce = ((uint64_t)random() << 32) ^ (uint64_t)random() ^ now;
	pr.nonce = p->probe_nonce;
	len = proto_probe_encode(body, sizeof(body), &pr);
	if (len < 0)
		return;
	p->last_probe_ms = now;
	n->cnt.probes_sent++;
	info_send(n, p->id, MSG_PROBE, body, (size_t)len);
}

void members_tick(struct node *n, uint64_t now)
{
	unsigned suspect_ms = members_expected_age_ms(n);

	if (n->off)
		return;
	for (unsigned id = 1; id <= OM_MAX_NODE_ID; id++) {
		struct peer *p = &n->peers[id];
		uint64_t age = UINT64_MAX, gage;

		if (!p->used)
			continue;
		if (p->last_direct_ms)
			age = now - p->last_direct_ms;
		if (gossip_get(n->gossip, p->id, now, &gage) && gage < age)
			age = gage;

		switch (p->state) {
		case MEMBER_ALIVE:
			if (age > suspect_ms) {
				set_state(n, p, MEMBER_SUSPECT, now);
				p->probes_unanswered = 0;
				probe(n, p, now);
			}
			break;
		case MEMBER_SUSPECT:
			if (age <= suspect_ms) {
				set_state(n, p, MEMBER_ALIVE, now);
			} else if (now - p->last_probe_ms >= PROBE_INTERVAL_MS) {
				if (++p->probes_unanswered >= PROBES_BEFORE_DEAD)
					set_state(n, p, MEMBER_DEAD, now);
				else
					probe(n, p, now);
			}
			break;
		case MEMBER_UNKNOWN:
		case MEMBER_DEAD:
			/* relayed fresh news of it counts: others hear it directly */
			if (age <= suspect_ms / 2) {
				set_state(n, p, MEMBER_ALIVE, now);
				break;
			}
			/* fall through */
		case MEMBER_LEFT:
			if (now - p->last_probe_ms >= DEAD_PROBE_INTERVAL_MS)
				probe(n, p, now);
			break;
		}

		/* autodiscovery: forget nodes that stopped announcing and are gone */
		if (n->cfg.discover && p->state != MEMBER_ALIVE && p->disc_seen_ms &&
			now - p->disc_seen_ms > DISC_FORGET_MS) {
			char ip[INET_ADDRSTRLEN];

			pr_info("openMosix #%u (%s) vanished: removed from the map", p->id,
				ip_str(p->addr, ip));
			if (map_remove_node(n->map, p->id) == 0) {
				if (gossip_remove_node(n->gossip, p->id))
					pr_debug("node %u: not in the information vector", p->id);
				memset(p, 0, sizeof(*p));
				n->npeers--;
			}
		}
	}
}
