/* SPDX-License-Identifier: MIT */
#ifndef KFARM_LOG_H
#define KFARM_LOG_H

/* Log verbosity: 0 quiet (warnings only), 1 normal, 2 debug. */
extern int log_verbose;

void log_init(const char *progname);
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn, format(printf, 1, 2))) void fatalx(const char *fmt, ...);

/**
 * log_is_tty() - whether progress may redraw a status line: stderr is a terminal
 * and CI is not set.
 */
int log_is_tty(void);

/**
 * log_progress() - a transient status line on a terminal ("\r...") and nothing
 * elsewhere; the next log line or log_progress_done() clears it.
 */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_progress_done(void);

#endif
