// SPDX-License-Identifier: MIT
/*
 * mt-detach-sigstop-all - detach every thread of a stopped group with SIGSTOP.
 *
 * Set-up: C has three threads (main + two in pause()); the main thread stops
 * the group with SIGSTOP; P sees the group stop. R attaches every thread
 * (PTRACE_ATTACH each tid) and waits for each one's report.
 * Action: R: PTRACE_DETACH each thread, the last created first, with SIGSTOP.
 * Observes: every thread's State ("threads" tally) and private pending set,
 * P's wait report and SIGCHLDs.
 * Documented: ptrace-tests detach-stopped ("we detach them, re-injecting
 * SIGSTOP. The bug is that not all threads remain stopped"; vanilla up to
 * 2.6.29-rc5 left the leader sleeping and others running); since 3.1
 * kernel/ptrace.c __ptrace_unlink() reinstates JOBCTL_STOP_PENDING while
 * SIGNAL_STOP_STOPPED, and the SIGSTOP passed from a group-stop trap is
 * dropped (the 2009 utrace thread: "In a (converted) job stop ... drops the
 * passed signr on the floor").
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
	mt_detach_each(L, t, variant_stop_sig(&L->v));
}

static const struct mt_spec spec = { .tracer = tracer };

const struct scenario scenario_mt_detach_sigstop_all = {
	.id = "mt-detach-sigstop-all",
	.group = "group-stop",
	.desc = "3 threads in a group stop, all attached, each detached with SIGSTOP",
	.run = mt_scenario,
	.arg = &spec,
	.expect = "every thread stays stopped: threads stopped*3, stopped:SIGSTOP, CLD_STOPPED only.",
	.expect_obs = "threads=stopped*3;tracee=stopped:SIGSTOP;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = MT_AXES,
};
