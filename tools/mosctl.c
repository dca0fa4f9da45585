/* mosctl: the openMosix main configuration utility (see mosctl(1)).
 * Reads the node's daemon through $OPENMOSIX_DIR/omd.sock; changes need root. */
#include "lib/util.h"
#include "load/yard.h"
#include "proto/info.h"
#include "tools/common/client.h"
#include "tools/common/linkcli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "mosctl";

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: mosctl {stay|nostay|lstay|nolstay|block|noblock|quiet|noquiet|\n"
		"               nomfs|mfs|expel|bring|gettune|getyard|getdecay}\n"
		"       mosctl whois [openMosix-ID|IP-address|hostname]\n"
		"       mosctl {getload|getspeed|status|isup|getmem|getfree|getutil} [openMosix-ID]\n"
		"       mosctl setyard [processor-type|number|this]\n"
		"       mosctl setspeed numeric-value\n"
		"       mosctl setdecay interval [slow fast]\n"
		"       mosctl status --json\n"
		"       mosctl where PID\n"
		"       mosctl ping openMosix-ID [--key FILE]\n"
		"\n"
		"Talks to the node daemon at $OPENMOSIX_DIR (default /run/openmosix).\n"
		"Anyone may read; only root may change the node. Exit status: 0 yes/ok,\n"
		"1 no (or refused), 2 usage, 3 daemon not running, 4 other failure.\n"
		"See mosctl(1).\n");
}

static __attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mosctl --help'.\n");
	return EXIT_USAGE;
}

static long jint(json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

static double jnum(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static bool jbool(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* a simple request; returns the exit code */
static int simple(json_t *req)
{
	int code;
	json_t *r = client_request(prog, req, &code);

	json_decref(r);
	return code;
}

/* --- the flag subcommands --------------------------------------------- */

static const struct flag_cmd {
	const char *on, *off, *off2;
	const char *key;
	const char *already_on, *already_off;
	const char *help_on, *help_off;
} flag_cmds[] = {
	{ "stay", "nostay", "-stay", "stay", "automatic load-balancing already disabled.",
		"automatic load-balancing already enabled.", "no automatic migration away",
		"automatic migration (default)" },
	{ "lstay", "nolstay", "-lstay", "lstay",
		"Local processes already not allowed to leave automatically.",
		"Local processes already allowed to leave automatically.", "local processes stay",
		"they may leave" },
	{ "block", "noblock", "-block", "block", "Guest processes already blocked.",
		"Guest processes already allowed to arrive.", "refuse guest processes",
		"accept them" },
	{ "quiet", "noquiet", "-quiet", "quiet", "Load information already not supplied.",
		"Load information already supplied.", "stop supplying load information",
		"supply it" },
	{ "nomfs", "mfs", "-nomfs", "nomfs", "MFS access already disabled.",
		"MFS access already enabled.", "disable MFS access", "enable it" },
};

static int cmd_flag(const struct flag_cmd *f, bool value)
{
	int code;
	json_t *st = client_status(prog, &code), *admin;

	if (!st)
		return code;
	admin = json_object_get(json_object_get(st, "self"), "admin");
	if (jbool(admin, f->key) == value) {
		printf("%s\n", value ? f->already_on : f->already_off);
		json_decref(st);
		return EXIT_YES;
	}
	json_decref(st);
	return simple(json_pack("{s:s,s:s,s:b}", "cmd", "set", "key", f->key, "value", value));
}

static int cmd_expel_bring(const char *what)
{
	int code;
	json_t *r = client_request(prog, json_pack("{s:s}", "cmd", what), &code);

	if (!r)
		return code;
	if (!strcmp(what, "expel"))
		printf("All remote processes were expelled and no further remote processes "
		       "accepted.\n");
	else
		printf("All local processes were brought home and will stay there.\n");
	json_decref(r);
	return EXIT_YES;
}

/* --- reading ------------------------------------------------------------ */

/* Resolve "ID" or "IP" or "hostname" to a node of the status model. */
static json_t *find_node_arg(json_t *st, const char *arg, bool *by_id)
{
	long id;
	struct in_addr a;
	json_t *nodes = json_object_get(st, "nodes"), *n;
	size_t i;
	char ip[INET_ADDRSTRLEN] = "";

	*by_id = false;
	if (!parse_long(arg, 1, OM_MAX_NODE_ID, &id)) {
		*by_id = true;
		return client_find_node(st, id);
	}
	if (inet_pton(AF_INET, arg, &a) == 1) {
		snprintf(ip, sizeof(ip), "%s", arg);
	} else {
		struct addrinfo hints = { .ai_family = AF_INET }, *res;

		if (getaddrinfo(arg, NULL, &hints, &res) != 0)
			return NULL;
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, sizeof(ip));
		freeaddrinfo(res);
	}
	json_array_foreach(nodes, i, n)
		if (!strcmp(jstr(n, "addr"), ip))
			return n;
	return NULL;
}

static int cmd_whois(int argc, char **argv)
{
	int code;
	json_t *st, *n;
	bool by_id;

	if (argc > 1)
		return usage_error("whois takes at most one argument");
	st = client_status(prog, &code);
	if (!st)
		return code;
	if (argc == 0) {
		printf("This is openMosix #%ld\n", jint(json_object_get(st, "self"), "id"));
		json_decref(st);
		return EXIT_YES;
	}
	n = find_node_arg(st, argv[0], &by_id);
	if (!n) {
		fprintf(stderr, "%s: %s is not an openMosix node of this cluster\n", prog, argv[0]);
		json_decref(st);
		return EXIT_NO;
	}
	if (by_id)
		printf("openMosix #%ld is at IP address %s\n", jint(n, "id"), jstr(n, "addr"));
	else
		printf("%s is openMosix #%ld\n", argv[0], jint(n, "id"));
	json_decref(st);
	return EXIT_YES;
}

static void print_flags(json_t *admin)
{
	printf("  stay:  %s\n", jbool(admin, "stay") ? "yes (automatic migration disabled)" :
							"no (automatic migration enabled)");
	printf("  lstay: %s\n", jbool(admin, "lstay") ? "yes (local processes stay)" :
							 "no (local processes may leave)");
	printf("  block: %s\n", jbool(admin, "block") ? "yes (guest processes refused)" :
							 "no (guest processes accepted)");
	printf("  quiet: %s\n", jbool(admin, "quiet") ? "yes (load information not supplied)" :
							 "no (load information supplied)");
	printf("  mfs:   %s\n", jbool(admin, "nomfs") ? "disabled" : "enabled");
}

static void print_load(json_t *n)
{
	if (!json_object_get(n, "load")) {
		printf("  load:  not advertised (quiet)\n");
		return;
	}
	printf("  load:  %.2f   speed: %ld   CPUs: %ld (capacity %.2f)   utilization: %ld%%\n",
		jnum(n, "load"), jint(n, "speed"), jint(n, "ncpus"), jnum(n, "capacity"),
		jint(n, "util"));
	printf("  memory: %ld MB total, %ld MB free as openMosix believes, %ld MB free as Linux "
	       "believes\n", jint(n, "tmem"), jint(n, "mem"), jint(n, "rmem"));
}

static void print_table(json_t *st)
{
	json_t *nodes = json_object_get(st, "nodes"), *n;
	size_t i;

	printf("\n%-6s %-15s %-8s %7s %7s %5s %5s %6s %15s\n", "Node", "Address", "State", "Load",
		"Speed", "CPUs", "Cap", "Util", "Mem free/total");
	json_array_foreach(nodes, i, n) {
		char mem[32] = "-", load[16] = "-", speed[16] = "-", cpus[8] = "-", cap[8] = "-",
		     util[8] = "-";

		if (json_object_get(n, "load")) {
			snprintf(load, sizeof(load), "%.2f", jnum(n, "load"));
			snprintf(speed, sizeof(speed), "%ld", jint(n, "speed"));
			snprintf(cpus, sizeof(cpus), "%ld", jint(n, "ncpus"));
			snprintf(cap, sizeof(cap), "%.2f", jnum(n, "capacity"));
			snprintf(util, sizeof(util), "%ld%%", jint(n, "util"));
			snprintf(mem, sizeof(mem), "%ld/%ld MB", jint(n, "mem"), jint(n, "tmem"));
		} else if (json_object_get(n, "status")) {
			snprintf(load, sizeof(load), "quiet");
		}
		printf("%-6ld %-15s %-8s %7s %7s %5s %5s %6s %15s\n", jint(n, "id"), jstr(n, "addr"),
			jbool(n, "self") ? "self" : jstr(n, "state"), load, speed, cpus, cap, util,
			mem);
	}
}

static int cmd_status(int argc, char **argv)
{
	int code;
	json_t *st, *self, *admin;
	bool json = false;
	const char *which = NULL;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json = true;
		else if (!which)
			which = argv[i];
		else
			return usage_error("status takes at most one node");
	}
	st = client_status(prog, &code);
	if (!st)
		return code;
	json_object_del(st, "ok");
	self = json_object_get(st, "self");
	admin = json_object_get(self, "admin");
	if (json && !which) {
		json_dumpf(st, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(st);
		return EXIT_YES;
	}
	if (which) {
		bool by_id;
		json_t *n = find_node_arg(st, which, &by_id);

		if (!n) {
			printf("Node #%s is not configured\n", which);
			json_decref(st);
			return EXIT_NO;
		}
		if (json) {
			json_dumpf(n, stdout, JSON_INDENT(2));
			printf("\n");
		} else if (jbool(n, "self")) {
			which = NULL;
		} else {
			printf("openMosix #%ld at %s: %s", jint(n, "id"), jstr(n, "addr"),
				jstr(n, "state"));
			if (json_object_get(n, "age_ms"))
				printf(" (information %ld ms old)", jint(n, "age_ms"));
			printf("\n");
			print_load(n);
			printf("  status: ");
			json_t *s;
			size_t i;

			json_array_foreach(json_object_get(n, "status"), i, s)
				printf("%s%s", i ? " " : "", json_string_value(s));
			printf("\n");
		}
		if (which || json) {
			json_decref(st);
			return EXIT_YES;
		}
	}
	printf("This is openMosix #%ld (of %ld configured) at %s: %s\n", jint(self, "id"),
		jint(self, "configured"), jstr(self, "addr"),
		jbool(self, "up") ? "up" : "off (not in the cluster)");
	printf("  map: %s (%s); load measured from %s\n", jstr(self, "map_source"),
		jstr(self, "mode"), jstr(self, "load_source"));
	print_flags(admin);
	printf("  speed: %ld   yardstick: %.0f   decay: every %ld s, slow %ld/1000, fast "
	       "%ld/1000\n", jint(admin, "speed"), jnum(admin, "yard"),
		jint(admin, "decay_interval"), jint(admin, "slow_decay"), jint(admin, "fast_decay"));
	print_load(self);
	{
		json_t *ga = json_object_get(st, "guests"), *g;
		size_t i;

		printf("  guests: %zu\n", json_array_size(ga));
		json_array_foreach(ga, i, g)
			printf("    %s (pid %ld of node %ld, uid %ld)\n", jstr(g, "comm"),
				jint(g, "home_pid"), jint(g, "home"), jint(g, "uid"));
	}
	print_table(st);
	json_decref(st);
	return EXIT_YES;
}

/* getload|getspeed|isup|getmem|getfree|getutil [ID] */
static int cmd_get(const char *what, int argc, char **argv)
{
	int code;
	json_t *st, *n;
	bool by_id;

	if (argc > 1)
		return usage_error("%s takes at most one node", what);
	st = client_status(prog, &code);
	if (!st)
		return code;
	if (argc == 0) {
		n = client_find_node(st, jint(json_object_get(st, "self"), "id"));
	} else {
		n = find_node_arg(st, argv[0], &by_id);
		if (!n) {
			fprintf(stderr, "%s: Node #%s is not configured\n", prog, argv[0]);
			json_decref(st);
			return EXIT_NO;
		}
	}
	const char *state = jbool(n, "self") ? (jbool(json_object_get(st, "self"), "up") ? "alive"
								: "off")
					  : jstr(n, "state");
	bool up = !strcmp(state, "alive") || !strcmp(state, "suspect");

	if (!strcmp(what, "isup")) {
		printf("openMosix #%ld is %s\n", jint(n, "id"), up ? "up" : "down");
		json_decref(st);
		return up ? EXIT_YES : EXIT_NO;
	}
	if (!up) {
		fprintf(stderr, "%s: openMosix #%ld is down\n", prog, jint(n, "id"));
		json_decref(st);
		return EXIT_NO;
	}
	if (!json_object_get(n, "load")) {
		fprintf(stderr, "%s: openMosix #%ld is quiet: it does not supply load information\n",
			prog, jint(n, "id"));
		json_decref(st);
		return EXIT_NO;
	}
	if (!strcmp(what, "getload"))
		printf("%.2f\n", jnum(n, "load"));
	else if (!strcmp(what, "getspeed"))
		printf("%ld\n", jint(n, "speed"));
	else if (!strcmp(what, "getmem"))
		printf("%ld MB\n", jint(n, "mem"));
	else if (!strcmp(what, "getfree"))
		printf("%ld MB\n", jint(n, "rmem"));
	else if (!strcmp(what, "getutil"))
		printf("%ld%%\n", jint(n, "util"));
	json_decref(st);
	return EXIT_YES;
}

static int cmd_gettune(void)
{
	int code;
	json_t *st = client_status(prog, &code), *t;

	if (!st)
		return code;
	t = json_object_get(json_object_get(st, "self"), "tune");
	printf("information interval: %ld ms\n", jint(t, "info_interval_ms"));
	printf("suspicion timeout:    %ld ms\n", jint(t, "suspect_ms"));
	printf("gossip window:        %ld entries\n", jint(t, "window"));
	printf("ports:                info %ld/udp, migration %ld/tcp, discovery %ld/udp\n",
		jint(t, "info_port"), jint(t, "mig_port"), jint(t, "disc_port"));
	json_decref(st);
	return EXIT_YES;
}

static int cmd_getyard(void)
{
	int code;
	json_t *st = client_status(prog, &code);

	if (!st)
		return code;
	printf("%.0f\n", jnum(json_object_get(json_object_get(st, "self"), "admin"), "yard"));
	json_decref(st);
	return EXIT_YES;
}

static int cmd_getdecay(void)
{
	int code;
	json_t *st = client_status(prog, &code), *a;

	if (!st)
		return code;
	a = json_object_get(json_object_get(st, "self"), "admin");
	printf("decay interval: %ld s, slow decay: %ld/1000, fast decay: %ld/1000\n",
		jint(a, "decay_interval"), jint(a, "slow_decay"), jint(a, "fast_decay"));
	json_decref(st);
	return EXIT_YES;
}

static int cmd_setspeed(int argc, char **argv)
{
	long v;

	if (argc != 1)
		return usage_error("setspeed needs one numeric value");
	if (parse_long(argv[0], 1, 1000000, &v))
		return usage_error("bad speed \"%s\" (1..1000000)", argv[0]);
	return simple(json_pack("{s:s,s:I}", "cmd", "setspeed", "value", (json_int_t)v));
}

static int cmd_setdecay(int argc, char **argv)
{
	long iv, s = -1, f = -1;

	if (argc != 1 && argc != 3)
		return usage_error("usage: setdecay interval [slow fast]");
	if (parse_long(argv[0], 1, 3600, &iv))
		return usage_error("bad decay interval \"%s\" (1..3600 seconds)", argv[0]);
	if (argc == 3 && (parse_long(argv[1], 0, 1000, &s) || parse_long(argv[2], 0, 1000, &f)))
		return usage_error("slow and fast decay are per mille: 0..1000");
	json_t *req = json_pack("{s:s,s:I}", "cmd", "setdecay", "interval", (json_int_t)iv);

	if (argc == 3) {
		json_object_set_new(req, "slow", json_integer(s));
		json_object_set_new(req, "fast", json_integer(f));
	}
	return simple(req);
}

/* setyard [processor-type|number|this]: measure this machine with the
 * yardstick benchmark; "this" makes it the standard (speed 10000), a number
 * sets the score of a standard processor, nothing keeps the current one. */
static int cmd_setyard(int argc, char **argv)
{
	int code;
	double score, yard, v;
	json_t *st;

	bool this = false;

	if (argc > 1)
		return usage_error("setyard takes at most one argument");
	st = client_status(prog, &code);
	if (!st)
		return code;
	yard = jnum(json_object_get(json_object_get(st, "self"), "admin"), "yard");
	json_decref(st);
	if (argc == 1) {
		if (!strcmp(argv[0], "this"))
			this = true;
		else if (!parse_double(argv[0], 1, 1e12, &v))
			yard = v;
		else if (!strcasecmp(argv[0], "standard") || !strcasecmp(argv[0], "default"))
			yard = LOAD_DEFAULT_YARD;
		else
			return usage_error("unknown processor type \"%s\" (use a number, \"this\" or "
					   "\"standard\")", argv[0]);
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: permission denied: only root may change the node's "
				"configuration\n", prog);
		return EXIT_NO;
	}
	if (load_yard_measure(300, &score)) {
		fprintf(stderr, "%s: the yardstick measurement failed\n", prog);
		return EXIT_FAIL;
	}
	if (this)
		yard = score;
	long speed = (long)(OM_STD_SPEED * score / yard + 0.5);

	if (speed < 1)
		speed = 1;
	if (speed > 1000000)
		speed = 1000000;
	code = simple(json_pack("{s:s,s:f,s:I}", "cmd", "setyard", "yard", yard, "speed",
		(json_int_t)speed));
	if (code == EXIT_YES)
		printf("yardstick %.0f; this machine scored %.0f: speed %ld\n", yard, score, speed);
	return code;
}

static int cmd_where(int argc, char **argv)
{
	long pid = 0;
	int code;
	bool json = false;
	json_t *r;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (pid || parse_long(argv[i], 1, INT32_MAX, &pid))
			return usage_error("usage: where PID [--json]");
	}
	if (!pid)
		return usage_error("where needs a process id");
	r = client_request(prog, json_pack("{s:s,s:I}", "cmd", "where", "pid", (json_int_t)pid),
		&code);
	if (!r)
		return code;
	json_object_del(r, "ok");
	if (json) {
		json_dumpf(r, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		printf("%ld\n", jint(r, "where"));
	}
	json_decref(r);
	return EXIT_YES;
}

static int cmd_ping(int argc, char **argv)
{
	const char *keyfile = NULL;
	long id = 0;
	int code;
	json_t *st, *n;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			keyfile = argv[++i];
		else if (!id && !parse_long(argv[i], 1, OM_MAX_NODE_ID, &id))
			;
		else
			return usage_error("usage: ping openMosix-ID [--key FILE]");
	}
	if (!id)
		return usage_error("ping needs a node id");
	st = client_status(prog, &code);
	if (!st)
		return code;
	n = client_find_node(st, id);
	if (!n) {
		fprintf(stderr, "%s: Node #%ld is not configured\n", prog, id);
		json_decref(st);
		return EXIT_NO;
	}
	if (!keyfile)
		keyfile = jstr(json_object_get(st, "self"), "key_path");
	code = linkcli_ping(prog, jstr(n, "addr"),
		(uint16_t)jint(json_object_get(json_object_get(st, "self"), "tune"), "mig_port"),
		(uint16_t)jint(json_object_get(st, "self"), "id"), (uint16_t)id, keyfile);
	json_decref(st);
	return code;
}

/* --- the command table -------------------------------------------------- */

static int w_expel_bring(const char *c, int argc, char **argv)
{
	return argc ? usage_error("%s takes no argument", c) : cmd_expel_bring(c);
}

static int w_noargs(const char *c, int argc, char **argv)
{
	if (argc)
		return usage_error("%s takes no argument", c);
	if (!strcmp(c, "gettune"))
		return cmd_gettune();
	if (!strcmp(c, "getyard"))
		return cmd_getyard();
	return cmd_getdecay();
}

static int w_whois(const char *c, int argc, char **argv)
{
	return cmd_whois(argc, argv);
}

static int w_status(const char *c, int argc, char **argv)
{
	return cmd_status(argc, argv);
}

static int w_setyard(const char *c, int argc, char **argv)
{
	return cmd_setyard(argc, argv);
}

static int w_setspeed(const char *c, int argc, char **argv)
{
	return cmd_setspeed(argc, argv);
}

static int w_setdecay(const char *c, int argc, char **argv)
{
	return cmd_setdecay(argc, argv);
}

static int w_where(const char *c, int argc, char **argv)
{
	return cmd_where(argc, argv);
}

/* lock PID / unlock PID / mask PID {allow|deny} LIST / mask PID off /
 * decay PID HINT: per-process steering (setproc) */
static int w_proc(const char *c, int argc, char **argv)
{
	long pid = 0;
	int code;
	json_t *req, *r;

	if (argc < 1 || parse_long(argv[0], 1, INT32_MAX, &pid))
		return usage_error("%s needs a process id", c);
	req = json_pack("{s:s,s:I}", "cmd", "setproc", "pid", (json_int_t)pid);
	if (!strcmp(c, "lock") || !strcmp(c, "unlock")) {
		if (argc != 1) {
			json_decref(req);
			return usage_error("usage: %s PID", c);
		}
		json_object_set_new(req, "lock", json_boolean(!strcmp(c, "lock")));
	} else if (!strcmp(c, "decay")) {
		if (argc != 2) {
			json_decref(req);
			return usage_error("usage: decay PID {cpu|io|none|slow|fast|default}");
		}
		json_object_set_new(req, "decay",
			json_string(strcmp(argv[1], "default") ? argv[1] : ""));
	} else if (argc == 2 && !strcmp(argv[1], "off")) {
		json_object_set_new(req, "migfilter", json_integer(0));
	} else if (argc == 3 && (!strcmp(argv[1], "allow") || !strcmp(argv[1], "deny"))) {
		json_object_set_new(req, "migfilter", json_integer(1));
		json_object_set_new(req, "migpolicy", json_integer(!strcmp(argv[1], "allow")));
		json_object_set_new(req, "mignodes", json_string(argv[2]));
	} else {
		json_decref(req);
		return usage_error("usage: mask PID {allow|deny} NODES  or  mask PID off");
	}
	r = client_request(prog, req, &code);
	if (!r)
		return code;
	json_decref(r);
	return EXIT_YES;
}

static int w_ping(const char *c, int argc, char **argv)
{
	return cmd_ping(argc, argv);
}

/* The flag commands (stay/nostay/...) are in flag_cmds above. */
static const struct mosctl_cmd {
	const char *name;
	int (*fn)(const char *name, int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "expel", w_expel_bring, "send all guest processes away (implies block)" },
	{ "bring", w_expel_bring, "bring all own processes home (implies lstay)" },
	{ "gettune", w_noargs, "show the tuning (overhead) parameters" },
	{ "getyard", w_noargs, "show the yardstick in use" },
	{ "getdecay", w_noargs, "show the decay parameters" },
	{ "whois", w_whois, "resolve node ids, IP addresses and host names" },
	{ "status", w_status, "the node's status and configuration (--json: everything)" },
	{ "getload", cmd_get, "the openMosix load of a node" },
	{ "getspeed", cmd_get, "the openMosix speed of a node" },
	{ "isup", cmd_get, "is a node up (exit 0) or down (exit 1)" },
	{ "getmem", cmd_get, "logical free memory of a node" },
	{ "getfree", cmd_get, "physical free memory of a node" },
	{ "getutil", cmd_get, "utilization of a node" },
	{ "setyard", w_setyard, "measure this machine against a yardstick, set the speed" },
	{ "setspeed", w_setspeed, "set this node's speed" },
	{ "setdecay", w_setdecay, "set the decay interval and the slow and fast decay" },
	{ "where", w_where, "the node a process runs on" },
	{ "lock", w_proc, "lock a process: no automatic migration (PID)" },
	{ "unlock", w_proc, "unlock a process (PID)" },
	{ "mask", w_proc, "a process's cluster mask: PID {allow|deny} NODES, or PID off" },
	{ "decay", w_proc, "a process's decay hint: PID {cpu|io|none|slow|fast|default}" },
	{ "ping", w_ping, "authenticated round trip to a node's migration port" },
};

static void print_commands(FILE *fp)
{
	fprintf(fp, "\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(flag_cmds); i++)
		fprintf(fp, "  %-9s %-9s %s / %s\n", flag_cmds[i].on, flag_cmds[i].off,
			flag_cmds[i].help_on, flag_cmds[i].help_off);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(fp, "  %-19s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		print_commands(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("mosctl 0.1\n");
		return 0;
	}
	argc -= 2;
	argv += 2;
	for (size_t i = 0; i < ARRAY_SIZE(flag_cmds); i++) {
		const struct flag_cmd *f = &flag_cmds[i];
		bool on = !strcmp(cmd, f->on);

		if (on || !strcmp(cmd, f->off) || !strcmp(cmd, f->off2)) {
			if (argc)
				return usage_error("%s takes no argument", cmd);
			return cmd_flag(f, on);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmd, cmds[i].name))
			return cmds[i].fn(cmd, argc, argv);
	return usage_error("unknown command \"%s\"", cmd);
}
