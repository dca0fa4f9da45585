/* map: the cluster map. See map.h and openmosix.map(5). */
#include "map/map.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

/*
 * A span is a range of nodes (count >= 1) or an alias (count == 0, one
 * address). The map keeps three sorted arrays of spans:
 *   ranges:  the node ranges by base id, never overlapping; `first` is the
 *            index of the range's first node in id order (for map_node_at);
 *   byaddr:  the same ranges sorted by address (for map_id_of);
 *   aliases: the aliases sorted by address.
 * Every range lies within one /24 (it counts up the last byte only), and
 * outside parsing the ranges are maximal: two neighbours that continue each
 * other (next id, next address, same /24) are always merged. That makes the
 * representation canonical, so map_equal() can compare arrays.
 */
struct span {
	uint32_t addr;
	uint32_t count;
	uint32_t first;
	uint16_t base;
	unsigned line;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

struct om_map {
	struct spans ranges;
	struct spans byaddr;
	struct spans aliases;
	size_t nodes;
};

/* ---- sorted span arrays ---- */

static uint32_t span_naddr(const struct span *s)
{
	return s->count ? s->count : 1;
}

static uint32_t span_last_id(const struct span *s)
{
	return (uint32_t)s->base + s->count - 1;
}

static uint32_t span_last_addr(const struct span *s)
{
	return s->addr + span_naddr(s) - 1;
}

static int spans_insert(struct spans *s, size_t at, const struct span *e)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct span *v = realloc(s->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = ncap;
	}
	memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
	s->v[at] = *e;
	s->n++;
	return 0;
}

static void spans_delete(struct spans *s, size_t at)
{
	memmove(&s->v[at], &s->v[at + 1], (s->n - at - 1) * sizeof(*s->v));
	s->n--;
}

static int spans_copy(struct spans *dst, const struct spans *src)
{
	dst->n = dst->cap = 0;
	dst->v = NULL;
	if (!src->n)
		return 0;
	dst->v = malloc(src->n * sizeof(*dst->v));
	if (!dst->v)
		return -ENOMEM;
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
	return 0;
}

/* index of the first span whose base is > id */
static size_t upper_by_base(const struct spans *s, uint32_t id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].base <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* index of the first span whose addr is > a */
static size_t upper_by_addr(const struct spans *s, uint32_t a)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* the range that holds node id, or -1 */
static ssize_t find_id(const struct spans *s, uint32_t id)
{
	size_t i = upper_by_base(s, id);

	if (i > 0 && id <= span_last_id(&s->v[i - 1]))
		return (ssize_t)i - 1;
	return -1;
}

/* the span that holds address a, or -1 */
static ssize_t find_addr(const struct spans *s, uint32_t a)
{
	size_t i = upper_by_addr(s, a);

	if (i > 0 && a <= span_last_addr(&s->v[i - 1]))
		return (ssize_t)i - 1;
	return -1;
}

/* The first span overlapping ids [lo, hi]: its index (or -1), and the first id in common. */
static ssize_t overlap_id(const struct spans *s, uint32_t lo, uint32_t hi, uint32_t *at)
{
	size_t i = upper_by_base(s, lo);

	if (i > 0 && span_last_id(&s->v[i - 1]) >= lo) {
		*at = lo;
		return (ssize_t)i - 1;
	}
	if (i < s->n && s->v[i].base <= hi) {
		*at = s->v[i].base;
		return (ssize_t)i;
	}
	return -1;
}

/* Same for addresses [lo, hi]. */
static ssize_t overlap_addr(const struct spans *s, uint32_t lo, uint32_t hi, uint32_t *at)
{
	size_t i = upper_by_addr(s, lo);

	if (i > 0 && span_last_addr(&s->v[i - 1]) >= lo) {
		*at = lo;
		return (ssize_t)i - 1;
	}
	if (i < s->n && s->v[i].addr <= hi) {
		*at = s->v[i].addr;
		return (ssize_t)i;
	}
	return -1;
}

/* r continues l: next id, next address, same /24 */
static bool chainable(const struct span *l, const struct span *r)
{
	return (uint32_t)l->base + l->count == r->base && (uint64_t)l->addr + l->count == r->addr &&
	       (l->addr >> 8) == (r->addr >> 8);
}

static void recount(struct om_map *m)
{
	size_t total = 0;

	for (size_t i = 0; i < m->ranges.n; i++) {
		m->ranges.v[i].first = (uint32_t)total;
		total += m->ranges.v[i].count;
	}
	m->nodes = total;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* Merge continuing ranges and rebuild the address index (after parsing). */
static int canonicalize(struct om_map *m)
{
	struct spans *r = &m->ranges;
	size_t w = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (w > 0 && chainable(&r->v[w - 1], &r->v[i])) {
			r->v[w - 1].count += r->v[i].count;
			continue;
		}
		r->v[w++] = r->v[i];
	}
	r->n = w;
	free(m->byaddr.v);
	if (spans_copy(&m->byaddr, r))
		return -ENOMEM;
	if (m->byaddr.n)
		qsort(m->byaddr.v, m->byaddr.n, sizeof(*m->byaddr.v), cmp_addr);
	recount(m);
	return 0;
}

/* ---- addresses ---- */

/* strict dotted quad from p[0..len) */
static int addr_from(const char *p, size_t len, uint32_t *out)
{
	uint32_t a = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0) {
			if (i >= len || p[i] != '.')
				return -EINVAL;
			i++;
		}
		while (i < len && isdigit((unsigned char)p[i]) && digits < 4) {
			v = v * 10 + (unsigned)(p[i] - '0');
			digits++;
			i++;
		}
		/* no leading zeros: "010" could mean 8 to other tools */
		if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && p[i - digits] == '0'))
			return -EINVAL;
		a = a << 8 | v;
	}
	if (i != len)
		return -EINVAL;
	*out = a;
	return 0;
}

int map_parse_addr(const char *s, uint32_t *addr)
{
	return addr_from(s, strlen(s), addr);
}

const char *map_addr_str(uint32_t a, char buf[MAP_ADDRSTRLEN])
{
	snprintf(buf, MAP_ADDRSTRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		a & 0xff);
	return buf;
}

int map_resolve_dns(const char *host, uint32_t *addr_out, void *arg)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res;
	int rc;

	rc = getaddrinfo(host, NULL, &hints, &res);
	switch (rc) {
	case 0:
		break;
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
	case EAI_FAIL:
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	default:
		return -EINVAL;
	}
	rc = -ENOENT;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;

			*addr_out = ntohl(sin->sin_addr.s_addr);
			rc = 0;
			break;
		}
	}
	freeaddrinfo(res);
	return rc;
}

/* ---- parsing ---- */

#define MAP_MSG_MAX 200
#define MAP_TOK_SHOW 40

struct tok {
	const char *p;
	size_t len;
};

struct perr {
	unsigned line;
	unsigned seq;
	char msg[MAP_MSG_MAX];
};

/* one accepted ALIAS line, checked once every range is known */
struct palias {
	uint16_t id;
	uint32_t addr;
	unsigned line;
};

struct pstate {
	struct om_map *m;
	struct perr *errs;
	size_t nerr, caperr;
	struct palias *aliases;
	size_t nalias;
	map_resolve_fn resolve;
	void *arg;
};

/* At most one error per entry line, one for "too many", one for "empty". */
#define MAP_MAX_ERRS (MAP_MAX_ENTRIES + 2)

static void __attribute__((format(printf, 3, 4)))
perr_add(struct pstate *ps, unsigned line, const char *fmt, ...)
{
	struct perr *e;
	va_list ap;

	if (ps->nerr >= ps->caperr)
		return;
	e = &ps->errs[ps->nerr];
	e->line = line;
	e->seq = (unsigned)ps->nerr;
	ps->nerr++;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* A token fit for an error message: printable, at most MAP_TOK_SHOW chars. */
static const char *show(struct tok t, char buf[MAP_TOK_SHOW + 4])
{
	size_t n = t.len < MAP_TOK_SHOW ? t.len : MAP_TOK_SHOW;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t.p[i];

		buf[i] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	if (t.len > n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* decimal, or hex with 0x; saturates above UINT32_MAX */
static int num_from(struct tok t, uint64_t *out)
{
	const char *p = t.p;
	size_t len = t.len;
	unsigned base = 10;
	uint64_t v = 0;

	if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		len -= 2;
	}
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		unsigned d;

		if (isdigit(c))
			d = c - '0';
		else if (base == 16 && isxdigit(c))
			d = (unsigned)(tolower(c) - 'a' + 10);
		else
			return -EINVAL;
		v = v * base + d;
		if (v > UINT32_MAX)
			v = (uint64_t)UINT32_MAX + 1;
	}
	*out = v;
	return 0;
}

enum addr_kind { ADDR_BAD, ADDR_IP, ADDR_HOST };

static enum addr_kind classify(struct tok t, uint32_t *addr)
{
	bool numeric = isdigit((unsigned char)t.p[0]);

	if (addr_from(t.p, t.len, addr) == 0)
		return ADDR_IP;
	/* looks like a number (10.0.0.256, 0x0a000001): never a hostname */
	for (size_t i = 0; i < t.len && numeric; i++) {
		unsigned char c = (unsigned char)t.p[i];

		if (!isxdigit(c) && c != '.' && c != 'x' && c != 'X')
			numeric = false;
	}
	if (numeric || t.len > 253 || !isalnum((unsigned char)t.p[0]))
		return ADDR_BAD;
	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.p[i];

		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return ADDR_BAD;
	}
	return ADDR_HOST;
}

/* Check one range against the map so far and insert it. */
static int add_parsed_range(struct pstate *ps, const struct span *sp)
{
	struct om_map *m = ps->m;
	char a[MAP_ADDRSTRLEN];
	uint32_t at;
	ssize_t k;

	k = overlap_id(&m->ranges, sp->base, span_last_id(sp), &at);
	if (k >= 0) {
		perr_add(ps, sp->line, "node %u already defined at line %u", at,
			m->ranges.v[k].line);
		return 0;
	}
	k = overlap_addr(&m->byaddr, sp->addr, span_last_addr(sp), &at);
	if (k >= 0) {
		const struct span *o = &m->byaddr.v[k];

		perr_add(ps, sp->line, "address %s already used by node %u at line %u",
			map_addr_str(at, a), (unsigned)(o->base + (at - o->addr)), o->line);
		return 0;
	}
	if (spans_insert(&m->ranges, upper_by_base(&m->ranges, sp->base), sp))
		return -ENOMEM;
	if (spans_insert(&m->byaddr, upper_by_addr(&m->byaddr, sp->addr), sp))
		return -ENOMEM;
	return 0;
}

static int add_parsed_alias(struct pstate *ps, const struct palias *pa)
{
	struct om_map *m = ps->m;
	struct span sp = {.addr = pa->addr, .count = 0, .base = pa->id, .line = pa->line};
	char a[MAP_ADDRSTRLEN];
	ssize_t k;

	if (find_id(&m->ranges, pa->id) < 0) {
		perr_add(ps, pa->line,
			"ALIAS for node %u, which no \"ID ADDRESS COUNT\" line defines", pa->id);
		return 0;
	}
	k = find_addr(&m->byaddr, pa->addr);
	if (k >= 0) {
		const struct span *o = &m->byaddr.v[k];

		perr_add(ps, pa->line, "address %s already used by node %u at line %u",
			map_addr_str(pa->addr, a), (unsigned)(o->base + (pa->addr - o->addr)),
			o->line);
		return 0;
	}
	k = find_addr(&m->aliases, pa->addr);
	if (k >= 0) {
		perr_add(ps, pa->line, "address %s already used by node %u at line %u",
			map_addr_str(pa->addr, a), m->aliases.v[k].base, m->aliases.v[k].line);
		return 0;
	}
	return spans_insert(&m->aliases, upper_by_addr(&m->aliases, pa->addr), &sp);
}

/* One entry line, split into nf fields (the first three in f). 0 or -ENOMEM;
 * a problem with the line is recorded in ps. */
static int parse_line(struct pstate *ps, unsigned line, const struct tok *f, size_t nf)
{
	char s[MAP_TOK_SHOW + 4], a[MAP_ADDRSTRLEN], b[MAP_ADDRSTRLEN];
	char host[254];
	enum addr_kind kind;
	uint64_t id, count = 0;
	bool alias = false;
	uint32_t addr = 0;
	int rc;

	if (nf != 3) {
		perr_add(ps, line, "expected \"ID ADDRESS COUNT\", got %zu field%s", nf,
			nf == 1 ? "" : "s");
		return 0;
	}
	if (num_from(f[0], &id)) {
		perr_add(ps, line, "bad node id \"%s\"", show(f[0], s));
		return 0;
	}
	if (id < 1 || id > MAP_MAX_ID) {
		perr_add(ps, line, "node id %s out of range (1-%u)", show(f[0], s), MAP_MAX_ID);
		return 0;
	}
	if (f[2].len == 5 && strncasecmp(f[2].p, "ALIAS", 5) == 0) {
		alias = true;
	} else if (num_from(f[2], &count)) {
		perr_add(ps, line, "bad count \"%s\"", show(f[2], s));
		return 0;
	} else if (count == 0) {
		perr_add(ps, line, "count 0: a line needs at least 1 node (ALIAS adds an address)");
		return 0;
	} else if (count > MAP_MAX_ID) {
		perr_add(ps, line, "count %s out of range (1-%u)", show(f[2], s), MAP_MAX_ID);
		return 0;
	} else if (id + count - 1 > MAP_MAX_ID) {
		perr_add(ps, line, "nodes %u-%u go past the last node id (%u)", (unsigned)id,
			(unsigned)(id + count - 1), MAP_MAX_ID);
		return 0;
	}

	kind = classify(f[1], &addr);
	if (kind == ADDR_BAD) {
		perr_add(ps, line, "bad address \"%s\"", show(f[1], s));
		return 0;
	}
	if (kind == ADDR_HOST) {
		if (count > 1) {
			perr_add(ps, line,
				"a range of %u nodes needs an IP address, not hostname \"%s\"",
				(unsigned)count, show(f[1], s));
			return 0;
		}
		if (!ps->resolve) {
			perr_add(ps, line, "hostnames not allowed here: \"%s\"", show(f[1], s));
			return 0;
		}
		memcpy(host, f[1].p, f[1].len);
		host[f[1].len] = '\0';
		rc = ps->resolve(host, &addr, ps->arg);
		if (rc == -ENOMEM)
			return rc;
		if (rc) {
			perr_add(ps, line, "cannot resolve host \"%s\"", show(f[1], s));
			return 0;
		}
	}
	if (!alias && (addr & 0xff) + count > 256) {
		/* clang-format off */
		perr_add(ps, line, "a range of %u nodes from %s wraps past %s (ranges count up the last byte only)",
			(unsigned)count, map_addr_str(addr, a), map_addr_str(addr | 0xff, b));
		/* clang-format on */
		return 0;
	}

	if (alias) {
		struct palias *pa = &ps->aliases[ps->nalias++];

		pa->id = (uint16_t)id;
		pa->addr = addr;
		pa->line = line;
		return 0;
	}
	struct span sp = {
		.addr = addr, .count = (uint32_t)count, .base = (uint16_t)id, .line = line};

	return add_parsed_range(ps, &sp);
}

static int cmp_err(const void *a, const void *b)
{
	const struct perr *x = a, *y = b;

	if (x->line != y->line)
		return (x->line > y->line) - (x->line < y->line);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Append to err (always NUL-terminated, silently truncated). */
static void __attribute__((format(printf, 4, 5)))
err_append(char *err, size_t cap, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || *used + 1 >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err + *used, cap - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = MIN(*used + (size_t)n, cap - 1);
}

static void report(struct pstate *ps, const char *fname, char *err, size_t errcap)
{
	size_t used = 0;

	if (err && errcap)
		err[0] = '\0';
	qsort(ps->errs, ps->nerr, sizeof(*ps->errs), cmp_err);
	for (size_t i = 0; i < ps->nerr; i++) {
		const struct perr *e = &ps->errs[i];
		const char *nl = i ? "\n" : "";

		if (e->line)
			err_append(err, errcap, &used, "%s%s:%u: %s", nl, fname, e->line, e->msg);
		else
			err_append(err, errcap, &used, "%s%s: %s", nl, fname, e->msg);
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int map_parse(const char *text, size_t len, const char *fname, map_resolve_fn resolve, void *arg,
	struct om_map **out, char *err, size_t errcap)
{
	struct pstate ps = {.resolve = resolve, .arg = arg};
	const char *p = text, *end = text + len;
	size_t entries = 0;
	unsigned line = 0;
	int rc = -ENOMEM;

	*out = NULL;
	if (err && errcap)
		err[0] = '\0';
	if (!fname)
		fname = "(map)";
	ps.m = map_new_empty();
	ps.errs = malloc(MAP_MAX_ERRS * sizeof(*ps.errs));
	ps.aliases = malloc(MAP_MAX_ENTRIES * sizeof(*ps.aliases));
	if (!ps.m || !ps.errs || !ps.aliases)
		goto out_free;
	ps.caperr = MAP_MAX_ERRS;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *hash;
		struct tok f[3];
		size_t nf = 0;

		line++;
		hash = memchr(p, '#', (size_t)(le - p));
		if (hash)
			le = hash;
		while (p < le) {
			const char *s;

			while (p < le && is_space(*p))
				p++;
			if (p == le)
				break;
			s = p;
			while (p < le && !is_space(*p))
				p++;
			if (nf < ARRAY_SIZE(f))
				f[nf] = (struct tok){s, (size_t)(p - s)};
			nf++;
		}
		p = eol ? eol + 1 : end;
		if (nf == 0)
			continue;
		if (++entries > MAP_MAX_ENTRIES) {
			perr_add(&ps, line, "too many entries (the limit is %d lines)",
				MAP_MAX_ENTRIES);
			break;
		}
		rc = parse_line(&ps, line, f, nf);
		if (rc)
			goto out_free;
	}
	/* aliases may name a node defined further down, so they come last */
	for (size_t i = 0; i < ps.nalias; i++) {
		rc = add_parsed_alias(&ps, &ps.aliases[i]);
		if (rc)
			goto out_free;
	}
	if (entries == 0)
		perr_add(&ps, 0, "no entries: the map is empty");
	if (ps.nerr) {
		report(&ps, fname, err, errcap);
		rc = -EINVAL;
		goto out_free;
	}
	rc = canonicalize(ps.m);
	if (rc)
		goto out_free;
	*out = ps.m;
	ps.m = NULL;
out_free:
	if (rc == -ENOMEM && err && errcap)
		snprintf(err, errcap, "%s: out of memory", fname);
	map_free(ps.m);
	free(ps.errs);
	free(ps.aliases);
	return rc;
}

int map_load_file(const char *path, map_resolve_fn resolve, void *arg, struct om_map **out,
	char *err, size_t errcap)
{
	size_t cap = MAP_MAX_FILE + 2;
	char *buf;
	ssize_t n;
	int rc;

	*out = NULL;
	buf = malloc(cap);
	if (!buf) {
		if (err && errcap)
			snprintf(err, errcap, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = read_file(path, buf, cap);
	if (n < 0) {
		rc = (int)n;
		if (err && errcap)
			snprintf(err, errcap, "%s: %s", path, strerror(-rc));
		goto out_free;
	}
	if ((size_t)n > MAP_MAX_FILE) {
		rc = -EFBIG;
		if (err && errcap)
			snprintf(err, errcap, "%s: file too large (the limit is %u bytes)", path,
				MAP_MAX_FILE);
		goto out_free;
	}
	rc = map_parse(buf, (size_t)n, path, resolve, arg, out, err, errcap);
out_free:
	free(buf);
	return rc;
}

int map_find_default(char *path, size_t cap)
{
	static const char *const names[] = {"openmosix.map", "mosix.map", "hpc.map"};
	const char *etc = getenv("OPENMOSIX_ETC");

	if (!etc || !*etc)
		etc = "/etc";
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct stat st;

		if (xsnprintf(path, cap, "%s/%s", etc, names[i]))
			return -ENAMETOOLONG;
		if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
			return 0;
	}
	if (cap)
		path[0] = '\0';
	return -ENOENT;
}

/* ---- building and changing ---- */

struct om_map *map_new_empty(void)
{
	return calloc(1, sizeof(struct om_map));
}

void map_free(struct om_map *m)
{
	if (!m)
		return;
	free(m->ranges.v);
	free(m->byaddr.v);
	free(m->aliases.v);
	free(m);
}

struct om_map *map_dup(const struct om_map *m)
{
	struct om_map *d = map_new_empty();

	if (!d)
		return NULL;
	if (spans_copy(&d->ranges, &m->ranges) || spans_copy(&d->byaddr, &m->byaddr) ||
		spans_copy(&d->aliases, &m->aliases)) {
		map_free(d);
		return NULL;
	}
	d->nodes = m->nodes;
	return d;
}

static bool addr_taken(const struct om_map *m, uint32_t a)
{
	return find_addr(&m->byaddr, a) >= 0 || find_addr(&m->aliases, a) >= 0;
}

int map_add_node(struct om_map *m, uint16_t id, uint32_t addr)
{
	struct span nw = {.addr = addr, .count = 1, .base = id};
	struct spans *r = &m->ranges;
	struct span *l, *h;
	bool jl, jh;
	size_t i;

	if (id == 0)
		return -EINVAL;
	if (find_id(r, id) >= 0 || addr_taken(m, addr))
		return -EEXIST;
	i = upper_by_base(r, id);
	l = i > 0 ? &r->v[i - 1] : NULL;
	h = i < r->n ? &r->v[i] : NULL;
	jl = l && chainable(l, &nw);
	jh = h && chainable(&nw, h);
	if (jl && jh) {
		ssize_t kl = find_addr(&m->byaddr, l->addr), kh = find_addr(&m->byaddr, h->addr);

		l->count += 1 + h->count;
		m->byaddr.v[kl] = *l;
		spans_delete(r, i);
		spans_delete(&m->byaddr, (size_t)kh);
	} else if (jl) {
		ssize_t kl = find_addr(&m->byaddr, l->addr);

		l->count++;
		m->byaddr.v[kl] = *l;
	} else if (jh) {
		ssize_t kh = find_addr(&m->byaddr, h->addr);

		/* the address just below h is free, so h keeps its place by address */
		h->base--;
		h->addr--;
		h->count++;
		m->byaddr.v[kh] = *h;
	} else {
		if (spans_insert(r, i, &nw))
			return -ENOMEM;
		if (spans_insert(&m->byaddr, upper_by_addr(&m->byaddr, addr), &nw)) {
			spans_delete(r, i);
			return -ENOMEM;
		}
	}
	recount(m);
	return 0;
}

int map_add_alias(struct om_map *m, uint16_t id, uint32_t addr)
{
	struct span sp = {.addr = addr, .count = 0, .base = id};

	if (find_id(&m->ranges, id) < 0)
		return -ENOENT;
	if (addr_taken(m, addr))
		return -EEXIST;
	return spans_insert(&m->aliases, upper_by_addr(&m->aliases, addr), &sp);
}

int map_remove_node(struct om_map *m, uint16_t id)
{
	struct spans *r = &m->ranges;
	ssize_t k = find_id(r, id), ka;
	struct span *sp;
	uint32_t off;
	size_t w;

	if (k < 0)
		return -ENOENT;
	sp = &r->v[k];
	ka = find_addr(&m->byaddr, sp->addr);
	off = (uint32_t)id - sp->base;
	if (sp->count == 1) {
		spans_delete(r, (size_t)k);
		spans_delete(&m->byaddr, (size_t)ka);
	} else if (off == 0) {
		sp->base++;
		sp->addr++;
		sp->count--;
		m->byaddr.v[ka] = *sp;
	} else if (off == sp->count - 1) {
		sp->count--;
		m->byaddr.v[ka] = *sp;
	} else {
		struct span hi = *sp;

		hi.base = (uint16_t)(id + 1);
		hi.addr = sp->addr + off + 1;
		hi.count = sp->count - off - 1;
		if (spans_insert(r, (size_t)k + 1, &hi))
			return -ENOMEM;
		/* the low part keeps the lower addresses, so hi goes right after it */
		if (spans_insert(&m->byaddr, (size_t)ka + 1, &hi)) {
			spans_delete(r, (size_t)k + 1);
			return -ENOMEM;
		}
		sp = &r->v[k]; /* the insert may have moved the array */
		sp->count = off;
		m->byaddr.v[ka] = *sp;
	}
	w = 0;
	for (size_t i = 0; i < m->aliases.n; i++)
		if (m->aliases.v[i].base != id)
			m->aliases.v[w++] = m->aliases.v[i];
	m->aliases.n = w;
	recount(m);
	return 0;
}

/* ---- queries ---- */

static bool spans_equal(const struct spans *a, const struct spans *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].base != b->v[i].base || a->v[i].count != b->v[i].count ||
			a->v[i].addr != b->v[i].addr)
			return false;
	return true;
}

bool map_equal(const struct om_map *a, const struct om_map *b)
{
	return spans_equal(&a->ranges, &b->ranges) && spans_equal(&a->aliases, &b->aliases);
}

size_t map_node_count(const struct om_map *m)
{
	return m->nodes;
}

int map_node_at(const struct om_map *m, size_t idx, uint16_t *id, uint32_t *addr)
{
	const struct spans *r = &m->ranges;
	size_t lo = 0, hi = r->n;

	if (idx >= m->nodes)
		return -ENOENT;
	/* the last range whose first node is <= idx */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid].first <= idx)
			lo = mid;
		else
			hi = mid;
	}
	*id = (uint16_t)(r->v[lo].base + (idx - r->v[lo].first));
	*addr = r->v[lo].addr + (uint32_t)(idx - r->v[lo].first);
	return 0;
}

int map_addr_of(const struct om_map *m, uint16_t id, uint32_t *addr)
{
	ssize_t k = find_id(&m->ranges, id);

	if (k < 0)
		return -ENOENT;
	*addr = m->ranges.v[k].addr + ((uint32_t)id - m->ranges.v[k].base);
	return 0;
}

int map_id_of(const struct om_map *m, uint32_t addr, uint16_t *id)
{
	ssize_t k = find_addr(&m->byaddr, addr);

	if (k >= 0) {
		*id = (uint16_t)(m->byaddr.v[k].base + (addr - m->byaddr.v[k].addr));
		return 0;
	}
	k = find_addr(&m->aliases, addr);
	if (k >= 0) {
		*id = m->aliases.v[k].base;
		return 0;
	}
	return -ENOENT;
}

size_t map_entry_count(const struct om_map *m)
{
	return m->ranges.n + m->aliases.n;
}

int map_entry_at(const struct om_map *m, size_t idx, struct map_entry *e)
{
	const struct span *sp;

	if (idx < m->ranges.n)
		sp = &m->ranges.v[idx];
	else if (idx - m->ranges.n < m->aliases.n)
		sp = &m->aliases.v[idx - m->ranges.n];
	else
		return -ENOENT;
	*e = (struct map_entry){
		.base = sp->base, .count = sp->count, .addr = sp->addr, .line = sp->line};
	return 0;
}

static bool is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

int map_self_id(const struct om_map *m, const uint32_t *local_addrs, size_t n, uint16_t *id,
	char *err, size_t errcap)
{
	char a[MAP_ADDRSTRLEN];
	const char *shown = "unknown";

	for (size_t i = 0; i < n; i++)
		if (map_id_of(m, local_addrs[i], id) == 0)
			return 0;
	if (n > 0) {
		size_t pick = 0;

		for (size_t i = 0; i < n; i++) {
			if (!is_loopback(local_addrs[i])) {
				pick = i;
				break;
			}
		}
		shown = map_addr_str(local_addrs[pick], a);
	}
	if (err && errcap)
		snprintf(err, errcap,
			/* clang-format off */
			"the supplied table is well-formatted, but my IP address (%s) is not there!\n"
			"hint: check /etc/hosts: this node's hostname must resolve to its address in the map (or use --addr)",
			/* clang-format on */
			shown);
	return -ENOENT;
}

uint16_t map_id_from_addr(uint32_t addr)
{
	return (uint16_t)(addr & 0xffff);
}

/* ---- text output ---- */

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void __attribute__((format(printf, 2, 3))) out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

static int out_done(struct out *o)
{
	if (o->full || o->len > INT32_MAX) {
		if (o->cap)
			o->buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o->len;
}

int map_format(const struct om_map *m, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap, .full = cap == 0};
	char a[MAP_ADDRSTRLEN];

	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < m->ranges.n; i++) {
		const struct span *sp = &m->ranges.v[i];

		out_printf(&o, "%u %s %u\n", sp->base, map_addr_str(sp->addr, a), sp->count);
	}
	for (size_t i = 0; i < m->aliases.n; i++) {
		const struct span *sp = &m->aliases.v[i];

		out_printf(&o, "%u %s ALIAS\n", sp->base, map_addr_str(sp->addr, a));
	}
	return out_done(&o);
}

int map_format_showmap(const struct om_map *m, uint16_t my_id, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap, .full = cap == 0};
	char a[MAP_ADDRSTRLEN], id[8], cnt[12];

	if (cap)
		buf[0] = '\0';
	out_printf(&o, "My Node-Id: 0x%04x\n\n", my_id);
	out_printf(&o, "Base Node-Id Address          Count\n");
	out_printf(&o, "------------ ---------------- -----\n");
	for (size_t i = 0; i < map_entry_count(m); i++) {
		const struct span *sp =
			i < m->ranges.n ? &m->ranges.v[i] : &m->aliases.v[i - m->ranges.n];

		snprintf(id, sizeof(id), "0x%04x", sp->base);
		if (sp->count)
			snprintf(cnt, sizeof(cnt), "%u", sp->count);
		else
			snprintf(cnt, sizeof(cnt), "ALIAS");
		out_printf(&o, "%-12s %-16s %s\n", id, map_addr_str(sp->addr, a), cnt);
	}
	return out_done(&o);
}
