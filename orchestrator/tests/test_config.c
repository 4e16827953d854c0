/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define DATA KFARM_TOP "/orchestrator/tests/data/config/"

/* Set KFARM_UPDATE_GOLDEN=1 to rewrite the golden files (then review the diff). */
static int update_golden(void)
{
	const char *u = getenv("KFARM_UPDATE_GOLDEN");

	return u && *u && strcmp(u, "0");
}

/* Loads @file expecting failure; returns the formatted error. */
static const char *load_err(const char *file)
{
	static char buf[2048];
	struct config c;
	struct kf_error e;
	int r;

	config_init(&c);
	r = config_load_file(&c, file, &e);
	config_release(&c);
	ck_assert_int_eq(r, -1);
	return error_format(&e, buf, sizeof(buf));
}

START_TEST(good_config)
{
	struct config c;
	struct kf_error e;

	config_init(&c);
	ck_assert_int_eq(config_load_file(&c, DATA "good.json", &e), 0);
	ck_assert_uint_eq(c.nkernels, 2);
	ck_assert_str_eq(c.kernels[0].name, "old");
	ck_assert_int_eq(c.kernels[0].kind, KERNEL_PATH);
	ck_assert_str_eq(c.kernels[1].arg, "linux-image-amd64");
	ck_assert_int_eq(c.kernels[1].kind, KERNEL_DEB);
	ck_assert_str_eq(c.kernels[1].origin, DATA "good.json:4:5");
	ck_assert_int_eq(c.nsmp, 2);
	ck_assert_int_eq(c.smp[1], 2);
	ck_assert_int_eq(c.reps, 5);
	ck_assert_uint_eq(c.nscenarios, 2);
	ck_assert_str_eq(c.accel, "tcg");
	ck_assert_int_eq(c.timeout_ms, 10000); /* default kept */
	config_release(&c);
}
END_TEST

START_TEST(missing_field)
{
	ck_assert_str_eq(load_err(DATA "missing-name.json"),
			 DATA "missing-name.json:4:5: kernels[1]: missing field 'name'");
	ck_assert_str_eq(load_err(DATA "no-kernels.json"),
			 DATA "no-kernels.json:1:1: missing field 'kernels' "
			 "(a list of {\"name\", \"path\" or \"deb\"})");
}
END_TEST

START_TEST(wrong_type)
{
	ck_assert_str_eq(load_err(DATA "wrong-type.json"),
			 DATA "wrong-type.json:4:11: 'reps' must be an integer, not a string");
	ck_assert_str_eq(load_err(DATA "bad-smp.json"),
			 DATA "bad-smp.json:3:14: smp[1] must be an integer from 1 to 64");
	ck_assert_str_eq(load_err(DATA "bad-accel.json"),
			 DATA "bad-accel.json:3:12: 'accel' must be \"auto\", \"kvm\" or \"tcg\", not \"xen\"");
	ck_assert_str_eq(load_err(DATA "bad-hosts.json"),
			 DATA "bad-hosts.json:3:14: hosts[0]: \"slots\" is 1 to 256 vCPUs at once");
	ck_assert_str_eq(load_err(DATA "bad-hosts-key.json"),
			 DATA "bad-hosts-key.json:3:43: hosts[1]: unknown key \"url\" (uri, slots, pool, "
			 "pool_path)");
}
END_TEST

START_TEST(bad_json)
{
	const char *s = load_err(DATA "bad-json.json");

	ck_assert_msg(strncmp(s, DATA "bad-json.json:4:3: invalid JSON: ",
			      strlen(DATA "bad-json.json:4:3: invalid JSON: ")) == 0, "got %s", s);
}
END_TEST

START_TEST(unknown_field_and_dups)
{
	ck_assert_str_eq(load_err(DATA "unknown-field.json"),
			 DATA "unknown-field.json:3:11: unknown field 'smpp'");
	ck_assert_str_eq(load_err(DATA "both-sources.json"),
			 DATA "both-sources.json:2:16: kernel 'old': give one of 'path', 'deb', 'url' or "
			 "'build', not both 'path' and 'deb'");
	ck_assert_str_eq(load_err(DATA "dup-name.json"),
			 DATA "dup-name.json:4:15: duplicate kernel name 'k' (kernels[0] has it)");
	ck_assert_str_eq(load_err(DATA "does-not-exist.json"),
			 DATA "does-not-exist.json: cannot open: No such file or directory");
}
END_TEST

START_TEST(unknown_kernel)
{
	struct config c;
	struct kernel_spec k;
	struct kf_error e;
	char buf[1024];

	config_init(&c);
	ck_assert_int_eq(config_load_file(&c, DATA "good.json", &e), 0);
	ck_assert_int_eq(config_select_kernel(&c, "nope", &k, &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 DATA "good.json: unknown kernel 'nope' (the config names: old, new; "
			 "or give path:FILE, deb:PACKAGE or url:URL)");
	ck_assert_int_eq(config_select_kernel(&c, "new", &k, &e), 0);
	ck_assert_str_eq(k.arg, "linux-image-amd64");
	config_kernel_release(&k);
	ck_assert_int_eq(config_select_kernel(&c, "deb:linux-image-6.12-amd64", &k, &e), 0);
	ck_assert_str_eq(k.name, "linux-image-6.12-amd64");
	ck_assert_int_eq(k.kind, KERNEL_DEB);
	config_kernel_release(&k);
	ck_assert_int_eq(config_select_kernel(&c, "path:/tmp/my kernel/bzImage", &k, &e), 0);
	ck_assert_str_eq(k.name, "bzImage");
	ck_assert_str_eq(k.arg, "/tmp/my kernel/bzImage");
	config_kernel_release(&k);
	ck_assert_int_eq(config_select_kernel(&c, "ftp:x", &k, &e), -1);
	ck_assert_str_eq(e.text, "unknown kernel source 'ftp' (known: path, deb, url)");
	config_release(&c);
}
END_TEST

START_TEST(embedded_default)
{
	struct config c;
	struct kf_error e;

	config_init(&c);
	ck_assert_int_eq(config_load_default(&c, &e), 0);
	ck_assert_uint_eq(c.nkernels, 2);
	ck_assert_str_eq(c.kernels[0].arg, "linux-image-amd64");
	ck_assert_str_eq(c.kernels[1].arg, "linux-image-6.12-amd64");
	ck_assert_int_eq(c.nsmp, 4);
	ck_assert_int_eq(c.smp[3], 8);
	config_release(&c);
}
END_TEST

START_TEST(string_errors)
{
	struct config c;
	struct kf_error e;
	char buf[512];

	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "[1, 2]", "inline", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "inline:1:1: the config must be a JSON object, not an array");
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [{\"name\": \"a b\", \"path\": \"/x\"}]}",
					    "inline", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "inline:1:23: kernels[0].name 'a b' must be 1-64 characters of A-Z a-z 0-9 . _ + -");
	config_release(&c);
}
END_TEST

START_TEST(url_and_build_kernels)
{
	struct config c;
	struct kernel_spec k;
	struct kf_error e;
	char *dump;

	config_init(&c);
	ck_assert_msg(config_load_file(&c, DATA "build.json", &e) == 0, "%s", e.text);
	ck_assert_uint_eq(c.nkernels, 3);
	ck_assert_int_eq(c.kernels[0].kind, KERNEL_URL);
	ck_assert_str_eq(c.kernels[0].arg, "https://example.org/k/bzImage");
	ck_assert_str_eq(c.kernels[0].sha256,
			 "9c373dcfa23f5e9238a5ca206487a0a9b90ab270f0aaa94a03b1c12056a0af15");
	ck_assert_int_eq(c.kernels[1].kind, KERNEL_BUILD);
	ck_assert_ptr_nonnull(c.kernels[1].build);
	/* Relative inputs start at the config's folder; URLs and absolute paths stay. */
	ck_assert_str_eq(c.kernels[1].build->source, "/usr/src/linux-source-6.1.tar.xz");
	ck_assert_uint_eq(c.kernels[1].build->npatches, 2);
	ck_assert_str_eq(c.kernels[1].build->patches[0], DATA "patches/0001-a.patch");
	ck_assert_str_eq(c.kernels[1].build->patches[1], "https://example.org/0002-b.patch");
	ck_assert_str_eq(c.kernels[1].build->base, "defconfig");
	ck_assert_uint_eq(c.kernels[1].build->nfragments, 1);
	ck_assert_str_eq(c.kernels[1].build->fragments[0], DATA "extra.config");
	ck_assert_str_eq(c.kernels[2].build->base, "tinyconfig");	/* the default */
	ck_assert_str_eq(c.kernels[2].build->source_sha256,
			 "9c373dcfa23f5e9238a5ca206487a0a9b90ab270f0aaa94a03b1c12056a0af15");
	ck_assert_str_eq(c.cache_dir, DATA "my-cache");
	ck_assert_str_eq(c.kernels[2].cache_dir, DATA "my-cache");
	/* A copy is deep. */
	ck_assert_int_eq(config_select_kernel(&c, "patched", &k, &e), 0);
	ck_assert_ptr_ne(k.build, c.kernels[1].build);
	ck_assert_str_eq(k.build->patches[1], "https://example.org/0002-b.patch");
	config_kernel_release(&k);
	/* Inline URLs, and the config's cache goes with them. */
	ck_assert_int_eq(config_select_kernel(&c, "url:https://h/x/vmlinuz-6.1?x=1", &k, &e), 0);
	ck_assert_int_eq(k.kind, KERNEL_URL);
	ck_assert_str_eq(k.name, "vmlinuz-6.1");
	ck_assert_str_eq(k.cache_dir, DATA "my-cache");
	config_kernel_release(&k);
	ck_assert_int_eq(config_kernel_parse("http://h/a.deb", &k, &e), 0);
	ck_assert_int_eq(k.kind, KERNEL_URL);
	ck_assert_str_eq(k.arg, "http://h/a.deb");
	ck_assert_str_eq(k.name, "a.deb");
	config_kernel_release(&k);
	ck_assert_int_eq(config_kernel_parse("url:ftp://h/a", &k, &e), -1);
	dump = config_dump(&c);
	ck_assert_ptr_nonnull(strstr(dump, "\"url\": \"https://example.org/k/bzImage\""));
	ck_assert_ptr_nonnull(strstr(dump, "0001-a.patch"));
	free(dump);
	config_release(&c);
}
END_TEST

START_TEST(build_errors)
{
	ck_assert_str_eq(load_err(DATA "build-no-source.json"),
			 DATA "build-no-source.json:3:29: kernel 'b': build: missing field 'source' "
			 "(a tarball's URL or file, or a directory) or 'git' (a git repository's "
			 "folder)");
	ck_assert_str_eq(load_err(DATA "build-bad-patch.json"),
			 DATA "build-bad-patch.json:4:54: build.patches[1] must be a file or a URL, "
			 "not an integer");
	ck_assert_str_eq(load_err(DATA "build-unknown.json"),
			 DATA "build-unknown.json:3:58: kernel 'b': build: unknown field 'patch' (known: "
			 "source, git, rev, sha256, patches, config, fragments)");
	ck_assert_str_eq(load_err(DATA "url-bad.json"),
			 DATA "url-bad.json:2:38: kernel 'u': 'url' must start with http://, https:// "
			 "or file://");
	ck_assert_str_eq(load_err(DATA "url-bad-sha.json"),
			 DATA "url-bad-sha.json:2:79: kernel 'u': 'sha256' must be 64 lowercase hex "
			 "digits");
	ck_assert_str_eq(load_err(DATA "sha-on-path.json"),
			 DATA "sha-on-path.json:2:66: kernel 'p': 'sha256' pins a 'url' kernel (for a "
			 "build's source, put it in 'build')");
}
END_TEST

/* "build": {"git": DIR, "rev": R}; NAME@REV selects a commit of it. */
START_TEST(git_kernels)
{
	struct config c;
	struct kernel_spec k;
	struct kf_error e;

	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [{\"name\": \"linux\", \"build\": "
					    "{\"git\": \"/src/linux\", \"config\": \"tinyconfig\"}},"
					    "{\"name\": \"t\", \"build\": {\"source\": \"/x.tar\"}}]}",
					    "inline", &e), 0);
	ck_assert_str_eq(c.kernels[0].build->git, "/src/linux");
	ck_assert_str_eq(c.kernels[0].build->rev, "HEAD");
	ck_assert_ptr_null(c.kernels[0].build->source);
	ck_assert_int_eq(config_select_kernel(&c, "linux@v6.1~2", &k, &e), 0);
	ck_assert_str_eq(k.name, "linux-v6.1_2");
	ck_assert_str_eq(k.build->rev, "v6.1~2");
	ck_assert_str_eq(k.build->git, "/src/linux");
	config_kernel_release(&k);
	ck_assert_int_eq(config_select_kernel(&c, "linux@0123456789ab", &k, &e), 0);
	ck_assert_str_eq(k.name, "linux-0123456789ab");
	config_kernel_release(&k);
	ck_assert_int_eq(config_select_kernel(&c, "t@abc", &k, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "'t' is not built from a git repository"));
	ck_assert_int_eq(config_select_kernel(&c, "linux@-x", &k, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "'-x' is not a git revision"));
	config_release(&c);

	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [{\"name\": \"b\", \"build\": "
					    "{\"git\": \"/g\", \"source\": \"/x.tar\"}}]}", "inline", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "give 'source' or 'git', not both"));
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [{\"name\": \"b\", \"build\": "
					    "{\"source\": \"/x.tar\", \"rev\": \"HEAD\"}}]}", "inline", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "build.rev is a revision of build.git"));
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [{\"name\": \"b\", \"build\": "
					    "{\"git\": \"https://x/y.git\"}}]}", "inline", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "build.git must be a local git repository's folder"));
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [{\"name\": \"b\", \"build\": "
					    "{\"git\": \"/g\", \"rev\": \"a b\"}}]}", "inline", &e), -1);
	ck_assert_ptr_nonnull(strstr(e.text, "build.rev must be a git revision"));
	config_release(&c);
}
END_TEST

START_TEST(scenario_reps)
{
	struct config c;
	struct kf_error e;
	char buf[512];

	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [], \"reps\": 20, "
					    "\"scenario_reps\": {\"detach-vs-sigkill\": 200}}", "inline", &e), 0);
	ck_assert_uint_eq(c.nscenario_reps, 1);
	ck_assert_int_eq(config_max_reps(&c), 200);
	ck_assert_int_eq(config_add_scenario_reps(&c, "sds-zero=50,detach-vs-sigkill=300", "--reps-for", &e), 0);
	ck_assert_uint_eq(c.nscenario_reps, 2);
	ck_assert_int_eq(config_max_reps(&c), 300);
	ck_assert_int_eq(config_add_scenario_reps(&c, "sds-zero=0", "--reps-for", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--reps-for: 'sds-zero=0': expected a cell (ID or ID[axis=value,...]), '=' "
			 "and 1 to 100000 repetitions");
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [],\n \"scenario_reps\": {\"x\": \"many\"}}",
					    "inline", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "inline:2:25: scenario_reps.x must be an integer from 1 to 100000");
	config_release(&c);
}
END_TEST

/* space, variant_reps, variant_smp; cell lists with brackets in scenarios and scenario_reps. */
START_TEST(variants)
{
	struct config c;
	struct kf_error e;
	int vs[CONFIG_MAX_SMP], n;
	char *dump;

	/* The defaults: the sample, 2 repetitions, the two smallest SMP sizes. */
	config_init(&c);
	ck_assert_str_eq(c.space, "sample");
	ck_assert_int_eq(c.variant_reps, 2);
	ck_assert_int_eq(c.nvariant_smp, 0);
	ck_assert_int_eq(config_variant_smp(&c, vs, &n, &e), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(vs[0], 1);
	ck_assert_int_eq(vs[1], 2);
	c.smp[0] = 8;
	c.smp[1] = 4;
	c.smp[2] = 4;
	c.smp[3] = 16;
	ck_assert_int_eq(config_variant_smp(&c, vs, &n, &e), 0);
	ck_assert_int_eq(n, 2); /* in the run's order */
	ck_assert_int_eq(vs[0], 8);
	ck_assert_int_eq(vs[1], 4);
	c.nsmp = 1;
	ck_assert_int_eq(config_variant_smp(&c, vs, &n, &e), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(vs[0], 8);
	config_release(&c);

	config_init(&c);
	ck_assert_msg(config_load_file(&c, DATA "variants.json", &e) == 0, "%s", e.text);
	ck_assert_str_eq(c.space, "full");
	ck_assert_int_eq(c.variant_reps, 3);
	ck_assert_int_eq(c.nvariant_smp, 2);
	ck_assert_int_eq(config_variant_smp(&c, vs, &n, &e), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(vs[0], 2);
	ck_assert_int_eq(vs[1], 8);
	ck_assert_uint_eq(c.nscenarios, 3);
	ck_assert_str_eq(c.scenarios[0], "sds-zero[*]");
	ck_assert_str_eq(c.scenarios[1], "sds-zero[sigchld=ign,wait=waitpid]");
	ck_assert_str_eq(c.scenarios[2], "detach-vs-sigkill");
	ck_assert_uint_eq(c.nscenario_reps, 2);
	ck_assert_str_eq(c.scenario_reps[0].id, "sds-zero[sigchld=ign,wait=waitpid]");
	ck_assert_int_eq(c.scenario_reps[0].reps, 9);
	dump = config_dump(&c);
	ck_assert_ptr_nonnull(strstr(dump, "\"space\": \"full\""));
	ck_assert_ptr_nonnull(strstr(dump, "\"variant_reps\": 3"));
	ck_assert_ptr_nonnull(strstr(dump, "\"variant_smp\": [\n    8,\n    2\n  ]"));
	ck_assert_ptr_nonnull(strstr(dump, "\"sds-zero[sigchld=ign,wait=waitpid]\": 9"));
	free(dump);
	c.smp[3] = 16;
	ck_assert_int_eq(config_variant_smp(&c, vs, &n, &e), -1);
	ck_assert_str_eq(e.source, "variant_smp");
	ck_assert_str_eq(e.text, "8 is not one of the run's SMP sizes (1,2,4,16)");
	config_release(&c);

	ck_assert_str_eq(load_err(DATA "bad-space.json"),
			 DATA "bad-space.json:3:12: 'space' must be \"base\", \"sample\" or \"full\", "
			 "not \"everything\"");
	ck_assert_str_eq(load_err(DATA "bad-variant-reps.json"),
			 DATA "bad-variant-reps.json:3:19: 'variant_reps' must be between 1 and 100000, "
			 "not 0");
	ck_assert_str_eq(load_err(DATA "bad-variant-smp.json"),
			 DATA "bad-variant-smp.json:4:22: variant_smp[1] must be an integer from 1 to 64");
	ck_assert_str_eq(load_err(DATA "bad-scenarios.json"),
			 DATA "bad-scenarios.json:3:29: scenarios[1] must be all or a cell: ID, ID[*] "
			 "or ID[axis=value,...]");
	ck_assert_str_eq(load_err(DATA "bad-scenario-reps.json"),
			 DATA "bad-scenario-reps.json:3:65: scenario_reps: 'sds-zero[*]' is not a cell "
			 "(ID or ID[axis=value,...])");
}
END_TEST

/* The same fields as strings that are not what they must be. */
START_TEST(variants_inline)
{
	struct config c;
	struct kf_error e;
	char buf[512];

	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [], \"variant_smp\": []}",
					    "inline", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "inline:1:32: 'variant_smp' must be an array of 1 to 16 vCPU counts (SMP "
			 "sizes of the run that run variant cells)");
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [], \"space\": 1}", "inline", &e),
			 -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "inline:1:26: 'space' must be a string, not an integer");
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [], \"variant_reps\": \"2\"}",
					    "inline", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "inline:1:33: 'variant_reps' must be an integer, not a string");
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [], \"scenarios\": \"a[x=1,y=2],b[\"}",
					    "inline", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "inline:1:30: scenarios: 'b[' is not a cell: expected all, ID, ID[*] or "
			 "ID[axis=value,...]");
	config_release(&c);
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [], \"scenario_reps\": \"a[x=1]\"}",
					    "inline", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "inline:1:34: scenario_reps: 'a[x=1]': expected a cell (ID or "
			 "ID[axis=value,...]), '=' and 1 to 100000 repetitions");
	config_release(&c);
	/* "all" as a string is no list */
	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [], \"scenarios\": \"all\"}",
					    "inline", &e), 0);
	ck_assert_ptr_null(c.scenarios);
	config_release(&c);
}
END_TEST


/* config_dump() of @file (which must load); owned. */
static char *dump_of(const char *file)
{
	struct config c;
	struct kf_error e;
	char *s;

	config_init(&c);
	ck_assert_msg(config_load_file(&c, file, &e) == 0, "%s", e.text);
	s = config_dump(&c);
	config_release(&c);
	return s;
}

/*
 * `kfarm config` of a config that sets every field: the golden dump, every
 * field kfarm keeps in it, and the dump loads back into the same dump.
 */
START_TEST(dump_round_trip)
{
	char *dump = dump_of(DATA "every-field.json"), *want, *again;
	char *printed = xasprintf("%s\n", dump);	/* as `kfarm config` prints it */
	struct config c;
	struct kf_error e;
	const char *name;
	json_t *j;
	size_t i;

	if (update_golden())
		ck_assert_int_eq(util_write_atomic(DATA "expected-dump.json", printed,
						   strlen(printed), &e), 0);
	want = util_read_file(DATA "expected-dump.json", NULL, &e);
	ck_assert_msg(want != NULL, "%s", e.text);
	ck_assert_msg(!strcmp(printed, want), "expected-dump.json differs; got:\n%s", printed);
	j = json_loads(dump, 0, NULL);
	for (i = 0; (name = config_field_name(i)); i++)	/* "description" is not kept */
		ck_assert_msg(json_object_get(j, name) || !strcmp(name, "description"),
			      "'%s' is not in the dump", name);
	json_decref(j);
	config_init(&c);
	ck_assert_msg(config_load_string(&c, dump, "<kfarm config>", &e) == 0, "%s", e.text);
	again = config_dump(&c);
	ck_assert_str_eq(again, dump);
	config_release(&c);
	free(again);
	free(want);
	free(printed);
	free(dump);
}
END_TEST

/* config_init() holds the table's defaults: its dump shows each. */
START_TEST(defaults_from_table)
{
	struct config c;
	struct config_doc d;
	const char *name;
	json_t *dump;
	size_t i;

	config_init(&c);
	dump = config_to_json(&c);
	for (i = 0; (name = config_field_name(i)); i++) {
		json_t *want;

		ck_assert_int_eq(config_field_doc(name, &d), 0);
		if (!d.def || !strcmp(name, "output"))
			continue;
		want = json_loads(d.def, JSON_DECODE_ANY, NULL);
		ck_assert_msg(json_equal(json_object_get(dump, name), want), "%s", name);
		json_decref(want);
	}
	/* The default output folder is kfarm's own reports/. */
	ck_assert_str_eq(c.output_dir, KFARM_TOP "/reports");
	ck_assert_int_eq(config_field_doc("no-such-field", &d), -1);
	json_decref(dump);
	config_release(&c);
}
END_TEST

/* The command line's overrides are checked as the config's values are. */
START_TEST(set_text)
{
	struct config c;
	struct kf_error e;
	char buf[512];

	config_init(&c);
	ck_assert_int_eq(config_set_text(&c, "reps", "7", "--reps", &e), 0);
	ck_assert_int_eq(c.reps, 7);
	ck_assert_int_eq(config_set_text(&c, "reps", "0", "--reps", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--reps: '0' is not a number from 1 to 100000");
	ck_assert_int_eq(config_set_text(&c, "space", "everything", "--space", &e), -1);
	ck_assert_str_eq(error_format(&e, buf, sizeof(buf)),
			 "--space: 'everything' is not base, sample or full");
	ck_assert_int_eq(config_set_text(&c, "accel", "kvm", "--accel", &e), 0);
	ck_assert_str_eq(c.accel, "kvm");
	ck_assert_int_eq(config_set_text(&c, "smp", "1,2", "--smp", &e), 0);
	ck_assert_int_eq(c.nsmp, 2);
	ck_assert_int_eq(config_set_text(&c, "smp", "1,65", "--smp", &e), -1);
	ck_assert_int_eq(config_set_text(&c, "variant_smp", "2", "--variant-smp", &e), 0);
	ck_assert_int_eq(c.nvariant_smp, 1);
	ck_assert_int_eq(config_set_text(&c, "scenario_reps", "sds-zero=3", "--reps-for", &e), 0);
	ck_assert_uint_eq(c.nscenario_reps, 1);
	ck_assert_int_eq(config_set_text(&c, "kernels", "x", "--kernels", &e), -1);
	config_release(&c);
}
END_TEST

/* README.md's config section (owned), from "## Config" to the next section. */
static char *readme_config_section(void)
{
	struct kf_error e;
	char *text = util_read_file(KFARM_TOP "/README.md", NULL, &e), *start, *end, *out;

	ck_assert_msg(text != NULL, "%s", e.text);
	start = strstr(text, "\n## Config\n");
	ck_assert_ptr_nonnull(start);
	end = strstr(start + 1, "\n## ");
	out = end ? strndup(start, (size_t)(end - start)) : xstrdup(start);
	free(text);
	return out;
}

/* README.md documents every field: by name, and with the table's own row. */
START_TEST(readme_documents_fields)
{
	char *sec = readme_config_section(), *table = config_doc_markdown();
	const char *name;
	size_t i;

	for (i = 0; (name = config_field_name(i)); i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "`%s`", name);
		ck_assert_msg(strstr(sec, quoted), "README.md's config section does not name %s",
			      quoted);
	}
	ck_assert_msg(strstr(sec, table), "README.md's table of fields is not config.c's; "
		      "it should read:\n%s", table);
	free(table);
	free(sec);
}
END_TEST

/* Loads @text expecting failure; returns the formatted error ("<t>:LINE:COL: ..."). */
static const char *text_err(const char *text)
{
	static char buf[2048];
	struct config c;
	struct kf_error e;
	int r;

	config_init(&c);
	r = config_load_string(&c, text, "<t>", &e);
	config_release(&c);
	ck_assert_msg(r == -1, "accepted: %s", text);
	return error_format(&e, buf, sizeof(buf));
}

/* An empty output would put the run directories at the root; SMP sizes and cells once each. */
START_TEST(empty_and_twice)
{
	ck_assert_str_eq(text_err("{\"kernels\": [],\n \"output\": \"\"}"),
			 "<t>:2:12: 'output' must not be empty (where runs go, a folder each, and "
			 "their index (index.sqlite, exported to index.json; the default is in "
			 "kfarm's folder))");
	ck_assert_str_eq(text_err("{\"kernels\": [], \"qemu\": \"\"}"),
			 "<t>:1:25: 'qemu' must not be empty (the QEMU binary)");
	ck_assert_str_eq(text_err("{\"kernels\": [], \"cache\": \"\"}")
			 + strlen("<t>:1:28: "), "'cache' must not be empty (where fetched and "
			 "built kernels are kept)");
	ck_assert_str_eq(text_err("{\"kernels\": [], \"smp\": [1, 2, 1]}"),
			 "<t>:1:31: smp[2]: 1 is named twice (smp[0] is 1 too)");
	ck_assert_str_eq(text_err("{\"kernels\": [], \"smp\": [1, 2], \"variant_smp\": [2, 2]}"),
			 "<t>:1:51: variant_smp[1]: 2 is named twice (variant_smp[0] is 2 too)");
	ck_assert_str_eq(text_err("{\"kernels\": [],\n \"scenarios\": [\"sds-zero\", "
				  "\"detach-vs-sigkill\", \"sds-zero\"]}"),
			 "<t>:2:49: scenarios[2]: 'sds-zero' is named twice (scenarios[0] too): "
			 "name an entry once");
	ck_assert_str_eq(text_err("{\"kernels\": [], \"scenarios\": \"sds-zero,sds-zero\"}"),
			 "<t>:1:30: scenarios: 'sds-zero' is named twice (entries 1 and 2): name "
			 "each cell once");
	ck_assert_str_eq(text_err("{\"kernels\": [], \"scenarios\": \",,,\"}"),
			 "<t>:1:30: scenarios: ',,,': entry 1 is empty (a ',' too many?): name "
			 "each cell once, ','-separated");
	ck_assert_str_eq(text_err("{\"kernels\": [], \"scenarios\": \"\"}"),
			 "<t>:1:30: scenarios: '': entry 1 is empty (a ',' too many?): name "
			 "each cell once, ','-separated");
}
END_TEST

/* A bracketed ',' does not separate: two cells that differ in their axes are two. */
START_TEST(scenarios_distinct)
{
	struct config c;
	struct kf_error e;

	config_init(&c);
	ck_assert_msg(config_load_string(&c, "{\"kernels\": [], \"scenarios\": "
					 "\"sds-zero[sigchld=ign,wait=waitpid],sds-zero[sigchld=ign]\"}",
					 "<t>", &e) == 0, "%s", e.text);
	ck_assert_uint_eq(c.nscenarios, 2);
	config_release(&c);
}
END_TEST

/* A config of @n path kernels, one a line, each at column 5. */
static char *many_kernels(size_t n)
{
	size_t cap = 64 + n * 64, len, i;
	char *t = xmalloc(cap);

	len = (size_t)snprintf(t, cap, "{\"kernels\": [\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len, "    {\"name\": \"k%zu\", \"path\": "
					"\"/k/%zu\"}%s\n", i, i, i + 1 < n ? "," : "");
	snprintf(t + len, cap - len, "]}\n");
	return t;
}

/*
 * Each kernel's origin (file:line:column) is found in one pass over the text,
 * and duplicate names through a hash: loading 40,000 kernels took 38 s when
 * each was looked for from the start. The scanner's steps are counted, so
 * the test holds whatever the machine's speed.
 */
START_TEST(many_kernels_linear)
{
	const size_t n = 40000;
	char *text = many_kernels(n), *dup;
	unsigned long long before = config_scan_steps();
	struct config c;
	struct kf_error e;

	config_init(&c);
	ck_assert_msg(config_load_string(&c, text, "big.json", &e) == 0, "%s", e.text);
	ck_assert_uint_eq(c.nkernels, n);
	ck_assert_str_eq(c.kernels[0].origin, "big.json:2:5");
	ck_assert_str_eq(c.kernels[n - 1].origin, "big.json:40001:5");
	ck_assert_str_eq(c.kernels[n - 1].name, "k39999");
	/* one pass to the kernels and over them, not one a kernel */
	ck_assert_msg(config_scan_steps() - before <= 2 * strlen(text),
		      "%llu scanner steps for a text of %zu bytes",
		      config_scan_steps() - before, strlen(text));
	config_release(&c);
	/* the last kernel named as the first: found, and placed */
	dup = strstr(text, "\"k39999\"");
	memcpy(dup, "\"k0\"    ", 8);
	ck_assert_str_eq(text_err(text) + strlen("<t>:"),
			 "40001:14: duplicate kernel name 'k0' (kernels[0] has it)");
	free(text);
}
END_TEST

/* A file past CONFIG_FILE_MAX is refused after reading one byte past it; one at it loads. */
START_TEST(file_bound)
{
	char path[] = "/tmp/kfarm-config-max-XXXXXX";
	const char *head = "{\"kernels\": []}";
	struct config c;
	struct kf_error e;
	char want[512], got[512], *text = xmalloc(CONFIG_FILE_MAX);
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	/* blanks after the object: valid JSON of exactly CONFIG_FILE_MAX bytes */
	memset(text, ' ', CONFIG_FILE_MAX);
	memcpy(text, head, strlen(head));
	text[CONFIG_FILE_MAX - 1] = '\n';
	ck_assert_uint_eq(fwrite(text, 1, CONFIG_FILE_MAX, f), CONFIG_FILE_MAX);
	ck_assert_int_eq(fclose(f), 0);
	free(text);
	config_init(&c);
	ck_assert_msg(config_load_file(&c, path, &e) == 0, "%s", e.text);
	config_release(&c);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputc(' ', f);
	ck_assert_int_eq(fclose(f), 0);
	config_init(&c);
	ck_assert_int_eq(config_load_file(&c, path, &e), -1);
	config_release(&c);
	snprintf(want, sizeof(want), "%s: larger than 64 MiB, the most kfarm reads of a config "
		 "(CONFIG_FILE_MAX)", path);
	ck_assert_str_eq(error_format(&e, got, sizeof(got)), want);
	unlink(path);
}
END_TEST

/* The run's kernels' names, made distinct as kfarm run --kernels does. */
static void names_of(const char *const *specs, size_t n, const char *want)
{
	struct kernel_spec ks[8];
	struct config c;
	struct kf_error e;
	char got[512] = "";
	size_t i;

	config_init(&c);
	ck_assert_int_eq(config_load_string(&c, "{\"kernels\": [{\"name\": \"K\", \"path\": "
						"\"/k\"}]}", "<t>", &e), 0);
	for (i = 0; i < n; i++)
		ck_assert_msg(config_select_kernel(&c, specs[i], &ks[i], &e) == 0, "%s", e.text);
	config_kernel_names_unique(ks, n);
	for (i = 0; i < n; i++) {
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 ks[i].name);
		config_kernel_release(&ks[i]);
	}
	ck_assert_str_eq(got, want);
	config_release(&c);
}

#define NAMES(want, ...) names_of((const char *const[]){ __VA_ARGS__ }, \
				  sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *), want)

START_TEST(kernel_names_unique)
{
	/* an A/A control, as kfarm compare K K and kfarm calibrate K have it */
	NAMES("K K-b", "K", "K");
	/* two inline kernels' file names once gave two K-b */
	NAMES("K-b K K-c", "path:a/K-b", "path:b/K", "path:c/K");
	NAMES("K K-c K-b", "path:b/K", "path:c/K", "path:a/K-b");
	NAMES("K K-b K-c K-d", "K", "K", "path:/x/K", "deb:K");
	NAMES("bzImage bzImage-b", "path:/a/bzImage", "path:/b/bzImage");
	NAMES("K bzImage", "K", "path:/a/bzImage");
	/* a name of 64 characters, twice: the second is cut to stay one (62 and "-b") */
	NAMES("k123456789012345678901234567890123456789012345678901234567890123 "
	      "k1234567890123456789012345678901234567890123456789012345678901-b",
	      "path:/a/k123456789012345678901234567890123456789012345678901234567890123",
	      "path:/b/k123456789012345678901234567890123456789012345678901234567890123");
	{
		struct kernel_spec ks[30];
		struct config c;
		struct kf_error e;
		size_t i;

		config_init(&c);
		for (i = 0; i < 30; i++) {
			ck_assert_int_eq(config_select_kernel(&c, "path:/a/k12345678901234567890123456789"
							      "0123456789012345678901234567890123",
							      &ks[i], &e), 0);
		}
		config_kernel_names_unique(ks, 30);
		/* past -z: -27, -28...; the 30th is the 64-character name's first 61 and "-30" */
		ck_assert_str_eq(ks[29].name, "k123456789012345678901234567890123456789012345678901234"
			       "567890-30");
		for (i = 0; i < 30; i++) {
			ck_assert_msg(config_name_ok(ks[i].name), "%s", ks[i].name);
			config_kernel_release(&ks[i]);
		}
		config_release(&c);
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, good_config);
	tcase_add_test(tc, missing_field);
	tcase_add_test(tc, wrong_type);
	tcase_add_test(tc, bad_json);
	tcase_add_test(tc, unknown_field_and_dups);
	tcase_add_test(tc, unknown_kernel);
	tcase_add_test(tc, embedded_default);
	tcase_add_test(tc, string_errors);
	tcase_add_test(tc, url_and_build_kernels);
	tcase_add_test(tc, build_errors);
	tcase_add_test(tc, git_kernels);
	tcase_add_test(tc, scenario_reps);
	tcase_add_test(tc, variants);
	tcase_add_test(tc, variants_inline);
	tcase_add_test(tc, dump_round_trip);
	tcase_add_test(tc, defaults_from_table);
	tcase_add_test(tc, set_text);
	tcase_add_test(tc, readme_documents_fields);
	tcase_add_test(tc, empty_and_twice);
	tcase_add_test(tc, scenarios_distinct);
	tcase_add_test(tc, many_kernels_linear);
	tcase_add_test(tc, file_bound);
	tcase_add_test(tc, kernel_names_unique);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
