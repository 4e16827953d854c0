#!/bin/bash
# make test: everything after the unit tests (which `make unit` ran first):
# the payloads on the host kernel, the schemas, then real QEMU boots.
# Prints "N passed, N failed" last.
set -uo pipefail
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
pass=0 fail=0
step() {
	local name=$1; shift
	echo "== $name"
	if "$@"; then pass=$((pass + 1)); echo "ok   $name"
	else fail=$((fail + 1)); echo "FAIL $name"; fi
}
host_payloads() {
	# The catalog on the host kernel, without a VM.
	build/kfarm-guest --run all --reps "${KFARM_HOST_REPS:-50}"
}
schemas() {
	/usr/bin/python3 tests/validate-schema.py reports/schema/run.schema.json \
		orchestrator/tests/data/diff/run-a.json orchestrator/tests/data/diff/run-b.json &&
	/usr/bin/python3 tests/validate-schema.py reports/schema/diff.schema.json \
		orchestrator/tests/data/diff/expected-diff.json &&
	! /usr/bin/python3 tests/validate-schema.py reports/schema/run.schema.json \
		orchestrator/tests/data/diff/broken-run.json >/dev/null
}
integration() {
	/usr/bin/python3 tests/integration.py "$BUILD"
}
step "payloads on the host kernel" host_payloads
step "report schemas" schemas
step "QEMU integration" integration
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
