/* probe: how a node measures itself.
 *
 * Two samplers behind one handle:
 *  - host: the whole machine. Runnable threads from /proc/stat procs_running
 *    (minus the sampling thread itself), utilisation from the cpu line of
 *    /proc/stat, memory from /proc/meminfo, CPUs from sched_getaffinity().
 *  - cgroup: a node on a shared machine is a cgroup, named relative to the
 *    hierarchy roots ("openmosix/demo/node2"). Hierarchies are found through
 *    /proc/self/mountinfo, per controller: cgroup v1 (cpu, cpuacct and
 *    memory, mounted separately or together) or cgroup v2 (a cgroup2 mount
 *    whose root offers the controller). Runnable = threads of the cgroup
 *    itself (not of its descendants) in state R; capacity = CFS quota/period
 *    cores, capped at the host's CPUs (no quota: the host's CPUs);
 *    ncpus = ceil(capacity); utilisation = CPU usage / (capacity x elapsed);
 *    total memory = min(limit, MemTotal), free = min(total - usage,
 *    MemAvailable); "free as Linux believes" = the same when limited, else
 *    MemFree.
 *
 * Sampling is meant for every 100 ms: the files read every time stay open
 * (pread from 0); only the cgroup's thread list and /proc/TID/stat of its
 * threads are opened per sample. Not thread-safe: one probe, one thread.
 */
#ifndef OM_LOAD_PROBE_H
#define OM_LOAD_PROBE_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/util.h"
#include "load/loadcalc.h" /* struct load_sample */

/* Where to look; for tests that feed fake files. NULL or zero fields take
 * the defaults. Mount points in the mountinfo file are used as they are. */
struct load_paths {
	const char *proc;	    /* "/proc" */
	const char *mountinfo;	    /* "/proc/self/mountinfo" */
	unsigned ncpus;		    /* host CPUs; 0: sched_getaffinity, else sysconf */
	uint64_t (*clock_ns)(void); /* monotonic clock in ns; NULL: now_ns */
};

struct load_probe;

/* Constructors return NULL with errno set (and log the reason once):
 * ENOENT (no such cgroup / file), EOPNOTSUPP (no hierarchy with the cpu
 * controller), EINVAL (bad name: empty, absolute, "." or ".." parts), ENOMEM.
 * The probe takes its first reference reading here, so the first sample's
 * utilisation covers the time since creation. */
struct load_probe *load_probe_host_new(void);
struct load_probe *load_probe_host_new_at(const struct load_paths *paths);
struct load_probe *load_probe_cgroup_new(const char *name);
struct load_probe *load_probe_cgroup_new_at(const struct load_paths *paths, const char *name);

/* Take one sample. Returns 0 or -errno (e.g. -ENODEV or -ENOENT when the
 * cgroup went away); failures are logged rate-limited. */
int load_probe_sample(struct load_probe *p, struct load_sample *out) __must_check;

/* "host" or "cgroup NAME (cpu v1 ..., cpuacct v1 ..., memory v1 ...)";
 * owned by the probe. */
const char *load_probe_describe(const struct load_probe *p);

void load_probe_free(struct load_probe *p); /* NULL is fine */

/* cgroup management, for the daemon and tools that run work "inside node K".
 * The hierarchies are those the probe would use (cpu, cpuacct, memory).
 * All return 0 or -errno, logging the failure once. */

/* Make the cgroup (and missing parents) in every relevant hierarchy; on v2,
 * enable the controllers in the ancestors' cgroup.subtree_control. Then set
 * a CPU quota of `cores` (<= 0: leave unlimited; period 100 ms) and a memory
 * limit of `mem_bytes` (0: leave unlimited). An existing cgroup is reused. */
int load_cgroup_create(const char *name, double cores, uint64_t mem_bytes) __must_check;
int load_cgroup_create_at(const struct load_paths *paths, const char *name, double cores,
	uint64_t mem_bytes) __must_check;
/* Move process `pid` (all its threads) into the cgroup in every relevant
 * hierarchy where the cgroup exists; -ENOENT if it exists in none. */
int load_cgroup_attach(const char *name, pid_t pid) __must_check;
int load_cgroup_attach_at(const struct load_paths *paths, const char *name, pid_t pid) __must_check;
/* rmdir the cgroup (the last component only) in every relevant hierarchy;
 * a hierarchy where it does not exist is skipped. -EBUSY while it has tasks. */
int load_cgroup_remove(const char *name) __must_check;
int load_cgroup_remove_at(const struct load_paths *paths, const char *name) __must_check;

#endif
