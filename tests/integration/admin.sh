#!/usr/bin/env bash
# mosctl, setpe and showmap against a running cluster: every subcommand,
# admin state kept across restarts, root-only changes, setpe -off / -w.
. "$(dirname "$0")/lib.sh"
t_require_root
cluster_start 3 || t_bail "3-node cluster did not form"

t_is "$(node 1 mosctl whois)" "This is openMosix #1" "whois with no argument"
t_is "$(node 1 mosctl whois 2)" "openMosix #2 is at IP address $NET.2" "whois by id"
t_is "$(node 1 mosctl whois $NET.3)" "$NET.3 is openMosix #3" "whois by address"
t_nok "whois of an unknown address fails" node 1 mosctl whois 10.9.9.9
t_ok "isup 2 says yes" node 1 mosctl isup 2
t_nok "isup of a node not in the map says no" node 1 mosctl isup 9
t_like "$(node 1 mosctl getspeed 3)" '^[0-9]+$' "getspeed prints a number"
t_like "$(node 1 mosctl getload 2)" '^[0-9]+\.[0-9][0-9]$' "getload prints the load"
t_like "$(node 1 mosctl getmem)" '^[0-9]+ MB$' "getmem prints free memory"
t_like "$(node 1 mosctl getfree 2)" '^[0-9]+ MB$' "getfree prints free memory"
t_like "$(node 1 mosctl getutil 3)" '^[0-9]+%$' "getutil prints utilization"
t_like "$(node 1 mosctl getdecay)" 'decay interval: 1 s, slow decay: 975/1000, fast decay: 926/1000' \
	"getdecay shows the defaults"
t_like "$(node 1 mosctl status)" 'This is openMosix #1 \(of 3 configured\)' "status names the node"
t_like "$(node 1 mosctl gettune)" 'information interval' "gettune shows the tuning"

# speed propagates through gossip
t_ok "setspeed 3000 on node 2" node 2 mosctl setspeed 3000
speed_seen() { [ "$(node 1 mosctl getspeed 2)" = 3000 ] && [ "$(node 3 mosctl getspeed 2)" = 3000 ]; }
t_ok "nodes 1 and 3 see node 2's new speed within 2 s" wait_until 2 speed_seen

# calibration: this machine as the yardstick gives speed 10000 exactly;
# a yardstick twice this machine's score gives about half
t_like "$(node 2 mosctl setyard this)" 'speed 10000$' "setyard this makes node 2 the standard"
t_is "$(node 2 mosctl getspeed)" 10000 "getspeed says 10000"
yard=$(node 2 mosctl getyard)
t_like "$yard" '^[0-9]+$' "getyard prints the yardstick"
t_ok "setyard with twice the yardstick" node 2 mosctl setyard $((yard * 2))
half_speed() { s=$(node 2 mosctl getspeed); [ "$s" -ge 3500 ] && [ "$s" -le 6500 ]; }
t_ok "gives a speed near 5000" half_speed
t_diag "speed with a doubled yardstick: $(node 2 mosctl getspeed)"
t_nok "setyard with a processor type we do not know is refused" node 2 mosctl setyard pentium-iv

# flags, recorded and shown, and kept across a restart
for f in stay lstay block quiet nomfs; do
	t_ok "mosctl $f" node 3 mosctl $f
done
t_ok "setdecay 5 900 800" node 3 mosctl setdecay 5 900 800
adm() { node 3 mosctl status --json | jq -c '.self.admin | [.stay,.lstay,.block,.quiet,.nomfs,.decay_interval,.slow_decay,.fast_decay]'; }
t_is "$(adm)" "[true,true,true,true,true,5,900,800]" "node 3 records every knob"
quiet_seen() { node 1 mosctl status --json | jq -e '.nodes[] | select(.id == 3) | (.status | index("quiet")) and (.load == null)' >/dev/null; }
t_ok "node 1 sees node 3 quiet, with no load advertised" wait_until 2 quiet_seen
t_nok "getload of a quiet node says it is quiet" node 1 mosctl getload 3
t_is "$(node 3 mosctl stay)" "automatic load-balancing already disabled." "stay twice says so, as the original did"
t_ok "node 3 restarts" bash -c "kill -TERM $(cat "$CLUSTER_DIR/node3/omd.pid") && while [ -e '$CLUSTER_DIR/node3/omd.pid' ]; do sleep 0.05; done && omcluster restart-node 3 --dir '$CLUSTER_DIR'"
t_is "$(adm)" "[true,true,true,true,true,5,900,800]" "admin state survives the restart"
for f in nostay nolstay noblock noquiet mfs; do
	t_ok "mosctl $f" node 3 mosctl $f
done
t_ok "expel returns" node 3 mosctl expel
t_ok "bring returns" node 3 mosctl bring
t_is "$(node 3 mosctl status --json | jq -c '.self.admin | [.block,.lstay]')" "[true,true]" \
	"expel implies block, bring implies lstay"

# only root may change things
if id nobody >/dev/null 2>&1; then
	chmod 755 "$CLUSTER_DIR" "$CLUSTER_DIR/node1" # /run/openmosix is 0755 too
	out=$(OPENMOSIX_DIR=$CLUSTER_DIR/node1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$T_ROOT/bin/mosctl" block 2>&1); rc=$?
	t_is "$rc" 1 "a non-root block is refused with exit 1"
	t_like "$out" "permission denied" "and says why"
	t_ok "a non-root user may read" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env OPENMOSIX_DIR="$CLUSTER_DIR/node1" "$T_ROOT/bin/mosctl" status
else
	t_skip "non-root refusal" "no user nobody"
fi
t_is "$(node 1 mosctl status --json | jq .self.admin.block)" false "the refused change did not happen"

# maps
t_like "$(node 1 showmap)" "$(printf 'My Node-Id: 0x0001\n\nBase Node-Id Address          Count\n------------ ---------------- -----\n0x0001       %-16s %s' "$NET.1" 3)" \
	"showmap prints the original's table"
t_is "$(node 2 setpe -r)" "1 $NET.1 3" "setpe -r prints the map in map format"
printf "# nodes 1 and 2 only\n1 $NET.1 2\n" >"$CLUSTER_DIR/map2"
t_ok "setpe -c checks a map" node 1 setpe -c -f "$CLUSTER_DIR/map2"
printf "1 $NET.1 2\n2 $NET.9 1\n" >"$CLUSTER_DIR/bad.map"
out=$(node 1 setpe -w -f "$CLUSTER_DIR/bad.map" 2>&1); rc=$?
t_is "$rc" 1 "setpe -w refuses a malformed map"
t_like "$out" "bad.map:2: .*node 2 already defined at line 1" "naming file, line and problem"
printf "1 $NET.7 2\n" >"$CLUSTER_DIR/notme.map"
t_like "$(node 1 setpe -w -f "$CLUSTER_DIR/notme.map" 2>&1)" \
	"the supplied table is well-formatted, but my IP address \($NET.1\) is not there!" \
	"a map without this node is refused with the original's words"

t_ok "setpe -off on node 3" node 3 setpe -off
off_seen() { [ "$(node_state 1 3)" = left ] && [ "$(node_state 2 3)" = left ]; }
t_ok "nodes 1 and 2 see node 3 leave within 1 s" wait_until 1 off_seen
t_nok "isup 3 says no" node 1 mosctl isup 3
t_like "$(node 3 mosctl status)" "off \(not in the cluster\)" "node 3 says it is off"
t_ok "setpe -w brings node 3 back" node 3 setpe -w -f "$CLUSTER_DIR/map"
t_ok "all three see each other again within 3 s" wait_until 3 all_see_all 3

# a smaller map loaded into the running daemons
for k in 1 2; do t_ok "node $k loads a 2-node map" node $k setpe -w -f "$CLUSTER_DIR/map2"; done
t_is "$(node 1 setpe -r)" "1 $NET.1 2" "node 1 now runs the new map"
t_is "$(node 1 mosctl status --json | jq -c '[.nodes[].id]')" "[1,2]" "and lists nodes 1 and 2 only"
t_done
