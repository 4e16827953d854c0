/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "diff.h"

/* A kfarm.diff/3 object with one cell per (scenario, smp, verdict) triple. */
static json_t *diff_of(const char *const *cells, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i += 3)
		json_array_append_new(arr, json_pack("{s:s, s:i, s:s}", "scenario", cells[i], "smp",
						     atoi(cells[i + 1]), "verdict", cells[i + 2]));
	return json_pack("{s:s, s:o}", "schema", DIFF_SCHEMA, "cells", arr);
}

static json_t *cell(json_t *report, size_t i)
{
	return json_array_get(json_object_get(report, "cells"), i);
}

static json_int_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

START_TEST(test_tally)
{
	static const char *const run1[] = {
		"detach-vs-sigkill", "1", "flaky", "detach-vs-sigkill", "2", "same", "sds-zero", "1", "same",
	};
	static const char *const run2[] = {
		"detach-vs-sigkill", "1", "distribution-changed", "detach-vs-sigkill", "2", "flaky",
		"sds-zero", "1", "same",
	};
	static const char *const run3[] = {
		"detach-vs-sigkill", "1", "same", "detach-vs-sigkill", "2", "same", "sds-zero", "1",
		"changed",
	};
	struct calibrate *c = calibrate_new("k", 0.01);
	struct kf_error e;
	json_t *d, *r, *iv;

	d = diff_of(run1, 9);
	ck_assert_int_eq(calibrate_add(c, d, "run-01", &e), 0);
	json_decref(d);
	d = diff_of(run2, 9);
	ck_assert_int_eq(calibrate_add(c, d, "run-02", &e), 0);
	json_decref(d);
	d = diff_of(run3, 9);
	ck_assert_int_eq(calibrate_add(c, d, "run-03", &e), 0);
	json_decref(d);
	r = calibrate_report(c);
	ck_assert_str_eq(json_string_value(json_object_get(r, "schema")), CALIBRATE_SCHEMA);
	ck_assert_int_eq(num(r, "runs"), 3);
	ck_assert_int_eq(json_array_size(json_object_get(r, "run_dirs")), 3);
	ck_assert_int_eq(json_array_size(json_object_get(r, "cells")), 3);
	/* detach-vs-sigkill smp 1: flaky, distribution-changed, same: one false positive. */
	ck_assert_str_eq(json_string_value(json_object_get(cell(r, 0), "scenario")),
			 "detach-vs-sigkill");
	ck_assert_int_eq(num(cell(r, 0), "smp"), 1);
	ck_assert_int_eq(num(json_object_get(cell(r, 0), "verdicts"), "flaky"), 1);
	ck_assert_int_eq(num(json_object_get(cell(r, 0), "verdicts"), "distribution-changed"), 1);
	ck_assert_int_eq(num(json_object_get(cell(r, 0), "verdicts"), "same"), 1);
	ck_assert_int_eq(num(cell(r, 0), "false_positives"), 1);
	ck_assert_int_eq(num(cell(r, 0), "of"), 3);
	/*
	 * Clopper-Pearson 95% for 1 of 3: statsmodels proportion_confint(1, 3,
	 * alpha=0.05, method='beta') = (0.0084037586596, 0.9057006759498).
	 */
	iv = json_object_get(cell(r, 0), "interval");
	ck_assert_double_eq_tol(json_real_value(json_array_get(iv, 0)), 0.0084037586596, 1e-9);
	ck_assert_double_eq_tol(json_real_value(json_array_get(iv, 1)), 0.9057006759498, 1e-9);
	ck_assert_int_eq(num(cell(r, 1), "false_positives"), 0);
	ck_assert_double_eq(json_real_value(json_array_get(json_object_get(cell(r, 1), "interval"),
							   0)), 0);
	/* "changed" counts as a false positive too. */
	ck_assert_int_eq(num(cell(r, 2), "false_positives"), 1);
	ck_assert_int_eq(num(json_object_get(r, "total"), "false_positives"), 2);
	ck_assert_int_eq(num(json_object_get(r, "total"), "of"), 9);
	ck_assert_int_eq(num(json_object_get(json_object_get(r, "total"), "verdicts"), "same"), 5);
	/* Two of the three runs had one: the family-wise rate. */
	ck_assert_int_eq(num(json_object_get(r, "family"), "false_positives"), 2);
	ck_assert_int_eq(num(json_object_get(r, "family"), "of"), 3);
	/* 2/3 with an interval (0.094, 0.992) wholly above 0.01: miscalibrated. */
	ck_assert_int_eq(calibrate_exit_status(r), 1);
	json_decref(r);
	calibrate_free(c);
}
END_TEST

START_TEST(test_quiet_and_errors)
{
	static const char *const quiet[] = { "a", "1", "same", "b", "2", "flaky" };
	struct calibrate *c = calibrate_new("k", 0.01);
	struct kf_error e;
	json_t *d, *r;
	int i;

	for (i = 0; i < 20; i++) {
		d = diff_of(quiet, 6);
		ck_assert_int_eq(calibrate_add(c, d, "run", &e), 0);
		json_decref(d);
	}
	r = calibrate_report(c);
	ck_assert_int_eq(num(json_object_get(r, "family"), "false_positives"), 0);
	/* 0 of 20: the interval reaches down to 0, so not miscalibrated. */
	ck_assert_int_eq(calibrate_exit_status(r), 0);
	json_decref(r);

	d = json_pack("{s:s}", "schema", "kfarm.diff/2");
	ck_assert_int_eq(calibrate_add(c, d, "old", &e), -1);
	ck_assert_str_eq(e.text, "not a " DIFF_SCHEMA " object");
	json_decref(d);
	d = json_pack("{s:s, s:[{s:s}]}", "schema", DIFF_SCHEMA, "cells", "scenario", "x");
	ck_assert_int_eq(calibrate_add(c, d, "bad", &e), -1);
	ck_assert_str_eq(e.text, "diff cells[0] lacks scenario, smp or verdict");
	json_decref(d);
	calibrate_free(c);
}
END_TEST

static Suite *calibrate_suite(void)
{
	Suite *s = suite_create("calibrate");
	TCase *t = tcase_create("tally");

	tcase_add_test(t, test_tally);
	tcase_add_test(t, test_quiet_and_errors);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(calibrate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
