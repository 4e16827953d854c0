// SPDX-License-Identifier: MIT
/*
 * sds-zero - detach from a signal-delivery stop with 0: the signal is suppressed.
 *
 * Set-up: C has an SA_SIGINFO handler for SIGUSR1; it stops in an SDS for
 * SIGUSR1 (tgkill) under R.
 * Action: R: PTRACE_DETACH with data 0.
 * Observes: the handler must not run; C goes on and exits 0.
 * Documented: ptrace(2) "Signal injection and suppression" (restarting with 0
 * suppresses the signal); kernel/signal.c ptrace_signal() returns 0 for
 * exit_code 0.
 * Expected on 6.x: handler not-run, exited:0.
 */
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec = {
	.stop_sig = SIGUSR1, .detach_sig = 0, .handle = { SIGUSR1 },
};


const struct scenario scenario_sds_zero = {
	.id = "sds-zero",
	.group = "sds",
	.desc = "SDS on SIGUSR1 (handler), detach with 0: suppressed",
	.run = sds_scenario,
	.arg = &spec,
	.expect = "handler not-run, exited:0.",
	.expect_obs = "handler=not-run;tracee=exited:0",
	.axes = SDS_AXES,
};
