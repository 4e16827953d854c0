/* SPDX-License-Identifier: MIT */
#ifndef KFARM_RUN_H
#define KFARM_RUN_H

#include <jansson.h>

#include "config.h"
#include "error.h"
#include "kernel.h"

/*
 * struct run_opts - one run: every kernel × every SMP size × every scenario.
 * @dir: the run directory to write; NULL: <cfg->output_dir>/<run id>
 * @scenarios: the ids to run, in catalog order
 * @racy: per scenario, its racy repetition multiplier (>= 1), or 0 for a
 *        deterministic scenario (`kfarm-guest --list`'s last column)
 * @all: whether @scenarios is the whole catalog
 */
struct run_opts {
	const struct config *cfg;
	struct kernel *kernels;
	size_t nkernels;
	const char *dir;
	char **scenarios;
	int *racy;
	size_t nscenarios;
	int all;
};

/**
 * run_execute() - boot the guests, collect the cells and write run.json into
 * the run directory after every guest.
 * @dir_out: the run directory (owned)
 * @run_out: the final run report (owned reference)
 *
 * Boot 1 of every (kernel, smp) runs every scenario; a racy scenario's
 * repetitions are split over cfg->boots guests (boots 2.. run only racy
 * scenarios), and a deterministic scenario whose boot-1 cell showed more than
 * one outcome on some kernel joins the boots 2.. at that SMP size that have
 * not started yet with its share of the repetitions, or gets follow-up guests
 * once the others are done ("followup"), so that every nondeterministic cell
 * has boot-level replicates. The guests of all kernels for one (smp, boot) form a block that
 * starts together (when up to cfg->parallel guests may run) and runs its
 * scenarios in one order; blocks run in an order shuffled with the run's
 * seed (cfg->seed, else a new one), which run.json records.
 *
 * Returns 0 when the run completed and its report is written, whatever the
 * cells' statuses; -1 on an infrastructure error before or while writing.
 */
int run_execute(const struct run_opts *o, char **dir_out, json_t **run_out,
		struct kf_error *e);

/**
 * run_choose_accel() - "kvm" or "tcg" for cfg->accel: "auto" boots a canary
 * guest under KVM with a short deadline and falls back to TCG; @reason says why.
 */
const char *run_choose_accel(const struct config *cfg, const struct kernel *k,
			     char *reason, size_t n);

/** run_guest_binary() - path of the host build of kfarm-guest. */
const char *run_guest_binary(void);

/**
 * run_list_scenarios() - the catalog from `kfarm-guest --list` as a JSON array
 * of {id, group, description, kind ("deterministic" or "racy"), reps_mult};
 * selftests included.
 */
json_t *run_list_scenarios(struct kf_error *e);

#endif
