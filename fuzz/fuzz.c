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
