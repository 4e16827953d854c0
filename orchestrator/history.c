/* SPDX-License-Identifier: MIT */
/*
 * The run index: one small entry per run, so that "the latest nightly of
 * kernel K" or "the last run that differed" is one read, not a walk over
 * every run.json. It is an SQLite database, reports/index.sqlite (sql.c: WAL,
 * a busy timeout, a versioned schema), so that several kfarm processes and
 * kfarmd add to it at once; reports/index.json is its export (kfarm.index/1),
 * rewritten after each addition for the dashboards and scripts that read it.
 * A reports folder that has only an index.json (an older kfarm's) has it
 * imported when the database is created.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "diff.h"
#include "history.h"
#include "report.h"
#include "sql.h"
#include "util.h"

/* The schema version this build writes (PRAGMA user_version of index.sqlite). */
#define HISTORY_DB_VERSION	1
/* A run is recorded once, at its end: better to wait than to lose it. */
#define HISTORY_BUSY_MS		60000

/*
 * The schema's history (see sql.h), append only. A run's entry is stored as
 * run_entry() builds it (its "diffs" empty), so that fields added there pass
 * through; its diffs are rows of their own, in the order they were added.
 */
static const struct sql_migration migrations[] = {
	{ 1,
	  "CREATE TABLE runs ("
	  " id TEXT PRIMARY KEY,"
	  " dir TEXT,"
	  " started TEXT,"			/* ISO 8601 UTC */
	  " finished TEXT,"
	  " config TEXT,"
	  " entry TEXT NOT NULL"		/* JSON object: the index entry */
	  ");"
	  "CREATE INDEX runs_started ON runs (started, id);"
	  "CREATE TABLE diffs ("
	  " run_id TEXT NOT NULL,"
	  " a_kernel TEXT,"
	  " a_run TEXT,"
	  " b_kernel TEXT,"
	  " b_run TEXT,"
	  " summary TEXT,"			/* JSON object */
	  " differs INTEGER NOT NULL,"
	  " UNIQUE (run_id, a_kernel, a_run, b_kernel, b_run)"
	  ");" },
};

/* An open index: SQLite's handle and the file's name for errors. */
struct index {
	sqlite3 *h;
	char *path;
};

/* Close @x (opened by index_open(), or not: its fields NULL). */
static void index_close(struct index *x)
{
	sqlite3_close(x->h);
	free(x->path);
}

/* An empty index, as history_load() returns it. */
static json_t *empty_index(void)
{
	return json_pack("{s:s, s:[]}", "schema", HISTORY_SCHEMA, "runs");
}

/* @v as a JSON string in @o under @key, when not NULL. */
static void set_cstr(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

/* Column @i of @st's current row as text (NULL when SQL NULL). */
static const char *column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* @entry (a run's index entry, its "diffs" left out of the row) as a row of runs. */
static int put_run(struct index *x, json_t *entry, struct kf_error *e)
{
	json_t *row = json_copy(entry);
	char *text;
	sqlite3_stmt *st;
	int ret = -1;

	json_object_set_new(row, "diffs", json_array());
	text = json_dumps(row, JSON_COMPACT);
	json_decref(row);
	if (!text)
		return error_set(e, x->path, 0, 0, "run %s: its entry cannot be written as JSON",
				 json_string_value(json_object_get(entry, "id")));
	st = sql_prepare(x->h, x->path,
			 "INSERT OR REPLACE INTO runs (id, dir, started, finished, config, entry) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "cannot record a run", e);
	if (st) {
		sql_bind_text(st, 1, json_string_value(json_object_get(entry, "id")));
		sql_bind_text(st, 2, json_string_value(json_object_get(entry, "dir")));
		sql_bind_text(st, 3, json_string_value(json_object_get(entry, "started")));
		sql_bind_text(st, 4, json_string_value(json_object_get(entry, "finished")));
		sql_bind_text(st, 5, json_string_value(json_object_get(entry, "config")));
		sql_bind_text(st, 6, text);
		if (sql_step_done(x->h, x->path, st, "cannot record a run", e) >= 0)
			ret = 0;
	}
	free(text);
	return ret;
}

/* Side @side's @key of diff entry @d (NULL when it is not a string). */
static const char *side(json_t *d, const char *side_name, const char *key)
{
	return json_string_value(json_object_get(json_object_get(d, side_name), key));
}

/* Run @id and the sides (kernels and runs) of diff entry @d as parameters 1 to 5 of @st. */
static void bind_sides(sqlite3_stmt *st, const char *id, json_t *d)
{
	sql_bind_text(st, 1, id);
	sql_bind_text(st, 2, side(d, "a", "kernel"));
	sql_bind_text(st, 3, side(d, "a", "run"));
	sql_bind_text(st, 4, side(d, "b", "kernel"));
	sql_bind_text(st, 5, side(d, "b", "run"));
}

/*
 * Diff entry @d of run @id as a row of diffs, in place of one with the same
 * sides, and so after the run's other diffs.
 */
static int put_diff(struct index *x, const char *id, json_t *d, struct kf_error *e)
{
	json_t *summary = json_object_get(d, "summary");
	char *text = summary ? json_dumps(summary, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	sqlite3_stmt *st;
	int ret = -1;

	/* "IS", not "=": sides that are not strings (NULL) still match. */
	st = sql_prepare(x->h, x->path,
			 "DELETE FROM diffs WHERE run_id = ?1 AND a_kernel IS ?2 AND a_run IS ?3 "
			 "AND b_kernel IS ?4 AND b_run IS ?5", "cannot replace a diff", e);
	if (!st)
		goto cleanup;
	bind_sides(st, id, d);
	if (sql_step_done(x->h, x->path, st, "cannot replace a diff", e) < 0)
		goto cleanup;
	st = sql_prepare(x->h, x->path,
			 "INSERT INTO diffs (run_id, a_kernel, a_run, b_kernel, b_run, summary, "
			 "differs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", "cannot record a diff", e);
	if (!st)
		goto cleanup;
	bind_sides(st, id, d);
	sql_bind_text(st, 6, text);
	sqlite3_bind_int(st, 7, json_is_true(json_object_get(d, "differs")));
	if (sql_step_done(x->h, x->path, st, "cannot record a diff", e) >= 0)
		ret = 0;
cleanup:
	free(text);
	return ret;
}

/* A diffs row (run_id first) as a diff entry, the shape diff_entry() builds. */
static json_t *diff_row(sqlite3_stmt *st)
{
	json_t *d = json_object(), *a = json_object(), *b = json_object(), *summary = NULL;
	const char *text = column_text(st, 5);

	set_cstr(a, "kernel", column_text(st, 1));
	set_cstr(a, "run", column_text(st, 2));
	set_cstr(b, "kernel", column_text(st, 3));
	set_cstr(b, "run", column_text(st, 4));
	json_object_set_new(d, "a", a);
	json_object_set_new(d, "b", b);
	if (text)
		summary = json_loads(text, JSON_DECODE_ANY, NULL);
	if (summary)
		json_object_set_new(d, "summary", summary);
	json_object_set_new(d, "differs", json_boolean(sqlite3_column_int(st, 6)));
	return d;
}

/*
 * The index as history_load() returns it, read in the caller's transaction:
 * the runs by start time (then id), each with its diffs.
 */
static json_t *read_index(struct index *x, struct kf_error *e)
{
	json_t *idx = empty_index(), *runs = json_object_get(idx, "runs");
	json_t *by_id = json_object(), *entry;
	sqlite3_stmt *st;
	int rc;

	st = sql_prepare(x->h, x->path, "SELECT id, entry FROM runs "
			 "ORDER BY coalesce(started, ''), id", "cannot read the runs", e);
	if (!st)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = column_text(st, 0);
		json_error_t jerr;

		entry = json_loads(column_text(st, 1) ?: "", 0, &jerr);
		if (!json_is_object(entry)) {
			error_set(e, x->path, 0, 0, "run %s: its entry is not a JSON object%s%s", id,
				  entry ? "" : ": ", entry ? "" : jerr.text);
			json_decref(entry);
			goto fail;
		}
		json_object_set_new(entry, "diffs", json_array());
		json_object_set(by_id, id, entry);
		json_array_append_new(runs, entry);
	}
	if (rc != SQLITE_DONE) {
		sql_fail(x->h, x->path, "cannot read the runs", e);
		goto fail;
	}
	sqlite3_finalize(st);
	st = sql_prepare(x->h, x->path, "SELECT run_id, a_kernel, a_run, b_kernel, b_run, "
			 "summary, differs FROM diffs ORDER BY rowid", "cannot read the diffs", e);
	if (!st)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		entry = json_object_get(by_id, column_text(st, 0) ?: "");
		if (entry)
			json_array_append_new(json_object_get(entry, "diffs"), diff_row(st));
	}
	if (rc != SQLITE_DONE) {
		sql_fail(x->h, x->path, "cannot read the diffs", e);
		goto fail;
	}
	sqlite3_finalize(st);
	json_decref(by_id);
	return idx;
fail:
	sqlite3_finalize(st);
	json_decref(by_id);
	json_decref(idx);
	return NULL;
}

/*
 * @path (an index.json) read and checked: a kfarm.index/1 object, or NULL and
 * @e naming the file (and the line and column of a syntax error).
 */
static json_t *load_json_index(const char *path, struct kf_error *e)
{
	const char *schema;
	json_error_t jerr;
	json_t *idx;

	idx = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!idx) {
		error_set(e, path, jerr.line > 0 ? jerr.line : 0, jerr.column > 0 ? jerr.column : 0,
			  "%s", jerr.text);
		return NULL;
	}
	schema = json_string_value(json_object_get(idx, "schema"));
	if (!schema || strcmp(schema, HISTORY_SCHEMA) ||
	    !json_is_array(json_object_get(idx, "runs"))) {
		error_set(e, path, 0, 0, "not a %s index (\"schema\" and a \"runs\" array)",
			  HISTORY_SCHEMA);
		json_decref(idx);
		return NULL;
	}
	return idx;
}

/*
 * sql_step_fn for index.sqlite: creating it (version 1) imports @arg's (the
 * reports folder's) index.json when there is one, in the same transaction,
 * so that it happens once and whole.
 */
static int import_json(sqlite3 *h, const char *path, int to, void *arg, struct kf_error *e)
{
	struct index x = { .h = h, .path = xstrdup(path) };
	char *jpath = xasprintf("%s/" HISTORY_FILE, (const char *)arg);
	json_t *idx = NULL, *r, *d, *diffs;
	size_t i, j;
	int ret = -1;

	if (to != 1 || (access(jpath, F_OK) < 0 && errno == ENOENT)) {
		ret = 0;
		goto cleanup;
	}
	idx = load_json_index(jpath, e);
	if (!idx)
		goto cleanup;
	json_array_foreach(json_object_get(idx, "runs"), i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));

		if (!json_is_object(r) || !id || !*id) {
			error_set(e, jpath, 0, 0, "runs[%zu] is not an entry with an \"id\"", i);
			goto cleanup;
		}
		diffs = json_object_get(r, "diffs");
		if (diffs && !json_is_array(diffs)) {
			error_set(e, jpath, 0, 0, "run %s: \"diffs\" is not an array", id);
			goto cleanup;
		}
		if (put_run(&x, r, e) < 0)
			goto cleanup;
		json_array_foreach(diffs, j, d) {
			if (!json_is_object(d)) {
				error_set(e, jpath, 0, 0, "run %s: diffs[%zu] is not an object", id, j);
				goto cleanup;
			}
			if (put_diff(&x, id, d, e) < 0)
				goto cleanup;
		}
	}
	ret = 0;
cleanup:
	json_decref(idx);
	free(jpath);
	free(x.path);
	return ret;
}

/*
 * Open @reports_dir's index into @x (importing index.json when it is new).
 * Unless @create, a folder with neither index.sqlite nor index.json is left
 * alone: returns 1 and @x unset. 0, or -1 and @e.
 */
static int index_open(const char *reports_dir, int create, struct index *x,
		      struct kf_error *e)
{
	char *json = NULL;

	x->h = NULL;
	x->path = xasprintf("%s/" HISTORY_DB, reports_dir);
	if (!create && access(x->path, F_OK) < 0 && errno == ENOENT) {
		json = xasprintf("%s/" HISTORY_FILE, reports_dir);
		if (access(json, F_OK) < 0 && errno == ENOENT) {
			free(json);
			free(x->path);
			x->path = NULL;
			return 1;
		}
		free(json);
	}
	if (sql_open(&x->h, x->path, migrations, sizeof(migrations) / sizeof(migrations[0]),
		     HISTORY_DB_VERSION, HISTORY_BUSY_MS, import_json, (void *)reports_dir,
		     e) < 0) {
		free(x->path);
		x->path = NULL;
		return -1;
	}
	return 0;
}

json_t *history_load(const char *reports_dir, struct kf_error *e)
{
	struct index x;
	json_t *idx = NULL;
	int r = index_open(reports_dir, 0, &x, e);

	if (r != 0)
		return r > 0 ? empty_index() : NULL;
	/* One read transaction: the runs and their diffs of one moment. */
	if (sql_exec(x.h, x.path, "BEGIN", "cannot start a transaction", e) == 0) {
		idx = read_index(&x, e);
		sql_rollback(x.h);
	}
	index_close(&x);
	return idx;
}

/* @run_dir relative to @reports_dir when it lies inside it. */
static char *relative_dir(const char *reports_dir, const char *run_dir)
{
	char *rd = realpath(reports_dir, NULL), *rr = realpath(run_dir, NULL), *out;
	size_t n;

	if (rd && rr && (n = strlen(rd), !strncmp(rr, rd, n)) && rr[n] == '/')
		out = xstrdup(rr + n + 1);
	else
		out = xstrdup(rr ? rr : run_dir);
	free(rd);
	free(rr);
	return out;
}

/* @run's entry in index.json (its "diffs" still empty), from report.c's readers. */
static json_t *run_entry(json_t *run, const char *dir)
{
	json_t *entry = json_object(), *kernels = json_array();
	struct report_run_info ri;
	const char *udir;
	size_t i;

	report_run_info(run, &ri);
	set_cstr(entry, "id", ri.id);
	json_object_set_new(entry, "dir", json_string(dir));
	set_cstr(entry, "started", ri.started);
	set_cstr(entry, "finished", ri.finished);
	set_cstr(entry, "config", ri.config);
	set_cstr(entry, "inputs_key", report_inputs_key(run));
	if (report_is_nightly(run))
		json_object_set_new(entry, "nightly", json_true());
	if (report_unchanged_from(run, &udir))
		json_object_set_new(entry, "unchanged", json_pack("{s:s, s:s?}", "run",
				    report_unchanged_from(run, NULL), "dir", udir));
	for (i = 0; i < report_nkernels(run); i++) {
		struct report_kernel_info ki;
		json_t *o = json_object();

		report_kernel_info(report_kernel_at(run, i), &ki);
		set_cstr(o, "name", ki.name);
		set_cstr(o, "source", ki.source);
		set_cstr(o, "release", ki.release);
		set_cstr(o, "sha256", ki.sha256);
		set_cstr(o, "inputs_key", ki.inputs_key);
		json_array_append_new(kernels, o);
	}
	json_object_set_new(entry, "kernels", kernels);
	json_object_set_new(entry, "cells", json_pack("{s:I, s:o}", "total",
				(json_int_t)report_ncells(run), "status", report_status_counts(run)));
	json_object_set_new(entry, "diffs", json_array());
	return entry;
}

static json_t *diff_entry(json_t *diff)
{
	json_t *a = json_object_get(diff, "a"), *b = json_object_get(diff, "b");
	json_t *d = json_pack("{s:{s:O, s:O}, s:{s:O, s:O}, s:O, s:b}",
			      "a", "kernel", json_object_get(a, "kernel"), "run", json_object_get(a, "run"),
			      "b", "kernel", json_object_get(b, "kernel"), "run", json_object_get(b, "run"),
			      "summary", json_object_get(diff, "summary"),
			      "differs", diff_count_differs(diff) > 0);
	return d;
}

/* Write @x's index to @reports_dir/index.json (the export), in the caller's transaction. */
static int export_json(struct index *x, const char *reports_dir, struct kf_error *e)
{
	json_t *idx = read_index(x, e);
	char *path, *text;
	int ret;

	if (!idx)
		return -1;
	path = xasprintf("%s/" HISTORY_FILE, reports_dir);
	text = json_dumps(idx, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	ret = util_write_atomic(path, text, strlen(text), e);
	free(text);
	free(path);
	json_decref(idx);
	return ret;
}

int history_add(const char *reports_dir, json_t *run, json_t *diff, const char *run_dir,
		struct kf_error *e)
{
	const char *id = report_id(run);
	struct index x = { 0 };
	json_t *entry = NULL, *d = NULL;
	char *dir = NULL;
	int ret = -1;

	if (!id || !*id)
		return error_set(e, "history", 0, 0, "the run has no \"id\"");
	if (diff && strcmp(json_string_value(json_object_get(diff, "schema")) ?: "", DIFF_SCHEMA))
		return error_set(e, "history", 0, 0, "the diff is not a %s object", DIFF_SCHEMA);
	if (util_mkdir_p(reports_dir, e) < 0 || index_open(reports_dir, 1, &x, e) < 0)
		return -1;
	dir = relative_dir(reports_dir, run_dir ? run_dir : ".");
	entry = run_entry(run, dir);
	if (diff)
		d = diff_entry(diff);
	/*
	 * The export is written inside the write transaction: the exports of
	 * concurrent additions follow each other in the order of their commits.
	 */
	if (sql_begin(x.h, x.path, e) < 0)
		goto cleanup;
	if (put_run(&x, entry, e) < 0 || (d && put_diff(&x, id, d, e) < 0) ||
	    export_json(&x, reports_dir, e) < 0) {
		sql_rollback(x.h);
		goto cleanup;
	}
	if (sql_commit(x.h, x.path, e) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	json_decref(entry);
	json_decref(d);
	free(dir);
	index_close(&x);
	return ret;
}

int history_has_kernel(json_t *entry, const char *kernel)
{
	static const char *const keys[] = { "name", "source", "release" };
	json_t *k;
	size_t i, j;

	if (!kernel)
		return 1;
	json_array_foreach(json_object_get(entry, "kernels"), i, k)
		for (j = 0; j < 3; j++) {
			const char *v = json_string_value(json_object_get(k, keys[j]));

			if (v && !strcmp(v, kernel))
				return 1;
		}
	return 0;
}

/* What an index entry must be: one of the lookups below, and its arguments. */
struct want {
	int (*match)(json_t *r, const struct want *w);
	const char *kernel, *config, *id, *started, *key;
};

/*
 * The entries of @reports_dir's index that @w matches, newest first: into
 * @out (a new array; NULL: only the first into *@first). 0, or -1 and @e.
 */
static int newest(const char *reports_dir, const struct want *w, json_t *out, json_t **first,
		  struct kf_error *e)
{
	json_t *idx = history_load(reports_dir, e), *runs;
	size_t i;

	if (first)
		*first = NULL;
	if (!idx)
		return -1;
	runs = json_object_get(idx, "runs");
	for (i = json_array_size(runs); i-- > 0;) {
		json_t *r = json_array_get(runs, i);

		if (!w->match(r, w))
			continue;
		if (!out) {
			*first = json_incref(r);
			break;
		}
		json_array_append(out, r);
	}
	json_decref(idx);
	return 0;
}

static const char *str_at(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int latest_match(json_t *r, const struct want *w)
{
	const char *c = str_at(r, "config");

	return (!w->config || (c && !strcmp(c, w->config))) && history_has_kernel(r, w->kernel);
}

int history_latest(const char *reports_dir, const char *kernel, const char *config,
		   json_t **entry, struct kf_error *e)
{
	struct want w = { latest_match, .kernel = kernel, .config = config };

	return newest(reports_dir, &w, NULL, entry, e);
}

static int differing_match(json_t *r, const struct want *w)
{
	json_t *d;
	size_t j;

	json_array_foreach(json_object_get(r, "diffs"), j, d) {
		const char *ka = str_at(json_object_get(d, "a"), "kernel");
		const char *kb = str_at(json_object_get(d, "b"), "kernel");

		if (json_is_true(json_object_get(d, "differs")) &&
		    (!w->kernel || (ka && !strcmp(ka, w->kernel)) || (kb && !strcmp(kb, w->kernel))))
			return 1;
	}
	return 0;
}

int history_last_differing(const char *reports_dir, const char *kernel, json_t **entry,
			   struct kf_error *e)
{
	struct want w = { differing_match, .kernel = kernel };

	return newest(reports_dir, &w, NULL, entry, e);
}

const char *history_entry_dir(json_t *entry)
{
	return str_at(entry, "dir");
}

char *history_dir_of(const char *reports_dir, json_t *entry)
{
	const char *dir = str_at(entry, "dir");

	if (!dir)
		return NULL;
	return dir[0] == '/' ? xstrdup(dir) : xasprintf("%s/%s", reports_dir, dir);
}

/* Whether entry @r is not run @w->id (NULL: any run). */
static int other_run(json_t *r, const struct want *w)
{
	const char *id = str_at(r, "id");

	return !(w->id && id && !strcmp(id, w->id));
}

static int inputs_match(json_t *r, const struct want *w)
{
	const char *k = str_at(r, "inputs_key");

	return k && !strcmp(k, w->key) && other_run(r, w);
}

/* Every entry @w matches, newest first: a new array, or NULL with @e. */
static json_t *all_newest(const char *reports_dir, const struct want *w, struct kf_error *e)
{
	json_t *out = json_array();

	if (newest(reports_dir, w, out, NULL, e) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *history_same_inputs(const char *reports_dir, const char *key, const char *not_id,
			    struct kf_error *e)
{
	struct want w = { inputs_match, .key = key, .id = not_id };

	return all_newest(reports_dir, &w, e);
}

const char *history_side_name(json_t *entry, const char *key)
{
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(entry, "kernels"), i, k)
		if (!strcmp(str_at(k, "inputs_key") ?: "", key))
			return str_at(k, "name");
	return NULL;
}

static int side_match(json_t *r, const struct want *w)
{
	return history_side_name(r, w->key) && other_run(r, w) &&
	       json_is_string(json_object_get(r, "finished"));
}

json_t *history_same_side(const char *reports_dir, const char *key, const char *not_id,
			  struct kf_error *e)
{
	struct want w = { side_match, .key = key, .id = not_id };

	return all_newest(reports_dir, &w, e);
}

/* A nightly run before @w->started, not @w->id, with a kernel named exactly @w->kernel. */
static int night_match(json_t *r, const struct want *w)
{
	const char *rs = str_at(r, "started");
	json_t *k;
	size_t i;

	if (!json_is_true(json_object_get(r, "nightly")) || !other_run(r, w) || !rs ||
	    strcmp(rs, w->started) > 0)
		return 0;
	json_array_foreach(json_object_get(r, "kernels"), i, k)
		if (!strcmp(str_at(k, "name") ?: "", w->kernel))
			return 1;
	return 0;
}

int history_previous_night(const char *reports_dir, const char *kernel, const char *id,
			   const char *started, json_t **entry, struct kf_error *e)
{
	struct want w = { night_match, .kernel = kernel, .id = id, .started = started };

	return newest(reports_dir, &w, NULL, entry, e);
}
