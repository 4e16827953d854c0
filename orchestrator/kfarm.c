/* SPDX-License-Identifier: MIT */
/*
 * kfarm: one builtin per subcommand (kvmtool's habit): run, diff, compare,
 * calibrate, scenarios, config, history, kernels, hosts and help (the kfarmd
 * client's in client.c); cli.c holds their option tables.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bisect.h"
#include "build.h"
#include "cache.h"
#include "calibrate.h"
#include "cells.h"
#include "cli.h"
#include "client.h"
#include "config.h"
#include "diff.h"
#include "export.h"
#include "history.h"
#include "kernel.h"
#include "log.h"
#include "report.h"
#include "proc.h"
#include "run.h"
#include "util.h"
#include "vm.h"

#define EXIT_DIFFERS 1
#define EXIT_ERROR 2

static void report_error(const struct kf_error *e)
{
	char buf[2048];

	log_warnx("%s", error_format(e, buf, sizeof(buf)));
}

/* config_select_kernel(), its error reported. */
static int select_kernel(const struct config *cfg, const char *what, struct kernel_spec *ks)
{
	struct kf_error e;

	if (config_select_kernel(cfg, what, ks, &e) < 0) {
		report_error(&e);
		return -1;
	}
	return 0;
}

/* Loads the config and applies the command line on top. */
static int load_config(struct config *cfg, const struct cli *c)
{
	const char *file = cli_get(c, CLI_OPT_CONFIG);
	struct kf_error e;

	config_init(cfg);
	if ((file ? config_load_file(cfg, file, &e) : config_load_default(cfg, &e)) < 0 ||
	    cli_apply(c, cfg, &e) < 0) {
		report_error(&e);
		return -1;
	}
	return 0;
}

/*
 * The cells to run (the config's "scenarios" or --scenarios, checked against
 * the catalog) and the SMP sizes that run variant cells.
 */
static int pick_scenarios(const struct config *cfg, const struct cli *c, struct run_opts *o)
{
	struct cells_sel sel;
	struct kf_error e;

	if (config_variant_smp(cfg, o->variant_smp, &o->nvariant_smp, &e) < 0) {
		report_error(&e);
		return -1;
	}
	if (cells_select(cfg, c->val[CLI_OPT_SCENARIOS], &sel, &e) < 0) {
		if (!strcmp(e.source, run_guest_binary()))
			log_warnx("cannot list the scenarios (is %s built? run 'make'): %s",
				  run_guest_binary(), e.text);
		else
			report_error(&e);
		return -1;
	}
	o->scenarios = sel.ids;
	o->racy = sel.racy;
	o->variant = sel.variant;
	o->reps_max = sel.reps_max;
	o->nscenarios = sel.n;
	o->all = sel.all;
	o->catalog = sel.catalog;
	return 0;
}

static void free_run_opts(struct run_opts *o)
{
	size_t i;

	for (i = 0; i < o->nkernels; i++)
		kernel_release(&o->kernels[i]);
	free(o->kernels);
	for (i = 0; i < o->nscenarios; i++)
		free(o->scenarios[i]);
	free(o->scenarios);
	free(o->racy);
	free(o->variant);
	free(o->reps_max);
	json_decref(o->catalog);
	json_decref(o->resume);
}

/*
 * Resolves (fetching where needed) the kernel specs named by @names; @flags:
 * kernel_resolve_flags()'s (--refresh: KERNEL_REFRESH).
 */
static int resolve_kernels(const struct config *cfg, char **names, size_t n, unsigned int flags,
			   struct run_opts *o)
{
	struct kernel_spec *ks = xcalloc(n, sizeof(*ks));
	size_t i, nks;
	int ret = -1;

	/* Every name is known before any kernel is fetched. */
	for (nks = 0; nks < n; nks++)
		if (select_kernel(cfg, names[nks], &ks[nks]) < 0)
			goto cleanup;
	/*
	 * The same kernel twice (an A/A control) boots twice under two names;
	 * so do two inline kernels whose file names are the same.
	 */
	config_kernel_names_unique(ks, n);
	o->kernels = xcalloc(n, sizeof(*o->kernels));
	for (i = 0; i < n; i++) {
		struct kf_error e;

		if (kernel_resolve_flags(&o->kernels[i], &ks[i], flags, &e) < 0) {
			kernel_release(&o->kernels[i]);
			report_error(&e);
			goto cleanup;
		}
		o->nkernels++;
		log_info("kernel %s: %s (sha256 %.12s)", ks[i].name, o->kernels[i].source,
			 o->kernels[i].sha256);
	}
	ret = 0;
cleanup:
	for (i = 0; i < nks; i++)
		config_kernel_release(&ks[i]);
	free(ks);
	return ret;
}

/* Whether paths @a and @b name one directory (both exist). */
static int same_dir(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	int same = ra && rb && !strcmp(ra, rb);

	free(ra);
	free(rb);
	return same;
}

/*
 * --resume RUN_DIR: the run.json of the run to resume into o->resume, read
 * before any kernel is fetched (run_execute() checks the rest). The first
 * command line's -o may stay, naming the same directory.
 */
static int resume_load(const struct cli *c, struct run_opts *o)
{
	const char *dir = c->val[CLI_OPT_RESUME], *out = c->val[CLI_OPT_OUTPUT];
	struct kf_error e;
	char *file;

	if (!dir)
		return 0;
	file = xasprintf("%s/run.json", dir);
	o->resume = report_load(file, &e);
	free(file);
	if (!o->resume) {
		report_error(&e);
		return -1;
	}
	if (out && !same_dir(out, dir)) {
		log_warnx("-o %s: a run resumes in its own directory, %s: leave out -o", out, dir);
		return -1;
	}
	return 0;
}

static char *reports_dir_of(const char *run_dir);

/*
 * --refresh, or --nightly (floating kernels resolved afresh each night), but
 * not when resuming: a kernel that changed meanwhile would not be the run's.
 */
static int refresh_flags(const struct cli *c, const struct run_opts *o)
{
	if (o->resume)
		return 0;
	return c->val[CLI_OPT_REFRESH] || c->val[CLI_OPT_NIGHTLY] ? KERNEL_REFRESH : 0;
}

/*
 * Run kernels @names (@n; none: the config's). @compare: a compare, whose
 * kernels' guests may be taken from an earlier run by content (not with
 * --fresh, nor when resuming).
 */
static int do_run(struct cli *c, char **names, size_t n, int compare, json_t **run_out,
		  char **dir_out)
{
	struct config cfg;
	struct run_opts o;
	struct kf_error e;
	char **all = NULL, *reuse = NULL;
	size_t i;
	int ret = -1;

	memset(&o, 0, sizeof(o));
	if (load_config(&cfg, c) < 0 || resume_load(c, &o) < 0)
		goto cleanup;
	/* Before any kernel is fetched: run_execute() checks it again. */
	if (run_dir_check(o.resume ? c->val[CLI_OPT_RESUME] : c->val[CLI_OPT_OUTPUT],
			  o.resume != NULL, &e) < 0) {
		report_error(&e);
		goto cleanup;
	}
	if (n == 0) {
		if (cfg.nkernels == 0) {
			log_warnx("%s: no kernels to run", cfg.source);
			goto cleanup;
		}
		all = xcalloc(cfg.nkernels, sizeof(char *));
		for (i = 0; i < cfg.nkernels; i++)
			all[i] = cfg.kernels[i].name;
		names = all;
		n = cfg.nkernels;
	}
	if (pick_scenarios(&cfg, c, &o) < 0 ||
	    resolve_kernels(&cfg, names, n, refresh_flags(c, &o), &o) < 0)
		goto cleanup;
	o.cfg = &cfg;
	o.dir = o.resume ? c->val[CLI_OPT_RESUME] : c->val[CLI_OPT_OUTPUT];
	o.nightly = c->val[CLI_OPT_NIGHTLY] != NULL;
	o.reuse_sides = (compare || o.nightly) && !c->val[CLI_OPT_FRESH];
	if (o.nightly || o.reuse_sides) {
		reuse = o.dir ? reports_dir_of(o.dir) : xstrdup(cfg.output_dir);
		o.reuse_dir = reuse;
	}
	o.progress_fd = c->val[CLI_OPT_PROGRESS_FD] ? atoi(c->val[CLI_OPT_PROGRESS_FD]) : -1;
	if (run_execute(&o, dir_out, run_out, &e) < 0) {
		report_error(&e);
		goto cleanup;
	}
	report_print_summary(stdout, *run_out, *dir_out);
	ret = 0;
cleanup:
	free(all);
	free(reuse);
	free_run_opts(&o);
	config_release(&cfg);
	return ret;
}

static char **split_list(const char *s, size_t *n)
{
	char *copy = xstrdup(s), *tok, *save = NULL;
	char **out = xcalloc(strlen(s) + 1, sizeof(char *));

	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		out[(*n)++] = xstrdup(tok);
	free(copy);
	return out;
}

static void free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static void record_history(json_t *run, json_t *d, const char *dir);
static void night_diffs(const struct cli *c, json_t *run, const char *dir);

static int cmd_run(struct cli *c)
{
	char **names = NULL, *dir = NULL;
	size_t n = 0;
	json_t *run = NULL;
	int ret;

	if (c->nargs) {
		log_warnx("run: unexpected argument '%s'", c->args[0]);
		return EXIT_ERROR;
	}
	if (c->val[CLI_OPT_KERNELS])
		names = split_list(c->val[CLI_OPT_KERNELS], &n);
	ret = do_run(c, names, n, 0, &run, &dir);
	free_list(names, n);
	if (ret == 0) {
		record_history(run, NULL, dir);
		if (c->val[CLI_OPT_NIGHTLY])
			night_diffs(c, run, dir);
		ret = report_all_answered(run) ? 0 : 1;
	} else {
		ret = EXIT_ERROR;
	}
	json_decref(run);
	free(dir);
	return ret;
}

/* --alpha, or its default: cli_parse() has checked it. */
static double alpha_of(const struct cli *c)
{
	return strtod(cli_get(c, CLI_OPT_ALPHA), NULL);
}

/* The diff of @ka and @kb with the command line's significance level. */
static json_t *make_diff(const struct cli *c, json_t *ra, const char *ka, json_t *rb,
			 const char *kb)
{
	struct diff_opts o = { alpha_of(c) };
	struct kf_error e;
	json_t *d = diff_runs_opts(ra, ka, rb, kb, &o, &e);

	if (!d)
		report_error(&e);
	return d;
}

/* The diff of the two kernels of @run. */
static json_t *diff_of_run(const struct cli *c, json_t *run)
{
	return make_diff(c, run, report_kernel_name(run, 0), run, report_kernel_name(run, 1));
}

/* Writes the HTML, JUnit and KCIDB views of @d that are asked for (NULL: not). */
static int export_views(json_t *d, json_t *ra, json_t *rb, const char *html,
			const char *junit, const char *kcidb)
{
	struct kf_error e;

	if ((html && export_html(d, ra, rb, html, &e) < 0) ||
	    (junit && export_junit(d, ra, rb, junit, &e) < 0) ||
	    (kcidb && export_kcidb(d, ra, rb, kcidb, &e) < 0)) {
		report_error(&e);
		return -1;
	}
	return 0;
}

/* The reports folder a run directory sits in: where its index is kept. */
static char *reports_dir_of(const char *run_dir)
{
	const char *slash = strrchr(run_dir, '/');

	return slash ? strndup(run_dir, (size_t)(slash - run_dir)) : xstrdup(".");
}

/* Records a finished run in its reports folder's index; never fails the run. */
static void record_history(json_t *run, json_t *d, const char *dir)
{
	char *reports = reports_dir_of(dir);
	struct kf_error e;

	if (history_add(reports, run, d, dir, &e) < 0) {
		char buf[1024];

		log_warnx("not recorded in %s/" HISTORY_DB ": %s", reports,
			  error_format(&e, buf, sizeof(buf)));
	}
	free(reports);
}

static int write_json(const char *path, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	struct kf_error e;
	int ret = 0;

	if (strcmp(path, "-") == 0) {
		puts(text);
	} else if (util_write_atomic(path, text, strlen(text), &e) < 0) {
		report_error(&e);
		ret = -1;
	}
	free(text);
	return ret;
}

/* @name with every byte but [A-Za-z0-9._-] made '_' (owned): a file name. */
static char *file_safe(const char *name)
{
	char *out = xstrdup(name), *p;

	for (p = out; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			*p = '_';
	return out;
}

/*
 * --nightly: each kernel of @run diffed against the previous nightly run of
 * it in the same reports folder, as @dir/night-NAME.json (a kfarm.diff/2,
 * A = the previous night), each recorded in the index; never fails the run.
 */
static void night_diffs(const struct cli *c, json_t *run, const char *dir)
{
	char *reports = reports_dir_of(dir), buf[1024];
	struct report_run_info ri;
	struct kf_error e;
	size_t i;

	report_run_info(run, &ri);
	for (i = 0; i < report_nkernels(run); i++) {
		const char *k = report_kernel_name(run, i);
		char *pdir = NULL, *safe, *path;
		json_t *entry = NULL, *prev = NULL, *d = NULL;

		if (history_previous_night(reports, k, ri.id, ri.started, &entry, &e) < 0) {
			log_warnx("no night-over-night diff: %s", error_format(&e, buf, sizeof(buf)));
			break;
		}
		if (!entry) {
			log_info("kernel %s: the first nightly run of it in %s", k, reports);
			continue;
		}
		pdir = history_dir_of(reports, entry);
		prev = pdir ? report_load(pdir, &e) : NULL;
		if (!prev)
			log_warnx("kernel %s: previous night unreadable: %s", k,
				  error_format(&e, buf, sizeof(buf)));
		d = prev ? make_diff(c, prev, k, run, k) : NULL;
		safe = file_safe(k);
		path = xasprintf("%s/night-%s.json", dir, safe);
		if (d && write_json(path, d) == 0) {
			record_history(run, d, dir);
			log_info("kernel %s since the previous night (run %s): %s: %s", k,
				 report_id(prev), diff_count_differs(d) ? "changed" : "no change",
				 path);
		}
		free(path);
		free(safe);
		json_decref(d);
		json_decref(prev);
		json_decref(entry);
		free(pdir);
	}
	free(reports);
}

static int two_kernels(json_t *run, const char **ka, const char **kb)
{
	if (*ka && *kb)
		return 0;
	if (report_nkernels(run) != 2) {
		log_warnx("the run has %zu kernels: name the two to compare with --a and --b",
			  report_nkernels(run));
		return -1;
	}
	if (!*ka)
		*ka = report_kernel_name(run, 0);
	if (!*kb)
		*kb = report_kernel_name(run, 1);
	return 0;
}

/* The name of @run's kernel when it has only one, else NULL. */
static const char *only_kernel(json_t *run)
{
	return report_nkernels(run) == 1 ? report_kernel_name(run, 0) : NULL;
}

static int cmd_diff(struct cli *c)
{
	const char **ka = &c->val[CLI_OPT_A], **kb = &c->val[CLI_OPT_B];
	json_t *ra = NULL, *rb = NULL, *d = NULL;
	struct kf_error e;
	int ret = EXIT_ERROR;

	if (c->nargs < 1 || c->nargs > 2) {
		log_warnx("diff: give one run (two kernels in it) or two runs");
		cli_help(stderr, c->cmd);
		return EXIT_ERROR;
	}
	ra = report_load(c->args[0], &e);
	if (!ra) {
		report_error(&e);
		goto cleanup;
	}
	if (c->nargs == 2) {
		rb = report_load(c->args[1], &e);
		if (!rb) {
			report_error(&e);
			goto cleanup;
		}
		/* One kernel in each run: take them. */
		if (!*ka)
			*ka = only_kernel(ra);
		if (!*kb)
			*kb = only_kernel(rb);
		if (!*ka || !*kb) {
			log_warnx("diff: name the kernels with --a and --b");
			goto cleanup;
		}
	} else if (two_kernels(ra, ka, kb) < 0) {
		goto cleanup;
	}
	d = make_diff(c, ra, *ka, rb ? rb : ra, *kb);
	if (!d)
		goto cleanup;
	if (c->val[CLI_OPT_OUTPUT] && write_json(c->val[CLI_OPT_OUTPUT], d) < 0)
		goto cleanup;
	if (export_views(d, ra, rb ? rb : ra, c->val[CLI_OPT_HTML], c->val[CLI_OPT_JUNIT],
			 c->val[CLI_OPT_KCIDB]) < 0)
		goto cleanup;
	if (!c->val[CLI_OPT_OUTPUT] || strcmp(c->val[CLI_OPT_OUTPUT], "-") != 0)
		export_table(stdout, d, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	ret = diff_exit_status(d);
cleanup:
	json_decref(ra);
	json_decref(rb);
	json_decref(d);
	return ret;
}

/* A view's file: the one asked for, else @file in the run directory @dir (owned). */
static char *view_path(const char *asked, const char *dir, const char *file)
{
	return asked ? xstrdup(asked) : xasprintf("%s/%s", dir, file);
}

static int cmd_compare(struct cli *c)
{
	char *names[2] = { NULL, NULL }, *dir = NULL, *path = NULL;
	char *html = NULL, *junit = NULL, *kcidb = NULL;
	json_t *run = NULL, *d = NULL;
	int ret = EXIT_ERROR;

	if (c->nargs == 2) {
		names[0] = c->args[0];
		names[1] = c->args[1];
	} else if (c->nargs != 0) {
		log_warnx("compare: give two kernels (A B), or none to take the config's first two");
		return EXIT_ERROR;
	} else {
		struct config cfg;

		if (load_config(&cfg, c) < 0) {
			config_release(&cfg);
			return EXIT_ERROR;
		}
		if (cfg.nkernels < 2) {
			log_warnx("compare: %s names %zu kernels; give A and B", cfg.source,
				  cfg.nkernels);
			config_release(&cfg);
			return EXIT_ERROR;
		}
		names[0] = xstrdup(cfg.kernels[0].name);
		names[1] = xstrdup(cfg.kernels[1].name);
		config_release(&cfg);
	}
	if (do_run(c, names, 2, 1, &run, &dir) < 0)
		goto cleanup;
	d = diff_of_run(c, run);
	if (!d)
		goto cleanup;
	path = xasprintf("%s/diff.json", dir);
	html = view_path(c->val[CLI_OPT_HTML], dir, "diff.html");
	junit = view_path(c->val[CLI_OPT_JUNIT], dir, "junit.xml");
	kcidb = view_path(c->val[CLI_OPT_KCIDB], dir, "kcidb.json");
	if (write_json(path, d) < 0 || export_views(d, run, run, html, junit, kcidb) < 0)
		goto cleanup;
	record_history(run, d, dir);
	if (c->val[CLI_OPT_NIGHTLY])
		night_diffs(c, run, dir);
	putchar('\n');
	export_table(stdout, d, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	printf("diff: %s\nviews: %s %s %s\n", path, html, junit, kcidb);
	ret = diff_exit_status(d);
cleanup:
	if (c->nargs == 0) {
		free(names[0]);
		free(names[1]);
	}
	free(path);
	free(html);
	free(junit);
	free(kcidb);
	free(dir);
	json_decref(run);
	json_decref(d);
	return ret;
}

/*
 * The folder of a calibration or a bisection (@what): -o, else a new one,
 * WHAT-TIME, in the config's output; NULL when the config does not load
 * (checked before any run starts).
 */
static char *command_top(const struct cli *c, const char *what)
{
	struct config cfg;
	char stamp[32], *top = NULL;
	time_t t = time(NULL);
	struct tm tm;

	if (load_config(&cfg, c) < 0) {
		top = NULL;
	} else if (c->val[CLI_OPT_OUTPUT]) {
		top = xstrdup(c->val[CLI_OPT_OUTPUT]);
	} else {
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		top = xasprintf("%s/%s-%s", cfg.output_dir, what, stamp);
	}
	config_release(&cfg);
	return top;
}

/* A/A run @r into @top/run-NN, its diff tallied into @cal. */
static int calibrate_run(struct cli *c, struct calibrate *cal, const char *top, int r)
{
	char *names[2] = { c->args[0], c->args[0] }, *dir = NULL, *dpath = NULL;
	const char *out = c->val[CLI_OPT_OUTPUT];
	char *sub = xasprintf("%s/run-%02d", top, r);
	json_t *run = NULL, *d = NULL;
	struct kf_error e;
	int ok;

	c->val[CLI_OPT_OUTPUT] = sub;
	ok = do_run(c, names, 2, 0, &run, &dir) == 0;
	c->val[CLI_OPT_OUTPUT] = out;
	free(sub);
	if (ok)
		d = diff_of_run(c, run);
	dpath = dir ? xasprintf("%s/diff.json", dir) : NULL;
	ok = d && write_json(dpath, d) == 0 && calibrate_add(cal, d, dir, &e) == 0;
	if (d && !ok)
		report_error(&e);
	if (ok)
		log_info("calibrate: run %d: %d changed, %d distribution-changed, %d flaky", r,
			 diff_count(d, DIFF_CHANGED), diff_count(d, DIFF_DIST_CHANGED),
			 diff_count(d, DIFF_FLAKY));
	free(dpath);
	free(dir);
	json_decref(run);
	json_decref(d);
	return ok ? 0 : -1;
}

/*
 * kfarm calibrate K: --runs A/A comparisons of K with itself (K and K-b: two
 * boots of one image, as `kfarm compare K K`), each in its own run directory
 * under -o (default <output>/calibrate-<time>), tallied into calibrate.json.
 */
static int cmd_calibrate(struct cli *c)
{
	int runs = (int)strtol(cli_get(c, CLI_OPT_RUNS), NULL, 10), r, ret = EXIT_ERROR;
	char *top, *path = NULL;
	struct calibrate *cal = NULL;
	struct kf_error e;
	json_t *report = NULL;

	if (c->nargs != 1) {
		log_warnx("calibrate: give one kernel (a name from the config or path:/deb:/url:)");
		return EXIT_ERROR;
	}
	top = command_top(c, "calibrate");
	if (!top || util_mkdir_p(top, &e) < 0) {
		if (top)
			report_error(&e);
		goto cleanup;
	}
	path = xasprintf("%s/run-01/run.json", top);
	if (access(path, F_OK) == 0) {
		log_warnx("%s: already holds a calibration's runs (%s): give another -o", top, path);
		goto cleanup;
	}
	free(path);
	path = NULL;
	cal = calibrate_new(c->args[0], alpha_of(c));
	for (r = 1; r <= runs; r++) {
		log_info("calibrate: A/A run %d of %d", r, runs);
		if (calibrate_run(c, cal, top, r) < 0)
			break;
	}
	/* What was measured is kept, even when a run failed or was interrupted. */
	report = calibrate_report(cal);
	path = xasprintf("%s/calibrate.json", top);
	if (write_json(path, report) < 0)
		goto cleanup;
	calibrate_print(stdout, report);
	printf("report: %s\n", path);
	if (r <= runs) {
		log_warnx("calibrate: stopped after %d of %d runs", r - 1, runs);
		goto cleanup;
	}
	ret = calibrate_exit_status(report);
cleanup:
	calibrate_free(cal);
	json_decref(report);
	free(path);
	free(top);
	return ret;
}

/* How many cells of each scenario @list has: {scenario: count}. */
static json_t *cells_per_scenario(json_t *list)
{
	json_t *n = json_object(), *s;
	size_t i;

	json_array_foreach(list, i, s) {
		const char *sc = json_string_value(json_object_get(s, "scenario"));

		json_object_set_new(n, sc, json_integer(json_integer_value(json_object_get(n, sc)) + 1));
	}
	return n;
}

/*
 * A compare of kernels @a and @b for a bisection, into @top/@name, recorded in
 * @top's index (a later step takes a side's guests from it when its inputs
 * are the same); its diff (new), or NULL when it did not run. *@dir: where it
 * ran (owned; NULL when it did not start).
 */
static json_t *bisect_compare(struct cli *c, const char *top, const char *name, char *a,
			      char *b, char **dir)
{
	char *names[2] = { a, b }, *sub = xasprintf("%s/%s", top, name), *path;
	const char *out = c->val[CLI_OPT_OUTPUT];
	json_t *run = NULL, *d = NULL;
	int k;

	*dir = NULL;
	/* a compare an interrupted bisection left (replayed): this one beside it */
	for (k = 2; k < 100; k++) {
		path = xasprintf("%s/run.json", sub);
		if (access(path, F_OK) < 0) {
			free(path);
			break;
		}
		free(path);
		free(sub);
		sub = xasprintf("%s/%s-%d", top, name, k);
	}
	c->val[CLI_OPT_OUTPUT] = sub;
	if (do_run(c, names, 2, 1, &run, dir) == 0)
		d = diff_of_run(c, run);
	c->val[CLI_OPT_OUTPUT] = out;
	free(sub);
	if (d) {
		path = xasprintf("%s/diff.json", *dir);
		if (write_json(path, d) < 0) {
			json_decref(d);
			d = NULL;
		} else {
			record_history(run, d, *dir);
		}
		free(path);
	}
	json_decref(run);
	return d;
}

/*
 * A step's compare of @a and @b into @top/@name (bisect_compare()), its run
 * folders added to @runs. When a followed cell comes out "error" (a side's
 * cell timed out or failed, or a guest did not boot: nothing said of the
 * kernel's behaviour, and what a loaded host can cause), it runs once more
 * with both kernels booted afresh, into @name-again, and that is the step's
 * diff: a kernel is skipped only when it fails twice.
 */
static json_t *bisect_step(struct cli *c, const char *top, const char *name, char *a, char *b,
			   json_t *follow, json_t *runs)
{
	const char *fresh = c->val[CLI_OPT_FRESH];
	char *dir = NULL, *why = NULL, *again;
	json_t *d = bisect_compare(c, top, name, a, b, &dir);

	if (dir)
		json_array_append_new(runs, json_string(dir));
	free(dir);
	if (!d || !bisect_failed(d, follow, &why))
		return d;
	log_info("bisect: %s: %s; comparing once more, both kernels booted afresh", name, why);
	free(why);
	json_decref(d);
	again = xasprintf("%s-again", name);
	c->val[CLI_OPT_FRESH] = "";
	dir = NULL;
	d = bisect_compare(c, top, again, a, b, &dir);
	c->val[CLI_OPT_FRESH] = fresh;
	if (dir)
		json_array_append_new(runs, json_string(dir));
	free(dir);
	free(again);
	return d;
}

/*
 * kfarm bisect --good G --bad B: the config's kernel built from git (--kernels
 * NAME, else its only one), and the commits of B's first-parent line after G,
 * G first: as kernels NAME@COMMIT (12 hex digits) in *@ks (*@n of them), and
 * {commit, subject} each in *@commits. 0, or -1 said.
 */
static int bisect_git_list(struct cli *c, char ***ks, size_t *n, json_t **commits)
{
	const char *want = c->val[CLI_OPT_KERNELS];
	const struct kernel_spec *gk = NULL;
	char good[41], bad[41], tree[41], *range = NULL, *out = NULL, *line, *save = NULL;
	struct config cfg;
	struct kf_error e;
	size_t i, ngit = 0;
	int ret = -1;

	*ks = NULL;
	*n = 0;
	*commits = NULL;
	if (!c->val[CLI_OPT_GOOD] || !c->val[CLI_OPT_BAD]) {
		log_warnx("bisect: a git bisection takes both --good REV and --bad REV");
		return -1;
	}
	if (load_config(&cfg, c) < 0)
		return -1;
	for (i = 0; i < cfg.nkernels; i++) {
		const struct kernel_spec *k = &cfg.kernels[i];

		if (want && !strcmp(k->name, want))
			gk = k;
		if (k->build && k->build->git) {
			ngit++;
			if (!want)
				gk = k;
		}
	}
	if (want && (!gk || !gk->build || !gk->build->git)) {
		log_warnx("bisect: --kernels %s: %s (a git bisection builds the config's kernel "
			  "with \"build\": {\"git\": DIR})", want, gk ? "not built from git" :
			  "no such kernel in the config");
		goto out;
	}
	if (!want && ngit != 1) {
		log_warnx("bisect: %s has %s kernel built from git (\"build\": {\"git\": DIR}); "
			  "%s", cfg.source, ngit ? "more than one" : "no",
			  ngit ? "name one with --kernels NAME" : "give -c a config with one");
		goto out;
	}
	if (build_git_resolve(gk->build->git, c->val[CLI_OPT_GOOD], good, tree, &e) < 0 ||
	    build_git_resolve(gk->build->git, c->val[CLI_OPT_BAD], bad, tree, &e) < 0) {
		report_error(&e);
		goto out;
	}
	{
		const char *anc[] = { "git", "-C", gk->build->git, "merge-base", "--is-ancestor", good,
				      bad, NULL };

		if (!strcmp(good, bad) || proc_run(anc, NULL, 120000, NULL, NULL, NULL) < 0) {
			log_warnx("bisect: the good commit %.12s (%s) is not an ancestor of the bad "
				  "one %.12s (%s) in %s", good, c->val[CLI_OPT_GOOD], bad,
				  c->val[CLI_OPT_BAD], gk->build->git);
			goto out;
		}
	}
	range = xasprintf("%s..%s", good, bad);
	{
		const char *log_argv[] = { "git", "-C", gk->build->git, "-c", "log.showSignature=false",
					   "log", "--reverse", "--first-parent", "--no-color",
					   "--format=%H %s", range, NULL };
		const char *g_argv[] = { "git", "-C", gk->build->git, "-c", "log.showSignature=false",
					 "log", "-1", "--no-color", "--format=%H %s", good, NULL };
		char *first = NULL;

		if (proc_run(g_argv, NULL, 120000, &first, NULL, &e) < 0 ||
		    proc_run(log_argv, NULL, 600000, &out, NULL, &e) < 0) {
			free(first);
			report_error(&e);
			goto out;
		}
		*commits = json_array();
		line = first ? strtok_r(first, "\n", &save) : NULL;
		if (line && strspn(line, "0123456789abcdef") == 40)
			json_array_append_new(*commits, json_pack("{s:s%, s:s}", "commit", line, (size_t)40,
								  "subject", strlen(line) > 41 ? line + 41 : ""));
		free(first);
		save = NULL;
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (strspn(line, "0123456789abcdef") == 40)
				json_array_append_new(*commits,
					json_pack("{s:s%, s:s}", "commit", line, (size_t)40, "subject",
						  strlen(line) > 41 ? line + 41 : ""));
	}
	if (json_array_size(*commits) < 2) {
		log_warnx("bisect: no commit between %.12s and %.12s on the bad one's first-parent line",
			  good, bad);
		goto out;
	}
	*n = json_array_size(*commits);
	*ks = xcalloc(*n + 1, sizeof(char *));
	for (i = 0; i < *n; i++)
		(*ks)[i] = xasprintf("%s@%.12s", gk->name, json_string_value(json_object_get(
					json_array_get(*commits, i), "commit")));
	log_info("bisect: %s in %s: %zu commits from %.12s (good) to %.12s (bad), first parents",
		 gk->name, gk->build->git, *n, good, bad);
	ret = 0;
out:
	if (ret < 0) {
		json_decref(*commits);
		*commits = NULL;
	}
	free(range);
	free(out);
	config_release(&cfg);
	return ret;
}

/*
 * Step @step of a bisection: kernel ks[@next] compared with the good one
 * (ks[0]) and, when bisect_judge() asks, with the bad one (ks[@n - 1]), at
 * @reps repetitions; when its racy cells are told apart from neither, both
 * compares again at twice the repetitions, twice at most (4 x @reps). Its
 * mark, *@reason (owned), its run folders added to @runs.
 */
static enum bisect_mark bisect_try(struct cli *c, const char *top, int step, char **ks, size_t n,
				   long next, json_t *follow, int reps, json_t *runs, char **reason)
{
	const char *reps_opt = c->val[CLI_OPT_REPS];
	enum bisect_judgement j = BJ_NEITHER;
	enum bisect_mark mark = BISECT_SKIP;
	json_t *d = NULL, *d2 = NULL;
	char *why = NULL, *why_bad = NULL, *name, more[16] = "";
	int round;

	*reason = NULL;
	for (round = 0; round < 3; round++) {
		if (round) {
			snprintf(more, sizeof(more), "-reps%d", reps);
			c->val[CLI_OPT_REPS] = more + 5;
		}
		name = xasprintf("step-%02d-k%ld-vs-good%s", step, next + 1, more);
		d = bisect_step(c, top, name, ks[0], ks[next], follow, runs);
		free(name);
		if (!d) {
			*reason = xstrdup("it did not run against the good kernel (said above)");
			break;
		}
		bisect_matches(d, follow, &why);
		j = bisect_judge(d, NULL, follow);
		if (j == BJ_NEED_BAD) {
			name = xasprintf("step-%02d-k%ld-vs-bad%s", step, next + 1, more);
			d2 = bisect_step(c, top, name, ks[next], ks[n - 1], follow, runs);
			free(name);
			if (!d2) {
				*reason = xasprintf("matches neither: against the good %s; against the bad "
						    "it did not run", why);
				break;
			}
			bisect_matches(d2, follow, &why_bad);
			j = bisect_judge(d, d2, follow);
		}
		if (j != BJ_UNDECIDED || round == 2)
			break;
		log_info("bisect: step %d: %s: its racy cells are told apart from neither kernel at "
			 "%d repetitions (against the good %s; against the bad %s): again at %d",
			 step, ks[next], reps, why, why_bad ?: "the same", reps * 2);
		reps *= 2;
		json_decref(d);
		json_decref(d2);
		d = d2 = NULL;
		free(why);
		free(why_bad);
		why = why_bad = NULL;
	}
	c->val[CLI_OPT_REPS] = reps_opt;
	if (!*reason) {
		switch (j) {
		case BJ_GOOD:
			mark = BISECT_GOOD;
			*reason = why ? xasprintf("like the good kernel (%s, not told apart from it at "
						  "alpha), told apart from the bad one (%s)", why,
						  why_bad ?: "?") :
					xstrdup("the same as the good kernel in every followed cell");
			break;
		case BJ_BAD:
			mark = BISECT_BAD;
			*reason = xasprintf("like the bad kernel in every followed cell%s%s (against the "
					    "good: %s)", why_bad ? ", " : "", why_bad ? why_bad : "", why);
			break;
		case BJ_UNDECIDED:
			*reason = xasprintf("undecided at %d repetitions: its racy cells are told apart "
					    "from neither kernel (against the good %s; against the bad %s)",
					    reps, why, why_bad ?: "the same");
			break;
		default:
			*reason = xasprintf("matches neither: against the good %s; against the bad %s",
					    why, why_bad ? why_bad : "not compared");
			break;
		}
	}
	json_decref(d);
	json_decref(d2);
	free(why);
	free(why_bad);
	return mark;
}

/* "a,b,c" of the distinct @key values of @follow's cells (owned). */
static char *bisect_join(json_t *follow, const char *key)
{
	json_t *seen = json_object(), *f;
	char *out = xstrdup(""), *more, buf[32];
	size_t i;

	json_array_foreach(follow, i, f) {
		json_t *v = json_object_get(f, key);
		const char *s = json_is_string(v) ? json_string_value(v) : buf;

		if (!json_is_string(v))
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		if (json_object_get(seen, s))
			continue;
		json_object_set_new(seen, s, json_true());
		more = xasprintf("%s%s%s", out, *out ? "," : "", s);
		free(out);
		out = more;
	}
	json_decref(seen);
	return out;
}

/*
 * bisect.json of a bisection in @top: its @n kernels @ks with their marks
 * @m (and @commits), the cells @follow, the @steps so far, the range;
 * @finished: the search is over. The document (new; NULL when it could not
 * be written, said).
 */
static json_t *bisect_write(const char *top, char **ks, size_t n, const enum bisect_mark *m,
			    json_t *follow, json_t *steps, json_t *commits, int finished)
{
	json_t *kernels = json_array(), *out;
	size_t i, good, bad;
	char *path;

	bisect_range(m, n, &good, &bad);
	for (i = 0; i < n; i++) {
		json_t *k = json_pack("{s:s, s:s}", "kernel", ks[i], "mark", bisect_mark_name(m[i]));

		if (commits)
			json_object_update(k, json_array_get(commits, i));
		json_array_append_new(kernels, k);
	}
	out = json_pack("{s:s, s:s, s:s, s:o, s:O, s:O, s:{s:I, s:s}, s:{s:I, s:s}, s:b, s:b}",
			"schema", BISECT_SCHEMA, "good", ks[0], "bad", ks[n - 1], "kernels", kernels,
			"cells", follow, "steps", steps, "last_good", "index", (json_int_t)good,
			"kernel", ks[good], "first_bad", "index", (json_int_t)bad, "kernel", ks[bad],
			"found", bad == good + 1, "finished", finished);
	if (commits) {
		json_object_update(json_object_get(out, "last_good"), json_array_get(commits, good));
		json_object_update(json_object_get(out, "first_bad"), json_array_get(commits, bad));
	}
	path = xasprintf("%s/bisect.json", top);
	if (write_json(path, out) < 0) {
		json_decref(out);
		out = NULL;
	}
	free(path);
	return out;
}

/* kfarm bisect --replay FILE: the bisection FILE logs, read into @log (0), or -1 said. */
static int bisect_replay(const char *file, struct bisect_log *log)
{
	json_error_t je;
	json_t *doc = json_load_file(file, 0, &je);
	struct kf_error e;
	int rc;

	if (!doc) {
		log_warnx("bisect: --replay %s: %s at line %d", file, je.text, je.line);
		return -1;
	}
	rc = bisect_log_read(doc, file, log, &e);
	json_decref(doc);
	if (rc < 0)
		report_error(&e);
	return rc;
}

/*
 * kfarm bisect --kernels K1,...,Kn: K1 good, Kn bad (or --good G --bad B: a
 * git kernel's commits, bisect_git_list(); or --replay FILE: a bisection's
 * log, its marks taken as they are and the search carried on). The two are
 * compared first (--cells: in those cells only); the cells that differ are
 * followed. Each step (bisect_try()) compares the kernel nearest the middle
 * of what is left with good, and with bad when bisect_judge() asks; a
 * compare whose followed cells come out "error" is run once more first
 * (bisect_step()). bisect.json in the bisection's folder after every step;
 * exit 0 with the first bad kernel, 1 when skipped kernels hide it (the
 * range is said), 2 on an error or when good and bad do not differ.
 */
static int cmd_bisect(struct cli *c)
{
	const char *scen = c->val[CLI_OPT_SCENARIOS], *smp = c->val[CLI_OPT_SMP];
	const char *replay = c->val[CLI_OPT_REPLAY];
	char **ks = NULL, *top = NULL, *dir = NULL, *cells = NULL, *smps = NULL, *path = NULL;
	json_t *d = NULL, *follow = NULL, *steps = json_array(), *out = NULL;
	json_t *commits = NULL, *wanted = NULL;
	char *cell_scen = NULL, *cell_smps = NULL;
	struct bisect_log log = { 0 };
	enum bisect_mark *m = NULL;
	size_t n = 0, good, bad;
	int ret = EXIT_ERROR, step = 0, reps;
	struct kf_error e;
	long next;

	if (c->nargs) {
		log_warnx("bisect: unexpected argument '%s' (the kernels go in --kernels)",
			  c->args[0]);
		goto cleanup;
	}
	if (replay && (c->val[CLI_OPT_GOOD] || c->val[CLI_OPT_BAD] || c->val[CLI_OPT_KERNELS] ||
		       c->val[CLI_OPT_CELLS])) {
		log_warnx("bisect: --replay %s takes its kernels and cells from that log: no --kernels, "
			  "--good, --bad or --cells", replay);
		goto cleanup;
	}
	if (replay) {
		if (bisect_replay(replay, &log) < 0)
			goto cleanup;
		ks = log.ks;
		n = log.n;
		m = log.m;
		follow = log.follow;
		commits = log.commits;
		json_decref(steps);
		steps = log.steps;
		step = log.last_step;
		memset(&log, 0, sizeof(log));
	} else if (c->val[CLI_OPT_GOOD] || c->val[CLI_OPT_BAD]) {
		if (bisect_git_list(c, &ks, &n, &commits) < 0)
			goto cleanup;
	} else if (!c->val[CLI_OPT_KERNELS]) {
		struct config cfg;
		size_t i;

		if (load_config(&cfg, c) < 0)
			goto cleanup;
		/* the config's kernels, in its order */
		if (cfg.nkernels >= 2 && c->val[CLI_OPT_CONFIG]) {
			n = cfg.nkernels;
			ks = xcalloc(n + 1, sizeof(char *));
			for (i = 0; i < n; i++)
				ks[i] = xstrdup(cfg.kernels[i].name);
			log_info("bisect: the %zu kernels of %s, in its order", n, cfg.source);
		}
		config_release(&cfg);
		if (!ks) {
			log_warnx("bisect: give the kernels in order, the first good and the last bad: "
				  "--kernels K1,K2,...,Kn, or a config (-c) that lists them; a git "
				  "kernel's --good REV and --bad REV; or --replay BISECT.JSON");
			goto cleanup;
		}
	} else {
		ks = split_list(c->val[CLI_OPT_KERNELS], &n);
	}
	if (n < 2) {
		log_warnx("bisect: --kernels names %zu kernel; give at least a good and a bad one", n);
		goto cleanup;
	}
	top = command_top(c, "bisect");
	if (!top)
		goto cleanup;
	if (util_mkdir_p(top, &e) < 0) {
		report_error(&e);
		goto cleanup;
	}
	{
		struct config cfg;

		if (load_config(&cfg, c) < 0)
			goto cleanup;
		reps = cfg.reps;
		config_release(&cfg);
	}
	if (!m) {
		m = xcalloc(n, sizeof(*m));
		m[0] = BISECT_GOOD;
		m[n - 1] = BISECT_BAD;
		if (c->val[CLI_OPT_CELLS]) {
			if (bisect_cells(c->val[CLI_OPT_CELLS], &cell_scen, &wanted, &cell_smps, &e) < 0) {
				report_error(&e);
				goto cleanup;
			}
			c->val[CLI_OPT_SCENARIOS] = cell_scen;
			if (cell_smps)
				c->val[CLI_OPT_SMP] = cell_smps;
		}
		log_info("bisect: %zu kernels, %s good and %s bad: comparing them first", n, ks[0],
			 ks[n - 1]);
		d = bisect_compare(c, top, "step-00-good-bad", ks[0], ks[n - 1], &dir);
		if (!d)
			goto cleanup;
		follow = bisect_follow(d);
		if (wanted) {
			json_t *only = bisect_follow_wanted(follow, wanted), *w;
			size_t i;

			json_array_foreach(wanted, i, w) {
				json_t *one = json_pack("[O]", w), *hit = bisect_follow_wanted(only, one);

				if (!json_array_size(hit))
					log_warnx("bisect: --cells %s%s%.0" JSON_INTEGER_FORMAT ": not changed "
						  "between good and bad (%s): not followed",
						  json_string_value(json_object_get(w, "scenario")),
						  json_integer_value(json_object_get(w, "smp")) ? "@" : "",
						  json_integer_value(json_object_get(w, "smp")), dir);
				json_decref(hit);
				json_decref(one);
			}
			json_decref(follow);
			follow = only;
		}
		json_array_append_new(steps, json_pack("{s:i, s:I, s:s, s:s, s:s, s:[s]}", "step", 0,
						       "index", (json_int_t)(n - 1), "kernel", ks[n - 1],
						       "verdict", "bad",
						       "reason", "the bad kernel, compared with the good",
						       "runs", dir));
		json_decref(d);
		d = NULL;
		if (json_array_size(follow) == 0) {
			log_warnx("bisect: %s and %s are the same in every cell compared (%s): nothing "
				  "to bisect; give --cells, more --reps, or other kernels", ks[0],
				  ks[n - 1], dir);
			goto cleanup;
		}
	} else {
		log_info("bisect: replaying %s: %zu kernels, %zu steps taken as they are", replay, n,
			 json_array_size(steps));
	}
	cells = bisect_join(follow, "scenario");
	smps = bisect_join(follow, "smp");
	c->val[CLI_OPT_SCENARIOS] = cells;
	c->val[CLI_OPT_SMP] = smps;
	log_info("bisect: following %zu cell%s that differ (%s at SMP %s)",
		 json_array_size(follow), json_array_size(follow) == 1 ? "" : "s", cells, smps);
	json_decref(bisect_write(top, ks, n, m, follow, steps, commits, 0));
	while ((next = bisect_next(m, n)) >= 0) {
		char *reason = NULL;
		json_t *runs = json_array();

		log_info("bisect: step %d: %s (kernel %ld of %zu)", ++step, ks[next], next + 1, n);
		m[next] = bisect_try(c, top, step, ks, n, next, follow, reps, runs, &reason);
		log_info("bisect: step %d: %s is %s: %s", step, ks[next], bisect_mark_name(m[next]),
			 reason);
		json_array_append_new(steps, json_pack("{s:i, s:I, s:s, s:s, s:s, s:o}", "step", step,
						       "index", (json_int_t)next, "kernel", ks[next],
						       "verdict", bisect_mark_name(m[next]),
						       "reason", reason, "runs", runs));
		free(reason);
		json_decref(bisect_write(top, ks, n, m, follow, steps, commits, 0));
	}
	bisect_range(m, n, &good, &bad);
	out = bisect_write(top, ks, n, m, follow, steps, commits, 1);
	if (!out)
		goto cleanup;
	path = xasprintf("%s/bisect.json", top);
	if (bad == good + 1) {
		printf("first bad: %s (kernel %zu of %zu; the last good is %s), after %d step%s\n",
		       ks[bad], bad + 1, n, ks[good], step, step == 1 ? "" : "s");
		if (commits)
			printf("first bad commit: %s %s\n",
			       json_string_value(json_object_get(json_array_get(commits, bad), "commit")),
			       json_string_value(json_object_get(json_array_get(commits, bad), "subject")));
		ret = 0;
	} else {
		printf("the change lies after %s (kernel %zu) and up to %s (kernel %zu): the kernels "
		       "between were skipped\n", ks[good], good + 1, ks[bad], bad + 1);
		ret = 1;
	}
	printf("bisect: %s\n", path);
cleanup:
	c->val[CLI_OPT_SCENARIOS] = scen;
	c->val[CLI_OPT_SMP] = smp;
	free_list(ks, n);
	free(m);
	free(top);
	free(dir);
	free(cells);
	free(smps);
	free(path);
	json_decref(d);
	json_decref(follow);
	json_decref(steps);
	json_decref(out);
	json_decref(commits);
	json_decref(wanted);
	free(cell_scen);
	free(cell_smps);
	return ret;
}

/*
 * kfarm scenarios: the plain scenarios with how many cells each has in the
 * sample and in the full space; --space S: the cells of S; --expand: the
 * guest runner's description of the axes and of every scenario's space.
 */
static int cmd_scenarios(struct cli *c)
{
	struct kf_error e;
	json_t *cat = NULL, *sample = NULL, *full = NULL, *ns = NULL, *nf = NULL, *s;
	size_t i, w = 2;
	int ret = EXIT_ERROR;

	if (c->nargs) {
		log_warnx("scenarios: unexpected argument '%s'", c->args[0]);
		return EXIT_ERROR;
	}
	if (c->val[CLI_OPT_EXPAND]) {
		const char *argv[] = { run_guest_binary(), "--expand", NULL };
		char *out = NULL;

		if (proc_run(argv, NULL, 30000, &out, NULL, &e) < 0) {
			log_warnx("cannot describe the scenarios (run 'make'): %s", e.text);
			return EXIT_ERROR;
		}
		fputs(out, stdout);
		free(out);
		return 0;
	}
	cat = run_list_scenarios(c->val[CLI_OPT_SPACE] ? c->val[CLI_OPT_SPACE] : "base", &e);
	if (cat && !c->val[CLI_OPT_SPACE]) {
		sample = run_list_scenarios("sample", &e);
		full = sample ? run_list_scenarios("full", &e) : NULL;
	}
	if (!cat || (!c->val[CLI_OPT_SPACE] && !full)) {
		log_warnx("cannot list the scenarios (run 'make'): %s", e.text);
		goto cleanup;
	}
	json_array_foreach(cat, i, s)
		if (strlen(json_string_value(json_object_get(s, "id"))) > w)
			w = strlen(json_string_value(json_object_get(s, "id")));
	if (c->val[CLI_OPT_SPACE]) {
		printf("%-*s %-14s %-13s %s\n", (int)w, "CELL", "GROUP", "KIND", "DESCRIPTION");
		json_array_foreach(cat, i, s)
			printf("%-*s %-14s %-13s %s\n", (int)w,
			       json_string_value(json_object_get(s, "id")),
			       json_string_value(json_object_get(s, "group")),
			       json_string_value(json_object_get(s, "kind")),
			       json_string_value(json_object_get(s, "description")));
		ret = 0;
		goto cleanup;
	}
	ns = cells_per_scenario(sample);
	nf = cells_per_scenario(full);
	printf("%-*s %-14s %-13s %6s %5s %s\n", (int)w, "ID", "GROUP", "KIND", "SAMPLE", "FULL",
	       "DESCRIPTION");
	json_array_foreach(cat, i, s) {
		const char *id = json_string_value(json_object_get(s, "id"));

		printf("%-*s %-14s %-13s %6" JSON_INTEGER_FORMAT " %5" JSON_INTEGER_FORMAT " %s\n",
		       (int)w, id, json_string_value(json_object_get(s, "group")),
		       json_string_value(json_object_get(s, "kind")),
		       json_integer_value(json_object_get(ns, id)),
		       json_integer_value(json_object_get(nf, id)),
		       json_string_value(json_object_get(s, "description")));
	}
	printf("(SAMPLE, FULL: the scenario's cells in that space, the plain one included; "
	       "'kfarm scenarios --expand' describes the axes)\n");
	ret = 0;
cleanup:
	json_decref(cat);
	json_decref(sample);
	json_decref(full);
	json_decref(ns);
	json_decref(nf);
	return ret;
}

/* kfarm history: the latest run (of a kernel, of a config) or the last that differed. */
static int cmd_history(struct cli *c)
{
	struct config cfg;
	struct kf_error e;
	json_t *entry = NULL;
	char *dir;
	int r, ret = 0;

	if (load_config(&cfg, c) < 0) {
		config_release(&cfg);
		return EXIT_ERROR;
	}
	dir = xstrdup(c->val[CLI_OPT_OUTPUT] ? c->val[CLI_OPT_OUTPUT] : cfg.output_dir);
	config_release(&cfg);
	if (c->val[CLI_OPT_LAST_DIFFERING])
		r = history_last_differing(dir, c->val[CLI_OPT_KERNEL], &entry, &e);
	else
		r = history_latest(dir, c->val[CLI_OPT_KERNEL], cli_get(c, CLI_OPT_CONFIG), &entry,
				   &e);
	if (r < 0) {
		report_error(&e);
		ret = EXIT_ERROR;
	} else if (!entry) {
		log_warnx("no such run in %s/" HISTORY_DB, dir);
		ret = 1;
	} else {
		write_json("-", entry);
		json_decref(entry);
	}
	free(dir);
	return ret;
}

static int cmd_config(struct cli *c)
{
	struct config cfg;
	char *s;

	if (load_config(&cfg, c) < 0) {
		config_release(&cfg);
		return EXIT_ERROR;
	}
	s = config_dump(&cfg);
	printf("%s\n", s);
	free(s);
	config_release(&cfg);
	return 0;
}

static void print_size(long long b, char *out, size_t n)
{
	if (b >= 1LL << 30)
		snprintf(out, n, "%.1fG", (double)b / (1LL << 30));
	else if (b >= 1 << 20)
		snprintf(out, n, "%.1fM", (double)b / (1 << 20));
	else
		snprintf(out, n, "%lldK", b / 1024);
}

static void print_age(long long s, char *out, size_t n)
{
	if (s >= 86400)
		snprintf(out, n, "%lldd", s / 86400);
	else if (s >= 3600)
		snprintf(out, n, "%lldh", s / 3600);
	else
		snprintf(out, n, "%lldm", s / 60);
}

static int kernels_list(struct cli *c, struct config *cfg, const char *root)
{
	struct kf_error e;
	json_t *l = cache_list(root, &e), *m;
	size_t i;

	(void)c;
	(void)cfg;
	printf("%-6s %-24s %-12s %7s %5s  %s\n", "KIND", "NAME", "SHA256", "SIZE", "AGE",
	       "SOURCE");
	json_array_foreach(l, i, m) {
		char sz[32], age[32];
		const char *sha = json_string_value(json_object_get(m, "sha256"));

		print_size(json_integer_value(json_object_get(m, "size")), sz, sizeof(sz));
		print_age(json_integer_value(json_object_get(m, "age_s")), age, sizeof(age));
		printf("%-6s %-24s %-12.12s %7s %5s  %s\n",
		       json_string_value(json_object_get(m, "kind")),
		       json_string_value(json_object_get(m, "name")), sha ? sha : "-", sz, age,
		       json_string_value(json_object_get(m, "source")));
	}
	printf("cache: %s (%zu entries)\n", root, json_array_size(l));
	json_decref(l);
	return 0;
}

static int kernels_fetch(struct cli *c, struct config *cfg, const char *root)
{
	const char *sha = c->val[CLI_OPT_SHA256] ? c->val[CLI_OPT_SHA256] :
			  c->nargs == 3 ? c->args[2] : NULL;
	struct kernel_spec ks;
	struct kernel k;
	struct kf_error e;
	int ret = EXIT_ERROR;

	if (select_kernel(cfg, c->args[1], &ks) < 0)
		return EXIT_ERROR;
	if (sha) {
		free(ks.sha256);
		ks.sha256 = xstrdup(sha);
	}
	if (!ks.cache_dir)
		ks.cache_dir = xstrdup(root);
	if (kernel_resolve_flags(&k, &ks, c->val[CLI_OPT_REFRESH] ? KERNEL_REFRESH : 0, &e) < 0) {
		report_error(&e);
	} else {
		printf("%s: %s\n  source %s\n  sha256 %s\n", k.spec.name, k.path, k.source,
		       k.sha256);
		printf("  boot: %s %s\n", k.boot, k.boot_path);
		ret = 0;
	}
	kernel_release(&k);
	config_kernel_release(&ks);
	return ret;
}

static int kernels_build(struct cli *c, struct config *cfg, const char *root)
{
	struct kernel_spec ks;
	struct build_result r;
	struct kf_error e;
	int ret = EXIT_ERROR;

	if (select_kernel(cfg, c->args[1], &ks) < 0)
		return EXIT_ERROR;
	if (ks.kind != KERNEL_BUILD) {
		log_warnx("kernels build: '%s' is a %s kernel, not a build", ks.name,
			  config_kernel_kind_name(ks.kind));
	} else if (build_kernel(&ks, root, c->val[CLI_OPT_REFRESH] ? BUILD_RETRY : 0, &r, &e) < 0) {
		report_error(&e);
	} else {
		printf("%s: %s\n  key %s (%s)\n  release %s\n", ks.name, r.image, r.key,
		       r.cached ? "cached" : "built now", r.release ? r.release : "?");
		if (r.commit)
			printf("  commit %s\n", r.commit);
		build_result_release(&r);
		ret = 0;
	}
	config_kernel_release(&ks);
	return ret;
}

static int kernels_prune(struct cli *c, struct config *cfg, const char *root)
{
	const char *arg = c->val[CLI_OPT_OLDER_THAN] ? c->val[CLI_OPT_OLDER_THAN] :
			  c->nargs == 2 ? c->args[1] : cli_get(c, CLI_OPT_OLDER_THAN);
	char *end = NULL, sz[32];
	double days = strtod(arg, &end);
	long long freed = 0;
	struct kf_error e;
	int n = 0, r;

	(void)cfg;
	if (*end || end == arg || days < 0) {
		log_warnx("kernels prune: '%s' is not a number of days", arg);
		return EXIT_ERROR;
	}
	r = cache_prune(root, days, &n, &freed, &e);
	if (r < 0)
		report_error(&e);
	print_size(freed, sz, sizeof(sz));
	printf("pruned %d entries (%s) unused for %g days from %s\n", n, sz, days, root);
	return r < 0 ? EXIT_ERROR : 0;
}

/* kfarm kernels: the cache of fetched and built kernels. */
static int cmd_kernels(struct cli *c)
{
	static const struct {
		const char *verb;
		int min, max;	/* operands, the verb's own included */
		int (*fn)(struct cli *c, struct config *cfg, const char *root);
	} verbs[] = {
		{ "list", 0, 1, kernels_list }, { "fetch", 2, 3, kernels_fetch },
		{ "build", 2, 2, kernels_build }, { "prune", 1, 2, kernels_prune },
	};
	const char *verb = c->nargs ? c->args[0] : "list";
	struct config cfg;
	char *root;
	size_t i;
	int ret = EXIT_ERROR;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verb, verbs[i].verb) && c->nargs >= verbs[i].min &&
		    c->nargs <= verbs[i].max)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0])) {
		log_warnx("kernels: expected list, fetch SPEC [SHA256], build NAME or prune [DAYS]");
		cli_help(stderr, c->cmd);
		return EXIT_ERROR;
	}
	if (load_config(&cfg, c) == 0) {
		root = cache_root(cfg.cache_dir);
		ret = verbs[i].fn(c, &cfg, root);
		free(root);
	}
	config_release(&cfg);
	return ret;
}

/*
 * kfarm hosts: each libvirt host of the config checked (vm-libvirt-hosts.c),
 * a line or a JSON object each; the leftover domains of dead kfarm processes
 * of this machine are destroyed on the way.
 */
static int cmd_hosts(struct cli *c)
{
	struct config cfg;
	struct kf_error e;
	json_t *checked;
	int unusable, ret = EXIT_ERROR;

	if (c->nargs) {
		log_warnx("hosts: unexpected argument '%s'", c->args[0]);
		return EXIT_ERROR;
	}
	if (load_config(&cfg, c) < 0)
		goto cleanup;
	if (!cfg.hosts) {
		if (c->val[CLI_OPT_JSON])
			puts("[]");
		else
			printf("%s: no \"hosts\": guests run with QEMU on this machine\n",
			       cfg.source);
		ret = 0;
		goto cleanup;
	}
	if (vm_libvirt_hosts(cfg.hosts, &e) < 0) {
		report_error(&e);
		goto cleanup;
	}
	checked = vm_libvirt_hosts_check(&unusable);
	if (c->val[CLI_OPT_JSON])
		write_json("-", checked);
	else
		vm_libvirt_hosts_print(stdout, checked);
	json_decref(checked);
	ret = unusable ? 1 : 0;
cleanup:
	config_release(&cfg);
	return ret;
}

/* kfarm help [COMMAND]: the overview, or a command's usage and options. */
static int cmd_help(struct cli *c)
{
	int cmd = c->nargs == 1 ? cli_find(c->args[0]) : -1;

	if (c->nargs == 0) {
		cli_usage(stdout);
		return 0;
	}
	if (cmd < 0) {
		log_warnx("help: %s%s%s", c->nargs > 1 ? "give one command" : "unknown command '",
			  c->nargs > 1 ? "" : c->args[0], c->nargs > 1 ? "" : "'");
		cli_usage(stderr);
		return EXIT_ERROR;
	}
	cli_help(stdout, (enum cli_cmd)cmd);
	return 0;
}

int main(int argc, char **argv)
{
	static int (*const builtins[CLI_NCMDS])(struct cli *) = {
		[CLI_CMD_RUN] = cmd_run, [CLI_CMD_DIFF] = cmd_diff, [CLI_CMD_COMPARE] = cmd_compare,
		[CLI_CMD_CALIBRATE] = cmd_calibrate, [CLI_CMD_BISECT] = cmd_bisect,
		[CLI_CMD_SCENARIOS] = cmd_scenarios,
		[CLI_CMD_CONFIG] = cmd_config, [CLI_CMD_HISTORY] = cmd_history,
		[CLI_CMD_KERNELS] = cmd_kernels, [CLI_CMD_HOSTS] = cmd_hosts,
		[CLI_CMD_SUBMIT] = client_cmd_submit,
		[CLI_CMD_STATUS] = client_cmd_status, [CLI_CMD_WAIT] = client_cmd_wait,
		[CLI_CMD_JOBS] = client_cmd_jobs, [CLI_CMD_CANCEL] = client_cmd_cancel,
		[CLI_CMD_HELP] = cmd_help,
	};
	struct kf_error e;
	struct cli c;
	char buf[1536];
	int cmd;

	log_init("kfarm");
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_ERROR : 0;
	}
	cmd = cli_find(argv[1]);
	if (cmd < 0) {
		log_warnx("unknown command '%s'", argv[1]);
		cli_usage(stderr);
		return EXIT_ERROR;
	}
	if (cli_parse((enum cli_cmd)cmd, argc - 1, argv + 1, &c, &e) < 0) {
		fprintf(stderr, "kfarm %s: %s (see 'kfarm help %s')\n", argv[1],
			error_format(&e, buf, sizeof(buf)), argv[1]);
		return EXIT_ERROR;
	}
	if (c.help) {
		cli_help(stdout, c.cmd);
		return 0;
	}
	if (c.verbosity >= 0)
		log_verbose = c.verbosity;
	return builtins[c.cmd](&c);
}
