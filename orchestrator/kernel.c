/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "build.h"
#include "cache.h"
#include "deb.h"
#include "fetch.h"
#include "kernel.h"
#include "log.h"
#include "util.h"

void kernel_release(struct kernel *k)
{
	if (!k)
		return;
	config_kernel_release(&k->spec);
	free(k->path);
	free(k->source);
	free(k->release);
	memset(k, 0, sizeof(*k));
}

int kernel_check_image(const char *path, struct kf_error *e)
{
	unsigned char hdr[0x210];
	struct stat st;
	FILE *f;
	size_t n;

	if (stat(path, &st) < 0)
		return error_set(e, path, 0, 0, "kernel image: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error_set(e, path, 0, 0, "kernel image: not a regular file");
	f = fopen(path, "rb");
	if (!f)
		return error_set(e, path, 0, 0, "kernel image: %s", strerror(errno));
	n = fread(hdr, 1, sizeof(hdr), f);
	fclose(f);
	if (n >= 4 && memcmp(hdr, "\177ELF", 4) == 0)
		return 0;
	if (n == sizeof(hdr) && memcmp(hdr + 0x202, "HdrS", 4) == 0)
		return 0;
	return error_set(e, path, 0, 0,
			 "not a kernel image: no x86 boot header (\"HdrS\" at 0x202) and no ELF "
			 "header (%lld bytes)", (long long)st.st_size);
}

/* A Debian package by name: apt resolves and downloads it, libarchive unpacks it. */
static int resolve_deb(struct kernel *k, const struct kernel_spec *spec, const char *root,
		       struct kf_error *e)
{
	char *real = NULL, *version = NULL, *id = NULL, *tmp = NULL, *deb = NULL, *dest = NULL;
	char *member = NULL;
	json_t *meta = NULL;
	int lock = -1, ret = -1;

	if (deb_resolve(spec->arg, &real, &version, e) < 0)
		goto cleanup;
	id = xasprintf("%s_%s", real, version);
	k->source = xasprintf("deb:%s=%s", real, version);
	k->path = xasprintf("%s/deb/%s/vmlinuz", root, id);
	if (cache_has(root, "deb", id, "vmlinuz")) {
		log_debug("%s: cached at %s", k->source, k->path);
		ret = 0;
		goto cleanup;
	}
	lock = cache_lock(root, "deb", id, e);
	if (lock < 0)
		goto cleanup;
	if (cache_has(root, "deb", id, "vmlinuz")) {
		ret = 0;
		goto cleanup;
	}
	tmp = cache_tmp_dir(root, "deb", id, e);
	if (!tmp || deb_download(real, version, tmp, &deb, e) < 0)
		goto cleanup;
	dest = xasprintf("%s/vmlinuz", tmp);
	if (deb_extract_kernel(deb, dest, &member, e) < 0)
		goto cleanup;
	/* Only the image is kept, not the package and its modules. */
	unlink(deb);
	meta = json_pack("{s:s, s:s, s:s, s:s}", "name", real, "source", k->source, "file",
			 "vmlinuz", "member", member);
	if (util_sha256_file(dest, k->sha256, e) < 0)
		goto cleanup;
	json_object_set_new(meta, "sha256", json_string(k->sha256));
	if (cache_commit(root, "deb", id, tmp, meta, e) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	if (tmp && ret < 0)
		cache_rm_rf(tmp, NULL);
	cache_unlock(lock);
	json_decref(meta);
	free(member);
	free(dest);
	free(deb);
	free(tmp);
	free(id);
	free(real);
	free(version);
	return ret;
}

/* A URL: a bzImage as it is, a .deb unpacked beside it (once). */
static int resolve_url(struct kernel *k, const struct kernel_spec *spec, const char *root,
		       struct kf_error *e)
{
	struct fetch_opts fo;
	char sha[65], *file = NULL, *img = NULL;
	int ret = -1;

	fetch_opts_default(&fo);
	if (fetch_cached(root, spec->arg, spec->sha256, &fo, &file, sha, NULL, e) < 0)
		goto cleanup;
	k->source = xasprintf("url:%s", spec->arg);
	if (!spec->sha256)
		log_info("kernel %s: %s has sha256 %s (pin it in the config: \"sha256\")",
			 spec->name, spec->arg, sha);
	if (deb_is_deb(file)) {
		char *slash = strrchr(file, '/');

		img = xasprintf("%.*s/vmlinuz", (int)(slash - file), file);
		if (access(img, R_OK) != 0) {
			char *member = NULL;

			if (deb_extract_kernel(file, img, &member, e) < 0)
				goto cleanup;
			log_debug("%s: unpacked %s", spec->arg, member);
			free(member);
		}
		k->path = img;
		img = NULL;
	} else {
		k->path = file;
		file = NULL;
	}
	ret = 0;
cleanup:
	free(file);
	free(img);
	return ret;
}

static int resolve_build(struct kernel *k, const struct kernel_spec *spec, const char *root,
			 struct kf_error *e)
{
	struct build_result r;

	if (build_kernel(spec, root, &r, e) < 0)
		return -1;
	k->path = r.image;
	r.image = NULL;
	k->source = xasprintf("build:%.16s (%s%s)", r.key, r.release ? "release " : "",
			      r.release ? r.release : "");
	build_result_release(&r);
	return 0;
}

int kernel_resolve(struct kernel *k, const struct kernel_spec *spec, struct kf_error *e)
{
	char *root = NULL;
	int ret = -1;

	memset(k, 0, sizeof(*k));
	config_kernel_copy(&k->spec, spec);
	root = cache_root(spec->cache_dir);
	switch (spec->kind) {
	case KERNEL_PATH: {
		char *abs = realpath(spec->arg, NULL);

		if (!abs) {
			error_set(e, spec->arg, 0, 0, "kernel '%s' (%s): %s", spec->name,
				  spec->origin, strerror(errno));
			goto cleanup;
		}
		k->path = abs;
		k->source = xasprintf("path:%s", abs);
		break;
	}
	case KERNEL_DEB:
		if (resolve_deb(k, spec, root, e) < 0)
			goto cleanup;
		break;
	case KERNEL_URL:
		if (resolve_url(k, spec, root, e) < 0)
			goto cleanup;
		break;
	case KERNEL_BUILD:
		if (resolve_build(k, spec, root, e) < 0)
			goto cleanup;
		break;
	}
	if (kernel_check_image(k->path, e) < 0)
		goto cleanup;
	if (util_sha256_file(k->path, k->sha256, e) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	if (ret < 0) {
		free(k->path);
		k->path = NULL;
	}
	free(root);
	return ret;
}
