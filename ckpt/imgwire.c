/* imgwire: encode and incrementally decode checkpoint images. */
#include "ckpt/imgwire.h"
#include "lib/log.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { SEC_META = 1, SEC_REGION = 2, SEC_DATA = 3, SEC_END = 0xffff };

#define NREGS 27
static_assert(sizeof(struct user_regs_struct) == NREGS * 8, "user_regs_struct layout");
/* pid, personality, comm, regs, mm(11), tid, robust(2), rseq(3), mask, pending,
 * sigact, altstack sp/size, altstack flags, xstate/auxv/cmdline lengths */
#define META_FIXED (4 + 4 + 16 + NREGS * 8 + 11 * 8 + 8 + 16 + 24 + 8 + 8 + CKPT_NSIG * 32 + \
		    16 + 4 + 12)
#define META_MAX (META_FIXED + CKPT_XSTATE_MAX + CKPT_AUXV_MAX * 8 + CKPT_CMDLINE_MAX)
#define RDESC_LEN 40
#define MIN_SZ(a, b) ((a) < (b) ? (a) : (b))
/* a CKPT_RF_FILEMAP region's descriptor ends with the file's size and
 * mtime */
#define RFILE_LEN 16
#define RDESC_MAX (RDESC_LEN + RFILE_LEN + CKPT_WIRE_NAME_MAX)
#define DEC_BUF (META_MAX > RDESC_MAX ? META_MAX : RDESC_MAX)

/* ---- big-endian packing ---- */

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
	return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
	return p + 8;
}

static uint16_t get16(const uint8_t **p)
{
	uint16_t v = (uint16_t)((*p)[0] << 8 | (*p)[1]);

	*p += 2;
	return v;
}

static uint32_t get32(const uint8_t **p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | (*p)[i];
	*p += 4;
	return v;
}

static uint64_t get64(const uint8_t **p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | (*p)[i];
	*p += 8;
	return v;
}

/* ---- encoder ---- */

static uint64_t meta_len(const struct ckpt_image *img)
{
	return META_FIXED + img->xstate_len + (uint64_t)img->auxv_words * 8 + img->cmdline_len;
}

static size_t name_len(const struct ckpt_region *r)
{
	size_t n = r->name ? strlen(r->name) : 0;

	return n > CKPT_WIRE_NAME_MAX ? CKPT_WIRE_NAME_MAX : n;	/* informational */
}

static uint64_t region_len(const struct ckpt_region *r)
{
	return RDESC_LEN + (r->flags & CKPT_RF_FILEMAP ? RFILE_LEN : 0) + name_len(r);
}

/* DATA sections of a region's contents: their total size on the wire */
static uint64_t data_wire_len(const struct ckpt_region *r)
{
	uint64_t len = r->end - r->start;

	if (!(r->flags & CKPT_RF_DATA))
		return 0;
	return len + (len + CKPT_WIRE_CHUNK - 1) / CKPT_WIRE_CHUNK * CKPT_WIRE_DATA_HDR;
}

uint64_t ckpt_image_encoded_size(const struct ckpt_image *img)
{
	uint64_t n = CKPT_WIRE_HDR_LEN + CKPT_WIRE_SEC_LEN + meta_len(img) + CKPT_WIRE_SEC_LEN;

	for (uint32_t i = 0; i < img->nr_regions; i++)
		n += CKPT_WIRE_SEC_LEN + region_len(&img->regions[i]) +
		     data_wire_len(&img->regions[i]);
	return n;
}

static uint8_t *put_sec(uint8_t *p, uint16_t type, uint64_t len)
{
	p = put16(p, type);
	p = put16(p, 0);
	p = put32(p, 0);
	return put64(p, len);
}

void ckpt_wire_data_hdr(uint8_t out[CKPT_WIRE_DATA_HDR], uint64_t addr, uint64_t len)
{
	put64(put_sec(out, SEC_DATA, 8 + len), addr);
}

void ckpt_wire_end(uint8_t out[CKPT_WIRE_SEC_LEN])
{
	put_sec(out, SEC_END, 0);
}

static void encode_meta(const struct ckpt_image *img, uint8_t *p)
{
	uint64_t regs[NREGS];

	p = put32(p, img->pid);
	p = put32(p, img->personality);
	memcpy(p, img->comm, 16);
	p += 16;
	memcpy(regs, &img->regs, sizeof(regs));
	for (int i = 0; i < NREGS; i++)
		p = put64(p, regs[i]);
	p = put64(p, img->mm.start_code);
	p = put64(p, img->mm.end_code);
	p = put64(p, img->mm.start_data);
	p = put64(p, img->mm.end_data);
	p = put64(p, img->mm.start_brk);
	p = put64(p, img->mm.brk);
	p = put64(p, img->mm.start_stack);
	p = put64(p, img->mm.arg_start);
	p = put64(p, img->mm.arg_end);
	p = put64(p, img->mm.env_start);
	p = put64(p, img->mm.env_end);
	p = put64(p, img->clear_child_tid);
	p = put64(p, img->robust_list);
	p = put64(p, img->robust_len);
	p = put64(p, img->rseq_ptr);
	p = put64(p, img->rseq_len);
	p = put64(p, img->rseq_sig);
	p = put64(p, img->sigmask);
	p = put64(p, img->sigpending);
	for (int i = 0; i < CKPT_NSIG; i++) {
		p = put64(p, img->sigact[i].handler);
		p = put64(p, img->sigact[i].flags);
		p = put64(p, img->sigact[i].restorer);
		p = put64(p, img->sigact[i].mask);
	}
	p = put64(p, img->altstack_sp);
	p = put64(p, img->altstack_size);
	p = put32(p, img->altstack_flags);
	p = put32(p, img->xstate_len);
	p = put32(p, img->auxv_words);
	p = put32(p, img->cmdline_len);
	if (img->xstate_len)
		memcpy(p, img->xstate, img->xstate_len);
	p += img->xstate_len;
	for (uint32_t i = 0; i < img->auxv_words; i++)
		p = put64(p, img->auxv[i]);
	if (img->cmdline_len)
		memcpy(p, img->cmdline, img->cmdline_len);
}

int ckpt_image_encode_layout(const struct ckpt_image *img, ckpt_write_fn fn, void *ctx)
{
	uint64_t mlen = meta_len(img);
	uint8_t *buf, *p;
	int err;

	if (ckpt_image_validate(img)) {
		pr_err("encode: the image is inconsistent");
		return -EINVAL;
	}
	buf = malloc(CKPT_WIRE_HDR_LEN + CKPT_WIRE_SEC_LEN + mlen);
	if (!buf)
		return -ENOMEM;
	p = put32(buf, CKPT_WIRE_MAGIC);
	p = put16(p, CKPT_WIRE_VERSION);
	p = put16(p, CKPT_WIRE_HDR_LEN);
	p = put64(p, ckpt_image_encoded_size(img));
	p = put32(p, img->nr_regions);
	p = put32(p, (uint32_t)mlen);
	p = put64(p, ckpt_image_data_bytes(img));
	p = put_sec(p, SEC_META, mlen);
	encode_meta(img, p);
	err = fn(ctx, buf, CKPT_WIRE_HDR_LEN + CKPT_WIRE_SEC_LEN + mlen);
	free(buf);
	for (uint32_t i = 0; !err && i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];
		uint8_t d[CKPT_WIRE_SEC_LEN + RDESC_LEN + RFILE_LEN];
		size_t nl = name_len(r);
		bool fm = r->flags & CKPT_RF_FILEMAP;

		p = put_sec(d, SEC_REGION, region_len(r));
		p = put64(p, r->start);
		p = put64(p, r->end);
		p = put32(p, r->prot);
		p = put32(p, r->flags);
		p = put64(p, r->pgoff);
		p = put32(p, (uint32_t)nl);
		p = put32(p, 0);
		if (fm) {
			p = put64(p, r->file_size);
			put64(p, r->file_mtime_ns);
		}
		err = fn(ctx, d, sizeof(d) - (fm ? 0 : RFILE_LEN));
		if (!err && nl)
			err = fn(ctx, r->name, nl);
	}
	return err;
}

int ckpt_image_encode(const struct ckpt_image *img, ckpt_write_fn fn, void *ctx)
{
	uint8_t h[CKPT_WIRE_DATA_HDR];
	int err;

	if (img->lazy) {
		pr_err("encode: the image holds no contents");
		return -EINVAL;
	}
	err = ckpt_image_encode_layout(img, fn, ctx);
	for (uint32_t i = 0; !err && i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];
		uint64_t len = r->end - r->start;

		if (!(r->flags & CKPT_RF_DATA))
			continue;
		for (uint64_t off = 0; !err && off < len; off += CKPT_WIRE_CHUNK) {
			uint64_t n = MIN_SZ(CKPT_WIRE_CHUNK, len - off);

			ckpt_wire_data_hdr(h, r->start + off, n);
			err = fn(ctx, h, sizeof(h));
			if (!err)
				err = fn(ctx, (const uint8_t *)r->data + off, n);
		}
	}
	if (!err) {
		ckpt_wire_end(h);
		err = fn(ctx, h, CKPT_WIRE_SEC_LEN);
	}
	return err;
}

/* ---- decoder ---- */

enum dstate { D_HDR, D_SEC, D_META, D_RDESC, D_DADDR, D_DATA, D_DONE, D_DEAD };

struct ckpt_decoder {
	enum dstate st;
	struct ckpt_decode_limits lim;
	struct ckpt_decode_sink sink;
	bool has_sink;
	uint8_t *buf;		/* the fixed-size piece being gathered */
	size_t need, have;
	uint64_t consumed;	/* bytes taken so far */
	uint64_t total, data_bytes, data_seen, sec_len, prev_end;
	uint32_t nr_regions, meta_len;
	bool meta_seen, layout_done;
	uint32_t dreg;		/* the region whose contents come next */
	uint64_t doff;		/* how far into it */
	uint64_t dleft;		/* contents left in the current DATA section */
	struct ckpt_image *img;
};

struct ckpt_decoder *ckpt_image_decode_new_sink(const struct ckpt_decode_limits *lim,
	const struct ckpt_decode_sink *sink)
{
	struct ckpt_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->buf = malloc(DEC_BUF);
	d->img = ckpt_image_new();
	if (!d->buf || !d->img) {
		ckpt_image_decode_free(d);
		return NULL;
	}
	d->lim.max_data_bytes = 64ULL << 30;
	d->lim.max_regions = CKPT_MAX_REGIONS;
	if (lim) {
		if (lim->max_data_bytes)
			d->lim.max_data_bytes = lim->max_data_bytes;
		if (lim->max_regions && lim->max_regions < CKPT_MAX_REGIONS)
			d->lim.max_regions = lim->max_regions;
	}
	if (sink) {
		d->sink = *sink;
		d->has_sink = true;
	}
	d->st = D_HDR;
	d->need = CKPT_WIRE_HDR_LEN;
	return d;
}

struct ckpt_decoder *ckpt_image_decode_new(const struct ckpt_decode_limits *lim)
{
	return ckpt_image_decode_new_sink(lim, NULL);
}

void ckpt_image_decode_free(struct ckpt_decoder *d)
{
	if (!d)
		return;
	ckpt_image_free(d->img);
	free(d->buf);
	free(d);
}

struct ckpt_image *ckpt_image_decode_take(struct ckpt_decoder *d)
{
	struct ckpt_image *img;

	if (d->st != D_DONE)
		return NULL;
	img = d->img;
	d->img = NULL;
	return img;
}

static int dec_hdr(struct ckpt_decoder *d)
{
	const uint8_t *p = d->buf;

	if (get32(&p) != CKPT_WIRE_MAGIC || get16(&p) != CKPT_WIRE_VERSION ||
	    get16(&p) != CKPT_WIRE_HDR_LEN)
		return -EBADMSG;
	d->total = get64(&p);
	d->nr_regions = get32(&p);
	d->meta_len = get32(&p);
	d->data_bytes = get64(&p);
	if (d->nr_regions > d->lim.max_regions || d->meta_len < META_FIXED ||
	    d->meta_len > META_MAX || d->data_bytes > d->lim.max_data_bytes ||
	    d->data_bytes % CKPT_PAGE_SIZE)
		return -EBADMSG;
	/* the smallest image these counts allow must fit in the total */
	if (d->total < CKPT_WIRE_HDR_LEN + 2ULL * CKPT_WIRE_SEC_LEN + d->meta_len +
			       (uint64_t)d->nr_regions * (CKPT_WIRE_SEC_LEN + RDESC_LEN) +
			       d->data_bytes)
		return -EBADMSG;
	d->st = D_SEC;
	d->need = CKPT_WIRE_SEC_LEN;
	return 0;
}

/* skip to the next region with contents (d->dreg == nr_regions: none left) */
static void next_data_region(struct ckpt_decoder *d)
{
	while (d->dreg < d->img->nr_regions && !(d->img->regions[d->dreg].flags & CKPT_RF_DATA))
		d->dreg++;
}

/* Every region is in, contents are next: check the layout as a whole and
 * hand it over. 0, -EBADMSG, or the sink's error (also in *sink_err). */
static int dec_layout(struct ckpt_decoder *d, int *sink_err)
{
	struct ckpt_image *img = d->img;
	uint64_t sum = 0;
	int err;

	if (!d->meta_seen || img->nr_regions != d->nr_regions)
		return -EBADMSG;
	for (uint32_t i = 0; i < img->nr_regions; i++)
		if (img->regions[i].flags & CKPT_RF_DATA)
			sum += img->regions[i].end - img->regions[i].start;
	img->lazy = true; /* no contents yet */
	if (sum != d->data_bytes || ckpt_image_validate(img))
		return -EBADMSG;
	d->layout_done = true;
	d->dreg = 0;
	d->doff = 0;
	next_data_region(d);
	if (d->has_sink) {
		err = d->sink.layout(d->sink.ctx, img);
		if (err)
			*sink_err = err;
		return err;
	}
	img->lazy = false; /* contents are kept, allocated as they come */
	return 0;
}

static int dec_sec(struct ckpt_decoder *d, int *sink_err)
{
	const uint8_t *p = d->buf;
	uint16_t type = get16(&p);
	int err;

	if (get16(&p) || get32(&p))
		return -EBADMSG;
	d->sec_len = get64(&p);
	if (d->sec_len > d->total - d->consumed)
		return -EBADMSG;
	switch (type) {
	case SEC_META:
		if (d->meta_seen || d->sec_len != d->meta_len)
			return -EBADMSG;
		d->st = D_META;
		d->need = d->meta_len;
		return 0;
	case SEC_REGION:
		if (!d->meta_seen || d->layout_done || d->img->nr_regions >= d->nr_regions ||
		    d->sec_len < RDESC_LEN || d->sec_len > RDESC_MAX)
			return -EBADMSG;
		d->st = D_RDESC;
		d->need = RDESC_LEN;
		return 0;
	case SEC_DATA:
	case SEC_END:
		if (!d->layout_done && (err = dec_layout(d, sink_err)))
			return err;
		break;
	default:
		return -EBADMSG;
	}
	if (type == SEC_DATA) {
		const struct ckpt_region *r;

		if (d->dreg >= d->img->nr_regions)
			return -EBADMSG; /* no contents left to carry */
		r = &d->img->regions[d->dreg];
		d->dleft = MIN_SZ(CKPT_WIRE_CHUNK, r->end - r->start - d->doff);
		if (d->sec_len != 8 + d->dleft)
			return -EBADMSG;
		d->st = D_DADDR;
		d->need = 8;
		return 0;
	}
	if (d->sec_len || d->dreg != d->img->nr_regions || d->data_seen != d->data_bytes ||
	    d->consumed != d->total || ckpt_image_validate(d->img))
		return -EBADMSG;
	d->st = D_DONE;
	return 0;
}

static int dec_daddr(struct ckpt_decoder *d)
{
	struct ckpt_region *r = &d->img->regions[d->dreg];
	const uint8_t *p = d->buf;

	if (get64(&p) != r->start + d->doff)
		return -EBADMSG;
	if (!d->has_sink && !r->data) {
		r->data = ckpt_data_alloc(r->end - r->start, false);
		if (!r->data)
			return -ENOMEM;
	}
	d->st = D_DATA;
	return 0;
}

static int dec_meta(struct ckpt_decoder *d)
{
	struct ckpt_image *img = d->img;
	const uint8_t *p = d->buf;
	uint64_t regs[NREGS];

	img->pid = get32(&p);
	img->personality = get32(&p);
	if (p[15])
		return -EBADMSG;	/* comm is NUL terminated */
	memcpy(img->comm, p, 16);
	p += 16;
	for (int i = 0; i < NREGS; i++)
		regs[i] = get64(&p);
	memcpy(&img->regs, regs, sizeof(regs));
	img->mm.start_code = get64(&p);
	img->mm.end_code = get64(&p);
	img->mm.start_data = get64(&p);
	img->mm.end_data = get64(&p);
	img->mm.start_brk = get64(&p);
	img->mm.brk = get64(&p);
	img->mm.start_stack = get64(&p);
	img->mm.arg_start = get64(&p);
	img->mm.arg_end = get64(&p);
	img->mm.env_start = get64(&p);
	img->mm.env_end = get64(&p);
	img->clear_child_tid = get64(&p);
	img->robust_list = get64(&p);
	img->robust_len = get64(&p);
	img->rseq_ptr = get64(&p);
	img->rseq_len = get64(&p);
	img->rseq_sig = get64(&p);
	img->sigmask = get64(&p);
	img->sigpending = get64(&p);
	for (int i = 0; i < CKPT_NSIG; i++) {
		img->sigact[i].handler = get64(&p);
		img->sigact[i].flags = get64(&p);
		img->sigact[i].restorer = get64(&p);
		img->sigact[i].mask = get64(&p);
	}
	img->altstack_sp = get64(&p);
	img->altstack_size = get64(&p);
	img->altstack_flags = get32(&p);
	img->xstate_len = get32(&p);
	img->auxv_words = get32(&p);
	img->cmdline_len = get32(&p);
	if (img->xstate_len > CKPT_XSTATE_MAX || img->auxv_words > CKPT_AUXV_MAX ||
	    img->auxv_words % 2 || img->cmdline_len > CKPT_CMDLINE_MAX ||
	    (uint64_t)META_FIXED + img->xstate_len + img->auxv_words * 8ULL + img->cmdline_len !=
		    d->meta_len) {
		img->xstate_len = img->auxv_words = img->cmdline_len = 0;
		return -EBADMSG;
	}
	if ((img->xstate_len && !(img->xstate = malloc(img->xstate_len))) ||
	    (img->auxv_words && !(img->auxv = malloc(img->auxv_words * 8ULL))) ||
	    (img->cmdline_len && !(img->cmdline = malloc(img->cmdline_len))))
		return -ENOMEM;
	if (img->xstate_len)
		memcpy(img->xstate, p, img->xstate_len);
	p += img->xstate_len;
	for (uint32_t i = 0; i < img->auxv_words; i++)
		img->auxv[i] = get64(&p);
	if (img->cmdline_len)
		memcpy(img->cmdline, p, img->cmdline_len);
	d->meta_seen = true;
	d->st = D_SEC;
	d->need = CKPT_WIRE_SEC_LEN;
	return 0;
}

static int dec_rdesc(struct ckpt_decoder *d)
{
	struct ckpt_region r;
	const uint8_t *p = d->buf;
	uint32_t nl, fl;
	int err;

	memset(&r, 0, sizeof(r));
	r.start = get64(&p);
	r.end = get64(&p);
	r.prot = get32(&p);
	r.flags = get32(&p);
	r.pgoff = get64(&p);
	nl = get32(&p);
	fl = r.flags & CKPT_RF_FILEMAP ? RFILE_LEN : 0;
	if (get32(&p) || r.start < d->prev_end || r.start >= r.end || r.end > CKPT_TASK_SIZE ||
	    (r.start | r.end) % CKPT_PAGE_SIZE || r.prot & ~7u ||
	    r.flags & ~(uint32_t)CKPT_RF_ALL || nl > CKPT_WIRE_NAME_MAX ||
	    ((r.flags & CKPT_RF_DATA) && (r.flags & CKPT_RF_SPECIAL)) ||
	    ((r.flags & CKPT_RF_FILEMAP) &&
	     ((r.flags & (CKPT_RF_DATA | CKPT_RF_SPECIAL | CKPT_RF_STACK)) || !nl)) ||
	    d->sec_len != RDESC_LEN + fl + nl)
		return -EBADMSG;
	if ((r.flags & CKPT_RF_DATA) && r.end - r.start > d->data_bytes - d->data_seen)
		return -EBADMSG;
	if ((nl || fl) && d->need == RDESC_LEN) { /* more follows: keep the descriptor */
		d->need = RDESC_LEN + fl + nl;
		d->have = RDESC_LEN;
		return 0;
	}
	if (fl) {
		r.file_size = get64(&p);
		r.file_mtime_ns = get64(&p);
	}
	if (nl) {
		if (memchr(d->buf + RDESC_LEN + fl, 0, nl))
			return -EBADMSG;
		r.name = strndup((char *)d->buf + RDESC_LEN + fl, nl);
		if (!r.name)
			return -ENOMEM;
	}
	/* counted now, so that the descriptors alone cannot claim more than
	 * the header's data bytes */
	if (r.flags & CKPT_RF_DATA)
		d->data_seen += r.end - r.start;
	err = ckpt_image_add_region(d->img, &r); /* copies the name */
	free(r.name);
	if (err)
		return err;
	d->prev_end = r.end;
	d->st = D_SEC;
	d->need = CKPT_WIRE_SEC_LEN;
	return 0;
}

/* contents of the current DATA section: into the image or the sink */
static int dec_data(struct ckpt_decoder *d, const uint8_t *p, size_t n, int *sink_err)
{
	struct ckpt_region *r = &d->img->regions[d->dreg];

	if (d->has_sink) {
		int err = d->sink.data(d->sink.ctx, r->start + d->doff, p, n);

		if (err) {
			*sink_err = err;
			return err;
		}
	} else {
		memcpy((uint8_t *)r->data + d->doff, p, n);
	}
	d->doff += n;
	d->dleft -= n;
	if (!d->dleft) {
		if (d->doff == r->end - r->start) {
			d->dreg++;
			d->doff = 0;
			next_data_region(d);
		}
		d->st = D_SEC;
		d->need = CKPT_WIRE_SEC_LEN;
	}
	return 0;
}

int ckpt_image_decode_feed(struct ckpt_decoder *d, const void *buf, size_t len, size_t *used)
{
	const uint8_t *in = buf;
	size_t pos = 0;
	int err = 0, sink_err = 0;

	while (!err && d->st != D_DONE && d->st != D_DEAD) {
		size_t n;

		if (d->st == D_DATA) {
			if (pos == len)
				break;
			n = (size_t)MIN_SZ(d->dleft, len - pos);
			err = dec_data(d, in + pos, n, &sink_err);
			pos += n;
			d->consumed += n;
			continue;
		}
		if (d->have < d->need) {
			if (pos == len)
				break;
			n = MIN_SZ(d->need - d->have, len - pos);
			if (d->consumed + n > d->total && d->st != D_HDR) {
				err = -EBADMSG;
				break;
			}
			memcpy(d->buf + d->have, in + pos, n);
			d->have += n;
			pos += n;
			d->consumed += n;
			if (d->have < d->need)
				continue;
		}
		d->have = 0;
		switch (d->st) {
		case D_HDR:
			err = dec_hdr(d);
			break;
		case D_SEC:
			err = dec_sec(d, &sink_err);
			break;
		case D_META:
			err = dec_meta(d);
			break;
		case D_RDESC:
			err = dec_rdesc(d);
			break;
		case D_DADDR:
			err = dec_daddr(d);
			break;
		default:
			err = -EBADMSG;
		}
	}
	if (used)
		*used = pos;
	if (err) {
		if (d->st != D_DEAD)
			pr_debug("image decoder: %s after %llu bytes", strerror(-err),
				 (unsigned long long)d->consumed);
		d->st = D_DEAD;
		if (sink_err)
			return sink_err;
		return err == -ENOMEM ? -ENOMEM : -EBADMSG;
	}
	if (d->st == D_DEAD)
		return -EBADMSG;
	return d->st == D_DONE ? 0 : -EAGAIN;
}
