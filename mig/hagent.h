/* hagent: the resident loop of a migrated process's home side.
 *
 * Once a process has moved, its original at home only ever runs the
 * system calls that come back from the target. Instead of injecting each
 * one with ptrace (two stops per call), the deputy plants this small loop
 * of machine code in the original, once, and lets it run free:
 *
 *   for (;;) { read(fd, msg, 64) == 56 ? msg[0] = syscall(msg[0], msg[1..6])
 *              : pause-for-ever-on-EOF; write(fd, msg, 8); }
 *
 * fd is one end of an AF_UNIX SOCK_SEQPACKET pair whose other end the
 * deputy holds; msg is a page of its own. No stack, no libc, no memory of
 * the process touched: r12 holds fd and r13 msg, which system calls keep.
 * ptrace stays attached for control: a signal for the home pid stops the
 * loop (and the deputy passes it on and suppresses it), and the deputy
 * interrupts it to go home or end it. What the stop means for a forwarded
 * call in flight is a pure function of the registers: hagent_fixup().
 */
#ifndef OM_MIG_HAGENT_H
#define OM_MIG_HAGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#define HAGENT_REQ_SIZE 56   /* nr and six arguments, host order (a local socket) */
#define HAGENT_REPLY_SIZE 8  /* the result */
#define HAGENT_PAGE 4096     /* the code page; msg is the page after it */

/* The loop's machine code, position independent; *len gets its size. */
const uint8_t *hagent_code(size_t *len);

/* Registers that start the loop at code (mapped executable) with the
 * process's descriptor fd and message page msg; other registers from base. */
void hagent_start_regs(struct user_regs_struct *regs, const struct user_regs_struct *base,
	uint64_t code, int fd, uint64_t msg);

/* The process stopped (a signal for it, or our interrupt) with these
 * registers while the loop at code runs. A forwarded call that has not
 * started yet is answered with -ERESTARTNOINTR without running; one that
 * was interrupted returns its -ERESTART* code instead of being restarted
 * at home (the target restarts it, or fails it with EINTR, by the
 * signal's disposition there). Anything else (waiting for a request,
 * answering) restarts as usual. Returns true if regs were changed. */
bool hagent_fixup(struct user_regs_struct *regs, uint64_t code);

/* Is the loop idle, waiting for a request (or parked for good)? */
bool hagent_idle(const struct user_regs_struct *regs, uint64_t code);

#endif
