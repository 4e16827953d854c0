/* SPDX-License-Identifier: MIT */
#ifndef KFARM_STATS_H
#define KFARM_STATS_H

#include <stddef.h>

#include "error.h"

/* Names of the tests, as they appear in diff.json ("test"). */
#define STATS_FISHER		"fisher-exact"
#define STATS_MONTE_CARLO	"monte-carlo"
#define STATS_CHI_SQUARE	"chi-square"
#define STATS_QUASI		"quasi-f"

/* Largest total of counts a test accepts (sums and products stay exact). */
#define STATS_MAX_TOTAL		(1L << 40)
/* Fewest nonempty boots (both sides together) stats_quasi_test() needs. */
#define STATS_QUASI_MIN_BOOTS	3

/* Above this many tables with the observed margins, stats_exact_2xk() samples. */
#define STATS_MAX_TABLES	2000000.0
/* Samples of the Monte Carlo fallback, and its fixed seed (reports are reproducible). */
#define STATS_MC_SAMPLES	200000
#define STATS_MC_SEED		0x6b6661726d5eedULL
/*
 * Up to this many repetitions in all (N), stats_exact_2xk() takes
 * log-factorials from a table of N + 1 (512 KiB at most); above it, Loader's
 * saddle-point terms (O(1) memory, accurate at any N). Above it too, a table
 * with too many tables to enumerate whose expected counts are all at least
 * STATS_CHI2_MIN_EXPECTED gets Pearson's chi-square instead of sampling.
 */
#define STATS_TABLE_MAX_N	65536L
#define STATS_CHI2_MIN_EXPECTED	5

/*
 * struct stats_result - the outcome of a test of two histograms.
 * @p: the p-value, in [0, 1]
 * @test: STATS_FISHER (exact enumeration), STATS_MONTE_CARLO (estimate) or
 *        STATS_CHI_SQUARE (asymptotic)
 * @tables: tables enumerated (exact), samples drawn (Monte Carlo), or 0
 * @x2, @df: Pearson's X² and its degrees of freedom (chi-square; else 0)
 */
struct stats_result {
	double p;
	const char *test;
	double tables;
	double x2, df;
};

/**
 * stats_exact_2xk() - Fisher-Freeman-Halton exact test of a 2×k table.
 * @a, @b: the two rows (the histograms of side a and side b over the same k
 *         observations, in the same order); counts >= 0.
 * @k: number of columns; columns that are zero on both rows are ignored.
 * @r: filled with the p-value and how it was computed.
 * @e: filled on failure (a negative count, a total that overflows).
 *
 * Enumerates every table with the observed row and column sums; the p-value
 * is the total probability (multivariate hypergeometric) of the tables no
 * more probable than the observed one, with a relative tolerance of 1e-7 so
 * that ties computed through different roundings count. With one column or
 * an empty row there is a single table and p = 1. Probabilities come from
 * log-factorials up to N = STATS_TABLE_MAX_N, beyond from Loader's
 * saddle-point binomial terms: memory O(k) whatever the counts.
 *
 * When the tables exceed STATS_MAX_TABLES (counted with that bound, in
 * O(k STATS_MAX_TABLES) time at most), the test is approximated, and says
 * how in @r->test:
 * - N > STATS_TABLE_MAX_N and every expected count (na c_j / N, nb c_j / N)
 *   at least STATS_CHI2_MIN_EXPECTED (Cochran's rule): Pearson's chi-square
 *   on k' - 1 degrees of freedom (k' kept columns), to which the exact test
 *   converges as the counts grow (@r->x2, @r->df);
 * - otherwise Monte Carlo: STATS_MC_SAMPLES random tables with the same
 *   margins (fixed seed; each drawn as k' - 1 hypergeometric draws, O(k) a
 *   table whatever the counts), p = (hits + 1) / (samples + 1).
 *
 * Return: 0, or -1 and @e (a negative count, more than STATS_MAX_TOTAL in all).
 */
int stats_exact_2xk(const long *a, const long *b, size_t k, struct stats_result *r,
		    struct kf_error *e);

/**
 * stats_ffh() - stats_exact_2xk() with the enumeration bound @max_tables
 * (tests use it to check the Monte Carlo estimate against the exact value).
 */
int stats_ffh(const long *a, const long *b, size_t k, double max_tables,
	      struct stats_result *r, struct kf_error *e);

/**
 * stats_count_tables() - the number of 2×k tables with row a summing to @na
 * and columns summing to @col (as a double: it can be huge). Needs O(@na)
 * time and memory per column: stats_ffh() does not use it (it counts with
 * its bound), tests do.
 */
double stats_count_tables(const long *col, size_t k, long na);

/*
 * struct stats_quasi - the outcome of stats_quasi_test().
 * @p: the p-value, in [0, 1]
 * @x2: Pearson chi-square of the pooled 2×k table (no continuity correction)
 * @f: the F statistic, @x2 / @df1 / @phi
 * @phi: the dispersion used, max(1, @phi_raw)
 * @phi_raw: the Pearson dispersion estimated from the boots (can be < 1)
 * @df1, @df2: degrees of freedom of the F reference, k - 1 and (B - 2)(k - 1)
 * @k: columns kept (nonzero on some side)
 * @boots_a, @boots_b: nonempty boots of each side (B = @boots_a + @boots_b)
 */
struct stats_quasi {
	double p, x2, f, phi, phi_raw, df1, df2;
	size_t k;
	size_t boots_a, boots_b;
};

/**
 * stats_quasi_test() - quasi-likelihood F test of two histograms whose
 * repetitions come in boots (clusters) rather than independent draws.
 * @a: @boots_a rows of @k counts, row-major: @a[j * @k + c] is how many
 *     repetitions of boot j of side a had outcome c; counts >= 0.
 * @boots_a: rows of @a (may be 0, then @a may be NULL).
 * @b, @boots_b: the same for side b, over the same k outcomes in the same order.
 * @k: number of columns; columns that are zero on both sides are dropped,
 *     and so are boots with no repetition.
 * @r: filled with the p-value, the statistics and the dispersion.
 * @e: filled on failure.
 *
 * The pooled Pearson chi-square X² of the 2×k table is divided by its degrees
 * of freedom k - 1 and by the between-boot dispersion phi = max(1, phi_raw),
 * phi_raw being the Pearson statistic of every boot against its side's pooled
 * proportions over its (B - 2)(k - 1) degrees of freedom; p is the upper tail
 * of F(k - 1, (B - 2)(k - 1)) there. It assumes the boots independent, the
 * boots of a side exchangeable (same outcome proportions, variance phi times
 * the multinomial one) and one phi for both sides; it is an approximation
 * that needs a few repetitions per outcome (see stats.c for the argument).
 * With fewer than two kept columns, p = 1 (and @r->x2 = @r->f = 0, @r->phi =
 * @r->phi_raw = 1, @r->df1 = @r->df2 = 0).
 *
 * Return: 0, or -1 and @e on a negative count, a total above STATS_MAX_TOTAL,
 * fewer than STATS_QUASI_MIN_BOOTS nonempty boots, or a side with no
 * nonempty boot (the caller falls back to stats_exact_2xk()).
 */
int stats_quasi_test(const long *a, size_t boots_a, const long *b, size_t boots_b,
		     size_t k, struct stats_quasi *r, struct kf_error *e);

/*
 * struct stats_effect - the largest difference between two histograms.
 * @col: the column (outcome) where |@pb - @pa| is largest (lowest on ties)
 * @pa, @pb: the proportion of that outcome on side a and side b
 * @diff: @pb - @pa
 * @lo, @hi: the confidence interval for @diff (Agresti-Caffo, scaled by phi)
 */
struct stats_effect {
	size_t col;
	double pa, pb, diff, lo, hi;
};

/**
 * stats_effect() - the outcome whose proportion changed most, with an interval.
 * @ta, @tb: the pooled histograms of side a and side b (@k counts each, >= 0).
 * @k: number of columns.
 * @phi: the dispersion (stats_quasi_test()'s @phi; 1 for independent draws).
 * @df: degrees of freedom of the t quantile (stats_quasi_test()'s @df2);
 *      0 or INFINITY for the normal quantile.
 * @level: confidence level, in (0, 1), e.g. 0.95.
 * @r: filled with the column, the proportions, the difference and its interval.
 *
 * The interval is Agresti-Caffo's (one success and one failure added to each
 * side: p~ = (x + 1) / (n + 2), centred on p~b - p~a) with the variance
 * multiplied by @phi and a t quantile at (1 + @level) / 2 instead of the
 * normal one; clipped to [-1, 1]. Column choice is exact (integer
 * comparison), so ties go to the lowest column whatever the rounding.
 *
 * Return: 0, or -1 when a side is empty, a count is negative, the totals
 * exceed STATS_MAX_TOTAL, @phi is not > 0 or @level is not in (0, 1).
 */
int stats_effect(const long *ta, const long *tb, size_t k, double phi, double df,
		 double level, struct stats_effect *r);

/**
 * stats_holm() - Holm's step-down adjusted p-values.
 * @p: @m p-values in [0, 1].
 * @m: how many.
 * @adj: filled with the adjusted p-values, in the order of @p (may be @p).
 *
 * Over the p-values in ascending order, adj_(i) = max over j <= i of
 * min(1, (m - j + 1) p_(j)); rejecting adj < alpha controls the family-wise
 * error rate at alpha whatever the dependence between the tests. Tied
 * p-values get the same adjusted value.
 */
void stats_holm(const double *p, size_t m, double *adj);

/**
 * stats_clopper_pearson() - exact (Clopper-Pearson) interval for a binomial
 * proportion.
 * @x, @n: successes out of trials, 0 <= @x <= @n.
 * @level: confidence level, in (0, 1).
 * @lo, @hi: filled with the interval: the @alpha/2 quantile of Beta(x, n-x+1)
 *           and the 1 - @alpha/2 quantile of Beta(x+1, n-x), alpha = 1 - level;
 *           @lo = 0 when @x = 0, @hi = 1 when @x = @n. NaN on bad input.
 */
void stats_clopper_pearson(long x, long n, double level, double *lo, double *hi);

/**
 * stats_f_sf() - upper tail P(F > @x) of the F distribution with @d1, @d2
 * degrees of freedom (> 0, need not be integers).
 *
 * Computed as I_{d2/(d2 + d1 x)}(d2/2, d1/2), with the complement of that
 * argument formed without cancellation, so tiny p-values keep their
 * relative accuracy. 1 for @x <= 0, 0 for @x = INFINITY, NaN on bad input.
 */
double stats_f_sf(double x, double d1, double d2);

/**
 * stats_chi2_sf() - upper tail P(X > @x) of the chi-square distribution with
 * @df (> 0, finite) degrees of freedom.
 *
 * erfc(sqrt(x/2)) for df = 1, exp(-x/2) for df = 2, else the regularized
 * upper incomplete gamma Q(df/2, x/2) (its series below x = df/2 + 1, its
 * continued fraction above, relative accuracy about 1e-13 while the tail is
 * above 1e-300). 1 for @x <= 0, NaN on bad input.
 */
double stats_chi2_sf(double x, double df);

/**
 * stats_betai() - the regularized incomplete beta function I_x(a, b).
 * @a, @b: > 0.
 * @x: in [0, 1].
 *
 * Continued fraction (modified Lentz), on the side of the mean where it
 * converges fast (I_x(a,b) = 1 - I_{1-x}(b,a) when x > (a+1)/(a+b+2)). The
 * prefactor x^a (1-x)^b / B(a, b) comes from Stirling's series rather than
 * from differences of lgamma(), so it keeps a relative accuracy of about
 * 1e-12 for a, b in [0.5, 1e5]: 1e-14 or better mostly, a few 1e-12 at
 * worst where the fraction runs with a parameter near 1e5 and its argument
 * near 1 (its terms then cancel to O(1/a)); beyond 1e5 that loss grows.
 * NaN on bad input.
 */
double stats_betai(double a, double b, double x);

/**
 * stats_beta_quantile() - the x with I_x(@a, @b) = @p (inverse of stats_betai()).
 * @p: in [0, 1] (0 and 1 give 0 and 1).
 * @a, @b: > 0.
 *
 * Newton's method safeguarded by bisection on a bracket, on the tail where
 * the root is below 1/2 (so small roots keep their relative accuracy), to a
 * relative tolerance well below 1e-12. NaN on bad input.
 */
double stats_beta_quantile(double p, double a, double b);

/**
 * stats_t_quantile() - the quantile of Student's t distribution.
 * @p: in (0, 1); 0 and 1 give -INFINITY and INFINITY.
 * @df: degrees of freedom, > 0 (need not be an integer); INFINITY gives
 *      stats_normal_quantile().
 *
 * From the beta inverse: P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2), with both
 * df/(df+t²) and t²/(df+t²) kept accurate; where df/(df+t²) would underflow,
 * from the power law of the tail. For df > 1000 and df > 200 z² (z the
 * normal quantile), from z by the Cornish-Fisher expansion in 1/df, whose
 * omitted terms are then below 1e-15. NaN on bad input.
 */
double stats_t_quantile(double p, double df);

/**
 * stats_normal_quantile() - the quantile of the standard normal distribution.
 * @p: in (0, 1); 0 and 1 give -INFINITY and INFINITY.
 *
 * A rational start (Abramowitz-Stegun 26.2.23) refined by Halley's method on
 * erfc(), to full double precision for p >= 1e-300.
 */
double stats_normal_quantile(double p);

#endif
