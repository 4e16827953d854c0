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

/* The defaults of struct webhook_opts. */
#define WEBHOOK_RETRIES		5
#define WEBHOOK_BACKOFF_MS	1000
/* The longest wait between two attempts. */
#define WEBHOOK_BACKOFF_MAX_MS	60000
/* One attempt's limits: to connect, and in all. */
#define WEBHOOK_CONNECT_TIMEOUT_S	10
#define WEBHOOK_TIMEOUT_S		30

/*
 * struct webhook_opts - where and how to deliver.
 * @urls: @nurls http:// or https:// URLs (borrowed)
 * @secret: the HMAC key (a NUL-terminated string; NULL or "": no signature)
 * @retries: further attempts per URL after a connection error, a timeout or a
 *           non-2xx answer (negative: WEBHOOK_RETRIES; 0: one attempt only)
 * @backoff_ms: the first wait between attempts, doubling each time up to
 *              WEBHOOK_BACKOFF_MAX_MS (0 or negative: WEBHOOK_BACKOFF_MS)
 */
struct webhook_opts {
	const char *const *urls;
	size_t nurls;
	const char *secret;
	int retries;
	int backoff_ms;
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
 * webhook_send() - deliver @payload (borrowed; serialised now) to every URL
 * of @o without blocking: a child process in its own process group (which
 * holds no descriptor but stdin, stdout and stderr, and dies with its parent)
 * POSTs it to each URL in turn, with a fresh libcurl handle, 10 s to connect
 * and 30 s per attempt, retrying a failed delivery as @o says and logging
 * each failure to stderr with the URL, the attempt and the reason. The child
 * exits 0 when every URL took the payload (a 2xx answer), 1 otherwise (in an
 * AddressSanitizer build, 3 if it leaked memory).
 *
 * The caller watches @p->pidfd (readable when the child has exited; -1 where
 * pidfd_open is missing: then poll with waitpid(WNOHANG)) and reaps it with
 * proc_reap(), or stops it early with proc_kill(). Returns 0, or -1 and @e
 * (naming the URL) for no URL, a URL that is not http:// or https://, or a
 * failed fork; then there is no child.
 */
int webhook_send(const struct webhook_opts *o, json_t *payload, struct proc *p,
		 struct kf_error *e);

#endif
