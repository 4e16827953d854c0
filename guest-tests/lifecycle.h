/* SPDX-License-Identifier: MIT */
#ifndef KFARM_LIFECYCLE_H
#define KFARM_LIFECYCLE_H

/*
 * The lifecycle family's helpers: a box of shared memory where the tracee C
 * (or a child of C or R) leaves what it saw, as raw numbers that P turns into
 * canonical keys after the repetition, and an extra pipe for a second "go".
 */

#include "lab.h"

#define LC_VALUES 8

struct lc_box {
	struct obs c;                 /* keys C records itself (already canonical) */
	volatile long v[LC_VALUES];   /* raw values: pids, results, errnos */
	int xp[2];                    /* a second go pipe (R -> one of C's threads) */
};

/** lc_box_new() - a zeroed shared box with its pipe; NULL (obs "error") on failure. */
struct lc_box *lc_box_new(struct obs *o);
/** lc_box_free() - close the pipe and unmap (NULL is fine). */
void lc_box_free(struct lc_box *b);
/** lc_xgo() - write the second go byte. */
void lc_xgo(struct lc_box *b);
/** lc_xwait() - block in read() on the second go pipe; _exit(92) if it fails. */
void lc_xwait(struct lc_box *b);
/**
 * lc_stat_letter() - the state letter of /proc/@pid/stat ("t", "T", "S", ...)
 * into @out, "gone" if it cannot be read.
 */
void lc_stat_letter(pid_t pid, char *out, size_t n);
/**
 * lc_wait_any() - in R: waitpid(-1, __WALL) bounded; the reporting task as a
 * role and its status described, "ROLE:STATUS" into @out; the pid, or -1
 * (obs "tracer" set) on failure.
 */
pid_t lc_wait_any(struct obs *t, int *status, char *out, size_t n);
/** lc_wnohang() - waitpid(@pid, WNOHANG|__WALL) as "none", "ROLE:STATUS" or an errno name. */
void lc_wnohang(pid_t pid, char *out, size_t n);
/** lc_role_threads() - register C's threads by index as roles "thread1", ... */
void lc_role_threads(const struct lab *L);

#endif
