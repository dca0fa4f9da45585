#include "tools/common/client.h"
#include "lib/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int client_timeout_ms = 10000;
#define CLIENT_MAX_REPLY (16 << 20)

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int client_call(json_t *req, json_t **resp)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *text = NULL, *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, err;

	*resp = NULL;
	if (xsnprintf(sa.sun_path, sizeof(sa.sun_path), "%s/omd.sock", om_state_dir()))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	text = json_dumps(req, JSON_COMPACT);
	if (!text) {
		err = -ENOMEM;
		goto out;
	}
	size_t tl = strlen(text);

	text = realloc(text, tl + 2);
	text[tl] = '\n';
	text[tl + 1] = '\0';
	err = write_all(fd, text, tl + 1);
	if (err)
		goto out;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, client_timeout_ms);

		if (pr == 0) {
			err = -ETIMEDOUT;
			goto out;
		}
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			if (cap > CLIENT_MAX_REPLY) {
				err = -EMSGSIZE;
				goto out;
			}
			buf = realloc(buf, cap);
			if (!buf) {
				err = -ENOMEM;
				goto out;
			}
		}
		ssize_t r = recv(fd, buf + len, cap - len - 1, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (memchr(buf + len - r, '\n', (size_t)r))
			break;
	}
	if (!buf || !len) {
		err = -ECONNRESET;
		goto out;
	}
	buf[len] = '\0';
	*resp = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	err = *resp ? 0 : -EBADMSG;
out:
	free(text);
	free(buf);
	close(fd);
	return err;
}

json_t *client_request(const char *prog, json_t *req, int *exit_code)
{
	json_t *resp;
	int err = req ? client_call(req, &resp) : -ENOMEM;

	json_decref(req);
	if (err) {
		if (err == -ENOENT || err == -ECONNREFUSED) {
			fprintf(stderr, "%s: the openMosix daemon is not running (no omd at %s/omd.sock)\n",
				prog, om_state_dir());
			*exit_code = EXIT_NODAEMON;
		} else if (err == -EACCES) {
			fprintf(stderr, "%s: cannot reach the daemon at %s/omd.sock: %s\n", prog,
				om_state_dir(), strerror(-err));
			*exit_code = EXIT_NODAEMON;
		} else {
			fprintf(stderr, "%s: talking to the daemon: %s\n", prog, strerror(-err));
			*exit_code = EXIT_FAIL;
		}
		return NULL;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		const char *msg = json_string_value(json_object_get(resp, "error"));

		fprintf(stderr, "%s: %s\n", prog, msg ? msg : "request refused");
		*exit_code = EXIT_NO; /* the daemon answered: a refusal, reason printed */
		json_decref(resp);
		return NULL;
	}
	*exit_code = EXIT_YES;
	return resp;
}

json_t *client_status(const char *prog, int *exit_code)
{
	return client_request(prog, json_pack("{s:s}", "cmd", "status"), exit_code);
}

json_t *client_find_node(json_t *status, long id)
{
	json_t *nodes = json_object_get(status, "nodes"), *n;
	size_t i;

	json_array_foreach(nodes, i, n)
		if (json_integer_value(json_object_get(n, "id")) == id)
			return n;
	return NULL;
}
