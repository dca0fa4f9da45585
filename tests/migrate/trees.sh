#!/usr/bin/env bash
# Trees under care: every descendant of a program started with mosrun is
# under care (with its parent's options), listed by mps and migratable,
# whether the shell forked it at home; a shell whose children run on other
# nodes reaps them with their real statuses ($!, wait, $?).
. "$(dirname "$0")/../integration/lib.sh"
t_require_root

t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

care_of() { node 1 mps --json "$1" | jq -r .care; }
where_is() { [ "$(node 1 mosctl where "$1")" = "$2" ]; }

# --- a locked shell, a child and a grandchild (through bash) -------------
omcluster run 1 --dir "$D" mosrun -L sh -c \
	'sleep 300 & bash -c "sleep 301 & wait" & wait' >/dev/null 2>&1 &
SH=$!
# omcluster (a bash script) forks subshells named bash before it execs
# mosrun, which execs sh: look for sh's children only once it is sh
is_sh() { [ "$(cat "/proc/$SH/comm" 2>/dev/null)" = sh ]; }
wait_until 5 is_sh || t_diag "process $SH is not sh after 5 s"
t_ok "the shell starts its children" wait_until 5 has_child "$SH" bash
BASH_PID=$(child_of "$SH" bash)
t_ok "bash starts its child" wait_until 5 has_child "$BASH_PID" sleep || {
	t_diag "bash $BASH_PID: $(tr '\n' ' ' </proc/"$BASH_PID"/status 2>&1 | head -c 400) children: $(cat /proc/"$BASH_PID"/task/*/children 2>&1) $(for c in $(cat /proc/"$BASH_PID"/task/*/children 2>/dev/null); do echo "$c:$(cat /proc/$c/comm):$(cut -d' ' -f1 /proc/$c/syscall):$(awk '/^(State|TracerPid)/{printf "%s ", $2}' /proc/$c/status)"; done)"
	t_bail "no child of bash: the rest would wait for it for minutes"
}
S1=$(child_of "$SH" sleep); S2=$(child_of "$BASH_PID" sleep)
t_is "$(care_of "$SH") $(care_of "$S1") $(care_of "$BASH_PID") $(care_of "$S2")" \
	"true true true true" "mps: the shell, its child, bash and its child are all under care"
t_is "$(node 1 mosctl where "$S2" --json | jq -c '[.under_care, .lock, .parent]')" \
	"[true,true,$BASH_PID]" "the grandchild inherits the lock (-L) and knows its parent"
t_ok "the grandchild migrates (locked: an explicit migrate still moves it)" node 1 migrate "$S2" 2
t_is "$(node 1 mps --json "$S2" | jq -c '[.node, .care]')" "[2,true]" "mps shows it at node 2"
t_ok "the child migrates too" node 1 migrate "$S1" 3
sleep 400 &
PLAIN=$!
t_is "$(care_of "$PLAIN")" false "a process outside the tree is not under care"
kill "$PLAIN"
kill -TERM "$S2" "$S1"
rc=0; wait "$SH" || rc=$?
t_is "$rc" 0 "the shell reaps both (the killed ones included) and ends"

# --- a shell loop whose children run on two nodes and are reaped ---------
omcluster run 1 --dir "$D" mosrun sh -c "
	$VICT/loop & a=\$!
	$VICT/loop & b=\$!
	echo pids \$a \$b
	wait \$a; echo a=\$?
	wait \$b; echo b=\$?
	jobs; echo done" >"$D/loop.out" 2>"$D/loop.err" &
SH=$!
two_ready() { [ "$(grep -c '^READY$' "$D/loop.out")" = 2 ]; }
t_ok "two children started and ready" wait_until 5 two_ready
read -r _ A B < <(grep '^pids' "$D/loop.out")
ppid() { awk '{ print $4 }' "/proc/$1/stat"; }
t_is "$(ppid "$A") $(ppid "$B")" "$SH $SH" "\$! of the shell names its children"
t_ok "child a moves to node 2" node 1 migrate "$A" 2
t_ok "child b moves to node 3" node 1 migrate "$B" 3
t_is "$(node 1 mosctl where "$A") $(node 1 mosctl where "$B")" "2 3" "they run at nodes 2 and 3"
kill -USR1 "$A"
kill -TERM "$B"
rc=0; wait "$SH" || rc=$?
t_is "$rc" 0 "the shell ends"
t_is "$(grep -E '^(a|b)=|^done' "$D/loop.out" | tr '\n' ' ')" "a=0 b=143 done " \
	"wait reports a's exit 0 and b killed by SIGTERM (143)"
t_is "$(grep -c '^PASS$' "$D/loop.out")" 1 "a verified its state after the move (PASS)"
t_done
