#!/usr/bin/env bash
# A process of an ordinary user: its owner may move it (and nobody else but
# root); at the target it runs as that user (by uid), inside the node's
# cgroup, listed as a guest; forwarded calls act with the owner's rights.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root
t_require_cmd setpriv
t_victims
cluster_start 2 || t_bail "2-node cluster did not form"
D=$CLUSTER_DIR
has_ready() { grep -qx READY "$1"; }
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }
U=65534   # nobody
V=65533   # another ordinary user

chmod 755 "$D"
omcluster run 1 --dir "$D" setpriv --reuid=$U --regid=$U --clear-groups mosrun "$VICT/identity" >"$D/id.out" 2>&1 &
pid=$!
wait_until 5 has_ready "$D/id.out" || t_bail "victim did not print READY"
t_is "$(node 1 mosctl where "$pid" --json | jq .uid)" "$U" "under care as uid $U"
t_like "$(OPENMOSIX_DIR=$D/node1 as $V migrate "$pid" 2 2>&1)" "process $pid is not yours" \
	"another user may not move it"
t_ok "its owner moves it" env OPENMOSIX_DIR="$D/node1" setpriv --reuid=$U --regid=$U --clear-groups migrate "$pid" 2
t_is "$(node 1 mosctl where "$pid")" 2 "it runs at node 2"
g=$(node 2 mosctl status --json | jq -c "[.guests[] | select(.home_pid == $pid)][0]")
t_is "$(jq .uid <<<"$g")" "$U" "node 2 lists it as a guest of uid $U"
rpid=$(node 1 mosctl where "$pid" --json | jq .remote_pid)
t_is "$(ps -o ruid= -o euid= -p "$rpid" | tr -s ' ' | sed 's/^ //')" "$U $U" "the copy on node 2 runs as uid $U (real and effective)"
t_like "$(cat "/proc/$rpid/cgroup")" "node2" "inside node 2's cgroup"
t_like "$(node 2 mps "$rpid" 2>&1; ps -o user=,comm= -p "$rpid")" "nobody +identity" "ps shows its user and real name there"
t_ok "root brings it home" node 1 migrate "$pid" home
# a node that takes guests of some uids only refuses the others, and says why
kill -TERM "$(cat "$D/node2/omd.pid")"
gone2() { [ ! -e "$D/node2/omd.pid" ]; }
wait_until 10 gone2 || t_diag "node 2 did not stop"
t_ok "node 2 restarts with --guest-uids 0,1000-1999" env OMD_ARGS="--guest-uids 0,1000-1999" \
	omcluster restart-node 2 --dir "$D"
alive2() { node 1 mosctl status --json | jq -e '.nodes[] | select(.id == 2 and .state == "alive")' >/dev/null; }
wait_until 10 alive2 || t_diag "node 1 does not see node 2 alive"
t_like "$(node 1 migrate "$pid" 2 2>&1)" "node 2 does not accept guests of uid $U" \
	"uid $U is refused with the reason"
t_is "$(node 1 mosctl where "$pid")" 1 "and the process runs on at home"
omcluster run 1 --dir "$D" mosrun "$VICT/loop" >"$D/root.out" 2>&1 &
rp=$!
wait_until 5 has_ready "$D/root.out" || t_diag "root's victim did not print READY"
t_ok "a process of uid 0 (listed) is taken" node 1 migrate "$rp" 2
kill -USR1 "$rp"; rc=0; wait "$rp" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/root.out")" "0:READY PASS " "and it ends well"
kill -USR1 "$pid"; rc=0; wait "$pid" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/id.out")" "0:READY PASS " "identity victim passes (pid, ids, cwd, rlimits, env kept)"
t_done
