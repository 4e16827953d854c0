/* SPDX-License-Identifier: MIT */
#ifndef KFARM_EXPORT_H
#define KFARM_EXPORT_H

#include <stdio.h>

#include <jansson.h>

#include "error.h"

/*
 * The outputs of one diff besides diff.json: export-table.c (the terminal's
 * table), export-html.c (a self-contained diff.html), export-junit.c
 * (junit.xml), export-kcidb.c (KCIDB v5 JSON), and export.c (what they share).
 *
 * The files take the kfarm.diff/3 object and the two runs it was computed from
 * (the same run twice when both kernels come from one run): the runs give the
 * kernels' images and the guests' console excerpts. Each writes @path
 * atomically (util_write_atomic()).
 */

/**
 * export_table() - a short human summary of @diff on @f.
 * @colour: nonzero to colour the verdicts with ANSI escapes.
 *
 * A header naming both sides, one aligned line per cell whose verdict is not
 * "same" or "unsupported" (scenario, smp, verdict, detail: for "changed" the
 * two observations restricted to the differing fields, "a: {...} | b: {...}";
 * for "flaky" and "distribution-changed" the reason, the p-value, the fields
 * and "racy" when marked; else the reason), a line per side that has
 * SMP-dependent scenarios, and a last line counting every verdict
 * ("N cells, N same, N changed, N distribution-changed, ...").
 */
void export_table(FILE *f, json_t *diff, int colour);

/**
 * export_html() - write diff.html: a scenarios × SMP matrix coloured by verdict
 * and, on a click on a cell, both sides' observations side by side (the
 * differing fields highlighted), the p-value, the replay command and the
 * console excerpt of a guest that failed. One file: inline CSS and JavaScript,
 * the data embedded as JSON in a <script type="application/json"> block,
 * nothing fetched at view time. "#cell=SCENARIO/SMP" in the URL opens a cell.
 *
 * Return: 0, or -1 and @e.
 */
int export_html(json_t *diff, json_t *run_a, json_t *run_b, const char *path,
		struct kf_error *e);

/**
 * export_html_render() - the text of diff.html (owned), or NULL and @e.
 */
char *export_html_render(json_t *diff, json_t *run_a, json_t *run_b, struct kf_error *e);

/**
 * export_junit() - write junit.xml: one <testsuite> named after the two
 * kernels, one <testcase> per (scenario, smp) (classname
 * "kfarm.detach.SCENARIO", name "smpN"): "changed" and "distribution-changed"
 * are <failure>s, "error" an <error>, "unsupported" <skipped>; "same" and
 * "flaky" pass (flaky with the p-value in <system-out>).
 *
 * Return: 0, or -1 and @e.
 */
int export_junit(json_t *diff, json_t *run_a, json_t *run_b, const char *path,
		 struct kf_error *e);

/** export_junit_render() - the text of junit.xml (owned), or NULL and @e. */
char *export_junit_render(json_t *diff, json_t *run_a, json_t *run_b, struct kf_error *e);

/**
 * export_kcidb() - write a KCIDB v5 (5.3) submission: a checkout and a build
 * per kernel image (origin "kfarm", ids from the image's sha256), and a test
 * per (cell, smp) on kernel b's build with path export_kcidb_path()
 * ("kfarm.detach.SCENARIO.smpN" for a plain cell) and status PASS (same, flaky), FAIL (changed,
 * distribution-changed), ERROR (error) or SKIP (unsupported); the verdict,
 * p-value, baseline build and replay command go into the test's "misc", the
 * console excerpt of a failed guest into "log_excerpt".
 *
 * Return: 0, or -1 and @e.
 */
int export_kcidb(json_t *diff, json_t *run_a, json_t *run_b, const char *path,
		 struct kf_error *e);

/**
 * export_kcidb_path() - the KCIDB test path of @cell at @smp (owned):
 * "kfarm.detach.SCENARIO.smpN" for a plain cell, with a level "AXIS_VALUE"
 * for each axis value of a variant cell, in the id's order:
 * "sds-zero[sigchld=ign,wait=waitpid]" at SMP 2 is
 * "kfarm.detach.sds-zero.sigchld_ign.wait_waitpid.smp2" (KCIDB's paths are
 * dot-separated [a-zA-Z0-9_-]+; anything else becomes '_').
 */
char *export_kcidb_path(const char *cell, long long smp);

/** export_kcidb_build() - the KCIDB object (a new reference), or NULL and @e. */
json_t *export_kcidb_build(json_t *diff, json_t *run_a, json_t *run_b, struct kf_error *e);

/**
 * export_check() - that @diff is a kfarm.diff/3 object whose sides name
 * kernels of @run_a and @run_b; @e names what is wrong.
 *
 * Return: 0, or -1 and @e.
 */
int export_check(json_t *diff, json_t *run_a, json_t *run_b, struct kf_error *e);

/**
 * export_kernel() - the "kernels" entry of side @side ("a" or "b") of @diff in
 * its run (borrowed), or NULL.
 */
json_t *export_kernel(json_t *diff, const char *side, json_t *run);

/**
 * export_side_failed() - whether side @side ("a" or "b") of diff cell @cell is
 * an infrastructure failure (present, and its status neither ok nor
 * unsupported), so that its guest's console excerpt is worth showing.
 */
int export_side_failed(json_t *cell, const char *side);

/**
 * export_escape_xml() - @s with & < > " ' as entities, for XML and HTML text
 * and attribute values; control characters XML cannot carry become '?'.
 * Return: an owned string.
 */
char *export_escape_xml(const char *s);

/**
 * export_write() - write @len bytes of @text to @path atomically ("-" for
 * standard output).
 */
int export_write(const char *path, const char *text, size_t len, struct kf_error *e);

/**
 * export_write_rendered() - export_write() of a rendered @text that it takes
 * over and frees; a NULL @text (the renderer failed, @e filled) gives -1.
 */
int export_write_rendered(char *text, const char *path, struct kf_error *e);

#endif
