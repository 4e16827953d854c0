/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cache.h"
#include "fetch.h"
#include "log.h"
#include "util.h"

static int env_int(const char *name, int def, int lo, int hi)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		log_warnx("%s='%s' is not a number from %d to %d; using %d", name, s, lo, hi, def);
		return def;
	}
	return (int)v;
}

void fetch_opts_default(struct fetch_opts *o)
{
	o->connect_timeout_s = env_int("KFARM_FETCH_CONNECT_TIMEOUT", 30, 1, 3600);
	o->stall_timeout_s = env_int("KFARM_FETCH_STALL_TIMEOUT", 60, 1, 3600);
	o->retries = env_int("KFARM_FETCH_RETRIES", 4, 0, 100);
	o->backoff_ms = env_int("KFARM_FETCH_BACKOFF_MS", 1000, 0, 600000);
	o->revalidate = 0;
	o->max_bytes = FETCH_MAX_BYTES;
}

int fetch_is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	       strncmp(s, "file://", 7) == 0;
}

/* A response's validators: what a conditional request sends back. */
struct validators {
	char *etag;
	char *last_modified;
};

static void validators_release(struct validators *v)
{
	free(v->etag);
	free(v->last_modified);
	v->etag = v->last_modified = NULL;
}

/* One attempt's state, shared with the callbacks. */
struct xfer {
	CURL *curl;
	FILE *f;
	const char *url;
	curl_off_t offset;	/* bytes already in the .part file when it started */
	long code;		/* the HTTP status once headers are in */
	int checked;		/* the status was looked at (first body byte) */
	int discard;		/* an error page: do not write it */
	int write_failed;
	curl_off_t got, max;	/* body bytes written this transfer; the bound (0: none) */
	int too_big;
	int64_t last_draw;
	curl_off_t last_now;	/* bytes at the last sign of progress */
	int64_t last_change;	/* and when */
	int stall_ms;
	int stalled;
	struct validators v;	/* of the last response's headers */
};

/* Whether @p (@len bytes) is header @name; its value, trimmed, to @out. */
static int header_value(const char *p, size_t len, const char *name, char **out)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(p, name, n) != 0 || p[n] != ':')
		return 0;
	p += n + 1;
	len -= n + 1;
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	free(*out);
	*out = NULL;
	if (len) {
		*out = xmalloc(len + 1);
		memcpy(*out, p, len);
		(*out)[len] = '\0';
	}
	return 1;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	/* A status line starts a response (a redirect's, then the target's). */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		validators_release(&x->v);
	else if (!header_value(p, len, "etag", &x->v.etag))
		header_value(p, len, "last-modified", &x->v.last_modified);
	return len;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (!x->checked) {
		x->checked = 1;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->code);
		if (x->code >= 300) {
			x->discard = 1;
		} else if (x->offset > 0 && x->code == 200) {
			/* The server ignored the Range: start over. */
			if (ftruncate(fileno(x->f), 0) < 0 || fseek(x->f, 0, SEEK_SET) < 0) {
				x->write_failed = errno;
				return 0;
			}
			x->offset = 0;
		}
	}
	if (x->discard)
		return len;
	if (x->max && x->offset + x->got + (curl_off_t)len > x->max) {
		x->too_big = 1;
		return 0;
	}
	x->got += (curl_off_t)len;
	if (fwrite(p, 1, len, x->f) != len) {
		x->write_failed = errno ? errno : EIO;
		return 0;
	}
	return len;
}

static void human(double b, char *out, size_t n)
{
	if (b >= 1 << 20)
		snprintf(out, n, "%.1f MiB", b / (1 << 20));
	else
		snprintf(out, n, "%.0f KiB", b / 1024);
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = arg;
	int64_t now = util_now_ms();
	char a[32], b[32];

	(void)ultotal;
	(void)ulnow;
	/* A stall is measured here: libcurl's low-speed limit averages over seconds. */
	if (dlnow != x->last_now) {
		x->last_now = dlnow;
		x->last_change = now;
	} else if (now - x->last_change >= x->stall_ms) {
		x->stalled = 1;
		return 1;
	}
	if (now - x->last_draw < 250 || dlnow == 0)
		return 0;
	x->last_draw = now;
	human((double)(dlnow + x->offset), a, sizeof(a));
	if (dltotal > 0) {
		double all = (double)(dltotal + x->offset), got = (double)(dlnow + x->offset);
		int width = 30, fill = (int)(got / all * width), i;
		char bar[32];

		for (i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[width] = '\0';
		human(all, b, sizeof(b));
		log_progress("fetching %s [%s] %s / %s", x->url, bar, a, b);
	} else {
		log_progress("fetching %s: %s", x->url, a);
	}
	return 0;
}

/* Errors worth another attempt: the network, not the request. */
static int transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static void global_init(void)
{
	static int done;

	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = 1;
	}
}

/*
 * fetch_url() with a conditional request: @cond (may be NULL) is sent back as
 * If-None-Match and If-Modified-Since, and a 304 answer sets *@not_modified and
 * leaves @dest alone. @got_v (may be NULL) receives the answer's validators.
 */
static int fetch_get(const struct fetch_opts *o, const char *url, const char *dest,
		     const char *want_sha256, char got_sha256[65], const struct validators *cond,
		     struct validators *got_v, int *not_modified, struct kf_error *e)
{
	char *part = xasprintf("%s.part", dest), errbuf[CURL_ERROR_SIZE], sha[65];
	struct xfer x;
	CURL *curl = NULL;
	int attempt, ret = -1, backoff = o->backoff_ms, resume = 1;
	struct stat st;

	global_init();
	if (not_modified)
		*not_modified = 0;
	if (got_v)
		memset(got_v, 0, sizeof(*got_v));
	memset(&x, 0, sizeof(x));
	if (!fetch_is_url(url)) {
		error_set(e, url, 0, 0, "not a URL kfarm fetches (http://, https:// or file://)");
		goto cleanup;
	}
	unlink(part);
	curl = curl_easy_init();
	if (!curl) {
		error_set(e, url, 0, 0, "libcurl: cannot make a handle");
		goto cleanup;
	}
	for (attempt = 0;; attempt++) {
		struct curl_slist *hdrs = NULL;
		CURLcode rc;
		int again = 0;

		validators_release(&x.v);
		memset(&x, 0, sizeof(x));
		x.curl = curl;
		x.url = url;
		x.stall_ms = o->stall_timeout_s * 1000;
		x.last_change = util_now_ms();
		if (!resume)
			unlink(part);
		x.f = fopen(part, "ab");
		if (!x.f) {
			error_set(e, part, 0, 0, "cannot write: %s", strerror(errno));
			goto cleanup;
		}
		x.offset = stat(part, &st) == 0 ? (curl_off_t)st.st_size : 0;
		x.max = (curl_off_t)o->max_bytes;
		errbuf[0] = '\0';
		curl_easy_reset(curl);
		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
		curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
		curl_easy_setopt(curl, CURLOPT_USERAGENT, "kfarm/1");
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)o->connect_timeout_s);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &x);
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
		if (x.max)
			curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, x.max - x.offset);
		if (x.offset > 0)
			curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, x.offset);
		/* A resumed transfer is already a new version: no condition then. */
		if (cond && x.offset == 0) {
			char *h;

			if (cond->etag) {
				h = xasprintf("If-None-Match: %s", cond->etag);
				hdrs = curl_slist_append(hdrs, h);
				free(h);
			}
			if (cond->last_modified) {
				h = xasprintf("If-Modified-Since: %s", cond->last_modified);
				hdrs = curl_slist_append(hdrs, h);
				free(h);
			}
			curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
		}
		rc = curl_easy_perform(curl);
		curl_slist_free_all(hdrs);
		log_progress_done();
		if (fclose(x.f) != 0 && rc == CURLE_OK) {
			error_set(e, part, 0, 0, "cannot write: %s", strerror(errno));
			goto cleanup;
		}
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.code);
		if (x.write_failed) {
			error_set(e, part, 0, 0, "cannot write: %s", strerror(x.write_failed));
			goto cleanup;
		}
		if (x.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
			unlink(part);
			error_set(e, url, 0, 0, "%s is larger than %lld bytes, the most kfarm downloads "
				  "(FETCH_MAX_BYTES): refused", url, (long long)x.max);
			goto cleanup;
		}
		if (rc == CURLE_ABORTED_BY_CALLBACK && x.stalled)
			rc = CURLE_OPERATION_TIMEDOUT;
		if (rc == CURLE_RANGE_ERROR && x.offset > 0 && resume) {
			/* The server cannot resume: start over, once, without a wait. */
			log_info("fetching %s: the server cannot resume; starting over", url);
			resume = 0;
			attempt--;
			continue;
		} else if (rc == CURLE_OK && x.code == 416 && x.offset > 0) {
			/* Asked for bytes past the end: the partial is suspect, start over. */
			unlink(part);
			again = 1;
		} else if (rc == CURLE_OK && x.code == 304 && cond && not_modified) {
			*not_modified = 1;
			unlink(part);
			break;
		} else if (rc == CURLE_OK && x.code >= 500) {
			again = 1;
			snprintf(errbuf, sizeof(errbuf), "HTTP %ld", x.code);
		} else if (rc == CURLE_OK && x.code >= 300) {
			error_set(e, url, 0, 0, "HTTP %ld%s", x.code,
				  x.code == 404 ? " (not found)" : "");
			goto cleanup;
		} else if (rc == CURLE_OK) {
			break;
		} else if (transient(rc)) {
			again = 1;
		} else {
			error_set(e, url, 0, 0, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
			goto cleanup;
		}
		if (rc == CURLE_OPERATION_TIMEDOUT)
			snprintf(errbuf, sizeof(errbuf), "stalled: no data for %d s (or no connection "
				 "within %d s)", o->stall_timeout_s, o->connect_timeout_s);
		if (!again || attempt >= o->retries) {
			error_set(e, url, 0, 0, "%s (gave up after %d attempt%s)",
				  errbuf[0] ? errbuf : curl_easy_strerror(rc), attempt + 1,
				  attempt ? "s" : "");
			goto cleanup;
		}
		if (stat(part, &st) == 0 && st.st_size > 0)
			log_info("fetching %s: %s; resuming at byte %lld in %d ms", url,
				 errbuf[0] ? errbuf : curl_easy_strerror(rc), (long long)st.st_size,
				 backoff);
		else
			log_info("fetching %s: %s; retrying in %d ms", url,
				 errbuf[0] ? errbuf : curl_easy_strerror(rc), backoff);
		usleep((useconds_t)backoff * 1000);
		backoff = backoff * 2 > 60000 ? 60000 : backoff * 2;
	}
	if (got_v) {
		*got_v = x.v;
		memset(&x.v, 0, sizeof(x.v));
	}
	if (not_modified && *not_modified) {
		ret = 0;
		goto cleanup;
	}
	if (util_sha256_file(part, sha, e) < 0)
		goto cleanup;
	if (want_sha256 && strcmp(want_sha256, sha) != 0) {
		error_set(e, url, 0, 0, "sha256 mismatch: expected %s, got %s (nothing kept)",
			  want_sha256, sha);
		goto cleanup;
	}
	if (rename(part, dest) < 0) {
		error_set(e, dest, 0, 0, "cannot rename into place: %s", strerror(errno));
		goto cleanup;
	}
	if (got_sha256)
		memcpy(got_sha256, sha, 65);
	ret = 0;
cleanup:
	if (ret < 0) {
		unlink(part);
		if (got_v)
			validators_release(got_v);
	}
	validators_release(&x.v);
	if (curl)
		curl_easy_cleanup(curl);
	free(part);
	return ret;
}

int fetch_url(const struct fetch_opts *o, const char *url, const char *dest,
	      const char *want_sha256, char got_sha256[65], struct kf_error *e)
{
	return fetch_get(o, url, dest, want_sha256, got_sha256, NULL, NULL, NULL, e);
}

/* The cached file's name: the URL's last path segment, tamed. */
static char *file_name(const char *url)
{
	char *s = strndup(url, strcspn(url, "?#")), *base = strrchr(s, '/'), *out;
	size_t i;

	out = xstrdup(base && base[1] ? base + 1 : "download");
	for (i = 0; out[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-",
			    out[i]))
			out[i] = '_';
	if (out[0] == '.')
		out[0] = '_';
	free(s);
	return out;
}

#define VALIDATORS "validators.json"

/* The validators kept in @dir, and when they were last had; NULLs if none. */
static void validators_load(const char *dir, struct validators *v, char checked[32])
{
	char *path = xasprintf("%s/" VALIDATORS, dir);
	json_t *j = json_load_file(path, 0, NULL);
	const char *s;

	memset(v, 0, sizeof(*v));
	s = json_string_value(json_object_get(j, "etag"));
	v->etag = s && *s ? xstrdup(s) : NULL;
	s = json_string_value(json_object_get(j, "last_modified"));
	v->last_modified = s && *s ? xstrdup(s) : NULL;
	s = json_string_value(json_object_get(j, "checked"));
	snprintf(checked, 32, "%s", s ? s : "");
	json_decref(j);
	free(path);
}

/* Write @v as @dir's validators.json, checked now, whole or not at all. */
static int validators_save(const char *dir, const struct validators *v, struct kf_error *e)
{
	char *path = xasprintf("%s/" VALIDATORS, dir), *text, when[32];
	json_t *j = json_object();
	int ret;

	util_iso8601(when);
	if (v->etag)
		json_object_set_new(j, "etag", json_string(v->etag));
	if (v->last_modified)
		json_object_set_new(j, "last_modified", json_string(v->last_modified));
	json_object_set_new(j, "checked", json_string(when));
	text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	ret = util_write_atomic(path, text, strlen(text), e);
	free(text);
	json_decref(j);
	free(path);
	return ret;
}

int fetch_cached(const char *root, const char *url, const char *want_sha256,
		 const struct fetch_opts *o, char **path, char sha256[65],
		 struct fetch_outcome *out, struct kf_error *e)
{
	char id[65], *name = file_name(url), *dir = NULL, *tmp = NULL, *dest = NULL;
	char have[65] = "", checked[32] = "";
	struct validators cond = { 0 }, got = { 0 };
	struct fetch_outcome dummy;
	struct kf_error why;
	json_t *meta = NULL;
	int lock = -1, ret = -1, recheck = 0, not_modified = 0;

	if (!out)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	*path = NULL;
	util_sha256(url, strlen(url), id);
	dir = cache_entry_dir(root, "url", id);
	lock = cache_lock(root, "url", id, e);
	if (lock < 0)
		goto cleanup;
	if (cache_has(root, "url", id, name)) {
		json_t *m = cache_meta(root, "url", id);
		const char *h = json_string_value(json_object_get(m, "sha256"));

		if (h && strlen(h) == 64 && (!want_sha256 || strcmp(h, want_sha256) == 0)) {
			/* What is on disk, not what was recorded: a cut file fetches again. */
			if (cache_verify(root, "url", id, name, h, NULL) < 0) {
				json_decref(m);
				goto fetch;
			}
			memcpy(have, h, 65);
			validators_load(dir, &cond, checked);
			if (!checked[0])
				snprintf(checked, sizeof(checked), "%s",
					 json_string_value(json_object_get(m, "created")) ?
					 json_string_value(json_object_get(m, "created")) : "");
			recheck = o->revalidate && !want_sha256;
		} else if (want_sha256) {
			log_info("%s: the cached copy has sha256 %s, not the pinned %s: fetching again",
				 url, h ? h : "(unknown)", want_sha256);
		} else {
			log_warnx("cache entry url/%s: %s records no sha256: fetching it again", id,
				  url);
		}
		json_decref(m);
		if (have[0] && !recheck) {
			memcpy(sha256, have, 65);
			*path = xasprintf("%s/%s", dir, name);
			log_debug("%s: cached at %s", url, *path);
			out->fresh = FETCH_CACHED;
			snprintf(out->checked, sizeof(out->checked), "%s", checked);
			ret = 0;
			goto cleanup;
		}
	}
fetch:
	tmp = cache_tmp_dir(root, "url", id, e);
	if (!tmp)
		goto cleanup;
	dest = xasprintf("%s/%s", tmp, name);
	if (recheck) {
		memcpy(out->old_sha256, have, 65);
		snprintf(out->checked, sizeof(out->checked), "%s", checked);
		log_debug("%s: asking whether it changed (%s%s%s)", url,
			  cond.etag ? "If-None-Match " : "", cond.last_modified ? "If-Modified-Since" : "",
			  cond.etag || cond.last_modified ? "" : "no validator: downloading again");
		log_progress("checking %s", url);
		if (fetch_get(o, url, dest, NULL, sha256, &cond, &got, &not_modified, &why) < 0) {
			/* The cached copy still serves: the caller warns. */
			out->fresh = FETCH_STALE;
			out->why = why;
			memcpy(sha256, have, 65);
			*path = xasprintf("%s/%s", dir, name);
			ret = 0;
			goto cleanup;
		}
		if (not_modified || strcmp(sha256, have) == 0) {
			out->fresh = not_modified ? FETCH_NOT_MODIFIED : FETCH_SAME;
			memcpy(sha256, have, 65);
			/* A 304 may repeat or update the validators, or leave some out. */
			if (not_modified && !got.etag) {
				got.etag = cond.etag;
				cond.etag = NULL;
			}
			if (not_modified && !got.last_modified) {
				got.last_modified = cond.last_modified;
				cond.last_modified = NULL;
			}
			if (validators_save(dir, &got, &why) < 0)
				log_warnx("%s: %s (the next check may download it again)", why.source,
					  why.text);
			*path = xasprintf("%s/%s", dir, name);
			ret = 0;
			goto cleanup;
		}
		log_debug("%s: new content, sha256 %s (was %s)", url, sha256, have);
	} else {
		log_info("fetching %s", url);
		if (fetch_get(o, url, dest, want_sha256, sha256, NULL, &got, NULL, e) < 0)
			goto cleanup;
		if (!want_sha256)
			log_info("%s: sha256 %s (recorded; pin it with \"sha256\")", url, sha256);
	}
	if (validators_save(tmp, &got, e) < 0)
		goto cleanup;
	meta = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "source", url, "sha256", sha256,
			 "file", name);
	*path = xasprintf("%s/%s", dir, name);
	if (cache_commit(root, "url", id, tmp, meta, e) < 0) {
		if (!recheck || access(*path, R_OK) != 0) {
			free(*path);
			*path = NULL;
			goto cleanup;
		}
		/* The old entry is intact: it serves, with a warning. */
		out->fresh = FETCH_STALE;
		out->why = *e;
		memcpy(sha256, have, 65);
	} else {
		out->fresh = recheck ? FETCH_CHANGED : FETCH_NEW;
		util_iso8601(out->checked);
	}
	ret = 0;
cleanup:
	if (tmp)
		cache_rm_rf(tmp, NULL);	/* gone already if it was committed */
	cache_unlock(lock);
	validators_release(&cond);
	validators_release(&got);
	json_decref(meta);
	free(dest);
	free(tmp);
	free(dir);
	free(name);
	return ret;
}
