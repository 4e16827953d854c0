/* SPDX-License-Identifier: MIT */
/*
 * proc.c: a child spawned with proc_spawn() does not outlive what spawned it.
 * A helper process spawns a long sleep (as kfarm spawns QEMU) and is killed
 * with SIGKILL (as a user's kill -9 of 'kfarm run'): the sleep must be gone
 * within a deadline, polled through a pidfd, not left running under init.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/* Whether @pidfd's process ends within @ms (a pidfd is readable once it exited). */
static int gone_within(int pidfd, int ms)
{
	struct pollfd p = { pidfd, POLLIN, 0 };
	int64_t end = util_now_ms() + ms;

	for (;;) {
		int left = (int)(end - util_now_ms()), r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

/*
 * Fork a helper that spawns "sleep 600" with proc_spawn() (its argv), reports
 * the sleep's pid on a pipe and waits to be killed. Returns the helper's pid,
 * the sleep's in @child.
 */
static pid_t helper_spawning(pid_t *child)
{
	int pfd[2];
	pid_t helper;
	ssize_t n;

	ck_assert_int_eq(pipe(pfd), 0);
	helper = fork();
	ck_assert_int_ge(helper, 0);
	if (helper == 0) {
		const char *argv[] = { "sleep", "600", NULL };
		struct proc p;
		struct kf_error e;

		close(pfd[0]);
		if (proc_spawn(&p, argv, NULL, NULL, 0, &e) < 0)
			_exit(2);
		if (write(pfd[1], &p.pid, sizeof(p.pid)) != (ssize_t)sizeof(p.pid))
			_exit(3);
		for (;;)
			pause();
	}
	close(pfd[1]);
	n = read(pfd[0], child, sizeof(*child));
	close(pfd[0]);
	ck_assert_int_eq(n, (ssize_t)sizeof(*child));
	ck_assert_int_gt(*child, 0);
	return helper;
}

START_TEST(child_dies_with_its_parent)
{
	pid_t child = -1, helper = helper_spawning(&child);
	int pidfd = proc_pidfd_open(child), st;

	ck_assert_msg(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	/* alive while its parent is */
	ck_assert_int_eq(gone_within(pidfd, 200), 0);
	ck_assert_int_eq(kill(helper, SIGKILL), 0);
	ck_assert_int_eq(waitpid(helper, &st, 0), helper);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	if (!gone_within(pidfd, 5000)) {
		kill(child, SIGKILL);	/* not left behind by a failing test either */
		ck_abort_msg("the child %d of a parent killed with SIGKILL still runs after 5 s",
			     (int)child);
	}
	close(pidfd);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *t = tcase_create("proc");

	tcase_add_test(t, child_dies_with_its_parent);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
