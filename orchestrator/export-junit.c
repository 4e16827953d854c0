/* SPDX-License-Identifier: MIT */
/*
 * junit.xml from a diff: a testcase per (scenario, smp), in the dialect that
 * Jenkins, GitLab and junitparser read (testsuites > testsuite > testcase with
 * failure, error, skipped, system-out).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "export.h"
#include "report.h"
#include "util.h"

/* Print @s escaped for XML. */
static void put_esc(FILE *f, const char *s)
{
	char *x = export_escape_xml(s ? s : "");

	fputs(x, f);
	free(x);
}

static void put_property(FILE *f, const char *name, const char *value)
{
	if (!value)
		return;
	fputs("      <property name=\"", f);
	put_esc(f, name);
	fputs("\" value=\"", f);
	put_esc(f, value);
	fputs("\"/>\n", f);
}

/* The body of a failure or error: the detail, then the replay command. */
static void put_body(FILE *f, json_t *cell, const char *detail)
{
	const char *replay = json_string_value(json_object_get(cell, "replay"));

	put_esc(f, detail);
	if (replay) {
		fputs("\nreplay: ", f);
		put_esc(f, replay);
	}
}

/* @cell's <error>: why, and the console of each side's failed guest. */
static void put_error(FILE *f, json_t *cell, const char *detail, json_t *diff, json_t *run_a,
		      json_t *run_b)
{
	static const char *const sides[] = { "a", "b" };
	json_int_t smp = json_integer_value(json_object_get(cell, "smp"));
	size_t i, j;

	fputs("      <error type=\"error\" message=\"", f);
	put_esc(f, detail);
	fputs("\">", f);
	put_body(f, cell, detail);
	for (i = 0; i < 2; i++) {
		json_t *run = i ? run_b : run_a, *ex, *line;
		const char *k = json_string_value(json_object_get(json_object_get(diff, sides[i]),
								  "kernel"));

		if (!k || !export_side_failed(cell, sides[i]))
			continue;
		ex = report_guest_excerpt(run, k, smp);
		if (json_array_size(json_object_get(ex, "lines"))) {
			fprintf(f, "\n%s console:", sides[i]);
			json_array_foreach(json_object_get(ex, "lines"), j, line) {
				fputs("\n  ", f);
				put_esc(f, json_string_value(line));
			}
		}
		json_decref(ex);
	}
	fputs("</error>\n", f);
}

static void put_testcase(FILE *f, json_t *cell, json_t *run_a, json_t *run_b, json_t *diff)
{
	const char *verdict = json_string_value(json_object_get(cell, "verdict"));
	const char *scenario = json_string_value(json_object_get(cell, "scenario"));
	json_int_t smp = json_integer_value(json_object_get(cell, "smp"));
	char *detail = diff_cell_detail(cell);

	fputs("    <testcase classname=\"kfarm.detach.", f);
	put_esc(f, scenario);
	fprintf(f, "\" name=\"smp%" JSON_INTEGER_FORMAT "\"", smp);
	if (!verdict || diff_verdict_info(verdict)->junit == DIFF_JUNIT_PASS) {
		fputs("/>\n", f);
		goto cleanup;
	}
	fputs(">\n", f);
	switch (diff_verdict_info(verdict)->junit) {
	case DIFF_JUNIT_FAILURE:
		fputs("      <failure type=\"", f);
		put_esc(f, verdict);
		fputs("\" message=\"", f);
		put_esc(f, *detail ? detail : verdict);
		fputs("\">", f);
		put_body(f, cell, detail);
		fputs("</failure>\n", f);
		break;
	case DIFF_JUNIT_ERROR:
		put_error(f, cell, detail, diff, run_a, run_b);
		break;
	case DIFF_JUNIT_SKIPPED:
		fputs("      <skipped message=\"unsupported on both kernels\"/>\n", f);
		break;
	default:
		/* flaky: passes, but says so. */
		fputs("      <system-out>", f);
		put_esc(f, verdict);
		fputs(": ", f);
		put_body(f, cell, detail);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
cleanup:
	free(detail);
}

char *export_junit_render(json_t *diff, json_t *run_a, json_t *run_b, struct kf_error *e)
{
	json_t *cells, *c, *sa, *sb;
	int failures, errors, skipped;
	char *buf = NULL, *name, alpha[32];
	size_t len = 0, i;
	FILE *f;

	if (export_check(diff, run_a, run_b, e) < 0)
		return NULL;
	cells = json_object_get(diff, "cells");
	sa = json_object_get(diff, "a");
	sb = json_object_get(diff, "b");
	failures = diff_count(diff, DIFF_CHANGED) + diff_count(diff, DIFF_DIST_CHANGED);
	errors = diff_count(diff, DIFF_ERROR);
	skipped = diff_count(diff, DIFF_UNSUPPORTED);
	name = xasprintf("kfarm.detach %s vs %s",
			 json_string_value(json_object_get(sa, "kernel")),
			 json_string_value(json_object_get(sb, "kernel")));
	snprintf(alpha, sizeof(alpha), "%g", json_number_value(json_object_get(diff, "alpha")));

	f = open_memstream(&buf, &len);
	if (!f) {
		free(name);
		error_set(e, "junit", 0, 0, "out of memory");
		return NULL;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"kfarm\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" "
		"skipped=\"%d\">\n", json_array_size(cells), failures, errors, skipped);
	fputs("  <testsuite name=\"", f);
	put_esc(f, name);
	fprintf(f, "\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" skipped=\"%d\">\n",
		json_array_size(cells), failures, errors, skipped);
	fputs("    <properties>\n", f);
	put_property(f, "a.kernel", json_string_value(json_object_get(sa, "kernel")));
	put_property(f, "a.release", json_string_value(json_object_get(sa, "release")));
	put_property(f, "a.run", json_string_value(json_object_get(sa, "run")));
	put_property(f, "b.kernel", json_string_value(json_object_get(sb, "kernel")));
	put_property(f, "b.release", json_string_value(json_object_get(sb, "release")));
	put_property(f, "b.run", json_string_value(json_object_get(sb, "run")));
	put_property(f, "alpha", alpha);
	fputs("    </properties>\n", f);
	json_array_foreach(cells, i, c)
		put_testcase(f, c, run_a, run_b, diff);
	fputs("  </testsuite>\n</testsuites>\n", f);
	fclose(f);
	free(name);
	return buf;
}

int export_junit(json_t *diff, json_t *run_a, json_t *run_b, const char *path,
		 struct kf_error *e)
{
	return export_write_rendered(export_junit_render(diff, run_a, run_b, e), path, e);
}
