/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "util.h"

static char tmp[64];
static char *dbpath;

static void setup(void)
{
	strcpy(tmp, "/tmp/kfarm-db-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	dbpath = xasprintf("%s/kfarm.db", tmp);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmp);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dbpath);
}

static struct db *open_db(void)
{
	struct kf_error e;
	struct db *db = db_open(tmp, &e);

	ck_assert_msg(db != NULL, "%s: %s", e.source, e.text);
	return db;
}

/* A new job of @kind with the request @json. */
static char *add(struct db *db, const char *kind, const char *json)
{
	struct kf_error e;
	json_t *req = json_loads(json, 0, NULL);
	char *id;

	ck_assert_ptr_nonnull(req);
	id = db_job_new(db, kind, req, &e);
	ck_assert_msg(id != NULL, "%s: %s", e.source, e.text);
	json_decref(req);
	return id;
}

static json_t *get(struct db *db, const char *id)
{
	struct kf_error e;
	json_t *job = db_job_get(db, id, &e);

	ck_assert_msg(job != NULL, "%s: %s", e.source, e.text);
	return job;
}

/* Job @id's string @key, compared with @want (NULL: the key is absent). */
static void check_key(struct db *db, const char *id, const char *key, const char *want)
{
	json_t *job = get(db, id), *v = json_object_get(job, key);

	if (want)
		ck_assert_msg(json_is_string(v) && !strcmp(json_string_value(v), want),
			      "job %s: %s is %s, not %s", id, key,
			      json_is_string(v) ? json_string_value(v) : "not a string", want);
	else
		ck_assert_msg(!v, "job %s has a %s", id, key);
	json_decref(job);
}

static void check_state(struct db *db, const char *id, const char *want)
{
	check_key(db, id, "state", want);
}

/* Whether @s matches @pat: 'd' a digit, 'x' a lower-case hex digit, else itself. */
static int matches(const char *s, const char *pat)
{
	for (; *pat; s++, pat++) {
		if (*pat == 'd' ? (*s < '0' || *s > '9') :
		    *pat == 'x' ? !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')) :
		    *s != *pat)
			return 0;
	}
	return *s == '\0';
}

static int is_iso(const char *s)
{
	return s && matches(s, "dddd-dd-ddTdd:dd:ddZ");
}

static int is_id(const char *s)
{
	return s && matches(s, "jddddddddTdddddddddZ-xxxx");
}

/* The single value of @sql on the file @path, read with SQLite itself (owned). */
static char *raw_query(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	char *out = NULL;

	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

/* Run @sql on the file @path with SQLite itself. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *h;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql, err);
	sqlite3_close(h);
}

static void check_raw(const char *sql, const char *want)
{
	char *got = raw_query(dbpath, sql);

	ck_assert_msg(got && !strcmp(got, want), "%s: %s, not %s", sql, got ? got : "nothing",
		      want);
	free(got);
}

/* The ids of @list, newest first, checked against @want (NULL-terminated). */
static void check_list(json_t *list, const char *const *want)
{
	size_t i;

	ck_assert_ptr_nonnull(list);
	for (i = 0; want[i]; i++) {
		const char *id = json_string_value(json_object_get(json_array_get(list, i), "id"));

		ck_assert_msg(id && !strcmp(id, want[i]), "list[%zu] is %s, not %s", i,
			      id ? id : "missing", want[i]);
	}
	ck_assert_uint_eq(json_array_size(list), i);
	json_decref(list);
}

START_TEST(test_open_creates)
{
	struct kf_error e;
	char *dir = xasprintf("%s/state/deeper", tmp), *path = xasprintf("%s/kfarm.db", dir);
	struct db *db = db_open(dir, &e);
	char *v;
	struct stat sb;

	ck_assert_msg(db != NULL, "%s: %s", e.source, e.text);
	ck_assert_int_eq(stat(path, &sb), 0);
	v = raw_query(path, "PRAGMA journal_mode");
	ck_assert_str_eq(v, "wal");
	free(v);
	v = raw_query(path, "PRAGMA user_version");
	ck_assert_int_eq(atoi(v), DB_SCHEMA_VERSION);
	free(v);
	v = raw_query(path, "SELECT group_concat(name, ',') FROM pragma_table_info('jobs')");
	ck_assert_str_eq(v, "id,kind,request,state,created,started,finished,progress,"
			 "exit_status,run_dir,summary,error");
	free(v);
	v = raw_query(path, "SELECT group_concat(name, ',') "
		      "FROM pragma_index_info('jobs_state_id')");
	ck_assert_str_eq(v, "state,id");
	free(v);
	db_close(db);
	/* Opening it again is a no-op migration. */
	db = db_open(dir, &e);
	ck_assert_msg(db != NULL, "%s: %s", e.source, e.text);
	ck_assert_int_eq(db_job_count(db, NULL, &e), 0);
	db_close(db);
	db_close(NULL);
	free(dir);
	free(path);
}
END_TEST

START_TEST(test_reopen_keeps_jobs)
{
	struct db *db = open_db();
	char *a = add(db, "compare", "{\"config\": \"configs/default.json\"}");
	char *b = add(db, "nightly", "{}");
	struct kf_error e;
	json_t *job, *want;

	ck_assert_int_eq(db_job_start(db, a, "/tmp/run-a", &e), 0);
	db_close(db);
	db = open_db();
	ck_assert_int_eq(db_job_count(db, NULL, &e), 2);
	job = get(db, a);
	want = json_pack("{s:s}", "config", "configs/default.json");
	ck_assert(json_equal(json_object_get(job, "request"), want));
	ck_assert_str_eq(json_string_value(json_object_get(job, "run_dir")), "/tmp/run-a");
	json_decref(want);
	json_decref(job);
	check_state(db, a, DB_RUNNING);
	check_state(db, b, DB_QUEUED);
	check_key(db, b, "kind", "nightly");
	db_close(db);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_future_refused)
{
	struct kf_error e;
	char *v;

	db_close(open_db());
	raw_exec(dbpath, "PRAGMA user_version = 99");
	error_clear(&e);
	ck_assert_ptr_null(db_open(tmp, &e));
	ck_assert_str_eq(e.source, dbpath);
	v = xasprintf("version %d ", DB_SCHEMA_VERSION);
	ck_assert_msg(strstr(e.text, "version 99") && strstr(e.text, v), "%s", e.text);
	free(v);
	/* Left as it was. */
	v = raw_query(dbpath, "PRAGMA user_version");
	ck_assert_str_eq(v, "99");
	free(v);
}
END_TEST

START_TEST(test_migration_is_a_transaction)
{
	struct kf_error e;
	struct db *db;
	char *v;

	/* Version 0 with an index of the name step 1 wants: step 1 fails half-way. */
	raw_exec(dbpath, "CREATE TABLE other (x); CREATE INDEX jobs_state_id ON other (x)");
	error_clear(&e);
	ck_assert_ptr_null(db_open(tmp, &e));
	ck_assert_str_eq(e.source, dbpath);
	ck_assert_msg(strstr(e.text, "version 1"), "%s", e.text);
	v = raw_query(dbpath, "SELECT count(*) FROM sqlite_master WHERE name = 'jobs'");
	ck_assert_str_eq(v, "0");
	free(v);
	v = raw_query(dbpath, "PRAGMA user_version");
	ck_assert_str_eq(v, "0");
	free(v);
	/* Without the clash, a version 0 file with other tables is migrated. */
	raw_exec(dbpath, "DROP INDEX jobs_state_id");
	db = open_db();
	v = xasprintf("%d", DB_SCHEMA_VERSION);
	check_raw("PRAGMA user_version", v);
	free(v);
	check_raw("SELECT count(*) FROM other", "0");
	db_close(db);
}
END_TEST

START_TEST(test_open_errors)
{
	struct kf_error e;
	char *file = xasprintf("%s/file", tmp);
	FILE *f;

	f = fopen(dbpath, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not an SQLite database, not even close to one; it is only text\n", f);
	fclose(f);
	error_clear(&e);
	ck_assert_ptr_null(db_open(tmp, &e));
	ck_assert_str_eq(e.source, dbpath);
	ck_assert_msg(strstr(e.text, "not a database"), "%s", e.text);
	/* A file where the state directory should be. */
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	error_clear(&e);
	ck_assert_ptr_null(db_open(file, &e));
	ck_assert_msg(e.text[0], "no error text");
	error_clear(&e);
	ck_assert_ptr_null(db_open(NULL, &e));
	ck_assert_msg(e.text[0], "no error text");
	ck_assert_ptr_null(db_open("", NULL));
	free(file);
}
END_TEST

START_TEST(test_new_get)
{
	struct db *db = open_db();
	const char *req = "{\"kernels\": [\"k-old\", \"k-new\"], \"smp\": [1, 2], "
			  "\"opts\": {\"fast\": true, \"seed\": null, \"ratio\": 0.5, "
			  "\"s\": \"\\u00e9\"}}";
	char before[32], after[32], *id;
	const char *created;
	json_t *job, *want = json_loads(req, 0, NULL);

	util_iso8601(before);
	id = add(db, "compare", req);
	util_iso8601(after);
	ck_assert_msg(is_id(id), "%s", id);
	job = get(db, id);
	ck_assert_str_eq(json_string_value(json_object_get(job, "id")), id);
	ck_assert_str_eq(json_string_value(json_object_get(job, "kind")), "compare");
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), DB_QUEUED);
	ck_assert_msg(json_equal(json_object_get(job, "request"), want), "the request changed");
	created = json_string_value(json_object_get(job, "created"));
	ck_assert_msg(is_iso(created), "%s", created ? created : "no created");
	ck_assert_msg(strcmp(before, created) <= 0 && strcmp(created, after) <= 0,
		      "created %s is not between %s and %s", created, before, after);
	/* Nothing else until it is set. */
	ck_assert_uint_eq(json_object_size(job), 5);
	json_decref(job);
	json_decref(want);
	free(id);
	id = add(db, "run", "{}");
	check_key(db, id, "kind", "run");
	free(id);
	db_close(db);
}
END_TEST

START_TEST(test_list)
{
	struct db *db = open_db();
	struct kf_error e;
	char *id[5];
	int i;

	for (i = 0; i < 5; i++)
		id[i] = add(db, "run", "{}");
	ck_assert_int_eq(db_job_start(db, id[1], "/r1", &e), 0);
	ck_assert_int_eq(db_job_start(db, id[3], "/r3", &e), 0);
	check_list(db_job_list(db, NULL, NULL, 1000, &e),
		   (const char *const[]){ id[4], id[3], id[2], id[1], id[0], NULL });
	check_list(db_job_list(db, DB_QUEUED, NULL, 1000, &e),
		   (const char *const[]){ id[4], id[2], id[0], NULL });
	check_list(db_job_list(db, DB_RUNNING, NULL, 1, &e),
		   (const char *const[]){ id[3], NULL });
	check_list(db_job_list(db, NULL, id[3], 1000, &e),
		   (const char *const[]){ id[2], id[1], id[0], NULL });
	check_list(db_job_list(db, DB_QUEUED, id[3], 1000, &e),
		   (const char *const[]){ id[2], id[0], NULL });
	check_list(db_job_list(db, NULL, NULL, 2, &e),
		   (const char *const[]){ id[4], id[3], NULL });
	check_list(db_job_list(db, NULL, id[0], 10, &e), (const char *const[]){ NULL });
	check_list(db_job_list(db, DB_DONE, NULL, 10, &e), (const char *const[]){ NULL });
	/* A listed job is the whole job. */
	{
		json_t *l = db_job_list(db, DB_RUNNING, NULL, 1, &e), *j = json_array_get(l, 0);

		ck_assert_str_eq(json_string_value(json_object_get(j, "run_dir")), "/r3");
		ck_assert(json_is_object(json_object_get(j, "request")));
		ck_assert(is_iso(json_string_value(json_object_get(j, "started"))));
		json_decref(l);
	}
	error_clear(&e);
	ck_assert_ptr_null(db_job_list(db, "bogus", NULL, 10, &e));
	ck_assert_str_eq(e.source, dbpath);
	ck_assert_msg(strstr(e.text, "\"bogus\" is not a job state"), "%s", e.text);
	error_clear(&e);
	ck_assert_ptr_null(db_job_list(db, NULL, NULL, 0, &e));
	ck_assert_msg(strstr(e.text, "not 0"), "%s", e.text);
	ck_assert_ptr_null(db_job_list(db, NULL, NULL, 1001, &e));
	ck_assert_msg(strstr(e.text, "not 1001"), "%s", e.text);
	for (i = 0; i < 5; i++)
		free(id[i]);
	db_close(db);
}
END_TEST

START_TEST(test_count)
{
	struct db *db = open_db();
	struct kf_error e;
	char *id[4];
	int i;

	ck_assert_int_eq(db_job_count(db, NULL, &e), 0);
	for (i = 0; i < 4; i++)
		id[i] = add(db, "run", "{}");
	ck_assert_int_eq(db_job_start(db, id[0], "/r", &e), 0);
	ck_assert_int_eq(db_job_cancel(db, id[1], &e), 1);
	ck_assert_int_eq(db_job_count(db, NULL, &e), 4);
	ck_assert_int_eq(db_job_count(db, DB_QUEUED, &e), 2);
	ck_assert_int_eq(db_job_count(db, DB_RUNNING, &e), 1);
	ck_assert_int_eq(db_job_count(db, DB_CANCELLED, &e), 1);
	ck_assert_int_eq(db_job_count(db, DB_DONE, &e), 0);
	error_clear(&e);
	ck_assert_int_eq(db_job_count(db, "Queued", &e), -1);
	ck_assert_msg(strstr(e.text, "\"Queued\""), "%s", e.text);
	for (i = 0; i < 4; i++)
		free(id[i]);
	db_close(db);
}
END_TEST

START_TEST(test_next)
{
	struct db *db = open_db();
	struct kf_error e;
	char *a, *b, *c, *n;

	error_clear(&e);
	ck_assert_ptr_null(db_job_next(db, &e));
	ck_assert_str_eq(e.text, "");
	a = add(db, "run", "{}");
	b = add(db, "run", "{}");
	c = add(db, "run", "{}");
	n = db_job_next(db, &e);
	ck_assert_str_eq(n, a);
	free(n);
	ck_assert_int_eq(db_job_start(db, a, "/a", &e), 0);
	n = db_job_next(db, &e);
	ck_assert_str_eq(n, b);
	free(n);
	ck_assert_int_eq(db_job_cancel(db, b, &e), 1);
	n = db_job_next(db, &e);
	ck_assert_str_eq(n, c);
	free(n);
	ck_assert_int_eq(db_job_start(db, c, "/c", &e), 0);
	error_clear(&e);
	ck_assert_ptr_null(db_job_next(db, &e));
	ck_assert_str_eq(e.text, "");
	free(a);
	free(b);
	free(c);
	db_close(db);
}
END_TEST

START_TEST(test_start)
{
	struct db *db = open_db();
	struct kf_error e;
	char *a = add(db, "run", "{}");
	json_t *job;

	ck_assert_msg(db_job_start(db, a, "/runs/a", &e) == 0, "%s", e.text);
	job = get(db, a);
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), DB_RUNNING);
	ck_assert_str_eq(json_string_value(json_object_get(job, "run_dir")), "/runs/a");
	ck_assert(is_iso(json_string_value(json_object_get(job, "started"))));
	ck_assert_ptr_null(json_object_get(job, "finished"));
	json_decref(job);
	/* Only from queued. */
	error_clear(&e);
	ck_assert_int_eq(db_job_start(db, a, "/runs/b", &e), -1);
	ck_assert_str_eq(e.source, dbpath);
	ck_assert_msg(strstr(e.text, a) && strstr(e.text, "is running, not queued"), "%s", e.text);
	check_key(db, a, "run_dir", "/runs/a");
	ck_assert_int_eq(db_job_end(db, a, DB_DONE, 0, NULL, NULL, &e), 0);
	ck_assert_int_eq(db_job_start(db, a, "/runs/c", &e), -1);
	ck_assert_msg(strstr(e.text, "is done"), "%s", e.text);
	check_state(db, a, DB_DONE);
	error_clear(&e);
	ck_assert_int_eq(db_job_start(db, "j20000101T000000000Z-0000", "/x", &e), -1);
	ck_assert_str_eq(e.text, "no job j20000101T000000000Z-0000");
	free(a);
	db_close(db);
}
END_TEST

START_TEST(test_progress)
{
	struct db *db = open_db();
	struct kf_error e;
	char *a = add(db, "run", "{}");
	json_t *p1 = json_pack("{s:i, s:i, s:i, s:i}", "guests_done", 1, "guests_total", 4,
			       "cells_done", 10, "cells_total", 40);
	json_t *p2 = json_pack("{s:i, s:i, s:i, s:i}", "guests_done", 2, "guests_total", 4,
			       "cells_done", 20, "cells_total", 40);
	json_t *job, *arr = json_array();

	ck_assert_int_eq(db_job_start(db, a, "/a", &e), 0);
	ck_assert_msg(db_job_progress(db, a, p1, &e) == 0, "%s", e.text);
	job = get(db, a);
	ck_assert(json_equal(json_object_get(job, "progress"), p1));
	json_decref(job);
	ck_assert_int_eq(db_job_progress(db, a, p2, &e), 0);
	job = get(db, a);
	ck_assert(json_equal(json_object_get(job, "progress"), p2));
	json_decref(job);
	error_clear(&e);
	ck_assert_int_eq(db_job_progress(db, a, arr, &e), -1);
	ck_assert_msg(strstr(e.text, a) && strstr(e.text, "not a JSON object"), "%s", e.text);
	ck_assert_int_eq(db_job_progress(db, a, NULL, &e), -1);
	error_clear(&e);
	ck_assert_int_eq(db_job_progress(db, "nope", p1, &e), -1);
	ck_assert_str_eq(e.text, "no job nope");
	job = get(db, a);
	ck_assert(json_equal(json_object_get(job, "progress"), p2));
	json_decref(job);
	json_decref(p1);
	json_decref(p2);
	json_decref(arr);
	free(a);
	db_close(db);
}
END_TEST

START_TEST(test_end)
{
	struct db *db = open_db();
	struct kf_error e;
	char *a = add(db, "compare", "{}"), *b = add(db, "compare", "{}");
	json_t *sum = json_pack("{s:i, s:i}", "same", 30, "changed", 2), *job, *s;

	ck_assert_int_eq(db_job_start(db, a, "/a", &e), 0);
	ck_assert_msg(db_job_end(db, a, DB_DONE, 1, sum, NULL, &e) == 0, "%s", e.text);
	job = get(db, a);
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), DB_DONE);
	ck_assert(is_iso(json_string_value(json_object_get(job, "finished"))));
	ck_assert(json_is_integer(json_object_get(job, "exit_status")));
	ck_assert_int_eq(json_integer_value(json_object_get(job, "exit_status")), 1);
	ck_assert(json_equal(json_object_get(job, "summary"), sum));
	ck_assert_ptr_null(json_object_get(job, "error"));
	json_decref(job);
	/* Final: a second end changes nothing and is no error. */
	s = json_pack("{s:i}", "other", 1);
	ck_assert_int_eq(db_job_end(db, a, DB_FAILED, 7, s, "late", &e), 0);
	json_decref(s);
	job = get(db, a);
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), DB_DONE);
	ck_assert_int_eq(json_integer_value(json_object_get(job, "exit_status")), 1);
	ck_assert(json_equal(json_object_get(job, "summary"), sum));
	ck_assert_ptr_null(json_object_get(job, "error"));
	json_decref(job);
	/* Failed, with an error and no exit status or summary. */
	ck_assert_int_eq(db_job_start(db, b, "/b", &e), 0);
	ck_assert_int_eq(db_job_end(db, b, DB_FAILED, -1, NULL, "the worker died: signal 9", &e),
			 0);
	job = get(db, b);
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), DB_FAILED);
	ck_assert_str_eq(json_string_value(json_object_get(job, "error")),
			 "the worker died: signal 9");
	ck_assert_ptr_null(json_object_get(job, "exit_status"));
	ck_assert_ptr_null(json_object_get(job, "summary"));
	json_decref(job);
	/* Bad ends. */
	error_clear(&e);
	ck_assert_int_eq(db_job_end(db, a, DB_RUNNING, 0, NULL, NULL, &e), -1);
	ck_assert_msg(strstr(e.text, "cannot end as \"running\""), "%s", e.text);
	ck_assert_int_eq(db_job_end(db, a, NULL, 0, NULL, NULL, &e), -1);
	ck_assert_int_eq(db_job_end(db, a, "bogus", 0, NULL, NULL, &e), -1);
	error_clear(&e);
	ck_assert_int_eq(db_job_end(db, "j1", DB_DONE, 0, NULL, NULL, &e), -1);
	ck_assert_str_eq(e.text, "no job j1");
	s = json_string("x");
	ck_assert_int_eq(db_job_end(db, a, DB_DONE, 0, s, NULL, &e), -1);
	json_decref(s);
	json_decref(sum);
	free(a);
	free(b);
	db_close(db);
}
END_TEST

START_TEST(test_end_after_cancel)
{
	struct db *db = open_db();
	struct kf_error e;
	char *a = add(db, "run", "{}");
	json_t *sum = json_pack("{s:i}", "same", 1), *job;

	ck_assert_int_eq(db_job_cancel(db, a, &e), 1);
	ck_assert_int_eq(db_job_end(db, a, DB_DONE, 0, sum, "x", &e), 0);
	job = get(db, a);
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), DB_CANCELLED);
	ck_assert_ptr_null(json_object_get(job, "exit_status"));
	ck_assert_ptr_null(json_object_get(job, "summary"));
	ck_assert_ptr_null(json_object_get(job, "error"));
	json_decref(job);
	json_decref(sum);
	free(a);
	db_close(db);
}
END_TEST

START_TEST(test_cancel)
{
	struct db *db = open_db();
	struct kf_error e;
	char *q = add(db, "run", "{}"), *r = add(db, "run", "{}"), *d = add(db, "run", "{}");

	ck_assert_int_eq(db_job_cancel(db, q, &e), 1);
	check_state(db, q, DB_CANCELLED);
	{
		json_t *job = get(db, q);

		ck_assert(is_iso(json_string_value(json_object_get(job, "finished"))));
		json_decref(job);
	}
	ck_assert_int_eq(db_job_start(db, r, "/r", &e), 0);
	ck_assert_int_eq(db_job_cancel(db, r, &e), 0);
	check_state(db, r, DB_RUNNING);
	check_key(db, r, "finished", NULL);
	ck_assert_int_eq(db_job_start(db, d, "/d", &e), 0);
	ck_assert_int_eq(db_job_end(db, d, DB_DONE, 0, NULL, NULL, &e), 0);
	error_clear(&e);
	ck_assert_int_eq(db_job_cancel(db, d, &e), -1);
	ck_assert_str_eq(e.source, dbpath);
	ck_assert_msg(strstr(e.text, d) && strstr(e.text, "already done"), "%s", e.text);
	check_state(db, d, DB_DONE);
	error_clear(&e);
	ck_assert_int_eq(db_job_cancel(db, q, &e), -1);
	ck_assert_msg(strstr(e.text, "already cancelled"), "%s", e.text);
	error_clear(&e);
	ck_assert_int_eq(db_job_cancel(db, "j20991231T235959999Z-ffff", &e), -1);
	ck_assert_str_eq(e.text, "no job j20991231T235959999Z-ffff");
	free(q);
	free(r);
	free(d);
	db_close(db);
}
END_TEST

START_TEST(test_interrupted_requeue)
{
	struct db *db = open_db();
	struct kf_error e;
	char *a = add(db, "run", "{}"), *b = add(db, "run", "{}"), *c = add(db, "run", "{}");
	char *d = add(db, "run", "{}");
	json_t *p = json_pack("{s:i}", "cells_done", 3), *job;

	ck_assert_int_eq(db_job_start(db, a, "/a", &e), 0);
	ck_assert_int_eq(db_job_start(db, b, "/b", &e), 0);
	ck_assert_int_eq(db_job_progress(db, a, p, &e), 0);
	ck_assert_int_eq(db_jobs_interrupted(db, &e), 2);
	check_state(db, a, DB_INTERRUPTED);
	check_state(db, b, DB_INTERRUPTED);
	check_state(db, c, DB_QUEUED);
	ck_assert_int_eq(db_jobs_interrupted(db, &e), 0);
	ck_assert_int_eq(db_job_count(db, DB_INTERRUPTED, &e), 2);
	/* Back to queued, keeping the run directory; started again there. */
	ck_assert_msg(db_job_requeue(db, a, &e) == 0, "%s", e.text);
	job = get(db, a);
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), DB_QUEUED);
	ck_assert_str_eq(json_string_value(json_object_get(job, "run_dir")), "/a");
	ck_assert(json_equal(json_object_get(job, "progress"), p));
	ck_assert_ptr_null(json_object_get(job, "finished"));
	json_decref(job);
	{
		char *n = db_job_next(db, &e);

		ck_assert_str_eq(n, a);
		free(n);
	}
	ck_assert_int_eq(db_job_start(db, a, NULL, &e), 0);
	check_key(db, a, "run_dir", "/a");
	/* Only interrupted jobs. */
	error_clear(&e);
	ck_assert_int_eq(db_job_requeue(db, c, &e), -1);
	ck_assert_msg(strstr(e.text, c) && strstr(e.text, "is queued, not interrupted"), "%s",
		      e.text);
	ck_assert_int_eq(db_job_requeue(db, a, &e), -1);
	ck_assert_msg(strstr(e.text, "is running"), "%s", e.text);
	error_clear(&e);
	ck_assert_int_eq(db_job_requeue(db, "j0", &e), -1);
	ck_assert_str_eq(e.text, "no job j0");
	/* A worker may end its own job as interrupted too; nothing runs it, so cancel takes it. */
	ck_assert_int_eq(db_job_start(db, d, "/d", &e), 0);
	ck_assert_int_eq(db_job_end(db, d, DB_INTERRUPTED, -1, NULL, "stopped", &e), 0);
	check_state(db, d, DB_INTERRUPTED);
	ck_assert_int_eq(db_job_cancel(db, b, &e), 1);
	check_state(db, b, DB_CANCELLED);
	json_decref(p);
	free(a);
	free(b);
	free(c);
	free(d);
	db_close(db);
}
END_TEST

START_TEST(test_two_connections)
{
	struct db *x = open_db(), *y = open_db();
	struct kf_error e;
	char *a = add(x, "run", "{\"from\": \"x\"}"), *b = add(y, "nightly", "{\"from\": \"y\"}");
	char *n;

	check_state(y, a, DB_QUEUED);
	check_key(x, b, "kind", "nightly");
	ck_assert_int_eq(db_job_start(y, a, "/a", &e), 0);
	check_state(x, a, DB_RUNNING);
	ck_assert_int_eq(db_job_count(x, NULL, &e), 2);
	ck_assert_int_eq(db_job_count(y, DB_RUNNING, &e), 1);
	n = db_job_next(x, &e);
	ck_assert_str_eq(n, b);
	free(n);
	ck_assert_int_eq(db_job_cancel(x, b, &e), 1);
	check_state(y, b, DB_CANCELLED);
	ck_assert_int_eq(db_jobs_interrupted(y, &e), 1);
	check_state(x, a, DB_INTERRUPTED);
	free(a);
	free(b);
	db_close(x);
	db_close(y);
}
END_TEST

START_TEST(test_busy_waits)
{
	struct db *db = open_db();
	struct kf_error e;
	int fds[2];
	char c;
	pid_t pid;
	int64_t t0, waited;
	char *id;
	int status;
	json_t *req = json_object();

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *h;
		int rc = sqlite3_open(dbpath, &h);

		/* Another process holds the write lock for 300 ms. */
		rc = rc ?: sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (write(fds[1], "x", 1) != 1)
			rc = 1;
		usleep(300 * 1000);
		rc = rc ?: sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(h);
		_exit(rc ? 1 : 0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	t0 = util_now_ms();
	id = db_job_new(db, "run", req, &e);
	waited = util_now_ms() - t0;
	ck_assert_msg(id != NULL, "%s", e.text);
	ck_assert_msg(waited >= 200, "db_job_new took %lld ms: the lock was not held",
		      (long long)waited);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	json_decref(req);
	free(id);
	db_close(db);
}
END_TEST

START_TEST(test_ids_sorted)
{
	struct db *x = open_db(), *y = open_db();
	struct kf_error e;
	char *ids[200];
	json_t *list;
	int i;

	/* Quick creations, alternating between two connections. */
	for (i = 0; i < 200; i++) {
		ids[i] = add(i % 2 ? y : x, "run", "{}");
		ck_assert_msg(is_id(ids[i]), "%s", ids[i]);
		if (i)
			ck_assert_msg(strcmp(ids[i - 1], ids[i]) < 0, "%s then %s", ids[i - 1],
				      ids[i]);
	}
	ck_assert_int_eq(db_job_count(x, NULL, &e), 200);
	list = db_job_list(y, NULL, NULL, 1000, &e);
	ck_assert_uint_eq(json_array_size(list), 200);
	for (i = 0; i < 200; i++) {
		json_t *job = json_array_get(list, 199 - i);

		ck_assert_str_eq(json_string_value(json_object_get(job, "id")), ids[i]);
	}
	json_decref(list);
	for (i = 0; i < 200; i++)
		free(ids[i]);
	db_close(x);
	db_close(y);
}
END_TEST

START_TEST(test_bad_input)
{
	struct db *db = open_db();
	struct kf_error e;
	json_t *arr = json_array(), *str = json_string("{}"), *obj = json_object();
	char *a = add(db, "run", "{}");

	error_clear(&e);
	ck_assert_ptr_null(db_job_new(db, "run", arr, &e));
	ck_assert_str_eq(e.source, dbpath);
	ck_assert_str_eq(e.text, "the job's request is not a JSON object");
	ck_assert_ptr_null(db_job_new(db, "run", str, &e));
	ck_assert_ptr_null(db_job_new(db, "run", NULL, &e));
	error_clear(&e);
	ck_assert_ptr_null(db_job_new(db, NULL, obj, &e));
	ck_assert_msg(strstr(e.text, "no job kind given"), "%s", e.text);
	error_clear(&e);
	ck_assert_ptr_null(db_job_new(db, "bisection", obj, &e));
	ck_assert_msg(strstr(e.text, "\"bisection\" is not a job kind"), "%s", e.text);
	ck_assert_ptr_null(db_job_new(db, "run", arr, NULL));
	ck_assert_int_eq(db_job_count(db, NULL, &e), 1);
	/* Ids that are not ids, quotes included, are only not found. */
	error_clear(&e);
	ck_assert_ptr_null(db_job_get(db, "x' OR '1'='1", &e));
	ck_assert_str_eq(e.text, "no job x' OR '1'='1");
	ck_assert_ptr_null(db_job_get(db, NULL, &e));
	ck_assert_ptr_null(db_job_get(db, "", NULL));
	ck_assert_int_eq(db_job_start(db, NULL, "/x", &e), -1);
	ck_assert_int_eq(db_job_cancel(db, NULL, NULL), -1);
	/* No database. */
	error_clear(&e);
	ck_assert_ptr_null(db_job_new(NULL, "run", obj, &e));
	ck_assert_str_eq(e.text, "no job database");
	ck_assert_ptr_null(db_job_get(NULL, a, &e));
	ck_assert_ptr_null(db_job_list(NULL, NULL, NULL, 10, &e));
	ck_assert_int_eq(db_job_count(NULL, NULL, &e), -1);
	ck_assert_ptr_null(db_job_next(NULL, &e));
	ck_assert_int_eq(db_job_start(NULL, a, "/x", &e), -1);
	ck_assert_int_eq(db_job_progress(NULL, a, obj, &e), -1);
	ck_assert_int_eq(db_job_end(NULL, a, DB_DONE, 0, NULL, NULL, &e), -1);
	ck_assert_int_eq(db_job_cancel(NULL, a, &e), -1);
	ck_assert_int_eq(db_jobs_interrupted(NULL, &e), -1);
	ck_assert_int_eq(db_job_requeue(NULL, a, NULL), -1);
	check_state(db, a, DB_QUEUED);
	/* A stored request that is not JSON (written behind our back) is an error. */
	raw_exec(dbpath, "UPDATE jobs SET request = '{\"half'");
	error_clear(&e);
	ck_assert_ptr_null(db_job_get(db, a, &e));
	ck_assert_str_eq(e.source, dbpath);
	ck_assert_msg(strstr(e.text, a) && strstr(e.text, "request is not a JSON object"), "%s",
		      e.text);
	ck_assert_ptr_null(db_job_list(db, NULL, NULL, 10, &e));
	json_decref(arr);
	json_decref(str);
	json_decref(obj);
	free(a);
	db_close(db);
}
END_TEST

START_TEST(test_states)
{
	static const char *const all[] = { DB_QUEUED, DB_RUNNING, DB_DONE, DB_FAILED,
					   DB_CANCELLED, DB_INTERRUPTED };
	int i;

	for (i = 0; i < 6; i++)
		ck_assert_msg(db_state_valid(all[i]), "%s", all[i]);
	ck_assert(!db_state_valid("bogus"));
	ck_assert(!db_state_valid("QUEUED"));
	ck_assert(!db_state_valid(NULL));
	ck_assert(db_state_final(DB_DONE) && db_state_final(DB_FAILED) &&
		  db_state_final(DB_CANCELLED));
	ck_assert(!db_state_final(DB_QUEUED) && !db_state_final(DB_RUNNING) &&
		  !db_state_final(DB_INTERRUPTED) && !db_state_final(NULL));
}
END_TEST

/* Element @i of @list's @key: a string, or an integer as text (owned; NULL: absent). */
static char *field(json_t *list, size_t i, const char *key)
{
	json_t *v = json_object_get(json_array_get(list, i), key);

	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static void check_field(json_t *list, size_t i, const char *key, const char *want)
{
	char *got = field(list, i, key);

	if (want)
		ck_assert_msg(got && !strcmp(got, want), "[%zu].%s is %s, not %s", i, key,
			      got ? got : "absent", want);
	else
		ck_assert_msg(!got, "[%zu].%s is %s, not absent", i, key, got);
	free(got);
}

static json_t *due(struct db *db)
{
	struct kf_error e;
	json_t *list = db_webhooks_due(db, 100, &e);

	ck_assert_msg(list != NULL, "%s: %s", e.source, e.text);
	return list;
}

static json_t *hooks_of(struct db *db, const char *id)
{
	struct kf_error e;
	json_t *list = db_webhook_list(db, id, &e);

	ck_assert_msg(list != NULL, "%s: %s", e.source, e.text);
	return list;
}

/* Two URLs: due at once, an attempt takes a lease, a retry, delivered, failed, ended again. */
START_TEST(test_webhooks)
{
	static const char *const urls[] = { "http://b.example/hook", "http://a.example/hook" };
	const char *body = "{\"id\":\"x\",\"state\":\"done\", \"note\":\"k\\u00e9 \"}";
	struct db *db = open_db();
	char *a = add(db, "compare", "{}"), *b = add(db, "run", "{}");
	struct kf_error e;
	json_t *l;
	long long in;

	ck_assert_int_eq(db_webhook_next_due(db, &e), -1);
	l = hooks_of(db, a);
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	ck_assert_int_eq(db_webhooks_add(db, a, urls, 2, body, &e), 0);
	ck_assert_int_eq(db_webhook_next_due(db, &e), 0);
	l = due(db);
	ck_assert_uint_eq(json_array_size(l), 2);
	check_field(l, 0, "job", a);
	check_field(l, 0, "payload", body);
	check_field(l, 0, "attempts", "0");
	json_decref(l);
	l = hooks_of(db, a);
	ck_assert_uint_eq(json_array_size(l), 2);
	check_field(l, 0, "url", urls[1]);
	check_field(l, 0, "state", DB_HOOK_PENDING);
	check_field(l, 0, "attempts", "0");
	check_field(l, 0, "last_error", NULL);
	json_decref(l);

	/* An attempt under way is not due until its lease runs out. */
	ck_assert_int_eq(db_webhook_begin(db, a, urls[0], 60000, &e), 1);
	ck_assert_int_eq(db_webhook_begin(db, a, urls[1], 60000, &e), 1);
	l = due(db);
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	in = db_webhook_next_due(db, &e);
	ck_assert_msg(in > 55000 && in <= 60000, "next due in %lld ms", in);
	/* url 0 fails, due again at once; url 1 fails for good. */
	ck_assert_int_eq(db_webhook_end(db, a, urls[0], 1, DB_HOOK_PENDING, "HTTP 500", 0, &e), 0);
	ck_assert_int_eq(db_webhook_end(db, a, urls[1], 1, DB_HOOK_FAILED, "refused", 0, &e), 0);
	l = due(db);
	ck_assert_uint_eq(json_array_size(l), 1);
	check_field(l, 0, "url", urls[0]);
	check_field(l, 0, "attempts", "1");
	json_decref(l);
	ck_assert_int_eq(db_webhook_begin(db, a, urls[0], 60000, &e), 2);
	ck_assert_int_eq(db_webhook_begin(db, a, urls[1], 60000, &e), -1);
	ck_assert_msg(strstr(e.text, "no pending webhook") && strstr(e.text, urls[1]), "%s", e.text);
	ck_assert_int_eq(db_webhook_end(db, a, urls[0], 2, DB_HOOK_DELIVERED, NULL, 0, &e), 0);
	ck_assert_int_eq(db_webhook_next_due(db, &e), -1);
	l = hooks_of(db, a);
	check_field(l, 0, "state", DB_HOOK_FAILED);
	check_field(l, 0, "attempts", "1");
	check_field(l, 0, "last_error", "refused");
	check_field(l, 1, "url", urls[0]);
	check_field(l, 1, "state", DB_HOOK_DELIVERED);
	check_field(l, 1, "attempts", "2");
	check_field(l, 1, "last_error", "HTTP 500");
	json_decref(l);
	/* Another job's deliveries are its own. */
	l = hooks_of(db, b);
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);

	/* The job ends again: its deliveries start over with the new body. */
	ck_assert_int_eq(db_webhooks_add(db, a, urls, 1, "{\"again\":1}", &e), 0);
	l = hooks_of(db, a);
	check_field(l, 1, "state", DB_HOOK_PENDING);
	check_field(l, 1, "attempts", "0");
	check_field(l, 1, "last_error", NULL);
	check_field(l, 0, "state", DB_HOOK_FAILED);
	json_decref(l);
	/* An attempt of before (number 2) that ends late changes nothing. */
	ck_assert_int_eq(db_webhook_end(db, a, urls[0], 2, DB_HOOK_DELIVERED, NULL, 0, &e), 0);
	l = due(db);
	ck_assert_uint_eq(json_array_size(l), 1);
	check_field(l, 0, "payload", "{\"again\":1}");
	json_decref(l);
	check_raw("SELECT count(*) FROM webhooks", "2");
	db_close(db);
	free(a);
	free(b);
}
END_TEST

/* A daemon that dies mid-attempt: at the next start the delivery is due again, counted. */
START_TEST(test_webhooks_resume)
{
	static const char *const urls[] = { "http://a.example/hook", "http://b.example/hook" };
	struct db *db = open_db();
	char *a = add(db, "compare", "{}"), *b = add(db, "compare", "{}");
	struct kf_error e;
	json_t *l;

	ck_assert_int_eq(db_webhooks_add(db, a, urls, 1, "{\"a\":1}", &e), 0);
	ck_assert_int_eq(db_webhooks_add(db, b, urls, 2, "{\"b\":2}", &e), 0);
	ck_assert_int_eq(db_webhook_begin(db, a, urls[0], 600000, &e), 1);
	ck_assert_int_eq(db_webhook_end(db, a, urls[0], 1, DB_HOOK_PENDING, "HTTP 503", 300000, &e), 0);
	ck_assert_int_eq(db_webhook_begin(db, a, urls[0], 600000, &e), 2);
	ck_assert_int_eq(db_webhook_begin(db, b, urls[1], 600000, &e), 1);
	ck_assert_int_eq(db_webhook_end(db, b, urls[1], 1, DB_HOOK_DELIVERED, NULL, 0, &e), 0);
	db_close(db);	/* dies with an attempt under way */

	db = open_db();
	l = due(db);
	ck_assert_uint_eq(json_array_size(l), 1);	/* b's first URL */
	json_decref(l);
	l = db_webhooks_resume(db, &e);
	ck_assert_msg(l != NULL, "%s", e.text);
	ck_assert_uint_eq(json_array_size(l), 2);
	check_field(l, 0, "job", a);
	check_field(l, 0, "url", urls[0]);
	check_field(l, 0, "attempts", "2");
	check_field(l, 0, "payload", NULL);
	check_field(l, 1, "job", b);
	check_field(l, 1, "url", urls[0]);
	check_field(l, 1, "attempts", "0");
	json_decref(l);
	l = due(db);
	ck_assert_uint_eq(json_array_size(l), 2);
	/* b's, due since it was written, then a's, due since the start */
	check_field(l, 0, "payload", "{\"b\":2}");
	check_field(l, 1, "payload", "{\"a\":1}");
	json_decref(l);
	ck_assert_int_eq(db_webhook_begin(db, a, urls[0], 1000, &e), 3);
	l = hooks_of(db, a);
	check_field(l, 0, "last_error", "HTTP 503");
	json_decref(l);

	/* What is refused, naming the database. */
	error_clear(&e);
	ck_assert_int_eq(db_webhook_end(db, a, urls[0], 3, "lost", NULL, 0, &e), -1);
	ck_assert_str_eq(e.source, dbpath);
	ck_assert_msg(strstr(e.text, "\"lost\""), "%s", e.text);
	ck_assert_int_eq(db_webhooks_add(db, a, urls, 1, NULL, &e), -1);
	ck_assert_int_eq(db_webhooks_add(db, NULL, urls, 1, "{}", &e), -1);
	ck_assert_ptr_null(db_webhooks_due(db, 0, &e));
	ck_assert_ptr_null(db_webhook_list(db, "", &e));
	ck_assert_int_eq(db_webhook_begin(db, "nosuch", urls[0], 0, &e), -1);
	ck_assert_ptr_null(db_webhooks_resume(NULL, &e));
	ck_assert_int_eq(db_webhook_next_due(NULL, &e), -2);
	db_close(db);
	free(a);
	free(b);
}
END_TEST

/* A database of schema version 1 (jobs only) gains the webhooks table and keeps its jobs. */
START_TEST(test_migrate_from_1)
{
	struct db *db;
	struct kf_error e;
	json_t *l;
	char *v;

	raw_exec(dbpath, "CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
		 "request TEXT NOT NULL, state TEXT NOT NULL, created TEXT NOT NULL, "
		 "started TEXT, finished TEXT, progress TEXT, exit_status INTEGER, run_dir TEXT, "
		 "summary TEXT, error TEXT); CREATE INDEX jobs_state_id ON jobs (state, id); "
		 "INSERT INTO jobs (id, kind, request, state, created) VALUES "
		 "('j20261202T101500123Z-3fa9', 'compare', '{}', 'done', '2026-12-02T10:15:00Z'); "
		 "PRAGMA user_version = 1");
	db = open_db();
	v = xasprintf("%d", DB_SCHEMA_VERSION);
	check_raw("PRAGMA user_version", v);
	free(v);
	check_state(db, "j20261202T101500123Z-3fa9", DB_DONE);
	check_raw("SELECT group_concat(name, ',') FROM pragma_table_info('webhooks')",
		  "job_id,url,payload,state,attempts,last_error,next_attempt,created,updated");
	check_raw("SELECT group_concat(name, ',') FROM pragma_index_info('webhooks_state_next')",
		  "state,next_attempt");
	l = db_webhooks_resume(db, &e);
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	db_close(db);
}
END_TEST

static Suite *db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *t = tcase_create("db");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_open_creates);
	tcase_add_test(t, test_reopen_keeps_jobs);
	tcase_add_test(t, test_future_refused);
	tcase_add_test(t, test_migration_is_a_transaction);
	tcase_add_test(t, test_open_errors);
	tcase_add_test(t, test_new_get);
	tcase_add_test(t, test_list);
	tcase_add_test(t, test_count);
	tcase_add_test(t, test_next);
	tcase_add_test(t, test_start);
	tcase_add_test(t, test_progress);
	tcase_add_test(t, test_end);
	tcase_add_test(t, test_end_after_cancel);
	tcase_add_test(t, test_cancel);
	tcase_add_test(t, test_interrupted_requeue);
	tcase_add_test(t, test_two_connections);
	tcase_add_test(t, test_busy_waits);
	tcase_add_test(t, test_ids_sorted);
	tcase_add_test(t, test_bad_input);
	tcase_add_test(t, test_states);
	tcase_add_test(t, test_webhooks);
	tcase_add_test(t, test_webhooks_resume);
	tcase_add_test(t, test_migrate_from_1);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(db_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
