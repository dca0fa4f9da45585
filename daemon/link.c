/* link: the TCP migration port (4660). Every connection must complete the
 * authenticated handshake of proto/stream.h within LINK_HANDSHAKE_MS; then
 * it carries sealed frames (proto/link.h). A connection that fails
 * authentication is counted, logged (rate-limited) and closed. */
#include "daemon/node.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"
#include "proto/link.h"
#include "proto/stream.h"
#include "proto/wire.h"
#include "proto/migp.h"
#include "mig/chan.h"
#include "mig/mig.h"
#include "daemon/procs.h"

#include <signal.h>
#include <sys/prctl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK_HANDSHAKE_MS 5000
#define LINK_IDLE_MS 60000
#define LINK_MAX_CONNS 128
#define LINK_BUF 65536 /* handshake and ping frames are tiny */

struct link_conn {
	struct node *n;
	int fd;
	char ip[INET_ADDRSTRLEN];
	struct stream_auth auth;
	uint8_t *in;
	size_t in_len;
	uint8_t out[256];
	size_t out_len;
	struct ev_timer *timer;
};

static unsigned nconns;
static struct ratelimit rl_link = RATELIMIT_INIT(5000, 3);

static void conn_free(struct link_conn *c)
{
	ev_fd_del(c->n->loop, c->fd);
	close(c->fd);
	ev_timer_free(c->timer);
	stream_auth_wipe(&c->auth);
	free(c->in);
	free(c);
	nconns--;
}

static void conn_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct link_conn *c = arg;

	if (!stream_ready(&c->auth)) {
		c->n->cnt.link_auth_failed++;
		pr_ratelimited(&rl_link, LOG_WARN, "connection from %s did not authenticate in time",
			c->ip);
	}
	conn_free(c);
}

/* queue bytes; replies are tiny, a full socket buffer means a dead peer */
static int conn_send(struct link_conn *c, const uint8_t *buf, size_t len)
{
	ssize_t w = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	return w == (ssize_t)len ? 0 : -EIO;
}

#define LINK_HANDED_OFF 1

/* A process arrives: its connection goes to a remote child (mig/remote.c)
 * with whatever input follows the MIG_BEGIN frame. */
/* FORK_BEGIN: the child rpid must be owned by that user and be a child of
 * the server of one of our guests from that home node (mig/fork.c), or,
 * once that server is gone (its process exited before the child was
 * claimed), still carry a guest's forwarding filter (seccomp, no new
 * privileges) */
static bool forked_here(uint16_t home_id, pid_t rpid, uid_t uid)
{
	char path[64], line[128];
	long ppid = -1, ruid = -1, seccomp = 0, nnp = 0;
	const struct om_guest *g;
	FILE *f;

	if (rpid <= 1)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)rpid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "PPid: %ld", &ppid);
		sscanf(line, "Uid: %ld", &ruid);
		sscanf(line, "Seccomp: %ld", &seccomp);
		sscanf(line, "NoNewPrivs: %ld", &nnp);
	}
	fclose(f);
	if (ruid != (long)uid || seccomp != 2 || nnp != 1)
		return false;
	for (size_t i = 0; (g = guests_at(i)); i++)
		if (g->remote == (pid_t)ppid)
			return g->home_id == home_id;
	return true; /* its parent's server is gone: reparented (to init or a subreaper) */
}

/* The spare remote (mig_remote_spare_main): forked ahead of need, its
 * stub ready, handed the next arriving process, so that forking the
 * remote and the stub, the cgroup and emptying the stub are not part of
 * a move. A new one is started a moment after each hand-over (not at
 * once: it would compete with the move for the CPU). OM_MIG_SPARE=0 in
 * the environment: none (every remote forked on MIG_BEGIN). */
#define SPARE_DELAY_MS 100
#define SPARE_RETRY_MS 5000

static pid_t spare_pid;
static int spare_sock = -1;
static struct ev_timer *spare_timer;

/* in a child: close every socket but keep (the daemon's connections must
 * not stay open in a long-lived process: their peers would not see them
 * close) */
static void close_sockets_but(int keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	struct stat st;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (fd > 2 && fd != keep && fd != dirfd(d) && !fstat(fd, &st) && S_ISSOCK(st.st_mode))
			close(fd);
	}
	closedir(d);
}

static void spare_start(struct node *n)
{
	const char *env = getenv("OM_MIG_SPARE");
	int sv[2];
	pid_t child;

	if (spare_pid > 0 || n->link_fd < 0 || (env && !strcmp(env, "0")))
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	child = fork();
	if (child < 0) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (child == 0) {
		struct mig_remote_args ra = { .self_id = n->self_id, .cgroup = n->cfg.cgroup };
		sigset_t none;

		close(sv[0]);
		node_close_fds_in_child(n, -1);
		close_sockets_but(sv[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		_exit(mig_remote_spare_main(&ra, sv[1]));
	}
	close(sv[1]);
	spare_pid = child;
	spare_sock = sv[0];
}

static void spare_tick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	spare_start(arg);
}

/* the spare, handed over: not ours to kill any more */
static void spare_forget(void)
{
	if (spare_sock >= 0)
		close(spare_sock);
	spare_sock = -1;
	spare_pid = 0;
}

bool link_spare_exited(pid_t pid)
{
	if (!pid || pid != spare_pid)
		return false;
	pr_debug("the spare server %d ended", (int)pid);
	spare_forget();
	if (spare_timer)
		ev_timer_start(spare_timer, SPARE_RETRY_MS);
	return true;
}

static int start_remote(struct link_conn *c, uint16_t type, const uint8_t *body, size_t len,
	const uint8_t *left, size_t left_len)
{
	struct node *n = c->n;
	struct migp_begin b;
	struct migp_ack nack = { 0 };
	uint8_t out[STREAM_FRAME_OVERHEAD + MIGP_ACK_SIZE];
	pid_t child;
	int k;

	if (migp_begin_decode(body, len, &b) < 0)
		return -EBADMSG;
	if (type == LINK_FORK_BEGIN && (b.home_id != stream_peer_id(&c->auth) ||
					       !forked_here(b.home_id, (pid_t)b.image_len, b.uid))) {
		pr_warn("node %u names process %llu as a child of its guests: it is not",
			stream_peer_id(&c->auth), (unsigned long long)b.image_len);
		return -EPERM;
	}
	if (type == LINK_MIG_BEGIN &&
		(n->admin.block || n->off || !idset_has(&n->cfg.guest_uids, b.uid))) {
		nack.err = -EPERM;
		if (n->off || n->admin.block)
			snprintf(nack.why, sizeof(nack.why), "node %u %s", n->self_id,
				n->off ? "is not in the cluster" : "blocks guest processes");
		else
			snprintf(nack.why, sizeof(nack.why),
				"node %u does not accept guests of uid %u", n->self_id, b.uid);
		uint8_t ab[MIGP_ACK_SIZE];

		k = migp_ack_encode(ab, sizeof(ab), &nack);
		k = k < 0 ? k : stream_frame_seal(&c->auth, out, sizeof(out), LINK_MIG_ACK, ab, (size_t)k);
		if (k > 0)
			conn_send(c, out, (size_t)k);
		pr_info("refused a process from node %u: %s", b.home_id, nack.why);
		return -EPERM;
	}
	if (type == LINK_MIG_BEGIN && spare_pid > 0) {
		child = spare_pid;
		if (mig_handover_send(spare_sock, c->fd, &c->auth, body, len, left, left_len) == 0) {
			spare_forget();
			ev_timer_start(spare_timer, SPARE_DELAY_MS);
			goto handed;
		}
		pr_warn("the spare server %d did not take the process: forking one", (int)child);
		kill(child, SIGKILL); /* reaped by on_child (link_spare_exited) */
		spare_forget();
		ev_timer_start(spare_timer, SPARE_RETRY_MS);
	}
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		struct mig_remote_args ra = { .self_id = n->self_id, .cgroup = n->cfg.cgroup };
		struct mig_chan ch;
		sigset_t none;

		node_close_fds_in_child(n, c->fd);
		/* the node's daemon dying is the node dying: its guests go too */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		if (mig_chan_adopt(&ch, c->fd, &c->auth, left, left_len))
			_exit(1);
		_exit(type == LINK_FORK_BEGIN ? mig_remote_fork_main(&ra, &ch, &b) :
						 mig_remote_main(&ra, &ch, &b));
	}
handed:
	pr_debug("process %u of node %u arrives: remote child %d", b.pid, b.home_id, (int)child);
	if (guests_add(child, b.home_id, (pid_t)b.pid, b.uid, b.comm))
		pr_warn("guest table full: guest %d cannot be expelled", (int)child);
	return LINK_HANDED_OFF;
}

static int handle_frame(struct link_conn *c, uint16_t type, const uint8_t *body, size_t len)
{
	uint8_t out[64], pong[LINK_PONG_SIZE];
	int n;

	switch (type) {
	case LINK_PING:
		if (len != LINK_PING_SIZE)
			return -EBADMSG;
		memcpy(pong, body, 8);
		wire_put_u16(pong + 8, c->n->self_id);
		n = stream_frame_seal(&c->auth, out, sizeof(out), LINK_PONG, pong, sizeof(pong));
		if (n < 0)
			return n;
		return conn_send(c, out, (size_t)n);
	default:
		return -EBADMSG;
	}
}

static int process(struct link_conn *c)
{
	uint8_t out[64];
	size_t off = 0;
	int n;

	while (off < c->in_len) {
		const uint8_t *p = c->in + off;
		size_t left = c->in_len - off;

		if (c->auth.state == STREAM_INIT) {
			n = stream_hello_decode(&c->auth, p, left);
			if (n == -EAGAIN)
				break;
			if (n < 0)
				goto fail;
			off += (size_t)n;
			int m = stream_hello_ack_encode(&c->auth, out, sizeof(out));

			if (m < 0 || conn_send(c, out, (size_t)m))
				return -EIO;
		} else if (c->auth.state == STREAM_ACK_SENT) {
			n = stream_auth_msg_decode(&c->auth, p, left);
			if (n == -EAGAIN)
				break;
			if (n < 0)
				goto fail;
			off += (size_t)n;
			c->n->cnt.link_accepted++;
			pr_debug("link from %s (node %u) authenticated", c->ip,
				stream_peer_id(&c->auth));
			ev_timer_start(c->timer, LINK_IDLE_MS);
		} else if (stream_ready(&c->auth)) {
			uint16_t type;
			const uint8_t *body;
			size_t blen;

			n = stream_frame_open(&c->auth, p, left, &type, &body, &blen);
			if (n == -EAGAIN)
				break;
			if (n < 0)
				goto fail;
			off += (size_t)n;
			if (type == LINK_MIG_BEGIN || type == LINK_FORK_BEGIN)
				return start_remote(c, type, body, blen, c->in + off,
					c->in_len - off);
			if (handle_frame(c, type, body, blen))
				return -EIO;
			ev_timer_start(c->timer, LINK_IDLE_MS);
		} else {
			return -EIO;
		}
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
fail:
	if (n == -EACCES || !stream_ready(&c->auth)) {
		c->n->cnt.link_auth_failed++;
		pr_ratelimited(&rl_link, LOG_WARN, "unauthorized connection from %s: %s", c->ip,
			n == -EACCES ? "wrong cluster key" : "bad handshake");
	} else {
		c->n->cnt.garbage++;
		pr_ratelimited(&rl_link, LOG_WARN, "bad frame from %s: closed", c->ip);
	}
	return n;
}

static void conn_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct link_conn *c = arg;

	for (;;) {
		ssize_t r;

		if (c->in_len == LINK_BUF) {
			conn_free(c);
			return;
		}
		r = recv(fd, c->in + c->in_len, LINK_BUF - c->in_len, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			if (!stream_ready(&c->auth) && c->auth.state != STREAM_INIT) {
				/* the client read our proof and went away: it does
				 * not hold the key (or could not prove it) */
				c->n->cnt.link_auth_failed++;
				pr_ratelimited(&rl_link, LOG_WARN, "unauthorized connection from %s: "
					"closed during the handshake (wrong cluster key?)", c->ip);
			}
			conn_free(c);
			return;
		}
		c->in_len += (size_t)r;
		if (process(c)) {
			/* an error, or handed off to a child: either way we are done */
			conn_free(c);
			return;
		}
	}
}

static void link_accept(struct ev_loop *loop, int lfd, uint32_t events, void *arg)
{
	struct node *n = arg;

	for (;;) {
		struct sockaddr_in sa;
		socklen_t slen = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct link_conn *c;

		if (fd < 0)
			return;
		if (nconns >= LINK_MAX_CONNS) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(LINK_BUF);
		if (!c || !c->in || stream_auth_init(&c->auth, STREAM_SERVER, n->self_id, 0, n->key)) {
			if (c)
				free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->n = n;
		c->fd = fd;
		inet_ntop(AF_INET, &sa.sin_addr, c->ip, sizeof(c->ip));
		c->timer = ev_timer_new(loop, conn_timeout, c);
		if (!c->timer || ev_fd_add(loop, fd, EPOLLIN, conn_ready, c)) {
			ev_timer_free(c->timer);
			stream_auth_wipe(&c->auth);
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		nconns++;
		ev_timer_start(c->timer, LINK_HANDSHAKE_MS);
	}
}

int link_open(struct node *n)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(n->cfg.mig_port),
		.sin_addr.s_addr = htonl(n->self_addr),
	};
	int one = 1, fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		err = -errno;
		pr_err("cannot listen on the migration port %u: %s", n->cfg.mig_port, strerror(-err));
		close(fd);
		return err;
	}
	err = ev_fd_add(n->loop, fd, EPOLLIN, link_accept, n);
	if (err) {
		close(fd);
		return err;
	}
	n->link_fd = fd;
	if (!spare_timer)
		spare_timer = ev_timer_new(n->loop, spare_tick, n);
	if (spare_timer)
		ev_timer_start(spare_timer, SPARE_DELAY_MS);
	return 0;
}

void link_close(struct node *n)
{
	if (n->link_fd < 0)
		return;
	ev_fd_del(n->loop, n->link_fd);
	close(n->link_fd);
	n->link_fd = -1;
	if (spare_timer)
		ev_timer_stop(spare_timer);
	if (spare_pid > 0)
		kill(spare_pid, SIGKILL); /* its stub goes with it (PTRACE_O_EXITKILL) */
	/* spare_pid stays until reaped: link_spare_exited */
	if (spare_sock >= 0)
		close(spare_sock);
	spare_sock = -1;
}
