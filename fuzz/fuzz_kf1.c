/* SPDX-License-Identifier: MIT */
/*
 * The results channel (results.c): the bytes of the guest's second serial
 * port, as the guest's runner frames them (kf1.h). Each input is parsed three
 * times: as it is, in chunks (split where the input says: results_feed()
 * takes any split) which must give the same records, and with each frame's
 * length and CRC made right, so that mutated payloads get past the CRC to
 * the JSON and record checks.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "log.h"
#include "results.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_verbose = 0;
	return 0;
}

/* Everything a reader of the results takes, checked where the header promises. */
static char *summary(struct results *r)
{
	json_t *cells = results_cells(r), *hello = results_hello(r), *cell, *s;
	size_t i;
	char *text;

	fuzz_check(cells && json_is_array(cells));
	fuzz_check(json_is_array(results_reasons(r)));
	fuzz_check(json_array_size(results_reasons(r)) <= RESULTS_MAX_REASONS);
	fuzz_check(!results_complete(r) || results_ended(r));
	fuzz_check(results_have_hello(r) == (hello != NULL));
	if (results_rejected(r) || results_gaps(r))
		fuzz_check(results_last_reject(r) != NULL);
	json_array_foreach(cells, i, cell) {
		fuzz_check(results_cell_scenario(cell) != NULL);
		fuzz_check(results_cell_status(cell) != NULL);
		fuzz_check(json_is_array(results_cell_outcomes(cell)));
		fuzz_check(results_cell_duration_ms(cell) >= 0);
		(void)results_cell_error(cell);
		(void)results_cell_racy(cell);
	}
	if (hello) {
		(void)results_hello_order(hello);
		(void)results_hello_uname(hello);
		(void)results_hello_order_cut(hello);
	}
	s = json_pack("{s:O, s:O?, s:O, s:s?, s:I, s:I, s:I, s:b, s:b}", "cells", cells,
		      "hello", hello, "reasons", results_reasons(r), "current",
		      results_current(r), "nrecords", (json_int_t)results_nrecords(r),
		      "rejected", (json_int_t)results_rejected(r), "gaps",
		      (json_int_t)results_gaps(r), "ended", results_ended(r), "complete",
		      results_complete(r));
	fuzz_check(s != NULL);
	text = json_dumps(s, JSON_SORT_KEYS | JSON_COMPACT);
	fuzz_check(text != NULL);
	json_decref(s);
	return text;
}

static char *parse(const uint8_t *data, size_t size, size_t chunk)
{
	struct results *r = results_new();
	size_t off, n;
	char *text;

	for (off = 0; off < size; off += n) {
		n = chunk && chunk < size - off ? chunk : size - off;
		results_feed(r, (const char *)data + off, n);
	}
	results_finish(r);
	text = summary(r);
	results_free(r);
	return text;
}

/*
 * @data with the length and CRC of every frame's header (after a line's last
 * tag, "@KF1 SEQ LEN CRC PAYLOAD") set to those of its payload; other lines
 * as they are. Owned; its length in *@out_size.
 */
static uint8_t *fix_frames(const uint8_t *data, size_t size, size_t *out_size)
{
	const uint8_t *line = data, *end = data + size, *scan;
	size_t lines = 1;
	uint8_t *out, *o;

	/* A line's new header is at most 64 bytes longer than its old one. */
	for (scan = data; (scan = memchr(scan, '\n', (size_t)(end - scan))); scan++)
		lines++;
	out = o = malloc(size + 64 * lines);
	if (!out)
		abort();
	while (line < end) {
		const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
		const uint8_t *stop = nl ? nl : end, *tag = NULL, *p, *q, *pay;
		size_t len = (size_t)(stop - line), plen;
		char hdr[64];
		int k;

		for (p = line; (p = memmem(p, (size_t)(stop - p), KF1_TAG, KF1_TAG_LEN)); p++)
			tag = p;
		/* the tag, a sequence number, then two fields to replace */
		q = tag ? tag + KF1_TAG_LEN : NULL;
		while (q && q < stop && *q >= '0' && *q <= '9')
			q++;
		for (k = 0; q && k < 3; k++) {
			if (q >= stop || *q != ' ')
				q = NULL;
			else if (k < 2)
				for (q++; q < stop && *q != ' '; q++)
					;
		}
		if (!q || q == tag + KF1_TAG_LEN) {
			memcpy(o, line, len);
			o += len;
		} else {
			pay = q + 1;
			plen = (size_t)(stop - pay) - (stop > pay && stop[-1] == '\r');
			memcpy(o, line, (size_t)(tag - line));
			o += tag - line;
			kf1_header(hdr, sizeof(hdr), strtoul((const char *)tag + KF1_TAG_LEN, NULL, 10),
				   (const char *)pay, plen);
			memcpy(o, hdr, strlen(hdr));
			o += strlen(hdr);
			memcpy(o, pay, (size_t)(stop - pay));
			o += stop - pay;
		}
		if (nl)
			*o++ = '\n';
		line = stop + 1;
	}
	*out_size = (size_t)(o - out);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *whole = parse(data, size, 0), *split;
	size_t chunk = size ? 1 + data[size - 1] % 97 : 1, nfixed;
	uint8_t *fixed;

	split = parse(data, size, chunk);
	fuzz_check(strcmp(whole, split) == 0);
	free(whole);
	free(split);
	fixed = fix_frames(data, size, &nfixed);
	free(parse(fixed, nfixed, 0));
	free(fixed);
	return 0;
}
