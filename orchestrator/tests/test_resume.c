/* SPDX-License-Identifier: MIT */
/*
 * Resuming a run (kfarm run --resume) without booting anything: the finished
 * guests of a run.json and their own cells (report_done_guests()), which
 * guests of the plan are kept and which boot again (run_resume_plan()), the
 * refusal of a plan that is not the run's, doctored run.json files, and a
 * whole run_execute() of a run whose every guest had finished (its report
 * the same as the one it resumed, nothing booted).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cells.h"
#include "config.h"
#include "history.h"
#include "report.h"
#include "run.h"
#include "util.h"

#define FILE_NAME "first/run.json"
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

struct fixture {
	struct config cfg;
	struct kernel k[2];
	struct run_opts o;
};

/* Two kernels (as resolved: source, path, sha256), @cfgtext's config, --scenarios @list. */
static void setup(struct fixture *f, const char *cfgtext, const char *list)
{
	struct cells_sel sel;
	struct kf_error e;

	memset(f, 0, sizeof(*f));
	config_init(&f->cfg);
	ck_assert_msg(config_load_string(&f->cfg, cfgtext, "<test>", &e) == 0, "%s", e.text);
	f->k[0].spec.name = (char *)"ka";
	f->k[1].spec.name = (char *)"kb";
	f->k[0].source = (char *)"path:/ka";
	f->k[1].source = (char *)"path:/kb";
	f->k[0].path = (char *)"/ka";
	f->k[1].path = (char *)"/kb";
	strcpy(f->k[0].sha256, SHA_A);
	strcpy(f->k[1].sha256, SHA_B);
	f->o.cfg = &f->cfg;
	f->o.kernels = f->k;
	f->o.nkernels = 2;
	f->o.progress_fd = -1;
	ck_assert_msg(config_variant_smp(&f->cfg, f->o.variant_smp, &f->o.nvariant_smp, &e) == 0,
		      "%s", e.text);
	ck_assert_msg(cells_select(&f->cfg, list, &sel, &e) == 0, "%s", e.text);
	f->o.scenarios = sel.ids;
	f->o.racy = sel.racy;
	f->o.variant = sel.variant;
	f->o.reps_max = sel.reps_max;
	f->o.nscenarios = sel.n;
	f->o.all = sel.all;
	f->o.catalog = sel.catalog;
}

static void teardown(struct fixture *f)
{
	size_t i;

	cells_free(f->o.scenarios, f->o.nscenarios);
	free(f->o.racy);
	free(f->o.variant);
	free(f->o.reps_max);
	json_decref(f->o.catalog);
	for (i = 0; i < 2; i++)
		free(f->k[i].release);
	config_release(&f->cfg);
}

/* A plain run of 3 cells, one racy (boots 2 run its share). */
#define CFG_RACY "{\"kernels\": [], \"smp\": [1, 2], \"boots\": 2, \"reps\": 2, \"seed\": 7, " \
		 "\"accel\": \"tcg\"}"
#define LIST_RACY "sds-zero,detach-vs-sigkill,selftest-coin"
/* Deterministic cells only: no boot 2 but follow-ups. */
#define LIST_DET "selftest-coin,sds-zero"

static json_t *plan_of(struct fixture *f, const char *want)
{
	char *w[1] = { (char *)want };
	struct kf_error e;
	json_t *p = run_plan(&f->o, w, want ? 1 : 0, &e);

	ck_assert_msg(p != NULL, "%s", e.text);
	return p;
}

/* kfarm.order= of a plan entry's command line. */
static unsigned long long order_of(json_t *g)
{
	const char *a = json_string_value(json_object_get(g, "append"));
	const char *at = strstr(a, " kfarm.order=");

	ck_assert_ptr_nonnull(at);
	return strtoull(at + 13, NULL, 10);
}

/* The index of (kernel, smp, boot) in @plan, or -1. */
static long plan_find(json_t *plan, const char *k, int smp, int boot)
{
	json_t *g;
	size_t i;

	json_array_foreach(plan, i, g)
		if (!strcmp(json_string_value(json_object_get(g, "kernel")), k) &&
		    json_integer_value(json_object_get(g, "smp")) == smp &&
		    json_integer_value(json_object_get(g, "boot")) == boot)
			return (long)i;
	return -1;
}

/*
 * One repetition histogram: {"x": @v} @count times, and {"x": @v + 1} once
 * more when @two.
 */
static json_t *outcomes(int v, int count, int two)
{
	json_t *o = json_pack("[{s:{s:i}, s:i}]", "observation", "x", v, "count", count);

	if (two)
		json_array_append_new(o, json_pack("{s:{s:i}, s:i}", "observation", "x", v + 1,
						   "count", 1));
	return o;
}

/* Plan entries @a and @b (indices into the plan @arg) by kernel, smp, boot: run.json's order. */
static int cmp_place(const void *a, const void *b, void *arg)
{
	json_t *x = json_array_get(arg, *(const size_t *)a), *y = json_array_get(arg, *(const size_t *)b);
	int d = strcmp(json_string_value(json_object_get(x, "kernel")),
		       json_string_value(json_object_get(y, "kernel")));

	if (!d)
		d = (int)(json_integer_value(json_object_get(x, "smp")) -
			  json_integer_value(json_object_get(y, "smp")));
	if (!d)
		d = (int)(json_integer_value(json_object_get(x, "boot")) -
			  json_integer_value(json_object_get(y, "boot")));
	return d;
}

/*
 * The run.json a first run of @f had written when the guests @done (@n
 * indices into @plan) had finished: each ok, each cell {"x": boot} twice,
 * except that @two (a cell id or NULL) shows a second outcome on boot 1, and
 * that guest @crash (an index, or -1) crashed on its last cell (with an
 * excerpt). Cells merged over boots as a run merges them.
 */
static json_t *first_run(struct fixture *f, json_t *plan, const size_t *done_in, size_t n,
			 const char *two, long crash)
{
	struct report_meta m = {
		.id = "20260101T000000Z-0001", .started = "2026-01-01T00:00:00Z", .config = "<test>",
		.hostname = "h", .host_kernel = "6.1", .host_cpus = 2, .vm_binary = "vm",
		.vm_version = "9", .accel = "tcg", .accel_reason = "set to tcg",
		.reps = f->cfg.reps, .boots = f->cfg.boots, .timeout_ms = f->cfg.timeout_ms,
		.variant_reps = f->cfg.variant_reps, .seed = f->cfg.seed, .space = f->cfg.space,
		.variant_smp = f->o.variant_smp, .nvariant_smp = f->o.nvariant_smp,
	};
	json_t *run = report_new(&m), *parts = json_object(), *g;
	size_t *done = xcalloc(n + 1, sizeof(*done)), i, j, k;
	int si;

	memcpy(done, done_in, n * sizeof(*done));
	qsort_r(done, n, sizeof(*done), cmp_place, plan);
	for (i = 0; i < 2; i++)
		report_add_kernel(run, f->k[i].spec.name, f->k[i].source, "", f->k[i].path,
				  f->k[i].sha256, NULL, "6.1.0-test");
	for (si = 0; si < f->cfg.nsmp; si++)
		report_add_smp(run, f->cfg.smp[si]);
	for (i = 0; i < f->o.nscenarios; i++)
		report_add_scenario(run, f->o.scenarios[i]);
	for (i = 0; i < n; i++) {
		json_t *sc;
		const char *kn, *status = (long)done[i] == crash ? "crashed" : "ok";
		int smp, boot;
		struct report_guest_info gi = { 0 };
		json_t *events = json_array();

		g = json_array_get(plan, done[i]);
		ck_assert_ptr_nonnull(g);
		sc = json_object_get(g, "scenarios");
		kn = json_string_value(json_object_get(g, "kernel"));
		smp = (int)json_integer_value(json_object_get(g, "smp"));
		boot = (int)json_integer_value(json_object_get(g, "boot"));
		for (j = 0; j < json_array_size(sc); j++) {
			const char *id = json_string_value(json_array_get(sc, j));
			int crashed = !strcmp(status, "crashed") && j + 1 == json_array_size(sc);
			json_t *ex = crashed ? json_pack("[s]", "Kernel panic") : NULL;
			json_t *oc = crashed ? NULL : outcomes(boot, 2, two && boot == 1 &&
							       !strcmp(id, two));
			char *key = xasprintf("%s\n%d\n%s", kn, smp, id);
			json_t *list = json_object_get(parts, key);

			if (!list) {
				list = json_array();
				json_object_set_new(parts, key, list);
			}
			/* [boot, the cell this guest reported] */
			json_array_append_new(list, json_pack("[i, o]", boot, report_cell_new(
					      kn, smp, id, crashed ? "crashed" : "ok", oc, 10 * boot,
					      crashed ? "kernel panic" : NULL, 0, ex)));
			json_decref(oc);
			json_decref(ex);
			free(key);
		}
		gi.kernel = kn;
		gi.smp = smp;
		gi.boot = boot;
		gi.status = status;
		gi.accel = "tcg";
		gi.console = "console.log";
		gi.results = "results.log";
		gi.events = events;
		gi.block = (int)json_integer_value(json_object_get(g, "block"));
		gi.followup = json_is_true(json_object_get(g, "followup"));
		gi.order_seed = order_of(g);
		gi.scenarios = sc;
		report_add_guest(run, report_guest_new(&gi),
				 report_overlap_add(NULL, "other", 1, 1, 5 * (long long)i));
		json_decref(events);
	}
	/* the cells: per (kernel, smp, cell), its boots merged in boot order */
	for (i = 0; i < 2; i++)
		for (si = 0; si < f->cfg.nsmp; si++)
			for (k = 0; k < f->o.nscenarios; k++) {
				char *key = xasprintf("%s\n%d\n%s", f->k[i].spec.name, f->cfg.smp[si],
						      f->o.scenarios[k]);
				json_t *list = json_object_get(parts, key), *p[8];
				int bootno[8];
				size_t np = json_array_size(list), x;

				free(key);
				if (!np)
					continue;
				ck_assert_uint_le(np, 8);
				for (x = 0; x < np; x++) {
					bootno[x] = (int)json_integer_value(json_array_get(
						json_array_get(list, x), 0));
					p[x] = json_array_get(json_array_get(list, x), 1);
				}
				report_add_cell(run, report_cell_merge(p, bootno, np, f->k[i].spec.name,
								       f->cfg.smp[si], f->o.scenarios[k]));
			}
	json_decref(parts);
	free(done);
	return run;
}

/* The indices of @plan's guests that match @pred. */
static size_t pick(json_t *plan, int (*pred)(json_t *g), size_t *out)
{
	json_t *g;
	size_t i, n = 0;

	json_array_foreach(plan, i, g)
		if (pred(g))
			out[n++] = i;
	return n;
}

static int is_boot1(json_t *g)
{
	return json_integer_value(json_object_get(g, "boot")) == 1;
}

static int is_any(json_t *g)
{
	(void)g;
	return 1;
}

/* run_resume_plan() of @run, which must succeed. */
static json_t *resume_plan(struct fixture *f, json_t *run)
{
	struct kf_error e;
	json_t *p;

	f->o.resume = run;
	p = run_resume_plan(&f->o, FILE_NAME, &e);
	f->o.resume = NULL;
	ck_assert_msg(p != NULL, "%s: %s", e.source, e.text);
	return p;
}

/* run_resume_plan() of @run, which must fail, naming the file and saying @what. */
static void resume_refused(struct fixture *f, json_t *run, const char *what)
{
	struct kf_error e;
	json_t *p;

	error_clear(&e);
	f->o.resume = run;
	p = run_resume_plan(&f->o, FILE_NAME, &e);
	f->o.resume = NULL;
	ck_assert_msg(p == NULL, "a plan, not the refusal \"%s\"", what);
	ck_assert_str_eq(e.source, FILE_NAME);
	ck_assert_msg(strstr(e.text, what), "\"%s\" does not say \"%s\"", e.text, what);
}

/* Whether plan entry @g is kept. */
static int kept(json_t *g)
{
	return json_is_true(json_object_get(g, "kept"));
}

/* Every guest of @plan (run_plan()) is in @rp (run_resume_plan()) with the same cells, once. */
static void same_guests(json_t *plan, json_t *rp)
{
	json_t *g;
	size_t i;

	ck_assert_uint_eq(json_array_size(rp), json_array_size(plan));
	json_array_foreach(plan, i, g) {
		long at = plan_find(rp, json_string_value(json_object_get(g, "kernel")),
				    (int)json_integer_value(json_object_get(g, "smp")),
				    (int)json_integer_value(json_object_get(g, "boot")));
		json_t *h = json_array_get(rp, (size_t)(at < 0 ? 0 : at));

		ck_assert_msg(at >= 0, "guest %zu of the plan is not in the resumed plan", i);
		ck_assert(json_equal(json_object_get(g, "block"), json_object_get(h, "block")));
		ck_assert(json_equal(json_object_get(g, "followup"), json_object_get(h, "followup")));
		ck_assert_msg(json_equal(json_object_get(g, "scenarios"),
					 json_object_get(h, "scenarios")),
			      "guest %zu: %s vs %s", i,
			      json_dumps(json_object_get(g, "scenarios"), JSON_COMPACT),
			      json_dumps(json_object_get(h, "scenarios"), JSON_COMPACT));
	}
}

/* The finished guests and each one's own cells, out of merged cells. */
START_TEST(test_done_guests)
{
	struct fixture f;
	struct report_done_guest *d;
	struct kf_error e;
	size_t n, idx[16], nidx, i;
	json_t *plan, *run, *c;
	long b2;

	setup(&f, CFG_RACY, LIST_RACY);
	plan = plan_of(&f, NULL);
	nidx = pick(plan, is_any, idx);
	b2 = plan_find(plan, "ka", 2, 2);
	ck_assert_int_ge(b2, 0);
	/* every guest, ka's boot 2 at SMP 2 crashed on its last cell */
	run = first_run(&f, plan, idx, nidx, NULL, b2);
	ck_assert_int_eq(report_done_guests(run, FILE_NAME, &d, &n, &e), 0);
	ck_assert_uint_eq(n, json_array_size(plan));
	for (i = 0; i < n; i++) {
		if (strcmp(d[i].kernel, "ka") || d[i].smp != 2)
			continue;
		c = json_object_get(d[i].cells, "detach-vs-sigkill");
		ck_assert_ptr_nonnull(c);
		/* its own part of the merged cell, not the cell of both boots */
		ck_assert_ptr_null(json_object_get(c, "boots"));
		if (d[i].boot == 1) {
			ck_assert_str_eq(report_cell_status(c), "ok");
			ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_array_get(
				report_cell_outcomes(c), 0), "observation"), "x")), 1);
			ck_assert_ptr_null(json_object_get(c, "excerpt"));
		} else {
			/* a failed guest finished too: kept with its failure */
			ck_assert_str_eq(report_guest_status(d[i].entry), "crashed");
			ck_assert_str_eq(report_cell_status(c), "crashed");
			ck_assert_str_eq(report_cell_error(c), "kernel panic");
			ck_assert_ptr_nonnull(json_object_get(c, "excerpt"));
		}
		ck_assert_uint_eq(json_array_size(d[i].overlap), 1);
		ck_assert_ptr_null(json_object_get(d[i].entry, "overlap"));
	}
	report_done_guests_free(d, n);

	/* interrupted: the failed guest may be one the signal stopped: not final */
	report_set_interrupted(run);
	ck_assert_int_eq(report_done_guests(run, FILE_NAME, &d, &n, &e), 0);
	ck_assert_uint_eq(n, json_array_size(plan) - 1);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(report_guest_status(d[i].entry), "ok");
	report_done_guests_free(d, n);
	json_decref(run);
	json_decref(plan);
	teardown(&f);
}
END_TEST

/* Half a run: the finished guests are kept, the others boot; the plan is the run's. */
START_TEST(test_keep_some)
{
	struct fixture f;
	size_t idx[16], n, i, nkept = 0;
	json_t *plan, *run, *rp, *g;

	setup(&f, CFG_RACY, LIST_RACY);
	plan = plan_of(&f, NULL);
	n = pick(plan, is_boot1, idx);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(json_array_size(plan), 8);
	/* ka and kb at SMP 1, and ka at SMP 2 (kb's guest of that block was cut off) */
	idx[0] = (size_t)plan_find(plan, "ka", 1, 1);
	idx[1] = (size_t)plan_find(plan, "kb", 1, 1);
	idx[2] = (size_t)plan_find(plan, "ka", 2, 1);
	run = first_run(&f, plan, idx, 3, NULL, -1);
	rp = resume_plan(&f, run);
	same_guests(plan, rp);
	json_array_foreach(rp, i, g) {
		int b1 = json_integer_value(json_object_get(g, "boot")) == 1;
		int smp = (int)json_integer_value(json_object_get(g, "smp"));
		int is_kb = !strcmp(json_string_value(json_object_get(g, "kernel")), "kb");

		ck_assert_int_eq(kept(g), b1 && (smp == 1 || !is_kb));
		nkept += kept(g);
	}
	ck_assert_uint_eq(nkept, 3);
	json_decref(rp);

	/* all finished: every guest kept, none to boot */
	json_decref(run);
	n = pick(plan, is_any, idx);
	run = first_run(&f, plan, idx, n, NULL, -1);
	rp = resume_plan(&f, run);
	same_guests(plan, rp);
	json_array_foreach(rp, i, g)
		ck_assert(kept(g));
	json_decref(rp);

	/* interrupted, one guest failed: it boots again, the others are kept */
	json_decref(run);
	run = first_run(&f, plan, idx, n, NULL, plan_find(plan, "kb", 2, 2));
	report_set_interrupted(run);
	rp = resume_plan(&f, run);
	nkept = 0;
	json_array_foreach(rp, i, g)
		nkept += kept(g);
	ck_assert_uint_eq(nkept, n - 1);
	ck_assert(!kept(json_array_get(rp, (size_t)plan_find(rp, "kb", 2, 2))));
	json_decref(rp);
	json_decref(run);
	json_decref(plan);
	teardown(&f);
}
END_TEST

/*
 * A deterministic cell with two outcomes on boot 1 joined a boot 2 block:
 * the kept guest of that block keeps it, its sibling that boots again gets
 * it too (the block runs one list).
 */
START_TEST(test_keep_joins)
{
	struct fixture f;
	size_t idx[16], n;
	json_t *plan, *joined, *run, *rp, *g;

	setup(&f, CFG_RACY, LIST_RACY);
	plan = plan_of(&f, NULL);
	joined = plan_of(&f, "selftest-coin");	/* coin joins every boot 2 */
	n = pick(joined, is_boot1, idx);
	idx[n++] = (size_t)plan_find(joined, "ka", 1, 2);
	run = first_run(&f, joined, idx, n, "selftest-coin", -1);
	rp = resume_plan(&f, run);
	g = json_array_get(rp, (size_t)plan_find(rp, "kb", 1, 2));
	ck_assert(!kept(g));
	ck_assert(json_equal(json_object_get(g, "scenarios"), json_object_get(json_array_get(
		joined, (size_t)plan_find(joined, "kb", 1, 2)), "scenarios")));
	ck_assert(kept(json_array_get(rp, (size_t)plan_find(rp, "ka", 1, 2))));
	/* the plan without joins lacks it: what was kept decided */
	ck_assert(!json_equal(json_object_get(g, "scenarios"), json_object_get(json_array_get(
		plan, (size_t)plan_find(plan, "kb", 1, 2)), "scenarios")));
	json_decref(rp);
	json_decref(run);

	/* a guest that did not run what the plan gives it (ka at SMP 1, boot 1: all) */
	run = first_run(&f, joined, idx, n, NULL, -1);
	json_array_remove(json_object_get(json_array_get(json_object_get(run, "guests"), 0),
					  "scenarios"), 0);
	resume_refused(&f, run, "(kernel ka, SMP 1, boot 1) did not run");
	json_decref(run);
	json_decref(joined);
	json_decref(plan);
	teardown(&f);
}
END_TEST

/*
 * Follow-ups: once the first phase had finished they are planned at once,
 * and a finished follow-up guest is kept in its place; one of a run whose
 * first phase had not finished cannot be.
 */
START_TEST(test_keep_followups)
{
	struct fixture f;
	size_t idx[16], n, i, nf = 0;
	json_t *plan, *run, *rp, *g;
	long fu;

	setup(&f, CFG_RACY, LIST_DET);
	plan = plan_of(&f, "selftest-coin");
	n = pick(plan, is_boot1, idx);
	ck_assert_uint_eq(n, 4);
	fu = plan_find(plan, "kb", 2, 2);
	ck_assert_int_ge(fu, 0);
	ck_assert(json_is_true(json_object_get(json_array_get(plan, (size_t)fu), "followup")));
	idx[n++] = (size_t)fu;
	run = first_run(&f, plan, idx, n, "selftest-coin", -1);
	rp = resume_plan(&f, run);
	same_guests(plan, rp);
	json_array_foreach(rp, i, g) {
		int is_fu = json_is_true(json_object_get(g, "followup"));

		nf += is_fu;
		ck_assert_int_eq(kept(g), !is_fu || i == (size_t)plan_find(rp, "kb", 2, 2));
	}
	ck_assert_uint_eq(nf, 4);
	json_decref(rp);
	json_decref(run);

	/* a boot-1 guest had not finished: no follow-up could have run */
	idx[0] = idx[--n];
	run = first_run(&f, plan, idx, n, "selftest-coin", -1);
	resume_refused(&f, run, "follow-ups come only once every other guest has finished");
	json_decref(run);
	json_decref(plan);
	teardown(&f);
}
END_TEST

/* Another plan is refused, naming the first difference. */
START_TEST(test_other_plan)
{
	struct fixture f;
	size_t idx[16], n;
	json_t *plan, *run;

	setup(&f, CFG_RACY, LIST_RACY);
	plan = plan_of(&f, NULL);
	n = pick(plan, is_boot1, idx);
	run = first_run(&f, plan, idx, n, NULL, -1);
	f.cfg.reps = 3;
	resume_refused(&f, run, "reps was 2 in the run to resume, 3 now");
	f.cfg.reps = 2;
	f.cfg.boots = 3;
	resume_refused(&f, run, "boots was 2 in the run to resume, 3 now");
	f.cfg.boots = 2;
	f.cfg.seed = 8;
	resume_refused(&f, run, "seed was 7 in the run to resume, 8 now");
	f.cfg.seed = 0;	/* no seed given: the run's */
	json_decref(resume_plan(&f, run));
	f.k[1].sha256[0] = 'c';
	resume_refused(&f, run, "kernels[1].sha256 was \"bbbb");
	f.k[1].sha256[0] = 'b';
	f.cfg.timeout_ms = 5000;
	resume_refused(&f, run, "timeout_ms was 10000 in the run to resume, 5000 now");
	json_decref(run);
	json_decref(plan);
	teardown(&f);

	/* other cells: the first one that differs */
	setup(&f, CFG_RACY, LIST_RACY);
	plan = plan_of(&f, NULL);
	run = first_run(&f, plan, idx, n, NULL, -1);
	teardown(&f);
	setup(&f, CFG_RACY, "sds-zero,detach-vs-sigkill");
	resume_refused(&f, run, "the number of scenarios was 3 in the run to resume, 2 now");
	teardown(&f);
	setup(&f, CFG_RACY, "sds-zero,selftest-coin,detach-vs-sigkill");
	resume_refused(&f, run, "scenarios[1] was \"detach-vs-sigkill\"");
	teardown(&f);
	setup(&f, "{\"kernels\": [], \"smp\": [1, 4], \"boots\": 2, \"reps\": 2, \"seed\": 7}",
	      LIST_RACY);
	resume_refused(&f, run, "smp[1] was 2 in the run to resume, 4 now");
	json_decref(run);
	json_decref(plan);
	teardown(&f);
}
END_TEST

/* Where test_doctored() changes the run: the run, guests[@i] or cells[@i]. */
enum where { RUN, GUEST, CELL };

/*
 * Set @key of the run, guests[@i] or cells[@i] of @run to @value (JSON; NULL:
 * delete it); a NULL @key replaces the element itself.
 */
static void doctor(json_t *run, enum where w, size_t i, const char *key, const char *value)
{
	json_t *v = value ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
	json_t *arr = json_object_get(run, w == GUEST ? "guests" : "cells");
	json_t *at = w == RUN ? run : json_array_get(arr, i);

	ck_assert_msg(!value || v, "bad JSON: %s", value);
	if (!key)
		json_array_set(arr, i, v);
	else if (v)
		json_object_set(at, key, v);
	else
		json_object_del(at, key);
	json_decref(v);
}

/* A doctored run.json: an error that names the file and the fault, no crash. */
START_TEST(test_doctored)
{
	static const struct {
		enum where w;
		size_t i;
		const char *key, *value, *says;
	} cases[] = {
		{ RUN, 0, "guests", "{}", "\"guests\" is missing or not an array" },
		{ RUN, 0, "guests", NULL, "\"guests\" is missing or not an array" },
		{ RUN, 0, "cells", "7", "\"cells\" is missing or not an array" },
		{ RUN, 0, "seed", "\"7\"", "\"seed\" is missing or not a positive integer" },
		{ RUN, 0, "seed", "0", "\"seed\" is missing or not a positive integer" },
		{ RUN, 0, "id", "\"../x\"", "\"id\" is missing or not a run id" },
		{ RUN, 0, "started", NULL, "\"started\" is missing or not a timestamp" },
		{ RUN, 0, "qemu", "{}", "qemu.accelerator is missing or not a string" },
		{ RUN, 0, "reps", "\"2\"", "reps was \"2\" in the run to resume, 2 now" },
		{ RUN, 0, "kernels", "[]", "the number of kernels was 0 in the run to resume, 2 now" },
		{ GUEST, 0, NULL, "[]", "guests[0] is not an object with a known status" },
		{ GUEST, 0, "status", "\"fine\"", "guests[0] is not an object with a known status" },
		{ GUEST, 0, "smp", "\"1\"", "guests[0].smp is missing or not an integer" },
		{ GUEST, 0, "smp", "0", "guests[0].smp is missing or not an integer" },
		{ GUEST, 0, "boot", NULL, "guests[0].boot is missing or not an integer" },
		{ GUEST, 0, "block", "-3", "guests[0].block is missing or not an integer" },
		{ GUEST, 0, "kernel", "7", "guests[0].kernel is missing or not a string" },
		{ GUEST, 0, "scenarios", "{}", "guests[0].scenarios is missing or not an array" },
		{ GUEST, 0, "scenarios", "[1]", "guests[0].scenarios[0] is not a cell id" },
		{ GUEST, 0, "scenarios", "[\"sds-zero\", \"sds-zero\"]", "names sds-zero twice" },
		{ GUEST, 0, "scenarios", "[\"no-such-cell\"]",
		  "ran no-such-cell, but \"cells\" has no such cell" },
		{ GUEST, 0, "overlap", "3", "guests[0].overlap is not an array" },
		{ GUEST, 0, "followup", "\"yes\"", "guests[0].followup is not a boolean" },
		{ GUEST, 0, "kernel", "\"kz\"", "guests[0] (kernel kz, SMP 1, boot 1) ran" },
		{ GUEST, 0, "boot", "9", "(kernel ka, SMP 1, boot 9) ran detach-vs-sigkill, but that "
		  "cell has no part for boot 9" },
		{ GUEST, 0, "block", "99", "this plan has it as block" },
		{ GUEST, 0, "order_seed", "5", "order seed 5; this plan has it as block" },
		{ GUEST, 1, "boot", "1", "guests[1] repeats kernel ka, SMP 1, boot 1" },
		{ GUEST, 1, "scenarios", "[\"sds-zero\"]", "ran sds-zero on kernel ka at SMP 1" },
		{ CELL, 0, NULL, "\"x\"", "cells[0] is not an object" },
		{ CELL, 0, "status", "\"great\"", "lacks a known status or outcomes" },
		{ CELL, 0, "outcomes", "{}", "lacks a known status or outcomes" },
		{ CELL, 0, "boots", "{}", "has \"boots\" that is not an array" },
		{ CELL, 0, "boots", "[{\"boot\": 5, \"status\": \"ok\", \"outcomes\": []}]",
		  "has no part for boot 1" },
		{ CELL, 0, "boots", "[7]", "boots[0] of the cell of kernel ka, SMP 1, sds-zero" },
	};
	struct fixture f;
	size_t idx[16], n, i;
	json_t *plan, *run;

	setup(&f, CFG_RACY, LIST_RACY);
	plan = plan_of(&f, NULL);
	n = pick(plan, is_any, idx);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* guests[0]: ka at SMP 1, boot 1; cells[0]: its sds-zero (no other boot ran it) */
		run = first_run(&f, plan, idx, n, NULL, -1);
		doctor(run, cases[i].w, cases[i].i, cases[i].key, cases[i].value);
		resume_refused(&f, run, cases[i].says);
		json_decref(run);
	}
	json_decref(plan);
	teardown(&f);
}
END_TEST

/*
 * run_execute() of a run whose every guest had finished: nothing boots (no
 * guest could: no image), and the report is the one resumed, but for when
 * it finished, its cells merged again from each guest's own.
 */
START_TEST(test_execute_finished)
{
	struct fixture f;
	char tmpl[] = "/tmp/kfarm-resume-XXXXXX", *dir = NULL;
	size_t idx[16], n, i;
	json_t *plan, *first, *run = NULL, *g;
	struct kf_error e;
	const char *keys[] = { "id", "started", "seed", "kernels", "cells", "guests", "scenarios" };

	setup(&f, CFG_RACY, LIST_RACY);
	plan = plan_of(&f, "selftest-coin");
	n = pick(plan, is_any, idx);
	first = first_run(&f, plan, idx, n, "selftest-coin", plan_find(plan, "kb", 1, 2));
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	f.o.dir = tmpl;
	f.o.resume = first;
	ck_assert_msg(run_execute(&f.o, &dir, &run, &e) == 0, "%s: %s", e.source, e.text);
	/* each kernel's own inputs key is new (report_set_inputs() once the initramfs is read) */
	json_array_foreach(json_object_get(run, "kernels"), i, g) {
		ck_assert_uint_eq(strlen(json_string_value(json_object_get(g, "inputs_key"))), 64);
		json_object_del(g, "inputs_key");
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(json_equal(json_object_get(first, keys[i]), json_object_get(run, keys[i])),
			      "%s differs: %s", keys[i],
			      json_dumps(json_object_get(run, keys[i]), JSON_COMPACT));
	ck_assert_ptr_nonnull(json_object_get(run, "finished"));
	ck_assert_ptr_null(json_object_get(run, "interrupted"));
	/* the kernels' releases the run had learnt */
	json_array_foreach(json_object_get(run, "kernels"), i, g)
		ck_assert_str_eq(json_string_value(json_object_get(g, "release")), "6.1.0-test");
	ck_assert_str_eq(dir, tmpl);
	free(dir);
	json_decref(run);
	run = report_load(tmpl, &e);
	ck_assert_msg(run != NULL, "%s", e.text);
	ck_assert(json_equal(json_object_get(first, "cells"), json_object_get(run, "cells")));
	json_decref(run);
	{
		char *p = xasprintf("%s/run.json", tmpl);

		unlink(p);
		free(p);
		rmdir(tmpl);
	}
	json_decref(first);
	json_decref(plan);
	teardown(&f);
}
END_TEST

/*
 * -o naming a directory that holds a run: a new run there would replace its
 * run.json and mix the logs, so it is refused, naming the directory and the
 * ways out, unless it is that run resumed. run_execute() refuses it before
 * anything else (the config's QEMU does not exist either: nothing could boot).
 */
START_TEST(test_dir_taken)
{
	struct fixture f;
	char tmpl[] = "/tmp/kfarm-resume-XXXXXX", *file, *dir = NULL, want[512];
	json_t *run = NULL;
	struct kf_error e;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(run_dir_check(tmpl, 0, &e), 0);	/* a folder without a run */
	ck_assert_int_eq(run_dir_check(NULL, 0, &e), 0);	/* a new one */
	ck_assert_int_eq(run_dir_check("", 0, &e), -1);
	file = xasprintf("%s/run.json", tmpl);
	ck_assert_int_eq(util_write_atomic(file, "{}\n", 3, &e), 0);
	ck_assert_int_eq(run_dir_check(tmpl, 0, &e), -1);
	snprintf(want, sizeof(want), "already holds a run (its run.json): a new run there would "
		 "replace that report and mix the two runs' logs; give another -o, or --resume "
		 "%s to finish that run", tmpl);
	ck_assert_str_eq(e.source, tmpl);
	ck_assert_str_eq(e.text, want);
	ck_assert_int_eq(run_dir_check(tmpl, 1, &e), 0);
	setup(&f, "{\"kernels\": [], \"smp\": [1], \"qemu\": \"/nonexistent/qemu\", "
	      "\"accel\": \"tcg\"}", "sds-zero");
	f.o.dir = tmpl;
	ck_assert_int_eq(run_execute(&f.o, &dir, &run, &e), -1);
	ck_assert_str_eq(e.text, want);
	ck_assert_ptr_null(run);
	ck_assert_ptr_null(dir);
	teardown(&f);
	unlink(file);
	rmdir(tmpl);
	free(file);
}
END_TEST

/*
 * Reuse by content: a finished run in a reports folder (made as
 * test_execute_finished makes one, then indexed), and a new run there whose
 * inputs are the same for both kernels takes every guest (nothing boots:
 * no image could), with that run's seed and cells; with kb's image changed,
 * ka's guests are taken and kb's boot (and fail: there is no image).
 */
START_TEST(test_reuse_sides)
{
	struct fixture f;
	char tmpl[] = "/tmp/kfarm-reuse-XXXXXX", *dir = NULL, *d1, *d2, *d3, *cmd;
	size_t idx[16], n, i;
	json_t *plan, *first, *run = NULL, *g, *run1;
	struct report_kernel_info ki;
	struct kf_error e;

	setup(&f, CFG_RACY, LIST_RACY);
	plan = plan_of(&f, NULL);
	n = pick(plan, is_any, idx);
	first = first_run(&f, plan, idx, n, NULL, -1);
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	d1 = xasprintf("%s/r1", tmpl);
	d2 = xasprintf("%s/r2", tmpl);
	d3 = xasprintf("%s/r3", tmpl);
	f.o.dir = d1;
	f.o.resume = first;
	ck_assert_msg(run_execute(&f.o, &dir, &run1, &e) == 0, "%s: %s", e.source, e.text);
	free(dir);
	ck_assert_msg(history_add(tmpl, run1, NULL, d1, &e) == 0, "%s", e.text);
	/* the same inputs, a new seed: every guest taken from r1, with its seed */
	f.o.resume = NULL;
	f.o.dir = d2;
	f.o.reuse_dir = tmpl;
	f.o.reuse_sides = 1;
	f.cfg.seed = 0;
	/* r1 resumed a run that did not say how TCG ran its vCPUs nor its firmware (as before) */
	free(f.cfg.tcg_threads);
	f.cfg.tcg_threads = xstrdup("multi");
	free(f.cfg.firmware);
	f.cfg.firmware = xstrdup("seabios");
	ck_assert_msg(run_execute(&f.o, &dir, &run, &e) == 0, "%s: %s", e.source, e.text);
	free(dir);
	ck_assert_int_eq(json_integer_value(json_object_get(run, "seed")), 7);
	ck_assert_uint_eq(report_nguests(run), report_nguests(run1));
	json_array_foreach(json_object_get(run, "guests"), i, g) {
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(g, "reused"), "run")),
				 report_id(run1));
		ck_assert_str_eq(json_string_value(json_object_get(g, "console")), "../r1/console.log");
	}
	ck_assert(json_equal(json_object_get(run1, "cells"), json_object_get(run, "cells")));
	report_kernel_info(report_kernel(run, "kb", NULL), &ki);
	ck_assert_str_eq(ki.reused_from, report_id(run1));
	ck_assert_str_eq(ki.release, "6.1.0-test");
	json_decref(run);
	/* kb's image is another: ka's guests taken, kb's booted (there is no image: they fail) */
	strcpy(f.k[1].sha256, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	free(f.k[1].release);
	f.k[1].release = NULL;
	f.o.dir = d3;
	ck_assert_msg(run_execute(&f.o, &dir, &run, &e) == 0, "%s: %s", e.source, e.text);
	free(dir);
	report_kernel_info(report_kernel(run, "ka", NULL), &ki);
	ck_assert_str_eq(ki.reused_from, report_id(run1));
	report_kernel_info(report_kernel(run, "kb", NULL), &ki);
	ck_assert_ptr_null(ki.reused_from);
	n = 0;
	json_array_foreach(json_object_get(run, "guests"), i, g) {
		int ka = !strcmp(json_string_value(json_object_get(g, "kernel")), "ka");

		ck_assert_int_eq(json_object_get(g, "reused") != NULL, ka);
		if (!ka)
			ck_assert_str_ne(json_string_value(json_object_get(g, "status")), "ok");
		n += !ka;
	}
	ck_assert_uint_ge(n, 2);	/* kb's boot 1 at SMP 1 and 2 at least */
	json_decref(run);
	json_decref(run1);
	cmd = xasprintf("rm -rf %s", tmpl);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(d1);
	free(d2);
	free(d3);
	json_decref(first);
	json_decref(plan);
	teardown(&f);
}
END_TEST

static Suite *resume_suite(void)
{
	Suite *s = suite_create("resume");
	TCase *t = tcase_create("resume");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_done_guests);
	tcase_add_test(t, test_keep_some);
	tcase_add_test(t, test_keep_joins);
	tcase_add_test(t, test_keep_followups);
	tcase_add_test(t, test_other_plan);
	tcase_add_test(t, test_doctored);
	tcase_add_test(t, test_execute_finished);
	tcase_add_test(t, test_reuse_sides);
	tcase_add_test(t, test_dir_taken);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resume_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
