/* SPDX-License-Identifier: MIT */
#ifndef KFARM_KERNEL_H
#define KFARM_KERNEL_H

#include "config.h"
#include "error.h"

/*
 * struct kernel - a kernel resolved to a local image.
 * @spec: what the config named
 * @path: the image as given, fetched or built (bzImage or vmlinux): what
 *        reports and replay commands name
 * @sha256: of @path
 * @boot_path: what QEMU boots: the image's uncompressed vmlinux, extracted once
 *             into the cache (<cache>/pvh/<sha256>/vmlinux), when it has the PVH
 *             entry point; else the same as @path
 * @boot: how @boot_path boots: "pvh" (the extracted vmlinux), "bzimage" (the
 *        image itself, which decompresses itself at every boot) or "elf" (an
 *        ELF vmlinux given as the image)
 * @source: "deb:linux-image-6.1.0-56-amd64=6.1.192-2", "path:/x/bzImage",
 *          "url:https://host/bzImage" or "build:<key prefix> (release 6.1.192)"
 * @release: filled from the guest's uname -r once it booted
 */
struct kernel {
	struct kernel_spec spec;
	char *path;
	char sha256[65];
	char *boot_path;
	const char *boot;
	char *source;
	char *release;
};

/**
 * kernel_resolve() - find, fetch or build @spec's image, through the cache
 * (@spec->cache_dir or the default) so the same inputs are fetched or built
 * once: a path is checked to be a kernel image; a Debian package has its
 * metapackages resolved to the real image package, is downloaded with
 * apt-get (once per version) and its /boot/vmlinuz-* unpacked with libarchive;
 * a URL is fetched (a .deb among them unpacked); a build is built (build.h).
 * Then @k->boot_path is chosen (see kernel_boot_image()).
 */
int kernel_resolve(struct kernel *k, const struct kernel_spec *spec, struct kf_error *e);

/* kernel_resolve_flags()'s @flags. */
/*
 * The largest kernel image kfarm boots or writes (a bzImage, a vmlinux, or the
 * vmlinux pvh.c takes out of a bzImage): Debian's are some 8 MB compressed and
 * 60 MB as vmlinux, a vmlinux with its debug information some hundreds; a
 * larger file is no kernel worth booting under TCG, or a mistake.
 */
#define KERNEL_IMAGE_MAX (1ll << 30)
#define KERNEL_REFRESH 0x1	/* url: without a sha256: ask the server if it changed */

/**
 * kernel_resolve_flags() - kernel_resolve() with @flags. KERNEL_REFRESH has a
 * cached url: kernel that has no pinned sha256 revalidated (fetch_cached()'s
 * conditional GET; a pinned one never is): one line says whether it changed; a
 * check that fails is a warning and the cached copy is used, so that a nightly
 * run goes on.
 */
int kernel_resolve_flags(struct kernel *k, const struct kernel_spec *spec, unsigned int flags,
			 struct kf_error *e);

/**
 * kernel_boot_image() - set @k->boot_path and @k->boot for @k->path (with
 * @k->sha256 known): a bzImage's vmlinux is extracted (pvh.h) into
 * <@root>/pvh/<sha256>/vmlinux once per image, under the cache's lock, and booted
 * through its PVH entry point. An image that has none (no CONFIG_PVH, a
 * compression libarchive cannot read, an extraction that fails) boots as it is:
 * this never fails. KFARM_NO_PVH=1 in the environment turns it off.
 */
void kernel_boot_image(struct kernel *k, const char *root);

/** kernel_release() - free what @k owns. */
void kernel_release(struct kernel *k);

/**
 * kernel_check_image() - @path is a regular file with a bzImage header
 * ("HdrS" at 0x202) or an ELF header, and whole as that header says, before
 * anything boots it: a bzImage at least as long as its setup (setup_sects)
 * and protected-mode code (syssize) claim; an ELF file whose program headers
 * and PT_LOAD/PT_NOTE segments are inside it; at most KERNEL_IMAGE_MAX
 * bytes. @e names @path, its size and the size its header claims.
 */
int kernel_check_image(const char *path, struct kf_error *e);

#endif
