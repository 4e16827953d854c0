/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <jansson.h>
#include <archive_entry.h>

#include "deb.h"
#include "log.h"
#include "proc.h"
#include "util.h"

int deb_is_deb(const char *path)
{
	char hdr[21];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(hdr, 1, sizeof(hdr), f);
	fclose(f);
	return n == sizeof(hdr) && memcmp(hdr, "!<arch>\ndebian-binary", 21) == 0;
}

/* The outer (ar) archive feeds the inner (tar) one: data.tar.* is read as a stream. */
struct member {
	struct archive *outer;
	char buf[1 << 16];
};

static la_ssize_t member_read(struct archive *a, void *arg, const void **out)
{
	struct member *m = arg;
	la_ssize_t n = archive_read_data(m->outer, m->buf, sizeof(m->buf));

	if (n < 0)
		archive_set_error(a, archive_errno(m->outer), "%s",
				  archive_error_string(m->outer));
	*out = m->buf;
	return n;
}

static int is_vmlinuz(const char *name)
{
	if (strncmp(name, "./", 2) == 0)
		name += 2;
	else if (name[0] == '/')
		name++;
	return strncmp(name, "boot/vmlinuz-", 13) == 0 && name[13] != '\0' && !strchr(name + 13, '/');
}

static int copy_data(struct archive *a, const char *dest, const char *deb, struct kf_error *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", dest, (long)getpid());
	char buf[1 << 16];
	int fd, ret = -1;
	la_ssize_t n;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		error_set(e, tmp, 0, 0, "cannot create: %s", strerror(errno));
		goto cleanup;
	}
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		if (util_write_all(fd, buf, (size_t)n) < 0) {
			error_set(e, tmp, 0, 0, "cannot write: %s", strerror(errno));
			goto cleanup;
		}
	}
	if (n < 0) {
		error_set(e, deb, 0, 0, "cannot unpack the kernel image: %s",
			  archive_error_string(a));
		goto cleanup;
	}
	n = util_commit_tmp(fd, tmp, dest, e);
	fd = -1;
	if (n < 0)
		goto cleanup;
	ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

int deb_extract_kernel(const char *deb, const char *dest, char **member, struct kf_error *e)
{
	struct archive *ar = archive_read_new(), *tar = NULL;
	struct archive_entry *ent;
	struct member *m = NULL;
	int ret = -1, found_data = 0, r;

	if (member)
		*member = NULL;
	archive_read_support_format_ar(ar);
	if (archive_read_open_filename(ar, deb, 1 << 16) != ARCHIVE_OK) {
		error_set(e, deb, 0, 0, "not a Debian package: %s", archive_error_string(ar));
		goto cleanup;
	}
	while ((r = archive_read_next_header(ar, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent);

		if (strncmp(name, "data.tar", 8) != 0)
			continue;
		found_data = 1;
		m = xcalloc(1, sizeof(*m));
		m->outer = ar;
		tar = archive_read_new();
		/*
		 * What dpkg-deb writes (gzip, xz, zstd, bzip2 of old, or none) and
		 * nothing else: libarchive's other filters may run an external
		 * program (lrzip, lzop, grzip) on what a package holds.
		 */
		archive_read_support_filter_gzip(tar);
		archive_read_support_filter_xz(tar);
		archive_read_support_filter_zstd(tar);
		archive_read_support_filter_bzip2(tar);
		archive_read_support_format_tar(tar);
		if (archive_read_open(tar, m, NULL, member_read, NULL) != ARCHIVE_OK) {
			error_set(e, deb, 0, 0, "cannot read its %s: %s", name,
				  archive_error_string(tar));
			goto cleanup;
		}
		while ((r = archive_read_next_header(tar, &ent)) == ARCHIVE_OK) {
			const char *path = archive_entry_pathname(ent);

			if (archive_entry_filetype(ent) != AE_IFREG || !is_vmlinuz(path))
				continue;
			if (copy_data(tar, dest, deb, e) < 0)
				goto cleanup;
			if (member)
				*member = xstrdup(path);
			ret = 0;
			goto cleanup;
		}
		if (r != ARCHIVE_EOF) {
			error_set(e, deb, 0, 0, "cannot read its %s: %s", name,
				  archive_error_string(tar));
			goto cleanup;
		}
		error_set(e, deb, 0, 0, "no ./boot/vmlinuz-* in the package (not a kernel image "
			  "package?)");
		goto cleanup;
	}
	if (r != ARCHIVE_EOF)
		error_set(e, deb, 0, 0, "not a Debian package: %s", archive_error_string(ar));
	else if (!found_data)
		error_set(e, deb, 0, 0, "not a Debian package: no data.tar.* member");
cleanup:
	if (tar)
		archive_read_free(tar);
	archive_read_free(ar);
	free(m);
	return ret;
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

/*
 * Debian policy's package names (lowercase letters, digits, '+', '-', '.',
 * two or more, an alphanumeric first) and versions ([epoch:]upstream[-rev]
 * of alphanumerics and ".+-~:"): what reaches apt-cache and apt-get is one
 * of these, never an option ("-o...") or two words.
 */
static int deb_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 128 && (islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.") == n;
}

static int deb_version_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 128 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.+-~:") == n;
}

int deb_resolve(const char *pkg, char **real, char **version, struct kf_error *e)
{
	char *name = xstrdup(pkg);
	int hop;

	for (hop = 0; hop < 5; hop++) {
		if (!deb_name_ok(name)) {
			error_set(e, pkg, 0, 0, "'%s' is not a Debian package name (lowercase letters, digits, "
				  "'+', '-' and '.', an alphanumeric first)", name);
			free(name);
			return -1;
		}
		const char *argv[] = { "apt-cache", "show", "--no-all-versions", name, NULL };
		char *out = NULL, *dep;
		struct kf_error pe;

		error_clear(&pe);
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

int deb_download(const char *pkg, const char *version, const char *dir, char **path,
		 struct kf_error *e)
{
	char *spec = xasprintf("%s=%s", pkg, version), *found = NULL;
	const char *dl[] = { "apt-get", "download", "-q", spec, NULL };
	struct dirent *de;
	DIR *d = NULL;
	int ret = -1;

	*path = NULL;
	if (!deb_name_ok(pkg) || !deb_version_ok(version)) {
		error_set(e, pkg, 0, 0, "'%s' is not a Debian package name and version", spec);
		goto cleanup;
	}
	log_info("fetching Debian package %s (%s)", pkg, version);
	if (proc_run(dl, dir, 20 * 60 * 1000, NULL, NULL, e) < 0) {
		error_set(e, pkg, 0, 0, "apt-get download %s failed: %s", spec, e->text);
		goto cleanup;
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 4 && strcmp(de->d_name + n - 4, ".deb") == 0) {
			free(found);
			found = xstrdup(de->d_name);
		}
	}
	if (!found) {
		error_set(e, pkg, 0, 0, "apt-get download left no .deb in %s", dir);
		goto cleanup;
	}
	*path = xasprintf("%s/%s", dir, found);
	ret = 0;
cleanup:
	if (d)
		closedir(d);
	free(found);
	free(spec);
	return ret;
}

/* What apt's answer depends on: its package lists, sources and pins, and what is installed. */
static const char *const apt_state[] = {
	"/var/lib/apt/lists", "/etc/apt/sources.list", "/etc/apt/sources.list.d",
	"/etc/apt/preferences", "/etc/apt/preferences.d", "/var/lib/dpkg/status", NULL,
};

/* Each file under @path (a file or a folder, one level) as "path size mtime\n" into @out. */
static void state_of(const char *path, FILE *out)
{
	struct stat st;
	struct dirent **names = NULL;
	int n, i;

	if (stat(path, &st) < 0) {
		fprintf(out, "%s -\n", path);
		return;
	}
	fprintf(out, "%s %lld %lld.%09ld\n", path, (long long)st.st_size,
		(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if (!S_ISDIR(st.st_mode))
		return;
	n = scandir(path, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *p = xasprintf("%s/%s", path, names[i]->d_name);

			if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode))
				fprintf(out, "%s %lld %lld.%09ld\n", p, (long long)st.st_size,
					(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
			free(p);
		}
		free(names[i]);
	}
	free(names);
}

int deb_resolve_cached(const char *root, const char *pkg, const char *const *state,
		       char **real, char **version, struct kf_error *e)
{
	char *text = NULL, *file = xasprintf("%s/deb/resolved.json", root), *dir, key[65];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *kept, *got;
	struct kf_error ignore;
	int i;

	for (i = 0; (state ? state : apt_state)[i]; i++)
		state_of((state ? state : apt_state)[i], f);
	fclose(f);
	util_sha256(text, len, key);
	free(text);
	kept = json_load_file(file, 0, NULL);
	if (!json_is_object(kept) || strcmp(json_string_value(json_object_get(kept, "apt_state")) ?: "",
					    key)) {
		json_decref(kept);
		kept = json_pack("{s:s, s:{}}", "apt_state", key, "packages");
	}
	got = json_object_get(json_object_get(kept, "packages"), pkg);
	if (json_is_string(json_object_get(got, "package")) &&
	    json_is_string(json_object_get(got, "candidate"))) {
		*real = xstrdup(json_string_value(json_object_get(got, "package")));
		*version = xstrdup(json_string_value(json_object_get(got, "candidate")));
		log_debug("deb:%s: %s %s, as apt said when its state was the same", pkg, *real,
			  *version);
		json_decref(kept);
		free(file);
		return 0;
	}
	if (deb_resolve(pkg, real, version, e) < 0) {
		json_decref(kept);
		free(file);
		return -1;
	}
	json_object_set_new(json_object_get(kept, "packages"), pkg,
			    json_pack("{s:s, s:s}", "package", *real, "candidate", *version));
	/* a cache: what cannot be written is asked of apt again next time */
	dir = xasprintf("%s/deb", root);
	text = json_dumps(kept, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (util_mkdir_p(dir, &ignore) < 0 ||
	    util_write_atomic(file, text, strlen(text), &ignore) < 0)
		log_debug("%s: %s", file, ignore.text);
	free(text);
	free(dir);
	json_decref(kept);
	free(file);
	return 0;
}
