/* test_hpctree: the hpc tree's paths, reads and writes over a fixed model. */
#include "fs/hpctree.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdlib.h>

static const char *status_json =
	"{\"ok\":true,\"version\":\"openMosix (user space) 0.1\","
	"\"self\":{\"id\":1,\"up\":true,\"admin\":{\"stay\":false,\"lstay\":true,\"block\":true,"
	"\"quiet\":false,\"nomfs\":false,\"speed\":12345,\"decay_interval\":2,\"slow_decay\":975,"
	"\"fast_decay\":926}},"
	"\"nodes\":[{\"id\":1,\"self\":true,\"state\":\"alive\",\"load\":0.5,\"ncpus\":2,"
	"\"speed\":12345,\"util\":100,\"tmem\":1000,\"mem\":800,\"rmem\":700,\"status\":[\"up\",\"block\"],"
	"\"addr\":\"10.0.0.1\"},"
	"{\"id\":2,\"self\":false,\"state\":\"dead\",\"addr\":\"10.0.0.2\"}],"
	"\"guests\":[{\"home\":1,\"home_pid\":77,\"uid\":1000,\"comm\":\"loop\",\"server_pid\":90,"
	"\"pid\":91}]}";

static const char *where_json =
	"{\"ok\":true,\"pid\":77,\"where\":2,\"under_care\":true,\"home\":1,\"nmigs\":3,\"lock\":true,"
	"\"uid\":1000,\"decay\":\"cpu\",\"migfilter\":1,\"migpolicy\":0,\"mignodes\":\"2-3\","
	"\"cantmove\":\"\"}";

static struct hpct_model M;

static const char *rd(const char *path)
{
	static char buf[4096];
	struct hpct_path p;
	int n;

	if (hpct_parse(path, &p))
		return "(no such path)";
	n = hpct_read(&p, &M, buf, sizeof(buf));
	if (n < 0)
		snprintf(buf, sizeof(buf), "(error %d)", n);
	return buf;
}

/* the request a write makes, compact JSON, or "(error N: msg)" */
static const char *wr(const char *path, const char *data, long pid, long uid)
{
	static char out[1024];
	char msg[256] = "";
	struct hpct_path p;
	json_t *req = NULL;
	int err;

	if (hpct_parse(path, &p))
		return "(no such path)";
	err = hpct_write(&p, &M, data, strlen(data), pid, uid, &req, msg, sizeof(msg));
	if (err) {
		snprintf(out, sizeof(out), "(error %d: %s)", err, msg);
	} else if (!req) {
		snprintf(out, sizeof(out), "(nothing)");
	} else {
		char *s = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);

		snprintf(out, sizeof(out), "%s", s);
		free(s);
	}
	json_decref(req);
	return out;
}

static void names(void *arg, const char *name, bool is_dir)
{
	char *s = arg;

	strcat(s, name);
	strcat(s, is_dir ? "/ " : " ");
}

static const char *ls(const char *path)
{
	static char buf[1024];
	struct hpct_path p;

	buf[0] = '\0';
	if (hpct_parse(path, &p))
		return "(no such path)";
	hpct_list(&p, &M, names, buf);
	return buf;
}

int main(void)
{
	struct hpct_path p;

	M.status = json_loads(status_json, 0, NULL);
	M.where = json_loads(where_json, 0, NULL);
	M.procs = json_loads("{\"ok\":true,\"procs\":[{\"pid\":77}]}", 0, NULL);
	M.map = json_loads("{\"ok\":true,\"map\":\"1 10.0.0.1 2\\n\"}", 0, NULL);
	ok(M.status && M.where && M.procs && M.map, "fixtures parse");

	/* paths */
	ok(hpct_parse("/", &p) == 0 && p.dir == HPCT_ROOT && !p.file, "/ is the root");
	ok(hpct_parse("/nodes/2/load", &p) == 0 && p.dir == HPCT_NODE && p.id == 2 && p.file,
		"/nodes/2/load");
	ok(hpct_parse("/proc/self", &p) == 0 && p.self_link, "/proc/self is a link");
	is_int(hpct_parse("/nodes/02", &p), -ENOENT, "no leading zeros");
	is_int(hpct_parse("/nodes/x", &p), -ENOENT, "ids are numbers");
	is_int(hpct_parse("/admin/nosuch", &p), -ENOENT, "unknown admin file");
	is_int(hpct_parse("/admin/block/x", &p), -ENOENT, "a file has no children");
	is_int(hpct_parse("/proc/77/where/x/y", &p), -ENOENT, "too deep");
	is_int(hpct_parse("/bogus", &p), -ENOENT, "unknown top level");
	ok(hpct_parse("//admin//block/", &p) == 0 && p.file, "extra slashes are fine");

	/* listings */
	is_str(ls("/"), "admin/ decay/ nodes/ proc/ remote/ ", "the top level");
	is_str(ls("/nodes"), "1/ 2/ ", "nodes/ from status");
	is_str(ls("/proc"), "self 77/ ", "proc/: self and the processes under care");
	is_str(ls("/remote"), "91/ ", "remote/: the guests' local pids");
	is_str(ls("/decay"), "clear cpujob fast iojob slow ", "decay/");

	/* reads */
	is_str(rd("/admin/block"), "1\n", "admin/block");
	is_str(rd("/admin/stay"), "0\n", "admin/stay");
	is_str(rd("/admin/lstay"), "1\n", "admin/lstay");
	is_str(rd("/admin/speed"), "12345\n", "admin/speed");
	is_str(rd("/admin/decay-interval"), "2\n", "admin/decay-interval");
	is_str(rd("/admin/mospe"), "1\n", "admin/mospe");
	is_str(rd("/admin/bring"), "0\n", "admin/bring reads 0");
	is_str(rd("/admin/config"), "1 10.0.0.1 2\n", "admin/config is the map");
	is_str(rd("/admin/version"), "openMosix (user space) 0.1\n", "admin/version");
	is_str(rd("/nodes/1/load"), "0.50\n", "nodes/1/load as mosctl getload");
	is_str(rd("/nodes/1/CPUs"), "2\n", "nodes/1/CPUs");
	is_str(rd("/nodes/1/mem"), "800\n", "nodes/1/mem");
	is_str(rd("/nodes/1/status"), "alive up block\n", "nodes/1/status");
	is_str(rd("/nodes/2/load"), "-1\n", "a dead node's load: -1");
	is_str(rd("/nodes/2/status"), "dead\n", "a dead node's status");
	ok(hpct_parse("/nodes/9", &p) == 0 && !hpct_exists(&p, &M), "nodes/9 does not exist");
	is_str(rd("/proc/77/where"), "2\n", "proc/PID/where");
	is_str(rd("/proc/77/lock"), "1\n", "proc/PID/lock");
	is_str(rd("/proc/77/nmigs"), "3\n", "proc/PID/nmigs");
	is_str(rd("/proc/77/mignodes"), "2-3\n", "proc/PID/mignodes");
	is_str(rd("/proc/77/cantmove"), "", "proc/PID/cantmove: empty when it can move");
	is_str(rd("/decay/cpujob"), "1\n", "decay/cpujob: the reader's hint");
	is_str(rd("/decay/iojob"), "0\n", "decay/iojob");
	is_str(rd("/remote/91/from"), "1 10.0.0.1\n", "remote/PID/from: id and address");
	is_str(rd("/remote/91/identity"), "node 1 pid 77 uid 1000 comm loop\n",
		"remote/PID/identity");

	/* writes */
	is_str(wr("/admin/block", "0\n", 0, 0), "{\"cmd\":\"set\",\"key\":\"block\",\"value\":false}",
		"echo 0 > admin/block");
	is_str(wr("/admin/bring", "1\n", 0, 0), "{\"cmd\":\"bring\"}", "echo 1 > admin/bring");
	is_str(wr("/admin/bring", "0", 0, 0), "(nothing)", "echo 0 > admin/bring does nothing");
	is_str(wr("/admin/speed", " 900 \n", 0, 0), "{\"cmd\":\"setspeed\",\"value\":900}",
		"admin/speed");
	is_str(wr("/admin/slow-decay", "900", 0, 0),
		"{\"cmd\":\"setdecay\",\"fast\":926,\"interval\":2,\"slow\":900}",
		"slow-decay keeps the interval and fast decay");
	is_str(wr("/admin/mospe", "0", 0, 0), "{\"cmd\":\"off\"}", "echo 0 > mospe leaves");
	is_str(wr("/admin/mospe", "3", 0, 0),
		"(error -22: only 0 may be written to mospe (leave the cluster))", "mospe 3 refused");
	is_str(wr("/admin/block", "yes", 0, 0), "(error -22: write 1 (on) or 0 (off))",
		"a bad value: a clear error");
	is_str(wr("/admin/version", "1", 0, 0), "(error -13: )", "version is read-only");
	is_str(wr("/nodes/1/load", "1", 0, 0), "(error -13: )", "nodes/ is read-only");
	is_str(wr("/proc/77/goto", "3\n", 77, 1000),
		"{\"as_uid\":1000,\"cmd\":\"migrate\",\"pid\":77,\"target\":3}", "goto 3");
	is_str(wr("/proc/77/goto", "0", 77, 1000),
		"{\"as_uid\":1000,\"cmd\":\"migrate\",\"pid\":77,\"target\":\"home\"}", "goto 0 = home");
	is_str(wr("/proc/77/lock", "0", 77, 0),
		"{\"as_uid\":0,\"cmd\":\"setproc\",\"lock\":false,\"pid\":77}", "lock 0");
	is_str(wr("/proc/77/mignodes", "1,3-5", 77, 5),
		"{\"as_uid\":5,\"cmd\":\"setproc\",\"mignodes\":\"1,3-5\",\"pid\":77}", "mignodes");
	is_str(wr("/proc/77/migpolicy", "2", 77, 5), "(error -22: write 1 or 0)", "migpolicy 2");
	is_str(wr("/decay/clear", "1", 55, 1000),
		"{\"as_uid\":1000,\"cmd\":\"setproc\",\"decay\":\"\",\"pid\":55}",
		"decay/clear on the writer's process");
	is_str(wr("/decay/iojob", "1", 55, 1000),
		"{\"as_uid\":1000,\"cmd\":\"setproc\",\"decay\":\"io\",\"pid\":55}", "decay/iojob");
	is_str(wr("/admin/config", "1 10.0.0.1 3\n", 0, 0),
		"{\"cmd\":\"setmap\",\"source\":\"hpc/admin/config\",\"text\":\"1 10.0.0.1 3\\n\"}",
		"admin/config: the written map");

	json_decref(M.status);
	json_decref(M.where);
	json_decref(M.procs);
	json_decref(M.map);
	return tap_done();
}
