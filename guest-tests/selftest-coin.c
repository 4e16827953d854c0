// SPDX-License-Identifier: MIT
/*
 * selftest-coin - a scenario marked deterministic whose outcome alternates
 * between "heads" and "tails" from one repetition to the next (a counter in
 * /tmp, so every boot that runs it twice or more shows both).
 *
 * Tests what the farm does with a deterministic cell that shows more than one
 * outcome: the cell is still reported (never "same"), it gets boots of its
 * own (the other boots at its SMP size, or follow-up guests), and an A/A
 * comparison judges it on those boots. Not in "all".
 */
#include "lab.h"
#include "scenarios.h"

#define COUNTER "/tmp/kfarm-selftest-coin"

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	long n;

	(void)arg;
	(void)v;
	if (lab_counter_next(COUNTER, &n) < 0) {
		obs_str(o, "error", "counter");
		return REP_ERROR;
	}
	obs_str(o, "coin", n % 2 ? "tails" : "heads");
	return REP_OK;
}

const struct scenario scenario_selftest_coin = {
	.id = "selftest-coin",
	.group = "selftest",
	.desc = "marked deterministic, but alternates heads and tails (tests a second outcome)",
	.run = run,
	.expect = "heads, tails, heads, ...: two outcomes on a cell that claims one.",
	/* A claim it breaks every other time: tests that --strict checks claims. */
	.expect_obs = "coin=heads",
};
