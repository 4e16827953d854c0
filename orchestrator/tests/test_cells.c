/* SPDX-License-Identifier: MIT */
/* Cell ids: bracket-aware list splitting, syntax, "CELL=N" entries, keys. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cells.h"
#include "config.h"
#include "run.h"
#include "util.h"

/* @list split, joined with '|' (owned). */
static char *split_joined(const char *list)
{
	size_t n, i;
	char **v = cells_split(list, &n), *out = xstrdup(""), *t;

	for (i = 0; i < n; i++) {
		t = xasprintf("%s%s%s", out, i ? "|" : "", v[i]);
		free(out);
		out = t;
	}
	cells_free(v, n);
	return out;
}

START_TEST(test_split)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "sds-zero", "sds-zero" },
		{ "a,b,c", "a|b|c" },
		{ "sds-zero[sigchld=ign,wait=waitpid],sds-other-sig",
		  "sds-zero[sigchld=ign,wait=waitpid]|sds-other-sig" },
		{ "a[x=1,y=2],b[*],c[z=3]", "a[x=1,y=2]|b[*]|c[z=3]" },
		{ "all,tracer-exit-sds[*]", "all|tracer-exit-sds[*]" },
		{ " a , b[x=1, y=2] ,,", "a|b[x=1, y=2]" },
		{ "", "" },
		{ ",,", "" },
		/* an unclosed bracket takes the rest: one entry, which is not a cell */
		{ "a[x=1,b", "a[x=1,b" },
		{ "a],b", "a]|b" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = split_joined(cases[i].in);

		ck_assert_msg(!strcmp(got, cases[i].out), "'%s' split as '%s', not '%s'", cases[i].in,
			      got, cases[i].out);
		free(got);
	}
	ck_assert_uint_eq(cellid_list_next("a[x=1,y=2],b"), 10);
	ck_assert_uint_eq(cellid_list_next("abc"), 3);
}
END_TEST

START_TEST(test_id_ok)
{
	static const char *const good[] = {
		"sds-zero", "sds-zero[sigchld=ign]", "sds-zero[sigchld=ign,wait=waitpid-untraced]",
		"sds-sigstop[stop=SIGTSTP,sigchld=nocldstop]", "x.y_z+1", "sds-zero[]",
	};
	static const char *const bad[] = {
		"", "-x", ".x", "a b", "sds-zero[", "sds-zero]", "sds-zero[sigchld]",
		"sds-zero[=ign]", "sds-zero[sigchld=]", "sds-zero[sigchld=ign,]",
		"sds-zero[,sigchld=ign]", "sds-zero[sigchld=ign]x", "sds-zero[Sigchld=ign]",
		"sds-zero[sigchld=i.n]", "sds-zero[sigchld=ign][wait=waitpid]", "a/b", "a:3",
		"sds-zero[sigchld=ign;wait=waitpid]",
	};
	char longid[CELLS_ID_MAX + 8];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(cells_id_ok(good[i], 0), "'%s' refused", good[i]);
		ck_assert_msg(cells_id_ok(good[i], 1), "'%s' refused", good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cells_id_ok(bad[i], 1), "'%s' accepted", bad[i]);
	ck_assert(cells_id_ok("sds-zero[*]", 1));
	ck_assert(!cells_id_ok("sds-zero[*]", 0));
	ck_assert(!cells_id_ok("sds-zero[*,sigchld=ign]", 1));
	memset(longid, 'a', sizeof(longid));
	memcpy(longid, "x[s=", 4);
	longid[CELLS_ID_MAX - 1] = ']';
	longid[CELLS_ID_MAX] = '\0';
	ck_assert(cells_id_ok(longid, 0));
	longid[CELLS_ID_MAX - 1] = 'a';
	longid[CELLS_ID_MAX] = ']';
	longid[CELLS_ID_MAX + 1] = '\0';
	ck_assert(!cells_id_ok(longid, 0));

	ck_assert(cells_is_variant("a[x=1]"));
	ck_assert(!cells_is_variant("a"));
	ck_assert(!cells_is_variant("a[*]"));
	ck_assert(!cells_is_variant("a[]"));
	ck_assert(cells_is_star("a[*]"));
	ck_assert(!cells_is_star("a[x=1]"));
	ck_assert_uint_eq(cells_base_len("sds-zero[x=1]"), 8);
	ck_assert_uint_eq(cells_base_len("sds-zero"), 8);
}
END_TEST

START_TEST(test_reps_sep)
{
	static const struct {
		const char *in;
		size_t at;
	} cases[] = {
		{ "sds-zero=5", 8 },
		{ "sds-zero:5", 8 },
		{ "sds-zero[sigchld=ign,wait=waitpid]=5", 34 },
		{ "sds-zero[sigchld=ign,wait=waitpid]:5", 34 },
		{ "sds-zero", 8 },
		{ "sds-zero[sigchld=ign]", 21 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(cells_reps_sep(cases[i].in, strlen(cases[i].in)) == cases[i].at,
			      "%s: %zu", cases[i].in, cells_reps_sep(cases[i].in, strlen(cases[i].in)));
}
END_TEST

START_TEST(test_key)
{
	char *a = cells_key("sds-zero[wait=waitpid,sigchld=ign]");
	char *b = cells_key("sds-zero[sigchld=ign,wait=waitpid]");
	char *c = cells_key("sds-zero[]"), *d = cells_key("sds-zero");

	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, "sds-zero[sigchld=ign,wait=waitpid]");
	ck_assert_str_eq(c, "sds-zero");
	ck_assert_str_eq(d, "sds-zero");
	free(a);
	free(b);
	free(c);
	free(d);
}
END_TEST

/* --reps-for and the config's "scenario_reps": the '=' after the ']' separates. */
START_TEST(test_reps_for)
{
	struct config c;
	struct kf_error e;

	config_init(&c);
	ck_assert_int_eq(config_add_scenario_reps(&c, "sds-zero[sigchld=ign,wait=waitpid]=7,"
						  "sds-zero=3,tracer-exit-sds[threads=leader]:9",
						  "--reps-for", &e), 0);
	ck_assert_uint_eq(c.nscenario_reps, 3);
	ck_assert_str_eq(c.scenario_reps[0].id, "sds-zero[sigchld=ign,wait=waitpid]");
	ck_assert_int_eq(c.scenario_reps[0].reps, 7);
	ck_assert_str_eq(c.scenario_reps[1].id, "sds-zero");
	ck_assert_int_eq(c.scenario_reps[1].reps, 3);
	ck_assert_str_eq(c.scenario_reps[2].id, "tracer-exit-sds[threads=leader]");
	ck_assert_int_eq(c.scenario_reps[2].reps, 9);
	ck_assert_int_eq(config_max_reps(&c), 20);
	/* the same cell again: the last count */
	ck_assert_int_eq(config_add_scenario_reps(&c, "sds-zero[sigchld=ign,wait=waitpid]=70",
						  "--reps-for", &e), 0);
	ck_assert_uint_eq(c.nscenario_reps, 3);
	ck_assert_int_eq(config_max_reps(&c), 70);

	ck_assert_int_eq(config_add_scenario_reps(&c, "sds-zero[sigchld=ign,wait=waitpid]",
						  "--reps-for", &e), -1);
	ck_assert_str_eq(e.source, "--reps-for");
	ck_assert_str_eq(e.text, "'sds-zero[sigchld=ign,wait=waitpid]': expected a cell (ID or "
			 "ID[axis=value,...]), '=' and 1 to 100000 repetitions");
	ck_assert_int_eq(config_add_scenario_reps(&c, "sds-zero[*]=3", "--reps-for", &e), -1);
	ck_assert_int_eq(config_add_scenario_reps(&c, "sds-zero[sigchld=ign=3", "--reps-for", &e), -1);
	ck_assert_int_eq(config_add_scenario_reps(&c, "sds-zero=x", "--reps-for", &e), -1);
	ck_assert_int_eq(config_add_scenario_reps(&c, ",", "--reps-for", &e), -1);
	config_release(&c);
}
END_TEST

/*
 * run_list_scenarios() runs the guest binary once a space while it stays the
 * same file: a second call is the same list; the binary replaced (a new
 * mtime) is listed again. kfarmd checks a request's "scenarios" so.
 */
START_TEST(test_list_cached)
{
	char dir[] = "/tmp/kfarm-cells-XXXXXX", *bin, *cmd;
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };
	struct kf_error e;
	json_t *a, *b, *c, *d;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	bin = xasprintf("%s/kfarm-guest", dir);
	cmd = xasprintf("cp %s %s", KFARM_TOP "/build/kfarm-guest", bin);
	ck_assert_int_eq(system(cmd), 0);
	setenv("KFARM_GUEST", bin, 1);
	a = run_list_scenarios("base", &e);
	ck_assert_msg(a != NULL, "%s", e.text);
	b = run_list_scenarios("base", &e);
	ck_assert_ptr_eq(a, b);
	c = run_list_scenarios("sample", &e);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_ne(c, a);
	ck_assert_uint_gt(json_array_size(c), json_array_size(a));
	ck_assert_int_eq(utimensat(AT_FDCWD, bin, ts, 0), 0);
	d = run_list_scenarios("base", &e);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_ne(d, a);
	ck_assert(json_equal(d, a));
	unsetenv("KFARM_GUEST");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
	unlink(bin);
	rmdir(dir);
	free(bin);
	free(cmd);
}
END_TEST

static Suite *cells_suite(void)
{
	Suite *s = suite_create("cells");
	TCase *t = tcase_create("cells");

	tcase_add_test(t, test_split);
	tcase_add_test(t, test_list_cached);
	tcase_add_test(t, test_id_ok);
	tcase_add_test(t, test_reps_sep);
	tcase_add_test(t, test_key);
	tcase_add_test(t, test_reps_for);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cells_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
