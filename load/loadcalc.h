/* loadcalc: the openMosix load arithmetic, pure (no I/O, no globals).
 *
 * Load 1.00 is one standard-speed CPU (speed OM_STD_SPEED) fully busy,
 * normalised by speed and by CPU capacity:
 *
 *	norm = runnable * OM_STD_SPEED / (speed * capacity_cores)
 *
 * Two smoothed values, after MOSIX (see the Kerrighed port, mosix_probe.c):
 *  - local ("mean_load"): increases slowly, decreases quickly; used locally.
 *	new > old ? (5*old + 3*new)/8 : new
 *  - exported ("upper_load"): increases quickly, decreases slowly; gossiped.
 *	new >= old ? new : (7*old + new)/8
 * The MOSIX coefficients are per 1-second period. For an update period of dt
 * seconds the weight of the new sample, alpha, becomes 1 - (1 - alpha)^dt,
 * so the time constants stay those of a 1-second period.
 *
 * The sample fed in is the time-averaged runnable count over the period:
 * loadcalc_sample() accumulates instantaneous counts (every 100 ms, say) and
 * loadcalc_update() closes the period. Smoothing is linear, so the caller may
 * feed raw runnable counts and normalise the outputs (a change of capacity
 * or speed then shows at once), or feed normalised values.
 */
#ifndef OM_LOAD_LOADCALC_H
#define OM_LOAD_LOADCALC_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/info.h"

/* Per-process CPU-use decay per decay interval, per mille (openMosix
 * /proc/hpc/admin slow-decay and fast-decay defaults). */
#define LOADCALC_SLOW_DECAY 975u
#define LOADCALC_FAST_DECAY 926u

/* The MOSIX weights of a new sample for a 1-second period. */
#define LOADCALC_LOCAL_RISE (3.0 / 8.0)
#define LOADCALC_EXPORT_FALL (1.0 / 8.0)

/* What a probe measures (filled by load/probe.c, consumed here). */
struct load_sample {
	double runnable; /* threads runnable now (instantaneous) */
	double util;	 /* CPU utilisation since the previous sample, percent 0..100 */
	unsigned ncpus;	 /* CPUs the node has: ceil(capacity) */
	double capacity; /* CPU capacity in cores (0.5 for a half-core quota) */
	uint64_t tmem;	 /* total memory, bytes */
	uint64_t mem;	 /* free memory as openMosix believes (available), bytes */
	uint64_t rmem;	 /* free memory as Linux believes (MemFree), bytes */
};

/* Running state of one node's load estimate. Initialise with loadcalc_init(). */
struct loadcalc {
	double acc;	 /* integral of the samples since the last update (value x s) */
	double acc_time; /* seconds accumulated since the last update */
	double last;	 /* the last period's average */
	double local;	 /* rises slowly, drops at once */
	double exported; /* rises at once, decays slowly */
	bool primed;	 /* false until the first update */
};

void loadcalc_init(struct loadcalc *lc);
/* Account `value` (a runnable count) as held for `dt_s` seconds. */
void loadcalc_sample(struct loadcalc *lc, double value, double dt_s);
/* Close the period: average the samples, smooth both values with a period
 * of the accumulated time. Returns the period's average (0 if no samples;
 * then nothing changes). The first update sets both values to the average. */
double loadcalc_update(struct loadcalc *lc);

/* Speed- and capacity-normalised load; speed 0 counts as OM_STD_SPEED,
 * capacity <= 0 as one core. */
double loadcalc_norm(double runnable, uint32_t speed, double capacity);

/* Weight of a new sample for a period of dt_s seconds, given its weight for
 * a 1-second period: 1 - (1 - alpha_1s)^dt_s, in [0,1]. */
double loadcalc_alpha(double alpha_1s, double dt_s);
/* One smoothing step of the local value (rises slowly, drops at once). */
double loadcalc_smooth_local(double old, double sample, double dt_s);
/* One smoothing step of the exported value (rises at once, decays slowly). */
double loadcalc_smooth_exported(double old, double sample, double dt_s);

/* value * (per_mille/1000)^intervals: per-process CPU-use decay. */
double loadcalc_decay(double value, unsigned per_mille, unsigned intervals);

/* Conversions into struct om_load_info fields, saturating. */
uint16_t loadcalc_info_load(double norm_load); /* x100, rounded */
uint16_t loadcalc_info_capacity(double cores); /* centi-cores, rounded */
uint8_t loadcalc_info_ncpus(unsigned ncpus);   /* capped at 255 */
uint8_t loadcalc_info_util(double percent);    /* 0..100, rounded */
uint32_t loadcalc_info_mib(uint64_t bytes);    /* MiB, rounded down */
/* Fill the measured fields of `out` (ncpus, util, load, capacity, speed,
 * tmem, mem, rmem) from a sample, a normalised load and a speed; id and
 * status are left alone. */
void loadcalc_fill_info(
	struct om_load_info *out, const struct load_sample *s, double norm_load, uint32_t speed);

#endif
