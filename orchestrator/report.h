/* SPDX-License-Identifier: MIT */
#ifndef KFARM_REPORT_H
#define KFARM_REPORT_H

/*
 * run.json (schema kfarm.run/2, reports/schema/run.schema.json): one owner
 * for its shape. run.c gathers what the guests reported and hands it here to
 * be merged and written; diff.c, the exporters and history read it through
 * the lookups below. reports/README.md documents every key.
 */
#include <stdio.h>

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

/**
 * report_write() - write @run to DIR/run.json atomically (util_write_atomic():
 * a temporary beside it, fsync()ed, renamed over it). 0, or -1 with @e naming
 * run.json and the errno text; a write that fails (a full disk) leaves the
 * last good run.json whole and no temporary.
 */
int report_write(const char *dir, json_t *run, struct kf_error *e);

/*
 * Building run.json: run.c hands plain values to these; the keys are
 * written here only.
 */

/*
 * struct report_meta - the run as a whole.
 * @variant_smp: @nvariant_smp SMP sizes
 * @hosts: the hosts of the libvirt backend, each with the accelerator
 *         chosen for it ([{"uri", "accelerator", "accelerator_reason"}],
 *         borrowed; NULL: guests ran on this machine); @accel is theirs
 *         when they agree, else "mixed"
 * @tcg_threads: how TCG guests ran their vCPUs ("single" or "multi"); NULL:
 *               no TCG guest (KVM)
 * @firmware: the guests' BIOS ("qboot" or "seabios")
 */
struct report_meta {
	const char *id, *started, *config;
	const char *hostname, *host_kernel;
	int host_cpus;
	const char *vm_binary, *vm_version, *accel, *accel_reason, *tcg_threads, *firmware;
	int reps, boots, timeout_ms, variant_reps;
	long long seed;
	const char *space;
	const int *variant_smp;
	int nvariant_smp;
	json_t *hosts;
};

/** report_new() - a run.json object with @m and empty kernels, smp, scenarios, cells, guests. */
json_t *report_new(const struct report_meta *m);

/** report_add_kernel() - a "kernels" entry (@boot and @release may be NULL). */
void report_add_kernel(json_t *run, const char *name, const char *source, const char *spec,
		       const char *path, const char *sha256, const char *boot, const char *release);

/** report_add_smp() - an SMP size of the run. */
void report_add_smp(json_t *run, int smp);

/** report_add_scenario() - a cell id of the run. */
void report_add_scenario(json_t *run, const char *id);

/** report_add_cell() - a cell (report_cell_new() or report_cell_merge()); takes @cell. */
void report_add_cell(json_t *run, json_t *cell);

/** report_add_guest() - a guest entry (report_guest_new()) and its @overlap; takes both. */
void report_add_guest(json_t *run, json_t *guest, json_t *overlap);

/** report_set_interrupted() - the run was stopped by a signal before its end. */
void report_set_interrupted(json_t *run);

/*
 * What a run's cells depend on, and runs that share them (kfarm compare
 * --nightly): "inputs" holds the kernels (name, sha256, how booted), the
 * initramfs's sha256, the scenarios and space, SMP sizes, reps, boots,
 * timeout_ms, variant_reps, variant_smp, scenario_reps, the guest memory and
 * extra command line (and kfarm's own boot_args), the QEMU version, the accelerator and
 * how TCG ran vCPUs (tcg_threads) and the firmware; "inputs_key" is
 * the sha256 of its canonical JSON (sorted keys, compact). Each kernel's
 * own "inputs_key" is that of the same inputs with only its image (sha256,
 * how booted; not its name): what its cells depend on, which a compare
 * may take from another run (run.c's reuse by content). The seed, the
 * host and the parallelism are not inputs: they change when, not what.
 */

/** report_set_inputs() - add "inputs" and "inputs_key" to @run (its kernels, SMP sizes, scenarios added). */
void report_set_inputs(json_t *run, const char *initramfs_sha256, int memory_mb,
		       const char *boot_args,
		       const char *cmdline);

/**
 * report_side_copy() - a copy of @run with only the kernels @names maps
 * (its name there -> the name to give it; the others renamed so that they
 * match none), their cells and their guests whose status is "ok": what
 * report_done_guests() takes from a run whose side is reused. A new reference.
 */
json_t *report_side_copy(json_t *run, json_t *names);

/**
 * report_guest_reused() - a copy of guest entry @guest for a run that takes
 * it from run @run (its folder @dir, as the index says it): "reused": {"run",
 * "dir"} (an entry that has one keeps it: the run that booted the guest),
 * its console and results files with @prefix (the way from the new run's
 * folder to the old one's, ending in '/') before relative names.
 */
json_t *report_guest_reused(json_t *guest, const char *run, const char *dir, const char *prefix);

/** report_kernel_set_reused() - kernels[@name].reused = @from ({"run", "dir"}). */
void report_kernel_set_reused(json_t *run, const char *name, json_t *from);

/** report_reused_ref() - {"run": @run, "dir": @dir}: where a kernel's or guest's cells were taken from. */
json_t *report_reused_ref(const char *run, const char *dir);

/** report_kernel_with_key() - the name of @run's kernel whose inputs key is @key, or NULL. */
const char *report_kernel_with_key(json_t *run, const char *key);

/** report_kernel_reused() - @kernel's "reused" ({"run", "dir"}), borrowed, or NULL. */
json_t *report_kernel_reused(json_t *kernel);

/** report_inputs_key() - @run's "inputs_key", or NULL (a run from before it existed). */
const char *report_inputs_key(json_t *run);

/** report_was_interrupted() - whether @run stopped on a signal (report_set_interrupted()). */
int report_was_interrupted(json_t *run);

/** report_set_nightly() - mark @run as a nightly one ("nightly": true). */
void report_set_nightly(json_t *run);

/** report_is_nightly() - whether @run is marked nightly. */
int report_is_nightly(json_t *run);

/**
 * report_unchanged() - the run.json of a run whose inputs are those of
 * @orig (read from directory @orig_dir): @orig's kernels, scenarios and cells
 * under the new @id, @started and @finished, no guests (none was booted),
 * and "unchanged": {"run": the id of the run that booted the guests, "dir"}
 * (@orig's own "unchanged" when @orig was itself one). A new reference.
 */
json_t *report_unchanged(json_t *orig, const char *orig_dir, const char *id,
			 const char *started, const char *finished);

/**
 * report_unchanged_from() - the run whose cells @run took ("unchanged"'s
 * "run"; @dir, when not NULL, gets its "dir"), or NULL for a run that
 * booted its guests.
 */
const char *report_unchanged_from(json_t *run, const char **dir);

/** report_set_finished() - when the run finished. */
void report_set_finished(json_t *run, const char *finished);

/** report_set_scenario_reps() - the exact repetitions the config gave cell @id. */
void report_set_scenario_reps(json_t *run, const char *id, int reps);

/** report_overlap_add() - to @overlap (an array, or NULL: a new one): a guest ran alongside for @ms. */
json_t *report_overlap_add(json_t *overlap, const char *kernel, int smp, int boot, long long ms);

/**
 * report_cell_new() - a cell as one guest reported it: @outcomes (borrowed;
 * NULL: none), @error and @excerpt (borrowed) when set.
 */
json_t *report_cell_new(const char *kernel, int smp, const char *scenario, const char *status,
			json_t *outcomes, long long duration_ms, const char *error, int racy,
			json_t *excerpt);

/*
 * struct report_guest_info - one guest's entry in "guests". JSON values are
 * borrowed; NULL ones (and a zero @block) are left out.
 * @scenarios: the order it ran its cells in; @scenarios_planned: that order is
 *             the plan's because the guest's own list was cut
 * @diag: the backend's last words, when it said any
 * @log_error: which of its logs could not be written whole, and why (its
 *             cells are whole: they are read from the guest, not the log)
 */
struct report_guest_info {
	const char *kernel;
	int smp, boot;
	const char *status, *accel;
	long long boot_ms, duration_ms;
	const char *console, *results;
	json_t *events;
	int block, followup;
	unsigned long long order_seed;
	json_t *scenarios;
	int scenarios_planned;
	json_t *unplanned, *retried, *requeued;
	const char *release, *error;
	size_t rejected, gaps;
	json_t *reasons;
	const char *diag;
	const char *log_error;
	const char *backend, *host;	/* what ran it ("QEMU", "libvirt") and where (a URI) */
};

/** report_guest_new() - @gi as a "guests" entry (new). */
json_t *report_guest_new(const struct report_guest_info *gi);

/** report_guest_status() - the status of guest entry @guest, or NULL. */
const char *report_guest_status(json_t *guest);

/** report_guest_error() - the error of guest entry @guest, or NULL. */
const char *report_guest_error(json_t *guest);

/**
 * report_guest_first_try() - a copy of guest entry @guest, its logs renamed
 * to @console and @results: the attempt that failed, before a retry.
 */
json_t *report_guest_first_try(json_t *guest, const char *console, const char *results);

/** report_cell_status() - the "status" of cell @cell, or NULL. */
const char *report_cell_status(json_t *cell);

/** report_cell_outcomes() - the "outcomes" of cell @cell (borrowed), or NULL. */
json_t *report_cell_outcomes(json_t *cell);

/**
 * report_replay_command() - the shell command that reruns @scenario at @smp on
 * kernel @ka of @run_a and @kb of @run_b with the same images ("path:" the
 * kernels' image paths), repetitions, per-repetition timeout and accelerator
 * as run a; @reps > 0 overrides the repetitions. Arguments are shell-quoted.
 * A variant cell (an id with axis values in brackets) is run with
 * --variant-reps (its repetitions) instead of --reps.
 *
 * Return: an owned string, or NULL when a kernel is not in its run.
 */
char *report_replay_command(json_t *run_a, const char *ka, json_t *run_b, const char *kb,
			    const char *scenario, long long smp, int reps);

/** report_run_reps() - @run's repetitions of a plain (or, @variant, a variant) cell; 0 if unknown. */
int report_run_reps(json_t *run, int variant);

/**
 * report_print_summary() - "run ID: N cells: N ok N unsupported ..." (the
 * statuses in report_status_rank() order) and where the report is.
 */
void report_print_summary(FILE *f, json_t *run, const char *dir);

/** report_all_answered() - whether every cell of @run is ok or unsupported. */
int report_all_answered(json_t *run);

/** report_nkernels() - how many kernels @run has. */
size_t report_nkernels(json_t *run);

/** report_kernel_at() - @run's "kernels" entry @i (borrowed), or NULL. */
json_t *report_kernel_at(json_t *run, size_t i);

/** report_kernel_name() - the name of @run's kernel @i, or NULL. */
const char *report_kernel_name(json_t *run, size_t i);

/*
 * Reading run.json: the values other modules need, so that none of them
 * names its keys.
 */

/** report_id() - @run's "id", or NULL. */
const char *report_id(json_t *run);

/** report_scenarios() - @run's cell ids in plan order (an array, borrowed; NULL if none). */
json_t *report_scenarios(json_t *run);

/*
 * struct report_kernel_info - a "kernels" entry's strings, borrowed (NULL
 * when absent).
 */
struct report_kernel_info {
	const char *name, *source, *release, *path, *sha256;
	const char *inputs_key;		/* its own inputs' key (report_set_inputs()) */
	const char *reused_from;	/* the run its guests were taken from (NULL: booted) */
};

/** report_kernel_info() - @kernel's (a report_kernel() entry) strings into @ki. */
void report_kernel_info(json_t *kernel, struct report_kernel_info *ki);

/*
 * struct report_run_info - what a run says of itself and its hypervisor,
 * borrowed (NULL when absent).
 * @vm_binary, @vm_version, @accel: the program that ran the guests, its
 *                                  version, the accelerator chosen
 * @tcg_threads: "single" or "multi" (NULL: not said, as before kfarm ran
 *               TCG guests single-threaded: multi)
 * @firmware: "qboot" or "seabios" (NULL: not said, as before kfarm booted
 *            qboot: seabios)
 */
struct report_run_info {
	const char *id, *started, *finished, *config;
	const char *vm_binary, *vm_version, *accel, *accel_reason, *tcg_threads, *firmware;
};

/**
 * report_host_accel() - to @hosts (an array, for report_meta's @hosts): host
 * @uri of the libvirt backend ran its guests with @accel, @reason says why.
 */
void report_host_accel(json_t *hosts, const char *uri, const char *accel, const char *reason);

/** report_run_info() - @run's strings into @ri. */
void report_run_info(json_t *run, struct report_run_info *ri);

/*
 * Resuming a run (kfarm run --resume): what a killed run's run.json says
 * was done, and whether the run asked for now is the same one.
 */

/**
 * report_resume_info() - what run @run (read from @file) says of itself,
 * checked for resuming it: its strings into @ri (report_run_info()) and its
 * seed into *@seed. 0, or -1 with @e naming @file and the first of "id" (a
 * run directory's name), "started", "seed" (a positive integer) and the
 * accelerator that is missing or malformed.
 */
int report_resume_info(json_t *run, const char *file, struct report_run_info *ri,
		       long long *seed, struct kf_error *e);

/**
 * report_same_plan() - whether @now (a report_new() of the run asked for, with
 * its kernels, SMP sizes, scenarios and scenario_reps added) plans the same
 * guests as @first (a run.json read from @file): the seed, the kernels (in
 * order, by name and sha256), the SMP sizes, reps, boots, timeout_ms,
 * variant_reps, variant_smp, space, the cells and scenario_reps. 0, or -1
 * with @e naming @file and the first key that differs, with both values.
 */
int report_same_plan(json_t *first, json_t *now, const char *file, struct kf_error *e);

/*
 * struct report_done_guest - a finished guest of a run (report_done_guests()).
 * @index: its position in "guests"
 * @kernel, @smp, @boot, @block, @followup, @order_seed: who it was (borrowed)
 * @entry: its "guests" entry without "overlap" (owned)
 * @overlap: its "overlap" (owned; an empty array when it had none)
 * @cells: cell id -> the cell as this guest alone reported it (owned), one
 *         per id of its "scenarios"
 */
struct report_done_guest {
	size_t index;
	const char *kernel;
	int smp, boot, block, followup;
	unsigned long long order_seed;
	json_t *entry, *overlap, *cells;
};

/**
 * report_done_guests() - the finished guests of @run (read from @file): the
 * "guests" entries whose status is final. A guest is written there only once
 * it ended, so every entry is final (ok, or a failure: boot-failed, crashed,
 * timeout, error; a failed guest finished too and keeps its failure) except
 * in a run marked "interrupted": kfarm stopped its running guests on the
 * signal and wrote them as failures, so there only the ok ones are final.
 * Each guest's own cells are taken out of "cells": a cell that one guest ran
 * is its cell; a cell of several boots gives this boot's part of "boots" (its
 * status, outcomes, duration and error; racy as the cell; the cell's excerpt
 * on the first worst boot, where the merge took it from).
 *
 * Return: 0 with *@out (report_done_guests_free()) and *@n, or -1 with @e
 * naming @file and what is malformed (a missing or mistyped key, a guest
 * twice, a cell a guest ran that "cells" lacks); never reads past bad input.
 */
int report_done_guests(json_t *run, const char *file, struct report_done_guest **out,
		       size_t *n, struct kf_error *e);

/** report_done_guests_free() - free report_done_guests()'s @g (@n of them; NULL is fine). */
void report_done_guests_free(struct report_done_guest *g, size_t n);

/**
 * report_status_counts() - a new object status -> number of @run's cells
 * with that status (statuses no cell has are left out).
 */
json_t *report_status_counts(json_t *run);

/** report_ncells() - how many cells @run has. */
size_t report_ncells(json_t *run);

/** report_cell_error() - the "error" of cell @cell, or NULL. */
const char *report_cell_error(json_t *cell);

/** report_cell_racy() - whether cell @cell is marked racy. */
int report_cell_racy(json_t *cell);

/** report_cell_scenario() - the scenario (cell id) of @cell, or NULL. */
const char *report_cell_scenario(json_t *cell);

/** report_cell_smp() - the SMP size of @cell (0 when absent). */
long long report_cell_smp(json_t *cell);

/* The most one outcome of a cell (or of one boot) may count. */
#define REPORT_MAX_COUNT	((json_int_t)1 << 30)

/**
 * report_histogram_add() - add the histogram @outcomes (a cell's
 * "outcomes": observation and count per distinct outcome) to @set
 * (canonical observation -> observation) and @hist (canonical observation ->
 * count). NULL, or an owned explanation naming @what's bad element (a count
 * that is not a positive integer, or one above REPORT_MAX_COUNT).
 */
char *report_histogram_add(json_t *outcomes, const char *what, json_t *set, json_t *hist);

/**
 * report_cell_boot_histograms() - the per-boot histograms of @cell (a new
 * array of objects canonical observation -> count): one per entry of its
 * "boots" when it has them, else @hist (the cell's whole histogram) as a
 * single boot. NULL and *@why (owned, prefixed by @side) when a boot is
 * malformed.
 */
json_t *report_cell_boot_histograms(json_t *cell, const char *side, json_t *hist, char **why);

/**
 * report_cell_digest() - what a diff keeps of @cell (a new object): its
 * status, error, outcomes, boots and racy.
 */
json_t *report_cell_digest(json_t *cell);

/**
 * report_guest_excerpt() - the console evidence of (@kernel, @smp)'s guest
 * in @run (report_guest()): a new object with its status, console log,
 * error and "lines" (every event's excerpt, or its text); NULL if there is
 * no such guest.
 */
json_t *report_guest_excerpt(json_t *run, const char *kernel, long long smp);

/**
 * report_event_new() - a console event of a guest's "events": @kind (a
 * console.c class), at console line @line, @text, and @excerpt (the lines up
 * to it; taken).
 */
json_t *report_event_new(const char *kind, long long line, const char *text, json_t *excerpt);

/** report_nguests() - how many entries @run's "guests" has. */
size_t report_nguests(json_t *run);

/**
 * report_guest_at() - @run's guest @i: its status (borrowed; NULL when it has
 * none) and, in *@boot_ms, how long it took to boot (0: unknown, or it never
 * did; -1: the guest was taken from another run, not booted by this one).
 */
const char *report_guest_at(json_t *run, size_t i, long long *boot_ms);

/** report_cell_at() - @run's cell @i (borrowed), or NULL. */
json_t *report_cell_at(json_t *run, size_t i);

/** report_cell_duration_ms() - how long cell @cell took in its guests (0: unknown). */
long long report_cell_duration_ms(json_t *cell);

/** report_event_excerpt() - the excerpt of event @ev (borrowed), or NULL. */
json_t *report_event_excerpt(json_t *ev);

#endif
