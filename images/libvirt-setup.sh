#!/bin/sh
# libvirt-setup.sh: prepare this Debian machine as a libvirt host for kfarm's
# "hosts" (the libvirt backend), and print the URI to put in the config.
#
#   images/libvirt-setup.sh            # the system libvirtd: qemu:///system
#
# Needs root. Idempotent: what is already there is left alone. Where systemd
# runs, it starts the daemons through it; elsewhere (containers, CI) it
# starts virtlogd and libvirtd by hand, as daemons. It:
#   - installs libvirt's daemon and client when missing (Debian packages);
#   - makes sure of the libvirt-qemu user and group the QEMU driver runs
#     guests as, and of /var/run/libvirt, /var/log/libvirt, /var/lib/libvirt;
#   - gives /dev/kvm to the kvm group (0660), as udev does on a normal host:
#     libvirt checks /dev/kvm as the libvirt-qemu user, and a root-only node
#     makes it probe QEMU again for every domain (about 50 s each);
#   - starts virtlogd, then libvirtd, and waits for its socket.
# The storage pool guests' images go to ("kfarm") is created by kfarm itself
# on first use.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "libvirt-setup: needs root" >&2; exit 2; }
need=""
for p in libvirt-daemon-system libvirt-clients; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
	echo "libvirt-setup: installing$need"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 \
		--no-install-recommends $need >/dev/null
fi
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent group kvm >/dev/null || groupadd -r kvm
getent passwd libvirt-qemu >/dev/null ||
	useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
mkdir -p /var/run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu
if [ -c /dev/kvm ]; then
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
fi
sock=/var/run/libvirt/libvirt-sock
if [ -d /run/systemd/system ]; then
	systemctl start virtlogd.socket libvirtd.socket libvirtd.service
else
	pgrep -x virtlogd >/dev/null || virtlogd -d
	pgrep -x libvirtd >/dev/null || libvirtd -d
fi
i=0
until [ -S "$sock" ] && virsh -c qemu:///system version >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		echo "libvirt-setup: libvirtd did not answer on $sock in 20 s" >&2
		tail -n 5 /var/log/libvirt/libvirtd.log >&2 2>/dev/null || true
		exit 1
	fi
	sleep 0.2
done
echo "qemu:///system"
