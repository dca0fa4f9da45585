/* ev: the single-threaded event loop of a daemon (epoll + timers + signals).
 *
 * Handlers never block. Timers are one-shot; re-arm from the callback for
 * periodic work. All functions return 0 or -errno unless noted.
 */
#ifndef OM_EV_H
#define OM_EV_H

#include <stdint.h>
#include <stdbool.h>
#include <signal.h>

struct ev_loop;
struct ev_timer;

typedef void (*ev_fd_cb)(struct ev_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*ev_timer_cb)(struct ev_loop *loop, struct ev_timer *t, void *arg);
typedef void (*ev_signal_cb)(struct ev_loop *loop, int signo, void *arg);

struct ev_loop *ev_loop_new(void);
void ev_loop_free(struct ev_loop *loop);

/* Watch fd for EPOLLIN/EPOLLOUT...; one registration per fd. */
int ev_fd_add(struct ev_loop *loop, int fd, uint32_t events, ev_fd_cb cb, void *arg)
	__attribute__((warn_unused_result));
int ev_fd_mod(struct ev_loop *loop, int fd, uint32_t events) __attribute__((warn_unused_result));
/* Stop watching fd (does not close it). Safe inside callbacks. */
void ev_fd_del(struct ev_loop *loop, int fd);

/* Timers: owned by the loop; ev_timer_start (re)arms after `ms`. */
struct ev_timer *ev_timer_new(struct ev_loop *loop, ev_timer_cb cb, void *arg);
void ev_timer_start(struct ev_timer *t, uint64_t ms);
void ev_timer_stop(struct ev_timer *t);
bool ev_timer_active(const struct ev_timer *t);
void ev_timer_free(struct ev_timer *t);

/* Deliver a signal through signalfd (blocks it for the process). */
int ev_signal_add(struct ev_loop *loop, int signo, ev_signal_cb cb, void *arg)
	__attribute__((warn_unused_result));

/* Run until ev_loop_stop(); returns 0, or -errno if epoll itself fails. */
int ev_loop_run(struct ev_loop *loop);
void ev_loop_stop(struct ev_loop *loop);
/* Monotonic milliseconds as seen at the current loop iteration. */
uint64_t ev_now(const struct ev_loop *loop);

#endif
