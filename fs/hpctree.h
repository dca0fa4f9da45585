/* hpctree: the layout of the original's /proc/hpc (HOWTO tables 8-1 to 8-5)
 * over the daemon's JSON model (pure: no I/O, no FUSE).
 *
 * omhpcfs (tools/omhpcfs.c) asks the daemon over the control socket and
 * hands the replies in here; this module says which paths exist, what a
 * file reads, and which control request a write becomes. So the tree shows
 * exactly what `mosctl status --json` and `mosctl where --json` say.
 *
 *   admin/   block bring config decay-interval expel fast-decay lstay mospe
 *            nomfs quiet slow-decay speed stay version
 *   nodes/ID/  CPUs load mem rmem speed status tmem util
 *   decay/   clear cpujob fast iojob slow      (act on the writer's process)
 *   proc/PID/  cantmove goto lock migfilter mignodes migpolicy nmigs where
 *   proc/self -> PID of the caller
 *   remote/PID/  from identity statm stats     (guests running here)
 */
#ifndef OM_FS_HPCTREE_H
#define OM_FS_HPCTREE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum hpct_dir {
	HPCT_ROOT,
	HPCT_ADMIN,
	HPCT_NODES,   /* nodes/ */
	HPCT_NODE,    /* nodes/ID/ */
	HPCT_DECAY,
	HPCT_PROCS,   /* proc/ */
	HPCT_PROC,    /* proc/PID/ */
	HPCT_REMOTES, /* remote/ */
	HPCT_REMOTE,  /* remote/PID/ */
};

/* who may write a file */
enum hpct_perm {
	HPCT_RO,    /* nobody */
	HPCT_ROOTONLY, /* root: the node's configuration */
	HPCT_OWNER, /* root or the process's owner */
	HPCT_SELF,  /* anyone, for their own process (decay/) */
};

/* what a file needs from the daemon (or from /proc) to be read */
enum hpct_src {
	HPCT_SRC_STATUS, /* {"cmd":"status"} */
	HPCT_SRC_MAP,    /* {"cmd":"map"} */
	HPCT_SRC_WHERE,  /* {"cmd":"where","pid":...}: the directory's pid, or the caller's */
	HPCT_SRC_PROCFS, /* /proc/PID/FILE of the guest's local process */
};

struct hpct_file {
	const char *name;
	enum hpct_perm perm;
	enum hpct_src src;
	bool apply_at_close; /* a write is collected and applied at close (config) */
};

struct hpct_path {
	enum hpct_dir dir;           /* the directory, or the file's directory */
	const struct hpct_file *file; /* NULL: the path is the directory itself */
	bool self_link;              /* proc/self */
	long id;                     /* node id (nodes/ID) or pid (proc/PID, remote/PID) */
};

/* Split PATH ("/", "/nodes/3/load", ...) by syntax only; whether node 3
 * exists is hpct_exists()'s question. 0 or -ENOENT. */
int hpct_parse(const char *path, struct hpct_path *out) __attribute__((warn_unused_result));

/* What the daemon said, for the path at hand (fields may be NULL when not
 * needed). "guests" entries of status carry "pid" (their local pid) added by
 * the caller. */
struct hpct_model {
	json_t *status; /* status reply */
	json_t *map;    /* map reply */
	json_t *procs;  /* procs reply (listing proc/) */
	json_t *where;  /* where reply for the pid in question (ok true), or NULL */
};

/* Does the directory p (NODE, PROC, REMOTE) exist in the model? */
bool hpct_exists(const struct hpct_path *p, const struct hpct_model *m);

/* The guest entry of remote/PID, or NULL. */
json_t *hpct_guest(json_t *status, long pid);

/* File's permission bits (0444, 0644, 0666) */
unsigned hpct_mode(const struct hpct_file *f);

/* List directory d: calls add(arg, name, is_dir) for each entry. */
void hpct_list(const struct hpct_path *p, const struct hpct_model *m,
	void (*add)(void *arg, const char *name, bool is_dir), void *arg);

/* The text of file p (with a final newline) into buf; returns its length,
 * -ENOENT if the model lacks it, -ENOSPC if cap is too small. Files with
 * HPCT_SRC_PROCFS are the caller's business (-EINVAL here). */
int hpct_read(const struct hpct_path *p, const struct hpct_model *m, char *buf, size_t cap)
	__attribute__((warn_unused_result));

/* The control request that writing DATA (LEN bytes) to file p means, acting
 * on process pid (the directory's, or for decay/ the writer's) for user
 * as_uid. *req gets the request (caller owns it), or NULL for a write that
 * changes nothing. 0, or -EINVAL / -EACCES with a one-line reason in msg. */
int hpct_write(const struct hpct_path *p, const struct hpct_model *m, const char *data,
	size_t len, long pid, long as_uid, json_t **req, char *msg, size_t cap)
	__attribute__((warn_unused_result));

#endif
