// SPDX-License-Identifier: MIT
/*
 * mt-detach-one - detach only one thread of a stopped, fully attached group.
 *
 * Set-up: C has three threads (main + two in pause()); the main thread stops
 * the group with SIGSTOP; P sees the group stop. R attaches every thread and
 * waits for each one's report.
 * Action: R: PTRACE_DETACH of thread 1 only, with 0; R polls /proc until that
 * thread is no longer running and records every thread's State ("mid_"
 * keys); then R exits (exit_ptrace() detaches the other two).
 * Observes: whether the one detached thread runs while its group is stopped
 * and the others are still traced; the final states; P's SIGCHLDs.
 * Documented: the 2009 utrace thread (reference/): "I'm not really sure what
 * would go different in an oddball case where you PTRACE_DETACH'd one thread
 * but the others were actually left stopped ... that usage mode must already
 * be pretty broken"; since 3.1 kernel/ptrace.c __ptrace_unlink() sends a
 * detached thread back to the group stop while SIGNAL_STOP_STOPPED.
 * Expected on 6.x: mid_threads stopped*1,tracing-stop*2; at the end threads
 * stopped*3, stopped:SIGSTOP, sigchld CLD_STOPPED only.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>

#include "lab.h"
#include "mt.h"
#include "scenarios.h"

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	char state[64];

	(void)arg;
	if (lab_tracer_attach_all(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->sh->tid[1], NULL, NULL);
	if (procfs_wait_state(L->sh->tid[1], "stopped|sleeping|zombie|gone", wait_limit_ms, state,
			    sizeof(state)) < 0)
		obs_str(t, "mid_wait", "timeout");
	lab_threads_observe(L, t, "mid_");
}

static const struct mt_spec spec = { .tracer = tracer };

const struct scenario scenario_mt_detach_one = {
	.id = "mt-detach-one",
	.group = "group-stop",
	.desc = "3 threads in a group stop, all attached, only one detached (0), then R exits",
	.run = mt_scenario,
	.arg = &spec,
	.expect = "the detached thread goes back to the group stop (mid: stopped*1,tracing-stop*2); all stopped.",
	.expect_obs = "mid_threads=stopped*1,tracing-stop*2;threads=stopped*3",
	.axes = MT_AXES,
};
