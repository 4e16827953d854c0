/* SPDX-License-Identifier: MIT */
/*
 * webhook.c - POST a job's end to the configured URLs, signed, from a child
 * process that retries with backoff (see webhook.h).
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util.h"
#include "webhook.h"

#if defined(__SANITIZE_ADDRESS__) && defined(__has_include)
#if __has_include(<sanitizer/lsan_interface.h>)
#include <sanitizer/lsan_interface.h>
#define WEBHOOK_LSAN 1
#endif
#endif

#define HMAC_BLOCK	64

void webhook_hmac_sha256(const void *key, size_t klen, const void *msg, size_t len,
			 unsigned char out[32])
{
	unsigned char k0[HMAC_BLOCK] = { 0 }, outer[HMAC_BLOCK + 32], *inner;
	size_t i;

	if (klen > HMAC_BLOCK)
		util_sha256_raw(key, klen, k0);
	else if (klen)
		memcpy(k0, key, klen);
	/* H((K0 ^ ipad) || msg) */
	inner = xmalloc(HMAC_BLOCK + len);
	for (i = 0; i < HMAC_BLOCK; i++)
		inner[i] = k0[i] ^ 0x36;
	if (len)
		memcpy(inner + HMAC_BLOCK, msg, len);
	/* H((K0 ^ opad) || H((K0 ^ ipad) || msg)) */
	for (i = 0; i < HMAC_BLOCK; i++)
		outer[i] = k0[i] ^ 0x5c;
	util_sha256_raw(inner, HMAC_BLOCK + len, outer + HMAC_BLOCK);
	util_sha256_raw(outer, sizeof(outer), out);
	free(inner);
}

char *webhook_signature(const char *secret, const void *body, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char mac[32];
	char *s = xmalloc(sizeof("sha256=") + 64);
	size_t i;

	webhook_hmac_sha256(secret, strlen(secret), body, len, mac);
	memcpy(s, "sha256=", 7);
	for (i = 0; i < 32; i++) {
		s[7 + 2 * i] = hexd[mac[i] >> 4];
		s[8 + 2 * i] = hexd[mac[i] & 15];
	}
	s[7 + 64] = '\0';
	return s;
}

/* @s percent-encoded (RFC 3986 unreserved characters kept; owned). */
static char *escape(const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	char *out = xmalloc(3 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hexd[c >> 4];
			*o++ = hexd[c & 15];
		}
	}
	*o = '\0';
	return out;
}

json_t *webhook_payload(json_t *job, const char *base_url)
{
	static const struct {
		const char *key;
		const char *file;
	} files[] = {
		{ "run_json", "run.json" },
		{ "diff_json", "diff.json" },
		{ "diff_html", "diff.html" },
		{ "junit", "junit.xml" },
		{ "kcidb", "kcidb.json" },
	};
	const char *id = json_string_value(json_object_get(job, "id"));
	const char *kind = json_string_value(json_object_get(job, "kind"));
	const char *state = json_string_value(json_object_get(job, "state"));
	json_t *summary = json_object_get(job, "summary"), *out, *urls;
	size_t blen, i;
	char *eid, *jurl;

	if (!id || !kind || !state)
		return NULL;
	if (!base_url)
		base_url = "";
	blen = strlen(base_url);
	while (blen > 0 && base_url[blen - 1] == '/')
		blen--;
	eid = escape(id);
	jurl = xasprintf("%.*s/v1/jobs/%s", (int)blen, base_url, eid);
	urls = json_object();
	json_object_set_new(urls, "job", json_string(jurl));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *u = xasprintf("%s/%s", jurl, files[i].file);

		json_object_set_new(urls, files[i].key, json_string(u));
		free(u);
	}
	out = json_pack("{s:s, s:s, s:s}", "id", id, "kind", kind, "state", state);
	if (summary && !json_is_null(summary))
		json_object_set(out, "summary", summary);
	json_object_set_new(out, "urls", urls);
	free(jurl);
	free(eid);
	return out;
}

/*
 * The child's side.
 */

/* One line to stderr in a single write(), so that lines of several processes do not mix. */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%s: webhook ", program_invocation_short_name);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	if (n == (int)sizeof(line) - 1)
		n--;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* POST @body to @url until it takes it or @retries more attempts failed; 0 or -1. */
static int deliver(const char *url, const char *body, size_t len, struct curl_slist *hdr,
		   int retries, int backoff_ms)
{
	char errbuf[CURL_ERROR_SIZE];
	int attempt, ret = -1;
	CURL *c = curl_easy_init();

	if (!c) {
		say("%s: libcurl cannot make a handle", url);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kfarmd");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)WEBHOOK_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)WEBHOOK_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	for (attempt = 1;; attempt++) {
		char reason[CURL_ERROR_SIZE + 64];
		long status = 0;
		CURLcode rc;

		errbuf[0] = '\0';
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK) {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			if (status >= 200 && status < 300) {
				if (attempt > 1)
					say("%s: delivered (HTTP %ld) at attempt %d of %d", url,
					    status, attempt, retries + 1);
				ret = 0;
				break;
			}
			snprintf(reason, sizeof(reason), "HTTP %ld", status);
		} else {
			snprintf(reason, sizeof(reason), "%s", errbuf[0] ? errbuf :
				 curl_easy_strerror(rc));
		}
		if (attempt > retries) {
			say("%s: attempt %d of %d failed: %s; giving up", url, attempt,
			    retries + 1, reason);
			break;
		}
		say("%s: attempt %d of %d failed: %s; again in %d ms", url, attempt,
		    retries + 1, reason, backoff_ms);
		sleep_ms(backoff_ms);
		backoff_ms = backoff_ms > WEBHOOK_BACKOFF_MAX_MS / 2 ?
			     WEBHOOK_BACKOFF_MAX_MS : backoff_ms * 2;
	}
	curl_easy_cleanup(c);
	return ret;
}

/* Hold no descriptor of the parent's but 0, 1 and 2. */
static void close_others(void)
{
	int fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	for (fd = 3; fd < 1024; fd++)
		close(fd);
}

/*
 * The child: delivers @body (owned) with @sig (owned; NULL: none) to @o's
 * URLs; returns its exit status. Not noreturn, so that it keeps the caller's
 * registers (and the pointers in them) for the leak check.
 */
static int child_main(const struct webhook_opts *o, char *body, char *sig, pid_t parent)
{
	static const int dfl[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
				   SIGALRM, SIGCHLD };
	int retries = o->retries < 0 ? WEBHOOK_RETRIES : o->retries;
	int backoff = o->backoff_ms <= 0 ? WEBHOOK_BACKOFF_MS : o->backoff_ms;
	struct curl_slist *hdr = NULL;
	char *sig_hdr = NULL;
	int failed = 0;
	sigset_t none;
	size_t i;

	setpgid(0, 0);
	/* Like every child of kfarm's: it does not outlive its parent. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return 1;
	/* The parent's handlers and mask (kfarmd blocks TERM for its signalfd) are not ours. */
	for (i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
		signal(dfl[i], SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_others();

	if (backoff > WEBHOOK_BACKOFF_MAX_MS)
		backoff = WEBHOOK_BACKOFF_MAX_MS;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "X-Kfarm-Event: job-end");
	if (sig) {
		sig_hdr = xasprintf("X-Kfarm-Signature: %s", sig);
		hdr = curl_slist_append(hdr, sig_hdr);
	}
	/* No "Expect: 100-continue" round trip for a larger body. */
	hdr = curl_slist_append(hdr, "Expect:");
	for (i = 0; i < o->nurls; i++)
		if (deliver(o->urls[i], body, strlen(body), hdr, retries, backoff) < 0)
			failed = 1;
	curl_slist_free_all(hdr);
	curl_global_cleanup();
	free(sig_hdr);
	free(sig);
	free(body);
#ifdef WEBHOOK_LSAN
	/* _exit() skips LeakSanitizer's check at exit: run it here. */
	if (__lsan_do_recoverable_leak_check())
		return 3;
#endif
	return failed;
}

int webhook_send(const struct webhook_opts *o, json_t *payload, struct proc *p,
		 struct kf_error *e)
{
	pid_t pid, parent = getpid();
	char *body, *sig = NULL;
	size_t i;

	p->pid = -1;
	p->pidfd = -1;
	if (!o->nurls)
		return error_set(e, "webhook", 0, 0, "no URL to deliver to");
	for (i = 0; i < o->nurls; i++) {
		const char *u = o->urls[i];

		if (!u || (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)))
			return error_set(e, u ? u : "webhook", 0, 0,
					 "not an http:// or https:// URL");
	}
	body = json_dumps(payload, JSON_COMPACT);
	if (!body)
		return error_set(e, o->urls[0], 0, 0, "cannot serialise the payload");
	if (o->secret && *o->secret)
		sig = webhook_signature(o->secret, body, strlen(body));
	pid = fork();
	if (pid < 0) {
		free(sig);
		free(body);
		return error_set(e, o->urls[0], 0, 0, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		_exit(child_main(o, body, sig, parent));
	setpgid(pid, pid);	/* no race with the child's own setpgid */
	free(sig);
	free(body);
	p->pid = pid;
	p->pidfd = proc_pidfd_open(pid);
	return 0;
}
