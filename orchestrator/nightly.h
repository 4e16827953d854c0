/* SPDX-License-Identifier: MIT */
#ifndef KFARM_NIGHTLY_H
#define KFARM_NIGHTLY_H

/*
 * nightly.c - the config's "nightly" section: when kfarmd queues its
 * comparisons by itself, and which.
 *
 *   "nightly": {"at": "02:30"            (local time, HH:MM or HH:MM:SS), or
 *               "cron": "30 2 * * 1-5"   (minute hour day-of-month month
 *                                         day-of-week: *, N, N-M, lists, /step),
 *               "compare": [{"a": "debian-6.1", "b": "debian-6.12"}, ...],
 *               "smp": [1, 2], "reps": 20, "boots": 5, "scenarios": ["all"]}
 *
 * "smp", "reps", "boots" and "scenarios" are optional (the config's then).
 */
#include <time.h>

#include <jansson.h>

/**
 * nightly_check() - whether @v is a valid "nightly" section. 0, or -1 with
 * @path (a JSON pointer below the section, e.g. "/compare/1/b") and @msg
 * saying what is wrong.
 */
int nightly_check(json_t *v, char *path, size_t npath, char *msg, size_t nmsg);

/**
 * nightly_next() - the first time strictly after @after (local time) at
 * which @v (a checked section) fires; (time_t)-1 when it never does within
 * a year (a cron expression such as "0 0 31 2 *").
 */
time_t nightly_next(json_t *v, time_t after);

/**
 * nightly_requests() - the job requests (new array of objects as POST
 * /v1/jobs takes them: {"kind": "compare", "a", "b", and the section's smp,
 * reps, boots, scenarios}) that one firing of @v queues.
 */
json_t *nightly_requests(json_t *v);

#endif
