/* info: the per-node load record that the cluster gossips, and the node
 * status bits. Shared by proto/ (wire encoding), gossip/ (the vector) and
 * daemon/ (filling it from load/ probes and admin state).
 *
 * Units are chosen so a record packs in 28 bytes on the wire
 * (see PROTO_INFO_ENTRY_SIZE in proto/msg.h).
 */
#ifndef OM_PROTO_INFO_H
#define OM_PROTO_INFO_H

#include <stdint.h>

/* Node status bits (the MOSIX values, with NOMFS fixed to a real bit). */
enum {
	NODE_CONF = 1 << 0,  /* configured (in the map) */
	NODE_UP = 1 << 1,    /* running and taking part */
	NODE_STAY = 1 << 2,  /* no automatic migration away from it */
	NODE_LSTAY = 1 << 3, /* local processes stay */
	NODE_BLOCK = 1 << 4, /* guests may not arrive */
	NODE_QUIET = 1 << 5, /* does not advertise its load */
	NODE_NOMFS = 1 << 6, /* MFS access disabled */
	NODE_EXPEL = 1 << 7, /* expelling guests */
	NODE_BRING = 1 << 8, /* bringing its processes home */
};

#define OM_STD_SPEED 10000u   /* speed of the standard processor */
#define OM_MAX_NODE_ID 65535u /* node ids are 1..65535 */

struct om_load_info {
	uint16_t id;       /* node id */
	uint16_t status;   /* NODE_* bits */
	uint8_t ncpus;     /* CPUs the node has (capped nodes: ceil(capacity)) */
	uint8_t util;      /* utilization, percent 0..100 */
	uint16_t load;     /* openMosix load x100 (1.00 = one standard CPU busy); saturates */
	uint16_t capacity; /* CPU capacity in centi-cores (a 0.5-core node: 50) */
	uint32_t speed;    /* speed, OM_STD_SPEED = standard processor */
	uint32_t tmem;     /* total memory, MiB */
	uint32_t mem;      /* free memory as openMosix believes (available), MiB */
	uint32_t rmem;     /* free memory as Linux believes (MemFree), MiB */
};

#endif
