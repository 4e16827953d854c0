#!/bin/sh
# mkinitramfs.sh OUT BUSYBOX KFARM_GUEST INIT
# Builds the guest initramfs (newc cpio, uncompressed: every kernel with an
# initramfs reads it, and a TCG guest spends no time inflating it) from a
# static busybox, the static payload runner and the init script. Written to OUT.tmp and renamed, so a failed
# build never leaves a half image behind.
set -eu
out=$1 busybox=$2 guest=$3 init=$4
for f in "$busybox" "$guest" "$init"; do
	[ -f "$f" ] || { echo "mkinitramfs: missing input: $f" >&2; exit 1; }
done
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
	if command -v file >/dev/null 2>&1; then
		echo "mkinitramfs: $busybox is not statically linked (install busybox-static)" >&2
		exit 1
	fi
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/sbin" "$stage/proc" "$stage/sys" "$stage/dev" \
	"$stage/tmp" "$stage/root" "$stage/etc"
cp "$busybox" "$stage/bin/busybox"
cp "$guest" "$stage/bin/kfarm-guest"
cp "$init" "$stage/init"
chmod 755 "$stage/init" "$stage/bin/busybox" "$stage/bin/kfarm-guest"
for app in sh mount umount mkdir echo cat ls poweroff reboot sync uname nproc sleep ps kill dmesg; do
	ln -s busybox "$stage/bin/$app"
done
ln -s ../bin/busybox "$stage/sbin/poweroff"
mkdir -p "$(dirname "$out")"
# Fixed mtimes and sorted names keep the image reproducible for the same inputs.
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
	> "$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(wc -c < "$out") bytes)"
