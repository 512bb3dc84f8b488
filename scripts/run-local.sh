#!/usr/bin/env bash
# `make run`: starts one kvs node on 127.0.0.1:7379 (HTTP /metrics /healthz /readyz on 127.0.0.1:7380) with
# data under ./data. Builds nothing itself (the Makefile builds first). Ctrl-C stops it cleanly.
# Overrides: KVS_LISTEN, KVS_HTTP, KVS_DATA_DIR, KVS_NODE_ID, KVS_LOG_LEVEL (see: node dist/node/src/server/main.js --help).
set -euo pipefail
cd "$(dirname "$0")/.."

MAIN=dist/node/src/server/main.js
CTL=dist/node/src/cli/kvsctl.js
if [[ ! -f $MAIN ]]; then
  echo "run-local: $MAIN not found; build first (make build)" >&2
  exit 1
fi

LISTEN=${KVS_LISTEN:-127.0.0.1:7379}
HTTP=${KVS_HTTP:-127.0.0.1:7380}
DATA_DIR=${KVS_DATA_DIR:-./data}
NODE_ID=${KVS_NODE_ID:-local-1}
mkdir -p "$DATA_DIR"

cat <<MSG
kvs: starting a single node
  gRPC endpoint : $LISTEN
  HTTP          : http://$HTTP/metrics  /healthz  /readyz
  data          : $DATA_DIR
Try, from another terminal:
  node $CTL put a 1
  node $CTL get a
  node $CTL scan --prefix ''
  printf 'get a\\nput a 2\\n' | node $CTL txn
  node $CTL --json status          (or: npx kvsctl ...; --endpoints / KVS_ENDPOINTS for another address)
Ctrl-C stops the node (graceful: drains calls, closes the store).
MSG

node "$MAIN" --listen "$LISTEN" --http "$HTTP" --data-dir "$DATA_DIR" --node-id "$NODE_ID" "$@" &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; }
trap stop INT TERM
# wait returns early when a trapped signal arrives; wait again for the node's own exit status.
set +e
wait "$pid"
rc=$?
if kill -0 "$pid" 2>/dev/null; then
  wait "$pid"
  rc=$?
fi
exit "$rc"
