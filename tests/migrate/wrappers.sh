#!/usr/bin/env bash
# The original's mosrun wrappers record what they say (lock, decay hints),
# and a lock stops only automatic migration: migrate still moves it.
# runon / mosrun -ID / -jLIST start a program elsewhere (-F falls back).
. "$(dirname "$0")/../integration/lib.sh"
t_require_root
t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR
has_ready() { grep -qx READY "$1"; }

check() { # WRAPPER JQ-EXPR WANT
	local w=$1 expr=$2 want=$3 pid rc
	omcluster run 1 --dir "$D" "$w" "$VICT/loop" >"$D/$w.out" 2>&1 &
	pid=$!
	wait_until 5 has_ready "$D/$w.out" || { t_fail "$w: loop did not print READY"; return; }
	t_is "$(node 1 mosctl where "$pid" --json | jq -c "$expr")" "$want" "$w records $want"
	if [ "$w" = nomig ] || [ "$w" = runhome ]; then
		t_ok "$w: a locked process still moves with an explicit migrate" node 1 migrate "$pid" 2
	fi
	kill -USR1 "$pid"; rc=0; wait "$pid" || rc=$?
	t_is "$rc:$(tr '\n' ' ' <"$D/$w.out")" "0:READY PASS " "$w: the program runs and passes"
}
check nomig '[.lock, .under_care]' '[true,true]'
check runhome '.lock' 'true'
check cpujob '[.lock, .decay]' '[false,"cpu"]'
check iojob '.decay' '"io"'
check nodecay '.decay' '"none"'
check slowdecay '.decay' '"slow"'
check fastdecay '.decay' '"fast"'
t_nok "a wrapper without a command is a usage error" nomig

# starting elsewhere: runon ID, mosrun -ID, mosrun -jLIST (-F falls back)
at() { [ "$(node 1 mosctl where "$1")" = "$2" ]; }
start_at() { # LABEL WANT-REGEX CMD...
	local label=$1 want=$2 pid rc; shift 2
	omcluster run 1 --dir "$D" "$@" "$VICT/loop" >"$D/start.out" 2>&1 &
	pid=$!
	wait_until 5 has_ready "$D/start.out" || { t_fail "$label: loop did not print READY"; return; }
	t_ok "$label: it runs at node $want" wait_until 5 sh -c "OPENMOSIX_DIR=$D/node1 mosctl where $pid | grep -qE '^($want)\$'"
	t_is "$(node 1 mosctl where "$pid" --json | jq -c '[.lock, .nmigs]')" "[true,1]" "$label: locked there, moved once"
	t_is "$(node 1 mosctl where "$pid" --json | jq .home)" 1 "$label: its home is still node 1"
	kill -USR1 "$pid"; rc=0; wait "$pid" || rc=$?
	t_is "$rc:$(tr '\n' ' ' <"$D/start.out")" "0:READY PASS " "$label: passes, status reaped at home"
}
start_at "runon 2" 2 runon 2
start_at "mosrun -3" 3 mosrun -3
start_at "mosrun -j2-3" "2|3" mosrun -j2-3
t_like "$(node 1 runon 7 true 2>&1)" "node 7 is not in the cluster's map" "runon a node not in the map refuses"
node 3 mosctl block >/dev/null
wait_until 5 sh -c "OPENMOSIX_DIR=$D/node1 mosctl status --json | jq -e '.nodes[] | select(.id == 3) | .status | index(\"block\")'" >/dev/null
t_like "$(node 1 mosrun -3 true 2>&1)" "node 3 blocks guest processes" "mosrun -3 to a blocking node refuses"
t_ok "with -F it runs anyway (at home)" node 1 mosrun -F -3 true
t_like "$(node 1 mosrun -j3 true 2>&1)" "none of the listed nodes is available" "-j of unavailable nodes refuses"
t_nok "runon without a node id is a usage error" node 1 runon x true
t_done
