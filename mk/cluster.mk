# Local Kubernetes for the tests (docs/local-cluster.md). Needs root.
# Kubeconfig: $(KVS_CLUSTER_DIR)/kubeconfig (default /tmp/kvs-cluster/kubeconfig).
KVS_CLUSTER_DIR ?= /tmp/kvs-cluster
export KVS_CLUSTER_DIR

.PHONY: cluster-build cluster-up cluster-down cluster-status envtest-up envtest-down cluster-smoke images-offline

cluster-build:  ## build/reuse k8s binaries, CoreDNS, kubectl, helm, base images (~/.cache/kvs-k8s)
	e2e/cluster/build.sh

cluster-up: cluster-build  ## full single-node cluster (kubelet + containerd + CoreDNS + storage)
	e2e/cluster/up.sh

cluster-down:
	e2e/cluster/down.sh

cluster-status:  ## running? which mode, started by what, components alive
	e2e/cluster/status.sh

envtest-up: cluster-build  ## etcd + kube-apiserver only, on 127.0.0.1
	e2e/cluster/up.sh --control-plane

envtest-down:
	e2e/cluster/down.sh

images-offline:  ## kvs/node:dev and kvs/operator:dev from dist/ + production node_modules
	images/build-offline.sh

cluster-smoke: cluster-build  ## up -> StatefulSet with PVCs + DNS checks -> down
	e2e/cluster/smoke.sh
