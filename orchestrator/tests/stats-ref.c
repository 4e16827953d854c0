/* SPDX-License-Identifier: MIT */
/*
 * stats-ref: stats.c's functions as a filter, for tests/stats-check.py to
 * compare with scipy and statsmodels. Reads one JSON object a line on stdin,
 * writes one JSON object a line on stdout (same order; "id" copied back):
 *
 *   {"op":"ffh","a":[..],"b":[..][,"max_tables":..]} -> p test tables x2 df
 *   {"op":"quasi","a":[[..],..],"b":[[..],..]}  -> p x2 f phi phi_raw df1 df2 k boots_a boots_b
 *   {"op":"effect","a":[..],"b":[..],"phi":..,"df":..|"inf","level":..}
 *                                               -> col pa pb diff lo hi
 *   {"op":"holm","p":[..]}                      -> adj
 *   {"op":"fsf","x":..,"d1":..,"d2":..}          -> sf
 *   {"op":"chi2sf","x":..,"df":..}               -> sf
 *   {"op":"betai","a":..,"b":..,"x":..}          -> i
 *   {"op":"betaq","p":..,"a":..,"b":..}          -> x
 *   {"op":"tq","p":..,"df":..|"inf"}             -> q
 *   {"op":"nq","p":..}                          -> q
 *   {"op":"cp","x":..,"n":..,"level":..}         -> lo hi
 *
 * A case the function refuses gives {"error": text}. Doubles are printed
 * with 17 significant digits (they read back exactly); non-finite as null.
 * Exit status 1 if some line was not a valid case, else 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stats.h"
#include "util.h"

static json_t *real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* A number, or "inf" / "-inf" (JSON has no infinity). */
static int num(json_t *o, const char *key, double *v)
{
	json_t *j = json_object_get(o, key);
	const char *s;

	if (json_is_number(j)) {
		*v = json_number_value(j);
		return 0;
	}
	s = json_string_value(j);
	if (s && (!strcmp(s, "inf") || !strcmp(s, "-inf"))) {
		*v = s[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	return -1;
}

/* An array of arrays of integers into a row-major matrix (owned), *k columns. */
static long *matrix(json_t *m, size_t *rows, size_t *k)
{
	size_t i, j, n;
	long *out;

	if (!json_is_array(m))
		return NULL;
	n = json_array_size(m);
	*rows = n;
	if (n && *k == (size_t)-1)
		*k = json_array_size(json_array_get(m, 0));
	out = xcalloc(n * (*k == (size_t)-1 ? 0 : *k) + 1, sizeof(*out));
	for (i = 0; i < n; i++) {
		json_t *row = json_array_get(m, i);

		if (!json_is_array(row) || json_array_size(row) != *k) {
			free(out);
			return NULL;
		}
		for (j = 0; j < *k; j++) {
			json_t *x = json_array_get(row, j);

			if (!json_is_integer(x)) {
				free(out);
				return NULL;
			}
			out[i * *k + j] = (long)json_integer_value(x);
		}
	}
	return out;
}

static long *vector(json_t *v, size_t *n)
{
	size_t i;
	long *out;

	if (!json_is_array(v))
		return NULL;
	*n = json_array_size(v);
	out = xcalloc(*n + 1, sizeof(*out));
	for (i = 0; i < *n; i++) {
		json_t *x = json_array_get(v, i);

		if (!json_is_integer(x)) {
			free(out);
			return NULL;
		}
		out[i] = (long)json_integer_value(x);
	}
	return out;
}

static json_t *op_quasi(json_t *in)
{
	size_t k = (size_t)-1, ra = 0, rb = 0;
	long *a = NULL, *b = NULL;
	struct stats_quasi q;
	struct kf_error e;
	json_t *out = NULL;

	/* k from the first row of either side. */
	if (json_array_size(json_object_get(in, "a")) == 0 &&
	    json_array_size(json_object_get(in, "b")) > 0)
		k = json_array_size(json_array_get(json_object_get(in, "b"), 0));
	a = matrix(json_object_get(in, "a"), &ra, &k);
	b = a ? matrix(json_object_get(in, "b"), &rb, &k) : NULL;
	if (!a || !b)
		goto done;
	if (k == (size_t)-1)
		k = 0;
	if (stats_quasi_test(a, ra, b, rb, k, &q, &e) < 0) {
		out = json_pack("{s:s}", "error", e.text);
		goto done;
	}
	out = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I}", "p", real(q.p), "x2",
			real(q.x2), "f", real(q.f), "phi", real(q.phi), "phi_raw",
			real(q.phi_raw), "df1", real(q.df1), "df2", real(q.df2), "k",
			(json_int_t)q.k, "boots_a", (json_int_t)q.boots_a, "boots_b",
			(json_int_t)q.boots_b);
done:
	free(a);
	free(b);
	return out;
}

static json_t *op_ffh(json_t *in)
{
	size_t na = 0, nb = 0;
	long *a = vector(json_object_get(in, "a"), &na);
	long *b = vector(json_object_get(in, "b"), &nb);
	double max_tables = STATS_MAX_TABLES;
	struct stats_result r;
	struct kf_error e;
	json_t *out = NULL;

	if (!a || !b || na != nb ||
	    (json_object_get(in, "max_tables") && num(in, "max_tables", &max_tables)))
		goto done;
	if (stats_ffh(a, b, na, max_tables, &r, &e) < 0)
		out = json_pack("{s:s}", "error", e.text);
	else
		out = json_pack("{s:o,s:s,s:o,s:o,s:o}", "p", real(r.p), "test", r.test, "tables",
				real(r.tables), "x2", real(r.x2), "df", real(r.df));
done:
	free(a);
	free(b);
	return out;
}

static json_t *op_effect(json_t *in)
{
	size_t na = 0, nb = 0;
	long *a = vector(json_object_get(in, "a"), &na);
	long *b = vector(json_object_get(in, "b"), &nb);
	double phi, df, level;
	struct stats_effect r;
	json_t *out = NULL;

	if (!a || !b || na != nb || num(in, "phi", &phi) || num(in, "df", &df) ||
	    num(in, "level", &level))
		goto done;
	if (stats_effect(a, b, na, phi, df, level, &r) < 0)
		out = json_pack("{s:s}", "error", "stats_effect refused the case");
	else
		out = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "col", (json_int_t)r.col, "pa",
				real(r.pa), "pb", real(r.pb), "diff", real(r.diff), "lo",
				real(r.lo), "hi", real(r.hi));
done:
	free(a);
	free(b);
	return out;
}

static json_t *op_holm(json_t *in)
{
	json_t *p = json_object_get(in, "p"), *out;
	size_t m = json_array_size(p), i;
	double *v, *adj;

	if (!json_is_array(p))
		return NULL;
	v = xcalloc(m + 1, sizeof(*v));
	adj = xcalloc(m + 1, sizeof(*adj));
	for (i = 0; i < m; i++) {
		if (!json_is_number(json_array_get(p, i))) {
			free(v);
			free(adj);
			return NULL;
		}
		v[i] = json_number_value(json_array_get(p, i));
	}
	stats_holm(v, m, adj);
	out = json_array();
	for (i = 0; i < m; i++)
		json_array_append_new(out, real(adj[i]));
	free(v);
	free(adj);
	return json_pack("{s:o}", "adj", out);
}

static json_t *op_cp(json_t *in)
{
	json_t *x = json_object_get(in, "x"), *n = json_object_get(in, "n");
	double level, lo, hi;

	if (!json_is_integer(x) || !json_is_integer(n) || num(in, "level", &level))
		return NULL;
	stats_clopper_pearson((long)json_integer_value(x), (long)json_integer_value(n), level,
			      &lo, &hi);
	return json_pack("{s:o,s:o}", "lo", real(lo), "hi", real(hi));
}

static json_t *run_case(json_t *in)
{
	const char *op = json_string_value(json_object_get(in, "op"));
	double x, y, z;

	if (!op)
		return NULL;
	if (!strcmp(op, "quasi"))
		return op_quasi(in);
	if (!strcmp(op, "ffh"))
		return op_ffh(in);
	if (!strcmp(op, "effect"))
		return op_effect(in);
	if (!strcmp(op, "holm"))
		return op_holm(in);
	if (!strcmp(op, "cp"))
		return op_cp(in);
	if (!strcmp(op, "fsf") && !num(in, "x", &x) && !num(in, "d1", &y) && !num(in, "d2", &z))
		return json_pack("{s:o}", "sf", real(stats_f_sf(x, y, z)));
	if (!strcmp(op, "chi2sf") && !num(in, "x", &x) && !num(in, "df", &y))
		return json_pack("{s:o}", "sf", real(stats_chi2_sf(x, y)));
	if (!strcmp(op, "betai") && !num(in, "a", &x) && !num(in, "b", &y) && !num(in, "x", &z))
		return json_pack("{s:o}", "i", real(stats_betai(x, y, z)));
	if (!strcmp(op, "betaq") && !num(in, "p", &x) && !num(in, "a", &y) && !num(in, "b", &z))
		return json_pack("{s:o}", "x", real(stats_beta_quantile(x, y, z)));
	if (!strcmp(op, "tq") && !num(in, "p", &x) && !num(in, "df", &y))
		return json_pack("{s:o}", "q", real(stats_t_quantile(x, y)));
	if (!strcmp(op, "nq") && !num(in, "p", &x))
		return json_pack("{s:o}", "q", real(stats_normal_quantile(x)));
	return NULL;
}

int main(void)
{
	char *line = NULL, *s;
	size_t cap = 0;
	int status = 0;

	while (getline(&line, &cap, stdin) > 0) {
		json_error_t je;
		json_t *in, *out;

		if (strspn(line, " \t\r\n") == strlen(line))
			continue;
		in = json_loads(line, 0, &je);
		out = json_is_object(in) ? run_case(in) : NULL;
		if (!out) {
			out = json_pack("{s:s}", "error", "bad case");
			status = 1;
		}
		if (json_is_object(in) && json_object_get(in, "id"))
			json_object_set(out, "id", json_object_get(in, "id"));
		if (json_is_object(in))
			json_object_set(out, "op", json_object_get(in, "op"));
		s = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(17));
		puts(s);
		free(s);
		json_decref(in);
		json_decref(out);
	}
	free(line);
	fflush(stdout);
	return status;
}
