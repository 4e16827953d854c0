/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define DATA KFARM_TOP "/orchestrator/tests/data/config/"

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
	ck_assert_int_eq(c.timeout_ms, 5000); /* default kept */
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
			 DATA "both-sources.json:2:16: kernel 'old': give one of 'path' or 'deb', not both");
	ck_assert_str_eq(load_err(DATA "dup-name.json"),
			 DATA "dup-name.json:4:15: duplicate kernel name 'k'");
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
			 "or give path:FILE or deb:PACKAGE)");
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
	ck_assert_str_eq(e.text, "unknown kernel source 'ftp' (known: path, deb)");
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
