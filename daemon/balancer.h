/* balancer: automatic load balancing and memory ushering (see balancer.c). */
#ifndef OM_DAEMON_BALANCER_H
#define OM_DAEMON_BALANCER_H

#include <stddef.h>
#include <stdint.h>

struct node;
struct om_proc;

/* policy: "mosix" (default) or "oppcost"; NULL: the default */
int balancer_init(struct node *n, const char *policy) __attribute__((warn_unused_result));
const char *balancer_policy(void);
void balancer_counters(uint64_t *started, uint64_t *failed);
/* the best node for p now (migrate PID balance); where it runs if none is better */
uint16_t balancer_best_node(struct node *n, struct om_proc *p);
/* node `from` reports on guests of ours it runs (MSG_GUESTS) */
struct proto_guest_entry;
void balancer_guest_report(struct node *n, uint16_t from, const struct proto_guest_entry *e,
	size_t cnt);

#endif
