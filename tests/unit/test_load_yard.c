/* test_load_yard: the speed yardstick (load/yard). */
#include <errno.h>
#include <math.h>

#include "load/yard.h"
#include "proto/info.h"
#include "tests/unit/tap.h"

int main(void)
{
	double a = 0, b = 0, lo, hi;
	int err;

	ok(LOAD_DEFAULT_YARD > 0, "the default yardstick is set");
	is_int(load_yard_measure(0, &a), -EINVAL, "0 ms is refused");
	is_int(load_yard_measure(100, NULL), -EINVAL, "NULL score is refused");

	err = load_yard_measure(200, &a);
	is_int(err, 0, "first measurement");
	err = load_yard_measure(200, &b);
	is_int(err, 0, "second measurement");
	lo = fmin(a, b);
	hi = fmax(a, b);
	ok(lo > 0 && hi <= lo * 1.3, "two measurements within 30%% (%.1f, %.1f)", a, b);
	printf("# score %.1f -> speed %u (yardstick %.1f)\n", a, load_yard_speed(a, 0),
		LOAD_DEFAULT_YARD);

	is_int(load_yard_speed(123.0, 123.0), OM_STD_SPEED, "score = yardstick: standard speed");
	is_int(load_yard_speed(246.0, 123.0), 2 * OM_STD_SPEED, "twice the score: twice the speed");
	is_int(load_yard_speed(61.5, 123.0), OM_STD_SPEED / 2, "half the score: half the speed");
	is_int(load_yard_speed(LOAD_DEFAULT_YARD, 0), OM_STD_SPEED, "yardstick 0: the default");
	is_int(load_yard_speed(0, 100), 1, "score 0: speed 1");
	is_int(load_yard_speed(1e-9, 100), 1, "tiny score: speed 1");
	is_int(load_yard_speed(1e12, 1), UINT32_MAX, "speed saturates");
	return tap_done();
}
