#!/usr/bin/env bash
# The demo (`make demo`): a 4-node cluster on this machine with capped CPUs
# (0.5, 0.5, 1 and 1 cores), CPU-bound loops started on node 1, and the load
# table as the nodes gossip it: node 1's load rises, then falls once the loops
# are killed; in between two loops are migrated to nodes 3 and 4 and brought
# home. Everything is stopped and removed on exit. About 35 seconds.
#
# Environment: DEMO_LOOPS (default 3), DEMO_BUSY_S (8), DEMO_IDLE_S (6).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$ROOT/bin:$PATH"
LOOPS=${DEMO_LOOPS:-3}
BUSY_S=${DEMO_BUSY_S:-8}
IDLE_S=${DEMO_IDLE_S:-6}
CPUS=0.5,0.5,1,1

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (the nodes live in cgroups); try: sudo make demo"
for c in omcluster omd mosctl showmap jq; do
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

title "starting $LOOPS CPU-bound loops on node 1 under the cluster's care (omcluster run 1 mosrun ...)"
for ((i = 0; i < LOOPS; i++)); do
	omcluster run 1 --dir "$DIR" mosrun sh -c 'while :; do :; done' &
	busy+=("$!")
done
echo "  pids: ${busy[*]}"

for ((t = 1; t <= BUSY_S; t++)); do
	sleep 1   # display pace, one table a second
	title "t=${t}s, loops running: load as node 2 sees it"
	load_table 2
done

if [ "$LOOPS" -ge 2 ]; then
	title "moving two loops while they run: migrate ${busy[0]} 3; migrate ${busy[1]} 4"
	OPENMOSIX_DIR="$DIR/node1" migrate "${busy[0]}" 3
	OPENMOSIX_DIR="$DIR/node1" migrate "${busy[1]}" 4
	for p in "${busy[@]}"; do
		echo "  mosctl where $p: node $(OPENMOSIX_DIR="$DIR/node1" mosctl where "$p")"
	done
	title "mps (ps with the node each process runs on)"
	OPENMOSIX_DIR="$DIR/node1" mps "${busy[@]}"
	for ((t = 1; t <= BUSY_S / 2 + 1; t++)); do
		sleep 1
		title "t=${t}s after the moves: load as node 2 sees it"
		load_table 2
	done
	title "bringing them home: mosctl bring (on node 1)"
	OPENMOSIX_DIR="$DIR/node1" mosctl bring || true
fi

title "killing the loops"
kill -TERM "${busy[@]}" 2>/dev/null || true
wait "${busy[@]}" 2>/dev/null || true
busy=()

for ((t = 1; t <= IDLE_S; t++)); do
	sleep 1
	title "t=${t}s after the kill: load as node 2 sees it"
	load_table 2
done
