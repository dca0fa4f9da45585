/* msg: authenticated UDP datagrams between daemons: load information
 * (port 5428) and autodiscovery announcements (multicast, port 5429).
 *
 * A datagram is a 28-byte header, a body of `body_len` bytes, and a 16-byte
 * MAC (proto/auth.h) over header and body, keyed by the cluster key:
 *
 *	off  size  field
 *	  0     4  magic 0x6f4d5831 ("oMX1")
 *	  4     1  version (PROTO_VERSION)
 *	  5     1  type (MSG_*)
 *	  6     2  flags (none defined yet; sent as 0, ignored)
 *	  8     2  sender node id
 *	 10     2  body length
 *	 12     8  incarnation: the sender daemon's start time, wall clock ns
 *	 20     8  seq: the sender's wall clock in us at send time, strictly
 *	           increasing (see proto_msg_next_seq())
 *	 28     n  body
 *	 28+n  16  MAC
 *
 * All integers are big-endian. At most PROTO_MAX_DATAGRAM bytes in all.
 *
 * Threat model: an attacker on the network can read, drop, inject and
 * replay datagrams, but does not hold the cluster key. proto_msg_open()
 * rejects anything not sealed with the key and anything whose timestamp is
 * more than PROTO_MAX_SKEW_US away from the receiver's clock; the caller
 * then passes (sender, incarnation, seq) through a per-sender replay window
 * (replay_accept(), proto/auth.h) to drop duplicates. Nothing is secret:
 * bodies travel in clear.
 *
 * Pure functions: no I/O, no clock, no globals.
 */
#ifndef OM_PROTO_MSG_H
#define OM_PROTO_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "proto/auth.h"
#include "proto/info.h"

#define PROTO_INFO_PORT 5428	  /* load information, unicast */
#define PROTO_DISCOVERY_PORT 5429 /* autodiscovery, multicast */

#define PROTO_MAGIC 0x6f4d5831u /* "oMX1" */
#define PROTO_VERSION 1
#define PROTO_MSG_HDR_SIZE 28
#define PROTO_MAC_SIZE AUTH_MAC_SIZE
#define PROTO_MAX_DATAGRAM 1400
#define PROTO_MAX_BODY (PROTO_MAX_DATAGRAM - PROTO_MSG_HDR_SIZE - PROTO_MAC_SIZE)
#define PROTO_MAX_SKEW_US (60ull * 1000000) /* accepted |seq - receiver's clock| */

enum proto_msg_type {
	MSG_INFO = 1,	   /* load information: proto_info_encode() */
	MSG_PROBE = 2,	   /* are you alive? a nonce: proto_probe_encode() */
	MSG_PROBE_ACK = 3, /* yes: the nonce and own load: proto_probe_ack_encode() */
	MSG_LEAVE = 4,	   /* leaving the cluster gracefully: empty body */
	MSG_ANNOUNCE = 5,  /* autodiscovery: proto_announce_encode() */
	MSG_GUESTS = 6,	   /* CPU use of guests, to their home: proto_guests_encode() */
};

struct proto_msg_hdr {
	uint8_t version; /* set by seal to PROTO_VERSION; filled by open */
	uint8_t type;	 /* MSG_* */
	uint16_t flags;
	uint16_t sender;   /* node id */
	uint16_t body_len; /* set by seal; filled by open */
	uint64_t incarnation;
	uint64_t seq;
};

/* Build a datagram in buf[0..cap): header from h (its version and
 * body_len are ignored), the body, and the MAC. The body may already sit
 * at buf + PROTO_MSG_HDR_SIZE (encode it there to save a copy).
 * Returns its size, -EMSGSIZE if body_len > PROTO_MAX_BODY, or -ENOBUFS if
 * cap is too small. */
int proto_msg_seal(uint8_t *buf, size_t cap, const struct proto_msg_hdr *h, const void *body,
	size_t body_len, const uint8_t key[AUTH_KEY_SIZE]) __must_check;

/* Check a received datagram and find its body (a pointer into buf).
 * In order: size and magic, version, length field, MAC, timestamp.
 * Returns 0 or
 *   -EBADMSG  garbage: too short or long, bad magic, length field mismatch
 *   -EPROTO   a foreign protocol version (checked before the MAC, whose
 *             layout that version decides; not authenticated)
 *   -EACCES   MAC mismatch: wrong cluster key, or tampered with
 *   -ETIME    seq more than PROTO_MAX_SKEW_US away from now_wall_us
 * h, body and body_len are filled only on success. The type is not
 * checked: a caller ignores types it does not know. */
int proto_msg_open(const uint8_t *buf, size_t len, const uint8_t key[AUTH_KEY_SIZE],
	uint64_t now_wall_us, struct proto_msg_hdr *h, const uint8_t **body,
	size_t *body_len) __must_check;

/* The sender's next seq: now_wall_us, or *last + 1 if the clock has not
 * moved on (or went back). Updates *last. */
uint64_t proto_msg_next_seq(uint64_t *last, uint64_t now_wall_us);

/* "info", "probe", ... or "unknown" (for logs). */
const char *proto_msg_type_name(unsigned type);

/* MSG_INFO: u8 count, then count entries of PROTO_INFO_ENTRY_SIZE bytes:
 *	id u16, age_cs u16, status u16, ncpus u8, util u8, load u16,
 *	capacity u16, speed u32, tmem u32, mem u32, rmem u32
 * Field values are carried as they are (consumers clamp); id 0 is refused. */
struct proto_info_entry {
	struct om_load_info info;
	uint16_t age_cs; /* how old the sender's copy is, centiseconds, saturated */
};

#define PROTO_INFO_ENTRY_SIZE 28
#define PROTO_INFO_MAX_ENTRIES ((PROTO_MAX_BODY - 1) / PROTO_INFO_ENTRY_SIZE) /* 48 */

/* Age in ms to centiseconds, saturating at 65535 (10.9 minutes). */
uint16_t proto_age_cs(uint64_t age_ms);

/* One entry to/from exactly PROTO_INFO_ENTRY_SIZE bytes. get: 0 or -EBADMSG. */
void proto_info_entry_put(uint8_t *p, const struct proto_info_entry *e);
int proto_info_entry_get(const uint8_t *p, struct proto_info_entry *e) __must_check;

/* Encode n entries. Returns bytes used, -EMSGSIZE if n >
 * PROTO_INFO_MAX_ENTRIES, -ENOBUFS if cap is too small. */
int proto_info_encode(
	uint8_t *buf, size_t cap, const struct proto_info_entry *e, size_t n) __must_check;
/* Decode into e[0..max); *n = count. Returns bytes used (= len), -EBADMSG
 * (length does not match the count, more than PROTO_INFO_MAX_ENTRIES, bad
 * entry), or -ENOBUFS (more than max entries). */
int proto_info_decode(const uint8_t *buf, size_t len, struct proto_info_entry *e, size_t max,
	size_t *n) __must_check;

/* MSG_PROBE: nonce u64. */
#define PROTO_PROBE_SIZE 8
struct proto_probe {
	uint64_t nonce;
};

/* MSG_PROBE_ACK: nonce u64, the responder's own info entry. */
#define PROTO_PROBE_ACK_SIZE (8 + PROTO_INFO_ENTRY_SIZE)
struct proto_probe_ack {
	uint64_t nonce;
	struct proto_info_entry self;
};

/* MSG_ANNOUNCE: addr u32, node_id u16, info_port u16, mig_port u16, flags u16. */
#define PROTO_ANNOUNCE_SIZE 12
#define PROTO_ANNOUNCE_LEAVING 0x0001
struct proto_announce {
	uint32_t addr; /* IPv4 address, host byte order */
	uint16_t node_id;
	uint16_t info_port;
	uint16_t mig_port;
	uint16_t flags; /* PROTO_ANNOUNCE_* */
};

/* Encoders return bytes used or -ENOBUFS. Decoders want exactly the
 * body's size and return bytes used or -EBADMSG (wrong size, node id 0). */
int proto_probe_encode(uint8_t *buf, size_t cap, const struct proto_probe *p) __must_check;
int proto_probe_decode(const uint8_t *buf, size_t len, struct proto_probe *p) __must_check;
int proto_probe_ack_encode(uint8_t *buf, size_t cap, const struct proto_probe_ack *a) __must_check;
int proto_probe_ack_decode(const uint8_t *buf, size_t len, struct proto_probe_ack *a) __must_check;
int proto_announce_encode(uint8_t *buf, size_t cap, const struct proto_announce *a) __must_check;
int proto_announce_decode(const uint8_t *buf, size_t len, struct proto_announce *a) __must_check;
/* MSG_LEAVE: 0 if len == 0, else -EBADMSG. */
int proto_leave_decode(const uint8_t *buf, size_t len) __must_check;

/* MSG_GUESTS: what a node measures of the guests it runs, sent to each
 * guest's home node (which cannot see them) about once a second:
 * u8 count, then count entries of PROTO_GUEST_ENTRY_SIZE bytes:
 *	home_pid u32 (never 0), sched_ns u64 (the copy's run time + run-queue
 *	wait so far, /proc/PID/schedstat), rss_kb u32
 * The home accepts an entry only for a process of its own that runs at the
 * sender. */
struct proto_guest_entry {
	uint32_t home_pid;
	uint64_t sched_ns;
	uint32_t rss_kb;
};

#define PROTO_GUEST_ENTRY_SIZE 16
#define PROTO_GUEST_MAX_ENTRIES ((PROTO_MAX_BODY - 1) / PROTO_GUEST_ENTRY_SIZE) /* 84 */

/* Encode n entries: bytes used, -EMSGSIZE (n > PROTO_GUEST_MAX_ENTRIES) or
 * -ENOBUFS. Decode into e[0..max): bytes used (= len), -EBADMSG (length
 * does not match the count, too many, a home_pid of 0) or -ENOBUFS. */
int proto_guests_encode(
	uint8_t *buf, size_t cap, const struct proto_guest_entry *e, size_t n) __must_check;
int proto_guests_decode(const uint8_t *buf, size_t len, struct proto_guest_entry *e, size_t max,
	size_t *n) __must_check;

#endif
