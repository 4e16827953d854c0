// SPDX-License-Identifier: MIT
/*
 * reparent-zombie, reparent-zombie-clone - a traced zombie goes back to its real parent when the
 * tracing thread exits, though the tracer's thread group lives on.
 *
 * Set-up: R attaches C and resumes it; told to go, C _exit(23)s (-clone:
 * first it runs and joins a thread, which R, with PTRACE_O_TRACECLONE, takes
 * at its SIGSTOP, resumes and reaps as "thread_end"). R does not
 * wait for it: C is a zombie that only R may collect (P's wait sees nothing
 * yet). R starts a second thread, and R's main thread (the one that
 * attached: ptrace links tasks, not processes) calls pthread_exit().
 * Action: R's second thread waits until R's leader is a zombie, then looks
 * at C; it exits the group.
 * Observes: "before" C's state and "before_tracerpid" (zombie, tracer) while
 * the tracing thread lives; "after" once it is gone: C back with P as a
 * zombie with TracerPid 0 ("after_tracerpid"), or under P's SIG_IGN /
 * SA_NOCLDWAIT released at once ("gone"); how P sees C (tracee, sigchld).
 * Documented: ptrace-tests reparent-zombie.c / reparent-zombie-clone.c (no
 * zombie may be left behind); kernel/ptrace.c exit_ptrace() /
 * __ptrace_detach(): a detached zombie is notified to its real parent
 * (do_notify_parent(), which reaps it at once if the parent ignores
 * SIGCHLD); wait(2) / sigaction(2) SA_NOCLDWAIT.
 * Expected on 6.x: before zombie/tracer; after zombie/0 and tracee
 * exited:23 (sigchld CLD_EXITED) by default; after gone under
 * sigchld=ign and nocldwait.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "scenarios.h"

static void *thread_fn(void *arg)
{
	return arg;
}

static void tracee(struct lab *L, void *arg)
{
	int with_thread = *(const int *)arg;
	static int token;
	pthread_t th;
	void *res = NULL;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	if (with_thread) {
		if (pthread_create(&th, NULL, thread_fn, &token) || pthread_join(th, &res) ||
		    res != &token)
			_exit(90);
	}
	_exit(23);
}

struct rz {
	struct lab *L;
	struct obs *t;
	pid_t leader;
};

static void *second(void *p)
{
	struct rz *z = p;
	int reaped = z->L->v.v[AX_SIGCHLD] == SIGCHLD_IGN ||
		     z->L->v.v[AX_SIGCHLD] == SIGCHLD_NOCLDWAIT;
	char st[64];

	/* The leader is a zombie once its exit_notify() (and exit_ptrace()) ran. */
	if (procfs_wait_state(z->leader, "zombie", wait_limit_ms, st, sizeof(st)) < 0) {
		obs_str(z->t, "tracer", "leader-not-zombie");
		_exit(0);
	}
	procfs_wait_state(z->L->c, reaped ? "gone" : "zombie", wait_limit_ms, st, sizeof(st));
	obs_str(z->t, "after", st);
	if (!reaped)
		ev_status_role(z->t, z->L->c, "TracerPid", "after_tracerpid");
	_exit(0);
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	int with_thread = *(const int *)arg;
	static struct rz z;
	unsigned long msg = 0;
	pthread_t th;
	char st[64];
	int ws;

	if (lab_tracer_attach(L, t) < 0)
		return;
	if (with_thread) {
		/* The thread is auto-attached: let it run to its end, reap it. */
		lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
				  (void *)(long)PTRACE_O_TRACECLONE);
		if (lab_tracer_cont_to_stop(L, t, &ws) < 0 ||
		    lab_tracer_ptrace(t, "geteventmsg", PTRACE_GETEVENTMSG, L->c, NULL, &msg) < 0)
			return;
		role_set("thread", (pid_t)msg);
		if (lab_tracer_stop(t, (pid_t)msg, "thread_stop", &ws) < 0)
			return;
		lab_tracer_ptrace(t, "cont_thread", PTRACE_CONT, (pid_t)msg, NULL, NULL);
		if (lab_tracer_stop(t, (pid_t)msg, "thread_end", &ws) < 0)
			return;
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	} else {
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
		lab_tracer_go(L);
	}
	procfs_wait_state(L->c, "zombie", wait_limit_ms, st, sizeof(st));
	obs_str(t, "before", st);
	ev_status_role(t, L->c, "TracerPid", "before_tracerpid");
	z.L = L;
	z.t = t;
	z.leader = getpid();
	if (pthread_create(&th, NULL, second, &z)) {
		obs_str(t, "error", "pthread_create");
		return;
	}
	pthread_exit(NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = { .tracee = tracee, .tracer = tracer, .arg = (void *)arg };

	return lab_run_spec(o, v, &s);
}

static const int arg_plain = 0, arg_clone = 1;

const struct scenario scenario_reparent_zombie = {
	.id = "reparent-zombie",
	.group = "options-events",
	.desc = "a traced zombie returns to its real parent when the tracing thread exits",
	.run = run,
	.arg = &arg_plain,
	.expect = "zombie held for the tracer; after the tracing thread's exit it is the real "
		  "parent's (exited:23), or reaped at once when the parent ignores SIGCHLD.",
	.expect_obs = "before=zombie;before_tracerpid=tracer;after=zombie;after_tracerpid=0;"
		      "tracee=exited:23;sigchld=CLD_EXITED:23:self",
	.axes = AXIS(AX_SIGCHLD),
};

const struct scenario scenario_reparent_zombie_clone = {
	.id = "reparent-zombie-clone",
	.group = "options-events",
	.desc = "reparent-zombie after C ran a thread R auto-attached with PTRACE_O_TRACECLONE",
	.run = run,
	.arg = &arg_clone,
	.expect = "as reparent-zombie: the thread was reaped by R; the zombie goes back to P.",
	.expect_obs = "stop=event:clone;thread_stop=signal:SIGSTOP;thread_end=exited:0;"
		      "before=zombie;before_tracerpid=tracer;after=zombie;after_tracerpid=0;"
		      "tracee=exited:23;sigchld=CLD_EXITED:23:self",
	.axes = AXIS(AX_SIGCHLD),
};
