/* mask: cluster masks (see mask.h). */
#include "balance/mask.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void om_mask_set(struct om_mask *m, uint16_t id, bool listed)
{
	if (id < 1 || id > OM_MASK_NODES)
		return;
	if (listed)
		m->bits[(id - 1) / 64] |= 1ull << ((id - 1) % 64);
	else
		m->bits[(id - 1) / 64] &= ~(1ull << ((id - 1) % 64));
}

bool om_mask_listed(const struct om_mask *m, uint16_t id)
{
	if (id < 1 || id > OM_MASK_NODES)
		return false;
	return m->bits[(id - 1) / 64] >> ((id - 1) % 64) & 1;
}

bool om_mask_permits(const struct om_mask *m, uint16_t id, uint16_t home)
{
	if (!m->on || id == home)
		return true;
	return om_mask_listed(m, id) == m->allow;
}

static int parse_id(const char **p, unsigned long *out)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(*p, &end, 10);
	if (errno || *out < 1 || *out > OM_MASK_NODES)
		return -EINVAL;
	*p = end;
	return 0;
}

int om_mask_parse(const char *s, struct om_mask *m)
{
	const char *p = s;

	memset(m->bits, 0, sizeof(m->bits));
	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		char *end;
		unsigned long long v;

		if (!p[2])
			return -EINVAL;
		errno = 0;
		v = strtoull(p + 2, &end, 16);
		if (errno || end == p + 2)
			return -EINVAL;
		while (*end == ' ' || *end == '\t' || *end == '\n')
			end++;
		if (*end)
			return -EINVAL;
		m->bits[0] = v;
		return 0;
	}
	while (*p && *p != '\n') {
		unsigned long a, b;

		if (parse_id(&p, &a))
			return -EINVAL;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_id(&p, &b) || b < a)
				return -EINVAL;
		}
		for (unsigned long id = a; id <= b; id++)
			om_mask_set(m, (uint16_t)id, true);
		if (*p == ',' || *p == ' ')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return 0;
}

int om_mask_format(const struct om_mask *m, char *buf, size_t cap)
{
	size_t len = 0;
	unsigned id = 1;

	if (cap)
		buf[0] = '\0';
	while (id <= OM_MASK_NODES) {
		unsigned end;
		int w;

		if (!om_mask_listed(m, (uint16_t)id)) {
			id++;
			continue;
		}
		end = id;
		while (end + 1 <= OM_MASK_NODES && om_mask_listed(m, (uint16_t)(end + 1)))
			end++;
		if (end == id)
			w = snprintf(buf + len, cap - len, "%s%u", len ? "," : "", id);
		else
			w = snprintf(buf + len, cap - len, "%s%u-%u", len ? "," : "", id, end);
		if (w < 0 || (size_t)w >= cap - len)
			return -ENOSPC;
		len += (size_t)w;
		id = end + 1;
	}
	return (int)len;
}
