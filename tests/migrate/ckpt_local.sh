#!/usr/bin/env bash
# ckpt_local: the migration engine on one machine. Every victim (dynamic and
# -static) is started, moved by ckpt_move into a fresh process while it runs,
# signalled at its new pid, and must end with PASS and exit 0 as if nothing
# happened. The refuse_* victims must not move (with the right cantmove word)
# and must go on unharmed at home.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root

B=${BUILD:-build}
[[ $B = /* ]] || B=$T_ROOT/$B
MOVE=$B/helpers/ckpt_move
VICT=$B/victims
[ -x "$MOVE" ] || t_skip_all "no $MOVE (build it first)"

D=$(mktemp -d /tmp/omtest.ckpt_local.XXXXXX)
t_cleanup rm -rf "$D"
PIDS=()
kill_all() { local p; for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; }
t_cleanup kill_all

has_ready() { grep -qx READY "$1"; }
nonempty() { [ -s "$1" ]; }

# start NAME ARGS...: runs the victim with stdin from $D/fifo (held open on fd 7)
# and stdout to $D/NAME.out; sets VPID
start() {
	local name=$1; shift
	rm -f "$D/fifo"; mkfifo "$D/fifo"
	exec 7<>"$D/fifo"
	"$VICT/$name" "$@" <"$D/fifo" >"$D/$name.out" 2>"$D/$name.err" &
	VPID=$!
	PIDS+=("$VPID")
	wait_until 5 has_ready "$D/$name.out"
}

# move TAG NAME [ARGS...]: the whole cycle for one victim
move() {
	local tag=$1 name=$2 rc=0 npid comm; shift 2
	local mode=${1:-}
	if ! start "$name" "$@"; then
		t_fail "$tag: victim did not print READY"
		return
	fi
	"$MOVE" ${KEEP:+--keep} ${WIRE:+--wire} "$VPID" >"$D/$name.move" 2>"$D/$name.moveerr" &
	local mpid=$!
	PIDS+=("$mpid")
	if ! wait_until 10 nonempty "$D/$name.move"; then
		t_fail "$tag: ckpt_move printed no pid"
		sed 's/^/#   | /' "$D/$name.moveerr"
		kill -9 "$mpid" "$VPID" 2>/dev/null; exec 7>&-
		return
	fi
	npid=$(head -n1 "$D/$name.move")
	PIDS+=("$npid")
	comm=$(cat "/proc/$npid/comm" 2>/dev/null)
	if [ -n "$KEEP" ]; then
		local st
		st=$(awk '/^State:/ { print $2 }' "/proc/$VPID/status" 2>/dev/null)
		t_is "$st" t "$tag: original kept stopped (--keep)"
	fi
	case $name in
	signals*) kill -USR2 "$npid" ;;
	sleepcall*) [ "$mode" = read ] && echo hello >&7 ;;
	esac
	kill -USR1 "$npid" 2>/dev/null
	wait "$mpid" || rc=$?
	wait "$VPID" 2>/dev/null
	exec 7>&-
	local out
	out=$(cat "$D/$name.out")
	if [ "$rc" -eq 0 ] && [ "$out" = "$(printf 'READY\nPASS')" ] && [ "$npid" != "$VPID" ] &&
		[ "$comm" = "${name:0:15}" ]; then
		t_pass "$tag: moved ($VPID -> $npid), PASS, exit 0"
	else
		t_fail "$tag: moved ($VPID -> $npid)"
		t_diag "  exit $rc, comm '$comm', output:"
		printf '%s\n' "$out" | sed 's/^/#   | /'
		sed 's/^/#   err | /' "$D/$name.moveerr" "$D/$name.err"
	fi
}

# refuse TAG NAME WORD: ckpt_move must refuse with WORD; the victim goes on
refuse() {
	local tag=$1 name=$2 word=$3 rc=0 vrc=0
	if ! start "$name"; then
		t_fail "$tag: victim did not print READY"
		return
	fi
	"$MOVE" "$VPID" >"$D/$name.move" 2>"$D/$name.moveerr" || rc=$?
	if [ "$rc" -eq 3 ] && grep -q "cannot move: .*\b$word\b" "$D/$name.moveerr"; then
		t_pass "$tag: refused ($word)"
	else
		t_fail "$tag: refused ($word)"
		t_diag "  exit $rc"
		sed 's/^/#   err | /' "$D/$name.moveerr"
	fi
	kill -USR1 "$VPID"
	wait "$VPID" || vrc=$?
	exec 7>&-
	t_is "$vrc $(tail -n1 "$D/$name.out")" "0 PASS" "$tag: still runs at home and passes"
}

for s in "" -static; do
	for v in loop mem fpu signals vdso_rseq; do
		move "$v$s" "$v$s"
	done
	move "sleepcall$s read" "sleepcall$s" read
	move "sleepcall$s nanosleep" "sleepcall$s" nanosleep
done
KEEP=1 move "loop --keep" loop
WIRE=1 move "mem --wire (image encoded and decoded)" mem
WIRE=1 move "signals-static --wire" signals-static

refuse "two threads" refuse_threads clone_vm
refuse "SysV shm" refuse_shm shm
refuse "writable shared file" refuse_shared monkey
refuse "mlock" refuse_mlock mem_lock
refuse "two threads, static" refuse_threads-static clone_vm

t_done
