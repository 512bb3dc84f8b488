#!/usr/bin/env bash
# helm against the local cluster ($KVS_CLUSTER_DIR/kubeconfig), e.g. e2e/cluster/helm.sh get pods -A
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
export KUBECONFIG=$KVS_CLUSTER_DIR/kubeconfig
exec "$KVS_BIN/helm" "$@"
