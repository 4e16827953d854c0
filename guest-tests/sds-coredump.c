// SPDX-License-Identifier: MIT
/*
 * sds-coredump - detach from a signal-delivery stop with SIGQUIT: a core dump.
 *
 * Set-up: core_pattern must write a plain file in the dumping process's
 * directory ("core", "core.%p", ...). Inside a kfarm guest (/proc/cmdline
 * holds "kfarm.") the scenario writes "core" into
 * /proc/sys/kernel/core_pattern if it is anything else; elsewhere (a host) it
 * changes nothing and reports "unsupported" when the pattern is a pipe or
 * names a directory. C raises RLIMIT_CORE to its hard limit, moves into a
 * fresh directory made for it, and stops in an SDS for SIGUSR1 (tgkill) under R.
 * Action: R: PTRACE_DETACH with data SIGQUIT.
 * Observes: how C ended as P's waitid sees it (CLD_DUMPED gives
 * "killed:SIGQUIT+core", the WCOREDUMP bit), P's SIGCHLD, and whether a core
 * file appeared in C's directory ("core_file": "written" or "none"; removed
 * afterwards).
 * Documented: kernel/signal.c get_signal(): sig_kernel_coredump() -> do_coredump();
 * fs/coredump.c sets the 0x80 exit bit only when the dump was written
 * (coredump_finish(core_dumped)); signal(7) (SIGQUIT: Core); core(5)
 * (RLIMIT_CORE, core_pattern); the 2009 utrace thread ("Say it wants a core dump").
 * Expected on 6.x: killed:SIGQUIT+core, sigchld CLD_DUMPED, core_file written.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"
#include "sds.h"

#define CORE_PATTERN "/proc/sys/kernel/core_pattern"

static char core_dir[64];

static int read_text(const char *path, char *buf, size_t n)
{
	if (read_small_file(path, buf, n) < 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int in_kfarm_guest(void)
{
	char cmdline[4096];

	return read_text("/proc/cmdline", cmdline, sizeof(cmdline)) == 0 &&
	       strstr(cmdline, "kfarm.") != NULL;
}

/* 0 when core_pattern writes a file in the cwd; else -1 with obs "unsupported"/"error". */
static int core_pattern_ready(struct obs *o)
{
	char pat[256];
	int fd;

	if (read_text(CORE_PATTERN, pat, sizeof(pat)) < 0) {
		obs_strf(o, "unsupported", "core_pattern:%s", errno_name(errno));
		return -1;
	}
	if (pat[0] && pat[0] != '|' && !strchr(pat, '/'))
		return 0;
	if (!in_kfarm_guest()) {
		obs_str(o, "unsupported", pat[0] == '|' ? "core_pattern is a pipe (host left alone)"
							: "core_pattern names a directory (host left alone)");
		return -1;
	}
	fd = open(CORE_PATTERN, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "core", 4) != 4) {
		obs_strf(o, "error", "core_pattern-write:%s", errno_name(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* In C: allow a core and dump it into the private directory. */
static void prepare(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_CORE, &rl);
	}
	if (chdir(core_dir) < 0)
		_exit(98);
}

/* "written" if a core* file is in the directory; removes everything. */
static const char *core_collect(void)
{
	char path[sizeof(core_dir) + 300];
	const char *found = "none";
	struct dirent *de;
	DIR *d = opendir(core_dir);

	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if (!strncmp(de->d_name, "core", 4))
				found = "written";
			snprintf(path, sizeof(path), "%s/%s", core_dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(core_dir);
	return found;
}

static const struct sds_spec spec = {
	.stop_sig = SIGUSR1, .detach_sig = SIGQUIT, .prepare = prepare,
};

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	const char *base = access("/tmp", W_OK) == 0 ? "/tmp" : ".";
	int rc;

	if (core_pattern_ready(o) < 0)
		return obs_get(o, "error") ? REP_ERROR : REP_UNSUPPORTED;
	snprintf(core_dir, sizeof(core_dir), "%s/kfarm-core.XXXXXX", base);
	if (!mkdtemp(core_dir)) {
		obs_strf(o, "error", "mkdtemp:%s", errno_name(errno));
		return REP_ERROR;
	}
	rc = sds_scenario(o, v, &spec);
	obs_str(o, "core_file", core_collect());
	return rc;
}

const struct scenario scenario_sds_coredump = {
	.id = "sds-coredump",
	.group = "sds",
	.desc = "SDS on SIGUSR1, detach with SIGQUIT (RLIMIT_CORE raised): WCOREDUMP",
	.run = run,
	.expect = "killed:SIGQUIT+core, sigchld CLD_DUMPED, core_file written.",
	.expect_obs = "tracee=killed:SIGQUIT+core;sigchld=CLD_DUMPED:SIGQUIT:self;core_file=written",
	.axes = SDS_AXES,
};
