#!/usr/bin/env bash
# The hpc tree (/proc/hpc's layout, a FUSE view at DIR/hpc): omd mounts it,
# its reads say what mosctl says, its writes take effect (block, goto, lock,
# masks, decay hints), a non-root writer is refused, and it goes away with
# omd. Without FUSE, omd runs without it and says so once.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd setpriv
t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR
H1=$D/node1/hpc H2=$D/node2/hpc H3=$D/node3/hpc
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; }
has_ready() { grep -qx READY "$1"; }
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod o+x "$D" # let nobody reach the trees

# no automatic balancing from node 1: the processes here move only when told
echo 1 >"$H1/admin/stay"
t_is "$(node_json 1 | jq .self.admin.stay)" true "echo 1 > admin/stay: mosctl status says stay"

all_mounted() { mounted "$H1" && mounted "$H2" && mounted "$H3"; }
t_ok "every omd mounted its tree at DIR/hpc (omd waits up to 3 s for it at start-up)" wait_until 5 all_mounted
t_like "$(cat "$D/node1/omd.log")" "hpc tree mounted at $H1" "and said so in its log"
t_is "$(ls "$H1" | tr '\n' ' ')" "admin decay nodes proc remote " "the top level of /proc/hpc"
t_is "$(ls "$H1/nodes/2" | tr '\n' ' ')" "CPUs load mem rmem speed status tmem util " \
	"nodes/ID holds HOWTO table 8-4"

# --- reads match mosctl ------------------------------------------------------
t_is "$(ls "$H1/nodes" | tr '\n' ' ')" "$(node_json 1 | jq -r '[.nodes[].id] | map(tostring) | join(" ")') " \
	"nodes/ lists the nodes of mosctl status"
node 1 mosctl setspeed 12345 >/dev/null
t_is "$(cat "$H1/admin/speed")" 12345 "admin/speed shows what mosctl setspeed set"
speed_seen() { [ "$(cat "$H2/nodes/1/speed")" = "$(node 2 mosctl getspeed 1)" ] && [ "$(cat "$H2/nodes/1/speed")" = 12345 ]; }
t_ok "nodes/1/speed on node 2 matches mosctl getspeed 1 there (12345, by gossip)" wait_until 5 speed_seen
t_is "$(cat "$H1/nodes/3/CPUs")" "$(node_field 1 3 ncpus)" "nodes/3/CPUs matches mosctl status --json"
t_is "$(cat "$H1/nodes/3/tmem")" "$(node_field 1 3 tmem)" "nodes/3/tmem matches"
t_like "$(cat "$H1/nodes/2/load")" '^[0-9]+\.[0-9][0-9]$' "nodes/2/load is a load like mosctl getload's"
t_is "$(cat "$H1/nodes/2/status")" "alive $(node_json 1 | jq -r '.nodes[] | select(.id == 2) | .status | join(" ")')" \
	"nodes/2/status: the state and the status words of mosctl status 2"
t_is "$(cat "$H1/admin/mospe") $(cat "$H1/admin/version")" "1 $(node_json 1 | jq -r .version)" \
	"admin/mospe is our id, admin/version the daemon's version"
t_is "$(cat "$H1/admin/slow-decay") $(cat "$H1/admin/fast-decay")" "975 926" \
	"slow-decay and fast-decay: the original's defaults"
t_like "$(cat "$H1/admin/config")" "^1 127\.[0-9.]+ 3" "admin/config is the cluster map"
t_is "$(nobody cat "$H1/admin/block")" 0 "anyone may read"

# --- writes take effect ------------------------------------------------------
echo 1 >"$H3/admin/block"
t_is "$(node_json 3 | jq .self.admin.block)" true "echo 1 > admin/block: mosctl status says block"
blocked() { node_json 1 | jq -e '.nodes[] | select(.id == 3) | .status | index("block")' >/dev/null; }
t_ok "node 1 learns that node 3 blocks (gossip)" wait_until 5 blocked
omcluster run 1 --dir "$D" mosrun "$VICT/loop" >"$D/loop.out" 2>&1 &
P=$!
wait_until 5 has_ready "$D/loop.out" || t_bail "loop did not print READY"
t_is "$(ls "$H1/proc" | tr '\n' ' ')" "$P self " "proc/ lists the process under care, and self"
t_is "$(cat "$H1/proc/$P/where") $(cat "$H1/proc/$P/nmigs") $(cat "$H1/proc/$P/lock")" "1 0 0" \
	"proc/PID: where, nmigs, lock before any move"
t_like "$( (echo 3 >"$H1/proc/$P/goto") 2>&1)" "Operation not permitted" \
	"goto the blocked node 3 fails (write error EPERM)"
t_is "$(node 1 mosctl where "$P")" 1 "and the process stays home"
echo 0 >"$H3/admin/block"
t_is "$(node_json 3 | jq .self.admin.block)" false "echo 0 > admin/block unblocks"

t_ok "echo 2 > proc/PID/goto migrates it" sh -c "echo 2 > '$H1/proc/$P/goto'"
t_is "$(node 1 mosctl where "$P") $(cat "$H1/proc/$P/where") $(cat "$H1/proc/$P/nmigs")" "2 2 1" \
	"mosctl where and proc/PID/where say node 2; nmigs 1"
g=$(ls "$H2/remote")
t_is "$(echo "$g" | wc -w)" 1 "node 2's remote/ lists one guest"
t_is "$(cat "$H2/remote/$g/from")" "1 $(node_field 1 1 addr)" "remote/PID/from: its home node and address"
t_like "$(cat "$H2/remote/$g/identity")" "node 1 pid $P uid 0 comm loop" "remote/PID/identity"
t_like "$(cat "$H2/remote/$g/stats")" "^$g \(loop\) " "remote/PID/stats: the guest's own process"

echo 1 >"$H1/proc/$P/lock"
t_is "$(node 1 mosctl where "$P" --json | jq .lock) $(cat "$H1/proc/$P/lock")" "true 1" \
	"echo 1 > proc/PID/lock: mosctl where shows the lock"
echo 3 >"$H1/proc/$P/mignodes"; echo 1 >"$H1/proc/$P/migfilter"; echo 1 >"$H1/proc/$P/migpolicy"
t_is "$(node 1 mosctl where "$P" --json | jq -c '[.mignodes, .migfilter, .migpolicy]')" '["3",1,1]' \
	"mignodes, migfilter, migpolicy set the cluster mask"
t_is "$(cat "$H1/proc/$P/mignodes") $(cat "$H1/proc/$P/migfilter")" "3 1" "and read back"
t_like "$( (echo nonsense >"$H1/proc/$P/migfilter") 2>&1)" "Invalid argument" "a bad value: EINVAL"

# --- permissions ---------------------------------------------------------------
t_nok "nobody cannot write admin/block" nobody sh -c "echo 1 > '$H1/admin/block'"
t_is "$(node_json 1 | jq .self.admin.block)" false "and node 1 is not blocked"
t_nok "nobody cannot write expel" nobody sh -c "echo 1 > '$H1/admin/expel'"
t_nok "nobody cannot unlock root's process" nobody sh -c "echo 0 > '$H1/proc/$P/lock'"
t_nok "nobody cannot move root's process" nobody sh -c "echo home > '$H1/proc/$P/goto'"
t_is "$(node 1 mosctl where "$P" --json | jq -c '[.where, .lock]')" "[2,true]" "it is still at node 2, locked"
# the owner steers its own process: the daemon checks the writer (as_uid), not omhpcfs
OPENMOSIX_DIR=$D/node1 setpriv --reuid=65534 --regid=65534 --clear-groups mosrun sh -c "echo 1 > '$H1/proc/self/lock' && echo LOCKED; exec sleep 30" \
	>"$D/nobody.out" 2>&1 &
N=$!
locked() { grep -qx LOCKED "$D/nobody.out"; }
t_ok "nobody locks its own process (mosrun as nobody, proc/self/lock)" wait_until 5 locked
t_is "$(node 1 mosctl where "$N" --json | jq -c '[.uid, .lock]')" "[65534,true]" \
	"mosctl where shows nobody's process locked"
kill "$N" 2>/dev/null; wait "$N" 2>/dev/null

echo home >"$H1/proc/$P/goto"
t_is "$(node 1 mosctl where "$P")" 1 "echo home > goto brings it home"
t_is "$(ls "$H2/remote" | wc -w)" 0 "node 2 has no guest left"
kill -USR1 "$P"; rc=0; wait "$P" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/loop.out")" "0:READY PASS " "the loop passes at home"

# --- decay/ and proc/self act on the writer's own process ---------------------
omcluster run 1 --dir "$D" mosrun sh -c "echo 1 > '$H1/decay/cpujob' && echo HINTED; exec sleep 30" \
	>"$D/decay.out" 2>&1 &
S=$!
hinted() { grep -qx HINTED "$D/decay.out"; }
t_ok "a process under care writes decay/cpujob" wait_until 5 hinted
t_is "$(node 1 mosctl where "$S" --json | jq -r .decay)" cpu "mosctl where shows its hint: cpu"
kill "$S" 2>/dev/null; wait "$S" 2>/dev/null
t_is "$(sh -c "echo \$\$; exec readlink '$H1/proc/self'" | sort -u | wc -l)" 1 "proc/self is the reader's pid"
t_is "$(cat "$H1/proc/self/where")" 1 "proc/self/where: a process not under care runs here"

# --- the tree goes away with omd; without FUSE omd runs without it ------------
kill -TERM "$(cat "$D/node3/omd.pid")"
gone3() { ! mounted "$H3" && [ ! -e "$D/node3/omd.pid" ]; }
t_ok "omd stopped: node 3's tree is unmounted" wait_until 10 gone3
kill -9 "$(cat "$D/node2/omd.pid")"
t_ok "omd killed: node 2's tree goes too" wait_until 5 eval '! mounted "$H2"'
OM_FUSE_DEV=/nonexistent omcluster restart-node 3 --dir "$D" >/dev/null || t_bail "node 3 does not restart"
t_ok "node 3 runs without FUSE" node 3 mosctl status
t_nok "with no tree mounted" mounted "$H3"
t_is "$(grep -c 'running without the hpc tree' "$D/node3/omd.log")" 1 "and says so once in its log"
t_done
