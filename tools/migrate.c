/* migrate: move a process under the cluster's care to another node (see
 * migrate(1)). Synchronous: exits 0 once the process runs at the target. */
#include "lib/util.h"
#include "tools/common/client.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *fp)
{
	fprintf(fp, "Usage: migrate PID {openMosix-ID|home|balance}\n"
		    "\n"
		    "Moves process PID (started with mosrun) to node openMosix-ID, back home, or\n"
		    "to the node the balancer finds best now. Returns once the process runs\n"
		    "there. Root may move any process, a user only their own.\n"
		    "Exit status: 0 moved (or already there), 1 refused (the reason is printed),\n"
		    "2 usage, 3 daemon not running, 4 other failure. See migrate(1).\n");
}

int main(int argc, char **argv)
{
	long pid, id;
	json_t *req, *r;
	int code;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("migrate 0.1\n");
		return 0;
	}
	if (argc != 3 || parse_long(argv[1], 1, 0x3fffffff, &pid)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[2], "home") || !strcmp(argv[2], "balance"))
		req = json_pack("{s:s,s:I,s:s}", "cmd", "migrate", "pid", (json_int_t)pid, "target",
			argv[2]);
	else if (!parse_long(argv[2], 1, 65535, &id))
		req = json_pack("{s:s,s:I,s:I}", "cmd", "migrate", "pid", (json_int_t)pid, "target",
			(json_int_t)id);
	else {
		fprintf(stderr, "migrate: bad target \"%s\": a node id, home or balance\n", argv[2]);
		return EXIT_USAGE;
	}
	client_timeout_ms = 600000; /* a large process takes a while */
	r = client_request("migrate", req, &code);
	if (!r)
		return code;
	json_decref(r);
	return 0;
}
