#!/bin/sh
# libvirt-second.sh: a second system-mode libvirtd on this machine, beside the
# one images/libvirt-setup.sh starts, for tests of kfarm's "hosts" with more
# than one host (one of them killed, say).
#
#   images/libvirt-second.sh start DIR    # prints its URI on the last line
#   images/libvirt-second.sh status DIR   # its URI and pids; exit 1 when down
#   images/libvirt-second.sh stop DIR     # kills it, its virtlogd and its QEMUs
#
# The URI is qemu+unix:///system?socket=DIR/sock/libvirt-sock. Needs root.
#
# Everything of the instance lives under DIR (made absolute; not under a
# libvirt directory): it runs in a mount namespace of its own (unshare -m,
# private propagation) where
#   - /run/libvirt is a tmpfs (its run state, virtlogd's socket), /run/lock
#     a bind mount of DIR/lock (the pty lock files its consoles take);
#   - /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and /etc/libvirt
#     are bind mounts of DIR/lib, DIR/log, DIR/cache and DIR/etc, so its
#     domains, storage pools (and their definitions), logs and QEMU
#     capabilities cache are its own: the first libvirtd's are untouched, and
#     its "kfarm" pool at /var/lib/libvirt/kfarm is DIR/lib/kfarm outside;
#   - DIR/etc holds a copy of this machine's /etc/libvirt configuration
#     without its domains, networks, pools and secrets; libvirtd is started
#     with -f DIR/etc/libvirtd.conf, whose unix_sock_dir is DIR/sock (outside
#     the tmpfs, so reachable from here), and -p DIR/libvirtd.pid; qemu.conf
#     has "namespaces = []" so that its QEMUs stay in its mount namespace;
#   - its own virtlogd (-p DIR/virtlogd.pid) writes the QEMU logs to
#     DIR/log/qemu.
# Logs: DIR/log/libvirtd.log, DIR/log/virtlogd.log.
#
# start runs images/libvirt-setup.sh first (packages, the libvirt-qemu user,
# /dev/kvm; it also starts the first libvirtd). It is idempotent: an instance
# of DIR that answers is reused. When its libvirtd (or virtlogd) died but its
# namespace lives on (a QEMU or the other daemon left), start runs the missing
# daemon in that namespace again, as a restarted libvirtd on a real host would
# be, and it takes its running domains back. It waits for
# `virsh -c URI version` (30 s at most; else it prints the tail of the logs,
# stops a new instance and exits 1). Its last line of stdout is the URI.
# DIR/pids then reads "libvirtd PID" and "virtlogd PID" (pids as seen here:
# `kill -9` the libvirtd to simulate a host that dies); DIR/ns names the mount
# namespace. status prints "uri URI", those lines and a "qemu PID" line per
# QEMU, and exits 1 when libvirtd does not answer. stop SIGKILLs every process
# of the namespace (libvirtd, virtlogd, QEMUs), waits for them to go (10 s at
# most), removes the cgroups libvirt made for those QEMUs and leaves DIR's
# files (logs, pool, state) in place: a later start reuses the pool's volumes.
# Timings here: start 0.3 s, stop 0.5 s.
set -eu
me=libvirt-second
die() { echo "$me: $*" >&2; exit "${rc:-2}"; }
usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }

[ $# -eq 2 ] || usage
cmd=$1
[ "$(id -u)" -eq 0 ] || die "needs root"
mkdir -p "$2"
dir=$(cd "$2" && pwd -P)
case "$dir/" in
/ | /etc/libvirt/* | /run/libvirt/* | /var/run/libvirt/* | /var/lib/libvirt/* | /var/log/libvirt/* | /var/cache/libvirt/*)
	die "DIR ($dir) must lie outside libvirt's own directories" ;;
esac
self=$(cd "$(dirname "$0")" && pwd -P)/${0##*/}
uri="qemu+unix:///system?socket=$dir/sock/libvirt-sock"
# a unix socket's path: 107 bytes at most (libvirt-admin-sock the longest)
[ "${#dir}" -le 80 ] || die "DIR ($dir) is too long for its sockets' paths (80 characters at most)"

# The pids of the processes in the instance's mount namespace (none when it
# has no namespace).
ns_pids() {
	[ -s "$dir/ns" ] || return 0
	ns=$(cat "$dir/ns")
	# never the namespace of this machine (or of this script)
	[ "$ns" != "$(readlink /proc/1/ns/mnt)" ] && [ "$ns" != "$(readlink /proc/$$/ns/mnt)" ] || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
	done
	return 0
}

# pid_of NAME: the pid in DIR/NAME.pid when that process is NAME and in the
# namespace.
pid_of() {
	p=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
	if [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] &&
		[ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$(cat "$dir/ns" 2>/dev/null)" ]; then
		echo "$p"
	else
		return 1
	fi
}

# failed WHAT: the tail of its logs, exit 1; a new instance is stopped.
failed() {
	echo "$me: $*" >&2
	tail -n 8 "$dir/log/libvirtd.log" "$dir/log/virtlogd.log" >&2 2>/dev/null || true
	[ "${fresh:-0}" -eq 0 ] || "$self" stop "$dir" || true
	rc=1 die "see $dir/log"
}

answers() { virsh -c "$uri" version >/dev/null 2>&1; }

write_pids() {
	{
		echo "libvirtd $(pid_of libvirtd || echo -)"
		echo "virtlogd $(pid_of virtlogd || echo -)"
	} >"$dir/pids.new"
	mv "$dir/pids.new" "$dir/pids"
}

# The configuration: this machine's, without its domains, networks, pools
# and secrets; sockets, logs and pidfiles under DIR.
configure() {
	mkdir -p "$dir/etc" "$dir/sock" "$dir/lib/qemu" "$dir/log/qemu" "$dir/cache/qemu"
	chmod 0755 "$dir/lib" "$dir/log" "$dir/cache"
	for f in /etc/libvirt/*.conf; do
		[ -e "$dir/etc/${f##*/}" ] || cp -p "$f" "$dir/etc/"
	done
	for d in nwfilter hooks; do
		[ -d "/etc/libvirt/$d" ] && [ ! -e "$dir/etc/$d" ] && cp -a "/etc/libvirt/$d" "$dir/etc/"
	done
	mkdir -p "$dir/etc/qemu/networks/autostart" "$dir/etc/storage/autostart" "$dir/etc/secrets"
	chmod 0700 "$dir/etc/secrets"
	{
		grep -v -E '^[[:space:]]*(unix_sock_dir|log_outputs)[[:space:]]*=' /etc/libvirt/libvirtd.conf || true
		echo "unix_sock_dir = \"$dir/sock\""
		echo "log_outputs = \"3:file:$dir/log/libvirtd.log\""
	} >"$dir/etc/libvirtd.conf"
	{
		grep -v -E '^[[:space:]]*log_outputs[[:space:]]*=' /etc/libvirt/virtlogd.conf || true
		echo "log_outputs = \"3:file:$dir/log/virtlogd.log\""
	} >"$dir/etc/virtlogd.conf"
	{
		grep -v -E '^[[:space:]]*namespaces[[:space:]]*=' /etc/libvirt/qemu.conf || true
		echo "namespaces = []"
	} >"$dir/etc/qemu.conf"
	# the capabilities cache: reused when still valid (saves libvirtd's probe of QEMU)
	if [ -d /var/cache/libvirt/qemu/capabilities ] && [ ! -e "$dir/cache/qemu/capabilities" ]; then
		cp -a /var/cache/libvirt/qemu/capabilities "$dir/cache/qemu/"
	fi
}

# Inside the namespace: start what is not running.
daemons() {
	pid_of virtlogd >/dev/null || virtlogd -d -f "$dir/etc/virtlogd.conf" -p "$dir/virtlogd.pid"
	pid_of libvirtd >/dev/null || libvirtd -d -f "$dir/etc/libvirtd.conf" -p "$dir/libvirtd.pid"
}

case "$cmd" in
_ns)	# run by start through unshare -m: the mounts, then the daemons
	mount -t tmpfs -o mode=0755 tmpfs /run/libvirt
	# its own pty lock files: a host killed with kill -9 leaves its locks
	# behind, and the first libvirtd must not see them (ptys are reused)
	mkdir -p "$dir/lock"
	mount --bind "$dir/lock" /run/lock
	mount --bind "$dir/lib" /var/lib/libvirt
	mount --bind "$dir/log" /var/log/libvirt
	mount --bind "$dir/cache" /var/cache/libvirt
	mount --bind "$dir/etc" /etc/libvirt
	readlink /proc/self/ns/mnt >"$dir/ns"
	daemons
	;;
_daemons)
	daemons ;;
start)
	if pid_of libvirtd >/dev/null && pid_of virtlogd >/dev/null && answers; then
		write_pids
		echo "$uri"
		exit 0
	fi
	# packages, the libvirt-qemu user, /dev/kvm (and the first libvirtd): 0.1 s when done
	"${self%/*}/libvirt-setup.sh" >/dev/null
	pids=$(ns_pids)
	if [ -n "$pids" ]; then
		# its namespace lives on: start the missing daemon in it
		nsenter -t "${pids%%[!0-9]*}" -m "$self" _daemons "$dir" || failed "its daemons did not start"
	else
		fresh=1
		configure
		rm -f "$dir/ns" "$dir/pids" "$dir/libvirtd.pid" "$dir/virtlogd.pid" "$dir"/sock/*
		unshare -m --propagation private "$self" _ns "$dir" || failed "its namespace or daemons did not start"
	fi
	i=0
	until answers; do
		i=$((i + 1))
		[ "$i" -le 150 ] || failed "libvirtd did not answer on $uri in 30 s"
		sleep 0.2
	done
	write_pids
	echo "$uri"
	;;
status)
	[ -s "$dir/ns" ] && write_pids
	echo "uri $uri"
	cat "$dir/pids" 2>/dev/null || true
	for p in $(ns_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = qemu-system-x86 ] && echo "qemu $p"
	done
	answers || exit 1
	;;
stop)
	pids=$(ns_pids)
	# the cgroups libvirt made for its QEMUs: machine/qemu-ID-NAME.libvirt-qemu
	cgroups=""
	for p in $pids; do
		case "$(cat "/proc/$p/comm" 2>/dev/null)" in
		qemu*) cgroups="$cgroups $(sed -n 's#^[0-9]*:[^:]*:\(.*/machine/[^/]*\.libvirt-qemu\).*#\1#p' \
			"/proc/$p/cgroup" 2>/dev/null | sort -u)" ;;
		esac
	done
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
	i=0
	while [ -n "$(ns_pids)" ]; do
		i=$((i + 1))
		[ "$i" -le 100 ] || rc=1 die "processes left in its namespace after 10 s: $(ns_pids)"
		sleep 0.1
	done
	for c in $cgroups; do
		for h in /sys/fs/cgroup/*; do
			if [ -d "$h$c" ]; then
				find "$h$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
			fi
		done
	done
	rm -f "$dir/ns" "$dir/pids" "$dir/libvirtd.pid" "$dir/virtlogd.pid" "$dir"/sock/*
	;;
*) usage ;;
esac
