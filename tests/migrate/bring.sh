#!/usr/bin/env bash
# mosctl bring: every process of this node that runs elsewhere comes home
# (and lstay is set); the command returns once they are all back.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root
t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR
has_ready() { grep -qx READY "$1"; }

pids=()
for k in 2 3; do
	omcluster run 1 --dir "$D" mosrun "$VICT/loop" >"$D/loop$k.out" 2>&1 &
	pids+=($!)
	wait_until 5 has_ready "$D/loop$k.out" || t_bail "loop $k did not print READY"
	t_ok "a loop moves to node $k" node 1 migrate "$!" "$k"
done
t_is "$(node 1 mosctl where "${pids[0]}") $(node 1 mosctl where "${pids[1]}")" "2 3" "they run at nodes 2 and 3"
t_is "$(node 1 mps "${pids[0]}" "${pids[1]}" | awk 'NR > 1 { printf "%s ", $3 }')" "2 3 " "mps shows them on nodes 2 and 3 (NODE column)"
t_is "$(node 1 mps $$ | awk 'NR > 1 { print $3 }')" 0 "and a local process on node 0 (here)"
t_like "$(node 1 mosctl bring)" "brought home" "mosctl bring returns"
t_is "$(node 1 mosctl where "${pids[0]}") $(node 1 mosctl where "${pids[1]}")" "1 1" "both are home"
t_is "$(node 1 mosctl status --json | jq .self.admin.lstay)" true "bring implies lstay"
t_like "$(node 1 mosctl bring)" "brought home" "bring with nothing away returns at once"
for i in 0 1; do
	kill -USR1 "${pids[i]}"
	rc=0; wait "${pids[i]}" || rc=$?
	t_is "$rc:$(tr '\n' ' ' <"$D/loop$((i + 2)).out")" "0:READY PASS " "loop $((i + 2)) passes at home"
done
# stopping the home daemon brings its migrated processes home first
omcluster run 1 --dir "$D" mosrun "$VICT/loop" >"$D/loop4.out" 2>&1 &
p4=$!
wait_until 5 has_ready "$D/loop4.out" || t_bail "loop 4 did not print READY"
t_ok "a loop moves to node 3" node 1 migrate "$p4" 3
kill -TERM "$(cat "$D/node1/omd.pid")"
omd1_gone() { [ ! -e "$D/node1/omd.pid" ]; }
t_ok "node 1's daemon stops (after bringing it home) within 5 s" wait_until 5 omd1_gone
t_like "$(cat "$D/node1/omd.log")" "bringing processes home and sending guests home, then stopping" "it said so in its log"
t_ok "the process lives on at home" kill -0 "$p4"
kill -USR1 "$p4"; rc=0; wait "$p4" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/loop4.out")" "0:READY PASS " "and passes, at home, after its daemon stopped"

# expel: node 3's guests go home; so do a stopping node's guests
omcluster restart-node 1 --dir "$D" >/dev/null || t_bail "node 1 does not restart"
wait_until 5 all_see_all 3 || t_bail "node 1 did not rejoin"
pids=()
for k in 5 6; do
	omcluster run 1 --dir "$D" mosrun "$VICT/loop" >"$D/loop$k.out" 2>&1 &
	pids+=($!)
	wait_until 5 has_ready "$D/loop$k.out" || t_bail "loop $k did not print READY"
	t_ok "loop $k moves to node 3" node 1 migrate "$!" 3
done
t_is "$(node 3 mosctl status --json | jq '.guests | length')" 2 "node 3 lists two guests"
t_like "$(node 3 mosctl expel)" "expelled" "mosctl expel on node 3 returns"
t_is "$(node 3 mosctl status --json | jq '.guests | length')" 0 "node 3 has no guests left"
t_is "$(node 1 mosctl where "${pids[0]}") $(node 1 mosctl where "${pids[1]}")" "1 1" "both are back home at node 1"
t_like "$(node 1 migrate "${pids[0]}" 3 2>&1)" "node 3 blocks guest processes" "expel implies block"
t_ok "node 2 takes one" node 1 migrate "${pids[0]}" 2
kill -TERM "$(cat "$D/node2/omd.pid")"
omd2_gone() { [ ! -e "$D/node2/omd.pid" ]; }
t_ok "node 2's daemon stops within 5 s" wait_until 5 omd2_gone
t_is "$(node 1 mosctl where "${pids[0]}")" 1 "its guest was sent home before it stopped"
for i in 0 1; do
	kill -USR1 "${pids[i]}"
	rc=0; wait "${pids[i]}" || rc=$?
	t_is "$rc:$(tr '\n' ' ' <"$D/loop$((i + 5)).out")" "0:READY PASS " "loop $((i + 5)) passes at home"
done
t_done
