/* SPDX-License-Identifier: MIT */
#ifndef KFARM_REPORT_H
#define KFARM_REPORT_H

/*
 * run.json (schema kfarm.run/2, reports/schema/run.schema.json): one owner
 * for its shape. run.c gathers what the guests reported and hands it here to
 * be merged and written; diff.c, the exporters and history read it through
 * the lookups below. reports/README.md documents every key.
 */
#include <jansson.h>

#include "error.h"

#define REPORT_SCHEMA	"kfarm.run/2"
/* Runs written before boots (one guest per kernel and SMP size) still load. */
#define REPORT_SCHEMA_1	"kfarm.run/1"

/*
 * struct report_status - a cell's or a guest's "status".
 * @name: as written in run.json
 * @rank: how bad: the merged cell of several boots takes the worst
 * @answered: the payload ran and answered (ok, or unsupported with its
 *            reason): nothing went wrong on the way
 * @meaning: one line for docs and help
 */
struct report_status {
	const char *name;
	int rank;
	int answered;
	const char *meaning;
};

/** report_status_find() - the status called @name, or NULL. */
const struct report_status *report_status_find(const char *name);

/**
 * report_status_rank() - @name's rank (an unknown or NULL status ranks as
 * "error").
 */
int report_status_rank(const char *name);

/** report_status_answered() - whether @name is "ok" or "unsupported". */
int report_status_answered(const char *name);

/**
 * report_cell_answered() - whether @cell's status is answered; NULL and a
 * cell without a status are not.
 */
int report_cell_answered(json_t *cell);

/**
 * report_load() - read the run.json at @path (a file, or a run directory
 * holding one), checking that it is a kfarm.run/2 (or /1) object. Returns
 * a new reference, or NULL with @e naming the file (and the line and column
 * of a syntax error).
 */
json_t *report_load(const char *path, struct kf_error *e);

/**
 * report_check() - @run's id, once it is known that "kernels", "cells" and
 * "scenarios" are arrays (the scenarios strings). NULL with @e naming @side
 * or the run otherwise.
 */
const char *report_check(json_t *run, const char *side, struct kf_error *e);

/**
 * report_kernel() - the "kernels" entry of @run called @name (borrowed), or
 * NULL; with @e (which may be NULL) saying which kernels the run has.
 */
json_t *report_kernel(json_t *run, const char *name, struct kf_error *e);

/** report_cell_key() - "SMP\nSCENARIO": the key of report_cells_of()'s map. */
char *report_cell_key(const char *scenario, json_int_t smp);

/**
 * report_cells_of() - put @kernel's cells of @run into @map by
 * report_cell_key(), checking each cell's kernel, scenario and smp and that
 * none repeats. 0, or -1 with @e.
 */
int report_cells_of(json_t *run, const char *kernel, json_t *map, struct kf_error *e);

/**
 * report_guest() - the guest of (@kernel, @smp) in @run to show for it (the
 * first that failed, else the first), borrowed; NULL when there is none.
 */
json_t *report_guest(json_t *run, const char *kernel, long long smp);

/**
 * report_cell_merge() - the cell of (@kernel, @smp, @id) from the @n cells
 * its boots reported (@parts, borrowed, in the order of @bootno): the one
 * when @n is 1; else the pooled histogram, the summed duration, the worst
 * status (a mix of ok and unsupported is an error, all unsupported is
 * unsupported), racy when any part is, and "boots", each boot's own status
 * and histogram. A new reference.
 */
json_t *report_cell_merge(json_t *const *parts, const int *bootno, size_t n,
			  const char *kernel, int smp, const char *id);

/** report_write() - write @run to DIR/run.json atomically. 0, or -1 with @e. */
int report_write(const char *dir, json_t *run, struct kf_error *e);

#endif
