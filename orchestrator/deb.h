/* SPDX-License-Identifier: MIT */
#ifndef KFARM_DEB_H
#define KFARM_DEB_H

#include "error.h"

/** deb_is_deb() - whether @path starts like a Debian package (an ar archive). */
int deb_is_deb(const char *path);

/**
 * deb_extract_kernel() - copy the kernel image (./boot/vmlinuz-*) out of the
 * Debian package @deb into @dest, reading the ar archive and its data.tar.*
 * member with libarchive. @member (may be NULL; owned) receives the image's
 * name in the package ("./boot/vmlinuz-6.1.0-56-amd64").
 */
int deb_extract_kernel(const char *deb, const char *dest, char **member, struct kf_error *e);

/**
 * deb_resolve() - resolve a (meta)package to the package that ships
 * /boot/vmlinuz with apt-cache: @real and @version are owned by the caller.
 */
int deb_resolve(const char *pkg, char **real, char **version, struct kf_error *e);

/**
 * deb_resolve_cached() - deb_resolve(), with its answer kept in
 * @root/deb/resolved.json for as long as apt's state is the same: the size
 * and mtime of every file under @state (NULL-terminated paths, files or
 * folders; NULL: apt's lists, sources, preferences and dpkg's status). apt-cache
 * takes about a second a call here, and a metapackage is two.
 */
int deb_resolve_cached(const char *root, const char *pkg, const char *const *state,
		       char **real, char **version, struct kf_error *e);

/**
 * deb_download() - apt-get download @pkg=@version into the folder @dir;
 * @path (owned) is the .deb.
 */
int deb_download(const char *pkg, const char *version, const char *dir, char **path,
		 struct kf_error *e);

#endif
