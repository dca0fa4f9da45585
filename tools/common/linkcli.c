#include "tools/common/linkcli.h"
#include "tools/common/client.h"
#include "lib/util.h"
#include "proto/auth.h"
#include "proto/link.h"
#include "proto/stream.h"
#include "proto/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINKCLI_TIMEOUT_MS 3000

static int recv_some(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	if (poll(&p, 1, LINKCLI_TIMEOUT_MS) <= 0)
		return -ETIMEDOUT;
	r = recv(fd, buf + *len, cap - *len, 0);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ECONNRESET;
	*len += (size_t)r;
	return 0;
}

int linkcli_ping(const char *prog, const char *addr, uint16_t port, uint16_t self_id,
	uint16_t peer_id, const char *keyfile)
{
	uint8_t key[AUTH_KEY_SIZE], buf[512], body[LINK_PING_SIZE];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct stream_auth s;
	size_t len = 0;
	int fd = -1, n, err, code = EXIT_NO;
	uint64_t t0, cookie;

	char text[256];
	ssize_t tl;

	err = auth_init();
	if (err)
		return EXIT_FAIL;
	/* read only: a tool never creates a key */
	tl = read_file(keyfile, text, sizeof(text));
	if (tl < 0) {
		fprintf(stderr, "%s: cannot read the cluster key %s: %s\n", prog, keyfile,
			strerror((int)-tl));
		return EXIT_FAIL;
	}
	if (auth_key_parse(text, (size_t)tl, key)) {
		fprintf(stderr, "%s: %s is not a cluster key (64 hex digits)\n", prog, keyfile);
		return EXIT_FAIL;
	}
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return EXIT_FAIL;
	if (stream_auth_init(&s, STREAM_CLIENT, self_id, peer_id, key))
		return EXIT_FAIL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	t0 = now_us();
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "%s: cannot connect to %s:%u: %s\n", prog, addr, port, strerror(errno));
		goto out;
	}
	n = stream_hello_encode(&s, buf, sizeof(buf));
	if (n < 0 || send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
		goto io;
	while ((n = stream_hello_ack_decode(&s, buf, len)) == -EAGAIN)
		if ((err = recv_some(fd, buf, sizeof(buf), &len)))
			goto io;
	if (n < 0) {
		fprintf(stderr, "%s: node %u at %s did not prove the cluster key: %s\n", prog,
			peer_id, addr, n == -EACCES ? "wrong key (ours or theirs)" : strerror(-n));
		goto out;
	}
	memmove(buf, buf + n, len - (size_t)n);
	len -= (size_t)n;
	uint8_t out[128];
	int m = stream_auth_msg_encode(&s, out, sizeof(out));

	cookie = now_ns();
	wire_put_u64(body, cookie);
	if (m < 0)
		goto io;
	n = stream_frame_seal(&s, out + m, sizeof(out) - (size_t)m, LINK_PING, body, sizeof(body));
	if (n < 0 || send(fd, out, (size_t)(m + n), MSG_NOSIGNAL) != m + n)
		goto io;
	for (;;) {
		uint16_t type;
		const uint8_t *fb;
		size_t fl;

		n = stream_frame_open(&s, buf, len, &type, &fb, &fl);
		if (n == -EAGAIN) {
			if ((err = recv_some(fd, buf, sizeof(buf), &len)))
				goto io;
			continue;
		}
		if (n < 0 || type != LINK_PONG || fl != LINK_PONG_SIZE ||
			wire_get_u64(fb) != cookie)
			goto io;
		printf("openMosix #%u at %s answered: authenticated round trip %.3f ms\n",
			wire_get_u16(fb + 8), addr, (double)(now_us() - t0) / 1000.0);
		code = EXIT_YES;
		goto out;
	}
io:
	fprintf(stderr, "%s: node %u at %s: no authenticated answer (%s)\n", prog, peer_id, addr,
		err ? strerror(-err) : "connection closed: wrong cluster key?");
out:
	stream_auth_wipe(&s);
	if (fd >= 0)
		close(fd);
	return code;
}
