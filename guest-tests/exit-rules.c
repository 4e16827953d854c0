// SPDX-License-Identifier: MIT
/*
 * sigkill-in-stop, sigkill-running, mt-group-exit, zombie-leader-delayed,
 * nonleader-exec - death and exit rules under ptrace.
 *
 * sigkill-in-stop / sigkill-running
 * Set-up: R PTRACE_ATTACHes C, sets PTRACE_O_TRACEEXIT. in-stop: C stops in
 * an SDS for SIGUSR1 (tgkill) and R has taken it. running: R continued C,
 * which sleeps in read().
 * Action: P sends SIGKILL to C (R's turn handed over by a note).
 * Observes: R's next report (after_kill: a PTRACE_EVENT_EXIT stop or the
 * death) and, if it stopped, the one after PTRACE_CONT (final).
 * Documented: ptrace(2) "SIGKILL does not generate signal-delivery-stop and
 * therefore the tracer can't suppress it"; PTRACE_O_TRACEEXIT "Stop the
 * tracee at exit"; kernel/exit.c do_exit() -> ptrace_event(PTRACE_EVENT_EXIT)
 * runs for every exit; kernel/signal.c ptrace_stop() returns at once "if
 * (!current->ptrace || __fatal_signal_pending(current))", but get_signal()
 * has dequeued the SIGKILL before do_group_exit(), so the exit stop happens
 * (the man page's BUGS and ptrace(2) "PTRACE_EVENT_EXIT ... the tracee is
 * stopped early during process exit" — a later SIGKILL kills it from there).
 * Expected on 6.x: after_kill event:exit (msg killed:SIGKILL), then final
 * killed:SIGKILL; tracee killed:SIGKILL.
 *
 * mt-group-exit
 * Set-up: C has 3 threads, R attaches each (PTRACE_ATTACH) and continues it.
 * Action: "go": thread 1 calls exit_group(5).
 * Observes: every traced thread's report to R (exit_reports, a tally) and
 * where the leader's came (leader_report: last).
 * Documented: ptrace(2) "Death under ptrace": "all threads exit. Tracees
 * report their death to their tracer(s)"; kernel/exit.c wait_consider_task():
 * a zombie group leader is not reported while delay_group_leader().
 * Expected on 6.x: exit_reports exited:5*3, leader_report last, exited:5.
 *
 * zombie-leader-delayed
 * Set-up: C has 2 threads, both attached and continued.
 * Action: "go": the leader calls the exit syscall (the thread alone); R waits
 * until it is a zombie, then waitpid(WNOHANG) for it; then thread 1 calls
 * exit_group(3); R waits for thread 1, then the leader.
 * Observes: leader_state, leader_wait_early, thread1_exit, leader_exit.
 * Documented: ptrace(2) "If the thread group leader ... exits ... its death
 * is reported only after all other threads have exited"; kernel/exit.c
 * wait_consider_task() (delay_group_leader()); wait_task_zombie() takes
 * signal->group_exit_code when SIGNAL_GROUP_EXIT.
 * Expected on 6.x: leader_state zombie, leader_wait_early none, thread1_exit
 * exited:3, leader_exit exited:3.
 *
 * nonleader-exec
 * Set-up: C has 3 threads, each attached with PTRACE_O_TRACEEXEC and
 * continued.
 * Action: "go": thread 1 execs /proc/self/exe as the helper (exits 7).
 * Observes: R's reports until the exec event (tally), the tid that reports
 * the exec, its PTRACE_GETEVENTMSG (the former tid, as a role), a WNOHANG
 * wait for thread 1's old tid and for anyone, then the helper's end.
 * Documented: ptrace(2) "execve(2) under ptrace": other threads "report death
 * as if they exited via _exit(2) with exit code 0", the execing tracee's TID
 * becomes the leader's, "The thread group leader does not report death" and
 * PTRACE_GETEVENTMSG at PTRACE_EVENT_EXEC gives the former thread ID (since
 * 3.0); fs/exec.c de_thread() (zap_other_threads(), exchange_tids()).
 * Expected on 6.x: exec_reports self:event:exec*1,thread2:exited:0*1,
 * exec_by self, exec_msg pid:thread1, old_tid_wait ECHILD, more_reports
 * none, helper_end exited:7.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifecycle.h"
#include "scenarios.h"

/* ------------------------------------------------------------ sigkill-* */

enum { KILL_IN_STOP, KILL_RUNNING };

static void kill_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	lab_tracee_tkill(SIGUSR1);
	lab_tracee_wait_go(L);
	_exit(0);
}

static void kill_tracer(struct lab *L, struct obs *t, void *arg)
{
	int how = *(const int *)arg, st;
	char state[64];

	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL, (void *)(long)PTRACE_O_TRACEEXIT);
	if (how == KILL_IN_STOP) {
		if (lab_tracer_cont_to_stop(L, t, &st) < 0)
			return;
	} else {
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
		if (procfs_wait_state(L->c, "sleeping", wait_limit_ms, state, sizeof(state)) < 0)
			obs_str(t, "running_state", state);
	}
	lab_tracer_note(L);
	if (lab_tracer_wait_reply(L, t) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "after_kill", &st) < 0 || !WIFSTOPPED(st))
		return;
	lab_tracer_ptrace(t, "cont_exit", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_stop(t, L->c, "final", &st);
}

static void kill_p_turn(struct lab *L, struct obs *o, void *arg)
{
	(void)arg;
	if (lab_wait_note(L, o) < 0)
		return;
	kill(L->c, SIGKILL);
	lab_reply(L);
}

static int kill_run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = {
		.tracee = kill_tracee, .tracer = kill_tracer, .arg = (void *)arg, .p_turn = kill_p_turn,
	};

	return lab_run_spec(o, v, &s);
}

static const int arg_in_stop = KILL_IN_STOP, arg_running = KILL_RUNNING;

const struct scenario scenario_sigkill_in_stop = {
	.id = "sigkill-in-stop",
	.group = "lifecycle",
	.desc = "SIGKILL to a tracee in an SDS (PTRACE_O_TRACEEXIT): is there an exit stop?",
	.run = kill_run,
	.arg = &arg_in_stop,
	.expect = "after_kill event:exit (msg killed:SIGKILL), final killed:SIGKILL.",
	.expect_obs = "stop=signal:SIGUSR1;after_kill=event:exit;after_kill_msg=killed:SIGKILL;"
		      "final=killed:SIGKILL;tracee=killed:SIGKILL",
	.axes = 0,
};

const struct scenario scenario_sigkill_running = {
	.id = "sigkill-running",
	.group = "lifecycle",
	.desc = "SIGKILL to a running traced tracee (PTRACE_O_TRACEEXIT): is there an exit stop?",
	.run = kill_run,
	.arg = &arg_running,
	.expect = "after_kill event:exit (msg killed:SIGKILL), final killed:SIGKILL.",
	.expect_obs = "after_kill=event:exit;after_kill_msg=killed:SIGKILL;final=killed:SIGKILL;"
		      "tracee=killed:SIGKILL",
	.axes = 0,
};

/* -------------------------------------------------------- mt-group-exit */

static void group_exit_thread(struct lab *L, int idx)
{
	if (idx != 1)
		return;
	lab_tracee_wait_go(L);
	syscall(SYS_exit_group, 5);
}

static void group_exit_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_threads(L, 3, group_exit_thread);
	lab_tracee_ready(L);
	for (;;)
		pause();
}

/* Attach every thread, register the roles, continue each. */
static int attach_cont_all(struct lab *L, struct obs *t, long options)
{
	int i;

	lc_role_threads(L);
	if (lab_tracer_attach_all(L, t) < 0)
		return -1;
	for (i = 0; i < L->sh->nthreads; i++) {
		if (options)
			lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->sh->tid[i], NULL,
					  (void *)options);
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->sh->tid[i], NULL, NULL);
	}
	return 0;
}

static void group_exit_tracer(struct lab *L, struct obs *t, void *arg)
{
	char items[LAB_MAX_THREADS][64], out[OBS_VAL_MAX];
	const char *ip[LAB_MAX_THREADS];
	int i, n = 0, st, leader_at = -1;

	(void)arg;
	if (attach_cont_all(L, t, 0) < 0)
		return;
	lab_tracer_go(L);
	for (i = 0; i < L->sh->nthreads; i++) {
		char d[64];
		pid_t p = g_waitpid(-1, &st, __WALL, wait_limit_ms);

		if (p < 0) {
			obs_str(t, "tracer", errno == ETIMEDOUT ? "wait-timeout" : errno_name(errno));
			break;
		}
		describe_wstatus(st, d, sizeof(d));
		snprintf(items[n], sizeof(items[n]), "%s", d);
		ip[n] = items[n];
		if (p == L->c)
			leader_at = n;
		n++;
	}
	lab_tally(ip, n, out, sizeof(out));
	obs_str(t, "exit_reports", out);
	obs_str(t, "leader_report", leader_at < 0 ? "none" : leader_at == n - 1 ? "last" : "early");
}

static int group_exit_run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = group_exit_tracee, .tracer = group_exit_tracer, .threads = 1 };

	(void)arg;
	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_mt_group_exit = {
	.id = "mt-group-exit",
	.group = "lifecycle",
	.desc = "3 traced threads, one calls exit_group(5): every thread reports its exit, the leader last",
	.run = group_exit_run,
	.expect = "exit_reports exited:5*3, leader_report last, exited:5.",
	.expect_obs = "exit_reports=exited:5*3;leader_report=last;tracee=exited:5",
	.axes = 0,
};

/* ------------------------------------------------- zombie-leader-delayed */

static struct lc_box *zl_box; /* C's copy: set before the threads start */

static void zl_thread_fn(struct lab *L, int idx)
{
	(void)L;
	if (idx != 1)
		return;
	lc_xwait(zl_box);
	syscall(SYS_exit_group, 3);
}

static void zl_tracee(struct lab *L, void *arg)
{
	zl_box = arg;
	lab_tracee_threads(L, 2, zl_thread_fn);
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	syscall(SYS_exit, 0); /* the leader alone */
	_exit(91);
}

static void zl_tracer(struct lab *L, struct obs *t, void *arg)
{
	struct lc_box *b = arg;
	char state[64], w[64];
	int st;

	if (attach_cont_all(L, t, 0) < 0)
		return;
	lab_tracer_go(L);
	procfs_wait_state(L->c, "zombie", wait_limit_ms, state, sizeof(state));
	obs_str(t, "leader_state", state);
	lc_wnohang(L->c, w, sizeof(w));
	obs_str(t, "leader_wait_early", w);
	lc_xgo(b);
	if (lab_tracer_stop(t, L->sh->tid[1], "thread1_exit", &st) < 0)
		return;
	lab_tracer_stop(t, L->c, "leader_exit", &st);
}

static int zl_run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lc_box *b = lc_box_new(o);
	int rc;

	(void)arg;
	if (!b)
		return REP_ERROR;
	const struct lab_spec s = { .tracee = zl_tracee, .tracer = zl_tracer, .arg = b, .threads = 1 };
	rc = lab_run_spec(o, v, &s);
	lc_box_free(b);
	return rc;
}

const struct scenario scenario_zombie_leader_delayed = {
	.id = "zombie-leader-delayed",
	.group = "lifecycle",
	.desc = "traced leader exits alone: its zombie is reported only after the other thread exits",
	.run = zl_run,
	.expect = "leader_state zombie, leader_wait_early none, thread1_exit exited:3, leader_exit exited:3.",
	.expect_obs = "leader_state=zombie;leader_wait_early=none;thread1_exit=exited:3;leader_exit=exited:3;"
		      "tracee=exited:3",
	.axes = 0,
};

/* -------------------------------------------------------- nonleader-exec */

static void exec_thread(struct lab *L, int idx)
{
	if (idx != 1)
		return;
	lab_tracee_wait_go(L);
	execl("/proc/self/exe", "kfarm-guest", "--kfarm-helper", "7", (char *)NULL);
	_exit(94);
}

static void exec_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_threads(L, 3, exec_thread);
	lab_tracee_ready(L);
	for (;;)
		pause();
}

static void exec_tracer(struct lab *L, struct obs *t, void *arg)
{
	char items[LAB_MAX_THREADS][64], out[OBS_VAL_MAX], w[64];
	const char *ip[LAB_MAX_THREADS];
	pid_t old = L->sh->tid[1], p = -1;
	unsigned long msg = 0;
	int n = 0, st = 0, i;

	(void)arg;
	if (attach_cont_all(L, t, PTRACE_O_TRACEEXEC) < 0)
		return;
	lab_tracer_go(L);
	for (i = 0; i < LAB_MAX_THREADS; i++) {
		p = lc_wait_any(t, &st, items[n], sizeof(items[n]));
		if (p < 0)
			break;
		ip[n] = items[n];
		n++;
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXEC)
			break;
		if (WIFSTOPPED(st)) /* not expected: let it go on */
			ptrace(PTRACE_CONT, p, NULL, NULL);
	}
	lab_tally(ip, n, out, sizeof(out));
	obs_str(t, "exec_reports", out);
	if (p < 0 || !WIFSTOPPED(st) || (st >> 16) != PTRACE_EVENT_EXEC)
		return;
	obs_str(t, "exec_by", role_of(p));
	if (lab_tracer_ptrace(t, NULL, PTRACE_GETEVENTMSG, p, NULL, &msg) == 0)
		obs_strf(t, "exec_msg", "pid:%s", role_of((pid_t)msg));
	lc_wnohang(old, w, sizeof(w));
	obs_str(t, "old_tid_wait", w);
	lc_wnohang(-1, w, sizeof(w));
	obs_str(t, "more_reports", w);
	lab_tracer_ptrace(t, "cont_exec", PTRACE_CONT, p, NULL, NULL);
	lab_tracer_stop(t, p, "helper_end", &st);
}

static int exec_run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = exec_tracee, .tracer = exec_tracer, .threads = 1 };

	(void)arg;
	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_nonleader_exec = {
	.id = "nonleader-exec",
	.group = "lifecycle",
	.desc = "a non-leader of 3 traced threads execs: the exec event comes on the leader's tid, msg the former tid",
	.run = exec_run,
	.expect = "thread2 exited:0, exec event on self with msg pid:thread1, the old tid ECHILD, helper exits 7.",
	.expect_obs = "exec_reports=self:event:exec*1,thread2:exited:0*1;exec_by=self;exec_msg=pid:thread1;"
		      "old_tid_wait=ECHILD;more_reports=none;helper_end=exited:7;tracee=exited:7",
	.axes = 0,
};
