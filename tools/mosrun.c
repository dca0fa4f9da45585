/* mosrun: run a command under the cluster's care (see mosrun(1)). The
 * command replaces mosrun (same pid), so shells and parents see the real
 * program. Unlike the original openMosix, where every process was under
 * care, here only programs started with mosrun (and, later, their
 * children) may migrate; they are migratable by default. */
#include "balance/mask.h"
#include "lib/util.h"
#include "tools/common/client.h"

#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: mosrun [-h|-ID|-jID1-ID2[,ID3...]] [-F] [-l|-L|-k]\n"
		"              [-c|-i|-n|-s|-f|-t tt|-d dec] [-z] command [arg ...]\n"
		"\n"
		"Runs command under the cluster's care: it may be migrated (migrate PID NODE).\n"
		"  -h        stay at home (locked)\n"
		"  -L / -l   lock (no automatic migration) / unlock (default); -k keep\n"
		"  -c -i     hints for the balancer: CPU-bound / I/O-bound\n"
		"  -n -s -f  decay its statistics: not / slowly / fast; -t tt, -d dec: decay\n"
		"  -ID       start it on node ID (it runs there once it has exec'd), locked\n"
		"  -jLIST    start it on a random available node of LIST (1-3,5), locked\n"
		"  -F        with -ID or -j: run anyway (here) if no such node is available\n"
		"  -z        (accepted for compatibility)\n"
		"  --allow NODES / --deny NODES\n"
		"            cluster mask: run only on / never on these nodes (e.g. 2,4-6);\n"
		"            home is always allowed; children inherit it\n"
		"A lock stops automatic migration only: migrate still moves the process.\n"
		"See mosrun(1).\n");
}

/* Can a process start at node id? "" if so, else why not. */
static const char *node_unavailable(json_t *st, long id)
{
	json_t *nodes = json_object_get(st, "nodes"), *nd, *flag;
	size_t i, j;

	if (id == json_integer_value(json_object_get(json_object_get(st, "self"), "id")))
		return "";
	json_array_foreach(nodes, i, nd) {
		const char *state = json_string_value(json_object_get(nd, "state"));

		if (json_integer_value(json_object_get(nd, "id")) != id)
			continue;
		if (!state || strcmp(state, "alive"))
			return "is down";
		json_array_foreach(json_object_get(nd, "status"), j, flag)
			if (json_is_string(flag) && (!strcmp(json_string_value(flag), "block") ||
				!strcmp(json_string_value(flag), "expel")))
				return "blocks guest processes";
		return "";
	}
	return "is not in the cluster's map";
}

/* -ID / -jLIST with -F: the node to start at (0: here) or -1 (refused) */
static long pick_start(long id, const char *list, bool fallback)
{
	json_t *st;
	const char *why = "";
	long pick = id;
	int code;

	st = client_request("mosrun", json_pack("{s:s}", "cmd", "status"), &code);
	if (!st) {
		if (fallback)
			return 0;
		fprintf(stderr, "mosrun: cannot start the program elsewhere without the daemon\n");
		return -1;
	}
	if (list) {
		struct om_mask m = { 0 };
		long ok[OM_MASK_NODES], nok = 0;

		if (om_mask_parse(list, &m)) {
			fprintf(stderr, "mosrun: bad node list -j%s (like -j1-3,5)\n", list);
			json_decref(st);
			return -1;
		}
		for (unsigned n = 1; n <= OM_MASK_NODES; n++)
			if (om_mask_listed(&m, (uint16_t)n) && !*node_unavailable(st, n))
				ok[nok++] = n;
		if (nok) {
			srand((unsigned)(time(NULL) ^ getpid()));
			pick = ok[rand() % nok];
		} else {
			why = "none of the listed nodes is available";
			pick = -1;
		}
	} else {
		why = node_unavailable(st, id);
		if (*why)
			pick = -1;
	}
	json_decref(st);
	if (pick < 0 && fallback)
		return 0; /* -F: anywhere will do; here, and the balancer decides */
	if (pick < 0) {
		if (list)
			fprintf(stderr, "mosrun: %s (-j%s; -F runs it anyway)\n", why, list);
		else
			fprintf(stderr, "mosrun: node %ld %s (-F runs it anyway)\n", id, why);
	}
	return pick;
}

int main(int argc, char **argv)
{
	const char *decay = "", *nodes = NULL, *jlist = NULL;
	bool allow = false, fallback = false;
	bool lock = false;
	long start_node = 0;
	int i, code;
	json_t *req, *r;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		long v;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if ((!strcmp(a, "--allow") || !strcmp(a, "--deny")) && i + 1 < argc) {
			allow = !strcmp(a, "--allow");
			nodes = argv[++i];
		} else if (!strncmp(a, "--allow=", 8) || !strncmp(a, "--deny=", 7)) {
			allow = !strncmp(a, "--allow=", 8);
			nodes = strchr(a, '=') + 1;
		} else if (!strcmp(a, "-h")) {
			lock = true; /* home, locked */
		} else if (!strcmp(a, "-L")) {
			lock = true;
		} else if (!strcmp(a, "-l")) {
			lock = false;
		} else if (!strcmp(a, "-F")) {
			fallback = true;
		} else if (!strcmp(a, "-k") || !strcmp(a, "-z") ||
			!strcmp(a, "-e") || !strcmp(a, "-E") || !strcmp(a, "-r") || !strcmp(a, "-R")) {
			/* keep / fall back / compatibility: nothing to record */
		} else if (!strcmp(a, "-c")) {
			decay = "cpu";
		} else if (!strcmp(a, "-i")) {
			decay = "io";
		} else if (!strcmp(a, "-n")) {
			decay = "none";
		} else if (!strcmp(a, "-s")) {
			decay = "slow";
		} else if (!strcmp(a, "-f")) {
			decay = "fast";
		} else if ((!strcmp(a, "-t") || !strcmp(a, "-d")) && i + 1 < argc) {
			if (parse_long(argv[++i], 0, 1000000, &v)) {
				fprintf(stderr, "mosrun: bad value for %s: %s\n", a, argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strncmp(a, "-j", 2) && a[2]) {
			jlist = a + 2;
			lock = true;
		} else if (!parse_long(a + 1, 1, 65535, &start_node)) {
			lock = true; /* the original locks it where it starts */
		} else {
			fprintf(stderr, "mosrun: unknown option %s\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (start_node || jlist) {
		start_node = pick_start(start_node, jlist, fallback);
		if (start_node < 0)
			return EXIT_NO;
	}
	req = json_pack("{s:s,s:I,s:b,s:s}", "cmd", "adopt", "pid", (json_int_t)getpid(), "lock",
		lock, "decay", decay);
	if (start_node > 0)
		json_object_set_new(req, "start", json_integer(start_node));
	if (nodes) {
		json_object_set_new(req, "migfilter", json_integer(1));
		json_object_set_new(req, "migpolicy", json_integer(allow));
		json_object_set_new(req, "mignodes", json_string(nodes));
	}
	r = client_request("mosrun", req, &code);
	if (!r && nodes && code == EXIT_NO) {
		/* a mask that cannot be set must not be silently dropped */
		fprintf(stderr, "mosrun: not running %s: its cluster mask was not accepted\n",
			argv[i]);
		return EXIT_NO;
	}
	if (!r)
		fprintf(stderr, "mosrun: running %s without the cluster's care\n", argv[i]);
	json_decref(r);
	execvp(argv[i], argv + i);
	fprintf(stderr, "mosrun: cannot run %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
