#include "mig/chan.h"
#include "lib/log.h"
#include "proto/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHAN_MAX (STREAM_MAX_BODY + STREAM_FRAME_OVERHEAD)

static int wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	for (;;) {
		int r = poll(&p, 1, timeout_ms);

		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) { /* a non-blocking socket: wait for room */
				int err = wait_fd(fd, POLLOUT, 60000);

				if (err)
					return err;
				continue;
			}
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* read more input; -ECONNRESET on EOF */
static int fill(struct mig_chan *ch, int timeout_ms)
{
	ssize_t r;
	int err;

	if (ch->in_off && ch->in_off == ch->in_len)
		ch->in_off = ch->in_len = 0;
	if (ch->in_off > ch->in_cap / 2) {
		memmove(ch->in, ch->in + ch->in_off, ch->in_len - ch->in_off);
		ch->in_len -= ch->in_off;
		ch->in_off = 0;
	}
	if (ch->in_len == ch->in_cap)
		return -EMSGSIZE;
	/* what is there already, without a poll first (forwarded calls: the
	 * caller has usually just polled) */
	r = recv(ch->fd, ch->in + ch->in_len, ch->in_cap - ch->in_len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		err = wait_fd(ch->fd, POLLIN, timeout_ms);
		if (err)
			return err;
		r = recv(ch->fd, ch->in + ch->in_len, ch->in_cap - ch->in_len, 0);
	}
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return -ECONNRESET;
	ch->in_len += (size_t)r;
	return 0;
}

static int alloc_bufs(struct mig_chan *ch)
{
	/* room for two whole frames: one recv() reads a lot of a stream of
	 * big frames, and the tail moves to the front only now and then */
	ch->in_cap = 2 * CHAN_MAX;
	ch->in = malloc(ch->in_cap);
	ch->out_cap = CHAN_MAX;
	ch->out = malloc(ch->out_cap);
	return ch->in && ch->out ? 0 : -ENOMEM;
}

int mig_chan_connect(struct mig_chan *ch, uint32_t addr, uint16_t port, uint16_t self_id,
	uint16_t peer_id, const uint8_t key[AUTH_KEY_SIZE], int timeout_ms)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};
	uint8_t buf[128];
	int n, err, one = 1;

	memset(ch, 0, sizeof(*ch));
	ch->fd = -1;
	err = alloc_bufs(ch);
	if (err)
		goto fail;
	err = stream_auth_init(&ch->auth, STREAM_CLIENT, self_id, peer_id, key);
	if (err)
		goto fail;
	ch->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ch->fd < 0 || connect(ch->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto fail;
	}
	setsockopt(ch->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	n = stream_hello_encode(&ch->auth, buf, sizeof(buf));
	if (n < 0 || (err = send_all(ch->fd, buf, (size_t)n)))
		goto fail;
	while ((n = stream_hello_ack_decode(&ch->auth, ch->in, ch->in_len)) == -EAGAIN)
		if ((err = fill(ch, timeout_ms)))
			goto fail;
	if (n < 0) {
		err = n;
		goto fail;
	}
	ch->in_off = (size_t)n;
	n = stream_auth_msg_encode(&ch->auth, buf, sizeof(buf));
	if (n < 0 || (err = send_all(ch->fd, buf, (size_t)n)))
		goto fail;
	return 0;
fail:
	if (!err)
		err = -EPROTO;
	mig_chan_close(ch);
	return err;
}

int mig_chan_adopt(struct mig_chan *ch, int fd, const struct stream_auth *auth,
	const uint8_t *left, size_t left_len)
{
	int one = 1;

	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->auth = *auth;
	if (alloc_bufs(ch) || left_len > ch->in_cap) {
		mig_chan_close(ch);
		return -ENOMEM;
	}
	memcpy(ch->in, left, left_len);
	ch->in_len = left_len;
	/* the daemon accepted it non-blocking; this process blocks */
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

void mig_chan_close(struct mig_chan *ch)
{
	if (ch->fd >= 0)
		close(ch->fd);
	ch->fd = -1;
	stream_auth_wipe(&ch->auth);
	free(ch->in);
	free(ch->out);
	ch->in = ch->out = NULL;
}

int mig_chan_send(struct mig_chan *ch, uint16_t type, const void *body, size_t len)
{
	int n = stream_frame_seal(&ch->auth, ch->out, ch->out_cap, type, body, len);

	if (n < 0)
		return n;
	return send_all(ch->fd, ch->out, (size_t)n);
}

uint8_t *mig_chan_body(struct mig_chan *ch, size_t *cap)
{
	*cap = ch->out_cap - STREAM_FRAME_OVERHEAD;
	return ch->out + STREAM_FRAME_HDR_SIZE;
}

int mig_chan_send_body(struct mig_chan *ch, uint16_t type, size_t len)
{
	return mig_chan_send(ch, type, ch->out + STREAM_FRAME_HDR_SIZE, len);
}

int mig_chan_pending(const struct mig_chan *ch)
{
	int need = stream_frame_size(ch->in + ch->in_off, ch->in_len - ch->in_off);

	return need > 0 && (size_t)need <= ch->in_len - ch->in_off;
}

int mig_chan_recv(struct mig_chan *ch, uint16_t *type, const uint8_t **body, size_t *len,
	int timeout_ms)
{
	for (;;) {
		int n = stream_frame_open(&ch->auth, ch->in + ch->in_off, ch->in_len - ch->in_off,
			type, body, len);
		int err;

		if (n >= 0) {
			ch->in_off += (size_t)n;
			return 0;
		}
		if (n != -EAGAIN)
			return n;
		err = fill(ch, timeout_ms);
		if (err)
			return err;
	}
}
