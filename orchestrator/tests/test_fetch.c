/* SPDX-License-Identifier: MIT */
/*
 * fetch and deb against a real HTTP server on 127.0.0.1 (tests/http-server.py),
 * through the real libcurl code: a good fetch, a sha256 mismatch, a 404, a cut
 * transfer (resumed, or restarted where Range is ignored), a stall, a redirect,
 * 5xx then ok, a refused connection; a .deb built here unpacked with libarchive.
 * Revalidation (--refresh): 304 with nothing sent, new content replacing the
 * entry, a server with no validator or Last-Modified only, a server that
 * answers 500 or is gone (the cached copy serves, FETCH_STALE).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "cache.h"
#include "deb.h"
#include "fetch.h"
#include "kernel.h"
#include "proc.h"
#include "util.h"

#define BLOB_SIZE 300000

static struct proc server = { -1, -1 };
static int port;
static char tmp[256];
static char blob_sha[65];

static unsigned char *make_blob(size_t n)
{
	unsigned char *b = malloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 31 + (i >> 8)) & 0xff);
	/* A bzImage header whose sizes fit: one setup sector, the rest syssize. */
	memcpy(b + 0x202, "HdrS", 4);
	b[0x1f1] = 1;
	b[0x1f4] = (unsigned char)((n - 1024 + 15) / 16);
	b[0x1f5] = (unsigned char)((n - 1024 + 15) / 16 >> 8);
	b[0x1f6] = (unsigned char)((n - 1024 + 15) / 16 >> 16);
	b[0x1f7] = 0;
	return b;
}

/* An http-server.py serving @dir on a port of its own. */
static void spawn_server(struct proc *p, int *port_out, const char *dir)
{
	const char *argv[] = { "python3", KFARM_TOP "/tests/http-server.py", "--size", "300000",
			       "--dir", dir, NULL };
	int pfd[2], fds[3];
	struct kf_error e;
	char buf[32] = "";
	ssize_t n;

	ck_assert_int_eq(pipe(pfd), 0);
	fds[0] = -1;
	fds[1] = pfd[1];
	fds[2] = -1;
	if (getenv("KFARM_TEST_VERBOSE"))
		fds[2] = 2;
	ck_assert_int_eq(proc_spawn(p, argv, NULL, fds, 3, &e), 0);
	close(pfd[1]);
	for (n = 0; n < (ssize_t)sizeof(buf) - 1 && !strchr(buf, '\n');) {
		ssize_t r = read(pfd[0], buf + n, sizeof(buf) - 1 - (size_t)n);

		if (r <= 0)
			break;
		n += r;
		buf[n] = '\0';
	}
	close(pfd[0]);
	ck_assert_int_gt(n, 0);
	*port_out = atoi(buf);
	ck_assert_int_gt(*port_out, 0);
}

static void start_server(void)
{
	unsigned char *b;

	snprintf(tmp, sizeof(tmp), "/tmp/kfarm-test-fetch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	b = make_blob(BLOB_SIZE);
	util_sha256(b, BLOB_SIZE, blob_sha);
	free(b);
	spawn_server(&server, &port, tmp);
	setenv("CI", "true", 1);	/* no progress line in the test output */
	/* kernel_resolve() takes its fetch options from the environment. */
	setenv("KFARM_FETCH_STALL_TIMEOUT", "2", 1);
	setenv("KFARM_FETCH_RETRIES", "2", 1);
	setenv("KFARM_FETCH_BACKOFF_MS", "100", 1);
}

static void stop_server(void)
{
	const char *rm[] = { "rm", "-rf", tmp, NULL };

	proc_kill(&server, 1000);
	proc_reap(&server);
	proc_run(rm, NULL, 60000, NULL, NULL, NULL);
}

static char *url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", port, path);
}

static void quick(struct fetch_opts *o)
{
	o->connect_timeout_s = 5;
	o->stall_timeout_s = 2;
	o->retries = 3;
	o->backoff_ms = 100;
	o->revalidate = 0;
	o->max_bytes = FETCH_MAX_BYTES;
}

/* The Range headers the server saw for @path, as a JSON array (owned), or NULL. */
static json_t *requests(const char *path)
{
	struct fetch_opts o;
	struct kf_error e;
	char *u = url("/stats"), *dest = xasprintf("%s/stats.json", tmp);
	json_t *all, *r;

	quick(&o);
	ck_assert_msg(fetch_url(&o, u, dest, NULL, NULL, &e) == 0, "%s", e.text);
	all = json_load_file(dest, 0, NULL);
	r = json_incref(json_object_get(all, path));
	json_decref(all);
	unlink(dest);
	free(dest);
	free(u);
	return r;
}

static char *cache_in(const char *name)
{
	return xasprintf("%s/%s", tmp, name);
}

START_TEST(good_fetch)
{
	char *u = url("/good/bzImage"), *dest = xasprintf("%s/good", tmp), sha[65];
	struct fetch_opts o;
	struct kf_error e;

	quick(&o);
	ck_assert_msg(fetch_url(&o, u, dest, blob_sha, sha, &e) == 0, "%s", e.text);
	ck_assert_str_eq(sha, blob_sha);
	ck_assert_int_eq(access(dest, R_OK), 0);
	free(u);
	free(dest);
}
END_TEST

/* A download of exactly the bound is taken; one byte over, refused, named, not retried. */
START_TEST(download_bound)
{
	char *u = url("/good/bzImage"), *dest = xasprintf("%s/bound", tmp), sha[65];
	struct fetch_opts o;
	struct kf_error e;
	json_t *before, *after;

	quick(&o);
	o.max_bytes = BLOB_SIZE;
	ck_assert_msg(fetch_url(&o, u, dest, blob_sha, sha, &e) == 0, "%s", e.text);
	ck_assert_str_eq(sha, blob_sha);
	unlink(dest);
	o.max_bytes = BLOB_SIZE - 1;
	before = requests("/good/bzImage");
	ck_assert_int_eq(fetch_url(&o, u, dest, NULL, sha, &e), -1);
	after = requests("/good/bzImage");
	ck_assert_msg(strstr(e.text, "larger than") && strstr(e.text, "FETCH_MAX_BYTES") && strstr(e.text, u),
		      "%s", e.text);
	ck_assert_int_eq(access(dest, F_OK), -1);
	ck_assert_int_eq((int)json_array_size(after), (int)json_array_size(before) + 1);
	json_decref(before);
	json_decref(after);
	free(u);
	free(dest);
}
END_TEST

START_TEST(url_kernel_cached_once)
{
	char *root = cache_in("cache-good");
	struct kernel_spec ks;
	struct kernel k, k2;
	struct kf_error e;
	json_t *reqs, *l;
	char *u = url("/good/once/bzImage");

	ck_assert_int_eq(config_kernel_parse(u, &ks, &e), 0);
	ck_assert_int_eq(ks.kind, KERNEL_URL);
	ck_assert_str_eq(ks.name, "bzImage");
	ks.cache_dir = xstrdup(root);
	ck_assert_msg(kernel_resolve(&k, &ks, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, blob_sha);
	ck_assert_ptr_nonnull(strstr(k.source, "url:http://127.0.0.1"));
	ck_assert_msg(kernel_resolve(&k2, &ks, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.path, k2.path);
	reqs = requests("/good/once/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 1);	/* the second came from the cache */
	l = cache_list(root, &e);
	ck_assert_uint_eq(json_array_size(l), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 0), "sha256")),
			 blob_sha);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 0), "kind")), "url");
	json_decref(l);
	json_decref(reqs);
	kernel_release(&k);
	kernel_release(&k2);
	config_kernel_release(&ks);
	free(u);
	free(root);
}
END_TEST

START_TEST(sha_mismatch_caches_nothing)
{
	char *root = cache_in("cache-bad"), *u = url("/good/mismatch/bzImage"), *path = NULL, sha[65];
	const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
	struct fetch_opts o;
	struct kf_error e;
	json_t *l;

	quick(&o);
	ck_assert_int_eq(fetch_cached(root, u, wrong, &o, &path, sha, NULL, &e), -1);
	ck_assert_ptr_null(path);
	ck_assert_msg(strstr(e.text, "sha256 mismatch") && strstr(e.text, wrong) &&
		      strstr(e.text, blob_sha), "%s", e.text);
	ck_assert_str_eq(e.source, u);
	l = cache_list(root, &e);
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	/* Pinned right, it is fetched and kept. */
	ck_assert_msg(fetch_cached(root, u, blob_sha, &o, &path, sha, NULL, &e) == 0, "%s", e.text);
	l = cache_list(root, &e);
	ck_assert_uint_eq(json_array_size(l), 1);
	json_decref(l);
	free(path);
	free(u);
	free(root);
}
END_TEST

START_TEST(not_found)
{
	char *u = url("/nothing/here"), *dest = xasprintf("%s/nf", tmp);
	struct fetch_opts o;
	struct kf_error e;
	json_t *reqs;

	quick(&o);
	ck_assert_int_eq(fetch_url(&o, u, dest, NULL, NULL, &e), -1);
	ck_assert_msg(strstr(e.text, "HTTP 404"), "%s", e.text);
	ck_assert_str_eq(e.source, u);
	ck_assert_int_ne(access(dest, F_OK), 0);
	reqs = requests("/nothing/here");
	ck_assert_uint_eq(json_array_size(reqs), 1);	/* a 404 is not retried */
	json_decref(reqs);
	free(u);
	free(dest);
}
END_TEST

START_TEST(cut_is_resumed)
{
	char *u = url("/cut/bzImage"), *dest = xasprintf("%s/cut", tmp), sha[65];
	struct fetch_opts o;
	struct kf_error e;
	json_t *reqs;
	char want[32];

	quick(&o);
	ck_assert_msg(fetch_url(&o, u, dest, blob_sha, sha, &e) == 0, "%s", e.text);
	ck_assert_str_eq(sha, blob_sha);
	reqs = requests("/cut/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 2);
	ck_assert(json_is_null(json_array_get(reqs, 0)));
	snprintf(want, sizeof(want), "bytes=%d-", BLOB_SIZE / 2);
	ck_assert_str_eq(json_string_value(json_array_get(reqs, 1)), want);
	json_decref(reqs);
	free(u);
	free(dest);
}
END_TEST

START_TEST(cut_without_range_restarts)
{
	char *u = url("/cut-norange/bzImage"), *dest = xasprintf("%s/cutnr", tmp), sha[65];
	struct fetch_opts o;
	struct kf_error e;

	quick(&o);
	ck_assert_msg(fetch_url(&o, u, dest, NULL, sha, &e) == 0, "%s", e.text);
	ck_assert_str_eq(sha, blob_sha);
	free(u);
	free(dest);
}
END_TEST

START_TEST(stall_times_out)
{
	char *u = url("/stall/bzImage"), *dest = xasprintf("%s/stall", tmp);
	struct fetch_opts o;
	struct kf_error e;
	int64_t t0 = util_now_ms(), dt;

	quick(&o);
	o.retries = 1;
	ck_assert_int_eq(fetch_url(&o, u, dest, NULL, NULL, &e), -1);
	dt = util_now_ms() - t0;
	ck_assert_msg(strstr(e.text, "stalled") && strstr(e.text, "2 attempts"), "%s", e.text);
	ck_assert_msg(dt >= 4000 && dt < 15000, "took %lld ms", (long long)dt);
	ck_assert_int_ne(access(dest, F_OK), 0);
	free(u);
	free(dest);
}
END_TEST

START_TEST(redirect_followed)
{
	char *u = url("/redirect/r/bzImage"), *dest = xasprintf("%s/redir", tmp), sha[65];
	struct fetch_opts o;
	struct kf_error e;
	json_t *reqs;

	quick(&o);
	ck_assert_msg(fetch_url(&o, u, dest, blob_sha, sha, &e) == 0, "%s", e.text);
	reqs = requests("/good/r/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 1);
	json_decref(reqs);
	free(u);
	free(dest);
}
END_TEST

START_TEST(server_error_retried)
{
	char *u = url("/flaky/bzImage"), *dest = xasprintf("%s/flaky", tmp), sha[65];
	struct fetch_opts o;
	struct kf_error e;
	json_t *reqs;

	quick(&o);
	ck_assert_msg(fetch_url(&o, u, dest, NULL, sha, &e) == 0, "%s", e.text);
	ck_assert_str_eq(sha, blob_sha);
	reqs = requests("/flaky/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 3);
	json_decref(reqs);
	/* Out of retries, the 503 is the error. */
	free(u);
	u = url("/flaky/again");
	o.retries = 1;
	ck_assert_int_eq(fetch_url(&o, u, dest, NULL, sha, &e), -1);
	ck_assert_msg(strstr(e.text, "HTTP 503") && strstr(e.text, "2 attempts"), "%s", e.text);
	free(u);
	free(dest);
}
END_TEST

START_TEST(connection_refused)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char *u, *dest = xasprintf("%s/refused", tmp);
	struct fetch_opts o;
	struct kf_error e;

	/* A port that was just free: bound, never listened on. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	u = xasprintf("http://127.0.0.1:%d/bzImage", ntohs(sa.sin_port));
	quick(&o);
	o.retries = 2;
	ck_assert_int_eq(fetch_url(&o, u, dest, NULL, NULL, &e), -1);
	ck_assert_msg(strstr(e.text, "3 attempts"), "%s", e.text);
	close(s);
	free(u);
	free(dest);
}
END_TEST

/* A minimal kernel .deb: debian-binary, control.tar.xz, data.tar.xz with ./boot/vmlinuz-X. */
static void write_member(struct archive *a, const char *name, const void *buf, size_t n)
{
	struct archive_entry *ent = archive_entry_new();

	archive_entry_set_pathname(ent, name);
	archive_entry_set_size(ent, (la_int64_t)n);
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	ck_assert_int_eq(archive_write_header(a, ent), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_data(a, buf, n), (la_ssize_t)n);
	archive_entry_free(ent);
}

static void *tar_with(int (*filter)(struct archive *), const char *name, const void *buf, size_t n,
		      size_t *out_len)
{
	size_t cap = n + 65536, used = 0;
	void *out = malloc(cap);
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	filter(a);
	archive_write_set_bytes_in_last_block(a, 1);
	ck_assert_int_eq(archive_write_open_memory(a, out, cap, &used), ARCHIVE_OK);
	write_member(a, "./boot/", "", 0);
	write_member(a, "./usr/share/doc/x/changelog", "x\n", 2);
	write_member(a, name, buf, n);
	archive_write_close(a);
	archive_write_free(a);
	*out_len = used;
	return out;
}

static void *tar_xz(const char *name, const void *buf, size_t n, size_t *out_len)
{
	return tar_with(archive_write_add_filter_xz, name, buf, n, out_len);
}

/* A .deb whose data.tar.@ext is compressed by @filter. */
static char *make_deb_as(const char *file, const char *member, int (*filter)(struct archive *),
			 const char *ext)
{
	char *path = xasprintf("%s/%s", tmp, file), *dname = xasprintf("data.tar.%s", ext);
	unsigned char *b = make_blob(BLOB_SIZE);
	size_t dlen, clen;
	void *data = tar_with(filter, member, b, BLOB_SIZE, &dlen);
	void *control = tar_xz("./control", "Package: x\n", 11, &clen);
	struct archive *a = archive_write_new();

	archive_write_set_format_ar_svr4(a);
	ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	write_member(a, "debian-binary", "2.0\n", 4);
	write_member(a, "control.tar.xz", control, clen);
	write_member(a, dname, data, dlen);
	archive_write_close(a);
	archive_write_free(a);
	free(data);
	free(control);
	free(b);
	free(dname);
	return path;
}

static char *make_deb(const char *file, const char *member)
{
	return make_deb_as(file, member, archive_write_add_filter_xz, "xz");
}

/*
 * Only what dpkg-deb writes is unpacked: a data.tar.lz4 (which libarchive
 * reads itself, as it would run lrzip or lzop for others) is refused.
 */
START_TEST(deb_compressions)
{
	static const struct { int (*filter)(struct archive *); const char *ext; int ok; } cs[] = {
		{ archive_write_add_filter_gzip, "gz", 1 }, { archive_write_add_filter_zstd, "zst", 1 },
		{ archive_write_add_filter_bzip2, "bz2", 1 }, { archive_write_add_filter_lz4, "lz4", 0 },
	};
	char *dest = xasprintf("%s/vmlinuz", tmp), *member = NULL;
	struct kf_error e;
	size_t i;

	for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		char *deb = make_deb_as("c.deb", "./boot/vmlinuz-6.1.0-test-amd64", cs[i].filter, cs[i].ext);
		int r = deb_extract_kernel(deb, dest, &member, &e);

		ck_assert_msg(r == (cs[i].ok ? 0 : -1), "%s: %d %s", cs[i].ext, r, r ? e.text : "");
		if (!cs[i].ok)
			ck_assert_msg(strstr(e.text, "data.tar.lz4"), "%s", e.text);
		free(member);
		member = NULL;
		unlink(dest);
		free(deb);
	}
	free(dest);
}
END_TEST

START_TEST(deb_unpacked_with_libarchive)
{
	char *deb = make_deb("k.deb", "./boot/vmlinuz-6.1.0-test-amd64");
	char *dest = xasprintf("%s/vmlinuz", tmp), *member = NULL, sha[65];
	struct kf_error e;

	ck_assert(deb_is_deb(deb));
	ck_assert_msg(deb_extract_kernel(deb, dest, &member, &e) == 0, "%s", e.text);
	ck_assert_str_eq(member, "./boot/vmlinuz-6.1.0-test-amd64");
	ck_assert_int_eq(util_sha256_file(dest, sha, &e), 0);
	ck_assert_str_eq(sha, blob_sha);
	free(member);
	free(deb);
	deb = make_deb("nokernel.deb", "./boot/config-6.1.0-test-amd64");
	ck_assert_int_eq(deb_extract_kernel(deb, dest, NULL, &e), -1);
	ck_assert_msg(strstr(e.text, "no ./boot/vmlinuz-*"), "%s", e.text);
	ck_assert_str_eq(e.source, deb);
	ck_assert(!deb_is_deb(dest));
	ck_assert_int_eq(deb_extract_kernel(dest, dest, NULL, &e), -1);
	ck_assert_msg(strstr(e.text, "not a Debian package"), "%s", e.text);
	free(deb);
	free(dest);
}
END_TEST

/*
 * deb_resolve_cached(): apt-cache (a fake one first on PATH, counting its
 * calls) is asked through a metapackage once; while the state files are as
 * they were, the answer comes from resolved.json with no call; a changed one
 * asks again; a package apt does not know is an error and is not kept.
 */
/* What reaches apt-cache and apt-get is a package name and version, never an option. */
START_TEST(deb_names_checked)
{
	static const char *const bad[] = { "-oDebug::pkgAcquire=1", "--help", "linux image", "Linux-Image",
					   "a", "x;rm", "../linux", "", NULL };
	char *real = NULL, *version = NULL, *path = NULL;
	struct kf_error e;
	size_t i;

	for (i = 0; bad[i]; i++) {
		ck_assert_int_eq(deb_resolve(bad[i], &real, &version, &e), -1);
		ck_assert_msg(strstr(e.text, "is not a Debian package name"), "%s: %s", bad[i], e.text);
	}
	ck_assert_int_eq(deb_download("linux-image-amd64", "-oDir=/tmp", tmp, &path, &e), -1);
	ck_assert_msg(strstr(e.text, "not a Debian package name and version"), "%s", e.text);
	ck_assert_int_eq(deb_download("-q", "1.0", tmp, &path, &e), -1);
	ck_assert_ptr_null(path);
}
END_TEST

START_TEST(deb_resolution_kept_while_apt_unchanged)
{
	char *bin = xasprintf("%s/fakebin", tmp), *fake = xasprintf("%s/apt-cache", bin);
	char *calls = xasprintf("%s/apt-calls", tmp), *lists = xasprintf("%s/lists", tmp);
	char *pkgs = xasprintf("%s/lists/x_Packages", tmp), *root = cache_in("cache-resolve");
	char *path = xasprintf("%s:%s", bin, getenv("PATH")), *old = xstrdup(getenv("PATH"));
	char *script = xasprintf(
		"#!/bin/sh\necho \"$3\" >> %s\ncase \"$3\" in\n"
		"linux-image-amd64) printf 'Package: linux-image-amd64\\nVersion: 6.1.1\\n"
		"Depends: linux-image-6.1.0-9-amd64 (= 6.1.1)\\n';;\n"
		"linux-image-6.1.0-9-amd64) printf 'Package: linux-image-6.1.0-9-amd64\\n"
		"Version: 6.1.1-2\\n';;\n*) exit 100;;\nesac\n", calls);
	const char *state[] = { lists, NULL };
	char *real = NULL, *version = NULL, *text;
	struct kf_error e;
	size_t n;
	int round;

	ck_assert_int_eq(util_mkdir_p(bin, &e), 0);
	ck_assert_int_eq(util_mkdir_p(lists, &e), 0);
	ck_assert_int_eq(util_write_atomic(fake, script, strlen(script), &e), 0);
	ck_assert_int_eq(chmod(fake, 0755), 0);
	ck_assert_int_eq(util_write_atomic(pkgs, "a", 1, &e), 0);
	setenv("PATH", path, 1);
	for (round = 0; round < 3; round++) {
		if (round == 2)	/* apt-get update: the lists change */
			ck_assert_int_eq(util_write_atomic(pkgs, "ab", 2, &e), 0);
		ck_assert_msg(deb_resolve_cached(root, "linux-image-amd64", state, &real, &version,
						 &e) == 0, "%s", e.text);
		ck_assert_str_eq(real, "linux-image-6.1.0-9-amd64");
		ck_assert_str_eq(version, "6.1.1-2");
		free(real);
		free(version);
		text = util_read_file(calls, &n, &e);
		ck_assert_ptr_nonnull(text);
		/* two calls (the metapackage, then its image) the first time, none the second */
		ck_assert_str_eq(text, round < 2 ? "linux-image-amd64\nlinux-image-6.1.0-9-amd64\n" :
				 "linux-image-amd64\nlinux-image-6.1.0-9-amd64\n"
				 "linux-image-amd64\nlinux-image-6.1.0-9-amd64\n");
		free(text);
	}
	ck_assert_int_eq(deb_resolve_cached(root, "linux-image-nope", state, &real, &version, &e), -1);
	ck_assert_msg(strstr(e.text, "not known to apt"), "%s", e.text);
	{
		char *kept = xasprintf("%s/deb/resolved.json", root);

		text = util_read_file(kept, &n, &e);
		ck_assert_msg(text && !strstr(text, "nope"), "%s", text ? text : e.text);
		free(text);
		free(kept);
	}
	setenv("PATH", old, 1);
	free(old);
	free(path);
	free(script);
	free(root);
	free(pkgs);
	free(lists);
	free(calls);
	free(fake);
	free(bin);
}
END_TEST

START_TEST(deb_url_kernel)
{
	char *root = cache_in("cache-deb"), *deb = make_deb("served.deb", "./boot/vmlinuz-6.1.0-x");
	char *u = url("/files/served.deb");
	struct kernel_spec ks;
	struct kernel k;
	struct kf_error e;

	ck_assert_int_eq(config_kernel_parse(u, &ks, &e), 0);
	ks.cache_dir = xstrdup(root);
	ck_assert_msg(kernel_resolve(&k, &ks, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, blob_sha);	/* the image, not the package */
	ck_assert_ptr_nonnull(strstr(k.path, "/vmlinuz"));
	kernel_release(&k);
	config_kernel_release(&ks);
	/* And over file://. */
	free(u);
	u = xasprintf("url:file://%s", deb);
	ck_assert_int_eq(config_kernel_parse(u, &ks, &e), 0);
	ks.cache_dir = xstrdup(root);
	ck_assert_msg(kernel_resolve(&k, &ks, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, blob_sha);
	kernel_release(&k);
	config_kernel_release(&ks);
	free(u);
	free(deb);
	free(root);
}
END_TEST

/*
 * Serve version @v of the blob (0: the blob itself) as @name in the served
 * folder, replaced whole, with mtime @mtime (0: now). Its sha256 to @sha.
 */
static void serve(const char *name, int v, time_t mtime, char sha[65])
{
	unsigned char *b = make_blob(BLOB_SIZE);
	char *path = xasprintf("%s/%s", tmp, name), *slash = strrchr(path, '/');
	char *dir = strndup(path, (size_t)(slash - path));
	struct kf_error e;

	b[0x1000] ^= (unsigned char)v;	/* past the boot header: still a kernel image */
	ck_assert_int_eq(util_mkdir_p(dir, &e), 0);
	ck_assert_int_eq(util_write_atomic(path, b, BLOB_SIZE, &e), 0);
	if (mtime) {
		struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };

		ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
	util_sha256(b, BLOB_SIZE, sha);
	free(b);
	free(dir);
	free(path);
}

/* The requests the server saw for @path (/log's entries), as an owned array. */
static json_t *seen(const char *path)
{
	struct fetch_opts o;
	struct kf_error e;
	char *u = url("/log"), *dest = xasprintf("%s/log.json", tmp);
	json_t *all, *out = json_array(), *r;
	size_t i;

	quick(&o);
	ck_assert_msg(fetch_url(&o, u, dest, NULL, NULL, &e) == 0, "%s", e.text);
	all = json_load_file(dest, 0, NULL);
	ck_assert_ptr_nonnull(all);
	json_array_foreach(all, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "path")), path))
			json_array_append(out, r);
	json_decref(all);
	unlink(dest);
	free(dest);
	free(u);
	return out;
}

static const char *str_of(json_t *r, const char *key)
{
	return json_string_value(json_object_get(r, key));
}

static long long int_of(json_t *r, const char *key)
{
	return json_integer_value(json_object_get(r, key));
}

START_TEST(revalidate_not_modified)
{
	char *root = cache_in("cache-304"), *u = url("/files/rv/bzImage"), *path = NULL, *p2 = NULL;
	char sha[65], v1[65], *vpath;
	struct fetch_outcome out;
	struct fetch_opts o;
	struct kf_error e;
	json_t *reqs, *last, *val;

	quick(&o);
	serve("rv/bzImage", 1, 0, v1);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_NEW);
	ck_assert_str_eq(sha, v1);
	/* The validators are kept beside the file. */
	vpath = xasprintf("%.*s/validators.json", (int)(strrchr(path, '/') - path), path);
	val = json_load_file(vpath, 0, NULL);
	ck_assert_ptr_nonnull(str_of(val, "etag"));
	ck_assert_ptr_nonnull(str_of(val, "last_modified"));
	ck_assert_ptr_nonnull(str_of(val, "checked"));
	json_decref(val);
	/* Without revalidate: the cache, no request. */
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &p2, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_CACHED);
	free(p2);
	reqs = seen("/files/rv/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 1);
	json_decref(reqs);
	/* Revalidated: a conditional GET, 304, no body. */
	o.revalidate = 1;
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &p2, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_NOT_MODIFIED);
	ck_assert_str_eq(sha, v1);
	ck_assert_str_eq(out.old_sha256, v1);
	ck_assert_str_eq(p2, path);
	free(p2);
	reqs = seen("/files/rv/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 2);
	last = json_array_get(reqs, 1);
	ck_assert_ptr_nonnull(str_of(last, "if_none_match"));
	ck_assert_ptr_nonnull(str_of(last, "if_modified_since"));
	ck_assert_int_eq(int_of(last, "status"), 304);
	ck_assert_int_eq(int_of(last, "body"), 0);
	json_decref(reqs);
	/* Pinned: never asked again, even with revalidate. */
	ck_assert_msg(fetch_cached(root, u, v1, &o, &p2, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_CACHED);
	free(p2);
	reqs = seen("/files/rv/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 2);
	json_decref(reqs);
	free(vpath);
	free(path);
	free(u);
	free(root);
}
END_TEST

START_TEST(refresh_changed_kernel)
{
	char *root = cache_in("cache-chg"), *u = url("/files/chg/bzImage"), v1[65], v2[65], sha[65];
	struct kernel_spec ks;
	struct kernel k;
	struct kf_error e;
	json_t *reqs, *last, *l;

	serve("chg/bzImage", 1, 0, v1);
	ck_assert_int_eq(config_kernel_parse(u, &ks, &e), 0);
	ks.cache_dir = xstrdup(root);
	ck_assert_msg(kernel_resolve_flags(&k, &ks, KERNEL_REFRESH, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, v1);
	kernel_release(&k);
	/* A new upload: the refresh downloads it and the entry is replaced. */
	serve("chg/bzImage", 2, 0, v2);
	ck_assert_str_ne(v1, v2);
	ck_assert_msg(kernel_resolve(&k, &ks, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, v1);	/* not asked: the cached copy */
	kernel_release(&k);
	ck_assert_msg(kernel_resolve_flags(&k, &ks, KERNEL_REFRESH, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, v2);
	ck_assert_int_eq(util_sha256_file(k.path, sha, &e), 0);
	ck_assert_str_eq(sha, v2);
	kernel_release(&k);
	reqs = seen("/files/chg/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 2);
	last = json_array_get(reqs, 1);
	ck_assert_ptr_nonnull(str_of(last, "if_none_match"));
	ck_assert_int_eq(int_of(last, "status"), 200);
	ck_assert_int_eq(int_of(last, "body"), BLOB_SIZE);
	json_decref(reqs);
	l = cache_list(root, &e);
	ck_assert_uint_eq(json_array_size(l), 1);
	ck_assert_str_eq(str_of(json_array_get(l, 0), "sha256"), v2);
	json_decref(l);
	/* And the next night: 304. */
	ck_assert_msg(kernel_resolve_flags(&k, &ks, KERNEL_REFRESH, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, v2);
	kernel_release(&k);
	reqs = seen("/files/chg/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 3);
	ck_assert_int_eq(int_of(json_array_get(reqs, 2), "status"), 304);
	json_decref(reqs);
	config_kernel_release(&ks);
	free(u);
	free(root);
}
END_TEST

START_TEST(revalidate_without_validators)
{
	char *root = cache_in("cache-bare"), *u = url("/bare/nv/bzImage"), *path = NULL;
	char v1[65], v2[65], sha[65];
	struct fetch_outcome out;
	struct fetch_opts o;
	struct kf_error e;
	json_t *reqs, *last, *l;

	quick(&o);
	o.revalidate = 1;
	serve("nv/bzImage", 1, 0, v1);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_NEW);
	free(path);
	/* Nothing to ask with: downloaded again, the same digest. */
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_SAME);
	ck_assert_str_eq(sha, v1);
	free(path);
	reqs = seen("/bare/nv/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 2);
	last = json_array_get(reqs, 1);
	ck_assert_ptr_null(str_of(last, "if_none_match"));
	ck_assert_ptr_null(str_of(last, "if_modified_since"));
	ck_assert_int_eq(int_of(last, "body"), BLOB_SIZE);
	json_decref(reqs);
	serve("nv/bzImage", 3, 0, v2);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_CHANGED);
	ck_assert_str_eq(sha, v2);
	ck_assert_str_eq(out.old_sha256, v1);
	free(path);
	l = cache_list(root, &e);
	ck_assert_uint_eq(json_array_size(l), 1);
	ck_assert_str_eq(str_of(json_array_get(l, 0), "sha256"), v2);
	json_decref(l);
	free(u);
	free(root);
}
END_TEST

START_TEST(revalidate_last_modified_only)
{
	char *root = cache_in("cache-lm"), *u = url("/mtime/lm/bzImage"), *path = NULL;
	char v1[65], v2[65], sha[65];
	time_t t0 = time(NULL) - 86400;
	struct fetch_outcome out;
	struct fetch_opts o;
	struct kf_error e;
	json_t *reqs, *last;

	quick(&o);
	o.revalidate = 1;
	serve("lm/bzImage", 1, t0, v1);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	free(path);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_NOT_MODIFIED);
	free(path);
	reqs = seen("/mtime/lm/bzImage");
	last = json_array_get(reqs, 1);
	ck_assert_ptr_null(str_of(last, "if_none_match"));
	ck_assert_ptr_nonnull(str_of(last, "if_modified_since"));
	ck_assert_int_eq(int_of(last, "status"), 304);
	json_decref(reqs);
	/* A later upload has a later Last-Modified. */
	serve("lm/bzImage", 4, t0 + 60, v2);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_CHANGED);
	ck_assert_str_eq(sha, v2);
	free(path);
	free(u);
	free(root);
}
END_TEST

START_TEST(revalidate_failed_uses_cache)
{
	char *root = cache_in("cache-fail"), *u = url("/files/fail/bzImage"), *path = NULL, *p2 = NULL;
	char *marker = xasprintf("%s/fail/bzImage.fail", tmp), v1[65], v2[65], sha[65];
	struct fetch_outcome out;
	struct fetch_opts o;
	struct kf_error e;
	struct kernel_spec ks;
	struct kernel k;
	json_t *reqs;
	FILE *f;

	quick(&o);
	o.retries = 1;
	o.revalidate = 1;
	serve("fail/bzImage", 1, 0, v1);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	/* A new upload, but the server fails: the cached copy, said to be stale. */
	serve("fail/bzImage", 5, 0, v2);
	f = fopen(marker, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &p2, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_STALE);
	ck_assert_str_eq(out.why.source, u);
	ck_assert_msg(strstr(out.why.text, "HTTP 500") && strstr(out.why.text, "2 attempts"),
		      "%s", out.why.text);
	ck_assert_str_eq(sha, v1);
	ck_assert_str_eq(p2, path);
	ck_assert_int_eq(util_sha256_file(p2, sha, &e), 0);
	ck_assert_str_eq(sha, v1);	/* the entry is intact */
	ck_assert(out.checked[0]);
	free(p2);
	reqs = seen("/files/fail/bzImage");
	ck_assert_uint_eq(json_array_size(reqs), 3);
	json_decref(reqs);
	/* Through kernel_resolve: the run goes on with the cached copy. */
	ck_assert_int_eq(config_kernel_parse(u, &ks, &e), 0);
	ks.cache_dir = xstrdup(root);
	ck_assert_msg(kernel_resolve_flags(&k, &ks, KERNEL_REFRESH, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, v1);
	kernel_release(&k);
	/* Mended: the new upload comes in. */
	unlink(marker);
	ck_assert_msg(kernel_resolve_flags(&k, &ks, KERNEL_REFRESH, &e) == 0, "%s", e.text);
	ck_assert_str_eq(k.sha256, v2);
	kernel_release(&k);
	config_kernel_release(&ks);
	free(marker);
	free(path);
	free(u);
	free(root);
}
END_TEST

START_TEST(revalidate_server_gone)
{
	char *root = cache_in("cache-gone"), *dir = cache_in("gone"), *u, *path = NULL, *p2 = NULL;
	char v1[65], sha[65];
	struct proc other = { -1, -1 };
	struct fetch_outcome out;
	struct fetch_opts o;
	struct kf_error e;
	int oport;

	serve("gone/bzImage", 1, 0, v1);
	spawn_server(&other, &oport, dir);
	u = xasprintf("http://127.0.0.1:%d/files/bzImage", oport);
	quick(&o);
	o.retries = 1;
	o.revalidate = 1;
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &path, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_NEW);
	proc_kill(&other, 1000);
	proc_reap(&other);
	ck_assert_msg(fetch_cached(root, u, NULL, &o, &p2, sha, &out, &e) == 0, "%s", e.text);
	ck_assert_int_eq(out.fresh, FETCH_STALE);
	ck_assert_str_eq(out.why.source, u);
	ck_assert_msg(strstr(out.why.text, "2 attempts"), "%s", out.why.text);
	ck_assert_str_eq(sha, v1);
	ck_assert_str_eq(p2, path);
	free(p2);
	free(path);
	free(u);
	free(dir);
	free(root);
}
END_TEST

/* Run @fn's stderr into a string (owned): what kfarm warned. */
static char *stderr_of(void (*fn)(void *), void *arg)
{
	char *path = xasprintf("%s/stderr.XXXXXX", tmp), *text;
	int fd = mkstemp(path), saved = dup(2);
	size_t n;

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	text = util_read_file(path, &n, NULL);
	ck_assert_ptr_nonnull(text);
	unlink(path);
	free(path);
	return text;
}

/* Cut @path to @len bytes, as a full disk or a killed copy leaves it. */
static void cut_file(const char *path, off_t len)
{
	ck_assert_int_eq(truncate(path, len), 0);
}

struct resolve_call {
	struct kernel_spec *ks;
	struct kernel *k;
	int ret;
	struct kf_error e;
};

static void call_resolve(void *arg)
{
	struct resolve_call *c = arg;

	c->ret = kernel_resolve(c->k, c->ks, &c->e);
}

/*
 * A cached url: kernel cut short on disk (pinned, and not pinned: its
 * recorded digest) is not used as it is: a warning names the entry, it is
 * fetched again, and the kernel has the pinned digest.
 */
START_TEST(cut_cached_url_fetched_again)
{
	int pinned;

	for (pinned = 0; pinned < 2; pinned++) {
		char *root = xasprintf("%s/cache-cut%d", tmp, pinned);
		char *u = xasprintf("http://127.0.0.1:%d/good/cut%d/bzImage", port, pinned);
		char *path = xasprintf("/good/cut%d/bzImage", pinned), *warned, id[65], sha[65];
		struct kernel_spec ks;
		struct kernel k;
		struct resolve_call c = { &ks, &k, -1, { "", 0, 0, "" } };
		json_t *reqs;

		ck_assert_int_eq(config_kernel_parse(u, &ks, &c.e), 0);
		ks.cache_dir = xstrdup(root);
		if (pinned)
			ks.sha256 = xstrdup(blob_sha);
		ck_assert_msg(kernel_resolve(&k, &ks, &c.e) == 0, "%s", c.e.text);
		ck_assert_str_eq(k.sha256, blob_sha);
		cut_file(k.path, BLOB_SIZE / 3);
		kernel_release(&k);
		warned = stderr_of(call_resolve, &c);
		ck_assert_msg(c.ret == 0, "%s: %s", c.e.source, c.e.text);
		ck_assert_str_eq(k.sha256, blob_sha);
		ck_assert_int_eq(util_sha256_file(k.path, sha, &c.e), 0);
		ck_assert_str_eq(sha, blob_sha);
		util_sha256(u, strlen(u), id);
		ck_assert_msg(strstr(warned, "cache entry url/") && strstr(warned, id) &&
			      strstr(warned, "100000 bytes") && strstr(warned, blob_sha) &&
			      strstr(warned, "cut short"), "%s", warned);
		reqs = requests(path);
		ck_assert_uint_eq(json_array_size(reqs), 2);	/* fetched again */
		json_decref(reqs);
		/* Whole again: the next use takes it from the cache. */
		kernel_release(&k);
		ck_assert_msg(kernel_resolve(&k, &ks, &c.e) == 0, "%s", c.e.text);
		reqs = requests(path);
		ck_assert_uint_eq(json_array_size(reqs), 2);
		json_decref(reqs);
		kernel_release(&k);
		config_kernel_release(&ks);
		free(warned);
		free(path);
		free(u);
		free(root);
	}
}
END_TEST

/*
 * A deb: kernel whose cached vmlinuz was cut short: a warning names the
 * entry, the package is downloaded (a fake apt-get, counting) and unpacked
 * again, and the kernel has the image's digest.
 */
START_TEST(cut_cached_deb_unpacked_again)
{
	char *bin = xasprintf("%s/fakeapt", tmp), *calls = xasprintf("%s/apt-get-calls", tmp);
	char *deb = make_deb("linux-image-9.9.9-cut-amd64_9.9.9-1_amd64.deb",
			     "./boot/vmlinuz-9.9.9-cut-amd64");
	char *cache = xasprintf("%s/fakeapt/apt-cache", tmp), *get = xasprintf("%s/fakeapt/apt-get", tmp);
	char *acs = xstrdup("#!/bin/sh\nprintf 'Package: linux-image-9.9.9-cut-amd64\\n"
			    "Version: 9.9.9-1\\n'\n");
	char *ags = xasprintf("#!/bin/sh\necho \"$*\" >> %s\ncp %s .\n", calls, deb);
	char *path = xasprintf("%s:%s", bin, getenv("PATH")), *root = cache_in("cache-debcut");
	char *warned, *text;
	struct kernel_spec ks;
	struct kernel k;
	struct resolve_call c = { &ks, &k, -1, { "", 0, 0, "" } };
	size_t n;

	ck_assert_int_eq(util_mkdir_p(bin, &c.e), 0);
	ck_assert_int_eq(util_write_atomic(cache, acs, strlen(acs), &c.e), 0);
	ck_assert_int_eq(util_write_atomic(get, ags, strlen(ags), &c.e), 0);
	ck_assert_int_eq(chmod(cache, 0755), 0);
	ck_assert_int_eq(chmod(get, 0755), 0);
	setenv("PATH", path, 1);
	ck_assert_int_eq(config_kernel_parse("deb:linux-image-9.9.9-cut-amd64", &ks, &c.e), 0);
	ks.cache_dir = xstrdup(root);
	ck_assert_msg(kernel_resolve(&k, &ks, &c.e) == 0, "%s: %s", c.e.source, c.e.text);
	ck_assert_str_eq(k.sha256, blob_sha);
	cut_file(k.path, 4096);
	kernel_release(&k);
	warned = stderr_of(call_resolve, &c);
	ck_assert_msg(c.ret == 0, "%s: %s", c.e.source, c.e.text);
	ck_assert_str_eq(k.sha256, blob_sha);
	ck_assert_msg(strstr(warned, "cache entry deb/linux-image-9.9.9-cut-amd64_9.9.9-1") &&
		      strstr(warned, "vmlinuz (4096 bytes)") && strstr(warned, blob_sha),
		      "%s", warned);
	text = util_read_file(calls, &n, &c.e);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "download -q linux-image-9.9.9-cut-amd64=9.9.9-1\n"
			 "download -q linux-image-9.9.9-cut-amd64=9.9.9-1\n");
	kernel_release(&k);
	config_kernel_release(&ks);
	free(text);
	free(warned);
	free(root);
	free(path);
	free(ags);
	free(acs);
	free(get);
	free(cache);
	free(deb);
	free(calls);
	free(bin);
}
END_TEST

static Suite *fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("http");

	tcase_add_unchecked_fixture(tc, start_server, stop_server);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, good_fetch);
	tcase_add_test(tc, download_bound);
	tcase_add_test(tc, deb_names_checked);
	tcase_add_test(tc, deb_compressions);
	tcase_add_test(tc, url_kernel_cached_once);
	tcase_add_test(tc, sha_mismatch_caches_nothing);
	tcase_add_test(tc, not_found);
	tcase_add_test(tc, cut_is_resumed);
	tcase_add_test(tc, cut_without_range_restarts);
	tcase_add_test(tc, stall_times_out);
	tcase_add_test(tc, redirect_followed);
	tcase_add_test(tc, server_error_retried);
	tcase_add_test(tc, connection_refused);
	tcase_add_test(tc, deb_unpacked_with_libarchive);
	tcase_add_test(tc, deb_url_kernel);
	tcase_add_test(tc, revalidate_not_modified);
	tcase_add_test(tc, refresh_changed_kernel);
	tcase_add_test(tc, revalidate_without_validators);
	tcase_add_test(tc, revalidate_last_modified_only);
	tcase_add_test(tc, revalidate_failed_uses_cache);
	tcase_add_test(tc, revalidate_server_gone);
	tcase_add_test(tc, deb_resolution_kept_while_apt_unchanged);
	tcase_add_test(tc, cut_cached_url_fetched_again);
	tcase_add_test(tc, cut_cached_deb_unpacked_again);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fetch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
