// SPDX-License-Identifier: MIT
/*
 * client.c - kfarm's side of kfarmd's API: JSON over HTTP with libcurl.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cells.h"
#include "client.h"
#include "log.h"
#include "util.h"

/* How often `kfarm wait` asks. */
#define POLL_MS	1000

struct buf {
	char *p;
	size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	if (b->n + n > 64 << 20)
		return 0;	/* no answer of ours is that large */
	b->p = realloc(b->p, b->n + n + 1);
	if (!b->p)
		abort();
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = 0;
	return n;
}

const char *client_server(const char *flag)
{
	const char *env = getenv("KFARM_SERVER");

	if (flag && *flag)
		return flag;
	return env && *env ? env : CLIENT_DEFAULT_SERVER;
}

json_t *client_call(const char *server, const char *method, const char *path, json_t *body,
		    long *status, struct kf_error *e)
{
	char *url = xasprintf("%s%s", server, path), *text = NULL, *auth = NULL;
	const char *token = getenv("KFARM_TOKEN");
	struct curl_slist *hdr = NULL;
	struct buf b = { NULL, 0 };
	json_t *out = NULL;
	json_error_t jerr;
	CURLcode rc;
	CURL *c;

	*status = 0;
	c = curl_easy_init();
	if (!c) {
		error_set(e, url, 0, 0, "curl_easy_init failed");
		goto cleanup;
	}
	hdr = curl_slist_append(hdr, "Accept: application/json");
	if (token && *token) {
		auth = xasprintf("Authorization: Bearer %s", token);
		hdr = curl_slist_append(hdr, auth);
	}
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		error_set(e, url, 0, 0, "%s (is kfarmd running? --server or KFARM_SERVER)",
			  curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	out = json_loadb(b.p ? b.p : "", b.n, 0, &jerr);
	if (!out) {
		error_set(e, url, 0, 0, "HTTP %ld, and the answer is not JSON: %s", *status,
			  jerr.text);
		goto cleanup;
	}
	if (*status >= 400) {
		const char *msg = json_string_value(json_object_get(out, "error"));
		const char *field = json_string_value(json_object_get(out, "field"));

		error_set(e, url, 0, 0, "HTTP %ld: %s%s%s%s", *status, msg ? msg : "(no error text)",
			  field ? " (field " : "", field ? field : "", field ? ")" : "");
		json_decref(out);
		out = NULL;
	}
cleanup:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	free(b.p);
	free(text);
	free(auth);
	free(url);
	return out;
}

/* Whether a job in @state is over (interrupted counts: it waits for a restart). */
static int over(const char *state)
{
	static const char *const ends[] = { "done", "failed", "cancelled", "interrupted" };
	size_t i;

	for (i = 0; state && i < sizeof(ends) / sizeof(ends[0]); i++)
		if (!strcmp(state, ends[i]))
			return 1;
	return 0;
}

json_t *client_wait(const char *server, const char *id, struct kf_error *e)
{
	char *path = xasprintf("/v1/jobs/%s", id);
	json_t *job = NULL;
	long status;

	for (;;) {
		const char *state;
		json_t *p;

		job = client_call(server, "GET", path, NULL, &status, e);
		if (!job)
			break;
		state = json_string_value(json_object_get(job, "state"));
		if (over(state))
			break;
		p = json_object_get(job, "progress");
		if (p)
			log_progress("job %s: %s, %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
				     " guests, %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " cells",
				     id, state,
				     json_integer_value(json_object_get(p, "guests_done")),
				     json_integer_value(json_object_get(p, "guests_total")),
				     json_integer_value(json_object_get(p, "cells_done")),
				     json_integer_value(json_object_get(p, "cells_total")));
		else
			log_progress("job %s: %s", id, state ? state : "?");
		json_decref(job);
		job = NULL;
		usleep(POLL_MS * 1000);
	}
	log_progress_done();
	free(path);
	return job;
}

/* An array of the integers of "1,2,4" (checked by the option parser). */
static json_t *int_list(const char *list)
{
	json_t *a = json_array();
	char *copy = xstrdup(list), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_integer(strtol(tok, NULL, 10)));
	free(copy);
	return a;
}

static json_t *str_list(const char *list)
{
	json_t *a = json_array();
	size_t n, i;
	char **v = cells_split(list, &n);

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	cells_free(v, n);
	return a;
}

/* "state: progress" and, when done, the verdicts, on stdout. */
static void print_job(json_t *job)
{
	json_t *p = json_object_get(job, "progress"), *s = json_object_get(job, "summary"), *v;
	const char *k, *err = json_string_value(json_object_get(job, "error"));

	printf("job %s: %s", json_string_value(json_object_get(job, "id")),
	       json_string_value(json_object_get(job, "state")));
	if (p)
		printf(", %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " guests, %"
		       JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " cells",
		       json_integer_value(json_object_get(p, "guests_done")),
		       json_integer_value(json_object_get(p, "guests_total")),
		       json_integer_value(json_object_get(p, "cells_done")),
		       json_integer_value(json_object_get(p, "cells_total")));
	putchar('\n');
	if (json_object_size(s)) {
		printf("summary:");
		json_object_foreach(s, k, v)
			printf(" %" JSON_INTEGER_FORMAT " %s", json_integer_value(v), k);
		putchar('\n');
	}
	if (err)
		printf("error: %s\n", err);
	if (json_string_value(json_object_get(job, "run_dir")))
		printf("run directory: %s\n", json_string_value(json_object_get(job, "run_dir")));
}

/* compare's exit status for an ended job: its worker's, 2 for anything but done. */
static int job_exit(json_t *job)
{
	const char *state = json_string_value(json_object_get(job, "state"));
	json_t *code = json_object_get(job, "exit_status");

	if (!state || strcmp(state, "done"))
		return 2;
	return json_is_integer(code) && json_integer_value(code) == 1 ? 1 : 0;
}

static int wait_and_print(const char *server, const char *id)
{
	struct kf_error e;
	char buf[1600];
	json_t *job = client_wait(server, id, &e);
	int ret;

	if (!job) {
		log_warnx("%s", error_format(&e, buf, sizeof(buf)));
		return 2;
	}
	print_job(job);
	ret = job_exit(job);
	json_decref(job);
	return ret;
}

int client_cmd_submit(struct cli *c)
{
	const char *server = client_server(c->val[CLI_OPT_SERVER]);
	json_t *rq, *ans;
	struct kf_error e;
	char buf[1600];
	long status;
	int ret = 0;

	if (c->val[CLI_OPT_KERNELS] ? c->nargs != 0 : c->nargs != 2) {
		log_warnx("submit: give two kernels (A B), or --kernels for a run");
		return 2;
	}
	if (c->val[CLI_OPT_KERNELS])
		rq = json_pack("{s:s, s:o}", "kind", "run", "kernels",
			       str_list(c->val[CLI_OPT_KERNELS]));
	else
		rq = json_pack("{s:s, s:s, s:s}", "kind", "compare", "a", c->args[0],
			       "b", c->args[1]);
	if (c->val[CLI_OPT_SMP])
		json_object_set_new(rq, "smp", int_list(c->val[CLI_OPT_SMP]));
	if (c->val[CLI_OPT_REPS])
		json_object_set_new(rq, "reps", json_integer(atoi(c->val[CLI_OPT_REPS])));
	if (c->val[CLI_OPT_BOOTS])
		json_object_set_new(rq, "boots", json_integer(atoi(c->val[CLI_OPT_BOOTS])));
	if (c->val[CLI_OPT_SCENARIOS])
		json_object_set_new(rq, "scenarios", str_list(c->val[CLI_OPT_SCENARIOS]));
	ans = client_call(server, "POST", "/v1/jobs", rq, &status, &e);
	json_decref(rq);
	if (!ans) {
		log_warnx("submit: %s", error_format(&e, buf, sizeof(buf)));
		return 2;
	}
	printf("%s\n", json_string_value(json_object_get(ans, "id")));
	fflush(stdout);
	if (c->val[CLI_OPT_WAIT])
		ret = wait_and_print(server, json_string_value(json_object_get(ans, "id")));
	json_decref(ans);
	return ret;
}

/* The job named by @c's one operand, with @method on it; NULL after saying why. */
static json_t *one_job(struct cli *c, const char *method, const char *what)
{
	struct kf_error e;
	char buf[1600], *path;
	long status;
	json_t *job;

	if (c->nargs != 1) {
		log_warnx("%s: give one job id", what);
		return NULL;
	}
	path = xasprintf("/v1/jobs/%s", c->args[0]);
	job = client_call(client_server(c->val[CLI_OPT_SERVER]), method, path, NULL, &status, &e);
	free(path);
	if (!job)
		log_warnx("%s: %s", what, error_format(&e, buf, sizeof(buf)));
	return job;
}

int client_cmd_status(struct cli *c)
{
	json_t *job = one_job(c, "GET", "status");

	if (!job)
		return 2;
	print_job(job);
	json_decref(job);
	return 0;
}

int client_cmd_wait(struct cli *c)
{
	if (c->nargs != 1) {
		log_warnx("wait: give one job id");
		return 2;
	}
	return wait_and_print(client_server(c->val[CLI_OPT_SERVER]), c->args[0]);
}

int client_cmd_cancel(struct cli *c)
{
	json_t *job = one_job(c, "DELETE", "cancel");

	if (!job)
		return 2;
	print_job(job);
	json_decref(job);
	return 0;
}

int client_cmd_jobs(struct cli *c)
{
	const char *state = c->val[CLI_OPT_STATE];
	char *path = xasprintf("/v1/jobs?limit=%s%s%s", cli_get(c, CLI_OPT_LIMIT),
			       state ? "&state=" : "", state ? state : "");
	struct kf_error e;
	char buf[1600];
	long status;
	json_t *ans, *j;
	size_t i;

	if (c->nargs) {
		free(path);
		log_warnx("jobs: no operands");
		return 2;
	}
	if (state && strspn(state, "abcdefghijklmnopqrstuvwxyz") != strlen(state)) {
		free(path);
		log_warnx("jobs: --state %s: not a state", state);
		return 2;
	}
	ans = client_call(client_server(c->val[CLI_OPT_SERVER]), "GET", path, NULL, &status, &e);
	free(path);
	if (!ans) {
		log_warnx("jobs: %s", error_format(&e, buf, sizeof(buf)));
		return 2;
	}
	printf("%-26s  %-8s  %-11s  %-20s  %s\n", "ID", "KIND", "STATE", "CREATED", "REQUEST");
	json_array_foreach(json_object_get(ans, "jobs"), i, j) {
		char *rq = json_dumps(json_object_get(j, "request"), JSON_COMPACT);

		printf("%-26s  %-8s  %-11s  %-20s  %s\n",
		       json_string_value(json_object_get(j, "id")),
		       json_string_value(json_object_get(j, "kind")),
		       json_string_value(json_object_get(j, "state")),
		       json_string_value(json_object_get(j, "created")), rq ? rq : "");
		free(rq);
	}
	json_decref(ans);
	return 0;
}
