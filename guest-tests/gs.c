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

static void gs_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_handle(L, SIGUSR1);
	lab_tracee_ready(L);
	lab_tracee_tkill(variant_stop_sig(&L->v));
	_exit(0);
}

static void gs_tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct gs_spec *a = arg;
	int req = L->v.v[AX_ATTACH] == ATTACH_SEIZE ? PTRACE_SEIZE : PTRACE_ATTACH;
	siginfo_t si;
	int st;

	if (lab_tracer_ptrace(t, "attach", req, L->c, NULL, NULL) < 0)
		return;
	if (lab_tracer_stop(t, L->c, "stop", &st) < 0)
		return;
	if (a->getsiginfo) {
		memset(&si, 0, sizeof(si));
		if (lab_tracer_ptrace(t, "getsiginfo", PTRACE_GETSIGINFO, L->c, NULL, &si) == 0)
			obs_str(t, "stop_si_code", si_code_name(si.si_signo, si.si_code));
	}
	if (a->detach_sig == GS_TRACER_EXITS)
		return; /* _exit(0): exit_ptrace() detaches C */
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, L->c, NULL, (void *)(long)a->detach_sig);
}

const char *gs_impossible(const struct variant *v)
{
	if (v->v[AX_ATTACH] == ATTACH_TRACEME)
		return "C stops before it is traced: PTRACE_TRACEME would trace it from the start";
	return NULL;
}

int gs_scenario(struct obs *o, const struct variant *v, const void *arg)
{
	const struct lab_spec s = {
		.tracee = gs_tracee, .tracer = gs_tracer, .arg = (void *)arg,
		.handlers = 1, .stopped_first = 1,
	};

	return lab_run_spec(o, v, &s);
}
