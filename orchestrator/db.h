/* SPDX-License-Identifier: MIT */
#ifndef KFARM_DB_H
#define KFARM_DB_H

/*
 * db.c - kfarmd's job database: SQLite in WAL mode in the state directory
 * (STATE/kfarm.db), so that the daemon and the CLI can use it at the same
 * time. Its schema is versioned (PRAGMA user_version) and migrated forward
 * on open, one step a version, each in a transaction. Artefacts (run.json,
 * diff.json, consoles) stay files in the job's run directory; the database
 * holds where they are.
 *
 * A job is a JSON object when it leaves this file:
 *   {"id", "kind" ("compare"|"run"|"nightly"), "request" (the submitted
 *    object), "state", "created", "started", "finished" (ISO 8601 UTC;
 *    absent until set), "progress" ({guests_done, guests_total, cells_done,
 *    cells_total}, absent until the first), "exit_status" (the worker's,
 *    absent until it ends), "run_dir", "summary" (diff.json's "summary" when
 *    there is one), "error" (why it failed)}
 *
 * A job's webhook deliveries are rows of their own, one per (job, URL),
 * written when the job ends and before any attempt, so that a daemon that
 * stops or dies loses none: pending (due at a time), then delivered, or
 * failed once the retries are spent.
 */
#include <jansson.h>

#include "error.h"

/* The schema version this build writes (PRAGMA user_version). */
#define DB_SCHEMA_VERSION	2

/* A job's states. */
#define DB_QUEUED	"queued"
#define DB_RUNNING	"running"
#define DB_DONE		"done"
#define DB_FAILED	"failed"
#define DB_CANCELLED	"cancelled"
#define DB_INTERRUPTED	"interrupted"

/* A webhook delivery's states. */
#define DB_HOOK_PENDING		"pending"
#define DB_HOOK_DELIVERED	"delivered"
#define DB_HOOK_FAILED		"failed"

struct db;

/**
 * db_open() - open (creating it and @dir as needed) @dir/kfarm.db, in WAL
 * mode with a busy timeout of a few seconds, migrating an older schema.
 * A database whose schema is newer than DB_SCHEMA_VERSION is refused.
 * NULL and @e (naming the file) on failure.
 */
struct db *db_open(const char *dir, struct kf_error *e);

/** db_close() - close @db (NULL is fine). */
void db_close(struct db *db);

/** db_state_valid() - whether @state is one of the DB_* states. */
int db_state_valid(const char *state);

/** db_state_final() - whether @state is one a job never leaves (done, failed, cancelled). */
int db_state_final(const char *state);

/**
 * db_job_new() - a new queued job of @kind with @request (a JSON object,
 * stored as text; borrowed), created now. Its id is returned (owned): sortable
 * by creation ("j" + UTC time to the millisecond + 4 random hex digits, e.g.
 * "j20261202T101500123Z-3fa9"). NULL and @e on failure.
 */
char *db_job_new(struct db *db, const char *kind, json_t *request, struct kf_error *e);

/** db_job_get() - job @id as a JSON object (new), or NULL (with @e) when there is none. */
json_t *db_job_get(struct db *db, const char *id, struct kf_error *e);

/**
 * db_job_list() - the jobs (a new array, newest first) in @state (NULL: any),
 * created before job @before (an id; NULL: from the newest), at most @limit
 * (1 to 1000). NULL and @e on failure (an invalid state is an error).
 */
json_t *db_job_list(struct db *db, const char *state, const char *before, int limit,
		    struct kf_error *e);

/** db_job_count() - how many jobs are in @state (NULL: all); -1 and @e on failure. */
long db_job_count(struct db *db, const char *state, struct kf_error *e);

/**
 * db_job_next() - the oldest queued job's id (owned), or NULL when none is
 * queued (@e untouched) or on failure (@e set: check e->text[0]).
 */
char *db_job_next(struct db *db, struct kf_error *e);

/**
 * db_job_start() - job @id goes from queued to running, started now, its run
 * directory @run_dir. -1 and @e when it is not queued (or on failure).
 */
int db_job_start(struct db *db, const char *id, const char *run_dir, struct kf_error *e);

/** db_job_progress() - job @id's progress (@progress: an object, borrowed). */
int db_job_progress(struct db *db, const char *id, json_t *progress, struct kf_error *e);

/**
 * db_job_end() - job @id ends in @state (done, failed, cancelled or
 * interrupted), finished now, with the worker's @exit_status (-1: none),
 * @summary (borrowed; NULL: none) and @error (NULL: none). A job already in a
 * final state is left as it is (returns 0: a cancel racing the end is not an
 * error). -1 and @e on failure.
 */
int db_job_end(struct db *db, const char *id, const char *state, int exit_status,
	       json_t *summary, const char *error, struct kf_error *e);

/**
 * db_job_cancel() - a queued job becomes cancelled at once (returns 1); a
 * running one is left to its caller to stop (returns 0); a final one is an
 * error (-1 and @e naming its state), as is an unknown id.
 */
int db_job_cancel(struct db *db, const char *id, struct kf_error *e);

/**
 * db_jobs_interrupted() - every running job becomes interrupted (what a
 * daemon finds at start after a crash); returns how many, -1 and @e on
 * failure. Interrupted jobs can be taken up again with db_job_requeue().
 */
long db_jobs_interrupted(struct db *db, struct kf_error *e);

/** db_job_requeue() - an interrupted job goes back to queued (keeping its run directory). */
int db_job_requeue(struct db *db, const char *id, struct kf_error *e);

/**
 * db_webhooks_add() - job @id's end is to be POSTed to each of the @nurls
 * @urls with the body @payload (the exact text, kept so that a delivery taken
 * up again carries the same body and signature): a pending row per URL, due
 * now, all in one transaction. A row the job already has for a URL (it ended
 * again: interrupted, then resumed) starts over with the new payload and no
 * attempt. -1 and @e on failure (no row is written then).
 */
int db_webhooks_add(struct db *db, const char *id, const char *const *urls, size_t nurls,
		    const char *payload, struct kf_error *e);

/**
 * db_webhooks_due() - the pending deliveries due now, the longest due first,
 * at most @limit (1 to 1000): a new array of {"job", "url", "payload",
 * "attempts"}. NULL and @e on failure.
 */
json_t *db_webhooks_due(struct db *db, int limit, struct kf_error *e);

/**
 * db_webhook_next_due() - in how many milliseconds the next pending delivery
 * is due (0: it is due now); -1 when none is pending; -2 and @e on failure.
 */
long long db_webhook_next_due(struct db *db, struct kf_error *e);

/**
 * db_webhook_begin() - an attempt at job @id's pending delivery to @url
 * begins: it is counted, and the delivery is not due again for @lease_ms
 * (when the attempt never ends, its daemon having died, it is tried again
 * then). Returns the attempt's number (1 for the first), or -1 and @e when
 * there is no such pending delivery.
 */
int db_webhook_begin(struct db *db, const char *id, const char *url, long long lease_ms,
		     struct kf_error *e);

/**
 * db_webhook_end() - attempt number @attempt at job @id's delivery to @url
 * ended: in @state (delivered; failed: given up; pending: due again in
 * @retry_ms), @error saying why it failed (NULL: none). When the delivery
 * started over meanwhile (db_webhooks_add()), nothing changes and 0 is
 * returned, as for an attempt that is no longer pending. -1 and @e on failure.
 */
int db_webhook_end(struct db *db, const char *id, const char *url, int attempt,
		   const char *state, const char *error, long long retry_ms, struct kf_error *e);

/**
 * db_webhooks_resume() - what a daemon does at start: every pending delivery
 * becomes due now (an attempt under way when the last daemon stopped or died
 * is made again). Returns them, a new array of {"job", "url", "attempts"},
 * oldest job first; NULL and @e on failure.
 */
json_t *db_webhooks_resume(struct db *db, struct kf_error *e);

/**
 * db_webhook_list() - job @id's deliveries, a new array of {"url", "state",
 * "attempts", "last_error" (when an attempt failed)} in URL order; empty when
 * it has none. NULL and @e on failure.
 */
json_t *db_webhook_list(struct db *db, const char *id, struct kf_error *e);

#endif
