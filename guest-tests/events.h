/* SPDX-License-Identifier: MIT */
#ifndef KFARM_EVENTS_H
#define KFARM_EVENTS_H

/*
 * events.h - helpers the options-events family shares (events.c): a small
 * shared page C and R both see (allocated by P before the lab forks), and
 * /proc reads of a third task (the auto-attached child) as roles.
 */

#include <sys/types.h>

#include "lab.h"

struct ev_shared {
	volatile pid_t child;  /* what C's fork()/vfork()/clone() returned */
	volatile long ret;     /* a syscall result C reports */
	volatile int err;      /* ... and its errno */
	volatile int done;     /* C wrote the above */
	int pipe[2];           /* C's child blocks on it (read end) until C writes */
};

/* What a scenario of the family hands the lab: its constant and the page. */
struct ev_arg {
	const void *cfg;
	struct ev_shared *sh;
};

/** ev_shared_new() - a zeroed shared page with its pipe; NULL on failure. */
struct ev_shared *ev_shared_new(void);
/** ev_shared_free() - close the pipe and unmap. */
void ev_shared_free(struct ev_shared *sh);

/**
 * ev_status_role() - /proc/@pid/status field @field (PPid, TracerPid) as a
 * role ("self", "tracer", "0", ...), recorded under @key; "gone" if @pid
 * has no status.
 */
void ev_status_role(struct obs *t, pid_t pid, const char *field, const char *key);

/** ev_match() - record "match" if @a == @b, else "differs", under @key. */
void ev_match(struct obs *t, const char *key, long a, long b);

#endif
