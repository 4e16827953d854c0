// SPDX-License-Identifier: MIT
/*
 * regs-errors - the documented errors of the memory, register and user-area
 * requests.
 *
 * Set-up: R attaches C (resting in read() on its "go" pipe) and waits for
 * the attach stop.
 * Action: R, while C is stopped: PEEKDATA/POKEDATA/PEEKTEXT of an
 * unmapped address (page 0) and a non-canonical one; PEEKDATA with the raw
 * syscall and an unwritable data pointer; PEEKUSER/POKEUSER at a misaligned
 * offset and at the kernel's sizeof(struct user) (REGS_USER_SIZE, 16 bytes
 * more than glibc's); GETREGS/SETREGS/GETFPREGS/SETFPREGS
 * with an unmapped buffer; GETREGSET with an unknown NT type, with an
 * iov_len that is not a multiple of the regset's word, and with an unmapped
 * iovec. Then PTRACE_CONT, wait until C sleeps in read(), and PEEKDATA,
 * PEEKUSER, GETREGS of the running tracee; PEEKDATA of P (not traced by R).
 * R exits; P writes "go".
 * Observes: each call's errno.
 * Documented: ptrace(2) ERRORS: EFAULT/EIO "there was an attempt to read
 * from or write to an invalid area in the tracer's or the tracee's memory
 * ... (EIO) or ... (EFAULT)", EIO "request is invalid ... or an attempt
 * was made to read from or write to an invalid area", EINVAL (GETREGSET:
 * kernel/ptrace.c ptrace_regset(): unknown type or iov_len % size), ESRCH
 * "not currently being traced by the caller, or is not stopped";
 * kernel/ptrace.c generic_ptrace_peekdata()/pokedata() (-EIO when the
 * access copies nothing, put_user -EFAULT), arch/x86/kernel/ptrace.c
 * arch_ptrace() (PEEKUSR/POKEUSR: -EIO if addr & 7 or addr >= sizeof(struct
 * user)), copy_regset_to_user() (-EFAULT).
 * Expected on 6.x: memory EIO (both addresses), bad data pointer EFAULT,
 * user-area offsets EIO, register buffers EFAULT, regset type/len EINVAL,
 * bad iovec EFAULT, running ESRCH, untraced ESRCH, exited:0.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

/* Page 0 is never mapped (vm.mmap_min_addr). */
#define UNMAPPED ((void *)8)

static volatile unsigned long regs_err_word = REGS_MAGIC_A;

/* The raw syscall: PEEK* stores the word at *data (glibc hides that). */
static void raw(struct obs *t, const char *key, long req, pid_t pid, void *addr, void *data)
{
	long rc = syscall(SYS_ptrace, req, (long)pid, addr, data);

	obs_result(t, key, rc, errno);
}

static void stopped_errors(struct obs *t, pid_t c)
{
	unsigned long word;
	struct iovec iov;
	char buf[1024];

	raw(t, "peekdata_unmapped", PTRACE_PEEKDATA, c, UNMAPPED, &word);
	raw(t, "peektext_unmapped", PTRACE_PEEKTEXT, c, UNMAPPED, &word);
	raw(t, "peekdata_noncanonical", PTRACE_PEEKDATA, c, (void *)REGS_BAD_ADDR, &word);
	lab_tracer_ptrace(t, "pokedata_unmapped", PTRACE_POKEDATA, c, UNMAPPED, (void *)1L);
	lab_tracer_ptrace(t, "poketext_unmapped", PTRACE_POKETEXT, c, UNMAPPED, (void *)1L);
	lab_tracer_ptrace(t, "pokedata_noncanonical", PTRACE_POKEDATA, c, (void *)REGS_BAD_ADDR, (void *)1L);
	raw(t, "peekdata_bad_data", PTRACE_PEEKDATA, c, (void *)&regs_err_word, UNMAPPED);
	raw(t, "peekuser_bad_data", PTRACE_PEEKUSER, c, NULL, UNMAPPED);
	raw(t, "peekuser_misaligned", PTRACE_PEEKUSER, c, (void *)1L, &word);
	raw(t, "peekuser_beyond", PTRACE_PEEKUSER, c, (void *)REGS_USER_SIZE, &word);
	lab_tracer_ptrace(t, "pokeuser_misaligned", PTRACE_POKEUSER, c, (void *)1L, NULL);
	lab_tracer_ptrace(t, "pokeuser_beyond", PTRACE_POKEUSER, c, (void *)REGS_USER_SIZE, NULL);
	lab_tracer_ptrace(t, "getregs_bad_data", PTRACE_GETREGS, c, NULL, UNMAPPED);
	lab_tracer_ptrace(t, "setregs_bad_data", PTRACE_SETREGS, c, NULL, UNMAPPED);
	lab_tracer_ptrace(t, "getfpregs_bad_data", PTRACE_GETFPREGS, c, NULL, UNMAPPED);
	lab_tracer_ptrace(t, "setfpregs_bad_data", PTRACE_SETFPREGS, c, NULL, UNMAPPED);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	lab_tracer_ptrace(t, "getregset_bad_type", PTRACE_GETREGSET, c, (void *)0x4b46L, &iov);
	lab_tracer_ptrace(t, "setregset_bad_type", PTRACE_SETREGSET, c, (void *)0x4b46L, &iov);
	iov.iov_len = 3;
	lab_tracer_ptrace(t, "getregset_bad_len", PTRACE_GETREGSET, c, (void *)NT_PRSTATUS, &iov);
	lab_tracer_ptrace(t, "setregset_bad_len", PTRACE_SETREGSET, c, (void *)NT_PRSTATUS, &iov);
	lab_tracer_ptrace(t, "getregset_bad_iov", PTRACE_GETREGSET, c, (void *)NT_PRSTATUS, UNMAPPED);
	iov.iov_base = UNMAPPED;
	iov.iov_len = sizeof(struct user_regs_struct);
	lab_tracer_ptrace(t, "getregset_bad_base", PTRACE_GETREGSET, c, (void *)NT_PRSTATUS, &iov);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	struct user_regs_struct r;
	unsigned long word;
	char state[64];
	pid_t c = L->c;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	stopped_errors(t, c);
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, c, NULL, NULL);
	if (procfs_wait_state(c, "sleeping", wait_limit_ms, state, sizeof(state)) < 0)
		obs_str(t, "running_state", state);
	raw(t, "peekdata_running", PTRACE_PEEKDATA, c, (void *)&regs_err_word, &word);
	lab_tracer_ptrace(t, "pokedata_running", PTRACE_POKEDATA, c, (void *)&regs_err_word, (void *)1L);
	raw(t, "peekuser_running", PTRACE_PEEKUSER, c, NULL, &word);
	lab_tracer_ptrace(t, "getregs_running", PTRACE_GETREGS, c, NULL, &r);
	raw(t, "peekdata_untraced", PTRACE_PEEKDATA, getppid(), (void *)&regs_err_word, &word);
	lab_tracer_ptrace(t, "getregs_untraced", PTRACE_GETREGS, getppid(), NULL, &r);
}

/* Once R is done (its exit detaches C), C may go on and exit. */
static void go_after_tracer(struct lab *L, struct obs *o, void *arg)
{
	(void)arg;
	lab_wait_tracer(L, o);
	lab_go(L);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = lab_tracee_go_exit, .tracer = tracer, .p_turn = go_after_tracer };

	(void)arg;
	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_regs_errors = {
	.id = "regs-errors",
	.group = "regs",
	.desc = "errors of PEEK/POKE (text, data, user), GET/SETREGS, GET/SETFPREGS, GET/SETREGSET: EIO, EFAULT, EINVAL, ESRCH",
	.run = run,
	.expect = "bad tracee address EIO, bad tracer buffer EFAULT, bad user offset EIO, regset type/len EINVAL, "
		  "running or untraced ESRCH, exited:0.",
	.expect_obs = "peekdata_unmapped=EIO;peektext_unmapped=EIO;peekdata_noncanonical=EIO;pokedata_unmapped=EIO;"
		      "poketext_unmapped=EIO;pokedata_noncanonical=EIO;peekdata_bad_data=EFAULT;peekuser_bad_data=EFAULT;"
		      "peekuser_misaligned=EIO;peekuser_beyond=EIO;pokeuser_misaligned=EIO;pokeuser_beyond=EIO;"
		      "getregs_bad_data=EFAULT;setregs_bad_data=EFAULT;getfpregs_bad_data=EFAULT;setfpregs_bad_data=EFAULT;"
		      "getregset_bad_type=EINVAL;setregset_bad_type=EINVAL;getregset_bad_len=EINVAL;setregset_bad_len=EINVAL;"
		      "getregset_bad_iov=EFAULT;getregset_bad_base=EFAULT;peekdata_running=ESRCH;pokedata_running=ESRCH;"
		      "peekuser_running=ESRCH;getregs_running=ESRCH;peekdata_untraced=ESRCH;getregs_untraced=ESRCH;"
		      "tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
