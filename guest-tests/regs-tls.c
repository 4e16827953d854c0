// SPDX-License-Identifier: MIT
/*
 * regs-tls - the segment bases of x86-64: PTRACE_ARCH_PRCTL, fs_base and
 * gs_base in the user area, and the TLS descriptors of
 * PTRACE_GET_THREAD_AREA/SET_THREAD_AREA.
 *
 * Set-up: C takes its own fs base (arch_prctl ARCH_GET_FS) into shared
 * memory, then rests in read() on its "go" pipe. R attaches.
 * Action: R: PEEKUSER fs_base and PTRACE_ARCH_PRCTL ARCH_GET_FS (which
 * writes into R's memory), both against C's own value; PEEKUSER gs_base;
 * ARCH_SET_GS to the address of a word of C's (REGS_MAGIC_A), ARCH_GET_GS
 * and PEEKUSER gs_base back; POKEUSER gs_base to another word (REGS_MAGIC_B:
 * ptrace-tests x86_64-gsbase), ARCH_GET_GS; the errors: ARCH_SET_GS above
 * TASK_SIZE_MAX, an unknown code. SET_THREAD_AREA of GDT entry 12 (the first
 * TLS slot) with a made-up base and limit, GET_THREAD_AREA of it; the errors:
 * entry 11 (not a TLS slot), a negative entry. R detaches and writes "go";
 * C loads %gs:0 and, as 64-bit get_thread_area(2) is ENOSYS, asks the CPU
 * (LSL) for the limit of selector 12 << 3 | 3.
 * Observes: "match" against the expected value, or the errno; what C sees.
 * Documented: ptrace(2) PTRACE_GET_THREAD_AREA/SET_THREAD_AREA ("performs
 * the same operation as get_thread_area(2)/set_thread_area(2)", addr the GDT
 * index, "data points to a struct user_desc"), PTRACE_ARCH_PRCTL ("the
 * arguments are reversed"); arch/x86/kernel/ptrace.c arch_ptrace() (the
 * thread-area requests: -EIO for a negative index; only with
 * CONFIG_IA32_EMULATION on x86-64), putreg() (fs_base/gs_base);
 * arch/x86/kernel/process_64.c do_arch_prctl_64() (-EPERM above
 * TASK_SIZE_MAX, -EINVAL for an unknown option, ARCH_GET_* put_user into the
 * caller's memory); arch/x86/kernel/tls.c do_get_thread_area() (-EINVAL
 * outside GDT_ENTRY_TLS_MIN..MAX = 12..14).
 * Expected on 6.x: fs_base match both ways, gs_base 0, then match after
 * ARCH_SET_GS and after POKEUSER, EPERM, EINVAL; thread area 0, base/limit
 * match, entry 12, EINVAL, EIO; C: gs poked, tls limit match (in every
 * guest; the checked claim leaves c_tls_limit out: on a host that is itself
 * a paravirtualised guest (PVM: int $0x80 faults there) LSL never sees the
 * TLS slots, however they were set, so the host check would judge the
 * hypervisor, not the kernel).
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <asm/prctl.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

#define TLS_ENTRY 12
#define TLS_BASE 0x4b460000u
#define TLS_LIMIT 0xfffu
#define ROFF(f) offsetof(struct user_regs_struct, f)

static volatile unsigned long regs_gs_a = REGS_MAGIC_A;
static volatile unsigned long regs_gs_b = REGS_MAGIC_B;

static void tracee(struct lab *L, void *arg)
{
	struct regs_ctx *x = arg;
	unsigned long fs = 0, g, lim, ok;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	x->raw[0] = fs;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	__asm__ volatile("movq %%gs:0, %0" : "=r"(g) : : "memory");
	obs_str(x->c, "c_gs", g == REGS_MAGIC_B ? "poked" : g == REGS_MAGIC_A ? "set-gs" : "other");
	/* 64-bit get_thread_area(2) is ENOSYS: ask the CPU for the limit of
	 * selector 12 << 3 | RPL 3 (LSL sets ZF when the descriptor is usable). */
	__asm__ volatile("xorl %k0, %k0\n\t"
			 "lsl %2, %1\n\t"
			 "jnz 1f\n\t"
			 "movl $1, %k0\n"
			 "1:"
			 : "=&r"(ok), "=&r"(lim)
			 : "r"((unsigned long)(TLS_ENTRY << 3 | 3))
			 : "cc");
	obs_str(x->c, "c_tls_limit", !ok ? "invalid" : lim == TLS_LIMIT ? "match" : "differs");
	_exit(0);
}

static void arch_get(struct obs *t, const char *key, pid_t c, int code, unsigned long want)
{
	unsigned long v = 0;

	if (ptrace(PTRACE_ARCH_PRCTL, c, &v, (void *)(long)code) < 0)
		obs_str(t, key, errno_name(errno));
	else
		obs_str(t, key, regs_match(v, want));
}

static void peekuser(struct obs *t, const char *key, pid_t c, size_t off, unsigned long want)
{
	long v;

	errno = 0;
	v = ptrace(PTRACE_PEEKUSER, c, (void *)off, NULL);
	obs_str(t, key, errno ? errno_name(errno) : regs_match((unsigned long)v, want));
}

static void thread_area(struct obs *t, pid_t c)
{
	struct user_desc d;

	memset(&d, 0, sizeof(d));
	d.entry_number = TLS_ENTRY;
	d.base_addr = TLS_BASE;
	d.limit = TLS_LIMIT;
	d.seg_32bit = 1;
	d.useable = 1;
	if (lab_tracer_ptrace(t, "set_thread_area", PTRACE_SET_THREAD_AREA, c, (void *)TLS_ENTRY, &d) < 0 &&
	    errno == EIO)
		obs_str(t, "unsupported", "PTRACE_SET_THREAD_AREA: EIO, no CONFIG_IA32_EMULATION");
	memset(&d, 0, sizeof(d));
	if (lab_tracer_ptrace(t, "get_thread_area", PTRACE_GET_THREAD_AREA, c, (void *)TLS_ENTRY, &d) == 0) {
		obs_strf(t, "get_thread_area_entry", "%u", d.entry_number);
		obs_str(t, "get_thread_area_base", regs_match(d.base_addr, TLS_BASE));
		obs_str(t, "get_thread_area_limit", regs_match(d.limit, TLS_LIMIT));
	}
	lab_tracer_ptrace(t, "get_thread_area_not_tls", PTRACE_GET_THREAD_AREA, c, (void *)(TLS_ENTRY - 1L), &d);
	lab_tracer_ptrace(t, "get_thread_area_negative", PTRACE_GET_THREAD_AREA, c, (void *)-1L, &d);
	lab_tracer_ptrace(t, "set_thread_area_negative", PTRACE_SET_THREAD_AREA, c, (void *)-1L, &d);
	lab_tracer_ptrace(t, "get_thread_area_bad_data", PTRACE_GET_THREAD_AREA, c, (void *)TLS_ENTRY, (void *)8L);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	struct regs_ctx *x = arg;
	pid_t c = L->c;
	long v;

	if (lab_tracer_attach(L, t) < 0)
		return;
	peekuser(t, "peekuser_fs_base", c, ROFF(fs_base), x->raw[0]);
	arch_get(t, "arch_get_fs", c, ARCH_GET_FS, x->raw[0]);
	errno = 0;
	v = ptrace(PTRACE_PEEKUSER, c, (void *)ROFF(gs_base), NULL);
	obs_str(t, "peekuser_gs_base_first", errno ? errno_name(errno) : v ? "nonzero" : "0");
	lab_tracer_ptrace(t, "arch_set_gs", PTRACE_ARCH_PRCTL, c, (void *)&regs_gs_a, (void *)(long)ARCH_SET_GS);
	arch_get(t, "arch_get_gs", c, ARCH_GET_GS, (unsigned long)&regs_gs_a);
	peekuser(t, "peekuser_gs_base", c, ROFF(gs_base), (unsigned long)&regs_gs_a);
	lab_tracer_ptrace(t, "pokeuser_gs_base", PTRACE_POKEUSER, c, (void *)ROFF(gs_base), (void *)&regs_gs_b);
	arch_get(t, "arch_get_gs_poked", c, ARCH_GET_GS, (unsigned long)&regs_gs_b);
	lab_tracer_ptrace(t, "arch_set_gs_high", PTRACE_ARCH_PRCTL, c, (void *)REGS_BAD_ADDR,
			  (void *)(long)ARCH_SET_GS);
	lab_tracer_ptrace(t, "arch_bad_code", PTRACE_ARCH_PRCTL, c, NULL, (void *)0x4b46L);
	thread_area(t, c);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, c, NULL, NULL);
	lab_tracer_go(L);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lab_spec s = { .tracee = tracee, .tracer = tracer, .may_be_unsupported = 1 };

	return regs_run(o, v, &s, arg);
}

const struct scenario scenario_regs_tls = {
	.id = "regs-tls",
	.group = "regs",
	.desc = "fs/gs base via PTRACE_ARCH_PRCTL and PEEKUSER/POKEUSER; TLS descriptors via GET/SET_THREAD_AREA; C sees them",
	.run = run,
	.expect = "fs_base match; gs_base 0, then the ARCH_SET_GS and POKEUSER values; EPERM/EINVAL; thread area 12 "
		  "set and read back; EINVAL for entry 11, EIO negative; C: %gs:0 is the poked word, LSL of entry 12 gives the limit.",
	.expect_obs = "peekuser_fs_base=match;arch_get_fs=match;peekuser_gs_base_first=0;arch_set_gs=0;arch_get_gs=match;"
		      "peekuser_gs_base=match;pokeuser_gs_base=0;arch_get_gs_poked=match;arch_set_gs_high=EPERM;"
		      "arch_bad_code=EINVAL;set_thread_area=0;get_thread_area=0;get_thread_area_entry=12;"
		      "get_thread_area_base=match;get_thread_area_limit=match;get_thread_area_not_tls=EINVAL;"
		      "get_thread_area_negative=EIO;set_thread_area_negative=EIO;get_thread_area_bad_data=EFAULT;"
		      "c_gs=poked;detach=0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
