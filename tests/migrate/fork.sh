#!/usr/bin/env bash
# fork after a move: the children start where the parent runs, each with a
# genuine home child (pid, parent, wait statuses, SIGCHLD, shared offsets),
# and can move on their own.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root

t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

has_line() { grep -qx "$2" "$1" 2>/dev/null; }
# a forked child's deputy commits a moment after its parent printed its pid
where_is() { [ "$(node 1 mosctl where "$1")" = "$2" ]; }

# --- fork, vfork, posix_spawn, waitpid/waitid, SIGCHLD, offsets -----------
omcluster run 1 --dir "$D" mosrun "$VICT/forker" 6 >"$D/forker.out" 2>"$D/forker.err" &
VPID=$!
wait_until 5 has_line "$D/forker.out" READY || t_bail "forker did not print READY"
t_ok "migrate it to node 2" node 1 migrate "$VPID" 2
kill -USR1 "$VPID"
rc=0; wait "$VPID" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/forker.out")" "0:READY PASS " \
	"6 forks, a vfork, a signalled child, posix_spawn after the move: PASS, exit 0"
[ "$rc" = 0 ] || sed 's/^/#   err | /' "$D/forker.err"

# --- a shell moved while it waits for input, then forks -----------------
in_syscall() { [ "$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)" = "$2" ]; }
sh_reads() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sh ] && in_syscall "$1" 0; }
mkfifo "$D/fifo"
omcluster run 1 --dir "$D" mosrun sh -c '
	read x
	for i in 1 2 3; do (exit $i); echo st=$?; done
	(trap "exit 9" TERM; while :; do :; done) & echo bg=$!
	wait $!; echo bgst=$?' <"$D/fifo" >"$D/sh.out" 2>"$D/sh.err" &
SH=$!
exec 7>"$D/fifo"
t_ok "the shell waits in read" wait_until 5 sh_reads "$SH"
t_ok "migrate the shell to node 3" node 1 migrate "$SH" 3
echo go >&7
exec 7>&-
has_bg() { grep -q '^bg=' "$D/sh.out"; }
t_ok "its subshells ran at node 3 and it started a background job" wait_until 10 has_bg
BG=$(sed -n 's/^bg=//p' "$D/sh.out")
t_is "$(grep '^st=' "$D/sh.out" | tr '\n' ' ')" "st=1 st=2 st=3 " "each subshell's status reaches the shell"
t_is "$(awk '{ print $4 }' "/proc/$BG/stat")" "$SH" "\$! is a genuine child of the shell at home"
t_ok "the background job runs where its parent runs (node 3)" wait_until 5 where_is "$BG" 3
t_is "$(node 1 mosctl where "$BG" --json | jq -c '[.under_care, .parent]')" "[true,$SH]" \
	"it is under care, a child of the shell"
t_ok "it comes home on its own" node 1 migrate "$BG" home
t_ok "and moves to node 2 on its own" node 1 migrate "$BG" 2
t_is "$(node 1 mosctl where "$SH") $(node 1 mosctl where "$BG")" "3 2" "parent at node 3, child at node 2"
kill -TERM "$BG"
rc=0; wait "$SH" || rc=$?
t_is "$rc:$(grep '^bgst=' "$D/sh.out")" "0:bgst=9" "the shell reaps the job's status (its TERM trap: 9)"

# --- a double-forking daemon after a move -------------------------------
omcluster run 1 --dir "$D" mosrun "$VICT/daemonize" >"$D/dmn.out" 2>"$D/dmn.err" &
VPID=$!
wait_until 5 has_line "$D/dmn.out" READY || t_bail "daemonize did not print READY"
SID0=$(awk '{ print $6 }' "/proc/$VPID/stat")
t_ok "migrate it to node 2" node 1 migrate "$VPID" 2
kill -USR1 "$VPID"
rc=0; wait "$VPID" || rc=$?
t_is "$rc:$(grep -c '^PASS$' "$D/dmn.out")" "0:1" "the parent reaps the middle child (exit 0) and passes"
DPID=$(sed -n 's/^daemon \([0-9]*\)$/\1/p' "$D/dmn.out")
up() { grep -q "^daemon up $DPID sid" "$D/dmn.out"; }
t_ok "the daemon is up" wait_until 5 up
DSID=$(sed -n "s/^daemon up $DPID sid //p" "$D/dmn.out")
t_is "$(awk '{ print $6 }' "/proc/$DPID/stat")" "$DSID" "its session at home is the one setsid() made"
t_nok "a new session, not its grandparent's" test "$DSID" = "$SID0"
t_is "$(awk '{ print $4 }' "/proc/$DPID/stat")" 1 "at home it was reparented to init"
t_ok "it runs at node 2, where it was forked" wait_until 5 where_is "$DPID" 2
kill -TERM "$DPID"
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = Z ]; }
t_ok "SIGTERM ends it" wait_until 5 gone "$DPID"

# --- the node dies: a parent and the child it forked there end SIGKILL'd ---
mkfifo "$D/fifo2"
omcluster run 1 --dir "$D" mosrun sh -c 'read x; (while :; do :; done) & echo kid=$!; wait' \
	<"$D/fifo2" >"$D/sh2.out" 2>"$D/sh2.err" &
SH2=$!
exec 8>"$D/fifo2"
t_ok "a second shell waits in read" wait_until 5 sh_reads "$SH2"
t_ok "migrate it to node 3" node 1 migrate "$SH2" 3
echo go >&8
has_kid() { grep -q '^kid=' "$D/sh2.out"; }
t_ok "it forks a busy child at node 3" wait_until 10 has_kid
KID=$(sed -n 's/^kid=//p' "$D/sh2.out")
t_ok "the child runs at node 3" wait_until 5 where_is "$KID" 3
both_gone() { gone "$SH2" && gone "$KID"; }
t0=$(t_now_us)
kill -9 "$(cat "$D/node3/omd.pid")"
t_ok "node 3 dies: the parent and its child end at home within 2 s" wait_until 2 both_gone
t_diag "ended $(elapsed_since "$t0") s after node 3's daemon was killed"
rc=0; wait "$SH2" || rc=$?
t_is "$rc" 137 "the parent's parent sees it killed by SIGKILL (137)"
exec 8>&-

# --- a node leaving sends its forked guests home first, losing nothing ----
mkfifo "$D/fifo3"
omcluster run 1 --dir "$D" mosrun sh -c \
	'read x; (trap "exit 0" TERM; while :; do :; done) & echo kid=$!; wait $!; echo kidst=$?' \
	<"$D/fifo3" >"$D/sh3.out" 2>"$D/sh3.err" &
SH3=$!
exec 9>"$D/fifo3"
t_ok "a third shell waits in read" wait_until 5 sh_reads "$SH3"
t_ok "migrate it to node 2" node 1 migrate "$SH3" 2
echo go >&9
exec 9>&-
has_kid3() { grep -q '^kid=' "$D/sh3.out"; }
t_ok "it forks a busy child at node 2" wait_until 10 has_kid3
KID3=$(sed -n 's/^kid=//p' "$D/sh3.out")
t_ok "the child runs at node 2" wait_until 5 where_is "$KID3" 2
t_ok "node 2 expels its guests" node 2 mosctl expel
t_is "$(node 1 mosctl where "$SH3") $(node 1 mosctl where "$KID3")" "1 1" \
	"the shell and its forked child are back home"
kill -TERM "$KID3"
rc=0; wait "$SH3" || rc=$?
t_is "$rc:$(grep '^kidst=' "$D/sh3.out")" "0:kidst=0" "the child ran on at home and the shell reaped it"
t_done
