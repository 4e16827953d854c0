// SPDX-License-Identifier: MIT
/*
 * event-stop-detach-sig-fork, -exec, -exit - detach with a signal from a
 * PTRACE_EVENT stop.
 *
 * Set-up: C (SA_SIGINFO handler for SIGUSR1) is attached by R with
 * PTRACE_O_TRACEFORK, _TRACEEXEC or _TRACEEXIT; told to go, it forks a child
 * that exits at once (C reaps it and exits 0), execs /proc/self/exe as a helper
 * that exits 7 (SIGUSR1's default action would kill it), or _exit(3)s.
 * Action: R: PTRACE_DETACH with data SIGUSR1 from the event stop (fork: the
 * auto-attached grandchild is waited for and detached with 0 too).
 * Observes: whether the signal has any effect: handler, how C ends.
 * Documented: the 2009 utrace thread (reference/): "non-signal, non-syscall
 * ptrace stop ... drops the passed signr on the floor"; kernel/signal.c
 * ptrace_notify()/ptrace_do_notify() ignore the exit_code; ptrace(2)
 * "PTRACE_EVENT stops".
 * Expected on 6.x: fork: handler not-run, exited:0; exec: exited:7; exit:
 * exited:3.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

enum ev { EV_FORK, EV_EXEC, EV_EXIT };

static void tracee(struct lab *L, void *arg)
{
	enum ev ev = *(const enum ev *)arg;
	pid_t g;
	int st;

	lab_tracee_handle(L, SIGUSR1);
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	switch (ev) {
	case EV_FORK:
		g = fork();
		if (g == 0)
			_exit(0);
		if (g > 0 && g_waitpid(g, &st, 0, wait_limit_ms) < 0)
			_exit(93);
		_exit(0);
	case EV_EXEC:
		execl("/proc/self/exe", "kfarm-guest", "--kfarm-helper", "7", (char *)NULL);
		_exit(94);
	case EV_EXIT:
		_exit(3);
	}
	_exit(95);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	static const long opts[] = { PTRACE_O_TRACEFORK, PTRACE_O_TRACEEXEC, PTRACE_O_TRACEEXIT };
	enum ev ev = *(const enum ev *)arg;
	unsigned long msg = 0;
	pid_t g;
	int st;

	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL, (void *)opts[ev]);
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	if (ev == EV_FORK && lab_tracer_ptrace(t, "geteventmsg", PTRACE_GETEVENTMSG, L->c, NULL, &msg) == 0) {
		g = (pid_t)msg;
		/* The new child starts with a SIGSTOP: let it take it before the detach. */
		lab_tracer_stop(t, g, "child_stop", &st);
		lab_tracer_ptrace(t, "detach_child", PTRACE_DETACH, g, NULL, NULL);
	}
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, (void *)(long)SIGUSR1);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	enum ev ev = *(const enum ev *)arg;
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .arg = &ev, .handlers = ev != EV_EXEC,
	};

	return lab_run_spec(o, v, &s);
}

static const enum ev arg_fork = EV_FORK;

static const enum ev arg_exec = EV_EXEC;

static const enum ev arg_exit = EV_EXIT;

const struct scenario scenario_event_stop_detach_sig_fork = {
	.id = "event-stop-detach-sig-fork",
	.group = "syscall-event",
	.desc = "detach with SIGUSR1 (handler) from a PTRACE_EVENT_FORK stop",
	.run = run,
	.arg = &arg_fork,
	.expect = "signal dropped: handler not-run, exited:0.",
	.expect_obs = "handler=not-run;tracee=exited:0",
	.axes = ATTACH_AXES,
};

const struct scenario scenario_event_stop_detach_sig_exec = {
	.id = "event-stop-detach-sig-exec",
	.group = "syscall-event",
	.desc = "detach with SIGUSR1 from a PTRACE_EVENT_EXEC stop (helper exits 7)",
	.run = run,
	.arg = &arg_exec,
	.expect = "signal dropped: the helper exits 7.",
	.expect_obs = "tracee=exited:7",
	.axes = ATTACH_AXES,
};

const struct scenario scenario_event_stop_detach_sig_exit = {
	.id = "event-stop-detach-sig-exit",
	.group = "syscall-event",
	.desc = "detach with SIGUSR1 (handler) from a PTRACE_EVENT_EXIT stop (exit 3)",
	.run = run,
	.arg = &arg_exit,
	.expect = "signal dropped: exited:3.",
	.expect_obs = "tracee=exited:3",
	.axes = ATTACH_AXES,
};
