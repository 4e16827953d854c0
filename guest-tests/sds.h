/* SPDX-License-Identifier: MIT */
#ifndef KFARM_SDS_H
#define KFARM_SDS_H

#include "guest.h"

/*
 * The signal-delivery-stop family: C sends itself stop_sig (tgkill, so
 * SI_TKILL from "self"), R (attached with PTRACE_ATTACH before) sees C stop on
 * it and detaches with detach_sig (or, with tracer_exits, simply exits). C then
 * _exit(0)s if it gets to run on.
 */
struct sds_spec {
	int stop_sig;
	int detach_sig;
	int handle[4];       /* signals C records with the SA_SIGINFO handler (0 ends) */
	int block[4];        /* signals C blocks while it stops (0 ends) */
	int unblock_after;   /* C unblocks everything after the stop, then exits */
	int getsiginfo;      /* R records PTRACE_GETSIGINFO's result and si_code */
	int setsiginfo;      /* R rewrites siginfo (SI_QUEUE, si_pid = R) before detaching */
	long options;        /* PTRACE_SETOPTIONS after the attach ("unsupported" on EINVAL) */
	int tracer_exits;    /* R exits in the SDS instead of detaching */
	void (*prepare)(void); /* run in C before it says ready */
};

/*
 * The axes the family varies: P's view, how R attaches, who traces, which
 * thread is traced, how C ends and how R ends (a spec with tracer_exits does not vary
 * who traces or how R ends). A stop signal given as detach_sig is the stop
 * axis' (sds-sigstop adds AXIS(AX_STOP)).
 */
#define SDS_AXES \
	(LAB_AXES | AXIS(AX_ATTACH) | AXIS(AX_TRACER) | AXIS(AX_THREADS) | AXIS(AX_TRACEE) | \
	 AXIS(AX_END))
#define SDS_EXIT_AXES (LAB_AXES | AXIS(AX_ATTACH) | AXIS(AX_THREADS) | AXIS(AX_TRACEE))

/** sds_scenario() - one repetition of the family for the cell @v; @arg is
 * the scenario's struct sds_spec. REP_* (REP_UNSUPPORTED when R recorded an
 * "unsupported" key). */
int sds_scenario(struct obs *o, const struct variant *v, const void *arg);

#endif
