/* log: leveled, format-checked logging shared by the daemon and the tools.
 *
 * Log once, where it fails: callers propagate -errno without logging again.
 * Errors carry file:line. pr_ratelimited() keeps repeated conditions
 * (garbage traffic, for instance) from flooding the log.
 */
#ifndef OM_LOG_H
#define OM_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Where and how much to log. Default: stderr, LOG_INFO, prefix = program name. */
void log_init(const char *ident, enum log_level level);
/* Redirect output to a file (append); NULL keeps stderr. Returns 0 or -errno. */
int log_to_file(const char *path) __attribute__((warn_unused_result));
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_printf(enum log_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define pr_err(fmt, ...) log_printf(LOG_ERR, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) log_printf(LOG_WARN, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) log_printf(LOG_INFO, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_printf(LOG_DEBUG, __FILE__, __LINE__, fmt, ##__VA_ARGS__)

/* A token bucket for one recurring condition: at most `burst` lines, then
 * one per `interval_ms`; suppressed lines are counted and reported. */
struct ratelimit {
	unsigned interval_ms;
	unsigned burst;
	unsigned printed;
	unsigned long long suppressed;
	unsigned long long window_start_ms;
};
#define RATELIMIT_INIT(ms, b) { .interval_ms = (ms), .burst = (b) }

/* true if the caller may log now; counts the suppressed ones otherwise */
bool ratelimit_ok(struct ratelimit *rl);

#define pr_ratelimited(rl, level, fmt, ...)                                           \
	do {                                                                          \
		if (ratelimit_ok(rl))                                                 \
			log_printf(level, __FILE__, __LINE__, fmt, ##__VA_ARGS__);    \
	} while (0)

#endif
