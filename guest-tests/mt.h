/* SPDX-License-Identifier: MIT */
#ifndef KFARM_MT_H
#define KFARM_MT_H

#include "lab.h"

/*
 * The stopped multi-threaded tracee: C runs MT_THREADS threads (main + two
 * pthreads, SA_SIGINFO handler for SIGUSR1), the main thread stops the group
 * with SIGSTOP; P waits until the whole group is stopped (waitid WNOWAIT
 * reports it only then) and collects the CLD_STOPPED; R runs @tracer. After R
 * has exited P runs @after (if not NULL), then lab_finish() settles and
 * observes every thread.
 */
#define MT_THREADS 3

struct mt_spec {
	void (*tracer)(struct lab *L, struct obs *t, void *arg);
	void *arg;
	void (*after)(struct lab *L, struct obs *o);
	int settle_sleeping; /* threads end in pause(): "sleeping" is settled */
};

/* The family varies P's view and the stop signal the group stops with. */
#define MT_AXES (AXIS(AX_SIGCHLD) | AXIS(AX_WAIT) | AXIS(AX_STOP))

/** mt_scenario() - one repetition for the cell @v; @arg is a struct mt_spec. */
int mt_scenario(struct obs *o, const struct variant *v, const void *arg);

/** mt_detach_each() - in R: PTRACE_DETACH every thread, last first, with @sig;
 * records "detach" (the first failure, or "0"). */
void mt_detach_each(struct lab *L, struct obs *t, int sig);

#endif
