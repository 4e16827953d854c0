/* SPDX-License-Identifier: MIT */
#ifndef KFARM_GS_H
#define KFARM_GS_H

#include "guest.h"
#include "variant.h"

/*
 * The attach-to-stopped family: C (SA_SIGINFO handler for SIGUSR1) stops
 * itself with SIGSTOP; P sees the group stop; R attaches (PTRACE_ATTACH) to the
 * stopped C, waits for its report, optionally reads PTRACE_GETSIGINFO, and
 * detaches with detach_sig. If C runs on it _exit(0)s. A detach_sig of
 * GS_TRACER_EXITS makes R exit in the stop instead of detaching.
 */
#define GS_TRACER_EXITS (-1)

struct gs_spec {
	int detach_sig;
	int getsiginfo;
};

/*
 * The family varies P's view, the stop signal C stops with and how R attaches
 * (PTRACE_SEIZE of a stopped task reports a PTRACE_EVENT_STOP; PTRACE_TRACEME
 * cannot trace a task that stopped before it was traced).
 */
#define GS_AXES (AXIS(AX_SIGCHLD) | AXIS(AX_WAIT) | AXIS(AX_STOP) | AXIS(AX_ATTACH))

/** gs_impossible() - the combinations of GS_AXES the family cannot build. */
const char *gs_impossible(const struct variant *v);

/** gs_scenario() - one repetition for the cell @v; @arg is a struct gs_spec. */
int gs_scenario(struct obs *o, const struct variant *v, const void *arg);

#endif
