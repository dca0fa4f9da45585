/* test_load: the pure load arithmetic (load/loadcalc). */
#include <math.h>
#include <stdint.h>

#include "load/loadcalc.h"
#include "tests/unit/tap.h"

static int near(double a, double b, double eps)
{
	return fabs(a - b) <= eps;
}

static void test_norm(void)
{
	ok(near(loadcalc_norm(1, OM_STD_SPEED, 1), 1.0, 1e-12), "one busy standard CPU is 1.00");
	ok(near(loadcalc_norm(1, 2 * OM_STD_SPEED, 1), 0.5, 1e-12), "twice the speed halves load");
	ok(near(loadcalc_norm(1, OM_STD_SPEED, 0.5), 2.0, 1e-12), "half a core doubles load");
	ok(near(loadcalc_norm(4, OM_STD_SPEED, 4), 1.0, 1e-12), "4 runnable on 4 cores is 1.00");
	ok(near(loadcalc_norm(3, 5000, 2), 3.0, 1e-12), "speed and capacity together");
	ok(near(loadcalc_norm(1, 0, 0), 1.0, 1e-12), "speed 0 and capacity 0 take defaults");
	ok(loadcalc_norm(-1, OM_STD_SPEED, 1) == 0, "negative runnable is 0");
}

static void test_smoothing(void)
{
	double v, e;
	int i;

	ok(near(loadcalc_alpha(3.0 / 8, 1), 3.0 / 8, 1e-12), "alpha over 1 s is the MOSIX weight");
	ok(near(loadcalc_alpha(3.0 / 8, 2), 1 - (5.0 / 8) * (5.0 / 8), 1e-12), "alpha over 2 s");
	ok(loadcalc_alpha(0.5, 0) == 0, "alpha over 0 s is 0");
	ok(loadcalc_alpha(1, 0.1) == 1, "alpha 1 stays 1");

	/* exported: rises at once, decays by 1/8 per second */
	ok(loadcalc_smooth_exported(0, 5, 0.1) == 5, "exported rises immediately");
	ok(near(loadcalc_smooth_exported(8, 0, 1), 7, 1e-12), "exported decays (7*old+new)/8");
	ok(near(loadcalc_smooth_exported(8, 4, 1), 7.5, 1e-12), "exported decays toward new");
	/* local: rises by 3/8 per second, drops at once */
	ok(near(loadcalc_smooth_local(0, 8, 1), 3, 1e-12), "local rises (5*old+3*new)/8");
	ok(loadcalc_smooth_local(8, 1, 0.1) == 1, "local drops immediately");

	/* the time constants do not depend on the update period */
	v = 0;
	e = 8;
	for (i = 0; i < 10; i++) {
		v = loadcalc_smooth_local(v, 8, 0.1);
		e = loadcalc_smooth_exported(e, 0, 0.1);
	}
	ok(near(v, 3, 1e-9), "10 local steps of 0.1 s = one of 1 s (%.9f)", v);
	ok(near(e, 7, 1e-9), "10 exported steps of 0.1 s = one of 1 s (%.9f)", e);
	v = 0;
	for (i = 0; i < 4; i++)
		v = loadcalc_smooth_local(v, 8, 0.25);
	ok(near(v, 3, 1e-9), "4 local steps of 0.25 s = one of 1 s");
}

static void test_accumulator(void)
{
	struct loadcalc lc;
	double avg;

	loadcalc_init(&lc);
	ok(loadcalc_update(&lc) == 0 && !lc.primed, "update without samples changes nothing");
	loadcalc_sample(&lc, 2, 0.5);
	loadcalc_sample(&lc, 0, 0.5);
	loadcalc_sample(&lc, 5, 0); /* no time: ignored */
	loadcalc_sample(&lc, NAN, 0.1);
	avg = loadcalc_update(&lc);
	ok(near(avg, 1, 1e-12), "update averages over time (%.3f)", avg);
	ok(lc.primed && near(lc.local, 1, 1e-12) && near(lc.exported, 1, 1e-12),
		"first update primes both values");

	/* a jump to 4: exported follows at once, local slowly */
	for (int i = 0; i < 10; i++)
		loadcalc_sample(&lc, 4, 0.1);
	avg = loadcalc_update(&lc);
	ok(near(avg, 4, 1e-12), "period average 4");
	ok(near(lc.exported, 4, 1e-12), "exported jumps to 4");
	ok(near(lc.local, 1 + 3.0 / 8 * 3, 1e-9), "local rises 3/8 of the way (%.4f)", lc.local);

	/* back to 0: local drops at once, exported decays */
	loadcalc_sample(&lc, 0, 1);
	loadcalc_update(&lc);
	ok(lc.local == 0, "local drops to 0");
	ok(near(lc.exported, 3.5, 1e-9), "exported decays to 3.5 (%.4f)", lc.exported);

	/* a 2-second period counts as two 1-second ones */
	loadcalc_sample(&lc, 0, 2);
	loadcalc_update(&lc);
	ok(near(lc.exported, 3.5 * 49 / 64, 1e-9), "2 s period decays by (7/8)^2");
	loadcalc_sample(&lc, -3, 1);
	ok(near(loadcalc_update(&lc), 0, 1e-12), "negative samples count as 0");
}

static void test_decay(void)
{
	ok(near(loadcalc_decay(1000, LOADCALC_SLOW_DECAY, 1), 975, 1e-9), "slow decay, 1 interval");
	ok(near(loadcalc_decay(1000, LOADCALC_FAST_DECAY, 1), 926, 1e-9), "fast decay, 1 interval");
	ok(near(loadcalc_decay(1000, LOADCALC_FAST_DECAY, 2), 857.476, 1e-6),
		"fast decay, 2 intervals");
	ok(near(loadcalc_decay(1000, LOADCALC_SLOW_DECAY, 10), 1000 * pow(0.975, 10), 1e-9),
		"slow decay, 10 intervals");
	ok(loadcalc_decay(123, LOADCALC_SLOW_DECAY, 0) == 123, "0 intervals: unchanged");
	ok(loadcalc_decay(123, 1000, 7) == 123, "per mille 1000: unchanged");
	ok(loadcalc_decay(123, 0, 1) == 0, "per mille 0: gone");
	ok(loadcalc_decay(1000, LOADCALC_SLOW_DECAY, 100) >
			loadcalc_decay(1000, LOADCALC_FAST_DECAY, 100),
		"slow decays slower than fast");
}

static void test_info(void)
{
	struct om_load_info info = {.id = 7, .status = 3};
	struct load_sample s = {
		.runnable = 1,
		.util = 99.6,
		.ncpus = 1,
		.capacity = 0.5,
		.tmem = 512ull << 20,
		.mem = (300ull << 20) + 5,
		.rmem = 100ull << 20,
	};

	is_int(loadcalc_info_load(1.234), 123, "load x100 rounds");
	is_int(loadcalc_info_load(655.35), 65535, "load at the top");
	is_int(loadcalc_info_load(700), 65535, "load saturates");
	is_int(loadcalc_info_load(-1), 0, "negative load is 0");
	is_int(loadcalc_info_load(NAN), 0, "NaN load is 0");
	is_int(loadcalc_info_load(INFINITY), 65535, "infinite load saturates");
	is_int(loadcalc_info_capacity(0.5), 50, "half a core is 50 centi-cores");
	is_int(loadcalc_info_capacity(1000), 65535, "capacity saturates");
	is_int(loadcalc_info_ncpus(300), 255, "ncpus saturates");
	is_int(loadcalc_info_ncpus(16), 16, "ncpus");
	is_int(loadcalc_info_util(150), 100, "util clamps at 100");
	is_int(loadcalc_info_util(-3), 0, "util clamps at 0");
	is_int(loadcalc_info_mib((3ull << 20) + 5), 3, "MiB round down");
	is_int(loadcalc_info_mib(UINT64_MAX), UINT32_MAX, "MiB saturate");

	loadcalc_fill_info(&info, &s, loadcalc_norm(s.runnable, 20000, s.capacity), 20000);
	ok(info.id == 7 && info.status == 3, "fill leaves id and status");
	is_int(info.load, 100, "fill: 1 runnable, speed 20000, 0.5 core = 1.00");
	is_int(info.capacity, 50, "fill: capacity");
	is_int(info.ncpus, 1, "fill: ncpus");
	is_int(info.util, 100, "fill: util");
	is_int(info.speed, 20000, "fill: speed");
	ok(info.tmem == 512 && info.mem == 300 && info.rmem == 100, "fill: memory in MiB");
}

int main(void)
{
	test_norm();
	test_smoothing();
	test_accumulator();
	test_decay();
	test_info();
	return tap_done();
}
