/* SPDX-License-Identifier: MIT */
/* The guest lifecycle table and lifecycle_outcome(), row by row. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"

/* Every (state, event) pair: what it must lead to (-1: nothing happens). */
static const struct {
	enum lc_state from;
	enum lc_event ev;
	int to;
	enum lc_kill kill;
} want[] = {
	{ LC_PENDING, LC_START, LC_BOOTING, LC_KILL_NONE },
	{ LC_PENDING, LC_START_FAILED, LC_DONE, LC_KILL_START_FAILED },
	{ LC_BOOTING, LC_HELLO, LC_RUNNING, LC_KILL_NONE },
	{ LC_BOOTING, LC_RECORD, -1, LC_KILL_NONE },
	{ LC_BOOTING, LC_END, LC_ENDING, LC_KILL_NONE },
	{ LC_BOOTING, LC_DEADLINE, LC_KILLING, LC_KILL_BOOT },
	{ LC_BOOTING, LC_INTERRUPT, LC_KILLING, LC_KILL_INTERRUPTED },
	{ LC_BOOTING, LC_CANARY_DONE, LC_KILLING, LC_KILL_CANARY },
	{ LC_BOOTING, LC_GONE, LC_DONE, LC_KILL_NONE },
	{ LC_RUNNING, LC_HELLO, -1, LC_KILL_NONE },
	{ LC_RUNNING, LC_RECORD, LC_RUNNING, LC_KILL_NONE },
	{ LC_RUNNING, LC_END, LC_ENDING, LC_KILL_NONE },
	{ LC_RUNNING, LC_DEADLINE, LC_KILLING, LC_KILL_PROGRESS },
	{ LC_RUNNING, LC_INTERRUPT, LC_KILLING, LC_KILL_INTERRUPTED },
	{ LC_RUNNING, LC_GONE, LC_DONE, LC_KILL_NONE },
	{ LC_ENDING, LC_RECORD, -1, LC_KILL_NONE },
	{ LC_ENDING, LC_DEADLINE, LC_KILLING, LC_KILL_POWEROFF },
	{ LC_ENDING, LC_INTERRUPT, LC_KILLING, LC_KILL_INTERRUPTED },
	{ LC_ENDING, LC_GONE, LC_DONE, LC_KILL_NONE },
	{ LC_KILLING, LC_DEADLINE, -1, LC_KILL_NONE },
	{ LC_KILLING, LC_INTERRUPT, -1, LC_KILL_NONE },
	{ LC_KILLING, LC_CANARY_DONE, -1, LC_KILL_NONE },
	{ LC_KILLING, LC_RECORD, -1, LC_KILL_NONE },
	{ LC_KILLING, LC_GONE, LC_DONE, LC_KILL_NONE },
	{ LC_DONE, LC_GONE, -1, LC_KILL_NONE },
	{ LC_DONE, LC_DEADLINE, -1, LC_KILL_NONE },
	{ LC_PENDING, LC_GONE, -1, LC_KILL_NONE },
};

START_TEST(test_rows)
{
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct lc_row *r = lifecycle_step(want[i].from, want[i].ev);

		if (want[i].to < 0) {
			ck_assert_msg(r == NULL, "%s: event %d must change nothing",
				      lifecycle_state_name(want[i].from), want[i].ev);
			continue;
		}
		ck_assert_msg(r != NULL, "%s: event %d has no row", lifecycle_state_name(want[i].from),
			      want[i].ev);
		ck_assert_int_eq(r->to, want[i].to);
		ck_assert_int_eq(r->kill, want[i].kill);
	}
}
END_TEST

/* Every state but DONE can end: a path of rows leads from it to DONE. */
START_TEST(test_every_state_ends)
{
	enum lc_state s;

	for (s = LC_PENDING; s < LC_DONE; s++) {
		enum lc_state at = s;
		int steps = 0;

		while (at != LC_DONE && steps++ < 10) {
			const struct lc_row *r = lifecycle_step(at, at == LC_PENDING ? LC_START_FAILED :
								LC_GONE);

			ck_assert_ptr_nonnull(r);
			at = r->to;
		}
		ck_assert_int_eq(at, LC_DONE);
	}
}
END_TEST

START_TEST(test_deadlines)
{
	ck_assert_int_eq(lifecycle_deadline(LC_PENDING), LC_DL_NONE);
	ck_assert_int_eq(lifecycle_deadline(LC_BOOTING), LC_DL_BOOT);
	ck_assert_int_eq(lifecycle_deadline(LC_RUNNING), LC_DL_PROGRESS);
	ck_assert_int_eq(lifecycle_deadline(LC_ENDING), LC_DL_POWEROFF);
	ck_assert_int_eq(lifecycle_deadline(LC_KILLING), LC_DL_NONE);
	ck_assert_int_eq(lifecycle_deadline(LC_DONE), LC_DL_NONE);
	ck_assert(!lifecycle_live(LC_PENDING) && !lifecycle_live(LC_DONE));
	ck_assert(lifecycle_live(LC_BOOTING) && lifecycle_live(LC_RUNNING) &&
		  lifecycle_live(LC_ENDING) && lifecycle_live(LC_KILLING));
}
END_TEST

/* lifecycle_outcome(): one line per row of its decision. */
START_TEST(test_outcomes)
{
	static const struct {
		struct lc_seen s;
		const char *status;
		enum lc_why why;
		int abnormal;
	} rows[] = {
		/* complete: ok, whatever else happened */
		{ { 1, 1, 0, LC_KILL_POWEROFF, 0, 1 }, "ok", LC_WHY_NONE, 0 },
		/* no hello */
		{ { 0, 0, 0, LC_KILL_BOOT, 0, 0 }, "boot-failed", LC_WHY_KILL, 0 },
		{ { 0, 0, 0, LC_KILL_START_FAILED, 0, 0 }, "boot-failed", LC_WHY_KILL, 0 },
		{ { 0, 0, 0, LC_KILL_INTERRUPTED, 1, 0 }, "boot-failed", LC_WHY_KILL, 0 },
		{ { 0, 0, 0, LC_KILL_NONE, 1, 0 }, "boot-failed", LC_WHY_RESET, 0 },
		{ { 0, 0, 0, LC_KILL_NONE, 1, 1 }, "boot-failed", LC_WHY_VM_EXIT, 0 },
		{ { 0, 0, 1, LC_KILL_NONE, 0, 0 }, "boot-failed", LC_WHY_VM_EXIT, 0 },
		/* hello, then a panic or silence */
		{ { 0, 1, 1, LC_KILL_PROGRESS, 1, 0 }, "crashed", LC_WHY_PANIC, 0 },
		{ { 0, 1, 1, LC_KILL_NONE, 0, 0 }, "crashed", LC_WHY_PANIC, 1 },
		{ { 0, 1, 0, LC_KILL_NONE, 1, 0 }, "crashed", LC_WHY_SILENT, 0 },
		{ { 0, 1, 0, LC_KILL_NONE, 0, 1 }, "crashed", LC_WHY_SILENT, 1 },
		/* hello, then stopped by kfarm */
		{ { 0, 1, 0, LC_KILL_PROGRESS, 0, 0 }, "timeout", LC_WHY_KILL, 0 },
		{ { 0, 1, 0, LC_KILL_POWEROFF, 0, 0 }, "timeout", LC_WHY_KILL, 0 },
		{ { 0, 1, 0, LC_KILL_INTERRUPTED, 0, 0 }, "timeout", LC_WHY_KILL, 0 },
		{ { 0, 1, 0, LC_KILL_CANARY, 0, 0 }, "timeout", LC_WHY_KILL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct lc_outcome o = lifecycle_outcome(&rows[i].s);

		ck_assert_msg(!strcmp(o.status, rows[i].status), "row %zu: %s, not %s", i, o.status,
			      rows[i].status);
		ck_assert_msg(o.why == rows[i].why, "row %zu: why %d, not %d", i, o.why, rows[i].why);
		ck_assert_msg(o.vm_abnormal == rows[i].abnormal, "row %zu: abnormal %d", i,
			      o.vm_abnormal);
	}
}
END_TEST

static Suite *lifecycle_suite(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *t = tcase_create("lifecycle");

	tcase_add_test(t, test_rows);
	tcase_add_test(t, test_every_state_ends);
	tcase_add_test(t, test_deadlines);
	tcase_add_test(t, test_outcomes);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lifecycle_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
