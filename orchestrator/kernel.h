/* SPDX-License-Identifier: MIT */
#ifndef KFARM_KERNEL_H
#define KFARM_KERNEL_H

#include "config.h"
#include "error.h"

/*
 * struct kernel - a kernel resolved to a local image.
 * @spec: what the config named
 * @path: the image to boot (bzImage or vmlinux)
 * @sha256: of the image
 * @source: "deb:linux-image-6.1.0-56-amd64=6.1.192-2", "path:/x/bzImage",
 *          "url:https://host/bzImage" or "build:<key prefix> (release 6.1.192)"
 * @release: filled from the guest's uname -r once it booted
 */
struct kernel {
	struct kernel_spec spec;
	char *path;
	char sha256[65];
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
 */
int kernel_resolve(struct kernel *k, const struct kernel_spec *spec, struct kf_error *e);

/** kernel_release() - free what @k owns. */
void kernel_release(struct kernel *k);

/**
 * kernel_check_image() - @path is a regular file with a bzImage header
 * ("HdrS" at 0x202) or an ELF header.
 */
int kernel_check_image(const char *path, struct kf_error *e);

#endif
