/* SPDX-License-Identifier: MIT */
/*
 * A KCIDB v5 (5.3) submission from a diff: each kernel image is a checkout and
 * a build (kfarm does not know the source tree, so both are identified by the
 * image's sha256), and each (cell, smp) is a test of kernel b's build whose
 * status says how b behaves compared with a.
 */
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "diff.h"
#include "export.h"
#include "report.h"
#include "util.h"

#define ORIGIN		"kfarm"
#define KCIDB_MAJOR	5
#define KCIDB_MINOR	3
/* KCIDB's limit on log_excerpt. */
#define EXCERPT_MAX	16384

/* "kfarm:<sha256>" for a kernel image (its name when the run has no digest). */
static char *image_id(const struct report_kernel_info *ki)
{
	if (ki->sha256 && *ki->sha256)
		return xasprintf(ORIGIN ":%s", ki->sha256);
	return xasprintf(ORIGIN ":%s", ki->name);
}

/* A KCIDB path component: [a-zA-Z0-9_-]+, anything else as '_'. */
static char *path_part(const char *s)
{
	char *out = xstrdup(*s ? s : "_"), *p;

	for (p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			*p = '_';
	return out;
}

char *export_kcidb_path(const char *cell, long long smp)
{
	size_t b = cells_base_len(cell), n = strlen(cell);
	char *base = strndup(cell, b), *part = path_part(base), *path;

	path = xasprintf("kfarm.detach.%s", part);
	free(part);
	free(base);
	/* "[axis=value,...]": a level "axis_value" for each, in the id's order */
	if (cell[b] == '[' && n > b + 2 && cell[n - 1] == ']') {
		char *inner = strndup(cell + b + 1, n - b - 2), **axes;
		size_t k, i;

		axes = cells_split(inner, &k);
		for (i = 0; i < k; i++) {
			char *eq = strchr(axes[i], '='), *t;

			if (eq)
				*eq = '_';
			part = path_part(axes[i]);
			t = xasprintf("%s.%s", path, part);
			free(part);
			free(path);
			path = t;
		}
		cells_free(axes, k);
		free(inner);
	}
	part = xasprintf("%s.smp%lld", path, smp);
	free(path);
	return part;
}

static void set_str(json_t *o, const char *key, json_t *v)
{
	if (json_is_string(v))
		json_object_set(o, key, v);
}

static void set_cstr(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

/* Add kernel @k's checkout and build unless already there; the build's id (owned). */
static char *add_kernel(json_t *checkouts, json_t *builds, json_t *k, json_t *run)
{
	struct report_kernel_info ki;
	struct report_run_info ri;
	char *id, *comment;
	const char *rel, *qemu;
	json_t *c, *b, *misc;
	size_t i;

	report_kernel_info(k, &ki);
	report_run_info(run, &ri);
	id = image_id(&ki);
	rel = ki.release;
	qemu = ri.vm_binary;
	json_array_foreach(builds, i, b)
		if (!strcmp(json_string_value(json_object_get(b, "id")), id))
			return id;
	comment = xasprintf("%s%s%s%s", ki.name, rel ? " (" : "", rel ? rel : "", rel ? ")" : "");
	misc = json_object();
	set_cstr(misc, "kernel", ki.name);
	set_cstr(misc, "source", ki.source);
	set_cstr(misc, "release", ki.release);
	set_cstr(misc, "image", ki.path);
	set_cstr(misc, "sha256", ki.sha256);
	c = json_pack("{s:s, s:s, s:s, s:b, s:O}", "id", id, "origin", ORIGIN,
		      "comment", comment, "valid", 1, "misc", misc);
	json_array_append_new(checkouts, c);
	b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", id, "checkout_id", id,
		      "origin", ORIGIN, "comment", comment, "status", "PASS", "misc", misc);
	if (qemu && strstr(qemu, "x86_64"))
		json_object_set_new(b, "architecture", json_string("x86_64"));
	json_array_append_new(builds, b);
	free(comment);
	return id;
}

/* The console excerpts of the failed guests behind @cell, or NULL (owned). */
static char *log_excerpt(json_t *cell, json_t *diff, json_t *run_a, json_t *run_b,
			 json_int_t smp)
{
	static const char *const sides[] = { "a", "b" };
	char *text = NULL, *t;
	size_t i, j;

	for (i = 0; i < 2; i++) {
		const char *k = json_string_value(json_object_get(json_object_get(diff, sides[i]),
								  "kernel"));
		json_t *ex, *line;

		if (!k || !export_side_failed(cell, sides[i]))
			continue;
		ex = report_guest_excerpt(i ? run_b : run_a, k, smp);
		json_array_foreach(json_object_get(ex, "lines"), j, line) {
			t = xasprintf("%s%s: %s\n", text ? text : "", sides[i],
				      json_string_value(line));
			free(text);
			text = t;
		}
		json_decref(ex);
	}
	if (text && strlen(text) > EXCERPT_MAX)
		text[EXCERPT_MAX] = 0;
	return text;
}

json_t *export_kcidb_build(json_t *diff, json_t *run_a, json_t *run_b, struct kf_error *e)
{
	json_t *checkouts, *builds, *tests, *out, *ka, *kb, *c, *sa, *sb;
	struct report_run_info ri;
	const char *started, *accel, *qver;
	char *build_a, *build_b;
	size_t i;

	if (export_check(diff, run_a, run_b, e) < 0)
		return NULL;
	ka = export_kernel(diff, "a", run_a);
	kb = export_kernel(diff, "b", run_b);
	sa = json_object_get(diff, "a");
	sb = json_object_get(diff, "b");
	checkouts = json_array();
	builds = json_array();
	tests = json_array();
	build_a = add_kernel(checkouts, builds, ka, run_a);
	build_b = add_kernel(checkouts, builds, kb, run_b);
	report_run_info(run_b, &ri);
	started = ri.started;
	accel = ri.accel;
	qver = ri.vm_version;

	json_array_foreach(json_object_get(diff, "cells"), i, c) {
		const char *verdict = json_string_value(json_object_get(c, "verdict"));
		const char *scen = json_string_value(json_object_get(c, "scenario"));
		json_int_t smp = json_integer_value(json_object_get(c, "smp"));
		char *id, *path, *detail, *excerpt, *env;
		json_t *t, *misc, *v;

		if (!verdict || !scen)
			continue;
		path = export_kcidb_path(scen, (long long)smp);
		id = xasprintf(ORIGIN ":%s:%s:%s:%s:smp%" JSON_INTEGER_FORMAT,
			       json_string_value(json_object_get(sb, "run")),
			       json_string_value(json_object_get(sa, "kernel")),
			       json_string_value(json_object_get(sb, "kernel")), scen, smp);
		env = xasprintf("QEMU%s%s, %" JSON_INTEGER_FORMAT " CPU%s", accel ? " " : "",
				accel ? accel : "", smp, smp == 1 ? "" : "s");
		misc = json_pack("{s:s, s:{s:O, s:O, s:s}}", "verdict", verdict, "baseline",
				 "kernel", json_object_get(sa, "kernel"),
				 "run", json_object_get(sa, "run"), "build_id", build_a);
		set_str(json_object_get(misc, "baseline"), "release", json_object_get(sa, "release"));
		v = json_object_get(c, "p_value");
		if (json_is_number(v)) {
			json_object_set(misc, "p_value", v);
			json_object_set(misc, "p_adjusted", json_object_get(c, "p_adjusted"));
			json_object_set(misc, "correction", json_object_get(diff, "correction"));
			json_object_set(misc, "test", json_object_get(c, "test"));
			if (json_object_get(c, "effect"))
				json_object_set(misc, "effect", json_object_get(c, "effect"));
			json_object_set(misc, "alpha", json_object_get(diff, "alpha"));
			json_object_set(misc, "racy", json_object_get(c, "racy"));
		}
		if (json_array_size(json_object_get(c, "fields")))
			json_object_set(misc, "fields", json_object_get(c, "fields"));
		set_str(misc, "replay", json_object_get(c, "replay"));
		t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:{s:I, s:s*, s:s*}}, s:o}",
			      "id", id, "build_id", build_b, "origin", ORIGIN, "path", path,
			      "status", diff_verdict_info(verdict)->kcidb,
			      "environment", "comment", env, "misc", "smp", smp,
			      "accelerator", accel, "qemu_version", qver,
			      "misc", misc);
		detail = diff_cell_detail(c);
		if (*detail)
			json_object_set_new(t, "comment", json_string(detail));
		if (started)
			json_object_set_new(t, "start_time", json_string(started));
		excerpt = log_excerpt(c, diff, run_a, run_b, smp);
		if (excerpt)
			json_object_set_new(t, "log_excerpt", json_string(excerpt));
		json_array_append_new(tests, t);
		free(excerpt);
		free(detail);
		free(env);
		free(path);
		free(id);
	}
	out = json_pack("{s:{s:i, s:i}, s:o, s:o, s:o}",
			"version", "major", KCIDB_MAJOR, "minor", KCIDB_MINOR,
			"checkouts", checkouts, "builds", builds, "tests", tests);
	free(build_a);
	free(build_b);
	return out;
}

int export_kcidb(json_t *diff, json_t *run_a, json_t *run_b, const char *path,
		 struct kf_error *e)
{
	json_t *k = export_kcidb_build(diff, run_a, run_b, e);
	char *text, *t;
	int ret;

	if (!k)
		return -1;
	text = json_dumps(k, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	t = xasprintf("%s\n", text);
	ret = export_write(path, t, strlen(t), e);
	free(t);
	free(text);
	json_decref(k);
	return ret;
}
