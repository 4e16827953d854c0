/* SPDX-License-Identifier: MIT */
#ifndef KFARM_RUN_H
#define KFARM_RUN_H

#include <jansson.h>

#include "config.h"
#include "error.h"
#include "kernel.h"

/*
 * struct run_opts - one run: every kernel × every SMP size, all scenarios in
 * one boot per (kernel, smp).
 * @dir: the run directory to write; NULL: <cfg->output_dir>/<run id>
 * @scenarios: NULL-terminated ids to run (the cmdline gets "all" when NULL)
 * @all: whether @scenarios is the whole catalog
 */
struct run_opts {
	const struct config *cfg;
	struct kernel *kernels;
	size_t nkernels;
	const char *dir;
	char **scenarios;
	size_t nscenarios;
	int all;
};

/**
 * run_execute() - boot the guests (up to cfg->parallel at once), collect the
 * cells and write run.json into the run directory after every guest.
 * @dir_out: the run directory (owned)
 * @run_out: the final run report (owned reference)
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
 * of {id, group, description}; selftests included.
 */
json_t *run_list_scenarios(struct kf_error *e);

#endif
