// SPDX-License-Identifier: MIT
/*
 * guard.c - guarded blocking calls: waitpid, waitid and read bounded by an ITIMER_REAL that interrupts them (guest.h).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

int wait_limit_ms = 1000;

/* ---------------------------------------------------------------- waits */

static volatile sig_atomic_t guard_fired;

static void guard_handler(int sig)
{
	(void)sig;
	guard_fired = 1;
}

void guard_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guard_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked wait returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
}

/*
 * One shot after @ms, then every 2 ms: a timer that fires between the check of
 * guard_fired and the blocking call is followed by another that interrupts it.
 */
static void guard_arm(int ms)
{
	struct itimerval it;

	guard_fired = 0;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1000;
	it.it_interval.tv_usec = 2000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void guard_disarm(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	guard_fired = 0;
}

/* The guard ran out: disarm it; -1 with errno ETIMEDOUT for the caller. */
static int guard_timed_out(void)
{
	if (!guard_fired)
		return 0;
	guard_disarm();
	errno = ETIMEDOUT;
	return 1;
}

/* The call is over: disarm the guard, keeping the call's errno. */
static long guard_done(long r)
{
	int err = errno;

	guard_disarm();
	errno = err;
	return r;
}

pid_t g_waitpid(pid_t pid, int *status, int options, int ms)
{
	pid_t r;

	guard_arm(ms);
	do {
		if (guard_timed_out())
			return -1;
		r = waitpid(pid, status, options);
	} while (r < 0 && errno == EINTR);
	return (pid_t)guard_done(r);
}

int g_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options, int ms)
{
	int r;

	guard_arm(ms);
	do {
		if (guard_timed_out())
			return -1;
		memset(info, 0, sizeof(*info));
		r = waitid(idtype, id, info, options);
	} while (r < 0 && errno == EINTR);
	return (int)guard_done(r);
}

ssize_t g_read(int fd, void *buf, size_t n, int ms)
{
	long long end = monotonic_ms() + ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left;
	ssize_t r;
	int pr;

	for (;;) {
		left = end - monotonic_ms();
		if (left < 0)
			left = 0;
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -1;
		if (pr == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
