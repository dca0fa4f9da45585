#!/usr/bin/env bash
# Hostile traffic changes nothing: garbage, truncated, foreign-version,
# wrong-key and replayed datagrams are dropped and counted; a node with the
# wrong key is never admitted; the TCP port refuses the wrong key.
. "$(dirname "$0")/lib.sh"
t_require_root
SEND="$T_ROOT/${BUILD:-build}/helpers/omsend"
[ -x "$SEND" ] || t_bail "missing $SEND (make)"
cluster_start 4 || t_bail "4-node cluster did not form"
KEY="$CLUSTER_DIR/cluster.key"

counter() { node "$1" mosctl status --json | jq -r ".counters.$2"; }

g0=$(counter 1 garbage); v0=$(counter 1 foreign_version); m0=$(counter 1 bad_mac)
r0=$(counter 1 replayed)
t_ok "garbage datagrams sent" "$SEND" --to $NET.1 --mode garbage --count 200
t_ok "truncated datagrams sent" "$SEND" --to $NET.1 --key "$KEY" --mode truncated --count 100
t_ok "foreign-version datagrams sent" "$SEND" --to $NET.1 --key "$KEY" --mode version --count 10
t_ok "wrong-key datagrams sent" "$SEND" --to $NET.1 --from $NET.2 --mode wrongkey --count 20

# replays: an old session of node 2, and an old sequence number of its current one
# (read as text: jq's doubles would round the 64-bit incarnation)
inc2=$(node 2 mosctl status --json | sed -n 's/^ *"incarnation": \([0-9]*\),*$/\1/p')
t_ok "replay of an old session sent" "$SEND" --to $NET.1 --from $NET.2 --key "$KEY" \
	--mode sealed --sender 2 --incarnation $((inc2 - 1000000000)) --count 5
now_us=$(($(date +%s%N) / 1000))
t_ok "replay of an old sequence number sent" "$SEND" --to $NET.1 --from $NET.2 --key "$KEY" \
	--mode sealed --sender 2 --incarnation "$inc2" --seq $((now_us - 20000000)) --count 5

seen_counts() {
	[ "$(counter 1 garbage)" -gt "$g0" ] && [ "$(counter 1 foreign_version)" -ge $((v0 + 10)) ] &&
		[ "$(counter 1 bad_mac)" -ge $((m0 + 20)) ] && [ "$(counter 1 replayed)" -ge $((r0 + 10)) ]
}
t_ok "every hostile datagram was counted as what it is" wait_until 5 seen_counts
t_diag "counters: $(node 1 mosctl status --json | jq -c .counters)"
t_ok "the wrong-key sender was logged as the original did" \
	grep -q "Received an unauthorized information request from $NET.2" "$CLUSTER_DIR/node1/omd.log"
t_ok "node 1 still answers and still sees all four nodes" all_see_all 4

# a whole node with the wrong key: never admitted, admits no one
IDIR="$CLUSTER_DIR/intruder"
mkdir -p "$IDIR"
printf "1 $NET.1 5\n" >"$IDIR/map"
t_ok "an intruder node with its own key starts" omd -f "$IDIR/map" -d "$IDIR" -a $NET.5 -k "$IDIR/key"
t_cleanup kill "$(cat "$IDIR/omd.pid" 2>/dev/null)"
m1=$(counter 1 bad_mac)
intruder_rejected() { [ "$(counter 1 bad_mac)" -gt "$m1" ]; }
t_ok "its traffic reaches node 1 and is rejected" wait_until 5 intruder_rejected
intruder_alone() {
	[ "$(OPENMOSIX_DIR=$IDIR mosctl status --json | jq '[.nodes[] | select(.self == false and .state == "alive")] | length')" = 0 ]
}
t_ok "the intruder sees no node alive" intruder_alone
t_ok "the cluster still has exactly its four nodes alive" all_see_all 4
t_is "$(alive_ids 1)" "1 2 3 4" "node 1 counts nodes 1-4 alive, not the intruder"
kill "$(cat "$IDIR/omd.pid")"

# the TCP migration port authenticates too
t_ok "mosctl ping over the authenticated TCP port works with the cluster key" node 1 mosctl ping 2
a0=$(counter 2 link_auth_failed)
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$CLUSTER_DIR/wrong.key"; chmod 600 "$CLUSTER_DIR/wrong.key"
t_nok "ping with a wrong key is refused" node 1 mosctl ping 2 --key "$CLUSTER_DIR/wrong.key"
link_refused() { [ "$(counter 2 link_auth_failed)" -gt "$a0" ]; }
t_ok "the refused connection was counted by node 2" wait_until 5 link_refused
t_ok "garbage on the TCP port is dropped and the daemon lives on" \
	bash -c "head -c 5000 /dev/urandom >/dev/tcp/$NET.2/4660; exit 0"
t_ok "node 2 still answers pings afterwards" node 1 mosctl ping 2
t_done
