/* query: the daemon's model as JSON, read by every view. */
#ifndef OM_DAEMON_QUERY_H
#define OM_DAEMON_QUERY_H

#include <jansson.h>
#include <stdint.h>

struct node;

const char *query_version(void);
/* The whole node and cluster view; caller owns the result. */
json_t *query_status(struct node *n);
/* NODE_* bits as an array of names */
json_t *query_status_bits(uint16_t status);

#endif
