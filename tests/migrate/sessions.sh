#!/usr/bin/env bash
# Sessions and daemons after a move: setsid(); an orphaned process group
# with a stopped member gets SIGHUP and SIGCONT as the kernel sends them
# natively; a double-fork daemon is reparented to a subreaper, keeps
# working, moves on, and its exit is reaped by the subreaper; programs
# started by vfork+exec, posix_spawn, system() and popen(); clone3 answers
# ENOSYS (glibc falls back to clone).
. "$(dirname "$0")/../integration/lib.sh"
t_require_root
t_require_cmd setsid

t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

has_line() { grep -qx "$2" "$1" 2>/dev/null; }
state() { awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
computes() { local c0; c0=$(cpu "$1"); sleep 0.3; [ "$(cpu "$1")" -gt "$c0" ]; }
rpid() { node 1 mosctl where "$1" --json | jq -r '.remote_pid // empty'; }
where_is() { [ "$(node 1 mosctl where "$1")" = "$2" ]; }

# --- setsid() after a move -------------------------------------------------
omcluster run 1 --dir "$D" mosrun "$VICT/orphan" setsid >"$D/setsid.out" 2>"$D/setsid.err" &
VPID=$!
wait_until 5 has_line "$D/setsid.out" READY || t_bail "orphan setsid did not print READY"
SID0=$(awk '{ print $6 }' "/proc/$VPID/stat")
t_ok "migrate it to node 2" node 1 migrate "$VPID" 2
kill -USR1 "$VPID"
sid_line() { grep -q '^sid ' "$D/setsid.out"; }
t_ok "it calls setsid() there" wait_until 5 sid_line
t_is "$(awk '{ print $6 " " $5 }' "/proc/$VPID/stat")" "$VPID $VPID" \
	"its home process leads a new session and a new process group"
t_is "$(node 1 mosctl where "$VPID")" 2 "while it runs at node 2"
kill -USR1 "$VPID"
rc=0; wait "$VPID" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/setsid.out")" "0:READY sid $VPID PASS " \
	"setsid() answers the home pid, getsid/getpgrp agree, /dev/tty is gone (ENXIO): PASS"
t_nok "the session is not the one it had" test "$SID0" = "$VPID"

# --- an orphaned process group with a stopped member ---------------------
# subreaper (its own session) > sh (session leader) > orphan (own group) >
# child; the orphan exits: its group has no parent in the session any more
# and a stopped member, so the kernel sends SIGHUP and SIGCONT
omcluster run 1 --dir "$D" setsid "$VICT/subreaper" setsid sh -c "mosrun $VICT/orphan; :" \
	>"$D/orphan.out" 2>"$D/orphan.err" &
REAPER=$!
wait_until 5 has_line "$D/orphan.out" READY || t_bail "orphan did not print READY"
SH=$(sed -n 's/^child //p' "$D/orphan.out")
OPID=$(child_of "$SH" orphan)
t_ok "migrate it to node 2" node 1 migrate "$OPID" 2
kill -USR1 "$OPID"
stopped_line() { grep -q '^child [0-9]* stopped$' "$D/orphan.out"; }
t_ok "it forks at node 2 and sees its child stop (WUNTRACED)" wait_until 10 stopped_line
C=$(sed -n 's/^child \([0-9]*\) stopped$/\1/p' "$D/orphan.out")
t_ok "the child was forked at node 2" grep -q "process $C, forked at node 2" "$D/node1/omd.log"
t_ok "the group orphaned, the child gets SIGHUP and SIGCONT and says so" \
	wait_until 10 has_line "$D/orphan.out" "child $C hup 1 cont 1"
t_ok "the subreaper reaps it with its status (exit 7)" \
	wait_until 10 has_line "$D/orphan.out" "reaped $C exit 7"
t_is "$(grep -c '^PASS$' "$D/orphan.out")" 1 "the orphan itself passed"
wait "$REAPER"

# --- a double-fork daemon, reparented to a subreaper ------------------------
omcluster run 1 --dir "$D" "$VICT/subreaper" mosrun "$VICT/daemonize" >"$D/dmn.out" 2>"$D/dmn.err" &
REAPER=$!
wait_until 5 has_line "$D/dmn.out" READY || t_bail "daemonize did not print READY"
VPID=$(sed -n 's/^child //p' "$D/dmn.out")
t_ok "migrate it to node 2" node 1 migrate "$VPID" 2
kill -USR1 "$VPID"
t_ok "it passes (its middle child reaped, exit 0)" wait_until 10 has_line "$D/dmn.out" PASS
DPID=$(sed -n 's/^daemon \([0-9]*\)$/\1/p' "$D/dmn.out")
up() { grep -q "^daemon up $DPID sid" "$D/dmn.out"; }
t_ok "the daemon is up" wait_until 5 up
t_is "$(awk '{ print $4 }' "/proc/$DPID/stat")" "$REAPER" \
	"at home it was reparented to the subreaper, not to init"
t_ok "it runs at node 2" wait_until 5 where_is "$DPID" 2
t_ok "and works there" computes "$(rpid "$DPID")"
t_ok "it moves on to node 3" node 1 migrate "$DPID" 3
t_ok "and works there" computes "$(rpid "$DPID")"
kill -TERM "$DPID"
t_ok "SIGTERM ends it: the subreaper reaps its exit 0" \
	wait_until 10 has_line "$D/dmn.out" "reaped $DPID exit 0"
t_nok "nothing of it is left" kill -0 "$DPID"
wait "$REAPER"

# --- vfork+exec, posix_spawn, system(), popen(), clone3 -------------------
omcluster run 1 --dir "$D" mosrun "$VICT/spawner" >"$D/sp.out" 2>"$D/sp.err" &
VPID=$!
wait_until 5 has_line "$D/sp.out" READY || t_bail "spawner did not print READY"
t_ok "migrate it to node 2" node 1 migrate "$VPID" 2
kill -USR1 "$VPID"
rc=0; wait "$VPID" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/sp.out")" \
	"0:READY vforked $VPID spawned $VPID system clone3 ENOSYS PASS " \
	"vfork+exec, posix_spawn, system, popen: outputs and statuses right, children of its home pid; clone3: ENOSYS"
[ "$rc" = 0 ] || sed 's/^/#   err | /' "$D/sp.err"
t_done
