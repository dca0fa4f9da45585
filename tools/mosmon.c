/* mosmon: the openMosix monitor (see mosmon(1)). A bar chart of load per
 * node, with views for speed, memory and utilization, as the original's.
 *
 * Sampling (client_status), the model (struct mon_node[]), drawing into a
 * text grid (render(), pure) and key handling are separate, so that the
 * interactive ncurses mode and --batch mode draw the very same frames.
 */
#include "lib/util.h"
#include "tools/common/client.h"

#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum view { V_LOAD, V_LOGLOAD, V_SPEED, V_MEM, V_RMEM, V_UTIL };
enum layout { L_AUTO, L_WIDE, L_VERT, L_TIGHT };

struct mon_node {
	long id;
	bool alive, self, quiet;
	char state[12];
	double load, capacity;
	long speed, ncpus, util, tmem, mem, rmem;
};

struct mon {
	struct mon_node *nodes;
	size_t n;
	long self_id;
	bool have_data;
	char error[256];
	/* display options: the original's keys */
	enum view view;
	enum layout layout;
	bool show_dead; /* d */
	bool total;     /* t: show the total and the number of nodes */
	size_t first;   /* index of the first node shown (scrolling, +NODE) */
	long start_node;
	bool help;
};

/* --- sampling ------------------------------------------------------------ */

static void sample(struct mon *m)
{
	json_t *req = json_pack("{s:s}", "cmd", "status"), *st = NULL, *nodes, *o;
	size_t i;
	int err = client_call(req, &st);

	json_decref(req);
	free(m->nodes);
	m->nodes = NULL;
	m->n = 0;
	m->have_data = false;
	if (err || !json_is_true(json_object_get(st, "ok"))) {
		if (err == -ENOENT || err == -ECONNREFUSED || err == -EACCES)
			snprintf(m->error, sizeof(m->error),
				"This is NOT a openMosix system! (no daemon at %s/omd.sock)",
				om_state_dir());
		else
			snprintf(m->error, sizeof(m->error), "cannot read the daemon: %s",
				err ? strerror(-err) : "refused");
		json_decref(st);
		return;
	}
	m->error[0] = '\0';
	m->self_id = (long)json_integer_value(json_object_get(json_object_get(st, "self"), "id"));
	nodes = json_object_get(st, "nodes");
	m->nodes = calloc(json_array_size(nodes) + 1, sizeof(*m->nodes));
	json_array_foreach(nodes, i, o) {
		struct mon_node *n = &m->nodes[m->n++];
		const char *s = json_string_value(json_object_get(o, "state"));

		n->id = (long)json_integer_value(json_object_get(o, "id"));
		n->self = json_is_true(json_object_get(o, "self"));
		snprintf(n->state, sizeof(n->state), "%s", s ? s : "unknown");
		n->alive = !strcmp(n->state, "alive") || !strcmp(n->state, "suspect");
		n->quiet = json_object_get(o, "load") == NULL;
		n->load = json_number_value(json_object_get(o, "load"));
		n->capacity = json_number_value(json_object_get(o, "capacity"));
		n->speed = (long)json_integer_value(json_object_get(o, "speed"));
		n->ncpus = (long)json_integer_value(json_object_get(o, "ncpus"));
		n->util = (long)json_integer_value(json_object_get(o, "util"));
		n->tmem = (long)json_integer_value(json_object_get(o, "tmem"));
		n->mem = (long)json_integer_value(json_object_get(o, "mem"));
		n->rmem = (long)json_integer_value(json_object_get(o, "rmem"));
	}
	m->have_data = true;
	json_decref(st);
}

/* --- rendering into a grid (pure) ----------------------------------------- */

struct grid {
	int w, h;
	char *c;
};

static void gput(struct grid *g, int x, int y, char ch)
{
	if (x >= 0 && y >= 0 && x < g->w && y < g->h)
		g->c[y * g->w + x] = ch;
}

static void gstr(struct grid *g, int x, int y, const char *s)
{
	for (; *s; s++, x++)
		gput(g, x, y, *s);
}

static const char *view_name(enum view v)
{
	static const char *names[] = { "Load", "Load (log scale)", "Speed", "Memory (used / total MB)",
		"Raw memory (used / total MB)", "Utilizability %" };
	return names[v];
}

/* value drawn solid, and (memory views) the total drawn with '+' */
static double node_value(const struct mon *m, const struct mon_node *n, double *total)
{
	*total = 0;
	switch (m->view) {
	case V_LOAD:
		return n->load;
	case V_LOGLOAD:
		return log10(1.0 + n->load);
	case V_SPEED:
		return (double)n->speed;
	case V_MEM:
		*total = (double)n->tmem;
		return (double)(n->tmem - n->mem);
	case V_RMEM:
		*total = (double)n->tmem;
		return (double)(n->tmem - n->rmem);
	case V_UTIL:
		return (double)n->util;
	}
	return 0;
}

static void fmt_value(const struct mon *m, double v, char *buf, size_t cap)
{
	if (m->view == V_LOAD)
		snprintf(buf, cap, "%.2f", v);
	else if (m->view == V_LOGLOAD)
		snprintf(buf, cap, "%.2f", pow(10, v) - 1);
	else
		snprintf(buf, cap, "%.0f", v);
}

/* the nodes to show: alive ones, and the dead too with 'd' */
static size_t visible(const struct mon *m, const struct mon_node **out)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->nodes[i].alive || m->show_dead)
			out[k++] = &m->nodes[i];
	return k;
}

static void render(struct mon *m, struct grid *g)
{
	const struct mon_node **vis = calloc(m->n + 1, sizeof(*vis));
	size_t nv = visible(m, vis), shown;
	int left = 9, top = 2, bottom, chart_h, colw, idrows;
	double maxv = 0, sum = 0;
	char buf[64];
	bool vertical;

	memset(g->c, ' ', (size_t)(g->w * g->h));
	snprintf(buf, sizeof(buf), "openMosix #%ld", m->self_id);
	gstr(g, 0, 0, view_name(m->view));
	gstr(g, g->w - (int)strlen(buf) - 1, 0, buf);
	if (!m->have_data || g->h < 8 || g->w < 20) {
		gstr(g, 0, 2, m->have_data ? "window too small" : m->error);
		free(vis);
		return;
	}
	if (m->start_node > 0) { /* +NODE: scroll to it once */
		for (size_t i = 0; i < nv; i++)
			if (vis[i]->id >= m->start_node) {
				m->first = i;
				break;
			}
		m->start_node = 0;
	}
	if (m->first >= nv)
		m->first = nv ? nv - 1 : 0;

	/* layout: node numbers written vertically (v, V) or across (w) */
	vertical = m->layout == L_VERT || m->layout == L_TIGHT;
	if (m->layout == L_AUTO) {
		size_t need = nv * 4;

		vertical = (int)need > g->w - left;
	}
	colw = m->layout == L_TIGHT ? 2 : vertical ? 3 : 6;
	idrows = vertical ? 5 : 1;
	bottom = g->h - 2 - idrows; /* the axis row */
	chart_h = bottom - top - 1;
	shown = (size_t)MAX(1, (g->w - left) / colw);
	if (shown > nv - m->first)
		shown = nv - m->first;

	for (size_t i = 0; i < nv; i++) {
		double t, v = node_value(m, vis[i], &t);

		maxv = MAX(maxv, MAX(v, t));
		sum += v;
	}
	if (m->view == V_LOAD)
		maxv = MAX(maxv, 1.0);
	else if (m->view == V_UTIL)
		maxv = 100;
	if (maxv <= 0)
		maxv = 1;

	/* y axis with four labels */
	for (int k = 0; k <= 4; k++) {
		int y = bottom - 1 - (chart_h - 1) * k / 4;

		fmt_value(m, maxv * k / 4, buf, sizeof(buf));
		gstr(g, 0, y, buf);
		gput(g, left - 1, y, '|');
	}
	for (int y = top; y < bottom; y++)
		if (g->c[y * g->w + left - 1] == ' ')
			gput(g, left - 1, y, '|');
	for (int x = left - 1; x < g->w; x++)
		gput(g, x, bottom, '-');

	for (size_t i = 0; i < shown; i++) {
		const struct mon_node *n = vis[m->first + i];
		int x = left + (int)i * colw, barw = MAX(1, colw - 1);
		double t, v = node_value(m, n, &t);
		int hv = (int)lround(v / maxv * chart_h), ht = (int)lround(t / maxv * chart_h);

		if (!n->alive) {
			gstr(g, x, bottom - 1, colw >= 4 ? "DEAD" : "X");
		} else if (n->quiet && m->view != V_SPEED) {
			gstr(g, x, bottom - 1, colw >= 4 ? "quiet" : "q");
		} else {
			if (hv == 0 && v > 0)
				hv = 1;
			for (int y = 0; y < ht; y++)
				for (int b = 0; b < barw; b++)
					gput(g, x + b, bottom - 1 - y, '+');
			for (int y = 0; y < hv; y++)
				for (int b = 0; b < barw; b++)
					gput(g, x + b, bottom - 1 - y, '#');
			if (!vertical && hv < chart_h) {
				fmt_value(m, v, buf, sizeof(buf));
				buf[barw] = '\0';
				gstr(g, x, bottom - 1 - hv, buf);
			}
		}
		snprintf(buf, sizeof(buf), "%ld", n->id);
		if (vertical) {
			int len = (int)strlen(buf);

			for (int d = 0; d < len && d < idrows; d++)
				gput(g, x, bottom + 1 + d, buf[d]);
		} else {
			gstr(g, x, bottom + 1, buf);
		}
	}
	gstr(g, 0, bottom + 1, vertical ? "Node" : "Node #");

	/* status line: totals (t), scrolling, keys */
	if (m->total) {
		fmt_value(m, sum, buf, sizeof(buf));
		char line[160];

		snprintf(line, sizeof(line), "total %s over %zu node%s", buf, nv, nv == 1 ? "" : "s");
		gstr(g, 0, 1, line);
	}
	{
		char line[200];

		snprintf(line, sizeof(line), "nodes %zu-%zu of %zu%s   l s m r u L d t q h",
			nv ? m->first + 1 : 0, m->first + shown, nv,
			m->show_dead ? " (dead shown)" : "");
		gstr(g, 0, g->h - 1, line);
	}
	if (m->help) {
		static const char *lines[] = {
			"l load   L log-scale load   s speed   m memory   r raw memory",
			"u utilizability   d show/hide dead nodes   t total/number of nodes",
			"w wide   v vertical   V vertical, tight   a automatic numbering",
			"<- -> or , . scroll   Home/End   q quit   h this help",
		};
		for (size_t k = 0; k < ARRAY_SIZE(lines); k++)
			gstr(g, 2, 2 + (int)k, lines[k]);
	}
	free(vis);
}

/* --- keys --------------------------------------------------------------- */

/* returns false to quit */
static bool handle_key(struct mon *m, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case 'l':
		m->view = V_LOAD;
		break;
	case 'L':
		m->view = V_LOGLOAD;
		break;
	case 's':
		m->view = V_SPEED;
		break;
	case 'm':
		m->view = V_MEM;
		break;
	case 'r':
		m->view = V_RMEM;
		break;
	case 'u':
		m->view = V_UTIL;
		break;
	case 'd':
		m->show_dead = !m->show_dead;
		break;
	case 't':
		m->total = !m->total;
		break;
	case 'w':
		m->layout = L_WIDE;
		break;
	case 'v':
		m->layout = L_VERT;
		break;
	case 'V':
		m->layout = L_TIGHT;
		break;
	case 'a':
		m->layout = L_AUTO;
		break;
	case 'h':
	case '?':
		m->help = !m->help;
		break;
	case KEY_RIGHT:
	case '.':
		m->first++;
		break;
	case KEY_LEFT:
	case ',':
		if (m->first)
			m->first--;
		break;
	case KEY_NPAGE:
		m->first += 16;
		break;
	case KEY_PPAGE:
		m->first = m->first > 16 ? m->first - 16 : 0;
		break;
	case KEY_HOME:
		m->first = 0;
		break;
	case KEY_END:
		m->first = m->n;
		break;
	}
	return true;
}

/* --- main --------------------------------------------------------------- */

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: mosmon [-w|-v|-V|-a] [-l|-L|-s|-m|-r|-u] [-d] [-t] [+NODE]\n"
		"              [--interval SECONDS] [--batch [-n FRAMES] [--width W] [--height H]]\n"
		"\n"
		"The openMosix monitor: a bar chart of every node's load (or speed, memory,\n"
		"utilization), refreshed live. Options have the letters of the keys:\n"
		"  -l load (default)  -L log-scale load  -s speed  -m memory  -r raw memory\n"
		"  -u utilizability   -d show dead nodes  -t total and number of nodes\n"
		"  -w wide  -v vertical  -V vertical, tight  -a automatic numbering (default)\n"
		"  +NODE  start the display at node NODE\n"
		"  --interval S  refresh every S seconds (default 1)\n"
		"  --batch       print plain-text frames instead of the screen; -n FRAMES (default 1)\n"
		"Keys: the same letters, arrows to scroll, h help, q quit. See mosmon(1).\n");
}

static void print_frame(struct mon *m, int w, int h, int k)
{
	struct grid g = { .w = w, .h = h, .c = malloc((size_t)(w * h)) };

	render(m, &g);
	printf("--- mosmon frame %d ---\n", k);
	for (int y = 0; y < h; y++) {
		int e = w;

		while (e > 0 && g.c[y * w + e - 1] == ' ')
			e--;
		printf("%.*s\n", e, g.c + y * w);
	}
	/* the numbers behind the bars, one line per node, for scripts */
	printf("%-6s %-8s %7s %7s %5s %5s %5s %9s %9s\n", "NODE", "STATE", "LOAD", "SPEED", "CPUS",
		"CAP", "UTIL", "MEMUSED", "MEMTOTAL");
	for (size_t i = 0; i < m->n; i++) {
		const struct mon_node *n = &m->nodes[i];

		if (n->quiet || !n->alive)
			printf("%-6ld %-8s %7s %7s %5s %5s %5s %9s %9s\n", n->id, n->state, "-", "-", "-",
				"-", "-", "-", "-");
		else
			printf("%-6ld %-8s %7.2f %7ld %5ld %5.2f %4ld%% %9ld %9ld\n", n->id, n->state,
				n->load, n->speed, n->ncpus, n->capacity, n->util, n->tmem - n->mem,
				n->tmem);
	}
	fflush(stdout);
	free(g.c);
}

static int run_batch(struct mon *m, int frames, double interval, int w, int h)
{
	for (int k = 1; k <= frames; k++) {
		sample(m);
		if (!m->have_data) {
			fprintf(stderr, "mosmon: %s\n", m->error);
			return EXIT_NODAEMON;
		}
		print_frame(m, w, h, k);
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

static int run_tui(struct mon *m, double interval)
{
	struct grid g = { 0 };
	uint64_t next = 0;
	bool running = true;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "mosmon: not a terminal; use --batch\n");
		return EXIT_USAGE;
	}
	signal(SIGWINCH, on_winch);
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(0);
	while (running) {
		uint64_t now = now_ms();
		int ch;

		if (now >= next) {
			sample(m);
			next = now + (uint64_t)(interval * 1000);
		}
		if (got_winch) {
			struct winsize ws;

			got_winch = 0;
			if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
				resizeterm(ws.ws_row, ws.ws_col);
		}
		if (g.w != COLS || g.h != LINES) {
			free(g.c);
			g.w = COLS;
			g.h = LINES;
			g.c = malloc((size_t)(g.w * g.h) + 1);
		}
		render(m, &g);
		erase();
		for (int y = 0; y < g.h; y++)
			mvaddnstr(y, 0, g.c + y * g.w, y == g.h - 1 ? g.w - 1 : g.w);
		refresh();
		/* wait for a key or the next sample */
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int wait = (int)(next > now_ms() ? next - now_ms() : 0);

		poll(&p, 1, wait);
		while ((ch = getch()) != ERR) {
			if (ch == KEY_RESIZE)
				continue; /* redrawn at the new size above */
			if (!handle_key(m, ch)) {
				running = false;
				break;
			}
		}
	}
	endwin();
	free(g.c);
	return 0;
}

int main(int argc, char **argv)
{
	struct mon m = { .view = V_LOAD, .layout = L_AUTO };
	bool batch = false;
	long frames = 1, w = 80, h = 24;
	double interval = 1.0;

	setlocale(LC_ALL, "");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "-H")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("mosmon 0.1\n");
			return 0;
		} else if (!strcmp(a, "--batch") || !strcmp(a, "-b")) {
			batch = true;
		} else if (!strcmp(a, "-n") && i + 1 < argc) {
			if (parse_long(argv[++i], 1, 1000000, &frames))
				goto bad;
		} else if (!strcmp(a, "--interval") && i + 1 < argc) {
			if (parse_double(argv[++i], 0.05, 3600, &interval))
				goto bad;
		} else if (!strcmp(a, "--width") && i + 1 < argc) {
			if (parse_long(argv[++i], 20, 1000, &w))
				goto bad;
		} else if (!strcmp(a, "--height") && i + 1 < argc) {
			if (parse_long(argv[++i], 8, 1000, &h))
				goto bad;
		} else if (a[0] == '+') {
			if (parse_long(a + 1, 1, 65535, &m.start_node))
				goto bad;
		} else if (a[0] == '-' && a[1] && !a[2] && strchr("lLsmruwvVadt", a[1])) {
			if (a[1] == 'd')
				m.show_dead = true;
			else if (a[1] == 't')
				m.total = true;
			else
				handle_key(&m, a[1]);
		} else {
			goto bad;
		}
	}
	if (batch)
		return run_batch(&m, (int)frames, interval, (int)w, (int)h);
	return run_tui(&m, interval);
bad:
	fprintf(stderr, "mosmon: bad option\n");
	usage(stderr);
	return EXIT_USAGE;
}
