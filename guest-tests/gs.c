// SPDX-License-Identifier: MIT
/*
 * gs.c - the shared flow of the group-stop scenarios (see gs.h).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gs.h"
#include "lab.h"

struct gs_arg {
	int detach_sig;
	int getsiginfo;
};

static void gs_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_handle(L, SIGUSR1);
	lab_tracee_ready(L);
	lab_tracee_tkill(SIGSTOP);
	_exit(0);
}

static void gs_tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct gs_arg *a = arg;
	siginfo_t si;
	char d[64];
	int st;

	if (lab_tracer_ptrace(t, "attach", PTRACE_ATTACH, L->c, NULL, NULL) < 0)
		return;
	if (lab_tracer_wait(t, L->c, &st) < 0)
		return;
	describe_wstatus(st, d, sizeof(d));
	obs_str(t, "stop", d);
	if (a->getsiginfo) {
		memset(&si, 0, sizeof(si));
		if (lab_tracer_ptrace(t, "getsiginfo", PTRACE_GETSIGINFO, L->c, NULL, &si) == 0)
			obs_str(t, "stop_si_code", si_code_name(si.si_signo, si.si_code));
	}
	if (a->detach_sig == GS_TRACER_EXITS)
		return; /* _exit(0): exit_ptrace() detaches C */
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, (void *)(long)a->detach_sig);
}

int gs_run(struct obs *o, int detach_sig, int getsiginfo)
{
	struct gs_arg a = { detach_sig, getsiginfo };
	struct lab L;

	if (lab_init(&L, o) < 0)
		return REP_ERROR;
	L.handlers = 1;
	if (lab_spawn_tracee(&L, o, gs_tracee, &a) < 0 || lab_wait_ready(&L, o) < 0) {
		lab_release(&L);
		return REP_ERROR;
	}
	if (lab_wait_stopped(&L, o) < 0)
		return lab_finish(&L, o);
	/* The group stop's CLD_STOPPED, collected before R comes in. */
	lab_sigchld(&L, proc_wait_offcpu(L.c) < 0 ? 50 : 0);
	if (lab_spawn_tracer(&L, o, gs_tracer, &a) < 0) {
		lab_release(&L);
		return REP_ERROR;
	}
	return lab_finish(&L, o);
}
