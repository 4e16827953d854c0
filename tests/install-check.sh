#!/bin/bash
# install-check.sh: `make install DESTDIR=TMP PREFIX=/usr` (configs/install.mk)
# and the tree it leaves: every file where it belongs and nothing else, the
# unit filled in and passing `systemd-analyze verify` (with its man pages
# found) and the sandbox's exposure bound, its user from systemd-sysusers, the installed kfarm running
# the installed kfarm-guest (the catalog) and booting the installed
# initramfs (a stand-in QEMU records its command line), the installed
# kfarmd notifying as Type=notify expects, the config kept
# when it was changed, and `make uninstall` leaving nothing behind. Never
# starts the unit. Prints "install-check: N passed, N failed" last.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 2
tmp=$(mktemp -d /tmp/kfarm-install-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
pass=0 fail=0
# check WHAT CMD...: one check; its output is shown when it fails.
check() {
	local what=$1 out rc=0; shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then pass=$((pass + 1)); echo "ok   $what"
	else fail=$((fail + 1)); echo "FAIL $what"; [ -z "$out" ] || sed 's/^/     /' <<<"$out"; fi
}
# What install.mk derives for PREFIX=/usr on this host.
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null) || unitdir=/usr/lib/systemd/system
sysusersdir=$(pkg-config --variable=sysusersdir systemd 2>/dev/null) || sysusersdir=/usr/lib/sysusers.d
[ -n "$unitdir" ] || unitdir=/usr/lib/systemd/system
[ -n "$sysusersdir" ] || sysusersdir=/usr/lib/sysusers.d
expected="/etc/kfarm/kfarm.json
$unitdir/kfarmd.service
$sysusersdir/kfarm.conf
/usr/bin/kfarm
/usr/bin/kfarmd
/usr/lib/kfarm/initramfs.cpio
/usr/lib/kfarm/kfarm-guest
/usr/share/man/man1/kfarm.1
/usr/share/man/man8/kfarmd.8"
unit=$root$unitdir/kfarmd.service
# The installed binaries must find their files by themselves.
unset KFARM_GUEST KFARM_INITRAMFS

install_tree() {
	make -s --no-print-directory install DESTDIR="$root" PREFIX=/usr
}
tree_is_complete() {
	diff -u <(sort <<<"$expected") <(cd "$root" && find . -type f -o -type l | sed 's|^\.||' | sort)
}
binaries_are_executable() {
	local f
	for f in usr/bin/kfarm usr/bin/kfarmd usr/lib/kfarm/kfarm-guest; do
		[ -x "$root/$f" ] || { echo "$f is not executable"; return 1; }
	done
}
unit_filled_in() {
	! grep -n '@[A-Z_]*@' "$unit" &&
		grep -qx 'ExecStart=/usr/bin/kfarmd --foreground -c /etc/kfarm/kfarm.json --state /var/lib/kfarm' "$unit"
}
# systemd-analyze verify checks that ExecStart= exists and that the
# Documentation= man pages open. Its --root=DIR resolves ExecStart= in the
# tree but also wants the tree's sysinit.target and /bin/kill, so: a copy
# whose /usr/bin/ paths point into the tree, with MANPATH at the installed
# man pages; the host's units and /bin/kill stay what they are.
verify_copy() {
	mkdir -p "$tmp/verify"
	sed "s|=/usr/bin/|=$root/usr/bin/|" "$unit" >"$tmp/verify/kfarmd.service"
}
unit_verifies() {
	local out rc=0
	verify_copy
	out=$(cd "$tmp/verify" && MANPATH=$root/usr/share/man systemd-analyze verify ./kfarmd.service 2>&1) || rc=$?
	echo "systemd-analyze verify: exit $rc${out:+, said:}" >"$tmp/verify.txt"
	[ -z "$out" ] || echo "$out" >>"$tmp/verify.txt"
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then cat "$tmp/verify.txt"; return 1; fi
}
verify_fails_on_a_missing_binary() {
	local out
	verify_copy
	sed -i "s|^ExecStart=$root/usr/bin/kfarmd|ExecStart=$root/usr/bin/kfarmd-missing|" "$tmp/verify/kfarmd.service"
	out=$(cd "$tmp/verify" && MANPATH=$root/usr/share/man systemd-analyze verify ./kfarmd.service 2>&1) &&
		{ echo "verify passed a unit whose ExecStart= is missing"; return 1; }
	grep -q "kfarmd-missing is not executable" <<<"$out" || { echo "$out"; return 1; }
}
sandbox_exposure() {
	# systemd's own score of the sandbox (0 best, 10 worst): it must stay
	# below 3.0 ("OK"); it is 2.1 with MemoryDenyWriteExecute= off for TCG.
	local out
	out=$(cd "$tmp/verify" && systemd-analyze security --offline=yes --threshold=30 ./kfarmd.service 2>&1) ||
		{ grep -E '✗|Overall' <<<"$out"; return 1; }
	grep 'Overall exposure' <<<"$out" >"$tmp/exposure.txt"
}
# The user the unit runs as, made by systemd-sysusers from the installed
# file in a root of its own: kfarm, its home the state directory, in kvm.
sysusers_makes_the_user() {
	mkdir -p "$tmp/sysroot/etc" &&
		systemd-sysusers --root="$tmp/sysroot" "$root$sysusersdir/kfarm.conf" >/dev/null 2>&1 &&
		grep -q '^kfarm:x:[0-9]*:[0-9]*:[^:]*:/var/lib/kfarm:' "$tmp/sysroot/etc/passwd" &&
		grep -Eq '^kvm:x:[0-9]+:(.*,)?kfarm(,|$)' "$tmp/sysroot/etc/group" ||
		{ cat "$tmp/sysroot/etc/passwd" "$tmp/sysroot/etc/group" 2>&1; return 1; }
}
config_installed() {
	cmp configs/default.json "$root/etc/kfarm/kfarm.json" &&
		"$root/usr/bin/kfarm" config -c "$root/etc/kfarm/kfarm.json" >/dev/null
}
help_runs() {
	"$root/usr/bin/kfarm" help | grep -q '^usage: kfarm COMMAND' &&
		"$root/usr/bin/kfarmd" --help | grep -q '^usage: kfarmd'
}
man_pages_open() {
	MANPATH=$root/usr/share/man MANWIDTH=80 man kfarm 2>&1 | grep -q 'kfarm - QEMU kernel test farm' &&
		MANPATH=$root/usr/share/man MANWIDTH=80 man 8 kfarmd 2>&1 | grep -q 'kfarmd - the kfarm'
}
# The installed kfarm-guest, wrapped so that it leaves a mark when it runs.
installed_guest_lists_the_catalog() {
	local g=$root/usr/lib/kfarm/kfarm-guest out
	# shellcheck disable=SC2016 # $0, $* and $@ are the wrapper's
	mv "$g" "$g.real" && printf '#!/bin/sh\necho "$0 $*" >>%s\nexec "$0.real" "$@"\n' "$tmp/guest-ran" >"$g" &&
		chmod 755 "$g" || return 1
	out=$("$root/usr/bin/kfarm" scenarios) || { echo "$out"; mv "$g.real" "$g"; return 1; }
	mv "$g.real" "$g"
	grep -q '^sds-zero ' <<<"$out" || { echo "no sds-zero in: $out"; return 1; }
	grep -q "^$root/usr/lib/kfarm/kfarm-guest --list" "$tmp/guest-ran" ||
		{ echo "the installed kfarm-guest did not run: $(cat "$tmp/guest-ran" 2>/dev/null)"; return 1; }
}
# A run with a stand-in QEMU that records its arguments and exits: its
# guests fail to boot, but their command line names the initramfs.
installed_initramfs_boots() {
	local rc=0 out initrd
	cat >"$tmp/fake-qemu" <<-EOF
	#!/bin/sh
	case "\$1" in --version) echo "QEMU emulator version 7.2.0 (install-check stand-in)"; exit 0;; esac
	printf '%s\n' "\$@" >>"$tmp/qemu-args"
	# run as root, kfarm runs QEMU as kfarm-qemu, with the images as fds
	for a in "\$@"; do
		case "\$a" in /dev/fd/*) printf '%s -> %s\n' "\$a" "\$(readlink -f "\$a")" >>"$tmp/qemu-args";; esac
	done
	exit 1
	EOF
	chmod 755 "$tmp/fake-qemu"
	chmod 711 "$tmp"
	: >"$tmp/qemu-args"
	chmod 666 "$tmp/qemu-args"
	cat >"$tmp/run.json" <<-EOF
	{ "kernels": [ { "name": "stand-in", "path": "/bin/true" } ], "smp": [1], "reps": 1,
	  "boots": 1, "accel": "tcg", "scenarios": "sds-zero", "boot_timeout_s": 5,
	  "firmware": "seabios", "qemu": "$tmp/fake-qemu", "output": "$tmp/reports", "cache": "$tmp/cache" }
	EOF
	out=$("$root/usr/bin/kfarm" run -q -c "$tmp/run.json" -o "$tmp/runs/r1" 2>&1) || rc=$?
	[ -s "$tmp/qemu-args" ] || { echo "QEMU never started (kfarm run exited $rc): $out"; return 1; }
	initrd=$(grep -A1 -x -- -initrd "$tmp/qemu-args" | sed -n 2p)
	case "$initrd" in /dev/fd/*) initrd=$(grep -F -- "$initrd -> " "$tmp/qemu-args" | sed -n '1s/.* -> //p');; esac
	[ "$initrd" = "$root/usr/lib/kfarm/initramfs.cpio" ] ||
		{ echo "-initrd $initrd, not the installed one"; return 1; }
}
# What Type=notify relies on: READY=1 once kfarmd listens, STOPPING=1 on
# SIGTERM, then exit 0 within 10 s (a socket of ours as systemd's).
installed_kfarmd_notifies() {
	/usr/bin/python3 - "$root/usr/bin/kfarmd" "$tmp" <<-'EOF'
	import os, signal, socket, subprocess, sys, time
	kfarmd, tmp = sys.argv[1], sys.argv[2]
	path = os.path.join(tmp, "notify")
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(path)
	s.settimeout(30)
	p = subprocess.Popen([kfarmd, "--foreground", "--listen", "127.0.0.1:0", "--state",
	                      os.path.join(tmp, "state")], env=dict(os.environ, NOTIFY_SOCKET=path),
	                     stderr=subprocess.PIPE, text=True)
	try:
	    got = s.recv(4096).decode()
	    assert "READY=1" in got, f"first notification {got!r}, not READY=1"
	    p.send_signal(signal.SIGTERM)
	    got = s.recv(4096).decode()
	    assert "STOPPING=1" in got, f"after SIGTERM {got!r}, not STOPPING=1"
	    t0 = time.time()
	    rc = p.wait(timeout=10)
	    assert rc == 0, f"kfarmd exited {rc} after SIGTERM"
	    print(f"READY=1, STOPPING=1, exit 0 in {time.time() - t0:.1f} s")
	finally:
	    if p.poll() is None:
	        p.kill()
	        p.wait()
	        print(p.stderr.read())
	EOF
}
reinstall_keeps_a_changed_config() {
	echo '{ "kernels": [ { "name": "mine", "path": "/boot/vmlinuz" } ] }' >"$root/etc/kfarm/kfarm.json"
	install_tree >/dev/null &&
		grep -q '"mine"' "$root/etc/kfarm/kfarm.json"
}
uninstall_keeps_a_changed_config() {
	make -s --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr >/dev/null &&
		diff -u <(echo /etc/kfarm/kfarm.json) <(cd "$root" && find . -type f | sed 's|^\.||')
}
uninstall_leaves_nothing() {
	install_tree >/dev/null && cp configs/default.json "$root/etc/kfarm/kfarm.json" &&
		make -s --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr >/dev/null &&
		diff -u /dev/null <(cd "$root" && find . -type f -o -type l) &&
		[ ! -e "$root/usr/lib/kfarm" ] && [ ! -e "$root/etc/kfarm" ]
}

check "make install DESTDIR=TMP PREFIX=/usr" install_tree
check "every file in place, nothing else" tree_is_complete
check "binaries executable" binaries_are_executable
check "kfarmd.service: no @VARIABLE@ left, ExecStart= filled in" unit_filled_in
check "systemd-analyze verify kfarmd.service: silent, exit 0" unit_verifies
check "systemd-analyze verify fails on a missing ExecStart= binary" verify_fails_on_a_missing_binary
check "systemd-analyze security: exposure below 3.0" sandbox_exposure
check "systemd-sysusers makes the kfarm user (home /var/lib/kfarm, in kvm)" sysusers_makes_the_user
check "kfarm.json is configs/default.json and loads" config_installed
check "installed kfarm help, kfarmd --help run" help_runs
check "man kfarm, man 8 kfarmd open the installed pages" man_pages_open
check "installed kfarm runs the installed kfarm-guest (kfarm scenarios)" installed_guest_lists_the_catalog
check "installed kfarm boots the installed initramfs" installed_initramfs_boots
check "installed kfarmd: READY=1 when it listens, STOPPING=1 and exit 0 on SIGTERM" installed_kfarmd_notifies
check "make install keeps a changed kfarm.json" reinstall_keeps_a_changed_config
check "make uninstall removes all but a changed kfarm.json" uninstall_keeps_a_changed_config
check "make uninstall leaves nothing of an unchanged install" uninstall_leaves_nothing
[ -s "$tmp/verify.txt" ] && cat "$tmp/verify.txt"
[ -s "$tmp/exposure.txt" ] && cat "$tmp/exposure.txt"
echo "install-check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
