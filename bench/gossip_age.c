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
 * The window is what fits one datagram: a header, w entries and a MAC.
 * Beside each row we print the MOSIX age model (Amar, Barak et al.; the
 * formulas of gossimon's libgossip/gossiplib.c).
 *
 * Target: at 256 nodes the mean age is at most 10 steps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip.h"
#include "lib/util.h"

/* One info message: header, entries, MAC; it must fit one datagram. */
#define DGRAM_MAX 1400
#define MSG_HDR_SIZE 28
#define MSG_MAC_SIZE 16
#define ENTRY_SIZE 28 /* a struct proto_info_entry on the wire */
#define WIN_FIT ((DGRAM_MAX - MSG_HDR_SIZE - MSG_MAC_SIZE) / ENTRY_SIZE)
_Static_assert(MSG_HDR_SIZE + WIN_FIT * ENTRY_SIZE + MSG_MAC_SIZE <= DGRAM_MAX, "window fits");
_Static_assert(MSG_HDR_SIZE + (WIN_FIT + 1) * ENTRY_SIZE + MSG_MAC_SIZE > DGRAM_MAX, "largest");

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

/* the age of every pair after step t, in steps; pairs never heard of count
 * as old as the cluster */
static void measure(struct gossip **g, unsigned n, unsigned t, double *mean, double *obs_max,
	unsigned *worst)
{
	uint64_t now = (uint64_t)t * STEP_MS, tot = 0, sum_max = 0, mx = 0;
	unsigned i, j;

	for (i = 0; i < n; i++) {
		uint64_t om = 0;

		for (j = 0; j < n; j++) {
			uint64_t age;

			if (j == i)
				continue;
			if (!gossip_get(g[i], (uint16_t)(j + 1), now, &age))
				age = now + STEP_MS;
			tot += age;
			om = MAX(om, age);
		}
		sum_max += om;
		mx = MAX(mx, om);
	}
	*mean = (double)tot / STEP_MS / ((double)n * (n - 1));
	*obs_max = (double)sum_max / STEP_MS / n;
	*worst = (unsigned)(mx / STEP_MS);
}

static int simulate(const struct run *run, struct result *r)
{
	unsigned n = run->n, w = run->w, i, j, t;
	struct gossip **g = calloc(n, sizeof(*g));
	struct proto_info_entry *msg = calloc((size_t)n * w, sizeof(*msg));
	size_t *len = calloc(n, sizeof(*len));
	uint16_t *to = calloc(n, sizeof(*to));
	uint64_t t0 = now_ns();
	int err = -1;

	memset(r, 0, sizeof(*r));
	r->warm = warmup(n, w);
	if (!g || !msg || !len || !to)
		goto out;
	/* node ids 1..n; every node has the whole map */
	for (i = 0; i < n; i++) {
		g[i] = gossip_new((uint16_t)(i + 1), w, 0x5eed0000ull + i * 7919ull);
		if (!g[i] || gossip_reserve(g[i], n - 1))
			goto out;
		for (j = 0; j < n; j++)
			if (j != i && gossip_add_node(g[i], (uint16_t)(j + 1)))
				goto out;
	}
	for (t = 0; t < r->warm + run->steps; t++) {
		uint64_t now = (uint64_t)t * STEP_MS;
		double mean, obs_max;
		unsigned worst;

		for (i = 0; i < n; i++) {
			struct om_load_info me = self_info(i + 1, t);

			gossip_set_self(g[i], &me, now);
			if (gossip_pick_target(g[i], now, &to[i]))
				goto out;
			len[i] = gossip_build(g[i], now, to[i], &msg[(size_t)i * w], w);
			if (MSG_HDR_SIZE + len[i] * ENTRY_SIZE + MSG_MAC_SIZE > DGRAM_MAX) {
				fprintf(stderr, "gossip_age: a message of %zu entries does not fit\n",
					len[i]);
				goto out;
			}
		}
		for (i = 0; i < n; i++)
			if (gossip_merge(g[to[i] - 1], now, &msg[(size_t)i * w], len[i]))
				goto out;
		if (t < r->warm)
			continue;
		measure(g, n, t, &mean, &obs_max, &worst);
		r->mean_age += mean / run->steps;
		r->obs_max += obs_max / run->steps;
		r->worst += (double)worst / run->steps;
		r->truncated |= worst >= t;
	}
	r->secs = (double)(now_ns() - t0) / 1e9;
	err = 0;
out:
	for (i = 0; g && i < n; i++)
		gossip_free(g[i]);
	free(g);
	free(msg);
	free(len);
	free(to);
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

int main(void)
{
	static const struct run runs[] = {
		{ 16, WIN_FIT, 400 },
		{ 64, WIN_FIT, 400 },
		{ TARGET_N, WIN_FIT, 400 },
		{ TARGET_N, 20, 400 }, /* the MOSIX default window, for comparison */
		{ 1024, WIN_FIT, 50 },
		{ 4096, WIN_FIT, 5 },
	};
	struct result r, target = { 0 };
	size_t k;
	bool any_truncated = false;

	printf("gossip_age: information age of MOSIX-style gossip "
	       "(real gossip/ engine, simulated lockstep transport)\n");
	printf("window w = (%d-byte datagram - %d header - %d MAC) / %d-byte entries = %d; "
	       "one message per node per step; step = %d ms\n",
		DGRAM_MAX, MSG_HDR_SIZE, MSG_MAC_SIZE, ENTRY_SIZE, WIN_FIT, STEP_MS);
	printf("ages in steps once each step's messages are merged (add 1 for the view just "
	       "before the next step)\n");
	printf("mean = all (observer, subject) pairs; obs_max = each observer's oldest record "
	       "(the model's MaxAge); worst = oldest of all pairs\n\n");
	printf("%5s %3s %6s %5s  %8s %8s  %8s %7s  %8s  %5s\n", "n", "w", "warmup", "steps", "mean",
		"model", "obs_max", "model", "worst", "secs");
	for (k = 0; k < ARRAY_SIZE(runs); k++) {
		if (simulate(&runs[k], &r)) {
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
	printf("gossip_age: n=%d w=%d mean_age=%.1f steps (target <= %.0f): %s\n", TARGET_N, WIN_FIT,
		target.mean_age, TARGET_AGE, target.mean_age <= TARGET_AGE ? "PASS" : "FAIL");
	return 0;
}
