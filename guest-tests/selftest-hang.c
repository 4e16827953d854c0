// SPDX-License-Identifier: MIT
/*
 * selftest-hang - a repetition that never ends (pause() forever).
 *
 * Tests the runner's timeout: the cell must come out "timeout" after
 * --timeout-ms per repetition, with no process left behind. Not in "all".
 */
#include <unistd.h>

#include "scenarios.h"

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	(void)v;
	(void)o;
	for (;;)
		pause();
	return 0;
}

const struct scenario scenario_selftest_hang = {
	.id = "selftest-hang",
	.group = "selftest",
	.desc = "the repetition blocks forever (tests timeouts)",
	.run = run,
};
