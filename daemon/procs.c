/* procs: the processes under the cluster's care on this node (started with
 * mosrun), where each runs, and the migrations in flight.
 *
 * A migration is a deputy child (mig/deputy.c) that reports over a pipe:
 *   "ok ID RPID"     committed: the process now runs at node ID
 *   "fail ERRNO WHY" refused or failed before the commit: still at home
 *   "exit K CODE CPU" the process ended (K 0: exit code, 1: signal) after
 *                    CPU µs of CPU time at its node
 *   "home CPU"       it is back home, after CPU µs of CPU time away
 *   "fork CHILD RCHILD" it forked at its node (mig/fork.c)
 *   "lost"           its remote part was lost: killed at home
 * The ctl client that asked for the migration waits for the first line.
 */
#include "daemon/node.h"
#include "daemon/procs.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"
#include "map/map.h"
#include "mig/mig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS 4096

static struct om_proc procs[MAX_PROCS];

struct om_proc *procs_find(pid_t pid)
{
	for (size_t i = 0; i < MAX_PROCS; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

size_t procs_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < MAX_PROCS; i++)
		n += procs[i].pid != 0;
	return n;
}

struct om_proc *procs_at(size_t idx)
{
	for (size_t i = 0; i < MAX_PROCS; i++)
		if (procs[i].pid && idx-- == 0)
			return &procs[i];
	return NULL;
}

/* forget entries whose process is gone and that no deputy serves */
static void sweep(void)
{
	for (size_t i = 0; i < MAX_PROCS; i++)
		if (procs[i].pid && !procs[i].deputy && kill(procs[i].pid, 0) < 0 && errno == ESRCH)
			memset(&procs[i], 0, sizeof(procs[i]));
}

int procs_adopt(struct node *n, pid_t pid, uid_t uid, gid_t gid, const struct om_proc_opts *o)
{
	struct om_proc *p = procs_find(pid);

	sweep();
	if (!p)
		p = procs_find(0);
	if (!p)
		return -ENOSPC;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->uid = uid;
	p->gid = gid;
	p->report_fd = -1;
	p->where = n->self_id;
	p->adopted_ms = now_ms();
	if (o)
		p->opts = *o;
	pr_debug("process %d (uid %u) under care", pid, uid);
	return 0;
}

static void follow_fork(struct node *n, struct om_proc *p, pid_t child, pid_t rchild);

static void finish_request(struct om_proc *p, int err, const char *msg)
{
	if (p->done)
		p->done(p->done_arg, err, msg);
	p->done = NULL;
	p->done_arg = NULL;
}

static double link_mb_s;

double procs_link_mb_s(void)
{
	return link_mb_s;
}

static void note_move(struct om_proc *p)
{
	p->moves_ms[p->nmigs % 4] = now_ms();
	p->nmigs++;
}

unsigned procs_recent_moves(const struct om_proc *p, uint64_t now, uint64_t window_ms)
{
	unsigned k = 0;

	for (int i = 0; i < 4; i++)
		k += p->moves_ms[i] && now - p->moves_ms[i] < window_ms;
	return k;
}

bool procs_busy(const struct om_proc *p)
{
	return p->done || p->then_target || (p->deputy && p->node && p->where == p->node->self_id);
}

static void deputy_line(struct node *n, struct om_proc *p, char *line)
{
	unsigned id, rpid;
	int err, kind, code, child;
	unsigned long long cpu = 0;
	char *why;

	if (sscanf(line, "ok %u %u", &id, &rpid) == 2) {
		p->where = (uint16_t)id;
		p->remote_pid = (pid_t)rpid;
		note_move(p);
		if (p->mig_start_ms && p->mb >= 8) {
			double s = (double)(now_ms() - p->mig_start_ms) / 1000.0;

			if (s > 0.001)
				link_mb_s = link_mb_s ? 0.7 * link_mb_s + 0.3 * (p->mb / s) : p->mb / s;
		}
		p->mig_start_ms = 0;
		finish_request(p, 0, NULL);
	} else if (sscanf(line, "fail %d", &err) == 1) {
		why = strchr(line + 5, ' ');
		p->then_target = 0;
		finish_request(p, err < 0 ? err : -EIO, why ? why + 1 : "migration failed");
	} else if (sscanf(line, "exit %d %d %llu", &kind, &code, &cpu) >= 2) {
		struct om_proc *pp = p->parent ? procs_find(p->parent) : NULL;

		p->remote_cpu_us += cpu;
		pr_info("process %d ended at node %u (%s %d) after %llu ms of CPU there (%llu ms "
			"away in all)", p->pid, p->where, kind ? "signal" : "exit code", code,
			cpu / 1000, (unsigned long long)p->remote_cpu_us / 1000);
		if (pp) /* its parent's share, as the kernel adds a child's times at exit */
			pp->children_remote_cpu_us += p->remote_cpu_us + p->children_remote_cpu_us;
		p->where = n->self_id;
	} else if (sscanf(line, "fork %d %u", &child, &rpid) == 2) {
		follow_fork(n, p, (pid_t)child, (pid_t)rpid);
	} else if (sscanf(line, "home %llu", &cpu) == 1) {
		p->remote_cpu_us += cpu;
		p->where = n->self_id;
		note_move(p);
		if (!p->then_target) /* else: on to the next node once the deputy is gone */
			finish_request(p, 0, NULL);
	} else if (!strcmp(line, "lost")) {
		pr_warn("process %d lost its remote part at node %u: killed at home", p->pid,
			p->where);
		p->then_target = 0;
		p->where = n->self_id;
		finish_request(p, -EHOSTDOWN, "the target node was lost during the move");
	}
}

static void deputy_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct om_proc *p = arg;
	struct node *n = p->node;
	char buf[1024];
	ssize_t r = read(fd, buf, sizeof(buf) - 1);

	if (r <= 0) {
		/* the deputy is gone */
		ev_fd_del(loop, fd);
		close(fd);
		p->report_fd = -1;
		if (!p->then_target)
			finish_request(p, -EIO, "the migration process died");
		p->where = n->self_id;
		return;
	}
	buf[r] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		deputy_line(n, p, line);
}

static int start_deputy(struct node *n, struct om_proc *p, uint16_t target, uint32_t addr,
	pid_t fork_rpid, procs_done_fn done, void *arg);

/* p forked at node p->where (mig/fork.c): its home child waits for a
 * deputy of its own, its copy there for a server of its own */
static void follow_fork(struct node *n, struct om_proc *p, pid_t child, pid_t rchild)
{
	struct om_proc *c = procs_find(child);
	uint32_t addr;
	int err;

	if (!c) {
		if (procs_adopt(n, child, p->uid, p->gid, &p->opts) || !(c = procs_find(child))) {
			pr_err("forked child %d of %d: no room under care: killing it", (int)child,
				(int)p->pid);
			kill(child, SIGKILL);
			return;
		}
	}
	c->parent = p->pid;
	c->opts = p->opts;
	c->placed = p->placed; /* it starts where its parent was put */
	err = map_addr_of(n->map, p->where, &addr) ? -ENOENT :
		start_deputy(n, c, p->where, addr, rchild, NULL, NULL);
	if (err) {
		pr_err("forked child %d of %d: cannot start its deputy (%s): killing it", (int)child,
			(int)p->pid, strerror(-err));
		kill(child, SIGKILL);
	}
}

int procs_migrate(struct node *n, struct om_proc *p, uint16_t target, uint32_t addr,
	procs_done_fn done, void *arg)
{
	return start_deputy(n, p, target, addr, 0, done, arg);
}

static int start_deputy(struct node *n, struct om_proc *p, uint16_t target, uint32_t addr,
	pid_t fork_rpid, procs_done_fn done, void *arg)
{
	int pfd[2];
	pid_t child;

	if (p->deputy)
		return -EALREADY;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pfd) < 0)
		return -errno;
	child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (child == 0) {
		/* the deputy: no loop, no daemon sockets, default signals */
		sigset_t all;
		struct mig_deputy_args a = {
			.pid = p->pid,
			.uid = p->uid,
			.gid = p->gid,
			.self_id = n->self_id,
			.target_id = target,
			.target_addr = addr,
			.target_port = n->cfg.mig_port,
			.key = n->key,
			.report_fd = pfd[1],
			.fork_rpid = fork_rpid,
		};

		close(pfd[0]);
		node_close_fds_in_child(n, -1);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* no deputy outlives its daemon */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_IGN);
		_exit(mig_deputy_main(&a));
	}
	close(pfd[1]);
	p->mig_start_ms = now_ms();
	p->deputy = child;
	p->report_fd = pfd[0];
	p->node = n;
	p->done = done;
	p->done_arg = arg;
	if (ev_fd_add(n->loop, pfd[0], EPOLLIN, deputy_ready, p)) {
		kill(child, SIGKILL);
		close(pfd[0]);
		p->deputy = 0;
		return -ENOMEM;
	}
	return 0;
}

int procs_move(struct node *n, struct om_proc *p, uint16_t target, uint32_t addr,
	procs_done_fn done, void *arg)
{
	int err;

	if (procs_busy(p))
		return -EALREADY;
	if (target == n->self_id)
		return procs_bring_home(n, p, done, arg);
	if (p->where == n->self_id)
		return procs_migrate(n, p, target, addr, done, arg);
	err = procs_bring_home(n, p, done, arg);
	if (err)
		return err;
	p->then_target = target;
	p->then_addr = addr;
	return 0;
}

int procs_bring_home(struct node *n, struct om_proc *p, procs_done_fn done, void *arg)
{
	if (!p->deputy || p->report_fd < 0)
		return -ESRCH;
	if (p->done)
		return -EALREADY;
	if (write(p->report_fd, "home\n", 5) != 5)
		return -EIO;
	p->done = done;
	p->done_arg = arg;
	return 0;
}

void procs_child_exited(struct node *n, pid_t child, int status)
{
	for (size_t i = 0; i < MAX_PROCS; i++) {
		struct om_proc *p = &procs[i];

		if (!p->pid || p->deputy != child)
			continue;
		p->deputy = 0;
		if (p->report_fd >= 0) {
			/* read what is left of its report before forgetting it */
			deputy_ready(n->loop, p->report_fd, EPOLLIN, p);
			if (p->report_fd >= 0) {
				ev_fd_del(n->loop, p->report_fd);
				close(p->report_fd);
				p->report_fd = -1;
			}
		}
		p->where = n->self_id;
		if (p->then_target) {
			/* remote -> remote: home now, on to the target */
			uint16_t t = p->then_target;
			procs_done_fn done = p->done;
			void *arg = p->done_arg;
			int err = -ESRCH;

			p->then_target = 0;
			p->done = NULL;
			p->done_arg = NULL;
			if (kill(p->pid, 0) == 0)
				err = procs_migrate(n, p, t, p->then_addr, done, arg);
			if (!err)
				return;
			if (done)
				done(arg, err, "it came home, but could not go on to the target");
		}
		finish_request(p, -EIO, "the migration process ended");
		if (kill(p->pid, 0) < 0 && errno == ESRCH)
			memset(p, 0, sizeof(*p));
		return;
	}
}

static void start_done(void *arg, int err, const char *why)
{
	if (err)
		pr_warn("process %d could not start at the node mosrun asked for: %s",
			(int)(intptr_t)arg, why && *why ? why : strerror(-err));
}

static uint64_t exe_inode(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return stat(path, &st) ? 0 : (uint64_t)st.st_ino ^ ((uint64_t)st.st_dev << 40);
}

void procs_set_start(struct om_proc *p, uint16_t node)
{
	p->start_node = node;
	p->start_exe = exe_inode(p->pid);
}

void procs_poll_exec(struct node *n)
{
	for (size_t i = 0; i < MAX_PROCS; i++) {
		struct om_proc *p = &procs[i];

		if (p->pid && p->start_node && exe_inode(p->pid) != p->start_exe)
			procs_exec_event(n, p->pid);
	}
}

void procs_exec_event(struct node *n, pid_t pid)
{
	struct om_proc *p = procs_find(pid);
	uint32_t addr;
	uint16_t t;
	int err;

	if (!p || !p->start_node)
		return;
	t = p->start_node;
	p->start_node = 0;
	if (map_addr_of(n->map, t, &addr)) {
		start_done((void *)(intptr_t)pid, -ENOENT, "the node is not in the map");
		return;
	}
	p->placed = true;
	err = procs_move(n, p, t, addr, start_done, (void *)(intptr_t)pid);
	if (err)
		start_done((void *)(intptr_t)pid, err, NULL);
}

void procs_cancel_waiters(void *arg)
{
	for (size_t i = 0; i < MAX_PROCS; i++)
		if (procs[i].done_arg == arg) {
			procs[i].done = NULL;
			procs[i].done_arg = NULL;
		}
}

/* --- guests: processes of other nodes running here ----------------------- */

#define MAX_GUESTS 1024

static struct om_guest guests[MAX_GUESTS];
static unsigned expel_waiting;
static procs_done_fn expel_done;
static void *expel_arg;

int guests_add(pid_t remote, uint16_t home_id, pid_t home_pid, uid_t uid, const char *comm)
{
	for (size_t i = 0; i < MAX_GUESTS; i++) {
		if (guests[i].remote)
			continue;
		guests[i] = (struct om_guest){ .remote = remote, .home_id = home_id,
			.home_pid = home_pid, .uid = uid, .since_ms = now_ms() };
		snprintf(guests[i].comm, sizeof(guests[i].comm), "%s", comm);
		return 0;
	}
	return -ENOSPC;
}

size_t guests_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < MAX_GUESTS; i++)
		n += guests[i].remote != 0;
	return n;
}

const struct om_guest *guests_at(size_t idx)
{
	for (size_t i = 0; i < MAX_GUESTS; i++)
		if (guests[i].remote && idx-- == 0)
			return &guests[i];
	return NULL;
}

bool guests_child_exited(pid_t child)
{
	for (size_t i = 0; i < MAX_GUESTS; i++) {
		if (guests[i].remote != child)
			continue;
		memset(&guests[i], 0, sizeof(guests[i]));
		if (expel_waiting && --expel_waiting == 0 && expel_done) {
			procs_done_fn done = expel_done;

			expel_done = NULL;
			done(expel_arg, 0, NULL);
		}
		return true;
	}
	return false;
}

int guests_expel(procs_done_fn done, void *arg)
{
	if (expel_done)
		return -EALREADY;
	expel_waiting = 0;
	for (size_t i = 0; i < MAX_GUESTS; i++)
		if (guests[i].remote && kill(guests[i].remote, SIGUSR1) == 0)
			expel_waiting++;
	if (!expel_waiting)
		return 1; /* nobody here */
	expel_done = done;
	expel_arg = arg;
	return 0;
}

void guests_cancel_waiter(void *arg)
{
	if (expel_arg == arg) {
		expel_done = NULL;
		expel_arg = NULL;
	}
}
