// SPDX-License-Identifier: MIT
/*
 * attach-errors, request-errors - the documented errors of the attach and
 * control requests.
 *
 * attach-errors
 * Set-up: C rests in read() on its "go" pipe, untraced.
 * Action: R (root): a child of R that dropped to uid/gid 65534 PTRACE_ATTACHes
 * C; R PTRACE_ATTACHes itself, pid 2 (kthreadd, a kernel thread) and a pid
 * above PID_MAX_LIMIT; PTRACE_SEIZEs C with addr 1; then PTRACE_ATTACHes C
 * (waits for the stop) and tries PTRACE_ATTACH and PTRACE_SEIZE of C again.
 * P tries PTRACE_ATTACH of C while R traces it. R continues C, which calls
 * PTRACE_TRACEME (it is traced already) and exits.
 * Observes: each call's result.
 * Documented: ptrace(2) ERRORS: EPERM "The specified process cannot be traced
 * ... insufficient privileges ... or it is already being traced, or (before
 * Linux 2.6.26) is init"; ESRCH "The specified process does not exist";
 * kernel/ptrace.c ptrace_attach(): EPERM for PF_KTHREAD and
 * same_thread_group(task, current), __ptrace_may_access() (uid mismatch
 * without CAP_SYS_PTRACE), "if (task->ptrace) goto unlock_tasklist" (EPERM);
 * PTRACE_SEIZE with addr != 0 -> EIO; ptrace_traceme(): EPERM if
 * current->ptrace; find_get_task_by_vpid() fails -> ESRCH.
 * Expected on 6.x: attach_unprivileged EPERM, attach_self EPERM,
 * attach_kthread EPERM, attach_nopid ESRCH, seize_addr EIO, attach 0,
 * attach_again EPERM, seize_again EPERM, attach_by_other EPERM,
 * traceme_traced EPERM, exited:0.
 *
 * request-errors
 * Set-up: C rests in read() on its "go" pipe; R PTRACE_ATTACHes it and takes
 * the attach SIGSTOP stop.
 * Action: R: PTRACE_INTERRUPT and PTRACE_LISTEN (C is not seized), an unknown
 * request (0x7eee) on the stopped C; PTRACE_CONT, wait until C sleeps, then
 * GETSIGINFO, PEEKUSER, CONT, the unknown request and INTERRUPT on the
 * running C; SIGSTOP it, detach with 0; PTRACE_SEIZE it, LISTEN while it
 * runs; "go": C stops in an SDS for SIGUSR1 (tgkill), PTRACE_LISTEN there;
 * detach with 0 (C exits 0).
 * Observes: each call's result.
 * Documented: ptrace(2) ERRORS: EIO "request is invalid", ESRCH "... is not
 * currently being traced by the caller, or is not stopped (for requests that
 * require a stopped tracee)"; PTRACE_LISTEN and PTRACE_INTERRUPT "work only
 * on tracees attached by PTRACE_SEIZE"; kernel/ptrace.c ptrace syscall:
 * ptrace_check_attach() (ESRCH unless stopped, except PTRACE_KILL and
 * PTRACE_INTERRUPT); ptrace_request(): INTERRUPT/LISTEN break with -EIO when
 * !seized, LISTEN only when last_siginfo is a PTRACE_EVENT_STOP, default -EIO.
 * Expected on 6.x: interrupt_attached EIO, listen_attached EIO,
 * unknown_request EIO, getsiginfo_running ESRCH, peekuser_running ESRCH,
 * cont_running ESRCH, unknown_request_running ESRCH, interrupt_running EIO,
 * listen_running ESRCH, listen_sds EIO, exited:0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifecycle.h"
#include "scenarios.h"

/* Above PID_MAX_LIMIT (4M on 64-bit): never a pid. */
#define NO_SUCH_PID 4194305
/* A request number no architecture or generic code knows. */
#define UNKNOWN_REQUEST 0x7eee
#define NOBODY 65534

/* ---------------------------------------------------------- attach-errors */

static void attach_tracee(struct lab *L, void *arg)
{
	struct lc_box *b = arg;
	long rc;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	errno = 0;
	rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	obs_result(&b->c, "traceme_traced", rc, errno);
	_exit(0);
}

/* In a child of R: drop every id to nobody, then try. */
static void attach_unprivileged(struct lab *L, struct obs *t)
{
	pid_t u = fork_child();
	int st;

	if (u < 0) {
		obs_str(t, "attach_unprivileged", "fork-failed");
		return;
	}
	if (u == 0) {
		if (setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
			obs_str(t, "attach_unprivileged", "setresuid-failed");
		else
			lab_tracer_ptrace(t, "attach_unprivileged", PTRACE_ATTACH, L->c, NULL, NULL);
		_exit(0);
	}
	g_waitpid(u, &st, 0, wait_limit_ms);
}

static void attach_tracer(struct lab *L, struct obs *t, void *arg)
{
	char comm[64] = "";
	int st;

	(void)arg;
	attach_unprivileged(L, t);
	lab_tracer_ptrace(t, "attach_self", PTRACE_ATTACH, getpid(), NULL, NULL);
	procfs_read(2, "comm", comm, sizeof(comm));
	if (!strcmp(comm, "kthreadd\n"))
		lab_tracer_ptrace(t, "attach_kthread", PTRACE_ATTACH, 2, NULL, NULL);
	else
		obs_str(t, "attach_kthread", "pid-2-not-kthreadd");
	lab_tracer_ptrace(t, "attach_nopid", PTRACE_ATTACH, NO_SUCH_PID, NULL, NULL);
	if (lab_tracer_ptrace(t, "seize_addr", PTRACE_SEIZE, L->c, (void *)1L, NULL) == 0)
		return; /* C is seized: the rest would not test what it says */
	if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "attach_stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "attach_again", PTRACE_ATTACH, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "seize_again", PTRACE_SEIZE, L->c, NULL, NULL);
	lab_tracer_note(L);
	if (lab_tracer_wait_reply(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_go(L);
	lab_tracer_stop(t, L->c, "end", &st);
}

/* P: while R traces C, P (C's real parent, root) tries to attach too. */
static void attach_p_turn(struct lab *L, struct obs *o, void *arg)
{
	long rc;

	(void)arg;
	if (lab_wait_note(L, o) < 0)
		return;
	errno = 0;
	rc = ptrace(PTRACE_ATTACH, L->c, NULL, NULL);
	obs_result(o, "attach_by_other", rc, errno);
	lab_reply(L);
}

static int attach_run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lc_box *b = lc_box_new(o);
	int rc;

	(void)arg;
	if (!b)
		return REP_ERROR;
	const struct lab_spec s = {
		.tracee = attach_tracee, .tracer = attach_tracer, .arg = b, .p_turn = attach_p_turn,
	};
	rc = lab_run_spec(o, v, &s);
	obs_merge(o, &b->c);
	lc_box_free(b);
	return rc;
}

const struct scenario scenario_attach_errors = {
	.id = "attach-errors",
	.group = "lifecycle",
	.desc = "PTRACE_ATTACH/SEIZE/TRACEME errors: self, kthread, no pid, no privilege, traced already, SEIZE addr",
	.run = attach_run,
	.expect = "EPERM for self, kthreadd, uid 65534, an attach to a traced C (R again, P, TRACEME); ESRCH no pid; EIO SEIZE addr 1.",
	.expect_obs = "attach_unprivileged=EPERM;attach_self=EPERM;attach_kthread=EPERM;attach_nopid=ESRCH;"
		      "seize_addr=EIO;attach=0;attach_again=EPERM;seize_again=EPERM;attach_by_other=EPERM;"
		      "traceme_traced=EPERM;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

/* --------------------------------------------------------- request-errors */

static void request_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	lab_tracee_tkill(SIGUSR1);
	_exit(0);
}

static void request_tracer(struct lab *L, struct obs *t, void *arg)
{
	char state[64];
	int st;

	(void)arg;
	if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "attach_stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "interrupt_attached", PTRACE_INTERRUPT, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "listen_attached", PTRACE_LISTEN, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "unknown_request", UNKNOWN_REQUEST, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	if (procfs_wait_state(L->c, "sleeping", wait_limit_ms, state, sizeof(state)) < 0)
		obs_str(t, "running_state", state);
	{
		siginfo_t si;

		lab_tracer_ptrace(t, "getsiginfo_running", PTRACE_GETSIGINFO, L->c, NULL, &si);
	}
	lab_tracer_ptrace(t, "peekuser_running", PTRACE_PEEKUSER, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "cont_running", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "unknown_request_running", UNKNOWN_REQUEST, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "interrupt_running", PTRACE_INTERRUPT, L->c, NULL, NULL);
	/* Stop it to let go of it: a SIGSTOP SDS, detached with 0. */
	kill(L->c, SIGSTOP);
	if (lab_tracer_stop(t, L->c, "stop_sigstop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach_attached", PTRACE_DETACH, L->c, NULL, NULL);
	if (lab_tracer_ptrace(t, "seize", PTRACE_SEIZE, L->c, NULL, NULL) < 0)
		return;
	lab_tracer_ptrace(t, "listen_running", PTRACE_LISTEN, L->c, NULL, NULL);
	lab_tracer_go(L);
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "listen_sds", PTRACE_LISTEN, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

static int request_run(struct obs *o, const struct variant *v, const void *arg)
{
	(void)arg;
	return lab_run(o, v, request_tracee, request_tracer, NULL);
}

const struct scenario scenario_request_errors = {
	.id = "request-errors",
	.group = "lifecycle",
	.desc = "request errors: INTERRUPT/LISTEN unseized (EIO), unknown (EIO), on a running tracee (ESRCH), LISTEN in an SDS (EIO)",
	.run = request_run,
	.expect = "EIO: INTERRUPT/LISTEN unseized, unknown request, LISTEN in an SDS; ESRCH: requests to a running tracee; exited:0.",
	.expect_obs = "interrupt_attached=EIO;listen_attached=EIO;unknown_request=EIO;getsiginfo_running=ESRCH;"
		      "peekuser_running=ESRCH;cont_running=ESRCH;unknown_request_running=ESRCH;"
		      "interrupt_running=EIO;listen_running=ESRCH;stop=signal:SIGUSR1;listen_sds=EIO;"
		      "detach=0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
