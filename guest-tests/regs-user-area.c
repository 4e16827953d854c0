// SPDX-License-Identifier: MIT
/*
 * regs-user-area - the x86-64 "user area" of PTRACE_PEEKUSER/POKEUSER and
 * the general registers of PTRACE_GETREGS/SETREGS, word by word.
 *
 * Set-up: R attaches C (resting in read() on its "go" pipe) and waits for
 * the attach stop.
 * Action: R: (1) PEEKUSER every aligned offset of the kernel's struct user
 * (glibc's and the two words after it, error_code and fault_address): the
 * user_regs_struct words against GETREGS, the words between the registers
 * and u_debugreg (u_fpvalid ... u_comm) and after it, the debug registers (DR6 apart);
 * (2) POKEUSER every user_regs_struct word with the value it has (ptrace-tests
 * peekpokeusr), and POKEUSER of a word outside the registers and debug
 * registers (u_tsize); (3) SETREGS with a pattern in the 15 general registers
 * other than rsp, GETREGS back (ptrace-tests user-regs-peekpoke); eflags: CF
 * toggled, IOPL bits set; (4) POKEUSER of segment selectors with RPL 0 (cs 0,
 * ds 0x10) and of fs_base above TASK_SIZE_MAX. R puts the original registers
 * back (SETREGS), detaches, and writes "go".
 * Observes: each check as "match"/"zero"/"all-0" or the first failure, each
 * error's errno; C exits 0 after the same-value pokes.
 * Documented: ptrace(2) PTRACE_PEEKUSER ("offset ... in the tracee's USER
 * area"; <sys/user.h>), PTRACE_POKEUSER ("some modifications to the USER area
 * are disallowed to maintain kernel integrity"); arch/x86/kernel/ptrace.c
 * arch_ptrace(): PEEKUSR reads 0 outside the registers and debug registers,
 * POKEUSR returns -EIO there; ptrace_get_debugreg(): DR0-3 are the
 * addresses of the ptrace breakpoints (none: 0), DR7 the control word (0),
 * DR6 the virtual status flipped back to the architectural polarity
 * (virtual_dr6 ^ DR6_RESERVED: 0xffff0ff0 with no debug event); set_flags() keeps all but FLAG_MASK (CF PF AF
 * ZF SF TF DF OF RF AC NT); set_segment_reg(): a non-null selector with
 * RPL != 3, or a null cs/ss, is -EIO; putreg(): fs_base/gs_base >=
 * TASK_SIZE_MAX is -EIO.
 * Expected on 6.x: peekuser_regs match, peekuser_pad zero, peekuser_dr zero,
 * peekuser_dr6 0xffff0ff0,
 * pokeuser_same all-0, pokeuser_pad EIO, setregs_gp match, eflags_cf
 * toggled, eflags_iopl ignored, segment/fs_base pokes EIO, exited:0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

#define X86_EFLAGS_CF 0x1UL
#define X86_EFLAGS_IOPL 0x3000UL
#define UOFF(f) offsetof(struct user, f)
#define ROFF(f) offsetof(struct user_regs_struct, f)

static long peekuser(pid_t pid, size_t off, int *err)
{
	long v;

	errno = 0;
	v = ptrace(PTRACE_PEEKUSER, pid, (void *)off, NULL);
	*err = errno;
	return v;
}

/* (1) PEEKUSER across the whole area. */
static void peek_all(struct obs *t, pid_t c, const struct user_regs_struct *r)
{
	const unsigned long *w = (const unsigned long *)r;
	const char *regs = "match", *pad = "zero", *dr = "zero";
	char buf[64];
	size_t off;
	int err;
	long v;

	for (off = 0; off < REGS_USER_SIZE; off += sizeof(long)) {
		v = peekuser(c, off, &err);
		if (err) {
			snprintf(buf, sizeof(buf), "%s@%zu", errno_name(err), off);
			obs_str(t, "peekuser_all", buf);
			return;
		}
		if (off < sizeof(*r)) {
			if ((unsigned long)v != w[off / sizeof(long)])
				regs = "differs";
		} else if (off == UOFF(u_debugreg[6])) {
			obs_strf(t, "peekuser_dr6", "0x%lx", (unsigned long)v);
		} else if (off >= UOFF(u_debugreg) && off < sizeof(struct user)) {
			if (v)
				dr = "nonzero";
		} else if (v) {
			pad = "nonzero";
		}
	}
	obs_str(t, "peekuser_all", "0");
	obs_str(t, "peekuser_regs", regs);
	obs_str(t, "peekuser_pad", pad);
	obs_str(t, "peekuser_dr", dr);
}

/* (2) POKEUSER every register with its own value. */
static void poke_same(struct obs *t, pid_t c, const struct user_regs_struct *r)
{
	const unsigned long *w = (const unsigned long *)r;
	char buf[64];
	size_t off;

	for (off = 0; off < sizeof(*r); off += sizeof(long))
		if (ptrace(PTRACE_POKEUSER, c, (void *)off, (void *)w[off / sizeof(long)]) < 0) {
			snprintf(buf, sizeof(buf), "%s@%zu", errno_name(errno), off);
			obs_str(t, "pokeuser_same", buf);
			return;
		}
	obs_str(t, "pokeuser_same", "all-0");
}

/* (3) SETREGS a pattern into the general registers, GETREGS it back. */
static void set_gp(struct obs *t, pid_t c, const struct user_regs_struct *orig)
{
	static const size_t gp[] = {
		ROFF(r15), ROFF(r14), ROFF(r13), ROFF(r12), ROFF(rbp), ROFF(rbx), ROFF(r11),
		ROFF(r10), ROFF(r9), ROFF(r8), ROFF(rax), ROFF(rcx), ROFF(rdx), ROFF(rsi), ROFF(rdi),
	};
	struct user_regs_struct r = *orig, back;
	size_t i;
	const char *res = "match";

	for (i = 0; i < sizeof(gp) / sizeof(gp[0]); i++)
		*(unsigned long *)((char *)&r + gp[i]) = REGS_MAGIC_B + i;
	lab_tracer_ptrace(t, "setregs", PTRACE_SETREGS, c, NULL, &r);
	lab_tracer_ptrace(t, "getregs", PTRACE_GETREGS, c, NULL, &back);
	for (i = 0; i < sizeof(gp) / sizeof(gp[0]); i++)
		if (*(unsigned long *)((char *)&back + gp[i]) != REGS_MAGIC_B + i)
			res = "differs";
	obs_str(t, "setregs_gp", res);

	r = *orig;
	r.eflags ^= X86_EFLAGS_CF;
	ptrace(PTRACE_SETREGS, c, NULL, &r);
	ptrace(PTRACE_GETREGS, c, NULL, &back);
	obs_str(t, "eflags_cf", (back.eflags ^ orig->eflags) == X86_EFLAGS_CF ? "toggled" : "other");
	r = *orig;
	r.eflags |= X86_EFLAGS_IOPL;
	lab_tracer_ptrace(t, "setregs_iopl", PTRACE_SETREGS, c, NULL, &r);
	ptrace(PTRACE_GETREGS, c, NULL, &back);
	obs_str(t, "eflags_iopl", (back.eflags & X86_EFLAGS_IOPL) == (orig->eflags & X86_EFLAGS_IOPL)
		? "ignored" : "set");
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	struct user_regs_struct r;
	pid_t c = L->c;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	if (lab_tracer_ptrace(t, "getregs_orig", PTRACE_GETREGS, c, NULL, &r) < 0)
		return;
	peek_all(t, c, &r);
	poke_same(t, c, &r);
	lab_tracer_ptrace(t, "pokeuser_pad", PTRACE_POKEUSER, c, (void *)UOFF(u_tsize), (void *)1L);
	set_gp(t, c, &r);
	lab_tracer_ptrace(t, "pokeuser_cs_null", PTRACE_POKEUSER, c, (void *)ROFF(cs), NULL);
	lab_tracer_ptrace(t, "pokeuser_ds_rpl0", PTRACE_POKEUSER, c, (void *)ROFF(ds), (void *)0x10L);
	lab_tracer_ptrace(t, "pokeuser_fs_base_high", PTRACE_POKEUSER, c, (void *)ROFF(fs_base),
			  (void *)REGS_BAD_ADDR);
	lab_tracer_ptrace(t, "setregs_restore", PTRACE_SETREGS, c, NULL, &r);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, c, NULL, NULL);
	lab_tracer_go(L);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lab_spec s = { .tracee = lab_tracee_go_exit, .tracer = tracer };

	(void)arg;
	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_regs_user_area = {
	.id = "regs-user-area",
	.group = "regs",
	.desc = "PEEKUSER/POKEUSER across struct user, SETREGS/GETREGS of every general register, eflags and selector rules",
	.run = run,
	.expect = "peekuser regs match GETREGS, rest of the area and debug registers zero but DR6 0xffff0ff0; same-value pokes all 0; "
		  "poke outside the registers EIO; gp registers round-trip; CF toggles, IOPL ignored; RPL-0 selectors, "
		  "null cs and a kernel fs_base EIO; exited:0.",
	.expect_obs = "peekuser_all=0;peekuser_regs=match;peekuser_pad=zero;peekuser_dr=zero;peekuser_dr6=0xffff0ff0;pokeuser_same=all-0;"
		      "pokeuser_pad=EIO;setregs=0;setregs_gp=match;eflags_cf=toggled;setregs_iopl=0;eflags_iopl=ignored;"
		      "pokeuser_cs_null=EIO;pokeuser_ds_rpl0=EIO;pokeuser_fs_base_high=EIO;setregs_restore=0;"
		      "detach=0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
