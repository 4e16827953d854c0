/* SPDX-License-Identifier: MIT */
/*
 * The tally behind `kfarm calibrate` (calibrate.h): verdict counts per
 * (scenario, smp) over A/A diffs, and false-positive rates with exact
 * (Clopper-Pearson) intervals from stats.c.
 */
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "diff.h"
#include "stats.h"
#include "util.h"

struct calibrate {
	char *kernel;
	double alpha;
	int runs;
	int runs_with_fp;	/* runs with any false positive */
	json_t *cells;		/* [{scenario, smp, verdicts: {verdict: n}}] in first-seen order */
	json_t *dirs;
};

struct calibrate *calibrate_new(const char *kernel, double alpha)
{
	struct calibrate *c = xcalloc(1, sizeof(*c));

	c->kernel = xstrdup(kernel);
	c->alpha = alpha;
	c->cells = json_array();
	c->dirs = json_array();
	return c;
}

void calibrate_free(struct calibrate *c)
{
	if (!c)
		return;
	free(c->kernel);
	json_decref(c->cells);
	json_decref(c->dirs);
	free(c);
}


static json_t *cell_tally(struct calibrate *c, const char *scenario, json_int_t smp)
{
	json_t *t, *v;
	size_t i;

	json_array_foreach(c->cells, i, t)
		if (json_integer_value(json_object_get(t, "smp")) == smp &&
		    !strcmp(json_string_value(json_object_get(t, "scenario")), scenario))
			return t;
	v = json_object();
	for (i = 0; diff_verdict_name(i); i++)
		json_object_set_new(v, diff_verdict_name(i), json_integer(0));
	t = json_pack("{s:s, s:I, s:o}", "scenario", scenario, "smp", smp, "verdicts", v);
	json_array_append_new(c->cells, t);
	return t;
}

int calibrate_add(struct calibrate *c, json_t *diff, const char *run_dir, struct kf_error *e)
{
	const char *schema = json_string_value(json_object_get(diff, "schema"));
	json_t *cell;
	size_t i;
	int any = 0;

	if (!schema || strcmp(schema, DIFF_SCHEMA))
		return error_set(e, run_dir, 0, 0, "not a %s object", DIFF_SCHEMA);
	json_array_foreach(json_object_get(diff, "cells"), i, cell) {
		const char *scen = json_string_value(json_object_get(cell, "scenario"));
		const char *verdict = json_string_value(json_object_get(cell, "verdict"));
		json_t *smp = json_object_get(cell, "smp"), *v;

		if (!scen || !verdict || !json_is_integer(smp))
			return error_set(e, run_dir, 0, 0, "diff cells[%zu] lacks scenario, smp or verdict",
					 i);
		v = json_object_get(cell_tally(c, scen, json_integer_value(smp)), "verdicts");
		json_object_set_new(v, verdict,
				    json_integer(json_integer_value(json_object_get(v, verdict)) + 1));
		any |= diff_verdict_info(verdict)->differs;
	}
	c->runs++;
	c->runs_with_fp += any;
	json_array_append_new(c->dirs, json_string(run_dir));
	return 0;
}

/* {"false_positives": x, "of": n, "rate": x/n, "interval": [lo, hi]} */
static json_t *rate(long x, long n)
{
	double lo = 0, hi = 1;

	if (n > 0)
		stats_clopper_pearson(x, n, CALIBRATE_LEVEL, &lo, &hi);
	return json_pack("{s:I, s:I, s:f, s:[f, f]}", "false_positives", (json_int_t)x, "of",
			 (json_int_t)n, "rate", n ? (double)x / (double)n : 0.0,
			 "interval", lo, hi);
}

json_t *calibrate_report(const struct calibrate *c)
{
	json_t *cells = json_array(), *t, *total_v = json_object();
	long fp_all = 0, n_all = 0;
	size_t i, j;

	for (j = 0; diff_verdict_name(j); j++)
		json_object_set_new(total_v, diff_verdict_name(j), json_integer(0));
	json_array_foreach(c->cells, i, t) {
		json_t *v = json_object_get(t, "verdicts"), *out, *r;
		long fp = 0, n = 0;

		for (j = 0; diff_verdict_name(j); j++) {
			json_int_t k = json_integer_value(json_object_get(v, diff_verdict_name(j)));

			n += (long)k;
			if (diff_verdict_info(diff_verdict_name(j))->differs)
				fp += (long)k;
			json_object_set_new(total_v, diff_verdict_name(j), json_integer(
				json_integer_value(json_object_get(total_v, diff_verdict_name(j))) + k));
		}
		out = json_deep_copy(t);
		r = rate(fp, n);
		json_object_update(out, r);
		json_decref(r);
		json_array_append_new(cells, out);
		fp_all += fp;
		n_all += n;
	}
	t = rate(fp_all, n_all);
	json_object_set_new(t, "verdicts", total_v);
	return json_pack("{s:s, s:s, s:f, s:f, s:i, s:O, s:o, s:o, s:o}", "schema",
			 CALIBRATE_SCHEMA, "kernel", c->kernel, "alpha", c->alpha,
			 "level", CALIBRATE_LEVEL, "runs", c->runs, "run_dirs", c->dirs,
			 "cells", cells, "total", t, "family", rate(c->runs_with_fp, c->runs));
}

static void print_rate(FILE *f, json_t *r)
{
	json_t *iv = json_object_get(r, "interval");

	fprintf(f, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " = %.1f%% [%.1f%%, %.1f%%]",
		json_integer_value(json_object_get(r, "false_positives")),
		json_integer_value(json_object_get(r, "of")),
		100 * json_real_value(json_object_get(r, "rate")),
		100 * json_real_value(json_array_get(iv, 0)),
		100 * json_real_value(json_array_get(iv, 1)));
}

void calibrate_print(FILE *f, json_t *report)
{
	json_t *cells = json_object_get(report, "cells"), *t;
	int ws = (int)strlen("SCENARIO");
	size_t i, j;

	json_array_foreach(cells, i, t) {
		int n = (int)strlen(json_string_value(json_object_get(t, "scenario")));

		if (n > ws)
			ws = n;
	}
	fprintf(f, "%-*s  SMP", ws, "SCENARIO");
	for (j = 0; diff_verdict_name(j); j++)
		fprintf(f, "  %s", diff_verdict_name(j));
	fprintf(f, "  FALSE POSITIVES (%.0f%% interval)\n",
		100 * json_real_value(json_object_get(report, "level")));
	json_array_foreach(cells, i, t) {
		json_t *v = json_object_get(t, "verdicts");

		fprintf(f, "%-*s  %3" JSON_INTEGER_FORMAT, ws,
			json_string_value(json_object_get(t, "scenario")),
			json_integer_value(json_object_get(t, "smp")));
		for (j = 0; diff_verdict_name(j); j++)
			fprintf(f, "  %*" JSON_INTEGER_FORMAT, (int)strlen(diff_verdict_name(j)),
				json_integer_value(json_object_get(v, diff_verdict_name(j))));
		fputs("  ", f);
		print_rate(f, t);
		fputc('\n', f);
	}
	fprintf(f, "%s, %d A/A runs, alpha %g (family-wise, Holm)\n",
		json_string_value(json_object_get(report, "kernel")),
		(int)json_integer_value(json_object_get(report, "runs")),
		json_real_value(json_object_get(report, "alpha")));
	fputs("cell verdicts changed or distribution-changed: ", f);
	print_rate(f, json_object_get(report, "total"));
	fputs("\nruns with any: ", f);
	print_rate(f, json_object_get(report, "family"));
	fputc('\n', f);
}

int calibrate_exit_status(json_t *report)
{
	json_t *iv = json_object_get(json_object_get(report, "family"), "interval");

	return json_real_value(json_array_get(iv, 0)) > json_real_value(json_object_get(report,
									  "alpha")) ? 1 : 0;
}
