#!/usr/bin/env bash
# --netns: 3 nodes in their own network namespaces find each other by multicast
# autodiscovery; a node that stops is marked down and rejoins when restarted.
# Without -i and without a default route, omd --discover refuses to start.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd jq ip nsenter
ip netns list >/dev/null 2>&1 || t_skip_all "ip netns unavailable"

cluster_start 3 --netns || t_bail "omcluster start 3 --netns: cluster formed by autodiscovery"
t_pass "omcluster start 3 --netns: cluster formed by autodiscovery"
D=$CLUSTER_DIR

for k in 1 2 3; do
	t_is "$(alive_ids $k)" "1 2 3" "node $k counts nodes 1-3 alive"
	t_is "$(node_json $k | jq -r '"\(.self.id) \(.self.addr)"')" "$k 10.233.0.$k" \
		"node $k: id $k from its address 10.233.0.$k"
done

map=$(node 1 showmap)
t_like "$map" 'My Node-Id: 0x0001' "showmap on node 1: My Node-Id: 0x0001"
# consecutive ids at consecutive addresses print as one range, as in setpe -r
t_like "$map" '0x0001 +10\.233\.0\.1 +3' "showmap on node 1: nodes 1-3 from 10.233.0.1"


# node 3 stops: the others mark it down
pid3=$(cat "$D/node3/omd.pid")
kill -TERM "$pid3"
t0=$(t_now_us)
omd_gone() { [ ! -d "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
t_ok "node 3's omd exits on SIGTERM within 5 s" wait_until 5 omd_gone "$pid3"
t_ok "nodes 1 and 2 mark node 3 down within 5 s" wait_until 5 eval 'node_down 1 3 && node_down 2 3'
t_diag "node 3 down after $(elapsed_since "$t0") s (node 1 says: $(node_state 1 3))"
t_ok "nodes 1 and 2 still see each other" eval 'sees_alive 1 1 2 && sees_alive 2 1 2'

# node 3 restarts: it rejoins
t_ok "omcluster restart-node 3" omcluster restart-node 3 --dir "$D"
t0=$(t_now_us)
t_ok "node 3 rejoins within 5 s (every node sees 1-3 alive)" wait_until 5 all_see_all 3
t_diag "rejoined after $(elapsed_since "$t0") s"
t_is "$(omcluster status --dir "$D" | grep -c running)" 3 "omcluster status: 3 nodes running"

# node 3 vanishes without a word (kill -9): dead within ~1 s, then removed
# from the autodiscovered map once it has been silent for 5 s
pid3=$(cat "$D/node3/omd.pid")
kill -9 "$pid3"
t0=$(t_now_us)
t_ok "a vanished node 3 is marked down by nodes 1 and 2 within 1.5 s" \
	wait_until 1.5 eval 'node_down 1 3 && node_down 2 3'
gone_from_map() { [ "$(node_json "$1" | jq -c '[.nodes[].id]')" = "[1,2]" ]; }
t_ok "and removed from their maps within 8 s" wait_until 8 eval 'gone_from_map 1 && gone_from_map 2'
t_diag "removed after $(elapsed_since "$t0") s"
t_like "$(node 1 showmap)" '0x0001 +10\.233\.0\.1 +2' "node 1's map now holds nodes 1-2"
rm -f "$D/node3/omd.pid"
t_ok "omcluster restart-node 3 (after kill -9)" omcluster restart-node 3 --dir "$D"
t_ok "node 3 returns and rejoins within 5 s" wait_until 5 all_see_all 3

# no default route and no -i: omd cannot pick an interface
ns="omt$$nr"
ip netns add "$ns" || t_bail "create namespace $ns"
t_cleanup ip netns del "$ns"
ip -n "$ns" link set lo up
nd="$D/noroute"
mkdir -p "$nd"
out=$(timeout 10 nsenter --net="/run/netns/$ns" omd --discover -n -d "$nd" -k "$nd/cluster.key" 2>&1)
rc=$?
t_ok "omd --discover without -i and default route exits non-zero (got $rc)" \
	test "$rc" -ne 0 -a "$rc" -ne 124 -a "$rc" -ne 137
t_like "$out" 'Unable to determine address of default interface' \
	"omd --discover says: Unable to determine address of default interface"

t_done
