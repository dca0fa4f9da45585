#!/usr/bin/env bash
# --cpus caps each node's CPU capacity: the cgroup holds the quota, omd reports
# it as "capacity", and a busy loop in a 0.5-core node shows as load > 1.
. "$(dirname "$0")/lib.sh"
t_require_root
t_require_cmd jq

# num_cmp A OP B: awk numeric comparison (OP: < <= > >= ==)
num_cmp() { awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }"; }

# field_cmp K ID FIELD OP VALUE: ID's FIELD as node K sees it compares OP VALUE
field_cmp() {
	local v
	v=$(node_field "$1" "$2" "$3") || { echo "node $1: no $3 for node $2"; return 1; }
	num_cmp "$v" "$4" "$5" || { echo "node $1: node $2 $3 = $v, want $4 $5"; return 1; }
}

cluster_start 2 --cpus 0.5,1 || t_bail "omcluster start 2 --cpus 0.5,1: cluster formed"
t_pass "omcluster start 2 --cpus 0.5,1: cluster formed"
TAG=$(cluster_tag)

# capacity as each node reports itself, and as the other one learns it
t_ok "node 1 reports capacity 0.5" field_cmp 1 1 capacity == 0.5
t_ok "node 2 reports capacity 1" field_cmp 2 2 capacity == 1
t_ok "node 2 sees node 1's capacity 0.5 (within 5 s)" wait_until 5 field_cmp 2 1 capacity == 0.5
t_ok "node 1 sees node 2's capacity 1 (within 5 s)" wait_until 5 field_cmp 1 2 capacity == 1

# the cgroup files hold the quota (v2 cpu.max, or v1 cfs quota/period)
check_quota() { # K QUOTA
	local d n=0
	for d in $(cg_dirs "omcluster/$TAG/node$1"); do
		if [ -e "$d/cpu.max" ]; then
			[ "$(cat "$d/cpu.max")" = "$2 100000" ] || { echo "$d/cpu.max: $(cat "$d/cpu.max")"; return 1; }
			n=$((n + 1))
		fi
		if [ -e "$d/cpu.cfs_quota_us" ]; then
			[ "$(cat "$d/cpu.cfs_quota_us")" = "$2" ] || { echo "$d/cpu.cfs_quota_us: $(cat "$d/cpu.cfs_quota_us")"; return 1; }
			[ "$(cat "$d/cpu.cfs_period_us")" = 100000 ] || { echo "$d/cpu.cfs_period_us: $(cat "$d/cpu.cfs_period_us")"; return 1; }
			n=$((n + 1))
		fi
	done
	[ "$n" -eq 1 ] || { echo "node $1: $n cpu controller cgroups, want 1"; return 1; }
}
t_ok "node 1's cgroup has quota 50000/100000" check_quota 1 50000
t_ok "node 2's cgroup has quota 100000/100000" check_quota 2 100000

# idle before the loop
t_ok "node 1's load is below 0.5 before the loop (within 10 s)" wait_until 10 field_cmp 2 1 load '<' 0.5

# one busy process in the 0.5-core node: load 2.0 nominally
omcluster run 1 --dir "$CLUSTER_DIR" sh -c 'while :; do :; done' &
busy=$!
t_cleanup kill -KILL "$busy"
t0=$(t_now_us)
t_ok "busy loop in node 1: node 2 sees node 1's load > 1.0 within 5 s" \
	wait_until 5 field_cmp 2 1 load '>' 1.0
t_diag "load rose after $(elapsed_since "$t0") s: $(node_field 2 1 load)"
t_ok "node 1 itself reports load > 1.0" wait_until 2 field_cmp 1 1 load '>' 1.0
t_ok "node 2's own load stays below 0.5" field_cmp 2 2 load '<' 0.5

kill -TERM "$busy"
wait "$busy" 2>/dev/null
t0=$(t_now_us)
# the advertised load decays slowly (MOSIX: 1/8 per second): 2.0 -> 0.5 takes ~10.4 s
t_ok "loop killed: node 2 sees node 1's load < 0.5 within 15 s" \
	wait_until 15 field_cmp 2 1 load '<' 0.5
t_diag "load fell after $(elapsed_since "$t0") s: $(node_field 2 1 load)"

t_done
