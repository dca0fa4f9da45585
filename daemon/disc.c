/* disc: multicast autodiscovery (omdiscd, omd --discover).
 *
 * Every node announces itself (address, id, ports) once a second to a
 * multicast group on its interface, sealed with the cluster key. A node
 * whose announcement arrives is added to the map (id = last two octets of
 * its address, as the original omdiscd did); members.c forgets nodes that
 * stop announcing and stop answering. A node that stops sends a last
 * announcement with the "leaving" flag.
 */
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

#define ANNOUNCE_MS 1000

static struct ratelimit rl_disc = RATELIMIT_INIT(5000, 3);
static uint64_t last_announce_ms;

static void announce(struct node *n, bool leaving)
{
	uint8_t body[PROTO_ANNOUNCE_SIZE], buf[PROTO_MAX_DATAGRAM];
	struct proto_announce a = {
		.addr = n->self_addr,
		.node_id = n->self_id,
		.info_port = n->cfg.info_port,
		.mig_port = n->cfg.mig_port,
		.flags = leaving ? PROTO_ANNOUNCE_LEAVING : 0,
	};
	struct proto_msg_hdr h = {
		.type = MSG_ANNOUNCE,
		.sender = n->self_id,
		.incarnation = n->incarnation,
		.seq = proto_msg_next_seq(&n->last_seq, wall_ns() / 1000),
	};
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(n->cfg.disc_port),
		.sin_addr.s_addr = htonl(n->cfg.mcast_group),
	};
	int len = proto_announce_encode(body, sizeof(body), &a), total;

	if (len < 0)
		return;
	total = proto_msg_seal(buf, sizeof(buf), &h, body, (size_t)len, n->key);
	if (total < 0)
		return;
	if (sendto(n->disc_fd, buf, (size_t)total, MSG_DONTWAIT, (struct sockaddr *)&sa,
		    sizeof(sa)) < 0)
		pr_ratelimited(&rl_disc, LOG_WARN, "cannot send the announcement: %s",
			strerror(errno));
	last_announce_ms = now_ms();
}

static void add_node(struct node *n, const struct proto_announce *a, uint64_t now)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr ia = { .s_addr = htonl(a->addr) };
	uint16_t old;

	inet_ntop(AF_INET, &ia, ip, sizeof(ip));
	/* an address that moved to another id (or an id to another address) */
	if (!map_id_of(n->map, a->addr, &old) && old != a->node_id &&
		map_remove_node(n->map, old) == 0)
		pr_info("openMosix #%u moved from %s", old, ip);
	if (map_add_node(n->map, a->node_id, a->addr)) {
		pr_warn("autodiscovery: cannot add openMosix #%u at %s (id collision?)", a->node_id,
			ip);
		return;
	}
	if (members_sync_map(n))
		return;
	pr_info("openMosix configuration changed: This is openMosix #%u (of %zu configured)",
		n->self_id, map_node_count(n->map));
	pr_info("openMosix #%u is at IP address %s", a->node_id, ip);
	/* let the newcomer learn about us at once */
	announce(n, false);
}

static void disc_ready(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct node *n = arg;
	uint8_t buf[PROTO_MAX_DATAGRAM + 64];

	for (int budget = 0; budget < 64; budget++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			&flen);
		struct proto_msg_hdr h;
		struct proto_announce a;
		const uint8_t *body;
		size_t blen;
		char ip[INET_ADDRSTRLEN];
		uint64_t now = now_ms();
		uint32_t addr;
		uint16_t id;
		int err;

		if (len < 0)
			return;
		n->cnt.rx++;
		inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
		err = proto_msg_open(buf, (size_t)len, n->key, wall_ns() / 1000, &h, &body, &blen);
		if (err == -EACCES) {
			n->cnt.bad_mac++;
			pr_ratelimited(&rl_disc, LOG_WARN,
				"Received an unauthorized information request from %s", ip);
			continue;
		}
		if (err || h.type != MSG_ANNOUNCE ||
			proto_announce_decode(body, blen, &a) < 0) {
			n->cnt.garbage++;
			pr_ratelimited(&rl_disc, LOG_WARN, "garbage announcement from %s dropped", ip);
			continue;
		}
		addr = ntohl(from.sin_addr.s_addr);
		if (a.addr != addr || a.node_id != h.sender ||
			a.node_id != map_id_from_addr(a.addr)) {
			n->cnt.unknown_sender++;
			pr_ratelimited(&rl_disc, LOG_WARN, "inconsistent announcement from %s "
				"(claims #%u at another address) dropped", ip, a.node_id);
			continue;
		}
		if (a.node_id == n->self_id)
			continue; /* our own, looped back */
		if (n->off)
			continue;
		if (map_id_of(n->map, a.addr, &id) || id != a.node_id) {
			if (a.flags & PROTO_ANNOUNCE_LEAVING)
				continue;
			add_node(n, &a, now);
		}
		struct peer *p = members_get(n, a.node_id);

		if (!p)
			continue;
		if (replay_accept(&p->rw, h.incarnation, h.seq)) {
			n->cnt.replayed++;
			continue;
		}
		p->disc_seen_ms = now;
		if (a.flags & PROTO_ANNOUNCE_LEAVING)
			members_left(n, p, now);
		else
			members_heard(n, p, now);
	}
}

int disc_open(struct node *n)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(n->cfg.disc_port),
		.sin_addr.s_addr = htonl(n->cfg.mcast_group),
	};
	struct ip_mreqn mr = {
		.imr_multiaddr.s_addr = htonl(n->cfg.mcast_group),
		.imr_address.s_addr = htonl(n->self_addr),
	};
	struct in_addr ifa = { .s_addr = htonl(n->self_addr) };
	int one = 1, fd, err;
	unsigned char ttl = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0 ||
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa)) < 0 ||
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0) {
		err = -errno;
		pr_err("autodiscovery: cannot join the multicast group on port %u: %s "
		       "(does the interface support multicast?)", n->cfg.disc_port, strerror(-err));
		close(fd);
		return err;
	}
	err = ev_fd_add(n->loop, fd, EPOLLIN, disc_ready, n);
	if (err) {
		close(fd);
		return err;
	}
	n->disc_fd = fd;
	announce(n, false);
	return 0;
}

void disc_tick(struct node *n, uint64_t now)
{
	if (n->disc_fd >= 0 && !n->off && now - last_announce_ms >= ANNOUNCE_MS)
		announce(n, false);
}

void disc_close(struct node *n)
{
	if (n->disc_fd < 0)
		return;
	announce(n, true);
	ev_fd_del(n->loop, n->disc_fd);
	close(n->disc_fd);
	n->disc_fd = -1;
}
