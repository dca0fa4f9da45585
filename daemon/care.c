/* care: every descendant of a process under care is under care too.
 *
 * The kernel's process events connector (NETLINK_CONNECTOR, CN_IDX_PROC)
 * reports every fork on the host to the event loop; a child (not a thread)
 * whose parent is under care is adopted with the parent's options at once,
 * before anyone could ask to migrate it. Events can arrive out of order (a
 * child may fork before its own creation is reported) or be lost (a full
 * socket buffer): a fork whose parent is not known is checked against the
 * parent's ancestry in /proc, and after a loss the whole process table is
 * scanned. The connector needs CAP_NET_ADMIN; without it (omd not run as
 * root) the same ancestry check runs when a process is asked about
 * (care_lookup), so children are still found, only later.
 *
 * Exec events go to procs_exec_event (mosrun -ID leaves once the program is
 * exec'd; procs.c also polls for it, for when there are no events).
 *
 * Why not a cgroup: omd does not own the home processes' cgroups (they stay
 * where their session put them), and a cgroup says nothing about which
 * process forked which; the connector keeps the genuine tree.
 */
#include "daemon/care.h"
#include "daemon/node.h"
#include "daemon/procs.h"
#include "lib/ev.h"
#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_DEPTH 32

static int care_fd = -1;

/* ppid, uid and gid of pid from /proc; 0 or -errno */
static int proc_ids(pid_t pid, pid_t *ppid, uid_t *uid, gid_t *gid)
{
	char path[64], line[256];
	unsigned long u = 0, g = 0;
	long pp = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "PPid: %ld", &pp) == 1)
			continue;
		if (sscanf(line, "Uid: %lu", &u) == 1)
			continue;
		sscanf(line, "Gid: %lu", &g);
	}
	fclose(f);
	if (pp < 0)
		return -ESRCH;
	*ppid = (pid_t)pp;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/* Is this a thread id rather than a process? (Tgid != pid) */
static bool is_thread(pid_t pid)
{
	char path[64], line[128];
	long tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %ld", &tgid) == 1)
			break;
	fclose(f);
	return tgid > 0 && tgid != pid;
}

/* adopt child as a descendant of the process parent (under care) */
static struct om_proc *adopt_child(struct node *n, pid_t child, const struct om_proc *parent)
{
	struct om_proc_opts o = parent->opts;
	pid_t pp;
	uid_t uid = parent->uid;
	gid_t gid = parent->gid;
	struct om_proc *p;

	if (proc_ids(child, &pp, &uid, &gid))
		return NULL; /* already gone */
	if (procs_adopt(n, child, uid, gid, &o)) {
		pr_warn("process %d: cannot put it under care (too many)", (int)child);
		return NULL;
	}
	p = procs_find(child);
	if (p)
		p->parent = parent->pid;
	pr_debug("process %d, a child of %d, under care", (int)child, (int)parent->pid);
	return p;
}

struct om_proc *care_lookup(struct node *n, pid_t pid)
{
	pid_t chain[MAX_DEPTH], pp = pid;
	struct om_proc *p = procs_find(pid);
	unsigned depth = 0;
	uid_t uid;
	gid_t gid;

	if (p || pid <= 1 || !procs_count())
		return p;
	/* walk up until an ancestor under care, init, or ourselves */
	while (depth < MAX_DEPTH) {
		chain[depth++] = pp;
		if (proc_ids(pp, &pp, &uid, &gid) || pp <= 1 || pp == getpid())
			return NULL;
		p = procs_find(pp);
		if (p)
			break;
	}
	if (!p)
		return NULL;
	/* adopt the chain down to pid */
	while (p && depth)
		p = adopt_child(n, chain[--depth], p);
	return p;
}

/* after lost events: adopt whatever descends from a process under care */
static void rescan(struct node *n)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 1)
			continue;
		care_lookup(n, (pid_t)pid);
	}
	closedir(d);
}

static void on_fork(struct node *n, pid_t parent, pid_t child, pid_t child_tgid)
{
	struct om_proc *pp;

	if (child != child_tgid || procs_find(child) || !procs_count())
		return; /* a thread, or known */
	pp = procs_find(parent);
	if (pp) {
		adopt_child(n, child, pp);
		return;
	}
	if (!is_thread(child))
		care_lookup(n, child);
}

static void care_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct node *n = arg;
	uint8_t buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t len;

	(void)loop;
	(void)events;
	for (;;) {
		len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == ENOBUFS) {
				pr_warn("process events were lost: rescanning the process table");
				rescan(n);
				continue;
			}
			return; /* EAGAIN: all read */
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
			h = NLMSG_NEXT(h, len)) {
			struct cn_msg *cn = NLMSG_DATA(h);
			struct proc_event ev;

			if (h->nlmsg_type != NLMSG_DONE ||
				h->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(ev)))
				continue;
			if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
				continue;
			/* the event sits 4-byte aligned after the header: copy it */
			memcpy(&ev, cn->data, sizeof(ev));
			if (ev.what == PROC_EVENT_FORK)
				on_fork(n, ev.event_data.fork.parent_tgid,
					ev.event_data.fork.child_pid,
					ev.event_data.fork.child_tgid);
			else if (ev.what == PROC_EVENT_EXEC &&
				ev.event_data.exec.process_pid == ev.event_data.exec.process_tgid)
				procs_exec_event(n, ev.event_data.exec.process_tgid); /* mosrun -ID */
		}
	}
}

int care_open(struct node *n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC,
		.nl_pid = 0 };
	struct {
		struct nlmsghdr h;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req;
	int fd, sz = 4 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = NLMSG_DONE;
	req.h.nlmsg_pid = 0;
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.len = sizeof(req.op);
	req.op = PROC_CN_MCAST_LISTEN;
	if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		goto fail;
	if (ev_fd_add(n->loop, fd, EPOLLIN, care_ready, n))
		goto fail;
	care_fd = fd;
	return 0;
fail:
	pr_info("no process events (%s): children of processes under care are found when asked "
		"about", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

void care_close(void)
{
	if (care_fd >= 0)
		close(care_fd);
	care_fd = -1;
}
