/* SPDX-License-Identifier: MIT */
#ifndef KFARM_CONSOLE_H
#define KFARM_CONSOLE_H

#include <stddef.h>

#include <jansson.h>

/*
 * The kernel console (the guest's first serial port), scanned incrementally
 * for the kernel's own reports of trouble.
 *
 * Each line, with one trailing or leading \r and its "[    1.234567] " time
 * stamp (and a "[    T1] " caller id) stripped, is matched against:
 *
 *   panic        "Kernel panic - not syncing..."
 *   oops         "Oops: ...", "general protection fault..."
 *   bug          "BUG: ..." (but not a soft lockup), "kernel BUG at ..."
 *   warning      "WARNING: CPU: ... at ...", "WARNING: at ...", lockdep's
 *                "WARNING: possible ..." and "WARNING: suspicious RCU usage"
 *   soft-lockup  "watchdog: BUG: soft lockup ...", "BUG: soft lockup ..."
 *   rcu-stall    "INFO: rcu_... detected stall(s)" / "self-detected stall" /
 *                "detected expedited stalls"
 *   hung-task    "INFO: task ... blocked for more than ..."
 *
 * Matches are at the start of the stripped line (after "rcu: " for stalls), so
 * "---[ end Kernel panic - not syncing ... ]---" is not a second panic.
 *
 * Each match is an event object, as in reports/README.md:
 *   {"kind": "panic", "line": 312, "text": "Kernel panic - not syncing: ...",
 *    "excerpt": ["<up to 10 lines before>", "<the line>", "<up to 30 after>"]}
 * where "line" is 1-based in the console log and excerpt lines keep their time
 * stamps. The lines after are appended as they arrive; an excerpt is final
 * once CONSOLE_EXCERPT_AFTER lines followed or console_finish() was called.
 *
 * Memory is bounded: a line is kept to CONSOLE_MAX_LINE bytes (the rest is
 * ignored but the line still counts), at most CONSOLE_MAX_EVENTS events are
 * kept (the others are only counted), and the tail ring holds CONSOLE_TAIL
 * lines. Strings handed out are valid UTF-8: bytes that are not, and control
 * characters other than tab, become '?'.
 */

#define CONSOLE_MAX_LINE 4096
#define CONSOLE_MAX_EVENTS 32
#define CONSOLE_TAIL 40
#define CONSOLE_EXCERPT_BEFORE 10
#define CONSOLE_EXCERPT_AFTER 30

struct console;

/** console_new() - an empty scanner (never NULL). */
struct console *console_new(void);

/** console_free() - release @c; NULL is fine. */
void console_free(struct console *c);

/** console_feed() - feed @len bytes of console output, split anywhere. */
void console_feed(struct console *c, const char *buf, size_t len);

/**
 * console_finish() - the console is closed: scan a last line that lacks its
 * newline and finalise the excerpts. Feeding afterwards starts a new line.
 */
void console_finish(struct console *c);

/** console_events() - the events so far (borrowed JSON array; never NULL). */
json_t *console_events(const struct console *c);

/** console_events_dropped() - events beyond CONSOLE_MAX_EVENTS, not kept. */
size_t console_events_dropped(const struct console *c);

/** console_panicked() - whether a panic was seen (kept or dropped). */
int console_panicked(const struct console *c);

/** console_lines() - complete lines seen (plus a flushed partial last one). */
size_t console_lines(const struct console *c);

/**
 * console_tail() - a new JSON array with the last @n lines (at most
 * CONSOLE_TAIL), oldest first, e.g. for a boot that went nowhere.
 */
json_t *console_tail(const struct console *c, size_t n);

#endif
