/* SPDX-License-Identifier: MIT */
#ifndef KFARM_FUZZ_H
#define KFARM_FUZZ_H

/*
 * What each harness (fuzz/fuzz_*.c) defines: libFuzzer's entry points, also
 * called by fuzz/replay.c, the plain driver that make test runs the kept
 * inputs with (built with the project's compiler, without libFuzzer).
 */
#include <stddef.h>
#include <stdint.h>

/** LLVMFuzzerTestOneInput() - run the parser on @size bytes of @data; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** LLVMFuzzerInitialize() - once, before the first input (optional in a harness). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * fuzz_check() - an invariant of the parser under test: when it does not
 * hold, say which and abort(), which libFuzzer and the replay driver report as
 * a crash with this input.
 */
#define fuzz_check(cond) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond); \
	} while (0)

__attribute__((noreturn)) void fuzz_fail(const char *file, int line, const char *what);

/**
 * fuzz_memfile() - a file in memory (a memfd) holding @size bytes of @data,
 * rewritten on each call, and its name for open() ("/proc/self/fd/N"):
 * for parsers that read files.
 */
const char *fuzz_memfile(const uint8_t *data, size_t size);

/**
 * fuzz_scratch() - the path of a file @name in a folder of its own under /tmp
 * (kfarm-fuzz-@what.XXXXXX), made on the first call and removed, with the
 * file, at exit: where a parser under test writes what it extracts.
 */
const char *fuzz_scratch(const char *what, const char *name);

#endif
