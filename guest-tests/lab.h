/* SPDX-License-Identifier: MIT */
#ifndef KFARM_LAB_H
#define KFARM_LAB_H

/*
 * The bench most scenarios share: the repetition process is the real parent P;
 * it forks the tracee C and the tracer R (a separate process, cloned without
 * an exit signal so that every SIGCHLD P collects comes from C).
 *
 *   P: lab_init, lab_spawn_tracee, lab_wait_ready, lab_spawn_tracer, lab_finish
 *   C: lab_tracee_* helpers; it rests in read() on the "go" pipe until told
 *   R: lab_tracer_* helpers; records each ptrace() result in the shared tracer obs
 *
 * R and P can hand each other a turn through two more pipes (lab_tracer_note /
 * lab_wait_note, lab_reply / lab_tracer_wait_reply), so "R has C in a stop,
 * now P acts, now R goes on" needs no sleep. A multi-threaded C starts its
 * threads with lab_tracee_threads(): their tids land in shared memory by index
 * (0 is the main thread), which is also how tids map to roles.
 *
 * lab_finish() waits for R, lets C settle (polls /proc State until C is stopped
 * or a zombie), then records tracee/state/sigpnd/shdpnd, the handler's siginfo,
 * the SIGCHLDs P got, and R's keys; it kills and reaps everything it made.
 */

#include <signal.h>
#include <sys/types.h>

#include "guest.h"
#include "variant.h"

#define LAB_MAX_THREADS 8

struct lab_shared {
	struct hrec h;     /* what C's handlers saw */
	struct obs tracer; /* what R did and saw */
	volatile pid_t tid[LAB_MAX_THREADS]; /* C's threads by index, 0 the main one */
	volatile int nthreads;
};

struct lab {
	pid_t c, r;
	int ready[2];       /* C -> P: set up */
	int go[2];          /* P or R -> C: go on */
	struct lab_shared *sh;
	int handlers;       /* C installs handlers: record handler/si_* keys */
	int settle_sleeping; /* "sleeping" counts as settled (C blocks by design) */
	int threads;        /* C is multi-threaded: settle and observe every thread */
	int rp[2];          /* R -> P: a note */
	int pr[2];          /* P -> R: a reply */
	char sigchld[OBS_VAL_MAX]; /* SIGCHLDs collected so far: CODE:STATUS:ROLE,... */
	char waits[OBS_VAL_MAX];   /* P's wait results at each checkpoint, in order */
	struct variant v;   /* the cell's axis values */
	int reaped;         /* P's own wait reaped C (see the wait axis) */
	int chld_seen;      /* SIGCHLDs of the handler's log taken so far */
	char reaped_as[64]; /* ... and what it said */
};

/* The axes every lab scenario can vary: P's SIGCHLD and P's wait. */
#define LAB_AXES (AXIS(AX_SIGCHLD) | AXIS(AX_WAIT))
/* ... and how R attaches, for a scenario whose R uses lab_tracer_attach()
 * (PTRACE_TRACEME needs P to trace: impossible where R is a separate process). */
#define ATTACH_AXES (LAB_AXES | AXIS(AX_ATTACH))

/* Scenario return values (the repetition's kind). */
#define REP_OK 0
#define REP_ERROR (-1)
#define REP_UNSUPPORTED 1

/**
 * lab_init() - shared memory, pipes, P's SIGCHLD disposition for the cell @v
 * (blocked and collected by default; see the sigchld axis); -1 with obs "error".
 */
int lab_init(struct lab *L, struct obs *o, const struct variant *v);
/**
 * lab_traced() - the task the tracer works on: C, or the thread of C the
 * threads axis names (once C has started its threads).
 */
pid_t lab_traced(const struct lab *L);
/**
 * lab_checkpoint() - P's wait for C as the wait axis says (WNOHANG), its
 * result appended to "waits"; a wait that reaps C marks it reaped.
 */
void lab_checkpoint(struct lab *L);
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
/**
 * struct lab_spec - one repetition's set-up for lab_run_spec(). @arg goes to
 * both @tracee and @tracer (and to the hooks). The flags are struct lab's.
 */
struct lab_spec {
	void (*tracee)(struct lab *L, void *arg);
	void (*tracer)(struct lab *L, struct obs *t, void *arg);
	void *arg;
	int handlers, threads, settle_sleeping;
	/*
	 * C stops itself before R comes: P waits for the stop (lab_finish() at
	 * once if none comes), then collects its SIGCHLD.
	 */
	int stopped_first;
	/*
	 * P's part before R starts (after the stop when @stopped_first, before
	 * its SIGCHLD is collected); < 0 releases the lab: REP_ERROR.
	 */
	int (*before_tracer)(struct lab *L, struct obs *o, void *arg);
	/* P's part while R runs, before lab_finish(). */
	void (*p_turn)(struct lab *L, struct obs *o, void *arg);
	/* An "unsupported" key makes an OK repetition REP_UNSUPPORTED. */
	int may_be_unsupported;
};

/**
 * lab_run_spec() - a whole repetition: lab_init, C runs @s->tracee, P waits
 * until it is ready (and the hooks above), R runs @s->tracer, lab_finish().
 * REP_ERROR if a set-up step fails (the lab is released).
 */
int lab_run_spec(struct obs *o, const struct variant *v, const struct lab_spec *s);
/** lab_run() - lab_run_spec() with no flags and no hooks. */
int lab_run(struct obs *o, const struct variant *v, void (*tracee)(struct lab *L, void *arg),
	    void (*tracer)(struct lab *L, struct obs *t, void *arg), void *arg);
/**
 * lab_sigcont_on_note() - a p_turn: when R's note comes, SIGCONT C and reply
 * (nothing if no note came).
 */
void lab_sigcont_on_note(struct lab *L, struct obs *o, void *arg);
/** lab_finish() - the closing observation (see above); always kills and reaps. */
int lab_finish(struct lab *L, struct obs *o);
/** lab_release() - free what lab_init made (lab_finish calls it). */
void lab_release(struct lab *L);

/** lab_wait_note() - P waits for R's note; -1 with obs "error" if none came. */
int lab_wait_note(struct lab *L, struct obs *o);
/** lab_reply() - P answers R (see lab_tracer_wait_reply()). */
void lab_reply(struct lab *L);
/**
 * lab_wait_threads() - poll until every thread of C is in one of the
 * '|'-separated states of @want; 0, or -1 on timeout.
 */
int lab_wait_threads(struct lab *L, const char *want, int ms);
/**
 * lab_threads_observe() - record every thread's state under "<prefix>threads"
 * and its private pending set under "<prefix>thread_sigpnd", each as a tally
 * ("stopped*3", "SIGSTOP*2,*1" where "" counts as an empty set).
 */
void lab_threads_observe(struct lab *L, struct obs *o, const char *prefix);
/**
 * lab_tally() - the canonical summary of @n strings: sorted, equal ones as
 * "value*count", joined by ','. Empty strings are written as "-".
 */
void lab_tally(const char *const *items, int n, char *out, size_t len);

/**
 * lab_counter_next() - the number in file @path (0 when it is new or empty)
 * into *@n, and that number + 1 written back: a count that outlives the
 * repetition's processes (the selftests' coin and outcomes). 0, or -1.
 */
int lab_counter_next(const char *path, long *n);

/* ---- in the tracee ---- */
/** lab_tracee_handle() - record deliveries of @sig in the shared hrec (P sets
 * L->handlers to have lab_finish() report them). */
void lab_tracee_handle(struct lab *L, int sig);
/**
 * lab_tracee_ready() - tell P that C is set up. Under attach=traceme C first
 * calls PTRACE_TRACEME, and after telling P it stops itself with SIGSTOP for
 * its tracer (P) to find, as an attach would.
 */
void lab_tracee_ready(struct lab *L);
/** lab_tracee_go_exit() - a whole tracee: ready, wait for "go", _exit(0). */
void lab_tracee_go_exit(struct lab *L, void *arg);
/** lab_tracee_wait_go() - block in read() until P or R says go (plain read, so a
 * syscall stop sees read and a restart is a plain restart). */
void lab_tracee_wait_go(struct lab *L);
/** lab_tracee_tkill() - send @sig to the calling thread (si_code SI_TKILL). */
void lab_tracee_tkill(int sig);
/**
 * lab_tracee_threads() - make C a group of @n threads (main included): each
 * other thread records its tid, then runs @fn(L, index) if @fn is not NULL,
 * else waits in pause() for ever. Returns once every tid is recorded.
 */
void lab_tracee_threads(struct lab *L, int n, void (*fn)(struct lab *L, int idx));

/* ---- in the tracer ---- */
/** lab_tracer_ptrace() - ptrace() and record its result under @key (if not NULL). */
long lab_tracer_ptrace(struct obs *t, const char *key, int req, pid_t pid, void *addr, void *data);
/** lab_tracer_wait() - waitpid(__WALL) bounded; on timeout records "tracer":"wait-timeout". */
int lab_tracer_wait(struct obs *t, pid_t pid, int *status);
/**
 * lab_tracer_attach() - attach to lab_traced() as the attach axis says
 * (PTRACE_ATTACH; PTRACE_SEIZE + PTRACE_INTERRUPT; under traceme nothing to
 * do but wait) and wait for its first stop ("attach", "attach_stop" and the
 * stop's details, see lab_tracer_stop()); 0 when it is stopped under R.
 */
int lab_tracer_attach(struct lab *L, struct obs *t);
/**
 * lab_tracer_stop() - lab_tracer_wait() for @pid, then record the report
 * (describe_wstatus()) under @key, and the tracer's whole view of it:
 * "@key_status" the wait status >> 8 in hex (signal and event bits, or the
 * exit code), "@key_si" PTRACE_GETSIGINFO as SIGNAL/CODE/PID-ROLE or its
 * errno, "@key_msg" PTRACE_GETEVENTMSG at an event stop (a pid as a role, an
 * exit status described). -1 (nothing recorded) if the wait failed.
 */
int lab_tracer_stop(struct obs *t, pid_t pid, const char *key, int *status);
/**
 * lab_tracer_cont_to_stop() - PTRACE_CONT C with 0 ("cont"), write its "go"
 * byte, then lab_tracer_stop() for C under "stop".
 */
int lab_tracer_cont_to_stop(struct lab *L, struct obs *t, int *status);
/** lab_tracer_go() - write C's "go" byte. */
void lab_tracer_go(struct lab *L);
/** lab_tracer_note() - tell P it is its turn (see lab_wait_note()). */
void lab_tracer_note(struct lab *L);
/** lab_tracer_wait_reply() - wait for P's reply; -1 (obs "tracer") on timeout. */
int lab_tracer_wait_reply(struct lab *L, struct obs *t);
/**
 * lab_tracer_attach_all() - PTRACE_ATTACH every thread of C (the tids C
 * recorded), then wait for each one's stop. Records "attach" (the first
 * failure, or "0") and "attach_stops" (a tally of the stops). 0 when every
 * thread is stopped under R.
 */
int lab_tracer_attach_all(struct lab *L, struct obs *t);

#endif
