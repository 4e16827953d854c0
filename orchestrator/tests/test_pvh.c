/* SPDX-License-Identifier: MIT */
/*
 * The PVH vmlinux: extraction from synthetic bzImages (data/pvh/, made by
 * make-fixtures.py there) and the kernel's boot image through the cache;
 * kernel_check_image() on images cut short (bzImage, ELF) and random bytes.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "kernel.h"
#include "log.h"
#include "pvh.h"
#include "util.h"

#define DATA KFARM_TOP "/orchestrator/tests/data/pvh/"
#define PVH_ENTRY 0x1000850

static char tmp[256];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/kfarm-test-pvh.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	unsetenv("KFARM_NO_PVH");
	log_verbose = 0;
}

static void teardown(void)
{
	cache_rm_rf(tmp, NULL);
}

/* Files in @dir (temporaries left behind show up here). */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = util_read_file(a, &la, NULL), *y = util_read_file(b, &lb, NULL);
	int same = x && y && la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

static const struct {
	const char *file, *compression;
} good[] = {
	{ "pvh-gzip.bzImage", "gzip" },
	{ "pvh-xz.bzImage", "xz" },	/* setup_sects 0, meaning 4 */
	{ "pvh-zstd.bzImage", "zstd" },
};

START_TEST(extracts_vmlinux)
{
	char *in = xasprintf(DATA "%s", good[_i].file), *out = xasprintf("%s/vmlinux", tmp);
	struct pvh_info info;
	struct kf_error e;
	uint64_t entry = 0;

	ck_assert_msg(pvh_extract(in, out, &info, &e) == 0, "%s: %s", e.source, e.text);
	ck_assert_str_eq(info.compression, good[_i].compression);
	ck_assert_uint_eq(info.version, 0x20f);
	ck_assert_uint_eq(info.entry, PVH_ENTRY);
	ck_assert(info.decompressed);
	/* The payload is the ELF file, byte for byte, and nothing else is left. */
	ck_assert(same_file(out, DATA "pvh.elf"));
	ck_assert_uint_eq(info.size, 288);
	ck_assert_int_eq(count_files(tmp), 1);
	ck_assert_int_eq(pvh_elf_note(out, &entry, NULL, 0, &e), 1);
	ck_assert_uint_eq(entry, PVH_ENTRY);
	free(in);
	free(out);
}
END_TEST

static const struct {
	const char *file, *reason;
	int decompressed;
} not_applicable[] = {
	{ "nonote-xz.bzImage", "no PVH note", 1 },
	{ "elf32-gzip.bzImage", "not an ELF64 x86-64 file", 1 },
	{ "old-protocol.bzImage", "boot protocol 2.07", 0 },
	{ "unknown-compression.bzImage", "unknown payload compression", 0 },
	{ "lzo.bzImage", "lzo only through an external program", 0 },
	{ "pvh.elf", "not a bzImage", 0 },
};

START_TEST(not_applicable_is_1)
{
	char *in = xasprintf(DATA "%s", not_applicable[_i].file);
	char *out = xasprintf("%s/vmlinux", tmp);
	struct pvh_info info;
	struct kf_error e;

	error_clear(&e);
	ck_assert_int_eq(pvh_extract(in, out, &info, &e), 1);
	ck_assert_msg(strstr(info.reason, not_applicable[_i].reason), "%s", info.reason);
	ck_assert_int_eq(info.decompressed, not_applicable[_i].decompressed);
	ck_assert_int_eq(access(out, F_OK), -1);
	ck_assert_int_eq(count_files(tmp), 0);
	free(in);
	free(out);
}
END_TEST

START_TEST(junk_and_empty_are_not_bzimages)
{
	char *junk = xasprintf("%s/junk", tmp), *empty = xasprintf("%s/empty", tmp);
	char *out = xasprintf("%s/vmlinux", tmp), text[1200];
	struct pvh_info info;
	struct kf_error e;

	memset(text, 'x', sizeof(text));
	ck_assert_int_eq(util_write_atomic(junk, text, sizeof(text), &e), 0);
	ck_assert_int_eq(util_write_atomic(empty, "", 0, &e), 0);
	ck_assert_int_eq(pvh_extract(junk, out, &info, &e), 1);
	ck_assert(strstr(info.reason, "not a bzImage"));
	ck_assert_int_eq(pvh_extract(empty, out, NULL, &e), 1);
	ck_assert_int_eq(pvh_elf_note(junk, NULL, text, sizeof(text), &e), 0);
	ck_assert_str_eq(text, "not an ELF file");
	ck_assert_int_eq(access(out, F_OK), -1);
	free(junk);
	free(empty);
	free(out);
}
END_TEST

static const struct {
	const char *file, *text;
} broken[] = {
	{ "truncated-stream.bzImage", "corrupt xz payload" },
	{ "truncated-file.bzImage", "does not fit in the file's 1064 bytes" },
	{ "not-elf-gzip.bzImage", "does not hold an ELF file" },
	{ "no-such.bzImage", "cannot open" },
};

START_TEST(corrupt_is_an_error)
{
	char *in = xasprintf(DATA "%s", broken[_i].file), *out = xasprintf("%s/vmlinux", tmp);
	struct kf_error e;

	error_clear(&e);
	ck_assert_int_eq(pvh_extract(in, out, NULL, &e), -1);
	ck_assert_str_eq(e.source, in);
	ck_assert_msg(strstr(e.text, broken[_i].text), "%s", e.text);
	ck_assert_int_eq(count_files(tmp), 0);
	free(in);
	free(out);
}
END_TEST

START_TEST(note_only_counts_with_xen_type_18)
{
	char *nonote = xasprintf("%s/nonote", tmp), why[256];
	struct kf_error e;
	uint64_t entry = 0;
	size_t n;
	char *elf;

	ck_assert_int_eq(pvh_elf_note(DATA "pvh.elf", &entry, why, sizeof(why), &e), 1);
	ck_assert_uint_eq(entry, PVH_ENTRY);
	/* The same file with the note's type changed from 18 to 19. */
	elf = util_read_file(DATA "pvh.elf", &n, &e);
	ck_assert_ptr_nonnull(elf);
	for (size_t i = 0; i + 16 <= n; i++) {
		if (memcmp(elf + i, "\4\0\0\0\10\0\0\0\22\0\0\0Xen", 15) == 0)
			elf[i + 8] = 19;
	}
	ck_assert_int_eq(util_write_atomic(nonote, elf, n, &e), 0);
	ck_assert_int_eq(pvh_elf_note(nonote, NULL, why, sizeof(why), &e), 0);
	ck_assert_msg(strstr(why, "no PVH note"), "%s", why);
	/* Program headers beyond the end of the file. */
	elf[32] = (char)0xf0;
	ck_assert_int_eq(util_write_atomic(nonote, elf, n, &e), 0);
	ck_assert_int_eq(pvh_elf_note(nonote, NULL, why, sizeof(why), &e), -1);
	ck_assert_msg(strstr(e.text, "corrupt ELF"), "%s", e.text);
	free(elf);
	free(nonote);
}
END_TEST

/* kernel_resolve() on path:DATA/@file with the cache in @tmp. */
static void resolve(struct kernel *k, const char *file)
{
	struct kernel_spec s;
	struct kf_error e;

	memset(&s, 0, sizeof(s));
	s.name = xstrdup(file);
	s.kind = KERNEL_PATH;
	s.arg = xasprintf(DATA "%s", file);
	s.origin = xstrdup("test");
	s.cache_dir = xasprintf("%s/cache", tmp);
	ck_assert_msg(kernel_resolve(k, &s, &e) == 0, "%s: %s", e.source, e.text);
	config_kernel_release(&s);
}

START_TEST(kernel_boots_the_cached_vmlinux)
{
	struct kernel k;
	char *want, *img = realpath(DATA "pvh-xz.bzImage", NULL);
	struct stat st1, st2;

	resolve(&k, "pvh-xz.bzImage");
	want = xasprintf("%s/cache/pvh/%s/vmlinux", tmp, k.sha256);
	ck_assert_str_eq(k.boot, "pvh");
	ck_assert_str_eq(k.boot_path, want);
	ck_assert_str_eq(k.path, img);	/* reports keep naming the image */
	ck_assert(same_file(k.boot_path, DATA "pvh.elf"));
	ck_assert_int_eq(stat(want, &st1), 0);
	kernel_release(&k);
	/* Extracted once: the second resolution finds it. */
	resolve(&k, "pvh-xz.bzImage");
	ck_assert_str_eq(k.boot, "pvh");
	ck_assert_int_eq(stat(k.boot_path, &st2), 0);
	ck_assert_int_eq(st1.st_ino, st2.st_ino);
	kernel_release(&k);
	/* KFARM_NO_PVH=1 boots the bzImage. */
	setenv("KFARM_NO_PVH", "1", 1);
	resolve(&k, "pvh-xz.bzImage");
	ck_assert_str_eq(k.boot, "bzimage");
	ck_assert_str_eq(k.boot_path, img);
	kernel_release(&k);
	unsetenv("KFARM_NO_PVH");
	free(want);
	free(img);
}
END_TEST

START_TEST(kernel_falls_back_to_the_bzimage)
{
	char *root = xasprintf("%s/cache", tmp), *img;
	struct kernel k;

	/* No note: the bzImage, and the cache remembers it has none. */
	resolve(&k, "nonote-xz.bzImage");
	ck_assert_str_eq(k.boot, "bzimage");
	ck_assert_str_eq(k.boot_path, k.path);
	ck_assert(cache_has(root, "pvh", k.sha256, "entry.json"));
	ck_assert(!cache_has(root, "pvh", k.sha256, "vmlinux"));
	kernel_release(&k);
	resolve(&k, "nonote-xz.bzImage");
	ck_assert_str_eq(k.boot, "bzimage");
	kernel_release(&k);
	/* A corrupt payload does not fail the kernel, and leaves nothing. */
	resolve(&k, "truncated-stream.bzImage");
	ck_assert_str_eq(k.boot, "bzimage");
	ck_assert(!cache_has(root, "pvh", k.sha256, "entry.json"));
	kernel_release(&k);
	/* An ELF given as the image boots as it is. */
	resolve(&k, "pvh.elf");
	img = realpath(DATA "pvh.elf", NULL);
	ck_assert_str_eq(k.boot, "elf");
	ck_assert_str_eq(k.boot_path, img);
	kernel_release(&k);
	free(img);
	free(root);
}
END_TEST

/* The first @len bytes of @src as @dst (in the test's folder); @dst owned. */
static char *cut_copy(const char *src, const char *name, size_t len)
{
	char *dst = xasprintf("%s/%s", tmp, name), *data;
	struct kf_error e;
	size_t n;

	data = util_read_file(src, &n, &e);
	ck_assert_msg(data != NULL, "%s: %s", e.source, e.text);
	ck_assert_uint_le(len, n);
	ck_assert_int_eq(util_write_atomic(dst, data, len, &e), 0);
	free(data);
	return dst;
}

/* kernel_check_image() refuses @path, naming it, with @a and @b in the text. */
static void refused(const char *path, const char *a, const char *b)
{
	struct kf_error e;

	error_clear(&e);
	ck_assert_int_eq(kernel_check_image(path, &e), -1);
	ck_assert_str_eq(e.source, path);
	ck_assert_msg(strstr(e.text, a) && (!b || strstr(e.text, b)), "%s", e.text);
}

/*
 * Images cut short are refused before anything boots them, with their size
 * and the size their header claims: a bzImage (setup_sects, syssize) and an
 * ELF vmlinux (program headers, segments); so are random bytes.
 */
START_TEST(cut_images_are_refused)
{
	char *p, *junk = xasprintf("%s/random", tmp), buf[4096];
	struct kf_error e;
	unsigned x = 12345;
	size_t i;

	/* pvh-xz.bzImage: setup_sects 0 (4), so 2560 bytes of setup; 2752 in all */
	ck_assert_int_eq(kernel_check_image(DATA "pvh-xz.bzImage", &e), 0);
	ck_assert_int_eq(kernel_check_image(DATA "pvh-gzip.bzImage", &e), 0);
	p = cut_copy(DATA "pvh-xz.bzImage", "cut-payload.bzImage", 2700);
	refused(p, "truncated bzImage: 2700 bytes, but its header claims 2752", "syssize 12");
	free(p);
	p = cut_copy(DATA "pvh-xz.bzImage", "cut-setup.bzImage", 1200);
	refused(p, "truncated bzImage: 1200 bytes", "2560 bytes of setup code");
	free(p);
	refused(DATA "truncated-file.bzImage", "truncated bzImage: 1064 bytes", "claims 1216");
	/* pvh.elf: 2 program headers at 64 (to 176), a PT_LOAD to 288 */
	ck_assert_int_eq(kernel_check_image(DATA "pvh.elf", &e), 0);
	p = cut_copy(DATA "pvh.elf", "cut-phdrs.elf", 150);
	refused(p, "truncated ELF kernel image: 150 bytes", "program headers end at byte 176");
	free(p);
	p = cut_copy(DATA "pvh.elf", "cut-load.elf", 250);
	refused(p, "truncated ELF kernel image: 250 bytes", "PT_LOAD segment");
	free(p);
	p = cut_copy(DATA "pvh.elf", "cut-header.elf", 40);
	refused(p, "without a whole little-endian ELF header", NULL);
	free(p);
	for (i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (char)(x >> 16);
	}
	ck_assert_int_eq(util_write_atomic(junk, buf, sizeof(buf), &e), 0);
	refused(junk, "not a kernel image", "4096 bytes");
	free(junk);
}
END_TEST

/*
 * KERNEL_IMAGE_MAX: an ELF kernel of exactly 1 GiB (pvh.elf and a hole) is
 * taken, a byte more is refused by its size before its header is read.
 */
START_TEST(image_size_bound)
{
	struct stat st;
	struct kf_error e;
	char *p;

	ck_assert_int_eq(stat(DATA "pvh.elf", &st), 0);
	p = cut_copy(DATA "pvh.elf", "big.elf", (size_t)st.st_size);

	ck_assert_int_eq(truncate(p, KERNEL_IMAGE_MAX), 0);
	error_clear(&e);
	ck_assert_msg(kernel_check_image(p, &e) == 0, "%s", e.text);
	ck_assert_int_eq(truncate(p, KERNEL_IMAGE_MAX + 1), 0);
	refused(p, "kernel image: 1073741825 bytes, more than the 1073741824", "KERNEL_IMAGE_MAX");
	free(p);
}
END_TEST

/* A real kernel's header, if the host has one in /boot: whole, then cut in half. */
START_TEST(cut_host_kernel_is_refused)
{
	DIR *d = opendir("/boot");
	struct dirent *de;
	char *img = NULL, *p;
	struct kf_error e;
	struct stat st;

	while (d && (de = readdir(d)) && !img)
		if (!strncmp(de->d_name, "vmlinuz-", 8))
			img = xasprintf("/boot/%s", de->d_name);
	if (d)
		closedir(d);
	if (!img || kernel_check_image(img, &e) < 0 || stat(img, &st) < 0) {
		fprintf(stderr, "cut_host_kernel_is_refused: no readable /boot/vmlinuz-* here, "
			"skipped (the synthetic headers are checked above)\n");
		free(img);
		return;
	}
	p = cut_copy(img, "host-cut.bzImage", (size_t)st.st_size / 2);
	refused(p, "truncated bzImage", "its header claims");
	free(p);
	free(img);
}
END_TEST

/* kernel_resolve() refuses a cut path: kernel, naming it: nothing boots it. */
START_TEST(kernel_refuses_a_cut_image)
{
	struct kernel_spec s;
	struct kernel k;
	struct kf_error e;

	memset(&s, 0, sizeof(s));
	s.name = xstrdup("cut");
	s.kind = KERNEL_PATH;
	s.arg = cut_copy(DATA "pvh-xz.bzImage", "cut.bzImage", 2000);
	s.origin = xstrdup("test");
	s.cache_dir = xasprintf("%s/cache", tmp);
	ck_assert_int_eq(kernel_resolve(&k, &s, &e), -1);
	ck_assert_str_eq(e.source, s.arg);
	ck_assert_msg(strstr(e.text, "truncated bzImage: 2000 bytes"), "%s", e.text);
	ck_assert_ptr_null(k.path);
	kernel_release(&k);
	config_kernel_release(&s);
}
END_TEST

/*
 * A cached PVH vmlinux cut short on disk is not booted: a warning, and it
 * is extracted again.
 */
START_TEST(cut_cached_vmlinux_extracted_again)
{
	struct kernel k;
	struct stat st;

	resolve(&k, "pvh-xz.bzImage");
	ck_assert_str_eq(k.boot, "pvh");
	ck_assert_int_eq(truncate(k.boot_path, 100), 0);
	kernel_release(&k);
	resolve(&k, "pvh-xz.bzImage");
	ck_assert_str_eq(k.boot, "pvh");
	ck_assert_int_eq(stat(k.boot_path, &st), 0);
	ck_assert_int_eq(st.st_size, 288);
	ck_assert(same_file(k.boot_path, DATA "pvh.elf"));
	kernel_release(&k);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pvh");
	TCase *t = tcase_create("pvh");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, extracts_vmlinux, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(t, not_applicable_is_1, 0,
			    sizeof(not_applicable) / sizeof(not_applicable[0]));
	tcase_add_test(t, junk_and_empty_are_not_bzimages);
	tcase_add_loop_test(t, corrupt_is_an_error, 0, sizeof(broken) / sizeof(broken[0]));
	tcase_add_test(t, note_only_counts_with_xen_type_18);
	tcase_add_test(t, kernel_boots_the_cached_vmlinux);
	tcase_add_test(t, kernel_falls_back_to_the_bzimage);
	tcase_add_test(t, cut_images_are_refused);
	tcase_add_test(t, image_size_bound);
	tcase_add_test(t, cut_host_kernel_is_refused);
	tcase_add_test(t, kernel_refuses_a_cut_image);
	tcase_add_test(t, cut_cached_vmlinux_extracted_again);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
