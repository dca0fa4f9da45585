/* Fuzz target for map_parse(): no resolver (never DNS). A map that parses
 * must format, reparse to an equal map, and answer lookups consistently;
 * a mismatch is a bug and aborts. */
#include "map/map.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lookups(const struct om_map *m)
{
	size_t n = map_node_count(m);
	/* sample big maps so each input stays fast */
	size_t step = n > 512 ? n / 256 : 1;
	uint16_t prev = 0;

	for (size_t i = 0; i < n; i += step) {
		uint16_t id, back;
		uint32_t addr, a2;

		if (map_node_at(m, i, &id, &addr))
			abort();
		if (id == 0 || (i > 0 && id <= prev))
			abort();
		if (map_addr_of(m, id, &a2) || a2 != addr)
			abort();
		if (map_id_of(m, addr, &back) || back != id)
			abort();
		prev = id;
	}
	{
		uint16_t id;
		uint32_t addr;

		if (map_node_at(m, n, &id, &addr) != -ENOENT)
			abort();
	}
	for (size_t i = 0; i < map_entry_count(m); i++) {
		struct map_entry e;
		uint16_t id;

		if (map_entry_at(m, i, &e) || map_id_of(m, e.addr, &id))
			abort();
		if (id != e.base)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct om_map *m = NULL, *again = NULL, *copy;
	char err[1024];
	size_t cap;
	char *buf;
	int n;

	if (map_parse((const char *)data, size, "fuzz", NULL, NULL, &m, err, sizeof(err)))
		return 0;
	check_lookups(m);

	cap = (map_entry_count(m) + 4) * MAP_SHOWMAP_LINE_MAX + MAP_SHOWMAP_HEAD_MAX;
	buf = malloc(cap);
	if (!buf)
		abort();
	n = map_format(m, buf, map_entry_count(m) * MAP_FORMAT_LINE_MAX + 1);
	if (n < 0 || (size_t)n != strlen(buf))
		abort();
	if (map_parse(buf, (size_t)n, "fuzz-fmt", NULL, NULL, &again, err, sizeof(err)))
		abort();
	if (!map_equal(m, again))
		abort();
	if (map_format_showmap(m, 1, buf, cap) < 0)
		abort();
	copy = map_dup(m);
	if (!copy || !map_equal(m, copy))
		abort();
	/* removing and re-adding the first node gives the same map back
	 * (less its aliases, which go with it) */
	{
		bool has_alias = false;
		struct map_entry e;
		uint16_t id;
		uint32_t addr;

		if (map_node_at(copy, 0, &id, &addr) || map_remove_node(copy, id))
			abort();
		if (map_equal(m, copy) || map_node_count(copy) + 1 != map_node_count(m))
			abort();
		if (map_add_node(copy, id, addr))
			abort();
		for (size_t i = 0; map_entry_at(m, i, &e) == 0; i++)
			if (e.count == 0 && e.base == id)
				has_alias = true;
		if (!has_alias && !map_equal(m, copy))
			abort();
		if (map_node_count(copy) != map_node_count(m))
			abort();
	}
	map_free(copy);
	free(buf);
	map_free(again);
	map_free(m);
	return 0;
}
