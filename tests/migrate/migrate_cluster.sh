#!/usr/bin/env bash
# Migration between real nodes of a local cluster: mosrun + migrate move a
# running program to another node; it runs there (in that node's cgroup,
# under its real name), its writes and exit go home, signals sent to its
# home pid reach it, and its parent reaps its real exit status. Refusals
# say why and leave the process unharmed at home. A node that dies takes
# its guests with it: they end as SIGKILL'd at home.
. "$(dirname "$0")/../integration/lib.sh"
t_require_root

t_victims
cluster_start 3 || t_bail "3-node cluster did not form"
D=$CLUSTER_DIR

has_ready() { grep -qx READY "$1"; }

# start NAME ARGS...: a victim under mosrun on node 1, stdout to $D/NAME.out; sets VPID
start() {
	local name=$1; shift
	omcluster run 1 --dir "$D" mosrun "$VICT/$name" "$@" >"$D/$name.out" 2>"$D/$name.err" &
	VPID=$!
	wait_until 5 has_ready "$D/$name.out"
}

# in_cgroup K COMM: a process named COMM runs in node K's cgroup
in_cgroup() {
	local d p
	for d in $(omcluster cgroups "$2" --dir "$D" 2>/dev/null); do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && return 0
		done
	done
	return 1
}

# --- the HOWTO's while(1) loop, moved to node 2 and finished there ---------
start loop || t_bail "loop did not print READY"
t_is "$(node 1 mosctl where "$VPID")" 1 "before the move, mosctl where says node 1"
t_ok "migrate $VPID 2 returns 0" node 1 migrate "$VPID" 2
t_is "$(node 1 mosctl where "$VPID")" 2 "mosctl where says node 2"
t_is "$(node 1 mosctl where "$VPID" --json | jq -c '[.nmigs, .home, .under_care]')" "[1,1,true]" \
	"where --json: one migration, home node 1, under care"
t_ok "it runs in node 2's cgroup under its real name" in_cgroup loop 2
rpid=$(node 1 mosctl where "$VPID" --json | jq .remote_pid)
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
home0=$(cpu "$VPID"); remote0=$(cpu "$rpid")
remote_computes() { [ $(($(cpu "$rpid") - remote0)) -ge 20 ]; }
t_ok "the copy at node 2 computes (0.2 s of CPU)" wait_until 5 remote_computes
t_is "$(cpu "$VPID")" "$home0" "while the home process (the deputy) uses no CPU at all"
t_is "$(tr '\0' ' ' </proc/$rpid/cmdline)" "$VICT/loop " "ps at node 2 shows its real command line"
kill -USR1 "$VPID"
rc=0; wait "$VPID" || rc=$?
t_is "$rc" 0 "the parent reaps exit status 0 at home"
t_is "$(cat "$D/loop.out")" "$(printf 'READY\nPASS')" "the loop verified its state and said PASS through its home stdout"

# --- there and back, several times: 1 -> 2 -> home -> 3 -> home ----------
for v in loop mem-static fpu signals mem-musl fpu-musl signals-musl; do
	start "$v" || { t_fail "$v did not print READY"; continue; }
	path=""
	for hop in 2 home 3 home; do
		if ! node 1 migrate "$VPID" "$hop" >"$D/$v.mig" 2>&1; then
			path="$path $hop(FAILED: $(cat "$D/$v.mig"))"
			break
		fi
		path="$path $hop:$(node 1 mosctl where "$VPID")"
	done
	t_is "$path" " 2:2 home:1 3:3 home:1" "$v: where after each hop of 1 -> 2 -> home -> 3 -> home"
	[ "${v%-musl}" = signals ] && kill -USR2 "$VPID"
	kill -USR1 "$VPID"
	rc=0; wait "$VPID" || rc=$?
	t_is "$rc:$(tr '\n' ' ' <"$D/$v.out")" "0:READY PASS " "$v: back home it verifies its state, PASS, exit 0"
done

# --- a static binary, and memory/FPU/signal state across a real move ------
for v in loop-static mem fpu signals; do
	start "$v" || { t_fail "$v did not print READY"; continue; }
	if node 1 migrate "$VPID" 3 >"$D/$v.mig" 2>&1; then
		[ "$v" = signals ] && kill -USR2 "$VPID"
		kill -USR1 "$VPID"
		rc=0; wait "$VPID" || rc=$?
		out=$(cat "$D/$v.out")
		if [ "$rc" = 0 ] && [ "$out" = "$(printf 'READY\nPASS')" ]; then
			t_pass "$v: moved to node 3, PASS, exit 0"
		else
			t_fail "$v: moved to node 3: exit $rc"
			sed 's/^/#   | /' "$D/$v.out" "$D/$v.err"
		fi
	else
		t_fail "$v: migrate failed: $(cat "$D/$v.mig")"
		kill -9 "$VPID"
	fi
done

# --- refusals say why; the process stays home unharmed --------------------
start refuse_shm || t_bail "refuse_shm did not print READY"
out=$(node 1 migrate "$VPID" 2 2>&1); rc=$?
t_is "$rc" 1 "a process with SysV shared memory is refused (exit 1)"
t_like "$out" "shm" "and the reason names shm"
t_is "$(node 1 mosctl where "$VPID" --json | jq -r .cantmove)" shm "mosctl where --json: cantmove shm"
kill -USR1 "$VPID"; rc=0; wait "$VPID" || rc=$?
t_is "$rc" 0 "it goes on at home and passes"

sleep 300 & plain=$!
t_cleanup kill "$plain"
t_like "$(node 1 migrate "$plain" 2 2>&1)" "not under the cluster's care" "a process not started with mosrun is refused"
t_like "$(node 1 migrate 999999 2 2>&1)" "no such process" "a pid that does not exist is refused"
t_like "$(node 1 migrate "$VICT" 2 2>&1; echo " rc=$?")" "rc=2" "a malformed pid is a usage error"

t_ok "node 2 blocks guests" node 2 mosctl block
start loop || t_bail "loop did not print READY"
t_like "$(node 1 migrate "$VPID" 2 2>&1)" "node 2 blocks guest processes" "migrating to a blocking node is refused"
t_is "$(node 1 mosctl where "$VPID")" 1 "and the process is still at node 1"
t_ok "node 2 accepts guests again" node 2 mosctl noblock

# --- the target node dies: the process ends as SIGKILL'd at home -----------
t_ok "migrate to node 3" node 1 migrate "$VPID" 3
t0=$(t_now_us)
kill -9 "$(cat "$D/node3/omd.pid")"
gone() { ! kill -0 "$VPID" 2>/dev/null || [ "$(awk '/^State:/ {print $2}' /proc/$VPID/status 2>/dev/null)" = Z ]; }
t_ok "node 3 dies: the home process ends within 2 s" wait_until 2 gone
rc=0; wait "$VPID" || rc=$?
t_is "$rc" 137 "its parent sees it killed by SIGKILL (status 137)"
t_diag "ended $(elapsed_since "$t0") s after node 3's daemon was killed"
t_nok "nothing of it is left on node 3" in_cgroup loop 3
t_done
