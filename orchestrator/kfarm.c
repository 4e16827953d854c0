/* SPDX-License-Identifier: MIT */
/*
 * kfarm: the command line. One builtin per subcommand (kvmtool's habit):
 * run, diff, compare, scenarios, config.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "build.h"
#include "cache.h"
#include "calibrate.h"
#include "cells.h"
#include "config.h"
#include "diff.h"
#include "export.h"
#include "history.h"
#include "kernel.h"
#include "log.h"
#include "proc.h"
#include "run.h"
#include "util.h"

#define EXIT_DIFFERS 1
#define EXIT_ERROR 2

static void usage(FILE *f)
{
	fputs("usage: kfarm COMMAND [OPTIONS]\n"
	      "\n"
	      "  run      [-c CONFIG] [--kernels A,B] [--smp 1,2,4,8] [--reps N] [-o DIR]\n"
	      "           boot every kernel at every SMP size, run the payloads, write run.json\n"
	      "  diff     RUN_DIR_OR_JSON [RUN_B] [--a KERNEL] [--b KERNEL] [-o FILE]\n"
	      "           compare two kernels' cells; exit 0 same, 1 changed, 2 error\n"
	      "           --html FILE  --junit FILE  --kcidb FILE  --alpha P (default 0.01)\n"
	      "  compare  [A B] [-c CONFIG] [--smp LIST] [--reps N] [-o DIR]\n"
	      "           run A and B, then diff them (default: the config's first two kernels)\n"
	      "  calibrate KERNEL [-c CONFIG] [--runs N] [--smp LIST] [--scenarios LIST] [-o DIR]\n"
	      "           N A/A comparisons of KERNEL with itself: how often each verdict came\n"
	      "           out per cell, and the false-positive rate with its interval\n"
	      "  scenarios [--space base|sample|full] [--expand]\n"
	      "           the scenarios (and how many cells each has in the sample), the cells\n"
	      "           of a space, or the variation axes and every scenario's space\n"
	      "  config   [-c CONFIG]  check a config and print it as kfarm reads it\n"
	      "  history  [--kernel K] [-c CONFIG] [--last-differing] [-o REPORTS_DIR]\n"
	      "           the latest run (of kernel K), or the last one that differed\n"
	      "  kernels  [list] | fetch SPEC [--sha256 HEX] | build NAME -c CONFIG |\n"
	      "           prune [--older-than DAYS]\n"
	      "           the kernel cache: list it, fetch or build into it, remove entries\n"
	      "           unused for DAYS days (default 30; 0: all)\n"
	      "\n"
	      "Run options: --scenarios CELL,CELL (ID, ID[axis=value,...], ID[*] or all)\n"
	      "  --space base|sample|full (what all and ID[*] take; default sample)\n"
	      "  --variant-reps N (repetitions of a cell that varies an axis; default 2)\n"
	      "  --variant-smp LIST (SMP sizes that run such cells; default the two smallest)\n"
	      "  --timeout-ms MS (per repetition)\n"
	      "  --reps-for CELL=N,CELL=N (more repetitions for some cells, e.g. to settle a flaky)\n"
	      "  --boots N (guests per kernel and SMP size for racy cells; default 5)\n"
	      "  --seed S (the block and scenario order; default: a new one per run)\n"
	      "  --accel auto|kvm|tcg  -j N (guests at once)  -q quiet  -v verbose\n"
	      "A kernel is a name from the config, path:/file/bzImage, deb:PACKAGE or url:URL.\n"
	      "Without -c the embedded configs/default.json is used.\n", f);
}

struct cli {
	const char *config;
	const char *kernels;
	const char *smp;
	const char *scenarios;
	const char *accel;
	const char *out;
	const char *ka, *kb;
	const char *html, *junit, *kcidb, *kernel;
	const char *sha256, *older_than, *reps_for;
	const char *space, *variant_smp;
	double alpha;
	int last_differing, expand, variant_reps;
	int reps, timeout_ms, parallel, boots, seed, runs;
	char **args;
	int nargs;
};

enum {
	O_KERNELS = 256, O_SMP, O_REPS, O_SCEN, O_TIMEOUT, O_ACCEL, O_A, O_B,
	O_HTML, O_JUNIT, O_KCIDB, O_ALPHA, O_KERNEL, O_LASTDIFF, O_SHA256, O_OLDER, O_REPSFOR,
	O_BOOTS, O_SEED, O_RUNS, O_SPACE, O_VREPS, O_VSMP, O_EXPAND,
};

static int parse_int(const char *what, const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		log_warnx("%s: '%s' is not a number from %d to %d", what, s, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_cli(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "kernels", required_argument, NULL, O_KERNELS },
		{ "smp", required_argument, NULL, O_SMP },
		{ "reps", required_argument, NULL, O_REPS },
		{ "scenarios", required_argument, NULL, O_SCEN },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "accel", required_argument, NULL, O_ACCEL },
		{ "a", required_argument, NULL, O_A },
		{ "b", required_argument, NULL, O_B },
		{ "html", required_argument, NULL, O_HTML },
		{ "junit", required_argument, NULL, O_JUNIT },
		{ "kcidb", required_argument, NULL, O_KCIDB },
		{ "alpha", required_argument, NULL, O_ALPHA },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "last-differing", no_argument, NULL, O_LASTDIFF },
		{ "sha256", required_argument, NULL, O_SHA256 },
		{ "older-than", required_argument, NULL, O_OLDER },
		{ "reps-for", required_argument, NULL, O_REPSFOR },
		{ "boots", required_argument, NULL, O_BOOTS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "runs", required_argument, NULL, O_RUNS },
		{ "space", required_argument, NULL, O_SPACE },
		{ "variant-reps", required_argument, NULL, O_VREPS },
		{ "variant-smp", required_argument, NULL, O_VSMP },
		{ "expand", no_argument, NULL, O_EXPAND },
		{ "output", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(c, 0, sizeof(*c));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:o:j:qvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': c->config = optarg; break;
		case 'o': c->out = optarg; break;
		case 'j':
			if (parse_int("-j", optarg, 1, 256, &c->parallel) < 0)
				return -1;
			break;
		case 'q': log_verbose = 0; break;
		case 'v': log_verbose = 2; break;
		case O_KERNELS: c->kernels = optarg; break;
		case O_SMP: c->smp = optarg; break;
		case O_SCEN: c->scenarios = optarg; break;
		case O_ACCEL: c->accel = optarg; break;
		case O_A: c->ka = optarg; break;
		case O_B: c->kb = optarg; break;
		case O_HTML: c->html = optarg; break;
		case O_JUNIT: c->junit = optarg; break;
		case O_KCIDB: c->kcidb = optarg; break;
		case O_KERNEL: c->kernel = optarg; break;
		case O_LASTDIFF: c->last_differing = 1; break;
		case O_SHA256: c->sha256 = optarg; break;
		case O_OLDER: c->older_than = optarg; break;
		case O_REPSFOR: c->reps_for = optarg; break;
		case O_SPACE:
			if (!config_space_ok(optarg)) {
				log_warnx("--space: '%s' is not base, sample or full", optarg);
				return -1;
			}
			c->space = optarg;
			break;
		case O_VREPS:
			if (parse_int("--variant-reps", optarg, 1, 100000, &c->variant_reps) < 0)
				return -1;
			break;
		case O_VSMP: c->variant_smp = optarg; break;
		case O_EXPAND: c->expand = 1; break;
		case O_ALPHA: {
			char *end;

			c->alpha = strtod(optarg, &end);
			if (*end || end == optarg || !(c->alpha > 0 && c->alpha < 1)) {
				log_warnx("--alpha: '%s' is not a significance level between 0 and 1",
					  optarg);
				return -1;
			}
			break;
		}
		case O_REPS:
			if (parse_int("--reps", optarg, 1, 100000, &c->reps) < 0)
				return -1;
			break;
		case O_TIMEOUT:
			if (parse_int("--timeout-ms", optarg, 100, 600000, &c->timeout_ms) < 0)
				return -1;
			break;
		case O_BOOTS:
			if (parse_int("--boots", optarg, 1, CONFIG_BOOTS_MAX, &c->boots) < 0)
				return -1;
			break;
		case O_SEED:
			if (parse_int("--seed", optarg, 1, INT_MAX, &c->seed) < 0)
				return -1;
			break;
		case O_RUNS:
			if (parse_int("--runs", optarg, 1, 10000, &c->runs) < 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	c->args = argv + optind;
	c->nargs = argc - optind;
	return 0;
}

static void report_error(const struct kf_error *e)
{
	char buf[2048];

	log_warnx("%s", error_format(e, buf, sizeof(buf)));
}

/* Loads the config and applies the command line on top. */
static int load_config(struct config *cfg, const struct cli *c)
{
	struct kf_error e;

	config_init(cfg);
	if ((c->config ? config_load_file(cfg, c->config, &e) : config_load_default(cfg, &e)) < 0) {
		report_error(&e);
		return -1;
	}
	if (c->smp && util_parse_int_list(c->smp, cfg->smp, CONFIG_MAX_SMP, &cfg->nsmp) < 0) {
		log_warnx("--smp: '%s' is not a list of vCPU counts like 1,2,4,8", c->smp);
		return -1;
	}
	if (c->reps)
		cfg->reps = c->reps;
	if (c->boots)
		cfg->boots = c->boots;
	if (c->seed)
		cfg->seed = c->seed;
	if (c->space) {
		free(cfg->space);
		cfg->space = xstrdup(c->space);
	}
	if (c->variant_reps)
		cfg->variant_reps = c->variant_reps;
	if (c->variant_smp &&
	    util_parse_int_list(c->variant_smp, cfg->variant_smp, CONFIG_MAX_SMP,
				&cfg->nvariant_smp) < 0) {
		log_warnx("--variant-smp: '%s' is not a list of vCPU counts like 1,2", c->variant_smp);
		return -1;
	}
	if (c->reps_for && config_add_scenario_reps(cfg, c->reps_for, "--reps-for", &e) < 0) {
		report_error(&e);
		return -1;
	}
	if (c->timeout_ms)
		cfg->timeout_ms = c->timeout_ms;
	if (c->parallel)
		cfg->parallel = c->parallel;
	if (c->accel) {
		if (strcmp(c->accel, "auto") && strcmp(c->accel, "kvm") && strcmp(c->accel, "tcg")) {
			log_warnx("--accel: '%s' is not auto, kvm or tcg", c->accel);
			return -1;
		}
		free(cfg->accel);
		cfg->accel = xstrdup(c->accel);
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
	if (cells_select(cfg, c->scenarios, &sel, &e) < 0) {
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
}

/* Resolves (fetching where needed) the kernel specs named by @names. */
static int resolve_kernels(const struct config *cfg, char **names, size_t n, struct run_opts *o)
{
	size_t i;

	o->kernels = xcalloc(n, sizeof(*o->kernels));
	for (i = 0; i < n; i++) {
		struct kernel_spec ks;
		struct kf_error e;
		size_t j;

		if (config_select_kernel(cfg, names[i], &ks, &e) < 0) {
			report_error(&e);
			return -1;
		}
		/* The same kernel twice (an A/A control) boots twice under two names. */
		for (j = 0; j < i; j++) {
			if (strcmp(o->kernels[j].spec.name, ks.name) == 0) {
				char *renamed = xasprintf("%s-b", ks.name);

				free(ks.name);
				ks.name = renamed;
			}
		}
		if (kernel_resolve(&o->kernels[i], &ks, &e) < 0) {
			kernel_release(&o->kernels[i]);
			config_kernel_release(&ks);
			report_error(&e);
			return -1;
		}
		o->nkernels++;
		log_info("kernel %s: %s (sha256 %.12s)", ks.name, o->kernels[i].source,
			 o->kernels[i].sha256);
		config_kernel_release(&ks);
	}
	return 0;
}

static void print_run_summary(json_t *run, const char *dir)
{
	static const char *const st[] = {
		"ok", "unsupported", "timeout", "crashed", "boot-failed", "error",
	};
	json_t *cells = json_object_get(run, "cells"), *c;
	size_t i, counts[6] = { 0 };
	int k;

	json_array_foreach(cells, i, c) {
		for (k = 0; k < 6; k++)
			if (strcmp(json_string_value(json_object_get(c, "status")), st[k]) == 0)
				counts[k]++;
	}
	printf("run %s: %zu cells:", json_string_value(json_object_get(run, "id")),
	       json_array_size(cells));
	for (k = 0; k < 6; k++)
		if (counts[k])
			printf(" %zu %s", counts[k], st[k]);
	printf("\nreport: %s/run.json\n", dir);
}

static int cells_all_ok(json_t *run)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(run, "cells"), i, c) {
		const char *s = json_string_value(json_object_get(c, "status"));

		if (strcmp(s, "ok") != 0 && strcmp(s, "unsupported") != 0)
			return 0;
	}
	return 1;
}

static int do_run(struct cli *c, char **names, size_t n, json_t **run_out, char **dir_out)
{
	struct config cfg;
	struct run_opts o;
	struct kf_error e;
	char **all = NULL;
	size_t i;
	int ret = -1;

	memset(&o, 0, sizeof(o));
	if (load_config(&cfg, c) < 0)
		goto cleanup;
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
	if (pick_scenarios(&cfg, c, &o) < 0 || resolve_kernels(&cfg, names, n, &o) < 0)
		goto cleanup;
	o.cfg = &cfg;
	o.dir = c->out;
	if (run_execute(&o, dir_out, run_out, &e) < 0) {
		report_error(&e);
		goto cleanup;
	}
	print_run_summary(*run_out, *dir_out);
	ret = 0;
cleanup:
	free(all);
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
	if (c->kernels)
		names = split_list(c->kernels, &n);
	ret = do_run(c, names, n, &run, &dir);
	free_list(names, n);
	if (ret == 0) {
		record_history(run, NULL, dir);
		ret = cells_all_ok(run) ? 0 : 1;
	} else {
		ret = EXIT_ERROR;
	}
	json_decref(run);
	free(dir);
	return ret;
}

/* The diff of @ka and @kb with the command line's significance level. */
static json_t *make_diff(const struct cli *c, json_t *ra, const char *ka, json_t *rb,
			 const char *kb)
{
	struct diff_opts o = { c->alpha > 0 ? c->alpha : DIFF_ALPHA_DEFAULT };
	struct kf_error e;
	json_t *d = diff_runs_opts(ra, ka, rb, kb, &o, &e);

	if (!d)
		report_error(&e);
	return d;
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

/* The reports folder a run directory sits in: where index.json is kept. */
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

		log_warnx("not recorded in %s/index.json: %s", reports,
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

static int two_kernels(json_t *run, const char **ka, const char **kb)
{
	json_t *ks = json_object_get(run, "kernels");

	if (*ka && *kb)
		return 0;
	if (json_array_size(ks) != 2) {
		log_warnx("the run has %zu kernels: name the two to compare with --a and --b",
			  json_array_size(ks));
		return -1;
	}
	if (!*ka)
		*ka = json_string_value(json_object_get(json_array_get(ks, 0), "name"));
	if (!*kb)
		*kb = json_string_value(json_object_get(json_array_get(ks, 1), "name"));
	return 0;
}

static int cmd_diff(struct cli *c)
{
	json_t *ra = NULL, *rb = NULL, *d = NULL;
	struct kf_error e;
	int ret = EXIT_ERROR;

	if (c->nargs < 1 || c->nargs > 2) {
		log_warnx("diff: give one run (two kernels in it) or two runs");
		usage(stderr);
		return EXIT_ERROR;
	}
	ra = diff_load_run(c->args[0], &e);
	if (!ra) {
		report_error(&e);
		goto cleanup;
	}
	if (c->nargs == 2) {
		rb = diff_load_run(c->args[1], &e);
		if (!rb) {
			report_error(&e);
			goto cleanup;
		}
		if (!c->ka || !c->kb) {
			/* One kernel in each run: take them. */
			json_t *ka = json_object_get(ra, "kernels"), *kb = json_object_get(rb, "kernels");

			if (!c->ka && json_array_size(ka) == 1)
				c->ka = json_string_value(json_object_get(json_array_get(ka, 0), "name"));
			if (!c->kb && json_array_size(kb) == 1)
				c->kb = json_string_value(json_object_get(json_array_get(kb, 0), "name"));
			if (!c->ka || !c->kb) {
				log_warnx("diff: name the kernels with --a and --b");
				goto cleanup;
			}
		}
	} else if (two_kernels(ra, &c->ka, &c->kb) < 0) {
		goto cleanup;
	}
	d = make_diff(c, ra, c->ka, rb ? rb : ra, c->kb);
	if (!d)
		goto cleanup;
	if (c->out && write_json(c->out, d) < 0)
		goto cleanup;
	if (export_views(d, ra, rb ? rb : ra, c->html, c->junit, c->kcidb) < 0)
		goto cleanup;
	if (!c->out || strcmp(c->out, "-") != 0)
		diff_print_table(stdout, d, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	ret = diff_exit_status(d);
cleanup:
	json_decref(ra);
	json_decref(rb);
	json_decref(d);
	return ret;
}

static int cmd_compare(struct cli *c)
{
	char *names[2] = { NULL, NULL }, *dir = NULL, *path = NULL;
	char *html = NULL, *junit = NULL, *kcidb = NULL;
	json_t *run = NULL, *d = NULL, *ks;
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
	if (do_run(c, names, 2, &run, &dir) < 0)
		goto cleanup;
	ks = json_object_get(run, "kernels");
	d = make_diff(c, run, json_string_value(json_object_get(json_array_get(ks, 0), "name")),
		      run, json_string_value(json_object_get(json_array_get(ks, 1), "name")));
	if (!d)
		goto cleanup;
	path = xasprintf("%s/diff.json", dir);
	html = xasprintf("%s/diff.html", dir);
	junit = xasprintf("%s/junit.xml", dir);
	kcidb = xasprintf("%s/kcidb.json", dir);
	if (write_json(path, d) < 0 ||
	    export_views(d, run, run, c->html ? c->html : html, c->junit ? c->junit : junit,
			 c->kcidb ? c->kcidb : kcidb) < 0)
		goto cleanup;
	record_history(run, d, dir);
	putchar('\n');
	diff_print_table(stdout, d, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	printf("diff: %s\nviews: %s %s %s\n", path, c->html ? c->html : html,
	       c->junit ? c->junit : junit, c->kcidb ? c->kcidb : kcidb);
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
 * kfarm calibrate K: --runs A/A comparisons of K with itself (K and K-b: two
 * boots of one image, as `kfarm compare K K`), each in its own run directory
 * under -o (default <output>/calibrate-<time>), tallied into calibrate.json.
 */
static int cmd_calibrate(struct cli *c)
{
	char *names[2] = { NULL, NULL }, *top = NULL, *path = NULL;
	struct calibrate *cal = NULL;
	struct config cfg;
	struct kf_error e;
	json_t *report = NULL;
	const char *out = c->out;
	int runs = c->runs ? c->runs : 10, r, ret = EXIT_ERROR;

	if (c->nargs != 1) {
		log_warnx("calibrate: give one kernel (a name from the config or path:/deb:/url:)");
		return EXIT_ERROR;
	}
	if (load_config(&cfg, c) < 0) {
		config_release(&cfg);
		return EXIT_ERROR;
	}
	if (out) {
		top = xstrdup(out);
	} else {
		char stamp[32];
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		top = xasprintf("%s/calibrate-%s", cfg.output_dir, stamp);
	}
	config_release(&cfg);
	if (util_mkdir_p(top, &e) < 0) {
		report_error(&e);
		goto cleanup;
	}
	names[0] = names[1] = c->args[0];
	cal = calibrate_new(c->args[0], c->alpha > 0 ? c->alpha : DIFF_ALPHA_DEFAULT);
	for (r = 1; r <= runs; r++) {
		json_t *run = NULL, *d = NULL, *ks;
		char *dir = NULL, *sub = xasprintf("%s/run-%02d", top, r), *dpath;
		int ok;

		log_info("calibrate: A/A run %d of %d", r, runs);
		c->out = sub;
		ok = do_run(c, names, 2, &run, &dir) == 0;
		c->out = out;
		free(sub);
		if (ok) {
			ks = json_object_get(run, "kernels");
			d = make_diff(c, run, json_string_value(json_object_get(json_array_get(ks, 0),
									       "name")),
				      run, json_string_value(json_object_get(json_array_get(ks, 1),
									       "name")));
		}
		dpath = dir ? xasprintf("%s/diff.json", dir) : NULL;
		ok = d && write_json(dpath, d) == 0 && calibrate_add(cal, d, dir, &e) == 0;
		if (d && !ok)
			report_error(&e);
		if (ok)
			log_info("calibrate: run %d: %d changed, %d distribution-changed, %d flaky",
				 r, diff_count(d, DIFF_CHANGED), diff_count(d, DIFF_DIST_CHANGED),
				 diff_count(d, DIFF_FLAKY));
		free(dpath);
		free(dir);
		json_decref(run);
		json_decref(d);
		if (!ok)
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
	if (c->expand) {
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
	cat = run_list_scenarios(c->space ? c->space : "base", &e);
	if (cat && !c->space) {
		sample = run_list_scenarios("sample", &e);
		full = sample ? run_list_scenarios("full", &e) : NULL;
	}
	if (!cat || (!c->space && !full)) {
		log_warnx("cannot list the scenarios (run 'make'): %s", e.text);
		goto cleanup;
	}
	json_array_foreach(cat, i, s)
		if (strlen(json_string_value(json_object_get(s, "id"))) > w)
			w = strlen(json_string_value(json_object_get(s, "id")));
	if (c->space) {
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
	dir = xstrdup(c->out ? c->out : cfg.output_dir);
	config_release(&cfg);
	if (c->last_differing)
		r = history_last_differing(dir, c->kernel, &entry, &e);
	else
		r = history_latest(dir, c->kernel, c->config, &entry, &e);
	if (r < 0) {
		report_error(&e);
		ret = EXIT_ERROR;
	} else if (!entry) {
		log_warnx("no such run in %s/index.json", dir);
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

/* kfarm kernels: the cache of fetched and built kernels. */
static int cmd_kernels(struct cli *c)
{
	const char *verb = c->nargs ? c->args[0] : "list";
	struct config cfg;
	struct kf_error e;
	char *root = NULL;
	int ret = EXIT_ERROR;

	if (load_config(&cfg, c) < 0)
		goto cleanup;
	root = cache_root(cfg.cache_dir);
	if (strcmp(verb, "list") == 0 && c->nargs <= 1) {
		json_t *l = cache_list(root, &e), *m;
		size_t i;

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
		ret = 0;
	} else if (strcmp(verb, "fetch") == 0 && (c->nargs == 2 || c->nargs == 3)) {
		struct kernel_spec ks;
		struct kernel k;

		if (config_select_kernel(&cfg, c->args[1], &ks, &e) < 0) {
			report_error(&e);
			goto cleanup;
		}
		if (c->nargs == 3 || c->sha256) {
			free(ks.sha256);
			ks.sha256 = xstrdup(c->sha256 ? c->sha256 : c->args[2]);
		}
		if (!ks.cache_dir)
			ks.cache_dir = xstrdup(root);
		if (kernel_resolve(&k, &ks, &e) < 0) {
			report_error(&e);
		} else {
			printf("%s: %s\n  source %s\n  sha256 %s\n", k.spec.name, k.path, k.source,
			       k.sha256);
			printf("  boot: %s %s\n", k.boot, k.boot_path);
			ret = 0;
		}
		kernel_release(&k);
		config_kernel_release(&ks);
	} else if (strcmp(verb, "build") == 0 && c->nargs == 2) {
		struct kernel_spec ks;
		struct build_result r;

		if (config_select_kernel(&cfg, c->args[1], &ks, &e) < 0) {
			report_error(&e);
			goto cleanup;
		}
		if (ks.kind != KERNEL_BUILD) {
			log_warnx("kernels build: '%s' is a %s kernel, not a build", ks.name,
				  config_kernel_kind_name(ks.kind));
		} else if (build_kernel(&ks, root, &r, &e) < 0) {
			report_error(&e);
		} else {
			printf("%s: %s\n  key %s (%s)\n  release %s\n", ks.name, r.image, r.key,
			       r.cached ? "cached" : "built now", r.release ? r.release : "?");
			build_result_release(&r);
			ret = 0;
		}
		config_kernel_release(&ks);
	} else if (strcmp(verb, "prune") == 0 && c->nargs <= 2) {
		const char *arg = c->older_than ? c->older_than : c->nargs == 2 ? c->args[1] : NULL;
		char *end = NULL, sz[32];
		double days = arg ? strtod(arg, &end) : 30;
		long long freed = 0;
		int n = 0;

		if (arg && (!end || *end || end == arg || days < 0)) {
			log_warnx("kernels prune: '%s' is not a number of days", arg);
			goto cleanup;
		}
		int pr = cache_prune(root, days, &n, &freed, &e);

		if (pr < 0)
			report_error(&e);
		print_size(freed, sz, sizeof(sz));
		printf("pruned %d entries (%s) unused for %g days from %s\n", n, sz, days, root);
		ret = pr < 0 ? EXIT_ERROR : 0;
	} else {
		log_warnx("kernels: expected list, fetch SPEC [SHA256], build NAME or prune [DAYS]");
		usage(stderr);
	}
cleanup:
	free(root);
	config_release(&cfg);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct cli *);
	} cmds[] = {
		{ "run", cmd_run }, { "diff", cmd_diff }, { "compare", cmd_compare },
		{ "scenarios", cmd_scenarios }, { "config", cmd_config },
		{ "calibrate", cmd_calibrate },
		{ "history", cmd_history },
		{ "kernels", cmd_kernels },
	};
	struct cli c;
	size_t i;

	log_init("kfarm");
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_ERROR : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			if (parse_cli(argc - 1, argv + 1, &c) < 0)
				return EXIT_ERROR;
			return cmds[i].fn(&c);
		}
	}
	log_warnx("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_ERROR;
}
