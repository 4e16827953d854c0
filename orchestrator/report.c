// SPDX-License-Identifier: MIT
/*
 * report.c - run.json: its statuses, reading and checking it, finding a
 * kernel, a cell or a guest in it, merging a cell's boots, writing it.
 */
#include <string.h>
#include <sys/stat.h>

#include "cells.h"
#include "log.h"
#include "report.h"
#include "util.h"

/* Best first: the order of report_status_rank(). */
static const struct report_status statuses[] = {
	{ "ok", 0, 1, "the payload ran every repetition and answered" },
	{ "unsupported", 1, 1, "the kernel cannot run the cell; \"error\" says why" },
	{ "error", 2, 0, "the payload could not run the cell (set-up failed, bad output)" },
	{ "boot-failed", 3, 0, "the guest never reached the payload, or its results channel stayed empty" },
	{ "timeout", 4, 0, "a repetition or the guest ran past its deadline" },
	{ "crashed", 5, 0, "the kernel panicked or the guest died while the cell ran" },
};

const struct report_status *report_status_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (!strcmp(name, statuses[i].name))
			return &statuses[i];
	return NULL;
}

int report_status_rank(const char *name)
{
	const struct report_status *s = report_status_find(name);

	return s ? s->rank : report_status_find("error")->rank;
}

int report_status_answered(const char *name)
{
	const struct report_status *s = report_status_find(name);

	return s && s->answered;
}

int report_cell_answered(json_t *cell)
{
	return report_status_answered(json_string_value(json_object_get(cell, "status")));
}

json_t *report_load(const char *path, struct kf_error *e)
{
	json_t *run = NULL;
	char *file = NULL;
	const char *schema;
	json_error_t jerr;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		file = xasprintf("%s/run.json", path);
	else
		file = xstrdup(path);

	run = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!run) {
		error_set(e, file, jerr.line > 0 ? jerr.line : 0,
			  jerr.column > 0 ? jerr.column : 0, "%s", jerr.text);
		goto cleanup;
	}
	if (!json_is_object(run)) {
		error_set(e, file, 0, 0, "not a JSON object");
		goto fail;
	}
	schema = json_string_value(json_object_get(run, "schema"));
	if (!schema) {
		error_set(e, file, 0, 0, "no \"schema\" string (expected \"%s\")", REPORT_SCHEMA);
		goto fail;
	}
	if (strcmp(schema, REPORT_SCHEMA) && strcmp(schema, REPORT_SCHEMA_1)) {
		error_set(e, file, 0, 0, "schema is \"%s\", expected \"%s\" (or \"%s\")", schema,
			  REPORT_SCHEMA, REPORT_SCHEMA_1);
		goto fail;
	}
	goto cleanup;

fail:
	json_decref(run);
	run = NULL;
cleanup:
	free(file);
	return run;
}

const char *report_check(json_t *run, const char *side, struct kf_error *e)
{
	static const char *const arrays[] = { "kernels", "cells", "scenarios" };
	json_t *scen, *v;
	const char *id;
	size_t i;

	if (!json_is_object(run)) {
		error_set(e, side, 0, 0, "malformed run: not a JSON object");
		return NULL;
	}
	id = json_string_value(json_object_get(run, "id"));
	if (!id || !*id) {
		error_set(e, side, 0, 0, "malformed run: \"id\" is missing or not a string");
		return NULL;
	}
	for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		if (!json_is_array(json_object_get(run, arrays[i]))) {
			error_set(e, id, 0, 0, "malformed run: \"%s\" is missing or not an array",
				  arrays[i]);
			return NULL;
		}
	}
	scen = json_object_get(run, "scenarios");
	json_array_foreach(scen, i, v) {
		if (!json_is_string(v)) {
			error_set(e, id, 0, 0, "malformed run: scenarios[%zu] is not a string", i);
			return NULL;
		}
	}
	return id;
}

json_t *report_kernel(json_t *run, const char *name, struct kf_error *e)
{
	const char *id = json_string_value(json_object_get(run, "id"));
	json_t *k;
	char *have = xstrdup("");
	size_t i;

	json_array_foreach(json_object_get(run, "kernels"), i, k) {
		const char *n = json_string_value(json_object_get(k, "name"));
		char *t;

		if (!n) {
			error_set(e, id, 0, 0, "malformed run: kernels[%zu].name is missing or not a string",
				  i);
			free(have);
			return NULL;
		}
		if (!strcmp(n, name)) {
			free(have);
			return k;
		}
		t = xasprintf("%s%s%s", have, *have ? ", " : "", n);
		free(have);
		have = t;
	}
	error_set(e, id, 0, 0, "kernel \"%s\" is not in run %s (it has: %s)", name, id,
		  *have ? have : "no kernels");
	free(have);
	return NULL;
}

char *report_cell_key(const char *scenario, json_int_t smp)
{
	return xasprintf("%" JSON_INTEGER_FORMAT "\n%s", smp, scenario);
}

int report_cells_of(json_t *run, const char *kernel, json_t *map, struct kf_error *e)
{
	const char *id = json_string_value(json_object_get(run, "id"));
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(run, "cells"), i, c) {
		const char *k, *scen;
		json_t *smp;
		char *key;

		if (!json_is_object(c))
			return error_set(e, id, 0, 0, "malformed run: cells[%zu] is not an object", i);
		k = json_string_value(json_object_get(c, "kernel"));
		if (!k)
			return error_set(e, id, 0, 0,
					 "malformed run: cells[%zu].kernel is missing or not a string", i);
		if (strcmp(k, kernel))
			continue;
		scen = json_string_value(json_object_get(c, "scenario"));
		if (!scen || !*scen)
			return error_set(e, id, 0, 0,
					 "malformed run: cells[%zu].scenario is missing or not a string", i);
		smp = json_object_get(c, "smp");
		if (!json_is_integer(smp) || json_integer_value(smp) < 1)
			return error_set(e, id, 0, 0,
					 "malformed run: cells[%zu].smp is missing or not a positive integer", i);
		key = report_cell_key(scen, json_integer_value(smp));
		if (json_object_get(map, key)) {
			free(key);
			return error_set(e, id, 0, 0,
					 "malformed run: cells[%zu] repeats kernel %s, scenario %s, smp %" JSON_INTEGER_FORMAT,
					 i, kernel, scen, json_integer_value(smp));
		}
		json_object_set(map, key, c);
		free(key);
	}
	return 0;
}

json_t *report_guest(json_t *run, const char *kernel, long long smp)
{
	json_t *g, *first = NULL;
	size_t i;

	json_array_foreach(json_object_get(run, "guests"), i, g) {
		const char *k = json_string_value(json_object_get(g, "kernel"));
		const char *st = json_string_value(json_object_get(g, "status"));

		if (!k || strcmp(k, kernel) || json_integer_value(json_object_get(g, "smp")) != smp)
			continue;
		if (st && strcmp(st, "ok"))
			return g;
		if (!first)
			first = g;
	}
	return first;
}

/* Add @part's histogram to @outcomes (@index: canonical observation -> position). */
static void outcomes_pool(json_t *outcomes, json_t *index, json_t *part)
{
	json_t *o;
	size_t j;

	json_array_foreach(json_object_get(part, "outcomes"), j, o) {
		char *key = json_dumps(json_object_get(o, "observation"),
				       JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
		json_t *at = json_object_get(index, key ? key : "null");
		json_int_t cnt = json_integer_value(json_object_get(o, "count"));

		if (at) {
			json_t *prev = json_array_get(outcomes, (size_t)json_integer_value(at));

			json_object_set_new(prev, "count", json_integer(
				json_integer_value(json_object_get(prev, "count")) + cnt));
		} else {
			json_object_set_new(index, key ? key : "null",
					    json_integer((json_int_t)json_array_size(outcomes)));
			json_array_append_new(outcomes, json_pack("{s:O, s:I}", "observation",
					      json_object_get(o, "observation"), "count", cnt));
		}
		free(key);
	}
}

/* @cell's status and error from its boots' (@parts, @worst the worst of them). */
static void merged_status(json_t *cell, json_t *const *parts, const int *bootno, size_t n,
			  size_t worst)
{
	size_t i, nok = 0, nuns = 0;
	const char *err;
	char *text;

	for (i = 0; i < n; i++) {
		const char *st = json_string_value(json_object_get(parts[i], "status"));

		nok += st && !strcmp(st, "ok");
		nuns += st && !strcmp(st, "unsupported");
	}
	if (nok == n)
		return;
	if (nuns == n) {
		json_object_set_new(cell, "status", json_string("unsupported"));
		json_object_set(cell, "error", json_object_get(parts[0], "error"));
		return;
	}
	if (nok + nuns == n) {
		json_object_set_new(cell, "status", json_string("error"));
		json_object_set_new(cell, "error", json_string(
			"the boots disagree: the scenario was unsupported on some and ran on others"));
		return;
	}
	err = json_string_value(json_object_get(parts[worst], "error"));
	text = xasprintf("boot %d: %s", bootno[worst], err ? err : "failed");
	json_object_set(cell, "status", json_object_get(parts[worst], "status"));
	json_object_set_new(cell, "error", json_string(text));
	if (json_object_get(parts[worst], "excerpt"))
		json_object_set(cell, "excerpt", json_object_get(parts[worst], "excerpt"));
	free(text);
}

json_t *report_cell_merge(json_t *const *parts, const int *bootno, size_t n,
			  const char *kernel, int smp, const char *id)
{
	json_t *cell, *boots, *outcomes, *index;
	size_t i, worst = 0;
	json_int_t dur = 0;
	int racy = 0;

	if (n == 0)
		return NULL;
	if (n == 1)
		return json_incref(parts[0]);
	boots = json_array();
	outcomes = json_array();
	index = json_object();
	for (i = 0; i < n; i++) {
		json_t *b = json_pack("{s:i, s:O, s:O, s:O}", "boot", bootno[i],
				      "status", json_object_get(parts[i], "status"),
				      "duration_ms", json_object_get(parts[i], "duration_ms"),
				      "outcomes", json_object_get(parts[i], "outcomes"));

		if (json_object_get(parts[i], "error"))
			json_object_set(b, "error", json_object_get(parts[i], "error"));
		json_array_append_new(boots, b);
		if (report_status_rank(json_string_value(json_object_get(parts[i], "status"))) >
		    report_status_rank(json_string_value(json_object_get(parts[worst], "status"))))
			worst = i;
		dur += json_integer_value(json_object_get(parts[i], "duration_ms"));
		racy |= json_is_true(json_object_get(parts[i], "racy"));
		outcomes_pool(outcomes, index, parts[i]);
	}
	json_decref(index);
	cell = json_pack("{s:s, s:i, s:s, s:s, s:o, s:I}", "kernel", kernel, "smp", smp,
			 "scenario", id, "status", "ok", "outcomes", outcomes, "duration_ms", dur);
	merged_status(cell, parts, bootno, n, worst);
	if (racy)
		json_object_set_new(cell, "racy", json_true());
	json_object_set_new(cell, "boots", boots);
	return cell;
}

int report_write(const char *dir, json_t *run, struct kf_error *e)
{
	char *path = xasprintf("%s/run.json", dir);
	char *text = json_dumps(run, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int ret;

	/* a run.json that cannot be written leaves the last good one as it was */
	if (!text)
		ret = error_set(e, path, 0, 0, "cannot write: the report does not encode as JSON");
	else
		ret = util_write_atomic(path, text, strlen(text), e);
	free(text);
	free(path);
	return ret;
}

void report_host_accel(json_t *hosts, const char *uri, const char *accel, const char *reason)
{
	json_array_append_new(hosts, json_pack("{s:s, s:s, s:s}", "uri", uri, "accelerator", accel,
					       "accelerator_reason", reason));
}

json_t *report_new(const struct report_meta *m)
{
	json_t *run, *vsmp = json_array();
	int i;

	run = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:i}, s:{s:s, s:s, s:s, s:s},"
			" s:[], s:[], s:i, s:i, s:I, s:i, s:[], s:[], s:[]}",
			"schema", REPORT_SCHEMA, "id", m->id, "started", m->started,
			"config", m->config,
			"host", "hostname", m->hostname, "kernel", m->host_kernel, "cpus", m->host_cpus,
			"qemu", "binary", m->vm_binary, "version", m->vm_version ? m->vm_version : "unknown",
			"accelerator", m->accel, "accelerator_reason", m->accel_reason,
			"kernels", "smp", "reps", m->reps, "boots", m->boots,
			"seed", (json_int_t)m->seed, "timeout_ms", m->timeout_ms,
			"scenarios", "cells", "guests");
	for (i = 0; i < m->nvariant_smp; i++)
		json_array_append_new(vsmp, json_integer(m->variant_smp[i]));
	json_object_set_new(run, "space", json_string(m->space));
	json_object_set_new(run, "variant_reps", json_integer(m->variant_reps));
	json_object_set_new(run, "variant_smp", vsmp);
	if (m->tcg_threads)
		json_object_set_new(json_object_get(run, "qemu"), "tcg_threads",
				    json_string(m->tcg_threads));
	if (m->firmware)
		json_object_set_new(json_object_get(run, "qemu"), "firmware",
				    json_string(m->firmware));
	if (m->hosts)
		json_object_set(json_object_get(run, "qemu"), "hosts", m->hosts);
	return run;
}

void report_add_kernel(json_t *run, const char *name, const char *source, const char *spec,
		       const char *path, const char *sha256, const char *boot, const char *release)
{
	json_t *kj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "source", source,
			       "spec", spec ? spec : "", "path", path, "sha256", sha256);

	if (boot)
		json_object_set_new(kj, "boot", json_string(boot));
	if (release)
		json_object_set_new(kj, "release", json_string(release));
	json_array_append_new(json_object_get(run, "kernels"), kj);
}

void report_add_smp(json_t *run, int smp)
{
	json_array_append_new(json_object_get(run, "smp"), json_integer(smp));
}

void report_add_scenario(json_t *run, const char *id)
{
	json_array_append_new(json_object_get(run, "scenarios"), json_string(id));
}

void report_add_cell(json_t *run, json_t *cell)
{
	json_array_append_new(json_object_get(run, "cells"), cell);
}

void report_add_guest(json_t *run, json_t *guest, json_t *overlap)
{
	json_object_set_new(guest, "overlap", overlap ? overlap : json_array());
	json_array_append_new(json_object_get(run, "guests"), guest);
}

void report_set_interrupted(json_t *run)
{
	json_object_set_new(run, "interrupted", json_true());
}

static const char *str_of(json_t *o, const char *key);

void report_set_inputs(json_t *run, const char *initramfs_sha256, int memory_mb,
		       const char *boot_args, const char *cmdline)
{
	static const char *const same[] = { "scenarios", "space", "smp", "reps", "boots",
					    "timeout_ms", "variant_reps", "variant_smp",
					    "scenario_reps" };
	json_t *in = json_object(), *ks = json_array(), *k, *vm = json_object_get(run, "qemu");
	char *text, hex[65];
	size_t i;

	json_array_foreach(json_object_get(run, "kernels"), i, k) {
		json_t *o = json_object();

		json_object_set(o, "name", json_object_get(k, "name"));
		json_object_set(o, "sha256", json_object_get(k, "sha256"));
		if (json_object_get(k, "boot"))
			json_object_set(o, "boot", json_object_get(k, "boot"));
		json_array_append_new(ks, o);
	}
	json_object_set_new(in, "kernels", ks);
	json_object_set_new(in, "initramfs_sha256", json_string(initramfs_sha256));
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (json_object_get(run, same[i]))
			json_object_set(in, same[i], json_object_get(run, same[i]));
	json_object_set_new(in, "memory_mb", json_integer(memory_mb));
	json_object_set_new(in, "cmdline", json_string(cmdline ? cmdline : ""));
	json_object_set_new(in, "boot_args", json_string(boot_args ? boot_args : ""));
	json_object_set(in, "qemu_version", json_object_get(vm, "version"));
	json_object_set(in, "accelerator", json_object_get(vm, "accelerator"));
	if (json_object_get(vm, "tcg_threads"))
		json_object_set(in, "tcg_threads", json_object_get(vm, "tcg_threads"));
	if (json_object_get(vm, "firmware"))
		json_object_set(in, "firmware", json_object_get(vm, "firmware"));
	text = json_dumps(in, JSON_SORT_KEYS | JSON_COMPACT);
	util_sha256(text, strlen(text), hex);
	free(text);
	/* Each kernel's own key: the same inputs with only its image (not its name). */
	json_array_foreach(json_object_get(run, "kernels"), i, k) {
		json_t *one = json_copy(in), *ki = json_copy(json_array_get(ks, i));
		char khex[65];

		json_object_del(ki, "name");
		json_object_set_new(one, "kernels", json_pack("[o]", ki));
		text = json_dumps(one, JSON_SORT_KEYS | JSON_COMPACT);
		json_decref(one);
		util_sha256(text, strlen(text), khex);
		free(text);
		json_object_set_new(k, "inputs_key", json_string(khex));
	}
	json_object_set_new(run, "inputs", in);
	json_object_set_new(run, "inputs_key", json_string(hex));
}

const char *report_inputs_key(json_t *run)
{
	return str_of(run, "inputs_key");
}

int report_was_interrupted(json_t *run)
{
	return json_is_true(json_object_get(run, "interrupted"));
}

void report_set_nightly(json_t *run)
{
	json_object_set_new(run, "nightly", json_true());
}

int report_is_nightly(json_t *run)
{
	return json_is_true(json_object_get(run, "nightly"));
}

json_t *report_unchanged(json_t *orig, const char *orig_dir, const char *id,
			 const char *started, const char *finished)
{
	json_t *run = json_deep_copy(orig), *was = json_object_get(orig, "unchanged");

	json_object_set_new(run, "id", json_string(id));
	json_object_set_new(run, "started", json_string(started));
	json_object_set_new(run, "finished", json_string(finished));
	json_object_set_new(run, "guests", json_array());
	json_object_del(run, "interrupted");
	if (!json_is_object(was))
		json_object_set_new(run, "unchanged", json_pack("{s:s?, s:s}", "run",
				    report_id(orig), "dir", orig_dir));
	return run;
}

const char *report_unchanged_from(json_t *run, const char **dir)
{
	json_t *u = json_object_get(run, "unchanged");

	if (dir)
		*dir = str_of(u, "dir");
	return str_of(u, "run");
}

void report_set_finished(json_t *run, const char *finished)
{
	json_object_set_new(run, "finished", json_string(finished));
}

void report_set_scenario_reps(json_t *run, const char *id, int reps)
{
	json_t *sr = json_object_get(run, "scenario_reps");

	if (!sr) {
		sr = json_object();
		json_object_set_new(run, "scenario_reps", sr);
	}
	json_object_set_new(sr, id, json_integer(reps));
}

json_t *report_overlap_add(json_t *overlap, const char *kernel, int smp, int boot, long long ms)
{
	if (!overlap)
		overlap = json_array();
	json_array_append_new(overlap, json_pack("{s:s, s:i, s:i, s:I}", "kernel", kernel,
						 "smp", smp, "boot", boot, "ms", (json_int_t)ms));
	return overlap;
}

json_t *report_cell_new(const char *kernel, int smp, const char *scenario, const char *status,
			json_t *outcomes, long long duration_ms, const char *error, int racy,
			json_t *excerpt)
{
	json_t *c = json_pack("{s:s, s:i, s:s, s:s, s:o, s:I}", "kernel", kernel, "smp", smp,
			      "scenario", scenario, "status", status,
			      "outcomes", outcomes ? json_incref(outcomes) : json_array(),
			      "duration_ms", (json_int_t)duration_ms);

	if (error)
		json_object_set_new(c, "error", json_string(error));
	if (racy)
		json_object_set_new(c, "racy", json_true());
	if (excerpt)
		json_object_set(c, "excerpt", excerpt);
	return c;
}

json_t *report_guest_new(const struct report_guest_info *gi)
{
	json_t *g = json_pack("{s:s, s:i, s:i, s:s, s:s, s:I, s:I, s:s, s:s, s:O}",
			      "kernel", gi->kernel, "smp", gi->smp, "boot", gi->boot,
			      "status", gi->status, "accelerator", gi->accel,
			      "boot_ms", (json_int_t)gi->boot_ms, "duration_ms", (json_int_t)gi->duration_ms,
			      "console", gi->console, "results", gi->results, "events", gi->events);

	if (gi->block) {
		json_object_set_new(g, "block", json_integer(gi->block));
		if (gi->followup)
			json_object_set_new(g, "followup", json_true());
		json_object_set_new(g, "order_seed", json_integer((json_int_t)gi->order_seed));
		if (gi->scenarios)
			json_object_set(g, "scenarios", gi->scenarios);
		if (gi->scenarios_planned)
			json_object_set_new(g, "scenarios_planned", json_true());
	}
	if (json_array_size(gi->unplanned))
		json_object_set(g, "unplanned", gi->unplanned);
	if (gi->retried)
		json_object_set(g, "retried", gi->retried);
	if (json_array_size(gi->requeued))
		json_object_set_new(g, "requeued", json_deep_copy(gi->requeued));
	if (gi->release)
		json_object_set_new(g, "release", json_string(gi->release));
	if (gi->error)
		json_object_set_new(g, "error", json_string(gi->error));
	if (gi->rejected || gi->gaps)
		json_object_set_new(g, "protocol", json_pack("{s:I, s:I, s:O}",
				    "rejected", (json_int_t)gi->rejected, "gaps", (json_int_t)gi->gaps,
				    "reasons", gi->reasons));
	if (gi->diag && *gi->diag)
		json_object_set_new(g, "qemu_stderr", json_string(gi->diag));
	if (gi->log_error)
		json_object_set_new(g, "log_error", json_string(gi->log_error));
	if (gi->backend)
		json_object_set_new(g, "backend", json_string(gi->backend));
	if (gi->host && *gi->host)
		json_object_set_new(g, "host", json_string(gi->host));
	return g;
}

const char *report_guest_status(json_t *guest)
{
	return json_string_value(json_object_get(guest, "status"));
}

const char *report_guest_error(json_t *guest)
{
	return json_string_value(json_object_get(guest, "error"));
}

json_t *report_guest_first_try(json_t *guest, const char *console, const char *results)
{
	json_t *first = json_copy(guest);

	json_object_set_new(first, "console", json_string(console));
	json_object_set_new(first, "results", json_string(results));
	return first;
}

const char *report_cell_status(json_t *cell)
{
	return json_string_value(json_object_get(cell, "status"));
}

json_t *report_cell_outcomes(json_t *cell)
{
	return json_object_get(cell, "outcomes");
}

/* Append @arg to @cmd, single-quoted when the shell would read it otherwise. */
static char *shell_append(char *cmd, const char *arg)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_@%+=:,./-";
	size_t n = strlen(cmd), len = strlen(arg), i;
	char *out = xmalloc(n + 1 + 4 * len + 3), *p;

	memcpy(out, cmd, n);
	p = out + n;
	if (n)
		*p++ = ' ';
	if (len && strspn(arg, safe) == len) {
		memcpy(p, arg, len);
		p += len;
	} else {
		*p++ = '\'';
		for (i = 0; i < len; i++) {
			if (arg[i] == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = arg[i];
			}
		}
		*p++ = '\'';
	}
	*p = 0;
	free(cmd);
	return out;
}

/* "path:IMAGE" for a run's kernel, or its source when the path is unknown. */
static char *kernel_spec(json_t *run, const char *name)
{
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(run, "kernels"), i, k) {
		const char *n = json_string_value(json_object_get(k, "name"));
		const char *path = json_string_value(json_object_get(k, "path"));
		const char *src = json_string_value(json_object_get(k, "source"));

		if (!n || strcmp(n, name))
			continue;
		if (path && *path)
			return xasprintf("path:%s", path);
		return src && *src ? xstrdup(src) : NULL;
	}
	return NULL;
}

char *report_replay_command(json_t *run_a, const char *ka, json_t *run_b, const char *kb,
			    const char *scenario, long long smp, int reps)
{
	char *spec_a = kernel_spec(run_a, ka), *spec_b = kernel_spec(run_b, kb);
	char *cmd = NULL, num[32];
	json_t *v;
	const char *accel;
	int variant = cells_is_variant(scenario);

	if (!spec_a || !spec_b)
		goto cleanup;
	cmd = shell_append(xstrdup(""), "kfarm");
	cmd = shell_append(cmd, "compare");
	cmd = shell_append(cmd, spec_a);
	cmd = shell_append(cmd, spec_b);
	cmd = shell_append(cmd, "--smp");
	snprintf(num, sizeof(num), "%lld", smp);
	cmd = shell_append(cmd, num);
	cmd = shell_append(cmd, "--scenarios");
	cmd = shell_append(cmd, scenario);
	v = json_object_get(run_a, variant ? "variant_reps" : "reps");
	if (reps <= 0 && json_is_integer(v))
		reps = (int)json_integer_value(v);
	if (reps > 0) {
		snprintf(num, sizeof(num), "%d", reps);
		cmd = shell_append(cmd, variant ? "--variant-reps" : "--reps");
		cmd = shell_append(cmd, num);
	}
	v = json_object_get(run_a, "boots");
	if (json_is_integer(v) && json_integer_value(v) >= 1) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		cmd = shell_append(cmd, "--boots");
		cmd = shell_append(cmd, num);
	}
	v = json_object_get(run_a, "timeout_ms");
	if (json_is_integer(v) && json_integer_value(v) >= 100) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		cmd = shell_append(cmd, "--timeout-ms");
		cmd = shell_append(cmd, num);
	}
	accel = json_string_value(json_object_get(json_object_get(run_a, "qemu"), "accelerator"));
	if (accel && (!strcmp(accel, "kvm") || !strcmp(accel, "tcg"))) {
		cmd = shell_append(cmd, "--accel");
		cmd = shell_append(cmd, accel);
	}

cleanup:
	free(spec_a);
	free(spec_b);
	return cmd;
}

int report_run_reps(json_t *run, int variant)
{
	return (int)json_integer_value(json_object_get(run, variant ? "variant_reps" : "reps"));
}

void report_print_summary(FILE *f, json_t *run, const char *dir)
{
	size_t n = sizeof(statuses) / sizeof(statuses[0]), counts[sizeof(statuses) /
								 sizeof(statuses[0])] = { 0 };
	json_t *cells = json_object_get(run, "cells"), *c;
	size_t i, k;

	json_array_foreach(cells, i, c)
		for (k = 0; k < n; k++)
			if (!strcmp(report_cell_status(c) ? report_cell_status(c) : "", statuses[k].name))
				counts[k]++;
	fprintf(f, "run %s: %zu cells:", json_string_value(json_object_get(run, "id")),
		json_array_size(cells));
	for (k = 0; k < n; k++)
		if (counts[k])
			fprintf(f, " %zu %s", counts[k], statuses[k].name);
	fprintf(f, "\nreport: %s/run.json\n", dir);
}

int report_all_answered(json_t *run)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(run, "cells"), i, c)
		if (!report_cell_answered(c))
			return 0;
	return 1;
}

size_t report_nkernels(json_t *run)
{
	return json_array_size(json_object_get(run, "kernels"));
}

json_t *report_kernel_at(json_t *run, size_t i)
{
	return json_array_get(json_object_get(run, "kernels"), i);
}

const char *report_kernel_name(json_t *run, size_t i)
{
	return json_string_value(json_object_get(report_kernel_at(run, i), "name"));
}

const char *report_id(json_t *run)
{
	return json_string_value(json_object_get(run, "id"));
}

json_t *report_scenarios(json_t *run)
{
	return json_object_get(run, "scenarios");
}

static const char *str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void report_kernel_info(json_t *kernel, struct report_kernel_info *ki)
{
	ki->name = str_of(kernel, "name");
	ki->source = str_of(kernel, "source");
	ki->release = str_of(kernel, "release");
	ki->path = str_of(kernel, "path");
	ki->sha256 = str_of(kernel, "sha256");
	ki->inputs_key = str_of(kernel, "inputs_key");
	ki->reused_from = str_of(json_object_get(kernel, "reused"), "run");
}

json_t *report_side_copy(json_t *run, json_t *names)
{
	json_t *out = json_deep_copy(run), *guests = json_array(), *cells = json_array(), *x;
	size_t i;

	json_array_foreach(json_object_get(out, "kernels"), i, x) {
		json_t *to = json_object_get(names, str_of(x, "name") ?: "");

		if (to)
			json_object_set(x, "name", to);
		else
			json_object_set_new(x, "name", json_sprintf("(not taken %zu)", i));
	}
	json_array_foreach(json_object_get(out, "cells"), i, x) {
		json_t *to = json_object_get(names, str_of(x, "kernel") ?: "");

		if (to) {
			json_object_set(x, "kernel", to);
			json_array_append(cells, x);
		}
	}
	json_array_foreach(json_object_get(out, "guests"), i, x) {
		json_t *to = json_object_get(names, str_of(x, "kernel") ?: "");

		if (to && !strcmp(str_of(x, "status") ?: "", "ok")) {
			json_object_set(x, "kernel", to);
			json_array_append(guests, x);
		}
	}
	json_object_set_new(out, "cells", cells);
	json_object_set_new(out, "guests", guests);
	return out;
}

/* @path (a guest's file) as seen from the run that takes it: @prefix before a relative one. */
static json_t *path_from(const char *path, const char *prefix)
{
	/* "../X/" before "../Y/f" (a guest X had taken itself) is "../Y/f" again */
	if (!path || path[0] == '/' || (!strncmp(prefix, "../", 3) && !strncmp(path, "../", 3) &&
					!strchr(prefix + 3, '/')[1]))
		return path ? json_string(path) : json_null();
	return json_sprintf("%s%s", prefix, path);
}

json_t *report_guest_reused(json_t *guest, const char *run, const char *dir, const char *prefix)
{
	json_t *g = json_deep_copy(guest);

	if (!json_is_object(json_object_get(g, "reused")))
		json_object_set_new(g, "reused", report_reused_ref(run, dir));
	json_object_set_new(g, "console", path_from(str_of(guest, "console"), prefix));
	json_object_set_new(g, "results", path_from(str_of(guest, "results"), prefix));
	return g;
}

void report_kernel_set_reused(json_t *run, const char *name, json_t *from)
{
	json_t *k = report_kernel(run, name, NULL);

	if (k && from)
		json_object_set(k, "reused", from);
}

json_t *report_reused_ref(const char *run, const char *dir)
{
	return json_pack("{s:s, s:s}", "run", run, "dir", dir);
}

const char *report_kernel_with_key(json_t *run, const char *key)
{
	struct report_kernel_info ki;
	json_t *k;
	size_t i;

	json_array_foreach(json_object_get(run, "kernels"), i, k) {
		report_kernel_info(k, &ki);
		if (ki.inputs_key && ki.name && !strcmp(ki.inputs_key, key))
			return ki.name;
	}
	return NULL;
}

json_t *report_kernel_reused(json_t *kernel)
{
	json_t *r = json_object_get(kernel, "reused");

	return json_is_object(r) ? r : NULL;
}

void report_run_info(json_t *run, struct report_run_info *ri)
{
	json_t *vm = json_object_get(run, "qemu");

	ri->id = str_of(run, "id");
	ri->started = str_of(run, "started");
	ri->finished = str_of(run, "finished");
	ri->config = str_of(run, "config");
	ri->vm_binary = str_of(vm, "binary");
	ri->vm_version = str_of(vm, "version");
	ri->accel = str_of(vm, "accelerator");
	ri->accel_reason = str_of(vm, "accelerator_reason");
	ri->tcg_threads = str_of(vm, "tcg_threads");
	ri->firmware = str_of(vm, "firmware");
}

json_t *report_status_counts(json_t *run)
{
	json_t *counts = json_object(), *c;
	size_t i;

	json_array_foreach(json_object_get(run, "cells"), i, c) {
		const char *s = report_cell_status(c);

		if (s)
			json_object_set_new(counts, s, json_integer(
				json_integer_value(json_object_get(counts, s)) + 1));
	}
	return counts;
}

size_t report_ncells(json_t *run)
{
	return json_array_size(json_object_get(run, "cells"));
}

const char *report_cell_error(json_t *cell)
{
	return str_of(cell, "error");
}

int report_cell_racy(json_t *cell)
{
	return json_is_true(json_object_get(cell, "racy"));
}

const char *report_cell_scenario(json_t *cell)
{
	return str_of(cell, "scenario");
}

long long report_cell_smp(json_t *cell)
{
	return (long long)json_integer_value(json_object_get(cell, "smp"));
}

char *report_histogram_add(json_t *outcomes, const char *what, json_t *set, json_t *hist)
{
	json_t *o;
	size_t i;

	if (!json_is_array(outcomes))
		return xasprintf("%s is not an array", what);
	json_array_foreach(outcomes, i, o) {
		json_t *obs = json_object_get(o, "observation");
		json_t *count = json_object_get(o, "count");
		char *key;

		if (!json_is_object(obs))
			return xasprintf("%s[%zu].observation is not an object", what, i);
		if (!json_is_integer(count) || json_integer_value(count) < 1)
			return xasprintf("%s[%zu].count is not a positive integer", what, i);
		if (json_integer_value(count) > REPORT_MAX_COUNT)
			return xasprintf("%s[%zu].count %" JSON_INTEGER_FORMAT " is more than %"
					 JSON_INTEGER_FORMAT ", the most an outcome may count",
					 what, i, json_integer_value(count), REPORT_MAX_COUNT);
		key = json_dumps(obs, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
		if (!key)
			key = xstrdup("null");
		json_object_set(set, key, obs);
		json_object_set_new(hist, key,
				    json_integer(json_integer_value(json_object_get(hist, key)) +
						 json_integer_value(count)));
		free(key);
	}
	return NULL;
}

json_t *report_cell_boot_histograms(json_t *cell, const char *side, json_t *hist, char **why)
{
	json_t *boots = json_object_get(cell, "boots"), *out = json_array(), *b;
	size_t i;

	if (!boots) {
		json_array_append(out, hist);
		return out;
	}
	if (!json_is_array(boots) || json_array_size(boots) == 0) {
		*why = xasprintf("%s: boots is not a non-empty array", side);
		json_decref(out);
		return NULL;
	}
	json_array_foreach(boots, i, b) {
		json_t *set = json_object(), *h = json_object();
		char *what = xasprintf("boots[%zu].outcomes", i);
		char *bad = report_histogram_add(json_object_get(b, "outcomes"), what, set, h);

		free(what);
		json_decref(set);
		if (bad) {
			*why = xasprintf("%s: %s", side, bad);
			free(bad);
			json_decref(h);
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, h);
	}
	return out;
}

/* Copy @key of @from to @to when it is a string. */
static void copy_string(json_t *to, json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	if (json_is_string(v))
		json_object_set(to, key, v);
}

json_t *report_cell_digest(json_t *cell)
{
	json_t *s = json_object(), *v;

	copy_string(s, cell, "status");
	copy_string(s, cell, "error");
	v = json_object_get(cell, "outcomes");
	json_object_set_new(s, "outcomes",
			    json_is_array(v) ? json_deep_copy(v) : json_array());
	v = json_object_get(cell, "boots");
	if (json_is_array(v))
		json_object_set_new(s, "boots", json_deep_copy(v));
	if (report_cell_racy(cell))
		json_object_set_new(s, "racy", json_true());
	return s;
}

json_t *report_guest_excerpt(json_t *run, const char *kernel, long long smp)
{
	json_t *g = report_guest(run, kernel, smp), *ev, *line, *out, *lines;
	size_t j, l;

	if (!g)
		return NULL;
	lines = json_array();
	out = json_object();
	copy_string(out, g, "status");
	copy_string(out, g, "console");
	copy_string(out, g, "error");
	json_array_foreach(json_object_get(g, "events"), j, ev) {
		json_t *ex = report_event_excerpt(ev);

		if (json_array_size(ex)) {
			json_array_foreach(ex, l, line)
				if (json_is_string(line))
					json_array_append(lines, line);
		} else if (json_is_string(json_object_get(ev, "text"))) {
			json_array_append(lines, json_object_get(ev, "text"));
		}
	}
	json_object_set_new(out, "lines", lines);
	return out;
}

json_t *report_event_new(const char *kind, long long line, const char *text, json_t *excerpt)
{
	json_t *ev = json_pack("{s:s, s:I, s:s, s:o}", "kind", kind, "line", (json_int_t)line,
			       "text", text, "excerpt", excerpt);

	if (!ev)
		fatalx("out of memory");
	return ev;
}

json_t *report_event_excerpt(json_t *ev)
{
	return json_object_get(ev, "excerpt");
}

int report_resume_info(json_t *run, const char *file, struct report_run_info *ri,
		       long long *seed, struct kf_error *e)
{
	json_t *v = json_object_get(run, "seed");

	report_run_info(run, ri);
	if (!ri->id || !*ri->id || strchr(ri->id, '/') || strlen(ri->id) > 200)
		return error_set(e, file, 0, 0, "malformed run: \"id\" is missing or not a run id");
	if (!ri->started || strlen(ri->started) < 20 || strlen(ri->started) > 30)
		return error_set(e, file, 0, 0, "malformed run: \"started\" is missing or not a "
				 "timestamp");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 0x7fffffff)
		return error_set(e, file, 0, 0, "malformed run: \"seed\" is missing or not a "
				 "positive integer");
	if (!ri->accel || !*ri->accel)
		return error_set(e, file, 0, 0, "malformed run: qemu.accelerator is missing or not "
				 "a string");
	*seed = (long long)json_integer_value(v);
	return 0;
}

/* @v as JSON for a message (owned): "(absent)" for NULL, cut after 100 bytes. */
static char *plan_value_text(json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	char *out;

	if (!s)
		return xstrdup("(absent)");
	if (strlen(s) <= 100)
		return s;
	out = xasprintf("%.100s...", s);
	free(s);
	return out;
}

/* The error of report_same_plan(): @what was @a in the first run and is @b now. */
static int plan_differs(struct kf_error *e, const char *file, const char *what, json_t *a,
			json_t *b)
{
	char *ta = plan_value_text(a), *tb = plan_value_text(b);

	error_set(e, file, 0, 0, "%s was %s in the run to resume, %s now: --resume takes the "
		  "options of that run's command line", what, ta, tb);
	free(ta);
	free(tb);
	return -1;
}

/*
 * Compare @key of @first and @now; arrays element by element, so that the
 * error names the first one that differs. @absent: the value a missing key
 * stands for (NULL: none).
 */
static int plan_key_same(json_t *first, json_t *now, const char *key, json_t *absent,
			 const char *file, struct kf_error *e)
{
	json_t *a = json_object_get(first, key), *b = json_object_get(now, key);
	size_t i;

	if (!a)
		a = absent;
	if (!b)
		b = absent;
	if (a && b && json_equal(a, b))
		return 0;
	if (json_is_array(a) && json_is_array(b)) {
		for (i = 0; i < json_array_size(a) && i < json_array_size(b); i++) {
			if (!json_equal(json_array_get(a, i), json_array_get(b, i))) {
				char *what = xasprintf("%s[%zu]", key, i);

				plan_differs(e, file, what, json_array_get(a, i), json_array_get(b, i));
				free(what);
				return -1;
			}
		}
		if (json_array_size(a) != json_array_size(b)) {
			char *what = xasprintf("the number of %s", key);
			json_t *na = json_integer((json_int_t)json_array_size(a));
			json_t *nb = json_integer((json_int_t)json_array_size(b));

			plan_differs(e, file, what, na, nb);
			free(what);
			json_decref(na);
			json_decref(nb);
			return -1;
		}
	}
	return plan_differs(e, file, key, a, b);
}

/*
 * The kernels of @first and @now: each with the same name and sha256 (its
 * path and release may differ), as many.
 */
static int plan_kernels_same(json_t *first, json_t *now, const char *file, struct kf_error *e)
{
	static const char *const keys[] = { "name", "sha256" };
	json_t *ka = json_object_get(first, "kernels"), *kb = json_object_get(now, "kernels");
	size_t i, k;

	for (i = 0; i < json_array_size(ka) && i < json_array_size(kb); i++) {
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			json_t *a = json_object_get(json_array_get(ka, i), keys[k]);
			json_t *b = json_object_get(json_array_get(kb, i), keys[k]);

			if (!a || !b || !json_equal(a, b)) {
				char *what = xasprintf("kernels[%zu].%s", i, keys[k]);

				plan_differs(e, file, what, a, b);
				free(what);
				return -1;
			}
		}
	}
	if (json_array_size(ka) != json_array_size(kb)) {
		json_t *na = json_integer((json_int_t)json_array_size(ka));
		json_t *nb = json_integer((json_int_t)json_array_size(kb));

		plan_differs(e, file, "the number of kernels", na, nb);
		json_decref(na);
		json_decref(nb);
		return -1;
	}
	return 0;
}

int report_same_plan(json_t *first, json_t *now, const char *file, struct kf_error *e)
{
	/* What decides which guests run which cells how often; in a message's order. */
	static const char *const keys[] = {
		"seed", "smp", "scenarios", "reps", "boots", "timeout_ms", "variant_reps",
		"variant_smp", "space", "scenario_reps",
	};
	json_t *absent_space = json_string("base"), *absent_reps = json_object();
	int ret = 0;
	size_t i;

	if (!json_is_object(first) || !json_is_object(now)) {
		ret = error_set(e, file, 0, 0, "not a JSON object");
		goto cleanup;
	}
	if (plan_kernels_same(first, now, file, e) < 0) {
		ret = -1;
		goto cleanup;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && ret == 0; i++) {
		json_t *absent = !strcmp(keys[i], "space") ? absent_space :
				 !strcmp(keys[i], "scenario_reps") ? absent_reps : NULL;

		/* kfarm writes the same value the same way: compare them as written */
		if (!json_object_get(now, keys[i]) && !absent)
			continue;
		ret = plan_key_same(first, now, keys[i], absent, file, e);
	}
cleanup:
	json_decref(absent_space);
	json_decref(absent_reps);
	return ret;
}

/* Whether a guest of @run with @status has finished: see report_done_guests(). */
static int guest_final(json_t *run, const char *status)
{
	if (json_is_true(json_object_get(run, "interrupted")))
		return !strcmp(status, "ok");
	return 1;
}

/*
 * Integer @key of guest entry @i, @g, from @min to @max, or -1 with @e
 * (@absent when the key is missing and @absent >= @min).
 */
static long long guest_int(json_t *g, const char *key, long long min, long long max,
			   long long absent, const char *file, size_t i, struct kf_error *e)
{
	json_t *v = json_object_get(g, key);

	if (!v && absent >= min)
		return absent;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return error_set(e, file, 0, 0, "malformed run: guests[%zu].%s is missing or not an "
				 "integer from %lld to %lld", i, key, min, max);
	return (long long)json_integer_value(v);
}

/*
 * Guest @d's part of @cell (a cell of several boots: its "boots" entry for
 * d->boot), as that guest reported it; NULL and @e when there is none.
 * @excerpt: the cell's excerpt belongs to this boot (the first worst one).
 */
static json_t *boot_part(json_t *cell, const struct report_done_guest *d, const char *id,
			 const char *file, struct kf_error *e)
{
	json_t *boots = json_object_get(cell, "boots"), *b, *part = NULL, *worst = NULL;
	size_t i;

	if (!json_is_array(boots)) {
		error_set(e, file, 0, 0, "malformed run: the cell of kernel %s, SMP %d, %s has "
			  "\"boots\" that is not an array", d->kernel, d->smp, id);
		return NULL;
	}
	json_array_foreach(boots, i, b) {
		const char *st = json_string_value(json_object_get(b, "status"));

		if (!json_is_object(b) || !report_status_find(st) ||
		    !json_is_array(json_object_get(b, "outcomes")) ||
		    !json_is_integer(json_object_get(b, "boot"))) {
			error_set(e, file, 0, 0, "malformed run: boots[%zu] of the cell of kernel %s, "
				  "SMP %d, %s lacks a boot, a known status or outcomes", i,
				  d->kernel, d->smp, id);
			return NULL;
		}
		if (!worst || report_status_rank(st) >
			      report_status_rank(json_string_value(json_object_get(worst, "status"))))
			worst = b;
		if (json_integer_value(json_object_get(b, "boot")) == d->boot && !part)
			part = b;
	}
	if (!part) {
		error_set(e, file, 0, 0, "malformed run: guests[%zu] (kernel %s, SMP %d, boot %d) "
			  "ran %s, but that cell has no part for boot %d", d->index, d->kernel,
			  d->smp, d->boot, id, d->boot);
		return NULL;
	}
	return report_cell_new(d->kernel, d->smp, id,
			       json_string_value(json_object_get(part, "status")),
			       json_object_get(part, "outcomes"),
			       json_integer_value(json_object_get(part, "duration_ms")),
			       str_of(part, "error"), report_cell_racy(cell),
			       part == worst ? json_object_get(cell, "excerpt") : NULL);
}

/*
 * Whether guest @d is the second to say it ran @id on its kernel at its SMP
 * size, a cell that has no "boots" (one guest ran it); @e says so.
 */
static int claimed_twice(json_t *claims, const struct report_done_guest *d, const char *id,
			 const char *file, struct kf_error *e)
{
	char *key = xasprintf("%s\n%d\n%s", d->kernel, d->smp, id);
	json_t *by = json_object_get(claims, key);

	if (by)
		error_set(e, file, 0, 0, "malformed run: guests[%zu] ran %s on kernel %s at SMP %d "
			  "as guests[%" JSON_INTEGER_FORMAT "] did, but that cell has no \"boots\"",
			  d->index, id, d->kernel, d->smp, json_integer_value(by));
	else
		json_object_set_new(claims, key, json_integer((json_int_t)d->index));
	free(key);
	return by != NULL;
}

/*
 * Guest @d's own cells, out of @map (report_cells_of() of its kernel): one
 * per id of its "scenarios". A cell without "boots" was one guest's: @claims
 * (its key -> the guest's index) says whose. 0, or -1 with @e.
 */
static int done_guest_cells(struct report_done_guest *d, json_t *map, json_t *claims,
			    const char *file, struct kf_error *e)
{
	json_t *ids = json_object_get(d->entry, "scenarios"), *v;
	size_t i;

	if (!json_is_array(ids))
		return error_set(e, file, 0, 0, "malformed run: guests[%zu].scenarios is missing "
				 "or not an array", d->index);
	d->cells = json_object();
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);
		char *key;
		json_t *cell, *part;

		if (!id || !*id)
			return error_set(e, file, 0, 0, "malformed run: guests[%zu].scenarios[%zu] "
					 "is not a cell id", d->index, i);
		if (json_object_get(d->cells, id))
			return error_set(e, file, 0, 0, "malformed run: guests[%zu].scenarios names "
					 "%s twice", d->index, id);
		key = report_cell_key(id, d->smp);
		cell = json_object_get(map, key);
		free(key);
		if (!cell)
			return error_set(e, file, 0, 0, "malformed run: guests[%zu] (kernel %s, SMP "
					 "%d, boot %d) ran %s, but \"cells\" has no such cell",
					 d->index, d->kernel, d->smp, d->boot, id);
		if (!json_object_get(cell, "boots") && claimed_twice(claims, d, id, file, e))
			return -1;
		if (!report_status_find(report_cell_status(cell)) ||
		    !json_is_array(json_object_get(cell, "outcomes")))
			return error_set(e, file, 0, 0, "malformed run: the cell of kernel %s, SMP %d, "
					 "%s lacks a known status or outcomes", d->kernel, d->smp, id);
		part = json_object_get(cell, "boots") ? boot_part(cell, d, id, file, e) :
		       json_deep_copy(cell);
		if (!part)
			return -1;
		json_object_set_new(d->cells, id, part);
	}
	return 0;
}

/* Fill @d from "guests" entry @i, @g; 0, or -1 with @e. */
static int done_guest_fill(struct report_done_guest *d, json_t *g, size_t i, const char *file,
			   struct kf_error *e)
{
	long long smp, boot, block, order;
	json_t *ov;

	d->index = i;
	d->kernel = str_of(g, "kernel");
	if (!d->kernel || !*d->kernel)
		return error_set(e, file, 0, 0, "malformed run: guests[%zu].kernel is missing or "
				 "not a string", i);
	if ((smp = guest_int(g, "smp", 1, 4096, -1, file, i, e)) < 0 ||
	    (boot = guest_int(g, "boot", 1, 1000000, -1, file, i, e)) < 0 ||
	    (block = guest_int(g, "block", 1, 0x7fffffff, -1, file, i, e)) < 0 ||
	    (order = guest_int(g, "order_seed", 0, (1LL << 53) - 1, 0, file, i, e)) < 0)
		return -1;
	ov = json_object_get(g, "overlap");
	if (ov && !json_is_array(ov))
		return error_set(e, file, 0, 0, "malformed run: guests[%zu].overlap is not an array",
				 i);
	if (json_object_get(g, "followup") && !json_is_boolean(json_object_get(g, "followup")))
		return error_set(e, file, 0, 0, "malformed run: guests[%zu].followup is not a "
				 "boolean", i);
	d->smp = (int)smp;
	d->boot = (int)boot;
	d->block = (int)block;
	d->order_seed = (unsigned long long)order;
	d->followup = json_is_true(json_object_get(g, "followup"));
	d->overlap = ov ? json_deep_copy(ov) : json_array();
	d->entry = json_deep_copy(g);
	json_object_del(d->entry, "overlap");
	return 0;
}

/* Whether a guest before @d in @out (@n of them) is the same (kernel, smp, boot). */
static int done_guest_repeats(const struct report_done_guest *out, size_t n,
			      const struct report_done_guest *d)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(out[i].kernel, d->kernel) && out[i].smp == d->smp &&
		    out[i].boot == d->boot)
			return 1;
	return 0;
}

int report_done_guests(json_t *run, const char *file, struct report_done_guest **out,
		       size_t *n, struct kf_error *e)
{
	json_t *guests = json_object_get(run, "guests"), *g, *maps, *claims;
	struct report_done_guest *d = NULL;
	size_t i, nd = 0;

	*out = NULL;
	*n = 0;
	if (!report_check(run, file, e)) {
		if (e)	/* it names the run's id: name the file */
			snprintf(e->source, sizeof(e->source), "%s", file);
		return -1;
	}
	if (!json_is_array(guests))
		return error_set(e, file, 0, 0, "malformed run: \"guests\" is missing or not an array");
	maps = json_object();
	claims = json_object();
	d = xcalloc(json_array_size(guests) + 1, sizeof(*d));
	json_array_foreach(guests, i, g) {
		const char *st = str_of(g, "status");
		json_t *map;

		if (!json_is_object(g) || !report_status_find(st)) {
			error_set(e, file, 0, 0, "malformed run: guests[%zu] is not an object with a "
				  "known status", i);
			goto fail;
		}
		if (!guest_final(run, st))
			continue;
		if (done_guest_fill(&d[nd], g, i, file, e) < 0)
			goto fail_this;
		if (done_guest_repeats(d, nd, &d[nd])) {
			error_set(e, file, 0, 0, "malformed run: guests[%zu] repeats kernel %s, SMP "
				  "%d, boot %d", i, d[nd].kernel, d[nd].smp, d[nd].boot);
			goto fail_this;
		}
		map = json_object_get(maps, d[nd].kernel);
		if (!map) {
			map = json_object();
			json_object_set_new(maps, d[nd].kernel, map);
			if (report_cells_of(run, d[nd].kernel, map, e) < 0) {
				if (e)	/* it names the run's id: name the file */
					snprintf(e->source, sizeof(e->source), "%s", file);
				goto fail_this;
			}
		}
		if (done_guest_cells(&d[nd], map, claims, file, e) < 0)
			goto fail_this;
		nd++;
	}
	json_decref(maps);
	json_decref(claims);
	*out = d;
	*n = nd;
	return 0;

fail_this:
	nd++;	/* what the failed one holds is freed with the others */
fail:
	report_done_guests_free(d, nd);
	json_decref(maps);
	json_decref(claims);
	return -1;
}

void report_done_guests_free(struct report_done_guest *g, size_t n)
{
	size_t i;

	for (i = 0; g && i < n; i++) {
		json_decref(g[i].entry);
		json_decref(g[i].overlap);
		json_decref(g[i].cells);
	}
	free(g);
}

size_t report_nguests(json_t *run)
{
	return json_array_size(json_object_get(run, "guests"));
}

const char *report_guest_at(json_t *run, size_t i, long long *boot_ms)
{
	json_t *g = json_array_get(json_object_get(run, "guests"), i);

	*boot_ms = json_object_get(g, "reused") ? -1 :
		   (long long)json_integer_value(json_object_get(g, "boot_ms"));
	return str_of(g, "status");
}

json_t *report_cell_at(json_t *run, size_t i)
{
	return json_array_get(json_object_get(run, "cells"), i);
}

long long report_cell_duration_ms(json_t *cell)
{
	return (long long)json_integer_value(json_object_get(cell, "duration_ms"));
}
