#!/usr/bin/env bash
# The home stays genuine: zdtm-style victims moved between real nodes see,
# through their system calls, the same identity, descriptors, pipes, children
# and output as if they had never left node 1. Each victim starts under
# mosrun on node 1, says READY, is moved (some go 2 -> home -> 3), is poked
# from outside where its test needs it, gets SIGUSR1 at its home pid, and must
# say PASS and exit 0.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root

B=${BUILD:-build}
[[ $B = /* ]] || B=$T_ROOT/$B
VICT=$B/victims
[ -x "$VICT/identity" ] || t_skip_all "no victims in $VICT (make)"
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

has_ready() { head -n 1 "$1" 2>/dev/null | grep -qx READY; }
where_is() { [ "$(node 1 mosctl where "$1")" = "$2" ]; }
# in_syscall PID NR: PID sits in system call NR at home (/proc/PID/syscall)
in_syscall() { [ "$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)" = "$2" ]; }

# start NAME [ARGS...]: a victim under mosrun on node 1, stdin from $STDIN
# (default /dev/null), stdout to $D/NAME.out; sets VPID, waits for READY
start() {
	local name=$1; shift
	omcluster run 1 --dir "$D" mosrun "$VICT/$name" "$@" \
		<"${STDIN:-/dev/null}" >"$D/$name.out" 2>"$D/$name.err" &
	VPID=$!
	wait_until 5 has_ready "$D/$name.out"
}

# hops NAME HOP...: migrate VPID along the hops; passes if every hop lands
hops() {
	local name=$1 hop path=""; shift
	for hop in "$@"; do
		if ! node 1 migrate "$VPID" "$hop" >"$D/$name.mig" 2>&1; then
			t_fail "$name: migrate $hop: $(cat "$D/$name.mig")"
			return 1
		fi
		path="$path $hop:$(node 1 mosctl where "$VPID")"
	done
	t_pass "$name: moved:$path"
}

# finish NAME [WANT]: SIGUSR1 to the home pid, reap it, expect exit 0 and
# stdout WANT (default READY, PASS)
finish() {
	local name=$1 want=${2:-$(printf 'READY\nPASS')} rc=0
	kill -USR1 "$VPID" 2>/dev/null
	wait "$VPID" || rc=$?
	if [ "$rc" = 0 ] && [ "$(cat "$D/$name.out")" = "$want" ]; then
		t_pass "$name: PASS, exit 0"
	else
		t_fail "$name: exit $rc"
		head -c 2000 "$D/$name.out" | sed 's/^/#   out | /'
		sed 's/^/#   err | /' "$D/$name.err"
	fi
}

# --- identity, files, pipes, sockets: moved once, and 2 -> home -> 3 ------
for v in identity files pipes sockets; do
	for path in "2" "2 home 3"; do
		start "$v" || { t_fail "$v did not print READY"; kill -9 "$VPID"; continue; }
		# shellcheck disable=SC2086
		hops "$v" $path || { kill -9 "$VPID"; wait "$VPID"; continue; }
		finish "$v"
	done
done
# a static build, for the raw system calls without libc's caches; and musl
start identity-static && hops identity-static 3 && finish identity-static
for v in identity-musl files-musl; do
	if start "$v"; then
		hops "$v" 2 home 3 && finish "$v"
	else
		t_fail "$v did not print READY"; kill -9 "$VPID"; wait "$VPID"
	fi
done

# --- blocked in a system call at the move ---------------------------------
# read: SIGUSR2 (SA_RESTART) while the read waits at home: it restarts;
# eintr: SIGUSR2 without SA_RESTART: EINTR, as at home;
# read, with "home 3": brought home and moved again while the read waits.
# wait: in waitpid() for a child at home; poll: in poll() on the fifo
for mp in read:2 eintr:2 pipe:2 read:2_home_3 wait:2 poll:2_home_3; do
	mp=${mp//_/ }
	mode=${mp%%:*} path=${mp#*:}
	fifo=$D/blocked-$mode.fifo
	rm -f "$fifo"; mkfifo "$fifo"
	exec 7<>"$fifo"
	STDIN=$fifo start blocked "$mode" || t_fail "blocked $mode did not print READY"
	case $mode in wait) nr=61 call=wait4 ;; poll) nr=7 call=poll ;; *) nr=0 call=read ;; esac
	t_ok "blocked $mode: it sits in $call() at home" wait_until 5 in_syscall "$VPID" $nr
	# shellcheck disable=SC2086
	hops "blocked $mode" $path
	if [ "$mode" = read ] || [ "$mode" = eintr ]; then
		kill -USR2 "$VPID"
		sleep 0.3
	fi
	[ "$mode" = eintr ] || echo hello >&7
	finish blocked
	exec 7>&-
done
# nanosleep: cut at home by the move, then at node 2 by the move home
if start blocked nanosleep; then
	t_ok "blocked nanosleep: it sits in clock_nanosleep() at home (glibc)" wait_until 5 in_syscall "$VPID" 230
	hops "blocked nanosleep" 2 home && finish blocked
else
	t_fail "blocked nanosleep did not print READY"
fi

# --- timers: armed at home, re-armed at node 2, then 3 -> home -> 2 --------
armed() { grep -qx ARMED "$D/timers.out"; }
if start timers && hops timers 2; then
	kill -USR2 "$VPID"
	t_ok "timers: re-armed at node 2" wait_until 5 armed
	hops timers 3 home 2 && finish timers "$(printf 'READY\nARMED\nPASS')"
else
	t_fail "timers did not start or move"; kill -9 "$VPID"; wait "$VPID"
fi

# --- 16 MiB to stdout from node 2 -----------------------------------------
if start bigout && hops bigout 2; then
	t0=$(t_now_us)
	kill -USR1 "$VPID"
	rc=0; wait "$VPID" || rc=$?
	t_is "$rc" 0 "bigout: exit 0"
	t_diag "16 MiB written from node 2 in $(elapsed_since "$t0") s"
	size=$(stat -c %s "$D/bigout.out")
	t_is "$size" $((6 + 16 * 1024 * 1024 + 5)) "bigout: READY, 16 MiB, PASS: the size is exact"
	t_is "$(head -c 6 "$D/bigout.out" | tr '\n' '|')$(tail -c 5 "$D/bigout.out" | tr '\n' '|')" \
		"READY|PASS|" "bigout: READY first, PASS last"
	t_is "$(tail -c +7 "$D/bigout.out" | head -c $((16 << 20)) | md5sum)" \
		"$("$VICT/bigout" --pattern | md5sum)" "bigout: the 16 MiB are the pattern, in order"
fi

# --- the HOWTO's pipe: a producer moved mid-stream, a reader at home ------
mkfifo "$D/howto.fifo"
cat "$D/howto.fifo" >"$D/howto_pipe.lines" &
reader=$!
# 30000 lines: each is a forwarded write, slow under the sanitizers
LINES=30000
omcluster run 1 --dir "$D" mosrun "$VICT/howto_pipe" 1000 $LINES >"$D/howto.fifo" 2>"$D/howto_pipe.err" &
VPID=$!
nlines() { wc -l <"$D/howto_pipe.lines"; }
past() { [ "$(nlines)" -ge "$1" ]; }
if wait_until 5 past 1000; then
	hops howto_pipe 2
	n1=$(nlines)
	wait_until 20 past $((n1 + 6000)) && hops howto_pipe home 3
	n2=$(nlines)
	t_diag "howto_pipe: moved at line ~$n1, again at ~$n2"
	t_ok "howto_pipe: all $LINES lines came" wait_until 60 past $((LINES + 1))
	kill -USR1 "$VPID"
	rc=0; wait "$VPID" || rc=$?
	wait "$reader"
	t_is "$rc" 0 "howto_pipe: exit 0"
	t_is "$(sed -n '1p;$p' "$D/howto_pipe.lines" | tr '\n' ' ')" "READY PASS " \
		"howto_pipe: READY first, PASS last"
	t_is "$(sed '1d;$d' "$D/howto_pipe.lines" | md5sum)" "$(seq -f %06g 1 $LINES | md5sum)" \
		"howto_pipe: every line arrived once, in order"
else
	t_fail "howto_pipe did not start writing"
	kill -9 "$VPID" "$reader"
fi
t_done
