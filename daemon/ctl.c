/* ctl: the control socket DIR/omd.sock for the tools.
 *
 * Protocol: one JSON object per line each way ({"cmd":"status"} ->
 * {"ok":true,...} or {"ok":false,"errno":-13,"error":"..."}). The socket is
 * world-accessible: anyone may read, only root (SO_PEERCRED uid 0) may
 * change anything. Reading a request, parsing it and executing it are
 * separate steps; a malformed request gets an error reply, never a crash.
 */
#include "daemon/care.h"
#include "daemon/balancer.h"
#include "daemon/node.h"
#include "daemon/query.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"
#include "map/map.h"
#include "daemon/procs.h"
#include "gossip/gossip.h"
#include "ckpt/image.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_REQUEST (1 << 20)
#define CTL_MAX_CLIENTS 64

struct ctl_client {
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool pending; /* waiting for a migration's outcome */
	struct ctl_batch *batch; /* bring: several at once */
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	struct node *n;
};

static unsigned nclients;

/* bring: every process of ours that runs away comes home; the reply
 * comes once all are back (or failed) */
struct ctl_batch {
	struct ctl_client *c;
	unsigned remaining, moved, failed;
	char why[256];
};

typedef json_t *(*ctl_fn)(struct ctl_client *c, json_t *req, int *err, char *msg, size_t msgcap);

/* a reply that comes later (ctl_reply_later) */
static json_t ctl_pending_marker;
#define CTL_PENDING (&ctl_pending_marker)
static void ctl_send_reply(struct ctl_client *c, json_t *resp);

static json_t *reply_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *do_status(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	json_t *s = query_status(n);

	json_object_set_new(s, "ok", json_true());
	return s;
}

static json_t *do_map(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	char *buf = malloc(1 << 20);
	int len;
	json_t *r;

	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	len = n->map ? map_format(n->map, buf, 1 << 20) : 0;
	if (len < 0) {
		*err = len;
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	r = json_pack("{s:b,s:s,s:s,s:i}", "ok", 1, "map", buf, "source", n->map_source,
		"self_id", (json_int_t)n->self_id);
	if (n->map && json_is_object(r)) {
		len = map_format_showmap(n->map, n->self_id, buf, 1 << 20);
		if (len >= 0) {
			buf[len] = '\0';
			json_object_set_new(r, "showmap", json_string(buf));
		}
	}
	free(buf);
	return r;
}

static json_t *do_set(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	const char *key = json_string_value(json_object_get(req, "key"));
	json_t *v = json_object_get(req, "value");
	struct admin_state *a = &n->admin;
	bool *flag = NULL;

	if (!key || !json_is_boolean(v)) {
		*err = -EINVAL;
		snprintf(msg, cap, "set needs a key and a boolean value");
		return NULL;
	}
	if (!strcmp(key, "stay"))
		flag = &a->stay;
	else if (!strcmp(key, "lstay"))
		flag = &a->lstay;
	else if (!strcmp(key, "block"))
		flag = &a->block;
	else if (!strcmp(key, "quiet"))
		flag = &a->quiet;
	else if (!strcmp(key, "nomfs"))
		flag = &a->nomfs;
	if (!flag) {
		*err = -EINVAL;
		snprintf(msg, cap, "unknown setting \"%s\"", key);
		return NULL;
	}
	*flag = json_is_true(v);
	pr_info("admin: %s%s", *flag ? "" : "no", key);
	*err = admin_save(n);
	return *err ? NULL : reply_ok();
}


static void batch_done(void *arg, int err, const char *why)
{
	struct ctl_batch *b = arg;

	if (err) {
		b->failed++;
		snprintf(b->why, sizeof(b->why), "%s", why && *why ? why : strerror(-err));
	} else {
		b->moved++;
	}
	if (--b->remaining)
		return;
	struct ctl_client *c = b->c;
	json_t *r = b->failed ? json_pack("{s:b,s:i,s:s,s:i}", "ok", 0, "errno", (json_int_t)-EIO,
		"error", b->why, "moved", (json_int_t)b->moved) :
		json_pack("{s:b,s:i}", "ok", 1, "moved", (json_int_t)b->moved);

	c->batch = NULL;
	free(b);
	c->pending = false;
	ctl_send_reply(c, r);
}

static json_t *bring_all(struct ctl_client *c)
{
	struct node *n = c->n;
	struct ctl_batch *b = calloc(1, sizeof(*b));
	struct om_proc *p;
	json_t *r;

	if (!b)
		return NULL;
	b->c = c;
	/* procs_bring_home only sends the request: no callback runs in here */
	for (size_t i = 0; (p = procs_at(i)); i++) {
		if (p->where == n->self_id)
			continue;
		if (procs_bring_home(n, p, batch_done, b) == 0) {
			b->remaining++;
		} else {
			b->failed++;
			snprintf(b->why, sizeof(b->why), "process %d could not be asked home", p->pid);
		}
	}
	if (b->remaining) {
		c->batch = b;
		c->pending = true;
		return CTL_PENDING;
	}
	r = b->failed ? json_pack("{s:b,s:i,s:s,s:i}", "ok", 0, "errno", (json_int_t)-EIO, "error",
		b->why, "moved", 0) : json_pack("{s:b,s:i}", "ok", 1, "moved", 0);
	free(b);
	return r;
}

static void expel_done(void *arg, int err, const char *why)
{
	struct ctl_client *c = arg;

	c->pending = false;
	ctl_send_reply(c, json_pack("{s:b}", "ok", 1));
}

/* expel: every guest goes home; the reply comes once they are gone */
static json_t *expel_all(struct ctl_client *c)
{
	int r = guests_expel(expel_done, c);

	if (r == 1)
		return json_pack("{s:b,s:i}", "ok", 1, "moved", 0);
	if (r < 0)
		return json_pack("{s:b,s:i,s:s}", "ok", 0, "errno", (json_int_t)r, "error",
			"an expel is already under way");
	c->pending = true;
	return CTL_PENDING;
}

static json_t *do_expel_bring(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	/* expel implies block, bring implies lstay (mosctl(1)) */
	if (!strcmp(cmd, "expel"))
		n->admin.block = true;
	else
		n->admin.lstay = true;
	pr_info("admin: %s (implies %s)", cmd, !strcmp(cmd, "expel") ? "block" : "lstay");
	*err = admin_save(n);
	if (*err)
		return NULL;
	if (!strcmp(cmd, "expel"))
		return expel_all(c);
	return bring_all(c);
}

static json_t *do_setspeed(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	json_t *v = json_object_get(req, "value");

	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		json_integer_value(v) > 1000000) {
		*err = -ERANGE;
		snprintf(msg, cap, "speed must be an integer from 1 to 1000000");
		return NULL;
	}
	n->admin.speed = (uint32_t)json_integer_value(v);
	pr_info("admin: speed set to %u", n->admin.speed);
	*err = admin_save(n);
	return *err ? NULL : reply_ok();
}

static json_t *do_setdecay(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	json_t *i = json_object_get(req, "interval"), *s = json_object_get(req, "slow"),
	       *f = json_object_get(req, "fast");

	if (!json_is_integer(i) || json_integer_value(i) < 1 || json_integer_value(i) > 3600 ||
		(s && (!json_is_integer(s) || json_integer_value(s) < 0 ||
			      json_integer_value(s) > 1000)) ||
		(f && (!json_is_integer(f) || json_integer_value(f) < 0 ||
			      json_integer_value(f) > 1000))) {
		*err = -ERANGE;
		snprintf(msg, cap, "decay interval must be 1..3600 seconds, slow and fast 0..1000");
		return NULL;
	}
	n->admin.decay_interval = (unsigned)json_integer_value(i);
	if (s)
		n->admin.slow_decay = (unsigned)json_integer_value(s);
	if (f)
		n->admin.fast_decay = (unsigned)json_integer_value(f);
	pr_info("admin: decay interval %u s, slow %u, fast %u", n->admin.decay_interval,
		n->admin.slow_decay, n->admin.fast_decay);
	*err = admin_save(n);
	return *err ? NULL : reply_ok();
}

static json_t *do_setyard(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	json_t *yard = json_object_get(req, "yard"), *speed = json_object_get(req, "speed");

	if (!json_is_number(yard) || json_number_value(yard) <= 0 || !json_is_integer(speed) ||
		json_integer_value(speed) < 1 || json_integer_value(speed) > 1000000) {
		*err = -EINVAL;
		snprintf(msg, cap, "setyard needs a positive yardstick and a speed");
		return NULL;
	}
	n->admin.yard = json_number_value(yard);
	n->admin.speed = (uint32_t)json_integer_value(speed);
	pr_info("admin: yardstick %.0f, speed %u", n->admin.yard, n->admin.speed);
	*err = admin_save(n);
	return *err ? NULL : reply_ok();
}

static json_t *do_setmap(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	const char *text = json_string_value(json_object_get(req, "text"));
	const char *src = json_string_value(json_object_get(req, "source"));
	struct om_map *m = NULL;

	if (!text) {
		*err = -EINVAL;
		snprintf(msg, cap, "setmap needs the map text");
		return NULL;
	}
	/* names were resolved by setpe; the daemon never blocks on DNS */
	*err = map_parse(text, strlen(text), src ? src : "(setpe)", NULL, NULL, &m, msg, cap);
	if (*err)
		return NULL;
	*err = node_set_map(n, m, src ? src : "setpe");
	if (*err) {
		if (!*msg)
			snprintf(msg, cap, "cannot apply the map: %s", strerror(-*err));
		return NULL;
	}
	return reply_ok();
}

static json_t *do_off(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	node_go_off(n);
	return reply_ok();
}

static json_t *proc_json(struct node *n, pid_t pid)
{
	struct om_proc *p = care_lookup(n, pid);
	struct ckpt_why why = { 0 };
	json_t *o;

	o = json_pack("{s:b,s:i,s:i,s:b,s:i,s:i,s:b}", "ok", 1, "pid", (json_int_t)pid, "where",
		(json_int_t)(p ? p->where : n->self_id), "under_care", p != NULL, "home",
		(json_int_t)n->self_id, "nmigs", (json_int_t)(p ? p->nmigs : 0), "lock",
		p ? p->opts.lock : 0);
	if (p) {
		json_object_set_new(o, "uid", json_integer(p->uid));
		if (p->where != n->self_id)
			json_object_set_new(o, "remote_pid", json_integer(p->remote_pid));
		json_object_set_new(o, "decay", json_string(p->opts.decay));
		/* what the balancer knows of it (measured here, or reported by
		 * the node it runs on) */
		json_object_set_new(o, "demand", json_real((double)(int)(p->demand * 1000) / 1000));
		json_object_set_new(o, "io_rate", json_real((double)(int)(p->io_rate * 10) / 10));
		json_object_set_new(o, "rss_mb", json_real((double)(int)(p->mb * 10) / 10));
		json_object_set_new(o, "parent", json_integer(p->parent));
		json_object_set_new(o, "remote_cpu_ms",
			json_integer((json_int_t)(p->remote_cpu_us / 1000)));
		json_object_set_new(o, "children_remote_cpu_ms",
			json_integer((json_int_t)(p->children_remote_cpu_us / 1000)));
		char list[4096];

		if (om_mask_format(&p->opts.mask, list, sizeof(list)) < 0)
			snprintf(list, sizeof(list), "?");
		json_object_set_new(o, "placed", json_boolean(p->placed));
		json_object_set_new(o, "migfilter", json_integer(p->opts.mask.on));
		json_object_set_new(o, "migpolicy", json_integer(p->opts.mask.allow));
		json_object_set_new(o, "mignodes", json_string(list));
	}
	if (p && procs_busy(p)) {
		json_object_set_new(o, "migrating", json_true());
	} else if (!p || p->where == n->self_id) {
		if (ckpt_check(pid, &why) == -EBUSY)
			json_object_set_new(o, "cantmove", json_string(why.words));
		else
			json_object_set_new(o, "cantmove", json_string(""));
	}
	return o;
}

static json_t *do_procs(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	json_t *a = json_array();
	struct om_proc *p;

	for (size_t i = 0; (p = procs_at(i)); i++) {
		if (kill(p->pid, 0) < 0 && errno == ESRCH && !p->deputy)
			continue;
		json_t *o = proc_json(n, p->pid);

		json_object_del(o, "ok");
		json_array_append_new(a, o);
	}
	return json_pack("{s:b,s:o}", "ok", 1, "procs", a);
}

/* The uid a request acts for: the peer's, or, for a root peer (the hpc
 * tree acting for whoever wrote a file), the "as_uid" it names. */
static uid_t req_uid(const struct ctl_client *c, json_t *req)
{
	json_t *v = json_object_get(req, "as_uid");

	if (c->uid == 0 && json_is_integer(v) && json_integer_value(v) >= 0 &&
		json_integer_value(v) <= UINT32_MAX)
		return (uid_t)json_integer_value(v);
	return c->uid;
}

static const char *const decay_hints[] = { "", "cpu", "io", "none", "slow", "fast" };

/* Apply the per-process options present in req to o: lock, decay, and the
 * cluster mask (migfilter 0|1, migpolicy 0 DENY|1 ALLOW, mignodes: a list
 * "1,3-5", a bit-list "0x5" or an array of ids). Absent keys keep their
 * value. -EINVAL with msg on a bad value. */
static int opts_from_json(json_t *req, struct om_proc_opts *o, char *msg, size_t cap)
{
	struct om_proc_opts n = *o;
	json_t *v;

	if ((v = json_object_get(req, "lock"))) {
		if (!json_is_boolean(v))
			goto bad_lock;
		n.lock = json_is_true(v);
	}
	if ((v = json_object_get(req, "decay"))) {
		const char *d = json_string_value(v);
		size_t i;

		for (i = 0; d && i < sizeof(decay_hints) / sizeof(decay_hints[0]); i++)
			if (!strcmp(d, decay_hints[i]))
				break;
		if (!d || i == sizeof(decay_hints) / sizeof(decay_hints[0])) {
			snprintf(msg, cap, "decay is one of cpu, io, none, slow, fast or \"\"");
			return -EINVAL;
		}
		snprintf(n.decay, sizeof(n.decay), "%s", d);
	}
	if ((v = json_object_get(req, "migfilter"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1) {
			snprintf(msg, cap, "migfilter is 0 (off) or 1 (on)");
			return -EINVAL;
		}
		n.mask.on = json_integer_value(v) == 1;
	}
	if ((v = json_object_get(req, "migpolicy"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1) {
			snprintf(msg, cap, "migpolicy is 0 (DENY the listed nodes) or 1 (ALLOW only them)");
			return -EINVAL;
		}
		n.mask.allow = json_integer_value(v) == 1;
	}
	if ((v = json_object_get(req, "mignodes"))) {
		struct om_mask m = n.mask;

		if (json_is_string(v)) {
			if (om_mask_parse(json_string_value(v), &m))
				goto bad_nodes;
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;

			memset(m.bits, 0, sizeof(m.bits));
			json_array_foreach(v, i, e) {
				if (!json_is_integer(e) || json_integer_value(e) < 1 ||
					json_integer_value(e) > OM_MASK_NODES)
					goto bad_nodes;
				om_mask_set(&m, (uint16_t)json_integer_value(e), true);
			}
		} else {
			goto bad_nodes;
		}
		n.mask = m;
	}
	*o = n;
	return 0;
bad_lock:
	snprintf(msg, cap, "lock is true or false");
	return -EINVAL;
bad_nodes:
	snprintf(msg, cap, "mignodes is a node list like 1,3-5 (nodes 1..%u) or a bit-list like 0x5",
		OM_MASK_NODES);
	return -EINVAL;
}

static json_t *do_adopt(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	json_t *v = json_object_get(req, "pid");
	struct om_proc_opts o = { 0 };
	pid_t pid;

	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > INT32_MAX) {
		*err = -EINVAL;
		snprintf(msg, cap, "adopt needs a process id");
		return NULL;
	}
	pid = (pid_t)json_integer_value(v);
	/* a process puts itself under care (mosrun); root may name any */
	if (pid != c->pid && c->uid != 0) {
		*err = -EPERM;
		snprintf(msg, cap, "a process may only put itself under the cluster's care");
		return NULL;
	}
	*err = opts_from_json(req, &o, msg, cap);
	if (*err)
		return NULL;
	v = json_object_get(req, "start");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		json_integer_value(v) > OM_MAX_NODE_ID)) {
		*err = -EINVAL;
		snprintf(msg, cap, "start is a node id");
		return NULL;
	}
	*err = procs_adopt(c->n, pid, c->uid, c->gid, &o);
	if (*err) {
		snprintf(msg, cap, "too many processes under care");
		return NULL;
	}
	/* mosrun -ID: it leaves for that node once it has exec'd the program */
	if (v && json_integer_value(v) != c->n->self_id)
		procs_set_start(procs_find(pid), (uint16_t)json_integer_value(v));
	return reply_ok();
}

/* find pid under care and check that the requester may steer it */
static struct om_proc *steerable(struct ctl_client *c, json_t *req, const char *what, int *err,
	char *msg, size_t cap)
{
	json_t *v = json_object_get(req, "pid");
	struct om_proc *p;
	pid_t pid;

	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > INT32_MAX) {
		*err = -EINVAL;
		snprintf(msg, cap, "%s needs a process id", what);
		return NULL;
	}
	pid = (pid_t)json_integer_value(v);
	p = care_lookup(c->n, pid);
	if (kill(pid, 0) < 0 && errno == ESRCH && !(p && p->where != c->n->self_id)) {
		*err = -ESRCH;
		snprintf(msg, cap, "no such process: %d", (int)pid);
		return NULL;
	}
	if (!p) {
		*err = -EINVAL;
		snprintf(msg, cap, "process %d is not under the cluster's care (start it with mosrun)",
			(int)pid);
		return NULL;
	}
	if (req_uid(c, req) != 0 && req_uid(c, req) != p->uid) {
		*err = -EPERM;
		snprintf(msg, cap, "process %d is not yours", (int)pid);
		return NULL;
	}
	return p;
}

/* setproc: change a process's lock, decay hint or cluster mask */
static json_t *do_setproc(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct om_proc *p = steerable(c, req, "setproc", err, msg, cap);

	if (!p)
		return NULL;
	*err = opts_from_json(req, &p->opts, msg, cap);
	if (*err)
		return NULL;
	if (json_is_false(json_object_get(req, "lock")))
		p->placed = false; /* unlock: the balancer may move it again */
	return reply_ok();
}

static void migrate_done(void *arg, int err, const char *why)
{
	struct ctl_client *c = arg;
	json_t *r;

	c->pending = false;
	if (err)
		r = json_pack("{s:b,s:i,s:s}", "ok", 0, "errno", (json_int_t)err, "error",
			why && *why ? why : strerror(-err));
	else
		r = reply_ok();
	ctl_send_reply(c, r);
}

static json_t *do_migrate(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	json_t *t = json_object_get(req, "target");
	struct om_proc *p = steerable(c, req, "migrate", err, msg, cap);
	uint16_t target;
	uint32_t addr;
	pid_t pid;

	if (!p)
		return NULL;
	pid = p->pid;
	if (json_is_string(t) && !strcmp(json_string_value(t), "home")) {
		target = n->self_id;
	} else if (json_is_string(t) && !strcmp(json_string_value(t), "balance")) {
		target = balancer_best_node(n, p);
	} else if (json_is_integer(t) && json_integer_value(t) >= 1 &&
		json_integer_value(t) <= OM_MAX_NODE_ID) {
		target = (uint16_t)json_integer_value(t);
	} else {
		*err = -EINVAL;
		snprintf(msg, cap, "the target is a node id, \"home\" or \"balance\"");
		return NULL;
	}
	/* placed by hand: the balancer leaves it there; "balance" hands it back */
	p->placed = !(json_is_string(t) && !strcmp(json_string_value(t), "balance"));
	if (target == p->where)
		return json_pack("{s:b,s:i,s:b}", "ok", 1, "where", (json_int_t)target, "moved", 0);
	if (!om_mask_permits(&p->opts.mask, target, n->self_id)) {
		*err = -EPERM;
		snprintf(msg, cap, "node %u is outside process %d's cluster mask", target, (int)pid);
		return NULL;
	}
	if (target == n->self_id) {
		*err = procs_move(n, p, target, 0, migrate_done, c);
		if (*err) {
			snprintf(msg, cap, "%s", *err == -EALREADY ? "a migration of this process is "
				"under way" : "its deputy is gone");
			return NULL;
		}
		c->pending = true;
		return CTL_PENDING;
	}
	if (map_addr_of(n->map, target, &addr)) {
		*err = -ENOENT;
		snprintf(msg, cap, "node %u is not in the cluster's map", target);
		return NULL;
	}
	const struct peer *peer = members_get(n, target);
	uint64_t age;
	const struct om_load_info *in = gossip_get(n->gossip, target, now_ms(), &age);

	/* gossip may lag (a suspect, or dead a moment ago under load): only a
	 * node that is known gone is refused here; the connection decides */
	if (!peer || peer->state == MEMBER_LEFT ||
		(peer->state == MEMBER_DEAD && now_ms() - peer->state_since_ms > 5000)) {
		*err = -EHOSTDOWN;
		snprintf(msg, cap, "node %u is down", target);
		return NULL;
	}
	if (in && (in->status & NODE_BLOCK)) {
		*err = -EPERM;
		snprintf(msg, cap, "node %u blocks guest processes", target);
		return NULL;
	}
	*err = procs_move(n, p, target, addr, migrate_done, c);
	if (*err) {
		snprintf(msg, cap, "%s", *err == -EALREADY ? "a migration of this process is under way" :
			"cannot start the migration");
		return NULL;
	}
	c->pending = true;
	return CTL_PENDING;
}

static json_t *do_where(struct ctl_client *c, json_t *req, int *err, char *msg, size_t cap)
{
	struct node *n = c->n;
	json_t *v = json_object_get(req, "pid");
	pid_t pid;

	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
		json_integer_value(v) > INT32_MAX) {
		*err = -EINVAL;
		snprintf(msg, cap, "where needs a process id");
		return NULL;
	}
	pid = (pid_t)json_integer_value(v);
	if (kill(pid, 0) < 0 && errno == ESRCH) {
		*err = -ESRCH;
		snprintf(msg, cap, "no such process: %d", (int)pid);
		return NULL;
	}
	return proc_json(n, pid);
}

static const struct ctl_cmd {
	const char *name;
	bool root;
	ctl_fn fn;
} cmds[] = {
	{ "status", false, do_status },
	{ "map", false, do_map },
	{ "where", false, do_where },
	{ "procs", false, do_procs },
	{ "adopt", false, do_adopt },
	{ "migrate", false, do_migrate },
	{ "setproc", false, do_setproc },
	{ "set", true, do_set },
	{ "expel", true, do_expel_bring },
	{ "bring", true, do_expel_bring },
	{ "setspeed", true, do_setspeed },
	{ "setdecay", true, do_setdecay },
	{ "setyard", true, do_setyard },
	{ "setmap", true, do_setmap },
	{ "off", true, do_off },
};

static void client_free(struct ctl_client *c)
{
	if (c->pending) {
		procs_cancel_waiters(c);
		guests_cancel_waiter(c);
	}
	if (c->batch) {
		procs_cancel_waiters(c->batch);
		free(c->batch);
	}
	ev_fd_del(c->n->loop, c->fd);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	nclients--;
}

static json_t *execute(struct ctl_client *c, const char *line)
{
	struct node *n = c->n;
	char msg[512] = "";
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr), *resp = NULL;
	const char *name;
	int err = 0;

	n->cnt.ctl_requests++;
	if (!json_is_object(req)) {
		snprintf(msg, sizeof(msg), "malformed request: %s", req ? "not an object" : jerr.text);
		err = -EBADMSG;
		goto out;
	}
	name = json_string_value(json_object_get(req, "cmd"));
	for (size_t i = 0; name && i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(cmds[i].name, name))
			continue;
		if (cmds[i].root && c->uid != 0) {
			n->cnt.ctl_denied++;
			err = -EPERM;
			snprintf(msg, sizeof(msg), "permission denied: only root may change the "
				"node's configuration");
			goto out;
		}
		resp = cmds[i].fn(c, req, &err, msg, sizeof(msg));
		goto out;
	}
	err = -EINVAL;
	snprintf(msg, sizeof(msg), "unknown request \"%s\"", name ? name : "(none)");
out:
	json_decref(req);
	if (!resp) {
		if (!err)
			err = -EIO;
		resp = json_pack("{s:b,s:i,s:s}", "ok", 0, "errno", (json_int_t)err, "error",
			*msg ? msg : strerror(-err));
	}
	return resp;
}

static void client_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg);

static void ctl_send_reply(struct ctl_client *c, json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT);

	json_decref(resp);
	c->pending = false;
	if (!text) {
		client_free(c);
		return;
	}
	c->out_len = strlen(text) + 1;
	c->out = text;
	c->out[c->out_len - 1] = '\n';
	if (ev_fd_mod(c->n->loop, c->fd, EPOLLOUT)) {
		client_free(c);
		return;
	}
	client_ready(c->n->loop, c->fd, EPOLLOUT, c);
}

static void client_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_client *c = arg;

	if (c->pending) {
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			client_free(c); /* the client gave up waiting */
		return;
	}

	if (c->out) { /* writing the reply */
		while (c->out_off < c->out_len) {
			ssize_t w = send(fd, c->out + c->out_off, c->out_len - c->out_off,
				MSG_DONTWAIT | MSG_NOSIGNAL);

			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				break;
			}
			c->out_off += (size_t)w;
		}
		client_free(c);
		return;
	}
	for (;;) {
		if (c->in_cap - c->in_len < 4096) {
			size_t ncap = c->in_cap ? c->in_cap * 2 : 8192;
			char *p;

			if (ncap > CTL_MAX_REQUEST) {
				pr_warn("control request from pid %d too large: dropped", (int)c->pid);
				client_free(c);
				return;
			}
			p = realloc(c->in, ncap);
			if (!p) {
				client_free(c);
				return;
			}
			c->in = p;
			c->in_cap = ncap;
		}
		ssize_t r = recv(fd, c->in + c->in_len, c->in_cap - c->in_len - 1, MSG_DONTWAIT);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			client_free(c);
			return;
		}
		c->in_len += (size_t)r;
		c->in[c->in_len] = '\0';
		char *nl = memchr(c->in, '\n', c->in_len);

		if (!nl)
			continue;
		*nl = '\0';
		json_t *resp = execute(c, c->in);

		if (resp == CTL_PENDING) {
			/* stop reading; the reply comes with the outcome */
			if (ev_fd_mod(loop, fd, EPOLLRDHUP))
				client_free(c);
			return;
		}
		ctl_send_reply(c, resp);
		return;
	}
}

static void ctl_accept(struct ev_loop *loop, int lfd, uint32_t events, void *arg)
{
	struct node *n = arg;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		struct ctl_client *c;

		if (fd < 0)
			return;
		if (nclients >= CTL_MAX_CLIENTS ||
			getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		c->n = n;
		if (ev_fd_add(loop, fd, EPOLLIN, client_ready, c)) {
			close(fd);
			free(c);
			continue;
		}
		nclients++;
	}
}

int ctl_open(struct node *n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (xsnprintf(sa.sun_path, sizeof(sa.sun_path), "%s/omd.sock", n->cfg.dir)) {
		pr_err("state directory path too long for a socket: %s", n->cfg.dir);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0666) < 0 ||
		listen(fd, 64) < 0) {
		err = -errno;
		pr_err("cannot create the control socket %s: %s", sa.sun_path, strerror(-err));
		close(fd);
		return err;
	}
	err = ev_fd_add(n->loop, fd, EPOLLIN, ctl_accept, n);
	if (err) {
		close(fd);
		return err;
	}
	n->ctl_fd = fd;
	return 0;
}

void ctl_close(struct node *n)
{
	char path[PATH_MAX];

	if (n->ctl_fd < 0)
		return;
	ev_fd_del(n->loop, n->ctl_fd);
	close(n->ctl_fd);
	n->ctl_fd = -1;
	if (!xsnprintf(path, sizeof(path), "%s/omd.sock", n->cfg.dir))
		unlink(path);
}
