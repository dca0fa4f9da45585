/* imgwire: the checkpoint image on the wire. Pure functions: no I/O, no
 * globals. Big-endian, field by field:
 *
 *   header  32 bytes: magic "OMCK", version u16, header length u16,
 *           total length u64 (header included), regions u32, meta length u32,
 *           data bytes u64 (memory contents carried)
 *   section 16 bytes: type u16, 0 u16, 0 u32, length u64; then its body:
 *     META (1, once, first): task state, xstate, auxv, cmdline
 *     REGION (2, one per region, ascending): 40-byte descriptor, for a
 *           CKPT_RF_FILEMAP region the file's size and mtime (u64 each),
 *           then the name
 *     DATA (3): address u64, then contents. Every region flagged
 *           CKPT_RF_DATA, in order, cut into pieces of CKPT_WIRE_CHUNK
 *           bytes (the last one shorter): exactly one way to say an image.
 *     END (0xffff, length 0)
 *
 * The whole layout (every region) comes before any contents, so that a
 * receiver can map the address space and then write contents straight
 * into it as they arrive (ckpt_decode_sink); a sender can likewise read
 * them from the frozen process as it sends (ckpt_image_encode_layout, then
 * DATA sections of its own).
 *
 * The decoder trusts no length: everything is checked against fixed bounds
 * and the header's totals before anything is allocated.
 */
#ifndef OM_CKPT_IMGWIRE_H
#define OM_CKPT_IMGWIRE_H

#include "ckpt/image.h"

#include <stddef.h>
#include <stdint.h>

#define CKPT_WIRE_MAGIC 0x4f4d434bU	/* "OMCK" */
#define CKPT_WIRE_VERSION 2
#define CKPT_WIRE_HDR_LEN 32
#define CKPT_WIRE_SEC_LEN 16
#define CKPT_WIRE_NAME_MAX 4096
/* a DATA section's header and address */
#define CKPT_WIRE_DATA_HDR (CKPT_WIRE_SEC_LEN + 8)
/* contents per DATA section: 255 pages, so that a section fits one 1 MiB
 * stream frame (proto/stream.h) with its header */
#define CKPT_WIRE_CHUNK (255 * CKPT_PAGE_SIZE)

/* Writer for the encoder: 0, or -errno to stop it. */
typedef int (*ckpt_write_fn)(void *ctx, const void *buf, size_t len);

/* Bytes ckpt_image_encode will write for img. */
uint64_t ckpt_image_encoded_size(const struct ckpt_image *img);
/* Write img through fn, in pieces (region contents are passed as they are,
 * without copying). 0, -EINVAL for an inconsistent or lazy image, or fn's
 * error. */
int ckpt_image_encode(const struct ckpt_image *img, ckpt_write_fn fn, void *ctx) __ckpt_must_check;
/* Only the start: header, META and every REGION (img may be lazy). The
 * caller then writes, for each CKPT_RF_DATA region in order and each
 * CKPT_WIRE_CHUNK of it, ckpt_wire_data_hdr() and the contents, and last
 * ckpt_wire_end(). 0, -EINVAL or fn's error. */
int ckpt_image_encode_layout(const struct ckpt_image *img, ckpt_write_fn fn, void *ctx)
	__ckpt_must_check;
/* The DATA section header for len bytes of contents at addr. */
void ckpt_wire_data_hdr(uint8_t out[CKPT_WIRE_DATA_HDR], uint64_t addr, uint64_t len);
/* The END section. */
void ckpt_wire_end(uint8_t out[CKPT_WIRE_SEC_LEN]);

struct ckpt_decode_limits {
	uint64_t max_data_bytes;	/* memory contents in all; default 64 GiB */
	uint32_t max_regions;		/* default CKPT_MAX_REGIONS */
};

struct ckpt_decoder;

/* Where a decoder with a sink delivers an image: the layout once every
 * region is known (img has no contents yet; it stays the decoder's until
 * ckpt_image_decode_take), then the contents piece by piece in ascending
 * order, each inside a CKPT_RF_DATA region, p valid during the call only.
 * Each returns 0 or -errno, which stops the decoder and is passed on. */
struct ckpt_decode_sink {
	int (*layout)(void *ctx, const struct ckpt_image *img);
	int (*data)(void *ctx, uint64_t addr, const void *p, size_t len);
	void *ctx;
};

/* A decoder; lim NULL for the defaults. With sink NULL the contents are
 * kept in the image; with a sink they go there and the image taken at the
 * end is lazy (no contents). NULL when out of memory. */
struct ckpt_decoder *ckpt_image_decode_new(const struct ckpt_decode_limits *lim);
struct ckpt_decoder *ckpt_image_decode_new_sink(const struct ckpt_decode_limits *lim,
	const struct ckpt_decode_sink *sink);
/* Feed len bytes; *used gets how many were taken (never past the image's
 * end). Returns 0 once the image is complete, -EAGAIN for more bytes,
 * -EBADMSG for garbage (the decoder is then dead), -ENOMEM, or a sink's
 * error (dead too). */
int ckpt_image_decode_feed(struct ckpt_decoder *d, const void *buf, size_t len, size_t *used)
	__ckpt_must_check;
/* The finished image, now the caller's (ckpt_image_free); NULL if not done. */
struct ckpt_image *ckpt_image_decode_take(struct ckpt_decoder *d);
/* Frees the decoder and any partial image; accepts NULL. */
void ckpt_image_decode_free(struct ckpt_decoder *d);

#endif
