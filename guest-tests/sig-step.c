// SPDX-License-Identifier: MIT
/*
 * The stepping scenarios of the signals family. C runs code with labels R
 * knows (signals.c): every stop is recorded as "LABEL:SI_CODE", never as an
 * address.
 *
 * step-simple - PTRACE_SINGLESTEP over nop, nop, jmp, then PTRACE_CONT.
 * Set-up: C calls sigs_code_step (int3; a: nop; b: nop; c: jmp e; d: ud2;
 * e: nop; f: ret); R attaches, resumes C into it and takes the int3 stop.
 * Action: R steps three times, reads eflags at the last step stop, then
 * PTRACE_CONT with 0.
 * Observes: each step stops after exactly one instruction with SIGTRAP
 * TRAP_TRACE (the jmp lands on its target e); the TF the kernel set is not
 * shown in eflags; after PTRACE_CONT no stray SIGTRAP: C exits 0.
 * Documented: ptrace(2) PTRACE_SINGLESTEP ("arrange for the tracee to be
 * stopped after execution of a single instruction"); arch/x86/kernel/step.c
 * (TIF_FORCED_TF, user_disable_single_step on resume), ptrace.c get_flags()
 * (a forced TF is hidden); ptrace-tests step-simple, step-jump-cont,
 * step-jump-cont-strict.
 * Expected on 6.x: steps step.b:TRAP_TRACE,step.c:TRAP_TRACE,step.e:TRAP_TRACE,
 * eflags_tf clear, end exited:0.
 *
 * singleblock - x86 PTRACE_SINGLEBLOCK from a.
 * Set-up: as step-simple. Action: one PTRACE_SINGLEBLOCK from a, then CONT.
 * Observes: the request succeeds and C stops with SIGTRAP. Where it stops
 * depends on the CPU: with DEBUGCTL.BTF (real x86) after the taken jmp, at e
 * ("block_stop_at=step.e"); an emulator without BTF steps one instruction
 * (step.b). Only the signal and the request's result are checked.
 * Documented: arch/x86/include/uapi/asm/ptrace-abi.h PTRACE_SINGLEBLOCK (33),
 * arch/x86/kernel/step.c user_enable_block_step(); ptrace-tests block-step.
 * Expected on 6.x: singleblock 0, block_stop signal:SIGTRAP, end exited:0.
 *
 * step-into-handler-cont, step-into-handler-kill - step with a signal into
 * its handler.
 * Set-up: C has sigs_handler (SA_SIGINFO) for SIGUSR1 and sends itself
 * SIGUSR1; R takes the signal-delivery stop.
 * Action: PTRACE_SINGLESTEP with data SIGUSR1; then PTRACE_CONT (cont), or
 * R kills C with SIGKILL from that stop (kill).
 * Observes: the step stops with SIGTRAP before the handler's first
 * instruction runs (rip is the handler's address: step_stop_at "handler");
 * cont: the handler runs once and C exits 0; kill: R's next wait reports
 * killed:SIGKILL (no hang).
 * Documented: arch/x86/kernel/signal.c handle_signal() (stepping:
 * signal_setup_done(..., test_thread_flag(TIF_SINGLESTEP)) reports a step
 * trap on entry to the handler through ptrace_notify(SIGTRAP): si_code is
 * the exit code 5 = SIGTRAP, which the names table shows as TRAP_UNK), ptrace(2) PTRACE_SINGLESTEP; ptrace-tests
 * step-into-handler, step-into-handler-cont, tracer-lockup-on-sighandler-kill.
 * Expected on 6.x: step_stop_at handler:TRAP_UNK; cont: handler_runs 1,
 * exited:0; kill: after_kill killed:SIGKILL.
 *
 * step-through-sigreturn - step out of a handler through rt_sigreturn.
 * Set-up: C's SIGUSR1 handler is sigs_ret_handler (a lone ret) with
 * sigs_restorer (mov $15,%eax; syscall) as SA_RESTORER; C sends itself
 * SIGUSR1 by a raw tkill; R takes the delivery stop and notes rip (the
 * interrupted point, "interrupted").
 * Action: R steps with SIGUSR1, then steps again until C is back at the
 * interrupted point (at most 8 steps), then PTRACE_CONT.
 * Observes: the stops in order: asm-handler, restorer, restorer.syscall,
 * interrupted; stepping survives the sigreturn (which restores eflags).
 * Documented: ptrace-tests step-through-sigret; arch/x86/kernel/step.c
 * (TF forced again after the sigreturn restores flags: TIF_SINGLESTEP stays).
 * Expected on 6.x: steps asm-handler:TRAP_UNK,restorer:TRAP_TRACE,
 * restorer.syscall:TRAP_TRACE,interrupted:TRAP_BRKPT; exited:0.
 *
 * step-fork - step over a fork syscall.
 * Set-up: C blocks SIGCHLD and calls sigs_code_fork (int3; mov $__NR_fork; syscall; test; jz
 * child; ret; child: exit_group(22)); R (no fork options) steps from the
 * int3 stop until C's rip is back at the ret, then PTRACE_CONT. C then waits
 * for its child and reports how it ended.
 * Observes: the stepping continues in the parent after the syscall (the step
 * over the syscall instruction stops at fork.c); the child, not traced,
 * inherits no TF: it exits 22 instead of dying of SIGTRAP.
 * Documented: ptrace-tests step-fork; kernel/fork.c copy_process()
 * (user_disable_single_step(p) for the child; no ptrace inherited).
 * step-from-fork-event: as step-fork, but from the int3 stop R sets
 * PTRACE_O_TRACEFORK and PTRACE_CONTs into the PTRACE_EVENT_FORK stop (the
 * syscall was not entered by a step); it lets the auto-attached child run
 * (it exits 22), then steps C once: the step completes the syscall and
 * stops right after it, with orig_rax __NR_fork and rax the child's pid.
 * Documented: ptrace-tests step-from-clone; kernel/entry/common.c
 * syscall_exit_work() (TIF_SINGLESTEP set at the event stop is reported at
 * syscall exit).
 *
 * Expected on 6.x: steps fork.b:TRAP_TRACE,fork.c:TRAP_BRKPT (the step
 * over a syscall is reported at syscall exit), fork.d, fork.e; grandchild
 * exited:22, exited:0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "scenarios.h"
#include "signals.h"

#ifndef PTRACE_SINGLEBLOCK
#define PTRACE_SINGLEBLOCK 33
#endif

enum step_kind { K_SIMPLE, K_BLOCK, K_HANDLER_CONT, K_HANDLER_KILL, K_SIGRET, K_FORK, K_FORK_EVENT };

struct step_arg {
	enum step_kind kind;
	struct sigs_shm *s;
};

static void tracee(struct lab *L, void *arg)
{
	const struct step_arg *a = arg;
	int st;

	switch (a->kind) {
	case K_HANDLER_CONT:
	case K_HANDLER_KILL:
		if (sigs_install(SIGUSR1, 0) < 0)
			_exit(90);
		break;
	case K_SIGRET:
		if (sigs_install_asm_handler(SIGUSR1) < 0)
			_exit(90);
		break;
	default:
		break;
	}
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	switch (a->kind) {
	case K_SIMPLE:
	case K_BLOCK:
		sigs_code_step();
		break;
	case K_HANDLER_CONT:
	case K_HANDLER_KILL:
		lab_tracee_tkill(SIGUSR1);
		break;
	case K_SIGRET:
		syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR1);
		break;
	case K_FORK:
	case K_FORK_EVENT: {
		sigset_t chld;

		/* No SIGCHLD stop between the steps (as ptrace-tests step-fork). */
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_BLOCK, &chld, NULL);
		if (sigs_code_fork() <= 0)
			_exit(93);
		if (wait(&st) < 0)
			_exit(94);
		describe_wstatus(st, a->s->text[0], sizeof(a->s->text[0]));
		break;
	}
	}
	_exit(0);
}

/* Step (with @req and @sig) and record the stop as LABEL:CODE into @list; the wait status. */
static int step_once(struct obs *t, pid_t c, int req, int sig, char *list, size_t n,
		     unsigned long *rip)
{
	char here[64];
	int st;

	if (lab_tracer_ptrace(t, NULL, req, c, NULL, (void *)(long)sig) < 0) {
		obs_result(t, "step", -1, errno);
		return -1;
	}
	if (lab_tracer_wait(t, c, &st) < 0)
		return -1;
	*rip = sigs_stop_here(c, st, here, sizeof(here));
	sigs_append(list, n, here);
	return WIFSTOPPED(st) ? st : -1;
}

static void end_cont(struct obs *t, pid_t c)
{
	int st;

	lab_tracer_ptrace(t, "cont", PTRACE_CONT, c, NULL, NULL);
	/* step-fork: C's SIGCHLD for its child may come first; pass it on. */
	for (int i = 0; i < 4; i++) {
		if (lab_tracer_stop(t, c, "end", &st) < 0)
			return;
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGCHLD)
			return;
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, c, NULL, (void *)(long)SIGCHLD);
	}
}

/*
 * step-from-fork-event: from the int3 stop, TRACEFORK and PTRACE_CONT into
 * the fork event stop; let the new (auto-attached) child go; then one step.
 */
static void step_from_event(struct lab *L, struct obs *t)
{
	struct user_regs_struct r;
	unsigned long msg = 0;
	char here[64];
	pid_t g;
	int st;

	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
			  (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK));
	lab_tracer_ptrace(t, "cont_to_fork", PTRACE_CONT, L->c, NULL, NULL);
	if (lab_tracer_wait(t, L->c, &st) < 0)
		return;
	describe_wstatus(st, here, sizeof(here));
	obs_str(t, "event_stop", here);
	if (!WIFSTOPPED(st) || (st >> 16) != PTRACE_EVENT_FORK)
		return;
	if (lab_tracer_ptrace(t, "geteventmsg", PTRACE_GETEVENTMSG, L->c, NULL, &msg) < 0)
		return;
	g = (pid_t)msg;
	role_set("child", g);
	if (lab_tracer_stop(t, g, "child_stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "child_cont", PTRACE_CONT, g, NULL, NULL);
	lab_tracer_stop(t, g, "child_end", &st);
	lab_tracer_ptrace(t, "step", PTRACE_SINGLESTEP, L->c, NULL, NULL);
	if (lab_tracer_stop(t, L->c, "step_stop", &st) < 0 || !WIFSTOPPED(st))
		return;
	sigs_stop_here(L->c, st, here, sizeof(here));
	obs_str(t, "step_stop_at", here);
	if (sigs_regs(t, "getregs", L->c, &r) == 0) {
		obs_str(t, "step_orig_rax", r.orig_rax == SYS_fork ? "fork" : "other");
		obs_strf(t, "step_rax", "pid:%s", role_of((pid_t)r.rax));
	}
	end_cont(t, L->c);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct step_arg *a = arg;
	char steps[OBS_VAL_MAX] = "", here[64];
	struct user_regs_struct r;
	unsigned long rip = 0;
	int st, i;

	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_go(L);
	if (lab_tracer_wait(t, L->c, &st) < 0)
		return;
	rip = sigs_stop_here(L->c, st, here, sizeof(here));
	obs_str(t, "first_stop", here);
	if (!WIFSTOPPED(st))
		return;

	switch (a->kind) {
	case K_SIMPLE:
		for (i = 0; i < 3; i++)
			if (step_once(t, L->c, PTRACE_SINGLESTEP, 0, steps, sizeof(steps), &rip) < 0)
				break;
		obs_str(t, "steps", steps);
		if (sigs_regs(t, "getregs", L->c, &r) == 0)
			obs_str(t, "eflags_tf", r.eflags & 0x100 ? "set" : "clear");
		end_cont(t, L->c);
		break;
	case K_BLOCK:
		lab_tracer_ptrace(t, "singleblock", PTRACE_SINGLEBLOCK, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, "block_stop", &st) < 0)
			return;
		sigs_stop_here(L->c, st, here, sizeof(here));
		obs_str(t, "block_stop_at", here);
		end_cont(t, L->c);
		break;
	case K_HANDLER_CONT:
	case K_HANDLER_KILL:
		if (step_once(t, L->c, PTRACE_SINGLESTEP, SIGUSR1, steps, sizeof(steps), &rip) < 0) {
			obs_str(t, "step_stop_at", steps);
			return;
		}
		obs_str(t, "step_stop_at", steps);
		if (a->kind == K_HANDLER_CONT) {
			end_cont(t, L->c);
		} else {
			obs_result(t, "kill", kill(L->c, SIGKILL), errno);
			lab_tracer_stop(t, L->c, "after_kill", &st);
		}
		break;
	case K_SIGRET:
		sigs_label_add("interrupted", rip);
		for (i = 0; i < 8; i++) {
			if (step_once(t, L->c, PTRACE_SINGLESTEP, i ? 0 : SIGUSR1, steps,
				      sizeof(steps), &rip) < 0)
				break;
			if (!strcmp(sigs_label(rip), "interrupted"))
				break;
		}
		obs_str(t, "steps", steps);
		end_cont(t, L->c);
		break;
	case K_FORK:
		for (i = 0; i < 8; i++) {
			if (step_once(t, L->c, PTRACE_SINGLESTEP, 0, steps, sizeof(steps), &rip) < 0)
				break;
			if (!strcmp(sigs_label(rip), "fork.e"))
				break;
		}
		obs_str(t, "steps", steps);
		end_cont(t, L->c);
		break;
	case K_FORK_EVENT:
		step_from_event(L, t);
		break;
	}
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct step_arg a = { .kind = *(const enum step_kind *)arg };
	int rc;

	a.s = sigs_shm_new();
	if (!a.s) {
		obs_str(o, "error", "shm");
		return REP_ERROR;
	}
	const struct lab_spec sp = { .tracee = tracee, .tracer = tracer, .arg = &a };

	rc = lab_run_spec(o, v, &sp);
	if (a.kind == K_HANDLER_CONT || a.kind == K_HANDLER_KILL)
		obs_strf(o, "handler_runs", "%d", a.s->handler_runs);
	if (a.kind == K_FORK || a.kind == K_FORK_EVENT)
		obs_str(o, "grandchild", a.s->text[0][0] ? a.s->text[0] : "unknown");
	sigs_shm_free(a.s);
	return rc;
}

static const enum step_kind k_simple = K_SIMPLE, k_block = K_BLOCK, k_hcont = K_HANDLER_CONT,
			    k_hkill = K_HANDLER_KILL, k_sigret = K_SIGRET, k_fork = K_FORK,
			    k_fork_event = K_FORK_EVENT;

const struct scenario scenario_step_simple = {
	.id = "step-simple",
	.group = "signals-steps",
	.desc = "PTRACE_SINGLESTEP over nop, nop, jmp from an int3 stop, then PTRACE_CONT",
	.run = run,
	.arg = &k_simple,
	.expect = "one instruction a step (TRAP_TRACE, the jmp lands on its target), TF hidden, exited:0.",
	.expect_obs = "first_stop=step.a:SI_KERNEL;steps=step.b:TRAP_TRACE,step.c:TRAP_TRACE,"
		      "step.e:TRAP_TRACE;eflags_tf=clear;end=exited:0;tracee=exited:0",
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_singleblock = {
	.id = "singleblock",
	.group = "signals-steps",
	.desc = "x86 PTRACE_SINGLEBLOCK from an int3 stop: stops with SIGTRAP (where: CPU-dependent)",
	.run = run,
	.arg = &k_block,
	.expect = "singleblock 0, block_stop signal:SIGTRAP, exited:0.",
	.expect_obs = "singleblock=0;block_stop=signal:SIGTRAP;end=exited:0;tracee=exited:0",
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_step_into_handler_cont = {
	.id = "step-into-handler-cont",
	.group = "signals-steps",
	.desc = "PTRACE_SINGLESTEP with SIGUSR1 stops at the handler's first instruction; then CONT",
	.run = run,
	.arg = &k_hcont,
	.expect = "step_stop_at handler:TRAP_UNK; handler_runs 1, exited:0.",
	.expect_obs = "first_stop=other:SIGUSR1;step_stop_at=handler:TRAP_UNK;end=exited:0;"
		      "handler_runs=1;tracee=exited:0",
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_step_into_handler_kill = {
	.id = "step-into-handler-kill",
	.group = "signals-steps",
	.desc = "step with SIGUSR1 into the handler, then SIGKILL the tracee: the tracer's wait returns",
	.run = run,
	.arg = &k_hkill,
	.expect = "step_stop_at handler:TRAP_UNK; after_kill killed:SIGKILL, handler never ran.",
	.expect_obs = "step_stop_at=handler:TRAP_UNK;kill=0;after_kill=killed:SIGKILL;"
		      "handler_runs=0;tracee=killed:SIGKILL",
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_step_through_sigreturn = {
	.id = "step-through-sigreturn",
	.group = "signals-steps",
	.desc = "step into an asm handler and out through rt_sigreturn back to the interrupted point",
	.run = run,
	.arg = &k_sigret,
	.expect = "asm-handler, restorer, restorer.syscall, interrupted; exited:0.",
	.expect_obs = "steps=asm-handler:TRAP_UNK,restorer:TRAP_TRACE,restorer.syscall:TRAP_TRACE,"
		      "interrupted:TRAP_BRKPT;end=exited:0;tracee=exited:0",
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_step_fork = {
	.id = "step-fork",
	.group = "signals-steps",
	.desc = "single-step over a raw fork syscall: the untraced child runs free (exits 22)",
	.run = run,
	.arg = &k_fork,
	.expect = "stepping goes on in the parent; grandchild exited:22; exited:0.",
	.expect_obs = "steps=fork.b:TRAP_TRACE,fork.c:TRAP_BRKPT,fork.d:TRAP_TRACE,fork.e:TRAP_TRACE;"
		      "grandchild=exited:22;end=exited:0;tracee=exited:0",
};

const struct scenario scenario_step_from_fork_event = {
	.id = "step-from-fork-event",
	.group = "signals-steps",
	.desc = "PTRACE_SINGLESTEP from a PTRACE_EVENT_FORK stop reached by PTRACE_CONT",
	.run = run,
	.arg = &k_fork_event,
	.expect = "one step ends the syscall: SIGTRAP at fork.c, orig_rax fork, rax the child's pid.",
	.expect_obs = "event_stop=event:fork;child_stop=signal:SIGSTOP;child_end=exited:22;"
		      "step_stop=signal:SIGTRAP;step_stop_at=fork.c:TRAP_BRKPT;step_orig_rax=fork;"
		      "step_rax=pid:child;grandchild=exited:22;end=exited:0;tracee=exited:0",
};
