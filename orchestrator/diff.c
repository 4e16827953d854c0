/* SPDX-License-Identifier: MIT */
/*
 * The diff engine: compares two kernels' cells (from one run or two) and
 * classifies each (scenario, smp) as same, changed, flaky or error.
 *
 * Observations are compared as canonical JSON (sorted keys, compact), so two
 * observations are equal exactly when their dumps are equal strings. A side's
 * histogram is reduced to its set of distinct canonical observations, kept in a
 * JSON object used as a set: key = canonical dump, value = the observation.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diff.h"
#include "util.h"

#define RUN_SCHEMA	"kfarm.run/1"
#define DIFF_SCHEMA	"kfarm.diff/1"
#define CANON_FLAGS	(JSON_SORT_KEYS | JSON_COMPACT)
/* Not valid JSON, so never equal to the dump of a value. */
#define ABSENT_KEY	"absent"

enum side_kind { SIDE_OK, SIDE_UNSUPPORTED, SIDE_BAD };

/* One (scenario, smp) of the union of both sides, with its sort rank. */
struct diff_key {
	const char *scenario;	/* borrowed from a run's cell */
	json_int_t smp;
	long rank;
};

static char *canon(json_t *v)
{
	char *s = json_dumps(v, CANON_FLAGS | JSON_ENCODE_ANY);

	if (!s)
		s = xstrdup("null");
	return s;
}

/*
 * Classify one side's cell. For SIDE_OK, *set is a new object of its distinct
 * observations; for SIDE_BAD, *why is an owned explanation prefixed by @side.
 */
static enum side_kind side_classify(json_t *cell, const char *side, json_t **set,
				    char **why)
{
	const char *status, *err;
	json_t *outcomes, *o;
	size_t i;

	*set = NULL;
	*why = NULL;
	if (!cell) {
		*why = xasprintf("%s: missing", side);
		return SIDE_BAD;
	}
	if (!json_is_object(cell)) {
		*why = xasprintf("%s: malformed cell", side);
		return SIDE_BAD;
	}
	status = json_string_value(json_object_get(cell, "status"));
	if (!status) {
		*why = xasprintf("%s: cell has no status", side);
		return SIDE_BAD;
	}
	if (!strcmp(status, "unsupported"))
		return SIDE_UNSUPPORTED;
	if (strcmp(status, "ok")) {
		err = json_string_value(json_object_get(cell, "error"));
		if (err && *err)
			*why = xasprintf("%s: %s: %s", side, status, err);
		else
			*why = xasprintf("%s: %s", side, status);
		return SIDE_BAD;
	}

	outcomes = json_object_get(cell, "outcomes");
	if (!json_is_array(outcomes)) {
		*why = xasprintf("%s: ok but outcomes is not an array", side);
		return SIDE_BAD;
	}
	if (json_array_size(outcomes) == 0) {
		*why = xasprintf("%s: ok but no outcomes", side);
		return SIDE_BAD;
	}
	*set = json_object();
	json_array_foreach(outcomes, i, o) {
		json_t *obs = json_object_get(o, "observation");
		char *key;

		if (!json_is_object(obs)) {
			*why = xasprintf("%s: outcomes[%zu].observation is not an object",
					 side, i);
			json_decref(*set);
			*set = NULL;
			return SIDE_BAD;
		}
		key = canon(obs);
		json_object_set(*set, key, obs);
		free(key);
	}
	return SIDE_OK;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Append the keys of the set @keys to @arr, sorted. */
static void append_sorted_keys(json_t *arr, json_t *keys)
{
	const char **v = xcalloc(json_object_size(keys), sizeof(*v));
	const char *k;
	json_t *unused;
	size_t n = 0, i;

	json_object_foreach(keys, k, unused)
		v[n++] = k;
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	free(v);
}

/* Whether two sets (objects used as sets) have the same keys. */
static int set_equal(json_t *x, json_t *y)
{
	const char *k;
	json_t *unused;

	if (json_object_size(x) != json_object_size(y))
		return 0;
	json_object_foreach(x, k, unused)
		if (!json_object_get(y, k))
			return 0;
	return 1;
}

/* Keys of two observations whose values differ (a key on one side only differs). */
static void changed_fields(json_t *fields, json_t *oa, json_t *ob)
{
	json_t *keys = json_object(), *v;
	const char *k;

	json_object_foreach(oa, k, v)
		if (!json_equal(v, json_object_get(ob, k)))
			json_object_set_new(keys, k, json_true());
	json_object_foreach(ob, k, v)
		if (!json_object_get(oa, k))
			json_object_set_new(keys, k, json_true());
	append_sorted_keys(fields, keys);
	json_decref(keys);
}

/* The set of canonical values of @key over the observations in @set. */
static json_t *value_set(json_t *set, const char *key)
{
	json_t *vals = json_object(), *obs;
	const char *unused;

	json_object_foreach(set, unused, obs) {
		json_t *v = json_object_get(obs, key);
		char *c = v ? canon(v) : xstrdup(ABSENT_KEY);

		json_object_set_new(vals, c, json_true());
		free(c);
	}
	return vals;
}

/* Keys whose sets of values over all observations differ between the sides. */
static void flaky_fields(json_t *fields, json_t *sa, json_t *sb)
{
	json_t *all = json_object(), *keys = json_object(), *obs, *v;
	json_t *sets[2] = { sa, sb };
	const char *unused, *k;
	int i;

	for (i = 0; i < 2; i++)
		json_object_foreach(sets[i], unused, obs)
			json_object_foreach(obs, k, v)
				json_object_set_new(all, k, json_true());
	json_object_foreach(all, k, v) {
		json_t *va = value_set(sa, k), *vb = value_set(sb, k);

		if (!set_equal(va, vb))
			json_object_set_new(keys, k, json_true());
		json_decref(va);
		json_decref(vb);
	}
	append_sorted_keys(fields, keys);
	json_decref(keys);
	json_decref(all);
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

const char *diff_verdict(json_t *cell_a, json_t *cell_b, json_t **fields, char **reason)
{
	json_t *sa = NULL, *sb = NULL;
	char *wa = NULL, *wb = NULL;
	enum side_kind ka, kb;
	const char *verdict;
	size_t na, nb;

	*fields = json_array();
	*reason = NULL;
	ka = side_classify(cell_a, "a", &sa, &wa);
	kb = side_classify(cell_b, "b", &sb, &wb);

	if (ka == SIDE_BAD || kb == SIDE_BAD) {
		if (wa && wb)
			*reason = xasprintf("%s; %s", wa, wb);
		else
			*reason = xstrdup(wa ? wa : wb);
		verdict = DIFF_ERROR;
		goto cleanup;
	}
	if (ka == SIDE_UNSUPPORTED && kb == SIDE_UNSUPPORTED) {
		verdict = DIFF_SAME;
		goto cleanup;
	}
	if (ka == SIDE_UNSUPPORTED || kb == SIDE_UNSUPPORTED) {
		*reason = xstrdup(ka == SIDE_UNSUPPORTED ? "a: unsupported" :
				  "b: unsupported");
		verdict = DIFF_CHANGED;
		goto cleanup;
	}

	na = json_object_size(sa);
	nb = json_object_size(sb);
	if (na == 1 && nb == 1) {
		void *ia = json_object_iter(sa), *ib = json_object_iter(sb);

		if (!strcmp(json_object_iter_key(ia), json_object_iter_key(ib))) {
			verdict = DIFF_SAME;
		} else {
			changed_fields(*fields, json_object_iter_value(ia),
				       json_object_iter_value(ib));
			verdict = DIFF_CHANGED;
		}
		goto cleanup;
	}

	/* Nondeterministic on at least one side; statistics come later. */
	flaky_fields(*fields, sa, sb);
	if (set_equal(sa, sb))
		*reason = xasprintf("both: the same %zu observations", na);
	else
		*reason = xasprintf("a: %zu observation%s, b: %zu observation%s",
				    na, plural(na), nb, plural(nb));
	verdict = DIFF_FLAKY;

cleanup:
	json_decref(sa);
	json_decref(sb);
	free(wa);
	free(wb);
	return verdict;
}

json_t *diff_load_run(const char *path, struct kf_error *e)
{
	json_t *run = NULL;
	char *file = NULL;
	const char *schema;
	json_error_t jerr;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		file = xasprintf("%s/run.json", path);
	else
		file = xstrdup(path);

	run = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!run) {
		error_set(e, file, jerr.line > 0 ? jerr.line : 0,
			  jerr.column > 0 ? jerr.column : 0, "%s", jerr.text);
		goto cleanup;
	}
	if (!json_is_object(run)) {
		error_set(e, file, 0, 0, "not a JSON object");
		goto fail;
	}
	schema = json_string_value(json_object_get(run, "schema"));
	if (!schema) {
		error_set(e, file, 0, 0, "no \"schema\" string (expected \"%s\")",
			  RUN_SCHEMA);
		goto fail;
	}
	if (strcmp(schema, RUN_SCHEMA)) {
		error_set(e, file, 0, 0, "schema is \"%s\", expected \"%s\"", schema,
			  RUN_SCHEMA);
		goto fail;
	}
	goto cleanup;

fail:
	json_decref(run);
	run = NULL;
cleanup:
	free(file);
	return run;
}

/* The run's id, and that "kernels", "cells" and "scenarios" are arrays. */
static const char *run_check(json_t *run, const char *side, struct kf_error *e)
{
	static const char *const arrays[] = { "kernels", "cells", "scenarios" };
	json_t *scen, *v;
	const char *id;
	size_t i;

	if (!json_is_object(run)) {
		error_set(e, side, 0, 0, "malformed run: not a JSON object");
		return NULL;
	}
	id = json_string_value(json_object_get(run, "id"));
	if (!id || !*id) {
		error_set(e, side, 0, 0, "malformed run: \"id\" is missing or not a string");
		return NULL;
	}
	for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		if (!json_is_array(json_object_get(run, arrays[i]))) {
			error_set(e, id, 0, 0, "malformed run: \"%s\" is missing or not an array",
				  arrays[i]);
			return NULL;
		}
	}
	scen = json_object_get(run, "scenarios");
	json_array_foreach(scen, i, v) {
		if (!json_is_string(v)) {
			error_set(e, id, 0, 0, "malformed run: scenarios[%zu] is not a string", i);
			return NULL;
		}
	}
	return id;
}

/* The "kernels" entry named @name. */
static json_t *kernel_find(json_t *run, const char *id, const char *name,
			   struct kf_error *e)
{
	json_t *kernels = json_object_get(run, "kernels"), *k;
	char *have = xstrdup("");
	size_t i;

	json_array_foreach(kernels, i, k) {
		const char *n = json_string_value(json_object_get(k, "name"));
		char *t;

		if (!n) {
			error_set(e, id, 0, 0, "malformed run: kernels[%zu].name is missing or not a string",
				  i);
			free(have);
			return NULL;
		}
		if (!strcmp(n, name)) {
			free(have);
			return k;
		}
		t = xasprintf("%s%s%s", have, *have ? ", " : "", n);
		free(have);
		have = t;
	}
	error_set(e, id, 0, 0, "kernel \"%s\" is not in run %s (it has: %s)", name, id,
		  *have ? have : "no kernels");
	free(have);
	return NULL;
}

static char *cell_key(const char *scenario, json_int_t smp)
{
	return xasprintf("%" JSON_INTEGER_FORMAT "\n%s", smp, scenario);
}

/* Put @kernel's cells of @run into @map, keyed by cell_key(). */
static int cells_collect(json_t *run, const char *id, const char *kernel, json_t *map,
			 struct kf_error *e)
{
	json_t *cells = json_object_get(run, "cells"), *c;
	size_t i;

	json_array_foreach(cells, i, c) {
		const char *k, *scen;
		json_t *smp;
		char *key;

		if (!json_is_object(c))
			return error_set(e, id, 0, 0, "malformed run: cells[%zu] is not an object", i);
		k = json_string_value(json_object_get(c, "kernel"));
		if (!k)
			return error_set(e, id, 0, 0,
					 "malformed run: cells[%zu].kernel is missing or not a string", i);
		if (strcmp(k, kernel))
			continue;
		scen = json_string_value(json_object_get(c, "scenario"));
		if (!scen || !*scen)
			return error_set(e, id, 0, 0,
					 "malformed run: cells[%zu].scenario is missing or not a string", i);
		smp = json_object_get(c, "smp");
		if (!json_is_integer(smp) || json_integer_value(smp) < 1)
			return error_set(e, id, 0, 0,
					 "malformed run: cells[%zu].smp is missing or not a positive integer", i);
		key = cell_key(scen, json_integer_value(smp));
		if (json_object_get(map, key)) {
			free(key);
			return error_set(e, id, 0, 0,
					 "malformed run: cells[%zu] repeats kernel %s, scenario %s, smp %" JSON_INTEGER_FORMAT,
					 i, kernel, scen, json_integer_value(smp));
		}
		json_object_set(map, key, c);
		free(key);
	}
	return 0;
}

static long scenario_index(json_t *scenarios, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(scenarios, i, v)
		if (!strcmp(json_string_value(v), name))
			return (long)i;
	return -1;
}

static int cmp_key(const void *x, const void *y)
{
	const struct diff_key *p = x, *q = y;
	int c;

	if (p->rank != q->rank)
		return p->rank < q->rank ? -1 : 1;
	c = strcmp(p->scenario, q->scenario);
	if (c)
		return c;
	return p->smp < q->smp ? -1 : p->smp > q->smp;
}

/* Add the keys of @map that @skip does not hold to @keys. */
static void keys_add(struct diff_key *keys, size_t *n, json_t *map, json_t *skip,
		     json_t *scen_a, json_t *scen_b)
{
	const char *k;
	json_t *c;

	json_object_foreach(map, k, c) {
		struct diff_key *d;
		long ia, ib;

		if (skip && json_object_get(skip, k))
			continue;
		d = &keys[(*n)++];
		d->scenario = json_string_value(json_object_get(c, "scenario"));
		d->smp = json_integer_value(json_object_get(c, "smp"));
		ia = scenario_index(scen_a, d->scenario);
		ib = scenario_index(scen_b, d->scenario);
		if (ia >= 0)
			d->rank = ia;
		else if (ib >= 0)
			d->rank = (long)json_array_size(scen_a) + ib;
		else
			d->rank = LONG_MAX;
	}
}

/* One side of a diff cell: the run cell's status, error and outcomes. */
static json_t *side_copy(json_t *cell)
{
	json_t *s = json_object(), *v;

	v = json_object_get(cell, "status");
	if (json_is_string(v))
		json_object_set(s, "status", v);
	v = json_object_get(cell, "error");
	if (json_is_string(v))
		json_object_set(s, "error", v);
	v = json_object_get(cell, "outcomes");
	json_object_set_new(s, "outcomes",
			    json_is_array(v) ? json_deep_copy(v) : json_array());
	return s;
}

static json_t *side_header(json_t *kernel, const char *name, const char *id)
{
	json_t *rel = json_object_get(kernel, "release");
	json_t *h = json_pack("{s:s, s:s}", "kernel", name, "run", id);

	if (json_is_string(rel))
		json_object_set(h, "release", rel);
	return h;
}

json_t *diff_runs(json_t *run_a, const char *ka, json_t *run_b, const char *kb,
		  struct kf_error *e)
{
	json_t *map_a = json_object(), *map_b = json_object();
	json_t *diff = NULL, *cells, *summary, *kent_a, *kent_b, *scen_a, *scen_b;
	struct diff_key *keys = NULL;
	const char *id_a, *id_b;
	size_t nkeys = 0, i;

	id_a = run_check(run_a, "run a", e);
	if (!id_a)
		goto cleanup;
	id_b = run_check(run_b, "run b", e);
	if (!id_b)
		goto cleanup;
	kent_a = kernel_find(run_a, id_a, ka, e);
	if (!kent_a)
		goto cleanup;
	kent_b = kernel_find(run_b, id_b, kb, e);
	if (!kent_b)
		goto cleanup;
	if (cells_collect(run_a, id_a, ka, map_a, e) < 0 ||
	    cells_collect(run_b, id_b, kb, map_b, e) < 0)
		goto cleanup;

	scen_a = json_object_get(run_a, "scenarios");
	scen_b = json_object_get(run_b, "scenarios");
	keys = xcalloc(json_object_size(map_a) + json_object_size(map_b), sizeof(*keys));
	keys_add(keys, &nkeys, map_a, NULL, scen_a, scen_b);
	keys_add(keys, &nkeys, map_b, map_a, scen_a, scen_b);
	qsort(keys, nkeys, sizeof(*keys), cmp_key);

	summary = json_pack("{s:i, s:i, s:i, s:i}", DIFF_SAME, 0, DIFF_CHANGED, 0,
			    DIFF_FLAKY, 0, DIFF_ERROR, 0);
	cells = json_array();
	diff = json_pack("{s:s, s:o, s:o, s:o, s:o}", "schema", DIFF_SCHEMA,
			 "a", side_header(kent_a, ka, id_a),
			 "b", side_header(kent_b, kb, id_b),
			 "summary", summary, "cells", cells);
	for (i = 0; i < nkeys; i++) {
		char *key = cell_key(keys[i].scenario, keys[i].smp), *reason;
		json_t *ca = json_object_get(map_a, key), *cb = json_object_get(map_b, key);
		json_t *fields, *cell;
		const char *verdict;

		free(key);
		verdict = diff_verdict(ca, cb, &fields, &reason);
		cell = json_pack("{s:s, s:I, s:s}", "scenario", keys[i].scenario,
				 "smp", keys[i].smp, "verdict", verdict);
		if (ca)
			json_object_set_new(cell, "a", side_copy(ca));
		if (cb)
			json_object_set_new(cell, "b", side_copy(cb));
		json_object_set_new(cell, "fields", fields);
		if (reason)
			json_object_set_new(cell, "reason", json_string(reason));
		free(reason);
		json_array_append_new(cells, cell);
		json_object_set_new(summary, verdict,
				    json_integer(json_integer_value(json_object_get(summary, verdict)) + 1));
	}

cleanup:
	free(keys);
	json_decref(map_a);
	json_decref(map_b);
	return diff;
}

int diff_count(json_t *diff, const char *verdict)
{
	json_t *v = json_object_get(json_object_get(diff, "summary"), verdict);

	return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}

static const char *verdict_colour(const char *verdict)
{
	if (!strcmp(verdict, DIFF_SAME))
		return "\033[32m";
	if (!strcmp(verdict, DIFF_CHANGED))
		return "\033[33m";
	if (!strcmp(verdict, DIFF_FLAKY))
		return "\033[35m";
	return "\033[31m";
}

/* @side's only observation restricted to @fields, as canonical JSON (owned). */
static char *restricted_obs(json_t *cell, const char *side, json_t *fields)
{
	json_t *outcomes = json_object_get(json_object_get(cell, side), "outcomes");
	json_t *obs = json_object_get(json_array_get(outcomes, 0), "observation");
	json_t *r = json_object(), *f;
	char *s;
	size_t i;

	json_array_foreach(fields, i, f) {
		json_t *v = json_object_get(obs, json_string_value(f));

		if (v && json_string_value(f))
			json_object_set(r, json_string_value(f), v);
	}
	s = canon(r);
	json_decref(r);
	return s;
}

/* The last column of a table row (owned). */
static char *cell_detail(json_t *cell, const char *verdict)
{
	const char *reason = json_string_value(json_object_get(cell, "reason"));
	json_t *fields = json_object_get(cell, "fields");

	if (!strcmp(verdict, DIFF_CHANGED) && json_array_size(fields) > 0) {
		char *a = restricted_obs(cell, "a", fields);
		char *b = restricted_obs(cell, "b", fields);
		char *s = xasprintf("a: %s | b: %s", a, b);

		free(a);
		free(b);
		return s;
	}
	if (!strcmp(verdict, DIFF_FLAKY) && json_array_size(fields) > 0) {
		char *list = xstrdup(""), *t;
		json_t *f;
		size_t i;

		json_array_foreach(fields, i, f) {
			t = xasprintf("%s%s%s", list, i ? "," : "", json_string_value(f));
			free(list);
			list = t;
		}
		t = xasprintf("%s; fields: %s", reason ? reason : "", list);
		free(list);
		return t;
	}
	return xstrdup(reason ? reason : "");
}

static void print_side(FILE *f, const char *label, json_t *side)
{
	const char *rel = json_string_value(json_object_get(side, "release"));

	fprintf(f, "%s: %s", label, json_string_value(json_object_get(side, "kernel")));
	if (rel)
		fprintf(f, " (%s)", rel);
	fprintf(f, ", run %s\n", json_string_value(json_object_get(side, "run")));
}

void diff_print_table(FILE *f, json_t *diff, int colour)
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

		if (!v || !strcmp(v, DIFF_SAME))
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

			if (!v || !strcmp(v, DIFF_SAME))
				continue;
			detail = cell_detail(c, v);
			/* No padding after the verdict when no detail follows. */
			fprintf(f, "%-*s  %*" JSON_INTEGER_FORMAT "  %s%-*s%s%s%s\n",
				ws, s ? s : "?", wn, json_integer_value(json_object_get(c, "smp")),
				colour ? verdict_colour(v) : "", *detail ? wv : 0, v,
				colour ? "\033[0m" : "", *detail ? "  " : "", detail);
			free(detail);
		}
	} else {
		fprintf(f, "no differences\n");
	}

	fprintf(f, "%zu cells, %d same, %d changed, %d flaky, %d error\n",
		json_array_size(cells), diff_count(diff, DIFF_SAME),
		diff_count(diff, DIFF_CHANGED), diff_count(diff, DIFF_FLAKY),
		diff_count(diff, DIFF_ERROR));
}
