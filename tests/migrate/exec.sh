#!/usr/bin/env bash
# execve after a move: the process goes home and execs there, so arguments,
# environment, FD_CLOEXEC and signal resets are the home kernel's own; the
# new program keeps the pid, stays under care and can move again.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root

t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

has_line() { grep -qx "$2" "$1" 2>/dev/null; }
where_is() { [ "$(node 1 mosctl where "$1")" = "$2" ]; }

omcluster run 1 --dir "$D" mosrun "$VICT/exec_after" >"$D/exec.out" 2>"$D/exec.err" &
VPID=$!
wait_until 5 has_line "$D/exec.out" READY || t_bail "exec_after did not print READY"
t_ok "migrate it to node 2" node 1 migrate "$VPID" 2
t_is "$(node 1 mosctl where "$VPID")" 2 "it runs at node 2"
kill -USR1 "$VPID"
t_ok "after its execve the new program runs and checks its state" \
	wait_until 10 has_line "$D/exec.out" EXECED
t_ok "the exec took it home (node 1)" wait_until 5 where_is "$VPID" 1
t_is "$(tr '\0' ' ' </proc/$VPID/cmdline)" "exec_after second $VPID " \
	"the home process runs the new program with its arguments"
t_is "$(node 1 mosctl where "$VPID" --json | jq -c .under_care)" true "still under care"
t_ok "the new program moves again (node 3)" node 1 migrate "$VPID" 3
kill -USR1 "$VPID"
rc=0; wait "$VPID" || rc=$?
t_is "$rc" 3 "its parent reaps the new program's exit status (3)"
t_is "$(tr '\n' ' ' <"$D/exec.out")" "READY EXECED PASS " "output: READY, EXECED, PASS"
[ "$rc" = 3 ] || sed 's/^/#   err | /' "$D/exec.err"


# a shell moved while it waits for input, which then execs another program
# (exec goes home): output and exit status are the new program's
in_syscall() { [ "$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)" = "$2" ]; }
sh_reads() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sh ] && in_syscall "$1" 0; }
mkfifo "$D/fifo"
omcluster run 1 --dir "$D" mosrun sh -c 'read x; export x; exec sh -c "echo \$\$ \$x; exit 5"' \
	<"$D/fifo" >"$D/sh.out" 2>"$D/sh.err" &
SPID=$!
exec 7>"$D/fifo"
t_ok "the shell waits in read" wait_until 5 sh_reads "$SPID"
t_ok "migrate the waiting shell to node 3" node 1 migrate "$SPID" 3
echo hello >&7
exec 7>&-
rc=0; wait "$SPID" || rc=$?
t_is "$rc:$(cat "$D/sh.out")" "5:$SPID hello" "exec'd program: same pid, exported variable, exit 5"
t_done
