/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "log.h"
#include "report.h"
#include "util.h"

/* An event whose excerpt still takes the lines that follow it. */
struct pending {
	json_t *excerpt;	/* borrowed from the event object */
	int left;
};

struct console {
	char line[CONSOLE_MAX_LINE + 1];
	size_t linelen;		/* bytes kept, at most CONSOLE_MAX_LINE */

	size_t lines;
	char *ring[CONSOLE_TAIL];	/* sanitised lines, ring[lines % CONSOLE_TAIL] next */

	json_t *events;
	size_t dropped;
	int panicked;
	struct pending pending[CONSOLE_MAX_EVENTS];
	int npending;
};

struct console *console_new(void)
{
	struct console *c = xcalloc(1, sizeof(*c));

	c->events = json_array();
	if (!c->events)
		fatalx("out of memory");
	return c;
}

void console_free(struct console *c)
{
	if (!c)
		return;
	for (int i = 0; i < CONSOLE_TAIL; i++)
		free(c->ring[i]);
	json_decref(c->events);
	free(c);
}

/* Length of a valid UTF-8 sequence at @s (at most @n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A copy that jansson accepts and a report reader can print. */
static char *sanitise(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(n + 1);
	size_t i = 0, o = 0;

	while (i < n) {
		size_t k = utf8_seq(u + i, n - i);

		if (k == 0 || (k == 1 && ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f))) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, u + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Skip "[    1.234567] " and a following "[    T1] " / "[  C0] " caller id. */
static const char *skip_stamp(const char *s)
{
	for (int round = 0; round < 2; round++) {
		const char *p = s;

		if (*p != '[')
			break;
		p++;
		while (*p == ' ')
			p++;
		if (round == 0) {
			if (*p < '0' || *p > '9')
				break;
			while (*p >= '0' && *p <= '9')
				p++;
			if (*p != '.')
				break;
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
		} else {
			if (*p != 'T' && *p != 'C')
				break;
			p++;
			if (*p < '0' || *p > '9')
				break;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (*p != ']')
			break;
		p++;
		if (*p == ' ')
			p++;
		s = p;
	}
	return s;
}

static const char *classify(const char *s)
{
	const char *p;

	if (starts(s, "Kernel panic - not syncing"))
		return "panic";
	if (starts(s, "watchdog: BUG: soft lockup") || starts(s, "BUG: soft lockup"))
		return "soft-lockup";
	if (starts(s, "Oops:") || starts(s, "general protection fault"))
		return "oops";
	if (starts(s, "BUG:") || starts(s, "kernel BUG at "))
		return "bug";
	if (starts(s, "WARNING: CPU: ") || starts(s, "WARNING: at ") ||
	    starts(s, "WARNING: possible ") || starts(s, "WARNING: suspicious RCU usage"))
		return "warning";
	p = starts(s, "rcu: ") ? s + 5 : s;
	if (starts(p, "INFO: rcu_") &&
	    (strstr(p, "detected stall") || strstr(p, "detected expedited stall")))
		return "rcu-stall";
	if (starts(s, "INFO: task ") && strstr(s, " blocked for more than "))
		return "hung-task";
	return NULL;
}

static void add_event(struct console *c, const char *kind, const char *text,
		      const char *raw)
{
	json_t *ev, *excerpt;
	size_t have, before;

	if (!strcmp(kind, "panic"))
		c->panicked = 1;
	if (json_array_size(c->events) >= CONSOLE_MAX_EVENTS) {
		c->dropped++;
		return;
	}
	excerpt = json_array();
	/* The ring already holds the lines before this one, not this one. */
	have = c->lines - 1 < CONSOLE_TAIL ? c->lines - 1 : CONSOLE_TAIL;
	before = have < CONSOLE_EXCERPT_BEFORE ? have : CONSOLE_EXCERPT_BEFORE;
	for (size_t i = before; i > 0; i--)
		json_array_append_new(excerpt,
				      json_string(c->ring[(c->lines - 1 - i) % CONSOLE_TAIL]));
	json_array_append_new(excerpt, json_string(raw));
	ev = report_event_new(kind, (long long)c->lines, text, excerpt);
	json_array_append_new(c->events, ev);
	c->pending[c->npending].excerpt = excerpt;
	c->pending[c->npending].left = CONSOLE_EXCERPT_AFTER;
	c->npending++;
	log_debug("console: %s at line %zu: %s", kind, c->lines, text);
}

static void end_line(struct console *c)
{
	char *s = c->line, *raw, *text;
	size_t n = c->linelen;
	const char *kind;
	int i, j;

	/* Serial consoles end lines in \r\n, sometimes \r\r\n or start with \r. */
	while (n > 0 && s[n - 1] == '\r')
		n--;
	while (n > 0 && s[0] == '\r') {
		s++;
		n--;
	}
	c->lines++;
	raw = sanitise(s, n);
	text = xstrdup(skip_stamp(raw));

	/* The line follows the excerpts already open. */
	for (i = 0, j = 0; i < c->npending; i++) {
		json_array_append_new(c->pending[i].excerpt, json_string(raw));
		if (--c->pending[i].left > 0)
			c->pending[j++] = c->pending[i];
	}
	c->npending = j;

	kind = classify(text);
	if (kind)
		add_event(c, kind, text, raw);

	free(c->ring[(c->lines - 1) % CONSOLE_TAIL]);
	c->ring[(c->lines - 1) % CONSOLE_TAIL] = raw;
	free(text);
	c->linelen = 0;
}

void console_feed(struct console *c, const char *buf, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) : len;
		size_t room = CONSOLE_MAX_LINE - c->linelen;

		memcpy(c->line + c->linelen, buf, take < room ? take : room);
		c->linelen += take < room ? take : room;
		c->line[c->linelen] = '\0';
		if (!nl)
			return;
		end_line(c);
		buf = nl + 1;
		len -= take + 1;
	}
}

void console_finish(struct console *c)
{
	if (c->linelen > 0)
		end_line(c);
	c->npending = 0;
}

json_t *console_events(const struct console *c)
{
	return c->events;
}

size_t console_events_dropped(const struct console *c)
{
	return c->dropped;
}

int console_panicked(const struct console *c)
{
	return c->panicked;
}

size_t console_lines(const struct console *c)
{
	return c->lines;
}

json_t *console_tail(const struct console *c, size_t n)
{
	json_t *a = json_array();
	size_t have = c->lines < CONSOLE_TAIL ? c->lines : CONSOLE_TAIL;

	if (!a)
		fatalx("out of memory");
	if (n > have)
		n = have;
	for (size_t i = n; i > 0; i--)
		json_array_append_new(a, json_string(c->ring[(c->lines - i) % CONSOLE_TAIL]));
	return a;
}
