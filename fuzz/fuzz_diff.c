/* SPDX-License-Identifier: MIT */
/*
 * diff.json as kfarm reads it back: kfarmd's job summary and nightly diffs
 * (a diff written by another version, or edited), calibrate's tally, and the
 * exporters (table, HTML, JUnit, KCIDB), which take a diff with the runs it
 * came from: here the fixture runs of orchestrator/tests/data/diff, whose
 * kernels the seed diffs name. The input is the diff's text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "calibrate.h"
#include "diff.h"
#include "export.h"
#include "fuzz.h"
#include "log.h"
#include "report.h"

#define RUNS KFARM_TOP "/orchestrator/tests/data/diff/"

static FILE *devnull;
static json_t *run_a, *run_b;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct kf_error e;

	(void)argc;
	(void)argv;
	log_verbose = 0;
	devnull = fopen("/dev/null", "w");
	run_a = report_load(RUNS "run-a.json", &e);
	run_b = report_load(RUNS "run-b.json", &e);
	if (!devnull || !run_a || !run_b) {
		fprintf(stderr, "fuzz_diff: cannot load the runs in %s\n", RUNS);
		abort();
	}
	return 0;
}

static void export(json_t *d, json_t *a, json_t *b)
{
	struct kf_error e;

	if (export_check(d, a, b, &e) < 0)
		return;
	free(export_html_render(d, a, b, &e));
	free(export_junit_render(d, a, b, &e));
	json_decref(export_kcidb_build(d, a, b, &e));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *d = json_loadb((const char *)data, size, 0, NULL), *cell;
	struct calibrate *cal;
	struct kf_error e;
	const char *v;
	size_t i;

	if (!d)
		return 0;
	/* kfarmd: a job's summary is diff.json's "summary", whatever it holds. */
	fuzz_check(!json_object_get(d, "summary") || json_is_object(d));
	(void)diff_count_differs(d);
	for (i = 0; (v = diff_verdict_name(i)); i++)
		(void)diff_count(d, v);
	fuzz_check(diff_exit_status(d) >= 0);
	cal = calibrate_new("k-old", DIFF_ALPHA_DEFAULT);
	if (calibrate_add(cal, d, "run-dir", &e) == 0)
		json_decref(calibrate_report(cal));
	calibrate_free(cal);
	json_array_foreach(json_object_get(d, "cells"), i, cell)
		free(diff_cell_detail(cell));
	export_table(devnull, d, 1);
	export(d, run_a, run_a);
	export(d, run_a, run_b);
	json_decref(d);
	return 0;
}
