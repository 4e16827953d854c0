// SPDX-License-Identifier: MIT
/*
 * seize-listen-detach - PTRACE_LISTEN, detach, PTRACE_INTERRUPT, detach.
 *
 * Set-up: R seizes C (PTRACE_SEIZE; "unsupported" where it fails with EIO,
 * before 3.4); C stops itself with SIGSTOP; R resumes the SDS with SIGSTOP
 * and sees the group stop (PTRACE_EVENT_STOP), then PTRACE_LISTENs.
 * Action: R: PTRACE_DETACH while listening; then PTRACE_INTERRUPT, wait,
 * PTRACE_DETACH with 0.
 * Observes: each call's result, where C rests.
 * Documented: ptrace(2) PTRACE_LISTEN and PTRACE_INTERRUPT; kernel/ptrace.c
 * ptrace_freeze_traced() refuses a JOBCTL_LISTENING tracee (ESRCH);
 * __ptrace_unlink() returns the tracee to the group stop.
 * Expected on 6.x: detach_listening ESRCH, detach 0, stopped:SIGSTOP.
 */
#define _GNU_SOURCE
#include <errno.h>
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
	int st;

	(void)arg;
	if (lab_tracer_ptrace(t, "seize", PTRACE_SEIZE, L->c, NULL, NULL) < 0) {
		if (errno == EIO || errno == EINVAL)
			obs_strf(t, "unsupported", "PTRACE_SEIZE:%s", errno_name(errno));
		return;
	}
	lab_tracer_go(L);
	if (lab_tracer_stop(t, L->c, "stop_sds", &st) < 0)
		return;
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, (void *)(long)variant_stop_sig(&L->v));
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "listen", PTRACE_LISTEN, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "detach_listening", PTRACE_DETACH, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "interrupt", PTRACE_INTERRUPT, L->c, NULL, NULL);
	if (lab_tracer_stop(t, L->c, "stop_interrupt", &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	const struct lab_spec s = { .tracee = tracee, .tracer = tracer, .may_be_unsupported = 1 };

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_seize_listen_detach = {
	.id = "seize-listen-detach",
	.group = "group-stop",
	.desc = "PTRACE_SEIZE, group stop, LISTEN, detach (ESRCH), INTERRUPT, detach",
	.run = run,
	.expect = "detach_listening ESRCH, detach 0, stopped:SIGSTOP.",
	.expect_obs = "detach_listening=ESRCH;detach=0;tracee=stopped:SIGSTOP",
	.axes = LAB_AXES | AXIS(AX_STOP),
};
