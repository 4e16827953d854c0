// SPDX-License-Identifier: MIT
/*
 * selftest-forkbomb, selftest-memhog - payloads that turn on their guest: one
 * forks until the kernel refuses, every child forking too; the other touches
 * memory until the OOM killer steps in.
 *
 * Test the runner and the host (make test-faults): the cell fails or the guest
 * is marked, the guest's earlier cells and the run survive. Not in "all".
 * Only act inside a kfarm guest (a "kfarm." parameter on /proc/cmdline), so
 * running them by mistake on a workstation records an error instead.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

static int in_guest(struct obs *o)
{
	char cmdline[4096];

	read_small_file("/proc/cmdline", cmdline, sizeof(cmdline)); /* "" if unreadable */
	if (strstr(cmdline, "kfarm."))
		return 1;
	obs_str(o, "error", "not-a-kfarm-guest");
	return 0;
}

static int forkbomb(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	(void)v;
	if (!in_guest(o))
		return REP_ERROR;
	for (;;)
		if (fork() < 0)
			pause();
	return REP_ERROR;
}

static int memhog(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	(void)v;
	if (!in_guest(o))
		return REP_ERROR;
	for (;;) {
		size_t n = 1 << 20;
		char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			pause();
		else
			memset(p, 0xa5, n);
	}
	return REP_ERROR;
}

const struct scenario scenario_selftest_forkbomb = {
	.id = "selftest-forkbomb",
	.group = "selftest",
	.desc = "fork until the kernel refuses, every child too (VM only)",
	.run = forkbomb,
};

const struct scenario scenario_selftest_memhog = {
	.id = "selftest-memhog",
	.group = "selftest",
	.desc = "touch memory until the OOM killer steps in (VM only)",
	.run = memhog,
};
