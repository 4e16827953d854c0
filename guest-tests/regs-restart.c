// SPDX-License-Identifier: MIT
/*
 * regs-restart-* - syscall restart as a tracer sees and steers it: a read()
 * interrupted by a stop, and what the registers at that stop decide.
 *
 * Set-up: C (SA_SIGINFO handler for SIGUSR1, SA_RESTART except in -eintr)
 * blocks in one read() of its "go" pipe and records what that read returned.
 * R waits until C sleeps, then attaches: the SIGSTOP interrupts the read,
 * and C stops for it with the syscall's registers still in place.
 * Action: R, at the attach stop: GETREGS (orig_rax, rax); then
 *  -plain:      PTRACE_CONT 0;
 *  -reset:      POKEUSER orig_rax = -1, PTRACE_CONT 0 (ptrace-tests
 *               erestartsys/syscall-reset: "no restart");
 *  -eintr:      PTRACE_CONT SIGUSR1, the handler has no SA_RESTART;
 *  -sarestart:  PTRACE_CONT SIGUSR1, the handler has SA_RESTART;
 *  -call:       the debugger's inferior call of ptrace-tests erestartsys: save
 *               the registers, SETREGS rip = a function of C, rsp below the
 *               red zone, orig_rax = -1; CONT; the function sets a word and
 *               raises SIGUSR2; at that stop PEEKDATA the word, SETREGS the
 *               saved registers, CONT 0;
 *  -call-trap:  the same, the function stops with int3 (SIGTRAP; ptrace-tests
 *               erestartsys-trap);
 *  -exit-stop:  PTRACE_O_TRACESYSGOOD, PTRACE_SYSCALL to the restarted
 *               read's entry and on (C blocks again), then R sends SIGUSR1:
 *               the syscall-exit stop's registers; PTRACE_SYSCALL to the
 *               signal stop, PTRACE_SYSCALL with SIGUSR1 (handler, SA_RESTART)
 *               and the syscalls C enters next.
 * R writes "go" and waits, still tracing, for C to exit (-exit-stop:
 * detaches).
 * Observes: stop_orig_rax/stop_rax (the interrupted syscall and its internal
 * error, named); C's read result (1, EINTR, or the internal code leaking out);
 * the call's stops; the syscall-exit stop's rax and the following syscalls.
 * Documented: ptrace(2) "Syscall-stops" / signal(7) "Interruption of system
 * calls and library functions by signal handlers" (SA_RESTART restarts read;
 * without it EINTR); arch/x86/kernel/signal.c arch_do_signal_or_restart()
 * and handle_signal(): the restart (rax = orig_rax, rip -= 2) happens only if
 * orig_rax >= 0 ("Did we come from a system call?"), so orig_rax = -1 leaves
 * -ERESTARTSYS (-512) in rax for the tracee; include/linux/errno.h (512 is
 * ERESTARTSYS, "should never be seen by user programs"); the GDB
 * amd64_linux_write_pc() comment quoted in ptrace-tests erestartsys.c.
 * Expected on 6.x: stop_orig_rax read, stop_rax -ERESTARTSYS; plain read 1;
 * reset read ERESTARTSYS (512 leaks to user space); eintr EINTR; sarestart 1;
 * call: stop SIGUSR2 (trap: SIGTRAP), func_data 42, read 1; exit-stop: exit
 * rax -ERESTARTSYS, then signal:SIGUSR1, then rt_sigreturn,read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

enum restart_kind { RS_PLAIN, RS_RESET, RS_EINTR, RS_SARESTART, RS_CALL, RS_CALL_TRAP, RS_EXIT_STOP };

static volatile long regs_func_data;

/* What R makes C run in the middle of its read(); it never returns. */
static void regs_called_raise(void)
{
	regs_func_data = 42;
	raise(SIGUSR2);
	for (;;)
		pause();
}

static void regs_called_trap(void)
{
	regs_func_data = 42;
	__asm__ volatile("int3" ::: "memory");
	for (;;)
		pause();
}

static void tracee(struct lab *L, void *arg)
{
	struct regs_ctx *x = arg;
	enum restart_kind k = *(const enum restart_kind *)x->arg;
	struct sigaction sa;
	ssize_t r;
	char b;
	int e;

	lab_tracee_handle(L, SIGUSR1);
	if (k == RS_EINTR) {
		sigaction(SIGUSR1, NULL, &sa);
		sa.sa_flags &= ~SA_RESTART;
		sigaction(SIGUSR1, &sa, NULL);
	}
	lab_tracee_ready(L);
	errno = 0;
	r = read(L->go[0], &b, 1);
	e = errno;
	obs_str(x->c, "c_read", r == 1 ? "1" : r < 0 ? regs_errno_name(e) : "other");
	if (k == RS_CALL || k == RS_CALL_TRAP)
		obs_strf(x->c, "c_func_data", "%ld", regs_func_data);
	_exit(0);
}

#define ROFF(f) offsetof(struct user_regs_struct, f)

static void call(struct obs *t, pid_t c, const struct user_regs_struct *saved, int trap)
{
	struct user_regs_struct r = *saved;
	int st;
	long w;

	r.rip = (unsigned long)(trap ? regs_called_trap : regs_called_raise);
	/* Below the red zone, aligned as right after a call instruction. */
	r.rsp = ((saved->rsp - 512) & ~15UL) - 8;
	r.orig_rax = (unsigned long)-1L;
	lab_tracer_ptrace(t, "call_setregs", PTRACE_SETREGS, c, NULL, &r);
	lab_tracer_ptrace(t, "call_cont", PTRACE_CONT, c, NULL, NULL);
	if (lab_tracer_stop(t, c, "call_stop", &st) < 0)
		return;
	errno = 0;
	w = ptrace(PTRACE_PEEKDATA, c, (void *)&regs_func_data, NULL);
	obs_strf(t, "call_func_data", "%s", errno ? errno_name(errno) : w == 42 ? "42" : "other");
	lab_tracer_ptrace(t, "call_restore", PTRACE_SETREGS, c, NULL, (void *)saved);
}

static void exit_stop(struct obs *t, struct lab *L)
{
	char state[64], seen[128] = "";
	pid_t c = L->c;
	int st;

	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, c, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD);
	if (regs_syscall_to(t, c, SYS_read, 0, NULL, 0) < 0)
		return;
	lab_tracer_ptrace(t, NULL, PTRACE_SYSCALL, c, NULL, NULL);
	if (procfs_wait_state(c, "sleeping", wait_limit_ms, state, sizeof(state)) < 0)
		obs_str(t, "blocked_state", state);
	kill(c, SIGUSR1);
	if (lab_tracer_wait(t, c, &st) < 0)
		return;
	describe_wstatus(st, state, sizeof(state));
	obs_str(t, "exit_stop", state);
	errno = 0;
	obs_str(t, "exit_orig_rax", regs_sys_name(ptrace(PTRACE_PEEKUSER, c, (void *)ROFF(orig_rax), NULL)));
	obs_str(t, "exit_rax", regs_rval_name(ptrace(PTRACE_PEEKUSER, c, (void *)ROFF(rax), NULL)));
	lab_tracer_ptrace(t, NULL, PTRACE_SYSCALL, c, NULL, NULL);
	if (lab_tracer_wait(t, c, &st) < 0)
		return;
	describe_wstatus(st, state, sizeof(state));
	obs_str(t, "exit_next_stop", state);
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGUSR1)
		return;
	/* Deliver it; the walk's first PTRACE_SYSCALL must carry the signal. */
	lab_tracer_ptrace(t, "deliver", PTRACE_SYSCALL, c, NULL, (void *)(long)SIGUSR1);
	if (lab_tracer_wait(t, c, &st) < 0)
		return;
	if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80)) {
		long nr = ptrace(PTRACE_PEEKUSER, c, (void *)ROFF(orig_rax), NULL);

		strcpy(seen, regs_sys_name(nr));
		if (nr != SYS_rt_sigreturn || regs_syscall_to(t, c, SYS_read, 0, seen, sizeof(seen)) == 0)
			obs_str(t, "after_handler", seen);
	} else {
		describe_wstatus(st, state, sizeof(state));
		obs_str(t, "after_handler", state);
	}
}

/*
 * R stays C's tracer until C has exited: a signal R injects takes si_pid
 * from C's ptrace parent when C dequeues it, which must still be R.
 */
static void wait_end(struct obs *t, pid_t c)
{
	char d[64];
	int st;

	if (lab_tracer_wait(t, c, &st) < 0)
		return;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "tracer_end", d);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	struct regs_ctx *x = arg;
	enum restart_kind k = *(const enum restart_kind *)x->arg;
	struct user_regs_struct saved;
	char state[64];
	pid_t c = L->c;

	/* The SIGSTOP must find C inside read(). */
	if (procfs_wait_state(c, "sleeping", wait_limit_ms, state, sizeof(state)) < 0)
		obs_str(t, "before_state", state);
	if (lab_tracer_attach(L, t) < 0)
		return;
	if (lab_tracer_ptrace(t, "getregs", PTRACE_GETREGS, c, NULL, &saved) < 0)
		return;
	obs_str(t, "stop_orig_rax", regs_sys_name((long)saved.orig_rax));
	obs_str(t, "stop_rax", regs_rval_name((long)saved.rax));
	switch (k) {
	case RS_PLAIN:
		break;
	case RS_RESET:
		lab_tracer_ptrace(t, "pokeuser_orig_rax", PTRACE_POKEUSER, c, (void *)ROFF(orig_rax), (void *)-1L);
		break;
	case RS_EINTR:
	case RS_SARESTART:
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, c, NULL, (void *)(long)SIGUSR1);
		lab_tracer_go(L);
		wait_end(t, c);
		return;
	case RS_CALL:
	case RS_CALL_TRAP:
		call(t, c, &saved, k == RS_CALL_TRAP);
		break;
	case RS_EXIT_STOP:
		exit_stop(t, L);
		lab_tracer_go(L);
		lab_tracer_ptrace(t, "detach", PTRACE_DETACH, c, NULL, NULL);
		return;
	}
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, c, NULL, NULL);
	lab_tracer_go(L);
	wait_end(t, c);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lab_spec s = { .tracee = tracee, .tracer = tracer, .handlers = 1, .settle_sleeping = 1 };

	return regs_run(o, v, &s, arg);
}

static const enum restart_kind k_plain = RS_PLAIN, k_reset = RS_RESET, k_eintr = RS_EINTR,
	k_sarestart = RS_SARESTART, k_call = RS_CALL, k_call_trap = RS_CALL_TRAP, k_exit_stop = RS_EXIT_STOP;

#define STOP_OBS "stop_orig_rax=read;stop_rax=-ERESTARTSYS;"

const struct scenario scenario_regs_restart_plain = {
	.id = "regs-restart-plain", .group = "regs",
	.desc = "read() interrupted by the attach SIGSTOP: registers at the stop; CONT 0 restarts it",
	.run = run, .arg = &k_plain,
	.expect = "stop orig_rax read, rax -ERESTARTSYS; the read restarts and returns 1; exited:0.",
	.expect_obs = STOP_OBS "cont=0;c_read=1;handler=not-run;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_regs_restart_reset = {
	.id = "regs-restart-reset", .group = "regs",
	.desc = "read() interrupted by a stop; the tracer sets orig_rax = -1: no restart, -ERESTARTSYS reaches C",
	.run = run, .arg = &k_reset,
	.expect = "pokeuser 0; C's read returns -1 with errno 512 (ERESTARTSYS); exited:0.",
	.expect_obs = STOP_OBS "pokeuser_orig_rax=0;cont=0;c_read=ERESTARTSYS;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_regs_restart_eintr = {
	.id = "regs-restart-eintr", .group = "regs",
	.desc = "read() interrupted by a stop; CONT with SIGUSR1 (handler without SA_RESTART): EINTR",
	.run = run, .arg = &k_eintr,
	.expect = "handler ran; read EINTR; exited:0.",
	.expect_obs = STOP_OBS "cont=0;handler=ran;si_pid=tracer;c_read=EINTR;tracer_end=exited:0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_regs_restart_sarestart = {
	.id = "regs-restart-sarestart", .group = "regs",
	.desc = "read() interrupted by a stop; CONT with SIGUSR1 (handler with SA_RESTART): the read restarts",
	.run = run, .arg = &k_sarestart,
	.expect = "handler ran; read 1; exited:0.",
	.expect_obs = STOP_OBS "cont=0;handler=ran;si_pid=tracer;c_read=1;tracer_end=exited:0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_regs_restart_call = {
	.id = "regs-restart-call", .group = "regs",
	.desc = "inferior call in an interrupted read() (rip, rsp, orig_rax = -1), then restore: the read restarts",
	.run = run, .arg = &k_call,
	.expect = "call stop signal:SIGUSR2, func_data 42; restored, read restarts and returns 1; exited:0.",
	.expect_obs = STOP_OBS "call_setregs=0;call_stop=signal:SIGUSR2;call_func_data=42;call_restore=0;cont=0;"
		      "c_read=1;c_func_data=42;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_regs_restart_call_trap = {
	.id = "regs-restart-call-trap", .group = "regs",
	.desc = "inferior call ending in int3 in an interrupted read(), then restore: the read restarts",
	.run = run, .arg = &k_call_trap,
	.expect = "call stop signal:SIGTRAP, func_data 42; restored, read restarts and returns 1; exited:0.",
	.expect_obs = STOP_OBS "call_setregs=0;call_stop=signal:SIGTRAP;call_func_data=42;call_restore=0;cont=0;"
		      "c_read=1;c_func_data=42;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_regs_restart_exit_stop = {
	.id = "regs-restart-exit-stop", .group = "regs",
	.desc = "PTRACE_SYSCALL over a read() a signal interrupts: exit stop rax -ERESTARTSYS, then the restart",
	.run = run, .arg = &k_exit_stop,
	.expect = "exit stop syscall, orig_rax read, rax -ERESTARTSYS; next stop signal:SIGUSR1; after the handler "
		  "rt_sigreturn then read again; read 1; exited:0.",
	.expect_obs = STOP_OBS "exit_stop=syscall;exit_orig_rax=read;exit_rax=-ERESTARTSYS;exit_next_stop=signal:SIGUSR1;"
		      "deliver=0;after_handler=rt_sigreturn,read;handler=ran;c_read=1;detach=0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
