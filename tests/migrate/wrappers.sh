#!/usr/bin/env bash
# The original's mosrun wrappers record what they say (lock, decay hints),
# and a lock stops only automatic migration: migrate still moves it.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root
t_victims
cluster_start 2 || t_bail "2-node cluster did not form"
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
t_done
