/* SPDX-License-Identifier: MIT */
/*
 * What the exporters (export-html.c, export-junit.c, export-kcidb.c) share:
 * checking their input, finding a side's kernel in its run, and writing the
 * file.
 */
#include <stdio.h>
#include <string.h>

#include "diff.h"
#include "export.h"
#include "report.h"
#include "util.h"

int export_check(json_t *diff, json_t *run_a, json_t *run_b, struct kf_error *e)
{
	const char *schema = json_string_value(json_object_get(diff, "schema"));

	if (!json_is_object(diff) || !schema || strcmp(schema, DIFF_SCHEMA))
		return error_set(e, "export", 0, 0, "not a %s object", DIFF_SCHEMA);
	if (!json_is_array(json_object_get(diff, "cells")))
		return error_set(e, "export", 0, 0, "diff has no \"cells\" array");
	if (!export_kernel(diff, "a", run_a))
		return error_set(e, "export", 0, 0, "kernel a of the diff is not in run a");
	if (!export_kernel(diff, "b", run_b))
		return error_set(e, "export", 0, 0, "kernel b of the diff is not in run b");
	return 0;
}

json_t *export_kernel(json_t *diff, const char *side, json_t *run)
{
	const char *name = json_string_value(json_object_get(json_object_get(diff, side),
							     "kernel"));

	return name ? report_kernel(run, name, NULL) : NULL;
}

int export_side_failed(json_t *cell, const char *side)
{
	const char *st = json_string_value(json_object_get(json_object_get(cell, side), "status"));

	return st && !report_status_answered(st);
}

int export_write(const char *path, const char *text, size_t len, struct kf_error *e)
{
	if (!strcmp(path, "-")) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout))
			return error_set(e, "stdout", 0, 0, "write failed");
		return 0;
	}
	return util_write_atomic(path, text, len, e);
}

char *export_escape_xml(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *o;

	for (p = s; *p; p++)
		n += 6;
	out = o = xmalloc(n + 1);
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		switch (c) {
		case '&': o = stpcpy(o, "&amp;"); break;
		case '<': o = stpcpy(o, "&lt;"); break;
		case '>': o = stpcpy(o, "&gt;"); break;
		case '"': o = stpcpy(o, "&quot;"); break;
		case '\'': o = stpcpy(o, "&#39;"); break;
		default:
			/* XML 1.0 has no way to write other control characters. */
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				*o++ = '?';
			else
				*o++ = (char)c;
		}
	}
	*o = 0;
	return out;
}

int export_write_rendered(char *text, const char *path, struct kf_error *e)
{
	int ret;

	if (!text)
		return -1;
	ret = export_write(path, text, strlen(text), e);
	free(text);
	return ret;
}
