// SPDX-License-Identifier: MIT
/*
 * sds-same-sig - detach from a signal-delivery stop with the stop's own signal.
 *
 * Set-up: C has an SA_SIGINFO handler for SIGUSR1; R attaches (PTRACE_ATTACH),
 * continues it; C sends itself SIGUSR1 with tgkill and stops in an SDS.
 * Action: R: PTRACE_DETACH with data SIGUSR1.
 * Observes: whether the handler ran and the siginfo it saw, how C ended.
 * Documented: ptrace(2) "Signal-delivery-stop" and PTRACE_DETACH (the signal
 * passed is injected); kernel/signal.c ptrace_signal() keeps the original
 * siginfo when the signal is unchanged, so the handler sees SI_TKILL from self.
 * Expected on 6.x: handler ran, si_code SI_TKILL, si_pid self, exited:0.
 */
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec = {
	.stop_sig = SIGUSR1, .detach_sig = SIGUSR1, .handle = { SIGUSR1 },
};


const struct scenario scenario_sds_same_sig = {
	.id = "sds-same-sig",
	.group = "sds",
	.desc = "SDS on SIGUSR1 (handler), detach with SIGUSR1",
	.run = sds_scenario,
	.arg = &spec,
	.expect = "handler ran, si_code SI_TKILL, si_pid self, exited:0.",
	.expect_obs = "handler=ran;si_code=SI_TKILL;si_pid=self;tracee=exited:0",
	.axes = SDS_AXES,
};
