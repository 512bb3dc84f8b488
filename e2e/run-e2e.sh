#!/usr/bin/env bash
# End-to-end on a real local Kubernetes (kubelet + containerd):
#   cluster-up → images/build-offline.sh --import → throwaway PKI (scripts/gen-certs.sh) and the
#   operator's client-certificate Secret → helm install kvs-operator → kubectl apply sample
#   → wait Available → e2e/tests (client library from the host to the pod IPs, printer columns, scale;
#   a TLS KvsCluster and a host Prometheus in their own namespace) → teardown (always; on failure the
#   pods' state and logs are printed first).
#   e2e/run-e2e.sh [compiled-dir]     (default dist; make e2e)
# Env: KVS_E2E_KEEP=1 keeps the cluster after the run (for debugging);
#      KVS_E2E_GREP=<regexp> runs only the matching scenarios (mocha --grep; on the one shared cluster);
#      KVS_E2E_REUSE_CLUSTER=1 uses an already running cluster ($KVS_CLUSTER_DIR) and, instead of
#      tearing it down, removes only what this run created (release, namespace, CRD); timeouts below.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-dist}
. "$repo/e2e/cluster/env.sh"
export KUBECONFIG=$KVS_CLUSTER_DIR/kubeconfig
KUBECTL=$KVS_BIN/kubectl HELM=$KVS_BIN/helm
export KVS_KUBECTL=$KUBECTL KVS_HELM=$HELM
NS=${KVS_E2E_NAMESPACE:-kvs-e2e} OP_NS=kvs-system
# The TLS scenario's own namespace and KvsCluster (e2e/tests/tls-monitoring.e2e.test.ts).
export KVS_E2E_TLS_NAMESPACE=${KVS_E2E_TLS_NAMESPACE:-kvs-e2e-tls} KVS_E2E_TLS_CLUSTER=${KVS_E2E_TLS_CLUSTER:-secure}
# The TLS-on-a-running-cluster scenario's (e2e/tests/tls-rollout.e2e.test.ts).
export KVS_E2E_TLSON_NAMESPACE=${KVS_E2E_TLSON_NAMESPACE:-kvs-e2e-tlson} KVS_E2E_TLSON_CLUSTER=${KVS_E2E_TLSON_CLUSTER:-tlson}
INSTALL_TIMEOUT=${KVS_E2E_INSTALL_TIMEOUT:-180s}
AVAILABLE_TIMEOUT=${KVS_E2E_AVAILABLE_TIMEOUT:-300s}
t0=$(date +%s)
step() { kvs_log "e2e: $* (+$(( $(date +%s) - t0 ))s)"; }

[ -f "$repo/$out/operator/src/main.js" ] && [ -f "$repo/$out/node/src/server/main.js" ] \
  || kvs_die "$out/ is incomplete (run make build)"
reuse=${KVS_E2E_REUSE_CLUSTER:-0}
if [ "$reuse" != 1 ] && [ -d "$KVS_CLUSTER_DIR/pids" ] && ls "$KVS_CLUSTER_DIR"/pids/*.pid >/dev/null 2>&1; then
  kvs_die "a cluster is already running in $KVS_CLUSTER_DIR; stop it (make cluster-down), or reuse it with KVS_E2E_REUSE_CLUSTER=1"
fi
if [ "$reuse" = 1 ] && [ "$(cat "$KVS_CLUSTER_DIR/mode" 2>/dev/null)" != full ]; then
  kvs_die "KVS_E2E_REUSE_CLUSTER=1 needs a full cluster running in $KVS_CLUSTER_DIR"
fi

dump() {
  echo "================ e2e failure diagnostics ================" >&2
  if ! "$KUBECTL" get --raw /readyz --request-timeout=5s >/dev/null 2>&1; then
    echo "(API server unreachable: see the cluster logs above / in $KVS_CLUSTER_DIR/logs)" >&2
    echo "=========================================================" >&2
    return 0
  fi
  "$KUBECTL" get kvsclusters,statefulsets,pods,pvc,svc -A -o wide >&2 || true
  "$KUBECTL" get kvsclusters -A -o yaml 2>/dev/null | sed -n '/^  status:/,/^- /p' | head -80 >&2 || true
  "$KUBECTL" get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -40 >&2 || true
  for ns in "$OP_NS" "$NS"; do
    for p in $("$KUBECTL" get pods -n "$ns" -o name 2>/dev/null); do
      ready=$("$KUBECTL" get -n "$ns" "$p" -o jsonpath='{.status.containerStatuses[*].ready}' 2>/dev/null || true)
      if [ "$ns" = "$OP_NS" ] || [[ "$ready" != "true" ]]; then
        echo "----- $ns/$p (ready=$ready): describe + logs -----" >&2
        "$KUBECTL" describe -n "$ns" "$p" 2>/dev/null | tail -25 >&2 || true
        "$KUBECTL" logs -n "$ns" "$p" --all-containers --tail=60 >&2 2>&1 || true
        "$KUBECTL" logs -n "$ns" "$p" --all-containers --tail=30 --previous >&2 2>&1 || true
      fi
    done
  done
  echo "=========================================================" >&2
}

cleanup() {
  local rc=$?
  trap - EXIT
  [ $rc = 0 ] || dump
  if [ "${KVS_E2E_KEEP:-0}" = 1 ]; then
    kvs_log "e2e: KVS_E2E_KEEP=1: cluster left running (make cluster-down)"
  elif [ "$reuse" = 1 ]; then
    "$KUBECTL" delete namespace "$NS" --wait=true --timeout=120s >/dev/null 2>&1 || kvs_log "namespace $NS not removed"
    "$KUBECTL" delete namespace "$KVS_E2E_TLS_NAMESPACE" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1 || kvs_log "namespace $KVS_E2E_TLS_NAMESPACE not removed"
    "$KUBECTL" delete namespace "$KVS_E2E_TLSON_NAMESPACE" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1 || kvs_log "namespace $KVS_E2E_TLSON_NAMESPACE not removed"
    "$HELM" uninstall kvs-operator -n "$OP_NS" --wait >/dev/null 2>&1 || true
    "$KUBECTL" delete namespace "$OP_NS" --wait=true --timeout=60s >/dev/null 2>&1 || true
    "$KUBECTL" delete crd kvsclusters.kvs.dev >/dev/null 2>&1 || true
    kvs_log "e2e: reused cluster cleaned (release, namespaces, CRD)"
  else
    "$repo/e2e/cluster/down.sh" >/dev/null 2>&1 || kvs_log "cluster teardown reported errors"
  fi
  [ -n "${KVS_E2E_PKI:-}" ] && rm -rf "$KVS_E2E_PKI"
  step "done, rc=$rc"
  exit $rc
}
trap cleanup EXIT

if [ "$reuse" = 1 ]; then step "reusing the running cluster in $KVS_CLUSTER_DIR"; else step "cluster up"; "$repo/e2e/cluster/up.sh"; fi
step "images"
"$repo/images/build-offline.sh" --import
# The rolling-upgrade scenario moves the cluster to kvs/node:dev2: the same image under a second tag.
ctr --address "$KVS_CLUSTER_DIR/containerd/containerd.sock" -n k8s.io images tag --force docker.io/kvs/node:dev docker.io/kvs/node:dev2 >/dev/null
step "PKI (openssl) and the operator's client certificate Secret"
# One throwaway CA for the TLS scenario: the nodes' certificate names the TLS cluster's client Service
# (the operator and the host client verify it while dialing pod IPs) and its pods under the peer Service.
export KVS_E2E_PKI; KVS_E2E_PKI=$(mktemp -d /tmp/kvs-e2e-pki.XXXXXX)
KVS_TLS_SANS="DNS:$KVS_E2E_TLS_CLUSTER.$KVS_E2E_TLS_NAMESPACE.svc DNS:*.$KVS_E2E_TLS_CLUSTER-peers.$KVS_E2E_TLS_NAMESPACE.svc DNS:$KVS_E2E_TLSON_CLUSTER.$KVS_E2E_TLSON_NAMESPACE.svc DNS:*.$KVS_E2E_TLSON_CLUSTER-peers.$KVS_E2E_TLSON_NAMESPACE.svc" \
  "$repo/scripts/gen-certs.sh" "$KVS_E2E_PKI" >/dev/null
"$KUBECTL" create namespace "$OP_NS" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
"$KUBECTL" -n "$OP_NS" create secret generic kvs-operator-tls --type=kubernetes.io/tls --dry-run=client -o yaml \
  --from-file=tls.crt="$KVS_E2E_PKI/admin.crt" --from-file=tls.key="$KVS_E2E_PKI/admin.key" --from-file=ca.crt="$KVS_E2E_PKI/ca.crt" \
  | "$KUBECTL" apply -f - >/dev/null
step "helm install"
"$HELM" install kvs-operator "$repo/charts/kvs-operator" -n "$OP_NS" --create-namespace \
  --set grafanaDashboard.enabled=true --set tls.secretName=kvs-operator-tls --wait --timeout "$INSTALL_TIMEOUT"
"$KUBECTL" -n "$OP_NS" get deploy,pods -o wide
step "kubectl apply sample"
"$KUBECTL" create namespace "$NS" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
"$KUBECTL" apply -n "$NS" -f "$repo/e2e/samples/kvscluster.yaml"
step "wait for Available (timeout $AVAILABLE_TIMEOUT)"
"$KUBECTL" -n "$NS" wait --for=condition=Available kvscluster/demo --timeout="$AVAILABLE_TIMEOUT"
"$KUBECTL" -n "$NS" get kvsclusters,pods -o wide
step "mocha e2e/tests"
cd "$repo"
# The monitoring scenario runs Debian's Prometheus on the host (as make test-monitoring does).
if ! command -v prometheus >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
export PROMETHEUS=${PROMETHEUS:-$(command -v prometheus)}
# KVS_E2E_GREP runs only the matching scenarios (iterating on one; they still share this one cluster).
KVS_E2E_NAMESPACE=$NS node_modules/.bin/mocha --timeout 600000 --slow 30000 ${KVS_E2E_GREP:+--grep "$KVS_E2E_GREP"} "$out/e2e/tests/**/*.test.js"
