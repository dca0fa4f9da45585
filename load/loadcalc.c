#include "load/loadcalc.h"

#include <math.h>
#include <string.h>

void loadcalc_init(struct loadcalc *lc)
{
	memset(lc, 0, sizeof(*lc));
}

void loadcalc_sample(struct loadcalc *lc, double value, double dt_s)
{
	if (!(dt_s > 0) || !isfinite(value) || !isfinite(dt_s))
		return;
	if (value < 0)
		value = 0;
	lc->acc += value * dt_s;
	lc->acc_time += dt_s;
}

double loadcalc_update(struct loadcalc *lc)
{
	double avg, dt = lc->acc_time;

	if (!(dt > 0))
		return 0;
	avg = lc->acc / dt;
	lc->acc = 0;
	lc->acc_time = 0;
	lc->last = avg;
	if (!lc->primed) {
		lc->local = avg;
		lc->exported = avg;
		lc->primed = true;
		return avg;
	}
	lc->local = loadcalc_smooth_local(lc->local, avg, dt);
	lc->exported = loadcalc_smooth_exported(lc->exported, avg, dt);
	return avg;
}

double loadcalc_norm(double runnable, uint32_t speed, double capacity)
{
	if (speed == 0)
		speed = OM_STD_SPEED;
	if (!(capacity > 0))
		capacity = 1;
	if (!(runnable > 0))
		return 0;
	return runnable * OM_STD_SPEED / ((double)speed * capacity);
}

double loadcalc_alpha(double alpha_1s, double dt_s)
{
	if (!(alpha_1s > 0) || !(dt_s > 0))
		return 0;
	if (alpha_1s >= 1)
		return 1;
	return 1 - pow(1 - alpha_1s, dt_s);
}

double loadcalc_smooth_local(double old, double sample, double dt_s)
{
	if (sample > old)
		return old + loadcalc_alpha(LOADCALC_LOCAL_RISE, dt_s) * (sample - old);
	return sample;
}

double loadcalc_smooth_exported(double old, double sample, double dt_s)
{
	if (sample >= old)
		return sample;
	return old + loadcalc_alpha(LOADCALC_EXPORT_FALL, dt_s) * (sample - old);
}

double loadcalc_decay(double value, unsigned per_mille, unsigned intervals)
{
	if (intervals == 0)
		return value;
	if (per_mille >= 1000)
		return value;
	return value * pow(per_mille / 1000.0, intervals);
}

static double clampd(double v, double lo, double hi)
{
	if (!(v > lo)) /* also catches NaN */
		return lo;
	return v > hi ? hi : v;
}

uint16_t loadcalc_info_load(double norm_load)
{
	return (uint16_t)lround(clampd(norm_load * 100.0, 0, UINT16_MAX));
}

uint16_t loadcalc_info_capacity(double cores)
{
	return (uint16_t)lround(clampd(cores * 100.0, 0, UINT16_MAX));
}

uint8_t loadcalc_info_ncpus(unsigned ncpus)
{
	return ncpus > UINT8_MAX ? UINT8_MAX : (uint8_t)ncpus;
}

uint8_t loadcalc_info_util(double percent)
{
	return (uint8_t)lround(clampd(percent, 0, 100));
}

uint32_t loadcalc_info_mib(uint64_t bytes)
{
	uint64_t mib = bytes >> 20;

	return mib > UINT32_MAX ? UINT32_MAX : (uint32_t)mib;
}

void loadcalc_fill_info(
	struct om_load_info *out, const struct load_sample *s, double norm_load, uint32_t speed)
{
	out->ncpus = loadcalc_info_ncpus(s->ncpus);
	out->util = loadcalc_info_util(s->util);
	out->load = loadcalc_info_load(norm_load);
	out->capacity = loadcalc_info_capacity(s->capacity);
	out->speed = speed;
	out->tmem = loadcalc_info_mib(s->tmem);
	out->mem = loadcalc_info_mib(s->mem);
	out->rmem = loadcalc_info_mib(s->rmem);
}
