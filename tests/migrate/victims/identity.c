/* identity: what the process sees of itself through system calls stays the
 * home's after a move: pid, parent, process group, session, ids, cwd, umask,
 * a lowered RLIMIT_NOFILE, its nice value and its environment. (/proc/self is
 * not checked: it describes the copy that runs at the remote.) */
#include "victim.h"

#include <errno.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>

struct ident {
	pid_t pid, ppid, pgrp, sid, pgid;
	uid_t uid, euid;
	gid_t gid, egid;
	mode_t mask;
	struct rlimit nofile;
	int prio;
	char cwd[PATH_MAX];
	char env[64];
};

static int take(struct ident *id)
{
	const char *e = getenv("OM_VICTIM_IDENTITY");

	memset(id, 0, sizeof(*id));
	id->pid = getpid();
	id->ppid = getppid();
	id->pgrp = getpgrp();
	id->sid = getsid(0);
	id->pgid = getpgid(0);
	id->uid = getuid();
	id->euid = geteuid();
	id->gid = getgid();
	id->egid = getegid();
	id->mask = umask(0);
	umask(id->mask);
	if (getrlimit(RLIMIT_NOFILE, &id->nofile))
		return -errno;
	errno = 0;
	id->prio = getpriority(PRIO_PROCESS, 0);
	if (errno)
		return -errno;
	if (!getcwd(id->cwd, sizeof(id->cwd)))
		return -errno;
	snprintf(id->env, sizeof(id->env), "%s", e ? e : "(unset)");
	return 0;
}

#define SAME(f, fmt)                                                                           \
	do {                                                                                   \
		if (a.f != b.f)                                                                \
			return v_fail(#f " was " fmt ", now " fmt, a.f, b.f);                  \
	} while (0)

int main(void)
{
	char dir[] = "/tmp/om-identity-XXXXXX";
	struct ident a, b;
	struct rlimit rl;
	int err;

	if (!mkdtemp(dir) || chdir(dir))
		return v_fail("cannot make or enter %s: %s", dir, strerror(errno));
	umask(027);
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return v_fail("getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_cur > 200 ? 200 : rl.rlim_cur;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return v_fail("setrlimit: %s", strerror(errno));
	if (setpriority(PRIO_PROCESS, 0, 5))
		return v_fail("setpriority: %s", strerror(errno));
	setenv("OM_VICTIM_IDENTITY", "moved-but-the-same", 1);
	err = take(&a);
	if (err)
		return v_fail("before the move: %s", strerror(-err));
	if (a.prio != 5 || a.mask != 027 || a.nofile.rlim_cur != rl.rlim_cur)
		return v_fail("set-up did not take: nice %d umask %o nofile %llu", a.prio,
			(unsigned)a.mask, (unsigned long long)a.nofile.rlim_cur);
	v_ready();
	v_wait();
	err = take(&b);
	if (err)
		return v_fail("after the move: %s", strerror(-err));
	SAME(pid, "%d");
	SAME(ppid, "%d");
	SAME(pgrp, "%d");
	SAME(sid, "%d");
	SAME(pgid, "%d");
	SAME(uid, "%u");
	SAME(euid, "%u");
	SAME(gid, "%u");
	SAME(egid, "%u");
	SAME(mask, "%o");
	SAME(prio, "%d");
	if (a.nofile.rlim_cur != b.nofile.rlim_cur || a.nofile.rlim_max != b.nofile.rlim_max)
		return v_fail("RLIMIT_NOFILE was %llu/%llu, now %llu/%llu",
			(unsigned long long)a.nofile.rlim_cur, (unsigned long long)a.nofile.rlim_max,
			(unsigned long long)b.nofile.rlim_cur, (unsigned long long)b.nofile.rlim_max);
	if (strcmp(a.cwd, b.cwd))
		return v_fail("cwd was %s, now %s", a.cwd, b.cwd);
	if (strcmp(a.env, b.env))
		return v_fail("environment was %s, now %s", a.env, b.env);
	/* the cwd is the real one: a relative path reaches it */
	if (mkdir("sub", 0700) || access(dir, F_OK) || rmdir("sub"))
		return v_fail("relative paths in the cwd: %s", strerror(errno));
	if (chdir("/") || rmdir(dir))
		return v_fail("cannot remove %s: %s", dir, strerror(errno));
	return v_pass();
}
