/* gossip_age: how fresh is the cluster's information?
 *
 * Runs the real gossip engine (gossip/) for n nodes over a simulated
 * transport, in lockstep: each step every node refreshes its own entry,
 * picks a target and builds one window; then every message is delivered
 * (merged). After a warm-up, at each step once the messages are merged, we
 * look at every node's record of every other node and take its age in
 * steps: the mean over all (observer, subject) pairs, the mean over
 * observers of each one's oldest record (what the model's MaxAge describes)
 * and the oldest record of all (worst pair). A record received straight from
 * its subject this step is 0 steps old; seen just before the next step every
 * age is exactly 1 more. This convention matches the reference simulator
 * and the model (reference/balancing-research.md section 1.4, Table A).
 *
 * The window is what fits one datagram (proto/msg.h): a header, a count
 * byte, w entries and a MAC.
 * Beside each row we print the MOSIX age model (Amar, Barak et al.; the
 * formulas of gossimon's libgossip/gossiplib.c).
 *
 * Target: at 256 nodes the mean age is at most 10 steps.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gossip/gossip.h"
#include "lib/util.h"
#include "proto/msg.h"

/* One info message as proto/msg.h lays it out: the datagram header, a body
 * of a count byte and the entries, and the MAC; it must fit one datagram.
 * The window is as many entries as fit. */
#define INFO_MSG_SIZE(n) (PROTO_MSG_HDR_SIZE + 1 + (n)*PROTO_INFO_ENTRY_SIZE + PROTO_MAC_SIZE)
#define WIN_FIT                                                                                    \
	((PROTO_MAX_DATAGRAM - PROTO_MSG_HDR_SIZE - PROTO_MAC_SIZE - 1) / PROTO_INFO_ENTRY_SIZE)
_Static_assert(INFO_MSG_SIZE(WIN_FIT) <= PROTO_MAX_DATAGRAM, "the window fits a datagram");
_Static_assert(INFO_MSG_SIZE(WIN_FIT + 1) > PROTO_MAX_DATAGRAM, "and is the largest that does");
_Static_assert(WIN_FIT == PROTO_INFO_MAX_ENTRIES, "the window proto/msg.h accepts");

#define STEP_MS 500 /* the MOSIX default step; ages stay exact in centiseconds */
#define TARGET_N 256
#define TARGET_AGE 10.0
#define MAX_WARM 500 /* time budget: longer warm-ups are cut to this */

struct run {
	unsigned n, w, steps;
};

struct result {
	unsigned warm;
	double mean_age, obs_max, worst;
	bool truncated; /* some record dates from the start: max ages are lower bounds */
	double secs;
};

/* The MOSIX model, ages in steps (gossiplib.c); false where it does not
 * apply (the window holds the whole vector). */
static bool model(unsigned n_, unsigned w_, double *avg, double *max)
{
	double n = n_, w = w_, T, e, X, A;

	if (w >= n - 1)
		return false;
	T = log(w * (n - 1) / (n - w)) * (n - 1) / n;
	e = exp(n * T / (n - 1));
	X = n * e / (n - 1 + e);
	A = T - ((n - 1) / X) * (log(n - 1 + e) - log(n));
	*avg = 1 / (1 - pow(1 - 1 / (n - 1), X)) + A;
	*max = -(log(n) + 0.577) / (X * log(1 - 1 / (n - 1)));
	return true;
}

/* 10n/w + 50 steps, and at least three times the model's maximum age so
 * that the oldest records are in steady state too; at most MAX_WARM. */
static unsigned warmup(unsigned n, unsigned w)
{
	double avg, max;
	unsigned s = 10 * n / w + 50;

	if (model(n, w, &avg, &max))
		s = MAX(s, (unsigned)ceil(3 * max));
	return MIN(s, (unsigned)MAX_WARM);
}

static struct om_load_info self_info(unsigned id, unsigned step)
{
	struct om_load_info i;

	memset(&i, 0, sizeof(i));
	i.id = (uint16_t)id;
	i.status = NODE_CONF | NODE_UP;
	i.ncpus = 4;
	i.load = (uint16_t)(step % 400);
	i.speed = OM_STD_SPEED;
	return i;
}

/* The simulation runs on every CPU: each thread owns the nodes i with
 * i % nthreads == k, builds their messages, merges the messages addressed to
 * them (in sender order, so the result does not depend on the thread count)
 * and measures their records. Each gossip vector is only ever used by its
 * own thread; barriers separate the phases of a step. */
struct sim {
	const struct run *run;
	struct result *r;
	struct gossip **g;
	struct proto_info_entry *msg;
	size_t *len;
	uint16_t *to;
	unsigned nthreads;
	pthread_barrier_t bar;
	bool failed;
	struct part {
		uint64_t tot, sum_max, max;
	} * part;
};

struct worker {
	struct sim *s;
	unsigned k;
};

static void fail(struct sim *s, const char *what, unsigned node)
{
	fprintf(stderr, "gossip_age: n=%u: %s (node %u)\n", s->run->n, what, node + 1);
	__atomic_store_n(&s->failed, true, __ATOMIC_RELAXED);
}

/* After step t: the age of every record held by our nodes; records never
 * received count as old as the cluster. */
static void measure(struct sim *s, unsigned k, unsigned t)
{
	unsigned n = s->run->n, i, j;
	uint64_t now = (uint64_t)t * STEP_MS;
	struct part p = {0};

	for (i = k; i < n; i += s->nthreads) {
		uint64_t om = 0;

		for (j = 0; j < n; j++) {
			uint64_t age;

			if (j == i)
				continue;
			if (!gossip_get(s->g[i], (uint16_t)(j + 1), now, &age))
				age = now + STEP_MS;
			p.tot += age;
			om = MAX(om, age);
		}
		p.sum_max += om;
		p.max = MAX(p.max, om);
	}
	s->part[k] = p;
}

static void *work(void *arg)
{
	struct worker *wk = arg;
	struct sim *s = wk->s;
	unsigned n = s->run->n, w = s->run->w, T = s->nthreads, k = wk->k, i, t;

	for (t = 0; t < s->r->warm + s->run->steps; t++) {
		uint64_t now = (uint64_t)t * STEP_MS;

		for (i = k; i < n; i += T) {
			struct om_load_info me = self_info(i + 1, t);
			struct proto_info_entry *m = &s->msg[(size_t)i * w];

			gossip_set_self(s->g[i], &me, now);
			if (gossip_pick_target(s->g[i], now, &s->to[i])) {
				fail(s, "no target", i);
				s->len[i] = 0;
				continue;
			}
			s->len[i] = gossip_build(s->g[i], now, s->to[i], m, w);
			if (INFO_MSG_SIZE(s->len[i]) > PROTO_MAX_DATAGRAM)
				fail(s, "message does not fit a datagram", i);
		}
		pthread_barrier_wait(&s->bar);
		for (i = 0; i < n; i++) {
			unsigned dst = s->to[i] - 1u;

			if (s->len[i] == 0 || dst % T != k)
				continue;
			if (gossip_merge(s->g[dst], now, &s->msg[(size_t)i * w], s->len[i]))
				fail(s, "unknown node in a message", dst);
		}
		if (t >= s->r->warm)
			measure(s, k, t);
		if (pthread_barrier_wait(&s->bar) == PTHREAD_BARRIER_SERIAL_THREAD &&
			t >= s->r->warm) {
			struct part a = {0};
			unsigned j;

			for (j = 0; j < T; j++) {
				a.tot += s->part[j].tot;
				a.sum_max += s->part[j].sum_max;
				a.max = MAX(a.max, s->part[j].max);
			}
			s->r->mean_age +=
				(double)a.tot / STEP_MS / ((double)n * (n - 1)) / s->run->steps;
			s->r->obs_max += (double)a.sum_max / STEP_MS / n / s->run->steps;
			s->r->worst += (double)(a.max / STEP_MS) / s->run->steps;
			s->r->truncated |= a.max / STEP_MS >= t;
		}
		/* the next step's builds read nothing the aggregation writes */
	}
	return NULL;
}

static int simulate(const struct run *run, unsigned nthreads, struct result *r)
{
	unsigned n = run->n, w = run->w, i, j, started = 0;
	struct sim s = {.run = run, .r = r, .nthreads = nthreads};
	struct worker *wk = calloc(nthreads, sizeof(*wk));
	pthread_t *tid = calloc(nthreads, sizeof(*tid));
	uint64_t t0 = now_ns();
	int err = -1;

	memset(r, 0, sizeof(*r));
	r->warm = warmup(n, w);
	s.g = calloc(n, sizeof(*s.g));
	s.msg = calloc((size_t)n * w, sizeof(*s.msg));
	s.len = calloc(n, sizeof(*s.len));
	s.to = calloc(n, sizeof(*s.to));
	s.part = calloc(nthreads, sizeof(*s.part));
	if (!wk || !tid || !s.g || !s.msg || !s.len || !s.to || !s.part)
		goto out;
	/* node ids 1..n; every node has the whole map */
	for (i = 0; i < n; i++) {
		s.g[i] = gossip_new((uint16_t)(i + 1), w, 0x5eed0000ull + i * 7919ull);
		if (!s.g[i] || gossip_reserve(s.g[i], n - 1))
			goto out;
		for (j = 0; j < n; j++)
			if (j != i && gossip_add_node(s.g[i], (uint16_t)(j + 1)))
				goto out;
	}
	if (pthread_barrier_init(&s.bar, NULL, nthreads))
		goto out;
	for (started = 0; started < nthreads; started++) {
		wk[started].s = &s;
		wk[started].k = started;
		if (started > 0 && pthread_create(&tid[started], NULL, work, &wk[started]))
			break;
	}
	if (started < nthreads) {
		/* the ones started wait on the barrier for good: give up at once */
		fprintf(stderr, "gossip_age: cannot start %u threads\n", nthreads);
		exit(2);
	}
	work(&wk[0]);
	err = __atomic_load_n(&s.failed, __ATOMIC_RELAXED) ? -1 : 0;
	for (i = 1; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&s.bar);
	r->secs = (double)(now_ns() - t0) / 1e9;
out:
	for (i = 0; s.g && i < n; i++)
		gossip_free(s.g[i]);
	free(s.g);
	free(s.msg);
	free(s.len);
	free(s.to);
	free(s.part);
	free(wk);
	free(tid);
	return err;
}

static void print_row(const struct run *run, const struct result *r)
{
	const char *lb = r->truncated ? ">" : " ";
	char mavg[16] = "n/a", mmax[16] = "n/a";
	double avg, max;

	if (model(run->n, run->w, &avg, &max)) {
		snprintf(mavg, sizeof(mavg), "%.2f", avg);
		snprintf(mmax, sizeof(mmax), "%.1f", max);
	}
	printf("%5u %3u %6u %5u  %8.2f %8s  %s%7.1f %7s  %s%7.1f  %5.1f\n", run->n, run->w, r->warm,
		run->steps, r->mean_age, mavg, lb, r->obs_max, mmax, lb, r->worst, r->secs);
}

int main(int argc, char **argv)
{
	static const struct run runs[] = {
		{16, WIN_FIT, 400},
		{64, WIN_FIT, 400},
		{TARGET_N, WIN_FIT, 400},
		{TARGET_N, 20, 400}, /* the MOSIX default window, for comparison */
		{1024, WIN_FIT, 50},
		{4096, WIN_FIT, 5},
	};
	struct result r, target = {0};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nthreads = (unsigned)MIN(MAX(ncpu, 1L), 8L);
	long max_n = 4096;
	size_t k;
	bool any_truncated = false;

	if (argc > 2 || (argc == 2 && parse_long(argv[1], 16, 4096, &max_n))) {
		bool help = argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));

		fprintf(help ? stdout : stderr,
			"usage: gossip_age [MAX_N]   (only cluster sizes up to MAX_N, 16..4096)\n");
		return help ? 0 : 2;
	}

	printf("gossip_age: information age of MOSIX-style gossip "
	       "(real gossip/ engine, simulated lockstep transport)\n");
	printf("window w = (%d-byte datagram - %d header - %d MAC - 1 count) / %d-byte entries = "
	       "%d (%d bytes); one message per node per step; step = %d ms\n",
		PROTO_MAX_DATAGRAM, PROTO_MSG_HDR_SIZE, PROTO_MAC_SIZE, PROTO_INFO_ENTRY_SIZE,
		WIN_FIT, INFO_MSG_SIZE(WIN_FIT), STEP_MS);
	printf("ages in steps once each step's messages are merged (add 1 for the view just "
	       "before the next step)\n");
	printf("mean: all (observer, subject) pairs; obs_max: each observer's oldest record "
	       "(the model's MaxAge);\nworst: the oldest record of all; %u threads (one per "
	       "CPU)\n\n",
		nthreads);
	printf("%5s %3s %6s %5s  %8s %8s  %8s %7s  %8s  %5s\n", "n", "w", "warmup", "steps", "mean",
		"model", "obs_max", "model", "worst", "secs");
	for (k = 0; k < ARRAY_SIZE(runs); k++) {
		if (runs[k].n > max_n)
			continue;
		if (simulate(&runs[k], nthreads, &r)) {
			fprintf(stderr, "gossip_age: the simulation of n=%u w=%u failed\n",
				runs[k].n, runs[k].w);
			return 2;
		}
		print_row(&runs[k], &r);
		fflush(stdout);
		any_truncated |= r.truncated;
		if (runs[k].n == TARGET_N && runs[k].w == WIN_FIT)
			target = r;
	}
	printf("\nwarm-up: max(10n/w + 50, 3 x model MaxAge) steps, at most %d; fewer measured "
	       "steps at large n keep the run short\n",
		MAX_WARM);
	if (any_truncated)
		printf(">: some records still date from the start of the run, so the maximum ages "
		       "are lower bounds (the warm-up is shorter than the oldest record's age)\n");
	printf("reference simulator (balancing-research.md Table A): n=256 w=20 mean 16.42, "
	       "obs_max 86.9\n");
	if (max_n < TARGET_N)
		return 0;
	printf("gossip_age: n=%d w=%d mean_age=%.1f steps (target <= %.0f): %s\n", TARGET_N,
		WIN_FIT, target.mean_age, TARGET_AGE,
		target.mean_age <= TARGET_AGE ? "PASS" : "FAIL");
	return 0;
}
