/* SPDX-License-Identifier: MIT */
#ifndef KFARM_GS_H
#define KFARM_GS_H

#include "guest.h"

/*
 * The attach-to-stopped family: C (SA_SIGINFO handler for SIGUSR1) stops
 * itself with SIGSTOP; P sees the group stop; R attaches (PTRACE_ATTACH) to the
 * stopped C, waits for its report, optionally reads PTRACE_GETSIGINFO, and
 * detaches with detach_sig. If C runs on it _exit(0)s. A detach_sig of
 * GS_TRACER_EXITS makes R exit in the stop instead of detaching.
 */
#define GS_TRACER_EXITS (-1)
int gs_run(struct obs *o, int detach_sig, int getsiginfo);

#endif
