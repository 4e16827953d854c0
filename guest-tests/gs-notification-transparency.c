// SPDX-License-Identifier: MIT
/*
 * gs-notification-transparency-pending, -consumed - P's view of a group stop
 * across an attach and a detach.
 *
 * Set-up: C stops itself with SIGSTOP; P sees the stop with waitid(WNOWAIT)
 * and collects the CLD_STOPPED SIGCHLD. pending: P leaves the wait report
 * unconsumed. consumed: P consumes it with waitpid(WUNTRACED) first, as a
 * shell does ("wait_before").
 * Action: R attaches (PTRACE_ATTACH), waits for the report, detaches with 0.
 * Observes: once C is stopped again, whether P can still (pending) or again
 * (consumed) wait for a stop: "tracee" is "stopped:SIGSTOP" when
 * waitid(WSTOPPED|WNOHANG|WNOWAIT) reports one, plain "stopped" when it does
 * not; and whether the attach/detach sent P another SIGCHLD ("sigchld").
 * Documented: ptrace-tests stopped-attach-transparency ("the SIGSTOP
 * notification to its former-real parent is left existing/non-existing as it
 * was before the debugger attachment/detachment"); kernel/exit.c
 * wait_task_stopped() (signal->group_exit_code, cleared by a consuming wait);
 * kernel/signal.c task_participate_group_stop() (no new notification without
 * JOBCTL_STOP_CONSUME).
 * Expected on 6.x: pending: stopped:SIGSTOP; consumed: stopped (no report);
 * both: sigchld CLD_STOPPED only.
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
	lab_tracee_tkill(variant_stop_sig(&L->v));
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int st;

	(void)arg;
	if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

/* P consumes C's stop report (waitpid WUNTRACED) before R comes in. */
static int consume_report(struct lab *L, struct obs *o, void *arg)
{
	char d[64];
	int st;

	(void)arg;
	if (g_waitpid(L->c, &st, WUNTRACED, wait_limit_ms) == L->c) {
		describe_wstatus(st, d, sizeof(d));
		obs_str(o, "wait_before", d);
	} else {
		obs_str(o, "wait_before", "none");
	}
	return 0;
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	int consume = *(const int *)arg;
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .stopped_first = 1,
		.before_tracer = consume ? consume_report : NULL,
	};

	return lab_run_spec(o, v, &s);
}

static const int arg_pending = 0;

static const int arg_consumed = 1;

const struct scenario scenario_gs_notification_transparency_pending = {
	.id = "gs-notification-transparency-pending",
	.group = "group-stop",
	.desc = "P has not waited for C's stop; attach + detach: is the stop report still there?",
	.run = run,
	.arg = &arg_pending,
	.expect = "the report stays: stopped:SIGSTOP, sigchld CLD_STOPPED only.",
	.expect_obs = "tracee=stopped:SIGSTOP;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = LAB_AXES | AXIS(AX_STOP),
};

const struct scenario scenario_gs_notification_transparency_consumed = {
	.id = "gs-notification-transparency-consumed",
	.group = "group-stop",
	.desc = "P consumed C's stop report; attach + detach: does a new one appear?",
	.run = run,
	.arg = &arg_consumed,
	.expect = "no new report: stopped (none to wait for), sigchld CLD_STOPPED only.",
	.expect_obs = "tracee=stopped;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = LAB_AXES | AXIS(AX_STOP),
};
