/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "build.h"
#include "cache.h"
#include "deb.h"
#include "fetch.h"
#include "kernel.h"
#include "log.h"
#include "pvh.h"
#include "util.h"

void kernel_release(struct kernel *k)
{
	if (!k)
		return;
	config_kernel_release(&k->spec);
	free(k->path);
	free(k->boot_path);
	free(k->source);
	free(k->release);
	memset(k, 0, sizeof(*k));
}

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/*
 * An ELF image: its program headers, and the bytes of each segment they say
 * the file holds, are inside the file (QEMU's loader reads them all).
 */
static int check_elf(FILE *f, const char *path, long long size, struct kf_error *e)
{
	unsigned char eh[64], ph[56];
	int is64;
	uint64_t phoff, off, filesz;
	unsigned phentsize, phnum, i, need;

	if (fseek(f, 0, SEEK_SET) < 0 || fread(eh, 1, sizeof(eh), f) < 52 ||
	    (eh[4] != ELFCLASS32 && eh[4] != ELFCLASS64) || eh[5] != ELFDATA2LSB)
		return error_set(e, path, 0, 0, "not a kernel image: an ELF file (%lld bytes) "
				 "without a whole little-endian ELF header", size);
	is64 = eh[4] == ELFCLASS64;
	if (is64 && size < 64)
		return error_set(e, path, 0, 0, "truncated ELF kernel image: %lld bytes, less "
				 "than its 64-byte header", size);
	phoff = is64 ? le64(eh + 32) : le32(eh + 28);
	phentsize = le16(eh + (is64 ? 54 : 42));
	phnum = le16(eh + (is64 ? 56 : 44));
	need = is64 ? 56 : 32;
	if (phnum == 0)
		return error_set(e, path, 0, 0, "not a bootable ELF kernel image: no program "
				 "headers");
	if (phentsize < need)
		return error_set(e, path, 0, 0, "corrupt ELF kernel image: program headers of %u "
				 "bytes", phentsize);
	if (phoff > (uint64_t)size || (uint64_t)phnum * phentsize > (uint64_t)size - phoff)
		return error_set(e, path, 0, 0, "truncated ELF kernel image: %lld bytes, but its "
				 "%u program headers end at byte %llu", size, phnum,
				 (unsigned long long)(phoff + (uint64_t)phnum * phentsize));
	for (i = 0; i < phnum; i++) {
		uint32_t type;

		if (fseek(f, (long)(phoff + (uint64_t)i * phentsize), SEEK_SET) < 0 ||
		    fread(ph, 1, need, f) != need)
			return error_set(e, path, 0, 0, "cannot read program header %u: %s", i,
					 ferror(f) ? strerror(errno) : "short file");
		type = le32(ph);
		off = is64 ? le64(ph + 8) : le32(ph + 4);
		filesz = is64 ? le64(ph + 32) : le32(ph + 16);
		if ((type == PT_LOAD || type == PT_NOTE) &&
		    (off > (uint64_t)size || filesz > (uint64_t)size - off))
			return error_set(e, path, 0, 0, "truncated ELF kernel image: %lld bytes, but "
					 "its %s segment (program header %u) needs bytes up to "
					 "%llu", size, type == PT_LOAD ? "PT_LOAD" : "PT_NOTE", i,
					 (unsigned long long)(off + filesz));
	}
	return 0;
}

/*
 * A bzImage: the setup (setup_sects + 1 sectors, 0 meaning 4) and the
 * protected-mode code (syssize 16-byte paragraphs, protocol 2.04+) are in the
 * file, as its header says (Documentation/arch/x86/boot.rst). A signed
 * image has its signature after them.
 */
static int check_bzimage(const unsigned char *hdr, const char *path, long long size,
			 struct kf_error *e)
{
	unsigned sects = hdr[0x1f1] ? hdr[0x1f1] : 4, version = le16(hdr + 0x206);
	uint32_t syssize = le32(hdr + 0x1f4);
	long long setup = (long long)(sects + 1) * 512, claimed = setup + (long long)syssize * 16;

	if (size < setup)
		return error_set(e, path, 0, 0, "truncated bzImage: %lld bytes, but its header "
				 "claims %lld bytes of setup code (setup_sects %u)", size, setup,
				 sects);
	if (version < 0x204)
		return 0;	/* syssize was 16 bits then, and not always kept */
	if (syssize == 0)
		return error_set(e, path, 0, 0, "not a bootable bzImage: its header claims no "
				 "protected-mode code (syssize 0, %lld bytes)", size);
	if (size < claimed)
		return error_set(e, path, 0, 0, "truncated bzImage: %lld bytes, but its header "
				 "claims %lld (setup_sects %u, syssize %u paragraphs of 16 "
				 "bytes): cut short?", size, claimed, sects, syssize);
	return 0;
}

int kernel_check_image(const char *path, struct kf_error *e)
{
	unsigned char hdr[0x210];
	struct stat st;
	FILE *f;
	size_t n;
	int ret;

	if (stat(path, &st) < 0)
		return error_set(e, path, 0, 0, "kernel image: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error_set(e, path, 0, 0, "kernel image: not a regular file");
	if (st.st_size > KERNEL_IMAGE_MAX)
		return error_set(e, path, 0, 0, "kernel image: %lld bytes, more than the %lld "
				 "a kernel image may have (KERNEL_IMAGE_MAX, 1 GiB)",
				 (long long)st.st_size, KERNEL_IMAGE_MAX);
	f = fopen(path, "rb");
	if (!f)
		return error_set(e, path, 0, 0, "kernel image: %s", strerror(errno));
	n = fread(hdr, 1, sizeof(hdr), f);
	if (n >= 4 && memcmp(hdr, "\177ELF", 4) == 0)
		ret = check_elf(f, path, (long long)st.st_size, e);
	else if (n == sizeof(hdr) && memcmp(hdr + 0x202, "HdrS", 4) == 0)
		ret = check_bzimage(hdr, path, (long long)st.st_size, e);
	else
		ret = error_set(e, path, 0, 0, "not a kernel image: no x86 boot header (\"HdrS\" "
				"at 0x202) and no ELF header (%lld bytes)", (long long)st.st_size);
	fclose(f);
	return ret;
}

/*
 * Whether the deb/@id entry holds its vmlinuz as it was unpacked (the sha256
 * its entry.json recorded; entries from before entry.json recorded none):
 * 1 (@sha, when known, filled), 0 when not (a warning said why if it was there).
 */
static int deb_cached(const char *root, const char *id, char sha[65])
{
	json_t *m = cache_meta(root, "deb", id);
	const char *h = json_string_value(json_object_get(m, "sha256"));
	int have = cache_verify(root, "deb", id, "vmlinuz", h && strlen(h) == 64 ? h : NULL, sha);

	json_decref(m);
	return have > 0;
}

/* A Debian package by name: apt resolves and downloads it, libarchive unpacks it. */
static int resolve_deb(struct kernel *k, const struct kernel_spec *spec, const char *root,
		       struct kf_error *e)
{
	char *real = NULL, *version = NULL, *id = NULL, *tmp = NULL, *deb = NULL, *dest = NULL;
	char *member = NULL;
	json_t *meta = NULL;
	int lock = -1, ret = -1;

	if (deb_resolve_cached(root, spec->arg, NULL, &real, &version, e) < 0)
		goto cleanup;
	id = xasprintf("%s_%s", real, version);
	k->source = xasprintf("deb:%s=%s", real, version);
	k->path = xasprintf("%s/deb/%s/vmlinuz", root, id);
	lock = cache_lock(root, "deb", id, e);
	if (lock < 0)
		goto cleanup;
	if (deb_cached(root, id, k->sha256) > 0) {
		log_debug("%s: cached at %s", k->source, k->path);
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

/* What a revalidation found, in one line naming the kernel. */
static void log_refresh(const struct kernel_spec *spec, const struct fetch_outcome *fo,
			const char *sha)
{
	switch (fo->fresh) {
	case FETCH_NOT_MODIFIED:
		log_info("kernel %s: %s unchanged (304), sha256 %.12s", spec->name, spec->arg, sha);
		break;
	case FETCH_SAME:
		log_info("kernel %s: %s unchanged (no 304: downloaded again, the same sha256 "
			 "%.12s)", spec->name, spec->arg, sha);
		break;
	case FETCH_CHANGED:
		log_info("kernel %s: %s changed: new sha256 %s (was %.12s)", spec->name, spec->arg,
			 sha, fo->old_sha256);
		break;
	case FETCH_STALE:
		log_warnx("kernel %s: cannot check %s for a new upload: %s%s%s; the run goes on "
			  "with the cached copy, sha256 %.12s, fetched or checked %s", spec->name,
			  spec->arg,
			  strcmp(fo->why.source, spec->arg) ? fo->why.source : "",
			  strcmp(fo->why.source, spec->arg) ? ": " : "", fo->why.text, sha,
			  fo->checked[0] ? fo->checked : "at an unknown time");
		break;
	case FETCH_CACHED:
	case FETCH_NEW:
		break;
	}
}

/*
 * A URL: a bzImage as it is, a .deb unpacked beside it (once per content).
 * With @refresh, an unpinned URL asks its server whether it changed.
 */
static int resolve_url(struct kernel *k, const struct kernel_spec *spec, const char *root,
		       int refresh, struct kf_error *e)
{
	struct fetch_opts fo;
	struct fetch_outcome out;
	char sha[65], *file = NULL, *img = NULL;
	int ret = -1;

	fetch_opts_default(&fo);
	fo.revalidate = refresh && !spec->sha256;
	if (fetch_cached(root, spec->arg, spec->sha256, &fo, &file, sha, &out, e) < 0)
		goto cleanup;
	k->source = xasprintf("url:%s", spec->arg);
	log_refresh(spec, &out, sha);
	if (!spec->sha256 && (out.fresh == FETCH_CACHED || out.fresh == FETCH_NEW))
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
			 unsigned int flags, struct kf_error *e)
{
	struct build_result r;

	if (build_kernel(spec, root, flags & KERNEL_REFRESH ? BUILD_RETRY : 0, &r, e) < 0)
		return -1;
	k->path = r.image;
	r.image = NULL;
	k->source = xasprintf("build:%.16s (%s%.12s%s%s%s)", r.key, r.commit ? "commit " : "",
			      r.commit ? r.commit : "", r.commit && r.release ? ", " : "",
			      r.release ? "release " : "", r.release ? r.release : "");
	build_result_release(&r);
	return 0;
}

static int is_elf(const char *path)
{
	unsigned char m[4];
	FILE *f = fopen(path, "rb");
	int elf;

	if (!f)
		return 0;
	elf = fread(m, 1, sizeof(m), f) == sizeof(m) && memcmp(m, "\177ELF", 4) == 0;
	fclose(f);
	return elf;
}

/*
 * Whether <root>/pvh/<sha256> is made: 1 with a vmlinux, -1 when it records that
 * the image has none (why is logged), 0 when not made yet or its vmlinux is not
 * whole (@warn: say so).
 */
static int pvh_cached(const struct kernel *k, const char *root, int warn)
{
	char *meta;
	json_t *m;

	if (cache_has(root, "pvh", k->sha256, "vmlinux")) {
		/* Whole, as extracted: else it is extracted again. */
		char *path = xasprintf("%s/pvh/%s/vmlinux", root, k->sha256);
		json_int_t want;
		struct kf_error ce;
		struct stat st = { 0 };
		int ok;

		m = cache_meta(root, "pvh", k->sha256);
		want = json_integer_value(json_object_get(m, "vmlinux_bytes"));
		ok = stat(path, &st) == 0 && (!want || st.st_size == (off_t)want);
		if (!ok && warn)
			log_warnx("cache entry pvh/%s: its vmlinux has %lld bytes, not the %lld "
				  "extracted: cut short or changed on disk; extracting it again",
				  k->sha256, (long long)st.st_size, (long long)want);
		if (ok && kernel_check_image(path, &ce) < 0) {
			ok = 0;
			if (warn)
				log_warnx("cache entry pvh/%s: %s; extracting it again", k->sha256,
					  ce.text);
		}
		json_decref(m);
		free(path);
		return ok;
	}
	if (!cache_has(root, "pvh", k->sha256, "entry.json"))
		return 0;
	meta = xasprintf("%s/pvh/%s/entry.json", root, k->sha256);
	m = json_load_file(meta, 0, NULL);
	log_debug("kernel %s: booting the bzImage, it has no PVH vmlinux (known: %s)",
		  k->spec.name, json_string_value(json_object_get(m, "reason")) ?
		  json_string_value(json_object_get(m, "reason")) : "?");
	json_decref(m);
	free(meta);
	return -1;
}

void kernel_boot_image(struct kernel *k, const char *root)
{
	const char *off = getenv("KFARM_NO_PVH");
	struct timespec t0, t1;
	struct pvh_info info;
	struct kf_error e;
	json_t *meta = NULL;
	char *tmp = NULL, *dest = NULL, entry[32];
	int lock = -1, have, x;

	free(k->boot_path);
	k->boot_path = xstrdup(k->path);
	if (is_elf(k->path)) {
		k->boot = "elf";
		return;
	}
	k->boot = "bzimage";
	if (off && *off && strcmp(off, "0") != 0) {
		log_debug("kernel %s: KFARM_NO_PVH is set: booting the bzImage", k->spec.name);
		return;
	}
	have = pvh_cached(k, root, 0);
	if (have == 0) {
		/* Two runs that want the same image extract it once. */
		lock = cache_lock(root, "pvh", k->sha256, &e);
		if (lock < 0)
			goto fail;
		have = pvh_cached(k, root, 1);
	}
	if (have != 0)
		goto done;
	tmp = cache_tmp_dir(root, "pvh", k->sha256, &e);
	if (!tmp)
		goto fail;
	dest = xasprintf("%s/vmlinux", tmp);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	x = pvh_extract(k->path, dest, &info, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (x < 0)
		goto fail;
	if (x > 0) {
		log_debug("kernel %s: booting the bzImage: %s", k->spec.name, info.reason);
		/*
		 * Remember only what is a property of the image and took the whole
		 * decompression to find (no PVH note, not x86-64); the rest is quick
		 * to see again and may change with the host's libarchive.
		 */
		if (!info.decompressed)
			goto cleanup;
	}
	have = x == 0 ? 1 : -1;
	meta = json_pack("{s:s?, s:s?, s:s, s:s, s:s, s:s, s:I, s:I}", "name", k->spec.name,
			 "source", k->source, "image", k->path, "sha256", k->sha256,
			 "boot", have > 0 ? "pvh" : "bzimage", "compression", info.compression,
			 "payload_bytes", (json_int_t)info.payload,
			 "vmlinux_bytes", (json_int_t)info.size);
	if (have > 0) {
		snprintf(entry, sizeof(entry), "0x%llx", (unsigned long long)info.entry);
		json_object_set_new(meta, "file", json_string("vmlinux"));
		json_object_set_new(meta, "pvh_entry", json_string(entry));
	} else {
		json_object_set_new(meta, "reason", json_string(info.reason));
	}
	if (cache_commit(root, "pvh", k->sha256, tmp, meta, &e) < 0)
		goto fail;
	free(tmp);
	tmp = NULL;
	if (have > 0)
		log_info("kernel %s: extracted its vmlinux (%s, %.1f MB) in %.1f s, to boot it "
			 "through PVH", k->spec.name, info.compression, (double)info.size / 1e6,
			 (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
done:
	if (have > 0) {
		free(k->boot_path);
		k->boot_path = xasprintf("%s/pvh/%s/vmlinux", root, k->sha256);
		k->boot = "pvh";
	}
	goto cleanup;
fail: {
	char buf[sizeof(e.source) + sizeof(e.text) + 32];

	log_debug("kernel %s: booting the bzImage, no PVH vmlinux: %s", k->spec.name,
		  error_format(&e, buf, sizeof(buf)));
}
cleanup:
	if (tmp)
		cache_rm_rf(tmp, NULL);
	cache_unlock(lock);
	json_decref(meta);
	free(dest);
	free(tmp);
}

int kernel_resolve(struct kernel *k, const struct kernel_spec *spec, struct kf_error *e)
{
	return kernel_resolve_flags(k, spec, 0, e);
}

int kernel_resolve_flags(struct kernel *k, const struct kernel_spec *spec, unsigned int flags,
			 struct kf_error *e)
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
		if (resolve_url(k, spec, root, !!(flags & KERNEL_REFRESH), e) < 0)
			goto cleanup;
		break;
	case KERNEL_BUILD:
		if (resolve_build(k, spec, root, flags, e) < 0)
			goto cleanup;
		break;
	}
	if (kernel_check_image(k->path, e) < 0)
		goto cleanup;
	if (util_sha256_file(k->path, k->sha256, e) < 0)
		goto cleanup;
	kernel_boot_image(k, root);
	ret = 0;
cleanup:
	if (ret < 0) {
		free(k->path);
		k->path = NULL;
	}
	free(root);
	return ret;
}
