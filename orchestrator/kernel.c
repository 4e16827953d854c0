/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel.h"
#include "log.h"
#include "proc.h"
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

/* "Depends: a (= 1), b | c" -> the first linux-image-* name, or NULL. */
static char *image_dependency(const char *show)
{
	const char *d = strstr(show, "\nDepends: ");
	const char *p;

	if (!d)
		return NULL;
	d += 10;
	for (p = d; *p && *p != '\n';) {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '|')
			p++;
		n = strcspn(p, " ,|\n");
		if (n > 12 && strncmp(p, "linux-image-", 12) == 0)
			return strndup(p, n);
		p += n;
		while (*p && *p != ',' && *p != '|' && *p != '\n')
			p++;
	}
	return NULL;
}

static char *field(const char *show, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\n%s: ", name);
	if (strncmp(show, key + 1, strlen(key) - 1) == 0)
		p = show + strlen(key) - 1;
	else if ((p = strstr(show, key)))
		p += strlen(key);
	else
		return NULL;
	return strndup(p, strcspn(p, "\n"));
}

/* Resolves a (meta)package to the package that ships /boot/vmlinuz. */
static int deb_resolve(const char *pkg, char **real, char **version, struct kf_error *e)
{
	char *name = xstrdup(pkg);
	int hop;

	for (hop = 0; hop < 5; hop++) {
		const char *argv[] = { "apt-cache", "show", "--no-all-versions", name, NULL };
		char *out = NULL, *dep;
		struct kf_error pe;

		if (proc_run(argv, NULL, 60000, &out, NULL, &pe) < 0 || !out || !*out) {
			error_set(e, pkg, 0, 0,
				  "Debian package '%s' is not known to apt (run 'apt-get update'?)%s%s",
				  name, pe.text[0] ? ": " : "", pe.text);
			free(out);
			free(name);
			return -1;
		}
		dep = image_dependency(out);
		if (!dep || strstr(name, "-dbg") || hop == 4) {
			*version = field(out, "Version");
			free(dep);
			free(out);
			if (!*version) {
				error_set(e, pkg, 0, 0, "apt-cache show %s: no Version", name);
				free(name);
				return -1;
			}
			*real = name;
			return 0;
		}
		log_debug("deb:%s: %s depends on %s", pkg, name, dep);
		free(out);
		free(name);
		name = dep;
	}
	free(name);
	return error_set(e, pkg, 0, 0, "metapackage chain too long");
}

static int deb_fetch(const char *pkg, const char *version, const char *dir,
		     struct kf_error *e)
{
	char *spec = xasprintf("%s=%s", pkg, version);
	char *tmp = xasprintf("%s.tmp.%ld", dir, (long)getpid());
	const char *dl[] = { "apt-get", "download", "-q", spec, NULL };
	char *script = NULL, *found = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int ret = -1;

	if (util_mkdir_p(tmp, e) < 0)
		goto cleanup;
	log_info("fetching Debian package %s (%s)", pkg, version);
	if (proc_run(dl, tmp, 20 * 60 * 1000, NULL, NULL, e) < 0) {
		error_set(e, pkg, 0, 0, "apt-get download %s failed: %s", spec, e->text);
		goto cleanup;
	}
	d = opendir(tmp);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 4 && strcmp(de->d_name + n - 4, ".deb") == 0) {
			free(found);
			found = xstrdup(de->d_name);
		}
	}
	if (!found) {
		error_set(e, pkg, 0, 0, "apt-get download left no .deb in %s", tmp);
		goto cleanup;
	}
	/* Only /boot/vmlinuz-* is needed, not the modules. */
	script = xasprintf("set -e; dpkg-deb --fsys-tarfile '%s' | tar -xf - --wildcards "
			   "'./boot/vmlinuz-*'; mv boot/vmlinuz-* vmlinuz; rm -rf boot '%s'",
			   found, found);
	{
		const char *sh[] = { "/bin/sh", "-c", script, NULL };

		if (proc_run(sh, tmp, 5 * 60 * 1000, NULL, NULL, e) < 0) {
			error_set(e, pkg, 0, 0, "cannot unpack %s: %s", found, e->text);
			goto cleanup;
		}
	}
	if (rename(tmp, dir) < 0 && errno != ENOTEMPTY && errno != EEXIST) {
		error_set(e, dir, 0, 0, "cannot move into the cache: %s", strerror(errno));
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (d)
		closedir(d);
	if (ret < 0 || access(tmp, F_OK) == 0) {
		const char *rm[] = { "rm", "-rf", tmp, NULL };

		proc_run(rm, NULL, 60000, NULL, NULL, NULL);
	}
	free(found);
	free(script);
	free(spec);
	free(tmp);
	return ret;
}

int kernel_resolve(struct kernel *k, const struct kernel_spec *spec, struct kf_error *e)
{
	char *real = NULL, *version = NULL, *cache = NULL, *dir = NULL;
	int ret = -1;

	memset(k, 0, sizeof(*k));
	config_kernel_copy(&k->spec, spec);
	if (spec->kind == KERNEL_PATH) {
		char *abs = realpath(spec->arg, NULL);

		if (!abs) {
			error_set(e, spec->arg, 0, 0, "kernel '%s' (%s): %s", spec->name,
				  spec->origin, strerror(errno));
			goto cleanup;
		}
		k->path = abs;
		k->source = xasprintf("path:%s", abs);
	} else {
		if (deb_resolve(spec->arg, &real, &version, e) < 0)
			goto cleanup;
		cache = util_cache_dir();
		dir = xasprintf("%s/deb/%s_%s", cache, real, version);
		k->path = xasprintf("%s/vmlinuz", dir);
		k->source = xasprintf("deb:%s=%s", real, version);
		if (access(k->path, R_OK) == 0) {
			log_debug("%s: cached at %s", k->source, k->path);
		} else {
			if (util_mkdir_p(cache, e) < 0)
				goto cleanup;
			{
				char *parent = xasprintf("%s/deb", cache);
				int r = util_mkdir_p(parent, e);

				free(parent);
				if (r < 0)
					goto cleanup;
			}
			if (deb_fetch(real, version, dir, e) < 0)
				goto cleanup;
		}
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
	free(real);
	free(version);
	free(cache);
	free(dir);
	return ret;
}
