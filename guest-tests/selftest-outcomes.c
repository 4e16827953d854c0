// SPDX-License-Identifier: MIT
/*
 * selftest-outcomes - a scenario whose every repetition observes something
 * new: the repetition's number (a counter in /tmp, as selftest-coin's), so a
 * cell of N repetitions has N distinct outcomes.
 *
 * Tests the bound on a cell's outcomes (kf1.h's KF1_MAX_OUTCOMES): the guest
 * keeps the first 1023 and counts every later one as {"rep": "truncated"},
 * and the host takes the record. Not in "all".
 */
#include "lab.h"
#include "scenarios.h"

#define COUNTER "/tmp/kfarm-selftest-outcomes"

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	long n;

	(void)arg;
	(void)v;
	if (lab_counter_next(COUNTER, &n) < 0) {
		obs_str(o, "error", "counter");
		return REP_ERROR;
	}
	obs_int(o, "n", n);
	return REP_OK;
}

const struct scenario scenario_selftest_outcomes = {
	.id = "selftest-outcomes",
	.group = "selftest",
	.desc = "a new outcome every repetition (tests the bound on a cell's outcomes)",
	.run = run,
	.expect = "n=0, n=1, n=2, ...: as many outcomes as repetitions, up to the bound.",
};
