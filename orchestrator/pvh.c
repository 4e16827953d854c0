/* SPDX-License-Identifier: MIT */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "kernel.h"
#include "log.h"
#include "pvh.h"
#include "util.h"

/* The x86 boot protocol (Documentation/x86/boot.rst). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_MAGIC 0x202		/* "HdrS" */
#define HDR_VERSION 0x206
#define HDR_PAYLOAD_OFFSET 0x248	/* protocol 2.08+, from the protected-mode code */
#define HDR_PAYLOAD_LENGTH 0x24c
#define HDR_SIZE 0x250

/* A bound on what is written: the vmlinux is a kernel image too. */
#define MAX_VMLINUX ((uint64_t)KERNEL_IMAGE_MAX)
/* Notes segments are a few hundred bytes; do not read a hostile one whole. */
#define MAX_NOTES (1 << 20)

/*
 * What the kernel compresses its payload with (CONFIG_KERNEL_*), by magic, and
 * the libarchive filter that reads it: ARCHIVE_OK from the support call means
 * built in, ARCHIVE_WARN through an external program (Debian's libarchive
 * reads lzop so), which kfarm does not run on a kernel image it was handed:
 * that payload, like one not read at all, leaves the bzImage to boot as it is.
 */
static const struct compression {
	const char *name;
	unsigned char magic[6];
	size_t len;
	int (*support)(struct archive *);
} compressions[] = {
	{ "gzip", { 0x1f, 0x8b }, 2, archive_read_support_filter_gzip },
	{ "bzip2", { 'B', 'Z', 'h' }, 3, archive_read_support_filter_bzip2 },
	{ "xz", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, archive_read_support_filter_xz },
	{ "lzma", { 0x5d, 0, 0 }, 3, archive_read_support_filter_lzma },
	{ "lzo", { 0x89, 'L', 'Z', 'O', 0 }, 5, archive_read_support_filter_lzop },
	{ "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4, archive_read_support_filter_lz4 },
	{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, archive_read_support_filter_zstd },
};

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = 0;	/* short file */
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Fill @why (if any, @whylen bytes) with what follows. */
__attribute__((format(printf, 3, 4)))
static void explain(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Walk the notes in @buf (@len bytes, @align 4 or 8) for "Xen"/18. */
static int find_note(const unsigned char *buf, size_t len, size_t align, uint64_t *entry)
{
	size_t off = 0;

	while (len - off >= 12) {
		uint32_t namesz = le32(buf + off), descsz = le32(buf + off + 4);
		uint32_t type = le32(buf + off + 8);
		size_t name = off + 12, desc, next;

		desc = name + (((size_t)namesz + align - 1) & ~(align - 1));
		next = desc + (((size_t)descsz + align - 1) & ~(align - 1));
		if (namesz > len || descsz > len || desc > len || desc + descsz > len)
			return 0;
		if (type == PVH_NOTE_TYPE && namesz == 4 && memcmp(buf + name, "Xen", 4) == 0 &&
		    (descsz == 4 || descsz == 8)) {
			if (entry)
				*entry = descsz == 8 ? le64(buf + desc) : le32(buf + desc);
			return 1;
		}
		if (next <= off || next > len)
			return 0;
		off = next;
	}
	return 0;
}

/*
 * The PVH note in @fd's PT_NOTE segments. QEMU's ELF loader only looks at
 * program headers, so a note in a section that no segment covers does not count.
 */
static int elf_note_fd(int fd, const char *path, uint64_t *entry, char *why, size_t whylen,
		       struct kf_error *e)
{
	unsigned char eh[sizeof(Elf64_Ehdr)], ph[sizeof(Elf64_Phdr)];
	unsigned char *notes = NULL;
	uint64_t phoff;
	uint16_t phnum, phentsize, i;
	struct stat st;
	int found = 0;

	if (fstat(fd, &st) < 0)
		return error_set(e, path, 0, 0, "cannot stat: %s", strerror(errno));
	if (st.st_size < EI_NIDENT + 4) {
		explain(why, whylen, "not an ELF file (%lld bytes)", (long long)st.st_size);
		return 0;
	}
	if (read_at(fd, eh, EI_NIDENT + 4, 0) < 0)
		return error_set(e, path, 0, 0, "cannot read: %s",
				 errno ? strerror(errno) : "short file");
	if (memcmp(eh, ELFMAG, SELFMAG) != 0) {
		explain(why, whylen, "not an ELF file");
		return 0;
	}
	/* e_machine is at the same place in both classes. */
	if (eh[EI_CLASS] != ELFCLASS64 || eh[EI_DATA] != ELFDATA2LSB ||
	    le16(eh + offsetof(Elf64_Ehdr, e_machine)) != EM_X86_64) {
		explain(why, whylen, "not an ELF64 x86-64 file (class %u, machine %u)",
			eh[EI_CLASS], le16(eh + offsetof(Elf64_Ehdr, e_machine)));
		return 0;
	}
	if (read_at(fd, eh, sizeof(eh), 0) < 0)
		return error_set(e, path, 0, 0, "corrupt ELF: %s",
				 errno ? strerror(errno) : "shorter than its header");
	phoff = le64(eh + offsetof(Elf64_Ehdr, e_phoff));
	phnum = le16(eh + offsetof(Elf64_Ehdr, e_phnum));
	phentsize = le16(eh + offsetof(Elf64_Ehdr, e_phentsize));
	if (phnum == 0) {
		explain(why, whylen, "no program headers");
		return 0;
	}
	if (phentsize < sizeof(Elf64_Phdr) || phoff > (uint64_t)st.st_size ||
	    (uint64_t)phnum * phentsize > (uint64_t)st.st_size - phoff)
		return error_set(e, path, 0, 0,
				 "corrupt ELF: %u program headers of %u bytes at %llu do not fit "
				 "in its %lld bytes", phnum, phentsize, (unsigned long long)phoff,
				 (long long)st.st_size);
	for (i = 0; i < phnum && !found; i++) {
		uint64_t off, filesz, align;

		if (read_at(fd, ph, sizeof(ph), (off_t)(phoff + (uint64_t)i * phentsize)) < 0)
			return error_set(e, path, 0, 0, "cannot read: %s",
					 errno ? strerror(errno) : "short file");
		if (le32(ph + offsetof(Elf64_Phdr, p_type)) != PT_NOTE)
			continue;
		off = le64(ph + offsetof(Elf64_Phdr, p_offset));
		filesz = le64(ph + offsetof(Elf64_Phdr, p_filesz));
		align = le64(ph + offsetof(Elf64_Phdr, p_align));
		if (off > (uint64_t)st.st_size || filesz > (uint64_t)st.st_size - off)
			return error_set(e, path, 0, 0,
					 "corrupt ELF: PT_NOTE at %llu (%llu bytes) is beyond its "
					 "%lld bytes", (unsigned long long)off,
					 (unsigned long long)filesz, (long long)st.st_size);
		if (filesz > MAX_NOTES)
			filesz = MAX_NOTES;
		notes = xmalloc(filesz ? filesz : 1);
		if (read_at(fd, notes, filesz, (off_t)off) < 0) {
			free(notes);
			return error_set(e, path, 0, 0, "cannot read: %s",
					 errno ? strerror(errno) : "short file");
		}
		found = find_note(notes, filesz, align == 8 ? 8 : 4, entry);
		free(notes);
	}
	if (!found)
		explain(why, whylen, "no PVH note (\"Xen\", type %d) in a PT_NOTE segment: "
			"a kernel built without CONFIG_PVH", PVH_NOTE_TYPE);
	return found;
}

int pvh_elf_note(const char *path, uint64_t *entry, char *why, size_t whylen,
		 struct kf_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return error_set(e, path, 0, 0, "cannot open: %s", strerror(errno));
	ret = elf_note_fd(fd, path, entry, why, whylen, e);
	close(fd);
	return ret;
}

/* libarchive reads the payload, and only the payload, from the image. */
struct payload {
	int fd;
	off_t pos, end;
	int io_errno;		/* a read error, as opposed to a decoding one */
	unsigned char buf[1 << 16];
};

static la_ssize_t payload_read(struct archive *a, void *arg, const void **out)
{
	struct payload *p = arg;
	size_t want = sizeof(p->buf);
	ssize_t n;

	*out = p->buf;
	if (p->pos >= p->end)
		return 0;
	if ((off_t)want > p->end - p->pos)
		want = (size_t)(p->end - p->pos);
	do
		n = pread(p->fd, p->buf, want, p->pos);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		p->io_errno = errno;
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		p->io_errno = EIO;
		archive_set_error(a, EIO, "unexpected end of file");
		return -1;
	}
	p->pos += n;
	return n;
}

int pvh_extract(const char *bzimage, const char *out, struct pvh_info *info,
		struct kf_error *e)
{
	unsigned char hdr[HDR_SIZE], magic[6], trailer[4];
	struct pvh_info local;
	struct archive *a = NULL;
	struct archive_entry *ent;
	struct payload *p = NULL;
	char *tmp = NULL, buf[1 << 16];
	int in = -1, fd = -1, ret = -1;
	uint64_t pm, start, len, expected, total = 0;
	const struct compression *comp = NULL;
	unsigned setup_sects;
	struct stat st;
	int support;
	la_ssize_t n;
	size_t i;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	/* Not applicable: say why (in @info and the debug log) and return 1. */
#define NA(...) (explain(info->reason, sizeof(info->reason), __VA_ARGS__), \
		 log_debug("pvh: %s: %s", bzimage, info->reason), 1)
	in = open(bzimage, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		error_set(e, bzimage, 0, 0, "cannot open: %s", strerror(errno));
		goto cleanup;
	}
	if (st.st_size >= HDR_SIZE && read_at(in, hdr, sizeof(hdr), 0) < 0) {
		error_set(e, bzimage, 0, 0, "cannot read: %s", errno ? strerror(errno) : "short file");
		goto cleanup;
	}
	if (st.st_size < HDR_SIZE || memcmp(hdr + HDR_MAGIC, "HdrS", 4) != 0) {
		ret = NA("not a bzImage (no \"HdrS\" at 0x%x)", HDR_MAGIC);
		goto cleanup;
	}
	info->version = le16(hdr + HDR_VERSION);
	if (info->version < 0x208) {
		ret = NA("boot protocol %u.%02u has no payload fields (2.08 needed)",
			 info->version >> 8, info->version & 0xff);
		goto cleanup;
	}
	setup_sects = hdr[HDR_SETUP_SECTS] ? hdr[HDR_SETUP_SECTS] : 4;
	pm = ((uint64_t)setup_sects + 1) * 512;
	start = pm + le32(hdr + HDR_PAYLOAD_OFFSET);
	len = le32(hdr + HDR_PAYLOAD_LENGTH);
	info->payload = len;
	if (len < 8 || start > (uint64_t)st.st_size || len > (uint64_t)st.st_size - start) {
		error_set(e, bzimage, 0, 0,
			  "truncated or corrupt bzImage: its payload (%llu bytes at %llu) does "
			  "not fit in the file's %lld bytes", (unsigned long long)len,
			  (unsigned long long)start, (long long)st.st_size);
		goto cleanup;
	}
	/*
	 * The last 4 bytes of the payload are the uncompressed size, whatever the
	 * compression (the kernel's own decompressor relies on it: mkpiggy.c): gzip
	 * ends with its ISIZE, the others have it appended after the stream, which
	 * libarchive must not see (it would take it for the start of another one).
	 */
	if (read_at(in, magic, sizeof(magic), (off_t)start) < 0 ||
	    read_at(in, trailer, sizeof(trailer), (off_t)(start + len - 4)) < 0) {
		error_set(e, bzimage, 0, 0, "cannot read: %s", errno ? strerror(errno) : "short file");
		goto cleanup;
	}
	expected = le32(trailer);
	if (expected == 0 || expected > MAX_VMLINUX) {
		error_set(e, bzimage, 0, 0, "corrupt payload: its size trailer says %llu bytes",
			  (unsigned long long)expected);
		goto cleanup;
	}

	for (i = 0; i < sizeof(compressions) / sizeof(compressions[0]); i++)
		if (memcmp(magic, compressions[i].magic, compressions[i].len) == 0)
			comp = &compressions[i];
	if (!comp) {
		ret = NA("unknown payload compression (starts %02x %02x %02x %02x)", magic[0],
			 magic[1], magic[2], magic[3]);
		goto cleanup;
	}
	snprintf(info->compression, sizeof(info->compression), "%s", comp->name);
	a = archive_read_new();
	support = comp->support(a);
	if (support == ARCHIVE_WARN) {
		ret = NA("this libarchive reads %s only through an external program, not run "
			 "on a kernel image", comp->name);
		goto cleanup;
	}
	if (support != ARCHIVE_OK) {
		ret = NA("this libarchive cannot read %s: %s", comp->name, archive_error_string(a));
		goto cleanup;
	}
	archive_read_support_format_raw(a);
	p = xcalloc(1, sizeof(*p));
	p->fd = in;
	p->pos = (off_t)start;
	p->end = (off_t)(start + len - (strcmp(comp->name, "gzip") == 0 ? 0 : 4));
	if (archive_read_open(a, p, NULL, payload_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		if (p->io_errno) {
			error_set(e, bzimage, 0, 0, "cannot read: %s", strerror(p->io_errno));
		} else {
			error_set(e, bzimage, 0, 0, "corrupt %s payload: %s", comp->name,
				  archive_error_string(a));
		}
		goto cleanup;
	}
	if (archive_filter_count(a) < 2) {
		/* The decoder did not take it after all (lzma's header is a guess). */
		ret = NA("libarchive does not take this payload for %s (starts %02x %02x %02x "
			 "%02x)", comp->name, magic[0], magic[1], magic[2], magic[3]);
		goto cleanup;
	}

	tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		error_set(e, tmp, 0, 0, "cannot create: %s", strerror(errno));
		goto cleanup;
	}
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		/* The payload is always an ELF file: anything else is a corrupt image. */
		if (total == 0 && (n < SELFMAG || memcmp(buf, ELFMAG, SELFMAG) != 0)) {
			error_set(e, bzimage, 0, 0, "corrupt payload: its %s stream does not "
				  "hold an ELF file", info->compression);
			goto cleanup;
		}
		if ((uint64_t)n > expected - total) {
			error_set(e, bzimage, 0, 0,
				  "corrupt %s payload: it decompresses to more than the %llu bytes "
				  "its size trailer says", info->compression,
				  (unsigned long long)expected);
			goto cleanup;
		}
		if (util_write_all(fd, buf, (size_t)n) < 0) {
			error_set(e, tmp, 0, 0, "cannot write: %s", strerror(errno));
			goto cleanup;
		}
		total += (uint64_t)n;
	}
	if (n < 0) {
		if (p->io_errno)
			error_set(e, bzimage, 0, 0, "cannot read: %s", strerror(p->io_errno));
		else
			error_set(e, bzimage, 0, 0,
				  "corrupt %s payload after %llu of %llu bytes: %s",
				  info->compression, (unsigned long long)total,
				  (unsigned long long)expected, archive_error_string(a));
		goto cleanup;
	}
	if (total != expected) {
		error_set(e, bzimage, 0, 0,
			  "truncated %s payload: it decompresses to %llu bytes, its size trailer "
			  "says %llu", info->compression, (unsigned long long)total,
			  (unsigned long long)expected);
		goto cleanup;
	}
	info->size = total;
	info->decompressed = 1;
	if (fsync(fd) < 0) {
		error_set(e, tmp, 0, 0, "cannot flush: %s", strerror(errno));
		goto cleanup;
	}
	switch (elf_note_fd(fd, tmp, &info->entry, info->reason, sizeof(info->reason), e)) {
	case 1:
		break;
	case 0:
		log_debug("pvh: %s: %s", bzimage, info->reason);
		ret = 1;
		goto cleanup;
	default: {
		char why[sizeof(e->text)];

		snprintf(why, sizeof(why), "%s", e ? e->text : "corrupt ELF");
		error_set(e, bzimage, 0, 0, "the payload's vmlinux: %s", why);
		goto cleanup;
	}
	}
	n = util_commit_tmp(fd, tmp, out, e);
	fd = -1;
	if (n < 0)
		goto cleanup;
	log_debug("pvh: %s: %s payload, %llu -> %llu bytes, PVH entry 0x%llx", bzimage,
		  info->compression, (unsigned long long)len, (unsigned long long)total,
		  (unsigned long long)info->entry);
	ret = 0;
#undef NA
cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp && ret != 0)
		unlink(tmp);
	if (a)
		archive_read_free(a);
	if (in >= 0)
		close(in);
	free(p);
	free(tmp);
	return ret;
}
