/* SPDX-License-Identifier: MIT */
/*
 * The command line: an option table per subcommand (git's builtins' habit),
 * from which the parser, `kfarm help CMD` and `kfarm CMD --help` all read. An
 * option that overrides a config field takes its help, default and checks
 * from config.c's field table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "cli.h"
#include "diff.h"
#include "util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* How an option's value is checked when the command line is parsed. */
enum cli_check {
	CV_TEXT,	/* taken as it is */
	CV_PATH,	/* a file or folder: not empty */
	CV_LIST,	/* a ','-separated list without empty entries */
	CV_CELLS,	/* cells: cells_list_check()'s (no empty entry, none twice) */
	CV_FIELD,	/* as the config field's value; cli_apply() sets the field */
	CV_INT,		/* an integer from lo to hi */
	CV_LEVEL,	/* a number strictly between 0 and 1 */
};

struct cli_option {
	const char *name;
	int short_name;
	const char *arg;	/* the value's placeholder; NULL: a flag */
	const char *field;	/* the config field it stands for (help and default) */
	enum cli_check check;
	long lo, hi;
	const char *def;
	const char *help;	/* NULL: the config field's */
};

static const struct cli_option options[CLI_NOPTS] = {
	[CLI_OPT_CONFIG] = { "config", 'c', "CONFIG", .check = CV_PATH, .help =
		"the config file (default: the embedded configs/default.json)" },
	[CLI_OPT_KERNELS] = { "kernels", 0, "A,B", .check = CV_LIST, .help = "the kernels to run: "
		"names from the config, path:FILE, deb:PACKAGE or url:URL (default: all the "
		"config's; two of the same name are told apart as NAME, NAME-b, NAME-c...)" },
	[CLI_OPT_SMP] = { "smp", 0, "LIST", "smp", .check = CV_FIELD },
	[CLI_OPT_REPS] = { "reps", 0, "N", "reps", .check = CV_FIELD },
	[CLI_OPT_SCENARIOS] = { "scenarios", 0, "LIST", "scenarios", .check = CV_CELLS },
	[CLI_OPT_CELLS] = { "cells", 0, "LIST", .check = CV_CELLS, .help = "the cells to follow, "
		"CELL or CELL@SMP (at that size only), of those that differ between the good and "
		"the bad kernel (default: all of them)" },
	[CLI_OPT_GOOD] = { "good", 0, "REV", .help = "a git bisection: the good commit of the "
		"config's kernel built from git (\"build\": {\"git\": DIR}; --kernels NAME when it "
		"has several)" },
	[CLI_OPT_BAD] = { "bad", 0, "REV", .help = "a git bisection: the bad commit, a descendant "
		"of the good one; the commits between are those of its first-parent line" },
	[CLI_OPT_REPLAY] = { "replay", 0, "FILE", .check = CV_PATH, .help = "carry on the "
		"bisection that bisect.json FILE logs: its kernels, cells and verdicts taken as they "
		"are (edit a verdict to redo from there), the search resumed" },
	[CLI_OPT_TIMEOUT_MS] = { "timeout-ms", 0, "MS", "timeout_ms", .check = CV_FIELD },
	[CLI_OPT_ACCEL] = { "accel", 0, "auto|kvm|tcg", "accel", .check = CV_FIELD },
	[CLI_OPT_REPS_FOR] = { "reps-for", 0, "CELL=N,...", "scenario_reps", .check = CV_FIELD,
		.help = "exactly N repetitions for those cells, e.g. to settle a flaky one, "
			"added to the config's" },
	[CLI_OPT_BOOTS] = { "boots", 0, "N", "boots", .check = CV_FIELD },
	[CLI_OPT_SEED] = { "seed", 0, "S", "seed", .check = CV_FIELD },
	[CLI_OPT_SPACE] = { "space", 0, "base|sample|full", "space", .check = CV_FIELD },
	[CLI_OPT_VARIANT_REPS] = { "variant-reps", 0, "N", "variant_reps", .check = CV_FIELD },
	[CLI_OPT_VARIANT_SMP] = { "variant-smp", 0, "LIST", "variant_smp", .check = CV_FIELD },
	[CLI_OPT_JOBS] = { "jobs", 'j', "N", "parallel", .check = CV_FIELD },
	[CLI_OPT_A] = { "a", 0, "KERNEL", .help = "the A side (default: the first of the run's "
		"two kernels, or the first run's only one)" },
	[CLI_OPT_B] = { "b", 0, "KERNEL", .help = "the B side (default: the second of the run's "
		"two kernels, or the second run's only one)" },
	[CLI_OPT_HTML] = { "html", 0, "FILE", .check = CV_PATH, .help = "write the HTML view there" },
	[CLI_OPT_JUNIT] = { "junit", 0, "FILE", .check = CV_PATH,
		.help = "write the JUnit XML view there" },
	[CLI_OPT_KCIDB] = { "kcidb", 0, "FILE", .check = CV_PATH,
		.help = "write the KCIDB view there" },
	[CLI_OPT_ALPHA] = { "alpha", 0, "P", .check = CV_LEVEL, .def = STR(DIFF_ALPHA_DEFAULT),
		.help = "the significance level over every tested cell of a diff (Holm's "
			"correction)" },
	[CLI_OPT_RUNS] = { "runs", 0, "N", .check = CV_INT, .lo = 1, .hi = 10000, .def = "10",
		.help = "how many A/A comparisons to run" },
	[CLI_OPT_KERNEL] = { "kernel", 0, "K", .help = "only runs of that kernel" },
	[CLI_OPT_LAST_DIFFERING] = { "last-differing", 0, NULL, .help =
		"the last run that differed, not the latest" },
	[CLI_OPT_SHA256] = { "sha256", 0, "HEX", .help = "fetch: the image's pinned digest" },
	[CLI_OPT_OLDER_THAN] = { "older-than", 0, "DAYS", .def = "30", .help =
		"prune: remove the entries unused for DAYS days (0: all)" },
	[CLI_OPT_EXPAND] = { "expand", 0, NULL, .help =
		"describe the variation axes and every scenario's space" },
	[CLI_OPT_OUTPUT] = { "output", 'o', "DIR", .check = CV_PATH, .help = "where to write" },
	[CLI_OPT_RESUME] = { "resume", 0, "RUN_DIR", .check = CV_PATH, .help = "finish the run in "
		"RUN_DIR that was killed: give the command line it had (its -o may stay); its "
		"finished guests are kept and the others boot again; a different plan is refused, "
		"naming what differs" },
	[CLI_OPT_PROGRESS_FD] = { "progress-fd", 0, "FD", .check = CV_INT, .lo = 3, .hi = 1023,
		.help = "write progress to that open descriptor, a JSON line each change "
			"({guests_done, guests_total, cells_done, cells_total}): for a "
			"supervisor such as kfarmd" },
	[CLI_OPT_NIGHTLY] = { "nightly", 0, NULL, .help = "a nightly run (as kfarmd's schedule "
		"queues): when a finished run in the same reports folder had the same inputs "
		"(kernel and initramfs sha256, scenarios, SMP sizes, reps, QEMU version, "
		"accelerator), boot nothing and take its cells, saying which run; and diff each "
		"kernel against the previous nightly run of it (night-NAME.json); implies "
		"--refresh" },
	[CLI_OPT_REFRESH] = { "refresh", 0, NULL, .help = "ask the servers of url: kernels "
		"without a pinned sha256 whether they changed (a conditional GET: an unchanged "
		"one is not downloaded); if one cannot be asked, its cached copy is used with a "
		"warning; build again a kernel whose build failed before with the same inputs" },
	[CLI_OPT_FRESH] = { "fresh", 0, NULL, .help = "boot every kernel: a compare (or a nightly) "
		"otherwise takes a kernel's guests from the newest finished run in the same reports "
		"folder whose inputs for it were the same (kernel and initramfs sha256, scenarios, "
		"SMP sizes, reps, timeout, QEMU version, accelerator and its threads, memory, command line) and "
		"boots only the others; an A/A compare (one image twice) always boots both" },
	[CLI_OPT_SERVER] = { "server", 0, "URL", .help = "kfarmd's address (default: $KFARM_SERVER, "
		"else http://127.0.0.1:7411; a token in $KFARM_TOKEN)" },
	[CLI_OPT_STATE] = { "state", 0, "STATE", .help = "only jobs in that state (queued, running, "
		"done, failed, cancelled, interrupted)" },
	[CLI_OPT_LIMIT] = { "limit", 0, "N", .check = CV_INT, .lo = 1, .hi = 1000, .def = "20",
		.help = "at most N jobs, newest first" },
	[CLI_OPT_WAIT] = { "wait", 0, NULL, .help = "then wait for the job as 'kfarm wait' does" },
	[CLI_OPT_JSON] = { "json", 0, NULL, .help = "a JSON array, an object a host, instead of "
		"the lines" },
	[CLI_OPT_QUIET] = { "quiet", 'q', NULL, .help = "warnings only" },
	[CLI_OPT_VERBOSE] = { "verbose", 'v', NULL, .help = "debug messages too" },
	[CLI_OPT_HELP] = { "help", 'h', NULL, .help = "this help" },
};

/* An option in a subcommand's table; @arg and @help say what it means there. */
struct cli_use {
	enum cli_opt opt;
	const char *arg;	/* NULL: the option's */
	const char *help;	/* NULL: the option's */
};

#define U(o) { .opt = (o) }

/* What run, compare, calibrate and config take to override the config. */
#define CONFIG_OVERRIDES \
	U(CLI_OPT_SMP), U(CLI_OPT_REPS), U(CLI_OPT_TIMEOUT_MS), U(CLI_OPT_ACCEL), \
	U(CLI_OPT_REPS_FOR), U(CLI_OPT_BOOTS), U(CLI_OPT_SEED), U(CLI_OPT_SPACE), \
	U(CLI_OPT_VARIANT_REPS), U(CLI_OPT_VARIANT_SMP), U(CLI_OPT_JOBS)
#define COMMON U(CLI_OPT_QUIET), U(CLI_OPT_VERBOSE), U(CLI_OPT_HELP), U(CLI_NOPTS)
#define RUN_DIR "the run directory (default: a new one in the config's output); one that " \
	"holds a run (a run.json) is refused: that run resumes with --resume"
#define VIEW(o, what, file) { .opt = (o), .help = "write the " what " view there (default: " \
			      file " in the run directory)" }

static const struct cli_use run_opts[] = {
	U(CLI_OPT_CONFIG), U(CLI_OPT_KERNELS), CONFIG_OVERRIDES, U(CLI_OPT_SCENARIOS),
	{ .opt = CLI_OPT_OUTPUT, .arg = "DIR", .help = RUN_DIR }, U(CLI_OPT_RESUME),
	U(CLI_OPT_REFRESH), U(CLI_OPT_PROGRESS_FD), U(CLI_OPT_NIGHTLY), U(CLI_OPT_FRESH), COMMON,
};
static const struct cli_use diff_opts[] = {
	U(CLI_OPT_A), U(CLI_OPT_B),
	{ .opt = CLI_OPT_OUTPUT, .arg = "FILE",
	  .help = "write diff.json there (-: to stdout, without the table)" },
	U(CLI_OPT_HTML), U(CLI_OPT_JUNIT), U(CLI_OPT_KCIDB), U(CLI_OPT_ALPHA), COMMON,
};
static const struct cli_use compare_opts[] = {
	U(CLI_OPT_CONFIG), CONFIG_OVERRIDES, U(CLI_OPT_SCENARIOS),
	{ .opt = CLI_OPT_OUTPUT, .arg = "DIR", .help = RUN_DIR }, U(CLI_OPT_RESUME), U(CLI_OPT_ALPHA),
	VIEW(CLI_OPT_HTML, "HTML", "diff.html"), VIEW(CLI_OPT_JUNIT, "JUnit XML", "junit.xml"),
	VIEW(CLI_OPT_KCIDB, "KCIDB", "kcidb.json"), U(CLI_OPT_REFRESH), U(CLI_OPT_PROGRESS_FD),
	U(CLI_OPT_NIGHTLY), U(CLI_OPT_FRESH),
	COMMON,
};
static const struct cli_use calibrate_opts[] = {
	U(CLI_OPT_CONFIG), U(CLI_OPT_RUNS), CONFIG_OVERRIDES, U(CLI_OPT_SCENARIOS),
	{ .opt = CLI_OPT_OUTPUT, .arg = "DIR",
	  .help = "the runs' folder, with calibrate.json (default: a new one in the config's "
		  "output)" },
	U(CLI_OPT_ALPHA), COMMON,
};
static const struct cli_use bisect_opts[] = {
	U(CLI_OPT_CONFIG), { .opt = CLI_OPT_KERNELS, .arg = "K1,...,Kn", .help = "the kernels in "
	"their order, the first good and the last bad: names from the config, path:FILE, "
	"deb:PACKAGE or url:URL (default: the kernels of -c CONFIG in its order; with --good "
	"and --bad: the config's git kernel to build)" },
	U(CLI_OPT_GOOD), U(CLI_OPT_BAD), U(CLI_OPT_REPLAY), U(CLI_OPT_CELLS), CONFIG_OVERRIDES,
	{ .opt = CLI_OPT_SCENARIOS, .help = "the cells the good and the bad kernel are compared "
	  "in, the followed ones found among them (default: the config's)" },
	{ .opt = CLI_OPT_OUTPUT, .arg = "DIR", .help = "the bisection's folder: a run directory a "
	  "compare, and bisect.json (default: a new one in the config's output)" },
	U(CLI_OPT_ALPHA), U(CLI_OPT_REFRESH), U(CLI_OPT_PROGRESS_FD), COMMON,
};
static const struct cli_use scenarios_opts[] = {
	{ .opt = CLI_OPT_SPACE, .help = "list the cells of that space instead" },
	U(CLI_OPT_EXPAND), COMMON,
};
static const struct cli_use config_opts[] = {
	U(CLI_OPT_CONFIG), CONFIG_OVERRIDES, COMMON,
};
static const struct cli_use history_opts[] = {
	U(CLI_OPT_KERNEL), U(CLI_OPT_CONFIG), U(CLI_OPT_LAST_DIFFERING),
	{ .opt = CLI_OPT_OUTPUT, .arg = "REPORTS_DIR",
	  .help = "the reports folder to look in (default: the config's output)" },
	COMMON,
};
static const struct cli_use kernels_opts[] = {
	U(CLI_OPT_CONFIG), U(CLI_OPT_SHA256), U(CLI_OPT_OLDER_THAN),
	{ .opt = CLI_OPT_REFRESH, .help = "fetch: a url: kernel without a pinned sha256 is "
	  "asked whether it changed; build: a build that failed before is tried again" }, COMMON,
};
static const struct cli_use hosts_opts[] = { U(CLI_OPT_CONFIG), U(CLI_OPT_JSON), COMMON };
static const struct cli_use submit_opts[] = {
	U(CLI_OPT_SERVER), { .opt = CLI_OPT_KERNELS, .help = "a run of these kernels instead of "
	"a comparison of A and B" }, U(CLI_OPT_SMP), U(CLI_OPT_REPS), U(CLI_OPT_BOOTS),
	U(CLI_OPT_SCENARIOS), U(CLI_OPT_WAIT), COMMON,
};
static const struct cli_use job_opts[] = { U(CLI_OPT_SERVER), COMMON };
static const struct cli_use jobs_opts[] = {
	U(CLI_OPT_SERVER), U(CLI_OPT_STATE), U(CLI_OPT_LIMIT), COMMON,
};
static const struct cli_use help_opts[] = { COMMON };

/* @synopsis and @summary: lines after the first are indented as the first. */
static const struct cli_command {
	const char *name;
	const char *synopsis;
	const char *summary;
	const struct cli_use *opts;	/* up to CLI_NOPTS */
} cmds[CLI_NCMDS] = {
	[CLI_CMD_RUN] = { "run", "[-c CONFIG] [--kernels A,B] [--smp 1,2,4,8] [--reps N] [-o DIR]\n"
		"[--resume RUN_DIR] [--refresh]",
		"boot every kernel at every SMP size, run the payloads, write run.json", run_opts },
	[CLI_CMD_DIFF] = { "diff", "RUN_DIR_OR_JSON [RUN_B] [--a KERNEL] [--b KERNEL] [-o FILE]",
		"compare two kernels' cells; exit 0 same, 1 changed, 2 error", diff_opts },
	[CLI_CMD_COMPARE] = { "compare", "[A B] [-c CONFIG] [--smp LIST] [--reps N] [-o DIR]\n"
		"[--resume RUN_DIR] [--refresh]",
		"run A and B, then diff them (default: the config's first two kernels)",
		compare_opts },
	[CLI_CMD_CALIBRATE] = { "calibrate",
		"KERNEL [-c CONFIG] [--runs N] [--smp LIST] [--scenarios LIST] [-o DIR]",
		"N A/A comparisons of KERNEL with itself: how often each verdict came\n"
		"out per cell, and the false-positive rate with its interval", calibrate_opts },
	[CLI_CMD_BISECT] = { "bisect", "--kernels K1,...,Kn | --good REV --bad REV -c CONFIG |\n"
		"--replay BISECT.JSON [--cells LIST] [--smp LIST] [--reps N] [-o DIR]",
		"find the first kernel of an ordered list (K1 good, Kn bad), or the first\n"
		"commit of a git kernel, whose cells are the bad one's; exit 0 found, 1\n"
		"hidden by skipped kernels, 2 error", bisect_opts },
	[CLI_CMD_SCENARIOS] = { "scenarios", "[--space base|sample|full] [--expand]",
		"the scenarios (and how many cells each has in the sample), the cells\n"
		"of a space, or the variation axes and every scenario's space", scenarios_opts },
	[CLI_CMD_CONFIG] = { "config", "[-c CONFIG]",
		"check a config and print it as kfarm reads it, defaults filled in", config_opts },
	[CLI_CMD_HISTORY] = { "history", "[--kernel K] [-c CONFIG] [--last-differing] "
		"[-o REPORTS_DIR]", "the latest run (of kernel K), or the last one that differed",
		history_opts },
	[CLI_CMD_KERNELS] = { "kernels", "[list] | fetch SPEC [--sha256 HEX] [--refresh] | build NAME -c "
		"CONFIG |\nprune [--older-than DAYS]",
		"the kernel cache: list it, fetch or build into it, remove the entries\n"
		"unused for some days", kernels_opts },
	[CLI_CMD_HOSTS] = { "hosts", "[-c CONFIG] [--json]",
		"check each libvirt host of the config: reachable, QEMU, kvm and tcg,\n"
		"free slots, storage pool; exit 0 all usable, 1 one is not, 2 error", hosts_opts },
	[CLI_CMD_SUBMIT] = { "submit", "A B | --kernels A,B [--smp LIST] [--reps N] [--scenarios "
		"LIST]\n[--server URL] [--wait]",
		"queue a comparison (or a run) on kfarmd and print its id", submit_opts },
	[CLI_CMD_STATUS] = { "status", "ID [--server URL]",
		"a kfarmd job: its state, progress and verdicts", job_opts },
	[CLI_CMD_WAIT] = { "wait", "ID [--server URL]",
		"wait for a kfarmd job to end; exit as compare does (0 same, 1 changed,\n"
		"2 error, failed, cancelled or interrupted)", job_opts },
	[CLI_CMD_JOBS] = { "jobs", "[--state STATE] [--limit N] [--server URL]",
		"kfarmd's jobs, newest first", jobs_opts },
	[CLI_CMD_CANCEL] = { "cancel", "ID [--server URL]",
		"cancel a kfarmd job (a running one has its guests stopped)", job_opts },
	[CLI_CMD_HELP] = { "help", "[COMMAND]", "this overview, or a command's options",
		help_opts },
};

int cli_find(const char *name)
{
	int i;

	for (i = 0; i < CLI_NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return i;
	return -1;
}

const char *cli_cmd_name(enum cli_cmd cmd)
{
	return cmds[cmd].name;
}

/* getopt_long's value for @o: its short name, else past any character. */
static int opt_val(enum cli_opt o)
{
	return options[o].short_name ? options[o].short_name : 256 + (int)o;
}

/* The option of @cmd's table that getopt_long() returned @val for, or -1. */
static int opt_of(enum cli_cmd cmd, int val)
{
	const struct cli_use *u;

	for (u = cmds[cmd].opts; u->opt != CLI_NOPTS; u++)
		if (val && opt_val(u->opt) == val)
			return (int)u->opt;
	return -1;
}

/* getopt_long()'s tables for @cmd: only its own options. */
static void getopt_tables(enum cli_cmd cmd, struct option *lo, char *so)
{
	const struct cli_use *u;
	size_t n = 0, k = 0;

	so[k++] = ':';	/* a missing value returns ':', not '?' */
	for (u = cmds[cmd].opts; u->opt != CLI_NOPTS; u++) {
		const struct cli_option *o = &options[u->opt];

		lo[n++] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
					   opt_val(u->opt) };
		if (o->short_name) {
			so[k++] = (char)o->short_name;
			if (o->arg)
				so[k++] = ':';
		}
	}
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	so[k] = '\0';
}

/* "-j" for an option with a short name, else "--name": what errors call it. */
static const char *opt_what(enum cli_opt o, char *buf, size_t n)
{
	if (options[o].short_name)
		snprintf(buf, n, "-%c", options[o].short_name);
	else
		snprintf(buf, n, "--%s", options[o].name);
	return buf;
}

static int check_number(const struct cli_option *o, const char *v, const char *what,
			struct kf_error *e)
{
	char *end;
	double d;
	long l;

	errno = 0;
	if (o->check == CV_LEVEL) {
		d = strtod(v, &end);
		if (*end || end == v || !(d > 0 && d < 1))
			return error_set(e, what, 0, 0, "'%s' is not a significance level "
					 "between 0 and 1", v);
		return 0;
	}
	l = strtol(v, &end, 10);
	if (errno || *end || end == v || l < o->lo || l > o->hi)
		return error_set(e, what, 0, 0, "'%s' is not a number from %ld to %ld", v, o->lo,
				 o->hi);
	return 0;
}

/* What @o's value is called in @cmd's table ("DIR", "FILE"...). */
static const char *use_arg(enum cli_cmd cmd, enum cli_opt o)
{
	const struct cli_use *u;

	for (u = cmds[cmd].opts; u->opt != CLI_NOPTS; u++)
		if (u->opt == o && u->arg)
			return u->arg;
	return options[o].arg;
}

/* A ','-separated list (of kernels): not empty, and no empty entry. */
static int check_list(const char *v, const char *what, const char *arg, struct kf_error *e)
{
	const char *p = v;
	size_t i;

	for (i = 1;; i++) {
		size_t len = strcspn(p, ",");

		if (len == 0)
			return error_set(e, what, 0, 0, "'%s': entry %zu is empty (a ',' too many?): "
					 "expected %s", v, i, arg);
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int check_value(enum cli_cmd cmd, enum cli_opt o, const char *v, struct kf_error *e)
{
	const struct cli_option *opt = &options[o];
	struct config scratch;
	char what[40];
	int r;

	opt_what(o, what, sizeof(what));
	switch (opt->check) {
	case CV_TEXT:
		return 0;
	case CV_PATH:
		if (!*v)
			return error_set(e, what, 0, 0, "the value is empty: expected %s",
					 use_arg(cmd, o));
		return 0;
	case CV_LIST:
		return check_list(v, what, use_arg(cmd, o), e);
	case CV_CELLS:
		return cells_list_check(v, what, e);
	case CV_FIELD:
		config_init(&scratch);
		r = config_set_text(&scratch, opt->field, v, what, e);
		config_release(&scratch);
		return r;
	case CV_INT:
	case CV_LEVEL:
		return check_number(opt, v, what, e);
	}
	return 0;
}

/* The error for getopt_long()'s @ch ('?' or ':') about argv[optind - 1]. */
static int bad_option(enum cli_cmd cmd, int ch, char **argv, struct kf_error *e)
{
	const char *a = argv[optind - 1];
	int known = opt_of(cmd, optopt) >= 0;
	char name[64];

	if (strncmp(a, "--", 2) == 0 && (known || optopt == 0))
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(a, "="), a);
	else
		snprintf(name, sizeof(name), "-%c", optopt);
	if (ch == ':')
		return error_set(e, NULL, 0, 0, "option '%s' needs a value", name);
	if (known)
		return error_set(e, NULL, 0, 0, "option '%s' takes no value", name);
	return error_set(e, NULL, 0, 0, "unknown option '%s'", name);
}

static int take(struct cli *c, enum cli_opt o, const char *v, struct kf_error *e)
{
	if (check_value(c->cmd, o, v, e) < 0)
		return -1;
	c->val[o] = v;
	if (o == CLI_OPT_QUIET)
		c->verbosity = 0;
	else if (o == CLI_OPT_VERBOSE)
		c->verbosity = 2;
	else if (o == CLI_OPT_HELP)
		c->help = 1;
	return 0;
}

int cli_parse(enum cli_cmd cmd, int argc, char **argv, struct cli *c, struct kf_error *e)
{
	struct option lo[CLI_NOPTS + 1];
	char so[3 * CLI_NOPTS + 2];
	int ch;

	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->verbosity = -1;
	getopt_tables(cmd, lo, so);
	opterr = 0;
	optind = 0;	/* glibc: start afresh, as a second parse in one process needs */
	while (!c->help && (ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (ch == '?' || ch == ':')
			return bad_option(cmd, ch, argv, e);
		if (take(c, (enum cli_opt)opt_of(cmd, ch), optarg ? optarg : "", e) < 0)
			return -1;
	}
	c->args = argv + optind;
	c->nargs = argc - optind;
	return 0;
}

const char *cli_get(const struct cli *c, enum cli_opt o)
{
	return c->val[o] ? c->val[o] : options[o].def;
}

int cli_apply(const struct cli *c, struct config *cfg, struct kf_error *e)
{
	const struct cli_use *u;
	char what[40];

	for (u = cmds[c->cmd].opts; u->opt != CLI_NOPTS; u++) {
		const struct cli_option *o = &options[u->opt];

		if (o->check == CV_FIELD && c->val[u->opt] &&
		    config_set_text(cfg, o->field, c->val[u->opt],
				    opt_what(u->opt, what, sizeof(what)), e) < 0)
			return -1;
	}
	return 0;
}

/* @text's lines, each after @indent spaces but the first (which follows what is there). */
static void put_lines(FILE *f, const char *text, int indent)
{
	const char *nl;

	while ((nl = strchr(text, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - text), text, indent, "");
		text = nl + 1;
	}
	fprintf(f, "%s\n", text);
}

void cli_usage(FILE *f)
{
	int i;

	fputs("usage: kfarm COMMAND [OPTIONS]\n\n", f);
	for (i = 0; i < CLI_NCMDS; i++) {
		fprintf(f, "  %-8s ", cmds[i].name);
		put_lines(f, cmds[i].synopsis, 11);
		fprintf(f, "%11s", "");
		put_lines(f, cmds[i].summary, 11);
	}
	fputs("\nA kernel is a name from the config, path:/file/bzImage, deb:PACKAGE or url:URL.\n"
	      "Without -c the embedded configs/default.json is used.\n"
	      "'kfarm help COMMAND' or 'kfarm COMMAND --help' lists a command's options.\n", f);
}

/* Words of @text from column @col, wrapped before column 80 at column @indent. */
static void put_wrapped(FILE *f, const char *text, int col, int indent)
{
	while (*text) {
		int n = (int)strcspn(text, " ");

		if (col > indent && col + 1 + n > 79) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		col += fprintf(f, "%.*s", n, text);
		text += n + (text[n] == ' ');
	}
	fputc('\n', f);
}

/* What @u means for its command, with the default it has when not given. */
static char *use_help(const struct cli_use *u)
{
	const struct cli_option *o = &options[u->opt];
	struct config_doc d = { 0 };

	if (u->help)
		return xstrdup(u->help);
	if (!o->field)
		return o->def ? xasprintf("%s; default %s", o->help, o->def) : xstrdup(o->help);
	config_field_doc(o->field, &d);
	return xasprintf("%s; config %s, default%s%s", o->help ? o->help : d.help, d.name,
			 d.def ? " " : ": ", d.def ? d.def : d.absent);
}

static void put_option(FILE *f, const struct cli_use *u)
{
	const struct cli_option *o = &options[u->opt];
	const char *arg = u->arg ? u->arg : o->arg;
	char *help = use_help(u);
	int col;

	if (o->short_name)
		col = fprintf(f, "  -%c, --%s", o->short_name, o->name);
	else
		col = fprintf(f, "      --%s", o->name);
	if (arg)
		col += fprintf(f, " %s", arg);
	if (col > 28) {
		fputc('\n', f);
		col = 0;
	}
	col += fprintf(f, "%*s", 30 - col, "");
	put_wrapped(f, help, col, 30);
	free(help);
}

void cli_help(FILE *f, enum cli_cmd cmd)
{
	const struct cli_use *u;

	fprintf(f, "usage: kfarm %s ", cmds[cmd].name);
	put_lines(f, cmds[cmd].synopsis, 13 + (int)strlen(cmds[cmd].name));
	fputc('\n', f);
	put_lines(f, cmds[cmd].summary, 0);
	fputs("\noptions:\n", f);
	for (u = cmds[cmd].opts; u->opt != CLI_NOPTS; u++)
		put_option(f, u);
}
