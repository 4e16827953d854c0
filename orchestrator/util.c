/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		fatalx("out of memory");
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		fatalx("out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		fatalx("out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		fatalx("out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("out of memory");
	return p;
}

char *util_read_file(const char *path, size_t *len, struct kf_error *e)
{
	return util_read_file_max(path, SIZE_MAX - 1, len, e);
}

char *util_read_file_max(const char *path, size_t max, size_t *len, struct kf_error *e)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		error_set(e, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got, want;

		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		/* One byte past @max is enough to tell that the file is longer. */
		want = cap - n - 1;
		if (want > max - n + 1)
			want = max - n + 1;
		got = fread(buf + n, 1, want, f);
		n += got;
		if (n > max) {
			error_set(e, path, 0, 0, "larger than %zu bytes", max);
			free(buf);
			fclose(f);
			errno = EFBIG;
			return NULL;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		error_set(e, path, 0, 0, "read error: %s", strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* fsync() the folder holding @path, so that a rename into it is on disk too. */
static int sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xasprintf("%.*s", slash == path ? 1 : (int)(slash - path), path) :
		    xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	/* Some file systems cannot sync a folder (EINVAL): the file itself was. */
	if (fd >= 0 && fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
		ret = -1;
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int util_write_atomic(const char *path, const void *buf, size_t len, struct kf_error *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, ret = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		error_set(e, path, 0, 0, "cannot write: cannot create %s: %s (the file as it "
			  "was is kept)", tmp, strerror(errno));
		goto cleanup;
	}
	if (util_write_all(fd, buf, len) < 0) {
		error_set(e, path, 0, 0, "cannot write: %s (the file as it was is kept)",
			  strerror(errno));
		close(fd);
		unlink(tmp);
		goto cleanup;
	}
	if (fsync(fd) < 0) {
		error_set(e, path, 0, 0, "cannot write: flushing to disk: %s (the file as it was "
			  "is kept)", strerror(errno));
		close(fd);
		unlink(tmp);
		goto cleanup;
	}
	if (util_commit_tmp(fd, tmp, path, e) < 0) {
		unlink(tmp);
		goto cleanup;
	}
	if (sync_dir_of(path) < 0) {
		error_set(e, path, 0, 0, "cannot sync its folder after writing it: %s",
			  strerror(errno));
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(tmp);
	return ret;
}

int util_commit_tmp(int fd, const char *tmp, const char *path, struct kf_error *e)
{
	if (close(fd) < 0)
		return error_set(e, path, 0, 0, "cannot write: %s (through %s)", strerror(errno),
				 tmp);
	if (rename(tmp, path) < 0)
		return error_set(e, path, 0, 0, "cannot rename into place: %s", strerror(errno));
	return 0;
}

int util_out_open(struct util_out *o, const char *path, struct kf_error *e)
{
	o->path = xstrdup(path);
	o->err = 0;
	o->max = o->written = 0;
	o->f = fopen(path, "w");
	if (!o->f) {
		o->err = errno;
		return error_set(e, path, 0, 0, "cannot create: %s", strerror(errno));
	}
	return 0;
}

/* The first failure of @o: kept, and said in @e; later ones are not news. */
static int out_failed(struct util_out *o, const char *what, struct kf_error *e)
{
	if (o->err)
		return 0;
	o->err = errno ? errno : EIO;
	return error_set(e, o->path, 0, 0, "cannot %s: %s", what, strerror(o->err));
}

int util_out_write(struct util_out *o, const void *buf, size_t n, struct kf_error *e)
{
	char note[128];
	int len;

	if (!o->f || o->err || (o->max && o->written >= o->max))
		return 0;
	if (o->max && n > o->max - o->written)
		n = o->max - o->written;
	errno = 0;
	if (fwrite(buf, 1, n, o->f) != n)
		return out_failed(o, "write", e);
	o->written += n;
	if (!o->max || o->written < o->max)
		return 0;
	len = snprintf(note, sizeof(note), "\n[kfarm: this log stops at its bound, %zu bytes; "
		       "the rest was read but not kept]\n", o->max);
	errno = 0;
	if (fwrite(note, 1, (size_t)len, o->f) != (size_t)len)
		return out_failed(o, "write", e);
	return 1;
}

int util_out_flush(struct util_out *o, struct kf_error *e)
{
	if (!o->f || o->err)
		return 0;
	errno = 0;
	if (fflush(o->f) != 0)
		return out_failed(o, "write", e);
	return 0;
}

int util_out_close(struct util_out *o, struct kf_error *e)
{
	int ret = 0;

	if (o->f) {
		errno = 0;
		if (fclose(o->f) != 0)
			ret = out_failed(o, "write", e);
		o->f = NULL;
	}
	free(o->path);
	o->path = NULL;
	return ret;
}

int util_mkdir_p(const char *path, struct kf_error *e)
{
	char *p, *s;
	int ret = 0;

	/* The walk starts past the first byte: "" has none to start past. */
	if (!*path)
		return error_set(e, NULL, 0, 0, "cannot create a folder: the path is empty");
	p = xstrdup(path);
	for (s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			ret = error_set(e, p, 0, 0, "cannot create folder: %s", strerror(errno));
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return ret;
}

/* SHA-256, FIPS 180-4; small and dependency-free. */
struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
	e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
	s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

static void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	s->len += len;
	while (len > 0) {
		size_t take = 64 - s->n < len ? 64 - s->n : len;

		memcpy(s->buf + s->n, p, take);
		s->n += take;
		p += take;
		len -= take;
		if (s->n == 64) {
			sha256_block(s, s->buf);
			s->n = 0;
		}
	}
}

static void sha256_final(struct sha256 *s, char hex[65])
{
	uint64_t bits = s->len * 8;
	unsigned char pad = 0x80, len8[8];
	int i;

	sha256_update(s, &pad, 1);
	pad = 0;
	while (s->n != 56)
		sha256_update(s, &pad, 1);
	for (i = 0; i < 8; i++)
		len8[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, len8, 8);
	for (i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", s->h[i]);
}

void util_sha256(const void *buf, size_t len, char hex[65])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, buf, len);
	sha256_final(&s, hex);
}

void util_sha256_raw(const void *buf, size_t len, unsigned char out[32])
{
	struct sha256 s;
	char hex[65];
	int i;

	sha256_init(&s);
	sha256_update(&s, buf, len);
	sha256_final(&s, hex);	/* leaves the digest in s.h */
	for (i = 0; i < 32; i++)
		out[i] = (unsigned char)(s.h[i / 4] >> (24 - 8 * (i % 4)));
}

int util_sha256_file(const char *path, char hex[65], struct kf_error *e)
{
	unsigned char buf[65536];
	struct sha256 s;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return error_set(e, path, 0, 0, "cannot open: %s", strerror(errno));
	sha256_init(&s);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sha256_update(&s, buf, n);
	if (ferror(f)) {
		fclose(f);
		return error_set(e, path, 0, 0, "read error: %s", strerror(errno));
	}
	fclose(f);
	sha256_final(&s, hex);
	return 0;
}

int64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void util_iso8601(char out[32])
{
	struct timespec ts;
	struct tm tm;
	time_t t;

	/*
	 * CLOCK_REALTIME, not time(): time() reads the coarse clock, which can
	 * lag by a tick, so that a stamp taken after another (db.c's, say) could
	 * name the second before it.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *util_cache_dir(void)
{
	const char *s = getenv("KFARM_CACHE");

	if (s && *s)
		return xstrdup(s);
	s = getenv("XDG_CACHE_HOME");
	if (s && *s)
		return xasprintf("%s/kfarm", s);
	s = getenv("HOME");
	return xasprintf("%s/.cache/kfarm", s && *s ? s : "/tmp");
}

int util_parse_int_list(const char *s, int *out, int max, int *n)
{
	*n = 0;
	while (*s) {
		char *end;
		long v;

		errno = 0;
		v = strtol(s, &end, 10);
		if (end == s || errno || v <= 0 || v > INT_MAX || (*end && *end != ','))
			return -1;
		if (*n >= max)
			return -1;
		out[(*n)++] = (int)v;
		s = *end ? end + 1 : end;
	}
	return *n > 0 ? 0 : -1;
}

int util_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}
