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

#include "error.h"

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

/**
 * bisect_cells() - kfarm bisect --cells LIST: entries CELL (at every SMP
 * size) or CELL@SMP. *@scenarios (owned): the cells, each once, ','-joined;
 * *@wanted: a new array of {"scenario", "smp"} (smp 0: any size); *@smps
 * (owned): the sizes the entries name, ','-joined, when every entry names
 * one (else NULL: the config's sizes). -1 with @e naming the entry.
 */
int bisect_cells(const char *list, char **scenarios, json_t **wanted, char **smps,
		 struct kf_error *e);

/**
 * bisect_follow_wanted() - of the cells @follow (bisect_follow()'s), those
 * @wanted (bisect_cells()'s) names: a new array.
 */
json_t *bisect_follow_wanted(json_t *follow, json_t *wanted);

/* What a step's compares say of the kernel tried (bisect_judge()). */
enum bisect_judgement {
	BJ_GOOD,	/* like good: every cell the same, or a racy one told apart from bad */
	BJ_BAD,		/* told apart from good, like bad in every cell */
	BJ_NEITHER,	/* told apart from both, or a cell failed */
	BJ_UNDECIDED,	/* racy cells told apart from neither: more repetitions */
	BJ_NEED_BAD,	/* not the same as good: compare it with bad */
};

/**
 * bisect_judge() - the kernel tried, from its diff with good @dg and (once
 * BJ_NEED_BAD asked for it; NULL before) with bad @db, in the cells of
 * @follow. A cell's verdict is "same" (or "unsupported" on both sides): the
 * same; "flaky": racy and not told apart at alpha, so consistent with that
 * kernel but no proof; "changed" or "distribution-changed": told apart;
 * "error" or none: failed. Good when every cell is the same as good's, or
 * consistent with good's with some cell told apart from bad's; bad when some
 * cell is told apart from good's and every one is consistent with bad's;
 * undecided when every cell is consistent with both (the exact test had too
 * few repetitions to tell); neither otherwise.
 */
enum bisect_judgement bisect_judge(json_t *dg, json_t *db, json_t *follow);

/*
 * struct bisect_log - a bisection read back from its bisect.json, to replay
 * (kfarm bisect --replay): @ks its @n kernels (owned), @m their marks from
 * its steps in order (a later step on a kernel wins, so an edited verdict
 * counts), @follow its cells, @steps its steps, @commits {commit, subject}
 * per kernel when it bisected git (else NULL), @last_step its last step.
 */
struct bisect_log {
	char **ks;
	size_t n;
	enum bisect_mark *m;
	json_t *follow, *steps, *commits;
	int last_step;
};

/**
 * bisect_log_read() - @doc, the bisect.json read from @file, into @log;
 * -1 with @e naming @file and what is wrong (not a kfarm.bisect/1, fewer
 * than two kernels, no cell, a step without index or verdict, a step that
 * marks the good kernel other than good or the bad one other than bad).
 */
int bisect_log_read(json_t *doc, const char *file, struct bisect_log *log, struct kf_error *e);

/** bisect_log_release() - free what @log owns. */
void bisect_log_release(struct bisect_log *log);

#endif
