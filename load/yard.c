#include "load/yard.h"

#include <errno.h>
#include <math.h>
#include <time.h>

#include "proto/info.h"

#define YARD_CHUNK 16384u /* iterations between clock reads */
#define YARD_SLICES 10u	  /* the score is the best slice's rate */

/* Where the benchmark's result goes, so the work cannot be optimised away. */
static volatile double yard_sink;

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One chunk of the fixed work: a xorshift/multiply integer chain feeding a
 * floating-point multiply-add chain with a square root every 16 steps. The
 * two chains depend on each other, so the compiler can neither vectorise nor
 * precompute them. */
static void yard_chunk(uint64_t *xs, double *fs)
{
	uint64_t x = *xs;
	double f = *fs;
	unsigned i;

	for (i = 0; i < YARD_CHUNK; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		x = x * 0x9e3779b97f4a7c15ull + i;
		f = f * 0.9999995 + (double)(x >> 40) * 1e-7;
		if ((i & 15) == 15) {
			f = sqrt(f + 1.0);
			x += (uint64_t)f;
		}
	}
	*xs = x;
	*fs = f;
}

int load_yard_measure(unsigned ms, double *score)
{
	uint64_t x = 0x2545f4914f6cdd1dull, slice, w0, wall_cap;
	double f = 1.0, best = 0;
	unsigned i;

	if (!score || ms == 0 || ms > 60000)
		return -EINVAL;
	slice = (uint64_t)ms * 1000000ull / YARD_SLICES;
	wall_cap = 10ull * ms * 1000000ull + 1000000000ull;
	w0 = now_ns();
	for (i = 0; i < YARD_SLICES && now_ns() - w0 < wall_cap; i++) {
		uint64_t c0 = cpu_ns(), iters = 0, cpu;

		do {
			yard_chunk(&x, &f);
			iters += YARD_CHUNK;
			cpu = cpu_ns() - c0;
		} while (cpu < slice && now_ns() - w0 < wall_cap);
		if (cpu > 0)
			best = MAX(best, (double)iters / ((double)cpu / 1e9) / 1e6);
	}
	yard_sink = f + (double)(x & 0xffff);
	if (!(best > 0))
		return -EAGAIN;
	*score = best;
	return 0;
}

uint32_t load_yard_speed(double score, double yardstick)
{
	double s;

	if (!(yardstick > 0))
		yardstick = LOAD_DEFAULT_YARD;
	if (!(score > 0) || !(yardstick > 0))
		return 1;
	s = round(OM_STD_SPEED * score / yardstick);
	if (s < 1)
		return 1;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}
