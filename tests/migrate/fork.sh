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
t_is "$(node 1 mosctl where "$BG")" 3 "the background job runs where its parent runs (node 3)"
t_is "$(node 1 mosctl where "$BG" --json | jq -c '[.under_care, .parent]')" "[true,$SH]" \
	"it is under care, a child of the shell"
t_ok "it comes home on its own" node 1 migrate "$BG" home
t_ok "and moves to node 2 on its own" node 1 migrate "$BG" 2
t_is "$(node 1 mosctl where "$SH") $(node 1 mosctl where "$BG")" "3 2" "parent at node 3, child at node 2"
kill -TERM "$BG"
rc=0; wait "$SH" || rc=$?
t_is "$rc:$(grep '^bgst=' "$D/sh.out")" "0:bgst=9" "the shell reaps the job's status (its TERM trap: 9)"
t_done
