// SPDX-License-Identifier: MIT
/*
 * selftest-panic - crash the kernel through /proc/sysrq-trigger ("c").
 *
 * Tests the host's console scanner and guest-crash handling. Not in "all".
 * Only acts inside a kfarm guest: /proc/cmdline must carry a "kfarm." parameter,
 * so running it by mistake on a workstation records an error instead of
 * crashing the machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	char cmdline[4096];
	int fd;

	(void)arg;
	(void)v;
	read_small_file("/proc/cmdline", cmdline, sizeof(cmdline)); /* "" if unreadable */
	if (!strstr(cmdline, "kfarm.")) {
		obs_str(o, "error", "not-a-kfarm-guest");
		return REP_ERROR;
	}
	fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "c", 1) != 1) {
		obs_strf(o, "error", "sysrq:%s", errno_name(errno));
		return REP_ERROR;
	}
	obs_str(o, "error", "still-alive");
	return REP_ERROR;
}

const struct scenario scenario_selftest_panic = {
	.id = "selftest-panic",
	.group = "selftest",
	.desc = "crash the kernel via /proc/sysrq-trigger (VM only)",
	.run = run,
};
