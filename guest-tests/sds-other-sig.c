// SPDX-License-Identifier: MIT
/*
 * sds-other-sig - detach from a signal-delivery stop with another signal.
 *
 * Set-up: C has no handlers; it stops in an SDS for SIGUSR1 (tgkill) under R.
 * Action: R: PTRACE_DETACH with data SIGUSR2.
 * Observes: how C ended (SIGUSR2's default action terminates).
 * Documented: ptrace(2) PTRACE_DETACH; ptrace-tests detach-parting-signal;
 * kernel/signal.c ptrace_signal() delivers the tracer's replacement signal.
 * Expected on 6.x: tracee killed:SIGUSR2, sigchld CLD_KILLED.
 */
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec = { .stop_sig = SIGUSR1, .detach_sig = SIGUSR2 };


const struct scenario scenario_sds_other_sig = {
	.id = "sds-other-sig",
	.group = "sds",
	.desc = "SDS on SIGUSR1 (no handler), detach with SIGUSR2",
	.run = sds_scenario,
	.arg = &spec,
	.expect = "tracee killed:SIGUSR2, sigchld CLD_KILLED.",
	.expect_obs = "tracee=killed:SIGUSR2;sigchld=CLD_KILLED:SIGUSR2:self",
	.axes = SDS_AXES,
};
