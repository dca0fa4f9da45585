/* omsend: sends hostile or odd datagrams to a node's information port, for
 * the security integration tests. Never used outside tests.
 *
 *   omsend --to ADDR[:PORT] [--from ADDR] [--key FILE] --mode MODE [--sender ID]
 *          [--incarnation N] [--seq N] [--count N]
 * MODE: garbage    random bytes of random sizes
 *       truncated  a valid sealed probe, cut short
 *       version    a well-formed datagram of protocol version 99
 *       wrongkey   a probe sealed with a random key
 *       sealed     a probe sealed with --key, with the given sender/incarnation/seq
 *                  (replaying an old session or an old sequence number)
 */
#include "lib/util.h"
#include "proto/auth.h"
#include "proto/msg.h"
#include "proto/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' }, { "from", required_argument, NULL, 'f' },
		{ "key", required_argument, NULL, 'k' }, { "mode", required_argument, NULL, 'm' },
		{ "sender", required_argument, NULL, 's' },
		{ "incarnation", required_argument, NULL, 'i' },
		{ "seq", required_argument, NULL, 'q' }, { "count", required_argument, NULL, 'c' },
		{ 0 },
	};
	const char *to = NULL, *from = NULL, *keyfile = NULL, *mode = NULL;
	unsigned long long inc = 1, seq = 0;
	long sender = 1, count = 1;
	uint8_t key[AUTH_KEY_SIZE], buf[PROTO_MAX_DATAGRAM + 100];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(PROTO_INFO_PORT) };
	int opt, fd;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't': to = optarg; break;
		case 'f': from = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'm': mode = optarg; break;
		case 's': sender = strtol(optarg, NULL, 0); break;
		case 'i': inc = strtoull(optarg, NULL, 0); break;
		case 'q': seq = strtoull(optarg, NULL, 0); break;
		case 'c': count = strtol(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (!to || !mode || auth_init())
		return 2;
	char host[64];
	snprintf(host, sizeof(host), "%s", to);
	char *colon = strchr(host, ':');
	if (colon) {
		*colon = '\0';
		dst.sin_port = htons((uint16_t)atoi(colon + 1));
	}
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (from) {
		struct sockaddr_in src = { .sin_family = AF_INET };

		if (inet_pton(AF_INET, from, &src.sin_addr) != 1 ||
			bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
			perror("omsend: bind");
			return 1;
		}
	}
	if (keyfile) {
		if (auth_key_load_or_create(keyfile, key)) {
			fprintf(stderr, "omsend: bad key %s\n", keyfile);
			return 1;
		}
	} else {
		randombytes_buf(key, sizeof(key));
	}
	if (!strcmp(mode, "wrongkey"))
		randombytes_buf(key, sizeof(key));
	for (long i = 0; i < count; i++) {
		struct proto_msg_hdr h = {
			.type = MSG_PROBE,
			.sender = (uint16_t)sender,
			.incarnation = inc,
			.seq = seq ? seq + (uint64_t)i : wall_ns() / 1000,
		};
		struct proto_probe pr = { .nonce = (uint64_t)i };
		uint8_t body[PROTO_PROBE_SIZE];
		int len;

		if (proto_probe_encode(body, sizeof(body), &pr) < 0)
			return 1;
		len = proto_msg_seal(buf, sizeof(buf), &h, body, sizeof(body), key);
		if (len < 0)
			return 1;
		if (!strcmp(mode, "garbage")) {
			len = (int)randombytes_uniform(sizeof(buf));
			randombytes_buf(buf, (size_t)len);
		} else if (!strcmp(mode, "truncated")) {
			len = (int)randombytes_uniform((uint32_t)len);
		} else if (!strcmp(mode, "version")) {
			buf[4] = 99;
		} else if (strcmp(mode, "wrongkey") && strcmp(mode, "sealed")) {
			fprintf(stderr, "omsend: unknown mode %s\n", mode);
			return 2;
		}
		if (sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			perror("omsend: sendto");
			return 1;
		}
	}
	close(fd);
	return 0;
}
