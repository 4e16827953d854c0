/* SPDX-License-Identifier: MIT */
/*
 * webhook.c: HMAC-SHA256 against RFC 4231's test vectors, the signature's
 * format, the backoff, the payload of a real database job, and webhook_post()
 * against a real HTTP server on 127.0.0.1 (tests/webhook-server.py): refused
 * then delivered with the same signature, a large body byte for byte, a dead
 * URL with libcurl's reason, a signature that does not verify under another
 * secret, a receiver that never answers, no descriptor of the parent's held,
 * a parent that blocks SIGTERM.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "db.h"
#include "proc.h"
#include "util.h"
#include "webhook.h"

static char tmp[64];
static struct proc server = { -1, -1 };
static int port;
static char *server_log;

static void setup(void)
{
	strcpy(tmp, "/tmp/kfarm-test-webhook.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	const char *rm[] = { "rm", "-rf", tmp, NULL };

	if (server.pid > 0) {
		proc_kill(&server, 1000);
		proc_reap(&server);
	}
	free(server_log);
	server_log = NULL;
	ck_assert_int_eq(proc_run(rm, NULL, 60000, NULL, NULL, NULL), 0);
}

/* tests/webhook-server.py answering 500 to the first @fail_first requests, checking @secret. */
static void start_server(int fail_first, const char *secret)
{
	char nfail[16], buf[32] = "";
	const char *argv[10] = { "python3", KFARM_TOP "/tests/webhook-server.py",
				 "--fail-first", nfail, "--log", NULL };
	int pfd[2], fds[3], i = 5;
	struct kf_error e;
	ssize_t n;

	snprintf(nfail, sizeof(nfail), "%d", fail_first);
	server_log = xasprintf("%s/requests.jsonl", tmp);
	argv[i++] = server_log;
	if (secret) {
		argv[i++] = "--secret";
		argv[i++] = secret;
	}
	argv[i] = NULL;
	ck_assert_int_eq(pipe(pfd), 0);
	fds[0] = -1;
	fds[1] = pfd[1];
	fds[2] = getenv("KFARM_TEST_VERBOSE") ? 2 : -1;
	ck_assert_msg(proc_spawn(&server, argv, NULL, fds, 3, &e) == 0, "%s", e.text);
	close(pfd[1]);
	for (n = 0; n < (ssize_t)sizeof(buf) - 1 && !strchr(buf, '\n');) {
		ssize_t r = read(pfd[0], buf + n, sizeof(buf) - 1 - (size_t)n);

		if (r <= 0)
			break;
		n += r;
		buf[n] = '\0';
	}
	close(pfd[0]);
	port = atoi(buf);
	ck_assert_msg(port > 0, "webhook-server.py did not say its port: \"%s\"", buf);
}

static char *url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", port, path);
}

/* The requests the server logged, as an array (new). */
static json_t *requests(void)
{
	json_t *all = json_array();
	char line[65536];
	FILE *f = fopen(server_log, "r");

	if (!f)
		return all;	/* no request yet */
	while (fgets(line, sizeof(line), f)) {
		json_error_t jerr;
		json_t *r = json_loads(line, 0, &jerr);

		ck_assert_msg(r != NULL, "%s: %s", server_log, jerr.text);
		json_array_append_new(all, r);
	}
	fclose(f);
	return all;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *header(json_t *req, const char *name)
{
	return str(json_object_get(req, "headers"), name);
}

/* Whether child @p has exited, without waiting. */
static int exited(struct proc *p)
{
	struct pollfd pfd = { p->pidfd, POLLIN, 0 };

	ck_assert_int_ge(p->pidfd, 0);
	return poll(&pfd, 1, 0) == 1;
}

/* Wait (at most @ms) for child @p to exit, without reaping it. */
static void wait_child_only(struct proc *p, int ms)
{
	struct pollfd pfd = { p->pidfd, POLLIN, 0 };
	int r;

	ck_assert_int_ge(p->pidfd, 0);
	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r != 1) {
		proc_kill(p, 100);
		proc_reap(p);
		ck_abort_msg("the webhook child has not exited after %d ms", ms);
	}
}

static json_t *sample_payload(void)
{
	json_t *job = json_pack("{s:s, s:s, s:s, s:{s:i, s:i}, s:s}", "id", "j20261202T101500123Z-3fa9",
				"kind", "compare", "state", "done", "summary", "same", 200,
				"changed", 4, "run_dir", "/nowhere");
	json_t *p = webhook_payload(job, "http://farm.example:7411");

	json_decref(job);
	ck_assert_ptr_nonnull(p);
	return p;
}

/*
 * HMAC-SHA256
 */

static void hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

START_TEST(sha256_raw_matches_hex)
{
	unsigned char d[32];
	char h[65], h2[65];

	util_sha256_raw("abc", 3, d);
	hex(d, 32, h);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	util_sha256("abc", 3, h2);
	ck_assert_str_eq(h, h2);
}
END_TEST

/* RFC 4231, section 4: cases 1 to 4, 6 and 7 (5 is a truncated output). */
START_TEST(hmac_rfc4231)
{
	static const struct {
		unsigned char key[131];
		size_t klen;
		unsigned char data[160];
		size_t dlen;
		const char *mac;
	} v[] = {
		{ { 0 }, 20, "Hi There", 8,
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "Jefe", 4, "what do ya want for nothing?", 28,
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ { 0 }, 20, { 0 }, 50,
		  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
		{ { 0 }, 25, { 0 }, 50,
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ { 0 }, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ { 0 }, 131, "This is a test using a larger than block-size key and a larger "
		  "than block-size data. The key needs to be hashed before being used by the "
		  "HMAC algorithm.", 152,
		  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	};
	unsigned char key[132], data[160], mac[32];
	size_t i, j;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char got[65], *sig, *want;

		memcpy(key, v[i].key, sizeof(key));
		memcpy(data, v[i].data, sizeof(data));
		/* The keys and data made of repeated or counting bytes. */
		for (j = 0; j < v[i].klen; j++) {
			if (i == 0)
				key[j] = 0x0b;
			else if (i == 2 || i >= 4)
				key[j] = 0xaa;
			else if (i == 3)
				key[j] = (unsigned char)(j + 1);
		}
		for (j = 0; j < v[i].dlen; j++) {
			if (i == 2)
				data[j] = 0xdd;
			else if (i == 3)
				data[j] = 0xcd;
		}
		ck_assert_uint_eq(strlen((const char *)data), v[i].dlen);
		webhook_hmac_sha256(key, v[i].klen, data, v[i].dlen, mac);
		hex(mac, 32, got);
		ck_assert_msg(!strcmp(got, v[i].mac), "RFC 4231 case %zu: %s, not %s",
			      i < 4 ? i + 1 : i + 2, got, v[i].mac);
		/* None of these keys has a NUL: each is a secret too. */
		key[v[i].klen] = '\0';
		sig = webhook_signature((const char *)key, data, v[i].dlen);
		want = xasprintf("sha256=%s", v[i].mac);
		ck_assert_str_eq(sig, want);
		free(sig);
		free(want);
	}
}
END_TEST

/* An empty key and message; a key of exactly one block (used as is) and one byte more (hashed). */
START_TEST(hmac_edges)
{
	unsigned char mac[32], key[65];
	char got[65];

	webhook_hmac_sha256("", 0, "", 0, mac);
	hex(mac, 32, got);
	ck_assert_str_eq(got, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
	memset(key, 'k', sizeof(key));
	webhook_hmac_sha256(key, 64, "msg", 3, mac);
	hex(mac, 32, got);
	ck_assert_str_eq(got, "d62ad25bb128e96ab6ef43464aaf2bb91b5b85f013381e9ba6be747e8d0911b2");
	webhook_hmac_sha256(key, 65, "msg", 3, mac);
	hex(mac, 32, got);
	ck_assert_str_eq(got, "c65585780e821bd312cfaa440c33cb28d6af6b323d4977ae83934834ce589e38");
}
END_TEST

START_TEST(signature_format)
{
	const char *body = "{\"id\":\"j1\"}";
	char *s = webhook_signature("s3cret", body, strlen(body));
	char *again = webhook_signature("s3cret", body, strlen(body));
	char *other_key = webhook_signature("s3creT", body, strlen(body));
	char *other_body = webhook_signature("s3cret", body, strlen(body) - 1);
	size_t i;

	ck_assert_uint_eq(strlen(s), 71);
	ck_assert(!strncmp(s, "sha256=", 7));
	for (i = 7; i < 71; i++)
		ck_assert_msg(strchr("0123456789abcdef", s[i]), "%s: not lowercase hex", s);
	ck_assert_str_eq(s, again);
	ck_assert_str_ne(s, other_key);
	ck_assert_str_ne(s, other_body);
	free(s);
	free(again);
	free(other_key);
	free(other_body);
}
END_TEST

/*
 * The payload
 */

static void check_urls(json_t *p, const char *job_url)
{
	static const char *const keys[][2] = {
		{ "run_json", "run.json" }, { "diff_json", "diff.json" },
		{ "diff_html", "diff.html" }, { "junit", "junit.xml" },
		{ "kcidb", "kcidb.json" },
	};
	json_t *urls = json_object_get(p, "urls");
	size_t i;

	ck_assert(json_is_object(urls));
	ck_assert_uint_eq(json_object_size(urls), 6);
	ck_assert_pstr_eq(str(urls, "job"), job_url);
	for (i = 0; i < 5; i++) {
		char *want = xasprintf("%s/%s", job_url, keys[i][1]);

		ck_assert_pstr_eq(str(urls, keys[i][0]), want);
		free(want);
	}
}

START_TEST(payload_of_a_database_job)
{
	struct kf_error e;
	struct db *db = db_open(tmp, &e);
	json_t *req, *summary, *job, *p;
	char *id, *job_url;

	ck_assert_msg(db != NULL, "%s", e.text);
	req = json_pack("{s:s, s:s, s:s}", "kind", "compare", "a", "debian-6.1", "b", "debian-6.12");
	id = db_job_new(db, "compare", req, &e);
	ck_assert_msg(id != NULL, "%s", e.text);

	/* Queued: no summary. No base: paths. */
	job = db_job_get(db, id, &e);
	ck_assert_ptr_nonnull(job);
	p = webhook_payload(job, NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(json_object_size(p), 4);
	ck_assert_pstr_eq(str(p, "id"), id);
	ck_assert_pstr_eq(str(p, "kind"), "compare");
	ck_assert_pstr_eq(str(p, "state"), "queued");
	ck_assert_ptr_null(json_object_get(p, "summary"));
	job_url = xasprintf("/v1/jobs/%s", id);
	check_urls(p, job_url);
	free(job_url);
	json_decref(p);
	json_decref(job);

	/* Done with a summary; the base's trailing slashes go. */
	summary = json_pack("{s:i, s:i, s:i}", "same", 200, "changed", 4, "flaky", 2);
	ck_assert_int_eq(db_job_start(db, id, "/tmp/run", &e), 0);
	ck_assert_int_eq(db_job_end(db, id, DB_DONE, 1, summary, NULL, &e), 0);
	job = db_job_get(db, id, &e);
	ck_assert_ptr_nonnull(job);
	p = webhook_payload(job, "http://farm.example:7411//");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(json_object_size(p), 5);
	ck_assert_pstr_eq(str(p, "id"), id);
	ck_assert_pstr_eq(str(p, "kind"), "compare");
	ck_assert_pstr_eq(str(p, "state"), "done");
	ck_assert(json_equal(json_object_get(p, "summary"), summary));
	job_url = xasprintf("http://farm.example:7411/v1/jobs/%s", id);
	check_urls(p, job_url);
	/* Nothing of the job's but those: no request, no run directory. */
	ck_assert_ptr_null(json_object_get(p, "request"));
	ck_assert_ptr_null(json_object_get(p, "run_dir"));
	free(job_url);
	json_decref(p);
	json_decref(job);
	json_decref(summary);
	json_decref(req);
	free(id);
	db_close(db);
}
END_TEST

START_TEST(payload_needs_id_kind_state)
{
	json_t *job = json_pack("{s:s, s:s}", "kind", "run", "state", "failed"), *p;

	ck_assert_ptr_null(webhook_payload(job, "http://x"));
	json_object_set_new(job, "id", json_integer(3));
	ck_assert_ptr_null(webhook_payload(job, "http://x"));
	/* An id that needs escaping in a URL is escaped. */
	json_object_set_new(job, "id", json_string("a b/c"));
	p = webhook_payload(job, "http://x/");
	ck_assert_ptr_nonnull(p);
	ck_assert_pstr_eq(str(p, "id"), "a b/c");
	check_urls(p, "http://x/v1/jobs/a%20b%2Fc");
	json_decref(p);
	json_object_del(job, "state");
	ck_assert_ptr_null(webhook_payload(job, "http://x"));
	json_decref(job);
}
END_TEST

/*
 * Delivery: one attempt per child, its outcome reported; the retries are the caller's.
 */

START_TEST(backoff_doubles_to_a_cap)
{
	ck_assert_int_eq(webhook_backoff_ms(1, 1000), 1000);
	ck_assert_int_eq(webhook_backoff_ms(2, 1000), 2000);
	ck_assert_int_eq(webhook_backoff_ms(5, 1000), 16000);
	ck_assert_int_eq(webhook_backoff_ms(6, 1000), 32000);
	ck_assert_int_eq(webhook_backoff_ms(7, 1000), WEBHOOK_BACKOFF_MAX_MS);
	ck_assert_int_eq(webhook_backoff_ms(1000, 1000), WEBHOOK_BACKOFF_MAX_MS);
	ck_assert_int_eq(webhook_backoff_ms(0, 0), WEBHOOK_BACKOFF_MS);
	ck_assert_int_eq(webhook_backoff_ms(3, 50), 200);
	ck_assert_int_eq(webhook_backoff_ms(1, 90000), WEBHOOK_BACKOFF_MAX_MS);
}
END_TEST

/* One attempt at @u with @body under @secret, waited for: webhook_finish()'s answer, its why. */
static int attempt(const char *u, const char *body, const char *secret, char *why, size_t len)
{
	struct webhook_attempt a;
	struct kf_error e;

	ck_assert_msg(webhook_post(u, body, strlen(body), secret, &a, &e) == 0, "%s: %s",
		      e.source, e.text);
	ck_assert_int_gt(a.proc.pid, 0);
	ck_assert_int_ge(a.report, 0);
	wait_child_only(&a.proc, 20000);
	return webhook_finish(&a, why, len);
}

START_TEST(post_refuses_bad_options)
{
	struct webhook_attempt a = { { 99, 99 }, 99 };
	struct kf_error e;

	ck_assert_int_eq(webhook_post("ftp://127.0.0.1/hook", "{}", 2, NULL, &a, &e), -1);
	ck_assert_str_eq(e.source, "ftp://127.0.0.1/hook");
	ck_assert_msg(strstr(e.text, "http://"), "%s", e.text);
	ck_assert_int_eq(a.proc.pid, -1);
	ck_assert_int_eq(a.proc.pidfd, -1);
	ck_assert_int_eq(a.report, -1);
	ck_assert_int_eq(webhook_post(NULL, "{}", 2, NULL, &a, &e), -1);
	ck_assert_int_eq(webhook_post("http://127.0.0.1:1/", NULL, 0, NULL, &a, &e), -1);
	ck_assert_msg(strstr(e.text, "no body"), "%s", e.text);
	ck_assert_int_eq(a.proc.pid, -1);
}
END_TEST

/* 500, 500, then 204: each attempt a child of its own, all signed alike, the body exact. */
START_TEST(post_refused_then_delivered)
{
	const char *secret = "s3cret-of-the-farm";
	json_t *payload = sample_payload(), *reqs;
	char *u, *body, *sig, why[256];
	size_t i;

	start_server(2, secret);
	u = url("/hook");
	body = json_dumps(payload, JSON_COMPACT);
	sig = webhook_signature(secret, body, strlen(body));
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(attempt(u, body, secret, why, sizeof(why)), i == 2);
		ck_assert_str_eq(why, i < 2 ? "HTTP 500" : "HTTP 204");
	}

	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 3);
	for (i = 0; i < 3; i++) {
		json_t *r = json_array_get(reqs, i), *got;

		ck_assert_pstr_eq(str(r, "method"), "POST");
		ck_assert_pstr_eq(str(r, "path"), "/hook");
		ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), i < 2 ? 500 : 204);
		ck_assert_msg(json_is_true(json_object_get(r, "verified")),
			      "request %zu: the signature did not verify", i + 1);
		ck_assert_pstr_eq(str(r, "signature"), sig);
		ck_assert_pstr_eq(header(r, "content-type"), "application/json");
		ck_assert_pstr_eq(header(r, "x-kfarm-event"), "job-end");
		ck_assert_pstr_eq(header(r, "user-agent"), "kfarmd");
		ck_assert_ptr_null(header(r, "expect"));
		ck_assert_pstr_eq(str(r, "body"), body);
		got = json_loads(str(r, "body"), 0, NULL);
		ck_assert_msg(json_equal(got, payload), "the body is not the payload");
		json_decref(got);
	}
	json_decref(reqs);
	free(sig);
	free(body);
	free(u);
	json_decref(payload);
}
END_TEST

/* A stored body is sent byte for byte (its key order, its spaces, a large one whole). */
START_TEST(post_sends_the_body_as_it_is)
{
	size_t big = 40 * 1024, i;	/* requests() reads lines of up to 64 KiB */
	char *body = xmalloc(big + 32), *u, why[256];
	json_t *reqs;

	start_server(0, "k");
	u = url("/big");
	strcpy(body, "{\"z\": 1, \"a\": \"");
	for (i = strlen(body); i < big; i++)
		body[i] = (char)('a' + i % 26);
	strcpy(body + big, "\"}");
	ck_assert_int_eq(attempt(u, body, "k", why, sizeof(why)), 1);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 1);
	ck_assert_pstr_eq(str(json_array_get(reqs, 0), "body"), body);
	ck_assert(json_is_true(json_object_get(json_array_get(reqs, 0), "verified")));
	json_decref(reqs);
	free(u);
	free(body);
}
END_TEST

/* A port that was just free: bound, never listened on (@s keeps it ours). */
static char *dead_url(int *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	*s = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(*s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(*s, (struct sockaddr *)&sa, &len), 0);
	return xasprintf("http://127.0.0.1:%d/hook", ntohs(sa.sin_port));
}

/* A URL where nothing listens: not delivered, and why (libcurl's reason). */
START_TEST(post_dead_url_says_why)
{
	char why[256], *dead;
	int s;

	dead = dead_url(&s);
	ck_assert_int_eq(attempt(dead, "{}", "k", why, sizeof(why)), 0);
	ck_assert_msg(strstr(why, "onnect"), "why: %s", why);
	close(s);
	free(dead);
}
END_TEST

/* A receiver with another secret does not verify the signature; an unsigned POST has none. */
START_TEST(post_wrong_secret_does_not_verify)
{
	json_t *reqs, *r;
	char why[256], *u;

	start_server(0, "not-the-secret");
	u = url("/hook");
	ck_assert_int_eq(attempt(u, "{\"a\":1}", "s3cret", why, sizeof(why)), 1);
	ck_assert_int_eq(attempt(u, "{\"a\":1}", NULL, why, sizeof(why)), 1);
	ck_assert_int_eq(attempt(u, "{\"a\":1}", "", why, sizeof(why)), 1);

	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 3);
	r = json_array_get(reqs, 0);
	ck_assert_ptr_nonnull(str(r, "signature"));
	ck_assert(json_is_false(json_object_get(r, "verified")));
	r = json_array_get(reqs, 1);
	ck_assert_ptr_null(str(r, "signature"));
	ck_assert_ptr_null(header(r, "x-kfarm-signature"));
	ck_assert(json_is_false(json_object_get(r, "verified")));
	ck_assert_ptr_null(str(json_array_get(reqs, 2), "signature"));
	json_decref(reqs);
	free(u);
}
END_TEST

/*
 * The caller is not kept waiting by a receiver that never answers; the child
 * holds none of the caller's descriptors, and TERM stops it even when the
 * caller blocks TERM (as kfarmd does, for its signalfd): not delivered, and why.
 */
START_TEST(post_child_holds_nothing_and_stops)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	struct webhook_attempt a;
	struct pollfd pfd;
	struct kf_error e;
	sigset_t term;
	int pipefd[2], s;
	char c, *u, why[256];

	/* Listening, never accepting: the connection is made, no answer ever comes. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s, 4), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &salen), 0);
	u = xasprintf("http://127.0.0.1:%d/hook", ntohs(sa.sin_port));
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	ck_assert_int_eq(pipe(pipefd), 0);	/* not O_CLOEXEC: fork keeps it */
	ck_assert_msg(webhook_post(u, "{}", 2, "k", &a, &e) == 0, "%s", e.text);
	close(pipefd[1]);
	/* Only the child could still hold the write end. */
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	ck_assert_int_eq(read(pipefd[0], &c, 1), 0);
	close(pipefd[0]);
	ck_assert_int_eq(getpgid(a.proc.pid), a.proc.pid);
	usleep(300000);
	ck_assert_msg(!exited(&a.proc), "webhook_post() returned after the attempt");
	proc_kill(&a.proc, 3000);
	ck_assert_int_eq(webhook_finish(&a, why, sizeof(why)), 0);
	ck_assert_msg(strstr(why, "killed by TERM"), "why: %s", why);
	ck_assert_int_eq(a.report, -1);
	ck_assert_int_eq(a.proc.pid, -1);
	/* webhook_abort() does the same in one call. */
	ck_assert_msg(webhook_post(u, "{}", 2, "k", &a, &e) == 0, "%s", e.text);
	webhook_abort(&a);
	ck_assert_int_eq(a.proc.pid, -1);
	ck_assert_int_eq(a.report, -1);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
	close(s);
	free(u);
}
END_TEST

static Suite *webhook_suite(void)
{
	Suite *s = suite_create("webhook");
	TCase *sig = tcase_create("signature");
	TCase *pay = tcase_create("payload");
	TCase *send = tcase_create("send");

	tcase_add_test(sig, sha256_raw_matches_hex);
	tcase_add_test(sig, hmac_rfc4231);
	tcase_add_test(sig, hmac_edges);
	tcase_add_test(sig, signature_format);
	suite_add_tcase(s, sig);
	tcase_add_checked_fixture(pay, setup, teardown);
	tcase_add_test(pay, payload_of_a_database_job);
	tcase_add_test(pay, payload_needs_id_kind_state);
	suite_add_tcase(s, pay);
	tcase_add_checked_fixture(send, setup, teardown);
	tcase_set_timeout(send, 60);
	tcase_add_test(sig, backoff_doubles_to_a_cap);
	tcase_add_test(send, post_refuses_bad_options);
	tcase_add_test(send, post_refused_then_delivered);
	tcase_add_test(send, post_sends_the_body_as_it_is);
	tcase_add_test(send, post_dead_url_says_why);
	tcase_add_test(send, post_wrong_secret_does_not_verify);
	tcase_add_test(send, post_child_holds_nothing_and_stops);
	suite_add_tcase(s, send);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(webhook_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
