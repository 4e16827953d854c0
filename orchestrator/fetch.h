/* SPDX-License-Identifier: MIT */
#ifndef KFARM_FETCH_H
#define KFARM_FETCH_H

#include "error.h"

/*
 * struct fetch_opts - how hard to try.
 * @connect_timeout_s: to establish a connection
 * @stall_timeout_s: a transfer that moves no byte for this long is broken
 * @retries: further attempts after a connection error, a stall, a cut transfer
 *           or a 5xx answer (a cut transfer resumes where it stopped)
 * @backoff_ms: the first wait between attempts; doubles each time
 * @revalidate: fetch_cached() asks the server whether an unpinned cached URL
 *              changed instead of taking the cached copy as it is
 * @max_bytes: the largest download taken (FETCH_MAX_BYTES); one larger is
 *             refused as soon as it is known to be, and not tried again
 */
struct fetch_opts {
	int connect_timeout_s;
	int stall_timeout_s;
	int retries;
	int backoff_ms;
	int revalidate;
	long long max_bytes;
};

/* A download is at most 1 GiB: a kernel package is about 100 MB, an image 10. */
#define FETCH_MAX_BYTES (1LL << 30)

/* What fetch_cached() did for its answer. */
enum fetch_fresh {
	FETCH_CACHED,		/* the cached copy, not asked about */
	FETCH_NEW,		/* nothing cached: downloaded now */
	FETCH_NOT_MODIFIED,	/* revalidated: the server answered 304 */
	FETCH_SAME,		/* revalidated: no validator, or no 304 for it (file://):
				   downloaded again, the same sha256 */
	FETCH_CHANGED,		/* revalidated: new content, the cache entry replaced */
	FETCH_STALE,		/* revalidation failed: the cached copy, unchecked */
};

/*
 * struct fetch_outcome - what fetch_cached() did.
 * @fresh: how the answer came
 * @old_sha256: for FETCH_CHANGED, SAME, NOT_MODIFIED and STALE, the cached
 *              copy's digest before ("" otherwise)
 * @checked: when the answer was last fetched or revalidated before this call
 *           (now for FETCH_NEW and FETCH_CHANGED); ISO 8601, "" if unknown
 * @why: for FETCH_STALE, why it could not be revalidated (a URL and a reason)
 */
struct fetch_outcome {
	enum fetch_fresh fresh;
	char old_sha256[65];
	char checked[32];
	struct kf_error why;
};

/**
 * fetch_opts_default() - 30 s to connect, 60 s of stall, 4 retries from 1 s,
 * each overridable from the environment: KFARM_FETCH_CONNECT_TIMEOUT,
 * KFARM_FETCH_STALL_TIMEOUT, KFARM_FETCH_RETRIES, KFARM_FETCH_BACKOFF_MS.
 */
void fetch_opts_default(struct fetch_opts *o);

/**
 * fetch_url() - download @url (http, https or file; redirects followed) to
 * @dest through "@dest.part", with retries, resume and a progress line on a
 * terminal. @want_sha256 (may be NULL) is checked: a mismatch removes what was
 * downloaded and is an error naming both digests. @got_sha256 (may be NULL)
 * receives the digest. @dest is only there after a complete, verified download.
 */
int fetch_url(const struct fetch_opts *o, const char *url, const char *dest,
	      const char *want_sha256, char got_sha256[65], struct kf_error *e);

/**
 * fetch_cached() - @url through the cache (<root>/url/<sha256 of the URL>/):
 * fetched once; a pinned @want_sha256 that the cached copy does not have
 * fetches again, and so does a cached file that no longer has the sha256
 * its entry recorded (cut short or changed on disk: a warning names the
 * entry; it is hashed at every use, not trusted). The entry keeps the response's ETag and Last-Modified
 * (validators.json beside the file). With @o->revalidate and no @want_sha256,
 * a cached URL is asked again with a conditional GET: 304 keeps the cached
 * file, new content replaces the entry whole (the old one stays while the
 * download runs), a server that gives no validator has the URL downloaded
 * again and compared by sha256 (as is one whose server ignores them, and
 * file://). A revalidation that fails (server down, 5xx after the retries,
 * 404) is not an error: the cached copy is the answer, @out->fresh says
 * FETCH_STALE and @out->why why, for the caller to warn.
 * @path (owned) is the file, @sha256 its digest, @out (may be NULL) what
 * was done.
 */
int fetch_cached(const char *root, const char *url, const char *want_sha256,
		 const struct fetch_opts *o, char **path, char sha256[65],
		 struct fetch_outcome *out, struct kf_error *e);

/** fetch_is_url() - http://, https:// or file://. */
int fetch_is_url(const char *s);

#endif
