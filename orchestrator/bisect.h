/* SPDX-License-Identifier: MIT */
#ifndef KFARM_BISECT_H
#define KFARM_BISECT_H

/*
 * bisect.c - kfarm bisect over an ordered list of kernels (K1 good ... Kn bad):
 * which to try next, what a step's diffs say of it, and the result. The runs
 * themselves are kfarm.c's (a compare a step); this is the search and its
 * bisect.json (reports/schema/bisect.schema.json).
 */
#include <stddef.h>

#include <jansson.h>

#define BISECT_SCHEMA "kfarm.bisect/1"

enum bisect_mark {
	BISECT_UNTESTED,
	BISECT_GOOD,	/* its followed cells are "same" as good's */
	BISECT_BAD,	/* ... as bad's */
	BISECT_SKIP,	/* it did not run, or matches neither */
};

/** bisect_mark_name() - "untested", "good", "bad", "skip". */
const char *bisect_mark_name(enum bisect_mark m);

/**
 * bisect_range() - the range the change lies in, from @m (@n marks, the
 * first good and the last bad): *@bad the first bad index, *@good the last
 * good index before it.
 */
void bisect_range(const enum bisect_mark *m, size_t n, size_t *good, size_t *bad);

/**
 * bisect_next() - the index to try next: of the untested ones strictly
 * between bisect_range()'s good and bad, the one nearest its middle (the
 * lower of two as near); -1 when none is left: the first bad is found, or
 * only skipped kernels hide it.
 */
long bisect_next(const enum bisect_mark *m, size_t n);

/**
 * bisect_follow() - the cells a bisection follows, from the diff @d of good
 * and bad: those whose verdict is changed or distribution-changed, as a new
 * array of {"scenario", "smp"}; empty when nothing differs.
 */
json_t *bisect_follow(json_t *d);

/**
 * bisect_failed() - whether some cell of @follow is "error" in diff @d: a
 * side's cell timed out, failed or did not boot, which says nothing of the
 * kernel's behaviour (a loaded host can do it), so the compare is worth
 * running once more before the kernel is skipped; *@why (owned) names the
 * first such cell.
 */
int bisect_failed(json_t *d, json_t *follow, char **why);

/**
 * bisect_matches() - whether every cell of @follow is "same" in diff @d (or
 * "unsupported": unsupported on both sides);
 * when not, *@why (owned) names the first that is not and its verdict
 * ("sud-config at SMP 1: changed", or "... : not in the diff").
 */
int bisect_matches(json_t *d, json_t *follow, char **why);

#endif
