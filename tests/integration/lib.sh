# shellcheck shell=bash
# tests/integration/lib.sh: sourced by every integration test.
#
#   . "$(dirname "$0")/lib.sh"
#   t_require_root
#   cluster_start 3 || t_bail "cluster did not form"
#   t_ok "node 1 sees node 3" node 1 mosctl isup 3
#   t_ok "node 3 gone within 5 s" wait_until 5 node_down 1 3
#   t_done
#
# TAP: t_ok MSG CMD..., t_nok MSG CMD..., t_is GOT WANT MSG, t_skip MSG REASON,
#      t_diag MSG, t_bail MSG, t_done (prints the plan; exits 1 if anything failed).
# Cluster: cluster_start N [omcluster start options] (unique temp dir, stopped and
#      removed on exit; on failure the tail of each node's omd.log goes to stderr),
#      node K CMD... (CMD with node K's OPENMOSIX_DIR), node_json K, cluster_tag.
# Waiting: wait_until TIMEOUT_S CMD... polls CMD every 50 ms until it succeeds or
#      the deadline passes (returns 1). The bound is part of what is tested:
#      never sleep to "let things settle".
# Cleanup: t_cleanup CMD... registers CMD to run at exit (last registered first).

NET=${OMCLUSTER_NET:-127.0.1}   # the loopback net omcluster uses
T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="$T_ROOT/bin:$PATH"
T_NAME=$(basename "$0" .sh)
T_N=0
T_FAILED=0
T_CLEANUPS=()
T_EXITING=0
CLUSTER_DIR=""
CLUSTER_N=0   # node count of the running test cluster (for tests)

# ------------------------------------------------------------------- TAP ---

t_diag() { printf '# %s\n' "$*"; }

t_pass() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }

t_fail() {
	T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1"
	local i=0 where=""
	# report the test's own line, not ours
	while [ -n "${BASH_SOURCE[i]:-}" ]; do
		[ "${BASH_SOURCE[i]}" != "${BASH_SOURCE[0]}" ] && { where="${BASH_SOURCE[i]}:${BASH_LINENO[i - 1]}"; break; }
		i=$((i + 1))
	done
	[ -z "$where" ] || echo "#   failed at $where"
}

# t_ok MSG CMD...: passes if CMD exits 0; CMD's output is shown as diagnostics
t_ok() {
	local msg=$1 out rc=0; shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		t_pass "$msg"
	else
		t_fail "$msg"
		t_diag "  command: $* (exit $rc)"
		[ -z "$out" ] || printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   | /'
	fi
	return "$rc"
}

# t_nok MSG CMD...: passes if CMD exits non-zero
t_nok() {
	local msg=$1 out rc=0; shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		t_pass "$msg"
		return 0
	fi
	t_fail "$msg"
	t_diag "  command: $* (exit 0, expected failure)"
	[ -z "$out" ] || printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   | /'
	return 1
}

# t_is GOT WANT MSG: string equality
t_is() {
	if [ "$1" = "$2" ]; then
		t_pass "$3"
		return 0
	fi
	t_fail "$3"
	t_diag "  got:  '$1'"
	t_diag "  want: '$2'"
	return 1
}

# t_like GOT REGEX MSG: extended-regex match
t_like() {
	if [[ $1 =~ $2 ]]; then
		t_pass "$3"
		return 0
	fi
	t_fail "$3"
	printf '%s\n' "$1" | head -n 20 | sed 's/^/#   got | /'
	t_diag "  want (regex): $2"
	return 1
}

t_skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP $2"; }

# t_bail MSG: a failure that makes the rest pointless; ends the test
t_bail() {
	t_fail "$1"
	t_done
}

t_done() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ] || { t_diag "$T_FAILED of $T_N failed"; exit 1; }
	exit 0
}

# t_require_root / t_require_cmd CMD: skip the whole test if unmet
t_skip_all() { t_skip "$T_NAME" "$1"; t_done; }
t_require_root() { [ "$(id -u)" -eq 0 ] || t_skip_all "needs root (cgroups, namespaces)"; }
t_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || t_skip_all "needs $c"
	done
}

t_cleanup() {
	local q
	printf -v q '%q ' "$@"
	T_CLEANUPS+=("$q")
}

# ------------------------------------------------------------------ waiting ---

# child_of PPID COMM: the pid of PPID's child named COMM (or nothing, exit 1);
# has_child PPID COMM: whether there is one
child_of() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ] && { echo "$c"; return 0; }
	done
	return 1
}
has_child() { child_of "$1" "$2" >/dev/null; }

t_now_us() { local t=${EPOCHREALTIME//[.,]/}; echo "$t"; }

# wait_until TIMEOUT_S CMD...: 0 as soon as CMD succeeds, 1 once TIMEOUT_S passed
wait_until() {
	local limit=$1 deadline; shift
	deadline=$(($(t_now_us) + $(awk -v s="$limit" 'BEGIN { printf "%d", s * 1000000 }')))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(t_now_us)" -lt "$deadline" ] || break
		sleep 0.05
	done
	# one last look, and show why it failed
	"$@" 2>&1 | tail -n 5 | sed 's/^/#   last try: /' || true
	return 1
}

# elapsed_since START_US: seconds (3 decimals) since t_now_us gave START_US
elapsed_since() { awk -v a="$1" -v b="$(t_now_us)" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }

# ------------------------------------------------------------------ cluster ---

# node K CMD...: run CMD as a tool of node K
node() {
	local k=$1; shift
	OPENMOSIX_DIR="$CLUSTER_DIR/node$k" OMCLUSTER_NODE=$k "$@"
}

node_json() { node "$1" mosctl status --json; }

# node_state K ID: ID's state as K sees it ("absent" if K does not list it)
node_state() {
	node_json "$1" | jq -r --argjson id "$2" \
		'([.nodes[]? | select(.id == $id) | .state] | first) // "absent"'
}

# node_field K ID FIELD: a field of ID's entry in K's view (self for ID = K)
node_field() {
	node_json "$1" | jq -er --argjson id "$2" --arg f "$3" \
		'if .self.id == $id and (.self[$f] != null) then .self[$f]
		 else ([.nodes[]? | select(.id == $id) | .[$f]] | first) end | select(. != null)'
}

# JQ_ALIVE: the ids a status --json document counts as alive (self included,
# whether or not "nodes" lists it)
JQ_ALIVE='[(.self.id // empty)] + [.nodes[]? | select(.state == "alive") | .id] | unique'

# sees_alive K IDS...: K counts every ID as alive
sees_alive() {
	local k=$1 id json; shift
	json=$(node_json "$k") || return 1
	for id in "$@"; do
		jq -e --argjson id "$id" "$JQ_ALIVE | any(.[]; . == \$id)" <<<"$json" >/dev/null || {
			echo "node $k: node $id is $(jq -r --argjson id "$id" \
				'([.nodes[]? | select(.id == $id) | .state] | first) // "absent"' <<<"$json")"
			return 1
		}
	done
}

# alive_ids K: ids K counts as alive, sorted, space separated
alive_ids() { node_json "$1" | jq -r "$JQ_ALIVE | map(tostring) | join(\" \")"; }

# node_down K ID: K no longer counts ID as up (isup says no, state not alive)
node_down() {
	node "$1" mosctl isup "$2" >/dev/null 2>&1 && { echo "node $1: isup $2 still true"; return 1; }
	local st
	st=$(node_state "$1" "$2") || return 1
	[ "$st" != alive ] || { echo "node $1: node $2 still alive"; return 1; }
}

# all_see_all N: every node 1..N lists every node 1..N as alive
all_see_all() {
	local k j ids=()
	for ((j = 1; j <= $1; j++)); do ids+=("$j"); done
	for ((k = 1; k <= $1; k++)); do sees_alive "$k" "${ids[@]}" || return 1; done
}

# cluster_tag: the cgroup tag omcluster chose for CLUSTER_DIR
cluster_tag() { sed -n 's/^TAG=//p' "$CLUSTER_DIR/cluster.conf"; }

# cg_dirs NAME: NAME's directory in every mounted cgroup hierarchy that has it
cg_dirs() {
	local m
	for m in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts | sort -u); do
		[ -d "$m/$1" ] && echo "$m/$1"
	done
	return 0
}

cluster_dump_logs() {
	local d
	[ -n "$CLUSTER_DIR" ] && [ -d "$CLUSTER_DIR" ] || return 0
	for d in "$CLUSTER_DIR"/node*; do
		[ -d "$d" ] || continue
		echo "# ---- ${d##*/}: last lines of omd.log ----" >&2
		tail -n 25 "$d/omd.log" 2>/dev/null | sed 's/^/#  /' >&2 || true
		[ -s "$d/omd.stderr" ] && sed 's/^/#  stderr: /' "$d/omd.stderr" >&2
	done
	return 0
}

t_on_exit() {
	local rc=$? c
	[ "$T_EXITING" = 0 ] || return 0
	T_EXITING=1
	trap - EXIT INT TERM
	if [ -n "$CLUSTER_DIR" ]; then
		if [ "$rc" -ne 0 ] || [ "$T_FAILED" -ne 0 ]; then
			cluster_dump_logs
		fi
	fi
	for ((c = ${#T_CLEANUPS[@]} - 1; c >= 0; c--)); do
		eval "${T_CLEANUPS[c]}" >/dev/null 2>&1 || true
	done
	if [ -n "$CLUSTER_DIR" ] && [ -d "$CLUSTER_DIR" ]; then
		omcluster stop --dir "$CLUSTER_DIR" >&2 || echo "# omcluster stop failed" >&2
		if [ -n "${OMTEST_KEEP:-}" ]; then
			echo "# kept $CLUSTER_DIR" >&2
		else
			rm -rf "$CLUSTER_DIR"
		fi
	fi
	exit "$rc"
}
trap t_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# cluster_start N [options]: start an N-node cluster in a fresh temp dir and wait
# for it to form (omcluster's own deadline); sets CLUSTER_DIR and CLUSTER_N
cluster_start() {
	local n=$1 rc=0; shift
	[ -x "$T_ROOT/bin/omcluster" ] || { t_diag "bin/omcluster missing: run make"; return 1; }
	[ -n "$CLUSTER_DIR" ] || CLUSTER_DIR=$(mktemp -d /tmp/omtest."$T_NAME".XXXXXX)
	export CLUSTER_DIR CLUSTER_N=$n
	local out
	out=$(omcluster start "$n" --dir "$CLUSTER_DIR" "$@" 2>&1) || rc=$?
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
	[ "$rc" -eq 0 ] || cluster_dump_logs
	return "$rc"
}

cluster_stop() { omcluster stop --dir "$CLUSTER_DIR"; }

# t_victims: VICT = the built zdtm victims ($BUILD/victims); skips if absent
t_victims() {
	local b=${BUILD:-build}
	[[ $b = /* ]] || b=$T_ROOT/$b
	VICT=$b/victims
	[ -x "$VICT/loop" ] || t_skip_all "no victims in $VICT (make)"
}
