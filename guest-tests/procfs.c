// SPDX-License-Identifier: MIT
/*
 * procfs.c - the guest's /proc readers: status fields, the normalised State, waiting for a state (guest.h).
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

/* ---------------------------------------------------------------- /proc */

ssize_t read_small_file(const char *path, char *buf, size_t size)
{
	ssize_t got;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	got = read(fd, buf, size - 1);
	close(fd);
	if (got < 0)
		return -1;
	buf[got] = '\0';
	return got;
}

ssize_t procfs_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	return read_small_file(path, buf, size);
}

int procfs_status_field(pid_t pid, const char *field, char *out, size_t n)
{
	char buf[4096], *line, *save = NULL, *v;
	size_t flen = strlen(field);

	if (procfs_read(pid, "status", buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, field, flen) || line[flen] != ':')
			continue;
		v = line + flen + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		snprintf(out, n, "%s", v);
		return 0;
	}
	return -1;
}

void procfs_state(pid_t pid, char *out, size_t n)
{
	char raw[64], *l, *r;
	size_t i;

	if (procfs_status_field(pid, "State", raw, sizeof(raw)) < 0) {
		snprintf(out, n, "gone");
		return;
	}
	l = strchr(raw, '(');
	r = l ? strchr(l, ')') : NULL;
	if (!l || !r) {
		snprintf(out, n, "%s", raw);
		return;
	}
	*r = '\0';
	snprintf(out, n, "%s", l + 1);
	for (i = 0; out[i]; i++)
		if (out[i] == ' ')
			out[i] = '-';
}

static int state_in(const char *state, const char *want)
{
	size_t sl = strlen(state);
	const char *p = want, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if ((bar ? (size_t)(bar - p) : strlen(p)) == sl && !strncmp(p, state, sl))
			return 1;
		if (!bar)
			return 0;
		p = bar + 1;
	}
}

int procfs_wait_state(pid_t pid, const char *want, int ms, char *out, size_t n)
{
	long long end = monotonic_ms() + ms;

	for (;;) {
		procfs_state(pid, out, n);
		if (state_in(out, want))
			return 0;
		if (monotonic_ms() >= end)
			return -1;
		sleep_ms(1);
	}
}

int procfs_wait_offcpu(pid_t pid)
{
	char buf[256];

	if (procfs_read(pid, "syscall", buf, sizeof(buf)) <= 0)
		return -1;
	return strncmp(buf, "running", 7) ? 0 : -1;
}
