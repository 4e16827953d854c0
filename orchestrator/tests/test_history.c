/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

START_TEST(test_concurrent_adds)
{
	struct kf_error e;
	json_t *idx;
	int i, status;

	/* Eight writers at once: the lock keeps every entry. */
	for (i = 0; i < 8; i++) {
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			char id[16], started[32];
			json_t *r;

			snprintf(id, sizeof(id), "c%d", i);
			snprintf(started, sizeof(started), "2026-12-01T00:00:0%dZ", i);
			r = run_b_as(id, started, "configs/x.json");
			_exit(history_add(tmp, r, NULL, tmp, &e) == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	idx = history_load(tmp, &e);
	ck_assert_int_eq(json_array_size(json_object_get(idx, "runs")), 8);
	json_decref(idx);
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
	tcase_add_test(t, test_concurrent_adds);
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
