#!/usr/bin/env bash
# kubectl against the local cluster ($KVS_CLUSTER_DIR/kubeconfig), e.g. e2e/cluster/kubectl.sh get pods -A
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
export KUBECONFIG=$KVS_CLUSTER_DIR/kubeconfig
exec "$KVS_BIN/kubectl" "$@"
