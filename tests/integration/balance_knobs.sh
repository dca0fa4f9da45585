#!/usr/bin/env bash
# Every balancing knob prevents or forces exactly what it should: stay,
# lstay, block, quiet, a per-process lock, cluster masks (mosrun --allow /
# --deny, mosctl mask), setspeed (a slow master pushes work away), an
# explicit placement the balancer respects, and memory ushering out of a
# node whose memory (cgroup limit) runs short.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd jq
t_victims
cluster_start 3 --cpus 0.5 --mem 320M,1G,1G || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

where_of() { node 1 mosctl where "$1" 2>/dev/null || echo gone; }
moves() { node_json 1 | jq .balancer.moves_started; }
# spin K [MOSRUN-OPTIONS...]: an endless awk loop under mosrun at node K
under_care() { [ "$(node 1 mosctl where "$1" --json | jq .under_care)" = true ]; }
spin() {
	local k=$1; shift
	omcluster run "$k" --dir "$D" mosrun "$@" awk 'BEGIN {for(;;);}' &
	SPIN=$!
	wait_until 5 under_care "$SPIN" || t_diag "job $SPIN not under care after 5 s"
}
stop_all() { kill "$@" 2>/dev/null; for p in "$@"; do wait "$p" 2>/dev/null; done; }
away() { local p; for p in "$@"; do [ "$(where_of "$p")" != 1 ] && return 0; done; return 1; }
busy_load() { [ "$(node_json 1 | jq '.self.load >= 3')" = true ]; }
# absent K PIDS: no process moves and node 1 starts no move for K seconds
# while node 1 is clearly overloaded (asserting the absence of an event)
absent() {
	local k=$1; shift
	wait_until 5 busy_load || return 1
	local m0; m0=$(moves)
	sleep "$k"
	[ "$(moves)" = "$m0" ] && ! away "$@"
}

# stay: no automatic migration at all
node 1 mosctl stay >/dev/null
spin 1; a=$SPIN; spin 1; b=$SPIN
t_ok "stay: two busy jobs on a half-core node stay home" absent 4 "$a" "$b"
node 1 mosctl nostay >/dev/null
t_ok "nostay: one of them leaves" wait_until 6 away "$a" "$b"
stop_all "$a" "$b"

# lstay: local processes stay
node 1 mosctl lstay >/dev/null
spin 1; a=$SPIN; spin 1; b=$SPIN
t_ok "lstay: local jobs stay home" absent 4 "$a" "$b"
node 1 mosctl nolstay >/dev/null
t_ok "nolstay: one leaves" wait_until 6 away "$a" "$b"
stop_all "$a" "$b"

# block / quiet: a node that blocks guests or keeps quiet is not chosen
node 2 mosctl block >/dev/null
node 3 mosctl quiet >/dev/null
wait_until 5 sh -c "OPENMOSIX_DIR=$D/node1 mosctl status --json | jq -e '[.nodes[] | select(.id==3) | .status[] | select(.==\"quiet\")] | length == 1'" >/dev/null
spin 1; a=$SPIN; spin 1; b=$SPIN
t_ok "node 2 blocks and node 3 is quiet: nothing goes anywhere" absent 4 "$a" "$b"
node 3 mosctl noquiet >/dev/null
t_ok "node 3 speaks again: a job goes there" wait_until 8 sh -c "[ \"\$(OPENMOSIX_DIR=$D/node1 mosctl where $a)\" = 3 ] || [ \"\$(OPENMOSIX_DIR=$D/node1 mosctl where $b)\" = 3 ]"
t_ok "and not to the blocked node 2" sh -c "[ \"\$(OPENMOSIX_DIR=$D/node1 mosctl where $a)\" != 2 ] && [ \"\$(OPENMOSIX_DIR=$D/node1 mosctl where $b)\" != 2 ]"
node 2 mosctl noblock >/dev/null
stop_all "$a" "$b"

# per-process lock (mosrun -L), then mosctl unlock
spin 1 -L; a=$SPIN; spin 1 -L; b=$SPIN
t_ok "locked jobs stay home" absent 4 "$a" "$b"
node 1 mosctl unlock "$a"
t_ok "unlocked, one leaves" wait_until 6 away "$a"
t_is "$(where_of "$b")" 1 "the other, still locked, stays"
stop_all "$a" "$b"

# masks: --deny 2 keeps jobs off node 2; --allow 2 keeps them only there
spin 1 --deny 2; a=$SPIN; spin 1 --deny 2; b=$SPIN; spin 1 --deny 2; c=$SPIN
t_ok "--deny 2: jobs leave for node 3" wait_until 8 away "$a" "$b" "$c"
sleep 2
t_is "$(for p in $a $b $c; do where_of "$p"; done | grep -c '^2$')" 0 "none of them is on node 2"
t_is "$(node 1 mosctl where "$a" --json | jq -r '[.migfilter,.migpolicy,.mignodes] | @tsv')" "1	0	2" "where shows the mask"
t_like "$(node 1 migrate "$a" 2 2>&1)" "outside process $a's cluster mask" "migrate to a masked node is refused"
stop_all "$a" "$b" "$c"
spin 1 --allow 2; a=$SPIN; spin 1 --allow 2; b=$SPIN
t_ok "--allow 2: a job leaves for node 2" wait_until 8 sh -c "[ \"\$(OPENMOSIX_DIR=$D/node1 mosctl where $a)\" = 2 ] || [ \"\$(OPENMOSIX_DIR=$D/node1 mosctl where $b)\" = 2 ]"
t_is "$( (where_of "$a"; where_of "$b") | grep -c '^3$')" 0 "never to node 3"
stop_all "$a" "$b"

# setspeed: a slow master pushes even a single job away (HOWTO 9.2)
spin 1; a=$SPIN
t_ok "at standard speed a single job stays home" absent 3 "$a"
node 1 mosctl setspeed 4000 >/dev/null
t_ok "at speed 4000 node 1 pushes it away" wait_until 8 away "$a"
node 1 mosctl setspeed 10000 >/dev/null
stop_all "$a"

# an explicit placement is respected: home with a busy partner, it stays
spin 1; a=$SPIN; spin 1; b=$SPIN
t_ok "placed at home by hand" node 1 migrate "$a" home
t_ok "placed at home by hand" node 1 migrate "$b" home
t_ok "the balancer leaves placed processes where they were put" absent 3 "$a" "$b"
t_ok "migrate PID balance hands it back to the balancer" node 1 migrate "$a" balance
t_like "$(where_of "$a")" "^[23]$" "and it moves to a free node"
stop_all "$a" "$b"

# I/O: a job away that turns to forwarded I/O comes home (its calls are
# carried out by its home process, whose counters node 1 samples)
has_ready() { grep -qx READY "$1"; }
omcluster run 1 --dir "$D" mosrun "$VICT/iophase" >"$D/io.out" 2>&1 &
i=$!
wait_until 20 has_ready "$D/io.out" || t_bail "iophase did not start"
t_ok "iophase moved to node 2 by hand" node 1 migrate "$i" 2
node 1 mosctl unlock "$i" >/dev/null
at2() { [ "$(where_of "$i")" = 2 ]; }
sleep 2
t_ok "computing, it stays on node 2 once handed to the balancer" at2
kill -USR1 "$i"
t_ok "turned I/O-heavy, the balancer brings it home" wait_until 10 sh -c "[ \"\$(OPENMOSIX_DIR=$D/node1 mosctl where $i)\" = 1 ]"
t_like "$(cat "$D/node1/omd.log")" "balancer: process $i 2 -> 1 \(io" "for I/O, says the log"
kill -USR2 "$i"; rc=0; wait "$i" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/io.out")" "0:READY PASS " "every byte it read was right"

# demand of a job away: node 2 reports what its copy uses (MSG_GUESTS), so
# node 1's balancer sees a job that stopped computing there go idle
omcluster run 1 --dir "$D" mosrun "$VICT/iophase" idle >"$D/idle.out" 2>&1 &
i=$!
wait_until 20 has_ready "$D/idle.out" || t_bail "iophase idle did not start"
demand() { node 1 mosctl where "$1" --json | jq .demand; }
busy() { [ "$(demand "$i" | awk '{ print ($1 > 0.6) }')" = 1 ]; }
t_ok "computing at home, its demand is high" wait_until 8 busy
t_ok "moved to node 2 by hand" node 1 migrate "$i" 2
kill -USR1 "$i"
idle() { [ "$(demand "$i" | awk '{ print ($1 < 0.3) }')" = 1 ]; }
t_ok "idle at node 2, the demand node 1 sees falls (node 2 reports it)" wait_until 15 idle
t_diag "demand now $(demand "$i")"
kill -USR2 "$i"; rc=0; wait "$i" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/idle.out")" "0:READY PASS " "it ends well"

# memory ushering: node 1 (320 MiB) runs short: the big process leaves
omcluster run 1 --dir "$D" mosrun "$VICT/memhog" 270 >"$D/hog.out" 2>&1 &
h=$!
wait_until 20 has_ready "$D/hog.out" || t_bail "memhog did not start"
t_ok "memory ushering: the 270 MiB process leaves the 320 MiB node" wait_until 20 away "$h"
t_like "$(cat "$D/node1/omd.log")" "balancer: process $h 1 -> [23] \(memory" "for memory, says the log"
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
t_ok "its home copy gave its memory back (VmRSS $(rss_kb "$h") KiB < 32 MiB)" [ "$(rss_kb "$h")" -lt 32768 ]
t_ok "node 1's free memory shows it" wait_until 5 sh -c "OPENMOSIX_DIR=$D/node1 mosctl status --json | jq -e '.self.mem > 150' >/dev/null"
t_ok "brought home by hand" node 1 migrate "$h" home
t_ok "and its memory is back at home" [ "$(rss_kb "$h")" -gt 200000 ]
kill -USR1 "$h"; rc=0; wait "$h" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/hog.out")" "0:READY PASS " "its memory is intact"
t_done
