/* SPDX-License-Identifier: MIT */
/*
 * run.json as kfarm reads it back (report.c's readers, diff.c, the
 * exporters): a run given to kfarm diff, resumed with --resume, or reused by
 * content, which may be another version's, edited, or cut short. The input
 * is the file; report_load() reads it from memory through /proc/self/fd.
 * A run that loads goes through what diff, --resume, reuse and kfarmd read of
 * it; one with two kernels is diffed and the diff exported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "diff.h"
#include "export.h"
#include "fuzz.h"
#include "log.h"
#include "report.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_verbose = 0;
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	return 0;
}

/* kfarm diff and compare: the diff of kernels @ka and @kb, and its views. */
static void diff_and_export(json_t *run, const char *ka, const char *kb)
{
	struct kf_error e;
	json_t *d = diff_runs(run, ka, run, kb, &e), *cells, *cell, *k;
	size_t i;

	if (!d)
		return;
	fuzz_check(export_check(d, run, run, &e) == 0);
	cells = json_object_get(d, "cells");
	json_array_foreach(cells, i, cell)
		free(diff_cell_detail(cell));
	(void)diff_exit_status(d);
	export_table(devnull, d, 1);
	free(export_html_render(d, run, run, &e));
	free(export_junit_render(d, run, run, &e));
	k = export_kcidb_build(d, run, run, &e);
	json_decref(k);
	json_decref(d);
}

/* What --resume and reuse by content read of a run. */
static void resume_and_reuse(json_t *run)
{
	struct report_done_guest *g = NULL;
	struct report_run_info ri;
	struct kf_error e;
	json_t *names, *side;
	long long seed;
	size_t n = 0, i;

	(void)report_resume_info(run, "run.json", &ri, &seed, &e);
	(void)report_same_plan(run, run, "run.json", &e);
	(void)report_was_interrupted(run);
	(void)report_unchanged_from(run, NULL);
	if (report_done_guests(run, "run.json", &g, &n, &e) == 0)
		report_done_guests_free(g, n);
	names = json_object();
	for (i = 0; i < report_nkernels(run); i++)
		if (report_kernel_name(run, i))
			json_object_set_new(names, report_kernel_name(run, i),
					    json_string(report_kernel_name(run, i)));
	side = report_side_copy(run, names);
	if (side && report_done_guests(side, "run.json", &g, &n, &e) == 0)
		report_done_guests_free(g, n);
	json_decref(side);
	json_decref(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_kernel_info ki;
	struct kf_error e;
	json_t *run = report_load(fuzz_memfile(data, size), &e), *map, *c;
	const char *ka = NULL, *kb = NULL, *name;
	long long boot_ms;
	size_t i;

	if (!run)
		return 0;
	resume_and_reuse(run);
	json_decref(report_status_counts(run));
	(void)report_all_answered(run);
	(void)report_inputs_key(run);
	for (i = 0; i < report_nguests(run); i++)
		(void)report_guest_at(run, i, &boot_ms);
	for (i = 0; i < report_ncells(run); i++) {
		c = report_cell_at(run, i);
		(void)report_cell_error(c);
		(void)report_cell_racy(c);
		(void)report_cell_scenario(c);
		(void)report_cell_duration_ms(c);
		json_decref(report_cell_digest(c));
	}
	if (!report_check(run, "run", &e))
		goto out;
	for (i = 0; i < report_nkernels(run); i++) {
		name = report_kernel_name(run, i);
		report_kernel_info(report_kernel_at(run, i), &ki);
		(void)report_kernel_reused(report_kernel_at(run, i));
		if (!name || !report_kernel(run, name, &e))
			continue;
		map = json_object();
		if (report_cells_of(run, name, map, &e) == 0) {
			const char *key;
			json_t *cell;

			json_object_foreach(map, key, cell)
				json_decref(report_guest_excerpt(run, name,
								 report_cell_smp(cell)));
		}
		json_decref(map);
		if (!ka)
			ka = name;
		else if (!kb)
			kb = name;
	}
	if (ka)
		diff_and_export(run, ka, kb ? kb : ka);
out:
	json_decref(run);
	return 0;
}
