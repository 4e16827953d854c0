/* SPDX-License-Identifier: MIT */
/*
 * The .deb unpacking path (deb.c): a package downloaded by apt-get or from a
 * URL, read with libarchive (the ar archive, then its data.tar.* in whatever
 * compression libarchive takes) for ./boot/vmlinuz-*. The input is the
 * package file; deb_extract_kernel() reads it from memory through
 * /proc/self/fd and writes the image into a temporary folder, emptied after
 * each input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deb.h"
#include "fuzz.h"
#include "log.h"

static const char *dest;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_verbose = 0;
	dest = fuzz_scratch("deb", "vmlinuz");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfile(data, size);
	struct kf_error e;
	char *member = NULL;
	int is_deb = deb_is_deb(path);

	fuzz_check(is_deb == (size >= 21 && !memcmp(data, "!<arch>\ndebian-binary", 21)));
	if (deb_extract_kernel(path, dest, &member, &e) == 0) {
		fuzz_check(member && access(dest, F_OK) == 0);
		fuzz_check(unlink(dest) == 0);
	} else {
		fuzz_check(!member && access(dest, F_OK) < 0 && errno == ENOENT);
	}
	free(member);
	return 0;
}
