/* trace: phase timestamps of a move (see trace.h). Each deputy and remote
 * is a process of its own: the marks are per process. */
#include "mig/trace.h"
#include "lib/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACE_MAX 32

static struct {
	int on; /* 0 unknown, 1 on, -1 off */
	unsigned n;
	const char *what[TRACE_MAX];
	uint64_t at[TRACE_MAX];
} tr;

static uint64_t real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool trace_on(void)
{
	if (!tr.on) {
		const char *e = getenv("OM_MIG_TRACE");

		tr.on = e && *e && strcmp(e, "0") ? 1 : -1;
	}
	return tr.on > 0;
}

void mig_trace_start(void)
{
	tr.n = 0;
	mig_trace("start");
}

void mig_trace(const char *what)
{
	if (!trace_on() || tr.n >= TRACE_MAX)
		return;
	tr.what[tr.n] = what;
	tr.at[tr.n++] = real_us();
}

void mig_trace_log(const char *who, pid_t pid)
{
	char line[1024];
	size_t len = 0;

	if (!trace_on() || !tr.n)
		return;
	for (unsigned i = 1; i < tr.n && len < sizeof(line) - 64; i++) {
		int k = snprintf(line + len, sizeof(line) - len, " %s +%.2f", tr.what[i],
			(double)(tr.at[i] - tr.at[0]) / 1000.0);

		if (k < 0)
			break;
		len += (size_t)k;
	}
	line[len] = 0;
	pr_info("trace %s %d: T0 %llu%s", who, (int)pid, (unsigned long long)tr.at[0], line);
	tr.n = 0;
}
