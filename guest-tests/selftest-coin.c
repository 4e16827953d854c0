// SPDX-License-Identifier: MIT
/*
 * selftest-coin - a scenario marked deterministic whose outcome is a coin
 * toss (the parity of a fresh process's pid and of the clock).
 *
 * Tests what the farm does with a deterministic cell that shows more than one
 * outcome: the cell is still reported (never "same"), it gets boots of its
 * own (the other boots at its SMP size, or follow-up guests), and an A/A
 * comparison judges it on those boots. Not in "all".
 */
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

static int run(struct obs *o)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	obs_str(o, "coin", ((getpid() ^ (ts.tv_nsec >> 10)) & 1) ? "heads" : "tails");
	return REP_OK;
}

const struct scenario scenario_selftest_coin = {
	.id = "selftest-coin",
	.group = "selftest",
	.desc = "marked deterministic, but a coin toss (tests a second outcome)",
	.run = run,
	.expect = "heads or tails: two outcomes on a cell that claims one.",
};
