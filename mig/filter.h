/* filter: the seccomp filter of a migrated process: system calls that run
 * on the remote node (rsys_classify() == RSYS_LOCAL) are allowed, every
 * other one stops for the remote tracer (SECCOMP_RET_TRACE). */
#ifndef OM_MIG_FILTER_H
#define OM_MIG_FILTER_H

#include <linux/filter.h>
#include <stddef.h>

/* Build the program into insns[0..cap); returns the number of
 * instructions or -ENOSPC. */
int mig_filter_build(struct sock_filter *insns, size_t cap);

#endif
