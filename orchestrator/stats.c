/* SPDX-License-Identifier: MIT */
/*
 * Statistics for the diff: the Fisher-Freeman-Halton exact test of two
 * histograms (a 2×k contingency table), with a Monte Carlo fallback when the
 * tables with the observed margins are too many to enumerate.
 *
 * Given the margins, a table is fixed by its first row x (x_j <= c_j, sum na)
 * and has probability prod_j C(c_j, x_j) / C(N, na) (multivariate
 * hypergeometric); everything is summed in log space from log-factorials.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

/* Relative tolerance for "no more probable than the observed table". */
#define TIE_TOLERANCE	1e-7

struct ffh {
	const long *col;	/* column sums of the kept columns */
	const long *tail;	/* tail[j] = sum of col[j..k-1] */
	size_t k;
	const double *lf;	/* lf[n] = log(n!) */
	double base;		/* log(na! nb! / N!) + sum_j log(c_j!) */
	double limit;		/* log-probability of the observed table, plus tolerance */
	double p;
	double tables;
};

static double *log_factorials(long n)
{
	double *lf = xcalloc((size_t)n + 1, sizeof(*lf));
	long i;

	for (i = 1; i <= n; i++)
		lf[i] = lf[i - 1] + log((double)i);
	return lf;
}

/* Enumerate column @j onwards with @left still to place in row a. */
static void ffh_walk(struct ffh *w, size_t j, long left, double logp)
{
	long lo, hi, x, c = w->col[j];

	if (j == w->k - 1) {
		/* The last column takes what is left (the caller keeps it feasible). */
		logp -= w->lf[left] + w->lf[c - left];
		w->tables++;
		if (logp <= w->limit)
			w->p += exp(w->base + logp);
		return;
	}
	lo = left - w->tail[j + 1];
	if (lo < 0)
		lo = 0;
	hi = left < c ? left : c;
	for (x = lo; x <= hi; x++)
		ffh_walk(w, j + 1, left - x, logp - w->lf[x] - w->lf[c - x]);
}

double stats_count_tables(const long *col, size_t k, long na)
{
	double *ways = xcalloc((size_t)na + 1, sizeof(*ways));
	double *next = xcalloc((size_t)na + 1, sizeof(*next));
	double total, *t;
	size_t j;
	long s;

	ways[0] = 1;
	for (j = 0; j < k; j++) {
		double run = 0;

		/* next[s] = sum of ways[s - x] for x in 0..col[j]: a sliding window. */
		for (s = 0; s <= na; s++) {
			run += ways[s];
			if (s - col[j] - 1 >= 0)
				run -= ways[s - col[j] - 1];
			next[s] = run;
		}
		t = ways;
		ways = next;
		next = t;
	}
	total = ways[na];
	free(ways);
	free(next);
	return total;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform integer in [0, n). */
static long uniform(uint64_t *s, long n)
{
	return (long)(((unsigned __int128)splitmix64(s) * (uint64_t)n) >> 64);
}

/* Estimate the FFH p-value by drawing random tables with the same margins. */
static double ffh_sample(const struct ffh *w, long na, long n)
{
	long *label = xcalloc((size_t)n, sizeof(*label));
	long *x = xcalloc(w->k, sizeof(*x));
	uint64_t seed = STATS_MC_SEED;
	long i, hits = 0, s, m = 0;
	size_t j;

	for (j = 0; j < w->k; j++)
		for (i = 0; i < w->col[j]; i++)
			label[m++] = (long)j;
	for (s = 0; s < STATS_MC_SAMPLES; s++) {
		double logp = 0;

		memset(x, 0, w->k * sizeof(*x));
		/* The first na of a partial Fisher-Yates shuffle are row a. */
		for (i = 0; i < na; i++) {
			long r = i + uniform(&seed, n - i), t = label[i];

			label[i] = label[r];
			label[r] = t;
			x[label[i]]++;
		}
		for (j = 0; j < w->k; j++)
			logp -= w->lf[x[j]] + w->lf[w->col[j] - x[j]];
		if (logp <= w->limit)
			hits++;
	}
	free(label);
	free(x);
	return (double)(hits + 1) / (STATS_MC_SAMPLES + 1.0);
}

int stats_exact_2xk(const long *a, const long *b, size_t k, struct stats_result *r,
		    struct kf_error *e)
{
	return stats_ffh(a, b, k, STATS_MAX_TABLES, r, e);
}

int stats_ffh(const long *a, const long *b, size_t k, double max_tables,
	      struct stats_result *r, struct kf_error *e)
{
	long *col = NULL, *tail = NULL, *xa = NULL, na = 0, nb = 0, n;
	double *lf = NULL, obs = 0;
	struct ffh w;
	size_t j, kk = 0;
	int ret = -1;

	r->p = 1;
	r->test = STATS_FISHER;
	r->tables = 1;
	for (j = 0; j < k; j++) {
		if (a[j] < 0 || b[j] < 0) {
			error_set(e, "stats", 0, 0, "negative count in column %zu", j);
			goto cleanup;
		}
		if (a[j] > (1L << 40) - na || b[j] > (1L << 40) - nb) {
			error_set(e, "stats", 0, 0, "counts too large");
			goto cleanup;
		}
		na += a[j];
		nb += b[j];
	}
	n = na + nb;

	col = xcalloc(k + 1, sizeof(*col));
	xa = xcalloc(k + 1, sizeof(*xa));
	for (j = 0; j < k; j++) {
		if (a[j] + b[j] == 0)
			continue;
		col[kk] = a[j] + b[j];
		xa[kk++] = a[j];
	}
	/* One column or an empty row: the observed table is the only one. */
	if (kk < 2 || na == 0 || nb == 0) {
		ret = 0;
		goto cleanup;
	}

	lf = log_factorials(n);
	tail = xcalloc(kk + 1, sizeof(*tail));
	for (j = kk; j-- > 0;)
		tail[j] = tail[j + 1] + col[j];
	memset(&w, 0, sizeof(w));
	w.col = col;
	w.tail = tail;
	w.k = kk;
	w.lf = lf;
	w.base = lf[na] + lf[nb] - lf[n];
	for (j = 0; j < kk; j++) {
		w.base += lf[col[j]];
		obs -= lf[xa[j]] + lf[col[j] - xa[j]];
	}
	w.limit = obs + TIE_TOLERANCE;

	r->tables = stats_count_tables(col, kk, na);
	if (r->tables > max_tables) {
		r->test = STATS_MONTE_CARLO;
		r->p = ffh_sample(&w, na, n);
		r->tables = STATS_MC_SAMPLES;
	} else {
		ffh_walk(&w, 0, na, 0);
		r->p = w.p > 1 ? 1 : w.p;
		r->tables = w.tables;
	}
	ret = 0;

cleanup:
	free(col);
	free(tail);
	free(xa);
	free(lf);
	return ret;
}
