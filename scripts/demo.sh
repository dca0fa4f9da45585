#!/usr/bin/env bash
# The demo (`make demo`): the HOWTO's chapter 14 test on a 4-node cluster on
# this machine with capped CPUs (0.5, 0.5, 1 and 1 cores): the awk loop is
# started DEMO_JOBS times on node 1, first with node 1 kept to itself (stay),
# then with the balancer free to spread the jobs; the load table and where
# the jobs run are shown every second, then the speedup over one node. Last,
# two loops are moved by hand (migrate, mps, mosctl bring). Everything is
# stopped and removed on exit. About a minute and a half.
#
# Environment: DEMO_JOBS (default 10).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$ROOT/bin:$PATH"
JOBS=${DEMO_JOBS:-10}
CPUS=0.5,0.5,1,1

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (the nodes live in cgroups); try: sudo make demo"
for c in omcluster omd mosctl showmap jq bc; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (run 'make' first)"
done

DIR=$(mktemp -d /tmp/omdemo.XXXXXX)
busy=()
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${busy[@]+"${busy[@]}"}"; do kill -KILL "$p" 2>/dev/null || true; done
	echo
	echo "== stopping the cluster"
	omcluster stop --dir "$DIR" || rc=1
	rm -rf "$DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

title() { printf '\n== %s\n' "$*"; }

# load_table K: every node as node K sees it (self merged with its nodes entry)
load_table() {
	OPENMOSIX_DIR="$DIR/node$1" mosctl status --json | jq -r '
		def val: if . == null then "-" else tostring end;
		([.self] + (.nodes // []) | group_by(.id) | map(add) | sort_by(.id))[]
		| [(.id | val), (.state // "self"), (.load | val), (.speed | val), (.ncpus | val),
		   (.capacity | val), (.util | val)] | @tsv' |
		awk -F'\t' '
			function f(x) { return x ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ ? sprintf("%.2f", x) : x }
			BEGIN { fmt = "  %-5s %-7s %6s %7s %6s %9s %6s\n"
				printf fmt, "node", "state", "load", "speed", "ncpus", "capacity", "util" }
			{ printf fmt, $1, $2, f($3), $4, $5, f($6), ($7 == "-" ? $7 : $7 "%") }'
}

title "starting 4 nodes (CPU capacity $CPUS cores) in $DIR"
omcluster start 4 --dir "$DIR" --cpus "$CPUS"

title "the cluster map, as node 1 sees it (showmap)"
OPENMOSIX_DIR="$DIR/node1" showmap

title "cluster status, as node 1 sees it (mosctl status)"
OPENMOSIX_DIR="$DIR/node1" mosctl status

# the HOWTO's test program (chapter 14), started JOBS times
AWK='BEGIN {for(i=0;i<10000;i++)for(j=0;j<10000;j++);}'
# jobs_per_node: how many of the running jobs each node has, from node 1's
# daemon (mosctl procs, the query mps and mosmon read too)
jobs_per_node() {
	OPENMOSIX_DIR="$DIR/node1" mosctl status --json >/dev/null || return 0
	local line
	line=$(for p in "${busy[@]}"; do
		OPENMOSIX_DIR="$DIR/node1" mosctl where "$p" 2>/dev/null || true
	done | sort | uniq -c | awk '{ printf "node %s: %d   ", $2, $1 }')
	echo "  jobs: ${line:-none left}"
}
# run_awk_test LABEL: start the awk loop JOBS times on node 1, watch, time it
run_awk_test() {
	local t0 t1 n=0
	busy=()
	t0=$(date +%s.%N)
	for ((i = 0; i < JOBS; i++)); do
		omcluster run 1 --dir "$DIR" mosrun awk "$AWK" &
		busy+=("$!")
	done
	while :; do
		local left=0
		for p in "${busy[@]}"; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
		[ "$left" -eq 0 ] && break
		sleep 1
		n=$((n + 1))
		title "$1, t=${n}s: $left of $JOBS jobs running; load as node 2 sees it"
		load_table 2
		jobs_per_node
	done
	wait "${busy[@]}" 2>/dev/null || true
	busy=()
	t1=$(date +%s.%N)
	ELAPSED=$(echo "$t1 - $t0" | bc)
}

title "HOWTO chapter 14: the awk loop started $JOBS times on node 1, first with node 1 kept to itself (mosctl stay)"
OPENMOSIX_DIR="$DIR/node1" mosctl stay >/dev/null
run_awk_test "one node"
ONE=$ELAPSED
OPENMOSIX_DIR="$DIR/node1" mosctl nostay >/dev/null
printf '\n  on one node: %.1f s\n' "$ONE"

title "waiting for node 1's advertised load to decay (it falls 1/8 per second)"
for ((t = 0; t < 30; t++)); do
	l=$(OPENMOSIX_DIR="$DIR/node2" mosctl status --json | jq '[.nodes[] | select(.id == 1) | .load][0] // 0')
	[ "$(echo "$l < 0.5" | bc -l)" = 1 ] && break
	sleep 1
done
load_table 2

title "the same $JOBS jobs on node 1, now with the balancer free to move them"
run_awk_test "balanced"
BAL=$ELAPSED
title "result"
printf '  one node: %.1f s   whole cluster: %.1f s   speedup %.2fx (capacity %s cores: at most %.2fx)\n' \
	"$ONE" "$BAL" "$(echo "$ONE / $BAL" | bc -l)" "$CPUS" \
	"$(echo "(${CPUS//,/+}) / ${CPUS%%,*}" | bc -l)"
grep -h 'balancer:' "$DIR/node1/omd.log" | sed -n '1,8s/^/  /p'
echo "  ($(grep -c 'balancer:' "$DIR/node1/omd.log") moves in all; from node 1's log)"

title "by hand: two endless loops, migrate one to node 3 and one to node 4, mps, mosctl bring"
for ((i = 0; i < 2; i++)); do
	omcluster run 1 --dir "$DIR" mosrun -L sh -c 'while :; do :; done' &
	busy+=("$!")
done
sleep 1
OPENMOSIX_DIR="$DIR/node1" migrate "${busy[0]}" 3
OPENMOSIX_DIR="$DIR/node1" migrate "${busy[1]}" 4
OPENMOSIX_DIR="$DIR/node1" mps "${busy[@]}"
OPENMOSIX_DIR="$DIR/node1" mosctl bring || true
OPENMOSIX_DIR="$DIR/node1" mps "${busy[@]}"
kill -TERM "${busy[@]}" 2>/dev/null || true
wait "${busy[@]}" 2>/dev/null || true
busy=()
