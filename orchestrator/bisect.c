/* SPDX-License-Identifier: MIT */
/*
 * The search of kfarm bisect over an ordered list of kernels: git bisect's
 * (the midpoint of what is left between the last good and the first bad, a
 * skipped one stepped round), on marks a caller fills in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "cells.h"
#include "config.h"
#include "diff.h"
#include "error.h"
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

/*
 * The first cell of @follow whose verdict in @d (NULL: none) @stop is true of:
 * 1 with *@why (owned) naming it and its verdict, else 0 (*@why NULL).
 */
static int first_cell(json_t *d, json_t *follow, int (*stop)(const char *v), char **why)
{
	json_t *f;
	size_t i;

	*why = NULL;
	json_array_foreach(follow, i, f) {
		const char *sc = json_string_value(json_object_get(f, "scenario"));
		json_int_t smp = json_integer_value(json_object_get(f, "smp"));
		const char *v = cell_verdict(d, sc ?: "", smp);

		if (stop(v)) {
			*why = xasprintf("%s at SMP %" JSON_INTEGER_FORMAT ": %s", sc, smp,
					 v ? v : "not in the diff");
			return 1;
		}
	}
	return 0;
}

static int is_error(const char *v)
{
	return v && !strcmp(v, DIFF_ERROR);
}

/* unsupported: on both sides, as the same behaviour is */
static int not_same(const char *v)
{
	return !v || (strcmp(v, DIFF_SAME) && strcmp(v, DIFF_UNSUPPORTED));
}

int bisect_failed(json_t *d, json_t *follow, char **why)
{
	return first_cell(d, follow, is_error, why);
}

int bisect_matches(json_t *d, json_t *follow, char **why)
{
	return !first_cell(d, follow, not_same, why);
}

/* What verdict @v says of a followed cell against the kernel it was compared with. */
enum cell_class { CC_SAME, CC_CONSISTENT, CC_DIFFERS, CC_FAILED };

static enum cell_class cell_class(const char *v)
{
	if (!v || !strcmp(v, DIFF_ERROR))
		return CC_FAILED;
	if (!strcmp(v, DIFF_SAME) || !strcmp(v, DIFF_UNSUPPORTED))
		return CC_SAME;
	if (!strcmp(v, DIFF_FLAKY))	/* racy, and not told apart at alpha */
		return CC_CONSISTENT;
	return CC_DIFFERS;
}

/* Over @follow in diff @d: whether every cell is at most @worst, and whether some is @cc. */
static int cells_all(json_t *d, json_t *follow, enum cell_class worst, enum cell_class any,
		     int *some)
{
	json_t *f;
	size_t i;
	int all = 1;

	*some = 0;
	json_array_foreach(follow, i, f) {
		enum cell_class cc = cell_class(cell_verdict(d, json_string_value(json_object_get(
			f, "scenario")) ?: "", json_integer_value(json_object_get(f, "smp"))));

		all &= cc <= worst;
		*some |= cc == any;
	}
	return all;
}

enum bisect_judgement bisect_judge(json_t *dg, json_t *db, json_t *follow)
{
	int differs_bad, dummy;

	if (cells_all(dg, follow, CC_SAME, CC_SAME, &dummy))
		return BJ_GOOD;
	if (!db)
		return BJ_NEED_BAD;
	if (!cells_all(dg, follow, CC_DIFFERS, CC_SAME, &dummy))	/* a cell failed */
		return BJ_NEITHER;
	if (!cells_all(dg, follow, CC_CONSISTENT, CC_SAME, &dummy))	/* told apart from good */
		return cells_all(db, follow, CC_CONSISTENT, CC_SAME, &dummy) ? BJ_BAD : BJ_NEITHER;
	/* like good in every cell, a racy one not told apart from it */
	cells_all(db, follow, CC_FAILED, CC_DIFFERS, &differs_bad);
	if (differs_bad)
		return BJ_GOOD;
	return cells_all(db, follow, CC_CONSISTENT, CC_SAME, &dummy) ? BJ_UNDECIDED : BJ_NEITHER;
}

/* A non-empty string member @key of @o, or NULL. */
static const char *str_member(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && *v ? v : NULL;
}

int bisect_log_read(json_t *doc, const char *file, struct bisect_log *log, struct kf_error *e)
{
	json_t *kernels = json_object_get(doc, "kernels"), *steps = json_object_get(doc, "steps");
	json_t *cells = json_object_get(doc, "cells"), *x;
	size_t i, ncommits = 0;

	memset(log, 0, sizeof(*log));
	if (!json_is_object(doc) || strcmp(str_member(doc, "schema") ?: "", BISECT_SCHEMA))
		return error_set(e, file, 0, 0, "not a bisection's log: \"schema\" is not \"%s\"",
				 BISECT_SCHEMA);
	if (!json_is_array(kernels) || json_array_size(kernels) < 2)
		return error_set(e, file, 0, 0, "\"kernels\" is not an array of at least two");
	if (!json_is_array(steps) || !json_is_array(cells) || !json_array_size(cells))
		return error_set(e, file, 0, 0, "\"steps\" or \"cells\" is missing, or no cell is "
				 "followed");
	json_array_foreach(cells, i, x)
		if (!str_member(x, "scenario") || json_integer_value(json_object_get(x, "smp")) < 1)
			return error_set(e, file, 0, 0, "cells[%zu] lacks a scenario or an SMP size", i);
	log->n = json_array_size(kernels);
	log->ks = xcalloc(log->n + 1, sizeof(char *));
	log->m = xcalloc(log->n, sizeof(*log->m));
	json_array_foreach(kernels, i, x) {
		if (!str_member(x, "kernel")) {
			error_set(e, file, 0, 0, "kernels[%zu] has no \"kernel\"", i);
			goto fail;
		}
		log->ks[i] = xstrdup(str_member(x, "kernel"));
		ncommits += str_member(x, "commit") != NULL;
	}
	log->m[0] = BISECT_GOOD;
	log->m[log->n - 1] = BISECT_BAD;
	json_array_foreach(steps, i, x) {
		json_t *ix = json_object_get(x, "index");
		const char *v = str_member(x, "verdict");
		json_int_t at = json_integer_value(ix);
		enum bisect_mark mk = !v ? BISECT_UNTESTED : !strcmp(v, "good") ? BISECT_GOOD :
				      !strcmp(v, "bad") ? BISECT_BAD : !strcmp(v, "skip") ? BISECT_SKIP :
				      BISECT_UNTESTED;

		if (!json_is_integer(ix) || at < 0 || (size_t)at >= log->n || mk == BISECT_UNTESTED ||
		    !json_is_integer(json_object_get(x, "step"))) {
			error_set(e, file, 0, 0, "steps[%zu]: needs a step, an index from 0 to %zu and a "
				  "verdict good, bad or skip", i, log->n - 1);
			goto fail;
		}
		if ((at == 0 && mk != BISECT_GOOD) || ((size_t)at == log->n - 1 && mk != BISECT_BAD)) {
			error_set(e, file, 0, 0, "steps[%zu] marks the %s kernel (index %" JSON_INTEGER_FORMAT
				  ") %s", i, at == 0 ? "good" : "bad", at, v);
			goto fail;
		}
		log->m[at] = mk;
		if (json_integer_value(json_object_get(x, "step")) > log->last_step)
			log->last_step = (int)json_integer_value(json_object_get(x, "step"));
	}
	log->follow = json_deep_copy(cells);
	log->steps = json_deep_copy(steps);
	if (ncommits == log->n) {
		log->commits = json_array();
		json_array_foreach(kernels, i, x)
			json_array_append_new(log->commits, json_pack("{s:s, s:s}", "commit",
				str_member(x, "commit"), "subject", json_string_value(
				json_object_get(x, "subject")) ?: ""));
	}
	return 0;
fail:
	bisect_log_release(log);
	return -1;
}

void bisect_log_release(struct bisect_log *log)
{
	size_t i;

	for (i = 0; log->ks && i < log->n; i++)
		free(log->ks[i]);
	free(log->ks);
	free(log->m);
	json_decref(log->follow);
	json_decref(log->steps);
	json_decref(log->commits);
	memset(log, 0, sizeof(*log));
}

int bisect_cells(const char *list, char **scenarios, json_t **wanted, char **smps,
		 struct kf_error *e)
{
	json_t *seen = json_object(), *sizes = json_object();
	char **v, *out = xstrdup(""), *more, *at, *end;
	size_t n = 0, i;
	int every_at = 1, ret = 0;

	*scenarios = *smps = NULL;
	*wanted = json_array();
	v = cells_split(list, &n);
	for (i = 0; i < n && ret == 0; i++) {
		long smp = 0;

		at = strrchr(v[i], '@');
		if (at) {
			errno = 0;
			smp = strtol(at + 1, &end, 10);
			if (errno || end == at + 1 || *end || smp < 1 || smp > CONFIG_SMP_MAX) {
				ret = error_set(e, "--cells", 0, 0, "'%s': the SMP size after '@' must be "
						"a number from 1 to %d", v[i], CONFIG_SMP_MAX);
				break;
			}
			*at = '\0';
			json_object_set_new(sizes, at + 1, json_true());
		} else {
			every_at = 0;
		}
		json_array_append_new(*wanted, json_pack("{s:s, s:i}", "scenario", v[i], "smp", (int)smp));
		if (json_object_get(seen, v[i]))
			continue;
		json_object_set_new(seen, v[i], json_true());
		more = xasprintf("%s%s%s", out, *out ? "," : "", v[i]);
		free(out);
		out = more;
	}
	if (ret == 0 && every_at) {
		const char *k;
		json_t *x;

		*smps = xstrdup("");
		json_object_foreach(sizes, k, x) {
			more = xasprintf("%s%s%s", *smps, **smps ? "," : "", k);
			free(*smps);
			*smps = more;
		}
	}
	cells_free(v, n);
	json_decref(seen);
	json_decref(sizes);
	if (ret < 0) {
		free(out);
		json_decref(*wanted);
		*wanted = NULL;
		return -1;
	}
	*scenarios = out;
	return 0;
}

json_t *bisect_follow_wanted(json_t *follow, json_t *wanted)
{
	json_t *out = json_array(), *f, *w;
	size_t i, j;

	json_array_foreach(follow, i, f)
		json_array_foreach(wanted, j, w) {
			json_int_t smp = json_integer_value(json_object_get(w, "smp"));

			if (json_equal(json_object_get(f, "scenario"), json_object_get(w, "scenario")) &&
			    (!smp || smp == json_integer_value(json_object_get(f, "smp")))) {
				json_array_append(out, f);
				break;
			}
		}
	return out;
}
