/* timers: real-time timers survive moves and fire wherever the process
 * runs. At home it arms a 10 ms interval timer (ITIMER_REAL) and counts
 * SIGALRMs. On SIGUSR2 (sent after its first move) it re-arms it as a 7 ms
 * interval, and creates a POSIX timer (CLOCK_MONOTONIC, SIGRTMIN, 5 ms),
 * and says ARMED. After more moves and SIGUSR1 it checks: the interval
 * timer is the 7 ms one and still fires, the POSIX timer is there and
 * fires, alarm() sees one real-time timer, and once disarmed nothing fires
 * any more (no second timer left behind on another node or at home). */
#include "victim.h"

#include <errno.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t alrm, rt, rearm;

static void on_alrm(int sig)
{
	(void)sig;
	alrm++;
}

static void on_rt(int sig)
{
	(void)sig;
	rt++;
}

static void on_usr2(int sig)
{
	(void)sig;
	rearm = 1;
}

static void catch(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = SA_RESTART;
	sigaction(sig, &sa, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* wait about `s` seconds whatever interrupts the sleep */
static void wait_for(double s)
{
	double end = now_s() + s;

	while (now_s() < end) {
		struct timespec ts = { 0, 2000000 };

		nanosleep(&ts, NULL);
	}
}

static void wait_flag(volatile sig_atomic_t *flag)
{
	while (!*flag)
		wait_for(0.005);
}

int main(void)
{
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } }, got;
	struct sigevent sev;
	struct itimerspec ts = { { 0, 5000000 }, { 0, 5000000 } }, tgot;
	timer_t tid;
	int a0, r0, left;

	catch(SIGALRM, on_alrm);
	catch(SIGRTMIN, on_rt);
	catch(SIGUSR2, on_usr2);
	v_ready(); /* its watchdog alarm() is ITIMER_REAL too: replaced here */
	if (setitimer(ITIMER_REAL, &it, NULL))
		return v_fail("setitimer: %s", strerror(errno));

	wait_flag(&rearm); /* away now */
	it = (struct itimerval){ { 0, 7000 }, { 0, 7000 } };
	if (setitimer(ITIMER_REAL, &it, NULL))
		return v_fail("setitimer after the move: %s", strerror(errno));
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tid))
		return v_fail("timer_create: %s", strerror(errno));
	if (timer_settime(tid, 0, &ts, NULL))
		return v_fail("timer_settime: %s", strerror(errno));
	fputs("ARMED\n", stdout);
	fflush(stdout);

	wait_flag(&v_go); /* moved on, and back */
	if (getitimer(ITIMER_REAL, &got))
		return v_fail("getitimer: %s", strerror(errno));
	if (got.it_interval.tv_sec || got.it_interval.tv_usec != 7000)
		return v_fail("the interval timer is %ld.%06ld s, want the 7 ms one",
			(long)got.it_interval.tv_sec, (long)got.it_interval.tv_usec);
	if (timer_gettime(tid, &tgot))
		return v_fail("timer_gettime: %s", strerror(errno));
	if (tgot.it_interval.tv_nsec != 5000000)
		return v_fail("the POSIX timer's interval is %ld ns", (long)tgot.it_interval.tv_nsec);
	a0 = alrm;
	r0 = rt;
	wait_for(0.5);
	if (alrm - a0 < 5)
		return v_fail("the interval timer fired %d times in 0.5 s", alrm - a0);
	if (rt - r0 < 5)
		return v_fail("the POSIX timer fired %d times in 0.5 s", rt - r0);
	if (timer_delete(tid))
		return v_fail("timer_delete: %s", strerror(errno));
	it = (struct itimerval){ { 0, 0 }, { 0, 0 } };
	if (setitimer(ITIMER_REAL, &it, NULL))
		return v_fail("disarm: %s", strerror(errno));
	alarm(100);
	left = (int)alarm(0);
	if (left < 99 || left > 100)
		return v_fail("alarm(0) after alarm(100) says %d", left);
	wait_for(0.05);
	a0 = alrm;
	r0 = rt;
	wait_for(0.3);
	if (alrm != a0 || rt != r0)
		return v_fail("after disarming, %d SIGALRM and %d SIGRTMIN still came", alrm - a0,
			rt - r0);
	return v_pass();
}
