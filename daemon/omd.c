/* omd: the openMosix node daemon. One per node, one event loop.
 *
 * Start-up: options -> map (file or autodiscovery) -> our address and id ->
 * key -> admin state -> sockets -> daemonize (the parent exits once we are
 * ready) -> loop. Everything after start-up runs from the loop's callbacks.
 */
#include "daemon/care.h"
#include "balance/policy.h"
#include "daemon/balancer.h"
#include "daemon/node.h"
#include "gossip/gossip.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"
#include "map/map.h"
#include "load/probe.h"
#include "daemon/procs.h"
#include "proto/msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_KEY "/etc/openmosix/cluster.key"
#define SAMPLE_MS 100
#define MEMBER_TICK_MS 50

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: omd [-f MAP | --discover [-i IFACE]] [-d DIR] [-a ADDR] [-k KEYFILE]\n"
		"           [--cgroup NAME] [--info-port N] [--mig-port N] [--disc-port N]\n"
		"           [--mcast-group ADDR] [--info-interval MS] [--policy P] [--no-hpc]\n"
		"           [--guest-uids LIST] [-n] [-v] [--log FILE]\n"
		"\n"
		"The openMosix node daemon: membership, load gossip, admin state.\n"
		"\n"
		"  -f, --map FILE       cluster map (default: /etc/openmosix.map, /etc/mosix.map,\n"
		"                       /etc/hpc.map, the first that exists)\n"
		"      --discover       build the map by multicast autodiscovery (as omdiscd)\n"
		"  -i, --interface IF   interface for autodiscovery (default: the default route's)\n"
		"  -d, --dir DIR        state directory (default: $OPENMOSIX_DIR or /run/openmosix)\n"
		"  -a, --addr ADDR      this node's address (default: the local address in the map)\n"
		"  -k, --key FILE       cluster key, created 0600 if absent (default %s)\n"
		"      --cgroup NAME    measure the load of cgroup NAME instead of the whole host\n"
		"      --info-port N    UDP information port (default 5428)\n"
		"      --mig-port N     TCP migration port (default 4660)\n"
		"      --disc-port N    UDP autodiscovery port (default 5429)\n"
		"      --mcast-group A  autodiscovery multicast group (default 239.255.42.28)\n"
		"      --info-interval MS  gossip step (default 200)\n"
		"      --policy P       load-balancing policy: mosix (default) or oppcost\n"
		"      --no-hpc         do not mount the hpc tree at DIR/hpc\n"
		"      --guest-uids L   run guests of these uids only (e.g. 1000-1999,2500; default all)\n"
		"  -n, --foreground     stay in the foreground, log to stderr\n"
		"      --log FILE       log file (default: DIR/omd.log when daemonized)\n"
		"  -v, --verbose        debug logging\n"
		"  -h, --help           this help;  -V, --version  the version\n",
		DEFAULT_KEY);
}

static int parse_port(const char *s, uint16_t *out)
{
	long v;

	if (parse_long(s, 1, 65535, &v))
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

static const char *ip_str(uint32_t addr, char *buf)
{
	struct in_addr a = { .s_addr = htonl(addr) };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Local IPv4 addresses, loopback last. */
static size_t local_addrs(uint32_t *out, size_t max)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (int pass = 0; pass < 2; pass++)
		for (i = ifa; i && n < max; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
				continue;
			bool lo = (i->ifa_flags & IFF_LOOPBACK) != 0;

			if (lo != (pass == 1))
				continue;
			out[n++] = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		}
	freeifaddrs(ifa);
	return n;
}

/* The address of an interface, or of the default route's interface. */
static int iface_addr(const char *iface, uint32_t *addr)
{
	char buf[8192], name[IF_NAMESIZE + 1] = "";
	struct ifaddrs *ifa, *i;
	int err = -ENETUNREACH;

	if (!iface) {
		if (read_file("/proc/net/route", buf, sizeof(buf)) < 0)
			return -ENETUNREACH;
		for (char *line = strchr(buf, '\n'); line && *line; line = strchr(line + 1, '\n')) {
			char ifn[IF_NAMESIZE + 1];
			unsigned long dst, mask;

			if (sscanf(line + 1, "%16s %lx %*x %*x %*d %*d %*d %lx", ifn, &dst, &mask) ==
				3 && dst == 0 && mask == 0) {
				memcpy(name, ifn, sizeof(name));
				break;
			}
		}
		if (!*name)
			return -ENETUNREACH;
		iface = name;
	}
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, iface)) {
			*addr = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
			err = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return err;
}

int node_set_map(struct node *n, struct om_map *map, const char *source)
{
	uint16_t id;
	int err;

	if (map_id_of(map, n->self_addr, &id)) {
		char ip[INET_ADDRSTRLEN];

		pr_err("the supplied table is well-formatted, but my IP address (%s) is not there!",
			ip_str(n->self_addr, ip));
		map_free(map);
		return -EADDRNOTAVAIL;
	}
	if (n->self_id && id != n->self_id) {
		/* our id changes: peers know us under the new one from now on */
		pr_info("node id changes from %u to %u", n->self_id, id);
	}
	map_free(n->map);
	n->map = map;
	n->self_id = id;
	snprintf(n->map_source, sizeof(n->map_source), "%s", source);
	err = members_sync_map(n);
	if (err)
		return err;
	if (n->off)
		pr_info("rejoining the cluster");
	n->off = false;
	pr_info("openMosix configuration changed: This is openMosix #%u (of %zu configured)",
		n->self_id, map_node_count(n->map));
	return 0;
}

void node_close_fds_in_child(struct node *n, int keep_fd)
{
	int fds[] = { n->info_fd, n->disc_fd, n->ctl_fd, n->link_fd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0 && fds[i] != keep_fd)
			close(fds[i]);
}

static void on_child(struct ev_loop *loop, int signo, void *arg)
{
	struct node *n = arg;
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (!hpc_child_exited(n, pid, st) && !link_spare_exited(pid) &&
			!guests_child_exited(pid))
			procs_child_exited(n, pid, st);
}

void node_go_off(struct node *n)
{
	if (n->off)
		return;
	pr_info("leaving the cluster (setpe -off)");
	info_send_leave(n);
	n->off = true;
	for (unsigned id = 1; id <= OM_MAX_NODE_ID; id++)
		if (n->peers[id].used)
			members_left(n, &n->peers[id], now_ms());
}

static void on_gossip(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct node *n = arg;

	info_gossip_step(n);
	/* jitter the step by +-10% so nodes do not fall into lockstep */
	ev_timer_start(t, n->cfg.info_interval_ms * 9 / 10 +
			(uint64_t)random() % (n->cfg.info_interval_ms / 5 + 1));
}

static void on_sample(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	selfload_sample(arg);
	ev_timer_start(t, SAMPLE_MS);
}

static void on_member_tick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct node *n = arg;
	uint64_t now = now_ms();

	members_tick(n, now);
	if (n->cfg.discover)
		disc_tick(n, now);
	ev_timer_start(t, MEMBER_TICK_MS);
}

#define STOP_BRING_MS 15000

static unsigned stop_waiting;

static void leave_and_stop(struct node *n)
{
	if (!n->off)
		info_send_leave(n);
	if (n->cfg.discover)
		disc_close(n); /* announces that we leave */
	ev_loop_stop(n->loop);
}

static void stop_brought(void *arg, int err, const char *why)
{
	struct node *n = arg;

	if (err)
		pr_warn("stopping: a process could not come home: %s", why ? why : strerror(-err));
	if (stop_waiting && --stop_waiting == 0)
		leave_and_stop(n);
}

static void stop_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	pr_warn("stopping: %u process(es) still away after %u s: stopping anyway", stop_waiting,
		STOP_BRING_MS / 1000);
	stop_waiting = 0;
	leave_and_stop(arg);
}

/* SIGTERM/SIGINT: our processes that run elsewhere come home first (their
 * deputies are our children and end with us), then we say goodbye. */
static void on_term(struct ev_loop *loop, int signo, void *arg)
{
	struct node *n = arg;
	struct om_proc *p;

	if (stop_waiting) {
		pr_info("signal %d again: stopping now", signo);
		leave_and_stop(n);
		return;
	}
	for (size_t i = 0; (p = procs_at(i)); i++)
		if (p->where != n->self_id && procs_bring_home(n, p, stop_brought, n) == 0)
			stop_waiting++;
	/* and our guests go back to their homes */
	if (guests_expel(stop_brought, n) == 0)
		stop_waiting++;
	if (stop_waiting) {
		struct ev_timer *t = ev_timer_new(loop, stop_timeout, n);

		pr_info("signal %d: bringing processes home and sending guests home, then "
			"stopping", signo);
		if (t)
			ev_timer_start(t, STOP_BRING_MS);
		return;
	}
	pr_info("signal %d: leaving the cluster and stopping", signo);
	leave_and_stop(n);
}

static int load_map(struct node *n);

/* SIGHUP: read the map file again (map mode); autodiscovery has none */
static void on_hup(struct ev_loop *loop, int signo, void *arg)
{
	struct node *n = arg;
	char err[1024] = "";
	struct om_map *m = NULL;

	if (n->cfg.discover) {
		pr_info("SIGHUP: autodiscovery has no map file to reload");
		return;
	}
	if (map_load_file(n->map_source, map_resolve_dns, NULL, &m, err, sizeof(err))) {
		pr_err("SIGHUP: keeping the current map: %s", *err ? err : n->map_source);
		return;
	}
	char src[sizeof(n->map_source)];

	snprintf(src, sizeof(src), "%s", n->map_source);
	if (node_set_map(n, m, src))
		pr_err("SIGHUP: keeping the current map");
	else
		pr_info("SIGHUP: map %s reloaded", src);
}

static int load_map(struct node *n)
{
	char path[PATH_MAX], err[1024] = "";
	struct om_map *m = NULL;
	uint32_t addrs[64];
	size_t na;
	int ret;

	if (n->cfg.map_path) {
		snprintf(path, sizeof(path), "%s", n->cfg.map_path);
	} else if (map_find_default(path, sizeof(path))) {
		return 1; /* no map file at all: the caller falls back to autodiscovery */
	}
	ret = map_load_file(path, map_resolve_dns, NULL, &m, err, sizeof(err));
	if (ret) {
		if (*err)
			fprintf(stderr, "omd: %s\n", err);
		else
			fprintf(stderr, "omd: %s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (n->cfg.addr) {
		addrs[0] = n->cfg.addr;
		na = 1;
	} else {
		na = local_addrs(addrs, ARRAY_SIZE(addrs));
	}
	ret = map_self_id(m, addrs, na, &n->self_id, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "omd: %s: %s\n", path, err);
		map_free(m);
		return -EADDRNOTAVAIL;
	}
	if (map_addr_of(m, n->self_id, &n->self_addr) || (n->cfg.addr && n->cfg.addr != n->self_addr)) {
		/* our address may be an ALIAS of our node */
		n->self_addr = n->cfg.addr ? n->cfg.addr : n->self_addr;
	}
	n->map = m;
	snprintf(n->map_source, sizeof(n->map_source), "%s", path);
	return 0;
}

static int setup_discovery(struct node *n)
{
	char ip[INET_ADDRSTRLEN];
	int err;

	if (n->cfg.addr) {
		n->self_addr = n->cfg.addr;
	} else {
		err = iface_addr(n->cfg.iface, &n->self_addr);
		if (err) {
			if (n->cfg.iface)
				fprintf(stderr, "omd: interface %s has no IPv4 address: %s\n",
					n->cfg.iface, strerror(-err));
			else
				fprintf(stderr,
					"omd: Unable to determine address of default interface. This may "
					"happen because there is no default route configured. Without a "
					"default route, an interface must be specified with -i: %s\n",
					strerror(-err));
			fprintf(stderr, "omd: Unable to initialize network. Exiting.\n");
			return err;
		}
	}
	n->self_id = map_id_from_addr(n->self_addr);
	if (!n->self_id) {
		fprintf(stderr, "omd: address %s gives node id 0 (last two octets), which is "
				"invalid\n", ip_str(n->self_addr, ip));
		return -EINVAL;
	}
	n->map = map_new_empty();
	if (!n->map || map_add_node(n->map, n->self_id, n->self_addr))
		return -ENOMEM;
	snprintf(n->map_source, sizeof(n->map_source), "autodiscovery");
	return 0;
}

static int daemonize(int *ready_fd)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		char c = 1;

		close(pfd[1]);
		/* the child writes one byte when it is ready, or exits */
		if (read(pfd[0], &c, 1) == 1 && c == 0)
			_exit(0);
		_exit(1);
	}
	close(pfd[0]);
	setsid();
	*ready_fd = pfd[1];
	return 0;
}

static int write_pidfile(const char *dir)
{
	char path[PATH_MAX], buf[32];

	if (xsnprintf(path, sizeof(path), "%s/omd.pid", dir))
		return -ENAMETOOLONG;
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	return write_file_atomic(path, buf, strlen(buf), 0644);
}

static int check_running(const char *dir)
{
	char path[PATH_MAX], buf[32];
	long pid;

	if (xsnprintf(path, sizeof(path), "%s/omd.pid", dir))
		return -ENAMETOOLONG;
	if (read_file(path, buf, sizeof(buf)) <= 0 || parse_long(strstrip(buf), 1, INT32_MAX, &pid))
		return 0;
	if (kill((pid_t)pid, 0) == 0 || errno == EPERM) {
		fprintf(stderr, "omd: already running in %s (pid %ld)\n", dir, pid);
		return -EEXIST;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "map", required_argument, NULL, 'f' },
		{ "discover", no_argument, NULL, 'D' },
		{ "interface", required_argument, NULL, 'i' },
		{ "dir", required_argument, NULL, 'd' },
		{ "addr", required_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'k' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "info-port", required_argument, NULL, 1 },
		{ "mig-port", required_argument, NULL, 2 },
		{ "disc-port", required_argument, NULL, 3 },
		{ "mcast-group", required_argument, NULL, 4 },
		{ "info-interval", required_argument, NULL, 5 },
		{ "log", required_argument, NULL, 6 },
		{ "policy", required_argument, NULL, 7 },
		{ "no-hpc", no_argument, NULL, 8 },
		{ "guest-uids", required_argument, NULL, 9 },
		{ "foreground", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct node *n = calloc(1, sizeof(*n));
	const char *logfile = NULL;
	char logpath[PATH_MAX];
	int ready_fd = -1, opt, err;
	long v;

	if (!n)
		return 1;
	n->cfg.dir = om_state_dir();
	n->cfg.key_path = DEFAULT_KEY;
	n->cfg.info_port = 5428;
	n->cfg.mig_port = 4660;
	n->cfg.disc_port = 5429;
	n->cfg.mcast_group = 0xefff2a1c; /* 239.255.42.28 */
	n->cfg.info_interval_ms = 200;
	n->cfg.guest_uids.all = true;
	n->info_fd = n->disc_fd = n->ctl_fd = n->link_fd = -1;
	log_init("omd", LOG_INFO);

	while ((opt = getopt_long(argc, argv, "f:i:d:a:k:nvhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			n->cfg.map_path = optarg;
			break;
		case 'D':
			n->cfg.discover = true;
			break;
		case 'i':
			n->cfg.iface = optarg;
			break;
		case 'd':
			n->cfg.dir = optarg;
			break;
		case 'a':
			if (parse_ip(optarg, &n->cfg.addr)) {
				fprintf(stderr, "omd: bad address \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'k':
			n->cfg.key_path = optarg;
			break;
		case 'c':
			n->cfg.cgroup = optarg;
			break;
		case 1:
		case 2:
		case 3:
			if (parse_port(optarg, opt == 1 ? &n->cfg.info_port :
						  opt == 2 ? &n->cfg.mig_port : &n->cfg.disc_port)) {
				fprintf(stderr, "omd: bad port \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 4:
			if (parse_ip(optarg, &n->cfg.mcast_group) ||
				(n->cfg.mcast_group >> 28) != 0xe) {
				fprintf(stderr, "omd: bad multicast group \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 5:
			if (parse_long(optarg, 10, 10000, &v)) {
				fprintf(stderr, "omd: bad interval \"%s\" (10..10000 ms)\n", optarg);
				return 2;
			}
			n->cfg.info_interval_ms = (unsigned)v;
			break;
		case 6:
			logfile = optarg;
			break;
		case 9: {
			const char *why = "?";

			if (idset_parse(optarg, &n->cfg.guest_uids, &why)) {
				fprintf(stderr, "omd: bad --guest-uids \"%s\": %s\n", optarg, why);
				return 2;
			}
			break;
		}
		case 7: {
			enum bal_policy bpol;

			if (bal_policy_parse(optarg, &bpol)) {
				fprintf(stderr, "omd: unknown balancing policy \"%s\" (mosix or oppcost)\n",
					optarg);
				return 2;
			}
			n->cfg.policy = optarg;
			break;
		}
		case 8:
			n->cfg.no_hpc = true;
			break;
		case 'n':
			n->cfg.foreground = true;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("omd %s\n", "0.1");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "omd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (n->cfg.discover && n->cfg.map_path) {
		fprintf(stderr, "omd: -f and --discover exclude each other\n");
		return 2;
	}

	err = mkdir_p(n->cfg.dir, 0755);
	if (err) {
		fprintf(stderr, "omd: cannot create state directory %s: %s\n", n->cfg.dir,
			strerror(-err));
		return 1;
	}
	if (check_running(n->cfg.dir))
		return 1;
	n->peers = calloc(OM_MAX_NODE_ID + 1, sizeof(*n->peers));
	n->gossip = NULL;
	if (!n->peers)
		return 1;
	err = n->cfg.discover ? 1 : load_map(n);
	if (err == 1) {
		if (!n->cfg.discover)
			fprintf(stderr, "omd: no map file (/etc/openmosix.map, /etc/mosix.map, "
					"/etc/hpc.map): falling back to autodiscovery\n");
		n->cfg.discover = true;
		err = setup_discovery(n);
	}
	if (err)
		return 1;
	err = auth_init();
	if (!err)
		err = auth_key_load_or_create(n->cfg.key_path, n->key);
	if (err) {
		fprintf(stderr, "omd: cluster key %s: %s\n", n->cfg.key_path, strerror(-err));
		return 1;
	}
	admin_defaults(&n->admin);
	if (admin_load(n))
		return 1;
	srandom((unsigned)(now_ns() ^ (uint64_t)getpid() << 16));
	n->gossip = gossip_new(n->self_id, PROTO_INFO_MAX_ENTRIES, now_ns() ^ n->self_id);
	n->loop = ev_loop_new();
	if (!n->gossip || !n->loop)
		return 1;
	n->incarnation = wall_ns();
	n->started_ms = now_ms();
	if (members_sync_map(n))
		return 1;
	if (selfload_init(n))
		return 1;

	if (!n->cfg.foreground) {
		if (daemonize(&ready_fd)) {
			fprintf(stderr, "omd: cannot daemonize: %s\n", strerror(errno));
			return 1;
		}
		if (!logfile) {
			if (xsnprintf(logpath, sizeof(logpath), "%s/omd.log", n->cfg.dir))
				return 1;
			logfile = logpath;
		}
	}
	if (logfile && (err = log_to_file(logfile))) {
		fprintf(stderr, "omd: cannot open log %s: %s\n", logfile, strerror(-err));
		return 1;
	}
	if (info_open(n) || ctl_open(n) || link_open(n) || (n->cfg.discover && disc_open(n))) {
		fprintf(stderr, "omd: cannot open the node's sockets (see the log)\n");
		return 1;
	}
	if (care_open(n))
		pr_debug("descendants are adopted when asked about");
	if (ev_signal_add(n->loop, SIGTERM, on_term, n) || ev_signal_add(n->loop, SIGINT, on_term, n) ||
		ev_signal_add(n->loop, SIGHUP, on_hup, n) || ev_signal_add(n->loop, SIGCHLD, on_child, n))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	n->gossip_timer = ev_timer_new(n->loop, on_gossip, n);
	n->sample_timer = ev_timer_new(n->loop, on_sample, n);
	n->member_timer = ev_timer_new(n->loop, on_member_tick, n);
	if (!n->gossip_timer || !n->sample_timer || !n->member_timer)
		return 1;
	if (balancer_init(n, n->cfg.policy))
		return 1;
	selfload_sample(n);
	ev_timer_start(n->sample_timer, SAMPLE_MS);
	ev_timer_start(n->gossip_timer, 0);
	ev_timer_start(n->member_timer, 0);
	if (!n->cfg.no_hpc)
		hpc_start(n);
	if (write_pidfile(n->cfg.dir)) {
		fprintf(stderr, "omd: cannot write %s/omd.pid\n", n->cfg.dir);
		return 1;
	}

	char ip[INET_ADDRSTRLEN];

	pr_info("openMosix configuration changed: This is openMosix #%u (of %zu configured)",
		n->self_id, map_node_count(n->map));
	pr_info("openMosix #%u is at IP address %s; map %s; load from %s%s", n->self_id,
		ip_str(n->self_addr, ip), n->map_source, n->cfg.cgroup ? "cgroup " : "the host",
		n->cfg.cgroup ? n->cfg.cgroup : "");
	if (ready_fd >= 0) {
		char c = 0;
		int devnull = open("/dev/null", O_RDWR);

		if (write(ready_fd, &c, 1) != 1)
			return 1;
		close(ready_fd);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
			close(devnull);
		}
	}

	err = ev_loop_run(n->loop);

	info_close(n);
	ctl_close(n);
	hpc_stop(n);
	link_close(n);
	{
		char path[PATH_MAX];

		if (!xsnprintf(path, sizeof(path), "%s/omd.pid", n->cfg.dir))
			unlink(path);
	}
	pr_info("stopped");
	map_free(n->map);
	gossip_free(n->gossip);
	load_probe_free(n->probe);
	ev_loop_free(n->loop);
	free(n->peers);
	free(n);
	return err ? 1 : 0;
}
