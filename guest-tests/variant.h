/* SPDX-License-Identifier: MIT */
#ifndef KFARM_VARIANT_H
#define KFARM_VARIANT_H

/*
 * Variation axes: what a scenario holds fixed while it tests one thing (the
 * stop signal, how the tracer attaches, who traces, the real parent's SIGCHLD
 * disposition and its wait, ...), each a small named set of values. Value 0 of
 * every axis is the choice the plain scenario makes, so "sds-zero" and
 * "sds-zero[]" are the same cell.
 *
 * A cell is a scenario with one value per axis it supports. Its id names the
 * values that are not the default, in axis order:
 *
 *   sds-sigstop[stop=SIGTSTP,sigchld=ign]
 *
 * A scenario declares the axes it supports (a mask) and, if some
 * combinations cannot be built, a function saying why (struct scenario's
 * impossible()); variant_impossible() adds the rules every scenario shares.
 */

#include <stddef.h>

enum axis_id {
	AX_STOP,    /* the stop signal: SIGSTOP SIGTSTP SIGTTIN SIGTTOU */
	AX_ATTACH,  /* attach seize traceme */
	AX_TRACER,  /* who traces: other (a separate process R), parent (P itself) */
	AX_SIGCHLD, /* P's SIGCHLD: default handler ign nocldwait nocldstop */
	AX_WAIT,    /* P's wait at each checkpoint */
	AX_THREADS, /* the traced task: single, leader of 3, non-leader of 3 */
	AX_TRACEE,  /* the tracee's end when the tracer leaves: exits, killed, zombie */
	AX_END,     /* the tracer's end: detach, exit, killed */
	AX_COUNT
};

#define AXIS(a) (1u << (a))

enum { STOP_SIGSTOP, STOP_SIGTSTP, STOP_SIGTTIN, STOP_SIGTTOU };
enum { ATTACH_ATTACH, ATTACH_SEIZE, ATTACH_TRACEME };
enum { TRACER_OTHER, TRACER_PARENT };
enum { SIGCHLD_DEFAULT, SIGCHLD_HANDLER, SIGCHLD_IGN, SIGCHLD_NOCLDWAIT, SIGCHLD_NOCLDSTOP };
enum { WAIT_WAITID_NOWAIT, WAIT_WAITPID, WAIT_WAITPID_UNTRACED, WAIT_WAITPID_CONTINUED };
enum { THREADS_SINGLE, THREADS_LEADER, THREADS_NONLEADER };
enum { TRACEE_EXITS, TRACEE_KILLED, TRACEE_ZOMBIE };
enum { END_DETACH, END_EXIT, END_KILLED };

#define AXIS_MAX_VALUES 6

struct axis {
	const char *name;
	const char *values[AXIS_MAX_VALUES]; /* NULL ends; [0] is the default */
	const char *doc;
};

extern const struct axis axes[AX_COUNT];

/** axis_nvalues() - how many values axis @a has. */
int axis_nvalues(int a);

struct variant {
	unsigned char v[AX_COUNT];
};

/* Every axis at its default: the plain scenario. */
extern const struct variant variant_default;

/** variant_is_default() - whether every axis of @v is at its default. */
int variant_is_default(const struct variant *v);

/** variant_stop_sig() - the signal number of @v's stop axis. */
int variant_stop_sig(const struct variant *v);

/**
 * variant_format() - "@id" or "@id[axis=value,...]" (non-default axes only,
 * in axis order) into @out.
 */
void variant_format(const char *id, const struct variant *v, char *out, size_t n);

/**
 * variant_impossible() - why the combination @v cannot be built whatever the
 * scenario (NULL if it can): the rules every scenario shares.
 */
const char *variant_impossible(const struct variant *v);

/**
 * variant_parse() - "axis=value,..." (the text between the brackets, @len
 * bytes) into @v, starting from the defaults. Only axes in @mask are allowed.
 * 0, or -1 with a message in @err naming the axis or value.
 */
int variant_parse(const char *s, size_t len, unsigned mask, struct variant *v, char *err,
		  size_t nerr);

/**
 * variant_sample() - the pairwise sample of the space of the axes in @mask:
 * a small list of feasible cells (never the all-default one) such that,
 * together with the default cell, every feasible pair of values of two
 * axes (and every feasible value of an axis, when only one is supported)
 * appears in some cell. @feasible(v, arg) says whether a combination can be
 * built (NULL: all can). Greedy and deterministic: the same inputs give
 * the same list. Returns the count written to @out (at most @max).
 */
size_t variant_sample(unsigned mask, int (*feasible)(const struct variant *v, const void *arg),
		      const void *arg, struct variant *out, size_t max);

/**
 * variant_full() - every feasible combination of the axes in @mask except the
 * default one, in lexicographic order; the count written (at most @max).
 */
size_t variant_full(unsigned mask, int (*feasible)(const struct variant *v, const void *arg),
		    const void *arg, struct variant *out, size_t max);

#endif
