// SPDX-License-Identifier: MIT
/*
 * step-then-detach - PTRACE_SINGLESTEP, then detach with 0.
 *
 * Set-up: R attaches C (stopped in read() on its "go" pipe), writes "go",
 * single-steps it once and waits for the SIGTRAP stop.
 * Action: R: PTRACE_DETACH with data 0.
 * Observes: the detach clears the single-step flag: C runs on and exits 0
 * instead of dying of a stray SIGTRAP.
 * Documented: ptrace-tests step-detach; kernel/ptrace.c ptrace_detach() calls
 * user_disable_single_step(); ptrace(2) PTRACE_SINGLESTEP.
 * Expected on 6.x: stop signal:SIGTRAP, exited:0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string.h>

#include "lab.h"
#include "scenarios.h"

static void tracee(struct lab *L, void *arg)
{
	struct rlimit nocore = { 0, 0 };

	(void)arg;
	setrlimit(RLIMIT_CORE, &nocore);
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_go(L);
	lab_tracer_ptrace(t, "singlestep", PTRACE_SINGLESTEP, L->c, NULL, NULL);
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	/*
	 * x86 reports a step that ends a syscall as TRAP_BRKPT and one over an
	 * instruction as TRAP_TRACE; which one depends on whether C's read() had
	 * returned when the step began, a matter of timing, not of the detach.
	 */
	{
		const char *si = obs_get(t, "stop_si");

		if (si && (!strcmp(si, "SIGTRAP/TRAP_BRKPT/-") || !strcmp(si, "SIGTRAP/TRAP_TRACE/-")))
			obs_str(t, "stop_si", "SIGTRAP/TRAP_BRKPT|TRAP_TRACE/-");
	}
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	return lab_run(o, v, tracee, tracer, NULL);
}

const struct scenario scenario_step_then_detach = {
	.id = "step-then-detach",
	.group = "sds",
	.desc = "PTRACE_SINGLESTEP, then detach with 0 (ptrace-tests step-detach)",
	.run = run,
	.expect = "stop signal:SIGTRAP, exited:0.",
	.expect_obs = "stop=signal:SIGTRAP;tracee=exited:0",
	.axes = ATTACH_AXES,
};
