/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diff.h"
#include "report.h"
#include "history.h"
#include "util.h"

#define DIFFDATA KFARM_TOP "/orchestrator/tests/data/diff/"
#define DATA KFARM_TOP "/orchestrator/tests/data/history/"

static char tmp[64];

static void setup(void)
{
	strcpy(tmp, "/tmp/kfarm-history-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmp);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static json_t *load(const char *path)
{
	struct kf_error e;
	json_t *run = report_load(path, &e);

	ck_assert_msg(run != NULL, "%s: %s", path, e.text);
	return run;
}

/* Run b's fixture as another run: @id, started at @started, with config @config. */
static json_t *run_b_as(const char *id, const char *started, const char *config)
{
	json_t *r = load(DIFFDATA "run-b.json");

	json_object_set_new(r, "id", json_string(id));
	json_object_set_new(r, "started", json_string(started));
	json_object_set_new(r, "config", json_string(config));
	return r;
}

static void add(json_t *run, json_t *diff)
{
	const char *id = json_string_value(json_object_get(run, "id"));
	char *dir = xasprintf("%s/%s", tmp, id);
	struct kf_error e;

	ck_assert_int_eq(util_mkdir_p(dir, &e), 0);
	ck_assert_msg(history_add(tmp, run, diff, dir, &e) == 0, "%s", e.text);
	free(dir);
}

static const char *entry_id(json_t *entry)
{
	return json_string_value(json_object_get(entry, "id"));
}

/* An index of four runs: two nightlies of k-next, a compare that differs, one ad hoc. */
static void fill(void)
{
	json_t *ra = load(DIFFDATA "run-a.json"), *d;
	json_t *n1 = run_b_as("n1", "2026-11-25T02:00:00Z", "configs/nightly.json");
	json_t *n2 = run_b_as("n2", "2026-11-27T02:00:00Z", "configs/nightly.json");
	json_t *adhoc = run_b_as("adhoc", "2026-11-28T09:00:00Z", "configs/next.json");
	struct kf_error e;

	/* Added out of order: the index is kept by start time. */
	add(n2, NULL);
	d = diff_runs(ra, "k-old", ra, "k-new", &e);
	ck_assert_ptr_nonnull(d);
	add(ra, d);
	json_decref(d);
	add(n1, NULL);
	d = diff_runs(adhoc, "k-next", adhoc, "k-next", &e);
	add(adhoc, d);
	json_decref(d);
	json_decref(ra);
	json_decref(n1);
	json_decref(n2);
	json_decref(adhoc);
}

START_TEST(test_golden_index)
{
	char *path = xasprintf("%s/index.json", tmp), *want = xstrdup(DATA "expected-index.json");
	json_error_t jerr;
	json_t *got, *exp;
	const char *u = getenv("KFARM_UPDATE_GOLDEN");

	fill();
	got = json_load_file(path, 0, &jerr);
	ck_assert_msg(got != NULL, "%s", jerr.text);
	if (u && *u && strcmp(u, "0"))
		ck_assert_int_eq(json_dump_file(got, want, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
	exp = json_load_file(want, 0, &jerr);
	ck_assert_msg(exp != NULL, "%s", jerr.text);
	ck_assert_msg(json_equal(got, exp), "%s differs from %s", path, want);
	json_decref(got);
	json_decref(exp);
	free(path);
	free(want);
}
END_TEST

START_TEST(test_queries)
{
	struct kf_error e;
	json_t *r;

	fill();
	ck_assert_int_eq(history_latest(tmp, "k-next", NULL, &r, &e), 0);
	ck_assert_str_eq(entry_id(r), "adhoc");
	json_decref(r);
	/* The latest nightly of k-next, by name, release or source. */
	ck_assert_int_eq(history_latest(tmp, "k-next", "configs/nightly.json", &r, &e), 0);
	ck_assert_str_eq(entry_id(r), "n2");
	json_decref(r);
	ck_assert_int_eq(history_latest(tmp, "6.19.0-rc1-next", "configs/nightly.json", &r, &e), 0);
	ck_assert_str_eq(entry_id(r), "n2");
	json_decref(r);
	ck_assert_int_eq(history_latest(tmp, "deb:linux-image-amd64", NULL, &r, &e), 0);
	ck_assert_str_eq(entry_id(r), "20261126T233000Z-aaaa");
	json_decref(r);
	ck_assert_int_eq(history_latest(tmp, "k-none", NULL, &r, &e), 0);
	ck_assert_ptr_null(r);

	/* The last run that differed: adhoc's A/A diff does not. */
	ck_assert_int_eq(history_last_differing(tmp, NULL, &r, &e), 0);
	ck_assert_str_eq(entry_id(r), "20261126T233000Z-aaaa");
	ck_assert_int_eq(json_array_size(json_object_get(r, "diffs")), 1);
	json_decref(r);
	ck_assert_int_eq(history_last_differing(tmp, "k-new", &r, &e), 0);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	ck_assert_int_eq(history_last_differing(tmp, "k-next", &r, &e), 0);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_readd_keeps_diffs)
{
	json_t *ra = load(DIFFDATA "run-a.json"), *r, *d;
	struct kf_error e;

	fill();
	/* The run rewritten (finished later) without a diff keeps its diff... */
	json_object_set_new(ra, "finished", json_string("2026-11-26T23:59:00Z"));
	add(ra, NULL);
	ck_assert_int_eq(history_last_differing(tmp, NULL, &r, &e), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "finished")), "2026-11-26T23:59:00Z");
	ck_assert_int_eq(json_array_size(json_object_get(r, "diffs")), 1);
	json_decref(r);
	/* ...and the same diff again replaces it. */
	d = diff_runs(ra, "k-old", ra, "k-new", &e);
	add(ra, d);
	ck_assert_int_eq(history_latest(tmp, "k-old", NULL, &r, &e), 0);
	ck_assert_int_eq(json_array_size(json_object_get(r, "diffs")), 1);
	json_decref(r);
	r = history_load(tmp, &e);
	ck_assert_int_eq(json_array_size(json_object_get(r, "runs")), 4);
	json_decref(r);
	json_decref(d);
	json_decref(ra);
}
END_TEST

/* Write @text to @path. */
static void put(const char *path, const char *text)
{
	struct kf_error e;

	ck_assert_msg(util_write_atomic(path, text, strlen(text), &e) == 0, "%s", e.text);
}

/* @path's JSON (must parse). */
static json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);

	ck_assert_msg(j != NULL, "%s:%d: %s", path, jerr.line, jerr.text);
	return j;
}

/* Whether tmp's index.json (the export) holds what history_load() returns. */
static void check_export(void)
{
	char *path = xasprintf("%s/index.json", tmp);
	json_t *exp = load_json(path), *idx;
	struct kf_error e;

	idx = history_load(tmp, &e);
	ck_assert_msg(idx != NULL, "%s", e.text);
	ck_assert_msg(json_equal(idx, exp), "%s differs from the index", path);
	json_decref(idx);
	json_decref(exp);
	free(path);
}

/* How many entries tmp's index has. */
static size_t nruns(void)
{
	struct kf_error e;
	json_t *idx = history_load(tmp, &e);
	size_t n;

	ck_assert_msg(idx != NULL, "%s", e.text);
	n = json_array_size(json_object_get(idx, "runs"));
	json_decref(idx);
	return n;
}

START_TEST(test_round_trip)
{
	char *json = xasprintf("%s/index.json", tmp), *db = xasprintf("%s/index.sqlite", tmp);
	json_t *first, *again;
	struct kf_error e;

	fill();
	ck_assert_int_eq(access(db, F_OK), 0);
	check_export();
	/* The index is the database: the export gone (or wrong) changes nothing. */
	first = history_load(tmp, &e);
	put(json, "{");
	again = history_load(tmp, &e);
	ck_assert_msg(again != NULL, "%s", e.text);
	ck_assert(json_equal(first, again));
	json_decref(again);
	ck_assert_int_eq(unlink(json), 0);
	again = history_load(tmp, &e);
	ck_assert(json_equal(first, again));
	json_decref(again);
	json_decref(first);
	free(json);
	free(db);
}
END_TEST

/* An older kfarm's index.json (the golden index, an entry with fields of a later one) alone in tmp. */
static json_t *old_index(void)
{
	char *path = xasprintf("%s/index.json", tmp);
	json_t *idx = load_json(DATA "expected-index.json"), *r;

	r = json_array_get(json_object_get(idx, "runs"), 0);
	json_object_set_new(r, "inputs_key", json_string("sha256:0123"));
	json_object_set_new(r, "nightly", json_true());
	ck_assert_int_eq(json_dump_file(idx, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
	free(path);
	return idx;
}

START_TEST(test_import)
{
	char *json = xasprintf("%s/index.json", tmp), *db = xasprintf("%s/index.sqlite", tmp);
	json_t *old = old_index(), *idx, *r;
	struct kf_error e;

	/* Read first: imported whole, the unknown fields passed through. */
	idx = history_load(tmp, &e);
	ck_assert_msg(idx != NULL, "%s", e.text);
	ck_assert_int_eq(access(db, F_OK), 0);
	ck_assert_msg(json_equal(idx, old), "the imported index differs from index.json");
	json_decref(idx);
	/* Imported once: index.json is now only the export. */
	put(json, "{\"runs\": [");
	ck_assert_int_eq(nruns(), 4);
	/* An addition keeps the imported entries, their diffs and fields, and exports them. */
	r = run_b_as("later", "2026-12-01T00:00:00Z", "configs/x.json");
	add(r, NULL);
	json_decref(r);
	check_export();
	ck_assert_int_eq(nruns(), 5);
	ck_assert_int_eq(history_last_differing(tmp, NULL, &r, &e), 0);
	ck_assert_str_eq(entry_id(r), "20261126T233000Z-aaaa");
	ck_assert_int_eq(json_array_size(json_object_get(r, "diffs")), 1);
	json_decref(r);
	ck_assert_int_eq(history_latest(tmp, NULL, "configs/nightly.json", &r, &e), 0);
	ck_assert_str_eq(entry_id(r), "n2");
	json_decref(r);
	idx = history_load(tmp, &e);
	r = json_array_get(json_object_get(idx, "runs"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "inputs_key")), "sha256:0123");
	ck_assert(json_is_true(json_object_get(r, "nightly")));
	json_decref(idx);
	json_decref(old);
	free(json);
	free(db);
}
END_TEST

START_TEST(test_import_errors)
{
	char *json = xasprintf("%s/index.json", tmp);
	static const char bad[] = "{\"schema\": \"kfarm.index/1\",\n \"runs\": [{\"id\": 1]}";
	struct kf_error e;
	json_t *r = run_b_as("x", "2026-12-01T00:00:00Z", "configs/x.json");

	put(json, bad);
	ck_assert_ptr_null(history_load(tmp, &e));
	ck_assert_str_eq(e.source, json);
	ck_assert_int_eq(e.line, 2);
	ck_assert_int_gt(e.column, 0);
	/* Nothing half imported: the same error again, and no addition. */
	ck_assert_int_eq(history_add(tmp, r, NULL, tmp, &e), -1);
	ck_assert_str_eq(e.source, json);
	ck_assert_int_eq(e.line, 2);
	put(json, "{\"schema\": \"kfarm.index/1\", \"runs\": [3]}");
	ck_assert_int_eq(history_add(tmp, r, NULL, tmp, &e), -1);
	ck_assert_str_eq(e.source, json);
	ck_assert_str_eq(e.text, "runs[0] is not an entry with an \"id\"");
	/* Fixed: imported (empty), and the addition goes in. */
	put(json, "{\"schema\": \"kfarm.index/1\", \"runs\": []}");
	ck_assert_msg(history_add(tmp, r, NULL, tmp, &e) == 0, "%s", e.text);
	ck_assert_int_eq(nruns(), 1);
	json_decref(r);
	free(json);
}
END_TEST

/* @nproc writers at once, @nadd additions each ("w<proc>-<add>"); returns the seconds taken. */
static double concurrent_adds(int nproc, int nadd)
{
	struct timespec t0, t1;
	int i, status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct kf_error e;
			int j;

			for (j = 0; j < nadd; j++) {
				char id[32], started[32];
				json_t *r;

				snprintf(id, sizeof(id), "w%d-%d", i, j);
				snprintf(started, sizeof(started), "2026-12-01T00:%02d:%02dZ", i, j);
				r = run_b_as(id, started, "configs/x.json");
				if (history_add(tmp, r, NULL, tmp, &e) < 0) {
					fprintf(stderr, "%s: %s: %s\n", id, e.source, e.text);
					_exit(1);
				}
				json_decref(r);
			}
			_exit(0);
		}
	}
	for (i = 0; i < nproc; i++) {
		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

START_TEST(test_concurrent_adds)
{
	struct kf_error e;
	json_t *idx, *r;
	char id[32];
	double s;
	int i, j;

	/* Eight writers at once into a new index: every entry kept, none failed. */
	s = concurrent_adds(8, 20);
	fprintf(stderr, "test_concurrent_adds: 8 x 20 additions in %.2f s\n", s);
	idx = history_load(tmp, &e);
	ck_assert_msg(idx != NULL, "%s", e.text);
	ck_assert_int_eq(json_array_size(json_object_get(idx, "runs")), 160);
	for (i = 0; i < 8; i++)
		for (j = 0; j < 20; j++) {
			size_t k;
			int found = 0;

			snprintf(id, sizeof(id), "w%d-%d", i, j);
			json_array_foreach(json_object_get(idx, "runs"), k, r)
				found += !strcmp(entry_id(r), id);
			ck_assert_msg(found == 1, "%s: %d entries", id, found);
		}
	json_decref(idx);
	/* The last export written is the whole index. */
	check_export();
}
END_TEST

START_TEST(test_concurrent_import)
{
	json_t *old = old_index();

	/* Writers opening an index that is still an index.json import it once. */
	concurrent_adds(8, 2);
	ck_assert_int_eq(nruns(), 4 + 16);
	check_export();
	json_decref(old);
}
END_TEST

START_TEST(test_corrupt_db)
{
	char *db = xasprintf("%s/index.sqlite", tmp);
	char garbage[4096];
	json_t *r = run_b_as("x", "2026-12-01T00:00:00Z", "configs/x.json"), *idx;
	struct kf_error e;
	sqlite3 *h;
	size_t i;

	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 131 + 7);
	ck_assert_int_eq(util_write_atomic(db, garbage, sizeof(garbage), &e), 0);
	error_clear(&e);
	ck_assert_ptr_null(history_load(tmp, &e));
	ck_assert_str_eq(e.source, db);
	ck_assert_msg(strstr(e.text, "not a database"), "%s", e.text);
	error_clear(&e);
	ck_assert_int_eq(history_add(tmp, r, NULL, tmp, &e), -1);
	ck_assert_str_eq(e.source, db);
	error_clear(&e);
	ck_assert_int_eq(history_latest(tmp, NULL, NULL, &idx, &e), -1);
	ck_assert_str_eq(e.source, db);
	ck_assert_int_eq(unlink(db), 0);

	/* An index a newer kfarm wrote is refused, untouched. */
	add(r, NULL);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_ptr_null(history_load(tmp, &e));
	ck_assert_str_eq(e.source, db);
	ck_assert_msg(strstr(e.text, "newer"), "%s", e.text);
	json_decref(r);
	free(db);
}
END_TEST

START_TEST(test_errors)
{
	struct kf_error e;
	json_t *r, *run = load(DIFFDATA "run-b.json"), *bad;
	char *path = xasprintf("%s/index.json", tmp);

	/* No index yet: nothing found, no error. */
	ck_assert_int_eq(history_latest(tmp, NULL, NULL, &r, &e), 0);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(util_write_atomic(path, "{\"runs\": [", 10, &e), 0);
	error_clear(&e);
	ck_assert_int_eq(history_latest(tmp, NULL, NULL, &r, &e), -1);
	ck_assert_str_eq(e.source, path);
	ck_assert_int_gt(e.line, 0);
	ck_assert_int_eq(history_add(tmp, run, NULL, tmp, &e), -1);
	ck_assert_int_eq(util_write_atomic(path, "{\"schema\": \"x\", \"runs\": []}", 27, &e), 0);
	ck_assert_int_eq(history_last_differing(tmp, NULL, &r, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "kfarm.index/1"));
	bad = json_pack("{s:s}", "schema", "kfarm.diff/1");
	ck_assert_int_eq(history_add(tmp, run, bad, tmp, &e), -1);
	json_decref(bad);
	json_object_del(run, "id");
	ck_assert_int_eq(history_add(tmp, run, NULL, tmp, &e), -1);
	ck_assert_str_eq(e.text, "the run has no \"id\"");
	json_decref(run);
	free(path);
}
END_TEST

static Suite *history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *t = tcase_create("history");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_golden_index);
	tcase_add_test(t, test_queries);
	tcase_add_test(t, test_readd_keeps_diffs);
	tcase_add_test(t, test_round_trip);
	tcase_add_test(t, test_import);
	tcase_add_test(t, test_import_errors);
	tcase_add_test(t, test_concurrent_adds);
	tcase_add_test(t, test_concurrent_import);
	tcase_add_test(t, test_corrupt_db);
	tcase_add_test(t, test_errors);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(history_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
