/* SPDX-License-Identifier: MIT */
/*
 * The exact test against values computed independently, with this Python
 * (standard library only: plain enumeration with exact integer arithmetic,
 * nothing shared with stats.c's log-factorials and pruned recursion):
 *
 *   from math import comb
 *   from itertools import product
 *   def ffh(a, b):
 *       col = [x + y for x, y in zip(a, b) if x + y > 0]
 *       xa = [x for x, y in zip(a, b) if x + y > 0]
 *       na = sum(a); N = sum(col)
 *       def P(x):
 *           r = 1
 *           for c, xi in zip(col, x): r *= comb(c, xi)
 *           return r
 *       po = P(xa); s = n = 0
 *       for x in product(*[range(c + 1) for c in col]):
 *           if sum(x) != na: continue
 *           n += 1; q = P(x)
 *           if q * (1 - 1e-7) <= po: s += q
 *       return s / comb(N, na), n
 *
 * For 2×2 tables these agree with scipy.stats.fisher_exact (two-sided), e.g.
 * [[3,1],[1,3]] -> 0.4857142857 and [[8,2],[1,5]] -> 0.0349650350.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "stats.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* p, tables and test of stats_exact_2xk() on rows @a and @b. */
static struct stats_result ffh(const long *a, const long *b, size_t k)
{
	struct stats_result r;
	struct kf_error e;

	ck_assert_int_eq(stats_exact_2xk(a, b, k, &r, &e), 0);
	return r;
}

static void assert_p(struct stats_result r, double want, double tables)
{
	ck_assert_msg(fabs(r.p - want) <= 1e-9 * (want > 1e-300 ? want : 1) + 1e-15,
		      "p = %.12g, expected %.12g", r.p, want);
	ck_assert_double_eq(r.tables, tables);
	ck_assert_str_eq(r.test, STATS_FISHER);
}

START_TEST(test_2x2)
{
	static const long a1[] = { 3, 1 }, b1[] = { 1, 3 };
	static const long a2[] = { 8, 2 }, b2[] = { 1, 5 };
	static const long a3[] = { 1, 0 }, b3[] = { 0, 1 };

	assert_p(ffh(a1, b1, 2), 0.485714285714, 5);
	assert_p(ffh(a2, b2, 2), 0.034965034965, 7);
	/* One repetition a side, different: as probable as anything, p = 1. */
	assert_p(ffh(a3, b3, 2), 1, 2);
}
END_TEST

START_TEST(test_deterministic_sides)
{
	/* Each side always one outcome, not the same: p = 2 / C(40, 20). */
	static const long a1[] = { 20, 0 }, b1[] = { 0, 20 };
	/* One odd repetition on one side: not significant at all. */
	static const long a2[] = { 20, 0 }, b2[] = { 19, 1 };
	/* Half of b moved: significant. */
	static const long a3[] = { 20, 0 }, b3[] = { 10, 10 };

	assert_p(ffh(a1, b1, 2), 1.45088891038e-11, 21);
	assert_p(ffh(a2, b2, 2), 1, 2);
	assert_p(ffh(a3, b3, 2), 0.000435919790759, 11);
}
END_TEST

START_TEST(test_2xk)
{
	static const long a1[] = { 12, 5, 3 }, b1[] = { 4, 9, 7 };
	static const long a2[] = { 15, 3, 2 }, b2[] = { 15, 4, 1 };
	static const long a3[] = { 40, 30, 20, 10 }, b3[] = { 10, 20, 30, 40 };
	static const long a4[] = { 10, 10 }, b4[] = { 10, 10 };

	assert_p(ffh(a1, b1, 3), 0.0433847592333, 145);
	assert_p(ffh(a2, b2, 3), 1, 32);
	assert_p(ffh(a3, b3, 4), 4.32171194979e-09, 88451);
	/* Identical histograms: the observed table is the most probable one. */
	assert_p(ffh(a4, b4, 2), 1, 21);
}
END_TEST

START_TEST(test_edge_cases)
{
	static const long one_a[] = { 20 }, one_b[] = { 20 };
	static const long empty_a[] = { 20, 0 }, empty_b[] = { 0, 0 };
	static const long zero[] = { 0, 0 };
	/* A column that is zero on both rows is not a column. */
	static const long gap_a[] = { 3, 0, 1 }, gap_b[] = { 1, 0, 3 };
	static const long neg[] = { -1, 2 };
	struct stats_result r;
	struct kf_error e;

	/* All repetitions one outcome on both sides: one table, p = 1. */
	assert_p(ffh(one_a, one_b, 1), 1, 1);
	/* An empty histogram on one side or both: p = 1. */
	assert_p(ffh(empty_a, empty_b, 2), 1, 1);
	assert_p(ffh(empty_b, empty_a, 2), 1, 1);
	assert_p(ffh(zero, zero, 2), 1, 1);
	assert_p(ffh(zero, zero, 0), 1, 1);
	assert_p(ffh(gap_a, gap_b, 3), 0.485714285714, 5);
	ck_assert_int_eq(stats_exact_2xk(neg, zero, 2, &r, &e), -1);
	ck_assert_str_eq(e.text, "negative count in column 0");
}
END_TEST

START_TEST(test_count_tables)
{
	static const long col[] = { 50, 50, 50, 50, 50, 50 };
	static const long col2[] = { 16, 14, 10 };

	/* Python: sum(1 for x in product(range(17), range(15), range(11)) if sum(x) == 20) */
	ck_assert_double_eq(stats_count_tables(col2, 3, 20), 145);
	/* Coefficient of t^150 in ((1 - t^51) / (1 - t))^6, by inclusion-exclusion:
	 * sum((-1)**i * C(6,i) * C(150 - 51 i + 5, 5) for i in 0..2) = 189797061. */
	ck_assert_double_eq(stats_count_tables(col, 6, 150), 189797061);
}
END_TEST

START_TEST(test_monte_carlo)
{
	static const long a[] = { 12, 5, 3 }, b[] = { 4, 9, 7 };
	static const long big_a[] = { 60, 50, 40, 30, 20, 10 }, big_b[] = { 55, 50, 45, 30, 15, 15 };
	struct stats_result r, r2;
	struct kf_error e;

	/* Forced to sample (145 tables > 10): within 0.005 of the exact 0.0433847592333
	 * (the standard error of 200000 samples is about 0.0005). */
	ck_assert_int_eq(stats_ffh(a, b, 3, 10, &r, &e), 0);
	ck_assert_str_eq(r.test, STATS_MONTE_CARLO);
	ck_assert_double_eq(r.tables, STATS_MC_SAMPLES);
	ck_assert_msg(fabs(r.p - 0.0433847592333) < 0.005, "p = %g", r.p);
	/* A fixed seed: the same estimate every time. */
	ck_assert_int_eq(stats_ffh(a, b, 3, 10, &r2, &e), 0);
	ck_assert_double_eq(r.p, r2.p);

	/* 6 outcomes, 210 repetitions a side: beyond STATS_MAX_TABLES, sampled. */
	ck_assert_int_eq(stats_exact_2xk(big_a, big_b, 6, &r, &e), 0);
	ck_assert_str_eq(r.test, STATS_MONTE_CARLO);
	ck_assert(r.p > 0.05 && r.p <= 1);
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *t = tcase_create("ffh");

	tcase_add_test(t, test_2x2);
	tcase_add_test(t, test_deterministic_sides);
	tcase_add_test(t, test_2xk);
	tcase_add_test(t, test_edge_cases);
	tcase_add_test(t, test_count_tables);
	tcase_add_test(t, test_monte_carlo);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
