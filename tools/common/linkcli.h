/* linkcli: a blocking client of a node's authenticated TCP port, for tools. */
#ifndef OM_TOOLS_LINKCLI_H
#define OM_TOOLS_LINKCLI_H

#include <stdint.h>

/* Connect to addr:port, authenticate with the key in keyfile as node
 * self_id, ping node peer_id and print the round trip. Returns an exit
 * code (client.h): 0 answered, 1 refused/wrong key/no answer. */
int linkcli_ping(const char *prog, const char *addr, uint16_t port, uint16_t self_id,
	uint16_t peer_id, const char *keyfile);

#endif
