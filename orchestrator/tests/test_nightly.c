/* SPDX-License-Identifier: MIT */
/* nightly.c: the section's checks, its schedule (in UTC here), its requests. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "nightly.h"
#include "util.h"

/* 2026-12-02 (a Wednesday) at HH:MM:SS UTC. */
static time_t at(int h, int m, int s)
{
	struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = 2, .tm_hour = h, .tm_min = m,
			 .tm_sec = s };

	return timegm(&tm);
}

static json_t *section(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	ck_assert_msg(v != NULL, "%s", text);
	return v;
}

static void setup(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

START_TEST(checks)
{
	static const struct {
		const char *text;
		const char *path;	/* NULL: valid */
	} cases[] = {
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", NULL },
		{ "{\"at\": \"02:30:15\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}], \"smp\": [1, 2], "
		  "\"reps\": 5, \"boots\": 2, \"scenarios\": [\"sds-zero\"]}", NULL },
		{ "{\"cron\": \"*/15 1-3,22 * * 1-5\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", NULL },
		{ "[]", "" },
		{ "{\"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "" },
		{ "{\"at\": \"02:30\", \"cron\": \"* * * * *\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "" },
		{ "{\"at\": \"2:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "/at" },
		{ "{\"at\": \"24:00\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "/at" },
		{ "{\"at\": \"02:30:60\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "/at" },
		{ "{\"cron\": \"* * * *\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "/cron" },
		{ "{\"cron\": \"60 * * * *\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "/cron" },
		{ "{\"cron\": \"* * 0 * *\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "/cron" },
		{ "{\"cron\": \"*/0 * * * *\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "/cron" },
		{ "{\"cron\": \"5-1 * * * *\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}", "/cron" },
		{ "{\"at\": \"02:30\"}", "/compare" },
		{ "{\"at\": \"02:30\", \"compare\": []}", "/compare" },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\"}]}", "/compare/0/b" },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}, {\"a\": \"x\", \"b\": \"y\", \"c\": 1}]}",
		  "/compare/1/c" },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}], \"smp\": [0]}", "/smp" },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}], \"reps\": \"5\"}", "/reps" },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}], \"boots\": 0}", "/boots" },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}], \"boots\": 64}", NULL },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}], \"boots\": 65}", "/boots" },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}], \"scenarios\": \"all\"}",
		  "/scenarios" },
		{ "{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}], \"when\": 1}", "/when" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = section(cases[i].text);
		char path[128] = "?", msg[256] = "";
		int r = nightly_check(v, path, sizeof(path), msg, sizeof(msg));

		if (!cases[i].path) {
			ck_assert_msg(r == 0, "case %zu refused: %s: %s", i, path, msg);
		} else {
			ck_assert_msg(r < 0, "case %zu taken", i);
			ck_assert_msg(!strcmp(path, cases[i].path), "case %zu: at '%s', not '%s' (%s)", i,
				      path, cases[i].path, msg);
			ck_assert_msg(*msg, "case %zu: no message", i);
		}
		json_decref(v);
	}
}
END_TEST

START_TEST(time_of_day)
{
	json_t *v = section("{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}");
	json_t *w = section("{\"at\": \"06:20:05\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}");

	ck_assert_int_eq(nightly_next(v, at(1, 0, 0)), at(2, 30, 0));
	ck_assert_int_eq(nightly_next(v, at(2, 30, 0)), at(2, 30, 0) + 86400);	/* strictly after */
	ck_assert_int_eq(nightly_next(v, at(23, 59, 59)), at(2, 30, 0) + 86400);
	ck_assert_int_eq(nightly_next(w, at(6, 20, 4)), at(6, 20, 5));
	json_decref(v);
	json_decref(w);
}
END_TEST

START_TEST(cron)
{
	/* every 15 minutes from 01:00 to 03:45 and at 22:xx, on weekdays */
	json_t *v = section("{\"cron\": \"*/15 1-3,22 * * 1-5\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}");
	/* 2026-12-06 is a Sunday: "0 4 * * 0" and "0 4 * * 7" */
	json_t *sun = section("{\"cron\": \"0 4 * * 7\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}");
	/* the 1st of the month or a Friday (cron's either-or when both are set) */
	json_t *either = section("{\"cron\": \"0 0 1 * 5\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}");
	json_t *never = section("{\"cron\": \"0 0 31 2 *\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}]}");

	ck_assert_int_eq(nightly_next(v, at(0, 59, 59)), at(1, 0, 0));
	ck_assert_int_eq(nightly_next(v, at(1, 0, 0)), at(1, 15, 0));
	ck_assert_int_eq(nightly_next(v, at(3, 45, 0)), at(22, 0, 0));
	ck_assert_int_eq(nightly_next(v, at(22, 45, 0)), at(1, 0, 0) + 86400);	/* Thursday */
	ck_assert_int_eq(nightly_next(sun, at(12, 0, 0)), at(4, 0, 0) + 4 * 86400);
	ck_assert_int_eq(nightly_next(either, at(12, 0, 0)), at(0, 0, 0) + 2 * 86400);	/* Fri 4th */
	ck_assert_int_eq(nightly_next(never, at(12, 0, 0)), (time_t)-1);
	json_decref(v);
	json_decref(sun);
	json_decref(either);
	json_decref(never);
}
END_TEST

START_TEST(requests)
{
	json_t *v = section("{\"at\": \"02:30\", \"compare\": [{\"a\": \"x\", \"b\": \"y\"}, "
			    "{\"a\": \"x\", \"b\": \"z\"}], \"smp\": [1], \"reps\": 3}");
	json_t *r = nightly_requests(v), *want = section(
		"[{\"kind\": \"compare\", \"a\": \"x\", \"b\": \"y\", \"smp\": [1], \"reps\": 3}, "
		"{\"kind\": \"compare\", \"a\": \"x\", \"b\": \"z\", \"smp\": [1], \"reps\": 3}]");

	ck_assert(json_equal(r, want));
	json_decref(r);
	json_decref(want);
	json_decref(v);
}
END_TEST

/* A run.json as history_add() reads it: @id started on day @day, of kernel @k. */
static json_t *night_run(const char *id, int day, const char *k, const char *key, int nightly)
{
	char started[32];
	json_t *run;

	snprintf(started, sizeof(started), "2026-12-%02dT02:30:00Z", day);
	run = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:[], s:s}", "schema", "kfarm.run/2", "id",
			id, "started", started, "kernels", "name", k, "inputs_key", key, "cells",
			"inputs_key", key);
	/* the nightly ones finished (a compare takes a kernel's guests only from those) */
	if (nightly) {
		json_object_set_new(run, "nightly", json_true());
		json_object_set_new(run, "finished", json_string(started));
	}
	return run;
}

/* The run index answers the nightly's two questions: same inputs, and the previous night. */
START_TEST(index_lookups)
{
	static const char k1[] = "1111111111111111111111111111111111111111111111111111111111111111";
	static const char k2[] = "2222222222222222222222222222222222222222222222222222222222222222";
	char dir[] = "/tmp/kfarm-nights-XXXXXX", *rd;
	const struct {
		const char *id;
		int day;
		const char *key;
		int nightly;
	} runs[] = {
		{ "r1", 1, k1, 1 }, { "r2", 2, k1, 0 }, { "r3", 3, k2, 1 },
	};
	struct kf_error e;
	json_t *same, *entry;
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < 3; i++) {
		json_t *run = night_run(runs[i].id, runs[i].day, "ka", runs[i].key, runs[i].nightly);
		char *rdir = xasprintf("%s/%s", dir, runs[i].id);

		ck_assert_int_eq(util_mkdir_p(rdir, &e), 0);
		ck_assert_msg(history_add(dir, run, NULL, rdir, &e) == 0, "%s", e.text);
		free(rdir);
		json_decref(run);
	}
	same = history_same_inputs(dir, k1, "r3", &e);
	ck_assert_uint_eq(json_array_size(same), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(same, 0), "id")), "r2");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(same, 1), "id")), "r1");
	rd = history_dir_of(dir, json_array_get(same, 1));
	ck_assert_str_eq(rd + strlen(dir), "/r1");
	free(rd);
	json_decref(same);
	same = history_same_inputs(dir, k1, "r1", &e);
	ck_assert_uint_eq(json_array_size(same), 1);
	json_decref(same);
	/* a kernel's own key: the finished runs only, but the one asking */
	same = history_same_side(dir, k1, "r3", &e);
	ck_assert_uint_eq(json_array_size(same), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(same, 0), "id")), "r1");
	ck_assert_str_eq(history_side_name(json_array_get(same, 0), k1), "ka");
	ck_assert_ptr_null(history_side_name(json_array_get(same, 0), k2));
	json_decref(same);
	same = history_same_side(dir, k2, "r3", &e);
	ck_assert_uint_eq(json_array_size(same), 0);
	json_decref(same);
	same = history_same_side(dir, k2, NULL, &e);
	ck_assert_uint_eq(json_array_size(same), 1);
	json_decref(same);
	/* the night before r4 is r3; before r3 it is r1, r2 not being a nightly */
	ck_assert_int_eq(history_previous_night(dir, "ka", "r4", "2026-12-04T02:30:00Z", &entry, &e), 0);
	ck_assert_str_eq(json_string_value(json_object_get(entry, "id")), "r3");
	json_decref(entry);
	ck_assert_int_eq(history_previous_night(dir, "ka", "r3", "2026-12-03T02:30:00Z", &entry, &e), 0);
	ck_assert_str_eq(json_string_value(json_object_get(entry, "id")), "r1");
	json_decref(entry);
	ck_assert_int_eq(history_previous_night(dir, "kb", "r4", "2026-12-04T02:30:00Z", &entry, &e), 0);
	ck_assert_ptr_null(entry);
	ck_assert_int_eq(history_previous_night(dir, "ka", "r1", "2026-12-01T02:30:00Z", &entry, &e), 0);
	ck_assert_ptr_null(entry);
	rd = xasprintf("rm -rf %s", dir);
	ck_assert_int_eq(system(rd), 0);
	free(rd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nightly");
	TCase *t = tcase_create("nightly");
	SRunner *r;
	int failed;

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, checks);
	tcase_add_test(t, time_of_day);
	tcase_add_test(t, cron);
	tcase_add_test(t, requests);
	tcase_add_test(t, index_lookups);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
