#!/usr/bin/env bash
# `make run`: starts a local 3-store replicated kvs cluster (range 1 covers the key space until it is split) on 127.0.0.1 with data under
# ./data/node-{1,2,3}. Builds nothing itself (the Makefile builds first). Ctrl-C stops all nodes cleanly.
#
#   node i   gRPC (Kv + Admin)      HTTP (/metrics /healthz /readyz)   Raft (node-to-node)
#   1        127.0.0.1:7379         127.0.0.1:7380                     127.0.0.1:7400
#   2        127.0.0.1:7479         127.0.0.1:7480                     127.0.0.1:7401
#   3        127.0.0.1:7579         127.0.0.1:7580                     127.0.0.1:7402
#
# Overrides: KVS_DIST (compiled tree, default dist), KVS_DATA_ROOT (default ./data), KVS_LOG_LEVEL, KVS_RANGE_MAX_BYTES (split ranges
# automatically above this size, e.g. 64KiB to watch splits; default 64MiB, 0 = off), KVS_NODES=1 (single node, no Raft: the
# group-commit store of the previous stage). Extra arguments are passed to every node.
# KVS_TLS=1: mutual TLS on every port, with a throwaway CA and certificates made by scripts/gen-certs.sh in
# $KVS_DATA_ROOT/tls (kept across runs; delete it for new ones); kvsctl then needs --cacert/--cert/--key.
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=${KVS_DIST:-dist}
MAIN=$DIST/node/src/server/main.js
CTL=$DIST/node/src/cli/kvsctl.js
if [[ ! -f $MAIN ]]; then
  echo "run-local: $MAIN not found; build first (make build)" >&2
  exit 1
fi

DATA_ROOT=${KVS_DATA_ROOT:-./data}
NODES=${KVS_NODES:-3}
tls_args=()
ctl_tls=""
if [[ ${KVS_TLS:-0} == 1 ]]; then
  TLS_DIR=$DATA_ROOT/tls
  scripts/gen-certs.sh "$TLS_DIR"
  tls_args=(--cert-file "$TLS_DIR/node.crt" --key-file "$TLS_DIR/node.key" --trusted-ca-file "$TLS_DIR/ca.crt")
  ctl_tls=" --cacert $TLS_DIR/ca.crt --cert $TLS_DIR/admin.crt --key $TLS_DIR/admin.key"
fi
GRPC_PORTS=(7379 7479 7579)
HTTP_PORTS=(7380 7480 7580)
RAFT_PORTS=(7400 7401 7402)

pids=()
stop() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
}
trap stop INT TERM

if [[ $NODES == 1 ]]; then
  mkdir -p "$DATA_ROOT/node-1"
  echo "kvs: starting a single node (no replication) on 127.0.0.1:7379, data in $DATA_ROOT/node-1"
  node "$MAIN" --listen 127.0.0.1:7379 --http 127.0.0.1:7380 --data-dir "$DATA_ROOT/node-1" --node-id node-1 ${tls_args[@]+"${tls_args[@]}"} "$@" &
  pids+=($!)
else
  peers="1=127.0.0.1:${RAFT_PORTS[0]},2=127.0.0.1:${RAFT_PORTS[1]},3=127.0.0.1:${RAFT_PORTS[2]}"
  endpoints="127.0.0.1:${GRPC_PORTS[0]},127.0.0.1:${GRPC_PORTS[1]},127.0.0.1:${GRPC_PORTS[2]}"
  cat <<MSG
kvs: starting a 3-node replicated cluster (Raft group 1, peers $peers)${ctl_tls:+, mutual TLS (certificates in $TLS_DIR)}
  node 1: gRPC 127.0.0.1:${GRPC_PORTS[0]}  HTTP http://127.0.0.1:${HTTP_PORTS[0]}/metrics  raft 127.0.0.1:${RAFT_PORTS[0]}  data $DATA_ROOT/node-1
  node 2: gRPC 127.0.0.1:${GRPC_PORTS[1]}  HTTP http://127.0.0.1:${HTTP_PORTS[1]}/metrics  raft 127.0.0.1:${RAFT_PORTS[1]}  data $DATA_ROOT/node-2
  node 3: gRPC 127.0.0.1:${GRPC_PORTS[2]}  HTTP http://127.0.0.1:${HTTP_PORTS[2]}/metrics  raft 127.0.0.1:${RAFT_PORTS[2]}  data $DATA_ROOT/node-3
Try, from another terminal (any node serves reads and writes; followers forward writes to the leader):
  export KVS_ENDPOINTS=$endpoints${ctl_tls:+
  export KVS_CACERT=$TLS_DIR/ca.crt KVS_CERT=$TLS_DIR/admin.crt KVS_KEY=$TLS_DIR/admin.key   (admin identity; client.* is a data-only client)}
  node $CTL put a 1 && node $CTL get a
  node $CTL --endpoints 127.0.0.1:${GRPC_PORTS[2]} get a        (linearizable read on one node)
  node $CTL member list                                  (leader, voters, replication progress)
  node $CTL range split m && node $CTL range list          (ranges: bounds, epoch, replicas, leader, size)
  node $CTL store list                                   (ranges and leaders per store)
  node $CTL leader transfer 2
  printf 'get a\\nput a 2\\n' | node $CTL txn
  node $CTL --json status
Scale out: node $MAIN --listen 127.0.0.1:7679 --http 127.0.0.1:7680 --data-dir $DATA_ROOT/node-4 \\
             --raft-id 4 --join --peers $peers,4=127.0.0.1:7403
           node $CTL member add-learner 4 127.0.0.1:7403 && node $CTL member promote 4
Ctrl-C stops all nodes (graceful: drain calls, close the stores).
MSG
  for i in 0 1 2; do
    id=$((i + 1))
    mkdir -p "$DATA_ROOT/node-$id"
    node "$MAIN" --listen "127.0.0.1:${GRPC_PORTS[$i]}" --http "127.0.0.1:${HTTP_PORTS[$i]}" \
      --data-dir "$DATA_ROOT/node-$id" --node-id "node-$id" --raft-id "$id" --peers "$peers" ${tls_args[@]+"${tls_args[@]}"} "$@" &
    pids+=($!)
  done
fi

# wait returns early when a trapped signal arrives; wait again for every node's own exit status.
set +e
rc=0
for p in "${pids[@]}"; do
  wait "$p"
  r=$?
  if kill -0 "$p" 2>/dev/null; then
    wait "$p"
    r=$?
  fi
  [[ $r -ne 0 ]] && rc=$r
done
exit "$rc"
