/* imgwire: the checkpoint image on the wire. Pure functions: no I/O, no
 * globals. Big-endian, field by field:
 *
 *   header  32 bytes: magic "OMCK", version u16, header length u16,
 *           total length u64 (header included), regions u32, meta length u32,
 *           data bytes u64 (memory contents carried)
 *   section 16 bytes: type u16, 0 u16, 0 u32, length u64; then its body:
 *     META (1, once, first): task state, xstate, auxv, cmdline
 *     REGION (2, one per region, ascending): 40-byte descriptor, name, contents
 *     END (0xffff, length 0)
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
#define CKPT_WIRE_VERSION 1
#define CKPT_WIRE_HDR_LEN 32
#define CKPT_WIRE_SEC_LEN 16
#define CKPT_WIRE_NAME_MAX 4096

/* Writer for the encoder: 0, or -errno to stop it. */
typedef int (*ckpt_write_fn)(void *ctx, const void *buf, size_t len);

/* Bytes ckpt_image_encode will write for img. */
uint64_t ckpt_image_encoded_size(const struct ckpt_image *img);
/* Write img through fn, in pieces (region contents are passed as they are,
 * without copying). 0, -EINVAL for an inconsistent image, or fn's error. */
int ckpt_image_encode(const struct ckpt_image *img, ckpt_write_fn fn, void *ctx) __ckpt_must_check;

struct ckpt_decode_limits {
	uint64_t max_data_bytes;	/* memory contents in all; default 64 GiB */
	uint32_t max_regions;		/* default CKPT_MAX_REGIONS */
};

struct ckpt_decoder;

/* A decoder; lim NULL for the defaults. NULL when out of memory. */
struct ckpt_decoder *ckpt_image_decode_new(const struct ckpt_decode_limits *lim);
/* Feed len bytes; *used gets how many were taken (never past the image's
 * end). Returns 0 once the image is complete, -EAGAIN for more bytes,
 * -EBADMSG for garbage (the decoder is then dead), -ENOMEM. */
int ckpt_image_decode_feed(struct ckpt_decoder *d, const void *buf, size_t len, size_t *used)
	__ckpt_must_check;
/* The finished image, now the caller's (ckpt_image_free); NULL if not done. */
struct ckpt_image *ckpt_image_decode_take(struct ckpt_decoder *d);
/* Frees the decoder and any partial image; accepts NULL. */
void ckpt_image_decode_free(struct ckpt_decoder *d);

#endif
