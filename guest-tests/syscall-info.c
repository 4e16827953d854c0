// SPDX-License-Identifier: MIT
/*
 * syscall-info-sysgood, syscall-info-plain - syscall stops with and without
 * PTRACE_O_TRACESYSGOOD: the stop status, PTRACE_GETEVENTMSG and
 * PTRACE_GET_SYSCALL_INFO at the entry, the exit and a signal stop.
 *
 * Set-up: C waits in read() on its "go" pipe; R attaches, sets
 * PTRACE_O_TRACESYSGOOD (sysgood) or no option (plain), writes "go" and
 * resumes C with PTRACE_SYSCALL: the first stop is the entry of C's
 * restarted read(), the next its exit (1 byte read). Then R resumes C with
 * PTRACE_CONT; C raises SIGUSR2 (a signal-delivery stop, suppressed) and
 * exits 0.
 * Action: at each stop R calls PTRACE_GETEVENTMSG and PTRACE_GET_SYSCALL_INFO
 * (a whole struct, and at the entry once more with a 1-byte buffer).
 * Observes: "entry"/"exit" the stop (syscall = 0x80|SIGTRAP, or
 * signal:SIGTRAP), "*_status", "*_msg" the event message, "*_op" the info's
 * op, "*_size" its returned size, "entry_nr" (read or not), "entry_arg0"
 * against C's fd, "entry_arch", "exit_rval"/"exit_is_error", "short_size"
 * against the full size and "short_rest" (bytes past the first left alone),
 * "sig_op"/"sig_size" at the signal stop.
 * Documented: ptrace(2) PTRACE_O_TRACESYSGOOD ("set bit 7 in the signal
 * number ... SIGTRAP|0x80"), PTRACE_GETEVENTMSG (since 5.3 syscall stops
 * report PTRACE_EVENTMSG_SYSCALL_ENTRY / _EXIT: include/linux/ptrace.h
 * ptrace_report_syscall()), PTRACE_GET_SYSCALL_INFO ("addr: size of the
 * buffer ... returns the number of bytes available to be written by the
 * kernel. If the size ... is smaller, the output is truncated"; op NONE
 * outside syscall/seccomp stops); kernel/ptrace.c ptrace_get_syscall_info()
 * keys on si_code == SIGTRAP|0x80, so without TRACESYSGOOD a syscall stop
 * reads as op NONE.
 * Expected on 6.x: sysgood: syscall stops 0x85, msg 1 and 2, op entry (nr
 * read, arg0 match, arch 0xc000003e, size 80) and exit (rval 1, is_error 0,
 * size 33), short size 80 with the rest untouched, signal stop op none size
 * 24. plain: signal:SIGTRAP 0x5, msg 1/2, op none (size 24).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "scenarios.h"

static const char *op_name(int op)
{
	switch (op) {
	case PTRACE_SYSCALL_INFO_NONE: return "none";
	case PTRACE_SYSCALL_INFO_ENTRY: return "entry";
	case PTRACE_SYSCALL_INFO_EXIT: return "exit";
	case PTRACE_SYSCALL_INFO_SECCOMP: return "seccomp";
	default: return "other";
	}
}

static void tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	raise(SIGUSR2);
	_exit(0);
}

/*
 * One stop: its report, GETEVENTMSG and GET_SYSCALL_INFO under @p_*; fills
 * @info. -1 if no stop came.
 */
static int look(struct obs *t, pid_t c, const char *p, struct __ptrace_syscall_info *info)
{
	char k[OBS_KEY_MAX], d[64];
	unsigned long msg = 0;
	long n;
	int st;

	if (lab_tracer_wait(t, c, &st) < 0)
		return -1;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, p, d);
	snprintf(k, sizeof(k), "%s_status", p);
	obs_strf(t, k, "0x%x", (unsigned)st >> 8);
	if (!WIFSTOPPED(st))
		return -1;
	snprintf(k, sizeof(k), "%s_msg", p);
	errno = 0;
	if (ptrace(PTRACE_GETEVENTMSG, c, NULL, &msg) < 0)
		obs_str(t, k, errno_name(errno));
	else
		obs_strf(t, k, "%lu", msg);
	memset(info, 0, sizeof(*info));
	snprintf(k, sizeof(k), "%s_size", p);
	errno = 0;
	n = ptrace(PTRACE_GET_SYSCALL_INFO, c, (void *)sizeof(*info), info);
	if (n < 0) {
		obs_str(t, k, errno_name(errno));
		return 0;
	}
	obs_strf(t, k, "%ld", n);
	snprintf(k, sizeof(k), "%s_op", p);
	obs_str(t, k, op_name(info->op));
	return 0;
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int sysgood = *(const int *)arg;
	struct __ptrace_syscall_info info, full;
	unsigned char shortbuf[sizeof(info)];
	size_t i;
	long n;

	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
			  (void *)(long)(sysgood ? PTRACE_O_TRACESYSGOOD : 0));
	lab_tracer_go(L);
	lab_tracer_ptrace(t, "syscall", PTRACE_SYSCALL, L->c, NULL, NULL);
	if (look(t, L->c, "entry", &info) < 0)
		return;
	full = info;
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
		obs_str(t, "entry_nr", info.entry.nr == __NR_read ? "read" : "other");
		ev_match(t, "entry_arg0", (long)info.entry.args[0], L->go[0]);
		obs_strf(t, "entry_arch", "0x%x", info.arch);
	}
	memset(shortbuf, 0xa5, sizeof(shortbuf));
	errno = 0;
	n = ptrace(PTRACE_GET_SYSCALL_INFO, L->c, (void *)1, shortbuf);
	if (n < 0) {
		obs_str(t, "short_size", errno_name(errno));
	} else {
		ev_match(t, "short_size", n, obs_get(t, "entry_size") ?
			 strtol(obs_get(t, "entry_size"), NULL, 10) : -1);
		for (i = 1; i < sizeof(shortbuf) && shortbuf[i] == 0xa5; i++)
			;
		obs_str(t, "short_rest", i == sizeof(shortbuf) ? "untouched" : "written");
		ev_match(t, "short_op", shortbuf[0], full.op);
	}
	lab_tracer_ptrace(t, "syscall2", PTRACE_SYSCALL, L->c, NULL, NULL);
	if (look(t, L->c, "exit", &info) < 0)
		return;
	if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
		obs_strf(t, "exit_rval", "%lld", (long long)info.exit.rval);
		obs_strf(t, "exit_is_error", "%u", info.exit.is_error);
	}
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	if (look(t, L->c, "sig", &info) < 0)
		return;
	lab_tracer_ptrace(t, "cont2", PTRACE_CONT, L->c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = tracee, .tracer = tracer, .arg = (void *)arg };

	return lab_run_spec(o, v, &s);
}

static const int arg_sysgood = 1, arg_plain = 0;

const struct scenario scenario_syscall_info_sysgood = {
	.id = "syscall-info-sysgood",
	.group = "options-events",
	.desc = "TRACESYSGOOD syscall stops: 0x85, GETEVENTMSG 1/2, GET_SYSCALL_INFO entry/exit/none",
	.run = run,
	.arg = &arg_sysgood,
	.expect = "stops 0x80|SIGTRAP; msg 1 at entry, 2 at exit; info entry (read, arg0, "
		  "x86-64 arch), exit (rval 1), none at a signal stop; a short buffer is "
		  "truncated, the full size returned.",
	.expect_obs = "entry=syscall;entry_status=0x85;entry_msg=1;entry_op=entry;entry_nr=read;"
		      "entry_arg0=match;entry_arch=0xc000003e;short_size=match;"
		      "short_rest=untouched;short_op=match;exit=syscall;exit_msg=2;exit_op=exit;"
		      "exit_rval=1;exit_is_error=0;sig=signal:SIGUSR2;sig_op=none;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

const struct scenario scenario_syscall_info_plain = {
	.id = "syscall-info-plain",
	.group = "options-events",
	.desc = "syscall stops without TRACESYSGOOD: plain SIGTRAP, GET_SYSCALL_INFO op none",
	.run = run,
	.arg = &arg_plain,
	.expect = "stops report SIGTRAP (0x5); GETEVENTMSG still 1/2; GET_SYSCALL_INFO "
		  "keys on SIGTRAP|0x80, so it says op none.",
	.expect_obs = "entry=signal:SIGTRAP;entry_status=0x5;entry_msg=1;entry_op=none;"
		      "exit=signal:SIGTRAP;exit_msg=2;exit_op=none;sig=signal:SIGUSR2;"
		      "sig_op=none;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
