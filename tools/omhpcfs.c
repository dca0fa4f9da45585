/* omhpcfs: the hpc tree, a FUSE filesystem with the layout of the original's
 * /proc/hpc (see omhpcfs(8)). omd starts it at DIR/hpc; it runs as root.
 *
 * Every read and write goes through the daemon's control socket (the same
 * requests as mosctl): this program only maps paths to requests
 * (fs/hpctree.c) and checks who writes. The writer's uid and process come
 * from the FUSE request; per-process writes carry "as_uid", so the daemon
 * applies its owner check to the writer, not to us.
 */
#define FUSE_USE_VERSION 31
#include "fs/hpctree.h"
#include "lib/util.h"
#include "tools/common/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONFIG (1 << 20)

static const char *prog = "omhpcfs";

static void usage(FILE *fp)
{
	fprintf(fp, "Usage: omhpcfs [-d DIR] [--report-fd FD] MOUNTPOINT\n"
		    "\n"
		    "Mounts the hpc tree (the layout of openMosix's /proc/hpc) at MOUNTPOINT and\n"
		    "serves it from the daemon of DIR (default: $OPENMOSIX_DIR or /run/openmosix)\n"
		    "until SIGTERM. omd starts it at DIR/hpc; you rarely run it yourself.\n"
		    "  -d, --dir DIR     the daemon's state directory\n"
		    "  --report-fd FD    write \"ok\" or the reason for failing to FD once mounted\n"
		    "See omhpcfs(8).\n");
}

/* --- the caller ----------------------------------------------------------- */

/* the process (thread group) of a thread id */
static pid_t tgid_of(pid_t tid)
{
	char path[64], buf[2048], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_file(path, buf, sizeof(buf)) > 0 && (p = strstr(buf, "\nTgid:")))
		return (pid_t)strtol(p + 6, NULL, 10);
	return tid;
}

static void caller(pid_t *pid, uid_t *uid)
{
	struct fuse_context *cx = fuse_get_context();

	*uid = cx->uid;
	*pid = tgid_of(cx->pid);
}

/* --- daemon calls ---------------------------------------------------------- */

/* Send req (consumed); the reply when ok, else NULL with *err = -errno and
 * the daemon's reason logged to stderr (visible with omd -n). */
static json_t *call(json_t *req, int *err)
{
	json_t *r = NULL;
	int e = req ? client_call(req, &r) : -ENOMEM;
	json_t *cmd = json_object_get(req, "cmd");

	if (e) {
		*err = (e == -ENOENT || e == -ECONNREFUSED) ? -ENOTCONN : e;
		json_decref(req);
		return NULL;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		long code = (long)json_integer_value(json_object_get(r, "errno"));
		const char *why = json_string_value(json_object_get(r, "error"));

		*err = code < 0 && code > -4096 ? (int)code : -EIO;
		fprintf(stderr, "%s: %s: %s\n", prog, json_string_value(cmd) ?: "?", why ?: "refused");
		json_decref(r);
		json_decref(req);
		return NULL;
	}
	json_decref(req);
	*err = 0;
	return r;
}

static json_t *where(pid_t pid)
{
	int err;

	return call(json_pack("{s:s,s:I}", "cmd", "where", "pid", (json_int_t)pid), &err);
}

/* remote/PID names the guest's own process here: the child of its server */
static void name_guests(json_t *status)
{
	json_t *g;
	size_t i;

	json_array_foreach(json_object_get(status, "guests"), i, g) {
		long server = (long)json_integer_value(json_object_get(g, "server_pid"));
		long pid = server;
		char path[96], buf[256];

		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", server, server);
		if (read_file(path, buf, sizeof(buf)) > 0 && atol(buf) > 0)
			pid = atol(buf);
		json_object_set_new(g, "pid", json_integer(pid));
	}
}

struct ctx {
	struct hpct_path p;
	struct hpct_model m;
	pid_t pid;   /* the process in question: proc/PID's, or the caller's for decay/ */
	uid_t owner; /* its owner (proc/PID) */
};

static void ctx_free(struct ctx *c)
{
	json_decref(c->m.status);
	json_decref(c->m.map);
	json_decref(c->m.procs);
	json_decref(c->m.where);
}

/* Parse path and ask the daemon what it needs to exist (and, with content,
 * to be read). 0 or -errno. */
static int ctx_load(const char *path, struct ctx *c, bool content)
{
	uid_t uid;
	int err = 0;

	memset(c, 0, sizeof(*c));
	if (hpct_parse(path, &c->p))
		return -ENOENT;
	switch (c->p.dir) {
	case HPCT_NODES:
	case HPCT_NODE:
	case HPCT_REMOTES:
	case HPCT_REMOTE:
		c->m.status = call(json_pack("{s:s}", "cmd", "status"), &err);
		if (c->m.status)
			name_guests(c->m.status);
		break;
	case HPCT_ADMIN:
		if (!content || !c->p.file)
			break;
		if (c->p.file->src == HPCT_SRC_MAP)
			c->m.map = call(json_pack("{s:s}", "cmd", "map"), &err);
		c->m.status = err ? NULL : call(json_pack("{s:s}", "cmd", "status"), &err);
		break;
	case HPCT_PROCS:
		if (content && !c->p.self_link)
			c->m.procs = call(json_pack("{s:s}", "cmd", "procs"), &err);
		break;
	case HPCT_PROC:
		c->pid = (pid_t)c->p.id;
		c->m.where = where(c->pid);
		if (!c->m.where)
			return -ENOENT;
		if (json_object_get(c->m.where, "uid")) {
			c->owner = (uid_t)json_integer_value(json_object_get(c->m.where, "uid"));
		} else {
			struct stat st;
			char d[32];

			snprintf(d, sizeof(d), "/proc/%d", (int)c->pid);
			c->owner = stat(d, &st) ? 0 : st.st_uid;
		}
		break;
	case HPCT_DECAY:
		caller(&c->pid, &uid);
		if (content && c->p.file)
			c->m.where = where(c->pid); /* NULL: reads as 0 */
		break;
	default:
		break;
	}
	if (err)
		return err;
	if (!hpct_exists(&c->p, &c->m))
		return -ENOENT;
	return 0;
}

/* may the caller write file c->p? */
static int may_write(const struct ctx *c)
{
	uid_t uid;
	pid_t pid;

	caller(&pid, &uid);
	switch (c->p.file->perm) {
	case HPCT_RO:
		return -EACCES;
	case HPCT_ROOTONLY:
		return uid == 0 ? 0 : -EACCES;
	case HPCT_OWNER:
		return uid == 0 || uid == c->owner ? 0 : -EACCES;
	case HPCT_SELF:
		return 0;
	}
	return -EACCES;
}

/* --- FUSE operations ------------------------------------------------------- */

static int hpc_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct ctx c;
	int err = ctx_load(path, &c, false);

	if (err) {
		ctx_free(&c);
		return err;
	}
	memset(st, 0, sizeof(*st));
	st->st_uid = 0;
	st->st_gid = 0;
	st->st_mtime = st->st_atime = st->st_ctime = time(NULL);
	if (c.p.self_link) {
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = 10;
	} else if (!c.p.file) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | hpct_mode(c.p.file);
		st->st_nlink = 1;
		if (c.p.dir == HPCT_PROC)
			st->st_uid = c.owner;
		st->st_size = 0; /* like /proc: read to find out (direct I/O) */
	}
	ctx_free(&c);
	return 0;
}

static int hpc_readlink(const char *path, char *buf, size_t size)
{
	struct hpct_path p;
	uid_t uid;
	pid_t pid;

	if (hpct_parse(path, &p) || !p.self_link)
		return -EINVAL;
	caller(&pid, &uid);
	snprintf(buf, size, "%d", (int)pid);
	return 0;
}

struct lister {
	void *buf;
	fuse_fill_dir_t fill;
};

static void list_add(void *arg, const char *name, bool is_dir)
{
	struct lister *l = arg;

	l->fill(l->buf, name, NULL, 0, 0);
}

static int hpc_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
	struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct ctx c;
	struct lister l = { buf, fill };
	int err = ctx_load(path, &c, true);

	if (!err && c.p.file)
		err = -ENOTDIR;
	if (!err) {
		fill(buf, ".", NULL, 0, 0);
		fill(buf, "..", NULL, 0, 0);
		hpct_list(&c.p, &c.m, list_add, &l);
	}
	ctx_free(&c);
	return err;
}

struct open_file {
	struct hpct_path p;
	char *text; /* what a read sees: taken at open */
	size_t len;
	char *w;    /* collected writes (apply_at_close) */
	size_t wlen;
};

/* the contents of remote/PID/statm and stats: the guest's own process */
static int read_procfs(const struct ctx *c, char *buf, size_t cap)
{
	json_t *g = hpct_guest(c->m.status, c->p.id);
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%lld/%s",
		(long long)json_integer_value(json_object_get(g, "pid")),
		!strcmp(c->p.file->name, "stats") ? "stat" : "statm");
	n = read_file(path, buf, cap);
	return n < 0 ? (int)n : (int)n;
}

static int hpc_open(const char *path, struct fuse_file_info *fi)
{
	struct ctx c;
	struct open_file *of;
	int err = ctx_load(path, &c, (fi->flags & O_ACCMODE) != O_WRONLY);

	if (!err && !c.p.file)
		err = -EISDIR;
	if (!err && (fi->flags & O_ACCMODE) != O_RDONLY)
		err = may_write(&c);
	if (err)
		goto out;
	of = calloc(1, sizeof(*of));
	if (!of) {
		err = -ENOMEM;
		goto out;
	}
	of->p = c.p;
	if ((fi->flags & O_ACCMODE) != O_WRONLY) {
		size_t cap = 1 << 20;
		int n;

		of->text = malloc(cap);
		n = !of->text ? -ENOMEM :
			c.p.file->src == HPCT_SRC_PROCFS ? read_procfs(&c, of->text, cap) :
			hpct_read(&c.p, &c.m, of->text, cap);
		if (n < 0) {
			free(of->text);
			free(of);
			err = n;
			goto out;
		}
		of->len = (size_t)n;
	}
	fi->fh = (uint64_t)(uintptr_t)of;
	fi->direct_io = 1;
	fi->nonseekable = 0;
out:
	ctx_free(&c);
	return err;
}

static int hpc_read(const char *path, char *buf, size_t size, off_t off,
	struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	if (!of->text)
		return -EBADF;
	if (off < 0 || (size_t)off >= of->len)
		return 0;
	if (size > of->len - (size_t)off)
		size = of->len - (size_t)off;
	memcpy(buf, of->text + off, size);
	return (int)size;
}

/* turn written data into the daemon's request and send it */
static int apply(const char *path, const char *data, size_t len)
{
	struct ctx c;
	char msg[256] = "";
	json_t *req = NULL, *r;
	uid_t uid;
	pid_t pid;
	int err = ctx_load(path, &c, true);

	if (err)
		goto out;
	caller(&pid, &uid);
	err = hpct_write(&c.p, &c.m, data, len, c.p.dir == HPCT_DECAY ? pid : c.pid, (long)uid,
		&req, msg, sizeof(msg));
	if (err) {
		if (*msg)
			fprintf(stderr, "%s: %s: %s\n", prog, path, msg);
		goto out;
	}
	if (req) {
		r = call(req, &err);
		json_decref(r);
	}
out:
	ctx_free(&c);
	return err;
}

static int hpc_write(const char *path, const char *data, size_t size, off_t off,
	struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	int err;

	if (of->p.file->apply_at_close) {
		if (of->wlen + size > MAX_CONFIG)
			return -EFBIG;
		char *w = realloc(of->w, of->wlen + size + 1);

		if (!w)
			return -ENOMEM;
		memcpy(w + of->wlen, data, size);
		of->w = w;
		of->wlen += size;
		return (int)size;
	}
	err = apply(path, data, size);
	return err ? err : (int)size;
}

static int hpc_flush(const char *path, struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	int err = 0;

	if (of->w && of->wlen) {
		err = apply(path, of->w, of->wlen);
		of->wlen = 0;
	}
	return err;
}

static int hpc_release(const char *path, struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	free(of->text);
	free(of->w);
	free(of);
	return 0;
}

/* O_TRUNC before a write ("echo 1 > file"): nothing to cut */
static int hpc_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct ctx c;
	int err = ctx_load(path, &c, false);

	if (!err && !c.p.file)
		err = -EISDIR;
	if (!err)
		err = may_write(&c);
	ctx_free(&c);
	return err;
}

static void *hpc_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* nothing is cached: every look-up and read asks the daemon */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	return NULL;
}

static const struct fuse_operations hpc_ops = {
	.init = hpc_init,
	.getattr = hpc_getattr,
	.readlink = hpc_readlink,
	.readdir = hpc_readdir,
	.open = hpc_open,
	.read = hpc_read,
	.write = hpc_write,
	.flush = hpc_flush,
	.release = hpc_release,
	.truncate = hpc_truncate,
};

/* --- main ------------------------------------------------------------------ */

static int report_fd = -1;

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (strcmp(line, "ok"))
		fprintf(stderr, "%s: %s\n", prog, line);
	if (report_fd < 0)
		return;
	line[n++] = '\n';
	if (write(report_fd, line, (size_t)n) != n)
		fprintf(stderr, "%s: cannot report to omd\n", prog);
	close(report_fd);
	report_fd = -1;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *mnt = NULL;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse *f;
	struct stat st;
	long fd;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("omhpcfs 0.1\n");
			return 0;
		} else if ((!strcmp(a, "-d") || !strcmp(a, "--dir")) && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(a, "--report-fd") && i + 1 < argc) {
			if (parse_long(argv[++i], 0, 1 << 20, &fd))
				goto bad;
			report_fd = (int)fd;
		} else if (a[0] != '-' && !mnt) {
			mnt = a;
		} else {
			goto bad;
		}
	}
	if (!mnt)
		goto bad;
	if (dir && setenv("OPENMOSIX_DIR", dir, 1))
		return EXIT_FAIL;
	client_timeout_ms = 120000; /* goto waits for the migration */

	/* OM_FUSE_DEV: the device to check, for tests of a node without FUSE */
	const char *dev = getenv("OM_FUSE_DEV") ? getenv("OM_FUSE_DEV") : "/dev/fuse";

	if (access(dev, R_OK | W_OK)) {
		report("FUSE is unavailable (%s: %s)", dev, strerror(errno));
		return EXIT_FAIL;
	}
	/* a tree left by a daemon that died: take it away first */
	if (stat(mnt, &st) && errno == ENOTCONN)
		umount2(mnt, MNT_DETACH);
	if (mkdir(mnt, 0755) && errno != EEXIST) {
		report("cannot create %s: %s", mnt, strerror(errno));
		return EXIT_FAIL;
	}
	if (fuse_opt_add_arg(&args, prog) || fuse_opt_add_arg(&args, "-o") ||
		fuse_opt_add_arg(&args, geteuid() == 0 ?
			"allow_other,default_permissions,fsname=omhpcfs,subtype=hpc" :
			"default_permissions,fsname=omhpcfs,subtype=hpc")) {
		report("out of memory");
		return EXIT_FAIL;
	}
	f = fuse_new(&args, &hpc_ops, sizeof(hpc_ops), NULL);
	if (!f) {
		report("FUSE refused its options");
		fuse_opt_free_args(&args);
		return EXIT_FAIL;
	}
	if (fuse_mount(f, mnt)) {
		report("cannot mount a FUSE filesystem at %s (is FUSE available?)", mnt);
		fuse_destroy(f);
		fuse_opt_free_args(&args);
		return EXIT_FAIL;
	}
	if (fuse_set_signal_handlers(fuse_get_session(f))) {
		report("cannot set signal handlers");
		fuse_unmount(f);
		fuse_destroy(f);
		fuse_opt_free_args(&args);
		return EXIT_FAIL;
	}
	report("ok");
	rc = fuse_loop_mt(f, 0);
	fuse_remove_signal_handlers(fuse_get_session(f));
	fuse_unmount(f);
	fuse_destroy(f);
	fuse_opt_free_args(&args);
	/* the loop returns the signal that ended it, or -errno */
	return rc < 0 ? EXIT_FAIL : 0;
bad:
	fprintf(stderr, "%s: bad usage\n", prog);
	usage(stderr);
	return EXIT_USAGE;
}
