#!/bin/bash
# uapi-headers.sh OUTDIR - the ptrace UAPI headers of the two kernels the
# default comparison runs, for tests/surface-check.py --headers:
#
#   OUTDIR/6.1/linux/ptrace.h   OUTDIR/6.1/asm/ptrace-abi.h    (linux-source-6.1)
#   OUTDIR/6.12/linux/ptrace.h  OUTDIR/6.12/asm/ptrace-abi.h   (linux-headers-6.12.*-common)
#
# 6.1 comes from the installed linux-source-6.1 tarball (make deps), 6.12 from
# the headers package of Debian's linux-image-6.12-amd64, fetched with
# apt-get download (nothing is installed). Both are cached in OUTDIR.
set -euo pipefail
out=${1:?usage: uapi-headers.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

have() { [ -s "$1/linux/ptrace.h" ] && [ -s "$1/asm/ptrace-abi.h" ]; }

if ! have "$out/6.1"; then
	tarball=/usr/src/linux-source-6.1.tar.xz
	[ -r "$tarball" ] || { echo "uapi-headers: $tarball missing (make deps installs linux-source-6.1)" >&2; exit 1; }
	tmp=$(mktemp -d)
	tar -xJf "$tarball" -C "$tmp" linux-source-6.1/include/uapi/linux/ptrace.h \
		linux-source-6.1/arch/x86/include/uapi/asm/ptrace-abi.h
	mkdir -p "$out/6.1/linux" "$out/6.1/asm"
	cp "$tmp/linux-source-6.1/include/uapi/linux/ptrace.h" "$out/6.1/linux/"
	cp "$tmp/linux-source-6.1/arch/x86/include/uapi/asm/ptrace-abi.h" "$out/6.1/asm/"
	rm -rf "$tmp"
fi

if ! have "$out/6.12"; then
	# linux-headers-6.12-amd64 -> linux-headers-6.12.N+deb12-amd64 -> ...-common
	dep() { apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: //p' | grep -- "$2" | head -n 1; }
	arch=$(dep linux-headers-6.12-amd64 'linux-headers-6\.12\.')
	common=${arch:+$(dep "$arch" -common)}
	[ -n "$common" ] || { echo "uapi-headers: no linux-headers-6.12.*-common in apt's lists (apt-get update?)" >&2; exit 1; }
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q "$common" >/dev/null 2>&1) ||
		{ echo "uapi-headers: apt-get download $common failed" >&2; rm -rf "$tmp"; exit 1; }
	dpkg-deb -x "$tmp"/*.deb "$tmp/x"
	src=$(echo "$tmp"/x/usr/src/linux-headers-*-common)
	mkdir -p "$out/6.12/linux" "$out/6.12/asm"
	cp "$src/include/uapi/linux/ptrace.h" "$out/6.12/linux/"
	cp "$src/arch/x86/include/uapi/asm/ptrace-abi.h" "$out/6.12/asm/"
	echo "$common" > "$out/6.12/SOURCE"
	rm -rf "$tmp"
fi
echo linux-source-6.1 > "$out/6.1/SOURCE"
