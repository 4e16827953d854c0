/* SPDX-License-Identifier: MIT */
#ifndef KFARM_API_H
#define KFARM_API_H

/*
 * api.c - kfarmd's HTTP API (reports/API.md) without the HTTP: a request
 * (method, path, query, body, bearer token) in, a response (status, JSON
 * or a file of a job's run directory) out. kfarmd.c carries it over
 * libmicrohttpd; the unit tests call it directly.
 */
#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "db.h"

/* The largest request body taken; a larger one is 413. */
#define API_BODY_MAX	(64 * 1024)
/* The default bound of the queue (queued jobs); POST beyond it is 429. */
#define API_QUEUE_MAX	16

/*
 * struct api_ctx - what the API works with.
 * @db: the job database
 * @cfg: the daemon's config (kernel names, defaults); replaced on reload
 * @config_path: its file, handed to the workers (NULL: the embedded default)
 * @runs_dir: where the jobs' run directories are (STATE/runs), with the
 *            index of their runs (history.c: index.sqlite) that /v1/history reads
 * @queue_max: the bound of the queue
 * @token: the bearer token every request but /healthz needs (NULL: none)
 * @allow_paths: directories under which a request's "path:" kernels may lie
 *               (@nallow_paths of them; none: "path:" is refused)
 * @cancel: stop the worker of running job @id (the job ends "cancelled" when
 *          it is gone); 0, or -1 when it is not running here
 * @queued: a job was queued (the scheduler may start it)
 * @metrics: append the supervisor's own metrics (running workers...) to the
 *           text @out (a NUL-terminated string it may realloc)
 * @arg: the callbacks' argument
 * @started_ms: when the daemon started (util_now_ms())
 */
struct api_ctx {
	struct db *db;
	const struct config *cfg;
	const char *config_path;
	const char *runs_dir;
	int queue_max;
	const char *token;
	char **allow_paths;
	size_t nallow_paths;
	int (*cancel)(void *arg, const char *id);
	void (*queued)(void *arg);
	void (*metrics)(void *arg, char **out);
	void *arg;
	long long started_ms;
};

/*
 * struct api_request - one request.
 * @path: without the query string
 * @query: the query's arguments (object of strings; NULL: none)
 * @body: @body_len bytes (NULL: none); @body_too_large: more than
 *        API_BODY_MAX came and was dropped
 * @authorization: the Authorization header (NULL: none)
 */
struct api_request {
	const char *method;
	const char *path;
	json_t *query;
	const char *body;
	size_t body_len;
	int body_too_large;
	const char *authorization;
};

/*
 * struct api_response - what to answer.
 * @status: the HTTP status
 * @content_type: of @body or @file
 * @body: owned text (NULL when @file is set)
 * @file: owned path of a file to send (inside a job's run directory)
 * @location: owned Location header (201), or NULL
 * @stream: owned id of the job whose events to stream (Server-Sent Events,
 *          api_job_event()), or NULL
 */
struct api_response {
	int status;
	const char *content_type;
	char *body;
	size_t body_len;
	char *file;
	char *location;
	char *stream;
};

/**
 * api_handle() - answer @rq into @rs (which the caller frees with
 * api_response_release()). Never fails: every error is a JSON response
 * {"error": "...", "field": ...} with its 4xx or 5xx status.
 */
void api_handle(struct api_ctx *ctx, const struct api_request *rq, struct api_response *rs);

/**
 * api_job_event() - the Server-Sent Event for job @job (a db_job_get()
 * object) as /v1/jobs/ID/events sends it (owned): "event: job", then
 * "data: " and {id, state, progress, summary, error} on one line.
 * *@last (owned, may be NULL) is the previous event's data: NULL is returned
 * when nothing changed; else *@last is replaced. *@final is set when the job
 * is in a state it will not leave while this daemon runs (done, failed,
 * cancelled, interrupted): the stream ends after this event.
 */
char *api_job_event(json_t *job, char **last, int *final);

/** api_response_release() - free what @rs owns. */
void api_response_release(struct api_response *rs);

/**
 * api_job_argv() - the worker's command line for job @job (a db_job_get()
 * object): @kfarm (the CLI's path) run or compare, the request's kernels,
 * SMP sizes, repetitions, boots and scenarios, "-c" @config_path when set,
 * "-o" @run_dir (with @resume: "--resume" @run_dir, the run there taken up
 * where it stopped; a bisection: "--replay" @run_dir/bisect.json, carried on
 * from its last step) and "--progress-fd" @progress_fd. A NULL-terminated
 * array (free with api_argv_free()), or NULL and @e when the request is bad.
 */
char **api_job_argv(json_t *job, const char *kfarm, const char *config_path,
		    const char *run_dir, int resume, int progress_fd, struct kf_error *e);

/** api_argv_free() - free an api_job_argv() array. */
void api_argv_free(char **argv);

#endif
