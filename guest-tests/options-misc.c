// SPDX-License-Identifier: MIT
/*
 * options-errors, event-exit-proc - how options are set and refused; what
 * /proc shows of a tracee in its PTRACE_EVENT_EXIT stop.
 *
 * options-errors
 * Set-up: C waits in read() on its "go" pipe, no seccomp filter.
 * Action: R: PTRACE_SEIZE with an option outside PTRACE_O_MASK (bit 22),
 * then PTRACE_SEIZE with PTRACE_O_TRACESYSGOOD and PTRACE_INTERRUPT; at the
 * stop PTRACE_SETOPTIONS with bit 22 and with bit 8, PTRACE_GETEVENTMSG,
 * PTRACE_SECCOMP_GET_FILTER on the unfiltered C; "go", PTRACE_SYSCALL to the
 * read() entry; PTRACE_OLDSETOPTIONS (21) with PTRACE_O_TRACEEXIT only;
 * PTRACE_SYSCALL to the read() exit; PTRACE_CONT to C's exit.
 * Observes: the errors; "sysgood_stop" (0x85: the options SEIZE set survived
 * the refused SETOPTIONS), "old_stop" (0x5: OLDSETOPTIONS replaced them),
 * "exit_stop" (event:exit from OLDSETOPTIONS).
 * Documented: ptrace(2) PTRACE_SETOPTIONS, PTRACE_SEIZE ("data ... a bit
 * mask of ptrace options"), ERRORS EINVAL "An invalid option was
 * specified"; kernel/ptrace.c check_ptrace_options() (data & ~PTRACE_O_MASK),
 * ptrace_setoptions() (refused: nothing changes); arch/x86 ptrace-abi.h
 * PTRACE_OLDSETOPTIONS = 21, handled as PTRACE_SETOPTIONS
 * (kernel/ptrace.c ptrace_request()); kernel/seccomp.c get_nth_filter():
 * EINVAL when the task has no filter mode.
 * kernel/ptrace.c ptrace_attach(): SEIZE with bits outside PTRACE_O_MASK is
 * EIO ("historically used different error codes"), not EINVAL.
 * Expected on 6.x: seize_bad EIO, attach 0, setoptions_bit22/bit8 EINVAL,
 * filter EINVAL, sysgood_stop 0x85, old 0, old_stop 0x5, exit_stop
 * event:exit.
 *
 * event-exit-proc
 * Set-up: C is attached with PTRACE_O_TRACEEXIT.
 * Action: told to go, C _exit(3)s; at the exit stop R reads
 * /proc/C/maps, /proc/C/environ and its State.
 * Observes: "stop" event:exit and "stop_msg" the coming status; "maps"
 * (readable with C's executable mapped), "environ" (readable and the same
 * bytes as R's own: both are forks of P) and "exit_state".
 * Documented: ptrace(2) PTRACE_O_TRACEEXIT ("the tracee's registers are
 * still available ... unlike with normal exit notification"),
 * PTRACE_GETEVENTMSG the exit status; ptrace-tests
 * event-exit-proc-maps.c / event-exit-proc-environ.c (the mm is still there).
 * Expected on 6.x: event:exit, exited:3, maps readable, environ match,
 * tracing-stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "scenarios.h"

#ifndef PTRACE_OLDSETOPTIONS
#define PTRACE_OLDSETOPTIONS 21
#endif

static void opt_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	_exit(0);
}

static void opt_tracer(struct lab *L, struct obs *t, void *arg)
{
	char d[64];
	int st;

	(void)arg;
	lab_tracer_ptrace(t, "seize_bad", PTRACE_SEIZE, L->c, NULL, (void *)(1L << 22));
	if (lab_tracer_ptrace(t, "attach", PTRACE_SEIZE, L->c, NULL,
			      (void *)(long)PTRACE_O_TRACESYSGOOD) < 0)
		return;
	lab_tracer_ptrace(t, "interrupt", PTRACE_INTERRUPT, L->c, NULL, NULL);
	if (lab_tracer_stop(t, L->c, "attach_stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions_bit22", PTRACE_SETOPTIONS, L->c, NULL, (void *)(1L << 22));
	lab_tracer_ptrace(t, "setoptions_bit8", PTRACE_SETOPTIONS, L->c, NULL, (void *)(1L << 8));
	lab_tracer_ptrace(t, "filter", PTRACE_SECCOMP_GET_FILTER, L->c, NULL, NULL);
	lab_tracer_go(L);
	lab_tracer_ptrace(t, "syscall", PTRACE_SYSCALL, L->c, NULL, NULL);
	if (lab_tracer_wait(t, L->c, &st) < 0)
		return;
	obs_strf(t, "sysgood_stop", "0x%x", (unsigned)st >> 8);
	lab_tracer_ptrace(t, "old", PTRACE_OLDSETOPTIONS, L->c, NULL,
			  (void *)(long)PTRACE_O_TRACEEXIT);
	lab_tracer_ptrace(t, "syscall2", PTRACE_SYSCALL, L->c, NULL, NULL);
	if (lab_tracer_wait(t, L->c, &st) < 0)
		return;
	obs_strf(t, "old_stop", "0x%x", (unsigned)st >> 8);
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	if (lab_tracer_wait(t, L->c, &st) < 0)
		return;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "exit_stop", d);
	lab_tracer_ptrace(t, "cont_exit", PTRACE_CONT, L->c, NULL, NULL);
}

static int opt_run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = opt_tracee, .tracer = opt_tracer, .arg = (void *)arg };

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_options_errors = {
	.id = "options-errors",
	.group = "options-events",
	.desc = "options outside PTRACE_O_MASK: SEIZE/SETOPTIONS EINVAL; OLDSETOPTIONS (21) works",
	.run = opt_run,
	.arg = NULL,
	.expect = "bad bits: SEIZE EIO, SETOPTIONS EINVAL, the earlier options stay; "
		  "OLDSETOPTIONS replaces them; GET_FILTER of an unfiltered task EINVAL.",
	.expect_obs = "seize_bad=EIO;attach=0;setoptions_bit22=EINVAL;setoptions_bit8=EINVAL;"
		      "filter=EINVAL;sysgood_stop=0x85;old=0;old_stop=0x5;exit_stop=event:exit;"
		      "tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

/* ---- event-exit-proc ---- */

static void exit_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	_exit(3);
}

static void exit_tracer(struct lab *L, struct obs *t, void *arg)
{
	static char buf[65536], mine[65536];
	char st_name[64];
	ssize_t n, m;
	int st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
			  (void *)(long)PTRACE_O_TRACEEXIT);
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	n = procfs_read(L->c, "maps", buf, sizeof(buf));
	obs_str(t, "maps", n < 0 ? errno_name(errno) : n == 0 ? "empty" :
		strstr(buf, "kfarm-guest") ? "readable" : "no-exe");
	/* C and R are forks of one process: the same initial environment. */
	n = procfs_read(L->c, "environ", buf, sizeof(buf));
	m = read_small_file("/proc/self/environ", mine, sizeof(mine));
	obs_str(t, "environ", n < 0 ? errno_name(errno) :
		n == m && !memcmp(buf, mine, (size_t)n) ? "match" : "differs");
	procfs_state(L->c, st_name, sizeof(st_name));
	obs_str(t, "exit_state", st_name);
	lab_tracer_ptrace(t, "cont_exit", PTRACE_CONT, L->c, NULL, NULL);
}

static int exit_run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = exit_tracee, .tracer = exit_tracer, .arg = (void *)arg };

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_event_exit_proc = {
	.id = "event-exit-proc",
	.group = "options-events",
	.desc = "PTRACE_EVENT_EXIT stop: exit status as message, /proc maps and environ readable",
	.run = exit_run,
	.arg = NULL,
	.expect = "event:exit with exited:3 as message; maps and environ still readable; "
		  "state tracing-stop.",
	.expect_obs = "stop=event:exit;stop_msg=exited:3;maps=readable;environ=match;"
		      "exit_state=tracing-stop;tracee=exited:3",
	.axes = 0,
};
