// SPDX-License-Identifier: MIT
/*
 * sysemu, sysemu-singlestep - x86 PTRACE_SYSEMU and PTRACE_SYSEMU_SINGLESTEP:
 * the tracer emulates C's system calls.
 *
 * Set-up: C calls sigs_code_sysemu (int3; a: nop; b: mov $__NR_getpid,%eax;
 * c: syscall; d: nop; e: ret) and then write()s one byte into a pipe; R
 * attaches with PTRACE_O_TRACESYSGOOD, resumes C and takes the int3 stop.
 * Action (sysemu): PTRACE_SYSEMU: the stop at getpid's entry (orig_rax,
 * rax); R sets rax to 4242; PTRACE_SYSEMU again: the stop at write's entry;
 * R sets rax to 1; PTRACE_CONT.
 * Action (sysemu-singlestep): PTRACE_SYSEMU_SINGLESTEP from a until C is at
 * e (at most 8 requests), setting rax to 4242 at the syscall stop; CONT
 * (write() then runs for real).
 * Observes: the syscall-entry stop (TRACESYSGOOD: syscall) with orig_rax the
 * call and rax -ENOSYS; the call is not executed: getpid returns what R put
 * in rax, and the byte of the emulated write never reaches the pipe;
 * SYSEMU_SINGLESTEP steps one instruction at a time and stops at the entry
 * of the syscall instruction's call instead of executing it.
 * Documented: ptrace(2) PTRACE_SYSEMU, PTRACE_SYSEMU_SINGLESTEP ("continue
 * and stop on entry to the next system call, which will not be executed");
 * kernel/entry/common.c syscall_trace_enter() (SYSCALL_WORK_SYSCALL_EMU:
 * the call is skipped after the stop, whatever the resume request).
 * Expected on 6.x: sysemu: stops sysemu.d:syscall (getpid, rax -ENOSYS),
 * write; getpid_result 4242, write_result 1, pipe empty, exited:0.
 * sysemu-singlestep: sysemu.b:TRAP_TRACE,sysemu.c:TRAP_TRACE,
 * sysemu.d:syscall, sysemu.e:TRAP_TRACE (no step report for the emulated
 * call itself: the next request runs d's nop); getpid_result 4242, pipe x, exited:0.
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

#define FAKE_PID 4242

struct sysemu_arg {
	int singlestep;
	struct sigs_shm *s;
};

static void tracee(struct lab *L, void *arg)
{
	const struct sysemu_arg *a = arg;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	a->s->vals[0] = sigs_code_sysemu();
	a->s->vals[1] = write(a->s->pipe_wr, "x", 1);
	_exit(0);
}

static const char *sc_name(unsigned long long nr)
{
	static char buf[32];

	switch (nr) {
	case SYS_getpid: return "getpid";
	case SYS_write: return "write";
	case SYS_exit_group: return "exit_group";
	default:
		snprintf(buf, sizeof(buf), "%llu", nr);
		return buf;
	}
}

/* At a syscall-entry stop: record "@key_nr" and "@key_rax", set rax to @rax. */
static void at_entry(struct obs *t, pid_t c, const char *key, long rax)
{
	struct user_regs_struct r;
	char k[OBS_KEY_MAX];

	if (sigs_regs(t, "getregs", c, &r) < 0)
		return;
	snprintf(k, sizeof(k), "%s_nr", key);
	obs_str(t, k, sc_name(r.orig_rax));
	snprintf(k, sizeof(k), "%s_rax", key);
	if ((long)r.rax < 0 && (long)r.rax > -4096)
		obs_strf(t, k, "-%s", errno_name((int)-(long)r.rax));
	else
		obs_strf(t, k, "%lld", (long long)r.rax);
	r.rax = (unsigned long long)rax;
	lab_tracer_ptrace(t, "setregs", PTRACE_SETREGS, c, NULL, &r);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct sysemu_arg *a = arg;
	char here[64], steps[OBS_VAL_MAX] = "";
	unsigned long rip;
	int st, i;

	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
			  (void *)(long)PTRACE_O_TRACESYSGOOD);
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_go(L);
	if (lab_tracer_wait(t, L->c, &st) < 0)
		return;
	sigs_stop_here(L->c, st, here, sizeof(here));
	obs_str(t, "first_stop", here);
	if (!WIFSTOPPED(st))
		return;
	if (!a->singlestep) {
		lab_tracer_ptrace(t, "sysemu", PTRACE_SYSEMU, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, "stop1", &st) < 0)
			return;
		sigs_stop_here(L->c, st, here, sizeof(here));
		obs_str(t, "stop1_at", here);
		if (!WIFSTOPPED(st))
			return;
		at_entry(t, L->c, "stop1", FAKE_PID);
		lab_tracer_ptrace(t, "sysemu2", PTRACE_SYSEMU, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, "stop2", &st) < 0 || !WIFSTOPPED(st))
			return;
		at_entry(t, L->c, "stop2", 1);
	} else {
		for (i = 0; i < 8; i++) {
			lab_tracer_ptrace(t, "sysemu_singlestep", PTRACE_SYSEMU_SINGLESTEP, L->c,
					  NULL, NULL);
			if (lab_tracer_wait(t, L->c, &st) < 0)
				return;
			rip = sigs_stop_here(L->c, st, here, sizeof(here));
			sigs_append(steps, sizeof(steps), here);
			if (!WIFSTOPPED(st))
				break;
			if (WSTOPSIG(st) == (SIGTRAP | 0x80))
				at_entry(t, L->c, "entry", FAKE_PID);
			if (!strcmp(sigs_label(rip), "sysemu.e"))
				break;
		}
		obs_str(t, "steps", steps);
	}
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_stop(t, L->c, "end", &st);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct sysemu_arg a = { .singlestep = *(const int *)arg };
	char b;
	int rc;

	a.s = sigs_shm_new();
	if (!a.s) {
		obs_str(o, "error", "shm");
		return REP_ERROR;
	}
	a.s->vals[0] = a.s->vals[1] = -12345;
	const struct lab_spec sp = { .tracee = tracee, .tracer = tracer, .arg = &a };

	rc = lab_run_spec(o, v, &sp);
	obs_strf(o, "getpid_result", "%ld", a.s->vals[0]);
	obs_strf(o, "write_result", "%ld", a.s->vals[1]);
	obs_str(o, "pipe", read(a.s->pipe_rd, &b, 1) == 1 ? (b == 'x' ? "x" : "other") : "empty");
	sigs_shm_free(a.s);
	return rc;
}

static const int arg_sysemu = 0, arg_sysemu_ss = 1;

const struct scenario scenario_sysemu = {
	.id = "sysemu",
	.group = "signals-steps",
	.desc = "PTRACE_SYSEMU: getpid and write stop at entry and are not executed; R sets the results",
	.run = run,
	.arg = &arg_sysemu,
	.expect = "stop at getpid's entry (rax -ENOSYS), then write's; getpid 4242, write 1, pipe empty.",
	.expect_obs = "stop1=syscall;stop1_at=sysemu.d:syscall;stop1_nr=getpid;stop1_rax=-ENOSYS;"
		      "stop2=syscall;stop2_nr=write;getpid_result=4242;write_result=1;pipe=empty;"
		      "tracee=exited:0",
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_sysemu_singlestep = {
	.id = "sysemu-singlestep",
	.group = "signals-steps",
	.desc = "PTRACE_SYSEMU_SINGLESTEP over nop, mov, syscall(getpid): steps, then an emulated call",
	.run = run,
	.arg = &arg_sysemu_ss,
	.expect = "steps b, c (TRAP_TRACE), the getpid entry (syscall), then e; getpid 4242; pipe x.",
	.expect_obs = "steps=sysemu.b:TRAP_TRACE,sysemu.c:TRAP_TRACE,sysemu.d:syscall,"
		      "sysemu.e:TRAP_TRACE;entry_nr=getpid;entry_rax=-ENOSYS;getpid_result=4242;write_result=1;pipe=x;"
		      "tracee=exited:0",
	.reps_max = REQUEST_REPS,
};
