/* trace: timestamps of the phases of one move, for finding where its time
 * goes. Off unless OM_MIG_TRACE is set (to anything but "0") in omd's
 * environment; then each end (deputy, remote) logs one line per move:
 * "trace deputy 1234: T0 connect +0.41 begin +0.45 ...": T0 is CLOCK_REALTIME
 * in µs at the first mark (so both ends' lines can be lined up), each
 * phase in ms after it. */
#ifndef OM_MIG_TRACE_H
#define OM_MIG_TRACE_H

#include <sys/types.h>

/* Start a trace (forgets any earlier marks). */
void mig_trace_start(void);
/* Mark the end of a phase; what must be a string constant. */
void mig_trace(const char *what);
/* Log the marks as one line for who and pid, and forget them. */
void mig_trace_log(const char *who, pid_t pid);

#endif
