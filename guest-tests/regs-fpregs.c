// SPDX-License-Identifier: MIT
/*
 * regs-fpregs - the FPU/SSE state through PTRACE_GETFPREGS/SETFPREGS and
 * PTRACE_GETREGSET/SETREGSET (NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE).
 *
 * Set-up: C loads a pattern (REGS_MAGIC_A twice) into xmm7 and makes a raw
 * getpid syscall from the same asm block, then stores xmm7 (a syscall keeps
 * the xmm registers). R attaches, sets PTRACE_O_TRACESYSGOOD, writes "go"
 * and walks C with PTRACE_SYSCALL to getpid's entry stop.
 * Action: R: GETFPREGS (xmm7, mxcsr, fcw); SETFPREGS with xmm7 =
 * REGS_MAGIC_B twice; GETFPREGS back; GETREGSET NT_PRFPREG, NT_PRSTATUS
 * (with a 4096-byte iovec: iov_len written back) and NT_PRSTATUS with an
 * 8-byte iovec (only r15); GETREGSET NT_X86_XSTATE; SETREGSET NT_PRFPREG
 * with what it read; GETFPXREGS/SETFPXREGS (i386-only requests). R
 * detaches; C stores xmm7.
 * Observes: "match" against the pattern or GETREGS, the lengths, the
 * default mxcsr/fcw, errnos; what C finds in xmm7.
 * Documented: ptrace(2) PTRACE_GETFPREGS/SETFPREGS, PTRACE_GETREGSET
 * ("iov.len ... on return the kernel sets it to the size actually
 * returned"), PTRACE_GETFPXREGS (i386); arch/x86/kernel/ptrace.c
 * arch_ptrace() (GETFPXREGS/SETFPXREGS only under CONFIG_X86_32: a 64-bit
 * tracer gets ptrace_request()'s -EIO), x86_64_regsets[] (NT_PRSTATUS
 * sizeof(struct user_regs_struct) = 216, NT_PRFPREG struct fxregs_state =
 * 512, NT_X86_XSTATE the XSAVE area, >= 576 bytes, -ENODEV without XSAVE);
 * kernel/ptrace.c ptrace_regset() (iov_len = min(iov_len, regset size)).
 * Expected on 6.x: fpregs xmm7 match, mxcsr 0x1f80, fcw 0x37f, setfpregs 0,
 * lengths 512/216/8, xstate ge-576 with xmm7 match, fpxregs EIO, C sees
 * the new xmm7.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

/* The legacy (FXSAVE) area: xmm registers from byte 160, 16 bytes each. */
#define FX_XMM(buf, n) ((const unsigned long *)((const char *)(buf) + 160 + 16 * (n)))

static void tracee(struct lab *L, void *arg)
{
	struct regs_ctx *x = arg;
	static const unsigned long in[2] = { REGS_MAGIC_A, REGS_MAGIC_A };
	unsigned long out[2];
	long nr = SYS_getpid;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	__asm__ volatile("movdqu %[in], %%xmm7\n\t"
			 "syscall\n\t"
			 "movdqu %%xmm7, %[out]\n\t"
			 : [out] "=m"(out), "+a"(nr)
			 : [in] "m"(in)
			 : "rcx", "r11", "xmm7", "memory");
	obs_str(x->c, "c_xmm7", out[0] == REGS_MAGIC_B && out[1] == REGS_MAGIC_B ? "poked"
		: out[0] == REGS_MAGIC_A && out[1] == REGS_MAGIC_A ? "unchanged" : "other");
	_exit(0);
}

static const char *xmm_match(const unsigned long *w, unsigned long want)
{
	return w[0] == want && w[1] == want ? "match" : "differs";
}

static void regsets(struct obs *t, pid_t c, const struct user_regs_struct *r)
{
	static unsigned char xbuf[65536];
	unsigned char buf[4096];
	struct iovec iov = { buf, sizeof(buf) };

	if (lab_tracer_ptrace(t, "getregset_fp", PTRACE_GETREGSET, c, (void *)NT_PRFPREG, &iov) == 0) {
		obs_strf(t, "getregset_fp_len", "%zu", iov.iov_len);
		obs_str(t, "getregset_fp_xmm7", xmm_match(FX_XMM(buf, 7), REGS_MAGIC_B));
		lab_tracer_ptrace(t, "setregset_fp", PTRACE_SETREGSET, c, (void *)NT_PRFPREG, &iov);
	}
	iov.iov_len = sizeof(buf);
	if (lab_tracer_ptrace(t, "getregset_prstatus", PTRACE_GETREGSET, c, (void *)NT_PRSTATUS, &iov) == 0) {
		obs_strf(t, "getregset_prstatus_len", "%zu", iov.iov_len);
		obs_str(t, "getregset_prstatus_regs", memcmp(buf, r, sizeof(*r)) ? "differs" : "match");
	}
	iov.iov_len = sizeof(unsigned long);
	memset(buf, 0, sizeof(buf));
	if (lab_tracer_ptrace(t, "getregset_short", PTRACE_GETREGSET, c, (void *)NT_PRSTATUS, &iov) == 0) {
		obs_strf(t, "getregset_short_len", "%zu", iov.iov_len);
		obs_str(t, "getregset_short_r15", regs_match(*(unsigned long *)buf, r->r15));
	}
	iov.iov_base = xbuf;
	iov.iov_len = sizeof(xbuf);
	if (lab_tracer_ptrace(t, "getregset_xstate", PTRACE_GETREGSET, c, (void *)NT_X86_XSTATE, &iov) == 0) {
		obs_str(t, "getregset_xstate_len", iov.iov_len >= 576 ? "ge-576" : "short");
		obs_str(t, "getregset_xstate_xmm7", xmm_match(FX_XMM(xbuf, 7), REGS_MAGIC_B));
	}
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	struct user_fpregs_struct f;
	struct user_regs_struct r;
	unsigned char fx[512];
	pid_t c = L->c;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, c, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD);
	lab_tracer_go(L);
	if (regs_syscall_to(t, c, SYS_getpid, 0, NULL, 0) < 0)
		return;
	if (lab_tracer_ptrace(t, "getfpregs", PTRACE_GETFPREGS, c, NULL, &f) == 0) {
		obs_str(t, "getfpregs_xmm7", xmm_match((const unsigned long *)&f.xmm_space[28], REGS_MAGIC_A));
		obs_strf(t, "getfpregs_mxcsr", "0x%x", f.mxcsr);
		obs_strf(t, "getfpregs_fcw", "0x%x", f.cwd);
		f.xmm_space[28] = f.xmm_space[30] = (unsigned)REGS_MAGIC_B;
		f.xmm_space[29] = f.xmm_space[31] = (unsigned)(REGS_MAGIC_B >> 32);
		lab_tracer_ptrace(t, "setfpregs", PTRACE_SETFPREGS, c, NULL, &f);
		memset(&f, 0, sizeof(f));
		lab_tracer_ptrace(t, NULL, PTRACE_GETFPREGS, c, NULL, &f);
		obs_str(t, "setfpregs_back", xmm_match((const unsigned long *)&f.xmm_space[28], REGS_MAGIC_B));
	}
	lab_tracer_ptrace(t, "getregs", PTRACE_GETREGS, c, NULL, &r);
	regsets(t, c, &r);
	lab_tracer_ptrace(t, "getfpxregs", PTRACE_GETFPXREGS, c, NULL, fx);
	lab_tracer_ptrace(t, "setfpxregs", PTRACE_SETFPXREGS, c, NULL, fx);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lab_spec s = { .tracee = tracee, .tracer = tracer };

	return regs_run(o, v, &s, arg);
}

const struct scenario scenario_regs_fpregs = {
	.id = "regs-fpregs",
	.group = "regs",
	.desc = "GETFPREGS/SETFPREGS of xmm7 C then reads; GETREGSET NT_PRFPREG/NT_PRSTATUS/NT_X86_XSTATE lengths; FPXREGS EIO",
	.run = run,
	.expect = "xmm7 match, mxcsr 0x1f80, fcw 0x37f; C sees the poked xmm7; regset lengths 512, 216, 8, "
		  "xstate >= 576; GETFPXREGS/SETFPXREGS EIO on x86-64.",
	.expect_obs = "getfpregs=0;getfpregs_xmm7=match;getfpregs_mxcsr=0x1f80;getfpregs_fcw=0x37f;setfpregs=0;"
		      "setfpregs_back=match;getregset_fp=0;getregset_fp_len=512;getregset_fp_xmm7=match;setregset_fp=0;"
		      "getregset_prstatus=0;getregset_prstatus_len=216;getregset_prstatus_regs=match;getregset_short=0;"
		      "getregset_short_len=8;getregset_short_r15=match;getregset_xstate=0;getregset_xstate_len=ge-576;"
		      "getregset_xstate_xmm7=match;getfpxregs=EIO;setfpxregs=EIO;c_xmm7=poked;detach=0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
