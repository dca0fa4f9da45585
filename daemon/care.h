/* care: descendants of processes under care are under care (see care.c). */
#ifndef OM_DAEMON_CARE_H
#define OM_DAEMON_CARE_H

#include <sys/types.h>

struct node;
struct om_proc;

/* Listen to the kernel's process events (fork); 0, or -errno when they
 * are not available (the ancestry check in care_lookup still works). */
int care_open(struct node *n);
void care_close(void);
/* The entry of pid, adopting it (and the chain above it) first if it
 * descends from a process under care; NULL if it does not. */
struct om_proc *care_lookup(struct node *n, pid_t pid);

#endif
