# Common settings of the local test cluster; sourced by build.sh, up.sh, down.sh, smoke.sh
# and images/*.sh. Every value can be overridden from the environment.

KVS_K8S_VERSION=${KVS_K8S_VERSION:-v1.33.13}
KVS_COREDNS_VERSION=${KVS_COREDNS_VERSION:-v1.12.3}
KVS_CACHE=${KVS_CACHE:-$HOME/.cache/kvs-k8s}
KVS_BIN=${KVS_BIN:-$KVS_CACHE/$KVS_K8S_VERSION/bin}
KVS_IMAGES=${KVS_IMAGES:-$KVS_CACHE/$KVS_K8S_VERSION/images}

# Locally built images (docker-archive tars in $KVS_IMAGES, imported into containerd ns k8s.io).
KVS_PAUSE_IMAGE=${KVS_PAUSE_IMAGE:-kvs/pause:3.10}
KVS_COREDNS_IMAGE=${KVS_COREDNS_IMAGE:-kvs/coredns:$KVS_COREDNS_VERSION}
KVS_BASE_IMAGE=${KVS_BASE_IMAGE:-kvs/node-base:dev}

# Runtime state of one cluster (removed by down.sh); kubeconfig at $KVS_CLUSTER_DIR/kubeconfig.
KVS_CLUSTER_DIR=${KVS_CLUSTER_DIR:-/tmp/kvs-cluster}

# Network. The node address lives on a bridge that up.sh creates; nothing binds 0.0.0.0.
KVS_BRIDGE=${KVS_BRIDGE:-kvs0}
KVS_POD_CIDR=${KVS_POD_CIDR:-10.244.0.0/24}
KVS_NODE_IP=${KVS_NODE_IP:-10.244.0.1}
KVS_SERVICE_CIDR=${KVS_SERVICE_CIDR:-10.96.0.0/16}
KVS_API_SERVICE_IP=${KVS_API_SERVICE_IP:-10.96.0.1}
KVS_DNS_IP=${KVS_DNS_IP:-10.96.0.10}
KVS_NODE_NAME=${KVS_NODE_NAME:-kvs-node}

# Ports (non-default for etcd so a benchmark's own etcd on 2379 does not collide).
KVS_ETCD_PORT=${KVS_ETCD_PORT:-12379}
KVS_ETCD_PEER_PORT=${KVS_ETCD_PEER_PORT:-12380}
KVS_API_PORT=${KVS_API_PORT:-6443}

# Go: caches under $HOME/.cache so warm rebuilds are fast.
export GOMODCACHE=${KVS_GOMODCACHE:-$KVS_CACHE/go/mod}
export GOCACHE=${KVS_GOCACHE:-$KVS_CACHE/go/build}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export GOTOOLCHAIN=${KVS_GOTOOLCHAIN:-auto}  # local Go if >= 1.24, else fetched via the proxy

kvs_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
kvs_die() { kvs_log "ERROR: $*"; exit 1; }
