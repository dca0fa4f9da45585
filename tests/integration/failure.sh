#!/usr/bin/env bash
# A daemon killed with -9 is noticed by every other node within the target
# (1 s on loopback; we allow 0.5 s of polling slack), and rejoins on restart.
. "$(dirname "$0")/lib.sh"
t_require_root
cluster_start 4 || t_bail "4-node cluster did not form"

pid3=$(cat "$CLUSTER_DIR/node3/omd.pid")
all_see_3_down() { node_down 1 3 && node_down 2 3 && node_down 4 3; }
t0=$(t_now_us)
kill -9 "$pid3"
t_ok "nodes 1, 2 and 4 notice node 3's death within 1.5 s" wait_until 1.5 all_see_3_down
t_diag "noticed after $(elapsed_since "$t0") s (target 1 s)"
t_is "$(node_state 1 3)" dead "node 1 marks node 3 dead"
t_ok "the rest of the cluster is unaffected" sees_alive 1 1 2 4

rm -f "$CLUSTER_DIR/node3/omd.pid"
t_ok "node 3 restarts" omcluster restart-node 3 --dir "$CLUSTER_DIR"
t0=$(t_now_us)
t_ok "node 3 rejoins: every node sees all four within 3 s" wait_until 3 all_see_all 4
t_diag "rejoined after $(elapsed_since "$t0") s"

# graceful stop: peers learn at once that it left
pid2=$(cat "$CLUSTER_DIR/node2/omd.pid")
kill -TERM "$pid2"
left() { [ "$(node_state 1 2)" = left ] && [ "$(node_state 3 2)" = left ]; }
t_ok "a node stopped with SIGTERM is marked 'left' by the others within 1 s" wait_until 1 left
t_done
