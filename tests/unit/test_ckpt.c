/* Unit tests for ckpt/: the maps line parser and the image wire format
 * (round trips whole and byte by byte, truncations, garbage).
 *   test_ckpt                    run the tests
 *   test_ckpt --write-corpus DIR write the fuzz seed corpus of fuzz_image
 *                                (each file: a chunk-size byte, then image bytes) */
#include "ckpt/image.h"
#include "ckpt/imgwire.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct sink {
	uint8_t *buf;
	size_t len, cap;
};

static int sink_write(void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;

	if (s->len + len > s->cap) {
		size_t cap = (s->len + len) * 2;
		uint8_t *n = realloc(s->buf, cap);

		if (!n)
			return -ENOMEM;
		s->buf = n;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	return 0;
}

static int add(struct ckpt_image *img, uint64_t start, uint64_t pages, uint32_t prot,
	       uint32_t flags, const char *name, uint8_t fillc)
{
	struct ckpt_region r = { .start = start, .end = start + pages * 4096, .prot = prot,
				 .flags = flags, .name = (char *)name };

	if (flags & CKPT_RF_DATA) {
		r.data = ckpt_data_alloc(pages * 4096, false);
		if (!r.data)
			return -ENOMEM;
		for (size_t i = 0; i < pages * 4096; i++)
			((uint8_t *)r.data)[i] = (uint8_t)(fillc + i * 7);
	}
	return ckpt_image_add_region(img, &r);
}

/* a small image with a bit of everything; regions of `pages` pages */
static struct ckpt_image *sample(uint64_t pages)
{
	struct ckpt_image *img = ckpt_image_new();
	static const char cmd[] = "victim\0--flag\0";
	int err = 0;

	if (!img)
		return NULL;
	img->pid = 4242;
	strcpy(img->comm, "victim");
	img->personality = 0x0;
	img->regs.rip = 0x401000;
	img->regs.rax = (unsigned long long)-514;
	img->regs.orig_rax = 34;
	img->regs.fs_base = 0x7f0000001000;
	img->xstate_len = 64;
	img->xstate = malloc(64);
	img->auxv_words = 4;
	img->auxv = calloc(4, 8);
	img->cmdline_len = sizeof(cmd);
	img->cmdline = malloc(sizeof(cmd));
	if (!img->xstate || !img->auxv || !img->cmdline) {
		ckpt_image_free(img);
		return NULL;
	}
	memset(img->xstate, 0xab, 64);
	img->auxv[0] = 6;
	img->auxv[1] = 4096;
	memcpy(img->cmdline, cmd, sizeof(cmd));
	img->mm.start_brk = 0x600000;
	img->mm.brk = 0x621000;
	img->sigmask = 1;
	img->sigact[9] = (struct ckpt_sigaction){ 0x401234, 0x14000004, 0x401300, 0x4000 };
	img->rseq_ptr = 0x7f0000001200;
	img->rseq_len = 32;
	img->rseq_sig = 0x53053053;
	err |= add(img, 0x400000, pages, PROT_READ | PROT_EXEC, CKPT_RF_DATA | CKPT_RF_FILE,
		   "/bin/victim", 1);
	/* pages still the file's own: mapped from it at the target */
	err |= add(img, 0x580000, 3, PROT_READ, CKPT_RF_FILE | CKPT_RF_FILEMAP, "/lib/libv.so", 0);
	if (!err) {
		img->regions[img->nr_regions - 1].pgoff = 0x3000;
		img->regions[img->nr_regions - 1].file_size = 123456789;
		img->regions[img->nr_regions - 1].file_mtime_ns = 1700000000123456789ULL;
	}
	err |= add(img, 0x600000, pages, PROT_READ | PROT_WRITE, CKPT_RF_DATA | CKPT_RF_HEAP,
		   "[heap]", 2);
	err |= add(img, 0x7f0000000000, 1, PROT_NONE, 0, NULL, 0);
	err |= add(img, 0x7ffc00000000, pages, PROT_READ | PROT_WRITE, CKPT_RF_DATA | CKPT_RF_STACK,
		   "[stack]", 3);
	err |= add(img, 0x7ffd00000000, 4, PROT_READ, CKPT_RF_VVAR, "[vvar]", 0);
	err |= add(img, 0x7ffd00004000, 2, PROT_READ | PROT_EXEC, CKPT_RF_VDSO, "[vdso]", 0);
	if (err) {
		ckpt_image_free(img);
		return NULL;
	}
	return img;
}

static bool same_image(const struct ckpt_image *a, const struct ckpt_image *b)
{
	if (a->pid != b->pid || strcmp(a->comm, b->comm) || a->personality != b->personality ||
	    memcmp(&a->regs, &b->regs, sizeof(a->regs)) || memcmp(&a->mm, &b->mm, sizeof(a->mm)) ||
	    a->xstate_len != b->xstate_len || memcmp(a->xstate, b->xstate, a->xstate_len) ||
	    a->auxv_words != b->auxv_words || memcmp(a->auxv, b->auxv, a->auxv_words * 8) ||
	    a->cmdline_len != b->cmdline_len || memcmp(a->cmdline, b->cmdline, a->cmdline_len) ||
	    memcmp(a->sigact, b->sigact, sizeof(a->sigact)) || a->sigmask != b->sigmask ||
	    a->rseq_ptr != b->rseq_ptr || a->rseq_sig != b->rseq_sig ||
	    a->nr_regions != b->nr_regions)
		return false;
	for (uint32_t i = 0; i < a->nr_regions; i++) {
		const struct ckpt_region *x = &a->regions[i], *y = &b->regions[i];

		if (x->start != y->start || x->end != y->end || x->prot != y->prot ||
		    x->flags != y->flags || !x->name != !y->name || x->pgoff != y->pgoff ||
		    x->file_size != y->file_size || x->file_mtime_ns != y->file_mtime_ns ||
		    (x->name && strcmp(x->name, y->name)) || !x->data != !y->data ||
		    (x->data && memcmp(x->data, y->data, x->end - x->start)))
			return false;
	}
	return true;
}

/* decode buf in chunks of `chunk` bytes; returns the last result */
static int decode(const uint8_t *buf, size_t len, size_t chunk, struct ckpt_image **out,
		  size_t *total_used)
{
	struct ckpt_decoder *d = ckpt_image_decode_new(NULL);
	size_t pos = 0, used;
	int err = -EAGAIN;

	if (!d)
		return -ENOMEM;
	while (pos < len && err == -EAGAIN) {
		size_t n = len - pos < chunk ? len - pos : chunk;

		err = ckpt_image_decode_feed(d, buf + pos, n, &used);
		pos += used;
		if (err == -EAGAIN && used != n) {
			err = -EPROTO;	/* must take everything while it wants more */
			break;
		}
	}
	if (total_used)
		*total_used = pos;
	if (out)
		*out = err ? NULL : ckpt_image_decode_take(d);
	ckpt_image_decode_free(d);
	return err;
}

static void test_maps(void)
{
	struct ckpt_region r;
	bool sh;

	is_int(ckpt_parse_maps_line("55d0c8a00000-55d0c8a21000 rw-p 00000000 00:00 0          "
				    "                [heap]\n", &r, &sh), 0, "maps: heap line");
	ok(r.start == 0x55d0c8a00000 && r.end == 0x55d0c8a21000 && r.prot == 3 &&
	   (r.flags & CKPT_RF_HEAP) && !sh, "maps: heap fields");
	free(r.name);
	is_int(ckpt_parse_maps_line("7ffd1c3e6000-7ffd1c3e8000 r-xp 00000000 00:00 0 [vdso]", &r,
				    &sh), 0, "maps: vdso line");
	ok(r.flags == CKPT_RF_VDSO && r.prot == 5, "maps: vdso flagged");
	free(r.name);
	is_int(ckpt_parse_maps_line("7ffd1c3e2000-7ffd1c3e4000 r--p 00000000 00:00 0 [vvar_vclock]",
				    &r, &sh), 0, "maps: vvar_vclock line");
	ok(r.flags == CKPT_RF_VCLOCK, "maps: vvar_vclock flagged");
	free(r.name);
	is_int(ckpt_parse_maps_line("7f00aa000000-7f00aa001000 rw-s 00001000 08:01 1234 "
				    "/tmp/a file (deleted)\n", &r, &sh), 0, "maps: shared file");
	ok(sh && r.pgoff == 0x1000 && (r.flags & CKPT_RF_FILE) &&
	   !strcmp(r.name, "/tmp/a file (deleted)"), "maps: name with spaces, shared, offset");
	free(r.name);
	is_int(ckpt_parse_maps_line("7f00aa000000-7f00aa001000 ---p 00000000 00:00 0", &r, &sh), 0,
	       "maps: anonymous PROT_NONE");
	ok(!r.name && r.prot == 0 && !r.flags, "maps: no name, no prot");
	is_int(ckpt_parse_maps_line("7f00aa001000-7f00aa000000 rw-p 0 00:00 0", &r, &sh), -EINVAL,
	       "maps: end before start");
	is_int(ckpt_parse_maps_line("7f00aa000000-7f00aa001001 rw-p 0 00:00 0", &r, &sh), -EINVAL,
	       "maps: unaligned");
	is_int(ckpt_parse_maps_line("7f00aa000000-7f00aa001000 rwzp 0 00:00 0", &r, &sh), -EINVAL,
	       "maps: bad perms");
	is_int(ckpt_parse_maps_line("garbage", &r, &sh), -EINVAL, "maps: garbage");
	is_int(ckpt_parse_maps_line("", &r, &sh), -EINVAL, "maps: empty");
}

static void test_wire(void)
{
	struct ckpt_image *img = sample(2), *back = NULL;
	struct sink s = { 0 };
	size_t used;
	int err, bad;

	if (!ok(img != NULL, "wire: sample image"))
		return;
	is_int(ckpt_image_encode(img, sink_write, &s), 0, "wire: encode");
	is_int(s.len, ckpt_image_encoded_size(img), "wire: encoded size as announced");

	is_int(decode(s.buf, s.len, s.len, &back, &used), 0, "wire: decode in one piece");
	ok(back && same_image(img, back), "wire: round trip equal");
	ckpt_image_free(back);
	is_int(decode(s.buf, s.len, 1, &back, &used), 0, "wire: decode byte by byte");
	ok(back && same_image(img, back), "wire: byte-by-byte round trip equal");
	ckpt_image_free(back);
	is_int(decode(s.buf, s.len, 4093, &back, &used), 0, "wire: decode in odd chunks");
	ok(back && same_image(img, back), "wire: odd-chunk round trip equal");
	ckpt_image_free(back);

	/* extra bytes after the image are left alone */
	{
		uint8_t *more = malloc(s.len + 100);

		memcpy(more, s.buf, s.len);
		memset(more + s.len, 0x5a, 100);
		is_int(decode(more, s.len + 100, s.len + 100, &back, &used), 0,
		       "wire: trailing bytes ignored");
		is_int(used, s.len, "wire: used stops at the end of the image");
		ckpt_image_free(back);
		free(more);
	}

	/* every truncation wants more, never succeeds */
	bad = 0;
	for (size_t cut = 0; cut < s.len; cut += (cut < 4096 ? 1 : 509)) {
		err = decode(s.buf, cut, cut ? cut : 1, NULL, NULL);
		if (err != -EAGAIN)
			bad++;
	}
	is_int(bad, 0, "wire: every truncation answers -EAGAIN");

	/* single-byte damage in the framing: never a crash; the header is checked */
	bad = 0;
	for (size_t i = 0; i < 32; i++) {
		uint8_t save = s.buf[i];

		s.buf[i] ^= 0x80;
		err = decode(s.buf, s.len, s.len, &back, NULL);
		ckpt_image_free(back);
		back = NULL;
		if (err == 0 && !(i >= 24))	/* data_bytes field: must fail too */
			bad++;
		if (err == 0)
			bad++;
		s.buf[i] = save;
	}
	is_int(bad, 0, "wire: every damaged header byte is rejected");
	bad = 0;
	for (size_t i = 32; i < s.len; i++) {
		uint8_t save = s.buf[i];

		s.buf[i] ^= 0xff;
		err = decode(s.buf, s.len, s.len, &back, NULL);
		ckpt_image_free(back);
		back = NULL;
		if (err != 0 && err != -EBADMSG && err != -EAGAIN)
			bad++;
		s.buf[i] = save;
	}
	is_int(bad, 0, "wire: any damaged byte gives 0, -EAGAIN or -EBADMSG");
	{
		uint8_t junk[256];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(i * 37 + 11);
		is_int(decode(junk, sizeof(junk), sizeof(junk), NULL, NULL), -EBADMSG,
		       "wire: garbage is -EBADMSG");
	}
	{	/* an image claiming an absurd region count or data size */
		uint8_t h[32];

		memcpy(h, s.buf, 32);
		h[16] = 0x7f;	/* regions */
		is_int(decode(h, 32, 32, NULL, NULL), -EBADMSG, "wire: too many regions");
		memcpy(h, s.buf, 32);
		h[24] = 0x7f;	/* data bytes */
		is_int(decode(h, 32, 32, NULL, NULL), -EBADMSG, "wire: too much data");
	}
	/* inconsistent images are not encoded */
	img->regions[1].start = 0x400000;
	s.len = 0;
	is_int(ckpt_image_encode(img, sink_write, &s), -EINVAL, "wire: overlapping regions refused");
	img->regions[1].start = 0x600000;
	free(s.buf);
	ckpt_image_free(img);
}

/* what a decoder with a sink delivered */
struct got {
	const struct ckpt_image *want;
	int layouts, bad;
	uint64_t next;		/* the address the next contents must start at */
	uint64_t bytes;
	int fail_at;		/* return -EIO at this call of data (0: never) */
	int calls;
};

static int got_layout(void *ctx, const struct ckpt_image *img)
{
	struct got *g = ctx;

	g->layouts++;
	if (!img->lazy || img->nr_regions != g->want->nr_regions || g->bytes)
		g->bad++;
	for (uint32_t i = 0; i < img->nr_regions; i++)
		if (img->regions[i].data || img->regions[i].start != g->want->regions[i].start)
			g->bad++;
	return 0;
}

static int got_data(void *ctx, uint64_t addr, const void *p, size_t len)
{
	struct got *g = ctx;
	const struct ckpt_region *r = NULL;

	if (++g->calls == g->fail_at)
		return -EIO;
	for (uint32_t i = 0; i < g->want->nr_regions; i++)
		if (addr >= g->want->regions[i].start && addr < g->want->regions[i].end)
			r = &g->want->regions[i];
	if (!g->layouts || !r || !(r->flags & CKPT_RF_DATA) || addr + len > r->end ||
	    (addr != g->next && addr != r->start) || addr < g->next ||
	    memcmp((const uint8_t *)r->data + (addr - r->start), p, len))
		g->bad++;
	g->next = addr + len;
	g->bytes += len;
	return 0;
}

static int decode_sink(const uint8_t *buf, size_t len, size_t piece, struct got *g,
	struct ckpt_image **out)
{
	struct ckpt_decode_sink sk = { got_layout, got_data, g };
	struct ckpt_decoder *d = ckpt_image_decode_new_sink(NULL, &sk);
	size_t pos = 0, used;
	int err = -EAGAIN;

	if (!d)
		return -ENOMEM;
	while (pos < len && err == -EAGAIN) {
		size_t n = len - pos < piece ? len - pos : piece;

		err = ckpt_image_decode_feed(d, buf + pos, n, &used);
		pos += used;
	}
	if (out)
		*out = ckpt_image_decode_take(d);
	ckpt_image_decode_free(d);
	return err;
}

/* contents straight to a sink, in pieces; the layout first, lazily */
static void test_wire_sink(void)
{
	/* 300 pages: more than one CKPT_WIRE_CHUNK per region */
	struct ckpt_image *img = sample(300), *back = NULL;
	struct sink s = { 0 }, l = { 0 };
	size_t pieces[] = { 1 << 20, 4093, 61 };
	uint8_t h[CKPT_WIRE_DATA_HDR];
	int err = 0;

	if (!ok(img != NULL, "sink: sample image"))
		return;
	is_int(ckpt_image_encode(img, sink_write, &s), 0, "sink: encode");
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		struct got g = { .want = img };

		is_int(decode_sink(s.buf, s.len, pieces[k], &g, &back), 0, "sink: decode");
		ok(g.layouts == 1 && !g.bad, "sink: one layout, then ascending contents that match");
		is_int(g.bytes, ckpt_image_data_bytes(img), "sink: every byte of contents");
		ok(back && back->lazy && back->nr_regions == img->nr_regions &&
			   back->regions[0].data == NULL && back->pid == img->pid,
		   "sink: the image taken is lazy");
		ckpt_image_free(back);
		back = NULL;
	}
	{	/* a sink's error stops the decoder and is passed on */
		struct got g = { .want = img, .fail_at = 2 };

		is_int(decode_sink(s.buf, s.len, 4093, &g, NULL), -EIO, "sink: its error passed on");
	}
	/* the layout, then contents the caller writes itself: the same bytes */
	is_int(ckpt_image_encode_layout(img, sink_write, &l), 0, "layout: encode");
	for (uint32_t i = 0; !err && i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];

		for (uint64_t off = 0; (r->flags & CKPT_RF_DATA) && off < r->end - r->start;
		     off += CKPT_WIRE_CHUNK) {
			uint64_t n = r->end - r->start - off;

			n = n < CKPT_WIRE_CHUNK ? n : CKPT_WIRE_CHUNK;
			ckpt_wire_data_hdr(h, r->start + off, n);
			err |= sink_write(&l, h, sizeof(h));
			err |= sink_write(&l, (uint8_t *)r->data + off, n);
		}
	}
	ckpt_wire_end(h);
	err |= sink_write(&l, h, CKPT_WIRE_SEC_LEN);
	ok(!err && l.len == s.len && !memcmp(l.buf, s.buf, s.len),
	   "layout + DATA sections by hand: the very bytes of encode");
	/* a lazy image has no contents to encode, but its layout encodes */
	{
		struct ckpt_image *lz = NULL;
		struct got g = { .want = img };
		struct sink t = { 0 };

		is_int(decode_sink(s.buf, s.len, 1 << 20, &g, &lz), 0, "lazy: decoded");
		is_int(lz ? ckpt_image_encode(lz, sink_write, &t) : 0, -EINVAL,
		       "lazy: no full encode");
		t.len = 0;
		is_int(lz ? ckpt_image_encode_layout(lz, sink_write, &t) : -1, 0, "lazy: layout encodes");
		ok(t.len < s.len && !memcmp(t.buf, s.buf, t.len), "lazy: the same layout bytes");
		is_int(ckpt_image_encoded_size(lz), s.len, "lazy: the same encoded size");
		ckpt_image_free(lz);
		free(t.buf);
	}
	/* contents claimed for the wrong address are refused: the first DATA
	 * section (right after the layout) names the second one's address */
	{
		struct sink t = { 0 };
		struct got g = { .want = img };
		uint8_t *x = malloc(s.len);
		size_t first;

		if (x && !ckpt_image_encode_layout(img, sink_write, &t)) {
			first = t.len;
			memcpy(x, s.buf, s.len);
			memcpy(x + first + CKPT_WIRE_SEC_LEN,
			       s.buf + first + CKPT_WIRE_DATA_HDR + CKPT_WIRE_CHUNK + CKPT_WIRE_SEC_LEN,
			       8);
			is_int(decode_sink(x, s.len, 4093, &g, NULL), -EBADMSG,
			       "sink: contents at the wrong address refused");
		}
		free(x);
		free(t.buf);
	}
	free(l.buf);
	free(s.buf);
	ckpt_image_free(img);
}

static int write_corpus(const char *dir)
{
	static const uint64_t sizes[] = { 1, 2 };
	char path[512];

	for (size_t k = 0; k < 2; k++) {
		struct ckpt_image *img = sample(sizes[k]);
		struct sink s = { 0 };
		static const size_t cuts[] = { 0, 16, 31, 32, 48, 100, 2600, 2700 };
		FILE *fp;

		if (!img || ckpt_image_encode(img, sink_write, &s))
			return 1;
		snprintf(path, sizeof(path), "%s/valid-%zu", dir, k);
		fp = fopen(path, "wb");
		/* fuzz_image's first byte picks the feeding chunk size */
		if (!fp || fputc(k ? 63 : 6, fp) == EOF || fwrite(s.buf, 1, s.len, fp) != s.len)
			return 1;
		fclose(fp);
		for (size_t c = 0; k == 0 && c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			snprintf(path, sizeof(path), "%s/trunc-%zu", dir, cuts[c]);
			fp = fopen(path, "wb");
			if (!fp || fputc((int)c, fp) == EOF ||
			    fwrite(s.buf, 1, cuts[c] < s.len ? cuts[c] : s.len, fp) > s.len)
				return 1;
			fclose(fp);
		}
		free(s.buf);
		ckpt_image_free(img);
	}
	{	/* a valid image with no contents, small enough for -max_len=4096 */
		struct ckpt_image *img = ckpt_image_new();
		struct sink s = { 0 };
		FILE *fp;

		if (!img || add(img, 0x7f0000000000, 1, PROT_NONE, 0, NULL, 0) ||
		    add(img, 0x7ffd00000000, 4, PROT_READ, CKPT_RF_VVAR, "[vvar]", 0) ||
		    add(img, 0x7ffd00004000, 2, PROT_READ | PROT_EXEC, CKPT_RF_VDSO, "[vdso]", 0) ||
		    ckpt_image_encode(img, sink_write, &s))
			return 1;
		snprintf(path, sizeof(path), "%s/valid-empty", dir);
		fp = fopen(path, "wb");
		if (!fp || fputc(0, fp) == EOF || fwrite(s.buf, 1, s.len, fp) != s.len)
			return 1;
		fclose(fp);
		free(s.buf);
		ckpt_image_free(img);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	test_maps();
	test_wire();
	test_wire_sink();
	return tap_done();
}
