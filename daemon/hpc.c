/* hpc: the hpc tree at DIR/hpc, the original's /proc/hpc as a FUSE view.
 *
 * omd does not serve FUSE itself: it runs omhpcfs (tools/omhpcfs.c, found
 * next to omd's own executable) as a child. omhpcfs mounts the tree, says
 * "ok" or why not on a pipe, and serves every read and write by asking us
 * over the control socket, like any other tool. So the loop never blocks on
 * a filesystem request, a blocked or crashed FUSE program cannot stop the
 * daemon, and the tree shows exactly what mosctl shows. Without FUSE we run
 * without the tree and say so once. At exit we unmount it (lazily, so a
 * reader in the tree cannot hold us) and end the child; PR_SET_PDEATHSIG
 * ends it if we are killed.
 */
#include "daemon/node.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define HPC_START_WAIT_MS 3000
#define HPC_STOP_WAIT_MS 2000

static struct {
	pid_t pid;        /* omhpcfs, 0 = none */
	int fd;           /* its report pipe while we wait for "ok" */
	bool mounted;
	char mnt[PATH_MAX];
	char line[512];
	size_t len;
} hpc = { .fd = -1 };

static void report_done(struct node *n)
{
	if (hpc.fd < 0)
		return;
	ev_fd_del(n->loop, hpc.fd);
	close(hpc.fd);
	hpc.fd = -1;
}

/* the child's one line: "ok", or why it could not mount the tree */
static void report_line(struct node *n, const char *line)
{
	if (!strcmp(line, "ok")) {
		hpc.mounted = true;
		pr_info("hpc tree mounted at %s", hpc.mnt);
	} else {
		pr_warn("running without the hpc tree at %s: %s", hpc.mnt,
			*line ? line : "omhpcfs ended without a word");
	}
}

/* read what is there; true once the line is complete (or the pipe ended) */
static bool report_read(struct node *n)
{
	for (;;) {
		ssize_t r = read(hpc.fd, hpc.line + hpc.len, sizeof(hpc.line) - 1 - hpc.len);
		char *nl;

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		if (r > 0)
			hpc.len += (size_t)r;
		hpc.line[hpc.len] = '\0';
		if ((nl = strchr(hpc.line, '\n')))
			*nl = '\0';
		if (nl || r <= 0 || hpc.len == sizeof(hpc.line) - 1) {
			report_line(n, hpc.line);
			report_done(n);
			return true;
		}
	}
}

static void report_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	report_read(arg);
}

static void child_exec(struct node *n, const char *prog, int report_fd)
{
	sigset_t none;
	int null = open("/dev/null", O_RDWR);
	char fdarg[16];

	/* the daemon's signals are blocked for its signalfd: not for the child */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (!n->cfg.foreground)
			dup2(null, 2);
	}
	if (dup2(report_fd, 3) < 0)
		_exit(127);
	close_range(4, ~0U, 0);
	snprintf(fdarg, sizeof(fdarg), "3");
	execl(prog, "omhpcfs", "--dir", n->cfg.dir, "--report-fd", fdarg, hpc.mnt, (char *)NULL);
	dprintf(3, "cannot run %s: %s\n", prog, strerror(errno));
	_exit(127);
}

void hpc_start(struct node *n)
{
	char exe[PATH_MAX], prog[PATH_MAX + 16], *slash;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int p[2];
	pid_t pid;

	if (xsnprintf(hpc.mnt, sizeof(hpc.mnt), "%s/hpc", n->cfg.dir)) {
		pr_warn("running without the hpc tree: the state directory's path is too long");
		return;
	}
	if (len <= 0 || !(slash = strrchr((exe[len] = '\0', exe), '/'))) {
		pr_warn("running without the hpc tree: cannot find omd's own directory");
		return;
	}
	*slash = '\0';
	snprintf(prog, sizeof(prog), "%s/omhpcfs", exe);
	if (access(prog, X_OK)) {
		pr_warn("running without the hpc tree at %s: %s: %s", hpc.mnt, prog, strerror(errno));
		return;
	}
	if (pipe2(p, O_CLOEXEC)) {
		pr_warn("running without the hpc tree: pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		pr_warn("running without the hpc tree: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		child_exec(n, prog, p[1]);
	}
	close(p[1]);
	hpc.pid = pid;
	hpc.fd = p[0];
	hpc.len = 0;
	/* start-up may wait: the tree is there when omd returns (or we know why not) */
	struct pollfd pfd = { .fd = hpc.fd, .events = POLLIN };
	uint64_t until = now_ms() + HPC_START_WAIT_MS;

	fcntl(hpc.fd, F_SETFL, O_NONBLOCK);
	while (hpc.fd >= 0 && now_ms() < until) {
		if (poll(&pfd, 1, (int)(until - now_ms())) > 0 && report_read(n))
			return;
	}
	if (hpc.fd >= 0 && ev_fd_add(n->loop, hpc.fd, EPOLLIN, report_ready, n))
		report_done(n);
}

bool hpc_child_exited(struct node *n, pid_t pid, int status)
{
	if (!hpc.pid || pid != hpc.pid)
		return false;
	hpc.pid = 0;
	if (hpc.fd >= 0)
		report_read(n); /* its last words */
	if (hpc.mounted) {
		pr_warn("the hpc tree at %s stopped (omhpcfs %s %d); running without it", hpc.mnt,
			WIFSIGNALED(status) ? "killed by signal" : "exited with",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		umount2(hpc.mnt, MNT_DETACH);
		hpc.mounted = false;
	}
	return true;
}

void hpc_stop(struct node *n)
{
	uint64_t until = now_ms() + HPC_STOP_WAIT_MS;
	int st;

	report_done(n);
	if (hpc.mounted && umount2(hpc.mnt, MNT_DETACH) && errno != EINVAL && errno != EPERM)
		pr_warn("cannot unmount the hpc tree at %s: %s", hpc.mnt, strerror(errno));
	hpc.mounted = false;
	if (!hpc.pid)
		return;
	kill(hpc.pid, SIGTERM);
	while (waitpid(hpc.pid, &st, WNOHANG) == 0) {
		if (now_ms() >= until) {
			kill(hpc.pid, SIGKILL);
			waitpid(hpc.pid, &st, 0);
			break;
		}
		usleep(10000);
	}
	hpc.pid = 0;
}
