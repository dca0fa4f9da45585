/* idset: a set of numeric ids (user ids) written as ranges, as an admin
 * types them: "1000-1999,2500" or "all". Pure; fuzzed (fuzz/fuzz_idset.c).
 */
#ifndef OM_LIB_IDSET_H
#define OM_LIB_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDSET_MAX_RANGES 32

struct idset {
	bool all;    /* "all": every id */
	unsigned n;  /* ranges used */
	struct { uint32_t lo, hi; } r[IDSET_MAX_RANGES];
};

/* Parse s: "all", or comma-separated ids and ranges LO-HI (LO <= HI, each
 * 0..4294967294), no spaces. 0, or -EINVAL (malformed; *why names the
 * fault) or -E2BIG (more than IDSET_MAX_RANGES items). */
int idset_parse(const char *s, struct idset *out, const char **why);

bool idset_has(const struct idset *set, uint32_t id);

/* The canonical text ("all" or the ranges as given, LO-HI or LO), into
 * buf[0..cap); returns its length or -ENOBUFS. */
int idset_format(const struct idset *set, char *buf, size_t cap);

#endif
