// SPDX-License-Identifier: MIT
/*
 * attach-stopped-first-report - attach to a stopped child, SIGCONT, then the
 * tracer's first report.
 *
 * Set-up: C stops itself with SIGSTOP (group stop); P sees CLD_STOPPED and
 * collects it. R: PTRACE_ATTACH (no wait yet), hands the turn to P, which
 * sends SIGCONT to C and hands it back.
 * Action: R waits for its first report, reads PTRACE_GETSIGINFO (EINVAL for a
 * group-stop report, 0 for a signal-delivery stop), detaches with 0.
 * Observes: the first report and its kind, where C goes after the detach, P's
 * SIGCHLDs (SIGCHLD does not queue: only the first after the checkpoint shows).
 * Documented: kernel/ptrace.c ptrace_attach() (a stopped tracee is re-trapped
 * with JOBCTL_TRAP_STOP and the attach waits for JOBCTL_TRAPPING to clear, so
 * it is in TASK_TRACED before PTRACE_ATTACH returns: SIGCONT, which only wakes
 * __TASK_STOPPED, does not resume it but flushes the queued attach SIGSTOP
 * and ends SIGNAL_STOP_STOPPED); ptrace(2) "Attaching and detaching";
 * ptrace-tests attach-wait-on-stopped, attach-sigcont-wait.
 * Expected on 6.x: stop signal:SIGSTOP (getsiginfo EINVAL: the group stop),
 * then C runs on: exited:0, sigchld CLD_STOPPED,CLD_CONTINUED.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

static void tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_tkill(variant_stop_sig(&L->v));
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	siginfo_t si;
	int st;

	(void)arg;
	if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	lab_tracer_note(L);
	if (lab_tracer_wait_reply(L, t) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	memset(&si, 0, sizeof(si));
	if (lab_tracer_ptrace(t, "getsiginfo", PTRACE_GETSIGINFO, L->c, NULL, &si) == 0)
		obs_str(t, "stop_si_code", si_code_name(si.si_signo, si.si_code));
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .stopped_first = 1,
		.p_turn = lab_sigcont_on_note,
	};

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_attach_stopped_first_report = {
	.id = "attach-stopped-first-report",
	.group = "group-stop",
	.desc = "attach to a stopped child, SIGCONT, then the tracer's first report",
	.run = run,
	.expect = "first report signal:SIGSTOP (group stop, getsiginfo EINVAL); then exited:0.",
	.expect_obs = "stop=signal:SIGSTOP;getsiginfo=EINVAL;tracee=exited:0",
	.axes = LAB_AXES | AXIS(AX_STOP),
};
