/* vdso_rseq: after the move the vDSO clocks work and agree with the system
 * calls, and rseq is registered: its cpu_id follows the CPU we pin to and
 * matches getcpu and sched_getcpu(). */
#include "victim.h"

#include <sched.h>
#include <stdint.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>

static double ts_d(const struct timespec *ts)
{
	return (double)ts->tv_sec + ts->tv_nsec / 1e9;
}

static volatile struct rseq *rseq_area(void)
{
	if (__rseq_size == 0)
		return NULL;
	return (volatile struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

static int check_cpu(int cpu)
{
	cpu_set_t set;
	volatile struct rseq *rs = rseq_area();
	unsigned sys_cpu = ~0u;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return v_fail("sched_setaffinity %d", cpu);
	sched_yield();
	syscall(SYS_getcpu, &sys_cpu, NULL, NULL);
	if ((int)sys_cpu != cpu)
		return v_fail("getcpu says %u, pinned to %d", sys_cpu, cpu);
	if (sched_getcpu() != cpu)
		return v_fail("sched_getcpu() says %d, pinned to %d", sched_getcpu(), cpu);
	if (rs && (int)rs->cpu_id != cpu)
		return v_fail("rseq cpu_id %u, pinned to %d", rs->cpu_id, cpu);
	return 0;
}

int main(void)
{
	struct timespec before, vd, sys;
	cpu_set_t all;
	int ncpu;

	sched_getaffinity(0, sizeof(all), &all);
	ncpu = CPU_COUNT(&all);
	clock_gettime(CLOCK_MONOTONIC, &before);
	if (!rseq_area())
		return v_fail("glibc did not register rseq");

	v_ready();
	v_wait();

	clock_gettime(CLOCK_MONOTONIC, &vd);
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &sys);
	if (ts_d(&vd) < ts_d(&before) || ts_d(&sys) - ts_d(&vd) > 0.5 || ts_d(&sys) < ts_d(&vd))
		return v_fail("monotonic clock: before %.6f vdso %.6f syscall %.6f", ts_d(&before),
			      ts_d(&vd), ts_d(&sys));
	clock_gettime(CLOCK_REALTIME, &vd);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &sys);
	if (ts_d(&sys) - ts_d(&vd) > 0.5 || ts_d(&sys) < ts_d(&vd))
		return v_fail("realtime clock: vdso %.6f syscall %.6f", ts_d(&vd), ts_d(&sys));
	for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE && seen < ncpu && seen < 4; cpu++) {
		if (!CPU_ISSET(cpu, &all))
			continue;
		seen++;
		if (check_cpu(cpu))
			return 1;
	}
	return v_pass();
}
