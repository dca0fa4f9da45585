/* setpe: load the cluster map into the running daemon, read it back, or
 * take the node out of the cluster (see setpe(8)). */
#include "lib/util.h"
#include "map/map.h"
#include "tools/common/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "setpe";

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: setpe -w|-W [-c] [-p openMosix-ID] [-g {0|1|2}] [-n inet] [-f {filename|-}]\n"
		"       setpe -r [-f {filename|-}]\n"
		"       setpe -off\n"
		"\n"
		"  -w, -W   load the map (ID ADDRESS COUNT lines) into the running daemon;\n"
		"           it is read from -f FILE, or standard input\n"
		"  -c       only check the map's consistency, change nothing\n"
		"  -p ID    this node's id: checked against the node's address in the map\n"
		"  -g N     gateways between node groups (accepted; there are none here)\n"
		"  -n inet  the network protocol (only inet exists)\n"
		"  -r       write the current map to -f FILE, or standard output\n"
		"  -off     take this node out of the cluster (setpe -w brings it back)\n"
		"Exit status: 0 ok, 1 refused or invalid map, 2 usage, 3 daemon not running.\n"
		"See setpe(8), openmosix.map(5).\n");
}

static char *slurp(FILE *fp, size_t *len)
{
	size_t cap = 65536;
	char *buf = malloc(cap);

	*len = 0;
	while (buf) {
		size_t n = fread(buf + *len, 1, cap - *len - 1, fp);

		*len += n;
		if (n == 0)
			break;
		if (cap - *len < 2) {
			if (cap >= (64u << 20)) {
				free(buf);
				return NULL;
			}
			cap *= 2;
			char *nb = realloc(buf, cap);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
	}
	if (buf)
		buf[*len] = '\0';
	return buf;
}

static int do_read(const char *file)
{
	int code;
	json_t *r = client_request(prog, json_pack("{s:s}", "cmd", "map"), &code);
	FILE *fp = stdout;

	if (!r)
		return code;
	if (file && strcmp(file, "-")) {
		fp = fopen(file, "w");
		if (!fp) {
			fprintf(stderr, "%s: cannot write %s: %s\n", prog, file, strerror(errno));
			json_decref(r);
			return EXIT_FAIL;
		}
	}
	fputs(json_string_value(json_object_get(r, "map")), fp);
	if (fp != stdout && fclose(fp)) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, file, strerror(errno));
		code = EXIT_FAIL;
	}
	json_decref(r);
	return code;
}

static int do_write(const char *file, bool check_only, long want_id)
{
	const char *name = (!file || !strcmp(file, "-")) ? "(stdin)" : file;
	char err[1024] = "", *text, *norm;
	struct om_map *m = NULL;
	size_t len;
	int ret, code;
	FILE *fp = stdin;

	if (file && strcmp(file, "-")) {
		fp = fopen(file, "r");
		if (!fp) {
			fprintf(stderr, "%s: cannot read %s: %s\n", prog, file, strerror(errno));
			return EXIT_NO;
		}
	}
	text = slurp(fp, &len);
	if (fp != stdin)
		fclose(fp);
	if (!text) {
		fprintf(stderr, "%s: %s: cannot read the map\n", prog, name);
		return EXIT_NO;
	}
	ret = map_parse(text, len, name, map_resolve_dns, NULL, &m, err, sizeof(err));
	free(text);
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, *err ? err : strerror(-ret));
		return EXIT_NO;
	}
	if (check_only && want_id <= 0) {
		printf("%s: %zu nodes, consistent\n", name, map_node_count(m));
		map_free(m);
		return EXIT_YES;
	}
	/* what is our id under this map? the daemon knows our address */
	json_t *st = client_status(prog, &code);

	if (!st) {
		map_free(m);
		return code;
	}
	const char *addr = json_string_value(json_object_get(json_object_get(st, "self"), "addr"));
	struct in_addr ia;
	uint16_t id = 0;

	if (!addr || inet_pton(AF_INET, addr, &ia) != 1 || map_id_of(m, ntohl(ia.s_addr), &id)) {
		fprintf(stderr, "%s: the supplied table is well-formatted, but my IP address (%s) is "
				"not there!\n", prog, addr ? addr : "?");
		fprintf(stderr, "%s: hint: the map must list this node's address; check /etc/hosts "
				"and that the hostname resolves to the address used in the map\n", prog);
		json_decref(st);
		map_free(m);
		return EXIT_NO;
	}
	if (want_id > 0 && id != want_id) {
		fprintf(stderr, "%s: my address %s is node %u in the map, not %ld (-p)\n", prog, addr,
			id, want_id);
		json_decref(st);
		map_free(m);
		return EXIT_NO;
	}
	json_decref(st);
	if (check_only) {
		printf("%s: %zu nodes, consistent; this node is #%u\n", name, map_node_count(m), id);
		map_free(m);
		return EXIT_YES;
	}
	norm = malloc(1 << 20);
	ret = norm ? map_format(m, norm, 1 << 20) : -ENOMEM;
	map_free(m);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", prog, strerror(-ret));
		free(norm);
		return EXIT_FAIL;
	}
	norm[ret] = '\0';
	json_t *r = client_request(prog, json_pack("{s:s,s:s,s:s}", "cmd", "setmap", "text", norm,
		"source", file && strcmp(file, "-") ? file : "setpe (stdin)"), &code);
	free(norm);
	json_decref(r);
	return code;
}

int main(int argc, char **argv)
{
	enum { NONE, WRITE, READ, OFF } mode = NONE;
	const char *file = NULL;
	bool check = false;
	long want_id = 0, v;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("setpe 0.1\n");
			return 0;
		} else if (!strcmp(a, "-w") || !strcmp(a, "-W")) {
			mode = WRITE;
		} else if (!strcmp(a, "-r")) {
			mode = READ;
		} else if (!strcmp(a, "-off") || !strcmp(a, "--off")) {
			mode = OFF;
		} else if (!strcmp(a, "-c")) {
			check = true;
		} else if (!strcmp(a, "-f") && i + 1 < argc) {
			file = argv[++i];
		} else if (!strcmp(a, "-p") && i + 1 < argc) {
			if (parse_long(argv[++i], 1, 65535, &want_id)) {
				fprintf(stderr, "%s: bad node id \"%s\" (1-65535)\n", prog, argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "-g") && i + 1 < argc) {
			if (parse_long(argv[++i], 0, 2, &v)) {
				fprintf(stderr, "%s: -g takes 0, 1 or 2\n", prog);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "-n") && i + 1 < argc) {
			if (strcmp(argv[++i], "inet")) {
				fprintf(stderr, "%s: only the inet network is supported\n", prog);
				return EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "%s: unknown or incomplete option \"%s\"\n", prog, a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (mode == NONE && check)
		mode = WRITE;
	switch (mode) {
	case WRITE:
		return do_write(file, check, want_id);
	case READ:
		return do_read(file);
	case OFF: {
		int code;
		json_t *r = client_request(prog, json_pack("{s:s}", "cmd", "off"), &code);

		json_decref(r);
		return code;
	}
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
}
