/* SPDX-License-Identifier: MIT */
#ifndef KFARM_SQL_H
#define KFARM_SQL_H

/*
 * sql.c - what kfarm's SQLite databases share (db.c's job database, history.c's
 * run index): opening in WAL mode with a busy timeout, so that several
 * processes (the CLI, the daemon, their workers) use one file at once; a
 * schema versioned by PRAGMA user_version and migrated forward on open, one
 * transaction a step; and the few statement helpers both use, each filling a
 * struct kf_error that names the database file.
 *
 * A database is the pair (@h, @path): SQLite's handle and the file's name as
 * the errors give it.
 */
#include <stddef.h>

#include <sqlite3.h>

#include "error.h"

/*
 * struct sql_migration - one step of a schema's history: @sql takes a
 * database from version @to - 1 to @to. A schema's list is append only.
 */
struct sql_migration {
	int to;
	const char *sql;
};

/*
 * sql_step_fn - work a migration step does besides its SQL (e.g. importing
 * older data), run in the step's transaction after its SQL: 0, or -1 and @e
 * (the step is then rolled back). @arg is sql_open()'s.
 */
typedef int sql_step_fn(sqlite3 *h, const char *path, int to, void *arg, struct kf_error *e);

/**
 * sql_open() - open (creating it) the SQLite database @path in WAL mode with
 * synchronous=NORMAL and a busy timeout of @busy_ms, and migrate its schema
 * to @version with @migrations (@n of them), calling @step (when not NULL)
 * in each step's transaction. The version is read again inside each step, so
 * that processes opening a new database at once migrate it once. A database
 * whose schema is newer than @version is refused, as is a file that is not
 * a database.
 *
 * Return: 0 and *@h, or -1 and @e naming @path (*@h is then NULL).
 */
int sql_open(sqlite3 **h, const char *path, const struct sql_migration *migrations, size_t n,
	     int version, int busy_ms, sql_step_fn *step, void *arg, struct kf_error *e);

/** sql_fail() - fill @e with @what and SQLite's last error on @h, naming @path; returns -1. */
int sql_fail(sqlite3 *h, const char *path, const char *what, struct kf_error *e);

/** sql_exec() - run constant @sql (no parameters, no rows wanted); -1 and @e naming @what. */
int sql_exec(sqlite3 *h, const char *path, const char *sql, const char *what,
	     struct kf_error *e);

/** sql_begin() - start a write transaction now (waiting up to the busy timeout for other writers). */
int sql_begin(sqlite3 *h, const char *path, struct kf_error *e);

/** sql_commit() - commit the transaction sql_begin() started; rolled back when that fails. */
int sql_commit(sqlite3 *h, const char *path, struct kf_error *e);

/** sql_rollback() - give up the open transaction, if any (after a failure: @e is already set). */
void sql_rollback(sqlite3 *h);

/** sql_prepare() - @sql prepared on @h; NULL and @e naming @what on failure. */
sqlite3_stmt *sql_prepare(sqlite3 *h, const char *path, const char *sql, const char *what,
			  struct kf_error *e);

/** sql_bind_text() - bind @s (NULL: SQL NULL) as parameter @i of @st. */
int sql_bind_text(sqlite3_stmt *st, int i, const char *s);

/**
 * sql_step_done() - step @st to its end and finalize it.
 * Return: the rows changed, or -1 and @e naming @what.
 */
int sql_step_done(sqlite3 *h, const char *path, sqlite3_stmt *st, const char *what,
		  struct kf_error *e);

#endif
