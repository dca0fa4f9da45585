/* info: the node's UDP information port (5428).
 *
 * Every datagram is sealed with the cluster key (proto/msg.c). The receive
 * path is: read bytes -> authenticate and check the header -> check the
 * sender is a known node at its own address -> replay window -> decode the
 * body -> act. Anything that fails is dropped, counted and (rate-limited)
 * logged; nothing from the network can stop or confuse the loop.
 */
#include "daemon/balancer.h"
#include "daemon/node.h"
#include "gossip/gossip.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"
#include "map/map.h"
#include "proto/msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ratelimit rl_unauth = RATELIMIT_INIT(5000, 3);
static struct ratelimit rl_garbage = RATELIMIT_INIT(5000, 3);
static struct ratelimit rl_replay = RATELIMIT_INIT(5000, 3);
static struct ratelimit rl_unknown = RATELIMIT_INIT(5000, 3);

static uint64_t next_seq(struct node *n)
{
	return proto_msg_next_seq(&n->last_seq, wall_ns() / 1000);
}

static int send_to_addr(struct node *n, uint32_t addr, uint16_t port, uint8_t type,
	const void *body, size_t len)
{
	uint8_t buf[PROTO_MAX_DATAGRAM];
	struct proto_msg_hdr h = {
		.version = PROTO_VERSION,
		.type = type,
		.sender = n->self_id,
		.incarnation = n->incarnation,
		.seq = next_seq(n),
	};
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};
	int total = proto_msg_seal(buf, sizeof(buf), &h, body, len, n->key);

	if (total < 0)
		return total;
	if (sendto(n->info_fd, buf, (size_t)total, MSG_DONTWAIT, (struct sockaddr *)&sa,
		    sizeof(sa)) < 0)
		return -errno;
	n->cnt.tx++;
	return 0;
}

int info_send(struct node *n, uint16_t to, uint8_t type, const void *body, size_t len)
{
	struct peer *p = members_get(n, to);

	if (!p)
		return -ENOENT;
	return send_to_addr(n, p->addr, n->cfg.info_port, type, body, len);
}

void info_send_leave(struct node *n)
{
	for (unsigned id = 1; id <= OM_MAX_NODE_ID; id++)
		if (n->peers[id].used && n->peers[id].state != MEMBER_DEAD)
			info_send(n, (uint16_t)id, MSG_LEAVE, NULL, 0);
}

void info_gossip_step(struct node *n)
{
	struct proto_info_entry win[PROTO_INFO_MAX_ENTRIES];
	uint8_t body[PROTO_MAX_DATAGRAM];
	uint64_t now = now_ms();
	uint16_t target;
	size_t cnt;
	int len;

	if (n->off)
		return;
	selfload_fill(n, &n->self_info);
	gossip_set_self(n->gossip, &n->self_info, now);
	if (gossip_pick_target(n->gossip, now, &target))
		return;
	cnt = gossip_build(n->gossip, now, target, win, PROTO_INFO_MAX_ENTRIES);
	len = proto_info_encode(body, sizeof(body), win, cnt);
	if (len < 0) {
		pr_err("cannot encode the information window: %s", strerror(-len));
		return;
	}
	info_send(n, target, MSG_INFO, body, (size_t)len);
}

static void reply_probe(struct node *n, struct peer *p, uint64_t nonce)
{
	struct proto_probe_ack ack = { .nonce = nonce };
	uint8_t body[64];
	int len;

	selfload_fill(n, &ack.self.info);
	len = proto_probe_ack_encode(body, sizeof(body), &ack);
	if (len >= 0)
		info_send(n, p->id, MSG_PROBE_ACK, body, (size_t)len);
}

static void handle(struct node *n, struct peer *p, const struct proto_msg_hdr *h,
	const uint8_t *body, size_t blen, const char *ip)
{
	uint64_t now = now_ms();
	struct proto_info_entry ents[PROTO_INFO_MAX_ENTRIES];
	struct proto_probe probe;
	struct proto_probe_ack ack;
	struct proto_guest_entry guests[PROTO_GUEST_MAX_ENTRIES];
	size_t cnt;

	switch (h->type) {
	case MSG_INFO:
		if (proto_info_decode(body, blen, ents, ARRAY_SIZE(ents), &cnt) < 0)
			goto garbage;
		members_heard(n, p, now);
		n->cnt.rx_info_entries += cnt;
		gossip_merge(n->gossip, now, ents, cnt);
		break;
	case MSG_PROBE:
		if (proto_probe_decode(body, blen, &probe) < 0)
			goto garbage;
		members_heard(n, p, now);
		reply_probe(n, p, probe.nonce);
		break;
	case MSG_PROBE_ACK:
		if (proto_probe_ack_decode(body, blen, &ack) < 0)
			goto garbage;
		n->cnt.acks_rcvd++;
		members_heard(n, p, now);
		gossip_merge(n->gossip, now, &ack.self, 1);
		break;
	case MSG_LEAVE:
		if (proto_leave_decode(body, blen) < 0)
			goto garbage;
		members_left(n, p, now);
		break;
	case MSG_GUESTS:
		if (proto_guests_decode(body, blen, guests, ARRAY_SIZE(guests), &cnt) < 0)
			goto garbage;
		members_heard(n, p, now);
		balancer_guest_report(n, p->id, guests, cnt);
		break;
	default:
		goto garbage;
	}
	return;
garbage:
	n->cnt.garbage++;
	pr_ratelimited(&rl_garbage, LOG_WARN, "malformed message (type %u) from %s dropped",
		h->type, ip);
}

static void info_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct node *n = arg;
	uint8_t buf[PROTO_MAX_DATAGRAM + 64];

	for (int budget = 0; budget < 256; budget++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			&flen);
		struct proto_msg_hdr h;
		const uint8_t *body;
		size_t blen;
		char ip[INET_ADDRSTRLEN];
		uint32_t src;
		uint16_t sid;
		struct peer *p;
		int err;

		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				pr_warn("recvfrom: %s", strerror(errno));
			return;
		}
		n->cnt.rx++;
		inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
		src = ntohl(from.sin_addr.s_addr);
		if (n->off)
			continue;
		err = proto_msg_open(buf, (size_t)len, n->key, wall_ns() / 1000, &h, &body, &blen);
		switch (err) {
		case 0:
			break;
		case -EACCES:
			n->cnt.bad_mac++;
			pr_ratelimited(&rl_unauth, LOG_WARN,
				"Received an unauthorized information request from %s", ip);
			continue;
		case -EPROTO:
			n->cnt.foreign_version++;
			pr_ratelimited(&rl_garbage, LOG_WARN,
				"information packet of a foreign protocol version from %s dropped", ip);
			continue;
		case -ETIME:
			n->cnt.stale_time++;
			pr_ratelimited(&rl_replay, LOG_WARN,
				"information packet from %s with a timestamp out of the window "
				"dropped (clocks out of sync, or a replay)", ip);
			continue;
		default:
			n->cnt.garbage++;
			pr_ratelimited(&rl_garbage, LOG_WARN, "garbage information packet from %s "
				"(%zd bytes) dropped", ip, len);
			continue;
		}
		/* the sender must be a node of the map, at one of its own addresses */
		p = members_get(n, h.sender);
		if (!p || map_id_of(n->map, src, &sid) || sid != h.sender) {
			n->cnt.unknown_sender++;
			pr_ratelimited(&rl_unknown, LOG_WARN,
				"information packet from %s claiming to be node %u, which is not "
				"in my map at that address: dropped", ip, h.sender);
			continue;
		}
		err = replay_accept(&p->rw, h.incarnation, h.seq);
		if (err) {
			n->cnt.replayed++;
			pr_ratelimited(&rl_replay, LOG_WARN,
				"replayed or stale information packet from %s (node %u) dropped", ip,
				h.sender);
			continue;
		}
		handle(n, p, &h, body, blen, ip);
	}
}

int info_open(struct node *n)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(n->cfg.info_port),
		.sin_addr.s_addr = htonl(n->self_addr),
	};
	int one = 1, fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
		pr_err("cannot bind the information port %s:%u: %s", ip, n->cfg.info_port,
			strerror(-err));
		close(fd);
		return err;
	}
	err = ev_fd_add(n->loop, fd, EPOLLIN, info_ready, n);
	if (err) {
		close(fd);
		return err;
	}
	n->info_fd = fd;
	return 0;
}

void info_close(struct node *n)
{
	if (n->info_fd >= 0) {
		ev_fd_del(n->loop, n->info_fd);
		close(n->info_fd);
		n->info_fd = -1;
	}
}
