/* client: how the tools talk to the node's daemon over DIR/omd.sock.
 * One JSON request line, one JSON reply line. */
#ifndef OM_TOOLS_CLIENT_H
#define OM_TOOLS_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Exit codes shared by the tools (documented in their man pages). */
enum {
	EXIT_YES = 0,       /* success / yes */
	EXIT_NO = 1,        /* a negative answer, or a refused request */
	EXIT_USAGE = 2,     /* bad usage */
	EXIT_NODAEMON = 3,  /* the daemon is not running / not reachable */
	EXIT_FAIL = 4,      /* anything else */
};

/* How long a call waits for its reply (default 10 s). */
extern int client_timeout_ms;

/* Send req (not consumed) to the daemon of $OPENMOSIX_DIR; *resp gets the
 * reply object. Returns 0, or -errno (-ENOENT/-ECONNREFUSED: no daemon). */
int client_call(json_t *req, json_t **resp) __attribute__((warn_unused_result));

/* Convenience: call (taking ownership of req) and, on failure, print
 * "PROG: reason" to stderr.
 * Returns the reply (ok true) or NULL; *exit_code gets the code to exit with. */
json_t *client_request(const char *prog, json_t *req, int *exit_code);

/* The status model ({"self":...,"nodes":[...]}) or NULL (message printed). */
json_t *client_status(const char *prog, int *exit_code);

/* Find a node in the status model by id; NULL if not in the map. */
json_t *client_find_node(json_t *status, long id);

#endif
