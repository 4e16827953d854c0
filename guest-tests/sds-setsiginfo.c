// SPDX-License-Identifier: MIT
/*
 * sds-setsiginfo - PTRACE_SETSIGINFO before a detach with the same signal.
 *
 * Set-up: C has an SA_SIGINFO handler for SIGUSR1; it stops in an SDS for
 * SIGUSR1 (tgkill) under R. R reads the siginfo (GETSIGINFO) and writes it
 * back with si_code SI_QUEUE, si_pid = R, si_uid 0.
 * Action: R: PTRACE_DETACH with data SIGUSR1.
 * Observes: the siginfo the handler sees.
 * Documented: ptrace(2) PTRACE_SETSIGINFO; kernel/signal.c ptrace_signal()
 * keeps the tracer's siginfo when the signal is unchanged.
 * Expected on 6.x: handler ran, si_code SI_QUEUE, si_pid tracer.
 */
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec = {
	.stop_sig = SIGUSR1, .detach_sig = SIGUSR1, .handle = { SIGUSR1 }, .setsiginfo = 1,
};


const struct scenario scenario_sds_setsiginfo = {
	.id = "sds-setsiginfo",
	.group = "sds",
	.desc = "SDS on SIGUSR1, SETSIGINFO (SI_QUEUE from R), detach with SIGUSR1",
	.run = sds_scenario,
	.arg = &spec,
	.expect = "handler ran, si_code SI_QUEUE, si_pid tracer.",
	.expect_obs = "handler=ran;si_code=SI_QUEUE;si_pid=tracer",
	.axes = SDS_AXES,
};
