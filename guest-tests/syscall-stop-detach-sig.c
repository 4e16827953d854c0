// SPDX-License-Identifier: MIT
/*
 * syscall-stop-detach-sig-entry, syscall-stop-detach-sig-exit - detach with a
 * signal from a syscall stop.
 *
 * Set-up: C (SA_SIGINFO handler for SIGUSR1) waits in read() on its "go" pipe;
 * R attaches, sets PTRACE_O_TRACESYSGOOD, writes "go" and resumes C with
 * PTRACE_SYSCALL: the first stop is the entry of C's (restarted) read(), the
 * second its exit.
 * Action: R: PTRACE_DETACH with data SIGUSR1 from the entry stop, or from the
 * exit stop.
 * Observes: the handler runs with a kernel-made siginfo; C exits 0.
 * Documented: kernel/ptrace.c / include/linux/ptrace.h ptrace_report_syscall():
 * a non-zero exit_code after the stop is sent with send_sig(..., 1), i.e.
 * SEND_SIG_PRIV: si_code SI_KERNEL, si_pid 0, si_uid 0; ptrace(2)
 * "Syscall-stops" (restarting with a signal from a syscall stop).
 * Expected on 6.x: handler ran, SIGUSR1, SI_KERNEL, si_pid 0, exited:0.
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
	lab_tracee_handle(L, SIGUSR1);
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int exit_stop = *(const int *)arg, i, st;
	char d[64];

	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
		      (void *)(long)PTRACE_O_TRACESYSGOOD);
	lab_tracer_go(L);
	for (i = 0; i <= exit_stop; i++) {
		lab_tracer_ptrace(t, "syscall", PTRACE_SYSCALL, L->c, NULL, NULL);
		if (lab_tracer_wait(t, L->c, &st) < 0)
			return;
		describe_wstatus(st, d, sizeof(d));
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80))
			break;
	}
	if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80))
		obs_str(t, "stop", exit_stop ? "syscall-exit" : "syscall-entry");
	else
		obs_str(t, "stop", d);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, (void *)(long)SIGUSR1);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	int exit_stop = *(const int *)arg;
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .arg = &exit_stop, .handlers = 1,
	};

	return lab_run_spec(o, v, &s);
}

static const int arg_entry = 0;

static const int arg_exit = 1;

const struct scenario scenario_syscall_stop_detach_sig_entry = {
	.id = "syscall-stop-detach-sig-entry",
	.group = "syscall-event",
	.desc = "detach with SIGUSR1 (handler) from a syscall-entry stop",
	.run = run,
	.arg = &arg_entry,
	.expect = "handler ran, SIGUSR1, SI_KERNEL, si_pid 0, exited:0.",
	.expect_obs = "handler=ran;si_signo=SIGUSR1;si_code=SI_KERNEL;si_pid=0;tracee=exited:0",
	.axes = ATTACH_AXES,
};

const struct scenario scenario_syscall_stop_detach_sig_exit = {
	.id = "syscall-stop-detach-sig-exit",
	.group = "syscall-event",
	.desc = "detach with SIGUSR1 (handler) from a syscall-exit stop",
	.run = run,
	.arg = &arg_exit,
	.expect = "handler ran, SIGUSR1, SI_KERNEL, si_pid 0, exited:0.",
	.expect_obs = "handler=ran;si_signo=SIGUSR1;si_code=SI_KERNEL;si_pid=0;tracee=exited:0",
	.axes = ATTACH_AXES,
};
