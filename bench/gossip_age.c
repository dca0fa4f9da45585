/* gossip_age: how fresh is the cluster's information?
 *
 * Runs the real gossip engine (gossip/) for n nodes over a simulated
 * transport, in lockstep: each step every node refreshes its own entry,
 * picks a target and builds one window; all messages are delivered (merged)
 * at the end of the step. After a warm-up we measure, at the end of every
 * step (just before the next refresh), the age of every node's record of
 * every other node, in steps: the mean over all (observer, subject) pairs
 * and the per-step maximum. A record received directly from its subject in
 * this step is 1 step old by then; the model's 1/p waiting-time term counts
 * the same way. Ages measured right after delivery would be exactly 1 less.
 *
 * The window is what fits one datagram: a header, w entries and a MAC.
 * Beside each row we print the MOSIX age model (Amar, Barak et al.; the
 * formulas of gossimon's libgossip/gossiplib.c, see
 * docs reference balancing-research.md section 1.4).
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
#define ENTRY_SIZE 28 /* struct proto_info_entry on the wire */
#define WIN_FIT ((DGRAM_MAX - MSG_HDR_SIZE - MSG_MAC_SIZE) / ENTRY_SIZE)
_Static_assert(MSG_HDR_SIZE + WIN_FIT * ENTRY_SIZE + MSG_MAC_SIZE <= DGRAM_MAX, "window fits");

#define STEP_MS 500 /* MOSIX default step; ages stay exact in centiseconds */
#define TARGET_N 256
#define TARGET_AGE 10.0

struct result {
	unsigned n, w, warm, steps;
	double mean_age, mean_max;
	double secs;
};

/* The MOSIX model, ages in steps (gossiplib.c). */
static void model(unsigned n_, unsigned w_, double *avg, double *max)
{
	double n = n_, w = w_, T, e, X, A;

	if (w >= n - 1) /* everything fits: one hop from anyone */
		w = n - 1.5;
	T = log(w * (n - 1) / (n - w)) * (n - 1) / n;
	e = exp(n * T / (n - 1));
	X = n * e / (n - 1 + e);
	A = T - ((n - 1) / X) * (log(n - 1 + e) - log(n));
	*avg = 1 / (1 - pow(1 - 1 / (n - 1), X)) + A;
	*max = -(log(n) + 0.577) / (X * log(1 - 1 / (n - 1)));
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

static int simulate(unsigned n, unsigned w, unsigned warm, unsigned steps, struct result *r)
{
	struct gossip **g = calloc(n, sizeof(*g));
	struct proto_info_entry *msg = calloc((size_t)n * w, sizeof(*msg));
	size_t *len = calloc(n, sizeof(*len));
	uint16_t *to = calloc(n, sizeof(*to));
	double sum_age = 0, sum_max = 0;
	unsigned long long missing = 0;
	unsigned i, j, t;
	uint64_t t0 = now_ns();
	int err = -1;

	if (!g || !msg || !len || !to)
		goto out;
	/* node ids 1..n; every node knows the whole map */
	for (i = 0; i < n; i++) {
		g[i] = gossip_new((uint16_t)(i + 1), w, 0x5eed0000ull + i * 7919ull);
		if (!g[i])
			goto out;
		for (j = 0; j < n; j++)
			if (j != i && gossip_add_node(g[i], (uint16_t)(j + 1)))
				goto out;
	}
	for (t = 0; t < warm + steps; t++) {
		uint64_t now = (uint64_t)t * STEP_MS;

		for (i = 0; i < n; i++) {
			struct om_load_info me = self_info(i + 1, t);

			gossip_set_self(g[i], &me, now);
			if (gossip_pick_target(g[i], now, &to[i]))
				goto out;
			len[i] = gossip_build(g[i], now, to[i], &msg[(size_t)i * w], w);
			if (MSG_HDR_SIZE + len[i] * ENTRY_SIZE + MSG_MAC_SIZE > DGRAM_MAX) {
				fprintf(stderr, "gossip_age: message of %zu entries does not fit\n",
					len[i]);
				goto out;
			}
		}
		for (i = 0; i < n; i++)
			if (gossip_merge(g[to[i] - 1], now, &msg[(size_t)i * w], len[i]))
				goto out;
		if (t < warm)
			continue;
		/* measure at the end of the step */
		{
			uint64_t end = now + STEP_MS, tot = 0, mx = 0;

			for (i = 0; i < n; i++) {
				for (j = 0; j < n; j++) {
					uint64_t age;

					if (j == i)
						continue;
					if (!gossip_get(g[i], (uint16_t)(j + 1), end, &age)) {
						missing++;
						continue;
					}
					tot += age;
					mx = MAX(mx, age);
				}
			}
			sum_age += (double)tot / STEP_MS / ((double)n * (n - 1));
			sum_max += (double)mx / STEP_MS;
		}
	}
	if (missing)
		fprintf(stderr, "gossip_age: n=%u: %llu (observer, subject) pairs never heard of\n",
			n, missing);
	r->n = n;
	r->w = w;
	r->warm = warm;
	r->steps = steps;
	r->mean_age = sum_age / steps;
	r->mean_max = sum_max / steps;
	r->secs = (double)(now_ns() - t0) / 1e9;
	err = missing ? -1 : 0;
out:
	for (i = 0; g && i < n; i++)
		gossip_free(g[i]);
	free(g);
	free(msg);
	free(len);
	free(to);
	return err;
}

static void print_row(const struct result *r)
{
	double mavg, mmax;

	model(r->n, r->w, &mavg, &mmax);
	printf("%6u %4u %6u %6u   %9.2f %9.2f   %9.2f %9.2f   %6.2f %6.2f  %6.1f\n", r->n, r->w,
		r->warm, r->steps, r->mean_age, mavg, r->mean_max, mmax, r->mean_age / mavg,
		r->mean_max / mmax, r->secs);
}

int main(void)
{
	static const struct {
		unsigned n, w, steps;
	} runs[] = {
		{ 16, WIN_FIT, 400 },
		{ 64, WIN_FIT, 400 },
		{ 256, WIN_FIT, 400 },
		{ 256, 20, 400 },
		{ 1024, WIN_FIT, 100 },
		{ 4096, WIN_FIT, 12 },
	};
	struct result r, target = { 0 };
	size_t k;

	printf("gossip_age: information age of MOSIX-style gossip (real gossip/ engine, simulated "
	       "lockstep transport)\n");
	printf("window w = (%d-byte datagram - %d header - %d MAC) / %d-byte entries = %d; "
	       "step = %d ms; target mean age <= %.0f steps at n=%d\n",
		DGRAM_MAX, MSG_HDR_SIZE, MSG_MAC_SIZE, ENTRY_SIZE, WIN_FIT, STEP_MS, TARGET_AGE,
		TARGET_N);
	printf("ages in steps, measured at the end of each step; model: MOSIX/gossimon formulas\n\n");
	printf("%6s %4s %6s %6s   %9s %9s   %9s %9s   %6s %6s  %6s\n", "n", "w", "warmup", "steps",
		"mean_age", "model", "mean_max", "model", "avg/m", "max/m", "secs");
	for (k = 0; k < ARRAY_SIZE(runs); k++) {
		unsigned n = runs[k].n, w = runs[k].w;

		if (simulate(n, w, 10 * n / w + 50, runs[k].steps, &r)) {
			fprintf(stderr, "gossip_age: simulation of n=%u w=%u failed\n", n, w);
			return 2;
		}
		print_row(&r);
		if (n == TARGET_N && w == WIN_FIT)
			target = r;
	}
	printf("\nfewer measured steps at large n keep the run short (the mean over all pairs "
	       "is an average over n(n-1) records per step)\n");
	printf("gossip_age: n=%u w=%u mean_age=%.1f steps (target <= %.0f): %s\n", target.n,
		target.w, target.mean_age, TARGET_AGE, target.mean_age <= TARGET_AGE ? "PASS" : "FAIL");
	return 0;
}
