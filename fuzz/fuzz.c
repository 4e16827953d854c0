/* SPDX-License-Identifier: MIT */
/* What the harnesses share: linked into every fuzz binary and replay driver. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant does not hold: %s\n", file, line, what);
	abort();
}

const char *fuzz_memfile(const uint8_t *data, size_t size)
{
	static char name[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("kfarm-fuzz", MFD_CLOEXEC);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("memfd");
		abort();
	}
	return name;
}

static char scratch_dir[64], scratch_file[128];

static void scratch_remove(void)
{
	unlink(scratch_file);
	rmdir(scratch_dir);
}

const char *fuzz_scratch(const char *what, const char *name)
{
	if (!scratch_dir[0]) {
		snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/kfarm-fuzz-%s.XXXXXX", what);
		if (!mkdtemp(scratch_dir)) {
			perror("mkdtemp");
			abort();
		}
		snprintf(scratch_file, sizeof(scratch_file), "%s/%s", scratch_dir, name);
		atexit(scratch_remove);
	}
	return scratch_file;
}
