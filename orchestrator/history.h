/* SPDX-License-Identifier: MIT */
#ifndef KFARM_HISTORY_H
#define KFARM_HISTORY_H

#include <jansson.h>

#include "error.h"

#define HISTORY_SCHEMA	"kfarm.index/1"
/* The index (SQLite) and its export (kfarm.index/1), in the reports folder. */
#define HISTORY_DB	"index.sqlite"
#define HISTORY_FILE	"index.json"

/**
 * history_add() - record @run (and @diff, when not NULL) in @reports_dir's index.
 * @reports_dir: the reports folder (created if missing).
 * @run: a kfarm.run/1 object.
 * @diff: a kfarm.diff/2 object computed from @run (its side b), or NULL.
 * @run_dir: the run's folder; stored relative to @reports_dir when inside it.
 * @e: filled on failure (an unreadable or malformed index, a write error).
 *
 * The index holds one entry per run id: id, folder, start and end times,
 * config, kernels (name, source, release, sha256), cell counts by status, and
 * the diffs made from it (sides, summary, whether it differs: a changed or
 * distribution-changed cell). Adding a run again replaces its entry but keeps
 * its diffs; adding a diff again (same sides and runs) replaces it. Entries
 * are ordered by start time. The index is @reports_dir/index.sqlite, one
 * transaction an addition (concurrent runs and kfarmd do not lose each
 * other's entries; a writer waits for the others), created at the first
 * addition with an older kfarm's @reports_dir/index.json imported.
 * index.json is then rewritten atomically from it, in the same transaction:
 * an export that is always the whole index.
 *
 * Return: 0, or -1 and @e.
 */
int history_add(const char *reports_dir, json_t *run, json_t *diff, const char *run_dir,
		struct kf_error *e);

/**
 * history_load() - the index of @reports_dir as a kfarm.index/1 object (the
 * shape of index.json; an empty one when there is no index yet): a new
 * reference, or NULL and @e (naming index.sqlite, or index.json and the line
 * and column of its fault when it is being imported).
 */
json_t *history_load(const char *reports_dir, struct kf_error *e);

/**
 * history_has_kernel() - whether index entry @entry has a kernel whose name,
 * source or release is @kernel (NULL: any).
 */
int history_has_kernel(json_t *entry, const char *kernel);

/**
 * history_latest() - the most recent run of a kernel.
 * @kernel: matched against each kernel's name, source and release; NULL for any.
 * @config: when not NULL, only runs of that config (e.g. "configs/nightly.json").
 * @entry: set to a new reference to the index entry, or NULL when none matches.
 *
 * Return: 0 (found or not), or -1 and @e.
 */
int history_latest(const char *reports_dir, const char *kernel, const char *config,
		   json_t **entry, struct kf_error *e);

/**
 * history_last_differing() - the most recent run with a diff that differs
 * (some cell changed or distribution-changed).
 * @kernel: when not NULL, only diffs with that kernel (by name) on either side.
 * @entry: set to a new reference to the index entry, or NULL when none matches.
 *
 * Return: 0 (found or not), or -1 and @e.
 */
int history_last_differing(const char *reports_dir, const char *kernel, json_t **entry,
			   struct kf_error *e);

/** history_entry_dir() - index entry @entry's folder as recorded (relative to the reports folder when inside it), borrowed. */
const char *history_entry_dir(json_t *entry);

/** history_dir_of() - the run directory of index entry @entry of @reports_dir (owned), or NULL. */
char *history_dir_of(const char *reports_dir, json_t *entry);

/**
 * history_same_side() - the finished runs with a kernel whose own inputs
 * key (its kernels[].inputs_key: report_set_inputs()) is @key, newest
 * first, but for run @not_id (may be NULL): whose cells of that kernel a
 * run with the same inputs for it may take. A new array, or NULL with @e.
 */
json_t *history_same_side(const char *reports_dir, const char *key, const char *not_id,
			  struct kf_error *e);

/** history_side_name() - the name of @entry's kernel whose inputs key is @key, or NULL. */
const char *history_side_name(json_t *entry, const char *key);

/**
 * history_same_inputs() - the entries whose runs had inputs @key
 * (report_inputs_key()), newest first, but for run @not_id (may be NULL):
 * a new array, or NULL and @e.
 */
json_t *history_same_inputs(const char *reports_dir, const char *key, const char *not_id,
			    struct kf_error *e);

/**
 * history_previous_night() - the newest nightly run (report_set_nightly())
 * before run @id (started at @started) with a kernel named @kernel.
 * @entry: set to a new reference to its index entry, or NULL when none.
 *
 * Return: 0 (found or not), or -1 and @e.
 */
int history_previous_night(const char *reports_dir, const char *kernel, const char *id,
			   const char *started, json_t **entry, struct kf_error *e);

#endif
