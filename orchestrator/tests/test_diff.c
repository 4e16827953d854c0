/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "export.h"
#include "report.h"
#include "util.h"

#define DATA KFARM_TOP "/orchestrator/tests/data/diff/"

/* Set KFARM_UPDATE_GOLDEN=1 to rewrite the golden files (then review the diff). */
static int update_golden(void)
{
	const char *u = getenv("KFARM_UPDATE_GOLDEN");

	return u && *u && strcmp(u, "0");
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	ck_assert_msg(j != NULL, "bad inline JSON: %s at %d:%d", jerr.text, jerr.line,
		      jerr.column);
	return j;
}

static json_t *load(const char *path)
{
	struct kf_error e;
	json_t *run;

	error_clear(&e);
	run = report_load(path, &e);
	ck_assert_msg(run != NULL, "%s: %s", path, e.text);
	return run;
}

/* Run diff_verdict() on two inline cells ("" for a missing side) at @alpha; its details. */
static const char *verdict_at(const char *a, const char *b, double alpha, json_t **details)
{
	json_t *ca = *a ? parse(a) : NULL, *cb = *b ? parse(b) : NULL;
	const char *v;

	*details = json_object();
	v = diff_verdict(ca, cb, alpha, *details);
	ck_assert(json_is_array(json_object_get(*details, "fields")));
	json_decref(ca);
	json_decref(cb);
	return v;
}

/* The same at the default alpha, with the fields and reason (owned) taken out. */
static const char *verdict(const char *a, const char *b, json_t **fields, char **reason)
{
	json_t *d;
	const char *v = verdict_at(a, b, DIFF_ALPHA_DEFAULT, &d), *r;

	*fields = json_incref(json_object_get(d, "fields"));
	r = json_string_value(json_object_get(d, "reason"));
	*reason = r ? xstrdup(r) : NULL;
	json_decref(d);
	return v;
}

static void assert_fields(json_t *fields, const char *expected)
{
	json_t *want = parse(expected);

	ck_assert_msg(json_equal(fields, want), "fields %s, expected %s",
		      json_dumps(fields, JSON_COMPACT), expected);
	json_decref(want);
}

#define OK1(obs) "{\"status\":\"ok\",\"outcomes\":[{\"observation\":" obs ",\"count\":4}]}"
#define OK2(o1, o2) "{\"status\":\"ok\",\"outcomes\":[{\"observation\":" o1 ",\"count\":2}," \
		    "{\"observation\":" o2 ",\"count\":2}]}"
#define UNSUP "{\"status\":\"unsupported\",\"error\":\"no singlestep\",\"outcomes\":[]}"

START_TEST(test_verdict_same)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict(OK1("{\"tracee\":\"running\",\"sigchld\":1}"),
				 OK1("{\"sigchld\":1,\"tracee\":\"running\"}"), &fields, &reason),
			 "same");
	assert_fields(fields, "[]");
	ck_assert_ptr_null(reason);
	json_decref(fields);
}
END_TEST

START_TEST(test_verdict_same_merged_outcomes)
{
	json_t *fields;
	char *reason;

	/* The same observation twice in one histogram is still one observation. */
	ck_assert_str_eq(verdict(OK2("{\"a\":1,\"b\":\"x\"}", "{\"b\":\"x\",\"a\":1}"),
				 OK1("{\"a\":1,\"b\":\"x\"}"), &fields, &reason), "same");
	ck_assert_ptr_null(reason);
	json_decref(fields);
}
END_TEST

START_TEST(test_verdict_changed)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict(OK1("{\"tracee\":\"running\",\"sigchld\":1,\"only_a\":\"x\"}"),
				 OK1("{\"tracee\":\"stopped:SIGSTOP\",\"sigchld\":1,\"cld\":\"CLD_STOPPED\"}"),
				 &fields, &reason), "changed");
	assert_fields(fields, "[\"cld\",\"only_a\",\"tracee\"]");
	ck_assert_ptr_null(reason);
	json_decref(fields);
}
END_TEST

START_TEST(test_verdict_changed_type)
{
	json_t *fields;
	char *reason;

	/* 1 and "1" are different canonical values. */
	ck_assert_str_eq(verdict(OK1("{\"n\":1}"), OK1("{\"n\":\"1\"}"), &fields, &reason),
			 "changed");
	assert_fields(fields, "[\"n\"]");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_flaky_one_side)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict(OK2("{\"tracee\":\"running\",\"sigchld\":1}",
				     "{\"tracee\":\"running\",\"sigchld\":2}"),
				 OK1("{\"tracee\":\"running\",\"sigchld\":1}"), &fields, &reason),
			 "flaky");
	assert_fields(fields, "[\"sigchld\"]");
	ck_assert_str_eq(reason, "a: 2 observations, b: 1 observation");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_flaky_same_set)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict(OK2("{\"t\":\"running\"}", "{\"t\":\"stopped\"}"),
				 OK2("{\"t\":\"stopped\"}", "{\"t\":\"running\"}"), &fields, &reason),
			 "flaky");
	assert_fields(fields, "[]");
	ck_assert_str_eq(reason, "both: the same 2 observations");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_flaky_fields_absent_key)
{
	json_t *fields;
	char *reason;

	/* "x" is absent from one observation of a and from every one of b. */
	ck_assert_str_eq(verdict(OK2("{\"t\":1}", "{\"t\":1,\"x\":\"y\"}"),
				 OK2("{\"t\":1}", "{\"t\":2}"), &fields, &reason), "flaky");
	assert_fields(fields, "[\"t\",\"x\"]");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_error_a)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict("{\"status\":\"timeout\",\"error\":\"2 of 2 repetitions timed out\","
				 "\"outcomes\":[{\"observation\":{\"rep\":\"timeout\"},\"count\":2}]}",
				 OK1("{\"t\":1}"), &fields, &reason), "error");
	ck_assert_str_eq(reason, "a: timeout: 2 of 2 repetitions timed out");
	assert_fields(fields, "[]");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_error_b)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict(OK1("{\"t\":1}"), "{\"status\":\"crashed\",\"outcomes\":[]}",
				 &fields, &reason), "error");
	ck_assert_str_eq(reason, "b: crashed");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_error_both)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict("{\"status\":\"boot-failed\",\"outcomes\":[]}",
				 "{\"status\":\"error\",\"error\":\"results truncated\",\"outcomes\":[]}",
				 &fields, &reason), "error");
	ck_assert_str_eq(reason, "a: boot-failed; b: error: results truncated");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_missing)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict("", OK1("{\"t\":1}"), &fields, &reason), "error");
	ck_assert_str_eq(reason, "a: missing");
	json_decref(fields);
	free(reason);

	ck_assert_str_eq(verdict(UNSUP, "", &fields, &reason), "error");
	ck_assert_str_eq(reason, "b: missing");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_malformed)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict("{\"status\":\"ok\",\"outcomes\":[]}", OK1("{\"t\":1}"),
				 &fields, &reason), "error");
	ck_assert_str_eq(reason, "a: ok but no outcomes");
	json_decref(fields);
	free(reason);

	ck_assert_str_eq(verdict(OK1("{\"t\":1}"),
				 "{\"status\":\"ok\",\"outcomes\":[{\"observation\":3,\"count\":1}]}",
				 &fields, &reason), "error");
	ck_assert_str_eq(reason, "b: outcomes[0].observation is not an object");
	json_decref(fields);
	free(reason);

	ck_assert_str_eq(verdict("{\"outcomes\":[]}", OK1("{\"t\":1}"), &fields, &reason),
			 "error");
	ck_assert_str_eq(reason, "a: cell has no status");
	json_decref(fields);
	free(reason);
}
END_TEST

START_TEST(test_verdict_unsupported)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict(UNSUP, UNSUP, &fields, &reason), "unsupported");
	ck_assert_ptr_null(reason);
	json_decref(fields);

	ck_assert_str_eq(verdict(UNSUP, OK1("{\"t\":1}"), &fields, &reason), "changed");
	ck_assert_str_eq(reason, "a: unsupported (no singlestep)");
	assert_fields(fields, "[]");
	json_decref(fields);
	free(reason);

	ck_assert_str_eq(verdict(OK1("{\"t\":1}"), UNSUP, &fields, &reason), "changed");
	ck_assert_str_eq(reason, "b: unsupported (no singlestep)");
	json_decref(fields);
	free(reason);
}
END_TEST

#define HIST2(o1, n1, o2, n2) "{\"status\":\"ok\",\"outcomes\":[{\"observation\":" o1 \
			      ",\"count\":" #n1 "},{\"observation\":" o2 ",\"count\":" #n2 "}]}"
#define HIST1(o1, n1) "{\"status\":\"ok\",\"outcomes\":[{\"observation\":" o1 ",\"count\":" #n1 "}]}"

START_TEST(test_verdict_distribution_changed)
{
	json_t *d;

	/* 20 x vs 10 x + 10 y: p = 0.000435919790759 (test_stats.c gives the source). */
	ck_assert_str_eq(verdict_at(HIST1("{\"t\":\"x\"}", 20),
				    HIST2("{\"t\":\"x\"}", 10, "{\"t\":\"y\"}", 10), 0.01, &d),
			 "distribution-changed");
	ck_assert_double_eq_tol(json_real_value(json_object_get(d, "p_value")),
				0.000435919790759, 1e-12);
	ck_assert_str_eq(json_string_value(json_object_get(d, "test")), "fisher-exact");
	ck_assert(json_is_false(json_object_get(d, "racy")));
	assert_fields(json_object_get(d, "fields"), "[\"t\"]");
	ck_assert_str_eq(json_string_value(json_object_get(d, "reason")),
			 "a: 1 observation, b: 2 observations");
	json_decref(d);

	/* The same histograms at alpha 0.0001 are only flaky. */
	ck_assert_str_eq(verdict_at(HIST1("{\"t\":\"x\"}", 20),
				    HIST2("{\"t\":\"x\"}", 10, "{\"t\":\"y\"}", 10), 0.0001, &d),
			 "flaky");
	json_decref(d);

	/* Same set of observations, frequencies swapped: 2x2 [[16,4],[4,16]],
	 * p = 0.000359967366787, computed with the script in test_stats.c. */
	ck_assert_str_eq(verdict_at(HIST2("{\"t\":\"x\"}", 16, "{\"t\":\"y\"}", 4),
				    HIST2("{\"t\":\"y\"}", 16, "{\"t\":\"x\"}", 4), 0.01, &d),
			 "distribution-changed");
	ck_assert_double_eq_tol(json_real_value(json_object_get(d, "p_value")),
				0.000359967366787, 1e-12);
	ck_assert_str_eq(json_string_value(json_object_get(d, "reason")),
			 "both: the same 2 observations");
	assert_fields(json_object_get(d, "fields"), "[]");
	json_decref(d);
}
END_TEST

START_TEST(test_verdict_flaky_racy)
{
	json_t *d;
	const char *racy = "{\"status\":\"ok\",\"racy\":true,\"outcomes\":["
			   "{\"observation\":{\"t\":\"x\"},\"count\":19},"
			   "{\"observation\":{\"t\":\"y\"},\"count\":1}]}";

	/* 20 x vs 19 x + 1 y: p = 1 (test_stats.c). */
	ck_assert_str_eq(verdict_at(HIST1("{\"t\":\"x\"}", 20), racy, 0.01, &d), "flaky");
	ck_assert_double_eq_tol(json_real_value(json_object_get(d, "p_value")), 1, 1e-9);
	ck_assert(json_is_true(json_object_get(d, "racy")));
	json_decref(d);

	/* Deterministic verdicts carry no test. */
	ck_assert_str_eq(verdict_at(HIST1("{\"t\":\"x\"}", 20), HIST1("{\"t\":\"y\"}", 3),
				    0.01, &d), "changed");
	ck_assert_ptr_null(json_object_get(d, "p_value"));
	ck_assert_ptr_null(json_object_get(d, "racy"));
	json_decref(d);
}
END_TEST

START_TEST(test_verdict_bad_count)
{
	json_t *fields;
	char *reason;

	ck_assert_str_eq(verdict(OK1("{\"t\":1}"),
				 "{\"status\":\"ok\",\"outcomes\":[{\"observation\":{},\"count\":0}]}",
				 &fields, &reason), "error");
	ck_assert_str_eq(reason, "b: outcomes[0].count is not a positive integer");
	json_decref(fields);
	free(reason);
}
END_TEST

/* Counts past the bounds are errors that name the side and the element, not a crash
 * or a silent p = 1. */
START_TEST(test_verdict_count_bounds)
{
	json_t *fields, *big = json_pack("{s:s, s:[]}", "status", "ok", "outcomes");
	char *reason, *s;
	int i;

	ck_assert_str_eq(verdict(OK1("{\"t\":1}"),
				 "{\"status\":\"ok\",\"outcomes\":[{\"observation\":{},"
				 "\"count\":2147483648}]}", &fields, &reason), "error");
	ck_assert_str_eq(reason, "b: outcomes[0].count 2147483648 is more than 1073741824, "
				 "the most an outcome may count");
	json_decref(fields);
	free(reason);

	/* 2^30 a count is allowed; 513 of them are more than 2^39 in all. */
	for (i = 0; i < 513; i++)
		json_array_append_new(json_object_get(big, "outcomes"),
				      json_pack("{s:{s:i}, s:I}", "observation", "t", i % 2, "count",
						(json_int_t)1 << 30));
	s = json_dumps(big, JSON_COMPACT);
	ck_assert_str_eq(verdict(s, OK1("{\"t\":1}"), &fields, &reason), "error");
	ck_assert_str_eq(reason, "a: more than 549755813888 repetitions in outcomes, the most a "
				 "side may have");
	json_decref(fields);
	free(reason);
	free(s);

	/* At 2^30 a count on both sides: tested, by the chi-square, in bounded memory. */
	json_array_clear(json_object_get(big, "outcomes"));
	for (i = 0; i < 2; i++)
		json_array_append_new(json_object_get(big, "outcomes"),
				      json_pack("{s:{s:i}, s:I}", "observation", "t", i, "count",
						(json_int_t)1 << 30));
	s = json_dumps(big, JSON_COMPACT);
	ck_assert_str_eq(verdict(s, s, &fields, &reason), "flaky");
	json_decref(fields);
	free(reason);
	free(s);
	json_decref(big);
}
END_TEST

START_TEST(test_replay_command)
{
	json_t *run = load(DATA "run-a.json");
	char *cmd;

	cmd = report_replay_command(run, "k-old", run, "k-new", "sds-zero", 2, 0);
	ck_assert_str_eq(cmd, "kfarm compare path:/cache/k-old/vmlinuz path:/cache/k-new/vmlinuz "
			 "--smp 2 --scenarios sds-zero --reps 20 --boots 3 --timeout-ms 5000 --accel tcg");
	free(cmd);
	ck_assert_ptr_null(report_replay_command(run, "k-old", run, "nope", "s", 1, 0));
	json_object_set_new(json_array_get(json_object_get(run, "kernels"), 0), "path",
			    json_string("/tmp/my kernel's/bzImage"));
	cmd = report_replay_command(run, "k-old", run, "k-new", "a b", 1, 7);
	ck_assert_str_eq(cmd, "kfarm compare 'path:/tmp/my kernel'\\''s/bzImage' "
			 "path:/cache/k-new/vmlinuz --smp 1 --scenarios 'a b' --reps 7 "
			 "--boots 3 --timeout-ms 5000 --accel tcg");
	free(cmd);
	/* No image path: the kernel's source. */
	json_object_set_new(json_array_get(json_object_get(run, "kernels"), 0), "path",
			    json_string(""));
	cmd = report_replay_command(run, "k-old", run, "k-new", "x", 1, 1);
	ck_assert_ptr_nonnull(strstr(cmd, "compare deb:linux-image-amd64 path:"));
	free(cmd);
	json_decref(run);
}
END_TEST

/* Compare @diff with the golden diff.json at @path (rewrite it on request). */
static void check_golden_json(json_t *diff, const char *path)
{
	json_error_t jerr;
	json_t *want;

	if (update_golden())
		ck_assert_int_eq(json_dump_file(diff, path, JSON_INDENT(2)), 0);
	want = json_load_file(path, 0, &jerr);
	ck_assert_msg(want != NULL, "%s: %s", path, jerr.text);
	if (!json_equal(diff, want)) {
		char *got = json_dumps(diff, JSON_INDENT(2));

		ck_abort_msg("%s differs; got:\n%s", path, got);
	}
	json_decref(want);
}

/* Compare @text with the golden file at @path (rewrite it on request). */
static void check_golden_text(const char *text, const char *path)
{
	struct kf_error e;
	char *want;

	if (update_golden())
		ck_assert_int_eq(util_write_atomic(path, text, strlen(text), &e), 0);
	want = util_read_file(path, NULL, &e);
	ck_assert_msg(want != NULL, "%s", e.text);
	ck_assert_msg(!strcmp(text, want), "%s differs; got:\n%s", path, text);
	free(want);
}

/* export_table() into a string (owned). */
static char *table(json_t *diff, int colour)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	export_table(f, diff, colour);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* The cell of @diff at @i has @scenario, @smp and @verdict. */
static json_t *cell_at(json_t *diff, size_t i, const char *scenario, int smp, const char *v)
{
	json_t *c = json_array_get(json_object_get(diff, "cells"), i);

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(json_string_value(json_object_get(c, "scenario")), scenario);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "smp")), smp);
	ck_assert_str_eq(json_string_value(json_object_get(c, "verdict")), v);
	return c;
}

START_TEST(test_runs_one_run)
{
	json_t *run = load(DATA "run-a.json"), *diff, *c;
	struct kf_error e;

	diff = diff_runs(run, "k-old", run, "k-new", &e);
	ck_assert_msg(diff != NULL, "%s", e.text);
	ck_assert_str_eq(json_string_value(json_object_get(diff, "schema")), "kfarm.diff/3");
	ck_assert_double_eq(json_real_value(json_object_get(diff, "alpha")), 0.01);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(diff, "a"), "release")),
			 "6.1.0-56-amd64");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(diff, "b"), "kernel")),
			 "k-new");
	ck_assert_int_eq(json_array_size(json_object_get(diff, "cells")), 15);
	ck_assert_int_eq(diff_count(diff, "same"), 3);
	ck_assert_int_eq(diff_count(diff, "changed"), 3);
	ck_assert_int_eq(diff_count(diff, "distribution-changed"), 1);
	ck_assert_int_eq(diff_count(diff, "flaky"), 3);
	ck_assert_int_eq(diff_count(diff, "unsupported"), 1);
	ck_assert_int_eq(diff_count(diff, "error"), 4);
	ck_assert_int_eq(diff_count(diff, "bogus"), 0);
	ck_assert_int_eq(diff_exit_status(diff), 2);
	assert_fields(json_object_get(json_object_get(diff, "smp_dependent"), "a"),
		      "[\"sds-same-sig\",\"sds-other-sig\"]");

	c = cell_at(diff, 0, "sds-same-sig", 1, "same");
	ck_assert_ptr_null(json_object_get(c, "replay"));
	cell_at(diff, 1, "sds-same-sig", 2, "same");
	c = cell_at(diff, 3, "sds-other-sig", 2, "changed");
	assert_fields(json_object_get(c, "fields"), "[\"si_code\",\"tracee\"]");
	ck_assert_str_eq(json_string_value(json_object_get(c, "replay")),
			 "kfarm compare path:/cache/k-old/vmlinuz path:/cache/k-new/vmlinuz "
			 "--smp 2 --scenarios sds-other-sig --reps 20 --boots 3 --timeout-ms 5000 --accel tcg");
	cell_at(diff, 4, "sds-zero", 1, "changed");
	c = cell_at(diff, 5, "sds-sigstop", 1, "flaky");
	/* [[15,5],[20,0]]: p = 0.0471 by the script in test_stats.c: not below 0.01. */
	ck_assert_double_eq_tol(json_real_value(json_object_get(c, "p_value")), 0.0471, 1e-4);
	/* A flaky replay gets 5 times the repetitions (at least 100). */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(c, "replay")), "--reps 100 "));
	c = cell_at(diff, 6, "stopped-detach-zero", 1, "flaky");
	/* Independent values (the script in test_stats.c): [[10,10],[5,15]] 0.190792572328,
	 * [[20,0],[8,12]] 4.50951507681e-05. */
	ck_assert_double_eq_tol(json_real_value(json_object_get(c, "p_value")), 0.190792572328, 1e-10);
	c = cell_at(diff, 7, "mt-exit-race", 1, "distribution-changed");
	ck_assert_double_eq_tol(json_real_value(json_object_get(c, "p_value")), 4.50951507681e-05, 1e-14);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(c, "replay")), "--reps 20 "));
	c = cell_at(diff, 8, "mt-exit-race", 2, "flaky");
	/*
	 * Three boots a side (4/3, 4/3, 3/3 against 3/4, 3/4, 3/3): the boot-level
	 * test. Pooled [[11,9],[9,11]]: chi-square 0.4 (scipy chi2_contingency,
	 * correction=False); the boots agree better than binomial draws, so
	 * phi = 1 and p = scipy.stats.f.sf(0.4, 1, 4) = 0.5614380442505253.
	 */
	ck_assert_str_eq(json_string_value(json_object_get(c, "test")), "quasi-f");
	ck_assert_double_eq_tol(json_real_value(json_object_get(c, "p_value")), 0.5614380442505253,
				1e-12);
	ck_assert_double_eq(json_real_value(json_object_get(json_object_get(c, "dispersion"),
								 "phi")), 1.0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(c, "boots"), "a")), 3);
	ck_assert(json_is_true(json_object_get(c, "racy")));
	ck_assert(json_is_true(json_object_get(json_object_get(c, "a"), "racy")));
	c = cell_at(diff, 9, "mt-detach-zero-all", 2, "error");
	ck_assert_str_eq(json_string_value(json_object_get(c, "reason")),
			 "a: timeout: 2 of 2 repetitions timed out; b: crashed");
	ck_assert_ptr_nonnull(json_object_get(c, "replay"));
	c = cell_at(diff, 10, "sds-coredump", 1, "error");
	ck_assert_str_eq(json_string_value(json_object_get(c, "reason")), "b: missing");
	ck_assert_ptr_null(json_object_get(c, "b"));
	c = cell_at(diff, 11, "sds-coredump", 2, "error");
	ck_assert_str_eq(json_string_value(json_object_get(c, "reason")), "a: missing");
	ck_assert_ptr_null(json_object_get(c, "a"));
	c = cell_at(diff, 12, "step-then-detach", 1, "unsupported");
	ck_assert_ptr_null(json_object_get(c, "replay"));
	cell_at(diff, 13, "step-then-detach", 2, "changed");
	c = cell_at(diff, 14, "selftest-hang", 1, "error");
	ck_assert_str_eq(json_string_value(json_object_get(c, "reason")),
			 "b: boot-failed: no results line within 60 s");
	json_decref(diff);
	json_decref(run);
}
END_TEST

START_TEST(test_runs_alpha)
{
	json_t *run = load(DATA "run-a.json"), *diff;
	struct diff_opts o = { .alpha = 1e-5 };
	struct kf_error e;

	/* mt-exit-race at smp 1 (p = 4.5e-5) is no longer significant at 1e-5. */
	diff = diff_runs_opts(run, "k-old", run, "k-new", &o, &e);
	ck_assert_ptr_nonnull(diff);
	ck_assert_double_eq(json_real_value(json_object_get(diff, "alpha")), 1e-5);
	ck_assert_int_eq(diff_count(diff, "distribution-changed"), 0);
	ck_assert_int_eq(diff_count(diff, "flaky"), 4);
	json_decref(diff);

	o.alpha = 0;
	error_clear(&e);
	ck_assert_ptr_null(diff_runs_opts(run, "k-old", run, "k-new", &o, &e));
	ck_assert_str_eq(e.text, "alpha 0 is not between 0 and 1");
	o.alpha = 1;
	ck_assert_ptr_null(diff_runs_opts(run, "k-old", run, "k-new", &o, &e));
	json_decref(run);
}
END_TEST

START_TEST(test_runs_same_kernel)
{
	json_t *run = load(DATA "run-a.json"), *diff;
	struct kf_error e;

	/* A kernel against itself: everything same but its own infrastructure errors. */
	diff = diff_runs(run, "k-old", run, "k-old", &e);
	ck_assert_ptr_nonnull(diff);
	ck_assert_int_eq(diff_count(diff, "error"), 1);
	ck_assert_int_eq(diff_count(diff, "changed"), 0);
	ck_assert_int_eq(diff_count(diff, "distribution-changed"), 0);
	ck_assert_int_eq(diff_count(diff, "flaky"), 3);
	ck_assert_int_eq(diff_count(diff, "unsupported"), 2);
	ck_assert_int_eq(diff_count(diff, "same"), 8);
	json_decref(diff);
	json_decref(run);
}
END_TEST

START_TEST(test_runs_two_runs)
{
	json_t *ra = load(DATA "run-a.json"), *rb = load(DATA "run-b.json"), *diff;
	struct kf_error e;

	diff = diff_runs(ra, "k-old", rb, "k-next", &e);
	ck_assert_msg(diff != NULL, "%s", e.text);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(diff, "a"), "run")),
			 "20261126T233000Z-aaaa");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(diff, "b"), "run")),
			 "20261127T080000Z-bbbb");
	/* Run a's scenario order first; a scenario only run b lists comes last. */
	cell_at(diff, 0, "sds-same-sig", 1, "same");
	cell_at(diff, 1, "sds-same-sig", 2, "error");
	cell_at(diff, 4, "sds-zero", 1, "same");
	cell_at(diff, 14, "late-scenario", 1, "error");
	ck_assert_int_eq(json_array_size(json_object_get(diff, "cells")), 15);
	ck_assert_int_eq(diff_count(diff, "same"), 2);
	ck_assert_int_eq(diff_count(diff, "error"), 13);
	check_golden_json(diff, DATA "expected-diff-two-runs.json");
	json_decref(diff);
	json_decref(ra);
	json_decref(rb);
}
END_TEST

START_TEST(test_golden_diff_json)
{
	json_t *run = load(DATA "run-a.json"), *diff;
	struct kf_error e;

	diff = diff_runs(run, "k-old", run, "k-new", &e);
	ck_assert_ptr_nonnull(diff);
	check_golden_json(diff, DATA "expected-diff.json");
	json_decref(diff);
	json_decref(run);
}
END_TEST

START_TEST(test_golden_table)
{
	json_t *run = load(DATA "run-a.json"), *diff;
	struct kf_error e;
	char *text;

	diff = diff_runs(run, "k-old", run, "k-new", &e);
	ck_assert_ptr_nonnull(diff);
	text = table(diff, 0);
	ck_assert_ptr_null(strchr(text, '\033'));
	check_golden_text(text, DATA "expected-table.txt");
	free(text);

	text = table(diff, 1);
	ck_assert_ptr_nonnull(strstr(text, "\033[31merror               \033[0m"));
	ck_assert_ptr_nonnull(strstr(text, "\033[1;33mdistribution-changed\033[0m"));
	free(text);
	json_decref(diff);
	json_decref(run);
}
END_TEST

START_TEST(test_table_no_differences)
{
	json_t *run = load(DATA "run-b.json"), *diff;
	struct kf_error e;
	char *text;

	diff = diff_runs(run, "k-next", run, "k-next", &e);
	ck_assert_ptr_nonnull(diff);
	text = table(diff, 0);
	ck_assert_str_eq(text,
			 "a: k-next (6.19.0-rc1-next), run 20261127T080000Z-bbbb\n"
			 "b: k-next (6.19.0-rc1-next), run 20261127T080000Z-bbbb\n"
			 "no differences\n"
			 "3 cells, 3 same, 0 changed, 0 distribution-changed, 0 flaky, "
			 "0 unsupported, 0 error\n");
	ck_assert_int_eq(diff_exit_status(diff), 0);
	free(text);
	json_decref(diff);
	json_decref(run);
}
END_TEST

START_TEST(test_runs_kernel_not_found)
{
	json_t *ra = load(DATA "run-a.json"), *rb = load(DATA "run-b.json");
	struct kf_error e;

	error_clear(&e);
	ck_assert_ptr_null(diff_runs(ra, "k-old", rb, "k-nope", &e));
	ck_assert_str_eq(e.source, "20261127T080000Z-bbbb");
	ck_assert_ptr_nonnull(strstr(e.text, "\"k-nope\""));
	ck_assert_ptr_nonnull(strstr(e.text, "20261127T080000Z-bbbb"));
	ck_assert_ptr_nonnull(strstr(e.text, "k-next"));

	error_clear(&e);
	ck_assert_ptr_null(diff_runs(ra, "k-next", rb, "k-next", &e));
	ck_assert_ptr_nonnull(strstr(e.text, "\"k-next\" is not in run 20261126T233000Z-aaaa"));
	json_decref(ra);
	json_decref(rb);
}
END_TEST

START_TEST(test_runs_malformed)
{
	json_t *ok = load(DATA "run-b.json"), *run;
	struct kf_error e;

	run = parse("{\"id\":\"r1\",\"kernels\":[{\"name\":\"k\"}],\"scenarios\":[],"
		    "\"cells\":[{\"kernel\":\"k\",\"scenario\":\"s\",\"smp\":1},"
		    "{\"kernel\":\"k\",\"scenario\":\"s\",\"smp\":\"2\"}]}");
	error_clear(&e);
	ck_assert_ptr_null(diff_runs(run, "k", ok, "k-next", &e));
	ck_assert_str_eq(e.source, "r1");
	ck_assert_ptr_nonnull(strstr(e.text, "cells[1].smp"));
	json_decref(run);

	run = parse("{\"id\":\"r2\",\"kernels\":[{\"name\":\"k\"}],\"scenarios\":[]}");
	error_clear(&e);
	ck_assert_ptr_null(diff_runs(ok, "k-next", run, "k", &e));
	ck_assert_ptr_nonnull(strstr(e.text, "\"cells\""));
	json_decref(run);

	run = parse("{\"kernels\":[],\"scenarios\":[],\"cells\":[]}");
	error_clear(&e);
	ck_assert_ptr_null(diff_runs(run, "k", ok, "k-next", &e));
	ck_assert_ptr_nonnull(strstr(e.text, "\"id\""));
	json_decref(run);

	run = parse("{\"id\":\"r3\",\"kernels\":[{\"name\":\"k\"}],\"scenarios\":[],"
		    "\"cells\":[{\"kernel\":\"k\",\"scenario\":\"s\",\"smp\":1},"
		    "{\"kernel\":\"k\",\"scenario\":\"s\",\"smp\":1}]}");
	error_clear(&e);
	ck_assert_ptr_null(diff_runs(run, "k", run, "k", &e));
	ck_assert_ptr_nonnull(strstr(e.text, "cells[1] repeats"));
	json_decref(run);
	json_decref(ok);
}
END_TEST

START_TEST(test_load_bad_json)
{
	struct kf_error e;
	char buf[2048];

	error_clear(&e);
	ck_assert_ptr_null(report_load(DATA "bad.json", &e));
	ck_assert_str_eq(e.source, DATA "bad.json");
	ck_assert_int_eq(e.line, 4);
	ck_assert_int_eq(e.column, 9);
	ck_assert_ptr_nonnull(strstr(e.text, "expected"));
	error_format(&e, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "bad.json:4:9: "));
}
END_TEST

START_TEST(test_load_wrong_schema)
{
	struct kf_error e;

	error_clear(&e);
	ck_assert_ptr_null(report_load(DATA "wrong-schema.json", &e));
	ck_assert_str_eq(e.source, DATA "wrong-schema.json");
	ck_assert_str_eq(e.text, "schema is \"kfarm.run/3\", expected \"kfarm.run/2\" (or \"kfarm.run/1\")");

	error_clear(&e);
	ck_assert_ptr_null(report_load(DATA "expected-diff.json", &e));
	ck_assert_ptr_nonnull(strstr(e.text, "kfarm.diff/3"));
}
END_TEST

START_TEST(test_load_missing_and_dir)
{
	struct kf_error e;
	json_t *run;

	error_clear(&e);
	ck_assert_ptr_null(report_load(DATA "no-such-run.json", &e));
	ck_assert_str_eq(e.source, DATA "no-such-run.json");
	ck_assert_int_eq(e.line, 0);

	/* A directory without run.json names the file it looked for. */
	error_clear(&e);
	ck_assert_ptr_null(report_load(DATA, &e));
	ck_assert_ptr_nonnull(strstr(e.source, "/run.json"));

	run = load(DATA "rundir");
	ck_assert_str_eq(json_string_value(json_object_get(run, "id")), "20261128T000000Z-dddd");
	json_decref(run);
}
END_TEST

static Suite *diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *v = tcase_create("verdict"), *r = tcase_create("runs"), *l = tcase_create("load");

	tcase_add_test(v, test_verdict_same);
	tcase_add_test(v, test_verdict_same_merged_outcomes);
	tcase_add_test(v, test_verdict_changed);
	tcase_add_test(v, test_verdict_changed_type);
	tcase_add_test(v, test_verdict_flaky_one_side);
	tcase_add_test(v, test_verdict_flaky_same_set);
	tcase_add_test(v, test_verdict_flaky_fields_absent_key);
	tcase_add_test(v, test_verdict_error_a);
	tcase_add_test(v, test_verdict_error_b);
	tcase_add_test(v, test_verdict_error_both);
	tcase_add_test(v, test_verdict_missing);
	tcase_add_test(v, test_verdict_malformed);
	tcase_add_test(v, test_verdict_unsupported);
	tcase_add_test(v, test_verdict_distribution_changed);
	tcase_add_test(v, test_verdict_flaky_racy);
	tcase_add_test(v, test_verdict_bad_count);
	tcase_add_test(v, test_verdict_count_bounds);
	tcase_add_test(v, test_replay_command);
	suite_add_tcase(s, v);

	tcase_add_test(r, test_runs_one_run);
	tcase_add_test(r, test_runs_alpha);
	tcase_add_test(r, test_runs_same_kernel);
	tcase_add_test(r, test_runs_two_runs);
	tcase_add_test(r, test_golden_diff_json);
	tcase_add_test(r, test_golden_table);
	tcase_add_test(r, test_table_no_differences);
	tcase_add_test(r, test_runs_kernel_not_found);
	tcase_add_test(r, test_runs_malformed);
	suite_add_tcase(s, r);

	tcase_add_test(l, test_load_bad_json);
	tcase_add_test(l, test_load_wrong_schema);
	tcase_add_test(l, test_load_missing_and_dir);
	suite_add_tcase(s, l);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(diff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
