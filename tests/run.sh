#!/usr/bin/env bash
# The test runner: every unit test binary, every fuzz-corpus replay and every
# integration script runs in its own process with a timeout. Each emits TAP;
# we count "ok"/"not ok"/"# SKIP" lines. A program that crashes, times out or
# exits non-zero without a failing line counts as one failure.
# Ends with the line: N passed, N failed, N skipped
#
# Usage: tests/run.sh [PATTERN]   (PATTERN filters test names, e.g. "map")
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PATTERN=${1:-}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-60}
INTEG_TIMEOUT=${INTEG_TIMEOUT:-240}
LOGDIR=${TEST_LOGDIR:-$BUILD/test-logs}
mkdir -p "$LOGDIR"

pass=0 fail=0 skip=0
failed_names=()

run_one() { # name timeout cmd...
	local name=$1 t=$2; shift 2
	local log="$LOGDIR/${name//\//_}.log"
	[ -n "$PATTERN" ] && [[ "$name" != *$PATTERN* ]] && return 0
	local start=$(date +%s.%N)
	timeout --kill-after=10 "$t" "$@" >"$log" 2>&1
	local rc=$?
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log" | tr -d ' ')
	s=$(grep -cE '^ok [0-9]+.*# ?SKIP' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok [0-9]+' "$log" | tr -d ' ')
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "not ok - $name: timed out after ${t}s" >>"$log"
		else
			echo "not ok - $name: exited with status $rc" >>"$log"
		fi
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		f=1
		echo "not ok - $name: produced no test results" >>"$log"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	local el=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		echo "FAIL  $name  ($p passed, $f failed, $s skipped, ${el}s)"
		grep -E '^not ok|^#' "$log" | head -30 | sed 's/^/      /'
	else
		echo "ok    $name  ($p passed, $s skipped, ${el}s)"
		grep -E '# ?SKIP' "$log" | head -5 | sed 's/^/      /'
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$UNIT_TIMEOUT" "$t"
done

for f in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f"); n=${n#fuzz_}
	run_one "fuzz-replay/$n" "$UNIT_TIMEOUT" bash -c "'$f' fuzz/corpus/$n && echo 'ok 1 - corpus of $n replays cleanly'"
done

for s in tests/integration/*.sh tests/migrate/*.sh; do
	[ -f "$s" ] || continue
	[ "$(basename "$s")" = lib.sh ] && continue
	run_one "$(basename "$(dirname "$s")")/$(basename "$s" .sh)" "$INTEG_TIMEOUT" bash "$s"
done

echo
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}   (logs in $LOGDIR)"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
