/* SPDX-License-Identifier: MIT */
/*
 * kfarm bisect's search (bisect.c) against an oracle: every list length up to
 * 64 and every place of the change, with and without kernels that skip; and
 * the cells followed and matched in a diff.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"

/*
 * Bisect @n kernels whose first bad is @first, the kernels in @skips (a
 * bitmask) skipping: the steps taken; the range found in *@good, *@bad.
 */
static int search(size_t n, size_t first, unsigned long long skips, size_t *good, size_t *bad)
{
	enum bisect_mark m[64];
	size_t i;
	long next;
	int steps = 0;

	for (i = 0; i < n; i++)
		m[i] = BISECT_UNTESTED;
	m[0] = BISECT_GOOD;
	m[n - 1] = BISECT_BAD;
	while ((next = bisect_next(m, n)) >= 0) {
		ck_assert_int_gt(next, 0);
		ck_assert_int_lt(next, (long)n - 1);
		ck_assert_int_eq(m[next], BISECT_UNTESTED);
		m[next] = skips >> next & 1 ? BISECT_SKIP :
			  (size_t)next < first ? BISECT_GOOD : BISECT_BAD;
		steps++;
	}
	bisect_range(m, n, good, bad);
	return steps;
}

START_TEST(finds_every_change)
{
	size_t n, first, good, bad;

	for (n = 2; n <= 64; n++)
		for (first = 1; first < n; first++) {
			int steps = search(n, first, 0, &good, &bad);

			ck_assert_uint_eq(bad, first);
			ck_assert_uint_eq(good, first - 1);
			/* git bisect's bound: ceil(log2 of the kernels between good and bad, + 1) */
			ck_assert_msg(steps <= (int)ceil(log2((double)(n - 1))),
				      "n %zu, first bad %zu: %d steps", n, first, steps);
		}
}
END_TEST

START_TEST(steps_round_skips)
{
	size_t good, bad;
	int steps;

	/* 8 kernels, the change at 4, 3 skips: the range is 2..4 with 3 in it */
	steps = search(8, 4, 1ull << 3, &good, &bad);
	ck_assert_uint_eq(good, 2);
	ck_assert_uint_eq(bad, 4);
	ck_assert_int_le(steps, 4);
	/* the change at 4, 4 skips: 3..5 */
	steps = search(8, 4, 1ull << 4, &good, &bad);
	ck_assert_uint_eq(good, 3);
	ck_assert_uint_eq(bad, 5);
	/* every kernel between skips: the whole list is the range, each tried once */
	steps = search(6, 3, 0x1e, &good, &bad);
	ck_assert_uint_eq(good, 0);
	ck_assert_uint_eq(bad, 5);
	ck_assert_int_eq(steps, 4);
	/* a skip beside the change does not hide it when it is on the good side of it */
	steps = search(10, 6, 1ull << 2, &good, &bad);
	ck_assert_uint_eq(good, 5);
	ck_assert_uint_eq(bad, 6);
	/* nothing to try between two kernels */
	ck_assert_int_eq(search(2, 1, 0, &good, &bad), 0);
	ck_assert_str_eq(bisect_mark_name(BISECT_SKIP), "skip");
}
END_TEST

START_TEST(follow_and_match)
{
	json_t *d = json_loads("{\"cells\": ["
			       "{\"scenario\": \"a\", \"smp\": 1, \"verdict\": \"same\"},"
			       "{\"scenario\": \"b\", \"smp\": 1, \"verdict\": \"changed\"},"
			       "{\"scenario\": \"b\", \"smp\": 2, \"verdict\": \"flaky\"},"
			       "{\"scenario\": \"c\", \"smp\": 2, \"verdict\": \"distribution-changed\"}]}",
			       0, NULL);
	json_t *f = bisect_follow(d), *same;
	char *why;

	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(json_array_size(f), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(f, 1), "scenario")), "c");
	ck_assert_int_eq(bisect_matches(d, f, &why), 0);
	ck_assert_str_eq(why, "b at SMP 1: changed");
	free(why);
	same = json_loads("{\"cells\": [{\"scenario\": \"b\", \"smp\": 1, \"verdict\": \"unsupported\"},"
			  "{\"scenario\": \"c\", \"smp\": 2, \"verdict\": \"same\"}]}", 0, NULL);
	ck_assert_int_eq(bisect_matches(same, f, &why), 1);
	ck_assert_ptr_null(why);
	json_array_remove(json_object_get(same, "cells"), 1);
	ck_assert_int_eq(bisect_matches(same, f, &why), 0);
	ck_assert_str_eq(why, "c at SMP 2: not in the diff");
	free(why);
	json_decref(same);
	json_decref(f);
	json_decref(d);
}
END_TEST

/* An "error" in a followed cell is worth a second compare; one elsewhere, or a change, is not. */
START_TEST(failed_cells)
{
	json_t *f = json_loads("[{\"scenario\": \"b\", \"smp\": 1}, {\"scenario\": \"c\", \"smp\": 2}]",
			       0, NULL);
	json_t *d = json_loads("{\"cells\": ["
			       "{\"scenario\": \"a\", \"smp\": 1, \"verdict\": \"error\"},"
			       "{\"scenario\": \"b\", \"smp\": 1, \"verdict\": \"changed\"},"
			       "{\"scenario\": \"c\", \"smp\": 1, \"verdict\": \"error\"},"
			       "{\"scenario\": \"c\", \"smp\": 2, \"verdict\": \"same\"}]}",
			       0, NULL);
	char *why;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(bisect_failed(d, f, &why), 0);
	ck_assert_ptr_null(why);
	json_object_set_new(json_array_get(json_object_get(d, "cells"), 3), "verdict",
			    json_string("error"));
	ck_assert_int_eq(bisect_failed(d, f, &why), 1);
	ck_assert_str_eq(why, "c at SMP 2: error");
	free(why);
	ck_assert_int_eq(bisect_matches(d, f, &why), 0);
	free(why);
	json_decref(d);
	json_decref(f);
}
END_TEST

/* A diff with one cell per verdict of @v, cells "a" (SMP 1) and "b" (SMP 1). */
static json_t *diff2(const char *va, const char *vb)
{
	return json_pack("{s:[{s:s, s:i, s:s}, {s:s, s:i, s:s}]}", "cells", "scenario", "a", "smp", 1,
			 "verdict", va, "scenario", "b", "smp", 1, "verdict", vb);
}

static enum bisect_judgement judge(const char *ga, const char *gb, const char *ba, const char *bb)
{
	json_t *f = json_pack("[{s:s, s:i}, {s:s, s:i}]", "scenario", "a", "smp", 1, "scenario",
			      "b", "smp", 1);
	json_t *dg = diff2(ga, gb), *db = ba ? diff2(ba, bb) : NULL;
	enum bisect_judgement j = bisect_judge(dg, db, f);

	json_decref(f);
	json_decref(dg);
	json_decref(db);
	return j;
}

/* Deterministic cells decide at once; racy ones ("flaky": not told apart) need the other side. */
START_TEST(judgements)
{
	ck_assert_int_eq(judge("same", "unsupported", NULL, NULL), BJ_GOOD);
	ck_assert_int_eq(judge("same", "flaky", NULL, NULL), BJ_NEED_BAD);
	ck_assert_int_eq(judge("changed", "same", NULL, NULL), BJ_NEED_BAD);
	/* told apart from good, like bad (a racy cell consistent with it) */
	ck_assert_int_eq(judge("changed", "same", "same", "flaky"), BJ_BAD);
	ck_assert_int_eq(judge("distribution-changed", "same", "flaky", "same"), BJ_BAD);
	/* told apart from both */
	ck_assert_int_eq(judge("changed", "same", "changed", "same"), BJ_NEITHER);
	/* consistent with good, told apart from bad: good */
	ck_assert_int_eq(judge("flaky", "same", "distribution-changed", "same"), BJ_GOOD);
	/* consistent with both: more repetitions */
	ck_assert_int_eq(judge("flaky", "same", "flaky", "same"), BJ_UNDECIDED);
	ck_assert_int_eq(judge("flaky", "flaky", "flaky", "same"), BJ_UNDECIDED);
	/* a failed cell decides nothing */
	ck_assert_int_eq(judge("error", "same", "same", "same"), BJ_NEITHER);
	ck_assert_int_eq(judge("flaky", "same", "error", "same"), BJ_NEITHER);
	ck_assert_int_eq(judge("changed", "same", "same", "error"), BJ_NEITHER);
}
END_TEST

/* A bisection's log read back: marks from its steps (a later one wins), its cells; bad logs named. */
START_TEST(log_read)
{
	const char *text = "{\"schema\": \"kfarm.bisect/1\", \"kernels\": ["
		"{\"kernel\": \"k1\", \"mark\": \"good\"}, {\"kernel\": \"k2\", \"mark\": \"x\"},"
		"{\"kernel\": \"k3\", \"mark\": \"x\"}, {\"kernel\": \"k4\", \"mark\": \"bad\"}],"
		"\"cells\": [{\"scenario\": \"a\", \"smp\": 1}],"
		"\"steps\": [{\"step\": 0, \"index\": 3, \"verdict\": \"bad\"},"
		"{\"step\": 1, \"index\": 1, \"verdict\": \"skip\"},"
		"{\"step\": 2, \"index\": 2, \"verdict\": \"bad\"},"
		"{\"step\": 3, \"index\": 1, \"verdict\": \"good\"}]}";
	json_t *doc = json_loads(text, 0, NULL);
	struct bisect_log log;
	struct kf_error e;

	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(bisect_log_read(doc, "b.json", &log, &e), 0);
	ck_assert_uint_eq(log.n, 4);
	ck_assert_str_eq(log.ks[2], "k3");
	ck_assert_int_eq(log.m[1], BISECT_GOOD);
	ck_assert_int_eq(log.m[2], BISECT_BAD);
	ck_assert_int_eq(log.last_step, 3);
	ck_assert_ptr_null(log.commits);
	ck_assert_int_eq(bisect_next(log.m, log.n), -1);
	bisect_log_release(&log);
	/* the good kernel marked bad */
	json_object_set_new(json_array_get(json_object_get(doc, "steps"), 1), "index", json_integer(0));
	ck_assert_int_eq(bisect_log_read(doc, "b.json", &log, &e), -1);
	ck_assert_str_eq(e.text, "steps[1] marks the good kernel (index 0) skip");
	json_object_set_new(json_array_get(json_object_get(doc, "steps"), 1), "index", json_integer(9));
	ck_assert_int_eq(bisect_log_read(doc, "b.json", &log, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "steps[1]: needs a step, an index from 0 to 3"));
	json_object_set_new(doc, "schema", json_string("kfarm.diff/3"));
	ck_assert_int_eq(bisect_log_read(doc, "b.json", &log, &e), -1);
	ck_assert_str_eq(e.source, "b.json");
	json_decref(doc);
}
END_TEST

/* --cells CELL or CELL@SMP: the cells to compare, the sizes, and the followed ones kept. */
START_TEST(cells_at_smp)
{
	json_t *wanted, *follow, *only;
	char *scen, *smps;
	struct kf_error e;

	ck_assert_int_eq(bisect_cells("sud-config@1,sds-zero[sigchld=ign,wait=waitpid]@2,sud-config@4",
				      &scen, &wanted, &smps, &e), 0);
	ck_assert_str_eq(scen, "sud-config,sds-zero[sigchld=ign,wait=waitpid]");
	ck_assert_str_eq(smps, "1,2,4");
	ck_assert_uint_eq(json_array_size(wanted), 3);
	follow = json_loads("[{\"scenario\": \"sud-config\", \"smp\": 1}, {\"scenario\": \"sud-config\", "
			    "\"smp\": 2}, {\"scenario\": \"sds-zero[sigchld=ign,wait=waitpid]\", \"smp\": 2}]",
			    0, NULL);
	only = bisect_follow_wanted(follow, wanted);
	ck_assert_uint_eq(json_array_size(only), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(only, 1), "smp")), 2);
	json_decref(only);
	json_decref(wanted);
	free(scen);
	free(smps);
	/* an entry without @: every size, the config's */
	ck_assert_int_eq(bisect_cells("sud-config,sds-zero@2", &scen, &wanted, &smps, &e), 0);
	ck_assert_ptr_null(smps);
	only = bisect_follow_wanted(follow, wanted);
	ck_assert_uint_eq(json_array_size(only), 2);
	json_decref(only);
	json_decref(wanted);
	free(scen);
	json_decref(follow);
	ck_assert_int_eq(bisect_cells("sud-config@0", &scen, &wanted, &smps, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "'sud-config@0': the SMP size after '@'"));
	ck_assert_int_eq(bisect_cells("sud-config@x", &scen, &wanted, &smps, &e), -1);
	ck_assert_int_eq(bisect_cells("sud-config@65", &scen, &wanted, &smps, &e), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bisect");
	TCase *t = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(t, finds_every_change);
	tcase_add_test(t, steps_round_skips);
	tcase_add_test(t, follow_and_match);
	tcase_add_test(t, failed_cells);
	tcase_add_test(t, judgements);
	tcase_add_test(t, log_read);
	tcase_add_test(t, cells_at_smp);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
