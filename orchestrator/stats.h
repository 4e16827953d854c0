/* SPDX-License-Identifier: MIT */
#ifndef KFARM_STATS_H
#define KFARM_STATS_H

#include <stddef.h>

#include "error.h"

/* Names of the tests, as they appear in diff.json ("test"). */
#define STATS_FISHER		"fisher-exact"
#define STATS_MONTE_CARLO	"monte-carlo"

/* Above this many tables with the observed margins, stats_exact_2xk() samples. */
#define STATS_MAX_TABLES	2000000.0
/* Samples of the Monte Carlo fallback, and its fixed seed (reports are reproducible). */
#define STATS_MC_SAMPLES	200000
#define STATS_MC_SEED		0x6b6661726d5eedULL

/*
 * struct stats_result - the outcome of a test of two histograms.
 * @p: the p-value, in [0, 1]
 * @test: STATS_FISHER (exact enumeration) or STATS_MONTE_CARLO (estimate)
 * @tables: tables enumerated (exact), or samples drawn (Monte Carlo)
 */
struct stats_result {
	double p;
	const char *test;
	double tables;
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
 * is the total probability (multivariate hypergeometric, from log-factorials)
 * of the tables no more probable than the observed one, with a relative
 * tolerance of 1e-7 so that ties computed through different roundings count.
 * With one column or an empty row there is a single table and p = 1. When
 * the number of tables exceeds STATS_MAX_TABLES, estimates p instead from
 * STATS_MC_SAMPLES random tables with the same margins (fixed seed), as
 * (hits + 1) / (samples + 1), and says so in @r->test.
 *
 * Return: 0, or -1 and @e.
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
 * and columns summing to @col (as a double: it can be huge).
 */
double stats_count_tables(const long *col, size_t k, long na);

#endif
