/* idset: numeric id ranges (see idset.h). */
#include "lib/idset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* one decimal id at *p, advancing it; 0 or -EINVAL */
static int id_at(const char **p, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX) /* (uid_t)-1 means "no id" */
			return -EINVAL;
	}
	*p = s;
	*out = (uint32_t)v;
	return 0;
}

int idset_parse(const char *s, struct idset *out, const char **why)
{
	const char *p = s;
	static const char *dummy;

	if (!why)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	if (!s || !*s) {
		*why = "empty";
		return -EINVAL;
	}
	if (!strcmp(s, "all")) {
		out->all = true;
		return 0;
	}
	for (;;) {
		uint32_t lo, hi;

		if (id_at(&p, &lo)) {
			*why = "an id must be a number below 4294967295";
			return -EINVAL;
		}
		hi = lo;
		if (*p == '-') {
			p++;
			if (id_at(&p, &hi)) {
				*why = "a range must be LO-HI";
				return -EINVAL;
			}
			if (hi < lo) {
				*why = "a range must not run backwards";
				return -EINVAL;
			}
		}
		if (out->n == IDSET_MAX_RANGES) {
			*why = "too many ranges";
			return -E2BIG;
		}
		out->r[out->n].lo = lo;
		out->r[out->n].hi = hi;
		out->n++;
		if (!*p)
			return 0;
		if (*p != ',' || !p[1]) {
			*why = "ids and ranges are separated by commas";
			return -EINVAL;
		}
		p++;
	}
}

bool idset_has(const struct idset *set, uint32_t id)
{
	if (set->all)
		return true;
	for (unsigned i = 0; i < set->n; i++)
		if (id >= set->r[i].lo && id <= set->r[i].hi)
			return true;
	return false;
}

int idset_format(const struct idset *set, char *buf, size_t cap)
{
	size_t len = 0;

	if (!cap)
		return -ENOBUFS;
	buf[0] = 0;
	if (set->all)
		return snprintf(buf, cap, "all") < (int)cap ? 3 : -ENOBUFS;
	for (unsigned i = 0; i < set->n; i++) {
		int k = set->r[i].lo == set->r[i].hi ?
			snprintf(buf + len, cap - len, "%s%u", i ? "," : "", set->r[i].lo) :
			snprintf(buf + len, cap - len, "%s%u-%u", i ? "," : "", set->r[i].lo,
				set->r[i].hi);

		if (k < 0 || (size_t)k >= cap - len)
			return -ENOBUFS;
		len += (size_t)k;
	}
	return (int)len;
}
