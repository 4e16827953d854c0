/* SPDX-License-Identifier: MIT */
#ifndef KFARM_WEBHOOK_H
#define KFARM_WEBHOOK_H

/*
 * webhook.c - kfarmd's webhooks: when a job ends, its payload
 *   {"id", "kind", "state", "summary" (when the job has one),
 *    "urls": {"job", "run_json", "diff_json", "diff_html", "junit", "kcidb"}}
 * is POSTed to each configured URL, signed with HMAC-SHA256 (RFC 2104) of
 * the body under a shared secret:
 *   Content-Type: application/json
 *   User-Agent: kfarmd
 *   X-Kfarm-Event: job-end
 *   X-Kfarm-Signature: sha256=<64 lowercase hex digits>  (only with a secret)
 * A receiver recomputes the HMAC of the raw body and compares in constant time
 * (tests/webhook-server.py does). Deliveries run in a child process with
 * retries and backoff, so that neither the daemon's loop nor its next job
 * waits for a slow or dead receiver.
 */
#include <stddef.h>

#include <jansson.h>

#include "error.h"
#include "proc.h"

/* A delivery's retries after its first attempt, and the first wait between two. */
#define WEBHOOK_RETRIES		5
#define WEBHOOK_BACKOFF_MS	1000
/* The longest wait between two attempts. */
#define WEBHOOK_BACKOFF_MAX_MS	60000
/* One attempt's limits: to connect, and in all. */
#define WEBHOOK_CONNECT_TIMEOUT_S	10
#define WEBHOOK_TIMEOUT_S		30

/*
 * struct webhook_attempt - one POST under way in a child process.
 * @proc: the child; @proc.pidfd is readable once it has exited (-1 where
 *        pidfd_open is missing: then poll with waitpid(WNOHANG))
 * @report: the read end of the pipe its outcome comes on
 */
struct webhook_attempt {
	struct proc proc;
	int report;
};

/**
 * webhook_hmac_sha256() - HMAC-SHA256 (RFC 2104) of @len bytes at @msg under
 * the @klen-byte @key (a key longer than 64 bytes is hashed first).
 */
void webhook_hmac_sha256(const void *key, size_t klen, const void *msg, size_t len,
			 unsigned char out[32]);

/**
 * webhook_signature() - the X-Kfarm-Signature value of @len bytes at @body
 * under @secret (not NULL): "sha256=" and the HMAC-SHA256 in lowercase hex
 * (71 characters; owned).
 */
char *webhook_signature(const char *secret, const void *body, size_t len);

/**
 * webhook_payload() - the payload (new) for @job, a db_job_get() object:
 * its "id", "kind", "state" and "summary" (when it has one), and "urls" of
 * the job and its artefacts under @base_url (e.g. "http://farm:7411"; a
 * trailing '/' is dropped; NULL: paths only): "job" BASE/v1/jobs/ID,
 * "run_json" .../run.json, "diff_json" .../diff.json, "diff_html"
 * .../diff.html, "junit" .../junit.xml, "kcidb" .../kcidb.json. NULL when
 * @job lacks a string id, kind or state.
 */
json_t *webhook_payload(json_t *job, const char *base_url);

/**
 * webhook_post() - POST @body (@len bytes, sent as they are) to @url once,
 * without blocking: a child process in its own process group (which holds no
 * descriptor of the caller's but 0, 1, 2 and its report pipe, and dies with
 * its parent) makes the attempt with a fresh libcurl handle, 10 s to connect
 * and 30 s in all, and reports how it went. With @secret (not NULL or "") the
 * request carries X-Kfarm-Signature: webhook_signature() of @body.
 *
 * The caller watches @a->proc.pidfd and, once the child has exited, calls
 * webhook_finish(); or stops it early with webhook_abort(). Returns 0, or -1
 * and @e (naming the URL) for a URL that is not http:// or https://, or a
 * failed pipe or fork; then there is no child.
 */
int webhook_post(const char *url, const char *body, size_t len, const char *secret,
		 struct webhook_attempt *a, struct kf_error *e);

/**
 * webhook_finish() - reap attempt @a's child (waiting for it: call it once
 * the pidfd is readable) and say how it went: 1 when @url took the body (a
 * 2xx answer; @why "HTTP 204"), 0 when not, @why then saying why ("HTTP 500",
 * libcurl's reason for a connection that failed, or how the child ended).
 * @why is @len bytes (at least 1).
 */
int webhook_finish(struct webhook_attempt *a, char *why, size_t len);

/** webhook_abort() - stop attempt @a's child (TERM, then KILL) and reap it. */
void webhook_abort(struct webhook_attempt *a);

/**
 * webhook_backoff_ms() - how long to wait after failed attempt number
 * @attempt (1 for the first) before the next: @first_ms (<= 0:
 * WEBHOOK_BACKOFF_MS), doubling with each attempt, at most
 * WEBHOOK_BACKOFF_MAX_MS.
 */
long long webhook_backoff_ms(int attempt, int first_ms);

#endif
