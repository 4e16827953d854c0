// SPDX-License-Identifier: MIT
/*
 * mt-sds-in-stopped-group - one thread in an SDS detached with a handled
 * signal while its group is stopped.
 *
 * Set-up: C has three threads (main + two in pause(); SA_SIGINFO handler for
 * SIGUSR1); the main thread stops the group with SIGSTOP; P sees the group
 * stop. R attaches every thread, sends SIGUSR1 to thread 1 (tgkill) and lets
 * that one thread out with PTRACE_CONT: it takes the signal into an SDS.
 * Action: R: PTRACE_DETACH of thread 1 with SIGUSR1, polls /proc until it is
 * not running, records the states ("mid_"), detaches the other two with 0.
 * P then records whether the handler ran while the group is stopped
 * ("handler_in_stop"), takes the group stop's CLD_STOPPED (a SIGCHLD left
 * pending would swallow the next: SIGCHLD does not queue), sends SIGCONT and
 * polls the shared record until the handler ran, then its SIGCHLDs until
 * CLD_CONTINUED came (or the waits run out).
 * Observes: where thread 1 goes (group stop or back to user space), when the
 * handler runs and the siginfo it saw, P's SIGCHLDs.
 * Documented: the 2009 utrace thread (reference/): "In MT cases where the
 * result is to confuse the group-stop state, i.e. tracee runs (signal handler
 * or ignored signal) while group is supposedly stopped ..."; since 3.1
 * kernel/ptrace.c __ptrace_unlink() sets JOBCTL_STOP_PENDING, so after
 * ptrace_signal() returns SIGUSR1 and its handler frame is set up the thread
 * stops again (do_signal_stop()) before running it; the handler runs after
 * SIGCONT. The signal is unchanged, so the siginfo is the tgkill's (SI_TKILL
 * from R).
 * Expected on 6.x: stop signal:SIGUSR1, mid_threads stopped*1,tracing-stop*2,
 * handler_in_stop not-run; after SIGCONT handler ran (SI_TKILL, si_pid
 * tracer), threads sleeping*3, sigchld CLD_STOPPED,CLD_CONTINUED.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lab.h"
#include "mt.h"
#include "scenarios.h"

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	pid_t tid;
	char d[64];
	int i, st;

	(void)arg;
	if (lab_tracer_attach_all(L, t) < 0)
		return;
	tid = L->sh->tid[1];
	syscall(SYS_tgkill, L->c, tid, SIGUSR1);
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, tid, NULL, NULL);
	if (lab_tracer_wait(t, tid, &st) < 0)
		return;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "stop", d);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, tid, NULL, (void *)(long)SIGUSR1);
	if (procfs_wait_state(tid, "stopped|sleeping|zombie|gone", wait_limit_ms, d, sizeof(d)) < 0)
		obs_str(t, "mid_wait", "timeout");
	lab_threads_observe(L, t, "mid_");
	for (i = 0; i < L->sh->nthreads; i++)
		if (i != 1)
			lab_tracer_ptrace(t, "detach_rest", PTRACE_DETACH, L->sh->tid[i], NULL, NULL);
}

static void after(struct lab *L, struct obs *o)
{
	long long end;

	int notified = L->v.v[AX_SIGCHLD] != SIGCHLD_IGN && L->v.v[AX_SIGCHLD] != SIGCHLD_NOCLDSTOP;

	lab_wait_threads(L, "stopped|sleeping|zombie|gone", wait_limit_ms);
	obs_str(o, "handler_in_stop", L->sh->h.count ? "ran" : "not-run");
	/*
	 * The group stop's CLD_STOPPED is taken before SIGCONT (bounded): a
	 * SIGCHLD still pending then would swallow the CLD_CONTINUED one
	 * (SIGCHLD does not queue), and the group stop's notice can come a
	 * moment after /proc shows the stop.
	 */
	end = monotonic_ms() + wait_limit_ms;
	while (notified && !strstr(L->sigchld, "CLD_STOPPED") && monotonic_ms() < end)
		lab_sigchld(L, 1);
	lab_sigchld(L, 0);
	kill(L->c, SIGCONT);
	/* Polls the state waited for (the handler's record), bounded. */
	end = monotonic_ms() + wait_limit_ms;
	while (!L->sh->h.count && monotonic_ms() < end)
		sleep_ms(1);
	/*
	 * The handler can run before P hears of the continue: CLD_CONTINUED is
	 * sent by whichever thread of C gets to get_signal() first after SIGCONT,
	 * not necessarily thread 1. Wait for it (bounded) where the sigchld axis
	 * lets it come at all, so that its lateness is not read as its absence.
	 */
	if (notified)
		while (!strstr(L->sigchld, "CLD_CONTINUED") && monotonic_ms() < end)
			lab_sigchld(L, 1);
}

static const struct mt_spec spec = { .tracer = tracer, .after = after, .settle_sleeping = 1 };

const struct scenario scenario_mt_sds_in_stopped_group = {
	.id = "mt-sds-in-stopped-group",
	.group = "group-stop",
	.desc = "one thread let out of a group stop into an SDS, detached with SIGUSR1 (handler)",
	.run = mt_scenario,
	.arg = &spec,
	.expect = "the thread goes back to the group stop; the handler runs only after SIGCONT (SI_TKILL, tracer).",
	.expect_obs = "handler_in_stop=not-run;handler=ran;si_code=SI_TKILL;si_pid=tracer",
	.axes = MT_AXES,
};
