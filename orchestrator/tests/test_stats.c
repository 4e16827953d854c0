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
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * The quasi test and the distribution functions. Values marked "scipy" were
 * computed with scipy 1.10 / statsmodels 0.13 (the call is in the comment);
 * "50 digits" with the exact identity I_x(a, b) = P(Binomial(a+b-1, x) >= a)
 * for integers a, b, summed with Python's decimal at 50 digits (where scipy's
 * betainc, built on differences of lgamma, is itself off in the 11th digit).
 * Wider checks against the same libraries: tests/stats-check.py.
 */

/* |got - want| <= rel |want| (or <= rel when want is 0). */
#define assert_close(got, want, rel)                                                   \
	do {                                                                           \
		double g_ = (got), w_ = (want);                                        \
		ck_assert_msg(fabs(g_ - w_) <= (rel) * (w_ != 0 ? fabs(w_) : 1),       \
			      "%s = %.17g, expected %.17g", #got, g_, w_);             \
	} while (0)

/*
 * Large counts (issue 15): memory O(k) and time independent of the counts.
 * CK_DEFAULT_TIMEOUT (60 s) is the time bound: before, 2^30 a cell needed
 * some 50 GB (log-factorials and shuffle labels sized by N) and 10^6 a cell
 * sampled 200000 shuffles of 2 million. References: scipy 1.10
 * chi2_contingency(correction=False) for the chi-square; for the exact
 * test, tests/stats-check.py's ffh_ref() (log-factorials to 45 digits,
 * scipy's fisher_exact being off by 2e-8 or NaN at these sizes).
 */
START_TEST(test_big_counts)
{
	static const long g30 = 1L << 30;
	const long a1[] = { g30, g30 }, b1[] = { g30, g30 };
	const long a2[] = { g30, g30 }, b2[] = { g30, g30 + 100000 };
	static const long a3[] = { 1000000, 1000000 }, b3[] = { 1000000, 1000000 };
	static const long a4[] = { 1000000, 1000000 }, b4[] = { 1000000, 1003000 };
	/* Huge N, few tables: enumerated, Loader's terms. */
	const long a5[] = { g30, 5 }, b5[] = { g30, 3 };
	/* A sparse column: no chi-square (expected 2), sampled; ffh_ref() 0.7630449762437002. */
	static const long a6[] = { 1000000, 1000000, 1 }, b6[] = { 1000000, 1000000, 3 };
	struct stats_result r;

	r = ffh(a1, b1, 2);
	ck_assert_str_eq(r.test, STATS_CHI_SQUARE);
	ck_assert_double_eq(r.x2, 0);
	ck_assert_double_eq(r.df, 1);
	ck_assert_double_eq(r.p, 1);
	r = ffh(a2, b2, 2);
	ck_assert_str_eq(r.test, STATS_CHI_SQUARE);
	assert_close(r.p, 0.12705329892349912, 1e-9);
	r = ffh(a3, b3, 2);
	ck_assert_str_eq(r.test, STATS_CHI_SQUARE);
	ck_assert_double_eq(r.p, 1);
	r = ffh(a4, b4, 2);
	ck_assert_str_eq(r.test, STATS_CHI_SQUARE);
	assert_close(r.p, 0.1340514488947257, 1e-9);
	r = ffh(a5, b5, 2);
	ck_assert_str_eq(r.test, STATS_FISHER);
	ck_assert_double_eq(r.tables, 9);
	assert_close(r.p, 0.726562499490683, 1e-12);
	r = ffh(a6, b6, 3);
	ck_assert_str_eq(r.test, STATS_MONTE_CARLO);
	ck_assert_msg(fabs(r.p - 0.7630449762437002) < 0.005, "p = %g", r.p);
}
END_TEST

/* Counts near and past 2^31 and 2^32, totals past INT_MAX and up to the
 * bound: no overflow (the sanitizer build checks), and past the bound an error. */
START_TEST(test_count_overflow)
{
	static const long g31 = 1L << 31, g32 = 1L << 32;
	const long a1[] = { g31, g31 + 1 }, b1[] = { g31 - 1, g31 };
	const long a2[] = { g32, 7, g32 }, b2[] = { g32 + 9, 3, g32 - 5 };
	const long a3[] = { STATS_MAX_TOTAL / 4, STATS_MAX_TOTAL / 4 },
		   b3[] = { STATS_MAX_TOTAL / 4, STATS_MAX_TOTAL / 4 };
	const long a4[] = { STATS_MAX_TOTAL / 2, 1 }, b4[] = { STATS_MAX_TOTAL / 2, 0 };
	const long a5[] = { LONG_MAX, 1 }, b5[] = { 1, LONG_MAX };
	const long q[] = { g32, g32, g31, g31 + 3, g32, g32 }, qb[] = { g31, g32, g31, g31 };
	struct stats_result r;
	struct stats_quasi qr;
	struct stats_effect eff;
	struct kf_error e;

	r = ffh(a1, b1, 2);
	ck_assert_str_eq(r.test, STATS_CHI_SQUARE);
	ck_assert(r.p > 0 && r.p <= 1);
	r = ffh(a2, b2, 3);
	ck_assert(r.p >= 0 && r.p <= 1);
	r = ffh(a3, b3, 2);
	ck_assert_str_eq(r.test, STATS_CHI_SQUARE);
	ck_assert_double_eq(r.p, 1);
	ck_assert_int_eq(stats_exact_2xk(a4, b4, 2, &r, &e), -1);
	ck_assert_int_eq(stats_exact_2xk(a5, b5, 2, &r, &e), -1);
	ck_assert_msg(strstr(e.text, "counts too large"), "%s", e.text);
	ck_assert_int_eq(stats_quasi_test(q, 3, qb, 2, 2, &qr, &e), 0);
	ck_assert(qr.p >= 0 && qr.p <= 1);
	ck_assert_int_eq(stats_effect(a2, b2, 3, 1, 0, 0.95, &eff), 0);
	ck_assert(eff.lo <= eff.diff && eff.diff <= eff.hi);
	ck_assert_int_eq(stats_effect(a5, b5, 2, 1, 0, 0.95, &eff), -1);
}
END_TEST

START_TEST(test_chi2_sf)
{
	/* scipy.stats.chi2.sf(3.84, 1), (10, 2), (7.5, 3), (30, 10), (1e3, 5), (0.1, 7) */
	assert_close(stats_chi2_sf(3.84, 1), 0.05004352124870519, 1e-13);
	assert_close(stats_chi2_sf(10, 2), exp(-5), 1e-15);
	assert_close(stats_chi2_sf(7.5, 3), 0.0575584519726364, 1e-12);
	assert_close(stats_chi2_sf(30, 10), 0.000856641210775301, 1e-12);
	assert_close(stats_chi2_sf(1e3, 5), 6.0100776879208495e-214, 1e-11);
	assert_close(stats_chi2_sf(0.1, 7), 0.9999976885812014, 1e-12);
	ck_assert_double_eq(stats_chi2_sf(0, 3), 1);
	ck_assert_double_eq(stats_chi2_sf(INFINITY, 3), 0);
	ck_assert(isnan(stats_chi2_sf(1, 0)));
}
END_TEST

static struct stats_quasi quasi(const long *a, size_t ba, const long *b, size_t bb, size_t k)
{
	struct stats_quasi r;
	struct kf_error e;

	ck_assert_int_eq(stats_quasi_test(a, ba, b, bb, k, &r, &e), 0);
	return r;
}

START_TEST(test_quasi_hand)
{
	/* Side a pooled (18, 12), b (7, 23): X² = sum_c d_c² / (Na Nb C_c) with
	 * d = 18*30 - 30*7 = 330: 330²/900 (1/25 + 1/35) = 8.2971428571...
	 * Each boot of a expects (9, 6), of b (3.5, 11.5): Pearson sum
	 * 2 (1/9 + 1/6) + 2 (0.25/3.5 + 0.25/11.5) = 0.7419 over (4-2)(2-1) = 2.
	 * phi_raw = 0.371 < 1: phi = 1, F = X², p = scipy.stats.f.sf(8.297142857142857, 1, 2). */
	static const long a[] = { 10, 5, 8, 7 }, b[] = { 3, 12, 4, 11 };
	/* Side a (40, 20) from wildly different boots, b (30, 30) from equal ones:
	 * a's boots contribute 10 + 40 + 10 = 60, b's 0; phi = 60 / 4 = 15.
	 * X² = 600²/3600 (1/70 + 1/50) = 24/7 (chi-square p = 0.064, as if the
	 * 120 repetitions were independent); F = 24/7/15 = 24/105,
	 * p = scipy.stats.f.sf(24/105, 1, 4) = 0.6575407399168566. */
	static const long c[] = { 20, 0, 0, 20, 20, 0 }, d[] = { 10, 10, 10, 10, 10, 10 };
	struct stats_quasi r;

	r = quasi(a, 2, b, 2, 2);
	assert_close(r.x2, 8.297142857142857, 1e-14);
	assert_close(r.phi_raw, (2 * (1 / 9.0 + 1 / 6.0) + 2 * (0.25 / 3.5 + 0.25 / 11.5)) / 2,
		     1e-14);
	ck_assert(r.phi_raw < 1);
	ck_assert_double_eq(r.phi, 1);
	ck_assert_double_eq(r.f, r.x2);
	ck_assert_double_eq(r.df1, 1);
	ck_assert_double_eq(r.df2, 2);
	ck_assert_uint_eq(r.k, 2);
	ck_assert_uint_eq(r.boots_a, 2);
	ck_assert_uint_eq(r.boots_b, 2);
	assert_close(r.p, 0.10235231568848042, 1e-12);

	r = quasi(c, 3, d, 3, 2);
	assert_close(r.x2, 24.0 / 7, 1e-14);
	assert_close(r.phi_raw, 15, 1e-14);
	ck_assert_double_eq(r.phi, r.phi_raw);
	assert_close(r.f, 24.0 / 105, 1e-14);
	ck_assert_double_eq(r.df2, 4);
	assert_close(r.p, 0.6575407399168566, 1e-12);
}
END_TEST

START_TEST(test_quasi_identical_boots)
{
	/* Every boot of a side identical: nothing varies between boots, phi_raw = 0,
	 * and phi = 1 (boots cannot agree better than independent draws). */
	static const long a[] = { 50, 50, 50, 50, 50, 50 }, b[] = { 20, 80, 20, 80, 20, 80 };
	/* Side a identical, side b close to multinomial: still phi_raw < 1. */
	static const long c[] = { 12, 18, 12, 18, 12, 18 }, d[] = { 10, 20, 11, 19, 9, 21 };
	struct stats_quasi r;

	r = quasi(a, 3, b, 3, 2);
	ck_assert_double_eq(r.phi_raw, 0);
	ck_assert_double_eq(r.phi, 1);
	ck_assert_double_eq(r.p, stats_f_sf(r.x2, 1, 4));
	ck_assert(r.p < 0.01);
	r = quasi(c, 3, d, 3, 2);
	ck_assert(r.phi_raw > 0 && r.phi_raw < 1);
	ck_assert_double_eq(r.phi, 1);
	ck_assert_double_eq(r.f, r.x2);
}
END_TEST

START_TEST(test_quasi_drops)
{
	/* test_quasi_hand's first table with a zero column in the middle and an
	 * empty boot on each side: the same numbers. */
	static const long a[] = { 10, 0, 5, 0, 0, 0, 8, 0, 7 }, b[] = { 3, 0, 12, 4, 0, 11, 0, 0, 0 };
	struct stats_quasi r = quasi(a, 3, b, 3, 3);

	ck_assert_uint_eq(r.k, 2);
	ck_assert_uint_eq(r.boots_a, 2);
	ck_assert_uint_eq(r.boots_b, 2);
	assert_close(r.x2, 8.297142857142857, 1e-14);
	assert_close(r.p, 0.10235231568848042, 1e-12);
}
END_TEST

START_TEST(test_quasi_degenerate)
{
	/* k' = 1: every repetition one outcome on both sides. */
	static const long a[] = { 0, 7, 0, 0, 9, 0 }, b[] = { 0, 3, 0 };
	static const long one[] = { 5, 5 }, two[] = { 6, 4 }, zero[] = { 0, 0, 0, 0 };
	static const long neg[] = { 5, -1, 4, 6 }, pos[] = { 1, 2, 3, 4 };
	static const long big[] = { STATS_MAX_TOTAL / 2, STATS_MAX_TOTAL / 2, 1, 0 };
	struct stats_quasi r;
	struct kf_error e;

	r = quasi(a, 2, b, 1, 3);
	ck_assert_double_eq(r.p, 1);
	ck_assert_double_eq(r.x2, 0);
	ck_assert_double_eq(r.f, 0);
	ck_assert_double_eq(r.phi, 1);
	ck_assert_uint_eq(r.k, 1);
	ck_assert_uint_eq(r.boots_a + r.boots_b, 3);

	/* Fewer than three nonempty boots: the caller uses the exact test. */
	ck_assert_int_eq(stats_quasi_test(one, 1, two, 1, 2, &r, &e), -1);
	ck_assert_str_eq(e.text, "2 nonempty boots, the quasi test needs 3");
	ck_assert_int_eq(stats_quasi_test(pos, 2, zero, 2, 2, &r, &e), -1);
	ck_assert_str_eq(e.text, "side b has no nonempty boot");
	ck_assert_int_eq(stats_quasi_test(NULL, 0, pos, 2, 2, &r, &e), -1);
	ck_assert_str_eq(e.text, "side a has no nonempty boot");
	ck_assert_int_eq(stats_quasi_test(neg, 2, pos, 2, 2, &r, &e), -1);
	ck_assert_str_eq(e.text, "negative count in boot 0 of side a, column 1");
	ck_assert_int_eq(stats_quasi_test(pos, 2, big, 2, 2, &r, &e), -1);
	ck_assert_str_eq(e.text, "counts too large");
}
END_TEST

START_TEST(test_f_sf)
{
	/* d1 = 2: P(F > x) = (1 + 2x/d2)^(-d2/2), exactly 1.6^-5 here. */
	assert_close(stats_f_sf(3, 2, 10), 0.095367431640625, 1e-14);
	/* d1 = d2 = 1 at 1: the median, 1/2. */
	assert_close(stats_f_sf(1, 1, 1), 0.5, 1e-14);
	/* scipy.stats.f.sf(10, 3, 20), f.sf(50, 1, 2), f.sf(0.5, 4, 7), f.sf(2.5, 4.5, 17.3) */
	assert_close(stats_f_sf(10, 3, 20), 0.0003094054635144073, 1e-12);
	assert_close(stats_f_sf(50, 1, 2), 0.019419324309079847, 1e-12);
	assert_close(stats_f_sf(0.5, 4, 7), 0.7376864906326512, 1e-12);
	assert_close(stats_f_sf(2.5, 4.5, 17.3), 0.07535158250695963, 1e-12);
	/* Tiny tails keep their relative accuracy: scipy.stats.f.sf(1e4, 5, 30);
	 * f.sf(200, 4, 60) = 5.89639605920213e-34, 50 digits: 5.896396059202131e-34. */
	assert_close(stats_f_sf(1e4, 5, 30), 2.293561132451346e-47, 1e-12);
	assert_close(stats_f_sf(200, 4, 60), 5.896396059202131e-34, 1e-13);
	/* Near 1: 1 - 1e-13, to the last bit or two. */
	assert_close(stats_f_sf(1e-13, 2, 10), exp(-5 * log1p(2e-14)), 1e-15);
	ck_assert_double_eq(stats_f_sf(0, 3, 4), 1);
	ck_assert_double_eq(stats_f_sf(-1, 3, 4), 1);
	ck_assert_double_eq(stats_f_sf(INFINITY, 3, 4), 0);
	ck_assert(isnan(stats_f_sf(1, 0, 4)));
}
END_TEST

START_TEST(test_betai)
{
	/* Closed forms: I_x(1, 1) = x, I_x(a, 1) = x^a, I_x(1, b) = 1 - (1-x)^b,
	 * I_{1/2}(a, a) = 1/2. */
	assert_close(stats_betai(1, 1, 0.3), 0.3, 1e-15);
	assert_close(stats_betai(3.5, 1, 0.2), pow(0.2, 3.5), 1e-14);
	assert_close(stats_betai(1, 7, 0.1), -expm1(7 * log1p(-0.1)), 1e-14);
	assert_close(stats_betai(2500.5, 2500.5, 0.5), 0.5, 1e-13);
	/* 50 digits: I_0.3(20, 50) = 0.6174907516187663;
	 * I_0.501(50000, 50000) = 0.7364550617029586 (scipy.special.betainc: ...7333423). */
	assert_close(stats_betai(20, 50, 0.3), 0.6174907516187663, 1e-13);
	assert_close(stats_betai(50000, 50000, 0.501), 0.7364550617029586, 1e-12);
	/* Far tails: I_x(0.5, 3) ~ x^0.5 / (0.5 B(0.5, 3)), B(0.5, 3) = 16/15. */
	assert_close(stats_betai(0.5, 3, 1e-30), 1e-15 / (0.5 * 16 / 15), 1e-12);
	ck_assert_double_eq(stats_betai(2, 3, 0), 0);
	ck_assert_double_eq(stats_betai(2, 3, 1), 1);
	ck_assert(isnan(stats_betai(-1, 3, 0.5)));
	ck_assert(isnan(stats_betai(1, 3, 1.5)));
}
END_TEST

START_TEST(test_quantiles)
{
	static const double ps[] = { 1e-12, 1e-6, 0.01, 0.3, 0.5, 0.9, 0.999999 };
	static const double ab[][2] = { { 0.5, 0.5 }, { 0.5, 30 }, { 2, 5 }, { 40, 3 },
					{ 1000, 2000 }, { 3e4, 7e4 } };
	size_t i, j;

	/* Round trips through stats_betai(). */
	for (i = 0; i < N(ab); i++)
		for (j = 0; j < N(ps); j++) {
			double x = stats_beta_quantile(ps[j], ab[i][0], ab[i][1]);

			assert_close(stats_betai(ab[i][0], ab[i][1], x), ps[j], 1e-10);
		}
	/* Closed forms: Beta(a, 1) has x = p^(1/a). scipy.stats.beta.ppf(0.3, 2, 5),
	 * beta.ppf(1e-8, 0.5, 30), beta.ppf(0.999, 40, 3). */
	assert_close(stats_beta_quantile(0.3, 2.5, 1), pow(0.3, 1 / 2.5), 1e-13);
	assert_close(stats_beta_quantile(0.3, 2, 5), 0.18180347131894917, 1e-12);
	assert_close(stats_beta_quantile(1e-8, 0.5, 30), 2.6399006310995183e-18, 1e-12);
	assert_close(stats_beta_quantile(0.999, 40, 3), 0.9953626644549523, 1e-12);
	ck_assert_double_eq(stats_beta_quantile(0, 2, 3), 0);
	ck_assert_double_eq(stats_beta_quantile(1, 2, 3), 1);

	/* scipy.stats.norm.ppf(0.975), (1e-10), (1e-300), (0.6) */
	assert_close(stats_normal_quantile(0.975), 1.959963984540054, 1e-14);
	assert_close(stats_normal_quantile(1e-10), -6.361340902404056, 1e-14);
	assert_close(stats_normal_quantile(1e-300), -37.0470962993612, 1e-14);
	assert_close(stats_normal_quantile(0.6), 0.2533471031357997, 1e-14);
	ck_assert_double_eq(stats_normal_quantile(0.5), 0);

	/* t: closed forms for df = 1 (Cauchy: tan(pi (p - 1/2))) and df = 2
	 * ((2p - 1) / sqrt(2 p (1 - p))). For df = 10, R's qt(0.975, 10) =
	 * 2.228138851986273 (scipy.stats.t.sf of it: 0.025000000000000053;
	 * scipy.stats.t.ppf gives 2.2281388519649385, cephes' stdtrit being off by
	 * 1e-11). scipy.stats.t.ppf(0.9, 5.5), t.ppf(1e-6, 30). */
	assert_close(stats_t_quantile(0.8, 1), tan(M_PI * 0.3), 1e-13);
	assert_close(stats_t_quantile(1e-9, 1), -1 / tan(M_PI * 1e-9), 1e-12);
	assert_close(stats_t_quantile(0.3, 2), -0.4 / sqrt(0.42), 1e-13);
	/* Next to the median, where t²/(df + t²) must not come from 1 - x. */
	assert_close(stats_t_quantile(0.5 + 0x1p-30, 2),
		     0x1p-29 / sqrt(2 * (0.5 + 0x1p-30) * (0.5 - 0x1p-30)), 1e-13);
	assert_close(stats_t_quantile(0.975, 10), 2.228138851986273, 1e-13);
	assert_close(stats_t_quantile(0.9, 5.5), 1.4559770334470057, 1e-10);
	assert_close(stats_t_quantile(1e-6, 30), -5.871117120418899, 1e-10);
	assert_close(stats_t_quantile(0.975, INFINITY), 1.959963984540054, 1e-14);
	/* Large df: z + (z³ + z)/(4 df) + O(df^-2) (the Cornish-Fisher route),
	 * and no jump where the route changes (df = 1000 at z = 1.96). */
	assert_close(stats_t_quantile(0.975, 1e10),
		     1.959963984540054 + (pow(1.959963984540054, 3) + 1.959963984540054) / 4e10,
		     1e-15);
	assert_close(stats_t_quantile(0.975, 1000), stats_t_quantile(0.975, 1000 + 1e-9), 1e-13);
	/* The far tail, where df/(df + t²) underflows: Cauchy's -1/tan(pi p),
	 * and for df = 2 (2p - 1)/sqrt(2p(1 - p)). */
	assert_close(stats_t_quantile(1e-300, 1), -1 / (M_PI * 1e-300), 1e-12);
	assert_close(stats_t_quantile(1e-300, 2), -1 / sqrt(2e-300), 1e-12);
	ck_assert_double_eq(stats_t_quantile(0.5, 7), 0);
	ck_assert(isnan(stats_t_quantile(0.5, 0)));
}
END_TEST

START_TEST(test_holm)
{
	/* statsmodels multipletests(p, method='holm')[1] */
	static const double p1[] = { 0.01, 0.04, 0.03, 0.2 };
	static const double w1[] = { 0.04, 0.09, 0.09, 0.2 };
	static const double p2[] = { 0.02, 0.001, 0.02, 0.5, 0.3 };
	static const double w2[] = { 0.08, 0.005, 0.08, 0.6, 0.6 };
	double adj[5], q[1] = { 0.7 };
	size_t i;

	stats_holm(p1, N(p1), adj);
	for (i = 0; i < N(p1); i++)
		assert_close(adj[i], w1[i], 1e-15);
	memcpy(adj, p2, sizeof(p2));
	stats_holm(adj, N(p2), adj);	/* in place */
	for (i = 0; i < N(p2); i++)
		assert_close(adj[i], w2[i], 1e-15);
	stats_holm(q, 1, q);
	ck_assert_double_eq(q[0], 0.7);
	stats_holm(NULL, 0, NULL);
}
END_TEST

START_TEST(test_clopper_pearson)
{
	double lo, hi;

	/* statsmodels proportion_confint(3, 20, alpha=0.05, method='beta') */
	stats_clopper_pearson(3, 20, 0.95, &lo, &hi);
	assert_close(lo, 0.0320709371854637, 1e-12);
	assert_close(hi, 0.37892682654531396, 1e-12);
	/* proportion_confint(37, 50, alpha=1-0.99, method='beta') */
	stats_clopper_pearson(37, 50, 0.99, &lo, &hi);
	assert_close(lo, 0.5526362368971522, 1e-12);
	assert_close(hi, 0.8803209983873805, 1e-12);
	/* x = 0: [0, 1 - (alpha/2)^(1/n)]; x = n: [(alpha/2)^(1/n), 1]. */
	stats_clopper_pearson(0, 10, 0.95, &lo, &hi);
	ck_assert_double_eq(lo, 0);
	assert_close(hi, -expm1(log(0.025) / 10), 1e-13);
	stats_clopper_pearson(10, 10, 0.95, &lo, &hi);
	assert_close(lo, exp(log(0.025) / 10), 1e-13);
	ck_assert_double_eq(hi, 1);
	stats_clopper_pearson(11, 10, 0.95, &lo, &hi);
	ck_assert(isnan(lo) && isnan(hi));
}
END_TEST

START_TEST(test_effect)
{
	/* |3/15 - 10/15| = |12/15 - 5/15|: a tie, the lowest column wins.
	 * Agresti-Caffo: p~a = 11/17, p~b = 4/17, se² = (66 + 52) / 17³. */
	static const long ta[] = { 10, 5 }, tb[] = { 3, 12 };
	static const long tc[] = { 0, 40, 0 }, td[] = { 0, 30, 10 }, empty[] = { 0, 0, 0 };
	double se = sqrt(118.0 / (17 * 17 * 17)), z = 1.959963984540054;
	struct stats_effect r;

	ck_assert_int_eq(stats_effect(ta, tb, 2, 1, 0, 0.95, &r), 0);
	ck_assert_uint_eq(r.col, 0);
	assert_close(r.pa, 10.0 / 15, 1e-15);
	assert_close(r.pb, 3.0 / 15, 1e-15);
	assert_close(r.diff, -7.0 / 15, 1e-15);
	assert_close(r.lo, -7.0 / 17 - z * se, 1e-13);
	assert_close(r.hi, -7.0 / 17 + z * se, 1e-13);
	/* Same with the normal quantile spelt INFINITY; phi scales the variance;
	 * a t quantile widens the interval. */
	ck_assert_int_eq(stats_effect(ta, tb, 2, 4, INFINITY, 0.95, &r), 0);
	assert_close(r.hi, -7.0 / 17 + 2 * z * se, 1e-13);
	ck_assert_int_eq(stats_effect(ta, tb, 2, 1, 10, 0.95, &r), 0);
	assert_close(r.hi, -7.0 / 17 + 2.228138851986273 * se, 1e-13);

	/* Proportions (0, 1, 0) against (0, 3/4, 1/4): columns 1 and 2 both
	 * change by 1/4, column 1 is reported. */
	ck_assert_int_eq(stats_effect(tc, td, 3, 1, 0, 0.9, &r), 0);
	ck_assert_uint_eq(r.col, 1);
	ck_assert_double_eq(r.diff, -0.25);
	ck_assert(r.lo >= -1 && r.lo < r.hi && r.hi <= 1);
	/* Clipped to [-1, 1]. */
	ck_assert_int_eq(stats_effect(tc, td, 3, 400, 0, 0.99, &r), 0);
	ck_assert_double_eq(r.lo, -1);
	ck_assert_double_eq(r.hi, 1);

	ck_assert_int_eq(stats_effect(ta, empty, 2, 1, 0, 0.95, &r), -1);
	ck_assert_int_eq(stats_effect(empty, tb, 2, 1, 0, 0.95, &r), -1);
	ck_assert_int_eq(stats_effect(ta, tb, 2, 0, 0, 0.95, &r), -1);
	ck_assert_int_eq(stats_effect(ta, tb, 2, 1, 0, 1, &r), -1);
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
	tcase_add_test(t, test_big_counts);
	tcase_add_test(t, test_count_overflow);
	suite_add_tcase(s, t);

	t = tcase_create("quasi");
	tcase_add_test(t, test_quasi_hand);
	tcase_add_test(t, test_quasi_identical_boots);
	tcase_add_test(t, test_quasi_drops);
	tcase_add_test(t, test_quasi_degenerate);
	tcase_add_test(t, test_effect);
	tcase_add_test(t, test_holm);
	tcase_add_test(t, test_clopper_pearson);
	suite_add_tcase(s, t);

	t = tcase_create("distributions");
	tcase_add_test(t, test_f_sf);
	tcase_add_test(t, test_chi2_sf);
	tcase_add_test(t, test_betai);
	tcase_add_test(t, test_quantiles);
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
