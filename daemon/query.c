/* query: the one model of the node and the cluster that every view reads
 * (mosctl status --json, whois, getload..., later mosmon, mps and the hpc
 * tree), so that no two views can disagree. */
#include "daemon/query.h"
#include "daemon/balancer.h"
#include "daemon/node.h"
#include "daemon/procs.h"
#include "gossip/gossip.h"
#include "lib/util.h"
#include "map/map.h"
#include "proto/msg.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#define OM_VERSION_STRING "openMosix (user space) 0.1"

const char *query_version(void)
{
	return OM_VERSION_STRING;
}

static json_t *ip_json(uint32_t addr)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = htonl(addr) };

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	return json_string(ip);
}

json_t *query_status_bits(uint16_t s)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} names[] = {
		{ NODE_CONF, "configured" }, { NODE_UP, "up" }, { NODE_STAY, "stay" },
		{ NODE_LSTAY, "lstay" }, { NODE_BLOCK, "block" }, { NODE_QUIET, "quiet" },
		{ NODE_NOMFS, "nomfs" }, { NODE_EXPEL, "expel" }, { NODE_BRING, "bring" },
	};
	json_t *a = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (s & names[i].bit)
			json_array_append_new(a, json_string(names[i].name));
	return a;
}

static json_t *info_json(const struct om_load_info *in, bool quiet_unknown)
{
	json_t *o = json_object();

	json_object_set_new(o, "status_bits", json_integer(in->status));
	json_object_set_new(o, "status", query_status_bits(in->status));
	if (quiet_unknown && (in->status & NODE_QUIET))
		return o; /* a quiet node advertises no load */
	json_object_set_new(o, "load", json_real(in->load / 100.0));
	json_object_set_new(o, "speed", json_integer(in->speed));
	json_object_set_new(o, "ncpus", json_integer(in->ncpus));
	json_object_set_new(o, "capacity", json_real(in->capacity / 100.0));
	json_object_set_new(o, "util", json_integer(in->util));
	json_object_set_new(o, "tmem", json_integer((json_int_t)in->tmem));
	json_object_set_new(o, "mem", json_integer((json_int_t)in->mem));
	json_object_set_new(o, "rmem", json_integer((json_int_t)in->rmem));
	return o;
}

static json_t *admin_json(const struct node *n)
{
	const struct admin_state *a = &n->admin;

	return json_pack("{s:b,s:b,s:b,s:b,s:b,s:i,s:f,s:i,s:i,s:i}", "stay", a->stay, "lstay",
		a->lstay, "block", a->block, "quiet", a->quiet, "nomfs", a->nomfs, "speed",
		(json_int_t)a->speed, "yard", a->yard, "decay_interval",
		(json_int_t)a->decay_interval, "slow_decay", (json_int_t)a->slow_decay,
		"fast_decay", (json_int_t)a->fast_decay);
}

json_t *query_status(struct node *n)
{
	uint64_t now = now_ms();
	json_t *root = json_object(), *self = json_object(), *nodes = json_array();
	struct om_load_info me;
	char src[320];

	selfload_fill(n, &me);
	json_object_set_new(root, "version", json_string(OM_VERSION_STRING));
	json_object_set_new(self, "id", json_integer(n->self_id));
	json_object_set_new(self, "addr", ip_json(n->self_addr));
	json_object_set_new(self, "up", json_boolean(!n->off));
	json_object_set_new(self, "pid", json_integer(getpid()));
	json_object_set_new(self, "incarnation", json_integer((json_int_t)n->incarnation));
	json_object_set_new(self, "uptime_ms", json_integer((json_int_t)(now - n->started_ms)));
	json_object_set_new(self, "mode", json_string(n->cfg.discover ? "autodiscovery" : "map"));
	json_object_set_new(self, "map_source", json_string(n->map_source));
	json_object_set_new(self, "key_path", json_string(n->cfg.key_path));
	snprintf(src, sizeof(src), "%s%s", n->cfg.cgroup ? "cgroup:" : "host",
		n->cfg.cgroup ? n->cfg.cgroup : "");
	json_object_set_new(self, "load_source", json_string(src));
	json_object_set_new(self, "configured", json_integer(n->npeers + 1));
	json_object_set_new(self, "admin", admin_json(n));
	json_object_set_new(self, "tune",
		json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "info_interval_ms",
			(json_int_t)n->cfg.info_interval_ms, "suspect_ms",
			(json_int_t)members_expected_age_ms(n), "info_port",
			(json_int_t)n->cfg.info_port, "mig_port", (json_int_t)n->cfg.mig_port,
			"disc_port", (json_int_t)n->cfg.disc_port, "window",
			(json_int_t)PROTO_INFO_MAX_ENTRIES));
	json_object_update(self, info_json(&me, false));
	json_object_set_new(root, "self", self);

	/* every node of the map, ascending id, ourselves included */
	size_t count = n->map ? map_node_count(n->map) : 0;
	bool self_listed = false;

	for (size_t i = 0; i <= count; i++) {
		uint16_t id;
		uint32_t addr;
		json_t *o;

		if (i == count) {
			if (self_listed)
				break;
			id = n->self_id; /* autodiscovery before the map has us */
			addr = n->self_addr;
		} else if (map_node_at(n->map, i, &id, &addr)) {
			continue;
		}
		if (id == n->self_id) {
			self_listed = true;
			o = info_json(&me, false);
			json_object_set_new(o, "id", json_integer(id));
			json_object_set_new(o, "addr", ip_json(addr));
			json_object_set_new(o, "self", json_true());
			json_object_set_new(o, "state", json_string(n->off ? "off" : "alive"));
			json_object_set_new(o, "age_ms", json_integer(0));
			json_array_append_new(nodes, o);
			continue;
		}
		const struct peer *p = &n->peers[id];
		uint64_t age = 0;
		const struct om_load_info *in = gossip_get(n->gossip, id, now, &age);

		o = in ? info_json(in, true) : json_object();
		json_object_set_new(o, "id", json_integer(id));
		json_object_set_new(o, "addr", ip_json(addr));
		json_object_set_new(o, "self", json_false());
		json_object_set_new(o, "state",
			json_string(member_state_name(p->used ? p->state : MEMBER_UNKNOWN)));
		if (in)
			json_object_set_new(o, "age_ms", json_integer((json_int_t)age));
		json_array_append_new(nodes, o);
	}
	json_object_set_new(root, "nodes", nodes);

	/* guests: processes of other nodes running here */
	json_t *ga = json_array();
	const struct om_guest *g;

	for (size_t i = 0; (g = guests_at(i)); i++)
		json_array_append_new(ga, json_pack("{s:i,s:i,s:i,s:s,s:i,s:I}", "home",
			(json_int_t)g->home_id, "home_pid", (json_int_t)g->home_pid, "uid",
			(json_int_t)g->uid, "comm", g->comm, "server_pid", (json_int_t)g->remote,
			"age_ms", (json_int_t)(now - g->since_ms)));
	json_object_set_new(root, "guests", ga);

	const struct counters *c = &n->cnt;
	json_object_set_new(root, "counters",
		json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "tx",
			(json_int_t)c->tx, "rx", (json_int_t)c->rx, "rx_info_entries",
			(json_int_t)c->rx_info_entries, "bad_mac", (json_int_t)c->bad_mac,
			"replayed", (json_int_t)c->replayed, "stale_time", (json_int_t)c->stale_time,
			"garbage", (json_int_t)c->garbage, "foreign_version",
			(json_int_t)c->foreign_version, "unknown_sender",
			(json_int_t)c->unknown_sender, "probes_sent", (json_int_t)c->probes_sent,
			"acks_rcvd", (json_int_t)c->acks_rcvd, "ctl_requests",
			(json_int_t)c->ctl_requests, "ctl_denied", (json_int_t)c->ctl_denied,
			"link_accepted", (json_int_t)c->link_accepted, "link_auth_failed",
			(json_int_t)c->link_auth_failed));

	uint64_t started, failed;

	balancer_counters(&started, &failed);
	json_object_set_new(root, "balancer", json_pack("{s:s,s:I,s:I,s:f}", "policy",
		balancer_policy(), "moves_started", (json_int_t)started, "moves_failed",
		(json_int_t)failed, "link_mb_s", procs_link_mb_s()));
	return root;
}
