/* wire: big-endian packing and a bounded cursor for building and reading
 * wire formats (header only, no allocation, no I/O).
 *
 * The put/get helpers work on a pointer the caller has already
 * bounds-checked. The cursors do the checking themselves: a write past
 * `cap` or a read past `len` sets a sticky `err` flag, writes nothing and
 * reads zeroes, so a codec can pack or unpack a whole record and test
 * `err` once at the end.
 *
 *	struct wire_reader r = WIRE_READER(buf, len);
 *	id = wire_get16(&r);
 *	speed = wire_get32(&r);
 *	if (r.err || wire_left(&r))
 *		return -EBADMSG;
 */
#ifndef OM_PROTO_WIRE_H
#define OM_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void wire_put_u8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}

static inline void wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void wire_put_u64(uint8_t *p, uint64_t v)
{
	wire_put_u32(p, (uint32_t)(v >> 32));
	wire_put_u32(p + 4, (uint32_t)v);
}

static inline uint8_t wire_get_u8(const uint8_t *p)
{
	return p[0];
}

static inline uint16_t wire_get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t wire_get_u64(const uint8_t *p)
{
	return (uint64_t)wire_get_u32(p) << 32 | wire_get_u32(p + 4);
}

/* A writer over buf[0..cap). `len` is the number of bytes written so far. */
struct wire_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool err; /* set by the first write that did not fit */
};

/* A reader over buf[0..len). `pos` is the number of bytes consumed. */
struct wire_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool err; /* set by the first read past the end */
};

#define WIRE_WRITER(b, c) ((struct wire_writer){.buf = (b), .cap = (c)})
#define WIRE_READER(b, l) ((struct wire_reader){.buf = (b), .len = (l)})

/* Reserve n bytes in the writer: a pointer to them, or NULL (and err set). */
static inline uint8_t *wire_reserve(struct wire_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err || n > w->cap - w->len) {
		w->err = true;
		return NULL;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static inline void wire_put8(struct wire_writer *w, uint8_t v)
{
	uint8_t *p = wire_reserve(w, 1);

	if (p)
		wire_put_u8(p, v);
}

static inline void wire_put16(struct wire_writer *w, uint16_t v)
{
	uint8_t *p = wire_reserve(w, 2);

	if (p)
		wire_put_u16(p, v);
}

static inline void wire_put32(struct wire_writer *w, uint32_t v)
{
	uint8_t *p = wire_reserve(w, 4);

	if (p)
		wire_put_u32(p, v);
}

static inline void wire_put64(struct wire_writer *w, uint64_t v)
{
	uint8_t *p = wire_reserve(w, 8);

	if (p)
		wire_put_u64(p, v);
}

static inline void wire_put_bytes(struct wire_writer *w, const void *src, size_t n)
{
	uint8_t *p = wire_reserve(w, n);

	if (p && n)
		memcpy(p, src, n);
}

/* Take n bytes from the reader: a pointer to them, or NULL (and err set). */
static inline const uint8_t *wire_take(struct wire_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->pos) {
		r->err = true;
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static inline size_t wire_left(const struct wire_reader *r)
{
	return r->len - r->pos;
}

static inline uint8_t wire_get8(struct wire_reader *r)
{
	const uint8_t *p = wire_take(r, 1);

	return p ? wire_get_u8(p) : 0;
}

static inline uint16_t wire_get16(struct wire_reader *r)
{
	const uint8_t *p = wire_take(r, 2);

	return p ? wire_get_u16(p) : 0;
}

static inline uint32_t wire_get32(struct wire_reader *r)
{
	const uint8_t *p = wire_take(r, 4);

	return p ? wire_get_u32(p) : 0;
}

static inline uint64_t wire_get64(struct wire_reader *r)
{
	const uint8_t *p = wire_take(r, 8);

	return p ? wire_get_u64(p) : 0;
}

/* Copy n bytes out; on overrun dst is zero-filled and err set. */
static inline void wire_get_bytes(struct wire_reader *r, void *dst, size_t n)
{
	const uint8_t *p = wire_take(r, n);

	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

#endif
