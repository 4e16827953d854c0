/* SPDX-License-Identifier: MIT */
/*
 * db.c - kfarmd's job database (STATE/kfarm.db): SQLite in WAL mode with a
 * busy timeout, so that the daemon and the CLI use it at the same time from
 * different processes. Every statement is prepared with bound parameters;
 * a job's JSON (request, progress, summary) is stored as text and parsed
 * again when the job leaves this file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "sql.h"
#include "util.h"

#define DB_FILE		"kfarm.db"
#define DB_BUSY_MS	5000
#define DB_LIST_MAX	1000
/* A job id's buffer: 25 characters, room to spare for snprintf()'s worst case. */
#define ID_SIZE		48

struct db {
	sqlite3 *h;
	char *path;
};

/*
 * The schema's history: migrations[i] takes a database from version
 * migrations[i].to - 1 to migrations[i].to, in one transaction. Append only.
 */
static const struct sql_migration migrations[] = {
	{ 1,
	  "CREATE TABLE jobs ("
	  " id TEXT PRIMARY KEY,"
	  " kind TEXT NOT NULL,"
	  " request TEXT NOT NULL,"		/* JSON object */
	  " state TEXT NOT NULL,"
	  " created TEXT NOT NULL,"		/* ISO 8601 UTC */
	  " started TEXT,"
	  " finished TEXT,"
	  " progress TEXT,"			/* JSON object */
	  " exit_status INTEGER,"
	  " run_dir TEXT,"
	  " summary TEXT,"			/* JSON object */
	  " error TEXT"
	  ");"
	  "CREATE INDEX jobs_state_id ON jobs (state, id);" },
	{ 2,
	  "CREATE TABLE webhooks ("
	  " job_id TEXT NOT NULL REFERENCES jobs (id),"
	  " url TEXT NOT NULL,"
	  " payload TEXT NOT NULL,"		/* the exact body POSTed */
	  " state TEXT NOT NULL,"		/* pending, delivered, failed */
	  " attempts INTEGER NOT NULL DEFAULT 0,"
	  " last_error TEXT,"
	  " next_attempt INTEGER NOT NULL,"	/* ms since the epoch (UTC) */
	  " created TEXT NOT NULL,"		/* ISO 8601 UTC */
	  " updated TEXT NOT NULL,"
	  " PRIMARY KEY (job_id, url)"
	  ");"
	  "CREATE INDEX webhooks_state_next ON webhooks (state, next_attempt);" },
};

/* A job's columns, in the order of its JSON object (the keys are their names). */
#define JOB_COLUMNS "id, kind, request, state, created, started, finished, progress, " \
		    "exit_status, run_dir, summary, error"

/* The columns that hold a JSON object as text. */
static const char *const json_columns[] = { "request", "progress", "summary", NULL };

static const char *const kinds[] = { "compare", "run", "nightly", "bisect", NULL };
static const char *const states[] = {
	DB_QUEUED, DB_RUNNING, DB_DONE, DB_FAILED, DB_CANCELLED, DB_INTERRUPTED, NULL
};
static const char *const final_states[] = { DB_DONE, DB_FAILED, DB_CANCELLED, NULL };

/* Whether @s is one of the NULL-terminated @list. */
static int in_list(const char *const *list, const char *s)
{
	for (; s && *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

int db_state_valid(const char *state)
{
	return in_list(states, state);
}

int db_state_final(const char *state)
{
	return in_list(final_states, state);
}

/* The wall clock (UTC) in milliseconds since the epoch. */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* @ms as "2026-12-02T10:15:00Z". */
static void iso_at(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Now as "2026-12-02T10:15:00Z". */
static void iso_now(char out[32])
{
	iso_at(wall_ms(), out);
}

/* Two random bytes from getrandom(), the clock and the pid when it fails. */
static unsigned int random16(void)
{
	uint16_t r;
	struct timespec ts;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((unsigned int)ts.tv_nsec ^ (unsigned int)getpid() * 2654435761u) & 0xffff;
}

/* The job id of time @ms: "j20261202T101500123Z-3fa9". */
static void id_at(int64_t ms, char out[ID_SIZE])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[24];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y%m%dT%H%M%S", &tm);
	snprintf(out, ID_SIZE, "j%s%03dZ-%04x", s, (int)(ms % 1000), random16());
}

/* The time of job id @id in milliseconds, -1 when it is not one of ours. */
static int64_t id_ms(const char *id)
{
	struct tm tm;
	int ms, n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(id, "j%4d%2d%2dT%2d%2d%2d%3dZ-%*4x%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &n) != 7 || n != 25 || id[n])
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/*
 * The helpers below are sql.c's, on @db's handle and naming its file: the
 * names this file has always used.
 */
static int db_fail(struct db *db, struct kf_error *e, const char *what)
{
	return sql_fail(db->h, db->path, what, e);
}

static int begin(struct db *db, struct kf_error *e)
{
	return sql_begin(db->h, db->path, e);
}

static int commit(struct db *db, struct kf_error *e)
{
	return sql_commit(db->h, db->path, e);
}

static void rollback(struct db *db)
{
	sql_rollback(db->h);
}

static sqlite3_stmt *prepare(struct db *db, const char *sql, const char *what,
			     struct kf_error *e)
{
	return sql_prepare(db->h, db->path, sql, what, e);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sql_bind_text(st, i, s);
}

static int step_done(struct db *db, sqlite3_stmt *st, const char *what, struct kf_error *e)
{
	return sql_step_done(db->h, db->path, st, what, e);
}

struct db *db_open(const char *dir, struct kf_error *e)
{
	struct db *db;

	if (!dir || !*dir) {
		error_set(e, NULL, 0, 0, "no state directory given for the job database");
		return NULL;
	}
	if (util_mkdir_p(dir, e) < 0)
		return NULL;
	db = xcalloc(1, sizeof(*db));
	db->path = xasprintf("%s/" DB_FILE, dir);
	if (sql_open(&db->h, db->path, migrations, sizeof(migrations) / sizeof(migrations[0]),
		     DB_SCHEMA_VERSION, DB_BUSY_MS, NULL, NULL, e) < 0) {
		db_close(db);
		return NULL;
	}
	return db;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);
	free(db->path);
	free(db);
}

/* Whether @db and @id were given; -1 and @e when not. */
static int check_job_args(struct db *db, const char *id, struct kf_error *e)
{
	if (!db)
		return error_set(e, NULL, 0, 0, "no job database");
	if (!id || !*id)
		return error_set(e, db->path, 0, 0, "no job id given");
	return 0;
}

/* @v (JSON, borrowed) as compact text (owned); NULL and @e unless it is an object. */
static char *object_text(struct db *db, const char *id, const char *what, json_t *v,
			 struct kf_error *e)
{
	char *s;

	if (!json_is_object(v)) {
		error_set(e, db->path, 0, 0, "%s%s%s is not a JSON object", id ? "job " : "",
			  id ? id : "", what);
		return NULL;
	}
	s = json_dumps(v, JSON_COMPACT);
	if (!s)
		error_set(e, db->path, 0, 0, "%s%s%s cannot be written as JSON", id ? "job " : "",
			  id ? id : "", what);
	return s;
}

/* @s as a JSON string, its bytes that are not UTF-8 made '?'. */
static json_t *text_value(const char *s)
{
	json_t *v = json_string(s);
	char *copy, *p;

	if (v)
		return v;
	copy = xstrdup(s);
	for (p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

/* Whether column @name holds JSON text. */
static int is_json_column(const char *name)
{
	return in_list(json_columns, name);
}

/* The job in @st's current row (JOB_COLUMNS) as a new object; NULL and @e when broken. */
static json_t *row_job(struct db *db, sqlite3_stmt *st, struct kf_error *e)
{
	json_t *job = json_object(), *v;
	const char *id = (const char *)sqlite3_column_text(st, 0), *name, *text;
	json_error_t jerr;
	int i;

	for (i = 0; i < sqlite3_column_count(st); i++) {
		name = sqlite3_column_name(st, i);
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL:
			continue;
		case SQLITE_INTEGER:
			v = json_integer((json_int_t)sqlite3_column_int64(st, i));
			break;
		default:
			text = (const char *)sqlite3_column_text(st, i);
			if (!text)
				continue;
			if (!is_json_column(name)) {
				v = text_value(text);
				break;
			}
			v = json_loads(text, 0, &jerr);
			if (!json_is_object(v)) {
				error_set(e, db->path, 0, 0,
					  "job %s: its stored %s is not a JSON object%s%s",
					  id ? id : "?", name, v ? "" : ": ", v ? "" : jerr.text);
				json_decref(v);
				json_decref(job);
				return NULL;
			}
		}
		json_object_set_new(job, name, v);
	}
	return job;
}

/* The state of job @id in @state (owned), NULL when there is none; -1 and @e on failure. */
static int job_state(struct db *db, const char *id, char **state, struct kf_error *e)
{
	sqlite3_stmt *st = prepare(db, "SELECT state FROM jobs WHERE id = ?1",
				   "cannot read a job's state", e);
	int rc;

	*state = NULL;
	if (!st)
		return -1;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*state = xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		db_fail(db, e, "cannot read a job's state");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The error for job @id, which an update did not match: unknown, or not in state @want. */
static int not_in_state(struct db *db, const char *id, const char *want, struct kf_error *e)
{
	char *state;

	if (job_state(db, id, &state, e) < 0)
		return -1;
	if (!state)
		error_set(e, db->path, 0, 0, "no job %s", id);
	else
		error_set(e, db->path, 0, 0, "job %s is %s, not %s", id, state, want);
	free(state);
	return -1;
}

/*
 * The id for a job created at @now: one millisecond past the newest job's
 * when that is not older (ids stay unique and in creation order across
 * processes and clock steps). In the caller's transaction.
 */
static int new_id(struct db *db, int64_t now, char out[ID_SIZE], struct kf_error *e)
{
	sqlite3_stmt *st = prepare(db, "SELECT max(id) FROM jobs", "cannot read the newest job", e);
	const char *max;
	int64_t last;
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(db, e, "cannot read the newest job");
		sqlite3_finalize(st);
		return -1;
	}
	max = (const char *)sqlite3_column_text(st, 0);
	last = max ? id_ms(max) : -1;
	id_at(last >= now ? last + 1 : now, out);
	sqlite3_finalize(st);
	return 0;
}

char *db_job_new(struct db *db, const char *kind, json_t *request, struct kf_error *e)
{
	sqlite3_stmt *st;
	char id[ID_SIZE], created[32], *text;
	int64_t now = wall_ms();

	if (!db) {
		error_set(e, NULL, 0, 0, "no job database");
		return NULL;
	}
	if (!kind) {
		error_set(e, db->path, 0, 0, "no job kind given (compare, run, nightly or bisect)");
		return NULL;
	}
	if (!in_list(kinds, kind)) {
		error_set(e, db->path, 0, 0, "\"%s\" is not a job kind (compare, run, nightly or "
			  "bisect)",
			  kind);
		return NULL;
	}
	text = object_text(db, NULL, "the job's request", request, e);
	if (!text)
		return NULL;
	iso_at(now, created);
	if (begin(db, e) < 0)
		goto fail;
	if (new_id(db, now, id, e) < 0)
		goto fail_tx;
	st = prepare(db, "INSERT INTO jobs (id, kind, request, state, created) "
		     "VALUES (?1, ?2, ?3, ?4, ?5)", "cannot add a job", e);
	if (!st)
		goto fail_tx;
	bind_text(st, 1, id);
	bind_text(st, 2, kind);
	bind_text(st, 3, text);
	bind_text(st, 4, DB_QUEUED);
	bind_text(st, 5, created);
	if (step_done(db, st, "cannot add a job", e) < 0)
		goto fail_tx;
	if (commit(db, e) < 0)
		goto fail;
	free(text);
	return xstrdup(id);
fail_tx:
	rollback(db);
fail:
	free(text);
	return NULL;
}

json_t *db_job_get(struct db *db, const char *id, struct kf_error *e)
{
	sqlite3_stmt *st;
	json_t *job = NULL;
	int rc;

	if (check_job_args(db, id, e) < 0)
		return NULL;
	st = prepare(db, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1", "cannot read a job", e);
	if (!st)
		return NULL;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		job = row_job(db, st, e);
	else if (rc == SQLITE_DONE)
		error_set(e, db->path, 0, 0, "no job %s", id);
	else
		db_fail(db, e, "cannot read a job");
	sqlite3_finalize(st);
	return job;
}

/* Check @state: NULL or a DB_* state; -1 and @e otherwise. */
static int check_state_filter(struct db *db, const char *state, struct kf_error *e)
{
	if (state && !db_state_valid(state))
		return error_set(e, db->path, 0, 0, "\"%s\" is not a job state (queued, running, "
				 "done, failed, cancelled or interrupted)", state);
	return 0;
}

json_t *db_job_list(struct db *db, const char *state, const char *before, int limit,
		    struct kf_error *e)
{
	/* [state given][before given]: constant statements, so that the index serves each. */
	static const char *const sql[2][2] = {
		{ "SELECT " JOB_COLUMNS " FROM jobs ORDER BY id DESC LIMIT ?3",
		  "SELECT " JOB_COLUMNS " FROM jobs WHERE id < ?2 ORDER BY id DESC LIMIT ?3" },
		{ "SELECT " JOB_COLUMNS " FROM jobs WHERE state = ?1 ORDER BY id DESC LIMIT ?3",
		  "SELECT " JOB_COLUMNS " FROM jobs WHERE state = ?1 AND id < ?2 "
		  "ORDER BY id DESC LIMIT ?3" },
	};
	sqlite3_stmt *st;
	json_t *list, *job;
	int rc;

	if (!db) {
		error_set(e, NULL, 0, 0, "no job database");
		return NULL;
	}
	if (check_state_filter(db, state, e) < 0)
		return NULL;
	if (limit < 1 || limit > DB_LIST_MAX) {
		error_set(e, db->path, 0, 0, "a job list's limit must be 1 to %d, not %d",
			  DB_LIST_MAX, limit);
		return NULL;
	}
	st = prepare(db, sql[!!state][!!before], "cannot list the jobs", e);
	if (!st)
		return NULL;
	if (state)
		bind_text(st, 1, state);
	if (before)
		bind_text(st, 2, before);
	sqlite3_bind_int(st, 3, limit);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		job = row_job(db, st, e);
		if (!job)
			break;
		json_array_append_new(list, job);
	}
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_ROW)
			db_fail(db, e, "cannot list the jobs");
		json_decref(list);
		list = NULL;
	}
	sqlite3_finalize(st);
	return list;
}

long db_job_count(struct db *db, const char *state, struct kf_error *e)
{
	sqlite3_stmt *st;
	long n = -1;

	if (!db)
		return error_set(e, NULL, 0, 0, "no job database");
	if (check_state_filter(db, state, e) < 0)
		return -1;
	st = prepare(db, state ? "SELECT count(*) FROM jobs WHERE state = ?1" :
		     "SELECT count(*) FROM jobs", "cannot count the jobs", e);
	if (!st)
		return -1;
	if (state)
		bind_text(st, 1, state);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	else
		db_fail(db, e, "cannot count the jobs");
	sqlite3_finalize(st);
	return n;
}

char *db_job_next(struct db *db, struct kf_error *e)
{
	sqlite3_stmt *st;
	char *id = NULL;
	int rc;

	if (!db) {
		error_set(e, NULL, 0, 0, "no job database");
		return NULL;
	}
	st = prepare(db, "SELECT id FROM jobs WHERE state = ?1 ORDER BY id LIMIT 1",
		     "cannot find the next queued job", e);
	if (!st)
		return NULL;
	bind_text(st, 1, DB_QUEUED);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		db_fail(db, e, "cannot find the next queued job");
	sqlite3_finalize(st);
	return id;
}

/*
 * A NULL @run_dir keeps the one the job has (a requeued job starting again
 * in the run directory of its interrupted run).
 */
int db_job_start(struct db *db, const char *id, const char *run_dir, struct kf_error *e)
{
	sqlite3_stmt *st;
	char now[32];
	int n;

	if (check_job_args(db, id, e) < 0)
		return -1;
	iso_now(now);
	st = prepare(db, "UPDATE jobs SET state = ?1, started = ?2, "
		     "run_dir = coalesce(?3, run_dir) WHERE id = ?4 AND state = ?5",
		     "cannot start a job", e);
	if (!st)
		return -1;
	bind_text(st, 1, DB_RUNNING);
	bind_text(st, 2, now);
	bind_text(st, 3, run_dir);
	bind_text(st, 4, id);
	bind_text(st, 5, DB_QUEUED);
	n = step_done(db, st, "cannot start a job", e);
	if (n < 0)
		return -1;
	return n ? 0 : not_in_state(db, id, DB_QUEUED, e);
}

int db_job_progress(struct db *db, const char *id, json_t *progress, struct kf_error *e)
{
	sqlite3_stmt *st;
	char *text;
	int n = -1;

	if (check_job_args(db, id, e) < 0)
		return -1;
	text = object_text(db, id, "'s progress", progress, e);
	if (!text)
		return -1;
	st = prepare(db, "UPDATE jobs SET progress = ?1 WHERE id = ?2",
		     "cannot record a job's progress", e);
	if (st) {
		bind_text(st, 1, text);
		bind_text(st, 2, id);
		n = step_done(db, st, "cannot record a job's progress", e);
	}
	free(text);
	if (n == 0)
		return error_set(e, db->path, 0, 0, "no job %s", id);
	return n < 0 ? -1 : 0;
}

/* Bind @state, @now, @exit_status, @summary and @error as db_job_end()'s ?1 to ?5. */
static void bind_end(sqlite3_stmt *st, const char *state, const char *now, int exit_status,
		     const char *summary, const char *error)
{
	bind_text(st, 1, state);
	bind_text(st, 2, now);
	if (exit_status < 0)
		sqlite3_bind_null(st, 3);
	else
		sqlite3_bind_int(st, 3, exit_status);
	bind_text(st, 4, summary);
	bind_text(st, 5, error);
}

int db_job_end(struct db *db, const char *id, const char *state, int exit_status,
	       json_t *summary, const char *error, struct kf_error *e)
{
	sqlite3_stmt *st;
	char now[32], *text = NULL, *cur;
	int n = -1;

	if (check_job_args(db, id, e) < 0)
		return -1;
	if (!db_state_final(state) && (!state || strcmp(state, DB_INTERRUPTED)))
		return error_set(e, db->path, 0, 0, "job %s cannot end as \"%s\" (done, failed, "
				 "cancelled or interrupted)", id, state ? state : "(none)");
	if (summary && !(text = object_text(db, id, "'s summary", summary, e)))
		return -1;
	iso_now(now);
	st = prepare(db, "UPDATE jobs SET state = ?1, finished = ?2, exit_status = ?3, "
		     "summary = ?4, error = ?5 WHERE id = ?6 AND state NOT IN (?7, ?8, ?9)",
		     "cannot end a job", e);
	if (st) {
		bind_end(st, state, now, exit_status, text, error);
		bind_text(st, 6, id);
		bind_text(st, 7, DB_DONE);
		bind_text(st, 8, DB_FAILED);
		bind_text(st, 9, DB_CANCELLED);
		n = step_done(db, st, "cannot end a job", e);
	}
	free(text);
	if (n != 0)
		return n < 0 ? -1 : 0;
	/* Nothing changed: already final (a cancel won the race), or no such job. */
	if (job_state(db, id, &cur, e) < 0)
		return -1;
	if (!cur)
		return error_set(e, db->path, 0, 0, "no job %s", id);
	free(cur);
	return 0;
}

int db_job_cancel(struct db *db, const char *id, struct kf_error *e)
{
	sqlite3_stmt *st;
	char now[32], *state;
	int n;

	if (check_job_args(db, id, e) < 0)
		return -1;
	iso_now(now);
	/* Queued or interrupted: nothing runs it, so it is cancelled here and now. */
	st = prepare(db, "UPDATE jobs SET state = ?1, finished = ?2 "
		     "WHERE id = ?3 AND state IN (?4, ?5)", "cannot cancel a job", e);
	if (!st)
		return -1;
	bind_text(st, 1, DB_CANCELLED);
	bind_text(st, 2, now);
	bind_text(st, 3, id);
	bind_text(st, 4, DB_QUEUED);
	bind_text(st, 5, DB_INTERRUPTED);
	n = step_done(db, st, "cannot cancel a job", e);
	if (n != 0)
		return n < 0 ? -1 : 1;
	if (job_state(db, id, &state, e) < 0)
		return -1;
	if (!state)
		n = error_set(e, db->path, 0, 0, "no job %s", id);
	else if (!strcmp(state, DB_RUNNING))
		n = 0;
	else
		n = error_set(e, db->path, 0, 0, "job %s cannot be cancelled: it is already %s",
			      id, state);
	free(state);
	return n;
}

long db_jobs_interrupted(struct db *db, struct kf_error *e)
{
	sqlite3_stmt *st;
	char now[32];

	if (!db)
		return error_set(e, NULL, 0, 0, "no job database");
	iso_now(now);
	st = prepare(db, "UPDATE jobs SET state = ?1, finished = ?2 WHERE state = ?3",
		     "cannot mark the running jobs interrupted", e);
	if (!st)
		return -1;
	bind_text(st, 1, DB_INTERRUPTED);
	bind_text(st, 2, now);
	bind_text(st, 3, DB_RUNNING);
	return step_done(db, st, "cannot mark the running jobs interrupted", e);
}

/* What an interrupted run ended with is forgotten; its run directory and progress stay. */
int db_job_requeue(struct db *db, const char *id, struct kf_error *e)
{
	sqlite3_stmt *st;
	int n;

	if (check_job_args(db, id, e) < 0)
		return -1;
	st = prepare(db, "UPDATE jobs SET state = ?1, finished = NULL, exit_status = NULL, "
		     "summary = NULL, error = NULL WHERE id = ?2 AND state = ?3",
		     "cannot requeue a job", e);
	if (!st)
		return -1;
	bind_text(st, 1, DB_QUEUED);
	bind_text(st, 2, id);
	bind_text(st, 3, DB_INTERRUPTED);
	n = step_done(db, st, "cannot requeue a job", e);
	if (n < 0)
		return -1;
	return n ? 0 : not_in_state(db, id, DB_INTERRUPTED, e);
}

/*
 * Webhook deliveries: a row per (job, URL), its next attempt's time in
 * milliseconds of the wall clock so that it keeps across restarts.
 */

/* The rows @st yields (each as row_job() makes it: no JSON column here) in a new array. */
static json_t *rows(struct db *db, sqlite3_stmt *st, const char *what, struct kf_error *e)
{
	json_t *list = json_array(), *row;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row = row_job(db, st, e);
		if (!row)
			break;
		json_array_append_new(list, row);
	}
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_ROW)
			db_fail(db, e, what);
		json_decref(list);
		list = NULL;
	}
	sqlite3_finalize(st);
	return list;
}

int db_webhooks_add(struct db *db, const char *id, const char *const *urls, size_t nurls,
		    const char *payload, struct kf_error *e)
{
	sqlite3_stmt *st;
	char now[32];
	size_t i;

	if (check_job_args(db, id, e) < 0)
		return -1;
	if (!payload)
		return error_set(e, db->path, 0, 0, "job %s: no webhook payload given", id);
	iso_now(now);
	if (begin(db, e) < 0)
		return -1;
	for (i = 0; i < nurls; i++) {
		if (!urls[i] || !*urls[i]) {
			error_set(e, db->path, 0, 0, "job %s: a webhook without a URL", id);
			goto fail;
		}
		st = prepare(db, "INSERT INTO webhooks (job_id, url, payload, state, attempts, "
			     "next_attempt, created, updated) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6) "
			     "ON CONFLICT (job_id, url) DO UPDATE SET payload = ?3, state = ?4, "
			     "attempts = 0, last_error = NULL, next_attempt = ?5, updated = ?6",
			     "cannot add a webhook delivery", e);
		if (!st)
			goto fail;
		bind_text(st, 1, id);
		bind_text(st, 2, urls[i]);
		bind_text(st, 3, payload);
		bind_text(st, 4, DB_HOOK_PENDING);
		sqlite3_bind_int64(st, 5, wall_ms());
		bind_text(st, 6, now);
		if (step_done(db, st, "cannot add a webhook delivery", e) < 0)
			goto fail;
	}
	return commit(db, e);
fail:
	rollback(db);
	return -1;
}

json_t *db_webhooks_due(struct db *db, int limit, struct kf_error *e)
{
	sqlite3_stmt *st;

	if (!db) {
		error_set(e, NULL, 0, 0, "no job database");
		return NULL;
	}
	if (limit < 1 || limit > DB_LIST_MAX) {
		error_set(e, db->path, 0, 0, "a delivery list's limit must be 1 to %d, not %d",
			  DB_LIST_MAX, limit);
		return NULL;
	}
	st = prepare(db, "SELECT job_id AS job, url, payload, attempts FROM webhooks "
		     "WHERE state = ?1 AND next_attempt <= ?2 ORDER BY next_attempt, job_id, url "
		     "LIMIT ?3", "cannot list the webhooks due", e);
	if (!st)
		return NULL;
	bind_text(st, 1, DB_HOOK_PENDING);
	sqlite3_bind_int64(st, 2, wall_ms());
	sqlite3_bind_int(st, 3, limit);
	return rows(db, st, "cannot list the webhooks due", e);
}

long long db_webhook_next_due(struct db *db, struct kf_error *e)
{
	sqlite3_stmt *st;
	long long in = -2;

	if (!db)
		return error_set(e, NULL, 0, 0, "no job database") - 1;
	st = prepare(db, "SELECT min(next_attempt) FROM webhooks WHERE state = ?1",
		     "cannot find the next webhook due", e);
	if (!st)
		return -2;
	bind_text(st, 1, DB_HOOK_PENDING);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_fail(db, e, "cannot find the next webhook due");
	} else if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		in = -1;
	} else {
		in = (long long)(sqlite3_column_int64(st, 0) - wall_ms());
		if (in < 0)
			in = 0;
	}
	sqlite3_finalize(st);
	return in;
}

int db_webhook_begin(struct db *db, const char *id, const char *url, long long lease_ms,
		     struct kf_error *e)
{
	sqlite3_stmt *st;
	char now[32];
	int attempt = -1, rc;

	if (check_job_args(db, id, e) < 0)
		return -1;
	iso_now(now);
	st = prepare(db, "UPDATE webhooks SET attempts = attempts + 1, next_attempt = ?1, "
		     "updated = ?2 WHERE job_id = ?3 AND url = ?4 AND state = ?5 "
		     "RETURNING attempts", "cannot begin a webhook attempt", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, wall_ms() + (lease_ms > 0 ? lease_ms : 0));
	bind_text(st, 2, now);
	bind_text(st, 3, id);
	bind_text(st, 4, url);
	bind_text(st, 5, DB_HOOK_PENDING);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		attempt = sqlite3_column_int(st, 0);
	else if (rc == SQLITE_DONE)
		error_set(e, db->path, 0, 0, "job %s has no pending webhook to %s", id,
			  url ? url : "(no URL)");
	else
		db_fail(db, e, "cannot begin a webhook attempt");
	sqlite3_finalize(st);
	return attempt;
}

int db_webhook_end(struct db *db, const char *id, const char *url, int attempt,
		   const char *state, const char *error, long long retry_ms, struct kf_error *e)
{
	sqlite3_stmt *st;
	char now[32];

	if (check_job_args(db, id, e) < 0)
		return -1;
	if (!state || (strcmp(state, DB_HOOK_PENDING) && strcmp(state, DB_HOOK_DELIVERED) &&
		       strcmp(state, DB_HOOK_FAILED)))
		return error_set(e, db->path, 0, 0, "job %s: a webhook cannot end as \"%s\" "
				 "(pending, delivered or failed)", id, state ? state : "(none)");
	iso_now(now);
	st = prepare(db, "UPDATE webhooks SET state = ?1, last_error = coalesce(?2, last_error), "
		     "next_attempt = ?3, updated = ?4 WHERE job_id = ?5 AND url = ?6 "
		     "AND attempts = ?7 AND state = ?8", "cannot end a webhook attempt", e);
	if (!st)
		return -1;
	bind_text(st, 1, state);
	bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, wall_ms() + (retry_ms > 0 ? retry_ms : 0));
	bind_text(st, 4, now);
	bind_text(st, 5, id);
	bind_text(st, 6, url);
	sqlite3_bind_int(st, 7, attempt);
	bind_text(st, 8, DB_HOOK_PENDING);
	return step_done(db, st, "cannot end a webhook attempt", e) < 0 ? -1 : 0;
}

json_t *db_webhooks_resume(struct db *db, struct kf_error *e)
{
	sqlite3_stmt *st;
	char now[32];

	if (!db) {
		error_set(e, NULL, 0, 0, "no job database");
		return NULL;
	}
	iso_now(now);
	st = prepare(db, "UPDATE webhooks SET next_attempt = ?1, updated = ?2 "
		     "WHERE state = ?3 AND next_attempt > ?1", "cannot take up the webhooks", e);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, wall_ms());
	bind_text(st, 2, now);
	bind_text(st, 3, DB_HOOK_PENDING);
	if (step_done(db, st, "cannot take up the webhooks", e) < 0)
		return NULL;
	st = prepare(db, "SELECT job_id AS job, url, attempts FROM webhooks WHERE state = ?1 "
		     "ORDER BY job_id, url", "cannot list the pending webhooks", e);
	if (!st)
		return NULL;
	bind_text(st, 1, DB_HOOK_PENDING);
	return rows(db, st, "cannot list the pending webhooks", e);
}

json_t *db_webhook_list(struct db *db, const char *id, struct kf_error *e)
{
	sqlite3_stmt *st;

	if (check_job_args(db, id, e) < 0)
		return NULL;
	st = prepare(db, "SELECT url, state, attempts, last_error FROM webhooks "
		     "WHERE job_id = ?1 ORDER BY url", "cannot list a job's webhooks", e);
	if (!st)
		return NULL;
	bind_text(st, 1, id);
	return rows(db, st, "cannot list a job's webhooks", e);
}
