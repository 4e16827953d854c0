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
 */
struct fetch_opts {
	int connect_timeout_s;
	int stall_timeout_s;
	int retries;
	int backoff_ms;
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
 * fetched at most once; a pinned @want_sha256 that the cached copy does not
 * have fetches again. @path (owned) is the cached file, @sha256 its digest,
 * @fresh (may be NULL) 1 if it was downloaded now.
 */
int fetch_cached(const char *root, const char *url, const char *want_sha256,
		 const struct fetch_opts *o, char **path, char sha256[65], int *fresh,
		 struct kf_error *e);

/** fetch_is_url() - http://, https:// or file://. */
int fetch_is_url(const char *s);

#endif
