/* SPDX-License-Identifier: MIT */
#ifndef KFARM_DIFF_H
#define KFARM_DIFF_H

#include <stdio.h>

#include <jansson.h>

#include "error.h"

#define DIFF_SCHEMA	"kfarm.diff/3"

/* Verdicts, as they appear in diff.json ("verdict" and the "summary" keys). */
#define DIFF_SAME		"same"
#define DIFF_CHANGED		"changed"
#define DIFF_DIST_CHANGED	"distribution-changed"
#define DIFF_FLAKY		"flaky"
#define DIFF_UNSUPPORTED	"unsupported"
#define DIFF_ERROR		"error"

/*
 * The family-wise error rate unless told otherwise: the probability that a
 * diff of two identical kernels has any distribution-changed cell.
 */
#define DIFF_ALPHA_DEFAULT	0.01
/*
 * The most repetitions a side's cell may hold in all (and in all its boots):
 * both sides together stay within stats.h's STATS_MAX_TOTAL, so a test never
 * refuses a cell that diff_verdict() took; above it the cell is an error.
 */
#define DIFF_MAX_REPS		(1LL << 39)
/* How the tested cells' p-values are adjusted for their number. */
#define DIFF_CORRECTION		"holm"
/* The confidence level of a cell's effect interval. */
#define DIFF_EFFECT_LEVEL	0.95

/*
 * struct diff_opts - how to compare.
 * @alpha: the family-wise error rate, in (0, 1): a tested cell whose
 *         Holm-adjusted p-value is below it is "distribution-changed".
 */
struct diff_opts {
	double alpha;
};

/**
 * diff_verdict_name() - verdict @i of the verdict table (diff_verdict_info()),
 * in the order of diff.json's "summary" and of the table's last line; NULL
 * past the last.
 */
const char *diff_verdict_name(size_t i);

/**
 * diff_runs() - diff_runs_opts() with the default options.
 */
json_t *diff_runs(json_t *run_a, const char *ka, json_t *run_b, const char *kb,
		  struct kf_error *e);

/**
 * diff_runs_opts() - compare kernel @ka of run @run_a with kernel @kb of run @run_b.
 * @run_a, @run_b: kfarm.run/1 objects; the same run may be passed twice.
 * @ka, @kb: kernel names (the "name" of an entry in each run's "kernels").
 * @e: filled on failure: a kernel missing from its run (names the kernel and the
 *     run id), or a malformed run (names the field, e.g. "cells[3].smp").
 *
 * Every (scenario, smp) present on either side becomes one cell of the result,
 * ordered by the scenario's position in @run_a's "scenarios" (then @run_b's, then
 * by name) and by smp ascending. A cell's content (status, outcomes) is judged by
 * diff_verdict(): a broken cell is an "error" verdict, not a failure. Each cell
 * whose verdict is neither "same" nor "unsupported" carries "replay": a shell
 * command that reruns that scenario on both kernels' images at that SMP size
 * (report_replay_command()). "smp_dependent" lists, per side, the scenarios whose
 * deterministic outcome differs between SMP sizes of that kernel.
 * The tested cells (those with a "p_value") are one family: their p-values
 * are adjusted by Holm's method ("p_adjusted"; the diff says "correction":
 * "holm" and "family": their number), and a tested cell is
 * "distribution-changed" when its adjusted p-value is below alpha, "flaky"
 * otherwise; so a diff of a kernel with itself has any distribution-changed
 * cell with probability at most alpha.
 * @o: may be NULL for the defaults; an alpha outside (0, 1) is an error.
 *
 * Return: a new kfarm.diff/3 object, or NULL and @e.
 */
json_t *diff_runs_opts(json_t *run_a, const char *ka, json_t *run_b, const char *kb,
		       const struct diff_opts *o, struct kf_error *e);

/**
 * diff_verdict() - the verdict for one (scenario, smp).
 * @cell_a, @cell_b: the run.json cells of each side; NULL when that side has none.
 * @alpha: significance level of the exact test.
 * @out: a JSON object that receives the verdict's details:
 *       "fields" (always; sorted, possibly empty): for "changed" the observation
 *       keys whose values differ, for "flaky" and "distribution-changed" the
 *       keys whose sets of values over all observations differ;
 *       "reason" for "error" (which side and why), for a "changed" between ok
 *       and unsupported (which side is unsupported), for "flaky" and
 *       "distribution-changed" (the distinct observations of each side);
 *       for "flaky" and "distribution-changed": "p_value", "test"
 *       (STATS_QUASI, or STATS_FISHER / STATS_MONTE_CARLO with fewer than
 *       three boots in all), "dispersion" ({phi, raw, df}, the quasi test's),
 *       "boots" ({a, b}: how many each side had), "effect" ({observation, a,
 *       b, difference, interval, level}: the observation whose share moved
 *       most, its share on each side, b - a and its interval) and "racy"
 *       (either side's cell is marked racy).
 *
 * "error" when a side is missing or its status is neither "ok" nor
 * "unsupported" (or its outcomes or boots are malformed); both unsupported is
 * "unsupported", one of them "changed". Both ok compares the histograms of
 * canonical observations: one distinct observation a side, equal, is "same",
 * different "changed" (no statistics); otherwise the cell is tested on its
 * boots (a cell's "boots", each a histogram; a cell without them is one
 * boot): with three boots or more in all, the quasi-likelihood F test that
 * takes the boot as the unit (stats_quasi_test()), else the exact test of the
 * pooled histograms, which takes every repetition as independent. Alone (a
 * family of one), p < @alpha is "distribution-changed", else "flaky";
 * diff_runs_opts() decides over the family.
 *
 * Return: one of the DIFF_* verdicts (static strings).
 */
const char *diff_verdict(json_t *cell_a, json_t *cell_b, double alpha, json_t *out);

/**
 * diff_cell_detail() - the table's last column for diff cell @cell (owned):
 * for "changed" the two observations restricted to the differing fields,
 * "a: {...} | b: {...}"; for "flaky" and "distribution-changed" the reason,
 * "p=...", the fields and "racy"; else the reason (possibly "").
 */
char *diff_cell_detail(json_t *cell);

/* What a verdict is in a JUnit report. */
enum diff_junit { DIFF_JUNIT_PASS, DIFF_JUNIT_FAILURE, DIFF_JUNIT_ERROR, DIFF_JUNIT_SKIPPED,
		  DIFF_JUNIT_NOTE };

/*
 * struct diff_verdict_info - what each verdict means to each reader: one row
 * of diff.c's verdict table.
 * @name: as in diff.json
 * @colour: its ANSI colour in the table on a terminal
 * @differs: a claim that the kernels differ (exit status 1, a JUnit failure,
 *           KCIDB FAIL, a false positive when a kernel is compared with itself)
 * @shown: the table prints a line for it
 * @exit_status: what diff and compare exit with when some cell has it (the
 *               largest over the cells)
 * @junit: its JUnit element (a note is a passing testcase with system-out)
 * @kcidb: its KCIDB test status
 */
struct diff_verdict_info {
	const char *name;
	const char *colour;
	int differs;
	int shown;
	int exit_status;
	enum diff_junit junit;
	const char *kcidb;
};

/** diff_verdict_info() - @verdict's row; an unknown verdict is treated as "error". */
const struct diff_verdict_info *diff_verdict_info(const char *verdict);

/** diff_count_differs() - how many cells of @diff claim that the kernels differ. */
int diff_count_differs(json_t *diff);

/**
 * diff_count() - the number of cells with @verdict in @diff's "summary"
 * (0 when absent).
 */
int diff_count(json_t *diff, const char *verdict);

/**
 * diff_exit_status() - what "kfarm diff" and "kfarm compare" exit with:
 * 2 when some cell is "error", else 1 when some is "changed" or
 * "distribution-changed", else 0 ("flaky" and "unsupported" do not count).
 */
int diff_exit_status(json_t *diff);

#endif
