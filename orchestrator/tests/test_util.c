/* SPDX-License-Identifier: MIT */
/*
 * util.c's file helpers at their edges: mkdir -p of an empty path (its walk
 * once started past the string's end: a heap overflow under ASan, from
 * `kfarm run -o ""`) and a read with a bound.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

START_TEST(mkdir_p_empty)
{
	struct kf_error e;
	char buf[256];

	ck_assert_int_eq(util_mkdir_p("", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "cannot create a folder: the path is empty");
}
END_TEST

START_TEST(mkdir_p_nested)
{
	char tmpl[] = "/tmp/kfarm-util-XXXXXX", *deep, *mid;
	struct kf_error e;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	deep = xasprintf("%s/a/b/", tmpl);
	ck_assert_int_eq(util_mkdir_p(deep, &e), 0);
	ck_assert_int_eq(util_mkdir_p(deep, &e), 0);	/* there already */
	ck_assert_int_eq(stat(deep, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(util_mkdir_p("/", &e), 0);
	rmdir(deep);
	mid = xasprintf("%s/a", tmpl);
	rmdir(mid);
	rmdir(tmpl);
	free(mid);
	free(deep);
}
END_TEST

START_TEST(read_file_max)
{
	char path[] = "/tmp/kfarm-util-XXXXXX", *t;
	struct kf_error e;
	size_t len;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	t = util_read_file_max(path, 10, &len, &e);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(t, "0123456789");
	free(t);
	errno = 0;
	ck_assert_ptr_null(util_read_file_max(path, 9, &len, &e));
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_str_eq(e.text, "larger than 9 bytes");
	ck_assert_str_eq(e.source, path);
	t = util_read_file(path, &len, &e);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(len, 10);
	free(t);
	unlink(path);
}
END_TEST

/*
 * A bounded log (the guests' console and results logs: RUN_CONSOLE_LOG_MAX,
 * RUN_RESULTS_LOG_MAX) at its edge: exactly @max bytes are kept whatever the
 * pieces, the write that reaches it says so once, a line saying so follows,
 * and later writes are dropped.
 */
START_TEST(out_bounded)
{
	static const size_t pieces[][3] = { { 10, 0, 0 }, { 4, 6, 0 }, { 3, 3, 9 }, { 25, 0, 0 } };
	static const char note[] = "\n[kfarm: this log stops at its bound, 10 bytes; the rest was read but not kept]\n";
	char path[] = "/tmp/kfarm-util-XXXXXX", *t;
	struct util_out o;
	struct kf_error e;
	size_t i, j, len;
	int fd = mkstemp(path), reached;

	ck_assert_int_ge(fd, 0);
	close(fd);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		ck_assert_int_eq(util_out_open(&o, path, &e), 0);
		o.max = 10;
		reached = 0;
		for (j = 0; j < 3 && pieces[i][j]; j++)
			reached += util_out_write(&o, "abcdefghijklmnopqrstuvwxyz", pieces[i][j], &e);
		ck_assert_int_eq(reached, 1);
		ck_assert_int_eq(util_out_write(&o, "more", 4, &e), 0);
		ck_assert_int_eq(util_out_close(&o, &e), 0);
		t = util_read_file(path, &len, &e);
		ck_assert_ptr_nonnull(t);
		ck_assert_uint_eq(len, 10 + strlen(note));
		ck_assert_str_eq(t + 10, note);
		free(t);
	}
	/* one byte under the bound: all kept, no line */
	ck_assert_int_eq(util_out_open(&o, path, &e), 0);
	o.max = 10;
	ck_assert_int_eq(util_out_write(&o, "abcdefghi", 9, &e), 0);
	ck_assert_int_eq(util_out_close(&o, &e), 0);
	t = util_read_file(path, &len, &e);
	ck_assert_uint_eq(len, 9);
	free(t);
	unlink(path);
}
END_TEST

/*
 * util_write_all(): 3 MiB in one call land whole through a pipe (whose writes
 * are short: 64 KiB a time) read by a child; /dev/full says ENOSPC.
 */
START_TEST(write_all)
{
	size_t n = 3u << 20, got = 0;
	char *buf = malloc(n), rd[65536];
	int fds[2], fd, st;
	pid_t pid;
	ssize_t r;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'w', n);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(util_write_all(fds[1], buf, n) == 0 ? 0 : 1);
	}
	close(fds[1]);
	while ((r = read(fds[0], rd, sizeof(rd))) > 0)
		got += (size_t)r;
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_eq(got, n);
	fd = open("/dev/full", O_WRONLY);
	ck_assert_int_ge(fd, 0);
	errno = 0;
	ck_assert_int_eq(util_write_all(fd, buf, 10), -1);
	ck_assert_int_eq(errno, ENOSPC);
	close(fd);
	free(buf);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_test(tc, mkdir_p_empty);
	tcase_add_test(tc, write_all);
	tcase_add_test(tc, mkdir_p_nested);
	tcase_add_test(tc, read_file_max);
	tcase_add_test(tc, out_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
