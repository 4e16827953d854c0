// SPDX-License-Identifier: MIT
/*
 * ptrace-kill-stopped, ptrace-kill-running - PTRACE_KILL.
 * Set-up: R attaches C (in read() on its "go" pipe); stopped: C stays in the
 * attach stop; running: R resumes it (PTRACE_CONT) and waits until /proc
 * shows it asleep in read() again (traced, not stopped).
 * Action: R: PTRACE_KILL; also PTRACE_KILL on its own parent P, which it
 * does not trace.
 * Observes: the request's result, R's next report (killed:SIGKILL), what P
 * sees; the untraced target gives ESRCH.
 * Documented: ptrace(2) PTRACE_KILL ("send the tracee a SIGKILL ... requires
 * the tracee to be in signal-delivery-stop, otherwise it may not work");
 * kernel/ptrace.c since 5.19 (Eric Biederman's "ptrace: Don't change
 * __state"): PTRACE_KILL is send_sig_info(SIGKILL) and ptrace_check_attach()
 * ignores the state for it, so a running tracee is killed as well.
 * Expected on 6.x: ptrace_kill 0, after_kill killed:SIGKILL, killed:SIGKILL,
 * CLD_KILLED, ptrace_kill_untraced ESRCH (both cells).
 *
 * cont-sig-blocked - a signal injected by PTRACE_CONT that C blocks.
 * Set-up: C (handler for SIGUSR1) blocks SIGUSR1, then raises SIGSTOP twice
 * and unblocks SIGUSR1; R takes the first SIGSTOP stop.
 * Action: PTRACE_CONT with SIGUSR1; at the next stop R reads C's SigPnd;
 * PTRACE_CONT 0; at the next stop R reads the siginfo; PTRACE_CONT with it.
 * Observes: the injected signal does not defeat the mask: C runs on to the
 * second SIGSTOP with SIGUSR1 pending; when C unblocks it, it is reported
 * with a rewritten siginfo (SI_USER from the tracer) and then delivered.
 * Documented: kernel/signal.c ptrace_signal() ("If the (new) signal is now
 * blocked, requeue it"; a changed signal gets SI_USER and the ptrace
 * parent's pid); ptrace-tests ptrace_cont-defeats-sigblock.
 * Expected on 6.x: stop2 signal:SIGSTOP, sigpnd_at_stop2 SIGUSR1, stop3
 * signal:SIGUSR1 (SIGUSR1/SI_USER/tracer), handler ran once, exited:0.
 *
 * cont-sig-resethand - PTRACE_CONT with a signal whose handler is SA_RESETHAND.
 * Set-up: C installs a SIGUSR1 handler with SA_RESETHAND and waits in read();
 * R attaches.
 * Action: PTRACE_CONT with SIGUSR1 from the attach stop; C then reads its
 * SIGUSR1 disposition and exits 0.
 * Observes: the handler runs once (C is not killed by SIGUSR1) and the
 * disposition is reset to SIG_DFL.
 * Documented: ptrace-tests sa-resethand-on-cont-signal; signal(7) /
 * sigaction(2) SA_RESETHAND.
 * Expected on 6.x: handler_runs 1, disposition_after SIG_DFL, exited:0.
 *
 * syscall-signal-loss - a signal sent while C is at a syscall-entry stop.
 * Set-up: R attaches with TRACESYSGOOD, PTRACE_SYSCALL: C stops at the entry
 * of its restarted read().
 * Action: R sends SIGINT to C, PTRACE_CONT 0, waits; detaches with 0.
 * Observes: the SIGINT is reported (signal-delivery stop) instead of being
 * lost in the blocking read; C exits 0 after the detach.
 * Documented: ptrace-tests signal-loss; ptrace(2) "Signal-delivery-stop".
 * Expected on 6.x: stop1 syscall, stop2 signal:SIGINT (SI_USER from the
 * tracer), exited:0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"
#include "signals.h"

enum inj_kind { K_KILL_STOPPED, K_KILL_RUNNING, K_BLOCKED, K_RESETHAND, K_SIGLOSS };

struct inj_arg {
	enum inj_kind kind;
	struct sigs_shm *s;
};

static void tracee(struct lab *L, void *arg)
{
	const struct inj_arg *a = arg;
	struct sigaction old;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (a->kind == K_BLOCKED) {
		sigs_install(SIGUSR1, 0);
		sigprocmask(SIG_BLOCK, &set, NULL);
	} else if (a->kind == K_RESETHAND) {
		sigs_install(SIGUSR1, SA_RESETHAND);
	}
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	if (a->kind == K_BLOCKED) {
		lab_tracee_tkill(SIGSTOP);
		lab_tracee_tkill(SIGSTOP);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	} else if (a->kind == K_RESETHAND) {
		if (sigaction(SIGUSR1, NULL, &old) == 0)
			snprintf(a->s->text[0], sizeof(a->s->text[0]), "%s",
				 old.sa_handler == SIG_DFL ? "SIG_DFL" : "handler");
	}
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct inj_arg *a = arg;
	char state[32], mask[32], names[OBS_VAL_MAX];
	int st;

	if (lab_tracer_attach(L, t) < 0)
		return;
	switch (a->kind) {
	case K_KILL_STOPPED:
	case K_KILL_RUNNING:
		if (a->kind == K_KILL_RUNNING) {
			lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
			if (procfs_wait_state(L->c, "sleeping", wait_limit_ms, state,
					      sizeof(state)) < 0) {
				obs_str(t, "tracer", "not-asleep");
				return;
			}
		}
		lab_tracer_ptrace(t, "ptrace_kill", PTRACE_KILL, L->c, NULL, NULL);
		lab_tracer_stop(t, L->c, "after_kill", &st);
		lab_tracer_ptrace(t, "ptrace_kill_untraced", PTRACE_KILL, getppid(), NULL, NULL);
		break;
	case K_BLOCKED:
		if (lab_tracer_cont_to_stop(L, t, &st) < 0 || !WIFSTOPPED(st))
			return;
		lab_tracer_ptrace(t, "cont_sigusr1", PTRACE_CONT, L->c, NULL, (void *)(long)SIGUSR1);
		if (lab_tracer_stop(t, L->c, "stop2", &st) < 0 || !WIFSTOPPED(st))
			return;
		if (procfs_status_field(L->c, "SigPnd", mask, sizeof(mask)) == 0) {
			sigmask_names(mask, names, sizeof(names));
			obs_str(t, "sigpnd_at_stop2", names);
		}
		lab_tracer_ptrace(t, "cont2", PTRACE_CONT, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, "stop3", &st) < 0 || !WIFSTOPPED(st))
			return;
		lab_tracer_ptrace(t, "cont3", PTRACE_CONT, L->c, NULL, (void *)(long)WSTOPSIG(st));
		lab_tracer_stop(t, L->c, "end", &st);
		break;
	case K_RESETHAND:
		lab_tracer_ptrace(t, "cont_sigusr1", PTRACE_CONT, L->c, NULL, (void *)(long)SIGUSR1);
		lab_tracer_go(L);
		lab_tracer_stop(t, L->c, "end", &st);
		break;
	case K_SIGLOSS:
		lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
				  (void *)(long)PTRACE_O_TRACESYSGOOD);
		lab_tracer_ptrace(t, "syscall", PTRACE_SYSCALL, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, "stop1", &st) < 0 || !WIFSTOPPED(st))
			return;
		obs_result(t, "kill_sigint", kill(L->c, SIGINT), errno);
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, "stop2", &st) < 0 || !WIFSTOPPED(st))
			return;
		lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
		lab_tracer_go(L);
		break;
	}
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct inj_arg a = { .kind = *(const enum inj_kind *)arg };
	int rc;

	a.s = sigs_shm_new();
	if (!a.s) {
		obs_str(o, "error", "shm");
		return REP_ERROR;
	}
	snprintf(a.s->text[0], sizeof(a.s->text[0]), "unknown");
	const struct lab_spec sp = { .tracee = tracee, .tracer = tracer, .arg = &a };

	rc = lab_run_spec(o, v, &sp);
	if (a.kind == K_BLOCKED || a.kind == K_RESETHAND)
		obs_strf(o, "handler_runs", "%d", a.s->handler_runs);
	if (a.kind == K_RESETHAND)
		obs_str(o, "disposition_after", a.s->text[0]);
	sigs_shm_free(a.s);
	return rc;
}

static const enum inj_kind k_kill_stopped = K_KILL_STOPPED, k_kill_running = K_KILL_RUNNING,
			   k_blocked = K_BLOCKED, k_resethand = K_RESETHAND, k_sigloss = K_SIGLOSS;

const struct scenario scenario_ptrace_kill_stopped = {
	.id = "ptrace-kill-stopped",
	.group = "signals-steps",
	.desc = "PTRACE_KILL on a tracee in its attach stop (and on an untraced process: ESRCH)",
	.run = run,
	.arg = &k_kill_stopped,
	.expect = "ptrace_kill 0, after_kill killed:SIGKILL, CLD_KILLED; untraced ESRCH.",
	.expect_obs = "ptrace_kill=0;after_kill=killed:SIGKILL;tracee=killed:SIGKILL;"
		      "sigchld=CLD_KILLED:SIGKILL:self;ptrace_kill_untraced=ESRCH",
};

const struct scenario scenario_ptrace_kill_running = {
	.id = "ptrace-kill-running",
	.group = "signals-steps",
	.desc = "PTRACE_KILL on a traced tracee that is not stopped (asleep in read())",
	.run = run,
	.arg = &k_kill_running,
	.expect = "6.x kills it anyway: ptrace_kill 0, after_kill killed:SIGKILL.",
	.expect_obs = "ptrace_kill=0;after_kill=killed:SIGKILL;tracee=killed:SIGKILL;"
		      "sigchld=CLD_KILLED:SIGKILL:self;ptrace_kill_untraced=ESRCH",
};

const struct scenario scenario_cont_sig_blocked = {
	.id = "cont-sig-blocked",
	.group = "signals-steps",
	.desc = "PTRACE_CONT with SIGUSR1 that C blocks: requeued, reported again when unblocked",
	.run = run,
	.arg = &k_blocked,
	.expect = "stop2 SIGSTOP with SIGUSR1 pending; stop3 SIGUSR1 (SI_USER, tracer); handler once.",
	.expect_obs = "stop=signal:SIGSTOP;stop2=signal:SIGSTOP;sigpnd_at_stop2=SIGUSR1;"
		      "stop3=signal:SIGUSR1;stop3_si=SIGUSR1/SI_USER/tracer;end=exited:0;"
		      "handler_runs=1;tracee=exited:0",
};

const struct scenario scenario_cont_sig_resethand = {
	.id = "cont-sig-resethand",
	.group = "signals-steps",
	.desc = "PTRACE_CONT with SIGUSR1 whose handler is SA_RESETHAND: runs once, then SIG_DFL",
	.run = run,
	.arg = &k_resethand,
	.expect = "handler_runs 1, disposition_after SIG_DFL, exited:0.",
	.expect_obs = "cont_sigusr1=0;end=exited:0;handler_runs=1;disposition_after=SIG_DFL;"
		      "tracee=exited:0",
};

const struct scenario scenario_syscall_signal_loss = {
	.id = "syscall-signal-loss",
	.group = "signals-steps",
	.desc = "SIGINT sent at a syscall-entry stop, PTRACE_CONT: the SIGINT is reported",
	.run = run,
	.arg = &k_sigloss,
	.expect = "stop1 syscall, stop2 signal:SIGINT (SI_USER from the tracer), exited:0.",
	.expect_obs = "stop1=syscall;stop2=signal:SIGINT;stop2_si=SIGINT/SI_USER/tracer;"
		      "detach=0;tracee=exited:0",
};
