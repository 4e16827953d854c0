/* SPDX-License-Identifier: MIT */
#ifndef KFARM_SCENARIOS_H
#define KFARM_SCENARIOS_H

#include <stddef.h>

#include "guest.h"
#include "variant.h"
#include "cellid.h"

/*
 * A scenario: one repetition runs in a fresh process (the real parent P of
 * whatever it forks) and fills @o. run() returns REP_OK, REP_ERROR (with an
 * "error" key) or REP_UNSUPPORTED (with an "unsupported" key); see lab.h.
 */
struct scenario {
	const char *id;
	const char *group;    /* "selftest" ones are not part of "all" */
	const char *desc;     /* one line */
	/* One repetition of the cell @v (every axis the scenario does not vary is
	 * at its default); @arg is the scenario's own constant below. */
	int (*run)(struct obs *o, const struct variant *v, const void *arg);
	const void *arg;
	/*
	 * Racy: the outcome really depends on timing (its header says why), so
	 * more than one observation is a distribution, not a failure. A racy
	 * scenario runs reps_mult times the repetitions asked for (0 means 1).
	 */
	int racy;
	int reps_mult;
	/*
	 * At most this many repetitions of each of its cells per guest (0: no
	 * cap) unless a count is named for the cell (--reps-for): for a
	 * deterministic scenario whose observation is the answer to requests
	 * one tracer makes of one stopped tracee, with no second task running
	 * that timing could reorder, so that more repetitions only cost time.
	 * REQUEST_REPS is the value those scenarios use.
	 */
	int reps_max;
	/* The documented / expected behaviour, one line (from the header). */
	const char *expect;
	/*
	 * The same, machine-checked: "key=value;key=value" that the plain cell's
	 * observation must contain on the host kernel (kfarm-guest --strict).
	 */
	const char *expect_obs;
	/* The variation axes it supports (AXIS(AX_...) bits; see variant.h). */
	unsigned axes;
	/* Why a combination of those cannot be built here (NULL: it can). */
	const char *(*impossible)(const struct variant *v);
};

/* The repetition cap of the request-level scenarios (reps_max above). */
#define REQUEST_REPS 5

/*
 * A cell: a scenario with its axis values, and its id ("sds-zero",
 * "sds-zero[sigchld=ign]").
 */
#define CELL_ID_MAX 160
struct cell_spec {
	const struct scenario *sc;
	struct variant v;
	char id[CELL_ID_MAX];
};

/* The most cells one scenario's space may have (the sds family's is 12,960). */
#define SPACE_MAX 16384

/* How much of each scenario's space a run takes. */
enum space { SPACE_BASE, SPACE_SAMPLE, SPACE_FULL };

/**
 * cell_parse() - the cell @len bytes of @text name ("ID" or "ID[axis=value,...]"),
 * its id made canonical. 0, or -1 with a message in @err.
 */
int cell_parse(const char *text, size_t len, struct cell_spec *c, char *err, size_t nerr);

/** cell_impossible() - why @v cannot be built for @sc, or NULL. */
const char *cell_impossible(const struct scenario *sc, const struct variant *v);

/**
 * scenario_cells() - @sc's cells in @space: the plain one first, then its
 * pairwise sample (SPACE_SAMPLE) or every feasible combination (SPACE_FULL).
 * Returns the count written (at most @max).
 */
size_t scenario_cells(const struct scenario *sc, enum space space, struct cell_spec *out, size_t max);


/* The registry, in run order (scenarios.c). */
extern const struct scenario *const scenarios[];
extern const size_t nscenarios;

/** scenario_find() - the scenario called @id, or NULL. */
const struct scenario *scenario_find(const char *id);

#define SCENARIO(name) extern const struct scenario scenario_##name;
#include "scenarios.def"
#undef SCENARIO

#endif
