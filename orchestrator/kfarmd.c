// SPDX-License-Identifier: MIT
/*
 * kfarmd - the farm as a service: a job queue in SQLite (db.c), the HTTP API
 * (api.c over libmicrohttpd), and a supervised worker process per job (the
 * kfarm CLI, run or compare, in its own process group; its progress read
 * from a pipe). One event loop: epoll over the signals, libmicrohttpd's
 * epoll descriptor, and each worker's progress pipe and pidfd.
 *
 * Signals: TERM or INT stops the workers (TERM, then KILL after a grace),
 * marks their jobs interrupted and exits within 10 s; HUP reloads the
 * config (a bad one is refused with its file:line:column, the old one stays).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "nightly.h"
#include "proc.h"
#include "report.h"
#include "util.h"
#include "webhook.h"

#define DEFAULT_PORT	7411
/* TERM to a worker, then KILL after this: SIGTERM to kfarmd ends within 10 s. */
#define STOP_GRACE_MS	8000
/* A cancelled job's worker gets as long to write its report. */
#define CANCEL_GRACE_MS	10000

enum watch_kind { W_SIGNAL, W_HTTP, W_PROGRESS, W_PID, W_HOOK };

struct watch {
	enum watch_kind kind;
	struct worker *w;
	struct hook *h;
};

/* At most this many webhook attempts under way at once. */
#define HOOKS_MAX	8
/* An attempt that never ended (its kfarmd died in it) is due again after this. */
#define HOOK_LEASE_MS	((WEBHOOK_TIMEOUT_S + 30) * 1000LL)

/*
 * struct hook - an attempt at one of job @id's webhook deliveries, in its own
 * process (webhook_post()), watched until it ends. The delivery itself is a
 * row of the job database (db_webhooks_add()): written when the job ends,
 * taken up again at start while it is pending.
 * @attempt: its number (db_webhook_begin())
 */
struct hook {
	char *id, *url;
	int attempt;
	struct webhook_attempt a;
	struct watch watch;
	struct hook *next;
};

/*
 * struct worker - one job's kfarm process.
 * @progress: the read end of its progress pipe (-1 once at EOF)
 * @kill_at: when a stopped worker gets KILL (0: not being stopped)
 * @cancelled: stopped because its job was cancelled (else: the daemon stops)
 */
struct worker {
	char *id;
	char *run_dir;
	int compare;
	int bisect;			/* a bisection: exit 1 is done too */
	struct proc proc;
	int progress;
	char buf[4096];
	size_t len;
	long long started_ms, kill_at;
	int cancelled;
	struct watch wprog, wpid;
	struct worker *next;
};

/*
 * struct sse - a client following a job's events (/v1/jobs/ID/events): its
 * connection is suspended while there is nothing new, and resumed by
 * sse_wake() when a job changes.
 * @pending: the text being sent, from @off on
 * @last: the last event's data (api_job_event())
 * @final: the last event is out; the stream ends
 */
struct sse {
	struct kfarmd *d;
	char *id;
	struct MHD_Connection *c;
	char *pending;
	size_t off, len;
	char *last;
	int suspended, final, ended;
	long long sent_ms;
	struct sse *next;
};

/* A Prometheus histogram: counts per upper bound (cumulated when shown), sum, count. */
#define HIST_MAX 12
struct histogram {
	const char *name, *help;
	double le[HIST_MAX];
	size_t nle;
	unsigned long n[HIST_MAX];
	double sum;
	unsigned long count;
};

static void observe(struct histogram *h, double v)
{
	size_t i;

	for (i = 0; i < h->nle; i++)
		if (v <= h->le[i])
			h->n[i]++;
	h->sum += v;
	h->count++;
}

/* Append @h in the text format to *@out. */
static void put_histogram(char **out, const struct histogram *h)
{
	char *t = xasprintf("%s# HELP %s %s\n# TYPE %s histogram\n", *out, h->name, h->help,
			    h->name), *u;
	size_t i;

	for (i = 0; i < h->nle; i++) {
		u = xasprintf("%s%s_bucket{le=\"%g\"} %lu\n", t, h->name, h->le[i], h->n[i]);
		free(t);
		t = u;
	}
	u = xasprintf("%s%s_bucket{le=\"+Inf\"} %lu\n%s_sum %.3f\n%s_count %lu\n", t, h->name,
		      h->count, h->name, h->sum, h->name, h->count);
	free(t);
	free(*out);
	*out = u;
}

/* Append counter @name (labelled @label by the keys of @counts) to *@out. */
static void put_counter(char **out, const char *name, const char *help, const char *label,
			json_t *counts)
{
	char *t = xasprintf("%s# HELP %s %s\n# TYPE %s counter\n", *out, name, help, name), *u;
	const char *k;
	json_t *v;

	json_object_foreach(counts, k, v) {
		u = xasprintf("%s%s{%s=\"%s\"} %" JSON_INTEGER_FORMAT "\n", t, name, label, k,
			      json_integer_value(v));
		free(t);
		t = u;
	}
	free(*out);
	*out = t;
}

/* Add @n to @counts[@key]. */
static void count(json_t *counts, const char *key, json_int_t n)
{
	json_object_set_new(counts, key, json_integer(json_integer_value(json_object_get(counts,
									key)) + n));
}

struct kfarmd {
	struct config cfg;
	const char *config_path;
	char *state_dir, *runs_dir, *kfarm;
	struct db *db;
	struct MHD_Daemon *mhd;
	int epfd, sigfd;
	struct watch wsig, whttp;
	struct worker *workers;
	int nworkers, max_workers;
	int stopping;
	long long stop_deadline;
	struct sse *sse;
	long long sse_woken_ms;
	time_t next_nightly;		/* (time_t)-1: none scheduled */
	const char **hook_urls;
	size_t nhook_urls;
	char *hook_secret, *public_url;
	struct hook *hooks;
	int nhooks;
	long long hook_due;		/* util_now_ms() when a delivery is due; -1: none pending */
	char *token;
	int have_cfg;
	/* what the ended jobs' runs measured, since kfarmd started (/metrics) */
	struct histogram boot_s, cell_s;
	json_t *verdicts, *guest_status, *jobs_ended;
	struct api_ctx api;
};

/* How often a quiet event stream gets a comment line, so that proxies keep it. */
#define SSE_KEEPALIVE_MS	15000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kfarmd [-c CONFIG] [--listen ADDR:PORT] [--state DIR] [--workers N]\n"
		"              [--queue-max N] [--token-file FILE] [--allow-path DIR]...\n"
		"              [--webhook URL]... [--webhook-secret-file FILE] [--public-url URL]\n"
		"              [--foreground] [--no-resume] [-q] [-v]\n"
		"  -c, --config FILE    the config the workers run with (default: the embedded one)\n"
		"  --listen ADDR:PORT   where the API listens (default 127.0.0.1:%d); any address\n"
		"                       but loopback needs --token-file\n"
		"  --state DIR          the job database and run directories (default\n"
		"                       /var/lib/kfarm as root, else $XDG_STATE_HOME/kfarm)\n"
		"  --workers N          jobs run at once (default 1)\n"
		"  --queue-max N        queued jobs at most; more is 429 (default %d)\n"
		"  --token-file FILE    the bearer token every request but /healthz needs\n"
		"  --allow-path DIR     path: kernels from the API only under DIR (repeatable)\n"
		"  --webhook URL        POST each job's end there (repeatable), retried with backoff\n"
		"  --webhook-secret-file FILE  sign webhooks: X-Kfarm-Signature: sha256=HMAC\n"
		"  --public-url URL     the daemon's address in webhooks (default http://LISTEN)\n"
		"  --foreground         stay in the foreground (systemd, tests); logs to stderr\n"
		"  --no-resume          leave the jobs found interrupted at start as they are (by\n"
		"                       default they are queued again and resume their runs)\n",
		DEFAULT_PORT, API_QUEUE_MAX);
}

/* The default state directory: /var/lib/kfarm as root, else $XDG_STATE_HOME/kfarm. */
static char *default_state(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		return xstrdup("/var/lib/kfarm");
	if (x && *x)
		return xasprintf("%s/kfarm", x);
	return xasprintf("%s/.local/state/kfarm", home ? home : ".");
}

/* The kfarm CLI beside this binary. */
static char *kfarm_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup("kfarm");
	self[n] = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	return xasprintf("%s/kfarm", self);
}

/*
 * The config at @path (NULL: the embedded one), its nightly comparisons'
 * kernels known to it; 0, or -1 with @e.
 */
static int load_config(struct config *cfg, const char *path, struct kf_error *e)
{
	json_t *rqs, *rq;
	size_t i, j;

	config_init(cfg);
	if ((path ? config_load_file(cfg, path, e) : config_load_default(cfg, e)) < 0) {
		config_release(cfg);
		return -1;
	}
	rqs = cfg->nightly ? nightly_requests(cfg->nightly) : json_array();
	json_array_foreach(rqs, i, rq)
		for (j = 0; j < 2; j++) {
			const char *k = json_string_value(json_object_get(rq, j ? "b" : "a"));
			struct kernel_spec ks;

			if (config_select_kernel(cfg, k, &ks, e) < 0) {
				error_set(e, cfg->source, 0, 0, "nightly/compare/%zu/%s: unknown kernel "
					  "\"%s\"", i, j ? "b" : "a", k);
				json_decref(rqs);
				config_release(cfg);
				return -1;
			}
			config_kernel_release(&ks);
		}
	json_decref(rqs);
	return 0;
}

/* When the config's nightly fires next after now (logged), or (time_t)-1. */
static void plan_nightly(struct kfarmd *d)
{
	char when[64];
	struct tm tm;

	d->next_nightly = d->cfg.nightly ? nightly_next(d->cfg.nightly, time(NULL)) : (time_t)-1;
	if (d->next_nightly == (time_t)-1)
		return;
	localtime_r(&d->next_nightly, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
	log_info("nightly: next at %s", when);
}

/* Queue the nightly comparisons when their time has come. */
static void run_nightly(struct kfarmd *d)
{
	struct kf_error e;
	json_t *rqs, *rq;
	size_t i;

	if (d->next_nightly == (time_t)-1 || time(NULL) < d->next_nightly || d->stopping)
		return;
	rqs = nightly_requests(d->cfg.nightly);
	json_array_foreach(rqs, i, rq) {
		char *id = db_job_new(d->db, "nightly", rq, &e);

		if (id)
			log_info("nightly: job %s queued: %s vs %s", id,
				 json_string_value(json_object_get(rq, "a")),
				 json_string_value(json_object_get(rq, "b")));
		else
			log_warnx("nightly: cannot queue: %s", e.text);
		free(id);
	}
	json_decref(rqs);
	plan_nightly(d);
}

/* Let every suspended event stream look for news (@end: and then end). */
static void sse_wake(struct kfarmd *d, int end)
{
	struct sse *s;

	for (s = d->sse; s; s = s->next) {
		s->ended |= end;
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->c);
		}
	}
	d->sse_woken_ms = util_now_ms();
}

/* ------------------------------------------------------------ workers */

static struct worker *find_worker(struct kfarmd *d, const char *id)
{
	struct worker *w;

	for (w = d->workers; w; w = w->next)
		if (!strcmp(w->id, id))
			return w;
	return NULL;
}

/* TERM the worker now, KILL its process group after @grace_ms. */
static void stop_worker(struct worker *w, int grace_ms)
{
	if (w->kill_at)
		return;
	kill(w->proc.pid, SIGTERM);
	w->kill_at = util_now_ms() + grace_ms;
}

static int api_cancel(void *arg, const char *id)
{
	struct kfarmd *d = arg;
	struct worker *w = find_worker(d, id);

	if (!w)
		return -1;
	log_info("job %s: cancelled, stopping its worker", id);
	w->cancelled = 1;
	stop_worker(w, CANCEL_GRACE_MS);
	sse_wake(d, 0);
	return 0;
}

static void api_queued(void *arg)
{
	sse_wake(arg, 0);	/* the loop looks for queued jobs on every turn */
}

static void api_metrics(void *arg, char **out)
{
	struct kfarmd *d = arg;
	char *t = xasprintf("%s# HELP kfarm_workers_running Job workers running.\n"
			    "# TYPE kfarm_workers_running gauge\nkfarm_workers_running %d\n"
			    "# HELP kfarm_workers_max Job workers at most.\n"
			    "# TYPE kfarm_workers_max gauge\nkfarm_workers_max %d\n",
			    *out, d->nworkers, d->max_workers);

	free(*out);
	*out = t;
	put_histogram(out, &d->boot_s);
	put_histogram(out, &d->cell_s);
	put_counter(out, "kfarm_verdicts_total", "Verdicts of the cells of ended comparisons.",
		    "verdict", d->verdicts);
	put_counter(out, "kfarm_guests_total", "Guests of ended jobs, by status (ok or how "
		    "they failed).", "status", d->guest_status);
	put_counter(out, "kfarm_jobs_ended_total", "Jobs that ended, by state.", "state",
		    d->jobs_ended);
}

/* Take an ended job's run (and verdicts) into the metrics. */
static void measure(struct kfarmd *d, const char *run_dir, int compare, json_t *summary,
		    const char *state)
{
	struct kf_error e;
	json_t *run = report_load(run_dir, &e), *v;
	const char *k;
	size_t i;

	count(d->jobs_ended, state, 1);
	if (compare)
		json_object_foreach(summary, k, v)
			count(d->verdicts, k, json_integer_value(v));
	if (!run)
		return;
	for (i = 0; i < report_nguests(run); i++) {
		long long boot_ms;
		const char *st = report_guest_at(run, i, &boot_ms);

		if (boot_ms < 0)	/* taken from another run: that run booted it */
			continue;
		count(d->guest_status, st ? st : "unknown", 1);
		if (boot_ms > 0)
			observe(&d->boot_s, boot_ms / 1000.0);
	}
	for (i = 0; i < report_ncells(run); i++)
		observe(&d->cell_s, report_cell_duration_ms(report_cell_at(run, i)) / 1000.0);
	json_decref(run);
}

/* Feed what the worker's progress pipe has into the job's progress. */
static void read_progress(struct kfarmd *d, struct worker *w)
{
	char *nl;
	ssize_t n;

	for (;;) {
		if (w->len == sizeof(w->buf) - 1)
			w->len = 0;	/* a line this long is not progress: drop it */
		n = read(w->progress, w->buf + w->len, sizeof(w->buf) - 1 - w->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		w->len += (size_t)n;
		w->buf[w->len] = 0;
		while ((nl = strchr(w->buf, '\n'))) {
			json_t *p;
			struct kf_error e;

			*nl = 0;
			p = json_loads(w->buf, 0, NULL);
			if (json_is_object(p) && db_job_progress(d->db, w->id, p, &e) < 0)
				log_warnx("job %s: progress: %s", w->id, e.text);
			sse_wake(d, 0);
			json_decref(p);
			w->len -= (size_t)(nl + 1 - w->buf);
			memmove(w->buf, nl + 1, w->len + 1);
		}
	}
	if (n == 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->progress, NULL);
		close(w->progress);
		w->progress = -1;
	}
}

/* The last line of @path that says something, for a failed job's error (owned). */
static char *last_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024], *last = NULL;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[strspn(line, " \t")]) {
			free(last);
			last = xstrdup(line);
		}
	}
	fclose(f);
	return last;
}

/*
 * The verdict summary of a finished job: diff.json's, else a bisection's
 * (bisect.json: found 0 or 1, the indexes of the last good and the first bad
 * kernel, its steps), else run.json's statuses.
 */
static json_t *job_summary(const char *run_dir)
{
	char *path = xasprintf("%s/diff.json", run_dir);
	json_t *diff = json_load_file(path, 0, NULL), *s = NULL, *run, *b;
	struct kf_error e;

	free(path);
	path = xasprintf("%s/bisect.json", run_dir);
	b = diff ? NULL : json_load_file(path, 0, NULL);
	free(path);
	if (b) {
		s = json_pack("{s:i, s:I, s:I, s:I}", "found",
			      json_is_true(json_object_get(b, "found")), "last_good",
			      json_integer_value(json_object_get(json_object_get(b, "last_good"), "index")),
			      "first_bad",
			      json_integer_value(json_object_get(json_object_get(b, "first_bad"), "index")),
			      "steps", (json_int_t)json_array_size(json_object_get(b, "steps")));
		json_decref(b);
		return s;
	}
	if (diff) {
		s = json_incref(json_object_get(diff, "summary"));
		json_decref(diff);
		if (s)
			return s;
	}
	run = report_load(run_dir, &e);
	if (!run)
		return NULL;
	s = report_status_counts(run);
	json_decref(run);
	return s;
}

/* When the next webhook delivery is due, from the job database. */
static void plan_hooks(struct kfarmd *d)
{
	struct kf_error e;
	long long in = db_webhook_next_due(d->db, &e);

	if (in == -2) {
		log_warnx("webhooks: %s", e.text);
		in = 1000;	/* look again in a second */
	}
	d->hook_due = in < 0 ? -1 : util_now_ms() + in;
}

/*
 * Job @id ended: its payload becomes a pending delivery per webhook URL in
 * the job database before any attempt, so that a stop or a crash loses none.
 */
static void queue_hooks(struct kfarmd *d, const char *id)
{
	struct kf_error e;
	json_t *job, *payload;
	char *body;

	if (!d->nhook_urls)
		return;
	job = db_job_get(d->db, id, &e);
	if (!job) {
		log_warnx("job %s: no webhook: %s", id, e.text);
		return;
	}
	payload = webhook_payload(job, d->public_url);
	json_decref(job);
	body = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	json_decref(payload);
	if (!body) {
		log_warnx("job %s: no webhook: it has no payload", id);
		return;
	}
	if (db_webhooks_add(d->db, id, d->hook_urls, d->nhook_urls, body, &e) < 0)
		log_warnx("job %s: no webhook: %s", id, e.text);
	free(body);
	plan_hooks(d);
}

/* Begin an attempt at job @id's delivery of @payload to @url, in a process of its own. */
static void start_hook(struct kfarmd *d, const char *id, const char *url, const char *payload)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct kf_error e;
	struct hook *h;
	int attempt;

	attempt = db_webhook_begin(d->db, id, url, HOOK_LEASE_MS, &e);
	if (attempt < 0) {
		log_warnx("job %s: webhook to %s: %s", id, url, e.text);
		return;
	}
	h = xcalloc(1, sizeof(*h));
	if (webhook_post(url, payload, strlen(payload), d->hook_secret, &h->a, &e) < 0) {
		log_warnx("job %s: webhook to %s: %s; given up", id, url, e.text);
		if (db_webhook_end(d->db, id, url, attempt, DB_HOOK_FAILED, e.text, 0, &e) < 0)
			log_warnx("job %s: webhook to %s: %s", id, url, e.text);
		free(h);
		return;
	}
	h->id = xstrdup(id);
	h->url = xstrdup(url);
	h->attempt = attempt;
	h->watch = (struct watch){ .kind = W_HOOK, .h = h };
	ev.data.ptr = &h->watch;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, h->a.proc.pidfd, &ev);
	h->next = d->hooks;
	d->hooks = h;
	d->nhooks++;
}

/* Start the deliveries that are due, while there is room. */
static void run_hooks(struct kfarmd *d)
{
	struct kf_error e;
	json_t *due;
	size_t i;

	if (d->stopping || d->hook_due < 0 || util_now_ms() < d->hook_due ||
	    d->nhooks >= HOOKS_MAX)
		return;
	due = db_webhooks_due(d->db, HOOKS_MAX - d->nhooks, &e);
	if (!due)
		log_warnx("webhooks: %s", e.text);
	for (i = 0; i < json_array_size(due); i++) {
		json_t *row = json_array_get(due, i);

		start_hook(d, json_string_value(json_object_get(row, "job")),
			   json_string_value(json_object_get(row, "url")),
			   json_string_value(json_object_get(row, "payload")));
	}
	json_decref(due);
	plan_hooks(d);
}

/* Unlink @h from @d's attempts and free it. */
static void drop_hook(struct kfarmd *d, struct hook *h)
{
	struct hook **pp;

	for (pp = &d->hooks; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			d->nhooks--;
			break;
		}
	free(h->id);
	free(h->url);
	free(h);
}

/*
 * An attempt ended: reap it and record how it went: delivered, due again
 * after its backoff, or failed once WEBHOOK_RETRIES more attempts failed.
 */
static void end_hook(struct kfarmd *d, struct hook *h)
{
	const char *state = DB_HOOK_DELIVERED;
	long long retry_ms = 0;
	struct kf_error e;
	char why[600];

	epoll_ctl(d->epfd, EPOLL_CTL_DEL, h->a.proc.pidfd, NULL);
	if (webhook_finish(&h->a, why, sizeof(why))) {
		log_info("job %s: webhook to %s delivered (%s, attempt %d)", h->id, h->url, why,
			 h->attempt);
	} else if (h->attempt > WEBHOOK_RETRIES) {
		state = DB_HOOK_FAILED;
		log_warnx("job %s: webhook to %s: attempt %d of %d failed: %s; given up", h->id,
			  h->url, h->attempt, WEBHOOK_RETRIES + 1, why);
	} else {
		state = DB_HOOK_PENDING;
		retry_ms = webhook_backoff_ms(h->attempt, WEBHOOK_BACKOFF_MS);
		log_warnx("job %s: webhook to %s: attempt %d of %d failed: %s; again in %lld ms",
			  h->id, h->url, h->attempt, WEBHOOK_RETRIES + 1, why, retry_ms);
	}
	if (db_webhook_end(d->db, h->id, h->url, h->attempt, state,
			   strcmp(state, DB_HOOK_DELIVERED) ? why : NULL, retry_ms, &e) < 0)
		log_warnx("job %s: webhook to %s: %s", h->id, h->url, e.text);
	drop_hook(d, h);
	plan_hooks(d);
}

/* At start: the deliveries still pending when kfarmd last stopped (or died) are due now. */
static void resume_hooks(struct kfarmd *d)
{
	struct kf_error e;
	json_t *rows = db_webhooks_resume(d->db, &e);
	size_t i;

	if (!rows) {
		log_warnx("webhooks: %s", e.text);
		return;
	}
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);

		log_info("job %s: webhook to %s resumed, attempt %lld",
			 json_string_value(json_object_get(row, "job")),
			 json_string_value(json_object_get(row, "url")),
			 (long long)json_integer_value(json_object_get(row, "attempts")) + 1);
	}
	json_decref(rows);
	plan_hooks(d);
}

/* At stop: attempts under way are stopped; they and every pending delivery keep for the next start. */
static void stop_hooks(struct kfarmd *d)
{
	struct kf_error e;

	while (d->hooks) {
		log_info("job %s: webhook to %s: attempt %d stopped, taken up again at the next "
			 "start", d->hooks->id, d->hooks->url, d->hooks->attempt);
		webhook_abort(&d->hooks->a);
		drop_hook(d, d->hooks);
	}
	if (d->db && db_webhook_next_due(d->db, &e) >= 0)
		log_info("webhooks still pending: taken up again at the next start");
}

/* Worker @w is gone: reap it and end its job. */
static void end_worker(struct kfarmd *d, struct worker *w)
{
	int st, code = -1;
	const char *state;
	char *error = NULL, *log, buf[64];
	json_t *summary;
	struct kf_error e;
	struct worker **pp;

	if (w->progress >= 0)
		read_progress(d, w);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->proc.pidfd, NULL);
	st = proc_reap(&w->proc);
	if (WIFEXITED(st))
		code = WEXITSTATUS(st);
	log = xasprintf("%s/kfarm.log", w->run_dir);
	if (w->cancelled) {
		state = DB_CANCELLED;
	} else if (d->stopping) {
		state = DB_INTERRUPTED;
		error = xstrdup("kfarmd stopped while the job ran");
	} else if (code == 0 || ((w->compare || w->bisect) && code == 1)) {
		state = DB_DONE;
	} else {
		char *why = last_line(log);

		state = DB_FAILED;
		error = xasprintf("the worker %s%s%s", proc_status_str(st, buf, sizeof(buf)),
				  why ? ": " : "", why ? why : "");
		free(why);
	}
	summary = job_summary(w->run_dir);
	measure(d, w->run_dir, w->compare, summary, state);
	if (db_job_end(d->db, w->id, state, code, summary, error, &e) < 0)
		log_warnx("job %s: %s", w->id, e.text);
	sse_wake(d, 0);
	queue_hooks(d, w->id);
	log_info("job %s: %s after %.1f s (%s)%s%s", w->id, state,
		 (util_now_ms() - w->started_ms) / 1000.0, proc_status_str(st, buf, sizeof(buf)),
		 error ? ": " : "", error ? error : "");
	json_decref(summary);
	free(error);
	free(log);
	if (w->progress >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->progress, NULL);
		close(w->progress);
	}
	for (pp = &d->workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	d->nworkers--;
	free(w->id);
	free(w->run_dir);
	free(w);
}

/* Start queued job @id in a worker; its job fails with the reason when it cannot. */
static void start_worker(struct kfarmd *d, const char *id)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	int pfd[2] = { -1, -1 }, logfd = -1, fds[4];
	char **argv = NULL, *logpath = NULL, *path;
	struct epoll_event ev = { .events = EPOLLIN };
	int resume;
	struct kf_error e;
	json_t *job;

	w->id = xstrdup(id);
	w->run_dir = xasprintf("%s/%s", d->runs_dir, id);
	w->progress = -1;
	job = db_job_get(d->db, id, &e);
	if (!job)
		goto fail;
	w->compare = !strcmp(json_string_value(json_object_get(json_object_get(job, "request"),
								 "kind")) ?: "", "compare");
	/* exit 1: skipped kernels hide the first bad one, the range said: done */
	w->bisect = !strcmp(json_string_value(json_object_get(json_object_get(job, "request"),
								"kind")) ?: "", "bisect");
	if (util_mkdir_p(w->run_dir, &e) < 0)
		goto fail;
	logpath = xasprintf("%s/kfarm.log", w->run_dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		error_set(&e, logpath, 0, 0, "cannot create: %s", strerror(errno));
		goto fail;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		error_set(&e, "pipe", 0, 0, "%s", strerror(errno));
		goto fail;
	}
	/* A job taken up again after kfarmd stopped resumes the run (or bisection) it had begun. */
	path = xasprintf("%s/%s", w->run_dir, strcmp(json_string_value(json_object_get(
		json_object_get(job, "request"), "kind")) ?: "", "bisect") ? "run.json" : "bisect.json");
	resume = access(path, F_OK) == 0;
	free(path);
	argv = api_job_argv(job, d->kfarm, d->config_path, w->run_dir, resume, 3, &e);
	if (!argv)
		goto fail;
	fds[0] = -1;
	fds[1] = logfd;
	fds[2] = logfd;
	fds[3] = pfd[1];
	if (db_job_start(d->db, id, w->run_dir, &e) < 0)
		goto fail;
	if (proc_spawn(&w->proc, (const char *const *)argv, NULL, fds, 4, &e) < 0) {
		db_job_end(d->db, id, DB_FAILED, -1, NULL, e.text, NULL);
		log_warnx("job %s: %s", id, e.text);
		queue_hooks(d, id);
		goto cleanup;
	}
	close(pfd[1]);
	pfd[1] = -1;
	w->progress = pfd[0];
	pfd[0] = -1;
	fcntl(w->progress, F_SETFL, O_NONBLOCK);
	w->started_ms = util_now_ms();
	w->wprog = (struct watch){ .kind = W_PROGRESS, .w = w };
	w->wpid = (struct watch){ .kind = W_PID, .w = w };
	ev.data.ptr = &w->wprog;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, w->progress, &ev);
	ev.data.ptr = &w->wpid;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, w->proc.pidfd, &ev);
	w->next = d->workers;
	d->workers = w;
	d->nworkers++;
	log_info("job %s: %s (pid %d): %s", id, resume ? "resumed" : "started", (int)w->proc.pid,
		 w->run_dir);
	sse_wake(d, 0);
	w = NULL;
	goto cleanup;
fail:
	log_warnx("job %s: cannot start: %s", id, e.text);
	db_job_start(d->db, id, w->run_dir, NULL);
	db_job_end(d->db, id, DB_FAILED, -1, NULL, e.text, NULL);
	queue_hooks(d, id);
cleanup:
	if (w) {
		free(w->id);
		free(w->run_dir);
		free(w);
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (logfd >= 0)
		close(logfd);
	free(logpath);
	api_argv_free(argv);
	json_decref(job);
}

/*
 * Take up the interrupted jobs again (kfarmd stopped or was killed while they
 * ran): queued once more, oldest first, each to resume its run directory.
 */
static void requeue_interrupted(struct kfarmd *d)
{
	struct kf_error e;
	json_t *jobs = db_job_list(d->db, DB_INTERRUPTED, NULL, 1000, &e);
	size_t i;

	if (!jobs) {
		log_warnx("job database: %s", e.text);
		return;
	}
	for (i = json_array_size(jobs); i-- > 0;) {
		const char *id = json_string_value(json_object_get(json_array_get(jobs, i), "id"));

		if (db_job_requeue(d->db, id, &e) < 0)
			log_warnx("job %s: cannot take it up again: %s", id, e.text);
		else
			log_info("job %s: interrupted, queued again to resume", id);
	}
	json_decref(jobs);
}

/* Start queued jobs while there is room. */
static void schedule(struct kfarmd *d)
{
	struct kf_error e;
	char *id;

	while (!d->stopping && d->nworkers < d->max_workers) {
		e.text[0] = 0;
		id = db_job_next(d->db, &e);
		if (!id) {
			if (e.text[0])
				log_warnx("job database: %s", e.text);
			return;
		}
		start_worker(d, id);
		free(id);
	}
}

/* ------------------------------------------------------------ HTTP */

struct conn {
	char *body;
	size_t len;
	int too_large;
};

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	(void)kind;
	if (key && !json_object_get(cls, key))
		json_object_set_new(cls, key, json_string(value ? value : ""));
	return MHD_YES;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	struct kf_error e;
	json_t *job;
	size_t n;

	(void)pos;
	if (s->off == s->len) {
		free(s->pending);
		s->pending = NULL;
		s->off = s->len = 0;
		if (s->final || s->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		job = db_job_get(s->d->db, s->id, &e);
		if (!job)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		s->pending = api_job_event(job, &s->last, &s->final);
		json_decref(job);
		if (!s->pending && util_now_ms() - s->sent_ms >= SSE_KEEPALIVE_MS)
			s->pending = xstrdup(": keepalive\n\n");
		if (!s->pending) {
			s->suspended = 1;
			MHD_suspend_connection(s->c);
			return 0;
		}
		s->len = strlen(s->pending);
		s->sent_ms = util_now_ms();
	}
	n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(buf, s->pending + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse *s = cls, **pp;

	for (pp = &s->d->sse; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s->id);
	free(s->pending);
	free(s->last);
	free(s);
}

static enum MHD_Result send_response(struct kfarmd *d, struct MHD_Connection *c,
				     struct api_response *rs)
{
	struct MHD_Response *r = NULL;
	enum MHD_Result ret;

	if (rs->stream) {
		struct sse *s = xcalloc(1, sizeof(*s));

		s->d = d;
		s->id = xstrdup(rs->stream);
		s->c = c;
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
		if (!r) {
			sse_free(s);
			return MHD_NO;
		}
		s->next = d->sse;
		d->sse = s;
	} else if (rs->file) {
		int fd = open(rs->file, O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (fd >= 0 && fstat(fd, &st) == 0) {
			r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
		} else {
			if (fd >= 0)
				close(fd);
			api_response_release(rs);
			rs->status = 404;
			rs->content_type = "application/json";
			rs->body = xstrdup("{\"error\": \"the file went away\"}\n");
			rs->body_len = strlen(rs->body);
		}
	}
	if (!r)
		r = MHD_create_response_from_buffer(rs->body_len, rs->body ? rs->body : (char *)"",
						    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", rs->content_type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (rs->location)
		MHD_add_response_header(r, "Location", rs->location);
	ret = MHD_queue_response(c, (unsigned int)rs->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct kfarmd *d = cls;
	struct conn *cn = *con_cls;
	struct api_request rq;
	struct api_response rs;
	enum MHD_Result ret;

	(void)version;
	if (!cn) {
		*con_cls = xcalloc(1, sizeof(*cn));
		return MHD_YES;
	}
	if (*upload_size) {
		if (cn->len + *upload_size > API_BODY_MAX) {
			cn->too_large = 1;	/* take the rest, keep none */
		} else {
			cn->body = realloc(cn->body, cn->len + *upload_size + 1);
			if (!cn->body)
				abort();
			memcpy(cn->body + cn->len, upload, *upload_size);
			cn->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.path = url;
	rq.query = json_object();
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_query, rq.query);
	rq.body = cn->body;
	rq.body_len = cn->len;
	rq.body_too_large = cn->too_large;
	rq.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	d->api.cfg = &d->cfg;
	api_handle(&d->api, &rq, &rs);
	log_debug("%s %s: %d", method, url, rs.status);
	ret = send_response(d, c, &rs);
	api_response_release(&rs);
	json_decref(rq.query);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn) {
		free(cn->body);
		free(cn);
	}
	*con_cls = NULL;
}

/* @listen ("ADDR:PORT", "ADDR" or ":PORT") into @sa; whether it is loopback. */
static int parse_listen(const char *listen, struct sockaddr_in *sa, int *loopback)
{
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(listen, ':');
	long port = DEFAULT_PORT;
	char *end;

	if (colon) {
		if ((size_t)(colon - listen) >= sizeof(host))
			return -1;
		if (colon > listen) {
			memcpy(host, listen, (size_t)(colon - listen));
			host[colon - listen] = 0;
		}
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
			return -1;
	} else if (strlen(listen) < sizeof(host)) {
		strcpy(host, listen);
	} else {
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	*loopback = (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
	return 0;
}

/* The token in @path: its first line, which must not be empty (owned). */
static char *read_token(const char *path, struct kf_error *e)
{
	size_t n;
	char *text = util_read_file(path, &n, e);

	if (!text)
		return NULL;
	text[strcspn(text, "\r\n")] = 0;
	if (strlen(text) < 16) {
		free(text);
		error_set(e, path, 1, 0, "the token must be at least 16 characters");
		return NULL;
	}
	return text;
}

/* ------------------------------------------------------------ the loop */

static void on_signal(struct kfarmd *d)
{
	struct signalfd_siginfo si;
	struct kf_error e;
	struct worker *w;
	char buf[1600];

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			struct config fresh;

			if (load_config(&fresh, d->config_path, &e) < 0) {
				log_warnx("reload refused, the old config stays: %s",
					  error_format(&e, buf, sizeof(buf)));
				continue;
			}
			config_release(&d->cfg);
			d->cfg = fresh;
			d->api.cfg = &d->cfg;
			plan_nightly(d);
			log_info("config reloaded from %s", d->config_path ? d->config_path :
				 "the embedded default");
			continue;
		}
		if (d->stopping)
			continue;
		log_info("signal %d: stopping %d worker(s), their jobs interrupted",
			 (int)si.ssi_signo, d->nworkers);
		sd_notify(0, "STOPPING=1");
		d->stopping = 1;
		d->stop_deadline = util_now_ms() + STOP_GRACE_MS + 1000;
		for (w = d->workers; w; w = w->next)
			stop_worker(w, STOP_GRACE_MS);
	}
}

/* KILL the process groups of workers past their grace. */
static void kill_overdue(struct kfarmd *d)
{
	long long now = util_now_ms();
	struct worker *w;

	for (w = d->workers; w; w = w->next)
		if (w->kill_at && now >= w->kill_at && w->proc.pid > 0) {
			log_warnx("job %s: its worker did not stop in time: killed", w->id);
			kill(-w->proc.pid, SIGKILL);
			w->kill_at = now + 60000;
		}
}

static int loop(struct kfarmd *d)
{
	struct epoll_event evs[32];
	int i, n, timeout;
	MHD_UNSIGNED_LONG_LONG mt;

	for (;;) {
		run_nightly(d);
		schedule(d);
		run_hooks(d);
		if (d->stopping && d->nworkers == 0) {
			sse_wake(d, 1);
			MHD_run(d->mhd);
			return 0;
		}
		if (util_now_ms() - d->sse_woken_ms >= SSE_KEEPALIVE_MS / 3)
			sse_wake(d, 0);
		timeout = 1000;
		if (MHD_get_timeout(d->mhd, &mt) == MHD_YES && mt < (MHD_UNSIGNED_LONG_LONG)timeout)
			timeout = (int)mt;
		if (d->next_nightly != (time_t)-1 && d->next_nightly - time(NULL) < 1)
			timeout = timeout < 200 ? timeout : 200;
		if (d->hook_due >= 0 && d->nhooks < HOOKS_MAX && !d->stopping) {
			long long in = d->hook_due - util_now_ms();

			if (in < timeout)
				timeout = in > 0 ? (int)in : 0;
		}
		n = epoll_wait(d->epfd, evs, 32, timeout);
		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			return -1;
		}
		for (i = 0; i < n; i++) {
			struct watch *wt = evs[i].data.ptr;

			switch (wt->kind) {
			case W_SIGNAL:
				on_signal(d);
				break;
			case W_HTTP:
				break;
			case W_PROGRESS:
				read_progress(d, wt->w);
				break;
			case W_PID:
				end_worker(d, wt->w);
				/* its other watch may be later in evs: stop here */
				i = n;
				break;
			case W_HOOK:
				end_hook(d, wt->h);
				break;
			}
		}
		MHD_run(d->mhd);
		kill_overdue(d);
	}
}

/* What the command line says beyond struct kfarmd. */
struct options {
	const char *listen, *token_file;
	int foreground, no_resume;
};

/* Append @item to the array *@v of *@n. */
static void push(void *v, size_t *n, const void *item)
{
	const void ***a = v;

	*a = realloc(*a, (*n + 1) * sizeof(**a));
	if (!*a)
		abort();
	(*a)[(*n)++] = item;
}

/*
 * The command line into @d and @o: 0, 1 when the help was asked for (and
 * printed), -1 after saying what is wrong.
 */
static int parse_options(int argc, char **argv, struct kfarmd *d, struct options *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "state", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "queue-max", required_argument, NULL, 'Q' },
		{ "token-file", required_argument, NULL, 't' },
		{ "allow-path", required_argument, NULL, 'a' },
		{ "webhook", required_argument, NULL, 'H' },
		{ "webhook-secret-file", required_argument, NULL, 'S' },
		{ "public-url", required_argument, NULL, 'P' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "no-resume", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kf_error e;
	char buf[1600], *real;
	int opt;
	long v;

	while ((opt = getopt_long(argc, argv, "c:qvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': d->config_path = optarg; break;
		case 'l': o->listen = optarg; break;
		case 's': free(d->state_dir); d->state_dir = xstrdup(optarg); break;
		case 'w':
		case 'Q':
			v = strtol(optarg, NULL, 10);
			if (v < 1 || v > 1000) {
				log_warnx("--%s: '%s' is not a number from 1 to 1000",
					  opt == 'w' ? "workers" : "queue-max", optarg);
				return -1;
			}
			*(opt == 'w' ? &d->max_workers : &d->api.queue_max) = (int)v;
			break;
		case 't': o->token_file = optarg; break;
		case 'a':
			real = realpath(optarg, NULL);
			if (!real) {
				log_warnx("--allow-path %s: %s", optarg, strerror(errno));
				return -1;
			}
			push(&d->api.allow_paths, &d->api.nallow_paths, real);
			break;
		case 'H':
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8)) {
				log_warnx("--webhook %s: not an http:// or https:// URL", optarg);
				return -1;
			}
			push(&d->hook_urls, &d->nhook_urls, optarg);
			break;
		case 'S':
			free(d->hook_secret);
			d->hook_secret = read_token(optarg, &e);
			if (!d->hook_secret) {
				log_warnx("%s", error_format(&e, buf, sizeof(buf)));
				return -1;
			}
			break;
		case 'P': free(d->public_url); d->public_url = xstrdup(optarg); break;
		case 'f': o->foreground = 1; break;
		case 'N': o->no_resume = 1; break;
		case 'q': log_verbose = 0; break;
		case 'v': log_verbose = 2; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		log_warnx("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Signals, the event loop's descriptor and the HTTP server on @sa, with the API. */
static int start_http(struct kfarmd *d, const struct sockaddr_in *sa, const char *listen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const union MHD_DaemonInfo *info;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0,
				  NULL, NULL, handle, d,
				  MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa,
				  MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
				  MHD_OPTION_END);
	if (!d->mhd || d->sigfd < 0 || d->epfd < 0) {
		log_warnx("cannot listen on %s: %s", listen, strerror(errno));
		return -1;
	}
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	d->wsig.kind = W_SIGNAL;
	d->whttp.kind = W_HTTP;
	ev.data.ptr = &d->wsig;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
	ev.data.ptr = &d->whttp;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, info->epoll_fd, &ev);
	d->api.db = d->db;
	d->api.cfg = &d->cfg;
	d->api.config_path = d->config_path;
	d->api.runs_dir = d->runs_dir;
	d->api.cancel = api_cancel;
	d->api.queued = api_queued;
	d->api.metrics = api_metrics;
	d->api.arg = d;
	d->api.started_ms = util_now_ms();
	return 0;
}

/* Everything @d holds (stop_hooks() has stopped its webhook attempts). */
static void release(struct kfarmd *d)
{
	size_t i;

	if (d->mhd)
		MHD_stop_daemon(d->mhd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
	db_close(d->db);
	if (d->have_cfg)
		config_release(&d->cfg);
	for (i = 0; i < d->api.nallow_paths; i++)
		free(d->api.allow_paths[i]);
	free(d->api.allow_paths);
	free(d->token);
	free(d->hook_urls);
	free(d->hook_secret);
	free(d->public_url);
	json_decref(d->verdicts);
	json_decref(d->guest_status);
	json_decref(d->jobs_ended);
	free(d->state_dir);
	free(d->runs_dir);
	free(d->kfarm);
}

int main(int argc, char **argv)
{
	struct options o = { .listen = "127.0.0.1:7411" };
	struct kfarmd d;
	struct sockaddr_in sa;
	struct kf_error e;
	char buf[1600];
	int loopback, ret = 2;
	long v;

	log_init("kfarmd");
	memset(&d, 0, sizeof(d));
	d.max_workers = 1;
	d.api.queue_max = API_QUEUE_MAX;
	d.boot_s = (struct histogram){ .name = "kfarm_guest_boot_seconds",
		.help = "From a guest's start to its first word (ended jobs' guests).",
		.le = { 0.5, 1, 2, 4, 8, 16, 32, 64, 128 }, .nle = 9 };
	d.cell_s = (struct histogram){ .name = "kfarm_cell_duration_seconds",
		.help = "A cell's time in its guests, all repetitions (ended jobs' cells).",
		.le = { 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300 }, .nle = 9 };
	d.verdicts = json_object();
	d.guest_status = json_object();
	d.jobs_ended = json_object();
	d.epfd = d.sigfd = -1;
	d.hook_due = -1;
	switch (parse_options(argc, argv, &d, &o)) {
	case 1: ret = 0; /* fall through */
	case -1: goto cleanup;
	}
	if (parse_listen(o.listen, &sa, &loopback) < 0) {
		log_warnx("--listen %s: not ADDR:PORT (an IPv4 address and a port)", o.listen);
		goto cleanup;
	}
	if (o.token_file && !(d.token = read_token(o.token_file, &e))) {
		log_warnx("%s", error_format(&e, buf, sizeof(buf)));
		goto cleanup;
	}
	d.api.token = d.token;
	if (!loopback && !d.token) {
		log_warnx("--listen %s is not loopback: give --token-file", o.listen);
		goto cleanup;
	}
	if (load_config(&d.cfg, d.config_path, &e) < 0) {
		log_warnx("%s", error_format(&e, buf, sizeof(buf)));
		goto cleanup;
	}
	d.have_cfg = 1;
	if (!d.state_dir)
		d.state_dir = default_state();
	if (!d.public_url)
		d.public_url = xasprintf("http://%s", o.listen);
	d.runs_dir = xasprintf("%s/runs", d.state_dir);
	d.kfarm = kfarm_path();
	ret = 1;
	if (util_mkdir_p(d.runs_dir, &e) < 0 || !(d.db = db_open(d.state_dir, &e))) {
		log_warnx("%s", error_format(&e, buf, sizeof(buf)));
		goto cleanup;
	}
	v = db_jobs_interrupted(d.db, &e);
	if (v > 0)
		log_info("%ld job(s) were running when kfarmd last stopped: now interrupted", v);
	if (!o.no_resume)
		requeue_interrupted(&d);
	resume_hooks(&d);
	if (start_http(&d, &sa, o.listen) < 0)
		goto cleanup;
	if (!o.foreground && daemon(1, 1) < 0) {
		log_warn("daemon");
		goto cleanup;
	}
	log_info("listening on http://%s, state in %s, %d worker(s), queue of %d", o.listen,
		 d.state_dir, d.max_workers, d.api.queue_max);
	plan_nightly(&d);
	sd_notify(0, "READY=1");
	ret = loop(&d) < 0 ? 1 : 0;
	stop_hooks(&d);
	log_info("stopped");
cleanup:
	release(&d);
	return ret;
}
