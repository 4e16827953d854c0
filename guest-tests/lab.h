/* SPDX-License-Identifier: MIT */
#ifndef KFARM_LAB_H
#define KFARM_LAB_H

/*
 * The bench most scenarios share: the repetition process is the real parent P;
 * it forks the tracee C and the tracer R (a separate process, cloned without
 * an exit signal so that every SIGCHLD P collects comes from C).
 *
 *   P: lab_init, lab_spawn_tracee, lab_wait_ready, lab_spawn_tracer, lab_finish
 *   C: tracee_* helpers; it rests in read() on the "go" pipe until told
 *   R: tracer_* helpers; records each ptrace() result in the shared tracer obs
 *
 * lab_finish() waits for R, lets C settle (polls /proc State until C is stopped
 * or a zombie), then records tracee/state/sigpnd/shdpnd, the handler's siginfo,
 * the SIGCHLDs P got, and R's keys; it kills and reaps everything it made.
 */

#include <signal.h>
#include <sys/types.h>

#include "guest.h"

struct lab_shared {
	struct hrec h;     /* what C's handlers saw */
	struct obs tracer; /* what R did and saw */
};

struct lab {
	pid_t c, r;
	int ready[2];       /* C -> P: set up */
	int go[2];          /* P or R -> C: go on */
	struct lab_shared *sh;
	int handlers;       /* C installs handlers: record handler/si_* keys */
	int settle_sleeping; /* "sleeping" counts as settled (C blocks by design) */
	char sigchld[256];  /* SIGCHLD codes collected so far */
};

/* Scenario return values (the repetition's kind). */
#define REP_OK 0
#define REP_ERROR (-1)
#define REP_UNSUPPORTED 1

/** lab_init() - shared memory, pipes, SIGCHLD blocked in P; -1 with obs "error". */
int lab_init(struct lab *L, struct obs *o);
/** lab_spawn_tracee() - fork C running @fn (which should not return; _exit(0) if it does). */
int lab_spawn_tracee(struct lab *L, struct obs *o, void (*fn)(struct lab *L, void *arg), void *arg);
/** lab_wait_ready() - wait for C's "ready" byte; -1 with obs "error". */
int lab_wait_ready(struct lab *L, struct obs *o);
/** lab_wait_stopped() - P waits (WNOWAIT) until C reports a stop; -1 on timeout. */
int lab_wait_stopped(struct lab *L, struct obs *o);
/** lab_spawn_tracer() - start R running @fn with the shared tracer obs. */
int lab_spawn_tracer(struct lab *L, struct obs *o,
		     void (*fn)(struct lab *L, struct obs *t, void *arg), void *arg);
/** lab_wait_tracer() - wait for R to exit (idempotent). */
void lab_wait_tracer(struct lab *L, struct obs *o);
/** lab_go() - tell C to go on. */
void lab_go(struct lab *L);
/** lab_sigchld() - collect pending SIGCHLDs from C; wait @grace_ms if none is pending. */
void lab_sigchld(struct lab *L, int grace_ms);
/** lab_finish() - the closing observation (see above); always kills and reaps. */
int lab_finish(struct lab *L, struct obs *o);
/** lab_release() - free what lab_init made (lab_finish calls it). */
void lab_release(struct lab *L);

/* ---- in the tracee ---- */
/** tracee_handle() - record deliveries of @sig in the shared hrec (P sets
 * L->handlers to have lab_finish() report them). */
void tracee_handle(struct lab *L, int sig);
void tracee_ready(struct lab *L);
/** tracee_wait_go() - block in read() until P or R says go (plain read, so a
 * syscall stop sees read and a restart is a plain restart). */
void tracee_wait_go(struct lab *L);
/** tracee_tkill() - send @sig to the calling thread (si_code SI_TKILL). */
void tracee_tkill(int sig);

/* ---- in the tracer ---- */
/** tracer_ptrace() - ptrace() and record its result under @key (if not NULL). */
long tracer_ptrace(struct obs *t, const char *key, int req, pid_t pid, void *addr, void *data);
/** tracer_wait() - waitpid(__WALL) bounded; on timeout records "tracer":"wait-timeout". */
int tracer_wait(struct obs *t, pid_t pid, int *status);
/** tracer_attach() - PTRACE_ATTACH C and wait for its stop ("attach", "attach_stop"
 * if not SIGSTOP); 0 when C is stopped under R. */
int tracer_attach(struct lab *L, struct obs *t);
/** tracer_go() - write C's "go" byte. */
void tracer_go(struct lab *L);

#endif
