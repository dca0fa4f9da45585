#!/usr/bin/env bash
# A stopped job stays stopped wherever it goes: a migrated process stopped
# (SIGSTOP, or Ctrl-Z in an interactive shell) and sent home, moved on to
# another node, or expelled, is stopped at home (its parent's job table says
# so) and its copy computes nowhere, until SIGCONT (fg) resumes it with
# nothing lost. Also: the CPU time its copies used away is counted by the
# daemon (mosctl where --json, mps), as the home kernel cannot count it.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root
t_require_cmd tmux

t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

has_line() { grep -qx "$2" "$1" 2>/dev/null; }
state() { awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# stopped: T, or t for a stopped process its deputy traces (the group stop is genuine)
stopped() { case $(state "$1") in T|t) return 0 ;; esac; return 1; }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
computes() { local c0; c0=$(cpu "$1"); sleep 0.3; [ "$(cpu "$1")" -gt "$c0" ]; }
idle() { local c0; c0=$(cpu "$1"); sleep 0.3; [ "$(cpu "$1")" = "$c0" ]; }
rpid() { node 1 mosctl where "$1" --json | jq -r '.remote_pid // empty'; }
where_is() { [ "$(node 1 mosctl where "$1")" = "$2" ]; }
rcpu_ms() { node 1 mosctl where "$1" --json | jq .remote_cpu_ms; }
HZ=$(getconf CLK_TCK)

# --- SIGSTOP: home, on to another node, expel; SIGCONT resumes -----------
omcluster run 1 --dir "$D" mosrun "$VICT/loop" >"$D/loop.out" 2>"$D/loop.err" &
VPID=$!
wait_until 5 has_line "$D/loop.out" READY || t_bail "loop did not print READY"
t_ok "migrate it to node 2" node 1 migrate "$VPID" 2
R=$(rpid "$VPID")
kill -STOP "$VPID"
t_ok "SIGSTOP: the home process stops" wait_until 5 stopped "$VPID"
t_ok "and its copy at node 2 computes no more" idle "$R"
t_ok "migrate it home while it is stopped" node 1 timeout 20 migrate "$VPID" home
t_is "$(node 1 mosctl where "$VPID")" 1 "it is home"
t_is "$(state "$VPID")" T "it is still stopped at home (state T, untraced)"
t_ok "and does not run at home" idle "$VPID"
t_ok "migrate the stopped process to node 2" node 1 timeout 20 migrate "$VPID" 2
R=$(rpid "$VPID")
t_ok "it stays stopped at home" stopped "$VPID"
t_ok "its copy at node 2 is held, not computing" idle "$R"
t_ok "move it on to node 3, still stopped" node 1 timeout 20 migrate "$VPID" 3
R=$(rpid "$VPID")
t_is "$(node 1 mosctl where "$VPID")" 3 "it is at node 3"
t_ok "stopped at home" stopped "$VPID"
t_ok "its copy at node 3 is held" idle "$R"
rc0=$(rcpu_ms "$VPID")
kill -CONT "$VPID"
t_ok "SIGCONT: its copy at node 3 computes" wait_until 5 computes "$R"
t_ok "the home process is no longer stopped" wait_until 5 eval '! stopped '"$VPID"
sleep 1
kill -STOP "$VPID"
t_ok "stopped again, at node 3" wait_until 5 stopped "$VPID"
t_ok "its copy idles" idle "$R"
own=$(cpu "$R") # the copy's own clock, in ticks
t_ok "node 3 expels its guests" node 3 mosctl expel
t_ok "it is home" wait_until 5 where_is "$VPID" 1
t_is "$(state "$VPID")" T "expelled while stopped: still stopped at home"
t_ok "and does not run" idle "$VPID"
rc1=$(rcpu_ms "$VPID")
t_diag "copy's own CPU time at node 3: $((own * 1000 / HZ)) ms; counted away: $rc0 -> $rc1 ms"
t_ok "the CPU time of its copy at node 3 is counted at home (mosctl where --json)" \
	test "$((rc1 - rc0))" -ge "$((own * 1000 / HZ))"
t_ok "mps shows it (remote_cpu_ms)" test "$(node 1 mps --json "$VPID" | jq .remote_cpu_ms)" = "$rc1"
kill -CONT "$VPID"
t_ok "SIGCONT: it runs on at home" wait_until 5 computes "$VPID"
kill -USR1 "$VPID"
rc=0; wait "$VPID" || rc=$?
t_is "$rc:$(tr '\n' ' ' <"$D/loop.out")" "0:READY PASS " "nothing lost: it verifies its state (PASS), exit 0"

# --- the remote CPU time of a child that ends away goes to its parent ----
mkfifo "$D/fifo"
omcluster run 1 --dir "$D" mosrun sh -c "$VICT/loop; read x" <"$D/fifo" >"$D/sh.out" 2>&1 &
SH=$!
exec 7>"$D/fifo"
child_loop() { local c; for c in $(cat /proc/"$SH"/task/*/children 2>/dev/null); do
	[ "$(cat "/proc/$c/comm" 2>/dev/null)" = loop ] && echo "$c"; done; }
wait_until 5 has_line "$D/sh.out" READY || t_bail "the shell's loop did not start"
L=$(child_loop)
t_ok "the shell's child moves to node 2" node 1 migrate "$L" 2
R=$(rpid "$L")
sleep 1
own=$(cpu "$R")
kill -USR1 "$L" # it checks its sum (as long again) and exits there
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(state "$1")" = Z ]; }
t_ok "it ends at node 2" wait_until 10 gone "$L"
ch=$(node 1 mosctl where "$SH" --json | jq .children_remote_cpu_ms)
t_diag "child's own CPU time at node 2 before its exit: $((own * 1000 / HZ)) ms; the shell's children_remote_cpu_ms: $ch"
t_ok "its parent's children_remote_cpu_ms counts the child's time away" \
	test "$ch" -ge "$((own * 1000 / HZ))"
echo >&7
exec 7>&-
wait "$SH"

# --- Ctrl-Z in an interactive shell, then home, away and fg -------------
TM="tmux -L omstop$$"
$TM new-session -d -x 150 -y 50 \
	"env OPENMOSIX_DIR=$D/node1 PATH=$PATH PS1='$ ' bash --norc --noprofile -i" ||
	t_bail "tmux did not start"
t_cleanup $TM kill-server
SHELL_PID=$($TM display -p '#{pane_pid}')
screen() { $TM capture-pane -p -S -200; }
shows() { screen | grep -q -- "$1"; }
type_line() { $TM send-keys -l -- "$1"; $TM send-keys Enter; }
wait_until 5 shows '^\$' || { screen | sed "s/^/#   | /"; t_bail "no prompt in tmux"; }

type_line "mosrun $VICT/loop"
t_ok "a job starts in the foreground" wait_until 5 has_child "$SHELL_PID" loop
JOB=$(child_of "$SHELL_PID" loop)
t_ok "migrate it to node 2" node 1 migrate "$JOB" 2
$TM send-keys C-z
t_ok "Ctrl-Z: the shell reports it stopped" wait_until 5 shows 'Stopped'
t_ok "migrate the stopped job home" node 1 timeout 20 migrate "$JOB" home
type_line "clear; jobs"
t_ok "the shell still lists it stopped" wait_until 5 shows '^\[1\]+ *Stopped'
t_is "$(state "$JOB")" T "it is stopped at home"
t_ok "and does not run" idle "$JOB"
t_ok "migrate it to node 2 while stopped" node 1 timeout 20 migrate "$JOB" 2
R=$(rpid "$JOB")
t_ok "its copy is held" idle "$R"
type_line "clear; fg"
t_ok "fg: its copy at node 2 computes" wait_until 5 computes "$R"
$TM send-keys C-z
t_ok "Ctrl-Z again" wait_until 5 stopped "$JOB"
t_ok "the stopped job comes home again" node 1 timeout 20 migrate "$JOB" home
type_line "clear; fg"
t_ok "fg: it computes at home" wait_until 5 computes "$JOB"
kill -USR1 "$JOB"
type_line "echo status=\$?"
t_ok "it passes its checks (nothing lost) and exits 0" wait_until 10 shows '^status=0'
t_ok "its output says PASS" shows '^PASS'

# a background job stopped by SIGTTIN in a read of the terminal, brought
# home (mosctl bring) while stopped: fg restarts its read at home
type_line "clear"
type_line "mosrun sh -c 'while [ ! -e $D/go ]; do :; done; read x; echo got=\$x; exit 4' &"
t_ok "a background job starts" wait_until 5 has_child "$SHELL_PID" sh
BG=$(child_of "$SHELL_PID" sh)
t_ok "migrate it to node 2" node 1 migrate "$BG" 2
touch "$D/go"
t_ok "it reads the terminal from the background: stopped by SIGTTIN" wait_until 5 stopped "$BG"
t_ok "mosctl bring: it comes home" node 1 timeout 20 mosctl bring
t_is "$(node 1 mosctl where "$BG")" 1 "it is home"
t_is "$(state "$BG")" T "still stopped at home"
type_line "jobs"
t_ok "the shell lists it stopped" wait_until 5 shows '^\[1\]+ *Stopped'
type_line "fg"
sleep 0.3
type_line "hello"
t_ok "in the foreground its read, restarted at home, gets the line" wait_until 5 shows '^got=hello'
type_line "echo bgstatus=\$?"
t_ok "and its exit status reaches the shell" wait_until 5 shows '^bgstatus=4'
[ "$T_FAILED" = 0 ] || screen | sed 's/^/#   screen | /'
t_done
