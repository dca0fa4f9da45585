/* mask: a process's cluster mask (the original's migfilter, mignodes and
 * migpolicy, HOWTO 8.4): the set of nodes it may, or may not, run on.
 * Pure; nodes 1..OM_MASK_NODES can be named. */
#ifndef OM_BALANCE_MASK_H
#define OM_BALANCE_MASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OM_MASK_NODES 1024u

struct om_mask {
	bool on;       /* migfilter: the mask is in force */
	bool allow;    /* migpolicy 1 (ALLOW): only the listed nodes; 0 (DENY): all but them */
	uint64_t bits[OM_MASK_NODES / 64]; /* bit id-1: node id is listed */
};

/* Parse a node list into m->bits (cleared first): "1,3-5,9", or the
 * original's bit-list "0x15" (bit PE-1 set for node PE, nodes 1..64), or
 * "" (no nodes). -EINVAL on anything else, including ids outside
 * 1..OM_MASK_NODES. */
int om_mask_parse(const char *s, struct om_mask *m) __attribute__((warn_unused_result));
/* "1,3-5,9" (empty string for no nodes); returns the length or -ENOSPC */
int om_mask_format(const struct om_mask *m, char *buf, size_t cap);
void om_mask_set(struct om_mask *m, uint16_t id, bool listed);
bool om_mask_listed(const struct om_mask *m, uint16_t id);
/* May a process with this mask run at node id? (Home is always allowed:
 * a process can always go home.) */
bool om_mask_permits(const struct om_mask *m, uint16_t id, uint16_t home);

#endif
