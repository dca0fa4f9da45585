#!/usr/bin/env bash
# mtop: top with a NODE column. A process moved to node 2 shows NODE 2 (from
# the daemon's procs query, as mps and mosctl where), a local one NODE 0;
# --batch frames parse; the screen (tmux) shows the same, its keys work.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd tmux
t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR
node 1 mosctl stay >/dev/null || t_bail "mosctl stay failed" # no automatic balancing from node 1
has_ready() { grep -qx READY "$1"; }

omcluster run 1 --dir "$D" mosrun "$VICT/loop" >"$D/away.out" 2>&1 &
A=$!
omcluster run 1 --dir "$D" mosrun "$VICT/loop" >"$D/home.out" 2>&1 &
B=$!
wait_until 5 has_ready "$D/away.out" || t_bail "loop A did not print READY"
wait_until 5 has_ready "$D/home.out" || t_bail "loop B did not print READY"

# node_of PID [mtop options]: the NODE column of PID's row in one batch frame
node_of() { local p=$1; shift; node 1 mtop -b -p "$p" "$@" | awk -v p="$p" '$1 == p { print $3 }'; }
t_is "$(node_of "$A")" 0 "before the move, mtop shows NODE 0 (here)"
t_ok "loop A moves to node 2" node 1 migrate "$A" 2
t_is "$(node_of "$A")" 2 "mtop shows the migrated process on node 2"
t_is "$(node_of "$A")" "$(node 1 mosctl where "$A")" "as mosctl where does"
t_is "$(node_of "$B")" 0 "the one that stayed shows NODE 0"

out=$(node 1 mtop --batch -n 2 -d 0.2)
t_is "$(grep -c '^mtop - ' <<<"$out")" 2 "--batch -n 2 prints two frames"
t_like "$out" "Tasks: [0-9]+ total, [0-9]+ running; 2 under the cluster's care, 1 running elsewhere" \
	"the task line counts processes under care and away"
t_like "$out" "openMosix #1: 3 of 3 nodes up" "the cluster line"
t_is "$(node 1 mtop -b --care | awk '$1 ~ /^[0-9]+$/ { print $1 }' | sort -n | tr '\n' ' ')" \
	"$(printf '%s\n' "$A" "$B" | sort -n | tr '\n' ' ')" "--care lists only the processes under care"
t_is "$(node 1 mtop -b --care -o node | awk '$1 ~ /^[0-9]+$/ { print $1; exit }')" "$A" \
	"-o NODE sorts the one away first"
busy() { node 1 mtop -b -p "$B" -d 0.3 | awk -v p="$B" '$1 == p { exit !($5 > 5) }'; }
t_ok "the local loop's %CPU shows it computing" wait_until 10 busy
t_like "$(OPENMOSIX_DIR=/nonexistent mtop -b -p $$)" "no openMosix daemon: NODE shows 0" \
	"without a daemon mtop says so and shows NODE 0"
t_like "$(mtop -o bogus 2>&1; echo "rc=$?")" "bad option.*rc=2" "a bad option: a clear error, exit 2"

S="mtop$$"
t_cleanup tmux kill-session -t "$S"
tmux new-session -d -s "$S" -x 120 -y 30 \
	"env OPENMOSIX_DIR=$D/node1 $T_ROOT/bin/mtop -d 0.3 -o node; echo MTOP-EXITED; sleep 30"
screen() { tmux capture-pane -p -t "$S"; }
shows() { screen | grep -qE "$1"; }
t_ok "mtop draws its header" wait_until 5 shows '^mtop - .*load average'
t_ok "the migrated process's row shows node 2" wait_until 5 shows "^ *$A +[a-z0-9]+ +2 "
tmux send-keys -t "$S" o
t_ok "o: only processes under care" wait_until 3 shows 'under care only   P'
only_care() { [ "$(screen | awk '$1 ~ /^[0-9]+$/' | wc -l)" -eq 2 ]; }
t_ok "o: two rows left" wait_until 3 only_care
tmux send-keys -t "$S" h
t_ok "h: help" wait_until 3 shows 'show only processes under'
tmux resize-window -t "$S" -x 70 -y 15 2>/dev/null || tmux resize-pane -t "$S" -x 70 -y 15
fits() { [ "$(screen | awk '{ if (length($0) > m) m = length($0) } END { print m }')" -le 70 ] && shows '^mtop - '; }
t_ok "a resize redraws at the new size" wait_until 3 fits
tmux send-keys -t "$S" q
t_ok "q quits" wait_until 3 shows MTOP-EXITED

for p in "$A" "$B"; do kill -USR1 "$p"; done
rc=0; wait "$A" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/away.out")" "0:READY PASS " "loop A passes (at node 2)"
rc=0; wait "$B" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/home.out")" "0:READY PASS " "loop B passes"
t_done
