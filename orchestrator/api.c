// SPDX-License-Identifier: MIT
/*
 * api.c - kfarmd's HTTP API as a function: routing, the checks of a submitted
 * job, the job database's answers, artefacts as files of the run directory.
 * reports/API.md is its description.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "cache.h"
#include "cells.h"
#include "config.h"
#include "diff.h"
#include "history.h"
#include "report.h"
#include "util.h"
#include "web.h"

/* The files of a run directory the API serves by name, and their types. */
static const struct {
	const char *name;
	const char *type;
} artefacts[] = {
	{ "run.json", "application/json" },
	{ "diff.json", "application/json" },
	{ "diff.html", "text/html; charset=utf-8" },
	{ "junit.xml", "application/xml" },
	{ "kcidb.json", "application/json" },
	{ "kfarm.log", "text/plain; charset=utf-8" },
	{ "bisect.json", "application/json" },
};

/* The fields a job request may have. */
static const char *const job_fields[] = {
	"kind", "a", "b", "kernels", "good", "bad", "smp", "reps", "boots", "scenarios", "fresh", NULL,
};

#define MAX_BISECT	64	/* kernels of a bisection's list */

#define MAX_KERNELS	8
#define MAX_SMP		8
#define MAX_SCENARIOS	1000

static void set_json(struct api_response *rs, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	rs->status = status;
	rs->content_type = "application/json";
	rs->body = xasprintf("%s\n", text ? text : "null");
	rs->body_len = strlen(rs->body);
	free(text);
	json_decref(body);
}

/* A JSON error {"error": ..., "field": @field (when not NULL)} with @status. */
__attribute__((format(printf, 4, 5)))
static void fail(struct api_response *rs, int status, const char *field, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	json_t *o;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	/*
	 * A message quotes the request (a path, a name cut at %.100s, a JSON
	 * error's text): JSON strings are UTF-8, and a cut or foreign byte
	 * would leave no message at all, so every byte above 0x7f is a '?'.
	 */
	for (char *c = msg; c && *c; c++)
		if ((unsigned char)*c > 0x7f)
			*c = '?';
	o = json_pack("{s:s}", "error", msg ? msg : "out of memory");
	if (field)
		json_object_set_new(o, "field", json_string(field));
	free(msg);
	set_json(rs, status, o);
}

/* Constant-time comparison of the bearer token. */
static int token_ok(const char *want, const char *authorization)
{
	const char *got;
	size_t n, m, i;
	unsigned char d = 0;

	if (!authorization || strncmp(authorization, "Bearer ", 7))
		return 0;
	got = authorization + 7;
	n = strlen(want);
	m = strlen(got);
	for (i = 0; i < n; i++)
		d |= (unsigned char)(want[i] ^ (i < m ? got[i] : 0));
	return d == 0 && n == m;
}

/* An array of 1..@max strings, each one a valid kernel spec of @ctx's config. */
static int check_kernel(struct api_ctx *ctx, const char *spec, const char *field,
			struct api_response *rs)
{
	struct kernel_spec ks;
	struct kf_error e;
	size_t i;

	if (!*spec || *spec == '-' || strlen(spec) > 4096 || strpbrk(spec, ",\n")) {
		fail(rs, 400, field, "a kernel is a config name, deb:PACKAGE, url:URL or path:FILE "
		     "(not starting with '-', without commas or newlines)");
		return -1;
	}
	if (config_select_kernel(ctx->cfg, spec, &ks, &e) < 0) {
		fail(rs, 400, field, "unknown kernel \"%s\": %s", spec, e.text);
		return -1;
	}
	/*
	 * A request's own url: kernel (a config's names have no ':') is fetched
	 * over http or https: a file:// one would read any file kfarmd can,
	 * round --allow-path.
	 */
	if (strchr(spec, ':') && ks.kind == KERNEL_URL && !strncmp(ks.arg, "file:", 5)) {
		config_kernel_release(&ks);
		fail(rs, 403, field, "a request's url: kernel is http:// or https://; a file here "
		     "is path:FILE under a directory kfarmd allows (--allow-path)");
		return -1;
	}
	config_kernel_release(&ks);
	if (!strncmp(spec, "path:", 5)) {
		char *real = realpath(spec + 5, NULL);
		int ok = 0;

		for (i = 0; real && i < ctx->nallow_paths; i++) {
			size_t n = strlen(ctx->allow_paths[i]);

			ok |= !strncmp(real, ctx->allow_paths[i], n) && real[n] == '/';
		}
		free(real);
		if (!ok) {
			fail(rs, 403, field, "path: kernels are taken only under the directories "
			     "kfarmd allows (--allow-path)%s", ctx->nallow_paths ? "" : ": none is");
			return -1;
		}
	}
	return 0;
}

/* @v is an integer from @lo to @hi, else a 400 naming @field. */
static int check_int(json_t *v, const char *field, long lo, long hi, struct api_response *rs)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		fail(rs, 400, field, "%s must be an integer from %ld to %ld", field, lo, hi);
		return -1;
	}
	return 0;
}

/* "smp": 1 to MAX_SMP distinct sizes from 1 to CONFIG_SMP_MAX. */
static int check_smp(json_t *v, struct api_response *rs)
{
	json_t *x;
	size_t i, j;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_SMP) {
		fail(rs, 400, "smp", "smp must be an array of 1 to %d SMP sizes", MAX_SMP);
		return -1;
	}
	json_array_foreach(v, i, x) {
		if (check_int(x, "smp", 1, CONFIG_SMP_MAX, rs) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (json_equal(x, json_array_get(v, j))) {
				fail(rs, 400, "smp", "smp names %" JSON_INTEGER_FORMAT " twice",
				     json_integer_value(x));
				return -1;
			}
	}
	return 0;
}

/* "scenarios": cell ids or "all", checked against the catalog. */
static int check_scenarios(struct api_ctx *ctx, json_t *v, struct api_response *rs)
{
	struct cells_sel sel;
	struct kf_error e;
	char *list = xstrdup("");
	json_t *x;
	size_t i;
	int ret = 0;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_SCENARIOS) {
		free(list);
		fail(rs, 400, "scenarios", "scenarios must be an array of 1 to %d cell ids",
		     MAX_SCENARIOS);
		return -1;
	}
	json_array_foreach(v, i, x) {
		const char *s = json_string_value(x);
		char *t;

		if (!s || !*s || strlen(s) > 256) {
			free(list);
			fail(rs, 400, "scenarios", "scenarios[%zu] is not a cell id", i);
			return -1;
		}
		t = xasprintf("%s%s%s", list, i ? "," : "", s);
		free(list);
		list = t;
	}
	if (cells_select(ctx->cfg, list, &sel, &e) < 0) {
		fail(rs, 400, "scenarios", "%s", e.text);
		ret = -1;
	} else {
		cells_sel_release(&sel);
	}
	free(list);
	return ret;
}

/* Every entry of "kernels" @v (an array) a string and check_kernel()'s. */
static int check_kernels(struct api_ctx *ctx, json_t *v, struct api_response *rs)
{
	size_t i;

	for (i = 0; i < json_array_size(v); i++) {
		const char *s = json_string_value(json_array_get(v, i));

		if (!s) {
			fail(rs, 400, "kernels", "kernels[%zu] is not a string", i);
			return -1;
		}
		if (check_kernel(ctx, s, "kernels", rs) < 0)
			return -1;
	}
	return 0;
}

/*
 * A bisection's request: "kernels" K1..Kn (2 to MAX_BISECT: the list, K1
 * good), or "good" and "bad" revisions of the config's kernel built from
 * git ("kernels": [NAME] when it has several). 0, or -1 with @rs.
 */
static int check_bisect(struct api_ctx *ctx, json_t *rq, struct api_response *rs)
{
	json_t *v = json_object_get(rq, "kernels"), *g = json_object_get(rq, "good");
	json_t *b = json_object_get(rq, "bad");
	size_t i, ngit = 0;

	if (json_object_get(rq, "a") || json_object_get(rq, "b")) {
		fail(rs, 400, json_object_get(rq, "a") ? "a" : "b",
		     "a bisection names its kernels in \"kernels\", or \"good\" and \"bad\"");
		return -1;
	}
	if (json_object_get(rq, "fresh")) {
		fail(rs, 400, "fresh", "a bisection boots each kernel once and takes it from there");
		return -1;
	}
	if (g || b) {
		const char *name = json_string_value(json_array_get(v, 0)), *which = NULL;

		if (!json_is_string(g) || !config_rev_ok(json_string_value(g)) || !json_is_string(b) ||
		    !config_rev_ok(json_string_value(b))) {
			fail(rs, 400, json_is_string(g) && config_rev_ok(json_string_value(g)) ? "bad" :
				      "good", "good and bad are git revisions (1-200 characters, "
				      "none a space or control, not starting with '-')");
			return -1;
		}
		if (v && (!json_is_array(v) || json_array_size(v) != 1 || !name)) {
			fail(rs, 400, "kernels", "a git bisection's kernels is one name: the config's "
			     "kernel built from git");
			return -1;
		}
		for (i = 0; i < ctx->cfg->nkernels; i++) {
			const struct kernel_spec *k = &ctx->cfg->kernels[i];

			if (k->build && k->build->git) {
				ngit++;
				if (!name || !strcmp(name, k->name))
					which = k->name;
			}
		}
		if (!which || (!name && ngit > 1)) {
			fail(rs, 400, name ? "kernels" : "good", "%s", name ?
			     "that kernel of the config is not built from git" : ngit ?
			     "the config has several kernels built from git: name one in kernels" :
			     "the config has no kernel built from git (\"build\": {\"git\": DIR})");
			return -1;
		}
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) < 2 || json_array_size(v) > MAX_BISECT) {
		fail(rs, 400, "kernels", "a bisection's kernels are an array of 2 to %d kernels, the "
		     "first good and the last bad (or give good and bad commits)", MAX_BISECT);
		return -1;
	}
	return check_kernels(ctx, v, rs);
}

/* The checks of a job request; 0, or -1 with the error in @rs. */
static int check_job(struct api_ctx *ctx, json_t *rq, struct api_response *rs)
{
	const char *kind = json_string_value(json_object_get(rq, "kind")), *k;
	json_t *v;
	size_t i;

	json_object_foreach(rq, k, v) {
		for (i = 0; job_fields[i] && strcmp(job_fields[i], k); i++)
			;
		if (!job_fields[i]) {
			fail(rs, 400, k, "unknown field \"%s\"", k);
			return -1;
		}
	}
	if (!kind || (strcmp(kind, "compare") && strcmp(kind, "run") && strcmp(kind, "bisect"))) {
		fail(rs, 400, "kind", "kind must be \"compare\", \"run\" or \"bisect\"");
		return -1;
	}
	if (strcmp(kind, "bisect") && (json_object_get(rq, "good") || json_object_get(rq, "bad"))) {
		fail(rs, 400, json_object_get(rq, "good") ? "good" : "bad",
		     "good and bad are a bisection's (kind \"bisect\")");
		return -1;
	}
	if (!strcmp(kind, "bisect")) {
		if (check_bisect(ctx, rq, rs) < 0)
			return -1;
	} else if (!strcmp(kind, "compare")) {
		static const char *const sides[] = { "a", "b" };

		if (json_object_get(rq, "kernels")) {
			fail(rs, 400, "kernels", "a comparison names its kernels as a and b");
			return -1;
		}
		for (i = 0; i < 2; i++) {
			const char *s = json_string_value(json_object_get(rq, sides[i]));

			if (!s) {
				fail(rs, 400, sides[i], "%s must be a kernel (a string)", sides[i]);
				return -1;
			}
			if (check_kernel(ctx, s, sides[i], rs) < 0)
				return -1;
		}
	} else {
		v = json_object_get(rq, "kernels");
		if (json_object_get(rq, "a") || json_object_get(rq, "b")) {
			fail(rs, 400, json_object_get(rq, "a") ? "a" : "b",
			     "a run names its kernels in \"kernels\"");
			return -1;
		}
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > MAX_KERNELS) {
			fail(rs, 400, "kernels", "kernels must be an array of 1 to %d kernels",
			     MAX_KERNELS);
			return -1;
		}
		if (check_kernels(ctx, v, rs) < 0)
			return -1;
	}
	if ((v = json_object_get(rq, "smp")) && check_smp(v, rs) < 0)
		return -1;
	if ((v = json_object_get(rq, "reps")) && check_int(v, "reps", 1, 100000, rs) < 0)
		return -1;
	if ((v = json_object_get(rq, "boots")) && check_int(v, "boots", 1, CONFIG_BOOTS_MAX, rs) < 0)
		return -1;
	if ((v = json_object_get(rq, "scenarios")) && check_scenarios(ctx, v, rs) < 0)
		return -1;
	if ((v = json_object_get(rq, "fresh")) && !json_is_boolean(v)) {
		fail(rs, 400, "fresh", "fresh is true or false");
		return -1;
	}
	return 0;
}

static void post_job(struct api_ctx *ctx, const struct api_request *rq, struct api_response *rs)
{
	json_error_t jerr;
	struct kf_error e;
	json_t *body;
	long queued;
	char *id;

	if (rq->body_too_large) {
		fail(rs, 413, NULL, "the request body is larger than %d bytes", API_BODY_MAX);
		return;
	}
	body = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body) {
		fail(rs, 400, NULL, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
		     jerr.text);
		return;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		fail(rs, 400, NULL, "the request must be a JSON object");
		return;
	}
	if (check_job(ctx, body, rs) < 0) {
		json_decref(body);
		return;
	}
	queued = db_job_count(ctx->db, DB_QUEUED, &e);
	if (queued < 0) {
		json_decref(body);
		fail(rs, 500, NULL, "job database: %s", e.text);
		return;
	}
	if (queued >= ctx->queue_max) {
		json_decref(body);
		fail(rs, 429, NULL, "the queue is full (%ld jobs queued, at most %d)", queued,
		     ctx->queue_max);
		return;
	}
	id = db_job_new(ctx->db, json_string_value(json_object_get(body, "kind")), body, &e);
	json_decref(body);
	if (!id) {
		fail(rs, 500, NULL, "job database: %s", e.text);
		return;
	}
	rs->location = xasprintf("/v1/jobs/%s", id);
	set_json(rs, 201, json_pack("{s:s, s:s, s:s}", "id", id, "url", rs->location,
				    "state", DB_QUEUED));
	free(id);
	if (ctx->queued)
		ctx->queued(ctx->arg);
}

/* The query's "limit" (1 to 1000; @def when absent) into *@limit; -1 with a 400 in @rs. */
static int query_limit(const struct api_request *rq, long def, long *limit,
		       struct api_response *rs)
{
	const char *lim = json_string_value(json_object_get(rq->query, "limit"));
	char *end;

	*limit = def;
	if (!lim)
		return 0;
	errno = 0;
	*limit = strtol(lim, &end, 10);
	if (errno || *end || end == lim || *limit < 1 || *limit > 1000) {
		fail(rs, 400, "limit", "limit must be a number from 1 to 1000");
		return -1;
	}
	return 0;
}

static void list_jobs(struct api_ctx *ctx, const struct api_request *rq, struct api_response *rs)
{
	const char *state = json_string_value(json_object_get(rq->query, "state"));
	const char *before = json_string_value(json_object_get(rq->query, "before"));
	struct kf_error e;
	json_t *jobs;
	long limit;

	if (state && !db_state_valid(state)) {
		fail(rs, 400, "state", "unknown state \"%s\"", state);
		return;
	}
	if (query_limit(rq, 50, &limit, rs) < 0)
		return;
	jobs = db_job_list(ctx->db, state, before, (int)limit, &e);
	if (!jobs) {
		fail(rs, 500, NULL, "job database: %s", e.text);
		return;
	}
	set_json(rs, 200, json_pack("{s:o}", "jobs", jobs));
}

/* The job called @id, or NULL with a 404 (or 500) in @rs. */
static json_t *find_job(struct api_ctx *ctx, const char *id, struct api_response *rs)
{
	struct kf_error e;
	json_t *job;

	if (!*id || strlen(id) > 64 || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(id)) {
		fail(rs, 404, "id", "no job \"%.64s\"", id);
		return NULL;
	}
	job = db_job_get(ctx->db, id, &e);
	if (!job)
		fail(rs, 404, "id", "no job \"%s\"", id);
	return job;
}

static void cancel_job(struct api_ctx *ctx, const char *id, struct api_response *rs)
{
	struct kf_error e;
	json_t *job;
	int r;

	r = db_job_cancel(ctx->db, id, &e);
	if (r < 0) {
		fail(rs, 409, "id", "%s", e.text);
		return;
	}
	if (r == 0 && (!ctx->cancel || ctx->cancel(ctx->arg, id) < 0)) {
		fail(rs, 409, "id", "job %s is running but not under this daemon", id);
		return;
	}
	job = db_job_get(ctx->db, id, &e);
	set_json(rs, 202, job ? job : json_pack("{s:s}", "id", id));
}

/* A file of job @job's run directory: @name, or console/FILE. */
static void artefact(json_t *job, const char *name, struct api_response *rs)
{
	const char *dir = json_string_value(json_object_get(job, "run_dir"));
	const char *type = NULL, *file = name;
	char *path, *real = NULL, *rdir = NULL;
	struct stat st;
	size_t i, n;

	for (i = 0; i < sizeof(artefacts) / sizeof(artefacts[0]); i++)
		if (!strcmp(name, artefacts[i].name))
			type = artefacts[i].type;
	if (!type && !strncmp(name, "night-", 6) && strlen(name) > 11 &&
	    !strcmp(name + strlen(name) - 5, ".json") && !strchr(name, '/'))
		type = "application/json";
	if (!type && !strncmp(name, "console/", 8)) {
		file = name + 8;
		type = "text/plain; charset=utf-8";
		if (!*file || *file == '.' || strspn(file, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(file)) {
			fail(rs, 400, "file", "a console log is a file name of the run directory");
			return;
		}
	}
	if (!type) {
		fail(rs, 404, "file", "no artefact \"%.100s\" (run.json, diff.json, diff.html, "
		     "junit.xml, kcidb.json, kfarm.log, night-KERNEL.json, console/FILE)", name);
		return;
	}
	if (!dir) {
		fail(rs, 404, "file", "the job has not started: no run directory yet");
		return;
	}
	path = xasprintf("%s/%s", dir, file);
	real = realpath(path, NULL);
	rdir = realpath(dir, NULL);
	n = rdir ? strlen(rdir) : 0;
	if (!real || !rdir || strncmp(real, rdir, n) || real[n] != '/' ||
	    stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		fail(rs, 404, "file", "job has no %s (yet)", name);
	} else {
		rs->status = 200;
		rs->content_type = type;
		rs->file = real;
		real = NULL;
	}
	free(path);
	free(real);
	free(rdir);
}

/* /v1/jobs/ID[/ARTEFACT] */
static void job_path(struct api_ctx *ctx, const struct api_request *rq, const char *rest,
		     struct api_response *rs)
{
	const char *slash = strchr(rest, '/');
	char *id = slash ? strndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
	json_t *job = find_job(ctx, id, rs);

	if (!job) {
		free(id);
		return;
	}
	if (!slash && !strcmp(rq->method, "DELETE")) {
		cancel_job(ctx, id, rs);
	} else if (strcmp(rq->method, "GET")) {
		fail(rs, 405, NULL, "%s is not allowed here", rq->method);
	} else if (slash && !strcmp(slash + 1, "events")) {
		rs->status = 200;
		rs->content_type = "text/event-stream";
		rs->stream = xstrdup(id);
	} else if (slash) {
		artefact(job, slash + 1, rs);
	} else {
		struct kf_error e;
		json_t *hooks = db_webhook_list(ctx->db, id, &e);

		/* Its webhook deliveries, when it has any (db.c keeps them). */
		if (json_array_size(hooks))
			json_object_set(job, "webhooks", hooks);
		json_decref(hooks);
		set_json(rs, 200, json_incref(job));
	}
	json_decref(job);
	free(id);
}

/* GET /v1/history?kernel=K&limit=N: the jobs' runs, newest first, with their diffs. */
static void history(struct api_ctx *ctx, const struct api_request *rq, struct api_response *rs)
{
	const char *k = json_string_value(json_object_get(rq->query, "kernel"));
	json_t *idx, *out, *r;
	struct kf_error e;
	long limit;
	size_t i;

	if (query_limit(rq, 50, &limit, rs) < 0)
		return;
	if (k && (!*k || strlen(k) > 512)) {
		fail(rs, 400, "kernel", "kernel must be a kernel's name, source or release");
		return;
	}
	idx = ctx->runs_dir ? history_load(ctx->runs_dir, &e) : json_pack("{s:[]}", "runs");
	if (!idx) {
		fail(rs, 500, NULL, "the run index: %s", e.text);
		return;
	}
	out = json_array();
	for (i = json_array_size(json_object_get(idx, "runs")); i-- > 0 &&
	     (long)json_array_size(out) < limit;) {
		const char *dir;

		r = json_array_get(json_object_get(idx, "runs"), i);
		if (k && !history_has_kernel(r, k))
			continue;
		r = json_deep_copy(r);
		dir = json_string_value(json_object_get(r, "dir"));
		/* A job's run directory is STATE/runs/ID: the job is its name. */
		if (dir && !strchr(dir, '/'))
			json_object_set_new(r, "job", json_string(dir));
		json_array_append_new(out, r);
	}
	json_decref(idx);
	set_json(rs, 200, json_pack("{s:o}", "runs", out));
}

/*
 * Nightly job @job (taken) with what its run directory says once it ended:
 * "unchanged" (the run whose cells it took, booting nothing) and "nights"
 * (each kernel against its previous night: kernel, previous run, summary,
 * differs), from run.json and the night-*.json diffs.
 */
static json_t *nightly_facts(json_t *job)
{
	const char *dir = json_string_value(json_object_get(job, "run_dir"));
	json_t *run, *nights = json_array();
	struct kf_error e;
	struct dirent *de;
	const char *udir;
	DIR *dh;

	if (!dir)
		return job;
	run = report_load(dir, &e);
	if (run && report_unchanged_from(run, &udir))
		json_object_set_new(job, "unchanged", json_pack("{s:s, s:s?}", "run",
				    report_unchanged_from(run, NULL), "dir", udir));
	json_decref(run);
	dh = opendir(dir);
	while (dh && (de = readdir(dh))) {
		size_t n = strlen(de->d_name);
		json_t *d, *a;
		char *path;

		if (strncmp(de->d_name, "night-", 6) || n < 11 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		d = json_load_file(path, 0, NULL);
		free(path);
		a = json_object_get(d, "a");
		if (json_is_object(d))
			json_array_append_new(nights, json_pack("{s:O?, s:O?, s:O?, s:b, s:s}",
				"kernel", json_object_get(a, "kernel"), "previous_run",
				json_object_get(a, "run"), "summary", json_object_get(d, "summary"),
				"differs", diff_count_differs(d) > 0, "file", de->d_name));
		json_decref(d);
	}
	if (dh)
		closedir(dh);
	json_object_set_new(job, "nights", nights);
	return job;
}

/* GET /v1/nightly/latest: the newest job the nightly schedule queued. */
static void nightly_latest(struct api_ctx *ctx, struct api_response *rs)
{
	struct kf_error e;
	json_t *jobs = db_job_list(ctx->db, NULL, NULL, 1000, &e), *j;
	size_t i;

	if (!jobs) {
		fail(rs, 500, NULL, "job database: %s", e.text);
		return;
	}
	json_array_foreach(jobs, i, j)
		if (!strcmp(json_string_value(json_object_get(j, "kind")) ?: "", "nightly")) {
			set_json(rs, 200, nightly_facts(json_deep_copy(j)));
			json_decref(jobs);
			return;
		}
	json_decref(jobs);
	fail(rs, 404, NULL, "no nightly job yet%s", ctx->cfg->nightly ? "" :
	     " (the config has no \"nightly\" section)");
}

/* GET /v1/kernels: the config's kernels and the kernel cache's entries. */
static void kernels(struct api_ctx *ctx, struct api_response *rs)
{
	json_t *cfg = config_to_json(ctx->cfg), *cache;
	char *root = cache_root(ctx->cfg->cache_dir);
	struct kf_error e;

	cache = cache_list(root, &e);
	free(root);
	set_json(rs, 200, json_pack("{s:O, s:o}", "kernels", json_object_get(cfg, "kernels"),
				    "cache", cache ? cache : json_array()));
	json_decref(cfg);
}

/* Append a printf-formatted line to *@out. */
__attribute__((format(printf, 2, 3)))
static void put(char **out, const char *fmt, ...)
{
	va_list ap;
	char *line, *t;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	t = xasprintf("%s%s", *out, line ? line : "");
	free(*out);
	free(line);
	*out = t;
}

static void metrics(struct api_ctx *ctx, struct api_response *rs)
{
	static const char *const states[] = { DB_QUEUED, DB_RUNNING, DB_DONE, DB_FAILED,
					      DB_CANCELLED, DB_INTERRUPTED };
	char *out = xstrdup("");
	struct kf_error e;
	size_t i;

	put(&out, "# HELP kfarm_jobs Jobs in the database by state.\n# TYPE kfarm_jobs gauge\n");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		put(&out, "kfarm_jobs{state=\"%s\"} %ld\n", states[i],
		    db_job_count(ctx->db, states[i], &e));
	put(&out, "# HELP kfarm_queue_length Jobs waiting for a worker.\n"
	    "# TYPE kfarm_queue_length gauge\nkfarm_queue_length %ld\n",
	    db_job_count(ctx->db, DB_QUEUED, &e));
	put(&out, "# HELP kfarm_queue_max The bound of the queue.\n"
	    "# TYPE kfarm_queue_max gauge\nkfarm_queue_max %d\n", ctx->queue_max);
	put(&out, "# HELP kfarm_uptime_seconds Since kfarmd started.\n"
	    "# TYPE kfarm_uptime_seconds gauge\nkfarm_uptime_seconds %.3f\n",
	    (double)(util_now_ms() - ctx->started_ms) / 1000.0);
	if (ctx->metrics)
		ctx->metrics(ctx->arg, &out);
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
	rs->body = out;
	rs->body_len = strlen(out);
}

static void get_page(struct api_ctx *ctx, const struct api_request *rq, struct api_response *rs)
{
	(void)rq;
	web_page(ctx, rs);
}

static void get_health(struct api_ctx *ctx, const struct api_request *rq,
		       struct api_response *rs)
{
	(void)rq;
	set_json(rs, 200, json_pack("{s:b, s:f}", "ok", 1, "uptime_s",
				    (double)(util_now_ms() - ctx->started_ms) / 1000.0));
}

static void get_metrics(struct api_ctx *ctx, const struct api_request *rq,
			struct api_response *rs)
{
	(void)rq;
	metrics(ctx, rs);
}

static void get_nightly(struct api_ctx *ctx, const struct api_request *rq,
			struct api_response *rs)
{
	(void)rq;
	nightly_latest(ctx, rs);
}

static void get_kernels(struct api_ctx *ctx, const struct api_request *rq,
			struct api_response *rs)
{
	(void)rq;
	kernels(ctx, rs);
}

typedef void handler(struct api_ctx *ctx, const struct api_request *rq, struct api_response *rs);

/*
 * The resources with a fixed path: what GET and POST do there (NULL: not
 * allowed), and whether they answer without the token (@open: they hold no
 * data). /v1/jobs/ID... is job_path()'s.
 */
static const struct route {
	const char *path;
	int open;
	handler *get, *post;
} routes[] = {
	{ "/", 1, get_page, NULL },
	{ "/healthz", 1, get_health, NULL },
	{ "/metrics", 0, get_metrics, NULL },
	{ "/v1/jobs", 0, list_jobs, post_job },
	{ "/v1/nightly/latest", 0, get_nightly, NULL },
	{ "/v1/history", 0, history, NULL },
	{ "/v1/kernels", 0, get_kernels, NULL },
};

void api_handle(struct api_ctx *ctx, const struct api_request *rq, struct api_response *rs)
{
	const struct route *r = NULL;
	handler *h = NULL;
	size_t i;

	memset(rs, 0, sizeof(*rs));
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(rq->path, routes[i].path))
			r = &routes[i];
	if ((!r || !r->open) && ctx->token && !token_ok(ctx->token, rq->authorization)) {
		fail(rs, 401, "Authorization", "a bearer token is needed (Authorization: Bearer ...)");
		return;
	}
	if (!r) {
		if (!strncmp(rq->path, "/v1/jobs/", 9))
			job_path(ctx, rq, rq->path + 9, rs);
		else
			fail(rs, 404, NULL, "no such resource: %.200s", rq->path);
		return;
	}
	if (!strcmp(rq->method, "GET"))
		h = r->get;
	else if (!strcmp(rq->method, "POST"))
		h = r->post;
	if (h)
		h(ctx, rq, rs);
	else
		fail(rs, 405, NULL, "%s is not allowed here", rq->method);
}

char *api_job_event(json_t *job, char **last, int *final)
{
	static const char *const keys[] = { "id", "state", "progress", "summary", "error" };
	const char *state = json_string_value(json_object_get(job, "state"));
	json_t *o = json_object();
	char *data, *ev;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(job, keys[i]))
			json_object_set(o, keys[i], json_object_get(job, keys[i]));
	data = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	*final = !state || db_state_final(state) || !strcmp(state, DB_INTERRUPTED);
	if (*last && data && !strcmp(*last, data)) {
		free(data);
		return NULL;
	}
	ev = xasprintf("event: job\ndata: %s\n\n", data ? data : "{}");
	free(*last);
	*last = data;
	return ev;
}

void api_response_release(struct api_response *rs)
{
	free(rs->body);
	free(rs->stream);
	free(rs->file);
	free(rs->location);
	memset(rs, 0, sizeof(*rs));
}

/* Append @s (copied) to the NULL-terminated @argv of *@n entries. */
static char **argv_add(char **argv, size_t *n, const char *s)
{
	argv = realloc(argv, (*n + 2) * sizeof(*argv));
	if (!argv)
		abort();
	argv[(*n)++] = xstrdup(s);
	argv[*n] = NULL;
	return argv;
}

/* "1,2,4" from an array of integers or strings. */
static char *join(json_t *arr)
{
	char *out = xstrdup(""), *t;
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		if (json_is_integer(v))
			t = xasprintf("%s%s%" JSON_INTEGER_FORMAT, out, i ? "," : "",
				      json_integer_value(v));
		else
			t = xasprintf("%s%s%s", out, i ? "," : "", json_string_value(v));
		free(out);
		out = t;
	}
	return out;
}

char **api_job_argv(json_t *job, const char *kfarm, const char *config_path,
		    const char *run_dir, int resume, int progress_fd, struct kf_error *e)
{
	json_t *rq = json_object_get(job, "request"), *v;
	const char *kind = json_string_value(json_object_get(rq, "kind"));
	char **argv = NULL, *t, num[32];
	size_t n = 0;

	if (!kind || (strcmp(kind, "compare") && strcmp(kind, "run") && strcmp(kind, "bisect"))) {
		error_set(e, json_string_value(json_object_get(job, "id")), 0, 0,
			  "the job's request has no known kind");
		return NULL;
	}
	argv = argv_add(argv, &n, kfarm);
	argv = argv_add(argv, &n, kind);
	if (!strcmp(kind, "bisect")) {
		/* taken up again: carried on from its bisect.json, which names the kernels */
		if (resume) {
			t = xasprintf("%s/bisect.json", run_dir);
			argv = argv_add(argv, &n, "--replay");
			argv = argv_add(argv, &n, t);
			free(t);
		} else if (json_object_get(rq, "good")) {
			argv = argv_add(argv, &n, "--good");
			argv = argv_add(argv, &n, json_string_value(json_object_get(rq, "good")));
			argv = argv_add(argv, &n, "--bad");
			argv = argv_add(argv, &n, json_string_value(json_object_get(rq, "bad")));
		}
		if (!resume && json_object_get(rq, "kernels")) {
			t = join(json_object_get(rq, "kernels"));
			argv = argv_add(argv, &n, "--kernels");
			argv = argv_add(argv, &n, t);
			free(t);
		}
	} else if (!strcmp(kind, "compare")) {
		argv = argv_add(argv, &n, json_string_value(json_object_get(rq, "a")));
		argv = argv_add(argv, &n, json_string_value(json_object_get(rq, "b")));
	} else {
		t = join(json_object_get(rq, "kernels"));
		argv = argv_add(argv, &n, "--kernels");
		argv = argv_add(argv, &n, t);
		free(t);
	}
	if (config_path) {
		argv = argv_add(argv, &n, "-c");
		argv = argv_add(argv, &n, config_path);
	}
	if ((v = json_object_get(rq, "smp"))) {
		t = join(v);
		argv = argv_add(argv, &n, "--smp");
		argv = argv_add(argv, &n, t);
		free(t);
	}
	if ((v = json_object_get(rq, "reps"))) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		argv = argv_add(argv, &n, "--reps");
		argv = argv_add(argv, &n, num);
	}
	if ((v = json_object_get(rq, "boots"))) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		argv = argv_add(argv, &n, "--boots");
		argv = argv_add(argv, &n, num);
	}
	if ((v = json_object_get(rq, "scenarios"))) {
		t = join(v);
		argv = argv_add(argv, &n, "--scenarios");
		argv = argv_add(argv, &n, t);
		free(t);
	}
	if (!strcmp(json_string_value(json_object_get(job, "kind")) ?: "", "nightly"))
		argv = argv_add(argv, &n, "--nightly");
	if (json_is_true(json_object_get(rq, "fresh")))
		argv = argv_add(argv, &n, "--fresh");
	argv = argv_add(argv, &n, resume && strcmp(kind, "bisect") ? "--resume" : "-o");
	argv = argv_add(argv, &n, run_dir);
	snprintf(num, sizeof(num), "%d", progress_fd);
	argv = argv_add(argv, &n, "--progress-fd");
	argv = argv_add(argv, &n, num);
	return argv;
}

void api_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}
