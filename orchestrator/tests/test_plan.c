/* SPDX-License-Identifier: MIT */
/*
 * The plan of a run (which cells each guest runs and its kernel command line)
 * against the real guest runner's catalog (build/kfarm-guest --list), without
 * booting anything: run_plan().
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "config.h"
#include "run.h"
#include "util.h"

struct fixture {
	struct config cfg;
	struct kernel k[2];
	struct run_opts o;
};

/* Two kernels, the defaults, then @cfgtext's fields; @list: --scenarios. */
static void setup(struct fixture *f, const char *cfgtext, const char *list)
{
	struct cells_sel sel;
	struct kf_error e;

	memset(f, 0, sizeof(*f));
	config_init(&f->cfg);
	ck_assert_msg(config_load_string(&f->cfg, cfgtext, "<test>", &e) == 0, "%s", e.text);
	f->k[0].spec.name = (char *)"ka";
	f->k[1].spec.name = (char *)"kb";
	f->o.cfg = &f->cfg;
	f->o.kernels = f->k;
	f->o.nkernels = 2;
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
	cells_free(f->o.scenarios, f->o.nscenarios);
	free(f->o.racy);
	free(f->o.variant);
	free(f->o.reps_max);
	json_decref(f->o.catalog);
	config_release(&f->cfg);
}

/* The value of kfarm.KEY= in @append (owned), or NULL. */
static char *param(const char *append, const char *key)
{
	char *pat = xasprintf(" kfarm.%s=", key), *at = strstr(append, pat), *v = NULL;

	if (at) {
		at += strlen(pat);
		v = strndup(at, strcspn(at, " "));
	}
	free(pat);
	return v;
}

/* The cells of @space from the guest runner, selftests left out. */
static json_t *space_ids(const char *space)
{
	struct kf_error e;
	json_t *l = run_list_scenarios(space, &e), *ids = json_array(), *c;
	size_t i;

	ck_assert_msg(l != NULL, "%s", e.text);
	json_array_foreach(l, i, c)
		if (strcmp(json_string_value(json_object_get(c, "group")), "selftest"))
			json_array_append(ids, json_object_get(c, "id"));
	json_decref(l);
	return ids;
}

static int has(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

static int cmp_len_desc(const void *x, const void *y)
{
	size_t a = strlen(json_string_value(*(json_t *const *)x));
	size_t b = strlen(json_string_value(*(json_t *const *)y));

	return (a < b) - (a > b);
}

/* Sort an array of strings, the longest first. */
static void json_array_sort_by_len(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	json_t **v = xcalloc(n + 1, sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), cmp_len_desc);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

static json_t *plan_of(struct fixture *f, char *const *want, size_t nwant)
{
	struct kf_error e;
	json_t *p = run_plan(&f->o, want, nwant, &e);

	ck_assert_msg(p != NULL, "%s", e.text);
	return p;
}

START_TEST(test_default_plan)
{
	struct fixture f;
	json_t *plan, *g, *sample = space_ids("sample"), *base = space_ids("base");
	size_t i, nboot1 = 0;

	setup(&f, "{\"kernels\": [], \"smp\": [1, 2, 4, 8]}", NULL);
	ck_assert_int_eq(f.o.all, 1);
	ck_assert_uint_eq(f.o.nscenarios, json_array_size(sample));
	ck_assert_int_eq(f.o.nvariant_smp, 2);
	ck_assert_int_eq(f.o.variant_smp[0], 1);
	ck_assert_int_eq(f.o.variant_smp[1], 2);
	plan = plan_of(&f, NULL, 0);
	json_array_foreach(plan, i, g) {
		const char *a = json_string_value(json_object_get(g, "append"));
		int smp = (int)json_integer_value(json_object_get(g, "smp"));
		json_t *sc = json_object_get(g, "scenarios");
		char *run = param(a, "run"), *space = param(a, "space"), *vr = param(a, "variant_reps");

		/* Well under the kernel's 2048 bytes, whatever the space. */
		ck_assert_msg(strlen(a) < 600, "%zu: %s", strlen(a), a);
		ck_assert_str_eq(space, smp <= 2 ? "sample" : "base");
		if (smp <= 2)
			ck_assert_str_eq(vr, "2");
		else
			ck_assert_ptr_null(vr);
		if (json_integer_value(json_object_get(g, "boot")) == 1) {
			nboot1++;
			ck_assert_str_eq(run, "all");
			ck_assert_uint_eq(json_array_size(sc), json_array_size(smp <= 2 ? sample : base));
		} else {
			/* boots 2..: the racy scenarios' shares, by name */
			size_t j;

			for (j = 0; j < json_array_size(sc); j++)
				ck_assert(has(base, json_string_value(json_array_get(sc, j))));
			ck_assert_ptr_null(strstr(run, "all"));
		}
		free(run);
		free(space);
		free(vr);
	}
	ck_assert_uint_eq(nboot1, 8);
	json_decref(plan);
	json_decref(sample);
	json_decref(base);
	teardown(&f);
}
END_TEST

/* ID[*] and an explicit variant cell: kfarm.run= says ID[*]; variant cells only at variant_smp. */
START_TEST(test_star_and_variant)
{
	struct fixture f;
	json_t *plan, *g, *sample = space_ids("sample"), *full = space_ids("full");
	const char *extra = NULL;
	size_t i, nz = 0;
	char *list;

	/* a cell of tracer-exit-sds in the full space but not in the sample */
	json_array_foreach(full, i, g) {
		const char *id = json_string_value(g);

		if (!strncmp(id, "tracer-exit-sds[", 16) && !has(sample, id)) {
			extra = id;
			break;
		}
	}
	ck_assert_ptr_nonnull(extra);
	json_array_foreach(sample, i, g)
		nz += !strncmp(json_string_value(g), "sds-zero[", 9);
	ck_assert_uint_gt(nz, 1);
	list = xasprintf("sds-zero[*],%s,detach-vs-sigkill", extra);
	setup(&f, "{\"kernels\": [], \"smp\": [1, 2, 4], \"variant_smp\": [2], \"boots\": 2,"
		  " \"variant_reps\": 3}", list);
	ck_assert_int_eq(f.o.all, 0);
	ck_assert_uint_eq(f.o.nscenarios, nz + 3); /* sds-zero itself too */
	plan = plan_of(&f, NULL, 0);
	json_array_foreach(plan, i, g) {
		const char *a = json_string_value(json_object_get(g, "append"));
		int smp = (int)json_integer_value(json_object_get(g, "smp"));
		json_t *sc = json_object_get(g, "scenarios"), *reps = json_object_get(g, "reps");
		char *run = param(a, "run"), *space = param(a, "space"), *rf = param(a, "reps_for");
		char *want;
		size_t j;

		if (json_integer_value(json_object_get(g, "boot")) > 1) {
			ck_assert_str_eq(run, "detach-vs-sigkill");
		} else if (smp == 2) {
			want = xasprintf("sds-zero[*],%s,detach-vs-sigkill", extra);
			ck_assert_str_eq(run, want);
			free(want);
			ck_assert_str_eq(space, "sample");
			ck_assert_uint_eq(json_array_size(sc), nz + 3);
			for (j = 0; j < json_array_size(sc); j++)
				ck_assert_int_eq(json_integer_value(json_array_get(reps, j)),
						 strchr(json_string_value(json_array_get(sc, j)), '[') ? 3 :
						 !strcmp(json_string_value(json_array_get(sc, j)),
							 "detach-vs-sigkill") ? 40 : 20);
		} else {
			ck_assert_str_eq(run, "sds-zero,detach-vs-sigkill");
			ck_assert_str_eq(space, "base");
			ck_assert_uint_eq(json_array_size(sc), 2);
		}
		/* only the racy scenario's count is spelled out */
		ck_assert_ptr_nonnull(rf);
		ck_assert_ptr_null(strchr(rf, '['));
		free(run);
		free(space);
		free(rf);
	}
	json_decref(plan);
	free(list);
	json_decref(sample);
	json_decref(full);
	teardown(&f);
}
END_TEST

/*
 * Many variant cells that showed two outcomes: they join the boots 2.. while
 * the command line has room, and get follow-up guests, split so that every
 * command line fits, for the rest; every such cell gets boots - 1 extra boots
 * at the SMP sizes where it runs, one repetition each (its share of 2).
 */
/* The reps of @id in guest @g of a plan, or -1 when @g does not run it. */
static int guest_reps_of(json_t *g, const char *id)
{
	json_t *sc = json_object_get(g, "scenarios"), *v;
	size_t j;

	json_array_foreach(sc, j, v)
		if (!strcmp(json_string_value(v), id))
			return (int)json_integer_value(json_array_get(json_object_get(g, "reps"), j));
	return -1;
}

/*
 * A request-level scenario (regs-errors) runs at most its cap, which the
 * guest applies by itself (no kfarm.reps_for= entry); fewer reps stay fewer;
 * scenario_reps overrides the cap; other scenarios keep cfg->reps.
 */
START_TEST(test_reps_cap)
{
	static const struct {
		const char *cfg;
		int capped, other;
		const char *reps_for;
	} cases[] = {
		{ "{\"kernels\": [], \"smp\": [1], \"reps\": 20}", 5, 20, NULL },
		{ "{\"kernels\": [], \"smp\": [1], \"reps\": 3}", 3, 3, NULL },
		{ "{\"kernels\": [], \"smp\": [1], \"reps\": 20,"
		  " \"scenario_reps\": {\"regs-errors\": 12}}", 12, 20, "regs-errors:12" },
	};
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct fixture f;
		json_t *plan, *g;
		char *rf;

		setup(&f, cases[c].cfg, "regs-errors,sds-zero");
		plan = plan_of(&f, NULL, 0);
		ck_assert_uint_eq(json_array_size(plan), 2); /* one guest per kernel */
		g = json_array_get(plan, 0);
		ck_assert_int_eq(guest_reps_of(g, "regs-errors"), cases[c].capped);
		ck_assert_int_eq(guest_reps_of(g, "sds-zero"), cases[c].other);
		rf = param(json_string_value(json_object_get(g, "append")), "reps_for");
		if (cases[c].reps_for)
			ck_assert_str_eq(rf, cases[c].reps_for);
		else
			ck_assert_ptr_null(rf);
		free(rf);
		json_decref(plan);
		teardown(&f);
	}
}
END_TEST

START_TEST(test_followups_chunk)
{
	struct fixture f;
	json_t *plan, *g, *extra = json_object();
	char **want;
	size_t i, j, nwant = 0, followups = 0;

	setup(&f, "{\"kernels\": [], \"smp\": [1, 2, 4], \"boots\": 3}", NULL);
	want = xcalloc(f.o.nscenarios, sizeof(*want));
	for (i = 0; i < f.o.nscenarios; i++)
		if (f.o.variant[i] && !strncmp(f.o.scenarios[i], "sds-", 4))
			want[nwant++] = f.o.scenarios[i];
	ck_assert_uint_gt(nwant, 100);
	plan = plan_of(&f, want, nwant);
	json_array_foreach(plan, i, g) {
		const char *a = json_string_value(json_object_get(g, "append"));
		json_t *sc = json_object_get(g, "scenarios"), *reps = json_object_get(g, "reps");
		char *rf = param(a, "reps_for"), *vr = param(a, "variant_reps");

		ck_assert_msg(strlen(a) <= RUN_MAX_CMDLINE, "%zu", strlen(a));
		ck_assert(!rf || strlen(rf) <= RUN_MAX_REPS_FOR);
		followups += json_is_true(json_object_get(g, "followup"));
		if (json_integer_value(json_object_get(g, "boot")) > 1 &&
		    !strcmp(json_string_value(json_object_get(g, "kernel")), "ka")) {
			for (j = 0; j < json_array_size(sc); j++) {
				const char *id = json_string_value(json_array_get(sc, j));
				char *k = xasprintf("%s@%" JSON_INTEGER_FORMAT, id,
						    json_integer_value(json_object_get(g, "smp")));

				if (strchr(id, '[')) {
					ck_assert_int_eq(json_integer_value(json_array_get(reps, j)), 1);
					ck_assert_str_eq(vr, "1");
				}
				json_object_set_new(extra, k, json_integer(
					json_integer_value(json_object_get(extra, k)) + 1));
				free(k);
			}
		}
		free(rf);
		free(vr);
	}
	ck_assert_uint_gt(followups, 4); /* more than one guest per kernel and boot */
	for (i = 0; i < nwant; i++) {
		static const int smps[] = { 1, 2, 4 };

		for (j = 0; j < 3; j++) {
			char *k = xasprintf("%s@%d", want[i], smps[j]);

			ck_assert_msg(json_integer_value(json_object_get(extra, k)) == (smps[j] <= 2 ? 2 : 0),
				      "%s: %" JSON_INTEGER_FORMAT " extra boots", k,
				      json_integer_value(json_object_get(extra, k)));
			free(k);
		}
	}
	free(want);
	json_decref(extra);
	json_decref(plan);
	teardown(&f);
}
END_TEST

/* Bad selections and a first boot that cannot fit are refused with what is wrong named. */
START_TEST(test_errors)
{
	struct config cfg;
	struct cells_sel sel;
	struct kf_error e;
	struct fixture f;
	json_t *sample = space_ids("full"), *c;
	char *list = xstrdup(""), *want;
	size_t i, n = 0;
	int vs[CONFIG_MAX_SMP], nvs;

	config_init(&cfg);
	ck_assert_int_eq(cells_select(&cfg, "sds-zero,nosuch[*]", &sel, &e), -1);
	ck_assert_str_eq(e.source, "--scenarios");
	ck_assert_str_eq(e.text, "unknown scenario 'nosuch' (see 'kfarm scenarios')");
	ck_assert_int_eq(cells_select(&cfg, "sds-zero[sigchld=bogus]", &sel, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "unknown cell 'sds-zero[sigchld=bogus]': scenario "
				     "'sds-zero' has no such combination"));
	ck_assert_int_eq(cells_select(&cfg, "sds-zero[sigchld=ign", &sel, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "'sds-zero[sigchld=ign' is not a cell"));
	/* the axes in another order name the same cell, taken in the guest's order */
	ck_assert_int_eq(cells_select(&cfg, "sds-zero[wait=waitpid,sigchld=ign]", &sel, &e), 0);
	ck_assert_uint_eq(sel.n, 1);
	ck_assert_str_eq(sel.ids[0], "sds-zero[sigchld=ign,wait=waitpid]");
	cells_sel_release(&sel);
	ck_assert_int_eq(config_add_scenario_reps(&cfg, "sds-zero[wait=waitpid,sigchld=ign]=3",
						  "--reps-for", &e), 0);
	ck_assert_int_eq(cells_select(&cfg, NULL, &sel, &e), -1);
	ck_assert_str_eq(e.text, "'sds-zero[wait=waitpid,sigchld=ign]': write it as "
			 "'sds-zero[sigchld=ign,wait=waitpid]' (the axes in the guest's order)");
	/* variant_smp must be SMP sizes of the run */
	cfg.variant_smp[0] = 3;
	cfg.nvariant_smp = 1;
	ck_assert_int_eq(config_variant_smp(&cfg, vs, &nvs, &e), -1);
	ck_assert_str_eq(e.source, "variant_smp");
	ck_assert_str_eq(e.text, "3 is not one of the run's SMP sizes (1,2,4,8)");
	config_release(&cfg);

	/* Variant cells named one by one, the longest first, past 2200 bytes: too long. */
	json_array_sort_by_len(sample);
	json_array_foreach(sample, i, c) {
		char *t;

		if (!strchr(json_string_value(c), '[') || strlen(list) > 2200)
			continue;
		t = xasprintf("%s%s%s", list, n++ ? "," : "", json_string_value(c));
		free(list);
		list = t;
	}
	ck_assert_uint_gt(strlen(list), 2200);
	setup(&f, "{\"kernels\": [], \"smp\": [1]}", list);
	ck_assert_ptr_null(run_plan(&f.o, NULL, 0, &e));
	ck_assert_str_eq(e.source, "scenarios");
	ck_assert_ptr_nonnull(strstr(e.text, "the kernel command line of ka's boot 1 at SMP 1 would be"));
	want = xasprintf("(%zu cells), more than the 2000 kfarm allows", n);
	ck_assert_ptr_nonnull(strstr(e.text, want));
	free(want);
	teardown(&f);
	free(list);
	json_decref(sample);
}
END_TEST

/* Σ reps of plan guest @g: what its block is ordered by. */
static long guest_work(json_t *g)
{
	json_t *r;
	size_t i;
	long n = 0;

	json_array_foreach(json_object_get(g, "reps"), i, r)
		n += (long)json_integer_value(r);
	return n;
}

/*
 * Blocks run longest first: within each phase (boot 1, then boots 2..) a
 * block's guests have no more repetitions than the block before, and at as
 * many, no more vCPUs; whatever the seed. The base space at one boot gives
 * every SMP size the same work: 8, 4, 2, 1. The default (sample) space
 * gives SMP 1 and 2 the variant cells: they go first.
 */
START_TEST(test_longest_first)
{
	int seed, c;

	for (c = 0; c < 2; c++)
		for (seed = 1; seed <= 5; seed++) {
			struct fixture f;
			char text[256];
			json_t *plan, *g, *prev = NULL;
			size_t i;
			int order[4], no = 0;

			snprintf(text, sizeof(text), "{\"kernels\": [], \"smp\": [1, 2, 4, 8], "
				 "\"space\": \"%s\", \"boots\": %d, \"seed\": %d}",
				 c ? "sample" : "base", c ? 5 : 1, seed);
			setup(&f, text, NULL);
			plan = plan_of(&f, NULL, 0);
			json_array_foreach(plan, i, g) {
				long w = guest_work(g), pw;
				int smp = (int)json_integer_value(json_object_get(g, "smp"));
				int boot = (int)json_integer_value(json_object_get(g, "boot"));

				if (prev && json_equal(json_object_get(prev, "block"),
						       json_object_get(g, "block"))) {
					prev = g;
					continue;
				}
				if (boot == 1 && no < 4)
					order[no++] = smp;
				if (prev && (boot == 1) == (json_integer_value(json_object_get(prev, "boot")) == 1)) {
					pw = guest_work(prev);
					ck_assert_msg(pw > w || (pw == w && json_integer_value(
						json_object_get(prev, "smp")) >= smp),
						"seed %d: block of smp %d boot %d (%ld reps) after one of "
						"%ld reps", seed, smp, boot, w, pw);
				}
				prev = g;
			}
			ck_assert_int_eq(no, 4);
			if (c == 0) {
				ck_assert_int_eq(order[0], 8);
				ck_assert_int_eq(order[1], 4);
				ck_assert_int_eq(order[2], 2);
				ck_assert_int_eq(order[3], 1);
			} else {
				ck_assert_int_eq(order[0], 2);
				ck_assert_int_eq(order[1], 1);
			}
			json_decref(plan);
			teardown(&f);
		}
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *t = tcase_create("plan");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_default_plan);
	tcase_add_test(t, test_star_and_variant);
	tcase_add_test(t, test_followups_chunk);
	tcase_add_test(t, test_reps_cap);
	tcase_add_test(t, test_errors);
	tcase_add_test(t, test_longest_first);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
