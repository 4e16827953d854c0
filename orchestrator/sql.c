/* SPDX-License-Identifier: MIT */
/*
 * sql.c - opening, migrating and the statement helpers of kfarm's SQLite
 * databases (db.c's jobs, history.c's run index).
 */
#include <stdlib.h>
#include <string.h>

#include "sql.h"
#include "util.h"

int sql_fail(sqlite3 *h, const char *path, const char *what, struct kf_error *e)
{
	return error_set(e, path, 0, 0, "%s: %s", what, sqlite3_errmsg(h));
}

int sql_exec(sqlite3 *h, const char *path, const char *sql, const char *what,
	     struct kf_error *e)
{
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(h, path, what, e);
	return 0;
}

int sql_begin(sqlite3 *h, const char *path, struct kf_error *e)
{
	return sql_exec(h, path, "BEGIN IMMEDIATE", "cannot start a transaction", e);
}

int sql_commit(sqlite3 *h, const char *path, struct kf_error *e)
{
	if (sql_exec(h, path, "COMMIT", "cannot commit", e) < 0) {
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

void sql_rollback(sqlite3 *h)
{
	if (!sqlite3_get_autocommit(h))
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *sql_prepare(sqlite3 *h, const char *path, const char *sql, const char *what,
			  struct kf_error *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_fail(h, path, what, e);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int sql_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int sql_step_done(sqlite3 *h, const char *path, sqlite3_stmt *st, const char *what,
		  struct kf_error *e)
{
	int rc = sqlite3_step(st), n = -1;

	if (rc == SQLITE_DONE)
		n = sqlite3_changes(h);
	else
		sql_fail(h, path, what, e);
	sqlite3_finalize(st);
	return n;
}

/* The database's schema version (PRAGMA user_version) in @v. */
static int user_version(sqlite3 *h, const char *path, int *v, struct kf_error *e)
{
	sqlite3_stmt *st = sql_prepare(h, path, "PRAGMA user_version",
				       "cannot read the schema version", e);
	int rc;

	if (!st)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	else
		sql_fail(h, path, "cannot read the schema version", e);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* The error for a database whose schema version @v is newer than @version. */
static int too_new(const char *path, int v, int version, struct kf_error *e)
{
	return error_set(e, path, 0, 0,
			 "its schema is version %d, newer than this kfarm's version %d "
			 "(a newer kfarm wrote it)", v, version);
}

/* Apply @m (and @step) to @h, in the transaction the caller began. */
static int migrate_step(sqlite3 *h, const char *path, const struct sql_migration *m,
			sql_step_fn *step, void *arg, struct kf_error *e)
{
	char *what = xasprintf("cannot migrate the schema to version %d", m->to);
	char *set = xasprintf("PRAGMA user_version = %d", m->to);
	int ret = -1;

	if (sql_exec(h, path, m->sql, what, e) == 0 &&
	    (!step || step(h, path, m->to, arg, e) == 0) &&
	    sql_exec(h, path, set, what, e) == 0)
		ret = 0;
	free(what);
	free(set);
	return ret;
}

/*
 * Bring @h's schema to @version, one transaction a step; the version is read
 * again inside each (another process may have migrated meanwhile).
 */
static int migrate(sqlite3 *h, const char *path, const struct sql_migration *migrations,
		   size_t n, int version, sql_step_fn *step, void *arg, struct kf_error *e)
{
	size_t i;
	int v;

	if (user_version(h, path, &v, e) < 0)
		return -1;
	if (v > version)
		return too_new(path, v, version, e);
	for (i = 0; v < version && i < n; i++) {
		if (sql_begin(h, path, e) < 0)
			return -1;
		if (user_version(h, path, &v, e) < 0)
			goto fail;
		if (v > version) {
			too_new(path, v, version, e);
			goto fail;
		}
		if (v >= migrations[i].to) {
			sql_rollback(h);
			continue;
		}
		if (v != migrations[i].to - 1) {
			error_set(e, path, 0, 0, "no migration from schema version %d", v);
			goto fail;
		}
		if (migrate_step(h, path, &migrations[i], step, arg, e) < 0)
			goto fail;
		if (sql_commit(h, path, e) < 0)
			return -1;
		v = migrations[i].to;
	}
	if (v != version)
		return error_set(e, path, 0, 0, "no migration from schema version %d", v);
	return 0;
fail:
	sql_rollback(h);
	return -1;
}

/*
 * Switch @h to WAL mode (a property of the file: it stays so). Changing the
 * journal mode does not wait on the busy handler: processes opening a new
 * database at once would see SQLITE_BUSY, so it is retried here for up to
 * @busy_ms.
 */
static int set_wal(sqlite3 *h, const char *path, int busy_ms, struct kf_error *e)
{
	sqlite3_stmt *st = sql_prepare(h, path, "PRAGMA journal_mode = WAL",
				       "cannot set WAL mode", e);
	const char *mode;
	int rc, waited = 0, ret = -1;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_BUSY && waited < busy_ms) {
		sqlite3_reset(st);
		waited += sqlite3_sleep(10);
	}
	if (rc != SQLITE_ROW) {
		sql_fail(h, path, "cannot set WAL mode", e);
	} else {
		mode = (const char *)sqlite3_column_text(st, 0);
		if (mode && !strcmp(mode, "wal"))
			ret = 0;
		else
			error_set(e, path, 0, 0, "cannot use WAL mode: the journal mode stays %s",
				  mode ? mode : "unknown");
	}
	sqlite3_finalize(st);
	return ret;
}

int sql_open(sqlite3 **h, const char *path, const struct sql_migration *migrations, size_t n,
	     int version, int busy_ms, sql_step_fn *step, void *arg, struct kf_error *e)
{
	int rc;

	*h = NULL;
	rc = sqlite3_open_v2(path, h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		if (*h)
			sql_fail(*h, path, "cannot open the database", e);
		else
			error_set(e, path, 0, 0, "cannot open the database: %s",
				  sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(*h, busy_ms);
	if (set_wal(*h, path, busy_ms, e) < 0 ||
	    sql_exec(*h, path, "PRAGMA synchronous = NORMAL", "cannot set the synchronous mode",
		     e) < 0 ||
	    migrate(*h, path, migrations, n, version, step, arg, e) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_close(*h);
	*h = NULL;
	return -1;
}
