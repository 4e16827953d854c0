/* SPDX-License-Identifier: MIT */
/*
 * The plain driver: runs a harness's LLVMFuzzerTestOneInput() once on each
 * file named, or on each file of a folder named, as a libFuzzer binary does
 * with file arguments, but built with the project's compiler (and its
 * SANITIZE=) and without libFuzzer, so that make test replays the kept
 * inputs (fuzz/regress/, fuzz/corpus/) whether or not clang is installed.
 * A crash or a failed invariant aborts with the input's name on stderr.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			buf = realloc(buf, cap);
			if (!buf) {
				perror("realloc");
				exit(2);
			}
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	/* A copy of exactly n bytes: ASan sees a read past the input. */
	{
		uint8_t *exact = malloc(n ? n : 1);

		if (!exact)
			exit(2);
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	free(buf);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	int i, k, inputs = 0, bad = 0, n;
	struct dirent **ents;
	struct stat st;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]) < 0;
			inputs++;
			continue;
		}
		n = scandir(argv[i], &ents, NULL, by_name);
		if (n < 0) {
			perror(argv[i]);
			bad++;
			continue;
		}
		for (k = 0; k < n; k++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], ents[k]->d_name);
			if (ents[k]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				bad += run_file(path) < 0;
				inputs++;
			}
			free(ents[k]);
		}
		free(ents);
	}
	printf("%s: %d inputs, %d unreadable\n", argv[0], inputs, bad);
	return bad ? 1 : 0;
}
