// SPDX-License-Identifier: MIT
/*
 * sds-sigstop - detach from a signal-delivery stop with SIGSTOP.
 *
 * Set-up: C has an SA_SIGINFO handler for SIGUSR1; it stops in an SDS for
 * SIGUSR1 (tgkill) under R.
 * Action: R: PTRACE_DETACH with data SIGSTOP.
 * Observes: C enters a group stop after the detach; P gets CLD_STOPPED.
 * Documented: kernel/signal.c get_signal(): a stop signal returned by
 * ptrace_signal() runs do_signal_stop(), which notifies the real parent
 * (do_notify_parent_cldstop); the 2009 utrace thread: "it is reliable today
 * that you'll get another SIGCHLD and wait wakeup".
 * Expected on 6.x: stopped:SIGSTOP, state stopped, sigchld CLD_STOPPED.
 */
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec = {
	.stop_sig = SIGUSR1, .detach_sig = SIGSTOP, .handle = { SIGUSR1 },
};


const struct scenario scenario_sds_sigstop = {
	.id = "sds-sigstop",
	.group = "sds",
	.desc = "SDS on SIGUSR1, detach with SIGSTOP: P sees CLD_STOPPED",
	.run = sds_scenario,
	.arg = &spec,
	.expect = "stopped:SIGSTOP, state stopped, sigchld CLD_STOPPED.",
	.expect_obs = "tracee=stopped:SIGSTOP;state=stopped;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = SDS_AXES | AXIS(AX_STOP),
};
