/* link: the frames exchanged on an authenticated node-to-node stream
 * (proto/stream.h) on the migration port. Only the liveness ping exists so
 * far; process migration adds its frames here. */
#ifndef OM_PROTO_LINK_H
#define OM_PROTO_LINK_H

#include <stdint.h>

enum link_frame_type {
	LINK_PING = 1, /* body: u64 cookie */
	LINK_PONG = 2, /* body: u64 cookie (echoed), u16 node id */
};

#define LINK_PING_SIZE 8
#define LINK_PONG_SIZE 10

#endif
