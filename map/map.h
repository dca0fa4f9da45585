/* map: the cluster map, node id <-> IPv4 address.
 *
 * The map file (/etc/openmosix.map, else /etc/mosix.map, else /etc/hpc.map)
 * holds lines "ID ADDRESS COUNT" (COUNT consecutive nodes on consecutive
 * addresses, counting up the last byte) and "ID ADDRESS ALIAS" (an extra
 * address for an existing node). See openmosix.map(5).
 *
 * The map stores ranges, not expanded nodes: a full 65535-node map costs a
 * few hundred ranges, and every lookup is a binary search. It is kept in a
 * canonical form (adjacent ranges that continue each other are merged), so
 * map_equal() compares meaning, not how the file was written.
 *
 * Parsing is pure: no I/O, no logging; hostname resolution goes through a
 * caller-supplied callback (none: hostnames are refused). Errors are written
 * as "FILE:LINE: problem" lines (several joined by '\n') into a caller buffer.
 *
 * Addresses are IPv4 in host byte order (10.0.0.1 == 0x0a000001).
 */
#ifndef OM_MAP_H
#define OM_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define MAP_MAX_ENTRIES 256	/* entry lines in a map file (the original's limit) */
#define MAP_MAX_ID 65535u	/* node ids are 1..65535 */
#define MAP_MAX_FILE (1u << 20) /* map_load_file() refuses larger files */
#define MAP_ADDRSTRLEN 16	/* "255.255.255.255" + NUL */
/* map_format() needs at most this per entry (+1 for the NUL) */
#define MAP_FORMAT_LINE_MAX 32
/* map_format_showmap() needs at most this per entry, plus MAP_SHOWMAP_HEAD_MAX */
#define MAP_SHOWMAP_LINE_MAX 40
#define MAP_SHOWMAP_HEAD_MAX 128

/* One line of the map: a range of nodes, or an alias (count == 0). */
struct map_entry {
	uint16_t base;	/* first node id (the node, for an alias) */
	uint32_t count; /* nodes base..base+count-1; 0 for ALIAS */
	uint32_t addr;	/* address of node `base`; the others count up */
	unsigned line;	/* line of the map file that defined it; 0 if added */
};

struct om_map;

/* Resolves a hostname to an IPv4 address (host order). 0 or -errno. */
typedef int (*map_resolve_fn)(const char *host, uint32_t *addr_out, void *arg);

/* The real resolver (getaddrinfo, AF_INET; blocks). arg is unused. */
int map_resolve_dns(const char *host, uint32_t *addr_out, void *arg) __must_check;

/* Parse a map held in text[0..len). fname names it in error messages.
 * resolve may be NULL: then hostnames are an error. On success *out is a
 * new map (caller frees with map_free()). Returns 0, -EINVAL if the text is
 * not a valid map (all problems described in err), or -ENOMEM. */
int map_parse(const char *text, size_t len, const char *fname, map_resolve_fn resolve, void *arg,
	struct om_map **out, char *err, size_t errcap) __must_check;

/* Read and parse a map file (at most MAP_MAX_FILE bytes). As map_parse(),
 * plus -errno from reading (described in err). */
int map_load_file(const char *path, map_resolve_fn resolve, void *arg, struct om_map **out,
	char *err, size_t errcap) __must_check;

/* The first of openmosix.map, mosix.map, hpc.map that exists in /etc (or
 * in $OPENMOSIX_ETC). 0, -ENOENT if none, -ENAMETOOLONG. */
int map_find_default(char *path, size_t cap) __must_check;

/* An empty map, for autodiscovery; NULL if out of memory. */
struct om_map *map_new_empty(void);
/* A deep copy; NULL if out of memory. */
struct om_map *map_dup(const struct om_map *m);
/* NULL is fine. */
void map_free(struct om_map *m);

/* Add node id at addr: 0, -EINVAL (id 0), -EEXIST (id or addr taken), -ENOMEM. */
int map_add_node(struct om_map *m, uint16_t id, uint32_t addr) __must_check;
/* Add an extra address for node id: 0, -ENOENT (no such node), -EEXIST, -ENOMEM. */
int map_add_alias(struct om_map *m, uint16_t id, uint32_t addr) __must_check;
/* Remove node id and its aliases: 0, -ENOENT, -ENOMEM (splitting a range). */
int map_remove_node(struct om_map *m, uint16_t id) __must_check;

/* Same nodes, addresses and aliases (line numbers are not compared). */
bool map_equal(const struct om_map *a, const struct om_map *b);

/* Number of nodes (aliases excluded). */
size_t map_node_count(const struct om_map *m);
/* Node idx (0..map_node_count()-1) in ascending id order: 0 or -ENOENT. */
int map_node_at(const struct om_map *m, size_t idx, uint16_t *id, uint32_t *addr) __must_check;
/* Primary address of node id: 0 or -ENOENT. */
int map_addr_of(const struct om_map *m, uint16_t id, uint32_t *addr) __must_check;
/* The node that owns addr (aliases too): 0 or -ENOENT. */
int map_id_of(const struct om_map *m, uint32_t addr, uint16_t *id) __must_check;

/* Entries as map_format() writes them: ranges by id, then aliases by address. */
size_t map_entry_count(const struct om_map *m);
int map_entry_at(const struct om_map *m, size_t idx, struct map_entry *e) __must_check;

/* This node's id: the first of local_addrs that is in the map. 0, or
 * -ENOENT with the original's message (and a hint) in err. */
int map_self_id(const struct om_map *m, const uint32_t *local_addrs, size_t n, uint16_t *id,
	char *err, size_t errcap) __must_check;

/* Autodiscovery's id: the last two octets (256 * o3 + o4); 0 is not valid. */
uint16_t map_id_from_addr(uint32_t addr);

/* setpe -r format: "ID ADDRESS COUNT" lines (maximal ranges), then
 * "ID ADDRESS ALIAS" lines; map_parse() reads it back to an equal map.
 * Returns bytes written (NUL excluded) or -ENOSPC. */
int map_format(const struct om_map *m, char *buf, size_t cap) __must_check;
/* showmap's table, headed by "My Node-Id: 0x%04x". Bytes or -ENOSPC. */
int map_format_showmap(const struct om_map *m, uint16_t my_id, char *buf, size_t cap) __must_check;

/* Strict dotted quad ("10.0.0.1"; no short or octal forms): 0 or -EINVAL. */
int map_parse_addr(const char *s, uint32_t *addr) __must_check;
/* addr as a dotted quad into buf; returns buf. */
const char *map_addr_str(uint32_t addr, char buf[MAP_ADDRSTRLEN]);

#endif
