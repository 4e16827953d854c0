// SPDX-License-Identifier: MIT
/*
 * sds-sigkill - detach from a signal-delivery stop with SIGKILL.
 *
 * Set-up: C has an SA_SIGINFO handler for SIGUSR1; it stops in an SDS for
 * SIGUSR1 (tgkill) under R.
 * Action: R: PTRACE_DETACH with data SIGKILL.
 * Observes: how C ended.
 * Documented: the 2009 utrace thread (reference/): "Today's manifest behavior
 * ... this SIGKILL will get through and take effect (in signal stops)";
 * kernel/signal.c ptrace_signal() returns SIGKILL to get_signal().
 * Expected on 6.x: killed:SIGKILL, handler not-run, sigchld CLD_KILLED.
 */
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec = {
	.stop_sig = SIGUSR1, .detach_sig = SIGKILL, .handle = { SIGUSR1 },
};


const struct scenario scenario_sds_sigkill = {
	.id = "sds-sigkill",
	.group = "sds",
	.desc = "SDS on SIGUSR1, detach with SIGKILL",
	.run = sds_scenario,
	.arg = &spec,
	.expect = "killed:SIGKILL, handler not-run, sigchld CLD_KILLED.",
	.expect_obs = "tracee=killed:SIGKILL;handler=not-run;sigchld=CLD_KILLED:SIGKILL:self",
	.axes = SDS_AXES,
};
