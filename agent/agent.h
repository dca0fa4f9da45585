/* agent: the in-process agents of a migrated process's direct link.
 *
 * One flat blob of freestanding, position-independent code (agent/blob/,
 * linked to address 0 and objcopy'd to bytes, embedded in libom) holds
 * both ends:
 *
 *  - the copy agent, a SIGSYS handler: a call of the fast set (agent/afast.h)
 *    trapped by the seccomp filter (SECCOMP_RET_TRAP) is sent as one frame
 *    over the link, its reply written into the process's own buffer and
 *    registers, with no other process involved;
 *  - the home agent, a loop run by the original at home: it takes a frame,
 *    checks its MAC, points the call's buffer argument into its scratch
 *    (relocation) and runs the call natively, then answers.
 *
 * Frames are the stream frames of proto/stream.h (agent/aframe.h), each
 * direction with its own key and counter, so an on-path attacker cannot
 * make the home agent run a call: a frame that fails its MAC ends the link
 * and nothing in it runs.
 *
 * The blob is laid out as [text, rodata | page | state (struct agent_state)];
 * the loader copies it into a mapping of its own in the process, makes the
 * text read-only and executable, and fills the state (see the offsets
 * below, generated from the linked blob into $(BUILD)/gen/agent_syms.h).
 * This header is also compiled into the blob (AGENT_BLOB defined).
 */
#ifndef OM_AGENT_AGENT_H
#define OM_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/aframe.h"
#include "agent/afast.h"

#define AGENT_MAGIC 0x6f6d4147u /* "omAG" */
#define AGENT_VERSION 1

enum agent_phase {
	AGENT_IDLE = 0,	   /* home: waiting for a request */
	AGENT_RECV = 1,	   /* home: reading a request */
	AGENT_RUN = 2,	   /* home: running call seq */
	AGENT_REPLY = 3,   /* home: answering call seq */
	AGENT_DEAD = 4,	   /* the link failed: nothing more runs */
	AGENT_RUN_SLOW = 5, /* home: running the deputy's request (its own signals) */
};

/* The state page, written by the loader; the agent reads its settings and
 * keeps its progress here (a tracer can read it at a stop). */
struct agent_state {
	uint32_t magic, version;
	int32_t fd;		/* the direct link */
	int32_t pid;		/* copy: the process the link is for (a forked
				 * child, another pid, takes the slow path) */
	uint32_t pad1;
	volatile uint32_t phase; /* enum agent_phase */
	struct aframe_dir tx, rx;
	uint64_t seq;		/* the last request sent (copy) or taken (home) */
	uint64_t buf, buf_len;	/* home: scratch, 2 x (AFAST_MAX_IO + 4 KiB) */
	uint64_t fails;		/* frames refused (the link ends at the first) */
	int64_t last_err;	/* why the link ended: -errno */
	/* home: a signal for the home pid stopped the process while a fast
	 * call ran (phase AGENT_RUN): the tracer writes it here, with its
	 * siginfo, and the reply carries it to the copy, which raises it
	 * itself after deciding the call's restart (agent_home_fixup()) */
	volatile uint32_t sig;
	uint32_t pad0;
	uint8_t siginfo[AFAST_SIGINFO_SIZE];
	/* copy: the call in the handler */
	volatile uint32_t cphase; /* enum agent_cphase */
	uint32_t cnr;
	uint64_t cuc;		/* its ucontext */
	/* copy: set by the tracer (the remote) that wants the process out of
	 * the handler, to move it: the handler finishes the call in hand (a
	 * call not yet sent is not sent: it is rewound) and, last thing
	 * before returning, stops for the tracer at AGENT_OFF_HOLD_INSN
	 * (RET_TRACE); from there a few single steps (through rt_sigreturn)
	 * leave it in the program with every register and the signal mask
	 * as the kernel restores them, on the call's syscall instruction
	 * (rax = nr) if it is to run again. A call home was running when the
	 * move began is interrupted there (agent_home_fixup()), comes back as
	 * a -ERESTART* code without a signal, and is rewound the same way:
	 * after the move it runs again, once. */
	volatile uint32_t hold;
	/* home: the deputy's socket of the slow path (hagent.h's protocol:
	 * 56-byte requests nr + six arguments, 8-byte results, host order),
	 * served beside the link; -1: none */
	int32_t slow_fd;
};

enum agent_cphase {
	AGENT_C_OUT = 0,   /* not in the handler */
	AGENT_C_SEND = 1,  /* building or sending the request: nothing ran at home */
	AGENT_C_WAIT = 2,  /* sent: home may be running it */
	AGENT_C_DONE = 3,  /* the result is in the ucontext: returning */
	AGENT_C_SLOW = 4,  /* at the slow-path instruction: a plain forwarded call */
	AGENT_C_HOLD = 5,  /* stopped at the hold instruction (see hold) */
};

#ifndef AGENT_BLOB
#include "gen/agent_syms.h"

/* The blob's bytes and size (a multiple of 4096: text pages, then state). */
const uint8_t *agent_blob(size_t *len);

/* Offsets in the blob (from the generated header). */
#define AGENT_OFF_STATE AGENT_SYM_agent_state
#define AGENT_OFF_SIGSYS AGENT_SYM_agent_sigsys
#define AGENT_OFF_HOME_MAIN AGENT_SYM_agent_home_main
#define AGENT_OFF_RESTORER AGENT_SYM_agent_restorer
#define AGENT_OFF_FWD_INSN AGENT_SYM_agent_fwd_insn	/* home: the forwarded call's syscall */
#define AGENT_OFF_TEXT_END AGENT_SYM_agent_text_end	/* [0, this): code */
#define AGENT_OFF_FWD_CHECK AGENT_SYM_agent_fwd_check	/* home: the last look at sig */
#define AGENT_OFF_SLOW_INSN AGENT_SYM_agent_slow_insn	/* copy: "forward this via the tracer" */
#define AGENT_OFF_HOLD_INSN AGENT_SYM_agent_hold_insn	/* copy: held on the way out */

struct user_regs_struct;

enum agent_fixup {
	AGENT_FIX_NONE = 0,	/* not in a forwarded call: restart as usual */
	AGENT_FIX_NOT_RUN = 1,	/* about to run it: it returns -ERESTARTNOINTR unrun */
	AGENT_FIX_INTERRUPTED = 2, /* it was interrupted: it returns its -ERESTART* code */
};

/* Home, at a ptrace stop of the process running the home agent at base
 * (the same contract as hagent_fixup()): a call about to run (between the
 * last look at state->sig and its syscall instruction) is made to return
 * -ERESTARTNOINTR without running, an interrupted one returns its
 * -ERESTART* code instead of being restarted at home. regs is changed in
 * place (set it back if not NONE). A tracer that carries the signal in a
 * fast reply writes state->sig (and siginfo) when state->phase is
 * AGENT_RUN, whatever this returns. */
enum agent_fixup agent_home_fixup(struct user_regs_struct *regs, uint64_t base);

struct sock_filter;

/* The agent's part of a seccomp filter, to put right after the
 * architecture check: a call made by the agent's own code (the blob
 * mapped at code, its text [code, code + AGENT_OFF_TEXT_END)) is allowed,
 * except at its slow-path instruction (AGENT_OFF_SLOW_INSN), which gets
 * slow_ret (SECCOMP_RET_TRACE: the tracer forwards it like any call;
 * SECCOMP_RET_USER_NOTIF: a supervisor holding the filter's listener
 * does, with no tracer on the process), and its hold instruction
 * (AGENT_OFF_HOLD_INSN), which stops for the tracer (RET_TRACE); a call of the fast
 * set made anywhere else traps (SIGSYS to the copy agent); anything else
 * falls through to the instructions that follow.
 * Returns the number of instructions, -ENOSPC, or -ERANGE (the text
 * crosses a 4 GiB boundary: the filter compares 32-bit words). */
int agent_filter_prefix(struct sock_filter *f, size_t cap, uint64_t code, uint32_t slow_ret)
	__attribute__((warn_unused_result));

/* Map the blob into the calling process with scratch bytes after it (the
 * home agent needs 2 x (AFAST_MAX_IO + 4096)); the text is made read-only
 * and executable. For tests and benchmarks, and the shape of what the
 * migration engine plants with ptrace. Returns the base or NULL (errno). */
uint8_t *agent_map_self(size_t scratch);
/* Make the calling process a copy served by the blob at base over fd:
 * SIGSYS to the blob's handler (every signal blocked while it runs), then
 * a filter of the architecture check, agent_filter_prefix() and "allow
 * the rest". The slow path goes to a tracer (with none, ENOSYS) or, with
 * notif, to the holder of the filter's listener, whose descriptor is
 * returned. For tests and benchmarks. 0 (or the listener) or -errno. */
int agent_install_self(uint8_t *base, int fd, bool notif) __attribute__((warn_unused_result));
/* The keys of one link from a secret both ends' tracers share (the chan's
 * client-to-server session key) and a fresh nonce: BLAKE2b-256 keyed with
 * it over "om-agent/h2c" or "om-agent/c2h" and the nonce. Counters start
 * at 0: a new nonce for every link. */
void agent_link_derive(struct aframe_dir *h2c, struct aframe_dir *c2h,
	const uint8_t secret[ACRYPT_KEY_SIZE], const uint8_t nonce[16]);
/* Fresh random keys for both ends of one link (copy tx = home rx, ...). */
void agent_link_keys(struct agent_state *copy, struct agent_state *home);
/* The state page of a blob mapped at base. */
static inline struct agent_state *agent_state_at(uint8_t *base)
{
	return (struct agent_state *)(base + AGENT_OFF_STATE);
}
#endif

#endif
