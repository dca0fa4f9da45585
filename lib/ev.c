#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Watches are kept in a small array indexed by fd; timers in a list that is
 * scanned for the earliest deadline (daemons have a handful of timers). */

struct ev_watch {
	ev_fd_cb cb;
	void *arg;
	bool used;
};

struct ev_timer {
	struct ev_loop *loop;
	ev_timer_cb cb;
	void *arg;
	uint64_t deadline;
	bool active;
	struct ev_timer *next;
};

struct ev_sig {
	int signo;
	ev_signal_cb cb;
	void *arg;
};

struct ev_loop {
	int epfd;
	int sigfd;
	sigset_t sigmask;
	struct ev_watch *watch;
	int nwatch;
	struct ev_timer *timers;
	struct ev_sig sigs[16];
	int nsigs;
	bool stop;
	uint64_t now;
};

struct ev_loop *ev_loop_new(void)
{
	struct ev_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		pr_err("epoll_create1: %s", strerror(errno));
		free(loop);
		return NULL;
	}
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	loop->now = now_ms();
	return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
	struct ev_timer *t, *n;

	if (!loop)
		return;
	for (t = loop->timers; t; t = n) {
		n = t->next;
		free(t);
	}
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	close(loop->epfd);
	free(loop->watch);
	free(loop);
}

static int watch_reserve(struct ev_loop *loop, int fd)
{
	if (fd < loop->nwatch)
		return 0;
	int n = MAX(fd + 1, loop->nwatch * 2);
	struct ev_watch *w = realloc(loop->watch, (size_t)n * sizeof(*w));

	if (!w)
		return -ENOMEM;
	memset(w + loop->nwatch, 0, (size_t)(n - loop->nwatch) * sizeof(*w));
	loop->watch = w;
	loop->nwatch = n;
	return 0;
}

int ev_fd_add(struct ev_loop *loop, int fd, uint32_t events, ev_fd_cb cb, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int err;

	if (fd < 0)
		return -EBADF;
	err = watch_reserve(loop, fd);
	if (err)
		return err;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop->watch[fd] = (struct ev_watch){ .cb = cb, .arg = arg, .used = true };
	return 0;
}

int ev_fd_mod(struct ev_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void ev_fd_del(struct ev_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nwatch || !loop->watch[fd].used)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->watch[fd].used = false;
}

struct ev_timer *ev_timer_new(struct ev_loop *loop, ev_timer_cb cb, void *arg)
{
	struct ev_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->cb = cb;
	t->arg = arg;
	t->next = loop->timers;
	loop->timers = t;
	return t;
}

void ev_timer_start(struct ev_timer *t, uint64_t ms)
{
	t->deadline = now_ms() + ms;
	t->active = true;
}

void ev_timer_stop(struct ev_timer *t)
{
	if (t)
		t->active = false;
}

bool ev_timer_active(const struct ev_timer *t)
{
	return t && t->active;
}

void ev_timer_free(struct ev_timer *t)
{
	struct ev_timer **pp;

	if (!t)
		return;
	for (pp = &t->loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	free(t);
}

static void sig_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (int i = 0; i < loop->nsigs; i++)
			if (loop->sigs[i].signo == (int)si.ssi_signo)
				loop->sigs[i].cb(loop, (int)si.ssi_signo, loop->sigs[i].arg);
	}
}

int ev_signal_add(struct ev_loop *loop, int signo, ev_signal_cb cb, void *arg)
{
	int fd, err;

	if (loop->nsigs >= (int)ARRAY_SIZE(loop->sigs))
		return -ENOSPC;
	sigaddset(&loop->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
		return -errno;
	fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (loop->sigfd < 0) {
		loop->sigfd = fd;
		err = ev_fd_add(loop, fd, EPOLLIN, sig_ready, NULL);
		if (err)
			return err;
	}
	loop->sigs[loop->nsigs++] = (struct ev_sig){ .signo = signo, .cb = cb, .arg = arg };
	return 0;
}

static int next_timeout(struct ev_loop *loop)
{
	uint64_t now = now_ms(), best = UINT64_MAX;

	for (struct ev_timer *t = loop->timers; t; t = t->next)
		if (t->active && t->deadline < best)
			best = t->deadline;
	if (best == UINT64_MAX)
		return -1;
	if (best <= now)
		return 0;
	return (int)MIN(best - now, 60000u);
}

static void run_timers(struct ev_loop *loop)
{
	bool fired;

	/* A callback may start/stop/free timers; rescan after each firing. */
	do {
		fired = false;
		uint64_t now = now_ms();

		loop->now = now;
		for (struct ev_timer *t = loop->timers; t; t = t->next) {
			if (t->active && t->deadline <= now) {
				t->active = false;
				t->cb(loop, t, t->arg);
				fired = true;
				break;
			}
		}
	} while (fired && !loop->stop);
}

int ev_loop_run(struct ev_loop *loop)
{
	struct epoll_event evs[32];

	loop->stop = false;
	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, evs, ARRAY_SIZE(evs), next_timeout(loop));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		loop->now = now_ms();
		for (int i = 0; i < n && !loop->stop; i++) {
			int fd = evs[i].data.fd;

			if (fd < loop->nwatch && loop->watch[fd].used)
				loop->watch[fd].cb(loop, fd, evs[i].events, loop->watch[fd].arg);
		}
		if (!loop->stop)
			run_timers(loop);
	}
	return 0;
}

void ev_loop_stop(struct ev_loop *loop)
{
	loop->stop = true;
}

uint64_t ev_now(const struct ev_loop *loop)
{
	return loop->now;
}
