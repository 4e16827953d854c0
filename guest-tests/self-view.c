// SPDX-License-Identifier: MIT
/*
 * self-view, inherit-untraced-child, eintr-on-attach, report-once,
 * report-once-stopped, stopped-detach-sleeping - what the tracee and its
 * relatives see, and how often a stop is reported.
 *
 * self-view
 * Set-up: R PTRACE_ATTACHes C (resting in read()) and takes the attach stop.
 * Action: P reads C's /proc stat letter and status State (SDS); R continues
 * C, which reads its own TracerPid and getppid() and stops itself with
 * SIGSTOP (tgkill); R resumes that SDS with SIGSTOP (group stop, traced), P
 * reads the state again; R detaches with 0; P reads it a third time, and
 * TracerPid.
 * Observes: the three states (stat letter and status text), C's own view,
 * TracerPid after the detach.
 * Documented: proc(5) /proc/pid/stat state "t Tracing stop (Linux 2.6.33
 * onward)", "T Stopped (on a signal) or (before Linux 2.6.33) trace
 * stopped"; /proc/pid/status TracerPid "PID of process tracing this process
 * (0 if not being traced)"; ptrace(2) "the tracee ... is reparented" only in
 * ps output: getppid() returns the real parent (kernel/sys.c getppid() reads
 * real_parent); fs/proc/array.c task_state_array.
 * Expected on 6.x: stat_sds t, status_sds "t (tracing stop)", tracerpid_self
 * tracer, ppid_self parent, stat_group_traced t, stat_detached T,
 * status_detached "T (stopped)", tracerpid_detached 0.
 *
 * inherit-untraced-child
 * Set-up: R PTRACE_ATTACHes C (no options) and continues it.
 * Action: C forks G, which reads its own TracerPid and exits 4; C waits for
 * G (waitpid(-1)); R passes on any signal stop and collects C's exit; P
 * blocks in waitid(WNOWAIT) for C meanwhile. R also forks a child of its own
 * that reads its TracerPid.
 * Observes: G's TracerPid, C's wait result, the stops R saw, P's wait, R's
 * child's TracerPid.
 * Documented: ptrace(2) "PTRACE_O_TRACEFORK ... automatically trace the
 * child" (without it, not traced); kernel/fork.c ptrace_init_task() (only
 * with PT_* trace flags); ptrace-tests bogus-echild (a traced process's
 * waitpid must not fail with ECHILD); kernel/exit.c wait_consider_task(): a
 * real parent waits for its traced child without ECHILD.
 * Expected on 6.x: grandchild_tracerpid 0, child_wait grandchild:exited:4,
 * stops signal:SIGCHLD, parent_wait exited:0, tracer_child_tracerpid 0.
 *
 * eintr-on-attach
 * Set-up: C blocks in a plain read() of its "go" pipe (no EINTR retry).
 * Action: R attaches (attach axis), takes the stop, PTRACE_CONT with 0,
 * writes "go".
 * Observes: read()'s result in C (1, or the errno).
 * Documented: ptrace-tests eintr-on-attach; kernel/signal.c: the attach
 * SIGSTOP (or the INTERRUPT trap) interrupts read() with -ERESTARTSYS and a
 * suppressed signal restarts it (arch/x86/kernel/signal.c
 * handle_signal()/arch_do_signal_or_restart()).
 * Expected on 6.x: read 1, exited:0.
 *
 * stopped-detach-sleeping
 * Set-up: C stops itself with SIGSTOP (group stop); P collects CLD_STOPPED.
 * Action: R PTRACE_ATTACHes, takes the stop, tgkills SIGSTOP (merges with the
 * pending attach SIGSTOP), PTRACE_CONT 0, takes the SIGSTOP SDS, detaches 0.
 * Observes: the reports, where C rests.
 * Documented: ptrace-tests stopped-detach-sleeping expects C not stopped
 * after the detach (the pre-2011 behaviour); kernel/ptrace.c
 * __ptrace_unlink() re-arms JOBCTL_STOP_PENDING while the group is
 * SIGNAL_STOP_STOPPED (no SIGCONT came), so on 6.x C goes back to the
 * group stop.
 * Expected on 6.x: stop signal:SIGSTOP, detach 0, stopped:SIGSTOP.
 *
 * report-once / report-once-stopped
 * Set-up: once: R attaches C (resting in read()). stopped: C stops itself
 * with SIGSTOP first, then R PTRACE_ATTACHes.
 * Action: R waits for the first stop, then waitpid(WNOHANG); once: resumes
 * with PTRACE_SYSCALL and SIGSTOP (group stop), waits, waitpid(WNOHANG)
 * again; detaches with 0.
 * Observes: the stops and the second waits.
 * Documented: ptrace-tests waitpid-double-report (TRACEME, PTRACE_SYSCALL
 * with SIGSTOP: no second report), stop-attach-then-wait (a second waitpid
 * after the attach stop of a stopped child blocks); kernel/exit.c
 * wait_task_stopped() clears exit_code on report.
 * Expected on 6.x: second_wait none; once: stop_group signal:SIGSTOP,
 * second_wait_group none; stopped:SIGSTOP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifecycle.h"
#include "scenarios.h"

static pid_t tracer_pid_of(pid_t pid)
{
	char v[32];

	return procfs_status_field(pid, "TracerPid", v, sizeof(v)) == 0 ? atoi(v) : -1;
}

/* P records C's state under @what: stat letter and status State text. */
static void record_state(struct lab *L, struct obs *o, const char *what)
{
	char k[OBS_KEY_MAX], v[64];

	lc_stat_letter(L->c, v, sizeof(v));
	snprintf(k, sizeof(k), "stat_%s", what);
	obs_str(o, k, v);
	if (procfs_status_field(L->c, "State", v, sizeof(v)) < 0)
		snprintf(v, sizeof(v), "gone");
	snprintf(k, sizeof(k), "status_%s", what);
	obs_str(o, k, v);
}

/* ------------------------------------------------------------- self-view */

enum { SV_TRACERPID, SV_PPID };

static void sv_tracee(struct lab *L, void *arg)
{
	struct lc_box *b = arg;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	b->v[SV_TRACERPID] = tracer_pid_of(getpid());
	b->v[SV_PPID] = getppid();
	lab_tracee_tkill(SIGSTOP);
	_exit(0);
}

static void sv_tracer(struct lab *L, struct obs *t, void *arg)
{
	int st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_note(L); /* P: the SDS state */
	if (lab_tracer_wait_reply(L, t) < 0)
		return;
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	lab_tracer_ptrace(t, "cont_sigstop", PTRACE_CONT, L->c, NULL, (void *)(long)SIGSTOP);
	if (lab_tracer_stop(t, L->c, "stop_group", &st) < 0)
		return;
	lab_tracer_note(L); /* P: the traced group-stop state */
	if (lab_tracer_wait_reply(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

static void sv_p_turn(struct lab *L, struct obs *o, void *arg)
{
	struct lc_box *b = arg;
	char state[64];

	if (lab_wait_note(L, o) < 0)
		return;
	record_state(L, o, "sds");
	lab_reply(L);
	if (lab_wait_note(L, o) < 0)
		return;
	record_state(L, o, "group_traced");
	lab_reply(L);
	lab_wait_tracer(L, o);
	procfs_wait_state(L->c, "stopped", wait_limit_ms, state, sizeof(state));
	record_state(L, o, "detached");
	obs_str(o, "tracerpid_detached", role_of(tracer_pid_of(L->c)));
	obs_str(o, "tracerpid_self", role_of((pid_t)b->v[SV_TRACERPID]));
	obs_str(o, "ppid_self", role_of((pid_t)b->v[SV_PPID]));
}

static int sv_run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lc_box *b = lc_box_new(o);
	int rc;

	(void)arg;
	if (!b)
		return REP_ERROR;
	const struct lab_spec s = { .tracee = sv_tracee, .tracer = sv_tracer, .arg = b, .p_turn = sv_p_turn };
	rc = lab_run_spec(o, v, &s);
	lc_box_free(b);
	return rc;
}

const struct scenario scenario_self_view = {
	.id = "self-view",
	.group = "lifecycle",
	.desc = "/proc state t vs T, the tracee's own TracerPid and getppid(), TracerPid after detach",
	.run = sv_run,
	.expect = "stat t in SDS and traced group stop, T after detach; TracerPid tracer, getppid parent; then TracerPid 0.",
	.expect_obs = "stat_sds=t;status_sds=t (tracing stop);stat_group_traced=t;"
		      "status_group_traced=t (tracing stop);stat_detached=T;status_detached=T (stopped);"
		      "tracerpid_self=tracer;ppid_self=parent;tracerpid_detached=0;tracee=stopped:SIGSTOP",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};

/* ------------------------------------------------- inherit-untraced-child */

enum { IN_G_TRACERPID, IN_G_PID, IN_WAIT_PID, IN_WAIT_ERR, IN_WAIT_STATUS };

static void in_tracee(struct lab *L, void *arg)
{
	struct lc_box *b = arg;
	pid_t g, r;
	int st = 0;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	g = fork_child();
	if (g == 0) {
		b->v[IN_G_TRACERPID] = tracer_pid_of(getpid());
		_exit(4);
	}
	b->v[IN_G_PID] = g;
	do
		r = waitpid(-1, &st, 0);
	while (r < 0 && errno == EINTR);
	b->v[IN_WAIT_PID] = r;
	b->v[IN_WAIT_ERR] = r < 0 ? errno : 0;
	b->v[IN_WAIT_STATUS] = st;
	_exit(0);
}

static void in_tracer(struct lab *L, struct obs *t, void *arg)
{
	char stops[OBS_VAL_MAX] = "", d[64];
	pid_t k;
	int st, i;

	(void)arg;
	k = fork_child();
	if (k == 0) {
		obs_str(t, "tracer_child_tracerpid", role_of(tracer_pid_of(getpid())));
		_exit(0);
	}
	if (k > 0)
		g_waitpid(k, &st, 0, wait_limit_ms);
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_go(L);
	for (i = 0; i < 8; i++) {
		if (lab_tracer_wait(t, L->c, &st) < 0)
			return;
		if (!WIFSTOPPED(st))
			break;
		describe_wstatus(st, d, sizeof(d));
		snprintf(stops + strlen(stops), sizeof(stops) - strlen(stops), "%s%s", *stops ? "," : "", d);
		ptrace(PTRACE_CONT, L->c, NULL, (void *)(long)WSTOPSIG(st));
	}
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "stops", stops);
	obs_str(t, "end", d);
}

static void in_p_turn(struct lab *L, struct obs *o, void *arg)
{
	siginfo_t si;
	char d[64];

	(void)arg;
	memset(&si, 0, sizeof(si));
	if (g_waitid(P_PID, (id_t)L->c, &si, WEXITED | WNOWAIT, wait_limit_ms) < 0) {
		obs_str(o, "parent_wait", errno == ETIMEDOUT ? "wait-timeout" : errno_name(errno));
		return;
	}
	describe_siginfo_child(&si, d, sizeof(d));
	obs_str(o, "parent_wait", d);
}

static int in_run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lc_box *b = lc_box_new(o);
	char d[64];
	int rc;

	(void)arg;
	if (!b)
		return REP_ERROR;
	const struct lab_spec s = { .tracee = in_tracee, .tracer = in_tracer, .arg = b, .p_turn = in_p_turn };
	rc = lab_run_spec(o, v, &s);
	role_set("grandchild", (pid_t)b->v[IN_G_PID]);
	obs_str(o, "grandchild_tracerpid", role_of((pid_t)b->v[IN_G_TRACERPID]));
	if (b->v[IN_WAIT_PID] < 0) {
		obs_str(o, "child_wait", errno_name((int)b->v[IN_WAIT_ERR]));
	} else {
		describe_wstatus((int)b->v[IN_WAIT_STATUS], d, sizeof(d));
		obs_strf(o, "child_wait", "%s:%s", role_of((pid_t)b->v[IN_WAIT_PID]), d);
	}
	lc_box_free(b);
	return rc;
}

const struct scenario scenario_inherit_untraced_child = {
	.id = "inherit-untraced-child",
	.group = "lifecycle",
	.desc = "a traced C (no options) forks: the grandchild is untraced, C's waitpid finds it (no ECHILD)",
	.run = in_run,
	.expect = "grandchild_tracerpid 0, child_wait grandchild:exited:4, stops signal:SIGCHLD, parent_wait exited:0.",
	.expect_obs = "grandchild_tracerpid=0;child_wait=grandchild:exited:4;stops=signal:SIGCHLD;"
		      "parent_wait=exited:0;tracer_child_tracerpid=0;tracee=exited:0",
	.axes = 0,
};

/* -------------------------------------------------------- eintr-on-attach */

enum { EA_READ, EA_ERR };

static void ea_tracee(struct lab *L, void *arg)
{
	struct lc_box *b = arg;
	ssize_t r;
	char c;

	lab_tracee_ready(L);
	r = read(L->go[0], &c, 1);
	b->v[EA_READ] = r;
	b->v[EA_ERR] = r < 0 ? errno : 0;
	_exit(0);
}

static void ea_tracer(struct lab *L, struct obs *t, void *arg)
{
	char state[64];
	int st;

	(void)arg;
	if (procfs_wait_state(L->c, "sleeping", wait_limit_ms, state, sizeof(state)) < 0)
		obs_str(t, "before_state", state);
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_go(L);
	lab_tracer_stop(t, L->c, "end", &st);
}

static int ea_run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lc_box *b = lc_box_new(o);
	int rc;

	(void)arg;
	if (!b)
		return REP_ERROR;
	const struct lab_spec s = { .tracee = ea_tracee, .tracer = ea_tracer, .arg = b };
	rc = lab_run_spec(o, v, &s);
	if (b->v[EA_READ] < 0)
		obs_str(o, "read", errno_name((int)b->v[EA_ERR]));
	else
		obs_strf(o, "read", "%ld", b->v[EA_READ]);
	lc_box_free(b);
	return rc;
}

static const char *ea_impossible(const struct variant *v)
{
	if (v->v[AX_ATTACH] == ATTACH_TRACEME)
		return "under PTRACE_TRACEME C is traced before it blocks";
	return NULL;
}

const struct scenario scenario_eintr_on_attach = {
	.id = "eintr-on-attach",
	.group = "lifecycle",
	.desc = "an attach does not make C's blocking read() fail with EINTR (ptrace-tests eintr-on-attach)",
	.run = ea_run,
	.expect = "read 1 (restarted, no EINTR), exited:0.",
	.expect_obs = "read=1;end=exited:0;tracee=exited:0",
	.axes = AXIS(AX_ATTACH),
	.impossible = ea_impossible,
};

/* ------------------------------------------------- report-once(-stopped) */

enum { RO_RUNNING, RO_STOPPED };

static void ro_tracee_stopped(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_tkill(SIGSTOP);
	_exit(0);
}

static void ro_tracer(struct lab *L, struct obs *t, void *arg)
{
	int how = *(const int *)arg, st;
	char w[64];

	if (how == RO_STOPPED) {
		if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
			return;
		if (lab_tracer_stop(t, L->c, "attach_stop", &st) < 0)
			return;
	} else if (lab_tracer_attach(L, t) < 0) {
		return;
	}
	lc_wnohang(L->c, w, sizeof(w));
	obs_str(t, "second_wait", w);
	if (how == RO_RUNNING) {
		lab_tracer_ptrace(t, "syscall_sigstop", PTRACE_SYSCALL, L->c, NULL, (void *)(long)SIGSTOP);
		if (lab_tracer_stop(t, L->c, "stop_group", &st) < 0)
			return;
		lc_wnohang(L->c, w, sizeof(w));
		obs_str(t, "second_wait_group", w);
	}
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

static int ro_run(struct obs *o, const struct variant *v, const void *arg)
{
	int how = *(const int *)arg;
	const struct lab_spec s = {
		.tracee = how == RO_STOPPED ? ro_tracee_stopped : lab_tracee_go_exit,
		.tracer = ro_tracer, .arg = (void *)arg, .stopped_first = how == RO_STOPPED,
	};

	return lab_run_spec(o, v, &s);
}

static const int arg_ro_running = RO_RUNNING, arg_ro_stopped = RO_STOPPED;

static const char *ro_impossible(const struct variant *v)
{
	if (v->v[AX_ATTACH] == ATTACH_SEIZE)
		return "under PTRACE_SEIZE the first stop is a PTRACE_EVENT_STOP: the SIGSTOP of the restart is ignored";
	return NULL;
}

const struct scenario scenario_report_once = {
	.id = "report-once",
	.group = "lifecycle",
	.desc = "each stop is reported once: attach stop, then SYSCALL with SIGSTOP (ptrace-tests waitpid-double-report)",
	.run = ro_run,
	.arg = &arg_ro_running,
	.expect = "second_wait none, stop_group signal:SIGSTOP, second_wait_group none, stopped:SIGSTOP.",
	.expect_obs = "second_wait=none;stop_group=signal:SIGSTOP;second_wait_group=none;tracee=stopped:SIGSTOP",
	.axes = AXIS(AX_ATTACH) | AXIS(AX_TRACER),
	.impossible = ro_impossible,
};

const struct scenario scenario_report_once_stopped = {
	.id = "report-once-stopped",
	.group = "lifecycle",
	.desc = "attach to a stopped child: its stop is reported once (ptrace-tests stop-attach-then-wait)",
	.run = ro_run,
	.arg = &arg_ro_stopped,
	.expect = "attach_stop signal:SIGSTOP, second_wait none, stopped:SIGSTOP.",
	.expect_obs = "attach_stop=signal:SIGSTOP;second_wait=none;tracee=stopped:SIGSTOP",
	.axes = AXIS(AX_TRACER),
};

/* ------------------------------------------------ stopped-detach-sleeping */

static void sds_tracer(struct lab *L, struct obs *t, void *arg)
{
	int st;

	(void)arg;
	if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "attach_stop", &st) < 0)
		return;
	syscall(SYS_tgkill, L->c, L->c, SIGSTOP);
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, NULL);
}

static int sds_run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = ro_tracee_stopped, .tracer = sds_tracer, .stopped_first = 1 };

	(void)arg;
	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_stopped_detach_sleeping = {
	.id = "stopped-detach-sleeping",
	.group = "lifecycle",
	.desc = "attach to a stopped child, tkill SIGSTOP, PTRACE_CONT, wait, detach 0 (ptrace-tests stopped-detach-sleeping)",
	.run = sds_run,
	.expect = "stop signal:SIGSTOP, detach 0; the group is still stopped (SIGNAL_STOP_STOPPED): stopped:SIGSTOP.",
	.expect_obs = "attach_stop=signal:SIGSTOP;stop=signal:SIGSTOP;detach=0;tracee=stopped:SIGSTOP",
	.axes = 0,
};
