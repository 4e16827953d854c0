/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int log_verbose = 1;
static const char *prog = "kfarm";
static int progress_shown;
static int tty = -1;

void log_init(const char *progname)
{
	prog = progname;
}

int log_is_tty(void)
{
	if (tty < 0) {
		const char *ci = getenv("CI");

		tty = isatty(STDERR_FILENO) && !(ci && *ci && strcmp(ci, "false") != 0);
	}
	return tty;
}

static void clear_progress(void)
{
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = 0;
	}
}

static void vlog(const char *level, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vlog(const char *level, int errnum, const char *fmt, va_list ap)
{
	clear_progress();
	fprintf(stderr, "%s: ", prog);
	if (level)
		fprintf(stderr, "%s: ", level);
	vfprintf(stderr, fmt, ap);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error", 0, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("error", e, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(NULL, 0, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog("debug", 0, fmt, ap);
	va_end(ap);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", 0, fmt, ap);
	va_end(ap);
	exit(2);
}

void log_progress(const char *fmt, ...)
{
	va_list ap;

	if (!log_is_tty() || log_verbose < 1)
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	progress_shown = 1;
}

void log_progress_done(void)
{
	clear_progress();
}
