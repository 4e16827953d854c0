/* SPDX-License-Identifier: MIT */
#ifndef KFARM_PVH_H
#define KFARM_PVH_H

#include <stdint.h>

#include "error.h"

/*
 * Booting a kernel through its PVH entry point.
 *
 * A bzImage decompresses itself at every boot, which under TCG costs seconds.
 * QEMU's -kernel also boots an uncompressed ELF vmlinux directly when it carries
 * the PVH ELF note (XEN_ELFNOTE_PHYS32_ENTRY, type 18, name "Xen", in a PT_NOTE
 * segment: kernels with CONFIG_PVH=y). The vmlinux is the bzImage's payload, so
 * it can be extracted once and booted many times.
 */

/* The ELF note QEMU looks for: name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY. */
#define PVH_NOTE_TYPE 18

/**
 * struct pvh_info - what pvh_extract() found.
 * @compression: the payload's compression as libarchive names it ("xz", "zstd",
 *               "gzip", ...), "" before it is known
 * @version: the boot protocol version (0x20f for 2.15), 0 when not a bzImage
 * @payload: compressed payload bytes (with the kernel's 4-byte size trailer)
 * @size: uncompressed bytes (what was written to @out)
 * @entry: the PVH entry point (a physical address), when found
 * @decompressed: the whole payload was decompressed (so a "not applicable"
 *                answer is a property of the image, worth remembering)
 * @reason: why pvh_extract() returned 1, one sentence
 */
struct pvh_info {
	char compression[16];
	unsigned version;
	uint64_t payload;
	uint64_t size;
	uint64_t entry;
	int decompressed;
	char reason[256];
};

/**
 * pvh_extract() - write the uncompressed ELF vmlinux inside @bzimage to @out.
 * @info: may be NULL
 *
 * Reads the x86 boot header (setup_sects at 0x1f1, protocol version at 0x206,
 * payload_offset/payload_length at 0x248/0x24c from the protected-mode code),
 * streams the payload through libarchive into a temporary file beside @out,
 * checks it is an ELF64 x86-64 file with the PVH note and renames it to @out.
 *
 * Returns 0 when @out holds the vmlinux; 1 when not applicable (not a bzImage,
 * boot protocol < 2.08, a compression libarchive cannot read, not x86-64, no
 * PVH note: @info->reason and a log_debug say which; @out is not touched); -1
 * on a real error (I/O, a truncated file, a corrupt payload) with @e naming the
 * file and what is wrong.
 */
int pvh_extract(const char *bzimage, const char *out, struct pvh_info *info,
		struct kf_error *e);

/**
 * pvh_elf_note() - whether the ELF file @path has the PVH note in a PT_NOTE
 * segment (where QEMU looks). @entry (may be NULL) gets its entry point.
 * Returns 1 (has it), 0 (has not, or not an ELF64 x86-64 file: @why, may be
 * NULL, says which), or -1 with @e (cannot read it, inconsistent headers).
 */
int pvh_elf_note(const char *path, uint64_t *entry, char *why, size_t whylen,
		 struct kf_error *e);

#endif
