// SPDX-License-Identifier: MIT
/*
 * export-table.c - the terminal's view of a diff (export_table()): what
 * `kfarm diff` and `kfarm compare` print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "export.h"

static void print_side(FILE *f, const char *label, json_t *side)
{
	const char *rel = json_string_value(json_object_get(side, "release"));

	fprintf(f, "%s: %s", label, json_string_value(json_object_get(side, "kernel")));
	if (rel)
		fprintf(f, " (%s)", rel);
	fprintf(f, ", run %s\n", json_string_value(json_object_get(side, "run")));
}

void export_table(FILE *f, json_t *diff, int colour)
{
	static const char *const hdr[] = { "SCENARIO", "SMP", "VERDICT", "DETAIL" };
	json_t *cells = json_object_get(diff, "cells"), *c;
	int ws = (int)strlen(hdr[0]), wn = (int)strlen(hdr[1]), wv = (int)strlen(hdr[2]);
	size_t i, shown = 0;

	print_side(f, "a", json_object_get(diff, "a"));
	print_side(f, "b", json_object_get(diff, "b"));

	json_array_foreach(cells, i, c) {
		const char *v = json_string_value(json_object_get(c, "verdict"));
		const char *s = json_string_value(json_object_get(c, "scenario"));
		char num[32];
		int n;

		if (!v || !diff_verdict_info(v)->shown)
			continue;
		shown++;
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			     json_integer_value(json_object_get(c, "smp")));
		if (s && (int)strlen(s) > ws)
			ws = (int)strlen(s);
		if (n > wn)
			wn = n;
		if ((int)strlen(v) > wv)
			wv = (int)strlen(v);
	}

	if (shown) {
		fprintf(f, "%-*s  %*s  %-*s  %s\n", ws, hdr[0], wn, hdr[1], wv, hdr[2], hdr[3]);
		json_array_foreach(cells, i, c) {
			const char *v = json_string_value(json_object_get(c, "verdict"));
			const char *s = json_string_value(json_object_get(c, "scenario"));
			char *detail;

			if (!v || !diff_verdict_info(v)->shown)
				continue;
			detail = diff_cell_detail(c);
			/* No padding after the verdict when no detail follows. */
			fprintf(f, "%-*s  %*" JSON_INTEGER_FORMAT "  %s%-*s%s%s%s\n",
				ws, s ? s : "?", wn, json_integer_value(json_object_get(c, "smp")),
				colour ? diff_verdict_info(v)->colour : "", *detail ? wv : 0, v,
				colour ? "\033[0m" : "", *detail ? "  " : "", detail);
			free(detail);
		}
	} else {
		fprintf(f, "no differences\n");
	}

	for (i = 0; i < 2; i++) {
		static const char *const sides[] = { "a", "b" };
		json_t *dep = json_object_get(json_object_get(diff, "smp_dependent"), sides[i]);
		json_t *v;
		size_t j;

		if (!json_array_size(dep))
			continue;
		fprintf(f, "smp-dependent on %s:", sides[i]);
		json_array_foreach(dep, j, v)
			fprintf(f, "%s%s", j ? ", " : " ", json_string_value(v));
		fputc('\n', f);
	}

	fprintf(f, "%zu cells", json_array_size(cells));
	for (i = 0; diff_verdict_name(i); i++)
		fprintf(f, ", %d %s", diff_count(diff, diff_verdict_name(i)), diff_verdict_name(i));
	fputc('\n', f);
}
