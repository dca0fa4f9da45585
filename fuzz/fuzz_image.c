/* Fuzz target for the image decoder (ckpt/imgwire). The input is fed in
 * pieces whose sizes come from the first byte, to exercise the incremental
 * paths. A decoded image must be valid and must encode back to the very
 * bytes it came from. The same input then goes through a decoder with a
 * sink (contents delivered, not kept): it must succeed exactly when the
 * first did, give the layout once before any contents, and deliver the
 * same contents in ascending order. Anything else is a bug and aborts. */
#include "ckpt/imgwire.h"
#include "lib/log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct cmp {
	const uint8_t *want;
	size_t len, pos;
};

static int cmp_write(void *ctx, const void *buf, size_t len)
{
	struct cmp *c = ctx;

	if (c->pos + len > c->len || memcmp(c->want + c->pos, buf, len))
		abort();
	c->pos += len;
	return 0;
}

struct sinkcheck {
	const struct ckpt_image *want; /* the image the first decoder made, or NULL */
	int layouts;
	uint64_t next, bytes;
};

static int sk_layout(void *ctx, const struct ckpt_image *img)
{
	struct sinkcheck *k = ctx;

	if (k->layouts++ || !img->lazy || ckpt_image_validate(img) ||
		(k->want && img->nr_regions != k->want->nr_regions))
		abort();
	return 0;
}

static int sk_data(void *ctx, uint64_t addr, const void *p, size_t len)
{
	struct sinkcheck *k = ctx;
	const struct ckpt_region *r = NULL;

	if (!k->layouts || addr < k->next || !len)
		abort();
	k->next = addr + len;
	k->bytes += len;
	if (!k->want)
		return 0; /* the first decoder failed: this one must fail later */
	for (uint32_t i = 0; i < k->want->nr_regions; i++)
		if (addr >= k->want->regions[i].start && addr < k->want->regions[i].end)
			r = &k->want->regions[i];
	if (!r || !(r->flags & CKPT_RF_DATA) || addr + len > r->end ||
		memcmp((const uint8_t *)r->data + (addr - r->start), p, len))
		abort();
	return 0;
}

/* the same bytes through a decoder with a sink */
static void with_sink(const struct ckpt_decode_limits *lim, const uint8_t *data, size_t size,
	size_t chunk, const struct ckpt_image *want, int want_err)
{
	struct sinkcheck k = { .want = want };
	struct ckpt_decode_sink sink = { sk_layout, sk_data, &k };
	struct ckpt_decoder *d = ckpt_image_decode_new_sink(lim, &sink);
	struct ckpt_image *img;
	size_t pos = 0, used;
	int err = -EAGAIN;

	if (!d)
		return;
	while (pos < size && err == -EAGAIN) {
		size_t n = size - pos < chunk ? size - pos : chunk;

		err = ckpt_image_decode_feed(d, data + pos, n, &used);
		pos += used;
	}
	if (err != want_err && !(want_err == -ENOMEM || err == -ENOMEM))
		abort();
	img = ckpt_image_decode_take(d);
	if ((err == 0) != (img != NULL) || (img && (!img->lazy || ckpt_image_validate(img) ||
						    k.bytes != ckpt_image_data_bytes(img))))
		abort();
	ckpt_image_free(img);
	ckpt_image_decode_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* small data limit: the fuzzer must not allocate gigabytes */
	struct ckpt_decode_limits lim = { .max_data_bytes = 1 << 20, .max_regions = 256 };
	struct ckpt_decoder *d;
	struct ckpt_image *img;
	size_t chunk, pos = 0, used;
	int err = -EAGAIN;

	log_set_level(LOG_ERR);
	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	d = ckpt_image_decode_new(&lim);
	if (!d)
		return 0;
	while (pos < size && err == -EAGAIN) {
		size_t n = size - pos < chunk ? size - pos : chunk;

		err = ckpt_image_decode_feed(d, data + pos, n, &used);
		if (used > n || (err == -EAGAIN && used != n))
			abort();
		pos += used;
	}
	if (err != 0 && err != -EAGAIN && err != -EBADMSG && err != -ENOMEM)
		abort();
	img = ckpt_image_decode_take(d);
	if ((err == 0) != (img != NULL))
		abort();
	if (img) {
		struct cmp c = { data, pos, 0 };

		if (ckpt_image_validate(img) || ckpt_image_encoded_size(img) != pos)
			abort();
		if (ckpt_image_encode(img, cmp_write, &c) || c.pos != pos)
			abort();
	}
	with_sink(&lim, data, size, chunk, img, err);
	ckpt_image_free(img);
	/* a dead decoder stays dead */
	if (err == -EBADMSG && ckpt_image_decode_feed(d, data, size, &used) != -EBADMSG)
		abort();
	ckpt_image_decode_free(d);
	return 0;
}
