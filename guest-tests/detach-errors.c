// SPDX-License-Identifier: MIT
/*
 * detach-errors - PTRACE_DETACH's error returns.
 *
 * Set-up: R attaches C (PTRACE_ATTACH) and waits for the stop.
 * Action: R: (1) PTRACE_DETACH with data 65 (_NSIG + 1 for the kernel's _NSIG
 * of 64) while C is stopped; (2) PTRACE_CONT, wait until C sleeps in read(),
 * PTRACE_DETACH with 0 while it is not stopped; (3) PTRACE_DETACH of P, which
 * R does not trace. R then exits (its exit detaches C); P tells C to go on.
 * Observes: each call's errno.
 * Documented: ptrace(2) ERRORS: EIO "an invalid signal was specified during a
 * restart request", ESRCH "the specified process ... is not currently being
 * traced by the caller, or is not stopped"; kernel/ptrace.c ptrace_detach()
 * (valid_signal() -> -EIO) and ptrace_check_attach() (-ESRCH).
 * Expected on 6.x: detach_bad_sig EIO, detach_running ESRCH,
 * detach_untraced ESRCH, exited:0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

#define KERNEL_NSIG 64

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	char state[64];

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "detach_bad_sig", PTRACE_DETACH, L->c, NULL, (void *)(long)(KERNEL_NSIG + 1));
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	if (procfs_wait_state(L->c, "sleeping", wait_limit_ms, state, sizeof(state)) < 0)
		obs_str(t, "running_state", state);
	lab_tracer_ptrace(t, "detach_running", PTRACE_DETACH, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "detach_untraced", PTRACE_DETACH, getppid(), NULL, NULL);
}

/* Once R is done, C may go on and exit. */
static void go_after_tracer(struct lab *L, struct obs *o, void *arg)
{
	(void)arg;
	lab_wait_tracer(L, o);
	lab_go(L);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	const struct lab_spec s = { .tracee = lab_tracee_go_exit, .tracer = tracer, .p_turn = go_after_tracer };

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_detach_errors = {
	.id = "detach-errors",
	.group = "errors",
	.desc = "PTRACE_DETACH errors: bad signal (EIO), running tracee and untraced process (ESRCH)",
	.run = run,
	.expect = "detach_bad_sig EIO, detach_running ESRCH, detach_untraced ESRCH, exited:0.",
	.expect_obs = "detach_bad_sig=EIO;detach_running=ESRCH;detach_untraced=ESRCH;tracee=exited:0",
	.axes = ATTACH_AXES,
};
