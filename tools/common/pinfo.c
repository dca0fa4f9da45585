/* pinfo: read one process from /proc (see pinfo.h). */
#include "tools/common/pinfo.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int pinfo_read(int pid, struct pinfo *pi)
{
	char path[64], buf[4096], *p, *open_paren;
	ssize_t n;
	int tty_nr = 0;
	unsigned long long ut = 0, st = 0, start = 0;
	long nice = 0, rss = 0;

	memset(pi, 0, sizeof(*pi));
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	open_paren = strchr(buf, '(');
	p = strrchr(buf, ')');
	if (!p || !open_paren || p < open_paren)
		return -EINVAL;
	snprintf(pi->comm, sizeof(pi->comm), "%.*s", (int)(p - open_paren - 1), open_paren + 1);
	/* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice num_threads itrealvalue starttime
	 * vsize rss */
	if (sscanf(p + 2,
		    "%c %*d %*d %*d %d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %ld %*d %*d "
		    "%llu %*u %ld",
		    &pi->state, &tty_nr, &ut, &st, &nice, &start, &rss) != 7)
		return -EINVAL;
	pi->pid = pid;
	pi->ticks = ut + st;
	pi->start = start;
	pi->nice = nice;
	pi->rss_kb = rss * (sysconf(_SC_PAGESIZE) / 1024);
	if (tty_nr) {
		unsigned maj = major((dev_t)tty_nr), min = minor((dev_t)tty_nr);

		if (maj == 136)
			snprintf(pi->tty, sizeof(pi->tty), "pts/%u", min);
		else if (maj == 4)
			snprintf(pi->tty, sizeof(pi->tty), "tty%u", min);
		else
			snprintf(pi->tty, sizeof(pi->tty), "%u:%u", maj, min);
	} else {
		snprintf(pi->tty, sizeof(pi->tty), "?");
	}
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, buf, sizeof(buf)) > 0 && (p = strstr(buf, "\nUid:")))
		pi->uid = (unsigned)strtoul(p + 5, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_file(path, pi->cmd, sizeof(pi->cmd));
	if (n > 0) {
		for (ssize_t i = 0; i < n - 1; i++)
			if (!pi->cmd[i])
				pi->cmd[i] = ' ';
	} else {
		snprintf(pi->cmd, sizeof(pi->cmd), "[%s]", pi->comm);
	}
	return 0;
}
