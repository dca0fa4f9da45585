/* util: small helpers used everywhere (time, strings, files, parsing). */
#ifndef OM_UTIL_H
#define OM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define __must_check __attribute__((warn_unused_result))

/* CLOCK_MONOTONIC in milliseconds / microseconds / nanoseconds */
uint64_t now_ms(void);
uint64_t now_us(void);
uint64_t now_ns(void);
/* CLOCK_REALTIME in nanoseconds */
uint64_t wall_ns(void);

/* strtol/strtoul wrappers: whole string must be a number in [min,max].
 * Return 0 or -EINVAL / -ERANGE. */
int parse_long(const char *s, long min, long max, long *out) __must_check;
int parse_double(const char *s, double min, double max, double *out) __must_check;

/* Read a whole small file into buf (NUL-terminated). Returns bytes or -errno. */
ssize_t read_file(const char *path, char *buf, size_t cap) __must_check;
/* /proc/PID/NAME into buf (NUL-terminated, at most cap - 1 bytes): its
 * length, -ESRCH if there is no such process, or -errno. */
ssize_t proc_read(pid_t pid, const char *name, char *buf, size_t cap) __must_check;
/* The number after "KEY:" in a /proc/PID/status text, in base: 0, or
 * -ENOENT if there is no such line. */
int proc_status_field(const char *status, const char *key, int base, unsigned long long *out);
/* Write a whole file atomically (tmp + rename) with the given mode. 0 or -errno. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode) __must_check;
/* mkdir -p with mode; 0 or -errno */
int mkdir_p(const char *path, mode_t mode) __must_check;

/* snprintf that reports truncation: returns 0 or -ENAMETOOLONG */
int xsnprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4))) __must_check;

/* Strip leading/trailing whitespace in place; returns the start. */
char *strstrip(char *s);

/* The state directory: $OPENMOSIX_DIR or /run/openmosix */
const char *om_state_dir(void);

#endif
