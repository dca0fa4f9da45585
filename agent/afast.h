/* afast: the calls an in-process agent forwards by itself (the "fast
 * set") and the request and reply bodies of the direct link between a
 * migrated copy and its home original (frame types AFAST_T_REQ and
 * AFAST_T_REP of agent/aframe.h). Pure and freestanding: the agents and
 * the tests use the same code.
 *
 * A fast call has at most one buffer, and the request says where it is
 * (generic relocation: the home agent points that argument into its own
 * scratch, whatever the call): which argument, IN (sent with the request)
 * or OUT (sent back with the reply: ret bytes, or the whole buffer when
 * the call returned 0), and its length. The table below is what the
 * decoder holds each request to: a request for any other call, or with
 * another buffer, is refused. Counts above AFAST_MAX_IO are clamped by the
 * copy (a short read or write, which POSIX allows).
 *
 * Request body (big-endian), AFAST_REQ_SIZE bytes, then the IN data:
 *	u32 seq, u32 nr, u64 args[6], u8 buf_arg (0xff: none), u8 kind,
 *	u16 0, u32 buf_len
 * Reply body, AFAST_REP_SIZE bytes, then (signal not 0) the siginfo as
 * the home kernel gave it (AFAST_SIGINFO_SIZE bytes, host order: both
 * ends are x86_64), then the OUT data:
 *	u32 seq, u32 signal, u64 ret (signed), u32 data_len, u32 0
 * A signal is one for the home pid that arrived while the call ran; ret
 * may then be a -ERESTART* code, which the copy resolves by the signal's
 * disposition there, as the kernel would (see agent/blob/copy.c). A
 * -ERESTART* code without a signal is a call the home's tracer
 * interrupted to move the process: it runs again.
 */
#ifndef OM_AGENT_AFAST_H
#define OM_AGENT_AFAST_H

#include <stddef.h>
#include <stdint.h>

#define AFAST_T_REQ 0x4601
#define AFAST_T_REP 0x4602
#define AFAST_REQ_SIZE 64
#define AFAST_REP_SIZE 24
/* the largest buffer of one call: a whole request or reply fits one frame */
#define AFAST_MAX_IO ((1u << 20) - 256)
#define AFAST_NO_BUF 0xff
#define AFAST_SIGINFO_SIZE 128

enum afast_kind {
	AFAST_NONE = 0,
	AFAST_IN = 1,	    /* the process's data, sent with the request */
	AFAST_OUT_RET = 2,  /* filled by the call: ret bytes come back */
	AFAST_OUT_FULL = 3, /* filled by the call: all of it comes back if ret == 0 */
};

/* One call's buffer as the table defines it. */
struct afast_spec {
	uint8_t kind;	 /* enum afast_kind */
	uint8_t arg;	 /* the pointer argument */
	uint8_t len_arg; /* the argument with its length, or 0xff: fixed */
	uint32_t fixed;	 /* the length when len_arg is 0xff */
};

/* Is nr in the fast set? Fills *s (kind AFAST_NONE: no buffer). */
int afast_lookup(long nr, struct afast_spec *s);

struct afast_req {
	uint32_t seq;
	uint32_t nr;
	uint64_t args[6];
	uint8_t buf_arg, kind;
	uint32_t buf_len;
};

/* Copy side: the request for nr(args) in req (args[len_arg] clamped to
 * AFAST_MAX_IO). 0, or -ENOSYS (not in the fast set). */
int afast_req_make(struct afast_req *req, uint32_t seq, long nr, const uint64_t args[6]);
void afast_req_put(uint8_t out[AFAST_REQ_SIZE], const struct afast_req *req);
/* Home side: decode and check a request body of len bytes (the fixed part
 * and, for IN, the data after it). 0 or -EBADMSG. */
int afast_req_get(struct afast_req *req, const uint8_t *body, size_t len);

struct afast_rep {
	uint32_t seq;
	uint32_t sig;
	int64_t ret;
	uint32_t data_len;
};

/* Home side: the reply to req that returned ret (its data_len follows
 * from the buffer's kind; sig 0). */
void afast_rep_make(struct afast_rep *rep, const struct afast_req *req, int64_t ret);
void afast_rep_put(uint8_t out[AFAST_REP_SIZE], const struct afast_rep *rep);
/* Copy side: decode the fixed part of a reply to req and check it against
 * it (seq, signal 0..64, data_len as the kind and ret allow). 0 or
 * -EBADMSG. */
int afast_rep_get(struct afast_rep *rep, const uint8_t in[AFAST_REP_SIZE],
	const struct afast_req *req);

#endif
