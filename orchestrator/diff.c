/* SPDX-License-Identifier: MIT */
/*
 * The diff engine: compares two kernels' cells (from one run or two) and
 * classifies each (scenario, smp) as same, changed, distribution-changed,
 * flaky, unsupported or error; nondeterministic cells are judged by the exact
 * test in stats.c.
 *
 * Observations are compared as canonical JSON (sorted keys, compact), so two
 * observations are equal exactly when their dumps are equal strings. A side's
 * histogram is reduced to its distinct canonical observations, kept in a JSON
 * object used as a set (key = canonical dump, value = the observation) and in
 * one of counts (key = canonical dump, value = total count).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cells.h"
#include "diff.h"
#include "report.h"
#include "stats.h"
#include "util.h"

#define CANON_FLAGS	(JSON_SORT_KEYS | JSON_COMPACT)
/* Not valid JSON, so never equal to the dump of a value. */
#define ABSENT_KEY	"absent"

enum side_kind { SIDE_OK, SIDE_UNSUPPORTED, SIDE_BAD };

/* One (scenario, smp) of the union of both sides, with its sort rank. */
struct diff_key {
	const char *scenario;	/* borrowed from a run's cell */
	json_int_t smp;
	long rank;
};

static char *canon(json_t *v)
{
	char *s = json_dumps(v, CANON_FLAGS | JSON_ENCODE_ANY);

	if (!s)
		s = xstrdup("null");
	return s;
}

/* Sum of the counts of histogram @h, saturating above DIFF_MAX_REPS. */
static long long hist_total(json_t *h)
{
	const char *k;
	json_t *v;
	long long t = 0;

	json_object_foreach(h, k, v) {
		t += json_integer_value(v);
		if (t > DIFF_MAX_REPS)
			return DIFF_MAX_REPS + 1;
	}
	return t;
}

/*
 * NULL, or why @side's histogram @hist or its boots @boots hold more than
 * DIFF_MAX_REPS repetitions (each count is at most REPORT_MAX_COUNT, but a
 * cell can list many).
 */
static char *side_too_big(const char *side, json_t *hist, json_t *boots)
{
	long long t = hist_total(hist), tb = 0;
	json_t *h;
	size_t i;

	json_array_foreach(boots, i, h) {
		tb += hist_total(h);
		if (tb > DIFF_MAX_REPS)
			break;
	}
	if (t <= DIFF_MAX_REPS && tb <= DIFF_MAX_REPS)
		return NULL;
	return xasprintf("%s: more than %lld repetitions in %s, the most a side may have",
			 side, DIFF_MAX_REPS, t > DIFF_MAX_REPS ? "outcomes" : "boots");
}

/*
 * Classify one side's cell. For SIDE_OK, *set is a new object of its distinct
 * observations, *hist one of their total counts and *boots the per-boot
 * histograms (side_boots()); for SIDE_BAD and SIDE_UNSUPPORTED, *why is an
 * owned explanation prefixed by @side (an unsupported one's reason, when the
 * cell gives one, in parentheses).
 */
static enum side_kind side_classify(json_t *cell, const char *side, json_t **set,
				    json_t **hist, json_t **boots, char **why)
{
	const char *status, *err;
	json_t *outcomes;
	char *bad;

	*set = NULL;
	*hist = NULL;
	*why = NULL;
	if (boots)
		*boots = NULL;
	if (!cell) {
		*why = xasprintf("%s: missing", side);
		return SIDE_BAD;
	}
	if (!json_is_object(cell)) {
		*why = xasprintf("%s: malformed cell", side);
		return SIDE_BAD;
	}
	status = report_cell_status(cell);
	if (!status) {
		*why = xasprintf("%s: cell has no status", side);
		return SIDE_BAD;
	}
	if (!strcmp(status, "unsupported")) {
		err = report_cell_error(cell);
		if (err && !strncmp(err, "unsupported: ", 13))
			err += 13;
		if (err && *err)
			*why = xasprintf("%s: unsupported (%s)", side, err);
		else
			*why = xasprintf("%s: unsupported", side);
		return SIDE_UNSUPPORTED;
	}
	if (strcmp(status, "ok")) {
		err = report_cell_error(cell);
		if (err && *err)
			*why = xasprintf("%s: %s: %s", side, status, err);
		else
			*why = xasprintf("%s: %s", side, status);
		return SIDE_BAD;
	}

	outcomes = report_cell_outcomes(cell);
	if (!json_is_array(outcomes)) {
		*why = xasprintf("%s: ok but outcomes is not an array", side);
		return SIDE_BAD;
	}
	if (json_array_size(outcomes) == 0) {
		*why = xasprintf("%s: ok but no outcomes", side);
		return SIDE_BAD;
	}
	*set = json_object();
	*hist = json_object();
	bad = report_histogram_add(outcomes, "outcomes", *set, *hist);
	if (bad)
		*why = xasprintf("%s: %s", side, bad);
	else if (boots)
		*boots = report_cell_boot_histograms(cell, side, *hist, why);
	if (!*why)
		*why = side_too_big(side, *hist, boots ? *boots : NULL);
	free(bad);
	if (*why) {
		json_decref(*set);
		json_decref(*hist);
		*set = *hist = NULL;
		return SIDE_BAD;
	}
	return SIDE_OK;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Append the keys of the set @keys to @arr, sorted. */
static void append_sorted_keys(json_t *arr, json_t *keys)
{
	const char **v = xcalloc(json_object_size(keys), sizeof(*v));
	const char *k;
	json_t *unused;
	size_t n = 0, i;

	json_object_foreach(keys, k, unused)
		v[n++] = k;
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	free(v);
}

/* Whether two sets (objects used as sets) have the same keys. */
static int set_equal(json_t *x, json_t *y)
{
	const char *k;
	json_t *unused;

	if (json_object_size(x) != json_object_size(y))
		return 0;
	json_object_foreach(x, k, unused)
		if (!json_object_get(y, k))
			return 0;
	return 1;
}

/* Keys of two observations whose values differ (a key on one side only differs). */
static void changed_fields(json_t *fields, json_t *oa, json_t *ob)
{
	json_t *keys = json_object(), *v;
	const char *k;

	json_object_foreach(oa, k, v)
		if (!json_equal(v, json_object_get(ob, k)))
			json_object_set_new(keys, k, json_true());
	json_object_foreach(ob, k, v)
		if (!json_object_get(oa, k))
			json_object_set_new(keys, k, json_true());
	append_sorted_keys(fields, keys);
	json_decref(keys);
}

/* The set of canonical values of @key over the observations in @set. */
static json_t *value_set(json_t *set, const char *key)
{
	json_t *vals = json_object(), *obs;
	const char *unused;

	json_object_foreach(set, unused, obs) {
		json_t *v = json_object_get(obs, key);
		char *c = v ? canon(v) : xstrdup(ABSENT_KEY);

		json_object_set_new(vals, c, json_true());
		free(c);
	}
	return vals;
}

/* Keys whose sets of values over all observations differ between the sides. */
static void flaky_fields(json_t *fields, json_t *sa, json_t *sb)
{
	json_t *all = json_object(), *keys = json_object(), *obs, *v;
	json_t *sets[2] = { sa, sb };
	const char *unused, *k;
	int i;

	for (i = 0; i < 2; i++)
		json_object_foreach(sets[i], unused, obs)
			json_object_foreach(obs, k, v)
				json_object_set_new(all, k, json_true());
	json_object_foreach(all, k, v) {
		json_t *va = value_set(sa, k), *vb = value_set(sb, k);

		if (!set_equal(va, vb))
			json_object_set_new(keys, k, json_true());
		json_decref(va);
		json_decref(vb);
	}
	append_sorted_keys(fields, keys);
	json_decref(keys);
	json_decref(all);
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* Rows of counts, one per boot, over the categories @keys (in their order). */
static long *boot_rows(json_t *boots, const char *const *keys, size_t k)
{
	long *m = xcalloc(json_array_size(boots) * k + 1, sizeof(*m));
	json_t *h;
	size_t i, c;

	json_array_foreach(boots, i, h)
		for (c = 0; c < k; c++)
			m[i * k + c] = (long)json_integer_value(json_object_get(h, keys[c]));
	return m;
}

/*
 * The test of a nondeterministic cell, into @out: with three boots or more
 * over both sides, the boot-level quasi-likelihood F test (stats_quasi_test():
 * the boot, not the repetition, is the unit); with fewer (one boot a side:
 * a run with --boots 1, or an old run), the exact test of the pooled
 * histograms, which assumes every repetition independent and says so. Both
 * come with the effect: the observation whose share moved most, its share on
 * each side and an interval for the difference. Returns the raw p-value.
 */
static double cell_test(json_t *ha, json_t *hb, json_t *sa, json_t *sb, json_t *boots_a,
			json_t *boots_b, json_t *out)
{
	size_t k = json_object_size(ha) + json_object_size(hb), n = 0, c;
	const char **keys = xcalloc(k + 1, sizeof(*keys));
	long *ta = xcalloc(k + 1, sizeof(*ta)), *tb = xcalloc(k + 1, sizeof(*tb));
	long *ra = NULL, *rb = NULL;
	struct stats_effect eff;
	struct kf_error e;
	const char *key;
	double p = 1, phi = 1, df = INFINITY;
	json_t *v;

	json_object_foreach(ha, key, v)
		keys[n++] = key;
	json_object_foreach(hb, key, v)
		if (!json_object_get(ha, key))
			keys[n++] = key;
	for (c = 0; c < n; c++) {
		ta[c] = (long)json_integer_value(json_object_get(ha, keys[c]));
		tb[c] = (long)json_integer_value(json_object_get(hb, keys[c]));
	}
	ra = boot_rows(boots_a, keys, n);
	rb = boot_rows(boots_b, keys, n);
	if (json_array_size(boots_a) + json_array_size(boots_b) >= 3) {
		struct stats_quasi q;

		/*
		 * It fails only when a side's boots are all empty (counts are checked
		 * positive and bounded): then the exact test below decides.
		 */
		if (stats_quasi_test(ra, json_array_size(boots_a), rb, json_array_size(boots_b),
				     n, &q, &e) == 0) {
			p = q.p;
			phi = q.phi;
			df = q.df2;
			json_object_set_new(out, "test", json_string(STATS_QUASI));
			json_object_set_new(out, "dispersion",
					    json_pack("{s:f, s:f, s:f}", "phi", q.phi, "raw",
						      q.phi_raw, "df", q.df2));
		}
	}
	if (!json_object_get(out, "test")) {
		struct stats_result r;

		if (stats_exact_2xk(ta, tb, n, &r, &e) < 0) {
			r.p = 1;
			r.test = STATS_FISHER;
		}
		p = r.p;
		json_object_set_new(out, "test", json_string(r.test));
	}
	json_object_set_new(out, "boots", json_pack("{s:i, s:i}", "a",
			    (int)json_array_size(boots_a), "b", (int)json_array_size(boots_b)));
	json_object_set_new(out, "p_value", json_real(p));
	if (stats_effect(ta, tb, n, phi, df, DIFF_EFFECT_LEVEL, &eff) == 0) {
		json_t *obs = json_object_get(sa, keys[eff.col]);

		json_object_set_new(out, "effect", json_pack("{s:O, s:f, s:f, s:f, s:[f, f], s:f}",
				    "observation", obs ? obs : json_object_get(sb, keys[eff.col]),
				    "a", eff.pa, "b", eff.pb, "difference", eff.diff,
				    "interval", eff.lo, eff.hi, "level", DIFF_EFFECT_LEVEL));
	}
	free(keys);
	free(ta);
	free(tb);
	free(ra);
	free(rb);
	return p;
}

const char *diff_verdict(json_t *cell_a, json_t *cell_b, double alpha, json_t *out)
{
	json_t *sa = NULL, *sb = NULL, *ha = NULL, *hb = NULL, *fields = json_array();
	json_t *boots_a = NULL, *boots_b = NULL;
	char *wa = NULL, *wb = NULL, *reason = NULL;
	enum side_kind ka, kb;
	const char *verdict;
	size_t na, nb;
	double p;
	int tested = 0;

	ka = side_classify(cell_a, "a", &sa, &ha, &boots_a, &wa);
	kb = side_classify(cell_b, "b", &sb, &hb, &boots_b, &wb);

	if (ka == SIDE_BAD || kb == SIDE_BAD) {
		if (ka == SIDE_BAD && kb == SIDE_BAD)
			reason = xasprintf("%s; %s", wa, wb);
		else
			reason = xstrdup(ka == SIDE_BAD ? wa : wb);
		verdict = DIFF_ERROR;
		goto cleanup;
	}
	if (ka == SIDE_UNSUPPORTED && kb == SIDE_UNSUPPORTED) {
		verdict = DIFF_UNSUPPORTED;
		goto cleanup;
	}
	if (ka == SIDE_UNSUPPORTED || kb == SIDE_UNSUPPORTED) {
		reason = xstrdup(ka == SIDE_UNSUPPORTED ? wa : wb);
		verdict = DIFF_CHANGED;
		goto cleanup;
	}

	na = json_object_size(sa);
	nb = json_object_size(sb);
	if (na == 1 && nb == 1) {
		void *ia = json_object_iter(sa), *ib = json_object_iter(sb);

		if (!strcmp(json_object_iter_key(ia), json_object_iter_key(ib))) {
			verdict = DIFF_SAME;
		} else {
			changed_fields(fields, json_object_iter_value(ia),
				       json_object_iter_value(ib));
			verdict = DIFF_CHANGED;
		}
		goto cleanup;
	}

	/* Nondeterministic on at least one side: do the histograms differ? */
	flaky_fields(fields, sa, sb);
	if (set_equal(sa, sb))
		reason = xasprintf("both: the same %zu observations", na);
	else
		reason = xasprintf("a: %zu observation%s, b: %zu observation%s",
				   na, plural(na), nb, plural(nb));
	p = cell_test(ha, hb, sa, sb, boots_a, boots_b, out);
	tested = 1;
	verdict = p < alpha ? DIFF_DIST_CHANGED : DIFF_FLAKY;

cleanup:
	json_object_set_new(out, "fields", fields);
	if (reason)
		json_object_set_new(out, "reason", json_string(reason));
	if (tested)
		json_object_set_new(out, "racy",
				    json_boolean(report_cell_racy(cell_a) || report_cell_racy(cell_b)));
	free(reason);
	json_decref(sa);
	json_decref(sb);
	json_decref(ha);
	json_decref(hb);
	json_decref(boots_a);
	json_decref(boots_b);
	free(wa);
	free(wb);
	return verdict;
}

static long scenario_index(json_t *scenarios, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(scenarios, i, v)
		if (!strcmp(json_string_value(v), name))
			return (long)i;
	return -1;
}

static int cmp_key(const void *x, const void *y)
{
	const struct diff_key *p = x, *q = y;
	int c;

	if (p->rank != q->rank)
		return p->rank < q->rank ? -1 : 1;
	c = strcmp(p->scenario, q->scenario);
	if (c)
		return c;
	return p->smp < q->smp ? -1 : p->smp > q->smp;
}

/* Add the keys of @map that @skip does not hold to @keys. */
static void keys_add(struct diff_key *keys, size_t *n, json_t *map, json_t *skip,
		     json_t *scen_a, json_t *scen_b)
{
	const char *k;
	json_t *c;

	json_object_foreach(map, k, c) {
		struct diff_key *d;
		long ia, ib;

		if (skip && json_object_get(skip, k))
			continue;
		d = &keys[(*n)++];
		d->scenario = report_cell_scenario(c);
		d->smp = report_cell_smp(c);
		ia = scenario_index(scen_a, d->scenario);
		ib = scenario_index(scen_b, d->scenario);
		if (ia >= 0)
			d->rank = ia;
		else if (ib >= 0)
			d->rank = (long)json_array_size(scen_a) + ib;
		else
			d->rank = LONG_MAX;
	}
}

static json_t *side_header(json_t *kernel, const char *name, const char *id)
{
	struct report_kernel_info ki;
	json_t *h = json_pack("{s:s, s:s}", "kernel", name, "run", id);

	report_kernel_info(kernel, &ki);
	if (ki.release)
		json_object_set_new(h, "release", json_string(ki.release));
	return h;
}

/*
 * The repetitions of a replay of @scenario: the run's (its variant_reps for a
 * variant cell); a flaky cell gets more, to settle it.
 */
static int replay_reps(json_t *run_a, const char *scenario, const char *verdict)
{
	int variant = cells_is_variant(scenario);
	json_int_t reps = report_run_reps(run_a, variant);

	if (reps < 1) {
		struct config d;	/* the defaults, from config.c's field table */

		config_init(&d);
		reps = variant ? d.variant_reps : d.reps;
		config_release(&d);
	}
	if (strcmp(verdict, DIFF_FLAKY))
		return (int)reps;
	reps *= 5;
	if (reps < 100)
		reps = 100;
	return reps > 100000 ? 100000 : (int)reps;
}

/*
 * The one canonical observation of a deterministic ok cell (owned), else NULL:
 * only such cells can show that an outcome depends on the SMP size.
 */
static char *deterministic_obs(json_t *cell)
{
	json_t *set, *hist;
	char *why, *obs = NULL;

	if (side_classify(cell, "x", &set, &hist, NULL, &why) == SIDE_OK &&
	    json_object_size(set) == 1)
		obs = xstrdup(json_object_iter_key(json_object_iter(set)));
	json_decref(set);
	json_decref(hist);
	free(why);
	return obs;
}

/*
 * Note @cell's deterministic outcome for its scenario in @seen (scenario ->
 * canonical observation) and append the scenario to @list the first time two
 * SMP sizes disagree.
 */
static void smp_dependence(json_t *seen, json_t *list, json_t *cell, const char *scenario)
{
	char *obs = cell ? deterministic_obs(cell) : NULL;
	json_t *prev, *v;
	size_t i;

	if (!obs)
		return;
	prev = json_object_get(seen, scenario);
	if (!prev) {
		json_object_set_new(seen, scenario, json_string(obs));
	} else if (strcmp(json_string_value(prev), obs)) {
		json_array_foreach(list, i, v)
			if (!strcmp(json_string_value(v), scenario))
				break;
		if (i == json_array_size(list))
			json_array_append_new(list, json_string(scenario));
	}
	free(obs);
}

/* The cells that were tested: every one with a p-value. */
static size_t family_size(json_t *cells)
{
	json_t *c;
	size_t i, m = 0;

	json_array_foreach(cells, i, c)
		m += json_object_get(c, "p_value") != NULL;
	return m;
}

/*
 * One verdict for the whole family of tested cells: Holm's step-down
 * adjustment of their p-values (stats_holm()) controls the probability of
 * any false distribution-changed in the diff at @alpha, whatever the
 * dependence between cells; each tested cell gets "p_adjusted", and is
 * distribution-changed when that is below @alpha, flaky otherwise.
 */
static void family_verdicts(json_t *cells, double alpha)
{
	size_t m = family_size(cells), i, j = 0;
	double *p = xcalloc(m + 1, sizeof(*p)), *adj = xcalloc(m + 1, sizeof(*adj));
	json_t *c;

	json_array_foreach(cells, i, c)
		if (json_object_get(c, "p_value"))
			p[j++] = json_real_value(json_object_get(c, "p_value"));
	stats_holm(p, m, adj);
	j = 0;
	json_array_foreach(cells, i, c) {
		if (!json_object_get(c, "p_value"))
			continue;
		json_object_set_new(c, "p_adjusted", json_real(adj[j]));
		json_object_set_new(c, "verdict", json_string(adj[j] < alpha ? DIFF_DIST_CHANGED :
							      DIFF_FLAKY));
		j++;
	}
	free(p);
	free(adj);
}

json_t *diff_runs(json_t *run_a, const char *ka, json_t *run_b, const char *kb,
		  struct kf_error *e)
{
	return diff_runs_opts(run_a, ka, run_b, kb, NULL, e);
}

json_t *diff_runs_opts(json_t *run_a, const char *ka, json_t *run_b, const char *kb,
		       const struct diff_opts *o, struct kf_error *e)
{
	json_t *map_a = json_object(), *map_b = json_object();
	json_t *diff = NULL, *cells, *summary, *kent_a, *kent_b, *scen_a, *scen_b;
	struct diff_key *keys = NULL;
	json_t *seen_a = json_object(), *seen_b = json_object(), *dep_a, *dep_b, *cell;
	double alpha = o ? o->alpha : DIFF_ALPHA_DEFAULT;
	const char *id_a, *id_b;
	size_t nkeys = 0, i;

	if (!(alpha > 0 && alpha < 1)) {
		error_set(e, "diff", 0, 0, "alpha %g is not between 0 and 1", alpha);
		goto cleanup;
	}
	id_a = report_check(run_a, "run a", e);
	if (!id_a)
		goto cleanup;
	id_b = report_check(run_b, "run b", e);
	if (!id_b)
		goto cleanup;
	kent_a = report_kernel(run_a, ka, e);
	if (!kent_a)
		goto cleanup;
	kent_b = report_kernel(run_b, kb, e);
	if (!kent_b)
		goto cleanup;
	if (report_cells_of(run_a, ka, map_a, e) < 0 ||
	    report_cells_of(run_b, kb, map_b, e) < 0)
		goto cleanup;

	scen_a = report_scenarios(run_a);
	scen_b = report_scenarios(run_b);
	keys = xcalloc(json_object_size(map_a) + json_object_size(map_b), sizeof(*keys));
	keys_add(keys, &nkeys, map_a, NULL, scen_a, scen_b);
	keys_add(keys, &nkeys, map_b, map_a, scen_a, scen_b);
	qsort(keys, nkeys, sizeof(*keys), cmp_key);

	summary = json_object();
	for (i = 0; diff_verdict_name(i); i++)
		json_object_set_new(summary, diff_verdict_name(i), json_integer(0));
	cells = json_array();
	dep_a = json_array();
	dep_b = json_array();
	diff = json_pack("{s:s, s:o, s:o, s:f, s:o, s:{s:o, s:o}, s:o}", "schema", DIFF_SCHEMA,
			 "a", side_header(kent_a, ka, id_a),
			 "b", side_header(kent_b, kb, id_b),
			 "alpha", alpha, "summary", summary,
			 "smp_dependent", "a", dep_a, "b", dep_b, "cells", cells);
	for (i = 0; i < nkeys; i++) {
		char *key = report_cell_key(keys[i].scenario, keys[i].smp);
		json_t *ca = json_object_get(map_a, key), *cb = json_object_get(map_b, key);
		json_t *details = json_object();
		const char *verdict;

		free(key);
		verdict = diff_verdict(ca, cb, alpha, details);
		cell = json_pack("{s:s, s:I, s:s}", "scenario", keys[i].scenario,
				 "smp", keys[i].smp, "verdict", verdict);
		if (ca)
			json_object_set_new(cell, "a", report_cell_digest(ca));
		if (cb)
			json_object_set_new(cell, "b", report_cell_digest(cb));
		json_object_update(cell, details);
		json_decref(details);
		smp_dependence(seen_a, dep_a, ca, keys[i].scenario);
		smp_dependence(seen_b, dep_b, cb, keys[i].scenario);
		json_array_append_new(cells, cell);
	}
	family_verdicts(cells, alpha);
	json_array_foreach(cells, i, cell) {
		const char *verdict = json_string_value(json_object_get(cell, "verdict"));

		json_object_set_new(summary, verdict,
				    json_integer(json_integer_value(json_object_get(summary, verdict)) + 1));
		if (strcmp(verdict, DIFF_SAME) && strcmp(verdict, DIFF_UNSUPPORTED)) {
			char *replay = report_replay_command(run_a, ka, run_b, kb, keys[i].scenario,
							   (long long)keys[i].smp,
							   replay_reps(run_a, keys[i].scenario,
								       verdict));

			if (replay)
				json_object_set_new(cell, "replay", json_string(replay));
			free(replay);
		}
	}
	json_object_set_new(diff, "correction", json_string(DIFF_CORRECTION));
	json_object_set_new(diff, "family", json_integer(family_size(cells)));

cleanup:
	free(keys);
	json_decref(map_a);
	json_decref(map_b);
	json_decref(seen_a);
	json_decref(seen_b);
	return diff;
}

/* Every verdict, in the order of diff.json's "summary"; the last row is also the unknown's. */
static const struct diff_verdict_info verdict_table[] = {
	{ DIFF_SAME, "\033[32m", 0, 0, 0, DIFF_JUNIT_PASS, "PASS" },
	{ DIFF_CHANGED, "\033[33m", 1, 1, 1, DIFF_JUNIT_FAILURE, "FAIL" },
	{ DIFF_DIST_CHANGED, "\033[1;33m", 1, 1, 1, DIFF_JUNIT_FAILURE, "FAIL" },
	{ DIFF_FLAKY, "\033[35m", 0, 1, 0, DIFF_JUNIT_NOTE, "PASS" },
	{ DIFF_UNSUPPORTED, "\033[90m", 0, 0, 0, DIFF_JUNIT_SKIPPED, "SKIP" },
	{ DIFF_ERROR, "\033[31m", 0, 1, 2, DIFF_JUNIT_ERROR, "ERROR" },
};

const char *diff_verdict_name(size_t i)
{
	return i < sizeof(verdict_table) / sizeof(verdict_table[0]) ? verdict_table[i].name : NULL;
}

const struct diff_verdict_info *diff_verdict_info(const char *verdict)
{
	size_t i, n = sizeof(verdict_table) / sizeof(verdict_table[0]);

	for (i = 0; verdict && i < n; i++)
		if (!strcmp(verdict, verdict_table[i].name))
			return &verdict_table[i];
	return &verdict_table[n - 1];
}

int diff_count_differs(json_t *diff)
{
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(verdict_table) / sizeof(verdict_table[0]); i++)
		if (verdict_table[i].differs)
			n += diff_count(diff, verdict_table[i].name);
	return n;
}

int diff_exit_status(json_t *diff)
{
	size_t i;
	int st = 0;

	for (i = 0; i < sizeof(verdict_table) / sizeof(verdict_table[0]); i++)
		if (verdict_table[i].exit_status > st && diff_count(diff, verdict_table[i].name))
			st = verdict_table[i].exit_status;
	return st;
}

int diff_count(json_t *diff, const char *verdict)
{
	json_t *v = json_object_get(json_object_get(diff, "summary"), verdict);

	return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}

/* @side's only observation restricted to @fields, as canonical JSON (owned). */
static char *restricted_obs(json_t *cell, const char *side, json_t *fields)
{
	json_t *outcomes = json_object_get(json_object_get(cell, side), "outcomes");
	json_t *obs = json_object_get(json_array_get(outcomes, 0), "observation");
	json_t *r = json_object(), *f;
	char *s;
	size_t i;

	json_array_foreach(fields, i, f) {
		json_t *v = json_object_get(obs, json_string_value(f));

		if (v && json_string_value(f))
			json_object_set(r, json_string_value(f), v);
	}
	s = canon(r);
	json_decref(r);
	return s;
}

char *diff_cell_detail(json_t *cell)
{
	const char *verdict = json_string_value(json_object_get(cell, "verdict"));
	const char *reason = json_string_value(json_object_get(cell, "reason"));
	json_t *fields = json_object_get(cell, "fields");

	if (!verdict)
		return xstrdup("");
	if (!strcmp(verdict, DIFF_CHANGED) && json_array_size(fields) > 0) {
		char *a = restricted_obs(cell, "a", fields);
		char *b = restricted_obs(cell, "b", fields);
		char *s = xasprintf("a: %s | b: %s", a, b);

		free(a);
		free(b);
		return s;
	}
	if (!strcmp(verdict, DIFF_FLAKY) || !strcmp(verdict, DIFF_DIST_CHANGED)) {
		json_t *p = json_object_get(cell, "p_value"), *f;
		json_t *adj = json_object_get(cell, "p_adjusted");
		json_t *eff = json_object_get(cell, "effect");
		json_t *iv = json_object_get(eff, "interval");
		char *s = xasprintf("%s", reason ? reason : ""), *t;
		size_t i;

		if (json_is_number(p)) {
			t = xasprintf("%s; p=%.3g", s, json_number_value(p));
			free(s);
			s = t;
		}
		if (json_is_number(adj)) {
			t = xasprintf("%s (holm %.3g)", s, json_number_value(adj));
			free(s);
			s = t;
		}
		/* The share that moved most: "b-a=+0.34 [+0.21,+0.46]". */
		if (json_is_number(json_object_get(eff, "difference")) && json_array_size(iv) == 2) {
			t = xasprintf("%s; b-a=%+.2f [%+.2f,%+.2f]", s,
				      json_number_value(json_object_get(eff, "difference")),
				      json_number_value(json_array_get(iv, 0)),
				      json_number_value(json_array_get(iv, 1)));
			free(s);
			s = t;
		}
		json_array_foreach(fields, i, f) {
			t = xasprintf("%s%s%s", s, i ? "," : "; fields: ", json_string_value(f));
			free(s);
			s = t;
		}
		if (json_is_true(json_object_get(cell, "racy"))) {
			t = xasprintf("%s; racy", s);
			free(s);
			s = t;
		}
		return s;
	}
	return xstrdup(reason ? reason : "");
}
