/* SPDX-License-Identifier: MIT */
#ifndef KFARM_CELLS_H
#define KFARM_CELLS_H

#include <stddef.h>

#include <jansson.h>

#include "cellid.h"
#include "config.h"
#include "error.h"

/*
 * Cell ids and the selection of cells a run runs.
 *
 * A cell is a scenario plus one value per variation axis it supports; its id
 * is the scenario id, followed by the axes that are not at their default in
 * brackets: "sds-zero" (the plain cell), "sds-zero[sigchld=ign,wait=waitpid]".
 * "ID[*]" names the scenario's cells in the run's space (base: the plain cell
 * only; sample: the pairwise sample of its axes; full: every feasible one).
 *
 * Lists of cells are ','-separated, but a ',' between '[' and ']' does not
 * separate: "a[x=1,y=2],b" is two entries. Lists of repetitions ("--reps-for",
 * kfarm.reps_for=) take "CELL=N" or "CELL:N", the '=' or ':' after the
 * cell's closing ']'.
 */

/* The longest cell id kfarm accepts. */
#define CELLS_ID_MAX 256

/* cellid_list_next(): the length of one list entry (cellid.h, shared with the guest). */

/**
 * cells_split() - @list split into its entries (bracket-aware, empty entries
 * dropped, surrounding blanks trimmed): an owned array of owned strings.
 */
char **cells_split(const char *list, size_t *n);

/**
 * cells_list_check() - that the ','-separated @list (bracket-aware, as
 * cells_split() reads it) has no empty entry (",,", a ',' at an end, "") and
 * no entry twice; errors name @what, the list or the entry, and its place.
 */
int cells_list_check(const char *list, const char *what, struct kf_error *e);

/** cells_free() - free what cells_split() returned. */
void cells_free(char **v, size_t n);

/**
 * cells_id_ok() - whether @id is a cell id: a scenario id (1-64 characters of
 * A-Z a-z 0-9 . _ + -, not starting with '.' or '-'), optionally followed by
 * "[axis=value,...]" (axes a-z 0-9 _, values A-Z a-z 0-9 -) or, when
 * @allow_star, "[*]"; at most CELLS_ID_MAX characters.
 */
int cells_id_ok(const char *id, int allow_star);

/** cells_base_len() - the length of @id's scenario id (up to its '['). */
size_t cells_base_len(const char *id);

/** cells_is_variant() - whether @id names axis values (brackets, not "[*]" or "[]"). */
int cells_is_variant(const char *id);

/** cells_is_star() - whether @id is "ID[*]". */
int cells_is_star(const char *id);

/**
 * cells_reps_sep() - in the "CELL=N" or "CELL:N" entry @p of @n bytes, the
 * offset of the '=' or ':' that ends the cell (the first after its ']'), or
 * @n when there is none.
 */
size_t cells_reps_sep(const char *p, size_t n);

/**
 * cells_key() - @id with its axis values sorted (owned): two ids that name
 * the same cell with the axes in another order have the same key.
 */
char *cells_key(const char *id);

/**
 * struct cells_sel - what a run selects.
 * @ids: the cells, in the order they were named ("all" and "ID[*]" expanded
 *       in the order of the catalog), each once
 * @racy: per cell, its racy repetition multiplier (>= 1), or 0
 * @variant: per cell, whether it varies an axis
 * @reps_max: per cell, its scenario's repetition cap per guest (0: none)
 * @all: whether the selection is "all" (every non-selftest cell of the space)
 * @catalog: `kfarm-guest --list --space SPACE` for the run's space (owned)
 */
struct cells_sel {
	char **ids;
	int *racy;
	int *variant;
	int *reps_max;
	size_t n;
	int all;
	json_t *catalog;
};

/**
 * cells_select() - the cells a run runs: @list (from the command line,
 * ','-separated) or else the config's "scenarios", or else "all"; each entry
 * "all", "ID", "ID[*]" or a cell id, checked against `kfarm-guest --list
 * --space full` (a cell given with its axes in another order is taken in the
 * guest's order). An empty entry, and two entries that name one cell, are
 * errors (cells_list_check()). The config's "scenario_reps" are checked too.
 * Errors name the bad entry.
 */
int cells_select(const struct config *cfg, const char *list, struct cells_sel *s,
		 struct kf_error *e);

/** cells_sel_release() - free what @s owns. */
void cells_sel_release(struct cells_sel *s);

#endif
