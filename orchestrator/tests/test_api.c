/* SPDX-License-Identifier: MIT */
/*
 * api.c without HTTP: requests in, statuses and JSON out, against a real job
 * database in a temporary directory and the embedded default config.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "util.h"

static char tmp[64];
static struct config cfg;
static struct api_ctx ctx;
static int cancelled, queued;

static int on_cancel(void *arg, const char *id)
{
	(void)arg;
	(void)id;
	cancelled++;
	return 0;
}

static void on_queued(void *arg)
{
	(void)arg;
	queued++;
}

static void setup(void)
{
	struct kf_error e;

	strcpy(tmp, "/tmp/kfarm-api-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	config_init(&cfg);
	ck_assert_int_eq(config_load_default(&cfg, &e), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.db = db_open(tmp, &e);
	ck_assert_msg(ctx.db != NULL, "%s", e.text);
	ctx.cfg = &cfg;
	ctx.queue_max = 3;
	ctx.cancel = on_cancel;
	ctx.queued = on_queued;
	ctx.started_ms = util_now_ms();
	cancelled = queued = 0;
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmp);

	db_close(ctx.db);
	config_release(&cfg);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* @method @path with @body: the status; *@out the answer's JSON (new) when it is JSON. */
static int call(const char *method, const char *path, const char *body, json_t **out)
{
	struct api_request rq = { .method = method, .path = path, .body = body,
				  .body_len = body ? strlen(body) : 0 };
	struct api_response rs;
	char *q = strchr(path, '?');
	char *p = q ? strndup(path, (size_t)(q - path)) : xstrdup(path);
	int status;

	rq.path = p;
	rq.query = json_object();
	if (q) {
		char *args = xstrdup(q + 1), *save = NULL, *kv;

		for (kv = strtok_r(args, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');

			if (eq)
				*eq++ = 0;
			json_object_set_new(rq.query, kv, json_string(eq ? eq : ""));
		}
		free(args);
	}
	api_handle(&ctx, &rq, &rs);
	status = rs.status;
	if (out)
		*out = rs.body && !strncmp(rs.content_type, "application/json", 16) ?
		       json_loads(rs.body, 0, NULL) : NULL;
	if (status >= 400 && out && *out)
		ck_assert_msg(json_is_string(json_object_get(*out, "error")),
			      "%s %s: %d without an error string", method, path, status);
	api_response_release(&rs);
	json_decref(rq.query);
	free(p);
	return status;
}

/* The "field" of an error answer, or "". */
static const char *field(json_t *ans)
{
	const char *f = json_string_value(json_object_get(ans, "field"));

	return f ? f : "";
}

START_TEST(submit_and_get)
{
	json_t *ans, *job;
	char *path;
	const char *id;

	ck_assert_int_eq(call("POST", "/v1/jobs", "{\"kind\": \"compare\", \"a\": \"debian-6.1\", "
			      "\"b\": \"debian-6.12\", \"smp\": [1, 2], \"reps\": 3, "
			      "\"scenarios\": [\"sds-zero\"]}", &ans), 201);
	id = json_string_value(json_object_get(ans, "id"));
	ck_assert_ptr_nonnull(id);
	ck_assert_int_eq(queued, 1);
	path = xasprintf("/v1/jobs/%s", id);
	ck_assert_int_eq(call("GET", path, NULL, &job), 200);
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), "queued");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(job, "request"),
							    "reps")), 3);
	json_decref(job);
	ck_assert_int_eq(call("GET", "/v1/jobs?state=queued&limit=5", NULL, &job), 200);
	ck_assert_int_eq((int)json_array_size(json_object_get(job, "jobs")), 1);
	json_decref(job);
	/* a queued job is cancelled at once; a second cancel is a conflict */
	ck_assert_int_eq(call("DELETE", path, NULL, &job), 202);
	ck_assert_str_eq(json_string_value(json_object_get(job, "state")), "cancelled");
	json_decref(job);
	ck_assert_int_eq(call("DELETE", path, NULL, NULL), 409);
	ck_assert_int_eq(cancelled, 0);
	free(path);
	json_decref(ans);
}
END_TEST

/* GET of a job that ended under --webhook shows its deliveries; a job without any, none. */
START_TEST(job_webhooks)
{
	static const char *const urls[] = { "http://hooks.example/a" };
	struct kf_error e;
	json_t *ans, *job, *h;
	char *path, *id;

	ck_assert_int_eq(call("POST", "/v1/jobs", "{\"kind\": \"run\", \"kernels\": "
			      "[\"debian-6.1\"]}", &ans), 201);
	id = xstrdup(json_string_value(json_object_get(ans, "id")));
	json_decref(ans);
	path = xasprintf("/v1/jobs/%s", id);
	ck_assert_int_eq(db_job_start(ctx.db, id, "/nowhere", &e), 0);
	ck_assert_int_eq(db_job_end(ctx.db, id, DB_DONE, 0, NULL, NULL, &e), 0);
	ck_assert_int_eq(call("GET", path, NULL, &job), 200);
	ck_assert_ptr_null(json_object_get(job, "webhooks"));
	json_decref(job);
	ck_assert_int_eq(db_webhooks_add(ctx.db, id, urls, 1, "{}", &e), 0);
	ck_assert_int_eq(db_webhook_begin(ctx.db, id, urls[0], 1000, &e), 1);
	ck_assert_int_eq(db_webhook_end(ctx.db, id, urls[0], 1, DB_HOOK_PENDING, "HTTP 500", 1000,
					&e), 0);
	ck_assert_int_eq(call("GET", path, NULL, &job), 200);
	ck_assert_uint_eq(json_array_size(json_object_get(job, "webhooks")), 1);
	h = json_array_get(json_object_get(job, "webhooks"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(h, "url")), urls[0]);
	ck_assert_str_eq(json_string_value(json_object_get(h, "state")), "pending");
	ck_assert_int_eq(json_integer_value(json_object_get(h, "attempts")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(h, "last_error")), "HTTP 500");
	ck_assert_uint_eq(json_object_size(h), 4);	/* no payload */
	json_decref(job);
	/* The list of jobs stays without them. */
	ck_assert_int_eq(call("GET", "/v1/jobs", NULL, &ans), 200);
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(ans, "jobs"), 0),
					   "webhooks"));
	json_decref(ans);
	free(path);
	free(id);
}
END_TEST

START_TEST(bad_requests)
{
	static const struct {
		const char *body;
		int status;
		const char *field;
	} cases[] = {
		{ "", 400, "" },
		{ "{\"kind\": ", 400, "" },
		{ "[]", 400, "" },
		{ "{\"kind\": \"bisect\"}", 400, "kernels" },
		{ "{\"kind\": \"Bisect\"}", 400, "kind" },
		{ "{\"kind\": \"bisect\", \"kernels\": [\"debian-6.1\"]}", 400, "kernels" },
		{ "{\"kind\": \"bisect\", \"good\": \"v1\", \"bad\": \"v2\"}", 400, "good" },
		{ "{\"kind\": \"bisect\", \"good\": \"v1\", \"bad\": \"-v2\"}", 400, "bad" },
		{ "{\"kind\": \"run\", \"kernels\": [\"debian-6.1\"], \"bad\": \"v2\"}", 400, "bad" },
		{ "{\"kind\": \"bisect\", \"kernels\": [\"debian-6.1\", \"debian-6.12\"], "
		  "\"fresh\": true}", 400, "fresh" },
		{ "{\"kind\": \"compare\", \"a\": \"debian-6.1\", \"b\": \"debian-6.12\", \"x\": 1}", 400, "x" },
		{ "{\"kind\": \"compare\", \"a\": \"debian-6.1\"}", 400, "b" },
		{ "{\"kind\": \"compare\", \"a\": \"nosuch\", \"b\": \"debian-6.12\"}", 400, "a" },
		{ "{\"kind\": \"compare\", \"a\": \"--smp\", \"b\": \"debian-6.12\"}", 400, "a" },
		{ "{\"kind\": \"compare\", \"a\": \"path:/etc/passwd\", \"b\": \"debian-6.12\"}", 403, "a" },
		/* a file:// URL is no way round --allow-path, with url: or without */
		{ "{\"kind\": \"compare\", \"a\": \"url:file:///etc/passwd\", \"b\": \"debian-6.12\"}", 403, "a" },
		{ "{\"kind\": \"run\", \"kernels\": [\"file:///etc/passwd\"]}", 403, "kernels" },
		{ "{\"kind\": \"compare\", \"a\": \"debian-6.1\", \"b\": \"debian-6.12\", \"smp\": [0]}", 400, "smp" },
		{ "{\"kind\": \"compare\", \"a\": \"debian-6.1\", \"b\": \"debian-6.12\", \"reps\": \"5\"}", 400, "reps" },
		{ "{\"kind\": \"compare\", \"a\": \"debian-6.1\", \"b\": \"debian-6.12\", \"boots\": 0}", 400, "boots" },
		/* a worker's kfarm takes at most CONFIG_BOOTS_MAX (64): refused here, not there */
		{ "{\"kind\": \"compare\", \"a\": \"debian-6.1\", \"b\": \"debian-6.12\", \"boots\": 65}", 400, "boots" },
		{ "{\"kind\": \"compare\", \"a\": \"debian-6.1\", \"b\": \"debian-6.12\", "
		  "\"scenarios\": [\"no-such-cell\"]}", 400, "scenarios" },
		{ "{\"kind\": \"run\", \"kernels\": []}", 400, "kernels" },
		{ "{\"kind\": \"run\", \"kernels\": [\"debian-6.1\"], \"a\": \"x\"}", 400, "a" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *ans = NULL;
		int st = call("POST", "/v1/jobs", cases[i].body, &ans);

		ck_assert_msg(st == cases[i].status, "case %zu (%s): %d, not %d", i, cases[i].body, st,
			      cases[i].status);
		ck_assert_msg(ans && !strcmp(field(ans), cases[i].field), "case %zu: field \"%s\", not \"%s\"",
			      i, field(ans), cases[i].field);
		json_decref(ans);
	}
	ck_assert_int_eq(queued, 0);
	ck_assert_int_eq((int)db_job_count(ctx.db, NULL, NULL), 0);
}
END_TEST

START_TEST(body_too_large_and_queue_full)
{
	struct api_request rq = { .method = "POST", .path = "/v1/jobs", .body_too_large = 1 };
	struct api_response rs;
	const char *good = "{\"kind\": \"run\", \"kernels\": [\"debian-6.1\"]}";
	int i;

	api_handle(&ctx, &rq, &rs);
	ck_assert_int_eq(rs.status, 413);
	api_response_release(&rs);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(call("POST", "/v1/jobs", good, NULL), 201);
	ck_assert_int_eq(call("POST", "/v1/jobs", "{\"kind\": \"run\", \"kernels\": "
			      "[\"debian-6.1\"], \"boots\": 64}", NULL), 201);
	ck_assert_int_eq(call("POST", "/v1/jobs", good, NULL), 429);
}
END_TEST

START_TEST(paths_methods_tokens)
{
	json_t *ans;
	char *id, *path;
	struct kf_error e;
	json_t *rq = json_pack("{s:s, s:[s]}", "kind", "run", "kernels", "debian-6.1");

	ck_assert_int_eq(call("GET", "/healthz", NULL, NULL), 200);
	ck_assert_int_eq(call("POST", "/healthz", NULL, NULL), 405);
	ck_assert_int_eq(call("GET", "/nosuch", NULL, NULL), 404);
	ck_assert_int_eq(call("PUT", "/v1/jobs", NULL, NULL), 405);
	ck_assert_int_eq(call("GET", "/v1/jobs?state=bogus", NULL, NULL), 400);
	ck_assert_int_eq(call("GET", "/v1/jobs?limit=0", NULL, NULL), 400);
	ck_assert_int_eq(call("GET", "/v1/jobs/nosuch", NULL, NULL), 404);
	ck_assert_int_eq(call("GET", "/v1/jobs/../../etc", NULL, NULL), 404);
	/* artefacts only from a run directory, by a checked name */
	id = db_job_new(ctx.db, "run", rq, &e);
	ck_assert_ptr_nonnull(id);
	path = xasprintf("/v1/jobs/%s/run.json", id);
	ck_assert_int_eq(call("GET", path, NULL, NULL), 404);	/* not started */
	free(path);
	{
		char *dir = xasprintf("%s/run", tmp), *file = xasprintf("%s/run/run.json", tmp);
		struct kf_error we;

		ck_assert_int_eq(util_mkdir_p(dir, &we), 0);
		ck_assert_int_eq(util_write_atomic(file, "{}\n", 3, &we), 0);
		ck_assert_int_eq(db_job_start(ctx.db, id, dir, &we), 0);
		free(dir);
		free(file);
	}
	path = xasprintf("/v1/jobs/%s/run.json", id);
	ck_assert_int_eq(call("GET", path, NULL, NULL), 200);
	free(path);
	path = xasprintf("/v1/jobs/%s/console/../run.json", id);
	ck_assert_int_eq(call("GET", path, NULL, NULL), 400);
	free(path);
	path = xasprintf("/v1/jobs/%s/../../kfarm.db", id);
	ck_assert_int_ge(call("GET", path, NULL, NULL), 400);
	free(path);
	/*
	 * An error that quotes the request stays JSON with its message: a
	 * name of 2-byte UTF-8 characters cut at 100 bytes, and bytes that
	 * are no UTF-8 at all, come back as '?' (the answer was "null").
	 */
	{
		static const char *const names[] = {
			"x\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9.json",
			"\xff\xfe.json",
		};
		size_t k;

		for (k = 0; k < 2; k++) {
			const char *msg;

			path = xasprintf("/v1/jobs/%s/%s", id, names[k]);
			ans = NULL;
			ck_assert_int_eq(call("GET", path, NULL, &ans), 404);
			ck_assert_msg(ans != NULL, "name %zu: the answer is no JSON object", k);
			msg = json_string_value(json_object_get(ans, "error"));
			ck_assert_ptr_nonnull(strstr(msg, "??"));
			json_decref(ans);
			free(path);
		}
	}
	/* a running job is the supervisor's to cancel */
	path = xasprintf("/v1/jobs/%s", id);
	ck_assert_int_eq(call("DELETE", path, NULL, NULL), 202);
	ck_assert_int_eq(cancelled, 1);
	free(path);
	/* with a token, everything but /healthz needs it */
	ctx.token = "0123456789abcdef0123";
	ck_assert_int_eq(call("GET", "/v1/jobs", NULL, &ans), 401);
	ck_assert_str_eq(field(ans), "Authorization");
	json_decref(ans);
	ck_assert_int_eq(call("GET", "/healthz", NULL, NULL), 200);
	{
		struct api_request r = { .method = "GET", .path = "/v1/jobs", .authorization =
					 "Bearer 0123456789abcdef0123" };
		struct api_response rs;

		api_handle(&ctx, &r, &rs);
		ck_assert_int_eq(rs.status, 200);
		api_response_release(&rs);
		r.authorization = "Bearer 0123456789abcdef012";
		api_handle(&ctx, &r, &rs);
		ck_assert_int_eq(rs.status, 401);
		api_response_release(&rs);
	}
	ctx.token = NULL;
	free(id);
	json_decref(rq);
}
END_TEST

START_TEST(worker_argv)
{
	json_t *job = json_pack("{s:s, s:{s:s, s:s, s:s, s:[i, i], s:i, s:[s, s]}}", "id", "j1",
				"request", "kind", "compare", "a", "debian-6.1", "b", "deb:x",
				"smp", 1, 4, "reps", 7, "scenarios", "sds-zero", "mt-detach-one[*]");
	static const char *const want[] = { "/bin/kfarm", "compare", "debian-6.1", "deb:x", "-c",
		"/etc/k.json", "--smp", "1,4", "--reps", "7", "--scenarios",
		"sds-zero,mt-detach-one[*]", "-o", "/r/j1", "--progress-fd", "3", NULL };
	struct kf_error e;
	char **argv = api_job_argv(job, "/bin/kfarm", "/etc/k.json", "/r/j1", 0, 3, &e);
	size_t i;

	ck_assert_ptr_nonnull(argv);
	for (i = 0; want[i]; i++)
		ck_assert_str_eq(argv[i], want[i]);
	ck_assert_ptr_null(argv[i]);
	api_argv_free(argv);
	/* a job taken up again resumes its run directory */
	argv = api_job_argv(job, "/bin/kfarm", NULL, "/r/j1", 1, 3, &e);
	ck_assert_ptr_nonnull(argv);
	ck_assert_str_eq(argv[10], "--resume");
	ck_assert_str_eq(argv[11], "/r/j1");
	api_argv_free(argv);
	json_object_set_new(json_object_get(job, "request"), "kind", json_string("nope"));
	ck_assert_ptr_null(api_job_argv(job, "/bin/kfarm", NULL, "/r", 0, 3, &e));
	json_decref(job);
	/* a bisection: its list, or good and bad; taken up again: --replay its log */
	{
		const char *want_list[] = { "/bin/kfarm", "bisect", "--kernels", "a,b,c", "--smp", "1",
					    "-o", "/r/j2", "--progress-fd", "3", NULL };
		const char *want_git[] = { "/bin/kfarm", "bisect", "--good", "v1", "--bad", "v2",
					   "--kernels", "linux", "-o", "/r/j3", "--progress-fd", "3",
					   NULL };
		const char *want_again[] = { "/bin/kfarm", "bisect", "--replay", "/r/j3/bisect.json",
					     "-o", "/r/j3", "--progress-fd", "3", NULL };

		job = json_pack("{s:s, s:{s:s, s:[s,s,s], s:[i]}}", "id", "j2", "request", "kind",
				"bisect", "kernels", "a", "b", "c", "smp", 1);
		argv = api_job_argv(job, "/bin/kfarm", NULL, "/r/j2", 0, 3, &e);
		for (i = 0; want_list[i]; i++)
			ck_assert_str_eq(argv[i], want_list[i]);
		ck_assert_ptr_null(argv[i]);
		api_argv_free(argv);
		json_decref(job);
		job = json_pack("{s:s, s:{s:s, s:s, s:s, s:[s]}}", "id", "j3", "request", "kind",
				"bisect", "good", "v1", "bad", "v2", "kernels", "linux");
		argv = api_job_argv(job, "/bin/kfarm", NULL, "/r/j3", 0, 3, &e);
		for (i = 0; want_git[i]; i++)
			ck_assert_str_eq(argv[i], want_git[i]);
		ck_assert_ptr_null(argv[i]);
		api_argv_free(argv);
		argv = api_job_argv(job, "/bin/kfarm", NULL, "/r/j3", 1, 3, &e);
		for (i = 0; want_again[i]; i++)
			ck_assert_str_eq(argv[i], want_again[i]);
		ck_assert_ptr_null(argv[i]);
		api_argv_free(argv);
		json_decref(job);
	}
}
END_TEST

START_TEST(metrics_text)
{
	struct api_request rq = { .method = "GET", .path = "/metrics" };
	struct api_response rs;

	api_handle(&ctx, &rq, &rs);
	ck_assert_int_eq(rs.status, 200);
	ck_assert_ptr_nonnull(strstr(rs.body, "kfarm_jobs{state=\"queued\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(rs.body, "# TYPE kfarm_queue_length gauge\n"));
	api_response_release(&rs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("api");
	TCase *t = tcase_create("api");
	SRunner *r;
	int failed;

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, submit_and_get);
	tcase_add_test(t, job_webhooks);
	tcase_add_test(t, bad_requests);
	tcase_add_test(t, body_too_large_and_queue_full);
	tcase_add_test(t, paths_methods_tokens);
	tcase_add_test(t, worker_argv);
	tcase_add_test(t, metrics_text);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
