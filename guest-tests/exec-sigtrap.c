// SPDX-License-Identifier: MIT
/*
 * exec-sigtrap-zero, exec-sigtrap-sigtrap - the legacy post-exec SIGTRAP.
 *
 * Set-up: R attaches C without PTRACE_O_TRACEEXEC; C execs /proc/self/exe as a
 * helper that exits 7; the exec raises the legacy SIGTRAP, R sees C stop on it.
 * C sets RLIMIT_CORE to 0 first, so a SIGTRAP death is "killed:SIGTRAP"
 * wherever it runs.
 * Action: R: PTRACE_DETACH with 0, or with SIGTRAP.
 * Observes: how the helper ends.
 * Documented: ptrace(2) "execve(2) under ptrace" (a SIGTRAP is sent after a
 * successful execve if PTRACE_O_TRACEEXEC is not in effect; it is a real
 * signal-delivery stop); kernel/ptrace.c ptrace_event(PTRACE_EVENT_EXEC).
 * Expected on 6.x: zero: exited:7; sigtrap: killed:SIGTRAP.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
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
	int sig = *(const int *)arg, st;

	if (lab_tracer_attach(L, t) < 0)
		return;
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, (void *)(long)sig);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	int sig = *(const int *)arg;
	return lab_run(o, v, tracee, tracer, &sig);
}

static const int arg_zero = 0;

static const int arg_sigtrap = SIGTRAP;

const struct scenario scenario_exec_sigtrap_zero = {
	.id = "exec-sigtrap-zero",
	.group = "syscall-event",
	.desc = "legacy post-exec SIGTRAP stop, detach with 0",
	.run = run,
	.arg = &arg_zero,
	.expect = "SIGTRAP suppressed: the helper exits 7.",
	.expect_obs = "tracee=exited:7",
	.axes = ATTACH_AXES,
};

const struct scenario scenario_exec_sigtrap_sigtrap = {
	.id = "exec-sigtrap-sigtrap",
	.group = "syscall-event",
	.desc = "legacy post-exec SIGTRAP stop, detach with SIGTRAP",
	.run = run,
	.arg = &arg_sigtrap,
	.expect = "SIGTRAP delivered: killed:SIGTRAP.",
	.expect_obs = "tracee=killed:SIGTRAP",
	.axes = ATTACH_AXES,
};
