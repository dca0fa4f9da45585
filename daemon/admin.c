/* admin: the node's knobs (HOWTO chapter 8: stay, lstay, block, quiet,
 * nomfs, speed, decay), kept in DIR/state.json across restarts. */
#include "daemon/node.h"
#include "lib/log.h"
#include "lib/util.h"
#include "load/yard.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>

void admin_defaults(struct admin_state *a)
{
	memset(a, 0, sizeof(*a));
	a->speed = OM_STD_SPEED;
	a->yard = LOAD_DEFAULT_YARD;
	a->decay_interval = 1;
	a->slow_decay = 975;
	a->fast_decay = 926;
}

static void get_bool(json_t *o, const char *k, bool *v)
{
	json_t *j = json_object_get(o, k);

	if (json_is_boolean(j))
		*v = json_is_true(j);
}

static void get_uint(json_t *o, const char *k, unsigned lo, unsigned hi, unsigned *v)
{
	json_t *j = json_object_get(o, k);

	if (json_is_integer(j) && json_integer_value(j) >= lo && json_integer_value(j) <= hi)
		*v = (unsigned)json_integer_value(j);
}

int admin_load(struct node *n)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *o;
	unsigned speed;

	if (xsnprintf(path, sizeof(path), "%s/state.json", n->cfg.dir))
		return -ENAMETOOLONG;
	o = json_load_file(path, 0, &jerr);
	if (!o) {
		if (jerr.line == -1 && strstr(jerr.text, "No such file"))
			return 0; /* first start */
		pr_warn("%s:%d: ignoring unreadable admin state: %s", path, jerr.line, jerr.text);
		return 0;
	}
	if (!json_is_object(o)) {
		pr_warn("%s: ignoring admin state: not a JSON object", path);
		json_decref(o);
		return 0;
	}
	get_bool(o, "stay", &n->admin.stay);
	get_bool(o, "lstay", &n->admin.lstay);
	get_bool(o, "block", &n->admin.block);
	get_bool(o, "quiet", &n->admin.quiet);
	get_bool(o, "nomfs", &n->admin.nomfs);
	speed = n->admin.speed;
	get_uint(o, "speed", 1, 1000000, &speed);
	n->admin.speed = speed;
	get_uint(o, "decay_interval", 1, 3600, &n->admin.decay_interval);
	get_uint(o, "slow_decay", 0, 1000, &n->admin.slow_decay);
	get_uint(o, "fast_decay", 0, 1000, &n->admin.fast_decay);
	json_t *y = json_object_get(o, "yard");
	if (json_is_number(y) && json_number_value(y) > 0)
		n->admin.yard = json_number_value(y);
	json_decref(o);
	pr_info("admin state restored from %s", path);
	return 0;
}

int admin_save(const struct node *n)
{
	char path[PATH_MAX];
	const struct admin_state *a = &n->admin;
	json_t *o;
	char *text;
	int err;

	if (xsnprintf(path, sizeof(path), "%s/state.json", n->cfg.dir))
		return -ENAMETOOLONG;
	o = json_pack("{s:b,s:b,s:b,s:b,s:b,s:i,s:f,s:i,s:i,s:i}", "stay", a->stay, "lstay",
		a->lstay, "block", a->block, "quiet", a->quiet, "nomfs", a->nomfs, "speed",
		(json_int_t)a->speed, "yard", a->yard, "decay_interval",
		(json_int_t)a->decay_interval, "slow_decay", (json_int_t)a->slow_decay,
		"fast_decay", (json_int_t)a->fast_decay);
	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!text)
		return -ENOMEM;
	err = write_file_atomic(path, text, strlen(text), 0644);
	free(text);
	if (err)
		pr_err("cannot save admin state to %s: %s", path, strerror(-err));
	return err;
}

uint16_t admin_status_bits(const struct node *n)
{
	const struct admin_state *a = &n->admin;
	uint16_t s = NODE_CONF;

	if (!n->off)
		s |= NODE_UP;
	if (a->stay)
		s |= NODE_STAY;
	if (a->lstay)
		s |= NODE_LSTAY;
	if (a->block)
		s |= NODE_BLOCK;
	if (a->quiet)
		s |= NODE_QUIET;
	if (a->nomfs)
		s |= NODE_NOMFS;
	return s;
}
