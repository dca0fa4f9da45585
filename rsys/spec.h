/* spec: the argument specifications of forwarded system calls (internal to
 * rsys/: rsys/table.c holds the table, rsys/rsys.c the codecs).
 *
 * A shape says, for each of the six arguments, what kind of memory it
 * points to and where its size comes from. Every pointer argument may be
 * NULL: it is then passed as NULL at home and has no section on the wire.
 */
#ifndef OM_RSYS_SPEC_H
#define OM_RSYS_SPEC_H

#include <stdint.h>

#include "rsys/rsys.h"

/* Argument kinds. The value travels on the wire as a consistency check. */
enum rsys_kind {
	RK_SCALAR = 0,
	RK_PATH, /* NUL-terminated string, at most RSYS_MAX_PATH with the NUL */
	RK_IN,	 /* len = arg[ref] * (size ?: 1) */
	RK_OUT,	 /* same; AF_RET: min(ret * elem, len) bytes come back */
	RK_INOUT,
	RK_IN_FIXED,	/* size bytes */
	RK_OUT_FIXED,	/* only where the kernel always writes all size bytes */
	RK_INOUT_FIXED, /* where it may write part of them */
	RK_IOV_IN,	/* struct iovec[arg[ref]] */
	RK_IOV_OUT,	/* min(ret, total) bytes come back, scattered */
	RK_SOCKADDR_IN, /* len = arg[ref] (int), at most RSYS_MAX_SOCKADDR */
	RK_VR_OUT,	/* value-result buffer: socklen_t *arg[ref], at most size */
	RK_LENPTR,	/* that socklen_t *: marshalled with its buffer */
	RK_POLLFDS,	/* struct pollfd[arg[ref]]; revents come back */
	RK_FDSET,	/* fd_set of arg[ref] bits (select's nfds) */
	RK_MSGHDR_IN,	/* sendmsg */
	RK_MSGHDR_OUT,	/* recvmsg */
	RK_SIGSET_PAIR, /* pselect6: { const sigset_t *ss; size_t ss_len } */
	RK__COUNT,
};

/* Argument flags */
#define AF_RET 0x01   /* RK_OUT: bytes returned = min(ret * elem, len) */
#define AF_CLAMP 0x02 /* length above RSYS_MAX_IO is clamped by encode (else -E2BIG) */
#define AF_L32 0x04   /* the length argument is a C int: negative is -EINVAL */
#define AF_U32 0x08   /* the length argument is an unsigned int */

struct rsys_arg {
	uint8_t kind;
	uint8_t ref; /* the argument giving the length, count or socklen_t * */
	uint8_t flags;
	uint32_t size; /* fixed size, element size or largest size, by kind */
};

/* Shape flags */
#define SF_OUT_IF_POS 0x01 /* output comes back only when ret > 0 (wait4) */

struct rsys_shape {
	uint8_t flags;
	struct rsys_arg a[6];
};

/* A system call's entry. For FORWARD calls either `shape` is set, or
 * `resolve` picks the shape from the arguments (fcntl's command, ioctl's
 * request): NULL there means the call is refused with `unres_err`. */
struct rsys_spec {
	uint8_t cls; /* enum rsys_class + 1; 0: not in the table (DENY) */
	uint8_t unres_err;
	const struct rsys_shape *shape;
	const struct rsys_shape *(*resolve)(const uint64_t args[6]);
};

/* The shape of forwarded call nr with these arguments: 0 and *out, or
 * -ENOSYS (not forwarded) or the spec's refusal errno. */
int rsys_shape_of(long nr, const uint64_t args[6], const struct rsys_shape **out);

#endif
