/* SPDX-License-Identifier: MIT */
#ifndef KFARM_DIFF_H
#define KFARM_DIFF_H

#include <stdio.h>

#include <jansson.h>

#include "error.h"

/* Verdicts, as they appear in diff.json ("verdict" and the "summary" keys). */
#define DIFF_SAME	"same"
#define DIFF_CHANGED	"changed"
#define DIFF_FLAKY	"flaky"
#define DIFF_ERROR	"error"

/**
 * diff_load_run() - load a run report.
 * @path: a run.json file or a run directory that contains one.
 * @e: filled on failure: the file, and line, column and text of a JSON syntax
 *     error (from json_error_t), or what is wrong with it.
 *
 * Checks that the document is an object whose "schema" is "kfarm.run/1".
 *
 * Return: a new reference, or NULL and @e.
 */
json_t *diff_load_run(const char *path, struct kf_error *e);

/**
 * diff_runs() - compare kernel @ka of run @run_a with kernel @kb of run @run_b.
 * @run_a, @run_b: kfarm.run/1 objects; the same run may be passed twice.
 * @ka, @kb: kernel names (the "name" of an entry in each run's "kernels").
 * @e: filled on failure: a kernel missing from its run (names the kernel and the
 *     run id), or a malformed run (names the field, e.g. "cells[3].smp").
 *
 * Every (scenario, smp) present on either side becomes one cell of the result,
 * ordered by the scenario's position in @run_a's "scenarios" (then @run_b's, then
 * by name) and by smp ascending. A cell's content (status, outcomes) is judged by
 * diff_verdict(): a broken cell is an "error" verdict, not a failure.
 *
 * Return: a new kfarm.diff/1 object, or NULL and @e.
 */
json_t *diff_runs(json_t *run_a, const char *ka, json_t *run_b, const char *kb,
		  struct kf_error *e);

/**
 * diff_verdict() - the verdict for one (scenario, smp).
 * @cell_a, @cell_b: the run.json cells of each side; NULL when that side has none.
 * @fields: set to a new array of the observation keys that differ (sorted,
 *          possibly empty): for "changed" the keys whose values differ, for
 *          "flaky" the keys whose sets of values over all observations differ.
 * @reason: set to an owned string (free()) that explains an "error", a
 *          "changed" between ok and unsupported, or a "flaky"; else NULL.
 *
 * "error" when a side is missing or its status is neither "ok" nor
 * "unsupported" (or its outcomes are malformed); both unsupported is "same",
 * one of them "changed"; both ok compares the distinct observations as
 * canonical JSON: one each and equal is "same", one each and different is
 * "changed", more than one on either side is "flaky".
 *
 * Return: DIFF_SAME, DIFF_CHANGED, DIFF_FLAKY or DIFF_ERROR (static strings).
 */
const char *diff_verdict(json_t *cell_a, json_t *cell_b, json_t **fields, char **reason);

/**
 * diff_print_table() - a short human summary of @diff on @f.
 * @colour: nonzero to colour the verdicts with ANSI escapes.
 *
 * A header naming both sides, one aligned line per cell whose verdict is not
 * "same" (scenario, smp, verdict, detail: for "changed" the two observations
 * restricted to the differing fields, "a: {...} | b: {...}"; else the reason),
 * and a last line "N cells, N same, N changed, N flaky, N error".
 */
void diff_print_table(FILE *f, json_t *diff, int colour);

/**
 * diff_count() - the number of cells with @verdict in @diff's "summary"
 * (0 when absent).
 */
int diff_count(json_t *diff, const char *verdict);

#endif
