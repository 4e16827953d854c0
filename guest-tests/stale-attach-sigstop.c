// SPDX-License-Identifier: MIT
/*
 * stale-attach-sigstop - detach before the attach SIGSTOP was consumed.
 *
 * Set-up: C (SA_SIGINFO handler for SIGUSR1, SIGCHLD ignored so that its
 * child's exit sends no signal) vforks; the vfork child blocks in
 * read() on the "go" pipe, so C waits in the kernel for it (State "D (disk
 * sleep)", TASK_KILLABLE: no signal but SIGKILL wakes it). P polls /proc until
 * C is there. R: PTRACE_ATTACH (the attach SIGSTOP is queued, C does not
 * wake), tgkill(C, SIGUSR1), writes "go": the vfork child exits, C wakes with
 * both signals pending and dequeues the lower one first: an SDS for SIGUSR1,
 * with the attach SIGSTOP still pending.
 * Action: R: PTRACE_DETACH with 0 from that SDS.
 * Observes: whether the stale attach SIGSTOP stops C after the detach (P gets
 * CLD_STOPPED) or is discarded.
 * Documented: ptrace(2) "Attaching and detaching" (PTRACE_ATTACH sends SIGSTOP;
 * "If the tracer detaches before the tracee has been stopped by the SIGSTOP"
 * ... the tracee may be stopped; strace's README-linux-ptrace); kernel/ptrace.c
 * ptrace_attach() send_sig_info(SIGSTOP, SEND_SIG_PRIV) and __ptrace_detach()
 * (nothing flushes it); kernel/signal.c next_signal() (lowest number first).
 * Expected on 6.x: stop signal:SIGUSR1, handler not-run, then the stale
 * SIGSTOP stops C: stopped:SIGSTOP, sigchld CLD_STOPPED.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

static void tracee(struct lab *L, void *arg)
{
	char b;

	(void)arg;
	lab_tracee_handle(L, SIGUSR1);
	/* The vfork child is reaped without a SIGCHLD that could race the detach. */
	signal(SIGCHLD, SIG_IGN);
	lab_tracee_ready(L);
	if (vfork() == 0) {
		/* Shares C's memory: raw syscalls only, then _exit. */
		syscall(SYS_read, L->go[0], &b, 1);
		_exit(0);
	}
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int st;

	(void)arg;
	if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	syscall(SYS_tgkill, L->c, L->c, SIGUSR1);
	lab_tracer_go(L);
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

/* C's vfork child blocks C (disk-sleep) before R comes in. */
static int wait_vfork(struct lab *L, struct obs *o, void *arg)
{
	char state[64];

	(void)arg;
	if (procfs_wait_state(L->c, "disk-sleep", wait_limit_ms, state, sizeof(state)) < 0) {
		obs_strf(o, "error", "tracee-not-in-vfork:%s", state);
		return -1;
	}
	return 0;
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .handlers = 1, .before_tracer = wait_vfork,
	};

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_stale_attach_sigstop = {
	.id = "stale-attach-sigstop",
	.group = "races",
	.desc = "attach SIGSTOP still pending (C was in a SIGUSR1 SDS), detach with 0",
	.run = run,
	.expect = "the stale attach SIGSTOP stops C after the detach: stopped:SIGSTOP, CLD_STOPPED.",
	.expect_obs = "tracee=stopped:SIGSTOP;sigchld=CLD_STOPPED:SIGSTOP:self",
	.axes = LAB_AXES,
};
