#!/usr/bin/env bash
# Operator integration tests against a real kube-apiserver + etcd (envtest-style, no kubelet):
#   e2e/run-operator-k8s.sh [compiled-dir]      (default dist; make test-operator-k8s)
# Starts its own control plane (e2e/cluster/up.sh --control-plane) in a separate state dir and on
# separate ports, so it never collides with a full cluster started by `make cluster-up`; always
# tears it down. Needs root (like the rest of the local cluster tooling) for nothing but the
# shared scripts' checks; binds only 127.0.0.1.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-dist}
export KVS_CLUSTER_DIR=${KVS_OPERATOR_ENVTEST_DIR:-/tmp/kvs-envtest-operator}
export KVS_API_PORT=${KVS_OPERATOR_ENVTEST_API_PORT:-16443}
export KVS_ETCD_PORT=${KVS_OPERATOR_ENVTEST_ETCD_PORT:-22379}
export KVS_ETCD_PEER_PORT=${KVS_OPERATOR_ENVTEST_ETCD_PEER_PORT:-22380}
. "$repo/e2e/cluster/env.sh"
export KVS_KUBECTL=$KVS_BIN/kubectl KVS_HELM=$KVS_BIN/helm
export KVS_TEST_LOG_DIR=${KVS_TEST_LOG_DIR:-$KVS_CLUSTER_DIR-logs}
t0=$(date +%s)

[ -f "$repo/$out/operator/src/main.js" ] || kvs_die "$out/operator/src/main.js missing (run make build)"
[ -x "$KVS_KUBECTL" ] && [ -x "$KVS_HELM" ] || "$repo/e2e/cluster/build.sh"

# The chart must lint and render before anything else.
"$KVS_HELM" lint --strict "$repo/charts/kvs-operator" >/dev/null
"$KVS_HELM" lint --strict "$repo/charts/kvs-operator" --set serviceMonitor.enabled=true,grafanaDashboard.enabled=true,watchNamespace=x >/dev/null
"$KVS_HELM" lint --strict "$repo/charts/kvs-operator" --set 'tls.secretName=x,certManager.enabled=true,certManager.issuerRef.name=ca,certManager.clusters[0].name=demo,certManager.clusters[0].namespace=kvs' >/dev/null
kvs_log "helm lint: ok"

cleanup() {
  local rc=$?
  "$repo/e2e/cluster/down.sh" >/dev/null 2>&1 || true
  [ $rc = 0 ] || kvs_log "FAILED (logs: $KVS_TEST_LOG_DIR)"
  kvs_log "operator k8s tests done in $(( $(date +%s) - t0 ))s (rc=$rc)"
  exit $rc
}
trap cleanup EXIT
[ -d "$KVS_CLUSTER_DIR/pids" ] && "$repo/e2e/cluster/down.sh" >/dev/null 2>&1 || true
rm -rf "$KVS_TEST_LOG_DIR"; mkdir -p "$KVS_TEST_LOG_DIR"
"$repo/e2e/cluster/up.sh" --control-plane
export KUBECONFIG=$KVS_CLUSTER_DIR/kubeconfig

# Every chart object (default values) is accepted by the real API server (server-side dry run).
"$KVS_KUBECTL" create namespace kvs-system >/dev/null
"$KVS_KUBECTL" apply --server-side -f "$repo/crds/kvs.dev_kvsclusters.yaml" >/dev/null
# (kubectl wait fails at once, instead of waiting, while the new CRD has no status yet: retry.)
for _ in $(seq 1 30); do
  "$KVS_KUBECTL" wait --for=condition=Established --timeout=30s crd/kvsclusters.kvs.dev >/dev/null 2>&1 && break
  sleep 1
done
"$KVS_KUBECTL" wait --for=condition=Established --timeout=30s crd/kvsclusters.kvs.dev >/dev/null
"$KVS_HELM" template kvs-operator "$repo/charts/kvs-operator" -n kvs-system --set grafanaDashboard.enabled=true \
  | "$KVS_KUBECTL" apply --dry-run=server -n kvs-system -f - >/dev/null
kvs_log "chart manifests accepted by the API server (dry run): ok"

cd "$repo"
node_modules/.bin/mocha --timeout 120000 --slow 10000 "$out/test/integration-k8s/**/*.test.js"
