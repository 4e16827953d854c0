// SPDX-License-Identifier: MIT
/*
 * sds-sigcont-between - a SIGCONT arrives while C is in an SDS for SIGSTOP;
 * then the tracer detaches with SIGSTOP.
 *
 * Set-up: C stops in an SDS for SIGSTOP (tgkill) under R (attached with
 * PTRACE_ATTACH before). R hands the turn to P, which (a third process) sends
 * SIGCONT to C and hands it back; R records C's State and pending sets.
 * Action: R: PTRACE_DETACH with data SIGSTOP.
 * Observes: whether the "half-delivered" SIGSTOP still stops C (P would get
 * CLD_STOPPED) or was cancelled by the SIGCONT (C runs on and exits 0).
 * Documented: the 2009 utrace thread (reference/): "only an earlier
 * SIGCONT/SIGKILL would have cleared stop signals and thus should clear any
 * pending-equivalent half-delivered stop signals"; kernel/signal.c
 * prepare_signal() (SIGCONT clears JOBCTL_STOP_DEQUEUED via
 * task_clear_jobctl_pending(JOBCTL_STOP_PENDING)) and do_signal_stop()
 * (refuses to stop without JOBCTL_STOP_DEQUEUED); ptrace(2) signal-delivery-stop.
 * Expected on 6.x: the stop is cancelled: exited:0, sigchld CLD_EXITED; while
 * traced C stays in tracing-stop with SIGCONT pending (shared).
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
	lab_tracee_tkill(variant_stop_sig(&L->v));
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	char d[64], mask[32], names[128];
	int st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	lab_tracer_note(L);
	if (lab_tracer_wait_reply(L, t) < 0)
		return;
	procfs_state(L->c, d, sizeof(d));
	obs_str(t, "state_after_cont", d);
	if (procfs_status_field(L->c, "ShdPnd", mask, sizeof(mask)) == 0) {
		sigmask_names(mask, names, sizeof(names));
		obs_str(t, "shdpnd_after_cont", names);
	}
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, (void *)(long)variant_stop_sig(&L->v));
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .p_turn = lab_sigcont_on_note,
	};

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_sds_sigcont_between = {
	.id = "sds-sigcont-between",
	.group = "sds",
	.desc = "SDS on SIGSTOP, P sends SIGCONT, detach with SIGSTOP",
	.run = run,
	.expect = "the stop is cancelled by the SIGCONT: exited:0, sigchld CLD_EXITED.",
	.expect_obs = "tracee=exited:0;sigchld=CLD_EXITED:0:self",
	.axes = ATTACH_AXES | AXIS(AX_STOP),
};
