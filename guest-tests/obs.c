// SPDX-License-Identifier: MIT
/*
 * obs.c - observations: a growable string buffer and the canonical flat JSON object one repetition yields (guest.h).
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

/* ---------------------------------------------------------------- sbuf */

static void sbuf_grow(struct sbuf *sb, size_t more)
{
	size_t want = sb->len + more + 1;
	char *p;

	if (want <= sb->cap)
		return;
	if (want < 256)
		want = 256;
	if (want < sb->cap * 2)
		want = sb->cap * 2;
	p = realloc(sb->buf, want);
	if (!p) {
		/* Out of memory in a 1-process test payload: nothing sane to do. */
		abort();
	}
	sb->buf = p;
	sb->cap = want;
}

void sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
	sbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_puts(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sbuf_add(sb, small, (size_t)n);
		return;
	}
	sbuf_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sbuf_json_str(struct sbuf *sb, const char *s)
{
	const unsigned char *p;
	char esc[8];

	sbuf_add(sb, "\"", 1);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			sbuf_add(sb, "\\\"", 2);
			break;
		case '\\':
			sbuf_add(sb, "\\\\", 2);
			break;
		case '\n':
			sbuf_add(sb, "\\n", 2);
			break;
		case '\t':
			sbuf_add(sb, "\\t", 2);
			break;
		case '\r':
			sbuf_add(sb, "\\r", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				sbuf_add(sb, esc, 6);
			} else {
				sbuf_add(sb, (const char *)p, 1);
			}
		}
	}
	sbuf_add(sb, "\"", 1);
}

char *sbuf_detach(struct sbuf *sb)
{
	char *s = sb->buf;

	if (!s) {
		s = strdup("");
		if (!s)
			abort();
	}
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

/* ---------------------------------------------------------------- obs */

void obs_init(struct obs *o)
{
	memset(o, 0, sizeof(*o));
}

static struct obs_kv *obs_slot(struct obs *o, const char *key)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (!strcmp(o->kv[i].key, key))
			return &o->kv[i];
	if (o->n >= OBS_MAX_KEYS)
		return NULL;
	i = o->n++;
	memset(&o->kv[i], 0, sizeof(o->kv[i]));
	snprintf(o->kv[i].key, sizeof(o->kv[i].key), "%s", key);
	return &o->kv[i];
}

void obs_str(struct obs *o, const char *key, const char *val)
{
	struct obs_kv *kv = obs_slot(o, key);

	if (!kv)
		return;
	kv->is_int = 0;
	snprintf(kv->sval, sizeof(kv->sval), "%s", val);
}

void obs_strf(struct obs *o, const char *key, const char *fmt, ...)
{
	struct obs_kv *kv = obs_slot(o, key);
	va_list ap;

	if (!kv)
		return;
	kv->is_int = 0;
	va_start(ap, fmt);
	vsnprintf(kv->sval, sizeof(kv->sval), fmt, ap);
	va_end(ap);
}

void obs_int(struct obs *o, const char *key, long long v)
{
	struct obs_kv *kv = obs_slot(o, key);

	if (!kv)
		return;
	kv->is_int = 1;
	kv->ival = v;
}

void obs_result(struct obs *o, const char *key, long rc, int err)
{
	obs_str(o, key, rc >= 0 ? "0" : errno_name(err));
}

const char *obs_get(const struct obs *o, const char *key)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (!strcmp(o->kv[i].key, key))
			return o->kv[i].is_int ? NULL : o->kv[i].sval;
	return NULL;
}

void obs_merge(struct obs *dst, const struct obs *src)
{
	int i;
	struct obs_kv *kv;

	for (i = 0; i < src->n && i < OBS_MAX_KEYS; i++) {
		kv = obs_slot(dst, src->kv[i].key);
		if (kv)
			*kv = src->kv[i];
	}
}

static int kv_cmp(const void *a, const void *b)
{
	const struct obs_kv *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

char *obs_render(const struct obs *o)
{
	const struct obs_kv *order[OBS_MAX_KEYS];
	struct sbuf sb = { 0 };
	int i, n = o->n < OBS_MAX_KEYS ? o->n : OBS_MAX_KEYS;

	for (i = 0; i < n; i++)
		order[i] = &o->kv[i];
	qsort(order, (size_t)n, sizeof(order[0]), kv_cmp);
	sbuf_puts(&sb, "{");
	for (i = 0; i < n; i++) {
		if (i)
			sbuf_puts(&sb, ",");
		sbuf_json_str(&sb, order[i]->key);
		sbuf_puts(&sb, ":");
		if (order[i]->is_int)
			sbuf_printf(&sb, "%lld", order[i]->ival);
		else
			sbuf_json_str(&sb, order[i]->sval);
	}
	sbuf_puts(&sb, "}");
	return sbuf_detach(&sb);
}
