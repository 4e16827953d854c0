// SPDX-License-Identifier: MIT
/*
 * gs-detach-with-sig-usr1, gs-detach-with-sig-kill - detach with a signal
 * from a group stop.
 *
 * Set-up: C (SA_SIGINFO handler for SIGUSR1) stops itself with SIGSTOP; R
 * attaches to the stopped C; its report is a group stop: PTRACE_GETSIGINFO
 * fails with EINVAL (no last_siginfo).
 * Action: R: PTRACE_DETACH with data SIGUSR1, or with SIGKILL.
 * Observes: whether the signal has any effect: handler, how C ends/rests.
 * Documented: the 2009 utrace thread (reference/): "In a (converted) job stop
 * or non-signal, non-syscall ptrace stop the tracee resumes and drops the
 * passed signr on the floor"; since 3.1 the detached tracee goes back to the
 * group stop (kernel/ptrace.c __ptrace_unlink()); ptrace(2) "Group-stop"
 * (GETSIGINFO EINVAL) and PTRACE_DETACH.
 * Expected on 6.x: both variants: signal dropped, stopped:SIGSTOP, handler not-run.
 */
#include "gs.h"
#include "lab.h"
#include "scenarios.h"

static const struct gs_spec spec_usr1 = { .detach_sig = SIGUSR1, .getsiginfo = 1 };

static const struct gs_spec spec_kill = { .detach_sig = SIGKILL, .getsiginfo = 1 };

const struct scenario scenario_gs_detach_with_sig_usr1 = {
	.id = "gs-detach-with-sig-usr1",
	.group = "group-stop",
	.desc = "attach to a stopped child, detach with SIGUSR1 (handler)",
	.run = gs_scenario,
	.arg = &spec_usr1,
	.expect = "signal dropped: stopped:SIGSTOP, handler not-run.",
	.expect_obs = "tracee=stopped:SIGSTOP;handler=not-run",
	.axes = GS_AXES,
	.impossible = gs_impossible,
};

const struct scenario scenario_gs_detach_with_sig_kill = {
	.id = "gs-detach-with-sig-kill",
	.group = "group-stop",
	.desc = "attach to a stopped child, detach with SIGKILL",
	.run = gs_scenario,
	.arg = &spec_kill,
	.expect = "signal dropped: stopped:SIGSTOP (SIGKILL has no effect).",
	.expect_obs = "tracee=stopped:SIGSTOP;handler=not-run",
	.axes = GS_AXES,
	.impossible = gs_impossible,
};
