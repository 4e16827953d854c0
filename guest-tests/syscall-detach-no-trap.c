// SPDX-License-Identifier: MIT
/*
 * syscall-detach-no-trap - syscall tracing does not outlive a detach.
 *
 * Set-up: R attaches C (in read() on its "go" pipe), sets
 * PTRACE_O_TRACESYSGOOD, writes "go" and takes two PTRACE_SYSCALL stops
 * (entry and exit of C's read()); C then blocks in a second read().
 * Action: R: PTRACE_DETACH with 0, PTRACE_ATTACH again at once, wait.
 * Observes: the first stop after the re-attach is the attach SIGSTOP, not a
 * stale syscall stop; after a second "go" and detach C exits 0.
 * Documented: ptrace-tests tif-syscall-trace-after-detach; kernel/ptrace.c
 * __ptrace_detach() -> ptrace_disable()/clear TIF_SYSCALL_TRACE
 * (SYSCALL_WORK_SYSCALL_TRACE on 5.11+).
 * Expected on 6.x: stop_reattach signal:SIGSTOP, exited:0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

static void tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	lab_tracee_wait_go(L);
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int i, st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
		      (void *)(long)PTRACE_O_TRACESYSGOOD);
	lab_tracer_go(L);
	for (i = 0; i < 2; i++) {
		lab_tracer_ptrace(t, "syscall", PTRACE_SYSCALL, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, i ? "stop_exit" : "stop_entry", &st) < 0)
			return;
	}
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
	if (lab_tracer_ptrace(t, "reattach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "stop_reattach", &st) < 0)
		return;
	lab_tracer_go(L);
	lab_tracer_ptrace(t, "detach_again", PTRACE_DETACH, L->c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	return lab_run(o, v, tracee, tracer, NULL);
}

const struct scenario scenario_syscall_detach_no_trap = {
	.id = "syscall-detach-no-trap",
	.group = "syscall-event",
	.desc = "two syscall stops, detach 0, re-attach: first stop is the attach SIGSTOP",
	.run = run,
	.expect = "stop_reattach signal:SIGSTOP, exited:0.",
	.expect_obs = "stop_reattach=signal:SIGSTOP;tracee=exited:0",
	.axes = ATTACH_AXES,
};
