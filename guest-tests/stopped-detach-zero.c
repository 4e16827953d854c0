// SPDX-License-Identifier: MIT
/*
 * stopped-detach-zero - attach to a stopped child, detach with 0.
 *
 * Set-up: C stops itself with SIGSTOP (group stop); P sees CLD_STOPPED; R
 * attaches (PTRACE_ATTACH) and waits for the report.
 * Action: R: PTRACE_DETACH with data 0.
 * Observes: where C rests afterwards, its pending signals (PTRACE_ATTACH also
 * queues a SIGSTOP), the SIGCHLDs P got.
 * Documented: since the 2011 job-control rework (3.1+: JOBCTL_*,
 * kernel/ptrace.c __ptrace_unlink() reinstates JOBCTL_STOP_PENDING while
 * SIGNAL_STOP_STOPPED) a detached tracee goes back to the group stop; around
 * 2.6.29 ptrace_detach() woke it unconditionally (it would run and exit 0).
 * ptrace(2) "Attaching and detaching".
 * Expected on 6.x: stopped:SIGSTOP, state stopped, sigchld CLD_STOPPED (only).
 */
#include "gs.h"
#include "lab.h"
#include "scenarios.h"

static const struct gs_spec spec = { .detach_sig = 0 };

const struct scenario scenario_stopped_detach_zero = {
	.id = "stopped-detach-zero",
	.group = "group-stop",
	.desc = "child stops itself (SIGSTOP), R attaches, detaches with 0",
	.run = gs_scenario,
	.arg = &spec,
	.expect = "stopped:SIGSTOP, state stopped, sigchld CLD_STOPPED (only).",
	.expect_obs = "tracee=stopped:SIGSTOP;state=stopped;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = GS_AXES,
	.impossible = gs_impossible,
};
