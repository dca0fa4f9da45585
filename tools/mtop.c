/* mtop: top with a NODE column (see mtop(1)): the busiest processes of this
 * node, and for each process under the cluster's care the node it runs on
 * (the daemon's "procs" query, as mps and mosctl where read it).
 *
 * As in mosmon: sampling (sample()), drawing the frame into lines (render(),
 * pure) and keys (handle_key()) are separate, so --batch prints exactly what
 * the screen shows.
 */
#include "lib/util.h"
#include "tools/common/client.h"
#include "tools/common/pinfo.h"

#include <ctype.h>
#include <stdarg.h>
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

enum sort_key { S_CPU, S_MEM, S_TIME, S_PID, S_NODE };

struct trow {
	struct pinfo pi;
	long node;   /* 0 = here, else the node it runs on */
	bool care;   /* under the cluster's care */
	double cpu;  /* % of one CPU since the last sample */
	double mem;  /* % of the node's memory */
};

struct prev {
	int pid;
	unsigned long long ticks;
};

struct top {
	struct trow *rows;
	size_t n;
	struct prev *prev; /* the last sample's ticks, by pid */
	size_t nprev;
	uint64_t prev_ms;
	/* the cluster, from the daemon */
	bool have_daemon;
	char error[256];
	long self_id, nodes_alive, nodes_total;
	double cluster_load;
	/* the host */
	double loadavg[3];
	double uptime;
	long mem_total_kb, mem_avail_kb;
	unsigned running;
	/* what to show (options and keys) */
	enum sort_key sort;
	bool care_only;   /* o */
	long want_uid;    /* -u, -1 = everyone */
	long want[64];    /* -p */
	size_t nwant;
	size_t first;     /* scrolling */
	bool help;
};

/* --- sampling ---------------------------------------------------------------- */

static bool wanted(const struct top *t, const struct pinfo *pi)
{
	if (t->nwant) {
		for (size_t i = 0; i < t->nwant; i++)
			if (t->want[i] == pi->pid)
				return true;
		return false;
	}
	return t->want_uid < 0 || (long)pi->uid == t->want_uid;
}

static unsigned long long prev_ticks(const struct top *t, int pid, bool *found)
{
	for (size_t i = 0; i < t->nprev; i++)
		if (t->prev[i].pid == pid) {
			*found = true;
			return t->prev[i].ticks;
		}
	*found = false;
	return 0;
}

static void sample_host(struct top *t)
{
	char buf[4096], *p;

	if (read_file("/proc/loadavg", buf, sizeof(buf)) > 0)
		sscanf(buf, "%lf %lf %lf", &t->loadavg[0], &t->loadavg[1], &t->loadavg[2]);
	if (read_file("/proc/uptime", buf, sizeof(buf)) > 0)
		t->uptime = atof(buf);
	if (read_file("/proc/meminfo", buf, sizeof(buf)) > 0) {
		if ((p = strstr(buf, "MemTotal:")))
			t->mem_total_kb = atol(p + 9);
		if ((p = strstr(buf, "MemAvailable:")))
			t->mem_avail_kb = atol(p + 13);
	}
}

/* the daemon's view: where each process under care runs, and the cluster */
static json_t *sample_daemon(struct top *t)
{
	json_t *req = json_pack("{s:s}", "cmd", "procs"), *pr = NULL, *st = NULL, *n;
	int err = client_call(req, &pr);
	size_t i;

	json_decref(req);
	t->have_daemon = false;
	if (err || !json_is_true(json_object_get(pr, "ok"))) {
		snprintf(t->error, sizeof(t->error), "%s",
			err == -ENOENT || err == -ECONNREFUSED || err == -EACCES ?
			"no openMosix daemon: NODE shows 0 for every process" :
			"cannot read the daemon: NODE shows 0 for every process");
		json_decref(pr);
		return NULL;
	}
	req = json_pack("{s:s}", "cmd", "status");
	err = client_call(req, &st);
	json_decref(req);
	if (err || !json_is_true(json_object_get(st, "ok"))) {
		json_decref(st);
		json_decref(pr);
		snprintf(t->error, sizeof(t->error), "cannot read the daemon's status");
		return NULL;
	}
	t->have_daemon = true;
	t->error[0] = '\0';
	t->self_id = (long)json_integer_value(json_object_get(json_object_get(st, "self"), "id"));
	t->nodes_total = t->nodes_alive = 0;
	t->cluster_load = 0;
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		const char *s = json_string_value(json_object_get(n, "state"));

		t->nodes_total++;
		if (s && (!strcmp(s, "alive") || !strcmp(s, "suspect"))) {
			t->nodes_alive++;
			t->cluster_load += json_number_value(json_object_get(n, "load"));
		}
	}
	json_decref(st);
	return pr;
}

static void sample(struct top *t)
{
	json_t *pr = sample_daemon(t), *procs = json_object_get(pr, "procs"), *o;
	uint64_t now = now_ms();
	double secs = t->prev_ms ? (double)(now - t->prev_ms) / 1000.0 : 0;
	long hz = sysconf(_SC_CLK_TCK);
	size_t cap = 256, k;
	struct prev *np;
	DIR *d = opendir("/proc");
	struct dirent *de;

	sample_host(t);
	free(t->rows);
	t->rows = calloc(cap, sizeof(*t->rows));
	t->n = 0;
	t->running = 0;
	np = calloc(cap, sizeof(*np));
	while (d && t->rows && np && (de = readdir(d))) {
		struct trow r = { .node = 0 };
		unsigned long long before;
		bool found;

		if (!isdigit((unsigned char)de->d_name[0]) || pinfo_read(atoi(de->d_name), &r.pi))
			continue;
		if (r.pi.state == 'R')
			t->running++;
		before = prev_ticks(t, r.pi.pid, &found);
		if (secs > 0 && found && r.pi.ticks >= before)
			r.cpu = (double)(r.pi.ticks - before) * 100.0 / ((double)hz * secs);
		else if (t->uptime > 0 && r.pi.start / (unsigned long long)hz < t->uptime)
			r.cpu = (double)r.pi.ticks * 100.0 /
				((double)hz * (t->uptime - (double)r.pi.start / (double)hz) + 1);
		if (t->mem_total_kb)
			r.mem = (double)r.pi.rss_kb * 100.0 / (double)t->mem_total_kb;
		json_array_foreach(procs, k, o)
			if (json_integer_value(json_object_get(o, "pid")) == r.pi.pid) {
				long where = (long)json_integer_value(json_object_get(o, "where"));

				r.care = true;
				r.node = where == t->self_id ? 0 : where;
			}
		if (t->n == cap) {
			struct trow *nr = realloc(t->rows, cap * 2 * sizeof(*nr));

			if (!nr)
				break;
			t->rows = nr;
			struct prev *pp = realloc(np, cap * 2 * sizeof(*pp));

			if (!pp)
				break;
			np = pp;
			cap *= 2;
		}
		np[t->n] = (struct prev){ r.pi.pid, r.pi.ticks };
		t->rows[t->n++] = r;
	}
	if (d)
		closedir(d);
	free(t->prev);
	t->prev = np;
	t->nprev = np ? t->n : 0;
	t->prev_ms = now;
	json_decref(pr);
}

/* --- rendering (pure: the model into lines) -------------------------------------- */

struct lines {
	char **l;
	size_t n, cap;
};

static void add(struct lines *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct lines *L, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (L->n == L->cap) {
		char **nl = realloc(L->l, (L->cap ? L->cap * 2 : 64) * sizeof(*nl));

		if (!nl)
			return;
		L->l = nl;
		L->cap = L->cap ? L->cap * 2 : 64;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		L->l[L->n++] = s;
}

static void lines_free(struct lines *L)
{
	for (size_t i = 0; i < L->n; i++)
		free(L->l[i]);
	free(L->l);
	L->l = NULL;
	L->n = L->cap = 0;
}

static const struct top *sort_top;

static int cmp_rows(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;
	double d = 0;

	switch (sort_top->sort) {
	case S_CPU:
		d = y->cpu - x->cpu;
		break;
	case S_MEM:
		d = y->mem - x->mem;
		break;
	case S_TIME:
		d = (double)y->pi.ticks - (double)x->pi.ticks;
		break;
	case S_NODE:
		d = (double)y->node - (double)x->node;
		break;
	case S_PID:
		break;
	}
	if (d > 0)
		return 1;
	if (d < 0)
		return -1;
	return x->pi.pid - y->pi.pid;
}

static const char *user_name(unsigned uid, char *buf, size_t cap)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, cap, "%.8s", pw->pw_name);
	else
		snprintf(buf, cap, "%u", uid);
	return buf;
}

/* header lines, then the table header, then one line per shown process;
 * *table_at gets the index of the first process line */
static void render(struct top *t, struct lines *L, size_t *table_at)
{
	static const char *const sort_names[] = { "%CPU", "%MEM", "TIME", "PID", "NODE" };
	long hz = sysconf(_SC_CLK_TCK);
	time_t now = time(NULL);
	struct tm tm;
	char ts[16], user[16];
	unsigned care = 0, away = 0, shown = 0;
	long up = (long)t->uptime;

	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	for (size_t i = 0; i < t->n; i++) {
		care += t->rows[i].care;
		away += t->rows[i].node != 0;
	}
	add(L, "mtop - %s up %ld days, %2ld:%02ld, load average: %.2f, %.2f, %.2f", ts,
		up / 86400, up % 86400 / 3600, up % 3600 / 60, t->loadavg[0], t->loadavg[1],
		t->loadavg[2]);
	add(L, "Tasks: %zu total, %u running; %u under the cluster's care, %u running elsewhere",
		t->n, t->running, care, away);
	if (t->have_daemon)
		add(L, "openMosix #%ld: %ld of %ld nodes up, cluster load %.2f", t->self_id,
			t->nodes_alive, t->nodes_total, t->cluster_load);
	else
		add(L, "%s", t->error);
	add(L, "MiB Mem: %8.1f total, %8.1f available", t->mem_total_kb / 1024.0,
		t->mem_avail_kb / 1024.0);
	add(L, "sorted by %s%s   P M T N n sort  o under care only  h help  q quit",
		sort_names[t->sort], t->care_only ? ", under care only" : "");
	if (t->help) {
		add(L, "  P %%CPU  M %%MEM  T time  N pid  n node: sort by");
		add(L, "  o show only processes under the cluster's care (started with mosrun)");
		add(L, "  up/down, PgUp/PgDn scroll   q quit   h this help");
	}
	add(L, "%7s %-8s %4s %1s %5s %5s %9s  %s", "PID", "USER", "NODE", "S", "%CPU", "%MEM", "TIME+",
		"COMMAND");
	*table_at = L->n;
	sort_top = t;
	qsort(t->rows, t->n, sizeof(*t->rows), cmp_rows);
	for (size_t i = 0; i < t->n; i++) {
		const struct trow *r = &t->rows[i];
		unsigned long long cs = r->pi.ticks * 100 / (unsigned long long)hz;

		if (!wanted(t, &r->pi) || (t->care_only && !r->care))
			continue;
		shown++;
		add(L, "%7d %-8s %4ld %c %5.1f %5.1f %3llu:%02llu.%02llu  %s", r->pi.pid,
			user_name(r->pi.uid, user, sizeof(user)), r->node, r->pi.state, r->cpu,
			r->mem, cs / 6000, cs / 100 % 60, cs % 100, r->pi.cmd);
	}
}

/* --- keys ----------------------------------------------------------------------- */

/* false to quit */
static bool handle_key(struct top *t, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case 'P':
		t->sort = S_CPU;
		break;
	case 'M':
		t->sort = S_MEM;
		break;
	case 'T':
		t->sort = S_TIME;
		break;
	case 'N':
		t->sort = S_PID;
		break;
	case 'n':
		t->sort = S_NODE;
		break;
	case 'o':
		t->care_only = !t->care_only;
		t->first = 0;
		break;
	case 'h':
	case '?':
		t->help = !t->help;
		break;
	case KEY_DOWN:
		t->first++;
		break;
	case KEY_UP:
		if (t->first)
			t->first--;
		break;
	case KEY_NPAGE:
		t->first += 10;
		break;
	case KEY_PPAGE:
		t->first = t->first > 10 ? t->first - 10 : 0;
		break;
	case KEY_HOME:
		t->first = 0;
		break;
	}
	return true;
}

/* --- main ------------------------------------------------------------------------ */

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: mtop [-d SECONDS] [-p PID[,PID...]] [-u USER] [--care] [-o FIELD]\n"
		"            [-b|--batch [-n FRAMES]]\n"
		"\n"
		"top with a NODE column: 0 = the process computes here, N = it was migrated\n"
		"to node N (its home process here then uses no CPU).\n"
		"  -d SECONDS   refresh interval (default 2)\n"
		"  -p PIDS      only these processes\n"
		"  -u USER      only this user's processes\n"
		"  --care       only processes under the cluster's care (key o)\n"
		"  -o FIELD     sort by %%CPU (default), %%MEM, TIME, PID or NODE\n"
		"  -b, --batch  print frames as text (no screen); -n FRAMES (default 1)\n"
		"Keys: P M T N n sort, o under care only, arrows scroll, h help, q quit.\n"
		"See mtop(1).\n");
}

static int run_batch(struct top *t, long frames, double interval)
{
	struct lines L = { 0 };
	size_t at;

	sample(t);
	/* the first frame's %CPU is measured over a short look, like the next ones */
	usleep((useconds_t)(MIN(interval, 0.5) * 1e6));
	for (long k = 1; k <= frames; k++) {
		sample(t);
		render(t, &L, &at);
		for (size_t i = 0; i < L.n; i++)
			printf("%s\n", L.l[i]);
		printf("\n");
		fflush(stdout);
		lines_free(&L);
		if (k < frames)
			usleep((useconds_t)(interval * 1e6));
	}
	return 0;
}

static volatile sig_atomic_t got_winch;

static void on_winch(int sig)
{
	got_winch = 1;
}

static int run_tui(struct top *t, double interval)
{
	struct lines L = { 0 };
	uint64_t next = 0;
	bool running = true;
	size_t at;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "mtop: not a terminal; use --batch\n");
		return EXIT_USAGE;
	}
	signal(SIGWINCH, on_winch);
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(0);
	sample(t);
	next = now_ms() + 500; /* a first %CPU soon */
	while (running) {
		int ch;

		if (now_ms() >= next) {
			sample(t);
			next = now_ms() + (uint64_t)(interval * 1000);
		}
		if (got_winch) {
			struct winsize ws;

			got_winch = 0;
			if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
				resizeterm(ws.ws_row, ws.ws_col);
		}
		render(t, &L, &at);
		erase();
		/* the header stays; the table scrolls */
		size_t rows = L.n - at, room = LINES > (int)at ? (size_t)LINES - at : 0;

		if (t->first + room > rows)
			t->first = rows > room ? rows - room : 0;
		for (size_t i = 0, y = 0; i < L.n && (int)y < LINES; i++) {
			if (i >= at && i < at + t->first)
				continue;
			mvaddnstr((int)y++, 0, L.l[i], COLS);
		}
		refresh();
		lines_free(&L);
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int wait = (int)(next > now_ms() ? next - now_ms() : 0);

		poll(&p, 1, wait);
		while ((ch = getch()) != ERR) {
			if (ch == KEY_RESIZE)
				continue;
			if (!handle_key(t, ch)) {
				running = false;
				break;
			}
		}
	}
	endwin();
	return 0;
}

static int parse_pids(struct top *t, char *list)
{
	for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
		long v;

		if (parse_long(s, 1, 0x3fffffff, &v) || t->nwant == ARRAY_SIZE(t->want))
			return -EINVAL;
		t->want[t->nwant++] = v;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct top t = { .sort = S_CPU, .want_uid = -1 };
	bool batch = false;
	long frames = 1;
	double interval = 2.0;
	int rc;

	setlocale(LC_ALL, "");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			printf("mtop 0.1\n");
			return 0;
		} else if (!strcmp(a, "--batch") || !strcmp(a, "-b")) {
			batch = true;
		} else if (!strcmp(a, "-n") && i + 1 < argc) {
			if (parse_long(argv[++i], 1, 1000000, &frames))
				goto bad;
		} else if (!strcmp(a, "-d") && i + 1 < argc) {
			if (parse_double(argv[++i], 0.1, 3600, &interval))
				goto bad;
		} else if (!strcmp(a, "-p") && i + 1 < argc) {
			if (parse_pids(&t, argv[++i]))
				goto bad;
		} else if (!strcmp(a, "-u") && i + 1 < argc) {
			struct passwd *pw = getpwnam(argv[++i]);
			long uid;

			if (pw)
				t.want_uid = pw->pw_uid;
			else if (!parse_long(argv[i], 0, 0x7fffffff, &uid))
				t.want_uid = uid;
			else {
				fprintf(stderr, "mtop: no such user: %s\n", argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "--care")) {
			t.care_only = true;
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			static const char *const f[] = { "%CPU", "%MEM", "TIME", "PID", "NODE" };
			size_t k;

			for (k = 0; k < ARRAY_SIZE(f) && strcasecmp(argv[i + 1], f[k]) &&
				strcasecmp(argv[i + 1], f[k] + (f[k][0] == '%')); k++)
				;
			if (k == ARRAY_SIZE(f))
				goto bad;
			t.sort = (enum sort_key)k;
			i++;
		} else {
			goto bad;
		}
	}
	rc = batch ? run_batch(&t, frames, interval) : run_tui(&t, interval);
	free(t.rows);
	free(t.prev);
	return rc;
bad:
	fprintf(stderr, "mtop: bad option or value\n");
	usage(stderr);
	return EXIT_USAGE;
}
