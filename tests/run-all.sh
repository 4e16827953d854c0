#!/bin/bash
# make test: everything after the unit tests (which `make unit` ran first):
# the payloads on the host kernel, the schemas, then real QEMU boots.
# Prints "N passed, N failed" last.
set -uo pipefail
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
pass=0 fail=0
# A step runs in a subshell: one that crashes, exits or trips set -u fails
# alone (with its status) and the next step runs.
step() {
	local name=$1 t0=$SECONDS rc=0; shift
	echo "== $name"
	( "$@" ) || rc=$?
	if [ "$rc" -eq 0 ]; then pass=$((pass + 1)); echo "ok   $name ($((SECONDS - t0)) s)"
	else fail=$((fail + 1)); echo "FAIL $name (exit $rc, $((SECONDS - t0)) s)"; fi
}
host_payloads() {
	# The catalog on the host kernel, without a VM: every plain scenario and
	# the pairwise sample of each one's variation axes (kfarm-guest --expand).
	# --strict: a crash, a timeout, a deterministic cell with more than one
	# outcome, or a plain cell that contradicts its documented expectation
	# fails the step.
	build/kfarm-guest --run all --space sample --reps "${KFARM_HOST_REPS:-50}" \
		--variant-reps "${KFARM_HOST_VARIANT_REPS:-5}" --strict >"$BUILD/host-payloads.txt" &&
		tail -n 3 "$BUILD/host-payloads.txt"
}
strict_catches_claims() {
	# --strict must fail on a cell that breaks its documented claim
	# (selftest-coin claims heads and alternates) and say which claim.
	local out rc=0
	rm -f /tmp/kfarm-selftest-coin
	out=$(build/kfarm-guest --run selftest-coin --reps 2 --strict 2>&1 >/dev/null) || rc=$?
	[ "$rc" -eq 1 ] || { echo "kfarm-guest --strict exited $rc, not 1: $out"; return 1; }
	grep -q "documented coin=heads, observed tails" <<<"$out"
}
catalog_in_sync() {
	build/kfarm-guest --catalog | diff -u guest-tests/CATALOG.md -
}
surface() {
	# Every ptrace promise has a cell: the inventory against both kernels'
	# UAPI headers and ptrace-tests, each covering cell run once here.
	tests/uapi-headers.sh "$BUILD/uapi" &&
		/usr/bin/python3 tests/surface-check.py --kfarm-guest build/kfarm-guest --headers "$BUILD/uapi"
}
surface_catches_gaps() {
	# The check fails on a request with no cell, and on a header macro the
	# inventory does not list (a copy of the inventory and of the headers).
	local t out rc=0
	t=$(mktemp -d)
	cp -r guest-tests/surface "$t/surface" && cp -r "$BUILD/uapi" "$t/uapi" || { rm -rf "$t"; return 1; }
	printf '\nentry PTRACE_KFARM_NEW\nkind  request\nwhat  a request with no cell\ndoc   nowhere\n' >>"$t/surface/core.def"
	out=$(/usr/bin/python3 tests/surface-check.py --no-run --surface-dir "$t/surface" 2>&1) && rc=1
	grep -q "entry PTRACE_KFARM_NEW is neither covered by a cell nor out of scope" <<<"$out" || rc=1
	cp -r guest-tests/surface/. "$t/surface/"
	echo '#define PTRACE_KFARM_NEWER 0x42ff' >>"$t/uapi/6.12/linux/ptrace.h"
	out=$(/usr/bin/python3 tests/surface-check.py --no-run --surface-dir "$t/surface" --headers "$t/uapi" 2>&1) && rc=1
	grep -q "PTRACE_KFARM_NEWER (6.12 linux/ptrace.h): not in the inventory" <<<"$out" || rc=1
	rm -rf "$t"
	return $rc
}
schemas() {
	local v="/usr/bin/python3 tests/validate-schema.py" d=orchestrator/tests/data
	# (diff/rundir/run.json is a kfarm.run/1 report: the diff still reads those)
	$v reports/schema/run.schema.json $d/diff/run-a.json $d/diff/run-b.json &&
	$v reports/schema/diff.schema.json $d/diff/expected-diff.json \
		$d/diff/expected-diff-two-runs.json &&
	$v reports/schema/index.schema.json $d/history/expected-index.json &&
	$v $d/export/kcidb-v5.3.schema.json $d/export/expected-kcidb.json &&
	schema_rejects_broken_run
}
schema_rejects_broken_run() {
	# The validator must say no (exit 1, not a crash or a bad schema: 2) to
	# broken-run.json, naming each of the faults the fixture was made with.
	local out rc=0 path
	out=$(/usr/bin/python3 tests/validate-schema.py reports/schema/run.schema.json \
		orchestrator/tests/data/diff/broken-run.json 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || { echo "validate-schema.py exited $rc on broken-run.json, not 1: $out"; return 1; }
	for path in '$.cells[0].outcomes[0].observation.tracee' '$.cells[0].status' '$.guests[0]:' \
		'$.guests[0].events[0].kind' '$.host.cpus' '$.kernels[0].sha256' '$.started'; do
		grep -qF "broken-run.json: $path" <<<"$out" ||
			{ echo "validate-schema.py did not report $path: $out"; return 1; }
	done
}
man_pages() {
	# kfarm(1) and kfarmd(8) render without a groff warning and document every
	# command and option the binaries print, every config field and every
	# variable the sources read (tests/man-check.py says which rules).
	/usr/bin/python3 tests/man-check.py "$BUILD"
}
man_check_catches_gaps() {
	# The check fails on doctored copies of the pages: an option or a
	# command left out, one that does not exist, a groff warning...
	mkdir -p "$BUILD"
	/usr/bin/python3 tests/man-check.py --self-test "$BUILD" >"$BUILD/man-check-self-test.txt" ||
		{ grep -v '^ok' "$BUILD/man-check-self-test.txt"; return 1; }
	tail -n 1 "$BUILD/man-check-self-test.txt"
}
install_check() {
	# make install into a temporary DESTDIR (PREFIX=/usr): the tree, the unit
	# through systemd-analyze verify, the installed kfarm running the
	# installed kfarm-guest and initramfs, make uninstall. Never starts it.
	tests/install-check.sh
}
stats_ref() {
	# stats.c's tests and intervals against scipy and statsmodels
	/usr/bin/python3 tests/stats-check.py "$BUILD"
}
junit_consumer() {
	/usr/bin/python3 tests/junit-check.py orchestrator/tests/data/export/expected-junit.xml \
		orchestrator/tests/data/diff/expected-diff.json
}
html_in_chromium() {
	mkdir -p "$BUILD"
	/usr/bin/python3 tests/html-check.py orchestrator/tests/data/export/expected.html \
		--screenshot "$BUILD/diff.png"
}
owners() {
	# One owner per format: run.json's keys only in report.c, no hypervisor
	# detail in run.c (tests/owners-check.py says which rules).
	/usr/bin/python3 tests/owners-check.py
}
owners_catches_strays() {
	# The check fails on a run.json key, a run lookup and a hypervisor word
	# put where they do not belong (in a copy of the sources).
	local t out rc=0
	t=$(mktemp -d)
	cp orchestrator/*.c "$t/" || { rm -rf "$t"; return 1; }
	printf 'static const char *stray = "qemu_stderr";\n' >>"$t/history.c"
	printf 'static const char *peek(json_t *run) { return json_string_value(json_object_get(run, "id")); }\n' >>"$t/export.c"
	printf '/* -serial mon:stdio */\n' >>"$t/run.c"
	out=$(/usr/bin/python3 tests/owners-check.py --src "$t" 2>&1) && rc=1
	grep -q 'history.c:[0-9]*: run.json key "qemu_stderr" outside report.c' <<<"$out" || rc=1
	grep -q 'export.c:[0-9]*: looks up a key of a run document' <<<"$out" || rc=1
	grep -q "run.c:[0-9]*: names the hypervisor ('-serial')" <<<"$out" || rc=1
	[ "$rc" -eq 0 ] || echo "$out"
	rm -rf "$t"
	return $rc
}
fuzz_regressions() {
	# Every input the fuzzers keep (fuzz/regress/TARGET: each crash found,
	# since fixed; fuzz/corpus/TARGET: the seeds) through each harness's plain
	# replay driver, built with this build's compiler and sanitizers.
	local t dirs out=$BUILD/fuzz-replay.txt
	: >"$out"
	for t in fuzz/corpus/*/; do
		t=$(basename "$t")
		dirs=("fuzz/corpus/$t")
		[ -d "fuzz/regress/$t" ] && dirs+=("fuzz/regress/$t")
		"$BUILD/fuzz/$t" "${dirs[@]}" >>"$out" 2>&1 ||
			{ echo "$t: replay failed:"; tail -n 30 "$out"; return 1; }
	done
	grep inputs "$out"
}
fuzz_regressions_libfuzzer() {
	# The same inputs through the libFuzzer binaries (clang, ASan, UBSan, the
	# harness as make fuzz runs it). make deps installs clang: without it
	# this fails, it does not skip.
	local t files out=$BUILD/fuzz-libfuzzer.txt
	command -v clang >/dev/null || { echo "clang is not installed (make deps installs it)"; return 1; }
	make -s fuzz-build >"$out" 2>&1 || { echo "make fuzz-build failed:"; tail -n 30 "$out"; return 1; }
	for t in fuzz/corpus/*/; do
		t=$(basename "$t")
		mapfile -t files < <(find "fuzz/corpus/$t" "fuzz/regress/$t" -type f 2>/dev/null | sort)
		build-fuzz/"$t" "${files[@]}" >>"$out" 2>&1 ||
			{ echo "$t: failed:"; tail -n 30 "$out"; return 1; }
		echo "$t: ${#files[@]} inputs"
	done
}
integration_self_test() {
	mkdir -p "$BUILD"
	# No QEMU: the check runner counts a raising check as failed and goes on,
	# and the compare checks (table, exit status, summary, self-contained
	# HTML) fail on doctored copies of the fixtures.
	/usr/bin/python3 tests/integration.py --self-test >"$BUILD/integration-self-test.txt" ||
		{ grep -v '^ok' "$BUILD/integration-self-test.txt"; return 1; }
	tail -n 1 "$BUILD/integration-self-test.txt"
}
daemon() {
	# kfarmd on a loopback port: jobs over HTTP with real guests, cancel, a
	# full queue, 200 bad requests, metrics, a token, SIGHUP, SIGTERM, kill -9.
	/usr/bin/python3 tests/daemon.py "$BUILD"
}
web_page() {
	# kfarmd's page for people (GET /) in headless Chromium against a real
	# kfarmd: jobs queued, running, done and cancelled with its button.
	mkdir -p "$BUILD"
	/usr/bin/python3 tests/web-check.py "$BUILD"
}
libvirt_backend() {
	# The libvirt backend against a real libvirtd (images/libvirt-setup.sh
	# starts it): an A/A comparison across QEMU and libvirt, clear errors
	# (unreachable URI, no QEMU driver, a pool that cannot be made, a domain
	# that does not start), no domain left after a kill -9.
	/usr/bin/python3 tests/libvirt.py "$BUILD"
}
integration() {
	/usr/bin/python3 tests/integration.py "$BUILD"
}
resume() {
	# kfarm run and compare killed (kill -9) with guests still to boot, then
	# --resume: every cell, each finished guest kept (its logs untouched),
	# other options refused by name, a finished run resumed at once.
	/usr/bin/python3 tests/resume.py "$BUILD"
}
step "payloads on the host kernel" host_payloads
step "--strict fails on a broken documented claim" strict_catches_claims
step "guest-tests/CATALOG.md matches the sources" catalog_in_sync
step "ptrace surface inventory: covered, in sync with COVERAGE.md" surface
step "the inventory check fails on a gap" surface_catches_gaps
step "report schemas" schemas
step "man pages document every command, option, field, variable (man-check.py)" man_pages
step "the man page check fails on doctored pages" man_check_catches_gaps
step "make install into a DESTDIR, the unit verified (install-check.sh)" install_check
step "one owner per format (owners-check.py)" owners
step "the owners check fails on a stray key" owners_catches_strays
step "statistics against scipy/statsmodels" stats_ref
step "JUnit consumer (junitparser)" junit_consumer
step "HTML report in Chromium" html_in_chromium
step "fuzz regressions and seeds, replayed (fuzz/regress, fuzz/corpus)" fuzz_regressions
step "fuzz regressions and seeds under libFuzzer (clang)" fuzz_regressions_libfuzzer
step "integration checks fail on doctored input (self-test, no QEMU)" integration_self_test
step "QEMU integration" integration
step "kfarm run/compare --resume after kill -9" resume
step "kfarmd: the API with real guests" daemon
step "kfarmd: the web page in Chromium" web_page
step "the libvirt backend (a real libvirtd)" libvirt_backend
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
