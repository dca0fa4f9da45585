#!/usr/bin/env bash
# mosmon as a user sees it: driven in tmux (send-keys, capture-pane), and in
# --batch mode for scripts.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd tmux
cluster_start 3 --cpus 0.5,0.5,1 || t_bail "3-node cluster did not form"

# --batch: N frames, each with the chart and a parseable table
out=$(node 1 mosmon --batch -n 2 --interval 0.2)
t_is "$(grep -c '^--- mosmon frame' <<<"$out")" 2 "--batch -n 2 prints two frames"
rows=$(awk '/^NODE /{t=1; next} /^--- /{t=0} t && $2 == "alive" {n++} END {print n}' <<<"$out")
t_is "$rows" 6 "each frame's table lists the three alive nodes"
t_is "$(OPENMOSIX_DIR=/nonexistent mosmon --batch 2>&1; echo "rc=$?")" \
	"mosmon: This is NOT a openMosix system! (no daemon at /nonexistent/omd.sock)
rc=3" "without a daemon: the original's message and exit 3"

S="mosmon$$"
t_cleanup tmux kill-session -t "$S"
tmux new-session -d -s "$S" -x 100 -y 30 \
	"env OPENMOSIX_DIR=$CLUSTER_DIR/node1 $T_ROOT/bin/mosmon --interval 0.2; echo MOSMON-EXITED; sleep 30"
screen() { tmux capture-pane -p -t "$S"; }
shows() { screen | grep -qE "$1"; }
t_ok "mosmon draws the load view" wait_until 5 shows '^Load .*openMosix #1'
t_ok "with every node on the axis" wait_until 5 shows '^Node #? +1 +2 +3'

# a busy node grows a bar: '#' cells in node 2's column
omcluster run 2 --dir "$CLUSTER_DIR" sh -c 'while :; do :; done' &
busy=$!
t_cleanup kill "$busy"
col2() { screen | awk '/^Node/ { print; exit }' | awk '{ print index($0, " 2 ") + 1 }'; }
bar2() {
	local c; c=$(col2)
	screen | awk -v c="$c" 'substr($0, c, 1) == "#" { n++ } END { exit !(n >= 3) }'
}
t_ok "node 2's bar rises while it is busy" wait_until 8 bar2
pkill -f "while :; do :; done" >/dev/null 2>&1; kill "$busy" 2>/dev/null

key() { tmux send-keys -t "$S" "$1"; }
key s; t_ok "s: the speed view" wait_until 3 shows '^Speed'
key m; t_ok "m: the memory view" wait_until 3 shows '^Memory'
key u; t_ok "u: the utilizability view" wait_until 3 shows '^Utilizability'
key L; t_ok "L: the log-scale load view" wait_until 3 shows '^Load \(log scale\)'
key l; t_ok "l: back to load" wait_until 3 shows '^Load  '
key t; t_ok "t: total and number of nodes" wait_until 3 shows '^total .* over 3 nodes'
key d; t_ok "d: dead nodes shown" wait_until 3 shows '\(dead shown\)'
key h; t_ok "h: help" wait_until 3 shows 'show/hide dead nodes'
key h
# node 3 dies: with d on it is drawn as DEAD
kill -9 "$(cat "$CLUSTER_DIR/node3/omd.pid")"
t_ok "a dead node is drawn as DEAD" wait_until 5 shows 'DEAD'
key d; t_ok "d again: dead nodes hidden" wait_until 3 eval '! shows DEAD'

tmux resize-window -t "$S" -x 60 -y 20 2>/dev/null || tmux resize-pane -t "$S" -x 60 -y 20
fits() { [ "$(screen | awk '{ if (length($0) > m) m = length($0) } END { print m }')" -le 60 ] && shows '^nodes 1-2 of 2'; }
t_ok "a resize redraws at the new size" wait_until 3 fits
key q
t_ok "q quits" wait_until 3 shows MOSMON-EXITED
t_done
