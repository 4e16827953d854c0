// SPDX-License-Identifier: MIT
/*
 * mt-detach-zero-all - detach every thread of a stopped group with 0.
 *
 * Set-up: C has three threads (main + two in pause()); the main thread stops
 * the group with SIGSTOP; P sees the group stop. R attaches every thread
 * (PTRACE_ATTACH each tid) and waits for each one's report.
 * Action: R: PTRACE_DETACH each thread, the last created first, with 0 (the "loop of PTRACE_DETACH" case).
 * Observes: every thread's State ("threads" tally) and private pending set,
 * P's wait report and SIGCHLDs.
 * Documented: the 2009 utrace thread (reference/): "if the tracer does a loop
 * of PTRACE_DETACH on each tracee thread, then the result today [2.6.31] is
 * probably pretty consistent ...: they all get back to running, even if the
 * SIGNAL_STOP_STOPPED flag is still set"; since 3.1 kernel/ptrace.c
 * __ptrace_unlink() reinstates JOBCTL_STOP_PENDING while SIGNAL_STOP_STOPPED,
 * so each detached thread goes back to the group stop.
 * Expected on 6.x: threads stopped*3 (each with the attach SIGSTOP pending),
 * stopped:SIGSTOP, sigchld CLD_STOPPED only.
 */
#define _GNU_SOURCE
#include <signal.h>

#include "lab.h"
#include "mt.h"
#include "scenarios.h"

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	(void)arg;
	if (lab_tracer_attach_all(L, t) < 0)
		return;
	mt_detach_each(L, t, 0);
}

static const struct mt_spec spec = { .tracer = tracer };

const struct scenario scenario_mt_detach_zero_all = {
	.id = "mt-detach-zero-all",
	.group = "group-stop",
	.desc = "3 threads in a group stop, all attached, each detached with 0",
	.run = mt_scenario,
	.arg = &spec,
	.expect = "every thread stays stopped: threads stopped*3, stopped:SIGSTOP, CLD_STOPPED only.",
	.expect_obs = "threads=stopped*3;tracee=stopped:SIGSTOP;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = MT_AXES,
};
