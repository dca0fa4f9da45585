/* Fuzz target for the image decoder (ckpt/imgwire). The input is fed in
 * pieces whose sizes come from the first byte, to exercise the incremental
 * paths. A decoded image must be valid and must encode back to the very
 * bytes it came from; anything else is a bug and aborts. */
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
		ckpt_image_free(img);
	}
	/* a dead decoder stays dead */
	if (err == -EBADMSG && ckpt_image_decode_feed(d, data, size, &used) != -EBADMSG)
		abort();
	ckpt_image_decode_free(d);
	return 0;
}
