// SPDX-License-Identifier: MIT
/*
 * event-fork, event-vfork, event-clone, event-fork-newpid, event-fork-untraced,
 * event-clone-ptrace, event-fork-syscall - the fork-family events, their message, and what the
 * new child inherits.
 *
 * Set-up: R attaches C and sets PTRACE_O_TRACEEXIT plus, per cell,
 * PTRACE_O_TRACEFORK (fork, fork-newpid), PTRACE_O_TRACEVFORK |
 * PTRACE_O_TRACEVFORKDONE (vfork), PTRACE_O_TRACECLONE (clone: clone(2) with
 * exit signal 0, no CLONE_VM), or nothing more (untraced). Told to go, C
 * makes a child that _exit(5)s (fork-newpid: after unshare(CLONE_NEWPID), so
 * the child is pid 1 of a new namespace), notes the returned pid in a shared
 * page, reaps the child and _exit(0)s. (untraced: the child blocks on a pipe;
 * C raises SIGUSR2 so that R can look, then releases the child. clone-ptrace:
 * no option but TRACEEXIT; C clones with CLONE_PTRACE and exit signal 0,
 * raises SIGUSR2, and R takes the child from the pid C noted. fork-syscall:
 * TRACEFORK | TRACESYSGOOD, and R resumes C from the fork event with
 * PTRACE_SYSCALL: "syscall_stop", its GET_SYSCALL_INFO op and rval against
 * the child's pid; ptrace-tests syscall-from-clone.c.)
 * Action: R takes the event stop, PTRACE_GETEVENTMSG, waits for the new
 * child, reads its /proc status, resumes it to its exit; resumes C to its
 * PTRACE_EVENT_VFORK_DONE (vfork) and PTRACE_EVENT_EXIT stops.
 * Observes: "stop" the event; "msg_vs_child" the event message against the
 * pid C got back; "child_stop" the new child's first stop (SIGSTOP, or a
 * PTRACE_EVENT_STOP under PTRACE_SEIZE); "child_tracerpid"/"child_ppid";
 * "child_exit_stop" (it inherited PTRACE_O_TRACEEXIT); "vfork_done" and its
 * message; fork-newpid: the child's NSpid inner pid and whether the message
 * is its pid in R's namespace; untraced: the child's TracerPid 0 and R's
 * waitpid on it ECHILD.
 * Documented: ptrace(2) PTRACE_O_TRACEFORK/VFORK/CLONE ("automatically trace
 * the newly created process, which will start with a SIGSTOP, or
 * PTRACE_EVENT_STOP if PTRACE_SEIZE was used"), PTRACE_O_TRACEVFORKDONE,
 * PTRACE_GETEVENTMSG ("the PID of the new process"; for VFORK_DONE too);
 * "The tracee's options are inherited by new tracees created via the
 * PTRACE_O_TRACE* options" (ptrace(2) PTRACE_SETOPTIONS text; kernel/ptrace.c
 * ptrace_init_task copies ->ptrace); kernel/fork.c kernel_clone():
 * ptrace_event_pid() reports the pid in the tracer's namespace.
 * Expected on 6.x: stop event:fork/vfork/clone, msg match, child_stop
 * signal:SIGSTOP (seize: group-stop:SIGTRAP), child_tracerpid tracer,
 * child_exit_stop event:exit exited:5; vfork_done with msg match; newpid
 * inner pid 1, message is the outer pid; untraced TracerPid 0, ECHILD.
 * fork-newpid needs CONFIG_PID_NS (else "unsupported").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "scenarios.h"

enum fk { FK_FORK, FK_VFORK, FK_CLONE, FK_NEWPID, FK_UNTRACED, FK_CLONE_PTRACE,
	  FK_FORK_SYSCALL };

static char clone_stack[64 * 1024] __attribute__((aligned(16)));

static int clone_child(void *a)
{
	(void)a;
	return 5;
}

static void tracee(struct lab *L, void *arg)
{
	const struct ev_arg *a = arg;
	enum fk k = *(const enum fk *)a->cfg;
	struct ev_shared *sh = a->sh;
	pid_t pid = -1;
	char b;
	int st;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	switch (k) {
	case FK_FORK:
	case FK_FORK_SYSCALL:
		pid = fork();
		if (pid == 0)
			_exit(5);
		break;
	case FK_VFORK:
		pid = vfork();
		if (pid == 0)
			_exit(5);
		break;
	case FK_CLONE:
		pid = clone(clone_child, clone_stack + sizeof(clone_stack), 0, NULL);
		break;
	case FK_NEWPID:
		if (unshare(CLONE_NEWPID) < 0) {
			sh->err = errno;
			_exit(91);
		}
		pid = fork();
		if (pid == 0)
			_exit(5);
		break;
	case FK_CLONE_PTRACE:
		pid = clone(clone_child, clone_stack + sizeof(clone_stack), CLONE_PTRACE, NULL);
		sh->child = pid;
		raise(SIGUSR2); /* R takes the child from here */
		break;
	case FK_UNTRACED:
		pid = fork();
		if (pid == 0) {
			if (g_read(sh->pipe[0], &b, 1, wait_limit_ms) != 1)
				_exit(92);
			_exit(5);
		}
		sh->child = pid;
		raise(SIGUSR2); /* R looks at the child here and suppresses it */
		b = 'x';
		write_all(sh->pipe[1], &b, 1);
		break;
	}
	if (pid < 0)
		_exit(90);
	sh->child = pid;
	if (g_waitpid(pid, &st, __WALL, wait_limit_ms) != pid)
		_exit(93);
	_exit(0);
}

static void nspid(struct obs *t, pid_t pid, unsigned long msg)
{
	char v[64], *sp;

	if (procfs_status_field(pid, "NSpid", v, sizeof(v)) < 0) {
		obs_str(t, "child_nspid_inner", "gone");
		return;
	}
	/* "OUTER\tINNER": the first is the pid in R's namespace. */
	ev_match(t, "msg_vs_nspid_outer", (long)msg, atol(v));
	sp = strrchr(v, '\t');
	obs_str(t, "child_nspid_inner", sp && sp != v ? sp + 1 : "none");
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct ev_arg *a = arg;
	enum fk k = *(const enum fk *)a->cfg;
	static const long opts[] = {
		[FK_FORK] = PTRACE_O_TRACEFORK,
		[FK_VFORK] = PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE,
		[FK_CLONE] = PTRACE_O_TRACECLONE,
		[FK_NEWPID] = PTRACE_O_TRACEFORK,
		[FK_UNTRACED] = 0,
		[FK_CLONE_PTRACE] = 0,
		[FK_FORK_SYSCALL] = PTRACE_O_TRACEFORK | PTRACE_O_TRACESYSGOOD,
	};
	struct __ptrace_syscall_info info;
	unsigned long msg = 0, msg2 = 0;
	pid_t g;
	int st;

	if (lab_tracer_attach(L, t) < 0)
		return;
	lab_tracer_ptrace(t, "setoptions", PTRACE_SETOPTIONS, L->c, NULL,
			  (void *)(opts[k] | PTRACE_O_TRACEEXIT));
	if (lab_tracer_cont_to_stop(L, t, &st) < 0)
		return;
	if (k == FK_NEWPID && a->sh->err) {
		obs_strf(t, "unsupported", "unshare(CLONE_NEWPID): %s", errno_name(a->sh->err));
		lab_tracer_ptrace(t, "cont_exit", PTRACE_CONT, L->c, NULL, NULL);
		return;
	}
	if (k == FK_UNTRACED) {
		g = a->sh->child;
		role_set("child", g);
		ev_status_role(t, g, "TracerPid", "child_tracerpid");
		ev_status_role(t, g, "PPid", "child_ppid");
		errno = 0;
		g = waitpid(g, &st, WNOHANG | __WALL);
		obs_result(t, "child_wait", g, errno);
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
	} else {
		if (k == FK_CLONE_PTRACE) {
			/* No event: C names the child at its SIGUSR2 stop. */
			msg = (unsigned long)a->sh->child;
		} else if (lab_tracer_ptrace(t, "geteventmsg", PTRACE_GETEVENTMSG, L->c, NULL,
					     &msg) < 0) {
			return;
		}
		g = (pid_t)msg;
		if (lab_tracer_stop(t, g, "child_stop", &st) < 0)
			return;
		ev_status_role(t, g, "TracerPid", "child_tracerpid");
		ev_status_role(t, g, "PPid", "child_ppid");
		if (k == FK_NEWPID)
			nspid(t, g, msg);
		role_set("child", g);
		lab_tracer_ptrace(t, "cont_child", PTRACE_CONT, g, NULL, NULL);
		if (lab_tracer_stop(t, g, "child_exit_stop", &st) < 0)
			return;
		lab_tracer_ptrace(t, "cont_child2", PTRACE_CONT, g, NULL, NULL);
		if (lab_tracer_stop(t, g, "child_end", &st) < 0)
			return;
		if (k == FK_FORK_SYSCALL) {
			/* From the event stop, PTRACE_SYSCALL: the exit of fork() itself. */
			lab_tracer_ptrace(t, "syscall", PTRACE_SYSCALL, L->c, NULL, NULL);
			if (lab_tracer_stop(t, L->c, "syscall_stop", &st) < 0)
				return;
			memset(&info, 0, sizeof(info));
			if (lab_tracer_ptrace(t, "info", PTRACE_GET_SYSCALL_INFO, L->c,
					      (void *)sizeof(info), &info) > 0) {
				obs_str(t, "syscall_op", info.op == PTRACE_SYSCALL_INFO_EXIT ? "exit" :
					info.op == PTRACE_SYSCALL_INFO_ENTRY ? "entry" : "other");
				if (info.op == PTRACE_SYSCALL_INFO_EXIT)
					ev_match(t, "syscall_rval_vs_child", (long)info.exit.rval,
						 (long)msg);
			}
		}
		lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
		if (k == FK_VFORK) {
			if (lab_tracer_stop(t, L->c, "vfork_done", &st) < 0)
				return;
			if (lab_tracer_ptrace(t, "geteventmsg_done", PTRACE_GETEVENTMSG, L->c, NULL,
					      &msg2) == 0) {
				ev_match(t, "done_msg_vs_child", (long)msg2, (long)msg);
				/* lab_tracer_stop() wrote the raw number: as a role. */
				obs_strf(t, "vfork_done_msg", "pid:%s", role_of((pid_t)msg2));
			}
			lab_tracer_ptrace(t, "cont", PTRACE_CONT, L->c, NULL, NULL);
		}
	}
	/* C's SIGCHLD for the child (fork, vfork) comes first: R suppresses it. */
	if (lab_tracer_stop(t, L->c, "exit_stop", &st) < 0)
		return;
	if (WIFSTOPPED(st) && (st >> 8) == SIGCHLD) {
		obs_str(t, "sigchld_stop", "seen");
		lab_tracer_ptrace(t, "cont_sigchld", PTRACE_CONT, L->c, NULL, NULL);
		if (lab_tracer_stop(t, L->c, "exit_stop", &st) < 0)
			return;
	}
	if (k != FK_UNTRACED)
		ev_match(t, "msg_vs_child", (long)msg, (long)a->sh->child);
	lab_tracer_ptrace(t, "cont_exit", PTRACE_CONT, L->c, NULL, NULL);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct ev_arg a = { .cfg = arg, .sh = ev_shared_new() };
	const struct lab_spec s = {
		.tracee = tracee, .tracer = tracer, .arg = &a, .may_be_unsupported = 1,
	};
	int rc;

	if (!a.sh) {
		obs_str(o, "error", "shm");
		return REP_ERROR;
	}
	rc = lab_run_spec(o, v, &s);
	ev_shared_free(a.sh);
	return rc;
}

static const enum fk arg_fork = FK_FORK, arg_vfork = FK_VFORK, arg_clone = FK_CLONE,
		     arg_newpid = FK_NEWPID, arg_untraced = FK_UNTRACED,
		     arg_clone_ptrace = FK_CLONE_PTRACE, arg_fork_syscall = FK_FORK_SYSCALL;

#define CHILD_OBS "child_tracerpid=tracer;child_ppid=self;child_stop=signal:SIGSTOP;" \
	"child_exit_stop=event:exit;child_exit_stop_msg=exited:5;child_end=exited:5;" \
	"msg_vs_child=match;exit_stop=event:exit;tracee=exited:0"

const struct scenario scenario_event_fork = {
	.id = "event-fork",
	.group = "options-events",
	.desc = "PTRACE_O_TRACEFORK: event stop, GETEVENTMSG = child pid, child auto-attached",
	.run = run,
	.arg = &arg_fork,
	.expect = "event:fork, msg = the child's pid; the child starts in SIGSTOP (seize: "
		  "PTRACE_EVENT_STOP) traced by R and inherits PTRACE_O_TRACEEXIT.",
	.expect_obs = "stop=event:fork;" CHILD_OBS,
	.axes = AXIS(AX_ATTACH),
};

const struct scenario scenario_event_vfork = {
	.id = "event-vfork",
	.group = "options-events",
	.desc = "PTRACE_O_TRACEVFORK + VFORKDONE: both events, messages = child pid",
	.run = run,
	.arg = &arg_vfork,
	.expect = "event:vfork then event:vfork_done, both messages the child's pid; child "
		  "auto-attached with SIGSTOP, inherits the options.",
	.expect_obs = "stop=event:vfork;vfork_done=event:vfork-done;vfork_done_msg=pid:child;done_msg_vs_child=match;"
		      CHILD_OBS,
	.axes = AXIS(AX_ATTACH),
};

const struct scenario scenario_event_clone = {
	.id = "event-clone",
	.group = "options-events",
	.desc = "PTRACE_O_TRACECLONE: clone() with exit signal 0 reports event:clone",
	.run = run,
	.arg = &arg_clone,
	.expect = "event:clone (exit signal not SIGCHLD), msg = the child's pid; child "
		  "auto-attached with SIGSTOP, inherits the options.",
	.expect_obs = "stop=event:clone;" CHILD_OBS,
	.axes = AXIS(AX_ATTACH),
};

const struct scenario scenario_event_fork_newpid = {
	.id = "event-fork-newpid",
	.group = "options-events",
	.desc = "PTRACE_EVENT_FORK of a pid-namespace init: the message is R's view of the pid",
	.run = run,
	.arg = &arg_newpid,
	.expect = "the child is pid 1 inside its namespace; GETEVENTMSG gives its pid in the "
		  "tracer's namespace.",
	.expect_obs = "stop=event:fork;child_nspid_inner=1;msg_vs_nspid_outer=match;" CHILD_OBS,
	.axes = 0,
};

const struct scenario scenario_event_fork_untraced = {
	.id = "event-fork-untraced",
	.group = "options-events",
	.desc = "fork without PTRACE_O_TRACEFORK: the child is not traced",
	.run = run,
	.arg = &arg_untraced,
	.expect = "no fork event; the child's TracerPid is 0 and R cannot wait for it (ECHILD).",
	.expect_obs = "stop=signal:SIGUSR2;child_tracerpid=0;child_ppid=self;child_wait=ECHILD;"
		      "exit_stop=event:exit;tracee=exited:0",
	.axes = 0,
};

const struct scenario scenario_event_clone_ptrace = {
	.id = "event-clone-ptrace",
	.group = "options-events",
	.desc = "clone(CLONE_PTRACE) without TRACECLONE: the child is traced by the same tracer",
	.run = run,
	.arg = &arg_clone_ptrace,
	.expect = "no event; the child starts in SIGSTOP (seize: PTRACE_EVENT_STOP) traced by R "
		  "and inherits PTRACE_O_TRACEEXIT.",
	.expect_obs = "stop=signal:SIGUSR2;" CHILD_OBS,
	.axes = AXIS(AX_ATTACH),
};

const struct scenario scenario_event_fork_syscall = {
	.id = "event-fork-syscall",
	.group = "options-events",
	.desc = "PTRACE_SYSCALL from a PTRACE_EVENT_FORK stop: next stop is fork()'s syscall exit",
	.run = run,
	.arg = &arg_fork_syscall,
	.expect = "after the fork event, PTRACE_SYSCALL stops at the exit of the fork call "
		  "itself (return value the child's pid), not at the next syscall's entry.",
	.expect_obs = "stop=event:fork;syscall_stop=syscall;syscall_op=exit;"
		      "syscall_rval_vs_child=match;" CHILD_OBS,
	.axes = 0,
};
