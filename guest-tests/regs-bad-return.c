// SPDX-License-Identifier: MIT
/*
 * regs-bad-cs, regs-bad-rip - registers a tracer sets that the tracee cannot
 * return to user mode with.
 *
 * Set-up: R attaches C (resting in read() on its "go" pipe) and waits for
 * the attach stop.
 * Action: R: regs-bad-cs: POKEUSER cs = 0xffff (RPL 3, so accepted; no such
 * descriptor) - ptrace-tests x86_64-cs; regs-bad-rip: SETREGS with rip = the
 * address of a data word (mapped, not executable) and orig_rax = -1 so that
 * no syscall restart moves it - ptrace-tests ret-to-nxpage. Then PTRACE_CONT
 * with 0 and wait; R kills C with SIGKILL at that stop.
 * Observes: the poke's result, the stop C comes to, its siginfo
 * (PTRACE_GETSIGINFO), for the bad rip whether si_addr and the rip at the
 * SIGSEGV stop (PEEKUSER) are that address (the fault is reported at the
 * target, not before it).
 * Documented: arch/x86/kernel/ptrace.c set_segment_reg() (cs "can't actually
 * change ... in 64-bit mode"; only null and RPL != 3 are refused); the return
 * to user mode through IRET faults and the kernel turns that #GP into SIGSEGV
 * (arch/x86/kernel/traps.c fixup_bad_iret(), exc_general_protection(): si_code
 * SI_KERNEL); an instruction fetch from a non-executable page is a page fault
 * reported as SIGSEGV SEGV_ACCERR with si_addr the faulting address
 * (arch/x86/mm/fault.c). ptrace-tests: "any non-crashing kernel is a PASS".
 * Expected on 6.x: bad cs: poke 0, stop signal:SIGSEGV, si_code SI_KERNEL;
 * bad rip: stop signal:SIGSEGV, SEGV_ACCERR, si_addr match; killed:SIGKILL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

static volatile unsigned long regs_nx_word[2] = { REGS_MAGIC_A, REGS_MAGIC_A };

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int bad_rip = *(const int *)arg, st;
	struct user_regs_struct r;
	unsigned long rip;
	siginfo_t si;
	pid_t c = L->c;

	if (lab_tracer_attach(L, t) < 0)
		return;
	if (bad_rip) {
		lab_tracer_ptrace(t, "getregs", PTRACE_GETREGS, c, NULL, &r);
		r.rip = (unsigned long)&regs_nx_word[0];
		r.orig_rax = (unsigned long)-1L;
		lab_tracer_ptrace(t, "setregs", PTRACE_SETREGS, c, NULL, &r);
	} else {
		lab_tracer_ptrace(t, "pokeuser_cs", PTRACE_POKEUSER, c,
				  (void *)offsetof(struct user_regs_struct, cs), (void *)0xffffL);
	}
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, c, NULL, NULL);
	if (lab_tracer_stop(t, c, "stop", &st) < 0)
		return;
	if (bad_rip && ptrace(PTRACE_GETSIGINFO, c, NULL, &si) == 0)
	{
		obs_str(t, "stop_si_code", si.si_code == SEGV_ACCERR ? "SEGV_ACCERR"
			: si.si_code == SEGV_MAPERR ? "SEGV_MAPERR" : si_code_name(si.si_signo, si.si_code));
		obs_str(t, "stop_si_addr", regs_match((unsigned long)si.si_addr, (unsigned long)&regs_nx_word[0]));
		errno = 0;
		rip = (unsigned long)ptrace(PTRACE_PEEKUSER, c, (void *)offsetof(struct user_regs_struct, rip), NULL);
		obs_str(t, "stop_rip", errno ? errno_name(errno) : regs_match(rip, (unsigned long)&regs_nx_word[0]));
	}
	kill(c, SIGKILL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = lab_tracee_go_exit, .tracer = tracer, .arg = (void *)arg };

	return lab_run_spec(o, v, &s);
}

static const int arg_cs = 0;
static const int arg_rip = 1;

const struct scenario scenario_regs_bad_cs = {
	.id = "regs-bad-cs",
	.group = "regs",
	.desc = "POKEUSER cs = 0xffff (accepted), then CONT: the return to user mode faults",
	.run = run,
	.arg = &arg_cs,
	.expect = "pokeuser_cs 0, stop signal:SIGSEGV (SI_KERNEL), killed:SIGKILL.",
	.expect_obs = "pokeuser_cs=0;cont=0;stop=signal:SIGSEGV;stop_si=SIGSEGV/SI_KERNEL/-;tracee=killed:SIGKILL",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_regs_bad_rip = {
	.id = "regs-bad-rip",
	.group = "regs",
	.desc = "SETREGS rip = a non-executable data page, then CONT: SIGSEGV at that address",
	.run = run,
	.arg = &arg_rip,
	.expect = "setregs 0, stop signal:SIGSEGV, SEGV_ACCERR at the new rip, killed:SIGKILL.",
	.expect_obs = "setregs=0;cont=0;stop=signal:SIGSEGV;stop_si_code=SEGV_ACCERR;stop_si_addr=match;stop_rip=match;tracee=killed:SIGKILL",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
