#!/usr/bin/env bash
# File mappings after a move: a process moved to node 2 mmaps descriptors
# that live at home (tests/migrate/victims/fmap.c: a data file whole, at an
# offset, MAP_FIXED over its own memory, read-only MAP_SHARED; dlopen of
# libm), finds the file's bytes there, gets ENODEV for a writable
# MAP_SHARED, and keeps every mapping through two more moves (home, then
# node 3). A process that has a writable shared file mapping at home does
# not move at all (refuse_shared, in ckpt_local.sh).
. "$(dirname "$0")/../integration/lib.sh"
t_require_root

B=${BUILD:-build}
[[ $B = /* ]] || B=$T_ROOT/$B
VICT=$B/victims
[ -x "$VICT/fmap" ] || t_skip_all "no victims in $VICT (make)"
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

has_line() { grep -qx "$2" "$1" 2>/dev/null; }
says() { has_line "$D/fmap.out" "$1" || grep -q '^FAIL' "$D/fmap.out"; }

omcluster run 1 --dir "$D" mosrun "$VICT/fmap" >"$D/fmap.out" 2>"$D/fmap.err" &
VPID=$!
t_ok "fmap: READY" wait_until 5 has_line "$D/fmap.out" READY
t_ok "fmap: moved to node 2" node 1 migrate "$VPID" 2
t_is "$(node 1 mosctl where "$VPID")" 2 "fmap: it runs at node 2"
kill -USR1 "$VPID"
wait_until 20 says MAPPED
t_ok "fmap: its file mappings, libm and the ENODEV are right at node 2" \
	has_line "$D/fmap.out" MAPPED
t_ok "fmap: brought home" node 1 migrate "$VPID" home
t_ok "fmap: moved on to node 3" node 1 migrate "$VPID" 3
t_is "$(node 1 mosctl where "$VPID")" 3 "fmap: it runs at node 3"
kill -USR1 "$VPID"
rc=0
wait "$VPID" || rc=$?
t_is "$rc" 0 "fmap: exit 0"
t_is "$(cat "$D/fmap.out" | tr '\n' ' ')" "READY MAPPED PASS " \
	"fmap: the mappings kept their contents through home and node 3 (PASS)"
if [ "$rc" != 0 ]; then
	sed 's/^/#   out | /' "$D/fmap.out"
	sed 's/^/#   err | /' "$D/fmap.err"
fi
t_done
