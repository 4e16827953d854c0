// SPDX-License-Identifier: MIT
/*
 * regs-syscall - GETREGS/SETREGS/PEEKUSER/POKEUSER at syscall stops: what the
 * registers say there and what a tracer's change does to the tracee.
 *
 * Set-up: R attaches C (resting in read() on its "go" pipe), sets
 * PTRACE_O_TRACESYSGOOD, writes "go" and walks C with PTRACE_SYSCALL. After
 * read() C makes four raw syscalls: getpid, syscall number -23, getppid,
 * getppid again; it remembers their results and, once R is gone, records them.
 * Action: R:
 *  (1) getpid entry stop: GETREGS (rax, orig_rax); exit stop: GETREGS (rax is
 *      C's pid; rip is just past the 2-byte "syscall" instruction: PEEKTEXT
 *      at rip - 2, PEEKUSER rip), then SETREGS with rax = 0x4b46;
 *  (2) entry of syscall -23: rax and orig_rax, POKEUSER rax = -ENOTTY, then
 *      rax at its exit stop (ptrace-tests syscall-reset);
 *  (3) entry of getppid: POKEUSER orig_rax = -1 and rax = 0x4b46 (the
 *      syscall is skipped; its exit stop still comes);
 *  (4) entry of the second getppid: POKEUSER orig_rax = __NR_getpid (another
 *      syscall runs instead), then detach at its exit stop.
 * Observes: R's view of rax/orig_rax/rip at each stop; C's results.
 * Documented: ptrace(2) PTRACE_GETREGS/SETREGS/PEEKUSER/POKEUSER and
 * "Syscall-stops" (the tracer may change the syscall number at entry; -1
 * skips it). arch/x86/entry/common.c do_syscall_64(): at entry rax is
 * -ENOSYS; an out-of-range number gets -ENOSYS (sys_ni_syscall) written over
 * whatever rax the tracer set, only nr == -1 leaves rax alone (since 5.x:
 * "x86/entry: Treat out of range and gap system calls the same"; the older
 * behaviour ptrace-tests syscall-reset checks, the poked -ENOTTY reaching
 * the tracee, is gone).
 * Expected on 6.x: entry rax -ENOSYS, orig_rax getpid; exit rax match,
 * rip after "syscall"; C's getpid returns 0x4b46; syscall -23: C gets
 * ENOSYS; skipped getppid returns 0x4b46 (exit orig_rax -1); the swapped
 * getppid returns C's own pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

#define INVALID_NR (-23L)

static void tracee(struct lab *L, void *arg)
{
	struct regs_ctx *x = arg;
	long r1, r2, r3, r4;
	int e2;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	/* Nothing but these syscalls until R has detached. */
	r1 = syscall(SYS_getpid);
	errno = 0;
	r2 = syscall(INVALID_NR, 1, 2, 3);
	e2 = errno;
	r3 = syscall(SYS_getppid);
	r4 = syscall(SYS_getppid);
	obs_str(x->c, "c_getpid", r1 == (long)REGS_MARK ? "mark" : r1 == getpid() ? "self" : "other");
	obs_str(x->c, "c_invalid", r2 == -1 ? regs_errno_name(e2) : "returned");
	obs_str(x->c, "c_skipped", r3 == (long)REGS_MARK ? "mark" : r3 == getppid() ? "parent" : "other");
	obs_str(x->c, "c_swapped", r4 == getpid() ? "self" : r4 == getppid() ? "parent" : "other");
	_exit(0);
}

static long peekuser(struct obs *t, const char *key, pid_t pid, size_t off)
{
	long v;

	errno = 0;
	v = ptrace(PTRACE_PEEKUSER, pid, (void *)off, NULL);
	if (errno && key)
		obs_str(t, key, errno_name(errno));
	return v;
}

static int next_stop(struct obs *t, pid_t pid)
{
	int st;
	char d[64];

	lab_tracer_ptrace(t, NULL, PTRACE_SYSCALL, pid, NULL, NULL);
	if (lab_tracer_wait(t, pid, &st) < 0)
		return -1;
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80)) {
		describe_wstatus(st, d, sizeof(d));
		obs_str(t, "walk", d);
		return -1;
	}
	return 0;
}

#define OFF(r) offsetof(struct user_regs_struct, r)

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	struct user_regs_struct r;
	pid_t c = L->c;
	long w;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, c, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD);
	lab_tracer_go(L);

	/* (1) getpid */
	if (regs_syscall_to(t, c, SYS_getpid, 0, NULL, 0) < 0)
		return;
	lab_tracer_ptrace(t, "getregs_entry", PTRACE_GETREGS, c, NULL, &r);
	obs_str(t, "entry_rax", regs_rval_name((long)r.rax));
	obs_str(t, "entry_orig_rax", regs_sys_name((long)r.orig_rax));
	if (next_stop(t, c) < 0)
		return;
	lab_tracer_ptrace(t, "getregs_exit", PTRACE_GETREGS, c, NULL, &r);
	obs_str(t, "exit_orig_rax", regs_sys_name((long)r.orig_rax));
	obs_str(t, "exit_rax", regs_match(r.rax, (unsigned long)c));
	obs_str(t, "exit_rip_peekuser", regs_match((unsigned long)peekuser(t, "peekuser_rip", c, OFF(rip)), r.rip));
	errno = 0;
	w = ptrace(PTRACE_PEEKTEXT, c, (void *)(r.rip - 2), NULL);
	obs_str(t, "exit_rip_after", errno ? errno_name(errno) : (w & 0xffff) == 0x050f ? "syscall-insn" : "other");
	r.rax = REGS_MARK;
	lab_tracer_ptrace(t, "setregs", PTRACE_SETREGS, c, NULL, &r);

	/* (2) an invalid syscall number: does a poked rax survive? */
	if (regs_syscall_to(t, c, INVALID_NR, 0, NULL, 0) < 0)
		return;
	obs_str(t, "invalid_orig_rax", regs_sys_name(peekuser(t, NULL, c, OFF(orig_rax))));
	obs_str(t, "invalid_entry_rax", regs_rval_name(peekuser(t, NULL, c, OFF(rax))));
	lab_tracer_ptrace(t, "invalid_pokeuser", PTRACE_POKEUSER, c, (void *)OFF(rax), (void *)(long)-ENOTTY);
	if (next_stop(t, c) < 0)
		return;
	obs_str(t, "invalid_exit_rax", regs_rval_name(peekuser(t, NULL, c, OFF(rax))));

	/* (3) skip getppid: orig_rax = -1 */
	if (regs_syscall_to(t, c, SYS_getppid, 0, NULL, 0) < 0)
		return;
	lab_tracer_ptrace(t, "skip_pokeuser", PTRACE_POKEUSER, c, (void *)OFF(orig_rax), (void *)-1L);
	lab_tracer_ptrace(t, "skip_pokeuser_rax", PTRACE_POKEUSER, c, (void *)OFF(rax), (void *)REGS_MARK);
	if (next_stop(t, c) < 0)
		return;
	obs_str(t, "skip_exit_orig_rax", regs_sys_name(peekuser(t, NULL, c, OFF(orig_rax))));
	obs_str(t, "skip_exit_rax", regs_rval_name(peekuser(t, NULL, c, OFF(rax))));

	/* (4) getppid becomes getpid */
	if (regs_syscall_to(t, c, SYS_getppid, 0, NULL, 0) < 0)
		return;
	lab_tracer_ptrace(t, "swap_pokeuser", PTRACE_POKEUSER, c, (void *)OFF(orig_rax), (void *)(long)SYS_getpid);
	if (next_stop(t, c) < 0)
		return;
	obs_str(t, "swap_exit_orig_rax", regs_sys_name(peekuser(t, NULL, c, OFF(orig_rax))));
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lab_spec s = { .tracee = tracee, .tracer = tracer };

	return regs_run(o, v, &s, arg);
}

const struct scenario scenario_regs_syscall = {
	.id = "regs-syscall",
	.group = "regs",
	.desc = "registers at syscall stops: GETREGS/SETREGS/PEEKUSER/POKEUSER of rax, orig_rax, rip; skip and swap a syscall",
	.run = run,
	.expect = "entry rax -ENOSYS; exit rax match, rip after syscall; getpid returns the tracer's 0x4b46; "
		  "syscall -23 gives ENOSYS despite the poke; skipped getppid returns 0x4b46; swapped one returns self.",
	.expect_obs = "entry_rax=-ENOSYS;entry_orig_rax=getpid;exit_orig_rax=getpid;exit_rax=match;"
		      "exit_rip_peekuser=match;exit_rip_after=syscall-insn;setregs=0;c_getpid=mark;"
		      "invalid_orig_rax=-23;invalid_entry_rax=-ENOSYS;invalid_pokeuser=0;invalid_exit_rax=-ENOSYS;"
		      "c_invalid=ENOSYS;skip_pokeuser=0;skip_exit_orig_rax=-1;skip_exit_rax=0x4b46;c_skipped=mark;"
		      "swap_pokeuser=0;swap_exit_orig_rax=getpid;c_swapped=self;detach=0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
