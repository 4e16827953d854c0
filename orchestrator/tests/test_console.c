/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "util.h"

#define DATA KFARM_TOP "/orchestrator/tests/data/console/"

static const char *const fixtures[] = {
	"boot-clean.log", "panic-sysrq.log", "warning.log", "lockups.log", "oops.log",
};

static uint64_t rng_state = 99;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static char *load(const char *name, size_t *n)
{
	char *path = xasprintf("%s%s", DATA, name);
	char *s = util_read_file(path, n, NULL);

	ck_assert_msg(s != NULL, "cannot read %s", path);
	free(path);
	return s;
}

/* Feed a fixture in chunks of 1..@maxchunk bytes (0: all at once), then finish. */
static struct console *scan(const char *name, size_t maxchunk, int finish)
{
	struct console *c = console_new();
	size_t n, off = 0;
	char *s = load(name, &n);

	while (off < n) {
		size_t k = maxchunk == 0 ? n : maxchunk == 1 ? 1 : 1 + rng() % maxchunk;

		if (k > n - off)
			k = n - off;
		console_feed(c, s + off, k);
		off += k;
	}
	if (finish)
		console_finish(c);
	free(s);
	return c;
}

static void expect_events(struct console *c, const char *const *kinds, const int *lines,
			  size_t n)
{
	json_t *ev = console_events(c);

	ck_assert_uint_eq(json_array_size(ev), n);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(ev, i);

		ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), kinds[i]);
		ck_assert_int_eq(json_integer_value(json_object_get(e, "line")), lines[i]);
	}
}

static const char *ev_str(struct console *c, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(console_events(c), i), key));
}

static json_t *ev_excerpt(struct console *c, size_t i)
{
	return json_object_get(json_array_get(console_events(c), i), "excerpt");
}

START_TEST(test_clean_boot)
{
	struct console *c = scan("boot-clean.log", 0, 1);
	json_t *tail;

	ck_assert_uint_eq(json_array_size(console_events(c)), 0);
	ck_assert(!console_panicked(c));
	ck_assert_uint_eq(console_lines(c), 42);
	tail = console_tail(c, 3);
	ck_assert_uint_eq(json_array_size(tail), 3);
	ck_assert_str_eq(json_string_value(json_array_get(tail, 0)),
			 "kfarm-init: 6.1.0-56-amd64 cpus=2");
	ck_assert_str_eq(json_string_value(json_array_get(tail, 2)),
			 "[    9.812000] reboot: Power down");
	json_decref(tail);
	tail = console_tail(c, 1000);
	ck_assert_uint_eq(json_array_size(tail), CONSOLE_TAIL);
	ck_assert_str_eq(json_string_value(json_array_get(tail, 0)),
			 "[    0.000000] BIOS-provided physical RAM map:");
	json_decref(tail);
	console_free(c);
	console_free(NULL);
}
END_TEST

START_TEST(test_sysrq_panic)
{
	static const char *const kinds[] = {"panic"};
	static const int lines[] = {40};
	struct console *c = scan("panic-sysrq.log", 0, 0);
	json_t *ex;

	expect_events(c, kinds, lines, 1);
	ck_assert(console_panicked(c));
	ck_assert_uint_eq(console_lines(c), 61);
	ck_assert_str_eq(ev_str(c, 0, "text"), "Kernel panic - not syncing: sysrq triggered crash");
	/* 10 before, the line, the 21 that followed so far; \r stripped */
	ex = ev_excerpt(c, 0);
	ck_assert_uint_eq(json_array_size(ex), 32);
	ck_assert_str_eq(json_string_value(json_array_get(ex, 9)),
			 "[    3.418207] sysrq: Trigger a crash");
	ck_assert_str_eq(json_string_value(json_array_get(ex, 10)),
			 "[    3.418790] Kernel panic - not syncing: sysrq triggered crash");
	ck_assert_str_eq(json_string_value(json_array_get(ex, 11)),
			 "[    3.419226] CPU: 0 PID: 1 Comm: kfarm-guest Not tainted "
			 "6.1.0-56-amd64 #1  Debian 6.1.153-1");
	ck_assert_str_eq(json_string_value(json_array_get(ex, 31)),
			 "[    3.426115] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---");
	console_finish(c);
	console_feed(c, "after\n", 6);
	ck_assert_uint_eq(json_array_size(ex), 32);
	ck_assert_uint_eq(console_lines(c), 62);
	console_free(c);
}
END_TEST

START_TEST(test_warning_cut_here)
{
	static const char *const kinds[] = {"warning"};
	static const int lines[] = {11};
	struct console *c = scan("warning.log", 0, 1);
	json_t *ex = ev_excerpt(c, 0);

	expect_events(c, kinds, lines, 1);
	ck_assert(!console_panicked(c));
	ck_assert_str_eq(ev_str(c, 0, "text"),
			 "WARNING: CPU: 1 PID: 214 at kernel/ptrace.c:452 ptrace_detach+0x1a3/0x1c0");
	ck_assert_uint_eq(json_array_size(ex), 10 + 1 + 21);
	ck_assert_str_eq(json_string_value(json_array_get(ex, 9)),
			 "[    4.102311] ------------[ cut here ]------------");
	/* the boot's "Spectre V2 : WARNING: ..." is not a kernel warning */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(ex, 2)), "Spectre V2"));
	console_free(c);
}
END_TEST

START_TEST(test_lockups)
{
	static const char *const kinds[] = {
		"soft-lockup", "rcu-stall", "soft-lockup", "rcu-stall", "hung-task",
	};
	static const int lines[] = {10, 20, 25, 26, 28};
	struct console *c = scan("lockups.log", 0, 1);

	expect_events(c, kinds, lines, 5);
	ck_assert_str_eq(ev_str(c, 4, "text"),
			 "INFO: task kfarm-guest:230 blocked for more than 120 seconds.");
	ck_assert_str_eq(ev_str(c, 1, "text"),
			 "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:");
	/* the file ends 9 lines after the hung task */
	ck_assert_uint_eq(json_array_size(ev_excerpt(c, 4)), 10 + 1 + 9);
	ck_assert(!console_panicked(c));
	console_free(c);
}
END_TEST

START_TEST(test_oops)
{
	static const char *const kinds[] = {"bug", "oops", "panic"};
	static const int lines[] = {10, 14, 27};
	struct console *c = scan("oops.log", 0, 1);

	expect_events(c, kinds, lines, 3);
	ck_assert_str_eq(ev_str(c, 0, "text"),
			 "BUG: kernel NULL pointer dereference, address: 0000000000000008");
	ck_assert_str_eq(ev_str(c, 1, "text"), "Oops: 0000 [#1] PREEMPT SMP NOPTI");
	ck_assert_str_eq(ev_str(c, 2, "text"), "Kernel panic - not syncing: Fatal exception");
	ck_assert(console_panicked(c));
	console_free(c);
}
END_TEST

START_TEST(test_chunked_equals_whole)
{
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		struct console *whole = scan(fixtures[f], 0, 1);
		struct console *bytes = scan(fixtures[f], 1, 1);
		struct console *chunks = scan(fixtures[f], 61, 1);
		json_t *t1 = console_tail(whole, CONSOLE_TAIL), *t2 = console_tail(chunks, CONSOLE_TAIL);

		ck_assert_msg(json_equal(console_events(whole), console_events(bytes)), "%s", fixtures[f]);
		ck_assert_msg(json_equal(console_events(whole), console_events(chunks)), "%s", fixtures[f]);
		ck_assert_uint_eq(console_lines(whole), console_lines(bytes));
		ck_assert_uint_eq(console_lines(whole), console_lines(chunks));
		ck_assert(json_equal(t1, t2));
		json_decref(t1);
		json_decref(t2);
		console_free(whole);
		console_free(bytes);
		console_free(chunks);
	}
}
END_TEST

START_TEST(test_excerpt_bounds)
{
	struct console *c = console_new();
	json_t *ex;
	char *s;

	for (int i = 1; i <= 100; i++) {
		if (i == 3 || i == 50)
			s = xasprintf("[  %d.000000] Kernel panic - not syncing: at %d\n", i, i);
		else
			s = xasprintf("[  %d.000000] line %d\n", i, i);
		console_feed(c, s, strlen(s));
		free(s);
	}
	ck_assert_uint_eq(json_array_size(console_events(c)), 2);
	/* line 3: only 2 lines before it; lines 4..33 after */
	ex = ev_excerpt(c, 0);
	ck_assert_uint_eq(json_array_size(ex), 2 + 1 + 30);
	ck_assert_str_eq(json_string_value(json_array_get(ex, 0)), "[  1.000000] line 1");
	ck_assert_str_eq(json_string_value(json_array_get(ex, 32)), "[  33.000000] line 33");
	/* line 50: lines 40..80, final without console_finish() */
	ex = ev_excerpt(c, 1);
	ck_assert_uint_eq(json_array_size(ex), 10 + 1 + 30);
	ck_assert_str_eq(json_string_value(json_array_get(ex, 0)), "[  40.000000] line 40");
	ck_assert_str_eq(json_string_value(json_array_get(ex, 40)), "[  80.000000] line 80");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(console_events(c), 1),
							     "line")), 50);
	console_free(c);
}
END_TEST

START_TEST(test_partial_last_line)
{
	struct console *c = console_new();
	const char *s = "[    1.000000] booting\r\n[    2.000000] Kernel panic - not syncing: VFS: Unable";

	console_feed(c, s, strlen(s));
	ck_assert_uint_eq(console_lines(c), 1);
	ck_assert_uint_eq(json_array_size(console_events(c)), 0);
	console_finish(c);
	ck_assert_uint_eq(console_lines(c), 2);
	ck_assert(console_panicked(c));
	ck_assert_str_eq(ev_str(c, 0, "text"), "Kernel panic - not syncing: VFS: Unable");
	ck_assert_uint_eq(json_array_size(ev_excerpt(c, 0)), 2);
	console_finish(c);
	ck_assert_uint_eq(console_lines(c), 2);
	console_free(c);
}
END_TEST

START_TEST(test_long_lines)
{
	struct console *c = console_new();
	size_t big = 100000;
	char *junk = xmalloc(big);
	const char *e;

	memset(junk, 'x', big);
	console_feed(c, junk, big);
	console_feed(c, "\n", 1);
	console_feed(c, "Kernel panic - not syncing: ", 28);
	console_feed(c, junk, big);
	console_feed(c, "\nBUG: kernel NULL pointer dereference, address: 0\n", 50);
	ck_assert_uint_eq(console_lines(c), 3);
	ck_assert_uint_eq(json_array_size(console_events(c)), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(console_events(c), 0),
							     "line")), 2);
	ck_assert_uint_eq(strlen(ev_str(c, 0, "text")), CONSOLE_MAX_LINE);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(console_events(c), 1),
							     "line")), 3);
	e = json_string_value(json_array_get(ev_excerpt(c, 1), 0));
	ck_assert_uint_eq(strlen(e), CONSOLE_MAX_LINE);
	console_free(c);
	free(junk);
}
END_TEST

START_TEST(test_event_cap)
{
	struct console *c = console_new();

	for (int i = 0; i < 40; i++) {
		char *s = xasprintf("[  %d.5] WARNING: CPU: 0 PID: 1 at kernel/x.c:%d f+0x1/0x2\n", i, i);

		console_feed(c, s, strlen(s));
		free(s);
	}
	console_feed(c, "Kernel panic - not syncing: too late\n", 37);
	ck_assert_uint_eq(json_array_size(console_events(c)), CONSOLE_MAX_EVENTS);
	ck_assert_uint_eq(console_events_dropped(c), 40 + 1 - CONSOLE_MAX_EVENTS);
	ck_assert(console_panicked(c));
	console_free(c);
}
END_TEST

START_TEST(test_patterns)
{
	static const struct {
		const char *line;
		const char *kind;	/* NULL: no event */
	} cases[] = {
		{"[   12.345678] general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI", "oops"},
		{"[    1.000000] kernel BUG at mm/slub.c:379!", "bug"},
		{"[    1.000000] BUG: unable to handle page fault for address: ffffffffc0000000", "bug"},
		{"[    1.000000] BUG: soft lockup - CPU#0 stuck for 23s! [swapper/0:1]", "soft-lockup"},
		{"[    1.000000][    T1] BUG: scheduling while atomic: kfarm-guest/1/0x00000002", "bug"},
		{"[    1.000000][    C0] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [a:1]", "soft-lockup"},
		{"[   21.000000] INFO: rcu_sched detected stalls on CPUs/tasks:", "rcu-stall"},
		{"[   21.000000] rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21002 jiffies s: 97 root: 0x2/.", "rcu-stall"},
		{"[   21.000000] INFO: rcu_sched self-detected stall on CPU", "rcu-stall"},
		{"[  120.000000] INFO: task khungtaskd:12 blocked for more than 122 seconds.", "hung-task"},
		{"[    1.000000] WARNING: at kernel/ptrace.c:10 ptrace_detach+0x1/0x2()", "warning"},
		{"[    1.000000] WARNING: possible circular locking dependency detected", "warning"},
		{"\r[    1.000000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009\r\r", "panic"},
		{"Kernel panic - not syncing: No working init found.", "panic"},
		/* not events */
		{"[    3.000000] ---[ end Kernel panic - not syncing: Fatal exception ]---", NULL},
		{"[    0.088000] Spectre V2 : WARNING: Unprivileged eBPF is enabled", NULL},
		{"[    0.020000] rcu: Hierarchical RCU implementation.", NULL},
		{"[    0.120000] watchdog: Disabling watchdog on nohz_full cores by default", NULL},
		{"[    1.000000] ------------[ cut here ]------------", NULL},
		{"[    1.000000] INFO: task init:1 is fine", NULL},
		{"echo BUG: in user space? no: a kernel line starts with it", NULL},
		{"", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct console *c = console_new();
		json_t *ev;

		console_feed(c, cases[i].line, strlen(cases[i].line));
		console_feed(c, "\n", 1);
		ev = console_events(c);
		if (!cases[i].kind) {
			ck_assert_msg(json_array_size(ev) == 0, "false positive: %s", cases[i].line);
		} else {
			ck_assert_msg(json_array_size(ev) == 1, "missed: %s", cases[i].line);
			ck_assert_str_eq(ev_str(c, 0, "kind"), cases[i].kind);
			ck_assert_ptr_null(strchr(ev_str(c, 0, "text"), '\r'));
			ck_assert_int_ne(ev_str(c, 0, "text")[0], '[');
		}
		console_free(c);
	}
}
END_TEST

START_TEST(test_binary_noise)
{
	struct console *c = console_new();
	const char bad[] = "BUG: bad \xff\xfe bytes \x00 and \x1b[0m colour \xe2\x82\xac ok\n";
	json_t *tail;
	char *dump;
	size_t n = 200000;
	char *g = xmalloc(n);

	console_feed(c, bad, sizeof(bad) - 1);
	ck_assert_uint_eq(json_array_size(console_events(c)), 1);
	ck_assert_str_eq(ev_str(c, 0, "text"), "BUG: bad ?? bytes ? and ?[0m colour \xe2\x82\xac ok");
	for (size_t i = 0; i < n; i++)
		g[i] = (char)(rng() >> 11);
	console_feed(c, g, n);
	console_finish(c);
	dump = json_dumps(console_events(c), 0);
	ck_assert_ptr_nonnull(dump);
	free(dump);
	tail = console_tail(c, 40);
	dump = json_dumps(tail, 0);
	ck_assert_ptr_nonnull(dump);
	free(dump);
	json_decref(tail);
	free(g);
	console_free(c);
}
END_TEST

static Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clean_boot);
	tcase_add_test(tc, test_sysrq_panic);
	tcase_add_test(tc, test_warning_cut_here);
	tcase_add_test(tc, test_lockups);
	tcase_add_test(tc, test_oops);
	tcase_add_test(tc, test_chunked_equals_whole);
	tcase_add_test(tc, test_excerpt_bounds);
	tcase_add_test(tc, test_partial_last_line);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_event_cap);
	tcase_add_test(tc, test_patterns);
	tcase_add_test(tc, test_binary_noise);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(console_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
