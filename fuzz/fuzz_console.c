/* SPDX-License-Identifier: MIT */
/*
 * The console scanner (console.c): the bytes of the guest's kernel console.
 * Each input is scanned whole and in chunks (split where the input says:
 * console_feed() takes any split), which must find the same events; every
 * string handed out must be one that jansson took (valid UTF-8).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "console.h"
#include "fuzz.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_verbose = 0;
	return 0;
}

static char *scan(const uint8_t *data, size_t size, size_t chunk)
{
	struct console *c = console_new();
	json_t *events, *ev, *tail, *s;
	size_t off, n, i, want;
	char *text;

	for (off = 0; off < size; off += n) {
		n = chunk && chunk < size - off ? chunk : size - off;
		console_feed(c, (const char *)data + off, n);
	}
	console_finish(c);
	events = console_events(c);
	fuzz_check(json_is_array(events));
	fuzz_check(json_array_size(events) <= CONSOLE_MAX_EVENTS);
	json_array_foreach(events, i, ev) {
		json_t *excerpt = json_object_get(ev, "excerpt");

		fuzz_check(json_is_string(json_object_get(ev, "kind")));
		fuzz_check(json_is_string(json_object_get(ev, "text")));
		fuzz_check(json_integer_value(json_object_get(ev, "line")) >= 1);
		fuzz_check(json_is_array(excerpt) && json_array_size(excerpt) >= 1);
		fuzz_check(json_array_size(excerpt) <=
			   CONSOLE_EXCERPT_BEFORE + 1 + CONSOLE_EXCERPT_AFTER);
	}
	for (want = 0; want <= CONSOLE_TAIL + 1; want += 7) {
		tail = console_tail(c, want);
		n = want < console_lines(c) ? want : console_lines(c);
		fuzz_check(json_array_size(tail) == (n < CONSOLE_TAIL ? n : CONSOLE_TAIL));
		json_decref(tail);
	}
	tail = console_tail(c, CONSOLE_TAIL);
	s = json_pack("{s:O, s:o, s:I, s:I, s:b}", "events", events, "tail", tail, "lines",
		      (json_int_t)console_lines(c), "dropped",
		      (json_int_t)console_events_dropped(c), "panicked", console_panicked(c));
	fuzz_check(s != NULL);
	text = json_dumps(s, JSON_SORT_KEYS | JSON_COMPACT);
	fuzz_check(text != NULL);
	json_decref(s);
	console_free(c);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *whole = scan(data, size, 0), *split;

	split = scan(data, size, size ? 1 + data[size - 1] % 61 : 1);
	fuzz_check(strcmp(whole, split) == 0);
	free(whole);
	free(split);
	return 0;
}
