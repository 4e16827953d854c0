/* SPDX-License-Identifier: MIT */
/*
 * The config loader (config.c): a config file's text, loaded as
 * config_load_file() loads it (from a folder that does not exist, so that
 * relative build inputs resolve without touching the disk). A config that
 * loads must dump (config_dump()) to a config that loads to the same dump.
 * The same text is also taken as the command line's inline kernel
 * (config_kernel_parse()) and --reps-for list (config_add_scenario_reps()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"

#define SOURCE "/nonexistent-kfarm-fuzz/config.json"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_verbose = 0;
	return 0;
}

static void use(const struct config *c)
{
	struct kernel_spec k;
	struct kf_error e;
	int smp[CONFIG_MAX_SMP], n;
	size_t i;

	(void)config_variant_smp(c, smp, &n, &e);
	fuzz_check(config_max_reps(c) >= 0);
	for (i = 0; i < c->nkernels; i++) {
		fuzz_check(config_name_ok(c->kernels[i].name));
		fuzz_check(config_select_kernel(c, c->kernels[i].name, &k, &e) == 0);
		config_kernel_release(&k);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size), *dump, *again;
	struct kernel_spec k;
	struct config c, d;
	struct kf_error e;

	if (!text)
		abort();
	config_init(&c);
	if (config_load_string(&c, text, SOURCE, &e) == 0) {
		use(&c);
		dump = config_dump(&c);
		fuzz_check(dump != NULL);
		config_init(&d);
		if (config_load_string(&d, dump, SOURCE, &e) < 0) {
			fprintf(stderr, "the dump does not load: %s:%d:%d: %s\n%s\n", e.source,
				e.line, e.column, e.text, dump);
			fuzz_check(!"a config's dump loads");
		}
		again = config_dump(&d);
		fuzz_check(again && strcmp(dump, again) == 0);
		free(again);
		free(dump);
		config_release(&d);
	}
	(void)config_add_scenario_reps(&c, text, "--reps-for", &e);
	config_release(&c);
	if (config_kernel_parse(text, &k, &e) == 0) {
		fuzz_check(config_name_ok(k.name));
		config_kernel_release(&k);
	}
	free(text);
	return 0;
}
