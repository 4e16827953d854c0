/* SPDX-License-Identifier: MIT */
/*
 * The search of kfarm bisect over an ordered list of kernels: git bisect's
 * (the midpoint of what is left between the last good and the first bad, a
 * skipped one stepped round), on marks a caller fills in.
 */
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "diff.h"
#include "util.h"

const char *bisect_mark_name(enum bisect_mark m)
{
	static const char *const names[] = { "untested", "good", "bad", "skip" };

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

void bisect_range(const enum bisect_mark *m, size_t n, size_t *good, size_t *bad)
{
	size_t i;

	*bad = n - 1;
	for (i = 1; i < n; i++)
		if (m[i] == BISECT_BAD) {
			*bad = i;
			break;
		}
	*good = 0;
	for (i = *bad; i-- > 0;)
		if (m[i] == BISECT_GOOD) {
			*good = i;
			break;
		}
}

long bisect_next(const enum bisect_mark *m, size_t n)
{
	size_t good, bad, i;
	long best = -1;
	double mid, dist = 0;

	if (n < 3)
		return -1;
	bisect_range(m, n, &good, &bad);
	mid = ((double)good + (double)bad) / 2;
	for (i = good + 1; i < bad; i++) {
		double d = (double)i > mid ? (double)i - mid : mid - (double)i;

		if (m[i] == BISECT_UNTESTED && (best < 0 || d < dist)) {
			best = (long)i;
			dist = d;
		}
	}
	return best;
}

json_t *bisect_follow(json_t *d)
{
	json_t *out = json_array(), *cell;
	size_t i;

	json_array_foreach(json_object_get(d, "cells"), i, cell) {
		const char *v = json_string_value(json_object_get(cell, "verdict"));

		if (v && (!strcmp(v, DIFF_CHANGED) || !strcmp(v, DIFF_DIST_CHANGED)))
			json_array_append_new(out, json_pack("{s:O, s:O}", "scenario",
							     json_object_get(cell, "scenario"), "smp",
							     json_object_get(cell, "smp")));
	}
	return out;
}

/* The verdict of cell @sc at SMP @smp in diff @d, or NULL when it has none. */
static const char *cell_verdict(json_t *d, const char *sc, json_int_t smp)
{
	const char *v = NULL;
	json_t *cell;
	size_t j;

	json_array_foreach(json_object_get(d, "cells"), j, cell)
		if (!strcmp(json_string_value(json_object_get(cell, "scenario")) ?: "", sc) &&
		    json_integer_value(json_object_get(cell, "smp")) == smp)
			v = json_string_value(json_object_get(cell, "verdict"));
	return v;
}

int bisect_failed(json_t *d, json_t *follow, char **why)
{
	json_t *f;
	size_t i;

	*why = NULL;
	json_array_foreach(follow, i, f) {
		const char *sc = json_string_value(json_object_get(f, "scenario"));
		json_int_t smp = json_integer_value(json_object_get(f, "smp"));
		const char *v = cell_verdict(d, sc ?: "", smp);

		if (v && !strcmp(v, DIFF_ERROR)) {
			*why = xasprintf("%s at SMP %" JSON_INTEGER_FORMAT ": %s", sc, smp, v);
			return 1;
		}
	}
	return 0;
}

int bisect_matches(json_t *d, json_t *follow, char **why)
{
	json_t *f;
	size_t i;

	*why = NULL;
	json_array_foreach(follow, i, f) {
		const char *sc = json_string_value(json_object_get(f, "scenario"));
		json_int_t smp = json_integer_value(json_object_get(f, "smp"));
		const char *v = cell_verdict(d, sc ?: "", smp);
		/* unsupported: on both sides, as the same behaviour is */
		if (!v || (strcmp(v, DIFF_SAME) && strcmp(v, DIFF_UNSUPPORTED))) {
			*why = xasprintf("%s at SMP %" JSON_INTEGER_FORMAT ": %s", sc, smp,
					 v ? v : "not in the diff");
			return 0;
		}
	}
	return 1;
}
