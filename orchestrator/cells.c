/* SPDX-License-Identifier: MIT */
/*
 * Cell ids (a scenario id, optionally with axis values in brackets), the
 * bracket-aware splitting of lists of them, and the selection of the cells a
 * run runs, checked against the guest runner's catalog.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "run.h"
#include "util.h"

char **cells_split(const char *list, size_t *n)
{
	char **out = xcalloc(strlen(list) + 1, sizeof(char *));
	const char *p = list;

	*n = 0;
	while (*p) {
		size_t len = cellid_list_next(p), a = 0, b = len;

		while (a < b && isspace((unsigned char)p[a]))
			a++;
		while (b > a && isspace((unsigned char)p[b - 1]))
			b--;
		if (b > a)
			out[(*n)++] = strndup(p + a, b - a);
		p += len;
		if (*p == ',')
			p++;
	}
	return out;
}

int cells_list_check(const char *list, const char *what, struct kf_error *e)
{
	json_t *seen = json_object();	/* entry -> its place */
	const char *p = list;
	size_t i;
	int ret = 0;

	for (i = 1; ret == 0; i++) {
		size_t len = cellid_list_next(p), a = 0, b = len;
		char *entry;
		json_t *first;

		while (a < b && isspace((unsigned char)p[a]))
			a++;
		while (b > a && isspace((unsigned char)p[b - 1]))
			b--;
		if (b == a) {
			ret = error_set(e, what, 0, 0, "'%s': entry %zu is empty (a ',' too many?): "
					"name each cell once, ','-separated", list, i);
			break;
		}
		entry = strndup(p + a, b - a);
		first = json_object_get(seen, entry);
		if (first)
			ret = error_set(e, what, 0, 0, "'%s' is named twice (entries %" JSON_INTEGER_FORMAT
					" and %zu): name each cell once", entry,
					json_integer_value(first), i);
		json_object_set_new(seen, entry, json_integer((json_int_t)i));
		free(entry);
		if (!p[len])
			break;
		p += len + 1;
	}
	json_decref(seen);
	return ret;
}

void cells_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

size_t cells_base_len(const char *id)
{
	return strcspn(id, "[");
}

int cells_is_star(const char *id)
{
	size_t b = cells_base_len(id);

	return !strcmp(id + b, "[*]");
}

int cells_is_variant(const char *id)
{
	size_t b = cells_base_len(id);

	return id[b] == '[' && strcmp(id + b, "[]") && strcmp(id + b, "[*]");
}

static int base_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!(isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '+' || ch == '-'))
			return 0;
	}
	return 1;
}

int cells_id_ok(const char *id, int allow_star)
{
	size_t n = strlen(id), b = cells_base_len(id);
	const char *p, *end;

	if (n > CELLS_ID_MAX || !base_ok(id, b))
		return 0;
	if (b == n)
		return 1;
	if (id[n - 1] != ']')
		return 0;
	if (!strcmp(id + b, "[*]"))
		return allow_star;
	if (!strcmp(id + b, "[]"))
		return 1;
	/* axis=value{,axis=value} between the brackets */
	p = id + b + 1;
	end = id + n - 1;
	while (p < end) {
		const char *a = p;

		while (p < end && (islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
				   *p == '_'))
			p++;
		if (p == a || p >= end || *p != '=')
			return 0;
		a = ++p;
		while (p < end && (isalnum((unsigned char)*p) || *p == '-'))
			p++;
		if (p == a)
			return 0;
		if (p < end) {
			if (*p != ',' || p + 1 >= end)
				return 0;
			p++;
		}
	}
	return 1;
}

size_t cells_reps_sep(const char *p, size_t n)
{
	const char *br = memchr(p, ']', n);
	size_t k = br ? (size_t)(br - p) : 0;

	for (; k < n; k++)
		if (p[k] == '=' || p[k] == ':')
			return k;
	return n;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

char *cells_key(const char *id)
{
	size_t b = cells_base_len(id), n = strlen(id), k, i, len;
	char *inner, **parts, *out, *o;

	if (id[b] != '[' || n < b + 2 || id[n - 1] != ']')
		return strndup(id, b);
	inner = strndup(id + b + 1, n - b - 2);
	parts = cells_split(inner, &k);
	qsort(parts, k, sizeof(*parts), cmp_str);
	len = b + 3;
	for (i = 0; i < k; i++)
		len += strlen(parts[i]) + 1;
	out = o = xmalloc(len);
	memcpy(o, id, b);
	o += b;
	if (k) {
		*o++ = '[';
		for (i = 0; i < k; i++) {
			if (i)
				*o++ = ',';
			o = stpcpy(o, parts[i]);
		}
		*o++ = ']';
	}
	*o = '\0';
	cells_free(parts, k);
	free(inner);
	return out;
}

/* ---------------------------------------------------------------- selection */

struct picker {
	struct cells_sel *s;
	json_t *seen;		/* id -> true */
	json_t *full;		/* id -> catalog entry of the full space */
};

static void pick(struct picker *p, const char *id)
{
	json_t *ent = json_object_get(p->full, id);
	struct cells_sel *s = p->s;

	if (json_object_get(p->seen, id))
		return;
	json_object_set_new(p->seen, id, json_true());
	s->ids = xrealloc(s->ids, (s->n + 1) * sizeof(*s->ids));
	s->racy = xrealloc(s->racy, (s->n + 1) * sizeof(*s->racy));
	s->variant = xrealloc(s->variant, (s->n + 1) * sizeof(*s->variant));
	s->reps_max = xrealloc(s->reps_max, (s->n + 1) * sizeof(*s->reps_max));
	s->ids[s->n] = xstrdup(id);
	s->racy[s->n] = 0;
	if (ent && !strcmp(json_string_value(json_object_get(ent, "kind")), "racy"))
		s->racy[s->n] = (int)json_integer_value(json_object_get(ent, "reps_mult"));
	s->variant[s->n] = ent ? json_is_true(json_object_get(ent, "variant")) :
			   cells_is_variant(id);
	s->reps_max[s->n] = (int)json_integer_value(json_object_get(ent, "reps_max"));
	s->n++;
}

static const char *entry_id(json_t *ent)
{
	return json_string_value(json_object_get(ent, "id"));
}

/* The id that @name stands for in the full catalog (borrowed), or NULL. */
static const char *canonical(json_t *full, json_t *keys, const char *name)
{
	char *key;
	const char *id;

	if (json_object_get(full, name))
		return json_string_value(json_object_get(json_object_get(full, name), "id"));
	key = cells_key(name);
	id = json_string_value(json_object_get(keys, key));
	free(key);
	return id;
}

/*
 * Records that an entry of the list, @name, selects @key (a cell id in the
 * guest's order, "ID[*]" or "all"); an error when another entry did already.
 */
static int named_once(json_t *named, const char *key, const char *name, const char *where,
		      struct kf_error *e)
{
	const char *prev = json_string_value(json_object_get(named, key));

	if (prev && !strcmp(prev, name))
		return error_set(e, where, 0, 0, "'%s' is named twice: name each cell once", name);
	if (prev)
		return error_set(e, where, 0, 0, "'%s' and '%s' are the same cell (%s): name it once",
				 prev, name, key);
	json_object_set_new(named, key, json_string(name));
	return 0;
}

/* Why @name (a well-formed cell id) is not in the catalog. */
static int unknown_cell(const char *where, json_t *bases, const char *name, struct kf_error *e)
{
	size_t b = cells_base_len(name);
	char *base = strndup(name, b);
	int r;

	if (!json_object_get(bases, base))
		r = error_set(e, where, 0, 0, "unknown scenario '%s' (see 'kfarm scenarios')", base);
	else
		r = error_set(e, where, 0, 0,
			      "unknown cell '%s': scenario '%s' has no such combination of axis "
			      "values (see 'kfarm scenarios --expand' for its axes, their values and "
			      "the impossible combinations, 'kfarm scenarios --space full' for its cells)",
			      name, base);
	free(base);
	return r;
}

int cells_select(const struct config *cfg, const char *list, struct cells_sel *s,
		 struct kf_error *e)
{
	json_t *full_list = NULL, *full = json_object(), *keys = json_object();
	json_t *bases = json_object(), *named = json_object(), *ent;
	struct picker p = { s, json_object(), full };
	const char *where = list ? "--scenarios" : cfg->source;
	const char *space = cfg->space ? cfg->space : "sample";
	char **entries = NULL;
	size_t n = 0, i, j;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	full_list = run_list_scenarios("full", e);
	if (!full_list)
		goto cleanup;
	s->catalog = strcmp(space, "full") ? run_list_scenarios(space, e) : json_incref(full_list);
	if (!s->catalog)
		goto cleanup;
	json_array_foreach(full_list, i, ent) {
		char *key = cells_key(entry_id(ent));

		json_object_set(full, entry_id(ent), ent);
		json_object_set_new(keys, key, json_string(entry_id(ent)));
		free(key);
	}
	/* base scenario -> its cells in the run's space */
	json_array_foreach(s->catalog, i, ent) {
		const char *sc = json_string_value(json_object_get(ent, "scenario"));
		json_t *a = json_object_get(bases, sc);

		if (!a) {
			a = json_array();
			json_object_set_new(bases, sc, a);
		}
		json_array_append(a, ent);
	}

	if (list) {
		if (cells_list_check(list, where, e) < 0)
			goto cleanup;
		entries = cells_split(list, &n);
		if (n == 0) {
			error_set(e, where, 0, 0, "no scenario named");
			goto cleanup;
		}
	} else if (cfg->scenarios) {
		entries = xcalloc(cfg->nscenarios + 1, sizeof(char *));
		for (i = 0; i < cfg->nscenarios; i++)
			entries[n++] = xstrdup(cfg->scenarios[i]);
	} else {
		entries = xcalloc(1, sizeof(char *));
		entries[n++] = xstrdup("all");
	}
	for (i = 0; i < n; i++) {
		const char *name = entries[i];

		if (!strcmp(name, "all")) {
			if (named_once(named, "all", name, where, e) < 0)
				goto cleanup;
			json_array_foreach(s->catalog, j, ent)
				if (strcmp(json_string_value(json_object_get(ent, "group")), "selftest"))
					pick(&p, entry_id(ent));
		} else if (!cells_id_ok(name, 1)) {
			error_set(e, where, 0, 0, "'%s' is not a cell: expected all, ID, ID[*] or "
				  "ID[axis=value,...]", name);
			goto cleanup;
		} else if (cells_is_star(name)) {
			char *base = strndup(name, cells_base_len(name));
			json_t *cells = json_object_get(bases, base);

			free(base);
			if (!cells) {
				unknown_cell(where, bases, name, e);
				goto cleanup;
			}
			if (named_once(named, name, name, where, e) < 0)
				goto cleanup;
			json_array_foreach(cells, j, ent)
				pick(&p, entry_id(ent));
		} else {
			const char *id = canonical(full, keys, name);

			if (!id) {
				unknown_cell(where, bases, name, e);
				goto cleanup;
			}
			if (named_once(named, id, name, where, e) < 0)
				goto cleanup;
			pick(&p, id);
		}
	}
	s->all = n == 1 && !strcmp(entries[0], "all");
	for (i = 0; i < cfg->nscenario_reps; i++) {
		const char *id = cfg->scenario_reps[i].id;
		const char *c = canonical(full, keys, id);

		if (!c) {
			unknown_cell("scenario_reps", bases, id, e);
			goto cleanup;
		}
		if (strcmp(c, id)) {
			error_set(e, "scenario_reps", 0, 0, "'%s': write it as '%s' (the axes in the "
				  "guest's order)", id, c);
			goto cleanup;
		}
	}
	ret = 0;
cleanup:
	if (ret < 0)
		cells_sel_release(s);
	cells_free(entries, n);
	json_decref(full_list);
	json_decref(full);
	json_decref(keys);
	json_decref(bases);
	json_decref(named);
	json_decref(p.seen);
	return ret;
}

void cells_sel_release(struct cells_sel *s)
{
	cells_free(s->ids, s->n);
	free(s->racy);
	free(s->variant);
	free(s->reps_max);
	json_decref(s->catalog);
	memset(s, 0, sizeof(*s));
}
