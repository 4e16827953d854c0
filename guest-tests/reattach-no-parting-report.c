// SPDX-License-Identifier: MIT
/*
 * reattach-no-parting-report - detach with a fatal parting signal and
 * re-attach at once: the parting signal must not be reported to the new
 * attachment.
 *
 * Set-up: C (no handlers) stops in an SDS for SIGUSR1 (tgkill) under R.
 * Action: R: PTRACE_DETACH with SIGUSR2 (default action terminate), then at
 * once PTRACE_ATTACH again; if that succeeds R waits for the first report
 * ("reattach_stop"); a SIGSTOP stop is resumed with PTRACE_CONT 0 and the
 * next report recorded ("after_cont"); any other stop is detached with its
 * own signal.
 * Observes: the re-attach's result and the reports; the bug is a report of
 * "signal:SIGUSR2" (the parting signal caught again by the new tracer).
 * Racy by design: whether C has died before the re-attach (EPERM: it is a
 * zombie), dies between the attach and its SIGSTOP, or takes the SIGSTOP
 * first depends on which CPU runs first; the outcomes form a distribution.
 * Documented: ptrace-tests attach-into-signal ("Forbidden to catch pending
 * signal from PTRACE_DETACH"; it accepts ESRCH/EPERM, a SIGPIPE death or a
 * SIGSTOP stop); the 2009 utrace thread ("we don't want this to see the
 * detached engine's action as incoming state and report it again").
 * Expected on 6.x: never reattach_stop signal:SIGUSR2; C always ends
 * killed:SIGUSR2.
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
	lab_tracee_tkill(SIGUSR1);
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, (void *)(long)SIGUSR2);
	if (lab_tracer_ptrace(t, "reattach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "reattach_stop", &st) < 0)
		return;
	if (!WIFSTOPPED(st))
		return;
	if (WSTOPSIG(st) != SIGSTOP) {
		lab_tracer_ptrace(t, "detach_again", PTRACE_DETACH, L->c, NULL,
				  (void *)(long)WSTOPSIG(st));
		return;
	}
	lab_tracer_ptrace(t, "cont_again", PTRACE_CONT, L->c, NULL, NULL);
	if (lab_tracer_stop(t, L->c, "after_cont", &st) < 0)
		return;
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	return lab_run(o, v, tracee, tracer, NULL);
}

const struct scenario scenario_reattach_no_parting_report = {
	.id = "reattach-no-parting-report",
	.group = "races",
	.desc = "detach with SIGUSR2 (fatal) from an SDS and re-attach at once",
	.run = run,
	.racy = 1,
	.reps_mult = 4,
	.expect = "never a reattach_stop signal:SIGUSR2; C ends killed:SIGUSR2 (timing decides the path).",
	.expect_obs = "reattach_stop!=signal:SIGUSR2;tracee=killed:SIGUSR2",
};
