/* mps: ps with a NODE column (see mps(1)): where each process computes.
 * 0 means here, as in the original; a node id means the process runs there
 * (its home process here is the deputy). */
#include "lib/util.h"
#include "tools/common/client.h"
#include "tools/common/pinfo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *fp)
{
	fprintf(fp, "Usage: mps [a] [x] [-a] [-x] [--json] [PID...]\n"
		    "\n"
		    "Lists processes like ps, with a NODE column: 0 = runs here, N = runs at\n"
		    "node N (migrated; its home process here is the deputy), and an RTIME\n"
		    "column: the CPU time it used at other nodes, which TIME cannot show.\n"
		    "  a, -a   all users' processes (default: yours)\n"
		    "  x, -x   also processes without a terminal (default: all of them are shown)\n"
		    "  --json  one JSON object per process\n"
		    "See mps(1).\n");
}

int main(int argc, char **argv)
{
	bool all = false, json = false;
	long want[256];
	size_t nwant = 0;
	long self_id = 0, hz = sysconf(_SC_CLK_TCK);
	json_t *procs = NULL, *r;
	int code;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		long v;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!parse_long(a, 1, 0x3fffffff, &v)) {
			if (nwant < ARRAY_SIZE(want))
				want[nwant++] = v;
		} else if (strspn(a + (a[0] == '-'), "axu") == strlen(a + (a[0] == '-'))) {
			all |= strchr(a, 'a') != NULL;
		} else {
			fprintf(stderr, "mps: unknown option %s\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	r = client_request("mps", json_pack("{s:s}", "cmd", "procs"), &code);
	if (!r)
		fprintf(stderr, "mps: NODE shows 0 for every process\n");
	if (r) {
		procs = json_incref(json_object_get(r, "procs"));
		json_decref(r);
	}
	r = procs ? client_status("mps", &code) : NULL;
	if (r) {
		self_id = (long)json_integer_value(json_object_get(json_object_get(r, "self"), "id"));
		json_decref(r);
	}
	if (!json)
		printf("%7s %-8s %4s %-4s %8s %8s %s\n", "PID", "TTY", "NODE", "STAT", "TIME", "RTIME",
			"COMMAND");
	DIR *d = opendir("/proc");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct pinfo pi = { 0 };
		long node = 0;
		long long rms = 0; /* CPU ms used at other nodes (daemon's count) */
		bool care = false;
		json_t *o;
		size_t k;

		if (!isdigit((unsigned char)de->d_name[0]) || pinfo_read(atoi(de->d_name), &pi))
			continue;
		if (nwant) {
			bool hit = false;

			for (size_t w = 0; w < nwant; w++)
				hit |= want[w] == pi.pid;
			if (!hit)
				continue;
		} else if (!all && pi.uid != getuid()) {
			continue;
		}
		json_array_foreach(procs, k, o)
			if (json_integer_value(json_object_get(o, "pid")) == pi.pid) {
				long where = (long)json_integer_value(json_object_get(o, "where"));

				node = where == self_id ? 0 : where;
				rms = (long long)json_integer_value(json_object_get(o, "remote_cpu_ms"));
				care = true;
			}
		unsigned long long s = pi.ticks / (unsigned long long)hz;

		if (json)
			printf("{\"pid\":%d,\"tty\":\"%s\",\"node\":%ld,\"stat\":\"%c\",\"seconds\":%llu,"
			       "\"remote_cpu_ms\":%lld,\"care\":%s}\n",
				pi.pid, pi.tty, node, pi.state, s, rms, care ? "true" : "false");
		else
			printf("%7d %-8s %4ld %-4c %4llu:%02llu %4lld:%02lld %s\n", pi.pid, pi.tty, node,
				pi.state, s / 60, s % 60, rms / 60000, rms / 1000 % 60, pi.cmd);
	}
	if (d)
		closedir(d);
	json_decref(procs);
	return 0;
}
