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

# Several clusters can run at once (engineers share a machine): KVS_CLUSTER_INDEX (0-9)
# picks the state dir, the network namespace, the address ranges and the envtest ports.
KVS_CLUSTER_INDEX=${KVS_CLUSTER_INDEX:-0}
_kvs_i=$KVS_CLUSTER_INDEX
case "$_kvs_i" in [0-9]) ;; *) echo "KVS_CLUSTER_INDEX must be 0-9" >&2; exit 2 ;; esac

# Runtime state of one cluster (removed by down.sh); kubeconfig at $KVS_CLUSTER_DIR/kubeconfig.
if [ "$_kvs_i" = 0 ]; then KVS_CLUSTER_DIR=${KVS_CLUSTER_DIR:-/tmp/kvs-cluster}
else KVS_CLUSTER_DIR=${KVS_CLUSTER_DIR:-/tmp/kvs-cluster-$_kvs_i}; fi

# Network. A full cluster runs in its own network namespace $KVS_NETNS (all its iptables rules,
# routes, sysctls stay there); the node address lives on a bridge inside it, and the host
# reaches the node, pod and service addresses through one veth pair + two routes.
KVS_NETNS=${KVS_NETNS:-kvs-$_kvs_i}
KVS_BRIDGE=${KVS_BRIDGE:-kvs0}
KVS_POD_CIDR=${KVS_POD_CIDR:-10.244.$_kvs_i.0/24}
KVS_NODE_IP=${KVS_NODE_IP:-10.244.$_kvs_i.1}
KVS_SERVICE_CIDR=${KVS_SERVICE_CIDR:-10.$((96 + _kvs_i)).0.0/16}
KVS_API_SERVICE_IP=${KVS_API_SERVICE_IP:-10.$((96 + _kvs_i)).0.1}
KVS_DNS_IP=${KVS_DNS_IP:-10.$((96 + _kvs_i)).0.10}
KVS_HOST_VETH=${KVS_HOST_VETH:-kvs$_kvs_i-host}
KVS_LINK_HOST_IP=${KVS_LINK_HOST_IP:-10.243.$_kvs_i.1}
KVS_LINK_NS_IP=${KVS_LINK_NS_IP:-10.243.$_kvs_i.2}
KVS_CGROUP_ROOT=${KVS_CGROUP_ROOT:-/kvs-$_kvs_i}
KVS_NODE_NAME=${KVS_NODE_NAME:-kvs-node}

# Ports (non-default for etcd so a benchmark's own etcd on 2379 does not collide; they matter
# for envtest, which runs on the host's 127.0.0.1).
KVS_ETCD_PORT=${KVS_ETCD_PORT:-$((12379 + 10 * _kvs_i))}
KVS_ETCD_PEER_PORT=${KVS_ETCD_PEER_PORT:-$((12380 + 10 * _kvs_i))}
KVS_API_PORT=${KVS_API_PORT:-$((6443 + _kvs_i))}

# Go: caches under $HOME/.cache so warm rebuilds are fast.
export GOMODCACHE=${KVS_GOMODCACHE:-$KVS_CACHE/go/mod}
export GOCACHE=${KVS_GOCACHE:-$KVS_CACHE/go/build}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export GOTOOLCHAIN=${KVS_GOTOOLCHAIN:-auto}  # local Go if >= 1.24, else fetched via the proxy

kvs_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
kvs_die() { kvs_log "ERROR: $*"; exit 1; }
