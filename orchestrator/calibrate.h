/* SPDX-License-Identifier: MIT */
#ifndef KFARM_CALIBRATE_H
#define KFARM_CALIBRATE_H

#include <stdio.h>

#include <jansson.h>

#include "error.h"

#define CALIBRATE_SCHEMA	"kfarm.calibrate/1"
/* The confidence level of the false-positive rates' intervals. */
#define CALIBRATE_LEVEL		0.95

/*
 * Calibration: N A/A comparisons of one kernel with itself (two boots of the
 * same image), tallied per (scenario, smp). Every "changed" or
 * "distribution-changed" verdict of such a diff is a false positive: the
 * report gives, per cell and over all cells, how often each verdict came out
 * and the false-positive rate with a Clopper-Pearson interval, and the
 * family-wise rate (the share of runs with any false positive), which is what
 * the diff's alpha bounds.
 */
struct calibrate;

/** calibrate_new() - an empty tally for @kernel at family-wise level @alpha. */
struct calibrate *calibrate_new(const char *kernel, double alpha);

/** calibrate_free() - free @c; NULL is fine. */
void calibrate_free(struct calibrate *c);

/**
 * calibrate_add() - tally the cells of one A/A diff (kfarm.diff/3) written
 * into @run_dir. Returns -1 and @e when @diff is not a diff object.
 */
int calibrate_add(struct calibrate *c, json_t *diff, const char *run_dir, struct kf_error *e);

/**
 * calibrate_report() - the kfarm.calibrate/1 object (new reference): "kernel",
 * "alpha", "runs", "run_dirs", per cell "verdicts" (every verdict's count),
 * "false_positives", "rate" and "interval"; "total" (the same over every
 * cell verdict) and "family" (runs with any false positive).
 */
json_t *calibrate_report(const struct calibrate *c);

/** calibrate_print() - @report as a table on @f, a line per cell and two totals. */
void calibrate_print(FILE *f, json_t *report);

/**
 * calibrate_exit_status() - 1 when the family-wise false-positive rate is
 * significantly above alpha (its interval lies wholly above it), else 0.
 */
int calibrate_exit_status(json_t *report);

#endif
