/* node: the state of one omd, shared by the daemon's modules.
 *
 * One struct node per daemon, owned by omd.c. Modules:
 *   admin.c   admin knobs (stay, block, speed, decay...) persisted in state.json
 *   info.c    UDP information traffic: gossip steps, probes, leave, receive path
 *   members.c the membership state machine of every peer (alive/suspect/dead/left)
 *   disc.c    multicast autodiscovery (omdiscd / omd --discover)
 *   selfload.c sampling our own load (host or cgroup) into the advertised record
 *   ctl.c     the control socket for the tools (JSON lines, SO_PEERCRED)
 *   query.c   the one model every view reads (mosctl status --json, later mosmon, hpc)
 *   link.c    the TCP port (4660): authenticated streams between nodes
 *   hpc.c     the hpc tree (DIR/hpc): runs and stops omhpcfs, a FUSE child
 */
#ifndef OM_DAEMON_NODE_H
#define OM_DAEMON_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

#include "proto/info.h"
#include "proto/auth.h"
#include "load/loadcalc.h"
#include "lib/idset.h"

struct ev_loop;
struct ev_timer;
struct om_map;
struct gossip;
struct load_probe;

enum member_state { MEMBER_UNKNOWN = 0, MEMBER_ALIVE, MEMBER_SUSPECT, MEMBER_DEAD, MEMBER_LEFT };
const char *member_state_name(enum member_state s);

struct peer {
	uint16_t id;
	uint32_t addr; /* IPv4, host order */
	enum member_state state;
	uint64_t state_since_ms;
	uint64_t last_direct_ms;  /* last authenticated datagram from it */
	uint64_t last_probe_ms;
	uint64_t probe_nonce;
	unsigned probes_unanswered;
	uint64_t disc_seen_ms;    /* autodiscovery: last announcement */
	struct replay_window rw;
	bool used;
};

struct admin_state {
	bool stay, lstay, block, quiet, nomfs;
	uint32_t speed;          /* the node's speed (OM_STD_SPEED = standard CPU) */
	double yard;             /* yardstick: benchmark score of a standard CPU */
	unsigned decay_interval; /* seconds */
	unsigned slow_decay;     /* per mille kept per interval */
	unsigned fast_decay;
};

struct counters {
	uint64_t tx, rx, rx_info_entries;
	uint64_t bad_mac, replayed, stale_time, garbage, foreign_version, unknown_sender;
	uint64_t probes_sent, acks_rcvd, ctl_requests, ctl_denied;
	uint64_t link_accepted, link_auth_failed;
};

struct node_config {
	const char *map_path;     /* NULL: the default search, or discovery */
	bool discover;
	const char *iface;
	const char *dir;          /* state directory */
	const char *key_path;
	const char *cgroup;       /* NULL: whole host */
	uint32_t addr;            /* 0: find from the map / interface */
	uint16_t info_port, mig_port, disc_port;
	uint32_t mcast_group;     /* host order */
	unsigned info_interval_ms;
	const char *policy;       /* balancing policy name; NULL: default */
	bool foreground;
	bool no_hpc;              /* --no-hpc: no hpc tree */
	struct idset guest_uids;  /* --guest-uids: whose processes may run here */
};

struct node {
	struct node_config cfg;
	struct ev_loop *loop;
	uint8_t key[32];
	uint64_t incarnation;
	uint64_t last_seq;
	uint16_t self_id;
	uint32_t self_addr;
	bool off;                 /* setpe -off: out of the cluster */
	struct om_map *map;
	char map_source[4352];
	struct gossip *gossip;
	struct peer *peers;       /* indexed by node id, OM_MAX_NODE_ID + 1 */
	unsigned npeers;          /* peers in use (not counting us) */
	struct admin_state admin;
	struct om_load_info self_info;
	struct load_probe *probe;
	struct loadcalc lc;
	struct load_sample last_sample;
	uint64_t last_sample_ms;
	unsigned samples_in_period;
	int info_fd, disc_fd, ctl_fd, link_fd;
	struct ev_timer *gossip_timer, *sample_timer, *member_timer, *disc_timer;
	struct counters cnt;
	uint64_t started_ms;
};

/* admin.c */
void admin_defaults(struct admin_state *a);
int admin_load(struct node *n) __attribute__((warn_unused_result));
int admin_save(const struct node *n) __attribute__((warn_unused_result));
uint16_t admin_status_bits(const struct node *n);

/* members.c */
int members_sync_map(struct node *n) __attribute__((warn_unused_result));
struct peer *members_get(struct node *n, uint16_t id);
void members_heard(struct node *n, struct peer *p, uint64_t now);
void members_left(struct node *n, struct peer *p, uint64_t now);
void members_tick(struct node *n, uint64_t now);
unsigned members_expected_age_ms(const struct node *n);

/* info.c */
int info_open(struct node *n) __attribute__((warn_unused_result));
void info_close(struct node *n);
int info_send(struct node *n, uint16_t to, uint8_t type, const void *body, size_t len);
void info_send_leave(struct node *n);
void info_gossip_step(struct node *n);

/* selfload.c */
int selfload_init(struct node *n) __attribute__((warn_unused_result));
void selfload_sample(struct node *n);
void selfload_fill(struct node *n, struct om_load_info *out);

/* disc.c */
int disc_open(struct node *n) __attribute__((warn_unused_result));
void disc_tick(struct node *n, uint64_t now);
void disc_close(struct node *n);

/* ctl.c */
int ctl_open(struct node *n) __attribute__((warn_unused_result));
void ctl_close(struct node *n);

/* link.c */
int link_open(struct node *n) __attribute__((warn_unused_result));
void link_close(struct node *n);
/* on_child: was pid the spare remote (link.c)? Then it is forgotten. */
bool link_spare_exited(pid_t pid);

/* hpc.c: the hpc tree; never fatal (without FUSE we run without it) */
void hpc_start(struct node *n);
void hpc_stop(struct node *n);
bool hpc_child_exited(struct node *n, pid_t pid, int status);

/* omd.c: in a forked child (deputy, remote): close the daemon's sockets
 * except keep_fd */
void node_close_fds_in_child(struct node *n, int keep_fd);

/* omd.c: apply a new map (setpe -w), leave (setpe -off) */
int node_set_map(struct node *n, struct om_map *map, const char *source) __attribute__((warn_unused_result));
void node_go_off(struct node *n);

#endif
