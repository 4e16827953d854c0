// SPDX-License-Identifier: MIT
/*
 * mt-sds-fatal - detach a thread from an SDS with a fatal signal.
 *
 * Set-up: C has three threads (main and thread 2 in pause()); R attaches every
 * thread, waits for the attach stops and resumes each (PTRACE_CONT 0); told to
 * go, thread 1 sends itself SIGUSR1 (tgkill) and stops in an SDS.
 * Action: R: PTRACE_DETACH of thread 1 with SIGTERM (no handler: default
 * action terminate); R then waits for the two threads it still traces.
 * Observes: the whole group exits once: how each traced thread's exit looks to
 * R ("thread_exits"), how C ended for P, P's SIGCHLDs.
 * Documented: the 2009 utrace thread (reference/): "In MT cases where the
 * result is a group-exit, that is pretty consistent and reliable today";
 * kernel/signal.c ptrace_signal() (replacement signal, siginfo rewritten) and
 * get_signal() -> do_group_exit(SIGTERM): zap_other_threads(), every thread
 * exits with the group exit code; kernel/exit.c delays the leader's report to
 * P until the group is empty; signal(7) (SIGTERM: Term).
 * Expected on 6.x: stop signal:SIGUSR1, thread_exits killed:SIGTERM*2,
 * killed:SIGTERM, sigchld CLD_KILLED.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"

static void thread_fn(struct lab *L, int idx)
{
	if (idx != 1)
		return;
	lab_tracee_wait_go(L);
	lab_tracee_tkill(SIGUSR1);
}

static void tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_threads(L, 3, thread_fn);
	lab_tracee_ready(L);
	for (;;)
		pause();
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	char exits[2][64], out[OBS_VAL_MAX];
	const char *ep[2] = { exits[0], exits[1] };
	int i, k = 0, st;

	(void)arg;
	if (lab_tracer_attach_all(L, t) < 0)
		return;
	for (i = 0; i < L->sh->nthreads; i++)
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->sh->tid[i], NULL, NULL);
	lab_tracer_go(L);
	if (lab_tracer_stop(t, L->sh->tid[1], "stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->sh->tid[1], NULL, (void *)(long)SIGTERM);
	/* Thread 2 first: the leader's exit is not reported while the group lives. */
	for (i = 2; i >= 0; i -= 2) {
		if (lab_tracer_wait(t, L->sh->tid[i], &st) < 0)
			return;
		describe_wstatus(st, exits[k++], sizeof(exits[0]));
	}
	lab_tally(ep, k, out, sizeof(out));
	obs_str(t, "thread_exits", out);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	const struct lab_spec s = { .tracee = tracee, .tracer = tracer, .threads = 1 };

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_mt_sds_fatal = {
	.id = "mt-sds-fatal",
	.group = "group-stop",
	.desc = "3 threads, all traced; one in an SDS detached with SIGTERM: one group exit",
	.run = run,
	.expect = "one group exit: thread_exits killed:SIGTERM*2, killed:SIGTERM, sigchld CLD_KILLED.",
	.expect_obs = "thread_exits=killed:SIGTERM*2;tracee=killed:SIGTERM;sigchld=CLD_KILLED:SIGTERM:self",
	.axes = LAB_AXES,
};
