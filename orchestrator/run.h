/* SPDX-License-Identifier: MIT */
#ifndef KFARM_RUN_H
#define KFARM_RUN_H

#include <jansson.h>

#include "config.h"
#include "error.h"
#include "kernel.h"

/*
 * struct run_opts - one run: every kernel × every SMP size × every cell.
 * @dir: the run directory to write; NULL: <cfg->output_dir>/<run id>
 * @scenarios: the cell ids to run (cells_select()), each once
 * @racy: per cell, its racy repetition multiplier (>= 1), or 0 for a
 *        deterministic scenario (`kfarm-guest --list`'s fifth column)
 * @variant: per cell, whether it varies an axis: it runs only at the SMP
 *           sizes of @variant_smp, cfg->variant_reps times
 * @reps_max: per cell, at most this many repetitions per (kernel, smp) unless
 *            cfg->scenario_reps names it (0: no cap; the list's seventh column)
 * @all: whether @scenarios is "all" of cfg->space
 * @catalog: `kfarm-guest --list --space <cfg->space>` (run_list_scenarios()),
 *           from which the kernel command lines say "all" and "ID[*]" where
 *           they can; NULL: every cell is named
 * @variant_smp: the SMP sizes that run variant cells (config_variant_smp())
 * @resume: the run.json (report_load()) of the run in @dir to resume, borrowed;
 *          NULL: a new run
 * @nightly: mark the run nightly in run.json (report_set_nightly())
 * @reuse_dir: when not NULL (and not resuming), a reports folder whose index
 *             (history.c) is searched for a finished run with the same
 *             inputs (report_set_inputs()): when there is one, no guest boots
 *             and the run takes its cells (report_unchanged()); with @nightly only
 * @reuse_sides: take from the newest finished run in @reuse_dir whose inputs
 *               for some kernel of this run are the same (its own inputs key:
 *               kernel image, initramfs, scenarios, SMP sizes, reps, timeout,
 *               QEMU version, accelerator, memory, command line) that
 *               kernel's guests that ended ok, with that run's seed, so that
 *               they need not boot; run.json says per kernel and per guest
 *               where from ("reused"). A kernel whose image another kernel of
 *               the run has (an A/A control) always boots
 */
struct run_opts {
	const struct config *cfg;
	struct kernel *kernels;
	size_t nkernels;
	const char *dir;
	char **scenarios;
	int *racy;
	int *variant;
	int *reps_max;
	size_t nscenarios;
	int all;
	json_t *catalog;
	int variant_smp[CONFIG_MAX_SMP];
	int nvariant_smp;
	int progress_fd;	/* >= 0: progress as JSON lines there (run_execute()) */
	json_t *resume;
	int nightly;
	const char *reuse_dir;
	int reuse_sides;
};

/**
 * run_dir_check() - whether @dir (o->dir; NULL: a new one) may take a run:
 * not an empty path, and, unless @resuming it, not a directory that already
 * holds a run (a run.json), whose report a new run would replace and whose
 * logs it would mix with its own. The error names @dir and the ways out
 * (another -o, or --resume).
 */
int run_dir_check(const char *dir, int resuming, struct kf_error *e);

/**
 * run_execute() - boot the guests, collect the cells and write run.json into
 * the run directory after every guest. With o->progress_fd >= 0, a line
 * {"guests_done", "guests_total", "cells_done", "cells_total"} is written
 * there whenever one of them changes (what kfarmd shows of a job).
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
 * With o->resume, the run is that run, resumed in its directory (o->dir): its
 * id, start time and seed, its plan checked against this one first (the
 * first difference is an error: the same command line is expected), its
 * finished guests (report_done_guests()) kept with their cells, entries and
 * logs, and only the others booted, from the start; an accelerator left to
 * auto is the one it used. The report ends with every cell, each finished
 * guest once.
 *
 * Returns 0 when the run completed and its report is written, whatever the
 * cells' statuses; -1 on an infrastructure error before or while writing.
 */
int run_execute(const struct run_opts *o, char **dir_out, json_t **run_out,
		struct kf_error *e);

/**
 * run_choose_accel() - the accelerator for cfg->accel: "auto" asks the VM
 * backend whether its fast one (KVM for QEMU) can be tried here at all, then
 * boots a canary guest under it with a short deadline and falls back to the
 * safe one (TCG); @reason says why. @host: the backend's host to try
 * (NULL: this machine, or the backend's choice).
 */
const char *run_choose_accel(const struct config *cfg, const struct kernel *k,
			     const char *host, char *reason, size_t n);

/** run_guest_binary() - path of the host build of kfarm-guest. */
const char *run_guest_binary(void);

/**
 * run_list_scenarios() - the cells of @space ("base", "sample", "full"; NULL:
 * the guest's default, base) from `kfarm-guest --list --space SPACE` as a
 * JSON array of {id, scenario (the id up to its '['), group, description,
 * kind ("deterministic" or "racy"), reps_mult, variant (whether the cell
 * varies an axis), reps_max (the scenario's repetition cap, 0: none)};
 * selftests included.
 */
json_t *run_list_scenarios(const char *space, struct kf_error *e);

/*
 * The longest kernel command line kfarm gives a guest (x86's
 * COMMAND_LINE_SIZE is 2048), and the longest kfarm.reps_for= value (the
 * guest runner keeps it in 1024 bytes).
 */
#define RUN_MAX_CMDLINE 2000

/*
 * What every guest kernel is given before kfarm's own parameters and the
 * config's "cmdline": quiet but for warnings, a panic ends the guest, the
 * initramfs's /init, and no crypto self-tests (half a second of a Debian
 * kernel's two to its first record under TCG; no payload touches crypto).
 * Part of a run's inputs ("boot_args"); $KFARM_BOOT_ARGS replaces it (make
 * bench boots the old path without cryptomgr.notests): run_boot_args().
 */
#define RUN_BOOT_ARGS "loglevel=5 panic=-1 rdinit=/init cryptomgr.notests"

/** run_boot_args() - $KFARM_BOOT_ARGS when set, else RUN_BOOT_ARGS. */
const char *run_boot_args(void);

/*
 * What a guest's logs keep at most: a console flood or a runaway payload
 * fills no disk. The streams are still read and scanned whole (events,
 * records); past its bound a log ends with a line saying so. A Debian guest's
 * console is tens of KB; a results log holds each cell once (a guest running
 * all of the full space writes about 2 MB).
 */
#define RUN_CONSOLE_LOG_MAX (8u << 20)
#define RUN_RESULTS_LOG_MAX (32u << 20)
#define RUN_MAX_REPS_FOR 1000

/**
 * run_plan() - the guests run_execute() would boot, without booting them: a
 * JSON array of {kernel, smp, boot, block, followup, scenarios (the cell ids
 * in plan order), reps (their repetitions), append (the kernel command
 * line)}. The cells of @want (ids, at every SMP size where they run) are
 * taken to have shown two outcomes on boot 1, so they join boots 2.. and get
 * follow-up guests as a run would give them. NULL and @e when a command line
 * would be too long.
 */
json_t *run_plan(const struct run_opts *o, char *const *want, size_t nwant,
		 struct kf_error *e);

/**
 * run_resume_plan() - what run_execute() would do with o->resume (read from
 * @file), without booting anything: run_plan()'s array, each guest with
 * "kept" (true: it finished in that run and is kept with its cells; false:
 * it boots). Follow-up guests are there when the run's first phase had
 * finished (they depend on its cells). NULL and @e when the run is
 * malformed or does not plan what @o plans (the first difference named), as
 * run_execute() refuses it.
 */
json_t *run_resume_plan(const struct run_opts *o, const char *file, struct kf_error *e);

#endif
