/* SPDX-License-Identifier: MIT */
/*
 * kfarmd's HTTP API (api.c) as a client reaches it: the input is a request as
 * text, the way it comes over the wire once libmicrohttpd has split it:
 *
 *   METHOD TARGET            (TARGET: the path, then ?key=value&... )
 *   Authorization: VALUE     (optional; any other header line is ignored)
 *                            (an empty line)
 *   BODY
 *
 * In TARGET and BODY, @Q, @R and @D stand for the ids of three jobs made once
 * at start (queued; running, with a run directory; done), and @K for the one
 * folder "path:" kernels may lie under (its name is a temporary one), so that
 * seeds and mutations reach a job's artefacts, events and cancellation, and
 * an allowed kernel. Each input is answered
 * against a fresh copy of that job database (copied from a template), so an
 * input's answer does not depend on the ones before it. A request with an
 * Authorization line is answered by a daemon that has a token.
 *
 * Checks besides the sanitizers: the status is an HTTP status; a JSON answer
 * parses and, from 400 on, has an "error" string; a file answer lies inside
 * the runs folder; an event stream names a job that exists; a job the API
 * accepted (201) is one its worker's kfarm takes: the command line
 * api_job_argv() makes for it parses and applies (cli.c) to a fresh config,
 * and names kernels that config_select_kernel() finds, none of them a file
 * outside the allowed folder (path: elsewhere, a file:// URL).
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "fuzz.h"
#include "history.h"
#include "log.h"
#include "report.h"
#include "util.h"

#define RUN_A KFARM_TOP "/orchestrator/tests/data/diff/run-a.json"
#define TOKEN "0123456789abcdef0123"

static char *top, *tpl, *work, *runs, *runs_real;
static char *id_q, *id_r, *id_d;
static size_t id_max;
static char *db_bytes;	/* the template database's file */
static size_t db_size;
static struct config cfg;
static char *allow[1];

static void die(const char *what, const struct kf_error *e)
{
	fprintf(stderr, "fuzz_api: %s: %s\n", what, e ? e->text : "failed");
	abort();
}

static void put(const char *path, const char *text)
{
	struct kf_error e;

	if (util_write_atomic(path, text, strlen(text), &e) < 0)
		die(path, &e);
}

/* A job's run directory @name under the runs folder, with artefacts to serve. */
static char *run_dir(const char *name, const char *run_json)
{
	char *dir = xasprintf("%s/%s", runs, name), *p;
	struct kf_error e;

	p = xasprintf("%s/console", dir);
	if (util_mkdir_p(p, &e) < 0)
		die(p, &e);
	free(p);
	p = xasprintf("%s/run.json", dir);
	put(p, run_json);
	free(p);
	p = xasprintf("%s/debian-6.1-smp1-boot1.log", dir);
	put(p, "[    0.000000] Linux version 6.1.0\n");
	free(p);
	p = xasprintf("%s/night-debian-6.1.json", dir);
	put(p, "{\"kernel\": \"debian-6.1\"}\n");
	free(p);
	return dir;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* At exit: the scratch folder's tree (fuzz_scratch() removes its own file and the folder). */
static void remove_tree(void)
{
	const char *names[] = { tpl, work, runs, allow[0] };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i])
			nftw(names[i], remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *f = fuzz_scratch("api", "x");
	struct kf_error e;
	json_t *rq, *run;
	char *text, *dir;
	struct db *db;

	(void)argc;
	(void)argv;
	log_verbose = 0;
	top = xstrdup(f);
	*strrchr(top, '/') = 0;
	tpl = xasprintf("%s/template", top);
	work = xasprintf("%s/work", top);
	runs = xasprintf("%s/runs", top);
	allow[0] = xasprintf("%s/kernels", top);
	atexit(remove_tree);
	if (util_mkdir_p(tpl, &e) < 0 || util_mkdir_p(work, &e) < 0 ||
	    util_mkdir_p(runs, &e) < 0 || util_mkdir_p(allow[0], &e) < 0)
		die(top, &e);
	runs_real = realpath(runs, NULL);
	{
		char *k = xasprintf("%s/bzImage", allow[0]);

		put(k, "not a kernel: the API checks only where it lies\n");
		free(k);
	}
	config_init(&cfg);
	if (config_load_default(&cfg, &e) < 0)
		die("the default config", &e);
	run = report_load(RUN_A, &e);
	if (!run)
		die(RUN_A, &e);
	text = json_dumps(run, JSON_INDENT(2));

	db = db_open(tpl, &e);
	if (!db)
		die(tpl, &e);
	rq = json_pack("{s:s, s:[s]}", "kind", "run", "kernels", "debian-6.1");
	id_q = db_job_new(db, "run", rq, &e);
	json_decref(rq);
	rq = json_pack("{s:s, s:s, s:s, s:[i]}", "kind", "compare", "a", "debian-6.1",
		       "b", "debian-6.12", "smp", 1);
	id_r = db_job_new(db, "compare", rq, &e);
	id_d = id_r ? db_job_new(db, "compare", rq, &e) : NULL;
	json_decref(rq);
	if (!id_q || !id_r || !id_d)
		die("a fixture job", &e);
	dir = run_dir("running", text);
	if (db_job_start(db, id_r, dir, &e) < 0)
		die(id_r, &e);
	free(dir);
	dir = run_dir("done", text);
	if (db_job_start(db, id_d, dir, &e) < 0 ||
	    db_job_end(db, id_d, "done", 0, NULL, NULL, &e) < 0 ||
	    history_add(runs, run, NULL, dir, &e) < 0)
		die(id_d, &e);
	free(dir);
	db_close(db);
	json_decref(run);
	free(text);
	id_max = strlen(id_q) > strlen(id_r) ? strlen(id_q) : strlen(id_r);
	id_max = strlen(id_d) > id_max ? strlen(id_d) : id_max;
	id_max = strlen(allow[0]) > id_max ? strlen(allow[0]) : id_max;
	{
		char *p = xasprintf("%s/kfarm.db", tpl);

		db_bytes = util_read_file(p, &db_size, &e);
		if (!db_bytes)
			die(p, &e);
		free(p);
	}
	return 0;
}

/* @s (@n bytes) with @Q, @R and @D replaced by the fixture jobs' ids and @K by the allowed folder (new, NUL-terminated; its length in *@len). */
static char *ids(const char *s, size_t n, size_t *len)
{
	const char *e = s + n;
	size_t o = 0;
	char *out = malloc(n / 2 * id_max + n + 1);

	if (!out)
		abort();
	while (s < e) {
		const char *id = NULL;

		if (s + 1 < e && s[0] == '@' && s[1] == 'Q')
			id = id_q;
		else if (s + 1 < e && s[0] == '@' && s[1] == 'R')
			id = id_r;
		else if (s + 1 < e && s[0] == '@' && s[1] == 'D')
			id = id_d;
		else if (s + 1 < e && s[0] == '@' && s[1] == 'K')
			id = allow[0];
		if (id) {
			memcpy(out + o, id, strlen(id));
			o += strlen(id);
			s += 2;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = 0;
	*len = o;
	return out;
}

/* Kernel @spec of job @id is one config_select_kernel() finds, and no file outside the allowed folder. */
static void kernel_taken(const struct config *c, const char *id, const char *spec)
{
	struct kernel_spec k;
	struct kf_error e;
	int r;

	memset(&k, 0, sizeof(k));
	r = config_select_kernel(c, spec, &k, &e);
	if (r < 0)
		fprintf(stderr, "fuzz_api: job %s: kernel '%s': %s\n", id, spec, e.text);
	fuzz_check(r == 0);
	/* nothing local but under --allow-path: path: elsewhere, a file:// URL */
	if (k.kind == KERNEL_URL && strchr(spec, ':'))
		fuzz_check(strncmp(k.arg, "file:", 5) != 0);
	if (k.kind == KERNEL_PATH) {
		char *real = realpath(k.arg, NULL);

		fuzz_check(real && !strncmp(real, allow[0], strlen(allow[0])) &&
			   real[strlen(allow[0])] == '/');
		free(real);
	}
	config_kernel_release(&k);
}

/* The worker's command line for job @id parses as kfarm's, with its kernels known. */
static void worker_takes(struct db *db, const char *id)
{
	char **argv, **a;
	json_t *job;
	struct config c;
	struct kf_error e;
	struct cli cl;
	int argc, cmd, i, r;

	job = db_job_get(db, id, &e);
	fuzz_check(job != NULL);
	argv = api_job_argv(job, "kfarm", NULL, "/nonexistent/run", 0, 3, &e);
	fuzz_check(argv != NULL);
	for (argc = 0, a = argv; *a; a++)
		argc++;
	fuzz_check(argc >= 2);
	cmd = cli_find(argv[1]);
	fuzz_check(cmd >= 0);
	r = cli_parse((enum cli_cmd)cmd, argc - 1, argv + 1, &cl, &e);
	if (r < 0)
		fprintf(stderr, "fuzz_api: the worker's kfarm refuses job %s: %s\n", id, e.text);
	fuzz_check(r == 0);
	config_init(&c);
	fuzz_check(config_load_default(&c, &e) == 0);
	r = cli_apply(&cl, &c, &e);
	if (r < 0)
		fprintf(stderr, "fuzz_api: the worker's kfarm refuses job %s: %s\n", id, e.text);
	fuzz_check(r == 0);
	/* the kernels: compare's operands, run's --kernels list */
	for (i = 0; i < cl.nargs; i++)
		kernel_taken(&c, id, cl.args[i]);
	if (cli_get(&cl, CLI_OPT_KERNELS)) {
		char *list = xstrdup(cli_get(&cl, CLI_OPT_KERNELS)), *save = NULL, *k;

		for (k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save))
			kernel_taken(&c, id, k);
		free(list);
	}
	config_release(&c);
	api_argv_free(argv);
	json_decref(job);
}

static int on_cancel(void *arg, const char *id)
{
	(void)arg;
	return id_r && !strcmp(id, id_r) ? 0 : -1;
}

static void on_queued(void *arg)
{
	(void)arg;
}

static void on_metrics(void *arg, char **out)
{
	char *more;

	(void)arg;
	more = xasprintf("%skfarmd_workers_running 1\n", *out);
	free(*out);
	*out = more;
}

/* A fresh database in @work: the template's file written again. */
static struct db *fresh_db(void)
{
	char *to = xasprintf("%s/kfarm.db", work);
	char *wal = xasprintf("%s-wal", to), *shm = xasprintf("%s-shm", to);
	struct kf_error e;
	struct db *db;

	unlink(wal);
	unlink(shm);
	if (util_write_atomic(to, db_bytes, db_size, &e) < 0)
		die(to, &e);
	db = db_open(work, &e);
	if (!db)
		die(work, &e);
	free(to);
	free(wal);
	free(shm);
	return db;
}

/* The answer's invariants. */
static void check(struct db *db, const struct api_response *rs)
{
	struct kf_error e;

	fuzz_check(rs->status >= 200 && rs->status <= 599);
	fuzz_check(!rs->body != !rs->file || rs->stream);
	if (rs->body && rs->content_type && !strncmp(rs->content_type, "application/json", 16)) {
		json_t *v = json_loadb(rs->body, rs->body_len, 0, NULL);

		fuzz_check(v != NULL);
		if (rs->status >= 400)
			fuzz_check(json_is_string(json_object_get(v, "error")));
		json_decref(v);
	}
	if (rs->file) {
		char *real = realpath(rs->file, NULL);
		size_t n = strlen(runs_real);

		fuzz_check(real != NULL);
		fuzz_check(!strncmp(real, runs_real, n) && real[n] == '/');
		free(real);
	}
	if (rs->stream) {
		json_t *job = db_job_get(db, rs->stream, &e);

		fuzz_check(job != NULL);
		json_decref(job);
	}
	if (rs->location)
		fuzz_check(!strncmp(rs->location, "/v1/jobs/", 9));
	if (rs->status == 201) {
		fuzz_check(rs->location != NULL);
		worker_takes(db, rs->location + 9);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *end, *target, *sp, *q, *auth = NULL;
	const char *body = NULL;
	struct api_request rq;
	struct api_response rs;
	struct api_ctx ctx;
	size_t body_len = 0;

	text = ids((const char *)data, size, &size);
	/* the request line */
	end = memchr(text, '\n', size);
	if (end)
		*end = 0;
	line = text;
	sp = strchr(line, ' ');
	if (!sp) {
		free(text);
		return 0;
	}
	*sp = 0;
	target = sp + 1;
	/* the header lines, up to an empty one; then the body (bytes, NULs too) */
	while (end) {
		char *h = end + 1;

		end = memchr(h, '\n', size - (size_t)(h - text));
		if (end)
			*end = 0;
		if (!*h) {
			if (end) {
				body = end + 1;
				body_len = size - (size_t)(body - text);
			}
			break;
		}
		if (!strncasecmp(h, "Authorization: ", 15))
			auth = h + 15;
		if (!end)
			break;
	}

	memset(&rq, 0, sizeof(rq));
	rq.method = line;
	rq.query = json_object();
	q = strchr(target, '?');
	if (q) {
		char *save = NULL, *kv;

		*q++ = 0;
		for (kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');

			if (eq)
				*eq++ = 0;
			/* as kfarmd's add_query(): the first of a key; what jansson takes */
			if (!json_object_get(rq.query, kv))
				json_object_set_new(rq.query, kv, json_string(eq ? eq : ""));
		}
	}
	rq.path = target;
	rq.authorization = auth;
	if (body_len > API_BODY_MAX)
		rq.body_too_large = 1;
	else if (body_len) {
		rq.body = body;
		rq.body_len = body_len;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.db = fresh_db();
	ctx.cfg = &cfg;
	ctx.runs_dir = runs;
	ctx.queue_max = 3;
	ctx.token = auth ? TOKEN : NULL;
	ctx.allow_paths = allow;
	ctx.nallow_paths = 1;
	ctx.cancel = on_cancel;
	ctx.queued = on_queued;
	ctx.metrics = on_metrics;
	ctx.started_ms = util_now_ms();
	api_handle(&ctx, &rq, &rs);
	check(ctx.db, &rs);
	api_response_release(&rs);
	db_close(ctx.db);
	json_decref(rq.query);
	free(text);
	return 0;
}
