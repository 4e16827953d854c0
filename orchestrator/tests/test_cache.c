/* SPDX-License-Identifier: MIT */
/* The kernel cache (entries, lock, list, prune) and the build's bookkeeping. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "cache.h"
#include "util.h"

static char tmp[256];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/kfarm-test-cache.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	setenv("CI", "true", 1);
}

static void teardown(void)
{
	cache_rm_rf(tmp, NULL);
}

static void write_file(const char *path, const char *text)
{
	struct kf_error e;

	ck_assert_msg(util_write_atomic(path, text, strlen(text), &e) == 0, "%s", e.text);
}

static void make_entry(const char *root, const char *id, const char *name)
{
	struct kf_error e;
	char *t = cache_tmp_dir(root, "url", id, &e), *f;
	json_t *meta = json_pack("{s:s, s:s, s:s}", "name", name, "source", "http://x/", "sha256",
				 "ab");

	ck_assert_ptr_nonnull(t);
	f = xasprintf("%s/bzImage", t);
	write_file(f, "image");
	ck_assert_int_eq(cache_commit(root, "url", id, t, meta, &e), 0);
	json_decref(meta);
	free(f);
	free(t);
}

START_TEST(entries_list_prune)
{
	char *root = xasprintf("%s/c", tmp), *old;
	struct kf_error e;
	struct timespec ts[2] = { { 0, 0 }, { 0, 0 } };
	json_t *l;
	int n;

	ck_assert(!cache_has(root, "url", "one", "bzImage"));
	make_entry(root, "one", "first");
	make_entry(root, "two", "second");
	ck_assert(cache_has(root, "url", "one", "bzImage"));
	ck_assert(!cache_has(root, "url", "one", "vmlinuz"));
	/* Replacing an entry keeps one. */
	make_entry(root, "two", "second-again");
	l = cache_list(root, &e);
	ck_assert_uint_eq(json_array_size(l), 2);
	json_decref(l);
	/* A temporary of a dead process goes with any prune. */
	old = xasprintf("%s/url/three.tmp.999999999", root);
	ck_assert_int_eq(util_mkdir_p(old, &e), 0);
	/* "one" last used 10 days ago. */
	free(old);
	old = xasprintf("%s/url/one", root);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 10 * 86400;
	ck_assert_int_eq(utimensat(AT_FDCWD, old, ts, 0), 0);
	ck_assert_int_eq(cache_prune(root, 30, &n, NULL, &e), 0);
	ck_assert_int_eq(n, 1);	/* the temporary */
	ck_assert_int_eq(cache_prune(root, 5, &n, NULL, &e), 0);
	ck_assert_int_eq(n, 1);	/* "one" */
	ck_assert_int_ne(access(old, F_OK), 0);
	l = cache_list(root, &e);
	ck_assert_uint_eq(json_array_size(l), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(l, 0), "name")),
			 "second-again");
	json_decref(l);
	ck_assert_int_eq(cache_prune(root, 0, &n, NULL, &e), 0);
	ck_assert_int_eq(n, 1);
	free(old);
	free(root);
}
END_TEST

START_TEST(lock_is_exclusive_and_prune_skips_locked)
{
	char *root = xasprintf("%s/c", tmp), *lockp;
	struct kf_error e;
	int fd, fd2, n;

	make_entry(root, "busy", "busy");
	fd = cache_lock(root, "url", "busy", &e);
	ck_assert_int_ge(fd, 0);
	lockp = xasprintf("%s/url/busy.lock", root);
	fd2 = open(lockp, O_RDWR);
	ck_assert_int_eq(flock(fd2, LOCK_EX | LOCK_NB), -1);	/* held */
	ck_assert_int_eq(cache_prune(root, 0, &n, NULL, &e), 0);
	ck_assert_int_eq(n, 0);
	ck_assert(cache_has(root, "url", "busy", "bzImage"));
	cache_unlock(fd);
	ck_assert_int_eq(flock(fd2, LOCK_EX | LOCK_NB), 0);	/* released */
	close(fd2);
	free(lockp);
	free(root);
}
END_TEST

START_TEST(check_config)
{
	char *a = xasprintf("%s/a.config", tmp), *b = xasprintf("%s/b.config", tmp);
	char *dot = xasprintf("%s/.config", tmp);
	const char *frags[2] = { a, b };
	struct kf_error e;

	write_file(a, "# comment\nCONFIG_SMP=y\nCONFIG_NR_CPUS=8\n# CONFIG_MODULES is not set\n");
	write_file(b, "CONFIG_NR_CPUS=64\nCONFIG_SERIAL_8250=y\n");
	write_file(dot, "CONFIG_SMP=y\nCONFIG_NR_CPUS=64\nCONFIG_SERIAL_8250=y\n"
		   "# CONFIG_MODULES is not set\n");
	ck_assert_msg(build_check_config(dot, frags, 2, &e) == 0, "%s", e.text);
	write_file(dot, "CONFIG_SMP=y\nCONFIG_NR_CPUS=64\n# CONFIG_SERIAL_8250 is not set\n");
	ck_assert_int_eq(build_check_config(dot, frags, 2, &e), -1);
	ck_assert_str_eq(e.text, "CONFIG_SERIAL_8250=y (asked for by b.config) is not set in the "
			 "final .config: a dependency is missing or another fragment overrides it");
	write_file(dot, "CONFIG_SMP=y\nCONFIG_NR_CPUS=64\nCONFIG_SERIAL_8250=y\nCONFIG_MODULES=y\n");
	ck_assert_int_eq(build_check_config(dot, frags, 2, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "CONFIG_MODULES=n (asked for by a.config) is =y"));
	/* The shipped fragment parses and names what the guest needs. */
	{
		char *t = util_read_file(BUILD_FRAGMENT, NULL, &e);

		ck_assert_ptr_nonnull(t);
		ck_assert_ptr_nonnull(strstr(t, "CONFIG_SERIAL_8250_CONSOLE=y"));
		ck_assert_ptr_nonnull(strstr(t, "CONFIG_BLK_DEV_INITRD=y"));
		ck_assert_ptr_nonnull(strstr(t, "CONFIG_MAGIC_SYSRQ=y"));
		free(t);
	}
	free(a);
	free(b);
	free(dot);
}
END_TEST

/* A build spec over a tiny source folder. */
static struct kernel_spec *spec_for(const char *src, const char *patch)
{
	struct kernel_spec *ks = xcalloc(1, sizeof(*ks));

	ks->name = xstrdup("tiny");
	ks->kind = KERNEL_BUILD;
	ks->arg = xstrdup(src);
	ks->origin = xstrdup("test");
	ks->build = xcalloc(1, sizeof(*ks->build));
	ks->build->source = xstrdup(src);
	ks->build->base = xstrdup("tinyconfig");
	ks->build->patches = xcalloc(2, sizeof(char *));
	if (patch)
		ks->build->patches[ks->build->npatches++] = xstrdup(patch);
	ks->build->fragments = xcalloc(1, sizeof(char *));
	return ks;
}

static void spec_free(struct kernel_spec *ks)
{
	config_kernel_release(ks);
	free(ks);
}

START_TEST(key_follows_inputs)
{
	char *src = xasprintf("%s/src", tmp), *f = xasprintf("%s/src/Makefile", tmp);
	char *p1 = xasprintf("%s/1.patch", tmp), *root = xasprintf("%s/c", tmp);
	char k1[65], k2[65], k3[65], k4[65];
	struct kernel_spec *ks;
	struct fetch_opts fo;
	struct kf_error e;
	json_t *in = NULL;

	fetch_opts_default(&fo);
	ck_assert_int_eq(util_mkdir_p(src, &e), 0);
	write_file(f, "all:\n");
	write_file(p1, "--- a/Makefile\n+++ b/Makefile\n");
	ks = spec_for(src, NULL);
	ck_assert_msg(build_key(ks, root, &fo, k1, &in, &e) == 0, "%s", e.text);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(in, "source"), "tree_sha256"));
	ck_assert_ptr_nonnull(json_object_get(in, "compiler"));
	json_decref(in);
	ck_assert_int_eq(build_key(ks, root, &fo, k2, NULL, &e), 0);
	ck_assert_str_eq(k1, k2);	/* stable */
	spec_free(ks);
	ks = spec_for(src, p1);
	ck_assert_int_eq(build_key(ks, root, &fo, k3, NULL, &e), 0);
	ck_assert_str_ne(k1, k3);	/* a patch changes it */
	write_file(p1, "--- a/Makefile\n+++ b/Makefile\n\n");
	ck_assert_int_eq(build_key(ks, root, &fo, k4, NULL, &e), 0);
	ck_assert_str_ne(k3, k4);	/* and so does its content */
	free(ks->build->base);
	ks->build->base = xstrdup("defconfig");
	ck_assert_int_eq(build_key(ks, root, &fo, k3, NULL, &e), 0);
	ck_assert_str_ne(k3, k4);	/* and the base config */
	spec_free(ks);
	free(src);
	free(f);
	free(p1);
	free(root);
}
END_TEST

START_TEST(failing_patch_and_step_are_named)
{
	char *src = xasprintf("%s/src", tmp), *f = xasprintf("%s/src/Makefile", tmp);
	char *p1 = xasprintf("%s/0001-broken.patch", tmp), *root = xasprintf("%s/c", tmp);
	struct kernel_spec *ks;
	struct build_result r;
	struct kf_error e;
	char *logp, *log;

	ck_assert_int_eq(util_mkdir_p(src, &e), 0);
	write_file(f, "all:\n\ttrue\n");
	write_file(p1, "--- a/Makefile\n+++ b/Makefile\n@@ -1,2 +1,2 @@\n-nothing:\n+like this\n \ttrue\n");
	ks = spec_for(src, p1);
	ck_assert_int_eq(build_kernel(ks, root, 0, &r, &e), -1);
	ck_assert_str_eq(e.source, p1);
	ck_assert_msg(strstr(e.text, "kernel 'tiny': patch 0001-broken.patch (1 of 1) does not apply"),
		      "%s", e.text);
	ck_assert_msg(strstr(e.text, "FAILED"), "%s", e.text);	/* patch's own words, the tail */
	logp = strstr(e.text, "whole log: ");
	ck_assert_ptr_nonnull(logp);
	logp = strndup(logp + 11, strcspn(logp + 11, ")"));
	log = util_read_file(logp, NULL, &e);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_nonnull(strstr(log, "== patch 0001-broken.patch"));
	free(log);
	free(logp);
	spec_free(ks);
	/* No patch: the source has no kconfig, so "make tinyconfig" fails and is named. */
	ks = spec_for(src, NULL);
	ck_assert_int_eq(build_kernel(ks, root, 0, &r, &e), -1);
	ck_assert_msg(strstr(e.text, "kernel 'tiny': make tinyconfig failed (exited 2)"), "%s", e.text);
	spec_free(ks);
	free(src);
	free(f);
	free(p1);
	free(root);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, entries_list_prune);
	tcase_add_test(tc, lock_is_exclusive_and_prune_skips_locked);
	tcase_add_test(tc, check_config);
	tcase_add_test(tc, key_follows_inputs);
	tcase_add_test(tc, failing_patch_and_step_are_named);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
