/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results.h"
#include "util.h"

#define DATA KFARM_TOP "/orchestrator/tests/data/results/"

/* A growing byte stream to build test input in. */
struct buf {
	char *p;
	size_t n;
};

static void put(struct buf *b, const void *s, size_t n)
{
	b->p = xrealloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* "@KF1 <seq> <len> <crc> <payload>" with @eol appended. */
static void frame(struct buf *b, unsigned seq, const char *payload, const char *eol)
{
	char *s = xasprintf("@KF1 %u %zu %08x %s%s", seq, strlen(payload),
			    results_crc32(payload, strlen(payload)), payload, eol);

	puts_(b, s);
	free(s);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct results *feed_chunked(const char *s, size_t n, size_t maxchunk)
{
	struct results *r = results_new();
	size_t off = 0;

	while (off < n) {
		size_t k = maxchunk == 1 ? 1 : 1 + rng() % maxchunk;

		if (k > n - off)
			k = n - off;
		results_feed(r, s + off, k);
		off += k;
	}
	return r;
}

static int has_reason(struct results *r, const char *needle)
{
	size_t i;
	json_t *v;

	json_array_foreach(results_reasons(r), i, v)
		if (strstr(json_string_value(v), needle))
			return 1;
	return 0;
}

/* A valid run of the scenarios "a" and "b" (records 0-5). */
static void good_stream(struct buf *b, const char *eol)
{
	frame(b, 0, "{\"t\":\"hello\",\"proto\":1,\"uname\":\"Linux 6.1\",\"nproc\":1,"
		 "\"reps\":2,\"timeout_ms\":100,\"scenarios\":[\"a\",\"b\"]}", eol);
	frame(b, 1, "{\"t\":\"start\",\"scenario\":\"a\"}", eol);
	frame(b, 2, "{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"reps\":2,"
		 "\"duration_ms\":5,\"outcomes\":[{\"observation\":{\"tracee\":\"running\"},"
		 "\"count\":2}]}", eol);
	frame(b, 3, "{\"t\":\"start\",\"scenario\":\"b\"}", eol);
	frame(b, 4, "{\"t\":\"cell\",\"scenario\":\"b\",\"status\":\"error\",\"reps\":2,"
		 "\"duration_ms\":7,\"outcomes\":[],\"error\":\"fork failed\"}", eol);
	frame(b, 5, "{\"t\":\"end\",\"count\":5}", eol);
}

START_TEST(test_crc32)
{
	ck_assert_uint_eq(results_crc32("123456789", 9), 0xcbf43926u);
	ck_assert_uint_eq(results_crc32("", 0), 0);
	ck_assert_uint_eq(results_crc32("a", 1), 0xe8b7be43u);
}
END_TEST

START_TEST(test_fixture_whole_and_bytewise)
{
	size_t n;
	char *s = util_read_file(DATA "good.log", &n, NULL);
	struct results *whole, *bytes, *chunks;
	json_t *cells, *c;

	ck_assert_ptr_nonnull(s);
	whole = results_new();
	results_feed(whole, s, n);
	ck_assert(results_complete(whole));
	ck_assert(results_ended(whole));
	ck_assert(results_have_hello(whole));
	ck_assert_int_eq(json_integer_value(json_object_get(results_hello(whole), "nproc")), 2);
	ck_assert_uint_eq(results_nrecords(whole), 8);
	ck_assert_uint_eq(results_rejected(whole), 0);
	ck_assert_uint_eq(results_gaps(whole), 0);
	ck_assert_ptr_null(results_last_reject(whole));
	ck_assert_ptr_null(results_current(whole));
	cells = results_cells(whole);
	ck_assert_uint_eq(json_array_size(cells), 3);
	c = json_array_get(cells, 2);
	ck_assert_str_eq(json_string_value(json_object_get(c, "scenario")), "sds-zero");
	ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "timeout");
	ck_assert_str_eq(json_string_value(json_object_get(c, "error")),
			 "2 of 20 repetitions timed out");
	ck_assert_uint_eq(json_array_size(json_object_get(c, "outcomes")), 2);

	bytes = feed_chunked(s, n, 1);
	rng_state = 42;
	chunks = feed_chunked(s, n, 97);
	ck_assert(json_equal(results_cells(bytes), cells));
	ck_assert(json_equal(results_cells(chunks), cells));
	ck_assert(json_equal(results_hello(bytes), results_hello(whole)));
	ck_assert(results_complete(bytes) && results_complete(chunks));
	ck_assert_uint_eq(results_nrecords(bytes), 8);
	ck_assert_uint_eq(results_nrecords(chunks), 8);
	ck_assert_uint_eq(results_rejected(bytes), 0);
	results_free(whole);
	results_free(bytes);
	results_free(chunks);
	free(s);
}
END_TEST

START_TEST(test_truncated_fixture)
{
	size_t n;
	char *s = util_read_file(DATA "truncated.log", &n, NULL);
	struct results *r = results_new();

	ck_assert_ptr_nonnull(s);
	results_feed(r, s, n);
	ck_assert(!results_complete(r));
	ck_assert(!results_ended(r));
	ck_assert_str_eq(results_current(r), "sds-zero");
	ck_assert_uint_eq(json_array_size(results_cells(r)), 2);
	ck_assert_uint_eq(results_nrecords(r), 6);
	ck_assert_uint_eq(results_rejected(r), 0);
	/* The cut record is a frame that fails its length once flushed. */
	results_finish(r);
	ck_assert_uint_eq(results_rejected(r), 1);
	ck_assert_ptr_nonnull(strstr(results_last_reject(r), "seq 6: length 227"));
	ck_assert_str_eq(results_current(r), "sds-zero");
	results_free(r);
	free(s);
}
END_TEST

START_TEST(test_finish_accepts_unterminated_valid_line)
{
	struct buf b = {0};
	struct results *r = results_new();

	good_stream(&b, "\n");
	results_feed(r, b.p, b.n - 1);
	ck_assert(!results_ended(r));
	results_finish(r);
	ck_assert(results_complete(r));
	results_free(r);
	free(b.p);
}
END_TEST

START_TEST(test_garbage)
{
	size_t n = 1 << 20;
	char *g = xmalloc(n);
	struct results *r;

	rng_state = 0x1234567;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = rng();

		/* plenty of NULs and newlines, the rest anything */
		g[i] = (x & 7) == 0 ? '\0' : (x & 7) == 1 ? '\n' : (char)(x >> 8);
	}
	r = results_new();
	results_feed(r, g, n / 2);
	results_feed(r, g + n / 2, n - n / 2);
	results_finish(r);
	ck_assert_uint_eq(results_nrecords(r), 0);
	ck_assert_uint_eq(results_rejected(r), 0);
	ck_assert(!results_have_hello(r));
	ck_assert_uint_eq(json_array_size(results_cells(r)), 0);
	results_free(r);

	/* Garbage after the tag is rejected, never accepted. */
	r = results_new();
	for (int k = 0; k < 2000; k++) {
		size_t off = rng() % (n - 64), len = rng() % 60;

		results_feed(r, "@KF1 ", 5);
		if (k % 3 == 0)
			results_feed(r, "1 ", 2);
		results_feed(r, g + off, len);
		results_feed(r, "\n", 1);
	}
	ck_assert_uint_eq(results_nrecords(r), 0);
	ck_assert_uint_gt(results_rejected(r), 0);
	ck_assert_uint_le(json_array_size(results_reasons(r)), RESULTS_MAX_REASONS);
	results_free(r);
	free(g);
}
END_TEST

START_TEST(test_kernel_noise)
{
	struct buf b = {0}, g = {0};
	struct results *r = results_new();
	char *p, *line;

	/* Interleave: noise lines, noise before a frame on its line. */
	good_stream(&g, "\n");
	puts_(&b, "[    0.812345] serial8250: too much work for irq4\n");
	for (p = g.p; (line = strsep(&p, "\n")) && *line; ) {
		puts_(&b, "[    1.234567] random: crng init done\r\n");
		puts_(&b, "[    1.300000] foo: @KF1 is mentioned");	/* the last tag counts */
		puts_(&b, "[    1.23] foo");
		puts_(&b, line);
		puts_(&b, "\r\n\n");
	}
	results_feed(r, b.p, b.n);
	ck_assert(results_complete(r));
	ck_assert_uint_eq(results_nrecords(r), 6);
	ck_assert_uint_eq(results_rejected(r), 0);
	ck_assert_uint_eq(json_array_size(results_cells(r)), 2);
	results_free(r);
	free(b.p);
	free(g.p);
}
END_TEST

START_TEST(test_bad_frames)
{
	struct buf b = {0};
	struct results *r = results_new();
	const char *hello = "{\"t\":\"hello\",\"proto\":1}";
	const char *start = "{\"t\":\"start\",\"scenario\":\"a\"}";
	char *s;

	frame(&b, 0, hello, "\n");
	/* bad crc */
	s = xasprintf("@KF1 1 %zu 0badf00d %s\n", strlen(start), start);
	puts_(&b, s);
	free(s);
	/* uppercase hex is not the format */
	s = xasprintf("@KF1 1 %zu %08X %s\n", strlen(start),
		      results_crc32(start, strlen(start)), start);
	puts_(&b, s);
	free(s);
	/* bad len */
	s = xasprintf("@KF1 1 %zu %08x %s\n", strlen(start) + 1,
		      results_crc32(start, strlen(start)), start);
	puts_(&b, s);
	free(s);
	/* non-JSON, non-object, no "t" */
	frame(&b, 1, "{\"t\":\"start\",", "\n");
	frame(&b, 1, "[1,2,3]", "\n");
	frame(&b, 1, "{\"scenario\":\"a\"}", "\n");
	frame(&b, 1, "{\"t\":5}", "\n");
	/* header garbage */
	puts_(&b, "@KF1 x 1 00000000 {}\n");
	puts_(&b, "@KF1 1 1 0000000 {}\n");
	/* and finally the real record 1: the rejects did not advance the sequence */
	frame(&b, 1, start, "\n");
	results_feed(r, b.p, b.n);

	ck_assert_uint_eq(results_rejected(r), 9);
	ck_assert_uint_eq(results_nrecords(r), 2);
	ck_assert_uint_eq(results_gaps(r), 0);
	ck_assert_str_eq(results_current(r), "a");
	ck_assert(has_reason(r, "seq 1: crc mismatch: header 0badf00d"));
	ck_assert(has_reason(r, "seq 1: bad frame header: crc"));
	ck_assert(has_reason(r, "seq 1: length 29 but 28 payload bytes"));
	ck_assert(has_reason(r, "seq 1: payload is not JSON"));
	ck_assert(has_reason(r, "payload is not an object with a string \"t\""));
	ck_assert(has_reason(r, "bad frame header: sequence number"));
	ck_assert_str_eq(results_last_reject(r), "seq 1: bad frame header: crc");
	results_free(r);
	free(b.p);
}
END_TEST

/* Raw NULs and invalid UTF-8 inside an intact frame: not JSON, ASCII reasons. */
START_TEST(test_payload_bytes)
{
	static const char nul[] = "{\"t\":\"start\",\"scenario\":\"a\0b\"}";
	static const char latin1[] = "{\"t\":\"start\",\"scenario\":\"caf\xe9\"}";
	const char *const payloads[] = {nul, latin1};
	const size_t lens[] = {sizeof(nul) - 1, sizeof(latin1) - 1};
	struct results *r = results_new();
	size_t i;
	json_t *v;

	for (i = 0; i < 2; i++) {
		char *h = xasprintf("@KF1 0 %zu %08x ", lens[i], results_crc32(payloads[i], lens[i]));

		results_feed(r, h, strlen(h));
		results_feed(r, payloads[i], lens[i]);
		results_feed(r, "\n", 1);
		free(h);
	}
	ck_assert_uint_eq(results_rejected(r), 2);
	ck_assert_uint_eq(results_nrecords(r), 0);
	json_array_foreach(results_reasons(r), i, v) {
		const char *t = json_string_value(v);

		ck_assert_ptr_nonnull(strstr(t, "seq 0: payload is not JSON"));
		for (; *t; t++)
			ck_assert(*t >= 0x20 && *t < 0x7f);
	}
	results_free(r);
}
END_TEST

START_TEST(test_duplicate_ignored)
{
	struct buf b = {0};
	struct results *r = results_new();

	frame(&b, 0, "{\"t\":\"hello\",\"proto\":1}", "\n");
	frame(&b, 1, "{\"t\":\"start\",\"scenario\":\"a\"}", "\n");
	frame(&b, 0, "{\"t\":\"hello\",\"proto\":1}", "\n");
	frame(&b, 1, "{\"t\":\"start\",\"scenario\":\"zzz\"}", "\n");
	frame(&b, 2, "{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":[]}", "\n");
	frame(&b, 2, "{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":[]}", "\n");
	frame(&b, 3, "{\"t\":\"end\",\"count\":3}", "\n");
	results_feed(r, b.p, b.n);
	ck_assert(results_complete(r));
	ck_assert_uint_eq(results_nrecords(r), 4);
	ck_assert_uint_eq(results_rejected(r), 0);
	ck_assert_uint_eq(json_array_size(results_cells(r)), 1);
	ck_assert_ptr_null(results_last_reject(r));
	results_free(r);
	free(b.p);
}
END_TEST

START_TEST(test_gap)
{
	struct buf b = {0}, g = {0};
	struct results *r = results_new();
	char *p, *line;
	int i = 0;

	/* Lose record 3 (the start of "b"): its cell is then rejected, but the
	 * records after the gap are applied. */
	good_stream(&g, "\n");
	for (p = g.p; (line = strsep(&p, "\n")) && *line; i++) {
		if (i == 3)
			continue;
		puts_(&b, line);
		puts_(&b, "\n");
	}
	results_feed(r, b.p, b.n);
	ck_assert_uint_eq(results_gaps(r), 1);
	ck_assert(has_reason(r, "gap: expected 3, got 4"));
	ck_assert(has_reason(r, "seq 4: cell b without a start record"));
	ck_assert_uint_eq(results_rejected(r), 1);
	ck_assert(results_ended(r));
	ck_assert(!results_complete(r));
	ck_assert_uint_eq(json_array_size(results_cells(r)), 1);
	results_free(r);

	/* A gap that loses nothing the parser needs: later records all count. */
	b.n = 0;
	frame(&b, 0, "{\"t\":\"hello\",\"proto\":1}", "\n");
	frame(&b, 2, "{\"t\":\"start\",\"scenario\":\"a\"}", "\n");
	frame(&b, 3, "{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":[]}", "\n");
	frame(&b, 4, "{\"t\":\"end\",\"count\":4}", "\n");
	r = results_new();
	results_feed(r, b.p, b.n);
	ck_assert_uint_eq(results_nrecords(r), 4);
	ck_assert_uint_eq(json_array_size(results_cells(r)), 1);
	ck_assert_str_eq(results_last_reject(r), "gap: expected 1, got 2");
	ck_assert(results_ended(r) && !results_complete(r));
	results_free(r);
	free(b.p);
	free(g.p);
}
END_TEST

START_TEST(test_oversized_line)
{
	size_t big = 1 << 20;
	char *junk = xmalloc(big);
	struct buf b = {0};
	struct results *r = results_new();

	memset(junk, 'A', big);
	memcpy(junk + 1000, "@KF1 ", 5);
	frame(&b, 0, "{\"t\":\"hello\",\"proto\":1}", "\n");
	results_feed(r, junk, big / 2);
	results_feed(r, junk + big / 2, big - big / 2);
	results_feed(r, "\n", 1);
	results_feed(r, b.p, b.n);
	ck_assert_uint_eq(results_rejected(r), 1);
	ck_assert(has_reason(r, "line longer than 65536 bytes discarded"));
	ck_assert(results_have_hello(r));

	/* Also when the newline and the next frame come in the same chunk. */
	b.n = 0;
	put(&b, junk, big);
	puts_(&b, "\n");
	frame(&b, 1, "{\"t\":\"start\",\"scenario\":\"a\"}", "\n");
	results_feed(r, b.p, b.n);
	ck_assert_uint_eq(results_rejected(r), 2);
	ck_assert_str_eq(results_current(r), "a");
	results_free(r);
	free(b.p);
	free(junk);
}
END_TEST

START_TEST(test_payload_limits)
{
	struct buf b = {0};
	struct results *r = results_new();
	/* {"t":"start","scenario":"aaaa..."} of exactly RESULTS_MAX_PAYLOAD bytes */
	size_t fixed = strlen("{\"t\":\"start\",\"scenario\":\"\"}");
	size_t nname = RESULTS_MAX_PAYLOAD - fixed;
	char *name = xmalloc(nname + 2);
	char *payload;

	memset(name, 'a', nname + 1);
	name[nname] = '\0';
	payload = xasprintf("{\"t\":\"start\",\"scenario\":\"%s\"}", name);
	ck_assert_uint_eq(strlen(payload), RESULTS_MAX_PAYLOAD);
	frame(&b, 0, payload, "\r\n");
	free(payload);
	name[nname] = 'a';
	name[nname + 1] = '\0';
	payload = xasprintf("{\"t\":\"start\",\"scenario\":\"%s\"}", name);
	frame(&b, 1, payload, "\n");
	results_feed(r, b.p, b.n);
	ck_assert_uint_eq(results_nrecords(r), 1);
	ck_assert_uint_eq(strlen(results_current(r)), nname);
	ck_assert_uint_eq(results_rejected(r), 1);
	ck_assert(has_reason(r, "seq 1: payload of 60001 bytes exceeds 60000"));
	results_free(r);
	free(payload);
	free(name);
	free(b.p);
}
END_TEST

/* Feed one frame of @payload with sequence number *@seq (then advanced) to @r. */
static void feed_frame(struct results *r, unsigned *seq, const char *payload)
{
	struct buf b = {0};

	frame(&b, (*seq)++, payload, "\n");
	results_feed(r, b.p, b.n);
	free(b.p);
}

/* A start and a cell record of scenario @sc whose cell payload is @size bytes (padded by its error). */
static void feed_cell(struct results *r, unsigned *seq, const char *sc, size_t size)
{
	char *start = xasprintf("{\"t\":\"start\",\"scenario\":\"%s\"}", sc);
	char *base = xasprintf("{\"t\":\"cell\",\"scenario\":\"%s\",\"status\":\"ok\",\"reps\":1,"
			       "\"duration_ms\":0,\"error\":\"\",\"outcomes\":[]}", sc);
	size_t pad = size - strlen(base);
	char *err = xmalloc(pad + 1), *cell;

	ck_assert_uint_ge(size, strlen(base));
	memset(err, 'e', pad);
	err[pad] = '\0';
	cell = xasprintf("{\"t\":\"cell\",\"scenario\":\"%s\",\"status\":\"ok\",\"reps\":1,"
			 "\"duration_ms\":0,\"error\":\"%s\",\"outcomes\":[]}", sc, err);
	ck_assert_uint_eq(strlen(cell), size);
	feed_frame(r, seq, start);
	feed_frame(r, seq, cell);
	free(start);
	free(base);
	free(err);
	free(cell);
}

/*
 * The bounds of what a guest's channel keeps, each at its edge: a cell of
 * KF1_MAX_OUTCOMES outcomes is kept, one more is refused; RESULTS_MAX_CELLS
 * cells are kept, the next refused; cell payloads of exactly
 * RESULTS_MAX_CELL_BYTES are kept, a byte more refused.
 */
START_TEST(test_cell_bounds)
{
	struct results *r = results_new();
	struct buf o = {0};
	unsigned seq = 0;
	size_t i, total;
	char *cell;

	for (i = 0; i < KF1_MAX_OUTCOMES; i++) {
		char *one = xasprintf("%s{\"observation\":{\"v\":%zu},\"count\":1}", i ? "," : "", i);

		puts_(&o, one);
		free(one);
	}
	feed_frame(r, &seq, "{\"t\":\"start\",\"scenario\":\"many\"}");
	cell = xasprintf("{\"t\":\"cell\",\"scenario\":\"many\",\"status\":\"ok\",\"reps\":%d,"
			 "\"duration_ms\":1,\"outcomes\":[%s]}", KF1_MAX_OUTCOMES, o.p);
	ck_assert_uint_le(strlen(cell), RESULTS_MAX_PAYLOAD);
	feed_frame(r, &seq, cell);
	free(cell);
	ck_assert_uint_eq(json_array_size(results_cells(r)), 1);
	puts_(&o, ",{\"observation\":{\"v\":-1},\"count\":1}");
	feed_frame(r, &seq, "{\"t\":\"start\",\"scenario\":\"more\"}");
	cell = xasprintf("{\"t\":\"cell\",\"scenario\":\"more\",\"status\":\"ok\",\"reps\":%d,"
			 "\"duration_ms\":1,\"outcomes\":[%s]}", KF1_MAX_OUTCOMES + 1, o.p);
	feed_frame(r, &seq, cell);
	free(cell);
	free(o.p);
	ck_assert_uint_eq(json_array_size(results_cells(r)), 1);
	ck_assert(has_reason(r, "cell more: 1025 outcomes, more than 1024"));
	results_free(r);

	r = results_new();
	seq = 0;
	for (i = 0; i < RESULTS_MAX_CELLS; i++)
		feed_cell(r, &seq, "c", 100);
	ck_assert_uint_eq(results_rejected(r), 0);
	ck_assert_uint_eq(json_array_size(results_cells(r)), RESULTS_MAX_CELLS);
	feed_cell(r, &seq, "last", 100);
	ck_assert_uint_eq(json_array_size(results_cells(r)), RESULTS_MAX_CELLS);
	ck_assert_uint_eq(results_rejected(r), 1);
	ck_assert(has_reason(r, "cell last: more than 65536 cells"));
	results_free(r);

	r = results_new();
	seq = 0;
	for (total = 0; total + RESULTS_MAX_PAYLOAD <= RESULTS_MAX_CELL_BYTES;
	     total += RESULTS_MAX_PAYLOAD)
		feed_cell(r, &seq, "big", RESULTS_MAX_PAYLOAD);
	feed_cell(r, &seq, "edge", RESULTS_MAX_CELL_BYTES - total);
	ck_assert_uint_eq(results_rejected(r), 0);
	feed_cell(r, &seq, "over", 100);
	ck_assert_uint_eq(results_rejected(r), 1);
	ck_assert(has_reason(r, "cell over: the cells kept would pass 67108864 bytes"));
	ck_assert_uint_eq(json_array_size(results_cells(r)), total / RESULTS_MAX_PAYLOAD + 1);
	results_free(r);
}
END_TEST

START_TEST(test_end_count_mismatch)
{
	struct buf b = {0};
	struct results *r = results_new();

	frame(&b, 0, "{\"t\":\"hello\",\"proto\":1}", "\n");
	frame(&b, 1, "{\"t\":\"end\",\"count\":2}", "\n");
	results_feed(r, b.p, b.n);
	ck_assert(results_ended(r));
	ck_assert(!results_complete(r));
	ck_assert_str_eq(results_last_reject(r), "end: count 2 but seq 1");
	results_free(r);
	free(b.p);
}
END_TEST

START_TEST(test_crlf)
{
	struct buf b = {0};
	struct results *r;

	good_stream(&b, "\r\n");
	rng_state = 7;
	r = feed_chunked(b.p, b.n, 5);
	ck_assert(results_complete(r));
	ck_assert_uint_eq(results_nrecords(r), 6);
	ck_assert_uint_eq(results_rejected(r), 0);
	results_free(r);
	free(b.p);
}
END_TEST

START_TEST(test_after_end_ignored)
{
	struct buf b = {0};
	struct results *r = results_new();

	good_stream(&b, "\n");
	frame(&b, 6, "{\"t\":\"start\",\"scenario\":\"late\"}", "\n");
	puts_(&b, "@KF1 garbage\n");
	results_feed(r, b.p, b.n);
	ck_assert(results_complete(r));
	ck_assert_uint_eq(results_nrecords(r), 6);
	ck_assert_uint_eq(results_rejected(r), 0);
	ck_assert_ptr_null(results_current(r));
	results_free(r);
	free(b.p);
}
END_TEST

START_TEST(test_invalid_records)
{
	static const char *const bad[] = {
		"{\"t\":\"cell\",\"scenario\":\"b\",\"status\":\"ok\",\"outcomes\":[]}",
		"{\"t\":\"cell\",\"status\":\"ok\",\"outcomes\":[]}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"outcomes\":[]}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"fine\",\"outcomes\":[]}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\"}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":{}}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":[{\"count\":1}]}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":[{\"observation\":{},\"count\":1.5}]}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":[{\"observation\":{},\"count\":\"3\"}]}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":[{\"observation\":{},\"count\":-1}]}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"reps\":\"2\",\"outcomes\":[]}",
		"{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"error\":1,\"outcomes\":[]}",
		"{\"t\":\"start\"}",
		"{\"t\":\"hello\",\"proto\":1}",
		"{\"t\":\"end\",\"count\":\"9\"}",
		"{\"t\":\"bye\"}",
	};
	struct buf b = {0};
	struct results *r = results_new();
	unsigned seq = 0;

	frame(&b, seq++, "{\"t\":\"hello\",\"proto\":1}", "\n");
	frame(&b, seq++, "{\"t\":\"start\",\"scenario\":\"a\"}", "\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		frame(&b, seq++, bad[i], "\n");
	frame(&b, seq, "{\"t\":\"cell\",\"scenario\":\"a\",\"status\":\"ok\",\"outcomes\":[]}", "\n");
	seq++;
	frame(&b, seq, "{\"t\":\"end\",\"count\":0}", "\n");
	results_feed(r, b.p, b.n);
	ck_assert_uint_eq(results_rejected(r), sizeof(bad) / sizeof(bad[0]));
	ck_assert_uint_eq(results_gaps(r), 0);
	ck_assert_uint_eq(json_array_size(results_cells(r)), 1);
	ck_assert(has_reason(r, "seq 2: cell b while a is running"));
	ck_assert(has_reason(r, "seq 3: cell: scenario missing"));
	ck_assert(has_reason(r, "cell a: status missing or not ok|timeout|error|unsupported"));
	ck_assert(has_reason(r, "cell a: outcomes missing or not an array"));
	ck_assert(has_reason(r, "cell a: outcomes[0]: observation missing"));
	ck_assert(has_reason(r, "cell a: outcomes[0]: count missing or not a non-negative integer"));
	ck_assert(has_reason(r, "cell a: reps or duration_ms"));
	ck_assert(has_reason(r, "cell a: error not a string"));
	ck_assert(has_reason(r, "start: scenario missing"));
	ck_assert(has_reason(r, "second hello"));
	ck_assert(has_reason(r, "end: count missing"));
	ck_assert(has_reason(r, "unknown record type \"bye\""));
	/* count 0 on an end at seq 19 */
	ck_assert(results_ended(r) && !results_complete(r));
	results_free(r);

	/* A cell after its scenario's cell already arrived has no start. */
	b.n = 0;
	good_stream(&b, "\n");
	b.n -= strlen(strrchr(b.p, '@'));
	frame(&b, 5, "{\"t\":\"cell\",\"scenario\":\"b\",\"status\":\"ok\",\"outcomes\":[]}", "\n");
	frame(&b, 6, "{\"t\":\"hello\",\"proto\":2}", "\n");
	frame(&b, 7, "{\"t\":\"end\",\"count\":7}", "\n");
	r = results_new();
	results_feed(r, b.p, b.n);
	ck_assert_uint_eq(results_rejected(r), 2);
	ck_assert(has_reason(r, "seq 5: cell b without a start record"));
	ck_assert(has_reason(r, "seq 6: second hello"));
	ck_assert(results_complete(r));
	results_free(r);
	free(b.p);
}
END_TEST

START_TEST(test_hello_checks)
{
	struct buf b = {0};
	struct results *r = results_new();

	frame(&b, 0, "{\"t\":\"hello\",\"proto\":2}", "\n");
	frame(&b, 1, "{\"t\":\"hello\",\"proto\":1,\"nproc\":\"2\"}", "\n");
	frame(&b, 2, "{\"t\":\"hello\",\"proto\":1,\"scenarios\":\"a\"}", "\n");
	frame(&b, 3, "{\"t\":\"hello\",\"proto\":1,\"uname\":3}", "\n");
	results_feed(r, b.p, b.n);
	ck_assert(!results_have_hello(r));
	ck_assert_ptr_null(results_hello(r));
	ck_assert_uint_eq(results_rejected(r), 4);
	ck_assert(has_reason(r, "seq 0: hello: proto missing or not 1"));
	results_free(r);
	results_free(NULL);
	free(b.p);
}
END_TEST

/*
 * The two ends of the channel agree: the real guest runner's framed output
 * (kf1.h's frame_write() side) goes whole through the host's parser, in the
 * order the runner's --order-seed shuffled it to and said in its hello.
 */
/* What the host reads of `kfarm-guest @args --framed`, run on the host (a new parser). */
static struct results *guest_on_host(const char *args)
{
	char out[] = "/tmp/kfarm-kf1-XXXXXX";
	char *cmd, *text;
	struct kf_error e;
	struct results *r;
	size_t len;
	int fd = mkstemp(out);

	ck_assert_int_ge(fd, 0);
	close(fd);
	cmd = xasprintf("%s %s --framed --output %s", KFARM_TOP "/build/kfarm-guest", args, out);
	ck_assert_int_eq(system(cmd), 0);
	text = util_read_file(out, &len, &e);
	ck_assert_msg(text != NULL, "%s", e.text);
	r = results_new();
	results_feed(r, text, len);
	results_finish(r);
	free(text);
	free(cmd);
	unlink(out);
	return r;
}

START_TEST(test_real_guest_output)
{
	struct results *r = guest_on_host("--run sds-zero,selftest-coin,sds-other-sig --reps 3 "
					  "--order-seed 7");
	json_t *cells, *order, *coin = NULL, *c;
	size_t i;

	ck_assert(results_complete(r));
	ck_assert_uint_eq(results_rejected(r), 0);
	ck_assert_uint_eq(results_nrecords(r), 1 + 2 * 3 + 1);
	cells = results_cells(r);
	order = json_object_get(results_hello(r), "scenarios");
	ck_assert_uint_eq(json_array_size(cells), 3);
	ck_assert_uint_eq(json_array_size(order), 3);
	json_array_foreach(cells, i, c) {
		const char *id = json_string_value(json_object_get(c, "scenario"));

		ck_assert_str_eq(id, json_string_value(json_array_get(order, i)));
		ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "ok");
		if (!strcmp(id, "selftest-coin"))
			coin = c;
	}
	/* The coin alternates: two outcomes over three repetitions. */
	ck_assert_ptr_nonnull(coin);
	ck_assert_uint_eq(json_array_size(json_object_get(coin, "outcomes")), 2);
	results_free(r);
}
END_TEST

/*
 * The guest's side of KF1_MAX_OUTCOMES, on the host: selftest-outcomes' 1100
 * repetitions, each a new outcome, come as one record of 1024 outcomes, the
 * last {"rep": "truncated"} counting the 77 past the first 1023, and the
 * host takes it.
 */
START_TEST(test_real_guest_outcomes_bound)
{
	struct results *r = guest_on_host("--run selftest-outcomes --reps 1100");
	json_t *outcomes, *last;

	ck_assert(results_complete(r));
	ck_assert_uint_eq(results_rejected(r), 0);
	ck_assert_uint_eq(json_array_size(results_cells(r)), 1);
	outcomes = json_object_get(json_array_get(results_cells(r), 0), "outcomes");
	ck_assert_uint_eq(json_array_size(outcomes), KF1_MAX_OUTCOMES);
	last = json_array_get(outcomes, KF1_MAX_OUTCOMES - 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(last, "observation"), "rep")),
			 "truncated");
	ck_assert_int_eq(json_integer_value(json_object_get(last, "count")), 1100 - (KF1_MAX_OUTCOMES - 1));
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(outcomes, 0), "count")), 1);
	results_free(r);
}
END_TEST

static Suite *results_suite(void)
{
	Suite *s = suite_create("results");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_crc32);
	tcase_add_test(tc, test_real_guest_output);
	tcase_add_test(tc, test_real_guest_outcomes_bound);
	tcase_add_test(tc, test_fixture_whole_and_bytewise);
	tcase_add_test(tc, test_truncated_fixture);
	tcase_add_test(tc, test_finish_accepts_unterminated_valid_line);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_kernel_noise);
	tcase_add_test(tc, test_bad_frames);
	tcase_add_test(tc, test_payload_bytes);
	tcase_add_test(tc, test_duplicate_ignored);
	tcase_add_test(tc, test_gap);
	tcase_add_test(tc, test_oversized_line);
	tcase_add_test(tc, test_payload_limits);
	tcase_add_test(tc, test_cell_bounds);
	tcase_add_test(tc, test_end_count_mismatch);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_after_end_ignored);
	tcase_add_test(tc, test_invalid_records);
	tcase_add_test(tc, test_hello_checks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(results_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
