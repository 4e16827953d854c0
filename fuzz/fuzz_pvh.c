/* SPDX-License-Identifier: MIT */
/*
 * The kernel image reader (pvh.c): a bzImage fetched from a URL or unpacked
 * from a .deb, its boot header, its payload decompressed with libarchive and
 * the ELF vmlinux inside, whose PT_NOTE segments are searched for the PVH
 * note. The input is the image file (read from memory through
 * /proc/self/fd), taken both as a bzImage (pvh_extract(), writing into a
 * temporary folder emptied after each input) and as an ELF file
 * (pvh_elf_note()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "pvh.h"

static const char *dest;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_verbose = 0;
	dest = fuzz_scratch("pvh", "vmlinux");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfile(data, size);
	struct pvh_info info;
	struct kf_error e;
	uint64_t entry = 0;
	char why[256];
	int ret;

	(void)pvh_elf_note(path, &entry, why, sizeof(why), &e);
	ret = pvh_extract(path, dest, &info, &e);
	fuzz_check(ret >= -1 && ret <= 1);
	if (ret == 0) {
		/* What it wrote is a vmlinux with the note it found. */
		fuzz_check(pvh_elf_note(dest, &entry, why, sizeof(why), &e) == 1);
		fuzz_check(entry == info.entry && info.decompressed);
		fuzz_check(unlink(dest) == 0);
	} else {
		fuzz_check(access(dest, F_OK) < 0 && errno == ENOENT);
		fuzz_check(ret < 0 || info.reason[0]);
	}
	return 0;
}
