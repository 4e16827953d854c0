/* SPDX-License-Identifier: MIT */
#ifndef KFARM_CLI_H
#define KFARM_CLI_H

#include <stdio.h>

#include "config.h"
#include "error.h"

/* The subcommands: a builtin each in kfarm.c, an option table each in cli.c. */
enum cli_cmd {
	CLI_CMD_RUN,
	CLI_CMD_DIFF,
	CLI_CMD_COMPARE,
	CLI_CMD_CALIBRATE,
	CLI_CMD_BISECT,
	CLI_CMD_SCENARIOS,
	CLI_CMD_CONFIG,
	CLI_CMD_HISTORY,
	CLI_CMD_KERNELS,
	CLI_CMD_HOSTS,
	CLI_CMD_SUBMIT,
	CLI_CMD_STATUS,
	CLI_CMD_WAIT,
	CLI_CMD_JOBS,
	CLI_CMD_CANCEL,
	CLI_CMD_HELP,
	CLI_NCMDS
};

/* Every option of some subcommand; a subcommand's table says which it takes. */
enum cli_opt {
	CLI_OPT_CONFIG,
	CLI_OPT_KERNELS,
	CLI_OPT_SMP,
	CLI_OPT_REPS,
	CLI_OPT_SCENARIOS,
	CLI_OPT_CELLS,
	CLI_OPT_GOOD,
	CLI_OPT_BAD,
	CLI_OPT_REPLAY,
	CLI_OPT_TIMEOUT_MS,
	CLI_OPT_ACCEL,
	CLI_OPT_REPS_FOR,
	CLI_OPT_BOOTS,
	CLI_OPT_SEED,
	CLI_OPT_SPACE,
	CLI_OPT_VARIANT_REPS,
	CLI_OPT_VARIANT_SMP,
	CLI_OPT_JOBS,
	CLI_OPT_A,
	CLI_OPT_B,
	CLI_OPT_HTML,
	CLI_OPT_JUNIT,
	CLI_OPT_KCIDB,
	CLI_OPT_ALPHA,
	CLI_OPT_RUNS,
	CLI_OPT_KERNEL,
	CLI_OPT_LAST_DIFFERING,
	CLI_OPT_SHA256,
	CLI_OPT_OLDER_THAN,
	CLI_OPT_EXPAND,
	CLI_OPT_OUTPUT,
	CLI_OPT_RESUME,
	CLI_OPT_PROGRESS_FD,
	CLI_OPT_NIGHTLY,
	CLI_OPT_REFRESH,
	CLI_OPT_FRESH,
	CLI_OPT_SERVER,
	CLI_OPT_STATE,
	CLI_OPT_LIMIT,
	CLI_OPT_WAIT,
	CLI_OPT_JSON,
	CLI_OPT_QUIET,
	CLI_OPT_VERBOSE,
	CLI_OPT_HELP,
	CLI_NOPTS
};

/*
 * struct cli - a parsed command line.
 * @cmd: the subcommand
 * @val: each option's value as given ("" for a flag); NULL: not given
 * @verbosity: the log_verbose that -q and -v ask for (the last one wins); -1: neither
 * @help: -h or --help was given: the subcommand's help is all there is to do
 * @args, @nargs: the operands, options taken out
 */
struct cli {
	enum cli_cmd cmd;
	const char *val[CLI_NOPTS];
	int verbosity;
	int help;
	char **args;
	int nargs;
};

/** cli_find() - the subcommand called @name, or -1. */
int cli_find(const char *name);

/** cli_cmd_name() - the name of @cmd ("run"). */
const char *cli_cmd_name(enum cli_cmd cmd);

/**
 * cli_parse() - parse @argv (argv[0] is the subcommand's name) with @cmd's
 * option table into @c. An option that @cmd does not take, a missing value and
 * a value that is not valid are errors that name the option; an option that
 * overrides a config field has its value checked as the config's would be.
 */
int cli_parse(enum cli_cmd cmd, int argc, char **argv, struct cli *c, struct kf_error *e);

/** cli_get() - @o's value as given, else its default; NULL when it has neither. */
const char *cli_get(const struct cli *c, enum cli_opt o);

/**
 * cli_apply() - set the config fields of @cfg that the options given in @c
 * override (--reps sets "reps", --reps-for adds to "scenario_reps"...).
 */
int cli_apply(const struct cli *c, struct config *cfg, struct kf_error *e);

/** cli_usage() - the overview: each subcommand's synopsis and what it does. */
void cli_usage(FILE *f);

/** cli_help() - @cmd's synopsis, what it does and its options with their defaults. */
void cli_help(FILE *f, enum cli_cmd cmd);

#endif
