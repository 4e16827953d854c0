#!/bin/sh
# deps.sh: install the Debian packages kfarm needs to build, test and run.
# Idempotent and non-interactive: installs only what is missing.
set -eu
# build and unit tests
PKGS="gcc make pkg-config libc6-dev libjansson-dev libcurl4-openssl-dev libarchive-dev check
busybox-static cpio gzip file dpkg tar ca-certificates"
# make fuzz: libFuzzer harnesses (clang, and its fuzzer and sanitizer runtimes)
PKGS="$PKGS clang libclang-rt-dev"
# the daemon (kfarmd): its job database, HTTP API, systemd notification; its tests
PKGS="$PKGS libsqlite3-dev libmicrohttpd-dev libsystemd-dev python3-prometheus-client curl"
# the libvirt backend ("hosts"): the library, and a daemon to test it with
PKGS="$PKGS libvirt-dev libvirt-daemon-system libvirt-clients"
# make install's checks: the man pages (groff, man), the unit (systemd-analyze)
PKGS="$PKGS groff-base man-db systemd"
# guests and report checks
PKGS="$PKGS qemu-system-x86 python3 python3-jsonschema python3-junitparser chromium python3-scipy python3-statsmodels"
# kernel builds from source (configs with a "build" kernel, make test-build)
# (git keeps each build tree's source as given; ccache, in the kfarm cache, recompiles less)
PKGS="$PKGS bc bison flex libelf-dev libssl-dev xz-utils patch linux-source-6.1 git ccache"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# kfarm resolves deb: kernels with apt-cache: the package lists must be there.
if [ -n "$missing" ] || ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
	echo "deps: apt-get update"
	$SUDO apt-get update -q >/dev/null
fi
if [ -z "$missing" ]; then
	echo "deps: all packages present"
else
	echo "deps: installing:$missing"
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends $missing
fi
# kfarm run as root runs QEMU as this unprivileged user (vm.h's VM_QEMU_USER),
# in kvm for /dev/kvm
if ! getent passwd kfarm-qemu >/dev/null; then
	getent group kvm >/dev/null || $SUDO groupadd --system kvm
	echo "deps: creating the user kfarm-qemu (QEMU runs as it when kfarm is root)"
	$SUDO useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		--user-group --groups kvm --comment "kfarm's QEMU guests" kfarm-qemu
fi
