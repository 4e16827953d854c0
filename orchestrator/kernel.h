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
 * @source: "deb:linux-image-6.1.0-56-amd64=6.1.192-2" or "path:/x/bzImage"
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
 * kernel_resolve() - find or fetch @spec's image: checks a path is a kernel
 * image; for a Debian package resolves metapackages to the real image
 * package, downloads it with apt-get into the cache (once per version) and
 * unpacks /boot/vmlinuz-*.
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
