/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

/* cli_parse() of a command line: its words after "kfarm", the subcommand first. */
static int parse_words(struct cli *c, struct kf_error *e, const char *const *words)
{
	static char *argv[64];
	int argc, cmd = cli_find(words[0]);

	ck_assert_msg(cmd >= 0, "no command '%s'", words[0]);
	/* getopt_long() reorders the pointers, never the strings. */
	for (argc = 0; words[argc]; argc++)
		argv[argc] = (char *)words[argc];
	argv[argc] = NULL;
	return cli_parse((enum cli_cmd)cmd, argc, argv, c, e);
}

#define PARSE(c, e, ...) parse_words(c, e, (const char *const[]){ __VA_ARGS__, NULL })

/* Parses, expecting success. */
#define ACCEPT(...) do { \
		struct cli c_; \
		struct kf_error e_; \
		ck_assert_msg(PARSE(&c_, &e_, __VA_ARGS__) == 0, "refused: %s", e_.text); \
	} while (0)

/* What cli_help() prints for @cmd (owned). */
static char *help_of(enum cli_cmd cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	cli_help(f, cmd);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* @s with each run of blanks and newlines made one space, in place. */
static char *squash(char *s)
{
	char *r = s, *w = s;

	for (; *r; r++)
		if (!(*r == ' ' || *r == '\n') || (w > s && w[-1] != ' '))
			*w++ = *r == '\n' ? ' ' : *r;
	*w = '\0';
	return s;
}

/* Whether @cmd's help lists the option @opt ("-c" or "--reps") in its options. */
static int help_lists(enum cli_cmd cmd, const char *opt)
{
	char *help = help_of(cmd), *options = strstr(help, "\noptions:\n"), pat[64];
	int found;

	ck_assert_ptr_nonnull(options);
	snprintf(pat, sizeof(pat), opt[1] == '-' ? " %s " : " %s,", opt);
	found = strstr(options, pat) != NULL;
	if (!found && opt[1] == '-') {
		snprintf(pat, sizeof(pat), " %s\n", opt);	/* a flag */
		found = strstr(options, pat) != NULL;
	}
	free(help);
	return found;
}

/* The command lines of tests/integration.py, tests/build-test.py and the diff's replay. */
START_TEST(accepts_real_invocations)
{
	ACCEPT("scenarios", "--space", "sample");
	ACCEPT("scenarios", "--expand");
	ACCEPT("run", "--kernels", "path:/tmp/junk.img", "--smp", "1", "-o", "/tmp/junk");
	ACCEPT("run", "--kernels", "deb:linux-image-amd64", "--smp", "1,2", "--variant-smp", "4");
	ACCEPT("run", "--kernels", "deb:linux-image-amd64", "--smp", "1,2", "--space", "sample",
	       "--variant-smp", "1", "--variant-reps", "3", "--reps", "4", "--boots", "2",
	       "--accel", "tcg", "--scenarios", "sds-zero[*],detach-vs-sigkill", "-o", "/tmp/d13");
	ACCEPT("run", "--kernels", "k", "--smp", "1", "--reps", "2", "--timeout-ms", "1000",
	       "--accel", "tcg", "--scenarios", "sds-zero,selftest-hang", "--reps-for",
	       "sds-other-sig=3", "-o", "/tmp/d2");
	ACCEPT("run", "--kernels", "k", "--smp", "1", "--reps", "2", "--accel", "tcg", "--seed", "3",
	       "--scenarios", "sds-zero", "-o", "/tmp/d3");
	ACCEPT("run", "-c", "/tmp/cfg.json", "--scenarios", "sds-zero", "-o", "/tmp/d4");
	ACCEPT("run", "-c", "/tmp/cfg.json", "--smp", "1", "-o", "/tmp/broken-run");
	ACCEPT("compare", "k", "k", "--smp", "1,2", "--reps", "5", "--boots", "3", "--accel", "tcg",
	       "--space", "base", "-o", "/tmp/d9");
	ACCEPT("compare", "k", "k", "--smp", "1", "--reps", "6", "--boots", "3", "-j", "2",
	       "--accel", "tcg", "--scenarios", "detach-vs-sigkill,sds-zero", "-o", "/tmp/d11");
	ACCEPT("compare", "-c", "configs/patched-vs-vanilla.json", "--smp", "1", "--reps", "3",
	       "--accel", "tcg", "-o", "/tmp/d1");
	ACCEPT("compare", "path:/a", "path:/b", "--smp", "1", "--scenarios", "sds-zero", "--reps",
	       "20", "--boots", "5", "--timeout-ms", "5000", "--accel", "tcg");
	ACCEPT("compare", "path:/a", "path:/b", "--smp", "2", "--scenarios",
	       "sds-zero[sigchld=ign]", "--variant-reps", "4", "--alpha", "0.05", "--html", "/tmp/h",
	       "--junit", "/tmp/j", "--kcidb", "/tmp/k");
	ACCEPT("history", "-o", "/tmp", "--kernel", "linux-image-6.12-amd64");
	ACCEPT("history", "--last-differing", "-c", "/tmp/cfg.json");
	ACCEPT("diff", "/tmp/d6", "-o", "/tmp/d.json");
	ACCEPT("diff", "/tmp/a", "/tmp/b", "--a", "x", "--b", "y", "--html", "/tmp/h", "--junit",
	       "/tmp/j", "--kcidb", "/tmp/k", "--alpha", "0.05", "-q");
	ACCEPT("calibrate", "k", "--runs", "2", "--smp", "1", "--reps", "3", "--boots", "3",
	       "--seed", "7", "--scenarios", "detach-vs-sigkill,sds-zero", "--accel", "tcg", "-o",
	       "/tmp/d10");
	ACCEPT("kernels", "fetch", "deb:linux-image-amd64");
	ACCEPT("kernels", "fetch", "url:https://h/bzImage", "--sha256", "00");
	ACCEPT("kernels", "fetch", "url:https://h/bzImage", "--refresh");
	ACCEPT("run", "--kernels", "url:https://h/bzImage", "--refresh", "--smp", "1");
	ACCEPT("compare", "nightly", "debian", "--refresh", "-o", "/tmp/d12");
	ACCEPT("kernels", "build", "broken", "-c", "/tmp/cfg.json");
	ACCEPT("kernels", "list");
	ACCEPT("kernels", "prune", "--older-than", "0");
	ACCEPT("config", "-c", "configs/default.json", "-v");
	ACCEPT("hosts", "-c", "/tmp/cfg.json", "--json");
	ACCEPT("hosts");
	ACCEPT("help", "diff");
}
END_TEST

START_TEST(values_and_operands)
{
	struct cli c;
	struct kf_error e;

	ck_assert_int_eq(PARSE(&c, &e, "diff", "/tmp/a", "--a", "x", "/tmp/b", "--alpha=0.05",
			       "-v", "-q"), 0);
	ck_assert_int_eq(c.cmd, CLI_CMD_DIFF);
	ck_assert_int_eq(c.nargs, 2);
	ck_assert_str_eq(c.args[0], "/tmp/a");
	ck_assert_str_eq(c.args[1], "/tmp/b");
	ck_assert_str_eq(c.val[CLI_OPT_A], "x");
	ck_assert_str_eq(cli_get(&c, CLI_OPT_ALPHA), "0.05");
	ck_assert_int_eq(c.verbosity, 0);	/* the last of -v and -q */
	ck_assert_int_eq(c.help, 0);
	ck_assert_int_eq(PARSE(&c, &e, "calibrate", "k"), 0);
	ck_assert_str_eq(cli_get(&c, CLI_OPT_RUNS), "10");	/* its default */
	ck_assert_ptr_null(cli_get(&c, CLI_OPT_OUTPUT));
	ck_assert_int_eq(c.verbosity, -1);
	ck_assert_int_eq(PARSE(&c, &e, "run", "--reps", "5", "--help"), 0);
	ck_assert_int_eq(c.help, 1);
	ck_assert_int_eq(PARSE(&c, &e, "diff", "-h"), 0);
	ck_assert_int_eq(c.help, 1);
}
END_TEST

/* An option that is not the command's, or misused, is named. */
START_TEST(refuses_other_options)
{
	struct cli c;
	struct kf_error e;
	char buf[512];

	ck_assert_int_eq(PARSE(&c, &e, "diff", "/tmp/d", "--reps", "5"), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)), "unknown option '--reps'");
	ck_assert_int_eq(PARSE(&c, &e, "diff", "-c", "x.json", "/tmp/d"), -1);
	ck_assert_str_eq(e.text, "unknown option '-c'");
	ck_assert_int_eq(PARSE(&c, &e, "scenarios", "--reps=5"), -1);
	ck_assert_str_eq(e.text, "unknown option '--reps'");
	ck_assert_int_eq(PARSE(&c, &e, "compare", "--kernels", "a,b"), -1);
	ck_assert_str_eq(e.text, "unknown option '--kernels'");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--html", "x"), -1);
	ck_assert_int_eq(PARSE(&c, &e, "diff", "/tmp/d", "--refresh"), -1);
	ck_assert_str_eq(e.text, "unknown option '--refresh'");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--refresh=1"), -1);
	ck_assert_str_eq(e.text, "option '--refresh' takes no value");
	ck_assert_int_eq(PARSE(&c, &e, "run", "-x"), -1);
	ck_assert_str_eq(e.text, "unknown option '-x'");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--reps"), -1);
	ck_assert_str_eq(e.text, "option '--reps' needs a value");
	ck_assert_int_eq(PARSE(&c, &e, "run", "-c"), -1);
	ck_assert_str_eq(e.text, "option '-c' needs a value");
	ck_assert_int_eq(PARSE(&c, &e, "scenarios", "--expand=1"), -1);
	ck_assert_str_eq(e.text, "option '--expand' takes no value");
	ck_assert_int_eq(PARSE(&c, &e, "config", "--json"), -1);
	ck_assert_str_eq(e.text, "unknown option '--json'");
	ck_assert_int_eq(PARSE(&c, &e, "hosts", "--reps", "5"), -1);
	ck_assert_str_eq(e.text, "unknown option '--reps'");
}
END_TEST

/* Values are checked when parsed: a config field's as the config's. */
START_TEST(refuses_bad_values)
{
	struct cli c;
	struct kf_error e;
	char buf[512];

	ck_assert_int_eq(PARSE(&c, &e, "run", "--space", "everything"), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--space: 'everything' is not base, sample or full");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--reps", "0"), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--reps: '0' is not a number from 1 to 100000");
	ck_assert_int_eq(PARSE(&c, &e, "compare", "-j", "x"), -1);
	ck_assert_str_eq(e.source, "-j");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--accel", "xen"), -1);
	ck_assert_str_eq(e.text, "'xen' is not auto, kvm or tcg");
	ck_assert_int_eq(PARSE(&c, &e, "diff", "--alpha", "1"), -1);
	ck_assert_str_eq(e.text, "'1' is not a significance level between 0 and 1");
	ck_assert_int_eq(PARSE(&c, &e, "calibrate", "k", "--runs", "0"), -1);
	ck_assert_int_eq(PARSE(&c, &e, "run", "--reps-for", "sds-zero"), -1);
	ck_assert_int_eq(PARSE(&c, &e, "run", "--smp", "1,x"), -1);
}
END_TEST

/* An empty path, an empty list entry and a value named twice are refused, naming the option. */
START_TEST(refuses_empty_and_twice)
{
	struct cli c;
	struct kf_error e;
	char buf[512];

	ck_assert_int_eq(PARSE(&c, &e, "run", "-o", ""), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)), "-o: the value is empty: expected DIR");
	ck_assert_int_eq(PARSE(&c, &e, "diff", "/tmp/d", "-o", ""), -1);
	ck_assert_str_eq(e.text, "the value is empty: expected FILE");
	ck_assert_int_eq(PARSE(&c, &e, "history", "--output="), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "-o: the value is empty: expected REPORTS_DIR");
	ck_assert_int_eq(PARSE(&c, &e, "compare", "--resume", ""), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--resume: the value is empty: expected RUN_DIR");
	ck_assert_int_eq(PARSE(&c, &e, "run", "-c", ""), -1);
	ck_assert_int_eq(PARSE(&c, &e, "diff", "/tmp/d", "--html", ""), -1);
	/* no kernel is not all of the config's */
	ck_assert_int_eq(PARSE(&c, &e, "run", "--kernels", ""), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--kernels: '': entry 1 is empty (a ',' too many?): expected A,B");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--kernels", ",,,"), -1);
	ck_assert_str_eq(e.text, "',,,': entry 1 is empty (a ',' too many?): expected A,B");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--kernels", "a,b,"), -1);
	ck_assert_str_eq(e.text, "'a,b,': entry 3 is empty (a ',' too many?): expected A,B");
	ck_assert_int_eq(PARSE(&c, &e, "submit", "--kernels", "a,,b"), -1);
	ACCEPT("run", "--kernels", "k,k");	/* an A/A control: k and k-b */
	/* nor is no cell all of them */
	ck_assert_int_eq(PARSE(&c, &e, "run", "--scenarios", ",,,"), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--scenarios: ',,,': entry 1 is empty (a ',' too many?): name each cell "
			 "once, ','-separated");
	ck_assert_int_eq(PARSE(&c, &e, "calibrate", "k", "--scenarios", ""), -1);
	ck_assert_int_eq(PARSE(&c, &e, "compare", "--scenarios", "sds-zero,detach-vs-sigkill,sds-zero"),
			 -1);
	ck_assert_str_eq(e.text, "'sds-zero' is named twice (entries 1 and 3): name each cell once");
	ck_assert_int_eq(PARSE(&c, &e, "submit", "a", "b", "--scenarios", "x, x"), -1);
	ACCEPT("run", "--scenarios", "sds-zero[sigchld=ign,wait=waitpid],sds-zero[sigchld=ign]");
	/* two guests of one SMP size would share their logs */
	ck_assert_int_eq(PARSE(&c, &e, "run", "--smp", "1,1"), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--smp: '1,1' names 1 twice: a size is given once");
	ck_assert_int_eq(PARSE(&c, &e, "compare", "--variant-smp", "2,1,2"), -1);
	ck_assert_str_eq(e.text, "'2,1,2' names 2 twice: a size is given once");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--smp", "1,2,"), -1);
	ck_assert_str_eq(e.text, "'1,2,' is not a list of vCPU counts like 1,2,4,8: '' is not a "
			 "number");
}
END_TEST

/* The SMP bound is the config's (CONFIG_SMP_MAX), and the refusal says it. */
START_TEST(smp_bound)
{
	struct cli c;
	struct kf_error e;
	char buf[512], want[128];

	snprintf(want, sizeof(want), "--smp: '1,99999': 99999 is not a vCPU count from 1 to %d",
		 CONFIG_SMP_MAX);
	ck_assert_int_eq(PARSE(&c, &e, "run", "--smp", "1,99999"), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)), want);
	ck_assert_int_eq(PARSE(&c, &e, "submit", "a", "b", "--smp", "99999"), -1);
	ck_assert_str_eq(e.source, "--smp");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--variant-smp", "65"), -1);
	ck_assert_str_eq(e.text, "'65': 65 is not a vCPU count from 1 to 64");
	ck_assert_int_eq(PARSE(&c, &e, "run", "--smp", "0"), -1);
	ck_assert_int_eq(PARSE(&c, &e, "run", "--smp", "-1"), -1);
	ck_assert_int_eq(PARSE(&c, &e, "run", "--smp", "99999999999999999999"), -1);
	ck_assert_int_eq(PARSE(&c, &e, "run", "--smp", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"),
			 -1);
	ck_assert_str_eq(e.text, "'1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17' has more than 16 SMP "
			 "sizes");
	ACCEPT("run", "--smp", "64");
	ACCEPT("run", "--smp", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
}
END_TEST

/* The options given override the config's fields. */
START_TEST(apply_to_config)
{
	struct config cfg;
	struct cli c;
	struct kf_error e;

	ck_assert_int_eq(PARSE(&c, &e, "compare", "--reps", "7", "--smp", "2,4", "-j", "3",
			       "--reps-for", "sds-zero=9", "--space", "full", "--seed", "5"), 0);
	config_init(&cfg);
	ck_assert_int_eq(cli_apply(&c, &cfg, &e), 0);
	ck_assert_int_eq(cfg.reps, 7);
	ck_assert_int_eq(cfg.nsmp, 2);
	ck_assert_int_eq(cfg.smp[1], 4);
	ck_assert_int_eq(cfg.parallel, 3);
	ck_assert_uint_eq(cfg.nscenario_reps, 1);
	ck_assert_int_eq(cfg.scenario_reps[0].reps, 9);
	ck_assert_str_eq(cfg.space, "full");
	ck_assert_int_eq(cfg.seed, 5);
	config_release(&cfg);
}
END_TEST

/* kfarm help diff: diff's own options, not run's. */
START_TEST(help_per_command)
{
	char *help = help_of(CLI_CMD_DIFF), *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	ck_assert_msg(!strncmp(help, "usage: kfarm diff RUN_DIR_OR_JSON", 33), "%s", help);
	ck_assert_ptr_nonnull(strstr(help, "--alpha P"));
	ck_assert_ptr_nonnull(strstr(help, "default 0.01"));
	ck_assert_ptr_null(strstr(help, "--reps"));
	ck_assert_ptr_null(strstr(help, "--config"));
	free(help);
	ck_assert(help_lists(CLI_CMD_DIFF, "--html"));
	ck_assert(help_lists(CLI_CMD_DIFF, "-o"));
	ck_assert(!help_lists(CLI_CMD_DIFF, "--reps"));
	ck_assert(help_lists(CLI_CMD_RUN, "--reps"));
	ck_assert(help_lists(CLI_CMD_SCENARIOS, "--expand"));
	/* A config field's default comes from the config's table. */
	help = help_of(CLI_CMD_RUN);
	ck_assert_ptr_nonnull(strstr(squash(help), "config reps, default 20"));
	free(help);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	cli_usage(f);
	ck_assert_int_eq(fclose(f), 0);
	for (i = 0; i < CLI_NCMDS; i++) {
		char line[32];

		snprintf(line, sizeof(line), "\n  %s ", cli_cmd_name((enum cli_cmd)i));
		ck_assert_msg(strstr(buf, line), "the overview lacks %s", line);
	}
	free(buf);
}
END_TEST

/* Checks that every option named in @synopsis is one that @cmd takes. */
static void check_synopsis(enum cli_cmd cmd, const char *synopsis)
{
	char *copy = xstrdup(synopsis), *tok, *save = NULL;

	for (tok = strtok_r(copy, " \n[]|", &save); tok; tok = strtok_r(NULL, " \n[]|", &save))
		if (tok[0] == '-')
			ck_assert_msg(help_lists(cmd, tok), "kfarm %s: its synopsis names %s, which "
				      "it does not take", cli_cmd_name(cmd), tok);
	free(copy);
}

/* Each command's usage line, and README.md's, name only options it takes. */
START_TEST(synopses_name_own_options)
{
	struct kf_error e;
	char *readme = util_read_file(KFARM_TOP "/README.md", NULL, &e), *block, *end, *line;
	int i, cmd = -1;

	for (i = 0; i < CLI_NCMDS; i++) {
		char *help = help_of((enum cli_cmd)i);

		*strstr(help, "\n\n") = '\0';
		check_synopsis((enum cli_cmd)i, help + strlen("usage: kfarm "));
		free(help);
	}
	ck_assert_msg(readme != NULL, "%s", e.text);
	block = strstr(strstr(readme, "\n## Commands\n"), "\n```\n") + 5;
	end = strstr(block, "\n```");
	*end = '\0';
	for (line = strtok(block, "\n"); line; line = strtok(NULL, "\n")) {
		char name[32];

		if (sscanf(line, "kfarm %31s", name) == 1) {
			cmd = cli_find(name);
			ck_assert_msg(cmd >= 0, "README.md: no command '%s'", name);
			line += strlen("kfarm ") + strlen(name);
		}
		check_synopsis((enum cli_cmd)cmd, line);
	}
	free(readme);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, accepts_real_invocations);
	tcase_add_test(tc, values_and_operands);
	tcase_add_test(tc, refuses_other_options);
	tcase_add_test(tc, refuses_bad_values);
	tcase_add_test(tc, refuses_empty_and_twice);
	tcase_add_test(tc, smp_bound);
	tcase_add_test(tc, apply_to_config);
	tcase_add_test(tc, help_per_command);
	tcase_add_test(tc, synopses_name_own_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cli_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
