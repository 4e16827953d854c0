// SPDX-License-Identifier: MIT
/*
 * regs-exec-signal - a signal sent at the PTRACE_EVENT_EXEC stop, inside
 * execve(), when the tracer resumes with PTRACE_CONT: the next stop is the
 * signal's, not execve's syscall-exit (ptrace-tests
 * sigint-before-syscall-exit).
 *
 * Set-up: R attaches C (resting in read() on its "go" pipe), sets
 * PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD, writes "go" and walks C with
 * PTRACE_SYSCALL to the entry stop of its execve of /proc/self/exe (a
 * helper that exits 7).
 * Action: R: PTRACE_SYSCALL to the next stop (the exec event), kill(C,
 * SIGINT), PTRACE_CONT 0 and wait; PTRACE_CONT 0 from that stop (the signal
 * suppressed) and wait for the exit.
 * Observes: the stop after the entry stop, the stop after CONT, the end.
 * Documented: ptrace(2) PTRACE_O_TRACEEXEC (the stop comes "before the
 * return from execve"), PTRACE_CONT vs PTRACE_SYSCALL (only the latter
 * arranges a stop at the next syscall exit); the stop for a pending
 * signal is the signal-delivery-stop on the way back to user mode.
 * Expected on 6.x: exec_stop event:exec, next_stop signal:SIGINT,
 * tracer_end exited:7.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

static void tracee(struct lab *L, void *arg)
{
	struct rlimit nocore = { 0, 0 };

	(void)arg;
	setrlimit(RLIMIT_CORE, &nocore);
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	execl("/proc/self/exe", "kfarm-guest", "--kfarm-helper", "7", (char *)NULL);
	_exit(94);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	pid_t c = L->c;
	char d[64];
	int st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, c, NULL,
			  (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD));
	lab_tracer_go(L);
	if (regs_syscall_to(t, c, SYS_execve, 0, NULL, 0) < 0)
		return;
	lab_tracer_ptrace(t, NULL, PTRACE_SYSCALL, c, NULL, NULL);
	if (lab_tracer_wait(t, c, &st) < 0)
		return;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "exec_stop", d);
	kill(c, SIGINT);
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, c, NULL, NULL);
	if (lab_tracer_wait(t, c, &st) < 0)
		return;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "next_stop", d);
	lab_tracer_ptrace(t, "cont_end", PTRACE_CONT, c, NULL, NULL);
	if (lab_tracer_wait(t, c, &st) < 0)
		return;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "tracer_end", d);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	return lab_run(o, v, tracee, tracer, NULL);
}

const struct scenario scenario_regs_exec_signal = {
	.id = "regs-exec-signal",
	.group = "regs",
	.desc = "SIGINT sent at the exec event stop, then PTRACE_CONT: the next stop is SIGINT, not execve's exit",
	.run = run,
	.expect = "exec_stop event:exec, next_stop signal:SIGINT, tracer_end exited:7.",
	.expect_obs = "setoptions=0;exec_stop=event:exec;cont=0;next_stop=signal:SIGINT;cont_end=0;tracer_end=exited:7;"
		      "tracee=exited:7",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
