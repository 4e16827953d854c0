/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "results.h"
#include "util.h"


struct results {
	/* line assembly: at most RESULTS_MAX_LINE bytes, or discarding to '\n' */
	char *line;
	size_t linelen;
	int discarding;

	uint64_t next_seq;
	int ended;
	int end_count_ok;
	size_t nrecords;
	size_t rejected;
	size_t gaps;

	json_t *hello;
	json_t *cells;
	size_t cell_bytes;	/* the payload bytes of @cells */
	json_t *reasons;
	char *current;
	char *last_reject;
};

uint32_t results_crc32(const void *buf, size_t len)
{
	return kf1_crc32(buf, len);
}

struct results *results_new(void)
{
	struct results *r = xcalloc(1, sizeof(*r));

	r->line = xmalloc(RESULTS_MAX_LINE + 1);
	r->cells = json_array();
	r->reasons = json_array();
	if (!r->cells || !r->reasons)
		fatalx("out of memory");
	return r;
}

void results_free(struct results *r)
{
	if (!r)
		return;
	free(r->line);
	json_decref(r->hello);
	json_decref(r->cells);
	json_decref(r->reasons);
	free(r->current);
	free(r->last_reject);
	free(r);
}

/* Reasons may quote jansson's error text, which quotes input: keep them ASCII. */
static void ascii_only(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static void note(struct results *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct results *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	ascii_only(s);
	log_debug("results: %s", s);
	if (json_array_size(r->reasons) < RESULTS_MAX_REASONS)
		json_array_append_new(r->reasons, json_string(s));
	free(r->last_reject);
	r->last_reject = s;
}

#define reject(r, ...) do { (r)->rejected++; note((r), __VA_ARGS__); } while (0)

/* Decimal without sign, at most 19 digits, followed by one space. */
static int parse_dec(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0;

	while (p < end && *p >= '0' && *p <= '9' && n < 19) {
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
		n++;
	}
	if (n == 0 || p >= end || *p != ' ')
		return -1;
	*pp = p + 1;
	*out = v;
	return 0;
}

static int parse_crc(const char **pp, const char *end, uint32_t *out)
{
	const char *p = *pp;
	uint32_t v = 0;

	if (end - p < 9 || p[8] != ' ')
		return -1;
	for (int i = 0; i < 8; i++) {
		char c = p[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return -1;
	}
	*pp = p + 9;
	*out = v;
	return 0;
}

static int is_count(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* Optional member: absent, or of the right kind. */
static int opt_count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return !v || is_count(v);
}

static int check_outcomes(json_t *outcomes, char *why, size_t n)
{
	size_t i;
	json_t *o;

	if (!json_is_array(outcomes)) {
		snprintf(why, n, "outcomes missing or not an array");
		return -1;
	}
	if (json_array_size(outcomes) > KF1_MAX_OUTCOMES) {
		snprintf(why, n, "%zu outcomes, more than %d", json_array_size(outcomes),
			 KF1_MAX_OUTCOMES);
		return -1;
	}
	json_array_foreach(outcomes, i, o) {
		if (!json_is_object(o) || !json_is_object(json_object_get(o, "observation"))) {
			snprintf(why, n, "outcomes[%zu]: observation missing or not an object", i);
			return -1;
		}
		if (!is_count(json_object_get(o, "count"))) {
			snprintf(why, n, "outcomes[%zu]: count missing or not a non-negative integer", i);
			return -1;
		}
	}
	return 0;
}

static int check_cell(const struct results *r, json_t *p, char *why, size_t n)
{
	const char *sc = json_string_value(json_object_get(p, "scenario"));
	const char *st = json_string_value(json_object_get(p, "status"));
	json_t *err = json_object_get(p, "error");
	char what[160];

	if (!sc) {
		snprintf(why, n, "cell: scenario missing or not a string");
		return -1;
	}
	if (!st || (strcmp(st, "ok") && strcmp(st, "timeout") &&
		    strcmp(st, "error") && strcmp(st, "unsupported"))) {
		snprintf(why, n, "cell %.80s: status missing or not ok|timeout|error|unsupported", sc);
		return -1;
	}
	if (!opt_count(p, "reps") || !opt_count(p, "duration_ms")) {
		snprintf(why, n, "cell %.80s: reps or duration_ms not a non-negative integer", sc);
		return -1;
	}
	if (err && !json_is_string(err)) {
		snprintf(why, n, "cell %.80s: error not a string", sc);
		return -1;
	}
	if (check_outcomes(json_object_get(p, "outcomes"), what, sizeof(what)) < 0) {
		snprintf(why, n, "cell %.80s: %s", sc, what);
		return -1;
	}
	if (!r->current) {
		snprintf(why, n, "cell %.80s without a start record", sc);
		return -1;
	}
	if (strcmp(r->current, sc)) {
		snprintf(why, n, "cell %.80s while %.80s is running", sc, r->current);
		return -1;
	}
	return 0;
}

static int check_hello(const struct results *r, json_t *p, char *why, size_t n)
{
	json_t *proto = json_object_get(p, "proto"), *v;

	if (r->hello) {
		snprintf(why, n, "second hello");
		return -1;
	}
	if (!json_is_integer(proto) || json_integer_value(proto) != 1) {
		snprintf(why, n, "hello: proto missing or not 1");
		return -1;
	}
	if (!opt_count(p, "nproc") || !opt_count(p, "reps") || !opt_count(p, "timeout_ms")) {
		snprintf(why, n, "hello: nproc, reps or timeout_ms not a non-negative integer");
		return -1;
	}
	v = json_object_get(p, "uname");
	if (v && !json_is_string(v)) {
		snprintf(why, n, "hello: uname not a string");
		return -1;
	}
	v = json_object_get(p, "scenarios");
	if (v && !json_is_array(v)) {
		snprintf(why, n, "hello: scenarios not an array");
		return -1;
	}
	return 0;
}

/*
 * Apply an intact, in-order record. Returns 0, or -1 with @why filled when the
 * record makes no sense (the sequence still advances: the frame was intact).
 */
static int apply(struct results *r, uint64_t seq, json_t *p, size_t plen, char *why, size_t n)
{
	const char *t = json_string_value(json_object_get(p, "t"));

	if (!strcmp(t, "hello")) {
		if (check_hello(r, p, why, n) < 0)
			return -1;
		r->hello = json_incref(p);
	} else if (!strcmp(t, "start")) {
		const char *sc = json_string_value(json_object_get(p, "scenario"));

		if (!sc) {
			snprintf(why, n, "start: scenario missing or not a string");
			return -1;
		}
		/* A start while another runs: that one's cell never came. */
		free(r->current);
		r->current = xstrdup(sc);
	} else if (!strcmp(t, "cell")) {
		if (check_cell(r, p, why, n) < 0)
			return -1;
		if (json_array_size(r->cells) >= RESULTS_MAX_CELLS) {
			snprintf(why, n, "cell %.80s: more than %d cells", results_cell_scenario(p),
				 RESULTS_MAX_CELLS);
			return -1;
		}
		if (plen > RESULTS_MAX_CELL_BYTES - r->cell_bytes) {
			snprintf(why, n, "cell %.80s: the cells kept would pass %u bytes",
				 results_cell_scenario(p), RESULTS_MAX_CELL_BYTES);
			return -1;
		}
		r->cell_bytes += plen;
		json_array_append(r->cells, p);
		free(r->current);
		r->current = NULL;
	} else if (!strcmp(t, "end")) {
		json_t *count = json_object_get(p, "count");

		if (!json_is_integer(count)) {
			snprintf(why, n, "end: count missing or not an integer");
			return -1;
		}
		r->ended = 1;
		if (json_integer_value(count) < 0 || (uint64_t)json_integer_value(count) != seq) {
			note(r, "end: count %" JSON_INTEGER_FORMAT " but seq %" PRIu64,
			     json_integer_value(count), seq);
			r->end_count_ok = 0;
		} else {
			r->end_count_ok = 1;
		}
	} else {
		snprintf(why, n, "unknown record type \"%.40s\"", t);
		return -1;
	}
	r->nrecords++;
	return 0;
}

static void parse_line(struct results *r, char *s, size_t len)
{
	const char *p, *end, *payload, *tag = NULL;
	uint64_t seq, plen;
	uint32_t crc, got;
	json_error_t jerr;
	json_t *obj;
	char why[512];

	if (len > 0 && s[len - 1] == '\r')
		len--;
	/* The last tag: kernel noise may precede the frame on the same line. */
	for (p = s; (p = memmem(p, len - (size_t)(p - s), KF1_TAG, KF1_TAG_LEN)); p++)
		tag = p;
	if (!tag)
		return;
	if (r->ended)
		return;
	end = s + len;
	p = tag + KF1_TAG_LEN;
	if (parse_dec(&p, end, &seq) < 0) {
		reject(r, "bad frame header: sequence number");
		return;
	}
	if (parse_dec(&p, end, &plen) < 0) {
		reject(r, "seq %" PRIu64 ": bad frame header: length", seq);
		return;
	}
	if (parse_crc(&p, end, &crc) < 0) {
		reject(r, "seq %" PRIu64 ": bad frame header: crc", seq);
		return;
	}
	payload = p;
	if ((uint64_t)(end - payload) != plen) {
		reject(r, "seq %" PRIu64 ": length %" PRIu64 " but %zu payload bytes",
		       seq, plen, (size_t)(end - payload));
		return;
	}
	if (plen > RESULTS_MAX_PAYLOAD) {
		reject(r, "seq %" PRIu64 ": payload of %" PRIu64 " bytes exceeds %d",
		       seq, plen, RESULTS_MAX_PAYLOAD);
		return;
	}
	got = results_crc32(payload, (size_t)plen);
	if (got != crc) {
		reject(r, "seq %" PRIu64 ": crc mismatch: header %08" PRIx32 ", payload %08" PRIx32,
		       seq, crc, got);
		return;
	}
	obj = json_loadb(payload, (size_t)plen, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		reject(r, "seq %" PRIu64 ": payload is not JSON: %s", seq, jerr.text);
		return;
	}
	if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "t"))) {
		reject(r, "seq %" PRIu64 ": payload is not an object with a string \"t\"", seq);
		goto out;
	}
	if (seq < r->next_seq)
		goto out;	/* a retransmission */
	if (seq > r->next_seq) {
		r->gaps++;
		note(r, "gap: expected %" PRIu64 ", got %" PRIu64, r->next_seq, seq);
	}
	r->next_seq = seq + 1;
	if (apply(r, seq, obj, (size_t)plen, why, sizeof(why)) < 0)
		reject(r, "seq %" PRIu64 ": %s", seq, why);
out:
	json_decref(obj);
}

void results_feed(struct results *r, const char *buf, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) : len;

		if (r->discarding) {
			/* nothing */
		} else if (take > RESULTS_MAX_LINE - r->linelen) {
			if (!r->ended)
				reject(r, "line longer than %d bytes discarded", RESULTS_MAX_LINE);
			r->discarding = 1;
			r->linelen = 0;
		} else {
			memcpy(r->line + r->linelen, buf, take);
			r->linelen += take;
		}
		if (!nl)
			return;
		if (!r->discarding) {
			r->line[r->linelen] = '\0';
			parse_line(r, r->line, r->linelen);
		}
		r->discarding = 0;
		r->linelen = 0;
		buf = nl + 1;
		len -= take + 1;
	}
}

void results_finish(struct results *r)
{
	if (!r->discarding && r->linelen > 0) {
		r->line[r->linelen] = '\0';
		parse_line(r, r->line, r->linelen);
	}
	r->discarding = 0;
	r->linelen = 0;
}

int results_have_hello(const struct results *r)
{
	return r->hello != NULL;
}

json_t *results_hello(const struct results *r)
{
	return r->hello;
}

int results_ended(const struct results *r)
{
	return r->ended;
}

int results_complete(const struct results *r)
{
	return r->ended && r->end_count_ok && r->gaps == 0;
}

const char *results_current(const struct results *r)
{
	return r->current;
}

json_t *results_cells(const struct results *r)
{
	return r->cells;
}

size_t results_nrecords(const struct results *r)
{
	return r->nrecords;
}

size_t results_rejected(const struct results *r)
{
	return r->rejected;
}

size_t results_gaps(const struct results *r)
{
	return r->gaps;
}

const char *results_last_reject(const struct results *r)
{
	return r->last_reject;
}

json_t *results_reasons(const struct results *r)
{
	return r->reasons;
}

const char *results_cell_scenario(json_t *cell)
{
	return json_string_value(json_object_get(cell, "scenario"));
}

const char *results_cell_status(json_t *cell)
{
	return json_string_value(json_object_get(cell, "status"));
}

json_t *results_cell_outcomes(json_t *cell)
{
	return json_object_get(cell, "outcomes");
}

long long results_cell_duration_ms(json_t *cell)
{
	return (long long)json_integer_value(json_object_get(cell, "duration_ms"));
}

const char *results_cell_error(json_t *cell)
{
	return json_string_value(json_object_get(cell, "error"));
}

int results_cell_racy(json_t *cell)
{
	return json_is_true(json_object_get(cell, "racy"));
}

json_t *results_hello_order(json_t *hello)
{
	json_t *order = json_object_get(hello, "scenarios");

	return json_is_array(order) && !json_is_true(json_object_get(hello, "truncated")) ?
	       order : NULL;
}

int results_hello_order_cut(json_t *hello)
{
	return json_is_array(json_object_get(hello, "scenarios")) &&
	       json_is_true(json_object_get(hello, "truncated"));
}

const char *results_hello_uname(json_t *hello)
{
	return json_string_value(json_object_get(hello, "uname"));
}
