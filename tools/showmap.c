/* showmap: print the node's current map in the original's format. */
#include "tools/common/client.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	int code;
	json_t *r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: showmap\n\nPrints the cluster map the node's daemon uses "
			       "(from a map file or autodiscovery):\nits own node id, then one line per "
			       "range of nodes. See showmap(1).\n");
			return 0;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("showmap 0.1\n");
			return 0;
		}
		fprintf(stderr, "showmap: unexpected argument \"%s\"\nUsage: showmap\n", argv[i]);
		return EXIT_USAGE;
	}
	r = client_request("showmap", json_pack("{s:s}", "cmd", "map"), &code);
	if (!r)
		return code;
	fputs(json_string_value(json_object_get(r, "showmap")) ?: "", stdout);
	json_decref(r);
	return 0;
}
