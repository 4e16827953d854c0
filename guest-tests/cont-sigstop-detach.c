// SPDX-License-Identifier: MIT
/*
 * cont-sigstop-detach - resume with SIGSTOP, wait for the group stop, detach 0.
 *
 * Set-up: R attaches C (PTRACE_ATTACH), waits for the attach stop.
 * Action: R: PTRACE_CONT with SIGSTOP (C enters a group stop, which R sees),
 * then PTRACE_DETACH with 0.
 * Observes: where C rests, the SIGCHLDs its real parent P got.
 * Documented: since 3.1 a ptraced task's completed group stop notifies the
 * real parent too (kernel/signal.c ptrace_stop(): gstop_done &&
 * ptrace_reparented -> do_notify_parent_cldstop), and the detached tracee goes
 * back to the group stop (kernel/ptrace.c __ptrace_unlink()).
 * Expected on 6.x: stop signal:SIGSTOP, stopped:SIGSTOP, sigchld CLD_STOPPED.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, (void *)(long)variant_stop_sig(&L->v));
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

static const char *impossible(const struct variant *v)
{
	if (v->v[AX_ATTACH] == ATTACH_SEIZE)
		return "PTRACE_CONT's signal is ignored in the PTRACE_EVENT_STOP of a seize: "
		       "no signal-delivery stop to inject the stop signal from";
	return NULL;
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	return lab_run(o, v, lab_tracee_go_exit, tracer, NULL);
}

const struct scenario scenario_cont_sigstop_detach = {
	.id = "cont-sigstop-detach",
	.group = "group-stop",
	.desc = "attach, PTRACE_CONT with SIGSTOP, wait, detach with 0",
	.run = run,
	.expect = "stop signal:SIGSTOP, stopped:SIGSTOP, sigchld CLD_STOPPED.",
	.expect_obs = "stop=signal:SIGSTOP;tracee=stopped:SIGSTOP;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = ATTACH_AXES | AXIS(AX_STOP),
	.impossible = impossible,
};
