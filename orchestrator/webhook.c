/* SPDX-License-Identifier: MIT */
/*
 * webhook.c - POST a job's end to a URL, signed, from a child process that
 * reports how the attempt went on a pipe (see webhook.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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

long long webhook_backoff_ms(int attempt, int first_ms)
{
	long long ms = first_ms > 0 ? first_ms : WEBHOOK_BACKOFF_MS;

	for (; attempt > 1 && ms < WEBHOOK_BACKOFF_MAX_MS; attempt--)
		ms *= 2;
	return ms < WEBHOOK_BACKOFF_MAX_MS ? ms : WEBHOOK_BACKOFF_MAX_MS;
}

/*
 * The child's side.
 */

/* The child's report pipe: its outcome, one line of at most REPORT_MAX bytes. */
#define REPORT_FD	3
#define REPORT_MAX	512

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

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* POST @body to @url once; 0 when it took it (2xx), -1 with @reason otherwise. */
static int post(const char *url, const char *body, size_t len, struct curl_slist *hdr,
		char *reason, size_t rlen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *c = curl_easy_init();

	if (!c) {
		snprintf(reason, rlen, "libcurl cannot make a handle");
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
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(reason, rlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return -1;
	}
	snprintf(reason, rlen, "HTTP %ld", status);
	return status >= 200 && status < 300 ? 0 : -1;
}

/* Hold no descriptor of the parent's but 0, 1, 2 and REPORT_FD. */
static void close_others(void)
{
	int fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)REPORT_FD + 1, ~0U, 0U) == 0)
		return;
#endif
	for (fd = REPORT_FD + 1; fd < 1024; fd++)
		close(fd);
}

/*
 * The child: POSTs @body (@len bytes) with @sig (owned; NULL: none) to @url,
 * writes the outcome to @report; returns its exit status (0: delivered, 1:
 * not; in an AddressSanitizer build, 3 if it leaked memory). Not noreturn,
 * so that it keeps the caller's registers (and the pointers in them) for the
 * leak check.
 */
static int child_main(const char *url, const char *body, size_t len, char *sig, int report,
		      pid_t parent)
{
	static const int dfl[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
				   SIGALRM, SIGCHLD };
	char reason[REPORT_MAX];
	struct curl_slist *hdr = NULL;
	char *sig_hdr = NULL;
	int failed;
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
	if (report != REPORT_FD && dup2(report, REPORT_FD) < 0)
		return 1;
	close_others();

	curl_global_init(CURL_GLOBAL_DEFAULT);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "X-Kfarm-Event: job-end");
	if (sig) {
		sig_hdr = xasprintf("X-Kfarm-Signature: %s", sig);
		hdr = curl_slist_append(hdr, sig_hdr);
	}
	/* No "Expect: 100-continue" round trip for a larger body. */
	hdr = curl_slist_append(hdr, "Expect:");
	failed = post(url, body, len, hdr, reason, sizeof(reason)) < 0;
	/* One write, shorter than PIPE_BUF: the parent reads it whole. */
	if (write(REPORT_FD, reason, strlen(reason)) < 0)
		say("%s: cannot report: %s", url, strerror(errno));
	curl_slist_free_all(hdr);
	curl_global_cleanup();
	free(sig_hdr);
	free(sig);
#ifdef WEBHOOK_LSAN
	/* _exit() skips LeakSanitizer's check at exit: run it here. */
	if (__lsan_do_recoverable_leak_check())
		return 3;
#endif
	return failed;
}

int webhook_post(const char *url, const char *body, size_t len, const char *secret,
		 struct webhook_attempt *a, struct kf_error *e)
{
	pid_t pid, parent = getpid();
	int pfd[2];
	char *sig = NULL;

	a->proc.pid = -1;
	a->proc.pidfd = -1;
	a->report = -1;
	if (!url || (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)))
		return error_set(e, url ? url : "webhook", 0, 0, "not an http:// or https:// URL");
	if (!body)
		return error_set(e, url, 0, 0, "no body to POST");
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return error_set(e, url, 0, 0, "pipe: %s", strerror(errno));
	if (secret && *secret)
		sig = webhook_signature(secret, body, len);
	pid = fork();
	if (pid < 0) {
		free(sig);
		close(pfd[0]);
		close(pfd[1]);
		return error_set(e, url, 0, 0, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		_exit(child_main(url, body, len, sig, pfd[1], parent));
	setpgid(pid, pid);	/* no race with the child's own setpgid */
	free(sig);
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	a->report = pfd[0];
	a->proc.pid = pid;
	a->proc.pidfd = proc_pidfd_open(pid);
	return 0;
}

int webhook_finish(struct webhook_attempt *a, char *why, size_t len)
{
	char buf[REPORT_MAX + 1], st_buf[64];
	ssize_t n = -1;
	int st;

	st = proc_reap(&a->proc);
	if (a->report >= 0) {
		n = read(a->report, buf, sizeof(buf) - 1);
		close(a->report);
		a->report = -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) <= 1 && n > 0) {
		buf[n] = '\0';
		snprintf(why, len, "%s", buf);
		return WEXITSTATUS(st) == 0;
	}
	snprintf(why, len, "the delivery process %s", proc_status_str(st, st_buf, sizeof(st_buf)));
	return 0;
}

void webhook_abort(struct webhook_attempt *a)
{
	char why[8];

	if (a->proc.pid > 0)
		proc_kill(&a->proc, 1000);
	webhook_finish(a, why, sizeof(why));
}
