/* rsys: marshalling of a migrated process's system calls between the
 * remote node, where the process runs, and its home node, where the
 * deputy executes them inside the original process.
 *
 * Pure code: no I/O of its own. The process's memory is reached only
 * through the caller's rsys_read_fn / rsys_write_fn callbacks.
 *
 * One forwarded system call, step by step:
 *
 *   remote  rsys_classify(nr)             RSYS_FORWARD?
 *           rsys_req_encode(nr, args, rd)  -> request bytes      (a negative
 *                                             result goes straight back to
 *                                             the process, see below)
 *   home    rsys_req_decode(bytes)        -> struct rsys_call
 *           rsys_call_scratch_size(c)        grow the scratch mapping
 *           rsys_call_layout(c, base, cap)   place every buffer in scratch
 *           rsys_call_write_range(c)         write that part of the image
 *                                            (rsys_call_scratch_in) into the
 *                                            process at base + off
 *           rsys_call_args(c, a)             inject syscall nr(a[0..5])
 *           rsys_call_read_len(c)            read back scratch [0, n)
 *           rsys_reply_encode(c, ret, ...) -> reply bytes
 *           rsys_call_free(c)
 *   remote  rsys_reply_apply(nr, args, reply, wr, rd) -> OUT data written
 *                                            into the process; its result
 *
 * Request (all integers big-endian):
 *	u32 magic RSYS_REQ_MAGIC, u32 nr, u64 args[6], u16 nsect, u16 0,
 *	nsect sections, one per non-NULL pointer argument, in argument order:
 *	u8 arg index, u8 kind, then a kind-specific body (rsys.c): IN data
 *	as u32 length + bytes, OUT buffers as u32 length only.
 * Reply:
 *	u32 magic RSYS_REP_MAGIC, u32 nr, u64 ret (signed), u16 nsect, u16 0,
 *	when ret >= 0 (ret > 0 for wait4) one section per non-NULL argument
 *	the kernel writes to: u8 arg, u8 kind, then the bytes produced
 *	(bounded by ret for read-like calls).
 * Both decoders check every length against the system call's argument
 * specification and the raw arguments, and return -EBADMSG on anything
 * else; nothing is trusted before it is checked.
 *
 * Large I/O: read, write, pread64, pwrite64, readv, writev, preadv*,
 * pwritev*, getdents64, sendto, recvfrom, sendmsg, recvmsg and epoll_wait
 * counts above rsys_max_io() bytes are clamped by rsys_req_encode() (the
 * process sees a short read or write, which POSIX allows; a caller that
 * wants the full count loops). Other arguments above that size fail with
 * -E2BIG.
 */
#ifndef OM_RSYS_H
#define OM_RSYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define RSYS_REQ_MAGIC 0x52535131u /* "RSQ1" */
#define RSYS_REP_MAGIC 0x52535231u /* "RSR1" */

/* The largest I/O count forwarded in one call (see above): 896 KiB, so
 * that the largest request or reply fits one 1 MiB frame of the link
 * (STREAM_MAX_BODY; mig/ checks it at compile time). */
#define RSYS_MAX_IO ((1u << 20) - (128u << 10))
/* The largest request or reply: RSYS_MAX_IO plus paths, iovec lengths,
 * control messages and fixed structures. */
#define RSYS_MAX_REQ (RSYS_MAX_IO + (128u << 10))
/* The largest scratch area a decoded call can need. */
#define RSYS_MAX_SCRATCH (2 * RSYS_MAX_REQ + (64u << 10))

/* Bounds the decoders enforce (the kernel's own limits). */
#define RSYS_MAX_PATH 4096u /* PATH_MAX, NUL included */
#define RSYS_MAX_IOV 1024u  /* UIO_MAXIOV */
#define RSYS_MAX_POLLFDS 65536u
#define RSYS_MAX_FDSET_BITS 65536u
#define RSYS_MAX_SOCKADDR 128u /* sizeof(struct sockaddr_storage) */
#define RSYS_MAX_CONTROL (64u << 10)
#define RSYS_MAX_SOCKOPT (64u << 10)

enum rsys_class {
	RSYS_LOCAL,   /* run on the remote node as is */
	RSYS_FORWARD, /* marshalled by this module, executed at home */
	RSYS_SPECIAL, /* the orchestration handles it (getpid, fork, exit, mmap, ...) */
	RSYS_DENY,    /* cannot work away from home: -ENOSYS to the process */
};

/* Where a system call runs; anything unknown is RSYS_DENY. */
enum rsys_class rsys_classify(long nr);
/* "read", "openat", ...; NULL for a number that is not an x86_64 syscall. */
const char *rsys_name(long nr);
/* "local", "forward", "special", "deny" */
const char *rsys_class_name(enum rsys_class cls);
/* RSYS_MAX_IO: the I/O count above which encode clamps. */
size_t rsys_max_io(void);

/* Access to the migrated process's memory: copy len bytes at the
 * process's address addr to dst (read) or from src (write). Return 0 or
 * -EFAULT. A zero-length access is never asked for. */
typedef int (*rsys_read_fn)(void *ctx, uint64_t addr, void *dst, size_t len);
typedef int (*rsys_write_fn)(void *ctx, uint64_t addr, const void *src, size_t len);

/* Remote side: marshal system call nr with the process's raw arguments.
 * Reads every input buffer through rd and writes the request into
 * buf[0..cap) (cap >= RSYS_MAX_REQ always suffices), its size in *used.
 * Returns 0 (forward it), -ENOBUFS (cap too small), or any other -errno:
 * the system call's result, to be handed to the process without
 * forwarding (-EFAULT for a bad pointer, -ENOSYS for a call that is not
 * RSYS_FORWARD, -ENOTTY for an ioctl request not supported, -EINVAL,
 * -ENAMETOOLONG, -E2BIG, ... as the kernel would). */
int rsys_req_encode(long nr, const uint64_t args[6], rsys_read_fn rd, void *ctx, uint8_t *buf,
	size_t cap, size_t *used) __must_check;

/* Home side: one decoded request. */
struct rsys_call;

/* Decode and validate a request; *out is owned by the caller
 * (rsys_call_free). 0, -EBADMSG for anything malformed, -ENOMEM. */
int rsys_req_decode(const uint8_t *buf, size_t len, struct rsys_call **out) __must_check;
void rsys_call_free(struct rsys_call *c);
long rsys_call_nr(const struct rsys_call *c);

/* Bytes of scratch the call needs (<= RSYS_MAX_SCRATCH); known right
 * after decode, so the deputy can grow its mapping before layout. */
size_t rsys_call_scratch_size(const struct rsys_call *c);

/* Place every buffer of the call in a scratch area mapped in the
 * process at scratch_base (8-byte aligned) and rewrite the pointer
 * arguments to point there. 0, -ENOSPC (cap < scratch size), -EINVAL
 * (misaligned base), -ENOMEM. Layout may be redone with another base. */
int rsys_call_layout(struct rsys_call *c, uint64_t scratch_base, size_t scratch_cap) __must_check;

/* After layout: the arguments to inject. */
void rsys_call_args(const struct rsys_call *c, uint64_t args[6]);

/* After layout: the image of the whole scratch area, rsys_call_scratch_size()
 * bytes (input data copied, output space zeroed, iovec arrays, msghdr and
 * socklen words built). Owned by c. */
const void *rsys_call_scratch_in(const struct rsys_call *c, size_t *len);

/* After layout: the part of the image that must be written into the
 * process before the injection: [*off, *off + *len) (output-only space
 * comes first in the area and need not be written). */
void rsys_call_write_range(const struct rsys_call *c, size_t *off, size_t *len);

/* After layout: scratch [0, n) holds everything the kernel may write;
 * the deputy reads that much back for rsys_reply_encode(). */
size_t rsys_call_read_len(const struct rsys_call *c);

/* After the injected call returned ret (a negative errno on failure):
 * serialize ret and the output it produced, taken from scratch_after
 * (the scratch area read back from the process, from offset 0,
 * scratch_len >= rsys_call_read_len()). 0, -EINVAL (not laid out, short
 * scratch), -ENOBUFS (cap too small; RSYS_MAX_REQ always suffices). */
int rsys_reply_encode(struct rsys_call *c, long ret, const void *scratch_after, size_t scratch_len,
	uint8_t *buf, size_t cap, size_t *used) __must_check;

/* Remote side: check a reply against system call nr and the process's
 * raw arguments (the same ones given to rsys_req_encode), write its
 * output into the process through wr (re-reading iovec arrays, msghdr
 * and socklen words through rd) and give the result in *ret.
 * 0, -EBADMSG (malformed, or not a reply to this call), -EFAULT (the
 * process's memory could not be written or re-read: hand -EFAULT to the
 * process). Nothing is written unless the whole reply is well formed. */
int rsys_reply_apply(long nr, const uint64_t args[6], const uint8_t *buf, size_t len,
	rsys_write_fn wr, rsys_read_fn rd, void *ctx, long *ret) __must_check;

#endif
