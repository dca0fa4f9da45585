/* sockets: sockets made before the move stay the home's own, and new ones
 * work after it. Before the move: a socketpair to a child left at home, a
 * TCP connection to itself over loopback (both ends held here) and a
 * listening TCP socket. After the move and SIGUSR1:
 *   - a request over the socketpair, the child's answer back;
 *   - a descriptor (a pipe's write end) passed to the child with SCM_RIGHTS
 *     (sendmsg), through which the child answers;
 *   - bytes both ways over the old TCP connection, with poll() first;
 *   - a new TCP connection to the old listener: connect, accept, the peer's
 *     address is the other end's own, TCP_NODELAY set and read back;
 *   - shutdown(SHUT_WR) seen as EOF by the other end;
 *   - the child reaped at home: exit status 5. */
#include "victim.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int child(int s)
{
	char buf[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		.msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n = read(s, buf, sizeof(buf));
	int fd;

	if (n != 4 || memcmp(buf, "ping", 4) || write(s, "PONG", 4) != 4)
		_exit(3);
	n = recvmsg(s, &mh, 0);
	c = CMSG_FIRSTHDR(&mh);
	if (n != 2 || !c || c->cmsg_type != SCM_RIGHTS)
		_exit(4);
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	if (write(fd, "via the passed fd", 17) != 17)
		_exit(6);
	close(fd);
	n = read(s, buf, sizeof(buf)); /* EOF: the parent shut its side down */
	_exit(n == 0 ? 5 : 7);
}

static int tcp_listener(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)addr, sizeof(*addr)) || listen(l, 4) ||
		getsockname(l, (struct sockaddr *)addr, &len))
		return -1;
	return l;
}

/* a connected pair through listener l: *c the client end, *a the accepted */
static int tcp_pair(int l, const struct sockaddr_in *addr, int *c, int *a)
{
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (const struct sockaddr *)addr, sizeof(*addr)))
		return -1;
	*a = accept(l, NULL, NULL);
	return *a < 0 ? -1 : 0;
}

int main(void)
{
	struct sockaddr_in addr, peer, own;
	socklen_t len;
	int sp[2], p[2], l, c1, a1, c2, a2, st, one = 1, got = 0;
	char buf[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct pollfd pfd;
	pid_t pid;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		return v_fail("socketpair: %s", strerror(errno));
	l = tcp_listener(&addr);
	if (l < 0 || tcp_pair(l, &addr, &c1, &a1))
		return v_fail("loopback TCP: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return v_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(sp[0]);
		return child(sp[1]);
	}
	close(sp[1]);
	v_ready();
	v_wait();

	/* the socketpair to the child at home */
	if (write(sp[0], "ping", 4) != 4)
		return v_fail("write to the child: %s", strerror(errno));
	n = read(sp[0], buf, sizeof(buf));
	if (n != 4 || memcmp(buf, "PONG", 4))
		return v_fail("the child answered %zd bytes (%s)", n, n < 0 ? strerror(errno) : "?");

	/* a descriptor passed with SCM_RIGHTS */
	if (pipe(p))
		return v_fail("pipe: %s", strerror(errno));
	{
		struct iovec iov = { "fd", 2 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			.msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &p[1], sizeof(int));
		if (sendmsg(sp[0], &mh, 0) != 2)
			return v_fail("sendmsg with SCM_RIGHTS: %s", strerror(errno));
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	if (n != 17 || memcmp(buf, "via the passed fd", 17))
		return v_fail("through the passed fd: %zd bytes", n);

	/* the old TCP connection, both ways, poll first */
	if (send(c1, "abc", 3, 0) != 3)
		return v_fail("send: %s", strerror(errno));
	pfd = (struct pollfd){ .fd = a1, .events = POLLIN };
	if (poll(&pfd, 1, 5000) != 1 || !(pfd.revents & POLLIN))
		return v_fail("poll on the accepted end: revents %#x", pfd.revents);
	n = recv(a1, buf, sizeof(buf), 0);
	if (n != 3 || memcmp(buf, "abc", 3))
		return v_fail("recv: %zd", n);
	if (send(a1, "xyz!", 4, 0) != 4 || recv(c1, buf, 4, MSG_WAITALL) != 4 ||
		memcmp(buf, "xyz!", 4))
		return v_fail("the other way: %s", strerror(errno));

	/* a new connection after the move */
	if (tcp_pair(l, &addr, &c2, &a2))
		return v_fail("a new TCP connection: %s", strerror(errno));
	len = sizeof(peer);
	if (getpeername(a2, (struct sockaddr *)&peer, &len))
		return v_fail("getpeername: %s", strerror(errno));
	len = sizeof(own);
	if (getsockname(c2, (struct sockaddr *)&own, &len))
		return v_fail("getsockname: %s", strerror(errno));
	if (peer.sin_port != own.sin_port || peer.sin_addr.s_addr != own.sin_addr.s_addr)
		return v_fail("the peer is port %d, the client's own port %d", ntohs(peer.sin_port),
			ntohs(own.sin_port));
	len = sizeof(got);
	if (setsockopt(c2, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
		getsockopt(c2, IPPROTO_TCP, TCP_NODELAY, &got, &len) || !got)
		return v_fail("TCP_NODELAY: set, read back %d (%s)", got, strerror(errno));
	if (write(c2, "new", 3) != 3 || read(a2, buf, sizeof(buf)) != 3 || memcmp(buf, "new", 3))
		return v_fail("over the new connection: %s", strerror(errno));

	/* shutdown, and the child's status */
	if (shutdown(sp[0], SHUT_WR))
		return v_fail("shutdown: %s", strerror(errno));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
		return v_fail("the child: status %#x", st);
	return v_pass();
}
