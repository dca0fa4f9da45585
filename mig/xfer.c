/* xfer: stream a process image out of a stopped process, and into a new
 * one as it arrives (see xfer.h). */
#include "mig/xfer.h"
#include "mig/chan.h"
#include "mig/trace.h"
#include "ckpt/image.h"
#include "ckpt/imgwire.h"
#include "ckpt/ptrace.h"
#include "lib/log.h"
#include "proto/link.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* a DATA section of CKPT_WIRE_CHUNK fits one frame */
static_assert(CKPT_WIRE_DATA_HDR + CKPT_WIRE_CHUNK <= STREAM_MAX_BODY,
	"a DATA section must fit a stream frame");

/* the frame being built, in the channel's own output buffer */
struct xout {
	struct mig_chan *ch;
	uint8_t *body;
	size_t len;
};

static int xout_flush(struct xout *o)
{
	int err = 0;

	if (o->len)
		err = mig_chan_send_body(o->ch, LINK_MIG_IMAGE, o->len);
	o->len = 0;
	return err;
}

/* ckpt_write_fn for the layout: small pieces, packed into frames */
static int xout_write(void *ctx, const void *p, size_t len)
{
	struct xout *o = ctx;
	const uint8_t *s = p;

	while (len) {
		size_t n = MIN(len, STREAM_MAX_BODY - o->len);
		int err;

		memcpy(o->body + o->len, s, n);
		o->len += n;
		s += n;
		len -= n;
		if (o->len == STREAM_MAX_BODY && (err = xout_flush(o)))
			return err;
	}
	return 0;
}

/* The first frame of contents is small, and each next one twice the last
 * up to a whole frame: the receiver builds the address space (on the
 * layout and the first DATA header) while we read on, and a small image
 * is read, sent and written in overlapping pieces instead of in one or
 * two frames; a big one still goes in whole frames. A DATA section may
 * span frames: the decoder takes its contents as they come. */
#define XFER_FIRST_FRAME (64u << 10)
#define XFER_MAX_FRAME STREAM_MAX_BODY

int mig_xfer_send(struct mig_chan *ch, pid_t pid, const struct ckpt_image *img)
{
	size_t cap, target = XFER_FIRST_FRAME;
	struct xout o = { .ch = ch, .body = mig_chan_body(ch, &cap) };
	int err = ckpt_image_encode_layout(img, xout_write, &o);

	for (uint32_t i = 0; !err && i < img->nr_regions; i++) {
		const struct ckpt_region *r = &img->regions[i];
		uint64_t len = r->end - r->start;

		if (!(r->flags & CKPT_RF_DATA))
			continue;
		for (uint64_t off = 0; !err && off < len; off += CKPT_WIRE_CHUNK) {
			size_t n = (size_t)MIN(CKPT_WIRE_CHUNK, len - off), done = 0;

			if (o.len + CKPT_WIRE_DATA_HDR > target) {
				if ((err = xout_flush(&o)))
					break;
				target = MIN(2 * target, (size_t)XFER_MAX_FRAME);
			}
			ckpt_wire_data_hdr(o.body + o.len, r->start + off, n);
			o.len += CKPT_WIRE_DATA_HDR;
			while (!err && done < n) {
				size_t piece = MIN(n - done, target > o.len ? target - o.len : 0);
				uint8_t *at = o.body + o.len;

				if (!piece) {
					if ((err = xout_flush(&o)))
						break;
					target = MIN(2 * target, (size_t)XFER_MAX_FRAME);
					continue;
				}
				/* the contents go straight from the process into the frame */
				if (img->lazy)
					err = ptr_read_mem(pid, r->start + off + done, at, piece);
				else
					memcpy(at, (const uint8_t *)r->data + off + done, piece);
				o.len += piece;
				done += piece;
			}
		}
	}
	if (!err) {
		uint8_t end[CKPT_WIRE_SEC_LEN];

		ckpt_wire_end(end);
		err = xout_write(&o, end, sizeof(end));
	}
	if (!err)
		err = xout_flush(&o);
	return err;
}

/* the receiving side: the decoder's sink builds the process */
struct xin {
	struct ckpt_restorer *rs;
};

static int xin_layout(void *ctx, const struct ckpt_image *img)
{
	struct xin *x = ctx;
	int err;

	mig_trace("layout in");
	err = ckpt_restore_layout(x->rs, img);
	mig_trace("layout built");
	if (err)
		x->rs = NULL; /* gone with its stub */
	return err;
}

static int xin_data(void *ctx, uint64_t addr, const void *p, size_t len)
{
	struct xin *x = ctx;

	return ckpt_restore_write(x->rs, addr, p, len);
}

int mig_xfer_recv(struct mig_chan *ch, uint64_t max_len, struct ckpt_restorer *rs,
	const struct ckpt_restore_opts *opts, pid_t *out_pid)
{
	struct xin x = { .rs = rs };
	struct ckpt_decode_sink sink = { xin_layout, xin_data, &x };
	struct ckpt_decoder *dec = ckpt_image_decode_new_sink(NULL, &sink);
	struct ckpt_image *img = NULL;
	uint64_t got = 0;
	int err = dec ? -EAGAIN : -ENOMEM;

	while (err == -EAGAIN) {
		uint16_t type;
		const uint8_t *body;
		size_t blen, used;

		err = mig_chan_recv(ch, &type, &body, &blen, 30000);
		if (err)
			break;
		if (type != LINK_MIG_IMAGE || (max_len && got + blen > max_len)) {
			err = -EBADMSG;
			break;
		}
		got += blen;
		err = ckpt_image_decode_feed(dec, body, blen, &used);
		if (!err && used != blen)
			err = -EBADMSG; /* bytes after the image's end */
	}
	if (!err)
		img = ckpt_image_decode_take(dec);
	ckpt_image_decode_free(dec);
	if (err) {
		pr_err("receiving an image: %s after %llu bytes", strerror(-err),
			(unsigned long long)got);
		ckpt_restore_abort(x.rs);
		return err;
	}
	mig_trace("contents in");
	/* the decoder checked the image whole: now it may run */
	err = ckpt_restore_finish(x.rs, img, opts, out_pid);
	ckpt_image_free(img);
	return err;
}
