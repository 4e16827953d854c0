/* SPDX-License-Identifier: MIT */
#ifndef KFARM_UTIL_H
#define KFARM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** util_read_file() - read a whole file, NUL-terminated; NULL and @e on error. */
char *util_read_file(const char *path, size_t *len, struct kf_error *e);

/**
 * util_read_file_max() - util_read_file() of a file of at most @max bytes; a
 * longer one is an error ("larger than @max bytes") found after reading
 * @max + 1 bytes of it, whatever it is (a pipe has no size to ask), with
 * errno EFBIG.
 */
char *util_read_file_max(const char *path, size_t max, size_t *len, struct kf_error *e);

/**
 * util_write_all() - all @len bytes of @buf to @fd, across short writes and
 * EINTR: 0, or -1 with errno (ENOSPC when a write makes no progress).
 */
int util_write_all(int fd, const void *buf, size_t len);

/**
 * util_write_atomic() - write @len bytes to @path through a temporary file in
 * the same folder, fsync()ed, then rename()d over it and the folder synced, so a
 * reader (and a crash) sees the old or the new file whole: a write that fails
 * (a full disk) leaves the old file as it was and no temporary, with @e
 * naming @path and the errno text.
 */
int util_write_atomic(const char *path, const void *buf, size_t len, struct kf_error *e);

/*
 * struct util_out - a file written in pieces as data comes (a guest's console
 * and results logs): every write, flush and close is checked, and the first
 * failure kept, so that a full disk is said once, naming the file, and never
 * passes unseen.
 * @err: the errno of the first failure, 0 while none
 * @max: the most it keeps (0: no bound; set after util_out_open()); past it
 *       writes are dropped and the file ends with a line saying so
 * @written: bytes written so far
 */
struct util_out {
	FILE *f;
	char *path;
	int err;
	size_t max, written;
};

/** util_out_open() - create (truncate) @path for writing; -1 with @e. */
int util_out_open(struct util_out *o, const char *path, struct kf_error *e);

/**
 * util_out_write() - append @n bytes, as many as @max leaves room for.
 * Returns 1 when this write reached @max (the rest is dropped, and
 * "[kfarm: this log stops at its bound, MAX bytes; the rest was read but not
 * kept]" follows on a line of its own), 0 otherwise; -1 with @e ("cannot
 * write: No space left on device", naming the file) on the file's first
 * failure; once it failed, later writes are dropped and return 0.
 */
int util_out_write(struct util_out *o, const void *buf, size_t n, struct kf_error *e);

/** util_out_flush() - fflush(), failing as util_out_write(). */
int util_out_flush(struct util_out *o, struct kf_error *e);

/**
 * util_out_close() - flush and close (one never opened is fine), failing as
 * util_out_write(); frees what @o holds.
 */
int util_out_close(struct util_out *o, struct kf_error *e);

/**
 * util_commit_tmp() - close @fd, written as @tmp, and rename @tmp to @path
 * (the last step of writing a file atomically). Closes @fd whatever happens;
 * on failure the caller still owns @tmp (to unlink).
 */
int util_commit_tmp(int fd, const char *tmp, const char *path, struct kf_error *e);

/** util_mkdir_p() - mkdir -p; an empty @path is an error, not a folder. */
int util_mkdir_p(const char *path, struct kf_error *e);

/** util_sha256_file() - hex digest (65 bytes) of a file's contents. */
int util_sha256_file(const char *path, char hex[65], struct kf_error *e);

/** util_sha256() - hex digest of a buffer. */
void util_sha256(const void *buf, size_t len, char hex[65]);

/** util_sha256_raw() - the 32-byte digest of a buffer (for HMAC). */
void util_sha256_raw(const void *buf, size_t len, unsigned char out[32]);

/** util_now_ms() - CLOCK_MONOTONIC in milliseconds. */
int64_t util_now_ms(void);

/** util_iso8601() - UTC wall clock as "2026-11-26T23:30:00Z" (21 bytes). */
void util_iso8601(char out[32]);

/** util_cache_dir() - $KFARM_CACHE, $XDG_CACHE_HOME/kfarm or ~/.cache/kfarm (owned). */
char *util_cache_dir(void);

/** util_parse_int_list() - "1,2,4" into @out (max @max); -1 on bad input. */
int util_parse_int_list(const char *s, int *out, int max, int *n);

/** util_ncpus() - online CPUs, at least 1. */
int util_ncpus(void);

#endif
