// SPDX-License-Identifier: MIT
/*
 * lifecycle.c - helpers of the lifecycle family (see lifecycle.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifecycle.h"

struct lc_box *lc_box_new(struct obs *o)
{
	struct lc_box *b = shm_alloc(sizeof(*b));

	if (!b) {
		obs_str(o, "error", "mmap");
		return NULL;
	}
	obs_init(&b->c);
	if (pipe(b->xp) < 0) {
		obs_str(o, "error", "pipe");
		shm_free(b, sizeof(*b));
		return NULL;
	}
	return b;
}

void lc_box_free(struct lc_box *b)
{
	if (!b)
		return;
	close(b->xp[0]);
	close(b->xp[1]);
	shm_free(b, sizeof(*b));
}

void lc_xgo(struct lc_box *b)
{
	char c = 'x';

	if (write_all(b->xp[1], &c, 1) < 0)
		return;
}

void lc_xwait(struct lc_box *b)
{
	ssize_t r;
	char c;

	do
		r = read(b->xp[0], &c, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(92);
}

void lc_stat_letter(pid_t pid, char *out, size_t n)
{
	char buf[512], *p;

	if (procfs_read(pid, "stat", buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) ||
	    p[1] != ' ' || !p[2]) {
		snprintf(out, n, "gone");
		return;
	}
	snprintf(out, n, "%c", p[2]);
}

pid_t lc_wait_any(struct obs *t, int *status, char *out, size_t n)
{
	char d[64];
	pid_t p = g_waitpid(-1, status, __WALL, wait_limit_ms);

	if (p < 0) {
		obs_str(t, "tracer", errno == ETIMEDOUT ? "wait-timeout" : errno_name(errno));
		return -1;
	}
	describe_wstatus(*status, d, sizeof(d));
	snprintf(out, n, "%s:%s", role_of(p), d);
	return p;
}

void lc_wnohang(pid_t pid, char *out, size_t n)
{
	char d[64];
	int st = 0;
	pid_t p = waitpid(pid, &st, WNOHANG | __WALL);

	if (p < 0) {
		snprintf(out, n, "%s", errno_name(errno));
	} else if (p == 0) {
		snprintf(out, n, "none");
	} else {
		describe_wstatus(st, d, sizeof(d));
		snprintf(out, n, "%s:%s", role_of(p), d);
	}
}

void lc_role_threads(const struct lab *L)
{
	/* role_set() keeps the pointer: static names. */
	static const char *const names[LAB_MAX_THREADS] = {
		"self", "thread1", "thread2", "thread3", "thread4", "thread5", "thread6", "thread7",
	};
	int i;

	for (i = 1; i < L->sh->nthreads && i < LAB_MAX_THREADS; i++)
		role_set(names[i], L->sh->tid[i]);
}
