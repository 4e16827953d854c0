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
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

#define COUNTER "/tmp/kfarm-selftest-outcomes"

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	char buf[32] = "";
	long n = 0;
	int fd = open(COUNTER, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ssize_t len;

	(void)arg;
	(void)v;
	if (fd < 0) {
		obs_str(o, "error", "counter");
		return REP_ERROR;
	}
	len = read(fd, buf, sizeof(buf) - 1);
	if (len > 0)
		sscanf(buf, "%ld", &n);
	len = snprintf(buf, sizeof(buf), "%ld\n", n + 1);
	if (pwrite(fd, buf, (size_t)len, 0) != len) {
		close(fd);
		obs_str(o, "error", "counter");
		return REP_ERROR;
	}
	close(fd);
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
