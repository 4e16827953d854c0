/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "report.h"
#include "export.h"
#include "util.h"

#define DIFFDATA KFARM_TOP "/orchestrator/tests/data/diff/"
#define DATA KFARM_TOP "/orchestrator/tests/data/export/"

static int update_golden(void)
{
	const char *u = getenv("KFARM_UPDATE_GOLDEN");

	return u && *u && strcmp(u, "0");
}

static json_t *load(const char *path)
{
	struct kf_error e;
	json_t *run = report_load(path, &e);

	ck_assert_msg(run != NULL, "%s: %s", path, e.text);
	return run;
}

/* run-a.json's k-old vs k-new: every verdict (see data/diff/README.md). */
static json_t *fixture_diff(json_t **run)
{
	struct kf_error e;
	json_t *d;

	*run = load(DIFFDATA "run-a.json");
	d = diff_runs(*run, "k-old", *run, "k-new", &e);
	ck_assert_msg(d != NULL, "%s", e.text);
	for (size_t i = 0; diff_verdict_name(i); i++)
		ck_assert_msg(diff_count(d, diff_verdict_name(i)) > 0, "no %s cell", diff_verdict_name(i));
	return d;
}

static void check_golden_text(const char *text, const char *path)
{
	struct kf_error e;
	char *want;

	if (update_golden())
		ck_assert_int_eq(util_write_atomic(path, text, strlen(text), &e), 0);
	want = util_read_file(path, NULL, &e);
	ck_assert_msg(want != NULL, "%s", e.text);
	ck_assert_msg(!strcmp(text, want), "%s differs (KFARM_UPDATE_GOLDEN=1 rewrites it)", path);
	free(want);
}

START_TEST(test_golden_html)
{
	json_t *run, *d = fixture_diff(&run);
	struct kf_error e;
	char *html = export_html_render(d, run, run, &e);

	ck_assert_msg(html != NULL, "%s", e.text);
	/* Self-contained: no URL to fetch anything from. */
	ck_assert_ptr_null(strstr(html, "http://"));
	ck_assert_ptr_null(strstr(html, "https://"));
	ck_assert_ptr_null(strstr(html, " src="));
	ck_assert_ptr_null(strstr(html, "<link"));
	ck_assert_ptr_nonnull(strstr(html, "data-cell=\"sds-zero/1\""));
	ck_assert_ptr_nonnull(strstr(html, "class=\"v v-distribution-changed\""));
	ck_assert_ptr_nonnull(strstr(html, "smp-dependent on a</span>"));
	/* The panic excerpt of k-new's guest at smp 2 is embedded. */
	ck_assert_ptr_nonnull(strstr(html, "Kernel panic - not syncing: sysrq triggered crash"));
	check_golden_text(html, DATA "expected.html");
	free(html);
	json_decref(d);
	json_decref(run);
}
END_TEST

START_TEST(test_html_escapes)
{
	json_t *run, *d = fixture_diff(&run), *c;
	struct kf_error e;
	char *html, *data;

	/* Hostile strings in the data can close neither the script nor an attribute. */
	c = json_array_get(json_object_get(d, "cells"), 4);
	json_object_set_new(c, "reason", json_string("</script><script>alert(1)</script><!--"));
	json_object_set_new(c, "scenario", json_string("x\"><b>y"));
	html = export_html_render(d, run, run, &e);
	ck_assert_ptr_nonnull(html);
	data = strstr(html, "<script type=\"application/json\" id=\"kfarm-data\">");
	ck_assert_ptr_nonnull(data);
	data = strchr(data, '>') + 1;
	ck_assert_ptr_nonnull(strstr(data, "\\u003c/script>\\u003cscript>alert(1)"));
	/* The data block ends at the first "</script>", which is its own end. */
	ck_assert_ptr_eq(strstr(data, "</script>"), strstr(data, "}</script>") + 1);
	ck_assert_ptr_nonnull(strstr(html, "<th>x&quot;&gt;&lt;b&gt;y</th>"));
	ck_assert_ptr_null(strstr(html, "x\"><b>y"));
	free(html);
	json_decref(d);
	json_decref(run);
}
END_TEST

START_TEST(test_golden_junit)
{
	json_t *run, *d = fixture_diff(&run);
	struct kf_error e;
	char *xml = export_junit_render(d, run, run, &e);

	ck_assert_msg(xml != NULL, "%s", e.text);
	/* 15 cells: 4 failures (3 changed, 1 distribution-changed), 4 errors, 1 skipped. */
	ck_assert_ptr_nonnull(strstr(xml, "<testsuites name=\"kfarm\" tests=\"15\" failures=\"4\" "
				    "errors=\"4\" skipped=\"1\">"));
	ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"kfarm.detach.sds-zero\" name=\"smp1\">"));
	ck_assert_ptr_nonnull(strstr(xml, "<failure type=\"distribution-changed\""));
	/* The crashed guest's console excerpt goes with the error. */
	ck_assert_ptr_nonnull(strstr(xml, "b console:\n  sysrq: Trigger a crash"));
	ck_assert_ptr_nonnull(strstr(xml, "&quot;tracee&quot;:&quot;running&quot;"));
	check_golden_text(xml, DATA "expected-junit.xml");
	free(xml);
	json_decref(d);
	json_decref(run);
}
END_TEST

START_TEST(test_golden_kcidb)
{
	json_t *run, *d = fixture_diff(&run), *k, *t, *want;
	struct kf_error e;
	json_error_t jerr;
	size_t i;
	int n[4] = { 0 };

	k = export_kcidb_build(d, run, run, &e);
	ck_assert_msg(k != NULL, "%s", e.text);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(k, "version"), "major")), 5);
	ck_assert_int_eq(json_array_size(json_object_get(k, "checkouts")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(k, "builds")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(k, "tests")), 15);
	json_array_foreach(json_object_get(k, "tests"), i, t) {
		const char *s = json_string_value(json_object_get(t, "status"));

		ck_assert_str_eq(json_string_value(json_object_get(t, "build_id")),
				 "kfarm:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
		n[!strcmp(s, "PASS") ? 0 : !strcmp(s, "FAIL") ? 1 : !strcmp(s, "ERROR") ? 2 : 3]++;
	}
	/* PASS: 3 same + 3 flaky; FAIL: 3 changed + 1 distribution-changed; SKIP: 1. */
	ck_assert_int_eq(n[0], 6);
	ck_assert_int_eq(n[1], 4);
	ck_assert_int_eq(n[2], 4);
	ck_assert_int_eq(n[3], 1);
	t = json_array_get(json_object_get(k, "tests"), 4);
	ck_assert_str_eq(json_string_value(json_object_get(t, "path")), "kfarm.detach.sds-zero.smp1");

	if (update_golden())
		ck_assert_int_eq(export_kcidb(d, run, run, DATA "expected-kcidb.json", &e), 0);
	want = json_load_file(DATA "expected-kcidb.json", 0, &jerr);
	ck_assert_msg(want != NULL, "%s", jerr.text);
	ck_assert_msg(json_equal(k, want), "expected-kcidb.json differs");
	json_decref(want);
	json_decref(k);
	json_decref(d);
	json_decref(run);
}
END_TEST

START_TEST(test_write_files)
{
	json_t *run, *d = fixture_diff(&run);
	struct kf_error e;
	char dir[] = "/tmp/kfarm-export-XXXXXX", *p;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = xasprintf("%s/diff.html", dir);
	ck_assert_int_eq(export_html(d, run, run, p, &e), 0);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	p = xasprintf("%s/junit.xml", dir);
	ck_assert_int_eq(export_junit(d, run, run, p, &e), 0);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	p = xasprintf("%s/kcidb.json", dir);
	ck_assert_int_eq(export_kcidb(d, run, run, p, &e), 0);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	/* A folder that does not exist: an error naming it. */
	p = xasprintf("%s/no/such/diff.html", dir);
	error_clear(&e);
	ck_assert_int_eq(export_html(d, run, run, p, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.source, "/no/such/"));
	free(p);
	ck_assert_int_eq(rmdir(dir), 0);
	json_decref(d);
	json_decref(run);
}
END_TEST

START_TEST(test_bad_input)
{
	json_t *run, *d = fixture_diff(&run), *rb = load(DIFFDATA "run-b.json"), *bad;
	struct kf_error e;

	error_clear(&e);
	ck_assert_ptr_null(export_html_render(d, run, rb, &e));
	ck_assert_str_eq(e.text, "kernel b of the diff is not in run b");
	bad = json_pack("{s:s}", "schema", "kfarm.diff/1");
	error_clear(&e);
	ck_assert_ptr_null(export_junit_render(bad, run, run, &e));
	ck_assert_str_eq(e.text, "not a kfarm.diff/3 object");
	ck_assert_ptr_null(export_kcidb_build(bad, run, run, &e));
	json_decref(bad);
	json_decref(rb);
	json_decref(d);
	json_decref(run);
}
END_TEST

START_TEST(test_helpers)
{
	json_t *run = load(DIFFDATA "run-a.json"), *ex;
	char *s;

	s = export_escape_xml("a<b>&\"c'\x01");
	ck_assert_str_eq(s, "a&lt;b&gt;&amp;&quot;c&#39;?");
	free(s);
	ex = report_guest_excerpt(run, "k-new", 2);
	ck_assert_str_eq(json_string_value(json_object_get(ex, "status")), "crashed");
	ck_assert_str_eq(json_string_value(json_object_get(ex, "console")), "console-k-new-smp2.log");
	ck_assert_int_eq(json_array_size(json_object_get(ex, "lines")), 2);
	json_decref(ex);
	ck_assert_ptr_null(report_guest_excerpt(run, "k-new", 8));
	json_decref(run);
}
END_TEST

/* Whether @s is a KCIDB path: dot-separated [a-zA-Z0-9_-]+ (the v5 schema's pattern). */
static int kcidb_path_ok(const char *s)
{
	int need = 1;

	for (; *s; s++) {
		if (*s == '.') {
			if (need)
				return 0;
			need = 1;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= '0' && *s <= '9') || *s == '_' || *s == '-') {
			need = 0;
		} else {
			return 0;
		}
	}
	return !need;
}

START_TEST(test_kcidb_path)
{
	static const struct {
		const char *cell;
		long long smp;
		const char *path;
	} cases[] = {
		{ "sds-zero", 1, "kfarm.detach.sds-zero.smp1" },
		{ "sds-zero[sigchld=ign]", 2, "kfarm.detach.sds-zero.sigchld_ign.smp2" },
		{ "sds-zero[sigchld=ign,wait=waitpid]", 2,
		  "kfarm.detach.sds-zero.sigchld_ign.wait_waitpid.smp2" },
		{ "sds-sigstop[stop=SIGTSTP,sigchld=nocldstop,wait=waitpid-untraced]", 8,
		  "kfarm.detach.sds-sigstop.stop_SIGTSTP.sigchld_nocldstop.wait_waitpid-untraced.smp8" },
		/* anything a path cannot carry becomes '_' */
		{ "x.y+z", 4, "kfarm.detach.x_y_z.smp4" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = export_kcidb_path(cases[i].cell, cases[i].smp);

		ck_assert_str_eq(p, cases[i].path);
		ck_assert_msg(kcidb_path_ok(p), "%s", p);
		free(p);
	}
}
END_TEST

/*
 * A variant cell (brackets, '=' and ',' in its id) through diff.json, KCIDB,
 * JUnit and HTML: encoded where it must be, escaped, and still readable.
 */
START_TEST(test_variant_cell_views)
{
	static const char cell[] = "sds-zero[sigchld=ign,wait=waitpid]";
	json_t *run = load(DIFFDATA "run-a.json"), *d, *k, *t, *c;
	struct kf_error e;
	char *xml, *html, *want;
	size_t i;
	int seen = 0;

	json_array_foreach(json_object_get(run, "cells"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "scenario")), "sds-zero"))
			json_object_set_new(c, "scenario", json_string(cell));
	json_array_foreach(json_object_get(run, "scenarios"), i, c)
		if (!strcmp(json_string_value(c), "sds-zero"))
			json_array_set_new(json_object_get(run, "scenarios"), i, json_string(cell));
	json_object_set_new(run, "variant_reps", json_integer(3));
	d = diff_runs(run, "k-old", run, "k-new", &e);
	ck_assert_msg(d != NULL, "%s", e.text);
	json_array_foreach(json_object_get(d, "cells"), i, c) {
		if (strcmp(json_string_value(json_object_get(c, "scenario")), cell))
			continue;
		seen++;
		/* the replay runs that cell, quoted for the shell, with its repetitions */
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(c, "replay")),
					     "--scenarios 'sds-zero[sigchld=ign,wait=waitpid]' "
					     "--variant-reps 3 "));
	}
	ck_assert_int_eq(seen, 1);

	k = export_kcidb_build(d, run, run, &e);
	ck_assert_msg(k != NULL, "%s", e.text);
	seen = 0;
	json_array_foreach(json_object_get(k, "tests"), i, t) {
		ck_assert_msg(kcidb_path_ok(json_string_value(json_object_get(t, "path"))), "%s",
			      json_string_value(json_object_get(t, "path")));
		if (!strcmp(json_string_value(json_object_get(t, "path")),
			    "kfarm.detach.sds-zero.sigchld_ign.wait_waitpid.smp1")) {
			seen++;
			ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(t, "id")),
						     ":sds-zero[sigchld=ign,wait=waitpid]:smp1"));
		}
	}
	ck_assert_int_eq(seen, 1);
	json_decref(k);

	xml = export_junit_render(d, run, run, &e);
	ck_assert_ptr_nonnull(xml);
	ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"kfarm.detach.sds-zero[sigchld=ign,"
				      "wait=waitpid]\" name=\"smp1\""));
	ck_assert_ptr_nonnull(strstr(xml, "--scenarios &#39;sds-zero[sigchld=ign,wait=waitpid]&#39;"));
	free(xml);

	html = export_html_render(d, run, run, &e);
	ck_assert_ptr_nonnull(html);
	ck_assert_ptr_nonnull(strstr(html, "<tr><th>sds-zero[sigchld=ign,wait=waitpid]</th>"));
	want = xasprintf("data-cell=\"%s/1\"", cell);
	ck_assert_ptr_nonnull(strstr(html, want));
	free(want);
	free(html);
	json_decref(d);
	json_decref(run);
}
END_TEST

static Suite *export_suite(void)
{
	Suite *s = suite_create("export");
	TCase *t = tcase_create("export");

	tcase_add_test(t, test_golden_html);
	tcase_add_test(t, test_html_escapes);
	tcase_add_test(t, test_golden_junit);
	tcase_add_test(t, test_golden_kcidb);
	tcase_add_test(t, test_write_files);
	tcase_add_test(t, test_bad_input);
	tcase_add_test(t, test_helpers);
	tcase_add_test(t, test_kcidb_path);
	tcase_add_test(t, test_variant_cell_views);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(export_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
