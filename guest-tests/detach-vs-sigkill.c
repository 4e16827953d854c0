// SPDX-License-Identifier: MIT
/*
 * detach-vs-sigkill - detach a thread while another process SIGKILLs it.
 *
 * Set-up: C has two threads in pause(); R attaches thread 1 only (not the
 * leader) and waits for its stop.
 * Action: R hands the turn to P and at once PTRACE_DETACHes thread 1 with 0;
 * P, as soon as it has the turn, tgkill()s thread 1 with SIGKILL (which kills
 * the whole group).
 * Observes: the detach's result (0, or ESRCH when the SIGKILL got there
 * first), and above all that C dies and P can reap it: an unreapable zombie
 * shows as "tracee":"wait-timeout".
 * Racy by design: the detach and the SIGKILL run on different CPUs at the
 * same moment; which one the kernel sees first decides "detach".
 * Documented: ptrace-tests detach-sigkill-race ("PTRACE_DETACH + SIGKILL race
 * may leave unreapable zombie, mainline kernels <= 2.6.28 are affected");
 * signal(7) (SIGKILL by tgkill kills every thread); kernel/ptrace.c
 * ptrace_check_attach() (-ESRCH unless the tracee is stopped and frozen).
 * Expected on 6.x: killed:SIGKILL and reaped every time, sigchld CLD_KILLED;
 * detach 0 or ESRCH.
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
	(void)arg;
	lab_tracee_threads(L, 2, NULL);
	lab_tracee_ready(L);
	for (;;)
		pause();
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	pid_t tid = L->sh->tid[1];
	int st;

	(void)arg;
	if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, tid, NULL, NULL) < 0)
		return;
	if (lab_tracer_stop(t, tid, "stop", &st) < 0)
		return;
	lab_tracer_note(L);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, tid, NULL, NULL);
}

/* When R has C's thread 1 in its attach stop, P SIGKILLs that thread. */
static void kill_on_note(struct lab *L, struct obs *o, void *arg)
{
	(void)arg;
	if (lab_wait_note(L, o) == 0)
		syscall(SYS_tgkill, L->c, L->sh->tid[1], SIGKILL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .threads = 1, .p_turn = kill_on_note,
	};

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_detach_vs_sigkill = {
	.id = "detach-vs-sigkill",
	.group = "races",
	.desc = "detach a traced thread while P SIGKILLs it: no unreapable zombie",
	.run = run,
	.racy = 1,
	.reps_mult = 4,
	.expect = "always killed:SIGKILL and reapable, sigchld CLD_KILLED; detach 0 or ESRCH.",
	.expect_obs = "tracee=killed:SIGKILL;sigchld=CLD_KILLED:SIGKILL:self",
};
