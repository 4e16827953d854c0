/* SPDX-License-Identifier: MIT */
/*
 * report.c: the status table against reports/README.md, merging a cell's
 * boots, and the lookups; run.json and the guests' logs on a full disk.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "report.h"
#include "util.h"

#define DIFFDATA KFARM_TOP "/orchestrator/tests/data/diff/"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *j(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	ck_assert_msg(v != NULL, "%s: %s", text, jerr.text);
	return v;
}

/* reports/README.md lists the cell statuses and their order, worst first. */
START_TEST(test_status_table)
{
	static const char *const worst_first[] = {
		"crashed", "timeout", "boot-failed", "error", "unsupported", "ok",
	};
	struct kf_error e;
	char *doc = util_read_file(KFARM_TOP "/reports/README.md", NULL, &e);
	size_t i;

	ck_assert_msg(doc != NULL, "%s", e.text);
	ck_assert_ptr_nonnull(strstr(doc, "(`crashed` >\n  `timeout` > `boot-failed` > `error` > "
					  "`unsupported` > `ok`"));
	for (i = 0; i < sizeof(worst_first) / sizeof(worst_first[0]); i++) {
		char *quoted = xasprintf("`%s`", worst_first[i]);

		ck_assert_ptr_nonnull(report_status_find(worst_first[i]));
		ck_assert_ptr_nonnull(strstr(doc, quoted));
		if (i)
			ck_assert_int_gt(report_status_rank(worst_first[i - 1]),
					 report_status_rank(worst_first[i]));
		ck_assert_int_eq(report_status_answered(worst_first[i]),
				 !strcmp(worst_first[i], "ok") || !strcmp(worst_first[i], "unsupported"));
		free(quoted);
	}
	ck_assert_ptr_null(report_status_find("fine"));
	ck_assert_int_eq(report_status_rank("fine"), report_status_rank("error"));
	ck_assert_int_eq(report_status_rank(NULL), report_status_rank("error"));
	ck_assert_int_eq(report_status_answered(NULL), 0);
	free(doc);
}
END_TEST

#define OK(obs, n, ms) "{\"status\":\"ok\",\"duration_ms\":" #ms ",\"outcomes\":" \
	"[{\"observation\":" obs ",\"count\":" #n "}]}"

/* Merge the boots @texts (boot numbers 1, 2, ...) of one cell. */
static json_t *merge(const char *const *texts, size_t n)
{
	json_t *parts[8];
	int bootno[8];
	json_t *cell;
	size_t i;

	for (i = 0; i < n; i++) {
		parts[i] = j(texts[i]);
		bootno[i] = (int)i + 1;
	}
	cell = report_cell_merge(parts, bootno, n, "k", 2, "sds-zero");
	for (i = 0; i < n; i++)
		json_decref(parts[i]);
	return cell;
}

START_TEST(test_cell_merge)
{
	const char *pooled[] = { OK("{\"t\":\"a\"}", 3, 10), OK("{\"t\":\"b\"}", 1, 5),
				 "{\"status\":\"ok\",\"racy\":true,\"duration_ms\":1,\"outcomes\":"
				 "[{\"observation\":{\"t\":\"a\"},\"count\":2}]}" };
	const char *mixed[] = { OK("{\"t\":\"a\"}", 1, 1),
				"{\"status\":\"unsupported\",\"error\":\"no\",\"duration_ms\":1,\"outcomes\":[]}" };
	const char *bad[] = { OK("{\"t\":\"a\"}", 1, 1),
			      "{\"status\":\"timeout\",\"error\":\"late\",\"excerpt\":[\"x\"],\"duration_ms\":1,\"outcomes\":[]}",
			      "{\"status\":\"error\",\"error\":\"bad\",\"duration_ms\":1,\"outcomes\":[]}" };
	const char *uns[] = { "{\"status\":\"unsupported\",\"error\":\"no\",\"duration_ms\":1,\"outcomes\":[]}",
			      "{\"status\":\"unsupported\",\"error\":\"no\",\"duration_ms\":1,\"outcomes\":[]}" };
	json_t *c, *want;

	c = merge(pooled, 1);
	want = j(pooled[0]);
	ck_assert(json_equal(c, want)); /* one boot: as it came */
	json_decref(want);
	json_decref(c);

	c = merge(pooled, 3);
	want = j("{\"kernel\":\"k\",\"smp\":2,\"scenario\":\"sds-zero\",\"status\":\"ok\","
		 "\"outcomes\":[{\"observation\":{\"t\":\"a\"},\"count\":5},"
		 "{\"observation\":{\"t\":\"b\"},\"count\":1}],\"duration_ms\":16,\"racy\":true}");
	json_object_del(c, "boots");
	ck_assert_msg(json_equal(c, want), "%s", json_dumps(c, JSON_SORT_KEYS));
	json_decref(want);
	json_decref(c);

	c = merge(mixed, 2);
	ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "error");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(c, "error")), "disagree"));
	ck_assert_uint_eq(json_array_size(json_object_get(c, "boots")), 2);
	json_decref(c);

	c = merge(bad, 3);
	ck_assert_uint_eq(json_array_size(json_object_get(c, "boots")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "timeout");
	ck_assert_str_eq(json_string_value(json_object_get(c, "error")), "boot 2: late");
	ck_assert_ptr_nonnull(json_object_get(c, "excerpt"));
	json_decref(c);

	c = merge(uns, 2);
	ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "unsupported");
	ck_assert_str_eq(json_string_value(json_object_get(c, "error")), "no");
	json_decref(c);
}
END_TEST

START_TEST(test_lookups)
{
	struct kf_error e;
	json_t *run = report_load(DIFFDATA "run-a.json", &e), *map = json_object(), *g;
	const char *k;

	ck_assert_msg(run != NULL, "%s", e.text);
	ck_assert_ptr_nonnull(report_check(run, "run", &e));
	k = json_string_value(json_object_get(json_array_get(json_object_get(run, "kernels"), 0),
					      "name"));
	ck_assert_ptr_nonnull(report_kernel(run, k, &e));
	ck_assert_ptr_null(report_kernel(run, "no-such", &e));
	ck_assert_ptr_nonnull(strstr(e.text, "it has: "));
	ck_assert_int_eq(report_cells_of(run, k, map, &e), 0);
	ck_assert_uint_gt(json_object_size(map), 0);
	/* every cell of kernel k once, under its key */
	ck_assert_int_eq(report_cells_of(run, k, map, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "repeats"));
	g = report_guest(run, k, 1);
	if (json_array_size(json_object_get(run, "guests")))
		ck_assert_ptr_nonnull(g);
	ck_assert_ptr_null(report_guest(run, "no-such", 1));
	json_decref(map);
	json_decref(run);
	ck_assert_ptr_null(report_load(DIFFDATA "expected-diff.json", &e));
	ck_assert_ptr_nonnull(strstr(e.text, "schema is"));
}
END_TEST

/*
 * A run.json built with the writer's functions, as run.c builds one (a run
 * of two kernels, one guest failed and retried, a cell merged from two
 * boots), validates against reports/schema/run.schema.json: no QEMU needed.
 */
START_TEST(test_built_report_validates)
{
	static const int vsmp[] = { 1 };
	char dir[] = "/tmp/kfarm-report-XXXXXX";
	struct report_meta m = {
		.id = "20261202T000000Z-abcd", .started = "2026-12-02T00:00:00Z", .config = "<test>",
		.hostname = "host", .host_kernel = "6.18", .host_cpus = 2, .vm_binary = "qemu",
		.vm_version = "7.2.22", .accel = "tcg", .accel_reason = "test", .reps = 2,
		.boots = 2, .timeout_ms = 1000, .variant_reps = 2, .seed = 7, .space = "sample",
		.variant_smp = vsmp, .nvariant_smp = 1,
	};
	json_t *run = report_new(&m), *events = json_array(), *order = j("[\"sds-zero\"]");
	json_t *outcomes = j("[{\"observation\":{\"t\":\"a\"},\"count\":2}]");
	json_t *parts[2], *g, *first, *ov;
	int bootno[2] = { 1, 2 };
	struct report_guest_info gi = {
		.kernel = "ka", .smp = 1, .boot = 1, .status = "boot-failed", .accel = "tcg",
		.boot_ms = 0, .duration_ms = 900, .console = "console-ka-smp1.log",
		.results = "results-ka-smp1.log", .events = events, .block = 1,
		.order_seed = 3, .scenarios = order, .error = "no sign of life", .diag = "qemu: x",
	};
	struct kf_error e;
	char *cmd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	report_add_kernel(run, "ka", "deb", "linux-image-amd64", "/k/vmlinuz", SHA, NULL, "6.1");
	report_add_kernel(run, "kb", "path", NULL, "/k/bzImage", SHA, "pvh", NULL);
	report_add_smp(run, 1);
	report_add_scenario(run, "sds-zero");
	report_add_cell(run, report_cell_new("ka", 1, "sds-zero", "ok", outcomes, 12, NULL, 0, NULL));
	parts[0] = report_cell_new("kb", 1, "sds-zero", "ok", outcomes, 5, NULL, 1, NULL);
	parts[1] = report_cell_new("kb", 1, "sds-zero", "timeout", NULL, 0, "late", 1, order);
	report_add_cell(run, report_cell_merge(parts, bootno, 2, "kb", 1, "sds-zero"));
	g = report_guest_new(&gi);
	first = report_guest_first_try(g, "console-ka-smp1-try1.log", "results-ka-smp1-try1.log");
	json_decref(g);
	gi.status = "ok";
	gi.error = NULL;
	gi.diag = NULL;
	gi.boot_ms = 4000;
	gi.retried = first;
	ov = report_overlap_add(NULL, "kb", 1, 1, 800);
	report_add_guest(run, report_guest_new(&gi), ov);
	report_set_finished(run, "2026-12-02T00:01:00Z");
	report_set_scenario_reps(run, "sds-zero", 2);
	ck_assert_msg(report_write(dir, run, &e) == 0, "%s", e.text);
	cmd = xasprintf("/usr/bin/python3 %s/tests/validate-schema.py %s/reports/schema/run.schema.json "
			"%s/run.json", KFARM_TOP, KFARM_TOP, dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	/* and the reader takes what the writer wrote */
	cmd = xasprintf("%s/run.json", dir);
	json_decref(run);
	run = report_load(dir, &e);
	ck_assert_msg(run != NULL, "%s", e.text);
	ck_assert_ptr_nonnull(report_check(run, "built", &e));
	ck_assert_str_eq(report_guest_status(report_guest(run, "ka", 1)), "ok");
	unlink(cmd);
	free(cmd);
	rmdir(dir);
	json_decref(parts[0]);
	json_decref(parts[1]);
	json_decref(first);
	json_decref(events);
	json_decref(order);
	json_decref(outcomes);
	json_decref(run);
}
END_TEST

/* A small run for the inputs tests: @reps, kernel b's @sha, @vm_version, @accel, @seed. */
static json_t *inputs_run(int reps, const char *sha, const char *vm_version, const char *accel,
			  long long seed)
{
	static const int vsmp[] = { 1 };
	struct report_meta m = {
		.id = "r1", .started = "2026-12-02T00:00:00Z", .config = "<test>",
		.hostname = "host", .host_kernel = "6.18", .host_cpus = 2, .vm_binary = "qemu",
		.vm_version = vm_version, .accel = accel, .accel_reason = "test", .reps = reps,
		.boots = 1, .timeout_ms = 1000, .variant_reps = 2, .seed = seed, .space = "sample",
		.variant_smp = vsmp, .nvariant_smp = 1,
	};
	json_t *run = report_new(&m);

	report_add_kernel(run, "ka", "deb", "linux-image-amd64", "/k/a", SHA, NULL, "6.1");
	report_add_kernel(run, "kb", "path", NULL, "/k/b", sha, NULL, NULL);
	report_add_smp(run, 1);
	report_add_scenario(run, "sds-zero");
	report_add_cell(run, report_cell_new("ka", 1, "sds-zero", "ok", NULL, 3, NULL, 0, NULL));
	return run;
}

/* The inputs key: the same for the same inputs, whatever the seed; any input changes it. */
START_TEST(test_inputs_key)
{
	static const char other[] =
		"1111111111111111111111111111111111111111111111111111111111111111";
	struct {
		json_t *run;
		const char *initramfs;
		int memory_mb;
		const char *cmdline;
		int same;	/* as the first */
		const char *boot_args, *qemu_key, *qemu_value;
	} v[] = {
		{ inputs_run(2, SHA, "7.2", "tcg", 1), SHA, 256, "", 1, NULL, NULL, NULL },
		{ inputs_run(2, SHA, "7.2", "tcg", 99), SHA, 256, "", 1, NULL, NULL, NULL },	/* seed: no input */
		{ inputs_run(3, SHA, "7.2", "tcg", 1), SHA, 256, "", 0, NULL, NULL, NULL },	/* reps */
		{ inputs_run(2, other, "7.2", "tcg", 1), SHA, 256, "", 0, NULL, NULL, NULL },	/* a kernel */
		{ inputs_run(2, SHA, "8.0", "tcg", 1), SHA, 256, "", 0, NULL, NULL, NULL },	/* QEMU */
		{ inputs_run(2, SHA, "7.2", "kvm", 1), SHA, 256, "", 0, NULL, NULL, NULL },	/* accelerator */
		{ inputs_run(2, SHA, "7.2", "tcg", 1), other, 256, "", 0, NULL, NULL, NULL },	/* initramfs */
		{ inputs_run(2, SHA, "7.2", "tcg", 1), SHA, 512, "", 0, NULL, NULL, NULL },	/* memory */
		{ inputs_run(2, SHA, "7.2", "tcg", 1), SHA, 256, "nosmap", 0, NULL, NULL, NULL },	/* cmdline */
		{ inputs_run(2, SHA, "7.2", "tcg", 1), SHA, 256, "", 0, "loglevel=8", NULL, NULL },	/* kfarm's */
		{ inputs_run(2, SHA, "7.2", "tcg", 1), SHA, 256, "", 0, NULL, "tcg_threads", "multi" },
		{ inputs_run(2, SHA, "7.2", "tcg", 1), SHA, 256, "", 0, NULL, "firmware", "seabios" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_ptr_null(report_inputs_key(v[i].run));
		if (v[i].qemu_key)
			json_object_set_new(json_object_get(v[i].run, "qemu"), v[i].qemu_key,
					    json_string(v[i].qemu_value));
		report_set_inputs(v[i].run, v[i].initramfs, v[i].memory_mb,
				  v[i].boot_args ? v[i].boot_args : "loglevel=5", v[i].cmdline);
		ck_assert_uint_eq(strlen(report_inputs_key(v[i].run)), 64);
		ck_assert_msg((strcmp(report_inputs_key(v[i].run), report_inputs_key(v[0].run)) == 0) ==
			      v[i].same, "case %zu", i);
	}
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		json_decref(v[i].run);
}
END_TEST

/* A kernel's own key: its image and the run's other inputs, not its name nor the other kernels. */
START_TEST(test_kernel_keys)
{
	static const char other[] =
		"1111111111111111111111111111111111111111111111111111111111111111";
	json_t *r1 = inputs_run(2, SHA, "7.2", "tcg", 1), *r2 = inputs_run(2, other, "7.2", "tcg", 5);
	json_t *r3 = inputs_run(3, SHA, "7.2", "tcg", 1);
	struct report_kernel_info a1, b1, a2, b2, a3;

	report_set_inputs(r1, SHA, 256, "", "");
	report_set_inputs(r2, SHA, 256, "", "");
	report_set_inputs(r3, SHA, 256, "", "");
	report_kernel_info(report_kernel(r1, "ka", NULL), &a1);
	report_kernel_info(report_kernel(r1, "kb", NULL), &b1);
	report_kernel_info(report_kernel(r2, "ka", NULL), &a2);
	report_kernel_info(report_kernel(r2, "kb", NULL), &b2);
	report_kernel_info(report_kernel(r3, "ka", NULL), &a3);
	ck_assert_uint_eq(strlen(a1.inputs_key), 64);
	/* ka and kb share an image in r1 (names aside): one key */
	ck_assert_str_eq(a1.inputs_key, b1.inputs_key);
	/* kb's image changed in r2: ka's key stays, kb's does not */
	ck_assert_str_eq(a1.inputs_key, a2.inputs_key);
	ck_assert_str_ne(b1.inputs_key, b2.inputs_key);
	ck_assert_str_ne(a1.inputs_key, report_inputs_key(r1));
	/* reps are every kernel's input */
	ck_assert_str_ne(a1.inputs_key, a3.inputs_key);
	ck_assert_ptr_null(a1.reused_from);
	json_decref(r1);
	json_decref(r2);
	json_decref(r3);
}
END_TEST

/* A side taken from a run: its kernels renamed, the others' and the failed guests left out. */
START_TEST(test_side_copy)
{
	json_t *run = inputs_run(2, SHA, "7.2", "tcg", 1), *names = j("{\"ka\": \"vanilla\"}");
	json_t *events = json_array(), *copy, *g, *from = j("{\"run\": \"r1\", \"dir\": \"r1\"}");
	struct report_guest_info gi = {
		.kernel = "ka", .smp = 1, .boot = 1, .status = "ok", .accel = "tcg",
		.boot_ms = 900, .duration_ms = 900, .console = "console-ka-smp1.log",
		.results = "results-ka-smp1.log", .events = events,
	};
	struct report_kernel_info ki;

	report_add_cell(run, report_cell_new("kb", 1, "sds-zero", "ok", NULL, 3, NULL, 0, NULL));
	report_add_guest(run, report_guest_new(&gi), NULL);
	gi.boot = 2;
	gi.status = "timeout";
	report_add_guest(run, report_guest_new(&gi), NULL);
	gi.boot = 1;
	gi.status = "ok";
	gi.kernel = "kb";
	report_add_guest(run, report_guest_new(&gi), NULL);
	copy = report_side_copy(run, names);
	ck_assert_uint_eq(report_nguests(copy), 1);
	ck_assert_uint_eq(report_ncells(copy), 1);
	ck_assert_str_eq(json_string_value(json_object_get(report_cell_at(copy, 0), "kernel")), "vanilla");
	ck_assert_ptr_nonnull(report_kernel(copy, "vanilla", NULL));
	ck_assert_ptr_null(report_kernel(copy, "ka", NULL));
	ck_assert_ptr_null(report_kernel(copy, "kb", NULL));
	/* the original is untouched */
	ck_assert_uint_eq(report_nguests(run), 3);
	/* a guest taken: marked, its files found from the new run's folder */
	g = report_guest_reused(json_array_get(json_object_get(copy, "guests"), 0), "r1", "r1", "../r1/");
	ck_assert_str_eq(json_string_value(json_object_get(g, "console")), "../r1/console-ka-smp1.log");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(g, "reused"), "run")), "r1");
	/* taken again by a third run: still the run that booted it, the same files */
	copy = (json_decref(copy), g);
	g = report_guest_reused(copy, "r2", "r2", "../r2/");
	ck_assert_str_eq(json_string_value(json_object_get(g, "console")), "../r1/console-ka-smp1.log");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(g, "reused"), "run")), "r1");
	json_decref(g);
	g = report_guest_reused(copy, "r2", "/abs/r2", "/abs/r2/");
	ck_assert_str_eq(json_string_value(json_object_get(g, "results")),
			 "/abs/r2/../r1/results-ka-smp1.log");
	json_decref(g);
	report_kernel_set_reused(run, "ka", from);
	report_kernel_info(report_kernel(run, "ka", NULL), &ki);
	ck_assert_str_eq(ki.reused_from, "r1");
	ck_assert_ptr_null(report_kernel_reused(report_kernel(run, "kb", NULL)));
	json_decref(copy);
	json_decref(from);
	json_decref(events);
	json_decref(names);
	json_decref(run);
}
END_TEST

/* An unchanged run: the cells of the run it matches, no guest, a pointer to the first. */
START_TEST(test_unchanged)
{
	json_t *orig = inputs_run(2, SHA, "7.2", "tcg", 1), *u1, *u2;
	const char *dir;

	report_set_inputs(orig, SHA, 256, "", "");
	report_set_nightly(orig);
	report_set_interrupted(orig);
	ck_assert_int_eq(report_was_interrupted(orig), 1);
	json_object_del(orig, "interrupted");
	ck_assert_int_eq(report_was_interrupted(orig), 0);
	ck_assert_ptr_null(report_unchanged_from(orig, NULL));
	u1 = report_unchanged(orig, "r1", "r2", "2026-12-03T00:00:00Z", "2026-12-03T00:00:01Z");
	ck_assert_str_eq(report_id(u1), "r2");
	ck_assert_str_eq(report_unchanged_from(u1, &dir), "r1");
	ck_assert_str_eq(dir, "r1");
	ck_assert_uint_eq(report_nguests(u1), 0);
	ck_assert_uint_eq(report_ncells(u1), report_ncells(orig));
	ck_assert_str_eq(report_inputs_key(u1), report_inputs_key(orig));
	ck_assert_int_eq(report_is_nightly(u1), 1);
	/* the next night, matching r2, still points at r1: the run that booted */
	u2 = report_unchanged(u1, "r2", "r3", "2026-12-04T00:00:00Z", "2026-12-04T00:00:01Z");
	ck_assert_str_eq(report_unchanged_from(u2, &dir), "r1");
	ck_assert_str_eq(report_id(u2), "r3");
	json_decref(u2);
	json_decref(u1);
	json_decref(orig);
}
END_TEST

/* A run.json with @ncells cells of some size. */
static json_t *run_with(int ncells)
{
	json_t *run = json_pack("{s:s, s:[]}", "id", "full-disk", "cells");
	int i;

	for (i = 0; i < ncells; i++)
		json_array_append_new(json_object_get(run, "cells"),
				      json_pack("{s:s, s:i, s:s, s:s}", "kernel", "k", "smp", 1,
						"scenario", "sds-zero-padding-to-make-it-larger",
						"status", "ok"));
	return run;
}

/*
 * run.json on a full disk: a 64 KiB tmpfs (mounted in a mount namespace of
 * the test's own, so it goes with the test's process). The write that does
 * not fit is an error naming run.json and ENOSPC's text; the run.json before
 * it stays whole and no temporary is left. Needs root (mount): skipped,
 * saying so, without.
 */
START_TEST(test_run_json_full_disk)
{
	char dir[] = "/tmp/kfarm-test-full.XXXXXX", *path;
	json_t *small = run_with(3), *big = run_with(2000), *back;
	struct kf_error e;
	struct dirent *de;
	DIR *d;
	int files = 0;

	if (geteuid() != 0) {
		fprintf(stderr, "test_run_json_full_disk: skipped: not root (it mounts a 64 KiB "
			"tmpfs)\n");
		goto out;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=64k") < 0) {
		fprintf(stderr, "test_run_json_full_disk: skipped: cannot mount a tmpfs here: "
			"%s\n", strerror(errno));
		rmdir(dir);
		goto out;
	}
	path = xasprintf("%s/run.json", dir);
	ck_assert_msg(report_write(dir, small, &e) == 0, "%s: %s", e.source, e.text);
	error_clear(&e);
	ck_assert_int_eq(report_write(dir, big, &e), -1);
	ck_assert_str_eq(e.source, path);
	ck_assert_msg(strstr(e.text, strerror(ENOSPC)) && strstr(e.text, "kept"), "%s", e.text);
	/* the 3 cells of the last good write, whole */
	back = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(json_array_size(json_object_get(back, "cells")), 3);
	json_decref(back);
	d = opendir(dir);
	while (d && (de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	ck_assert_int_eq(files, 1);	/* no run.json.tmp.* */
	/* a guest's log on the same full disk: said, naming it */
	{
		struct util_out o;
		char *log = xasprintf("%s/console.log", dir), *chunk = xmalloc(1 << 16);
		int failed = 0, i;

		memset(chunk, 'x', 1 << 16);
		ck_assert_int_eq(util_out_open(&o, log, &e), 0);
		for (i = 0; i < 4; i++)
			failed += util_out_write(&o, chunk, 1 << 16, &e) < 0;
		failed += util_out_close(&o, &e) < 0;
		ck_assert_int_eq(failed, 1);	/* once */
		ck_assert_str_eq(e.source, log);
		ck_assert_msg(strstr(e.text, strerror(ENOSPC)), "%s", e.text);
		free(chunk);
		free(log);
	}
	ck_assert_int_eq(umount(dir), 0);
	rmdir(dir);
	free(path);
out:
	json_decref(small);
	json_decref(big);
}
END_TEST

/*
 * A guest's log whose writes fail (/dev/full: ENOSPC on the write that
 * reaches the disk): the first failure is an error naming the file and the
 * errno text, whether at a write, a flush or the close; later ones are not
 * repeated, and nothing is lost unseen.
 */
START_TEST(test_log_writes_checked)
{
	struct util_out o;
	struct kf_error e;
	char *big = xmalloc(1 << 17);

	memset(big, 'r', 1 << 17);
	/* a small write sits in the buffer: the flush fails */
	ck_assert_int_eq(util_out_open(&o, "/dev/full", &e), 0);
	ck_assert_int_eq(util_out_write(&o, "kf1 1 hello\n", 12, &e), 0);
	error_clear(&e);
	ck_assert_int_eq(util_out_flush(&o, &e), -1);
	ck_assert_str_eq(e.source, "/dev/full");
	ck_assert_str_eq(e.text, "cannot write: No space left on device");
	ck_assert_int_eq(o.err, ENOSPC);
	ck_assert_int_eq(util_out_write(&o, "more\n", 5, &e), 0);	/* said once */
	ck_assert_int_eq(util_out_close(&o, &e), 0);
	/* a write larger than the buffer fails at once */
	ck_assert_int_eq(util_out_open(&o, "/dev/full", &e), 0);
	error_clear(&e);
	ck_assert_int_eq(util_out_write(&o, big, 1 << 17, &e), -1);
	ck_assert_msg(strstr(e.text, "No space left on device"), "%s", e.text);
	ck_assert_int_eq(util_out_close(&o, &e), 0);
	/* only written at the close: the close says it */
	ck_assert_int_eq(util_out_open(&o, "/dev/full", &e), 0);
	ck_assert_int_eq(util_out_write(&o, "x", 1, &e), 0);
	error_clear(&e);
	ck_assert_int_eq(util_out_close(&o, &e), -1);
	ck_assert_str_eq(e.source, "/dev/full");
	ck_assert_msg(strstr(e.text, "No space left on device"), "%s", e.text);
	/* a log that cannot be created names itself */
	ck_assert_int_eq(util_out_open(&o, "/nonexistent-kfarm/console.log", &e), -1);
	ck_assert_str_eq(e.source, "/nonexistent-kfarm/console.log");
	ck_assert_msg(strstr(e.text, strerror(ENOENT)), "%s", e.text);
	ck_assert_int_eq(util_out_close(&o, &e), 0);
	free(big);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *t = tcase_create("report");

	tcase_add_test(t, test_status_table);
	tcase_add_test(t, test_cell_merge);
	tcase_add_test(t, test_lookups);
	tcase_add_test(t, test_built_report_validates);
	tcase_add_test(t, test_inputs_key);
	tcase_add_test(t, test_unchanged);
	tcase_add_test(t, test_kernel_keys);
	tcase_add_test(t, test_side_copy);
	tcase_add_test(t, test_run_json_full_disk);
	tcase_add_test(t, test_log_writes_checked);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
