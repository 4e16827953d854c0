#!/bin/bash
# make fuzz: fuzz/run.sh BUILD TARGET... runs each libFuzzer binary BUILD/TARGET
# for $FUZZ_S seconds (default 60), one after the other, from the committed
# seeds (fuzz/corpus/TARGET) and regressions (fuzz/regress/TARGET), which it
# only reads: new inputs go to BUILD/work/TARGET, crashes to
# BUILD/crashes/TARGET, libFuzzer's output to BUILD/logs/TARGET.log. On a
# terminal the output shows as it runs; in CI (CI=true) or when not a
# terminal, only the summary: a line per target with its executions,
# coverage (libFuzzer's cov and ft features at the end), crashes and slow
# inputs (libFuzzer's slow-unit- files: said, not failed on).
# An input that takes more than $FUZZ_TIMEOUT seconds (default 10) is a
# crash too: raise it for a run beside other heavy work (a loaded machine).
# Exits 1 when a target crashed (or did not run to the end).
set -uo pipefail
BUILD=$1
shift
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
S=${FUZZ_S:-60}
show=0
if [ -t 1 ] && { [ -z "${CI:-}" ] || [ "${CI}" = false ]; }; then show=1; fi
failed=0
summary=()
for t in "$@"; do
	work="$BUILD/work/$t" crashes="$BUILD/crashes/$t" log="$BUILD/logs/$t.log"
	mkdir -p "$work" "$crashes" "$BUILD/logs"
	rm -f "$crashes"/*
	seeds=()
	for d in "fuzz/corpus/$t" "fuzz/regress/$t"; do [ -d "$d" ] && seeds+=("$d"); done
	args=(-max_total_time="$S" -print_final_stats=1 -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048
		-artifact_prefix="$crashes/")
	[ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
	[ "$show" -eq 1 ] && echo "== fuzz $t ($S s)"
	rc=0
	# The work corpus first: libFuzzer writes new inputs to the first folder only.
	if [ "$show" -eq 1 ]; then
		"$BUILD/$t" "${args[@]}" "$work" "${seeds[@]}" 2>&1 | tee "$log" |
			grep --line-buffered -E '^#[0-9]+.*(pulse|NEW|DONE|INITED)|^==|ERROR|SUMMARY' ||
			true
		rc=${PIPESTATUS[0]}
	else
		"$BUILD/$t" "${args[@]}" "$work" "${seeds[@]}" >"$log" 2>&1 || rc=$?
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$done_line")
	# crash-, leak-, timeout-, oom-: failures; slow-unit- (past libFuzzer's
	# -report_slow_units, 10 s) is kept and counted, as a slowness, not a crash
	found=$(find "$crashes" -type f ! -name 'slow-unit-*' | wc -l)
	slow=$(find "$crashes" -type f -name 'slow-unit-*' | wc -l)
	line=$(printf '%-8s %10s execs  cov %5s  ft %6s  corpus %5s  crashes %s' "$t" \
		"${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found")
	[ "$slow" -ne 0 ] && line="$line  slow inputs $slow ($crashes/slow-unit-*)"
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ] || [ -z "$execs" ]; then
		failed=1
		line="$line  FAIL (exit $rc; $log)"
		summary+=("$line")
		echo "fuzz: $t failed (exit $rc), from $log:"
		grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|invariant does not hold|Test unit written' "$log" |
			head -n 8 | sed 's/^/  /'
		find "$crashes" -type f ! -name 'slow-unit-*' | sed "s|^|  input: |; s|\$|  (again: $BUILD/$t FILE; once fixed keep it as fuzz/regress/$t/NAME)|"
	else
		summary+=("$line")
	fi
done
echo "fuzz: $S s a target (FUZZ_S)"
printf '%s\n' "${summary[@]}"
exit "$failed"
