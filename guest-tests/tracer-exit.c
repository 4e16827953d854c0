// SPDX-License-Identifier: MIT
/*
 * tracer-exit-sds, tracer-exit-group-stop, tracer-exit-exitkill - the tracer
 * exits instead of detaching.
 *
 * Set-up: sds: C (SA_SIGINFO handler for SIGUSR1) stops in an SDS for SIGUSR1
 * (tgkill) under R. group-stop: C stops itself with SIGSTOP, P sees the group
 * stop, R attaches and takes the group-stop report. exitkill: as sds, with
 * PTRACE_O_EXITKILL set after the attach ("unsupported" where SETOPTIONS
 * refuses it with EINVAL: before 3.8).
 * Action: R _exit()s while C is in that stop; exit_ptrace() detaches C.
 * Observes: whether the pending SDS signal is delivered (handler), where C
 * rests or how it ended, P's SIGCHLDs.
 * Documented: kernel/ptrace.c exit_ptrace() -> __ptrace_detach() ->
 * __ptrace_unlink() wakes a traced C without touching its exit_code (unlike
 * PTRACE_DETACH, which sets it to the data); R's waitpid() of the stop already
 * cleared it (kernel/exit.c wait_task_stopped(): "*p_code = 0" without
 * WNOWAIT), so ptrace_signal() sees 0 and the SDS signal is dropped. C goes
 * back to the group stop when SIGNAL_STOP_STOPPED. PT_EXITKILL -> SIGKILL;
 * ptrace(2) PTRACE_O_EXITKILL ("send a SIGKILL signal to the tracee if the
 * tracer exits").
 * Expected on 6.x: sds: signal dropped, handler not-run, exited:0; group-stop:
 * stopped:SIGSTOP; exitkill: killed:SIGKILL, handler not-run.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>

#include "gs.h"
#include "lab.h"
#include "scenarios.h"
#include "sds.h"

static const struct sds_spec spec_sds = {
	.stop_sig = SIGUSR1, .handle = { SIGUSR1 }, .tracer_exits = 1,
};

static const struct sds_spec spec_exitkill = {
	.stop_sig = SIGUSR1, .handle = { SIGUSR1 }, .tracer_exits = 1,
	.options = PTRACE_O_EXITKILL,
};

static const struct gs_spec spec_group_stop = { .detach_sig = GS_TRACER_EXITS };

const struct scenario scenario_tracer_exit_sds = {
	.id = "tracer-exit-sds",
	.group = "tracer-exit",
	.desc = "R exits while C is in an SDS for SIGUSR1 (handler)",
	.run = sds_scenario,
	.arg = &spec_sds,
	.expect = "the SDS signal is dropped (R's wait consumed it): handler not-run, exited:0.",
	.expect_obs = "handler=not-run;tracee=exited:0",
	.axes = SDS_EXIT_AXES,
};

const struct scenario scenario_tracer_exit_group_stop = {
	.id = "tracer-exit-group-stop",
	.group = "tracer-exit",
	.desc = "R exits while C (attached when stopped) is in a group stop",
	.run = gs_scenario,
	.arg = &spec_group_stop,
	.expect = "C goes back to the group stop: stopped:SIGSTOP, sigchld CLD_STOPPED only.",
	.expect_obs = "tracee=stopped:SIGSTOP;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = GS_AXES,
	.impossible = gs_impossible,
};

const struct scenario scenario_tracer_exit_exitkill = {
	.id = "tracer-exit-exitkill",
	.group = "tracer-exit",
	.desc = "R (PTRACE_O_EXITKILL) exits while C is in an SDS",
	.run = sds_scenario,
	.arg = &spec_exitkill,
	.expect = "killed:SIGKILL, handler not-run, sigchld CLD_KILLED.",
	.expect_obs = "tracee=killed:SIGKILL;handler=not-run;sigchld=CLD_KILLED:SIGKILL:self",
	.axes = SDS_EXIT_AXES,
};
