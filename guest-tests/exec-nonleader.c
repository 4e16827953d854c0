// SPDX-License-Identifier: MIT
/*
 * exec-nonleader - PTRACE_EVENT_EXEC of an execve by a non-leader thread:
 * reported under the thread group id, GETEVENTMSG the former thread id.
 *
 * Set-up: R attaches C with PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC. Told
 * to go, C starts a thread T (R takes the clone event, T's first SIGSTOP,
 * and resumes C, then T) and waits in pthread_join(); T execs /proc/self/exe as a
 * helper that exits 7.
 * Action: R waits for C's pid (the tgid) and takes the exec stop; then asks
 * for T's old tid with waitpid(WNOHANG) and resumes C.
 * Observes: "exec_stop" event:exec and "exec_msg" GETEVENTMSG as a role
 * ("thread": T's tid before the exec), "old_tid_wait" (T's old tid is gone:
 * ECHILD), how the helper ends.
 * Documented: ptrace(2) "execve(2) under ptrace" ("The execing tracee
 * changes its TID while it is in the execve ... PTRACE_GETEVENTMSG ...
 * returns the former TID ... the leader's tid is not reported"), and
 * PTRACE_O_TRACEEXEC; kernel/exec.c de_thread(), exec_binprm()
 * (old_vpid for ptrace_event(PTRACE_EVENT_EXEC)).
 * Expected on 6.x: exec_stop event:exec, exec_msg pid:thread, old_tid_wait
 * ECHILD, tracee exited:7.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "scenarios.h"

static void *exec_thread(void *arg)
{
	(void)arg;
	execl("/proc/self/exe", "kfarm-guest", "--kfarm-helper", "7", (char *)NULL);
	_exit(94);
}

static void tracee(struct lab *L, void *arg)
{
	pthread_t th;

	(void)arg;
	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	if (pthread_create(&th, NULL, exec_thread, NULL))
		_exit(90);
	pthread_join(th, NULL);
	_exit(95);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	unsigned long msg = 0;
	pid_t tid, r;
	int st;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
			  (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC));
	if (lab_tracer_cont_to_stop(L, t, &st) < 0 ||
	    lab_tracer_ptrace(t, "geteventmsg", PTRACE_GETEVENTMSG, L->c, NULL, &msg) < 0)
		return;
	tid = (pid_t)msg;
	role_set("thread", tid);
	if (lab_tracer_stop(t, tid, "thread_stop", &st) < 0)
		return;
	/* C first: once T runs, its exec may kill C's leader thread at any time. */
	lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	lab_tracer_ptrace(t, "cont_thread", PTRACE_CONT, tid, NULL, NULL);
	/* lab_tracer_stop() writes exec_msg as "pid:ROLE". */
	if (lab_tracer_stop(t, L->c, "exec", &st) < 0)
		return;
	errno = 0;
	r = waitpid(tid, &st, WNOHANG | __WALL);
	obs_result(t, "old_tid_wait", r, errno);
	lab_tracer_ptrace(t, "cont_exec", PTRACE_CONT, L->c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = tracee, .tracer = tracer, .arg = (void *)arg };

	return lab_run_spec(o, v, &s);
}

const struct scenario scenario_exec_nonleader = {
	.id = "exec-nonleader",
	.group = "options-events",
	.desc = "execve by a non-leader thread: PTRACE_EVENT_EXEC under the tgid, message the former tid",
	.run = run,
	.arg = NULL,
	.expect = "event:exec reported for the tgid, GETEVENTMSG = the execing thread's old tid, "
		  "which no longer exists (ECHILD); the helper exits 7.",
	.expect_obs = "stop=event:clone;exec=event:exec;exec_msg=pid:thread;old_tid_wait=ECHILD;"
		      "tracee=exited:7",
	.axes = 0,
};
