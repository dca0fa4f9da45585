/* Unit tests for map/: parsing, errors, lookups, formats, discovery edits. */
#include "map/map.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IP(a, b, c, d)                                                                             \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int fake_calls;

/* never DNS: a fixed table */
static int fake_resolve(const char *host, uint32_t *addr, void *arg)
{
	fake_calls++;
	if (strcmp(host, "node1") == 0) {
		*addr = IP(192, 168, 1, 1);
		return 0;
	}
	if (strcmp(host, "node2.example.org") == 0) {
		*addr = IP(192, 168, 1, 2);
		return 0;
	}
	return -ENOENT;
}

static int parse(const char *text, map_resolve_fn res, struct om_map **m, char *err, size_t cap)
{
	return map_parse(text, strlen(text), "t.map", res, NULL, m, err, cap);
}

static void expect_err_r(const char *text, map_resolve_fn res, const char *want)
{
	struct om_map *m = (struct om_map *)1;
	char err[1024];
	int rc = parse(text, res, &m, err, sizeof(err));
	int show = (int)strcspn(want, "\n"); /* TAP descriptions are one line */

	is_int(rc, -EINVAL, "rejects: %.*s", show, want);
	ok(m == NULL, "no map on error");
	is_str(err, want, "message: %.*s", show, want);
}

static void expect_err(const char *text, const char *want)
{
	expect_err_r(text, NULL, want);
}

static struct om_map *must_parse(const char *text, map_resolve_fn res)
{
	struct om_map *m = NULL;
	char err[1024] = "";
	int rc = parse(text, res, &m, err, sizeof(err));

	if (rc)
		printf("# unexpected error: %s\n", err);
	return m;
}

static void test_basic(void)
{
	struct om_map *m = must_parse("1 192.168.1.10 1\n2 192.168.1.20 1\n", NULL);
	uint32_t a = 0;
	uint16_t id = 0;

	ok(m != NULL, "basic map parses");
	if (!m)
		return;
	is_int(map_node_count(m), 2, "two nodes");
	is_int(map_addr_of(m, 2, &a), 0, "node 2 found");
	is_int(a, IP(192, 168, 1, 20), "node 2 address");
	is_int(map_id_of(m, IP(192, 168, 1, 10), &id), 0, "address found");
	is_int(id, 1, "address -> node 1");
	is_int(map_addr_of(m, 3, &a), -ENOENT, "node 3 absent");
	is_int(map_id_of(m, IP(192, 168, 1, 11), &id), -ENOENT, "address absent");
	map_free(m);
	map_free(NULL);
}

static void test_syntax(void)
{
	const char *text = "# the cluster\n"
			   "\n"
			   "   \t \n"
			   "0x10\t10.0.0.1   2   # two nodes\r\n"
			   "  3 10.0.0.9 1#tight comment\n"
			   "4 10.0.0.20 0X1";
	struct om_map *m = must_parse(text, NULL);
	uint32_t a = 0;

	ok(m != NULL, "comments, blanks, tabs, CRLF, hex, no final newline");
	if (!m)
		return;
	is_int(map_node_count(m), 4, "four nodes");
	ok(map_addr_of(m, 0x11, &a) == 0 && a == IP(10, 0, 0, 2), "hex id range");
	ok(map_addr_of(m, 3, &a) == 0 && a == IP(10, 0, 0, 9), "comment right after the count");
	map_free(m);
}

static void test_ranges(void)
{
	struct om_map *m = must_parse("1 10.0.0.1 10\n20 10.0.1.1 5\n", NULL);
	uint32_t a = 0;
	uint16_t id = 0;

	ok(m != NULL, "ranges parse");
	if (!m)
		return;
	is_int(map_node_count(m), 15, "15 nodes");
	ok(map_addr_of(m, 5, &a) == 0 && a == IP(10, 0, 0, 5), "node 5 in the first range");
	ok(map_addr_of(m, 10, &a) == 0 && a == IP(10, 0, 0, 10), "last node of the first range");
	is_int(map_addr_of(m, 11, &a), -ENOENT, "gap between ranges");
	ok(map_id_of(m, IP(10, 0, 1, 3), &id) == 0 && id == 22, "address in second range");
	is_int(map_id_of(m, IP(10, 0, 1, 6), &id), -ENOENT, "address past the range");
	ok(map_node_at(m, 10, &id, &a) == 0 && id == 20 && a == IP(10, 0, 1, 1),
		"node_at crosses into the second range");
	ok(map_node_at(m, 0, &id, &a) == 0 && id == 1 && a == IP(10, 0, 0, 1), "node_at 0");
	ok(map_node_at(m, 14, &id, &a) == 0 && id == 24, "node_at last");
	is_int(map_node_at(m, 15, &id, &a), -ENOENT, "node_at past the end");
	map_free(m);

	m = must_parse("1 10.0.0.0 256\n", NULL);
	ok(m && map_node_count(m) == 256, "a whole /24 from .0 to .255");
	map_free(m);
	m = must_parse("65535 10.0.0.255 1\n", NULL);
	ok(m && map_addr_of(m, 65535, &a) == 0 && a == IP(10, 0, 0, 255), "top id, .255");
	map_free(m);
}

static void test_alias(void)
{
	struct om_map *m =
		must_parse("2 192.168.0.2 alias\n1 10.0.0.1 2\n2 172.16.0.2 ALIAS\n", NULL);
	uint32_t a = 0;
	uint16_t id = 0;

	ok(m != NULL, "aliases parse, even before the node's line");
	if (!m)
		return;
	is_int(map_node_count(m), 2, "aliases are not nodes");
	is_int(map_entry_count(m), 3, "one range + two aliases");
	ok(map_id_of(m, IP(192, 168, 0, 2), &id) == 0 && id == 2, "alias -> node");
	ok(map_id_of(m, IP(172, 16, 0, 2), &id) == 0 && id == 2, "second alias -> node");
	ok(map_addr_of(m, 2, &a) == 0 && a == IP(10, 0, 0, 2), "primary address stays");
	map_free(m);
}

static void test_hostnames(void)
{
	struct om_map *m;
	uint32_t a = 0;

	fake_calls = 0;
	expect_err_r("1 node1 1\n2 node2.example.org 1\n3 10.0.0.3 1\n1 node1-alias.x ALIAS\n",
		fake_resolve, "t.map:4: cannot resolve host \"node1-alias.x\"");
	m = must_parse("1 node1 1\n2 node2.example.org 1\n3 10.0.0.3 1\n", fake_resolve);
	ok(m != NULL, "hostnames via the resolver");
	if (m) {
		ok(map_addr_of(m, 1, &a) == 0 && a == IP(192, 168, 1, 1), "node1 resolved");
		ok(map_addr_of(m, 2, &a) == 0 && a == IP(192, 168, 1, 2), "fqdn resolved");
	}
	is_int(fake_calls, 5, "resolver called once per hostname, never for IPs");
	map_free(m);

	expect_err_r(
		"1 node1 1\n4 ghost 1\n", fake_resolve, "t.map:2: cannot resolve host \"ghost\"");
	expect_err_r("1 node1 3\n", fake_resolve,
		"t.map:1: a range of 3 nodes needs an IP address, not hostname \"node1\"");
	expect_err("1 node1 1\n", "t.map:1: hostnames not allowed here: \"node1\"");
	expect_err_r("1 node1 1\n2 node1 1\n", fake_resolve,
		"t.map:2: address 192.168.1.1 already used by node 1 at line 1");
}

static void test_errors(void)
{
	expect_err("1 10.0.0.1\n", "t.map:1: expected \"ID ADDRESS COUNT\", got 2 fields");
	expect_err("\n\n1\n", "t.map:3: expected \"ID ADDRESS COUNT\", got 1 field");
	expect_err("1 10.0.0.1 1 extra\n", "t.map:1: expected \"ID ADDRESS COUNT\", got 4 fields");
	expect_err("1 10.0.0.1 1\n\n70000 10.0.0.2 1\n",
		"t.map:3: node id 70000 out of range (1-65535)");
	expect_err("0 10.0.0.1 1\n", "t.map:1: node id 0 out of range (1-65535)");
	expect_err("99999999999999999999999 10.0.0.1 1\n",
		"t.map:1: node id 99999999999999999999999 out of range (1-65535)");
	expect_err("x 10.0.0.1 1\n", "t.map:1: bad node id \"x\"");
	expect_err("-1 10.0.0.1 1\n", "t.map:1: bad node id \"-1\"");
	expect_err("0x 10.0.0.1 1\n", "t.map:1: bad node id \"0x\"");
	expect_err("1 10.0.0.1 x\n", "t.map:1: bad count \"x\"");
	expect_err("1 10.0.0.1 ALIASES\n", "t.map:1: bad count \"ALIASES\"");
	expect_err("1 10.0.0.1 0\n",
		"t.map:1: count 0: a line needs at least 1 node (ALIAS adds an address)");
	expect_err("1 10.0.0.1 70000\n", "t.map:1: count 70000 out of range (1-65535)");
	expect_err("65530 10.0.0.1 10\n",
		"t.map:1: nodes 65530-65539 go past the last node id (65535)");
	/* clang-format off */
	expect_err("1 10.0.0.250 10\n",
		"t.map:1: a range of 10 nodes from 10.0.0.250 wraps past 10.0.0.255 (ranges count up the last byte only)");
	/* clang-format on */
	expect_err("1 10.0.0.256 1\n", "t.map:1: bad address \"10.0.0.256\"");
	expect_err("1 10.0.0 1\n", "t.map:1: bad address \"10.0.0\"");
	expect_err("1 0x0a000001 1\n", "t.map:1: bad address \"0x0a000001\"");
	expect_err("1 010.0.0.1 1\n", "t.map:1: bad address \"010.0.0.1\"");
	expect_err("1 bad/host 1\n", "t.map:1: bad address \"bad/host\"");
	expect_err("1 \"q\x01\" 1\n", "t.map:1: bad address \"?q??\"");

	/* duplicates, also through ranges; both lines named */
	expect_err("1 10.0.0.1 1\n1 10.0.0.2 1\n", "t.map:2: node 1 already defined at line 1");
	expect_err("1 10.0.0.1 1\n2 10.0.0.2 5\n\n\n\n3 10.0.1.1 1\n",
		"t.map:6: node 3 already defined at line 2");
	expect_err("3 10.0.1.1 1\n1 10.0.0.1 5\n", "t.map:2: node 3 already defined at line 1");
	expect_err("1 10.0.0.1 1\n2 10.0.0.1 1\n",
		"t.map:2: address 10.0.0.1 already used by node 1 at line 1");
	expect_err("1 10.0.0.1 5\n10 10.0.0.3 1\n",
		"t.map:2: address 10.0.0.3 already used by node 3 at line 1");
	expect_err("10 10.0.0.3 1\n1 10.0.0.1 5\n",
		"t.map:2: address 10.0.0.3 already used by node 10 at line 1");
	expect_err("1 10.0.0.1 2\n2 10.0.0.1 ALIAS\n",
		"t.map:2: address 10.0.0.1 already used by node 1 at line 1");
	expect_err("1 10.0.0.1 2\n2 10.0.9.1 ALIAS\n1 10.0.9.1 alias\n",
		"t.map:3: address 10.0.9.1 already used by node 2 at line 2");
	expect_err("1 10.0.0.1 2\n3 10.0.9.1 ALIAS\n",
		"t.map:2: ALIAS for node 3, which no \"ID ADDRESS COUNT\" line defines");
	expect_err("1 10.0.9.1 ALIAS\n",
		"t.map:1: ALIAS for node 1, which no \"ID ADDRESS COUNT\" line defines");

	expect_err("", "t.map: no entries: the map is empty");
	expect_err("# nothing\n\n   # here\n", "t.map: no entries: the map is empty");

	/* several problems: every one reported, in line order */
	expect_err("5 10.0.9.9 ALIAS\n1 10.0.0.1 1\nbad line\n",
		"t.map:1: ALIAS for node 5, which no \"ID ADDRESS COUNT\" line defines\n"
		"t.map:3: expected \"ID ADDRESS COUNT\", got 2 fields");
}

static void test_limits(void)
{
	size_t cap = 300 * 32;
	char *text = malloc(cap), *p;
	struct om_map *m;
	char err[256];
	uint32_t a = 0;
	uint16_t id = 0;
	int rc;

	/* 256 lines (the limit) covering every id 1..65535 */
	p = text;
	for (unsigned k = 0; k < 256; k++)
		p += sprintf(p, "%u 10.%u.0.0 %u\n", 1 + 256 * k, k, k == 255 ? 255 : 256);
	m = must_parse(text, NULL);
	ok(m != NULL, "256 lines, 65535 nodes");
	if (m) {
		is_int(map_node_count(m), 65535, "every id");
		ok(map_node_at(m, 65534, &id, &a) == 0 && id == 65535 && a == IP(10, 255, 0, 254),
			"last node");
		ok(map_id_of(m, IP(10, 128, 0, 77), &id) == 0 && id == 1 + 256 * 128 + 77,
			"address lookup in a big map");
		is_int(map_entry_count(m), 256, "ranges in different /24s stay apart");
	}
	map_free(m);

	/* 257 entry lines: too many */
	p = text;
	for (unsigned k = 0; k < 257; k++)
		p += sprintf(p, "# c\n%u 10.0.%u.1 1\n", k + 1, k % 256);
	rc = parse(text, NULL, &m, err, sizeof(err));
	is_int(rc, -EINVAL, "257 entries rejected");
	is_str(err, "t.map:514: too many entries (the limit is 256 lines)", "too many entries");

	/* a small error buffer truncates safely */
	rc = map_parse("x 1 1\ny 1 1\n", 12, "t.map", NULL, NULL, &m, err, 10);
	is_int(rc, -EINVAL, "error with a tiny buffer");
	is_str(err, "t.map:1: ", "truncated to the buffer");
	rc = map_parse("x 1 1\n", 6, "t.map", NULL, NULL, &m, NULL, 0);
	is_int(rc, -EINVAL, "error with no buffer");

	/* NUL bytes are just bad characters */
	rc = map_parse("1 10.0\0.0.1 1\n", 14, "t.map", NULL, NULL, &m, err, sizeof(err));
	is_int(rc, -EINVAL, "NUL inside a field");
	is_str(err, "t.map:1: bad address \"10.0?.0.1\"", "NUL shown as ?");
	free(text);
}

static void test_self_id(void)
{
	struct om_map *m = must_parse("1 10.0.0.1 4\n3 192.168.7.3 ALIAS\n", NULL);
	uint32_t locals[] = {IP(127, 0, 0, 1), IP(10, 0, 0, 3)};
	uint32_t viaalias[] = {IP(192, 168, 7, 3)};
	uint32_t missing[] = {IP(127, 0, 0, 1), IP(172, 16, 5, 9), IP(10, 9, 9, 9)};
	uint32_t loonly[] = {IP(127, 0, 1, 1)};
	char err[512];
	uint16_t id = 0;

	if (!m) {
		ok(0, "self-id map parses");
		return;
	}
	ok(map_self_id(m, locals, 2, &id, err, sizeof(err)) == 0 && id == 3, "self id found");
	ok(map_self_id(m, viaalias, 1, &id, err, sizeof(err)) == 0 && id == 3, "self id via alias");
	is_int(map_self_id(m, missing, 3, &id, err, sizeof(err)), -ENOENT, "self id not found");
	/* clang-format off */
	is_str(err,
		"the supplied table is well-formatted, but my IP address (172.16.5.9) is not there!\n"
		"hint: check /etc/hosts: this node's hostname must resolve to its address in the map (or use --addr)",
		"original message, first non-loopback address");
	/* clang-format on */
	is_int(map_self_id(m, loonly, 1, &id, err, sizeof(err)), -ENOENT, "only loopback");
	ok(strstr(err, "(127.0.1.1)") != NULL, "loopback shown when it is all there is");
	is_int(map_self_id(m, NULL, 0, &id, err, sizeof(err)), -ENOENT, "no addresses");
	ok(strstr(err, "(unknown)") != NULL, "unknown address");
	map_free(m);
}

static void roundtrip(const char *text, const char *want_fmt)
{
	struct om_map *a = must_parse(text, NULL), *b = NULL, *c;
	char buf[4096], err[256];
	int n;

	ok(a != NULL, "round trip source parses");
	if (!a)
		return;
	n = map_format(a, buf, sizeof(buf));
	ok(n > 0 && (size_t)n == strlen(buf), "format returns its length");
	if (want_fmt)
		is_str(buf, want_fmt, "format text");
	is_int(map_parse(buf, strlen(buf), "fmt", NULL, NULL, &b, err, sizeof(err)), 0,
		"formatted map reparses");
	ok(b && map_equal(a, b), "parse -> format -> parse is equal");
	c = map_dup(a);
	ok(c && map_equal(a, c), "dup is equal");
	map_free(a);
	map_free(b);
	map_free(c);
}

static void test_format(void)
{
	struct om_map *a, *b;
	char buf[64];

	roundtrip("1 10.0.0.1 1\n2 10.0.0.2 1\n3 10.0.0.3 1\n7 10.0.0.9 ALIAS\n7 10.0.5.7 1\n",
		"1 10.0.0.1 3\n7 10.0.5.7 1\n7 10.0.0.9 ALIAS\n");
	/* no merging across a /24, nor across an id or address gap */
	roundtrip("1 10.0.0.255 1\n2 10.0.1.0 1\n3 10.0.1.2 1\n5 10.0.1.3 1\n",
		"1 10.0.0.255 1\n2 10.0.1.0 1\n3 10.0.1.2 1\n5 10.0.1.3 1\n");
	roundtrip("100 192.168.1.1 254\n1 192.168.2.1 ALIAS\n1 192.168.3.1 1\n", NULL);

	a = must_parse("1 10.0.0.1 2\n", NULL);
	b = must_parse("2 10.0.0.2 1\n1 10.0.0.1 1\n", NULL);
	ok(a && b && map_equal(a, b), "same nodes written differently are equal");
	map_free(b);
	b = must_parse("1 10.0.0.1 1\n2 10.0.0.3 1\n", NULL);
	ok(a && b && !map_equal(a, b), "different addresses differ");
	map_free(b);
	b = must_parse("1 10.0.0.1 2\n1 10.0.0.9 ALIAS\n", NULL);
	ok(a && b && !map_equal(a, b), "an alias makes a difference");
	is_int(map_format(a, buf, 5), -ENOSPC, "format: -ENOSPC");
	is_str(buf, "", "format: empty string on -ENOSPC");
	is_int(map_format(a, buf, 0), -ENOSPC, "format: no room at all");
	map_free(a);
	map_free(b);
}

static void test_showmap(void)
{
	struct om_map *m =
		must_parse("2780 192.168.10.220 1\n1 10.0.0.1 3\n1 10.1.0.1 ALIAS\n", NULL);
	char buf[1024];
	int n;

	if (!m) {
		ok(0, "showmap map parses");
		return;
	}
	n = map_format_showmap(m, 0x0adc, buf, sizeof(buf));
	ok(n > 0, "showmap formats");
	is_str(buf,
		"My Node-Id: 0x0adc\n"
		"\n"
		"Base Node-Id Address          Count\n"
		"------------ ---------------- -----\n"
		"0x0001       10.0.0.1         3\n"
		"0x0adc       192.168.10.220   1\n"
		"0x0001       10.1.0.1         ALIAS\n",
		"showmap text");
	is_int(map_format_showmap(m, 1, buf, 40), -ENOSPC, "showmap: -ENOSPC");
	map_free(m);
}

static void test_discovery(void)
{
	struct om_map *m = map_new_empty(), *want;
	uint32_t a = 0;
	uint16_t id = 0;

	is_int(map_id_from_addr(IP(192, 168, 10, 220)), 0x0adc, "id from the last two octets");
	is_int(map_id_from_addr(IP(10, 1, 0, 0)), 0, "x.x.0.0 gives the invalid id 0");
	ok(m && map_node_count(m) == 0, "empty map");
	if (!m)
		return;
	is_int(map_add_node(m, 0, IP(10, 0, 0, 1)), -EINVAL, "id 0 refused");
	is_int(map_add_node(m, 5, IP(10, 0, 0, 5)), 0, "add 5");
	is_int(map_add_node(m, 3, IP(10, 0, 0, 3)), 0, "add 3");
	is_int(map_add_node(m, 4, IP(10, 0, 0, 4)), 0, "add 4 (joins 3 and 5)");
	is_int(map_entry_count(m), 1, "merged into one range");
	is_int(map_add_node(m, 6, IP(10, 0, 0, 6)), 0, "add 6 (extends)");
	is_int(map_add_node(m, 2, IP(10, 0, 0, 2)), 0, "add 2 (extends down)");
	is_int(map_add_node(m, 4, IP(10, 0, 0, 40)), -EEXIST, "id taken");
	is_int(map_add_node(m, 40, IP(10, 0, 0, 4)), -EEXIST, "address taken");
	is_int(map_add_alias(m, 9, IP(10, 9, 0, 1)), -ENOENT, "alias for a missing node");
	is_int(map_add_alias(m, 4, IP(10, 9, 0, 1)), 0, "alias for node 4");
	is_int(map_add_alias(m, 5, IP(10, 9, 0, 1)), -EEXIST, "alias address taken");
	is_int(map_add_node(m, 40, IP(10, 9, 0, 1)), -EEXIST, "alias address taken for a node");
	is_int(map_node_count(m), 5, "five nodes");

	is_int(map_remove_node(m, 4), 0, "remove 4 (splits the range)");
	is_int(map_remove_node(m, 4), -ENOENT, "4 is gone");
	is_int(map_id_of(m, IP(10, 9, 0, 1), &id), -ENOENT, "its alias went with it");
	ok(map_addr_of(m, 5, &a) == 0 && a == IP(10, 0, 0, 5), "5 kept its address");
	is_int(map_remove_node(m, 2), 0, "remove 2 (range start)");
	is_int(map_remove_node(m, 6), 0, "remove 6 (range end)");
	want = must_parse("3 10.0.0.3 1\n5 10.0.0.5 1\n", NULL);
	ok(want && map_equal(m, want), "add/remove gives the parsed equivalent");
	map_free(want);
	is_int(map_remove_node(m, 3), 0, "remove 3 (single)");
	is_int(map_remove_node(m, 5), 0, "remove 5");
	is_int(map_node_count(m), 0, "empty again");
	map_free(m);
}

/* Random adds and removes against a plain table; the map must stay
 * consistent and canonical (equal to one built in id order). */
static void test_random_edits(void)
{
	static uint32_t ref[65536];
	struct om_map *m = map_new_empty(), *rebuilt;
	unsigned long long seed = 12345;
	size_t nodes = 0;
	int bad = 0;

	memset(ref, 0, sizeof(ref));
	for (int step = 0; step < 20000 && m; step++) {
		uint16_t id;
		uint32_t addr;
		int rc;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		id = (uint16_t)(1 + (seed >> 33) % 64);
		addr = IP(10, 0, (seed >> 20) & 1, id + ((seed >> 40) & 1));
		if ((seed >> 50) & 1) {
			bool taken = ref[id] != 0;

			for (unsigned k = 1; k <= 64 && !taken; k++)
				taken = ref[k] == addr;
			rc = map_add_node(m, id, addr);
			if (rc != (taken ? -EEXIST : 0))
				bad++;
			if (!rc) {
				ref[id] = addr;
				nodes++;
			}
		} else {
			rc = map_remove_node(m, id);
			if (rc != (ref[id] ? 0 : -ENOENT))
				bad++;
			if (!rc) {
				ref[id] = 0;
				nodes--;
			}
		}
		if (map_node_count(m) != nodes)
			bad++;
		for (unsigned k = 1; k <= 64; k++) {
			uint32_t a;
			uint16_t back;

			if (ref[k] && (map_addr_of(m, (uint16_t)k, &a) || a != ref[k] ||
					      map_id_of(m, a, &back) || back != k))
				bad++;
			if (!ref[k] && map_addr_of(m, (uint16_t)k, &a) != -ENOENT)
				bad++;
		}
	}
	is_int(bad, 0, "20000 random edits stay consistent");
	rebuilt = map_new_empty();
	for (unsigned k = 1; k <= 64 && rebuilt; k++)
		if (ref[k] && map_add_node(rebuilt, (uint16_t)k, ref[k]))
			bad++;
	ok(m && rebuilt && map_equal(m, rebuilt) && !bad, "edited map is canonical");
	map_free(m);
	map_free(rebuilt);
}

static void test_addr_helpers(void)
{
	uint32_t a = 0;
	char s[MAP_ADDRSTRLEN];

	ok(map_parse_addr("10.0.0.1", &a) == 0 && a == IP(10, 0, 0, 1), "dotted quad");
	ok(map_parse_addr("0.0.0.0", &a) == 0 && a == 0, "zeros");
	ok(map_parse_addr("255.255.255.255", &a) == 0 && a == 0xffffffffu, "all ones");
	is_int(map_parse_addr("10.0.0", &a), -EINVAL, "three parts");
	is_int(map_parse_addr("10.0.0.1.2", &a), -EINVAL, "five parts");
	is_int(map_parse_addr("10.0.0.01", &a), -EINVAL, "leading zero");
	is_int(map_parse_addr("10.0.0.1 ", &a), -EINVAL, "trailing space");
	is_int(map_parse_addr("10..0.1", &a), -EINVAL, "empty part");
	is_int(map_parse_addr("1000.0.0.1", &a), -EINVAL, "four digits");
	is_str(map_addr_str(IP(192, 168, 10, 220), s), "192.168.10.220", "address to text");
}

static int write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static void test_files(void)
{
	char dir[] = "/tmp/test_map.XXXXXX", path[512], want[1024], err[1024];
	struct om_map *m = NULL;
	int rc;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	setenv("OPENMOSIX_ETC", dir, 1);
	is_int(map_find_default(path, sizeof(path)), -ENOENT, "no map file");
	ok(write_text(dir, "hpc.map", "1 10.0.0.1 1\n") == 0, "write hpc.map");
	is_int(map_find_default(path, sizeof(path)), 0, "found a map");
	snprintf(want, sizeof(want), "%s/hpc.map", dir);
	is_str(path, want, "hpc.map last");
	ok(write_text(dir, "mosix.map", "1 10.0.0.1 1\n") == 0, "write mosix.map");
	rc = map_find_default(path, sizeof(path));
	snprintf(want, sizeof(want), "%s/mosix.map", dir);
	ok(rc == 0 && strcmp(path, want) == 0, "mosix.map before hpc.map");
	ok(write_text(dir, "openmosix.map", "1 10.0.0.1 2\n\n3 10.0.0.1 1\n") == 0,
		"write openmosix.map");
	rc = map_find_default(path, sizeof(path));
	snprintf(want, sizeof(want), "%s/openmosix.map", dir);
	ok(rc == 0 && strcmp(path, want) == 0, "openmosix.map first");
	is_int(map_find_default(path, 8), -ENAMETOOLONG, "path buffer too small");

	snprintf(path, sizeof(path), "%s/openmosix.map", dir);
	is_int(map_load_file(path, NULL, NULL, &m, err, sizeof(err)), -EINVAL, "bad file");
	snprintf(want, sizeof(want), "%s:3: address 10.0.0.1 already used by node 1 at line 1",
		path);
	is_str(err, want, "file errors name the file");
	snprintf(path, sizeof(path), "%s/mosix.map", dir);
	is_int(map_load_file(path, NULL, NULL, &m, err, sizeof(err)), 0, "good file loads");
	ok(m && map_node_count(m) == 1, "loaded map");
	map_free(m);
	snprintf(path, sizeof(path), "%s/none.map", dir);
	is_int(map_load_file(path, NULL, NULL, &m, err, sizeof(err)), -ENOENT, "missing file");
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	is_str(err, want, "missing file message");

	unsetenv("OPENMOSIX_ETC");
	snprintf(path, sizeof(path), "%s/openmosix.map", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mosix.map", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hpc.map", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_basic();
	test_syntax();
	test_ranges();
	test_alias();
	test_hostnames();
	test_errors();
	test_limits();
	test_self_id();
	test_format();
	test_showmap();
	test_discovery();
	test_random_edits();
	test_addr_helpers();
	test_files();
	return tap_done();
}
