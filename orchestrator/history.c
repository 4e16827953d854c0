/* SPDX-License-Identifier: MIT */
/*
 * reports/index.json: one small entry per run, so that "the latest nightly of
 * kernel K" or "the last run that differed" is one file read, not a walk over
 * every run.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diff.h"
#include "history.h"
#include "report.h"
#include "util.h"

static char *index_path(const char *dir)
{
	return xasprintf("%s/" HISTORY_FILE, dir);
}

json_t *history_load(const char *reports_dir, struct kf_error *e)
{
	char *path = index_path(reports_dir);
	json_t *idx = NULL;
	const char *schema;
	json_error_t jerr;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		idx = json_pack("{s:s, s:[]}", "schema", HISTORY_SCHEMA, "runs");
		goto cleanup;
	}
	idx = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!idx) {
		error_set(e, path, jerr.line > 0 ? jerr.line : 0, jerr.column > 0 ? jerr.column : 0,
			  "%s", jerr.text);
		goto cleanup;
	}
	schema = json_string_value(json_object_get(idx, "schema"));
	if (!schema || strcmp(schema, HISTORY_SCHEMA) ||
	    !json_is_array(json_object_get(idx, "runs"))) {
		error_set(e, path, 0, 0, "not a %s index (\"schema\" and a \"runs\" array)",
			  HISTORY_SCHEMA);
		json_decref(idx);
		idx = NULL;
	}
cleanup:
	free(path);
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

static void set_cstr(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
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

/* Whether two diff entries compare the same sides of the same runs. */
static int same_sides(json_t *x, json_t *y)
{
	static const char *const sides[] = { "a", "b" };
	int i;

	for (i = 0; i < 2; i++) {
		json_t *p = json_object_get(x, sides[i]), *q = json_object_get(y, sides[i]);

		if (!json_equal(json_object_get(p, "kernel"), json_object_get(q, "kernel")) ||
		    !json_equal(json_object_get(p, "run"), json_object_get(q, "run")))
			return 0;
	}
	return 1;
}

static int cmp_entry(const void *x, const void *y)
{
	json_t *p = *(json_t *const *)x, *q = *(json_t *const *)y;
	const char *sp = json_string_value(json_object_get(p, "started"));
	const char *sq = json_string_value(json_object_get(q, "started"));
	int c = strcmp(sp ? sp : "", sq ? sq : "");

	if (c)
		return c;
	return strcmp(json_string_value(json_object_get(p, "id")),
		      json_string_value(json_object_get(q, "id")));
}

static void sort_runs(json_t *idx)
{
	json_t *runs = json_object_get(idx, "runs"), *sorted = json_array(), *v;
	size_t n = json_array_size(runs), i;
	json_t **v_arr = xcalloc(n + 1, sizeof(*v_arr));

	json_array_foreach(runs, i, v)
		v_arr[i] = v;
	qsort(v_arr, n, sizeof(*v_arr), cmp_entry);
	for (i = 0; i < n; i++)
		json_array_append(sorted, v_arr[i]);
	free(v_arr);
	json_object_set_new(idx, "runs", sorted);
}

int history_add(const char *reports_dir, json_t *run, json_t *diff, const char *run_dir,
		struct kf_error *e)
{
	char *lock = NULL, *path = NULL, *dir = NULL, *text = NULL;
	json_t *idx = NULL, *runs, *entry, *old = NULL, *r, *diffs;
	const char *id = report_id(run);
	int fd = -1, ret = -1;
	size_t i;

	if (!id || !*id)
		return error_set(e, "history", 0, 0, "the run has no \"id\"");
	if (diff && strcmp(json_string_value(json_object_get(diff, "schema")) ?: "", DIFF_SCHEMA))
		return error_set(e, "history", 0, 0, "the diff is not a %s object", DIFF_SCHEMA);
	if (util_mkdir_p(reports_dir, e) < 0)
		return -1;
	lock = xasprintf("%s/" HISTORY_FILE ".lock", reports_dir);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		error_set(e, lock, 0, 0, "cannot lock: %s", strerror(errno));
		goto cleanup;
	}
	idx = history_load(reports_dir, e);
	if (!idx)
		goto cleanup;
	runs = json_object_get(idx, "runs");
	dir = relative_dir(reports_dir, run_dir ? run_dir : ".");
	entry = run_entry(run, dir);
	json_array_foreach(runs, i, r) {
		const char *rid = json_string_value(json_object_get(r, "id"));

		if (rid && !strcmp(rid, id)) {
			old = json_incref(r);
			json_array_remove(runs, i);
			break;
		}
	}
	if (old && json_is_array(json_object_get(old, "diffs")))
		json_object_set(entry, "diffs", json_object_get(old, "diffs"));
	diffs = json_object_get(entry, "diffs");
	if (diff) {
		json_t *d = diff_entry(diff), *x;

		json_array_foreach(diffs, i, x) {
			if (same_sides(x, d)) {
				json_array_remove(diffs, i);
				break;
			}
		}
		json_array_append_new(diffs, d);
	}
	json_array_append_new(runs, entry);
	sort_runs(idx);

	path = index_path(reports_dir);
	text = json_dumps(idx, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (util_write_atomic(path, text, strlen(text), e) < 0)
		goto cleanup;
	ret = 0;

cleanup:
	if (fd >= 0)
		close(fd);
	json_decref(old);
	json_decref(idx);
	free(text);
	free(path);
	free(dir);
	free(lock);
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

int history_latest(const char *reports_dir, const char *kernel, const char *config,
		   json_t **entry, struct kf_error *e)
{
	json_t *idx = history_load(reports_dir, e), *runs;
	size_t i;

	*entry = NULL;
	if (!idx)
		return -1;
	runs = json_object_get(idx, "runs");
	for (i = json_array_size(runs); i-- > 0;) {
		json_t *r = json_array_get(runs, i);
		const char *c = json_string_value(json_object_get(r, "config"));

		if (config && (!c || strcmp(c, config)))
			continue;
		if (history_has_kernel(r, kernel)) {
			*entry = json_incref(r);
			break;
		}
	}
	json_decref(idx);
	return 0;
}

int history_last_differing(const char *reports_dir, const char *kernel, json_t **entry,
			   struct kf_error *e)
{
	json_t *idx = history_load(reports_dir, e), *runs, *d;
	size_t i, j;

	*entry = NULL;
	if (!idx)
		return -1;
	runs = json_object_get(idx, "runs");
	for (i = json_array_size(runs); i-- > 0 && !*entry;) {
		json_t *r = json_array_get(runs, i);

		json_array_foreach(json_object_get(r, "diffs"), j, d) {
			const char *ka = json_string_value(json_object_get(json_object_get(d, "a"), "kernel"));
			const char *kb = json_string_value(json_object_get(json_object_get(d, "b"), "kernel"));

			if (!json_is_true(json_object_get(d, "differs")))
				continue;
			if (kernel && !(ka && !strcmp(ka, kernel)) && !(kb && !strcmp(kb, kernel)))
				continue;
			*entry = json_incref(r);
			break;
		}
	}
	json_decref(idx);
	return 0;
}

char *history_dir_of(const char *reports_dir, json_t *entry)
{
	const char *dir = json_string_value(json_object_get(entry, "dir"));

	if (!dir)
		return NULL;
	return dir[0] == '/' ? xstrdup(dir) : xasprintf("%s/%s", reports_dir, dir);
}

json_t *history_same_inputs(const char *reports_dir, const char *key, const char *not_id,
			    struct kf_error *e)
{
	json_t *idx = history_load(reports_dir, e), *runs, *out;
	size_t i;

	if (!idx)
		return NULL;
	out = json_array();
	runs = json_object_get(idx, "runs");
	for (i = json_array_size(runs); i-- > 0;) {
		json_t *r = json_array_get(runs, i);
		const char *k = json_string_value(json_object_get(r, "inputs_key"));
		const char *id = json_string_value(json_object_get(r, "id"));

		if (k && !strcmp(k, key) && !(not_id && id && !strcmp(id, not_id)))
			json_array_append(out, r);
	}
	json_decref(idx);
	return out;
}

/* Whether index entry @r has a kernel named exactly @name. */
static int has_kernel_named(json_t *r, const char *name)
{
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(r, "kernels"), i, k)
		if (!strcmp(json_string_value(json_object_get(k, "name")) ?: "", name))
			return 1;
	return 0;
}

int history_previous_night(const char *reports_dir, const char *kernel, const char *id,
			   const char *started, json_t **entry, struct kf_error *e)
{
	json_t *idx = history_load(reports_dir, e), *runs;
	size_t i;

	*entry = NULL;
	if (!idx)
		return -1;
	runs = json_object_get(idx, "runs");
	for (i = json_array_size(runs); i-- > 0;) {
		json_t *r = json_array_get(runs, i);
		const char *rid = json_string_value(json_object_get(r, "id"));
		const char *rs = json_string_value(json_object_get(r, "started"));

		if (!json_is_true(json_object_get(r, "nightly")) || (rid && !strcmp(rid, id)) ||
		    !rs || strcmp(rs, started) > 0 || !has_kernel_named(r, kernel))
			continue;
		*entry = json_incref(r);
		break;
	}
	json_decref(idx);
	return 0;
}
