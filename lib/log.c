#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "openmosix";
static enum log_level log_level = LOG_INFO;
static FILE *log_fp;

void log_init(const char *ident, enum log_level level)
{
	log_ident = ident;
	log_level = level;
}

int log_to_file(const char *path)
{
	FILE *fp;

	if (!path)
		return 0;
	fp = fopen(path, "ae");
	if (!fp)
		return -errno;
	setvbuf(fp, NULL, _IOLBF, 0);
	if (log_fp)
		fclose(log_fp);
	log_fp = fp;
	return 0;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_printf(enum log_level level, const char *file, int line, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	FILE *fp = log_fp ? log_fp : stderr;
	char stamp[32] = "";
	va_list ap;

	if (level > log_level)
		return;
	if (log_fp) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%F %T", &tm);
		fprintf(fp, "%s.%03ld ", stamp, ts.tv_nsec / 1000000);
	}
	fprintf(fp, "%s[%d]: ", log_ident, (int)getpid());
	if (level == LOG_ERR || level == LOG_DEBUG)
		fprintf(fp, "%s (%s:%d): ", names[level], file, line);
	else if (level == LOG_WARN)
		fprintf(fp, "%s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', fp);
}

bool ratelimit_ok(struct ratelimit *rl)
{
	unsigned long long now = now_ms();

	if (now - rl->window_start_ms >= rl->interval_ms) {
		if (rl->suppressed)
			log_printf(LOG_WARN, __FILE__, __LINE__,
				"%llu similar messages suppressed", rl->suppressed);
		rl->window_start_ms = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
