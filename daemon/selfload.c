/* selfload: our own load record. The probe (host or cgroup) is sampled every
 * 100 ms; every LOAD_PERIOD_SAMPLES samples the period closes and both
 * smoothed values move (load/loadcalc.h). The record we advertise carries
 * the exported value (rises at once, decays slowly), normalised by our speed
 * and CPU capacity, and the admin status bits. A quiet node advertises no
 * load: its record has NODE_QUIET and zero figures. */
#include "daemon/node.h"
#include "lib/log.h"
#include "lib/util.h"
#include "load/loadcalc.h"
#include "load/probe.h"

#include <errno.h>
#include <string.h>

#define LOAD_PERIOD_SAMPLES 5

int selfload_init(struct node *n)
{
	n->probe = n->cfg.cgroup ? load_probe_cgroup_new(n->cfg.cgroup) : load_probe_host_new();
	if (!n->probe) {
		fprintf(stderr, "omd: cannot measure the load of %s%s: %s\n",
			n->cfg.cgroup ? "cgroup " : "this host", n->cfg.cgroup ? n->cfg.cgroup : "",
			strerror(errno));
		return -errno ? -errno : -EIO;
	}
	loadcalc_init(&n->lc);
	return 0;
}

void selfload_sample(struct node *n)
{
	struct load_sample s;
	uint64_t now = now_ms();
	int err = load_probe_sample(n->probe, &s);

	if (err) {
		static struct ratelimit rl = RATELIMIT_INIT(60000, 1);

		pr_ratelimited(&rl, LOG_WARN, "load sampling failed: %s", strerror(-err));
		return;
	}
	if (n->last_sample_ms)
		loadcalc_sample(&n->lc, s.runnable, (double)(now - n->last_sample_ms) / 1000.0);
	n->last_sample = s;
	n->last_sample_ms = now;
	if (++n->samples_in_period >= LOAD_PERIOD_SAMPLES) {
		n->samples_in_period = 0;
		loadcalc_update(&n->lc);
	}
}

void selfload_fill(struct node *n, struct om_load_info *out)
{
	const struct load_sample *s = &n->last_sample;
	double norm = loadcalc_norm(n->lc.exported, n->admin.speed, s->capacity);

	memset(out, 0, sizeof(*out));
	out->id = n->self_id;
	loadcalc_fill_info(out, s, norm, n->admin.speed);
	out->status = admin_status_bits(n);
	if (n->admin.quiet) {
		uint16_t st = out->status;

		memset(out, 0, sizeof(*out));
		out->id = n->self_id;
		out->status = st;
	}
}
