/* balance_sim: the real balancer decision (balance/policy.c) against a
 * simulated cluster of 64 to 1024 nodes and a job trace.
 *
 * Model (after the opportunity-cost study, balancing-research.md 1.6): a
 * node of capacity c cores shares them equally among its jobs (a job gets
 * min(1, c/k) of a core); a job needs W seconds of one standard core. Jobs
 * arrive (Poisson) at a random home node with bounded-Pareto sizes. Every
 * second each home runs bal_decide() for its own jobs on a view of a random
 * sample of 16 nodes plus the nodes its jobs run on (what a gossip window
 * gives), with loads as the nodes would advertise them. A moved job is
 * frozen for the migration's cost. Reported per policy: mean slowdown
 * (time in system over W / fastest core), makespan over its lower bound
 * (max(total work / total capacity, latest arrival + W / fastest core)),
 * migrations per job. Baselines: no balancing (jobs stay home) and
 * round-robin placement at arrival (what GNU parallel would do).
 *
 * Usage: balance_sim [-n NODES] [-j JOBS_PER_NODE] [-s SEED] [-q]
 *        (default: 64, 256 and 1024 nodes, 4 jobs per node)
 */
#include "balance/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE 16
#define DT 0.1          /* simulation step, s */
#define BAL_EVERY 10    /* steps between balancer runs (1 s) */

struct job {
	double arrive, work, done, finish;
	double frozen_until;
	uint16_t home, where;
	uint64_t moved_ms[4];
	unsigned nmoves;
	bool started, finished;
	double mb;
};

struct sim {
	unsigned nn, nj;
	double *cap;      /* cores per node, index id-1 */
	unsigned *count;  /* jobs running per node */
	struct job *jobs;
	double fastest;
};

static uint64_t rng_state;

static double urand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* bounded Pareto, alpha 1.5, on [lo, hi] */
static double bpareto(double lo, double hi)
{
	double a = 1.5, u = urand();
	double la = pow(lo, a), ha = pow(hi, a);

	return pow(-(u * ha - u * la - ha) / (ha * la), -1.0 / a);
}

static void make_trace(struct sim *s, unsigned nn, unsigned per_node, uint64_t seed)
{
	double total = 0, t = 0, rate;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	s->nn = nn;
	s->nj = nn * per_node;
	s->cap = calloc(nn, sizeof(double));
	s->count = calloc(nn + 1, sizeof(unsigned));
	s->jobs = calloc(s->nj, sizeof(struct job));
	s->fastest = 0;
	for (unsigned i = 0; i < nn; i++) {
		static const double caps[3] = { 0.5, 1.0, 2.0 };

		s->cap[i] = caps[i % 3];
		if (s->cap[i] > s->fastest)
			s->fastest = s->cap[i];
		total += s->cap[i];
	}
	if (s->fastest > 1)
		s->fastest = 1; /* one job uses at most one core */
	/* mean work of bounded Pareto(1.5, 10, 1000) is about 29 s; arrivals
	 * at 80% of the cluster's capacity */
	rate = 0.8 * total / 29.0;
	for (unsigned j = 0; j < s->nj; j++) {
		struct job *jb = &s->jobs[j];

		t += -log(1 - urand()) / rate;
		jb->arrive = t;
		jb->work = bpareto(10, 1000);
		jb->home = (uint16_t)(1 + (unsigned)(urand() * nn) % nn);
		jb->mb = 4 + urand() * 60;
	}
}

enum mode { M_NONE, M_RR, M_POLICY };

struct result {
	double slowdown, makespan_lb, moves_per_job;
};

static struct result run(const struct sim *tmpl, enum mode mode, enum bal_policy pol)
{
	struct sim s = *tmpl;
	struct job *jobs = malloc(s.nj * sizeof(struct job));
	unsigned *count = calloc(s.nn + 1, sizeof(unsigned));
	struct bal_node *view = malloc((SAMPLE + 64 + 1) * sizeof(*view));
	struct bal_proc *procs = malloc(s.nj * sizeof(*procs));
	unsigned *pidx = malloc(s.nj * sizeof(unsigned));
	struct bal_move mv[8];
	unsigned next = 0, finished = 0, rr = 0, step = 0, moves = 0;
	double t = 0, sum_slow = 0, lb, total_work = 0, total_cap = 0, latest = 0;
	struct result r;

	memcpy(jobs, tmpl->jobs, s.nj * sizeof(struct job));
	s.jobs = jobs;
	s.count = count;
	/* per-home job lists, rebuilt each balancing round */
	unsigned *head = malloc((s.nn + 1) * sizeof(unsigned));
	unsigned *link = malloc(s.nj * sizeof(unsigned));

	while (finished < s.nj) {
		/* arrivals */
		while (next < s.nj && jobs[next].arrive <= t) {
			struct job *jb = &jobs[next++];

			jb->started = true;
			jb->where = jb->home;
			if (mode == M_RR)
				jb->where = (uint16_t)(1 + rr++ % s.nn);
			count[jb->where]++;
		}
		/* run */
		for (unsigned j = 0; j < next; j++) {
			struct job *jb = &jobs[j];
			double share;

			if (jb->finished || jb->frozen_until > t)
				continue;
			share = s.cap[jb->where - 1] / count[jb->where];
			if (share > 1)
				share = 1;
			jb->done += share * DT;
			if (jb->done >= jb->work) {
				jb->finished = true;
				jb->finish = t + DT;
				count[jb->where]--;
				finished++;
			}
		}
		t += DT;
		if (mode != M_POLICY || ++step % BAL_EVERY)
			continue;
		/* balancing: every home decides for its own jobs */
		for (unsigned i = 0; i <= s.nn; i++)
			head[i] = ~0u;
		for (unsigned j = 0; j < next; j++) {
			if (jobs[j].finished)
				continue;
			link[j] = head[jobs[j].home];
			head[jobs[j].home] = j;
		}
		for (unsigned h = 1; h <= s.nn; h++) {
			struct bal_params bp;
			unsigned np = 0, nv = 0;
			size_t k;

			if (head[h] == ~0u)
				continue;
			bal_params_default(&bp, (uint16_t)h);
			bp.policy = pol;
			/* the view: home, the nodes its jobs are on, a random sample */
			uint16_t ids[SAMPLE + 64 + 1];

			ids[nv++] = (uint16_t)h;
			for (unsigned j = head[h]; j != ~0u && nv < SAMPLE + 64; j = link[j]) {
				bool have = false;

				for (unsigned v = 0; v < nv; v++)
					have |= ids[v] == jobs[j].where;
				if (!have)
					ids[nv++] = jobs[j].where;
			}
			for (unsigned q = 0; q < SAMPLE && nv < SAMPLE + 64 + 1; q++) {
				uint16_t id = (uint16_t)(1 + (unsigned)(urand() * s.nn) % s.nn);
				bool have = false;

				for (unsigned v = 0; v < nv; v++)
					have |= ids[v] == id;
				if (!have)
					ids[nv++] = id;
			}
			for (unsigned v = 0; v < nv; v++) {
				double c = s.cap[ids[v] - 1];

				view[v] = (struct bal_node){ .id = ids[v], .usable = true,
					.one = 1.0 / c, .load = count[ids[v]] / c, .free_mb = -1 };
			}
			for (unsigned j = head[h]; j != ~0u; j = link[j]) {
				struct job *jb = &jobs[j];
				uint64_t now = (uint64_t)(t * 1000), last = 0;
				unsigned recent = 0;

				if (jb->frozen_until > t)
					continue;
				for (int m = 0; m < 4; m++) {
					if (jb->moved_ms[m] > last)
						last = jb->moved_ms[m];
					recent += jb->moved_ms[m] && now - jb->moved_ms[m] < 10000;
				}
				procs[np] = (struct bal_proc){ .pid = (int32_t)j, .where = jb->where,
					.demand = 1.0, .mb = jb->mb,
					.age_ms = (uint64_t)((t - jb->arrive) * 1000),
					.recent_moves = recent };
				procs[np].since_move_ms = last ? now - last : UINT64_MAX / 2;
				pidx[np++] = j;
			}
			k = bal_decide(&bp, view, nv, procs, np, mv, 8);
			for (size_t m = 0; m < k; m++) {
				struct job *jb = &jobs[mv[m].pid];
				double cost = bp.fixed_cost_s + jb->mb / bp.link_mb_s;

				if (jb->where != jb->home && mv[m].to != jb->home)
					cost *= 2; /* through home */
				count[jb->where]--;
				jb->where = mv[m].to;
				count[jb->where]++;
				jb->frozen_until = t + cost;
				jb->moved_ms[jb->nmoves++ % 4] = (uint64_t)(t * 1000);
				moves++;
			}
			(void)pidx;
		}
	}
	for (unsigned j = 0; j < s.nj; j++) {
		const struct job *jb = &jobs[j];
		double best = jb->work / s.fastest;

		sum_slow += (jb->finish - jb->arrive) / best;
		total_work += jb->work;
		if (jb->arrive + best > latest)
			latest = jb->arrive + best;
	}
	for (unsigned i = 0; i < s.nn; i++)
		total_cap += s.cap[i];
	lb = total_work / total_cap;
	if (latest > lb)
		lb = latest;
	r.slowdown = sum_slow / s.nj;
	r.makespan_lb = t / lb;
	r.moves_per_job = (double)moves / s.nj;
	free(jobs);
	free(count);
	free(view);
	free(procs);
	free(pidx);
	free(head);
	free(link);
	return r;
}

int main(int argc, char **argv)
{
	unsigned sizes[8] = { 64, 256, 1024 }, nsizes = 3, per_node = 4;
	uint64_t seed = 1;
	int quiet = 0;
	double mosix_sum = 0, oc_sum = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			sizes[0] = (unsigned)atoi(argv[++i]);
			nsizes = 1;
		} else if (!strcmp(argv[i], "-j") && i + 1 < argc) {
			per_node = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			seed = (uint64_t)atoll(argv[++i]);
		} else if (!strcmp(argv[i], "-q")) {
			quiet = 1;
		} else {
			fprintf(stderr, "usage: balance_sim [-n NODES] [-j JOBS_PER_NODE] [-s SEED] [-q]\n");
			return 2;
		}
	}
	if (!quiet)
		printf("simulated cluster: capacities 0.5/1/2 cores, Poisson arrivals at 80%% "
			"load, bounded-Pareto work 10..1000 s, %u jobs per node\n", per_node);
	printf("%6s %-10s %14s %14s %12s\n", "nodes", "policy", "mean slowdown", "makespan/LB",
		"moves/job");
	for (unsigned z = 0; z < nsizes; z++) {
		struct sim s;
		struct result r;

		if (sizes[z] < 2 || sizes[z] > 65535) {
			fprintf(stderr, "balance_sim: nodes must be 2..65535\n");
			return 2;
		}
		make_trace(&s, sizes[z], per_node, seed);
		r = run(&s, M_NONE, BAL_MOSIX);
		printf("%6u %-10s %14.2f %14.2f %12.2f\n", s.nn, "none", r.slowdown, r.makespan_lb,
			r.moves_per_job);
		r = run(&s, M_RR, BAL_MOSIX);
		printf("%6u %-10s %14.2f %14.2f %12.2f\n", s.nn, "roundrobin", r.slowdown,
			r.makespan_lb, r.moves_per_job);
		r = run(&s, M_POLICY, BAL_MOSIX);
		mosix_sum += r.slowdown;
		printf("%6u %-10s %14.2f %14.2f %12.2f\n", s.nn, "mosix", r.slowdown, r.makespan_lb,
			r.moves_per_job);
		r = run(&s, M_POLICY, BAL_OPPCOST);
		oc_sum += r.slowdown;
		printf("%6u %-10s %14.2f %14.2f %12.2f\n", s.nn, "oppcost", r.slowdown, r.makespan_lb,
			r.moves_per_job);
		free(s.cap);
		free(s.count);
		free(s.jobs);
	}
	printf("better policy by mean slowdown: %s (mosix %.2f, oppcost %.2f averaged over sizes)\n",
		mosix_sum <= oc_sum ? "mosix" : "oppcost", mosix_sum / nsizes, oc_sum / nsizes);
	return 0;
}
