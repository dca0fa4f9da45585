/* yard: the speed yardstick (openMosix `mosctl setyard`).
 *
 * A short CPU benchmark, a fixed mix of integer and floating-point work,
 * gives a score: million iterations per CPU-second, the best of 10 equal
 * slices of the run (CPU time, not wall time, and the best slice, so that
 * other work on the machine or a noisy hypervisor neighbour lowers it as
 * little as possible). A node's speed is
 *
 *	speed = OM_STD_SPEED * score / yardstick
 *
 * where the yardstick is the score of the standard processor.
 */
#ifndef OM_LOAD_YARD_H
#define OM_LOAD_YARD_H

#include <stdint.h>

#include "lib/util.h"

/* The score of the standard processor (speed OM_STD_SPEED): the median of
 * 45 runs of load_yard_measure(200) in a gcc 12 -O2 build on a 2026 cloud
 * vCPU (a 2-vCPU "AMD EPYC" VM, Linux 6.18; range 226..272), so that
 * machine has speed ~10000. Sanitizer builds score a few percent lower. */
#define LOAD_DEFAULT_YARD 262.0

/* Run the benchmark for about `ms` milliseconds of CPU time (1..60000) and
 * store the score. Returns 0, -EINVAL, or -EAGAIN if the thread got no CPU
 * time at all (wall-clock cap: 10 x ms + 1 s). */
int load_yard_measure(unsigned ms, double *score) __must_check;

/* OM_STD_SPEED * score / yardstick, rounded, clamped to 1..UINT32_MAX;
 * yardstick <= 0 means LOAD_DEFAULT_YARD. */
uint32_t load_yard_speed(double score, double yardstick);

#endif
