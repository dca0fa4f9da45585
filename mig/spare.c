/* spare: an accepted migration connection handed from omd to a spare
 * remote, one prepared in advance (its stub forked, in the node's cgroup
 * and emptied) so that none of that waits for the process to be
 * announced (mig.h). Over a unix socket pair: one header (with the
 * connection's descriptor attached), the MIG_BEGIN body, and the bytes
 * the daemon had read after it. */
#include "mig/mig.h"
#include "mig/chan.h"
#include "lib/log.h"
#include "proto/link.h"
#include "proto/migp.h"
#include "proto/stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define HANDOVER_MAGIC 0x4f4d4856u /* "OMHV" */
#define HANDOVER_MAX_BODY 4096
#define HANDOVER_MAX_LEFT (8u << 20)

struct handover_hdr {
	uint32_t magic;
	uint32_t body_len;
	uint32_t left_len;
	uint32_t pad;
	struct stream_auth auth;
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECANCELED;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mig_handover_send(int sock, int fd, const struct stream_auth *auth, const uint8_t *body,
	size_t blen, const uint8_t *left, size_t llen)
{
	struct handover_hdr h = { .magic = HANDOVER_MAGIC, .body_len = (uint32_t)blen,
		.left_len = (uint32_t)llen, .auth = *auth };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
		.msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t n;
	int err;

	if (blen > HANDOVER_MAX_BODY || llen > HANDOVER_MAX_LEFT)
		return -EMSGSIZE;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : 0;
	if (!err && (size_t)n < sizeof(h))
		err = write_all(sock, (const uint8_t *)&h + n, sizeof(h) - (size_t)n);
	if (!err)
		err = write_all(sock, body, blen);
	if (!err && llen)
		err = write_all(sock, left, llen);
	stream_auth_wipe(&h.auth);
	return err;
}

int mig_handover_recv(int sock, struct mig_chan *ch, struct migp_begin *b)
{
	struct handover_hdr h;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
		.msg_controllen = sizeof(u.buf) };
	uint8_t body[HANDOVER_MAX_BODY], *left = NULL;
	struct cmsghdr *c;
	ssize_t n;
	int fd = -1, err;

	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -ECANCELED; /* closed: the daemon has no use for us */
	c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	err = fd < 0 ? -EBADMSG : 0;
	if (!err && (size_t)n < sizeof(h))
		err = read_all(sock, (uint8_t *)&h + n, sizeof(h) - (size_t)n);
	if (!err && (h.magic != HANDOVER_MAGIC || h.body_len > HANDOVER_MAX_BODY ||
			    h.left_len > HANDOVER_MAX_LEFT))
		err = -EBADMSG;
	if (!err)
		err = read_all(sock, body, h.body_len);
	if (!err && h.left_len && !(left = malloc(h.left_len)))
		err = -ENOMEM;
	if (!err && h.left_len)
		err = read_all(sock, left, h.left_len);
	if (!err && migp_begin_decode(body, h.body_len, b) < 0)
		err = -EBADMSG;
	if (!err) {
		static const uint8_t none[1];

		err = mig_chan_adopt(ch, fd, &h.auth, left ? left : none, h.left_len);
	}
	stream_auth_wipe(&h.auth);
	free(left);
	if (err) {
		pr_err("spare server: the hand-over failed: %s", strerror(-err));
		if (fd >= 0)
			close(fd);
	}
	return err;
}
