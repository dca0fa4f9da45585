#include "proto/msg.h"

#include "proto/wire.h"

#include <assert.h>
#include <errno.h>

static_assert(PROTO_MSG_HDR_SIZE == 4 + 1 + 1 + 2 + 2 + 2 + 8 + 8, "header layout");
static_assert(PROTO_INFO_ENTRY_SIZE == 2 + 2 + 2 + 1 + 1 + 2 + 2 + 4 * 4, "info entry layout");
static_assert(PROTO_MAX_BODY == 1356, "body room");
static_assert(PROTO_INFO_MAX_ENTRIES == 48, "48 info entries per datagram");
static_assert(1 + PROTO_INFO_MAX_ENTRIES * PROTO_INFO_ENTRY_SIZE <= PROTO_MAX_BODY,
	"a full MSG_INFO fits");
static_assert(1 + (PROTO_INFO_MAX_ENTRIES + 1) * PROTO_INFO_ENTRY_SIZE > PROTO_MAX_BODY,
	"PROTO_INFO_MAX_ENTRIES is as many as fit");
static_assert(PROTO_INFO_MAX_ENTRIES <= UINT8_MAX, "count is a u8");
static_assert(PROTO_MAX_BODY <= UINT16_MAX, "body length is a u16");
static_assert(PROTO_PROBE_ACK_SIZE <= PROTO_MAX_BODY && PROTO_ANNOUNCE_SIZE <= PROTO_MAX_BODY,
	"bodies fit");

/* header offsets */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 4,
	OFF_TYPE = 5,
	OFF_FLAGS = 6,
	OFF_SENDER = 8,
	OFF_BODY_LEN = 10,
	OFF_INCARNATION = 12,
	OFF_SEQ = 20,
};

int proto_msg_seal(uint8_t *buf, size_t cap, const struct proto_msg_hdr *h, const void *body,
	size_t body_len, const uint8_t key[AUTH_KEY_SIZE])
{
	size_t total = PROTO_MSG_HDR_SIZE + body_len + PROTO_MAC_SIZE;

	if (body_len > PROTO_MAX_BODY)
		return -EMSGSIZE;
	if (cap < total)
		return -ENOBUFS;
	wire_put_u32(buf + OFF_MAGIC, PROTO_MAGIC);
	wire_put_u8(buf + OFF_VERSION, PROTO_VERSION);
	wire_put_u8(buf + OFF_TYPE, h->type);
	wire_put_u16(buf + OFF_FLAGS, h->flags);
	wire_put_u16(buf + OFF_SENDER, h->sender);
	wire_put_u16(buf + OFF_BODY_LEN, (uint16_t)body_len);
	wire_put_u64(buf + OFF_INCARNATION, h->incarnation);
	wire_put_u64(buf + OFF_SEQ, h->seq);
	if (body_len)
		memmove(buf + PROTO_MSG_HDR_SIZE, body,
			body_len); /* body may already be in place */
	auth_mac(key, buf, PROTO_MSG_HDR_SIZE + body_len, buf + PROTO_MSG_HDR_SIZE + body_len);
	return (int)total;
}

int proto_msg_open(const uint8_t *buf, size_t len, const uint8_t key[AUTH_KEY_SIZE],
	uint64_t now_wall_us, struct proto_msg_hdr *h, const uint8_t **body, size_t *body_len)
{
	size_t blen;
	uint64_t seq, skew;

	if (len < PROTO_MSG_HDR_SIZE + PROTO_MAC_SIZE || len > PROTO_MAX_DATAGRAM)
		return -EBADMSG;
	if (wire_get_u32(buf + OFF_MAGIC) != PROTO_MAGIC)
		return -EBADMSG;
	if (wire_get_u8(buf + OFF_VERSION) != PROTO_VERSION)
		return -EPROTO;
	blen = wire_get_u16(buf + OFF_BODY_LEN);
	if (PROTO_MSG_HDR_SIZE + blen + PROTO_MAC_SIZE != len)
		return -EBADMSG;
	if (!auth_verify(key, buf, PROTO_MSG_HDR_SIZE + blen, buf + PROTO_MSG_HDR_SIZE + blen))
		return -EACCES;
	/* authenticated from here on */
	seq = wire_get_u64(buf + OFF_SEQ);
	skew = seq > now_wall_us ? seq - now_wall_us : now_wall_us - seq;
	if (skew > PROTO_MAX_SKEW_US)
		return -ETIME;
	h->version = PROTO_VERSION;
	h->type = wire_get_u8(buf + OFF_TYPE);
	h->flags = wire_get_u16(buf + OFF_FLAGS);
	h->sender = wire_get_u16(buf + OFF_SENDER);
	h->body_len = (uint16_t)blen;
	h->incarnation = wire_get_u64(buf + OFF_INCARNATION);
	h->seq = seq;
	*body = buf + PROTO_MSG_HDR_SIZE;
	*body_len = blen;
	return 0;
}

uint64_t proto_msg_next_seq(uint64_t *last, uint64_t now_wall_us)
{
	uint64_t seq = now_wall_us > *last ? now_wall_us : *last + 1;

	*last = seq;
	return seq;
}

const char *proto_msg_type_name(unsigned type)
{
	switch (type) {
	case MSG_INFO:
		return "info";
	case MSG_PROBE:
		return "probe";
	case MSG_PROBE_ACK:
		return "probe-ack";
	case MSG_LEAVE:
		return "leave";
	case MSG_ANNOUNCE:
		return "announce";
	case MSG_GUESTS:
		return "guests";
	}
	return "unknown";
}

uint16_t proto_age_cs(uint64_t age_ms)
{
	uint64_t cs = age_ms / 10;

	return cs > UINT16_MAX ? UINT16_MAX : (uint16_t)cs;
}

void proto_info_entry_put(uint8_t *p, const struct proto_info_entry *e)
{
	struct wire_writer w = WIRE_WRITER(p, PROTO_INFO_ENTRY_SIZE);
	const struct om_load_info *i = &e->info;

	wire_put16(&w, i->id);
	wire_put16(&w, e->age_cs);
	wire_put16(&w, i->status);
	wire_put8(&w, i->ncpus);
	wire_put8(&w, i->util);
	wire_put16(&w, i->load);
	wire_put16(&w, i->capacity);
	wire_put32(&w, i->speed);
	wire_put32(&w, i->tmem);
	wire_put32(&w, i->mem);
	wire_put32(&w, i->rmem);
	assert(!w.err && w.len == PROTO_INFO_ENTRY_SIZE);
}

int proto_info_entry_get(const uint8_t *p, struct proto_info_entry *e)
{
	struct wire_reader r = WIRE_READER(p, PROTO_INFO_ENTRY_SIZE);
	struct om_load_info *i = &e->info;

	memset(e, 0, sizeof(*e));
	i->id = wire_get16(&r);
	e->age_cs = wire_get16(&r);
	i->status = wire_get16(&r);
	i->ncpus = wire_get8(&r);
	i->util = wire_get8(&r);
	i->load = wire_get16(&r);
	i->capacity = wire_get16(&r);
	i->speed = wire_get32(&r);
	i->tmem = wire_get32(&r);
	i->mem = wire_get32(&r);
	i->rmem = wire_get32(&r);
	assert(!r.err && wire_left(&r) == 0);
	return i->id ? 0 : -EBADMSG;
}

int proto_info_encode(uint8_t *buf, size_t cap, const struct proto_info_entry *e, size_t n)
{
	size_t len = 1 + n * PROTO_INFO_ENTRY_SIZE;

	if (n > PROTO_INFO_MAX_ENTRIES)
		return -EMSGSIZE;
	if (cap < len)
		return -ENOBUFS;
	wire_put_u8(buf, (uint8_t)n);
	for (size_t k = 0; k < n; k++)
		proto_info_entry_put(buf + 1 + k * PROTO_INFO_ENTRY_SIZE, &e[k]);
	return (int)len;
}

int proto_info_decode(
	const uint8_t *buf, size_t len, struct proto_info_entry *e, size_t max, size_t *n)
{
	size_t count;

	if (len < 1)
		return -EBADMSG;
	count = wire_get_u8(buf);
	if (count > PROTO_INFO_MAX_ENTRIES || len != 1 + count * PROTO_INFO_ENTRY_SIZE)
		return -EBADMSG;
	if (count > max)
		return -ENOBUFS;
	for (size_t k = 0; k < count; k++) {
		if (proto_info_entry_get(buf + 1 + k * PROTO_INFO_ENTRY_SIZE, &e[k]))
			return -EBADMSG;
	}
	*n = count;
	return (int)len;
}

int proto_probe_encode(uint8_t *buf, size_t cap, const struct proto_probe *p)
{
	if (cap < PROTO_PROBE_SIZE)
		return -ENOBUFS;
	wire_put_u64(buf, p->nonce);
	return PROTO_PROBE_SIZE;
}

int proto_probe_decode(const uint8_t *buf, size_t len, struct proto_probe *p)
{
	if (len != PROTO_PROBE_SIZE)
		return -EBADMSG;
	p->nonce = wire_get_u64(buf);
	return PROTO_PROBE_SIZE;
}

int proto_probe_ack_encode(uint8_t *buf, size_t cap, const struct proto_probe_ack *a)
{
	if (cap < PROTO_PROBE_ACK_SIZE)
		return -ENOBUFS;
	wire_put_u64(buf, a->nonce);
	proto_info_entry_put(buf + 8, &a->self);
	return PROTO_PROBE_ACK_SIZE;
}

int proto_probe_ack_decode(const uint8_t *buf, size_t len, struct proto_probe_ack *a)
{
	if (len != PROTO_PROBE_ACK_SIZE)
		return -EBADMSG;
	a->nonce = wire_get_u64(buf);
	if (proto_info_entry_get(buf + 8, &a->self))
		return -EBADMSG;
	return PROTO_PROBE_ACK_SIZE;
}

int proto_announce_encode(uint8_t *buf, size_t cap, const struct proto_announce *a)
{
	struct wire_writer w = WIRE_WRITER(buf, cap);

	wire_put32(&w, a->addr);
	wire_put16(&w, a->node_id);
	wire_put16(&w, a->info_port);
	wire_put16(&w, a->mig_port);
	wire_put16(&w, a->flags);
	if (w.err)
		return -ENOBUFS;
	static_assert(PROTO_ANNOUNCE_SIZE == 4 + 2 * 4, "announce layout");
	return (int)w.len;
}

int proto_announce_decode(const uint8_t *buf, size_t len, struct proto_announce *a)
{
	struct wire_reader r = WIRE_READER(buf, len);

	if (len != PROTO_ANNOUNCE_SIZE)
		return -EBADMSG;
	a->addr = wire_get32(&r);
	a->node_id = wire_get16(&r);
	a->info_port = wire_get16(&r);
	a->mig_port = wire_get16(&r);
	a->flags = wire_get16(&r);
	if (r.err || wire_left(&r) || !a->node_id)
		return -EBADMSG;
	return PROTO_ANNOUNCE_SIZE;
}

int proto_leave_decode(const uint8_t *buf, size_t len)
{
	(void)buf;
	return len == 0 ? 0 : -EBADMSG;
}

int proto_guests_encode(uint8_t *buf, size_t cap, const struct proto_guest_entry *e, size_t n)
{
	size_t len = 1 + n * PROTO_GUEST_ENTRY_SIZE;

	if (n > PROTO_GUEST_MAX_ENTRIES)
		return -EMSGSIZE;
	if (cap < len)
		return -ENOBUFS;
	wire_put_u8(buf, (uint8_t)n);
	for (size_t k = 0; k < n; k++) {
		uint8_t *q = buf + 1 + k * PROTO_GUEST_ENTRY_SIZE;

		wire_put_u32(q, e[k].home_pid);
		wire_put_u64(q + 4, e[k].sched_ns);
		wire_put_u32(q + 12, e[k].rss_kb);
	}
	return (int)len;
}

int proto_guests_decode(
	const uint8_t *buf, size_t len, struct proto_guest_entry *e, size_t max, size_t *n)
{
	size_t count;

	if (len < 1)
		return -EBADMSG;
	count = wire_get_u8(buf);
	if (count > PROTO_GUEST_MAX_ENTRIES || len != 1 + count * PROTO_GUEST_ENTRY_SIZE)
		return -EBADMSG;
	if (count > max)
		return -ENOBUFS;
	for (size_t k = 0; k < count; k++) {
		const uint8_t *q = buf + 1 + k * PROTO_GUEST_ENTRY_SIZE;

		e[k].home_pid = wire_get_u32(q);
		e[k].sched_ns = wire_get_u64(q + 4);
		e[k].rss_kb = wire_get_u32(q + 12);
		if (!e[k].home_pid)
			return -EBADMSG;
	}
	*n = count;
	return (int)len;
}
