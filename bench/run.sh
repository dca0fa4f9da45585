#!/usr/bin/env bash
# The benchmark driver (make bench): runs every benchmark program in
# $BUILD/bench/ and every script bench/*.sh in turn, each under a heading,
# with a time limit. Programs named *_helper are tools for the scripts, not
# benchmarks, and are skipped.
# Benchmarks report their targets themselves (a last line ending in PASS or
# FAIL); a missed target is reported here, not treated as an error. A
# benchmark that crashes, times out or exits non-zero is an error.
#
# Usage: bench/run.sh [PATTERN]   (PATTERN filters benchmark names, e.g. "gossip")
# Env:   BUILD (default build), BENCH_TIMEOUT seconds per benchmark (default 600)
# Exit:  0 all ran, 1 a benchmark failed to run, 2 usage or nothing to run
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-600}
PATTERN=${1:-}

case "$PATTERN" in
-h|--help)
	sed -n '2,14s/^# \{0,1\}//p' "$0"
	exit 0
	;;
esac
if [ $# -gt 1 ]; then
	echo "usage: bench/run.sh [PATTERN]" >&2
	exit 2
fi

LOGDIR="$BUILD/bench-logs"
mkdir -p "$LOGDIR"

ran=0
crashed=()
verdicts=()
for b in "$BUILD"/bench/* bench/*.sh; do
	[ -f "$b" ] || continue
	name=$(basename "$b" .sh)
	case $b in
	bench/run.sh) continue ;; # this driver
	*.sh) cmd=(bash "$b") ;;
	*_helper) continue ;;
	*) [ -x "$b" ] || continue; cmd=("$b") ;;
	esac
	[ -n "$PATTERN" ] && [[ "$name" != *$PATTERN* ]] && continue
	ran=$((ran + 1))
	log="$LOGDIR/$name.log"
	echo "=== $name ==="
	start=$(date +%s.%N)
	timeout --kill-after=10 "$BENCH_TIMEOUT" "${cmd[@]}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	el=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "=== $name: timed out after ${BENCH_TIMEOUT}s ==="
		crashed+=("$name")
	elif [ "$rc" -gt 128 ]; then
		echo "=== $name: killed by signal $((rc - 128)) (${el}s) ==="
		crashed+=("$name")
	elif [ "$rc" -ne 0 ]; then
		echo "=== $name: exited with status $rc (${el}s) ==="
		crashed+=("$name")
	else
		echo "=== $name: done (${el}s) ==="
	fi
	echo
	while IFS= read -r line; do
		verdicts+=("$line")
	done < <(grep -E ': (PASS|FAIL)$' "$log")
done

if [ "$ran" -eq 0 ]; then
	echo "no benchmarks${PATTERN:+ matching '$PATTERN'} in $BUILD/bench/ (build them with make)" >&2
	exit 2
fi
echo "targets:"
if [ ${#verdicts[@]} -eq 0 ]; then
	echo "  (none reported)"
else
	printf '  %s\n' "${verdicts[@]}"
fi
if [ ${#crashed[@]} -gt 0 ]; then
	echo "failed to run: ${crashed[*]}   (logs in $LOGDIR)"
	exit 1
fi
echo "$ran benchmark(s) ran   (logs in $LOGDIR)"
