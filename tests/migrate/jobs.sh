#!/usr/bin/env bash
# Job control through a real terminal: an interactive bash in tmux runs a
# migrated job; Ctrl-Z stops it (at home, where the shell sees it, and at
# its node), bg/fg continue it, Ctrl-C ends it with SIGINT; a migrated job
# that reads the terminal in the background stops with SIGTTIN and reads
# once brought to the foreground.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root
t_require_cmd tmux

t_victims
cluster_start 2 || t_bail "2-node cluster did not form"
D=$CLUSTER_DIR
TM="tmux -L omjobs$$"
$TM new-session -d -x 150 -y 50 \
	"env OPENMOSIX_DIR=$D/node1 PATH=$PATH PS1='$ ' bash --norc --noprofile -i" ||
	t_bail "tmux did not start"
t_cleanup $TM kill-server
SHELL_PID=$($TM display -p '#{pane_pid}')

screen() { $TM capture-pane -p -S -200; }
shows() { screen | grep -q -- "$1"; }
type_line() { $TM send-keys -l -- "$1"; $TM send-keys Enter; }
state() { awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
state_is() { [ "$(state "$1")" = "$2" ]; }
# stopped: T, or t for a stopped process its deputy traces (the group stop is genuine)
stopped() { case $(state "$1") in T|t) return 0 ;; esac; return 1; }
state_not() { [ -n "$(state "$1")" ] && [ "$(state "$1")" != "$2" ]; }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
computes() { local c0; c0=$(cpu "$1"); sleep 0.3; [ "$(cpu "$1")" -gt "$c0" ]; }
idle() { local c0; c0=$(cpu "$1"); sleep 0.3; [ "$(cpu "$1")" = "$c0" ]; }

wait_until 5 shows '^\$' || { screen | sed "s/^/#   | /"; t_bail "no prompt in tmux"; }
# --- Ctrl-Z, bg, fg, Ctrl-C -------------------------------------------------
type_line "mosrun $VICT/loop"
t_ok "the job starts in the foreground" wait_until 5 has_child "$SHELL_PID" loop
JOB=$(child_of "$SHELL_PID" loop)
t_ok "migrate it to node 2" node 1 migrate "$JOB" 2
RJOB=$(node 1 mosctl where "$JOB" --json | jq .remote_pid)
t_ok "it computes at node 2" computes "$RJOB"
$TM send-keys C-z
t_ok "Ctrl-Z: the shell reports the job stopped" wait_until 5 shows 'Stopped'
t_ok "the home process is stopped (its parent, the shell, saw it)" stopped "$JOB"
t_ok "the copy at node 2 computes no more" idle "$RJOB"
type_line "bg"
t_ok "bg: the home process runs on (parked for its copy)" wait_until 5 eval '! stopped '"$JOB"
t_ok "bg: the copy computes again" computes "$RJOB"
type_line "jobs"
t_ok "jobs lists it as running" wait_until 5 shows 'Running'
type_line "fg"
sleep 0.2
$TM send-keys C-c
type_line "echo status=\$?"
t_ok "Ctrl-C: it ends by SIGINT, the shell reports status 130" wait_until 5 shows '^status=130'
t_ok "nothing of it is left" wait_until 5 eval '! kill -0 '"$JOB"' 2>/dev/null'

# --- SIGTTIN: a background job reading the terminal ----------------------
type_line "clear"
type_line "mosrun sh -c 'while [ ! -e $D/go ]; do :; done; read x; echo got=\$x; exit 4' &"
t_ok "a background job starts" wait_until 5 has_child "$SHELL_PID" sh
BG=$(child_of "$SHELL_PID" sh)
t_ok "migrate it to node 2" node 1 migrate "$BG" 2
touch "$D/go"
t_ok "it reads the terminal from the background: stopped by SIGTTIN" \
	wait_until 5 stopped "$BG"
type_line "jobs"
t_ok "the shell lists it stopped" wait_until 5 shows '^\[1\]+ *Stopped'
t_ok "the home side says SIGTTIN" grep -q "process $BG stops with its copy (Stopped (tty input))" \
	"$D/node1/omd.log"
type_line "fg"
sleep 0.3
type_line "hello"
t_ok "in the foreground its read gets the line" wait_until 5 shows '^got=hello'
type_line "echo bgstatus=\$?"
t_ok "and its exit status reaches the shell" wait_until 5 shows '^bgstatus=4'

# --- the home terminal answers: isatty, termios, window size, SIGWINCH ----
type_line "clear"
type_line "mosrun $VICT/tty"
t_ok "a terminal program starts" wait_until 5 has_child "$SHELL_PID" tty
TTYP=$(child_of "$SHELL_PID" tty)
wait_until 5 shows '^READY'
t_ok "migrate it to node 2" node 1 migrate "$TTYP" 2
kill -USR1 "$TTYP"
t_ok "after the move, isatty and tcgetattr work and the size is the terminal's" \
	wait_until 5 shows '^winsize 50x150'
$TM resize-window -x 120 -y 40
t_ok "a resize sends SIGWINCH to it and the new size is read" wait_until 5 shows '^winch 40x120'
t_ok "it passes" wait_until 5 shows '^PASS'

# --- Ctrl-C reaches every member of a job spread over nodes ---------------
type_line "clear"
type_line "mosrun sh -c '$VICT/loop | $VICT/loop'"
t_ok "a two-process pipeline starts" wait_until 5 has_child "$SHELL_PID" sh
PSH=$(child_of "$SHELL_PID" sh)
loops() { local c; for c in $(cat /proc/"$PSH"/task/*/children 2>/dev/null); do
	[ "$(cat "/proc/$c/comm" 2>/dev/null)" = loop ] && echo "$c"; done; }
two_loops() { [ "$(loops | wc -l)" = 2 ]; }
t_ok "both members run" wait_until 5 two_loops
read -r L1 L2 < <(loops | tr '\n' ' ')
t_ok "one member moves to node 2" node 1 migrate "$L1" 2
t_ok "the shell of the job moves to node 2 too" node 1 migrate "$PSH" 2
t_is "$(node 1 mosctl where "$L1") $(node 1 mosctl where "$PSH") $(node 1 mosctl where "$L2")" \
	"2 2 1" "the job runs at nodes 2 and 1"
$TM send-keys C-c
all_gone() { ! kill -0 "$L1" 2>/dev/null && ! kill -0 "$L2" 2>/dev/null && ! kill -0 "$PSH" 2>/dev/null; }
wait_until 5 all_gone
type_line "echo pgstatus=\$?"
t_ok "Ctrl-C ends the whole job: the shell reports 130" wait_until 5 shows '^pgstatus=130'
t_ok "every member is gone" wait_until 5 all_gone
[ "$T_FAILED" = 0 ] || screen | sed 's/^/#   screen | /'
t_done
