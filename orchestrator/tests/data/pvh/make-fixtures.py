#!/usr/bin/python3
"""Make the synthetic bzImages test_pvh.c reads (run in this folder; the outputs
are committed). Each is an x86 boot header ("HdrS", protocol version,
payload_offset/payload_length) in front of a compressed tiny ELF, laid out as
the kernel's arch/x86/boot/compressed does: the payload ends with the
uncompressed size (gzip's own ISIZE, else 4 bytes appended)."""
import gzip
import lzma
import struct
import subprocess

XEN_ELFNOTE_PHYS32_ENTRY = 18


def note(name, ntype, desc):
    n = name + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def elf(notes, cls=2, machine=62):
    """An ELF64 (or ELF32 header-only) file: a PT_LOAD and a PT_NOTE segment."""
    if cls == 1:
        return b"\x7fELF\x01\x01\x01" + b"\0" * 9 + struct.pack("<HHI", 2, machine, 1) + b"\0" * 32
    code = b"\xf4" * 64  # hlt
    phoff, phnum = 64, 2
    off_notes = phoff + 56 * phnum
    off_code = off_notes + len(notes)
    eh = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    eh += struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x1000000, phoff, 0, 0, 64, 56, phnum, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 7, 0, 0x1000000, 0x1000000, off_code + len(code),
                       off_code + len(code), 0x1000)
    pnote = struct.pack("<IIQQQQQQ", 4, 4, off_notes, 0, 0, len(notes), len(notes), 4)
    return eh + load + pnote + notes + code


def bzimage(payload, version=0x20F, setup_sects=1, cut=None):
    """setup_sects 0 means 4; the payload sits 16 bytes into the protected-mode code."""
    pm = ((setup_sects or 4) + 1) * 512
    hdr = bytearray(pm + 16)
    hdr[0x1F1] = setup_sects
    hdr[0x1FE:0x200] = b"\x55\xaa"
    hdr[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", hdr, 0x206, version)
    struct.pack_into("<II", hdr, 0x248, 16, len(payload))
    tail = payload + b"\0" * 32  # .text/.data after the payload
    tail += b"\0" * (-(16 + len(tail)) % 16)
    # syssize: the protected-mode code in 16-byte paragraphs, padded to them, as
    # the kernel's arch/x86/boot/tools/build.c writes it (a cut file is shorter
    # than it says).
    struct.pack_into("<I", hdr, 0x1F4, (16 + len(tail)) // 16)
    img = bytes(hdr) + tail
    return img[:cut] if cut else img


def with_size(stream, plain):
    return stream + struct.pack("<I", len(plain))


def xz(b):
    # As scripts/xz_wrap.sh: CRC32 check, the x86 BCJ filter, LZMA2.
    return lzma.compress(b, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                         filters=[{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2}])


def zstd(b):
    return subprocess.run(["zstd", "-19", "-q", "-c"], input=b, capture_output=True, check=True).stdout


def main():
    pvh = elf(note(b"Xen", 6, b"linux\0") + note(b"Xen", XEN_ELFNOTE_PHYS32_ENTRY,
                                                  struct.pack("<Q", 0x1000850)))
    nonote = elf(note(b"Xen", 6, b"linux\0") + note(b"GNU", XEN_ELFNOTE_PHYS32_ENTRY, b"\0" * 8))
    gz = lambda b: gzip.compress(b, mtime=0)
    files = {
        "pvh-gzip.bzImage": bzimage(gz(pvh)),
        "pvh-xz.bzImage": bzimage(with_size(xz(pvh), pvh), setup_sects=0),
        "pvh-zstd.bzImage": bzimage(with_size(zstd(pvh), pvh)),
        "nonote-xz.bzImage": bzimage(with_size(xz(nonote), nonote)),
        "elf32-gzip.bzImage": bzimage(gz(elf(b"", cls=1, machine=3))),
        "old-protocol.bzImage": bzimage(gz(pvh), version=0x207),
        "unknown-compression.bzImage": bzimage(with_size(b"\x42\x43\x44\x45" * 40, pvh)),
        # lzop's magic: Debian's libarchive reads it only through an external lzop.
        "lzo.bzImage": bzimage(with_size(b"\x89LZO\x00\r\n\x1a\n" + b"\x42" * 151, pvh)),
        # The stream cut short, its size trailer intact.
        "truncated-stream.bzImage": bzimage(with_size(xz(pvh)[:60], pvh)),
        # The file cut inside the payload.
        "truncated-file.bzImage": bzimage(with_size(xz(pvh), pvh), cut=512 * 2 + 40),
        # A well-formed stream whose content is not an ELF file.
        "not-elf-gzip.bzImage": bzimage(gz(b"not an ELF file\n" * 8)),
        "pvh.elf": pvh,
    }
    for name, data in files.items():
        with open(name, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
