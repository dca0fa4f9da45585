/* hpctree: /proc/hpc's layout over the daemon's JSON model (see hpctree.h). */
#include "fs/hpctree.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct hpct_file admin_files[] = {
	{ "block", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "bring", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "config", HPCT_ROOTONLY, HPCT_SRC_MAP, true },
	{ "decay-interval", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "expel", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "fast-decay", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "lstay", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "mospe", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "nomfs", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "quiet", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "slow-decay", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "speed", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "stay", HPCT_ROOTONLY, HPCT_SRC_STATUS, false },
	{ "version", HPCT_RO, HPCT_SRC_STATUS, false },
};

static const struct hpct_file node_files[] = {
	{ "CPUs", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "load", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "mem", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "rmem", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "speed", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "status", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "tmem", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "util", HPCT_RO, HPCT_SRC_STATUS, false },
};

/* decay/NAME: the decay hint it sets ("clear" = none given) */
static const struct hpct_file decay_files[] = {
	{ "clear", HPCT_SELF, HPCT_SRC_WHERE, false },
	{ "cpujob", HPCT_SELF, HPCT_SRC_WHERE, false },
	{ "fast", HPCT_SELF, HPCT_SRC_WHERE, false },
	{ "iojob", HPCT_SELF, HPCT_SRC_WHERE, false },
	{ "slow", HPCT_SELF, HPCT_SRC_WHERE, false },
};
static const char *const decay_hint[] = { "", "cpu", "fast", "io", "slow" };

static const struct hpct_file proc_files[] = {
	{ "cantmove", HPCT_RO, HPCT_SRC_WHERE, false },
	{ "goto", HPCT_OWNER, HPCT_SRC_WHERE, false },
	{ "lock", HPCT_OWNER, HPCT_SRC_WHERE, false },
	{ "migfilter", HPCT_OWNER, HPCT_SRC_WHERE, false },
	{ "mignodes", HPCT_OWNER, HPCT_SRC_WHERE, false },
	{ "migpolicy", HPCT_OWNER, HPCT_SRC_WHERE, false },
	{ "nmigs", HPCT_RO, HPCT_SRC_WHERE, false },
	{ "where", HPCT_RO, HPCT_SRC_WHERE, false },
};

static const struct hpct_file remote_files[] = {
	{ "from", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "identity", HPCT_RO, HPCT_SRC_STATUS, false },
	{ "statm", HPCT_RO, HPCT_SRC_PROCFS, false },
	{ "stats", HPCT_RO, HPCT_SRC_PROCFS, false },
};

static const struct {
	enum hpct_dir dir;
	const struct hpct_file *files;
	size_t n;
} dir_files[] = {
	{ HPCT_ADMIN, admin_files, ARRAY_SIZE(admin_files) },
	{ HPCT_NODE, node_files, ARRAY_SIZE(node_files) },
	{ HPCT_DECAY, decay_files, ARRAY_SIZE(decay_files) },
	{ HPCT_PROC, proc_files, ARRAY_SIZE(proc_files) },
	{ HPCT_REMOTE, remote_files, ARRAY_SIZE(remote_files) },
};

static const struct hpct_file *files_of(enum hpct_dir d, size_t *n)
{
	for (size_t i = 0; i < ARRAY_SIZE(dir_files); i++)
		if (dir_files[i].dir == d) {
			*n = dir_files[i].n;
			return dir_files[i].files;
		}
	*n = 0;
	return NULL;
}

static const struct hpct_file *find_file(enum hpct_dir d, const char *name, size_t len)
{
	size_t n;
	const struct hpct_file *f = files_of(d, &n);

	for (size_t i = 0; i < n; i++)
		if (strlen(f[i].name) == len && !memcmp(f[i].name, name, len))
			return &f[i];
	return NULL;
}

/* a decimal id without sign or leading zeros */
static bool parse_id(const char *s, size_t len, long max, long *out)
{
	long v = 0;

	if (!len || len > 10 || (s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > max)
		return false;
	*out = v;
	return true;
}

int hpct_parse(const char *path, struct hpct_path *out)
{
	const char *comp[4];
	size_t clen[4], nc = 0;
	const char *p = path;

	memset(out, 0, sizeof(*out));
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (nc == ARRAY_SIZE(comp))
			return -ENOENT;
		comp[nc] = p;
		while (*p && *p != '/')
			p++;
		clen[nc] = (size_t)(p - comp[nc]);
		nc++;
	}
	out->dir = HPCT_ROOT;
	if (nc == 0)
		return 0;
#define IS(k, s) (clen[k] == strlen(s) && !memcmp(comp[k], s, clen[k]))
	if (IS(0, "admin") || IS(0, "decay")) {
		out->dir = IS(0, "admin") ? HPCT_ADMIN : HPCT_DECAY;
		if (nc == 1)
			return 0;
		if (nc > 2 || !(out->file = find_file(out->dir, comp[1], clen[1])))
			return -ENOENT;
		return 0;
	}
	if (IS(0, "nodes") || IS(0, "proc") || IS(0, "remote")) {
		bool nodes = IS(0, "nodes"), proc = IS(0, "proc");

		out->dir = nodes ? HPCT_NODES : proc ? HPCT_PROCS : HPCT_REMOTES;
		if (nc == 1)
			return 0;
		if (proc && IS(1, "self")) {
			if (nc > 2)
				return -ENOENT; /* the kernel follows the link itself */
			out->self_link = true;
			return 0;
		}
		if (!parse_id(comp[1], clen[1], nodes ? 65535 : 0x3fffffff, &out->id))
			return -ENOENT;
		out->dir = nodes ? HPCT_NODE : proc ? HPCT_PROC : HPCT_REMOTE;
		if (nc == 2)
			return 0;
		if (nc > 3 || !(out->file = find_file(out->dir, comp[2], clen[2])))
			return -ENOENT;
		return 0;
	}
#undef IS
	return -ENOENT;
}

static json_t *find_node(json_t *status, long id)
{
	json_t *n;
	size_t i;

	json_array_foreach(json_object_get(status, "nodes"), i, n)
		if (json_integer_value(json_object_get(n, "id")) == id)
			return n;
	return NULL;
}

json_t *hpct_guest(json_t *status, long pid)
{
	json_t *g;
	size_t i;

	json_array_foreach(json_object_get(status, "guests"), i, g)
		if (json_integer_value(json_object_get(g, "pid")) == pid)
			return g;
	return NULL;
}

bool hpct_exists(const struct hpct_path *p, const struct hpct_model *m)
{
	switch (p->dir) {
	case HPCT_NODE:
		return find_node(m->status, p->id) != NULL;
	case HPCT_PROC:
		return json_is_true(json_object_get(m->where, "ok"));
	case HPCT_REMOTE:
		return hpct_guest(m->status, p->id) != NULL;
	default:
		return true;
	}
}

unsigned hpct_mode(const struct hpct_file *f)
{
	switch (f->perm) {
	case HPCT_RO:
		return 0444;
	case HPCT_SELF:
		return 0666;
	default:
		return 0644;
	}
}

void hpct_list(const struct hpct_path *p, const struct hpct_model *m,
	void (*add)(void *arg, const char *name, bool is_dir), void *arg)
{
	char name[32];
	json_t *o;
	size_t i, n;
	const struct hpct_file *f;

	switch (p->dir) {
	case HPCT_ROOT:
		add(arg, "admin", true);
		add(arg, "decay", true);
		add(arg, "nodes", true);
		add(arg, "proc", true);
		add(arg, "remote", true);
		return;
	case HPCT_NODES:
		json_array_foreach(json_object_get(m->status, "nodes"), i, o) {
			snprintf(name, sizeof(name), "%lld",
				(long long)json_integer_value(json_object_get(o, "id")));
			add(arg, name, true);
		}
		return;
	case HPCT_PROCS:
		add(arg, "self", false);
		json_array_foreach(json_object_get(m->procs, "procs"), i, o) {
			snprintf(name, sizeof(name), "%lld",
				(long long)json_integer_value(json_object_get(o, "pid")));
			add(arg, name, true);
		}
		return;
	case HPCT_REMOTES:
		json_array_foreach(json_object_get(m->status, "guests"), i, o) {
			snprintf(name, sizeof(name), "%lld",
				(long long)json_integer_value(json_object_get(o, "pid")));
			add(arg, name, true);
		}
		return;
	default:
		f = files_of(p->dir, &n);
		for (i = 0; i < n; i++)
			add(arg, f[i].name, false);
		return;
	}
}

static long jint(json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

static int put(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int put(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -EINVAL;
	return (size_t)r >= cap ? -ENOSPC : r;
}

static bool is(const struct hpct_path *p, const char *name)
{
	return !strcmp(p->file->name, name);
}

static int read_admin(const struct hpct_path *p, const struct hpct_model *m, char *buf,
	size_t cap)
{
	json_t *self = json_object_get(m->status, "self"), *a = json_object_get(self, "admin");
	static const char *const flags[] = { "block", "lstay", "nomfs", "quiet", "stay" };

	if (is(p, "config")) {
		const char *t = json_string_value(json_object_get(m->map, "map"));

		return t ? put(buf, cap, "%s", t) : -ENOENT;
	}
	if (!a)
		return -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (is(p, flags[i]))
			return put(buf, cap, "%d\n", json_is_true(json_object_get(a, flags[i])));
	if (is(p, "bring") || is(p, "expel"))
		return put(buf, cap, "0\n"); /* an action, not a state */
	if (is(p, "speed"))
		return put(buf, cap, "%ld\n", jint(a, "speed"));
	if (is(p, "decay-interval"))
		return put(buf, cap, "%ld\n", jint(a, "decay_interval"));
	if (is(p, "slow-decay"))
		return put(buf, cap, "%ld\n", jint(a, "slow_decay"));
	if (is(p, "fast-decay"))
		return put(buf, cap, "%ld\n", jint(a, "fast_decay"));
	if (is(p, "mospe"))
		return put(buf, cap, "%ld\n", json_is_true(json_object_get(self, "up")) ?
			jint(self, "id") : 0);
	if (is(p, "version")) {
		const char *v = json_string_value(json_object_get(m->status, "version"));

		return put(buf, cap, "%s\n", v ? v : "");
	}
	return -ENOENT;
}

static int read_node(const struct hpct_path *p, const struct hpct_model *m, char *buf,
	size_t cap)
{
	json_t *n = find_node(m->status, p->id), *s;
	const char *state;
	size_t i;
	int len;

	if (!n)
		return -ENOENT;
	state = json_is_true(json_object_get(n, "self")) ?
		(json_is_true(json_object_get(json_object_get(m->status, "self"), "up")) ? "alive" :
			"off") : json_string_value(json_object_get(n, "state"));
	if (is(p, "status")) {
		/* the state, then the status words of its last record, as mosctl status ID */
		len = put(buf, cap, "%s", state ? state : "unknown");
		json_array_foreach(json_object_get(n, "status"), i, s) {
			int r = len < 0 ? len : put(buf + len, cap - (size_t)len, " %s",
				json_string_value(s));

			len = r < 0 ? r : len + r;
		}
		if (len >= 0) {
			int r = put(buf + len, cap - (size_t)len, "\n");

			len = r < 0 ? r : len + r;
		}
		return len;
	}
	/* a node that is down or quiet supplies no figures: -1 */
	bool up = state && (!strcmp(state, "alive") || !strcmp(state, "suspect"));

	if (!up || !json_object_get(n, "load"))
		return put(buf, cap, "-1\n");
	if (is(p, "load"))
		return put(buf, cap, "%.2f\n", json_number_value(json_object_get(n, "load")));
	if (is(p, "CPUs"))
		return put(buf, cap, "%ld\n", jint(n, "ncpus"));
	if (is(p, "speed"))
		return put(buf, cap, "%ld\n", jint(n, "speed"));
	if (is(p, "util"))
		return put(buf, cap, "%ld\n", jint(n, "util"));
	if (is(p, "mem") || is(p, "rmem") || is(p, "tmem"))
		return put(buf, cap, "%ld\n", jint(n, p->file->name));
	return -ENOENT;
}

static int read_proc(const struct hpct_path *p, const struct hpct_model *m, char *buf,
	size_t cap)
{
	json_t *w = m->where;
	const char *s;

	if (!json_is_true(json_object_get(w, "ok")))
		return -ENOENT;
	if (is(p, "where") || is(p, "goto"))
		return put(buf, cap, "%ld\n", jint(w, "where"));
	if (is(p, "lock"))
		return put(buf, cap, "%d\n", json_is_true(json_object_get(w, "lock")));
	if (is(p, "nmigs"))
		return put(buf, cap, "%ld\n", jint(w, "nmigs"));
	if (is(p, "cantmove")) {
		s = json_string_value(json_object_get(w, "cantmove"));
		return s && *s ? put(buf, cap, "%s\n", s) : put(buf, cap, "%s", "");
	}
	if (is(p, "migfilter") || is(p, "migpolicy"))
		return put(buf, cap, "%ld\n", jint(w, p->file->name));
	if (is(p, "mignodes")) {
		s = json_string_value(json_object_get(w, "mignodes"));
		return put(buf, cap, "%s\n", s ? s : "");
	}
	return -ENOENT;
}

static int read_decay(const struct hpct_path *p, const struct hpct_model *m, char *buf,
	size_t cap)
{
	const char *d = json_string_value(json_object_get(m->where, "decay"));
	size_t i = (size_t)(p->file - decay_files);

	/* 1 if the reader's own process has this hint */
	return put(buf, cap, "%d\n", d && !strcmp(d, decay_hint[i]));
}

static int read_remote(const struct hpct_path *p, const struct hpct_model *m, char *buf,
	size_t cap)
{
	json_t *g = hpct_guest(m->status, p->id), *n;
	const char *addr, *comm;

	if (!g)
		return -ENOENT;
	if (is(p, "from")) {
		n = find_node(m->status, jint(g, "home"));
		addr = json_string_value(json_object_get(n, "addr"));
		return put(buf, cap, "%ld %s\n", jint(g, "home"), addr ? addr : "?");
	}
	if (is(p, "identity")) {
		comm = json_string_value(json_object_get(g, "comm"));
		return put(buf, cap, "node %ld pid %ld uid %ld comm %s\n", jint(g, "home"),
			jint(g, "home_pid"), jint(g, "uid"), comm ? comm : "?");
	}
	return -EINVAL;
}

int hpct_read(const struct hpct_path *p, const struct hpct_model *m, char *buf, size_t cap)
{
	if (!p->file)
		return -EISDIR;
	switch (p->dir) {
	case HPCT_ADMIN:
		return read_admin(p, m, buf, cap);
	case HPCT_NODE:
		return read_node(p, m, buf, cap);
	case HPCT_PROC:
		return read_proc(p, m, buf, cap);
	case HPCT_DECAY:
		return read_decay(p, m, buf, cap);
	case HPCT_REMOTE:
		return read_remote(p, m, buf, cap);
	default:
		return -ENOENT;
	}
}

/* the written text, without surrounding blanks; false if it does not fit */
static bool text_of(const char *data, size_t len, char *out, size_t cap)
{
	while (len && isspace((unsigned char)*data))
		data++, len--;
	while (len && isspace((unsigned char)data[len - 1]))
		len--;
	if (len >= cap || memchr(data, '\0', len))
		return false;
	memcpy(out, data, len);
	out[len] = '\0';
	return true;
}

static int bad(char *msg, size_t cap, const char *what)
{
	snprintf(msg, cap, "%s", what);
	return -EINVAL;
}

static int write_admin(const struct hpct_path *p, const struct hpct_model *m, const char *v,
	json_t **req, char *msg, size_t cap)
{
	json_t *a = json_object_get(json_object_get(m->status, "self"), "admin");
	static const char *const flags[] = { "block", "lstay", "nomfs", "quiet", "stay" };
	long x;

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (is(p, flags[i])) {
			if (strcmp(v, "0") && strcmp(v, "1"))
				return bad(msg, cap, "write 1 (on) or 0 (off)");
			*req = json_pack("{s:s,s:s,s:b}", "cmd", "set", "key", flags[i], "value",
				!strcmp(v, "1"));
			return 0;
		}
	if (is(p, "bring") || is(p, "expel")) {
		if (strcmp(v, "1") && strcmp(v, "0"))
			return bad(msg, cap, "write 1 to do it");
		if (!strcmp(v, "1"))
			*req = json_pack("{s:s}", "cmd", p->file->name);
		return 0;
	}
	if (is(p, "speed")) {
		if (parse_long(v, 1, 1000000, &x))
			return bad(msg, cap, "speed is an integer from 1 to 1000000");
		*req = json_pack("{s:s,s:I}", "cmd", "setspeed", "value", (json_int_t)x);
		return 0;
	}
	if (is(p, "decay-interval") || is(p, "slow-decay") || is(p, "fast-decay")) {
		bool iv = is(p, "decay-interval");

		if (!a)
			return -ENOENT;
		if (parse_long(v, iv ? 1 : 0, iv ? 3600 : 1000, &x))
			return bad(msg, cap, iv ? "decay-interval is 1..3600 seconds" :
				"slow-decay and fast-decay are 0..1000 (per mille kept)");
		*req = json_pack("{s:s,s:I,s:I,s:I}", "cmd", "setdecay", "interval",
			(json_int_t)(iv ? x : jint(a, "decay_interval")), "slow",
			(json_int_t)(is(p, "slow-decay") ? x : jint(a, "slow_decay")), "fast",
			(json_int_t)(is(p, "fast-decay") ? x : jint(a, "fast_decay")));
		return 0;
	}
	if (is(p, "mospe")) {
		if (strcmp(v, "0"))
			return bad(msg, cap, "only 0 may be written to mospe (leave the cluster)");
		*req = json_pack("{s:s}", "cmd", "off");
		return 0;
	}
	return -EACCES;
}

int hpct_write(const struct hpct_path *p, const struct hpct_model *m, const char *data,
	size_t len, long pid, long as_uid, json_t **req, char *msg, size_t cap)
{
	char v[256];
	long x;

	*req = NULL;
	if (!p->file)
		return -EISDIR;
	if (p->file->perm == HPCT_RO)
		return -EACCES;
	if (p->dir == HPCT_ADMIN && is(p, "config")) {
		char *text = strndup(data, len);

		if (!text)
			return -ENOMEM;
		*req = json_pack("{s:s,s:s,s:s}", "cmd", "setmap", "text", text, "source",
			"hpc/admin/config");
		free(text);
		return *req ? 0 : bad(msg, cap, "the map is not valid text");
	}
	if (!text_of(data, len, v, sizeof(v)))
		return bad(msg, cap, "value too long");
	switch (p->dir) {
	case HPCT_ADMIN:
		return write_admin(p, m, v, req, msg, cap);
	case HPCT_DECAY:
		if (strcmp(v, "1"))
			return bad(msg, cap, "write 1");
		*req = json_pack("{s:s,s:I,s:s,s:I}", "cmd", "setproc", "pid", (json_int_t)pid,
			"decay", decay_hint[p->file - decay_files], "as_uid", (json_int_t)as_uid);
		return 0;
	case HPCT_PROC:
		break;
	default:
		return -EACCES;
	}
	if (is(p, "goto")) {
		json_t *t;

		if (!strcmp(v, "home") || !strcmp(v, "0"))
			t = json_string("home");
		else if (!strcmp(v, "balance"))
			t = json_string("balance");
		else if (!parse_long(v, 1, 65535, &x))
			t = json_integer(x);
		else
			return bad(msg, cap, "goto takes a node id, 0 or home");
		*req = json_pack("{s:s,s:I,s:o,s:I}", "cmd", "migrate", "pid", (json_int_t)pid,
			"target", t, "as_uid", (json_int_t)as_uid);
		return 0;
	}
	*req = json_pack("{s:s,s:I,s:I}", "cmd", "setproc", "pid", (json_int_t)pid, "as_uid",
		(json_int_t)as_uid);
	if (is(p, "lock")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			goto bad_bit;
		json_object_set_new(*req, "lock", json_boolean(!strcmp(v, "1")));
	} else if (is(p, "migfilter") || is(p, "migpolicy")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			goto bad_bit;
		json_object_set_new(*req, p->file->name, json_integer(!strcmp(v, "1")));
	} else if (is(p, "mignodes")) {
		json_object_set_new(*req, "mignodes", json_string(v)); /* the daemon parses it */
	}
	return 0;
bad_bit:
	json_decref(*req);
	*req = NULL;
	return bad(msg, cap, "write 1 or 0");
}
