/* pinfo: one process as /proc shows it, for mps and mtop. */
#ifndef OM_TOOLS_PINFO_H
#define OM_TOOLS_PINFO_H

#include <stdint.h>
#include <sys/types.h>

struct pinfo {
	int pid;
	unsigned uid;
	char state;
	char tty[16];
	unsigned long long ticks;   /* utime + stime, clock ticks */
	unsigned long long start;   /* start time, ticks after boot */
	long nice;
	long rss_kb;
	char comm[32];
	char cmd[512];              /* command line, or [comm] */
};

/* Read /proc/PID; 0 or -errno (-ENOENT: gone). */
int pinfo_read(int pid, struct pinfo *pi) __attribute__((warn_unused_result));

#endif
