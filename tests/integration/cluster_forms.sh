#!/usr/bin/env bash
# A 4-node loopback cluster forms; omcluster env/run/status work; stop leaves
# no omd, no cgroup and no state behind.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd jq

N=4
cluster_start $N || t_bail "omcluster start $N: cluster formed"
t_pass "omcluster start $N: cluster formed"
D=$CLUSTER_DIR
TAG=$(cluster_tag)
t_like "$TAG" '^[0-9a-f]+$' "cluster.conf records the cgroup tag"

for k in 1 2 3 4; do
	t_ok "node $k sees nodes 1-4 alive" sees_alive $k 1 2 3 4
	t_is "$(node_json $k | jq -r '.self.id')" "$k" "node $k: self.id is $k"
	t_is "$(node_json $k | jq -r '.self.addr')" "$NET.$k" "node $k: self.addr is $NET.$k"
done
t_is "$(alive_ids 3)" "1 2 3 4" "node 3 counts exactly nodes 1-4 alive"

# status: one running line per node
st=$(omcluster status --dir "$D")
t_is "$(grep -c running <<<"$st")" "$N" "omcluster status: $N nodes running"
t_like "$st" "node 2 +${NET//./\\.}\.2 +pid [0-9]+ +running" "omcluster status: node 2 line"

# omd stays outside the node cgroups
omd_pids=()
for k in 1 2 3 4; do
	omd_pids+=("$(cat "$D/node$k/omd.pid")")
done
inside=$(for p in "${omd_pids[@]}"; do grep -l "omcluster/$TAG" "/proc/$p/cgroup" 2>/dev/null; done)
t_is "$inside" "" "omd processes are outside the node cgroups"

# a second start on a running cluster is refused
out=$(omcluster start 2 --dir "$D" 2>&1)
rc=$?
t_is "$rc" 1 "start on a running cluster fails"
t_like "$out" 'omcluster stop' "start on a running cluster suggests omcluster stop"

# env
envout=$(omcluster env 2 --dir "$D")
t_like "$envout" "export OPENMOSIX_DIR=$D/node2" "env 2 exports OPENMOSIX_DIR"
got=$(eval "$envout" && echo "$OPENMOSIX_DIR $OMCLUSTER_NODE")
t_is "$got" "$D/node2 2" "eval \"\$(omcluster env 2)\" sets node 2's environment"
t_is "$(eval "$envout" && mosctl status --json | jq -r .self.id)" 2 "mosctl under env 2 talks to node 2"

# run: in node 2's cgroup(s), with node 2's environment, exit status kept
mapfile -t cg2 < <(cg_dirs "omcluster/$TAG/node2")
t_ok "node 2 has a cgroup" test "${#cg2[@]}" -gt 0
t_ok "run 2: the command is in every node-2 cgroup" \
	omcluster run 2 --dir "$D" sh -c 'for d; do grep -qx "$$" "$d/cgroup.procs" || { echo "not in $d"; exit 1; }; done' _ "${cg2[@]}"
t_like "$(omcluster run 2 --dir "$D" cat /proc/self/cgroup)" ":/omcluster/$TAG/node2" \
	"run 2: /proc/self/cgroup names omcluster/$TAG/node2"
t_is "$(omcluster run 2 --dir "$D" sh -c 'echo $OPENMOSIX_DIR')" "$D/node2" "run 2: OPENMOSIX_DIR is node 2's"
t_is "$(omcluster run 3 --dir "$D" mosctl status --json | jq -r .self.id)" 3 "run 3: mosctl talks to node 3"
omcluster run 2 --dir "$D" sh -c 'exit 7'
t_is "$?" 7 "run: exit status is the command's"

# a process left in a node cgroup is killed by stop
omcluster run 4 --dir "$D" sleep 1000 &
leftover=$!
t_ok "run 4 sleep: process enters node 4's cgroup" \
	wait_until 5 grep -qx "$leftover" "$(cg_dirs "omcluster/$TAG/node4" | head -n 1)/cgroup.procs"

# stop
t_ok "omcluster stop" omcluster stop --dir "$D"
wait "$leftover" 2>/dev/null
t_nok "stop killed the process left in node 4's cgroup" kill -0 "$leftover"
alive=""
for p in "${omd_pids[@]}"; do
	[ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat")" != Z ] && alive="$alive $p"
done
t_is "$alive" "" "no omd process left"
t_nok "no process mentions the cluster dir" pgrep -f "$D/node"
t_is "$(cg_dirs "omcluster/$TAG")" "" "no cgroup directory left"
t_nok "cluster.conf removed" test -e "$D/cluster.conf"
t_is "$(ls "$D"/node*/omd.pid "$D"/node*/omd.sock 2>/dev/null)" "" "no omd.pid or omd.sock left"
t_ok "stop again: nothing to do, exit 0" omcluster stop --dir "$D"
t_nok "status after stop fails" omcluster status --dir "$D"

t_done
