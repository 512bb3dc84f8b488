#!/usr/bin/env bash
# Start a real single-node Kubernetes from plain processes (see docs/local-cluster.md).
#
#   e2e/cluster/up.sh                   full cluster: etcd, kube-apiserver, controller-manager,
#                                       scheduler, containerd, kubelet, kube-proxy, CoreDNS,
#                                       a dynamic hostPath provisioner (StorageClass kvs-local)
#   e2e/cluster/up.sh --control-plane   envtest-style: etcd + kube-apiserver only, on 127.0.0.1
#
# A full cluster runs in its own network namespace ($KVS_NETNS): several can run side by side
# with different KVS_CLUSTER_INDEX values (see env.sh).
#
# Kubeconfig (cluster admin): $KVS_CLUSTER_DIR/kubeconfig (default /tmp/kvs-cluster/kubeconfig).
# State, logs and pids live in $KVS_CLUSTER_DIR; e2e/cluster/down.sh removes all of it.
set -Eeuo pipefail
trap 'kvs_log "up.sh: command failed (line $LINENO): $BASH_COMMAND"' ERR
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
. "$here/pki.sh"

mode=full
for a in "$@"; do
  case "$a" in
    --control-plane|--control-plane-only|--envtest) mode=control-plane ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) kvs_die "unknown argument $a" ;;
  esac
done

D=$KVS_CLUSTER_DIR
B=$KVS_BIN
T0=$(date +%s)
LOGS=$D/logs PIDS=$D/pids PKI=$D/pki

if [ -d "$D" ]; then
  for f in "$PIDS"/*.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    if [ -r "/proc/$p/stat" ] && [ "$(awk '{print $3}' "/proc/$p/stat")" != Z ]; then
      kvs_die "a cluster is already running in $D ($(basename "$f" .pid) pid $p): run e2e/cluster/down.sh first"
    fi
  done
  kvs_log "leftover state in $D from a cluster that did not go down: cleaning it with down.sh"
  "$here/down.sh" || kvs_die "down.sh could not clean $D"
fi
for b in kvs-k8s kvs-local-provisioner kvs-cri coredns kubectl; do
  [ -x "$B/$b" ] || { kvs_log "missing $B/$b: running build.sh"; "$here/build.sh"; break; }
done
[ "$(id -u)" = 0 ] || kvs_die "must run as root (containerd, kubelet, network)"

rm -rf "$D"
mkdir -p "$LOGS" "$PIDS" "$PKI"
echo "$mode" > "$D/mode"
# Who started it (the machine is shared: see e2e/cluster/status.sh before tearing down).
{ date -u +%FT%TZ; ps -o args= -p "$PPID" 2>/dev/null || true; } > "$D/started-by"
KUBECTL=("$B/kubectl" --kubeconfig "$D/kubeconfig")

# ---------- helpers ----------
NSX=() # command prefix that enters the cluster's network namespace (full mode)
start() { # name cmd... : start detached (in the cluster netns), log to $LOGS/name.log, pid file
  local name=$1; shift
  setsid "${NSX[@]}" "$@" > "$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
}
inns() { "${NSX[@]}" "$@"; } # run a command in the cluster netns
running() { # pid: alive and not a zombie (our children are reaped lazily once we exit)
  [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
fail() { # name message
  local name=$1; shift
  kvs_log "FAILED: $*"
  if [ -f "$LOGS/$name.log" ]; then
    echo "----- last 40 lines of $LOGS/$name.log -----" >&2
    tail -n 40 "$LOGS/$name.log" | cut -c1-400 >&2
    echo "-----" >&2
  fi
  kvs_log "state kept in $D for inspection; clean up with e2e/cluster/down.sh"
  exit 1
}
wait_for() { # name timeout-seconds description command... : poll until command succeeds
  local name=$1 timeout=$2 what=$3; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  while ! "$@" >/dev/null 2>&1; do
    if [ ! -f "$PIDS/$name.pid" ]; then
      kvs_log "FAILED: $PIDS/$name.pid vanished while waiting for $what: was the cluster torn down (down.sh) by another run?"
      exit 1
    fi
    if ! running "$(cat "$PIDS/$name.pid")"; then
      fail "$name" "$name exited while waiting for $what"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name" "timed out after ${timeout}s waiting for $what"
    sleep 0.3
  done
  kvs_log "$what: ok (+$(( $(date +%s) - T0 ))s)"
}
https_ok() { # url cert : GET with the admin client cert
  curl -sf --max-time 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$1" >/dev/null
}

# ---------- addresses ----------
if [ "$mode" = full ]; then
  ADDR=$KVS_NODE_IP
  # The cluster's own network namespace: lo, a bridge holding the node address (pods attach
  # to it through CNI), and a veth to the host. No default route inside: nothing in the
  # cluster can reach an address outside this machine.
  if ip netns list | grep -qw "$KVS_NETNS"; then
    if [ -n "$(ip netns pids "$KVS_NETNS" 2>/dev/null)" ]; then
      kvs_die "network namespace $KVS_NETNS is in use by processes $(ip netns pids "$KVS_NETNS" | tr '\n' ' ')(another cluster with KVS_CLUSTER_INDEX=$KVS_CLUSTER_INDEX in another KVS_CLUSTER_DIR?)"
    fi
    kvs_log "removing stale network namespace $KVS_NETNS (no process in it)"
    ip netns del "$KVS_NETNS"
    ip link del "$KVS_HOST_VETH" 2>/dev/null || true
  fi
  ip netns add "$KVS_NETNS"
  echo "$KVS_NETNS" > "$D/netns"
  echo "$KVS_CGROUP_ROOT" > "$D/cgroup-root"
  NSX=(nsenter "--net=/var/run/netns/$KVS_NETNS")
  ip -n "$KVS_NETNS" link set lo up
  ip link add "$KVS_HOST_VETH" type veth peer name eth0 netns "$KVS_NETNS"
  ip addr add "$KVS_LINK_HOST_IP/30" dev "$KVS_HOST_VETH"
  ip link set "$KVS_HOST_VETH" up
  ip -n "$KVS_NETNS" addr add "$KVS_LINK_NS_IP/30" dev eth0
  ip -n "$KVS_NETNS" link set eth0 up
  ip -n "$KVS_NETNS" link add "$KVS_BRIDGE" type bridge
  ip -n "$KVS_NETNS" addr add "$KVS_NODE_IP/${KVS_POD_CIDR#*/}" dev "$KVS_BRIDGE"
  ip -n "$KVS_NETNS" link set "$KVS_BRIDGE" up
  # host -> node, pods, services
  ip route add "$KVS_POD_CIDR" via "$KVS_LINK_NS_IP" dev "$KVS_HOST_VETH"
  ip route add "$KVS_SERVICE_CIDR" via "$KVS_LINK_NS_IP" dev "$KVS_HOST_VETH"
  # inside the namespace (per-namespace settings)
  inns sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
  [ -f /proc/sys/net/bridge/bridge-nf-call-iptables ] && inns sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables'
  # Host-wide settings the kubelet changes (vm.*, kernel.*): restored by down.sh.
  : > "$D/sysctl.saved"
  for s in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops \
           kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
    [ -f "/proc/sys/$s" ] && echo "$s=$(cat "/proc/sys/$s")" >> "$D/sysctl.saved"
  done
  # The kubelet's cgroup root (one per cluster, so two kubelets never manage the same pods).
  for c in /sys/fs/cgroup/*/; do
    case "$c" in */unified/) continue ;; esac
    mkdir -p "$c${KVS_CGROUP_ROOT#/}"
  done
  if [ -f /sys/fs/cgroup/cpuset/cpuset.cpus ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus > "/sys/fs/cgroup/cpuset$KVS_CGROUP_ROOT/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems > "/sys/fs/cgroup/cpuset$KVS_CGROUP_ROOT/cpuset.mems"
  fi
else
  ADDR=127.0.0.1
fi
SERVER=https://$ADDR:$KVS_API_PORT

# ---------- certificates + kubeconfigs ----------
kvs_pki "$PKI" "$ADDR"
kvs_kubeconfig "$D/kubeconfig" "$PKI" admin "$SERVER" kubernetes-admin
kvs_kubeconfig "$D/controller-manager.kubeconfig" "$PKI" controller-manager "$SERVER"
kvs_kubeconfig "$D/scheduler.kubeconfig" "$PKI" scheduler "$SERVER"
kvs_kubeconfig "$D/kubelet.kubeconfig" "$PKI" node "$SERVER"
kvs_kubeconfig "$D/kube-proxy.kubeconfig" "$PKI" kube-proxy "$SERVER"
kvs_log "certificates and kubeconfigs in $D (+$(( $(date +%s) - T0 ))s)"

# ---------- etcd ----------
ETCD_URL=http://127.0.0.1:$KVS_ETCD_PORT
start etcd etcd --name kvs --data-dir "$D/etcd" \
  --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
  --listen-peer-urls "http://127.0.0.1:$KVS_ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$KVS_ETCD_PEER_PORT" \
  --initial-cluster "kvs=http://127.0.0.1:$KVS_ETCD_PEER_PORT" \
  --listen-metrics-urls "" --quota-backend-bytes 4294967296 --logger zap --log-level warn
wait_for etcd 30 "etcd on $ETCD_URL" inns curl -sf --max-time 2 "$ETCD_URL/health"

# ---------- kube-apiserver ----------
start kube-apiserver "$B/kube-apiserver" \
  --etcd-servers="$ETCD_URL" \
  --bind-address="$ADDR" --secure-port="$KVS_API_PORT" --advertise-address="$ADDR" \
  --cert-dir="$D/apiserver-certs" \
  --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range="$KVS_SERVICE_CIDR" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true --profiling=false --v=1
if [ "$mode" = control-plane ]; then
  wait_for kube-apiserver 90 "kube-apiserver $SERVER/readyz" https_ok "$SERVER/readyz"
  kvs_log "control plane up in $(( $(date +%s) - T0 ))s; kubeconfig: $D/kubeconfig"
  exit 0
fi

# ---------- containerd (own config, root, state, socket) ----------
CTRD=$D/containerd
SOCK=$CTRD/containerd.sock
mkdir -p "$CTRD" "$D/cni/net.d" "$D/cni/ipam"
cat > "$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/$KVS_PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 65536
  # This VM grants no CAP_SYS_RESOURCE: never lower oom_score_adj below containerd's own
  # (otherwise runc fails "failed to update /proc/self/oom_score_adj: Permission denied").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni/net.d"
    max_conf_num = 1
EOF
cat > "$D/cni/net.d/10-kvs.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kvs",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$KVS_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$D/cni/ipam",
        "ranges": [[{"subnet": "$KVS_POD_CIDR", "gateway": "$KVS_NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
start containerd containerd --config "$CTRD/config.toml"
CTR=(ctr --address "$SOCK" -n k8s.io)
wait_for containerd 30 "containerd on $SOCK" "${CTR[@]}" version

# Images: pause and CoreDNS now (the node needs them); the node base and anything in
# $KVS_IMAGES/extra/*.tar (e.g. kvs/node:dev + kvs/operator:dev from images/build-offline.sh)
# in the background, awaited before up.sh returns.
# (--no-unpack for the big ones: CRI unpacks an image when a container first uses it.)
import_tars() { # [--no-unpack] tar...
  local opt=()
  [ "$1" = --no-unpack ] && { opt=(--no-unpack); shift; }
  for t in "$@"; do [ -f "$t" ] && { "${CTR[@]}" images import "${opt[@]}" "$t" || return 1; }; done
  return 0
}
import_tars "$KVS_IMAGES/pause.tar" "$KVS_IMAGES/coredns.tar" > "$LOGS/image-import.log" 2>&1 \
  || fail image-import "ctr images import (pause, coredns)"
import_tars --no-unpack "$KVS_IMAGES/node-base.tar" "$KVS_IMAGES"/extra/*.tar >> "$LOGS/image-import.log" 2>&1 &
IMPORT_PID=$!
kvs_log "images pause, coredns imported; node base + extra importing in the background (+$(( $(date +%s) - T0 ))s)"

wait_for kube-apiserver 90 "kube-apiserver $SERVER/readyz" https_ok "$SERVER/readyz"


# ---------- controller-manager + scheduler ----------
start kube-controller-manager "$B/kube-controller-manager" \
  --kubeconfig="$D/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$D/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$D/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port=10257 --cert-dir="$D/kcm-certs" \
  --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --use-service-account-credentials=true --leader-elect=false \
  --service-cluster-ip-range="$KVS_SERVICE_CIDR" --cluster-cidr="$KVS_POD_CIDR" --allocate-node-cidrs=false \
  --cluster-name=kvs --profiling=false --v=1
start kube-scheduler "$B/kube-scheduler" \
  --kubeconfig="$D/scheduler.kubeconfig" \
  --authentication-kubeconfig="$D/scheduler.kubeconfig" \
  --authorization-kubeconfig="$D/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port=10259 --cert-dir="$D/scheduler-certs" \
  --leader-elect=false --profiling=false --v=1
start kvs-local-provisioner "$B/kvs-local-provisioner" --kubeconfig="$D/kubeconfig" \
  --root="$D/pv" --node="$KVS_NODE_NAME"

# ---------- kubelet ----------
KL=$D/kubelet
mkdir -p "$KL/root" "$KL/pod-logs"
echo "# empty: no upstream DNS (nothing leaves this machine)" > "$KL/resolv.conf"
cat > "$KL/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $KVS_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true, cacheTTL: 10s}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
  webhook: {cacheAuthorizedTTL: 10s, cacheUnauthorizedTTL: 5s}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
cgroupRoot: $KVS_CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: [$KVS_DNS_IP]
resolvConf: $KL/resolv.conf
podLogsDir: $KL/pod-logs
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
imageMaximumGCAge: 0s
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
evictionPressureTransitionPeriod: 10s
serializeImagePulls: false
maxPods: 110
protectKernelDefaults: false
registerNode: true
rotateCertificates: false
serverTLSBootstrap: false
cgroupsPerQOS: ${KVS_CGROUPS_PER_QOS:-true}
enforceNodeAllocatable: ${KVS_ENFORCE_NODE_ALLOCATABLE:-[pods]}
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 10s
shutdownGracePeriod: 0s
EOF
start kubelet "$B/kubelet" --config="$KL/config.yaml" --kubeconfig="$D/kubelet.kubeconfig" \
  --root-dir="$KL/root" --hostname-override="$KVS_NODE_NAME" --node-ip="$KVS_NODE_IP" --v=1
wait_for kubelet 60 "kubelet healthz" inns curl -sf --max-time 2 http://127.0.0.1:10248/healthz

# ---------- kube-proxy ----------
cat > "$D/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $D/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $KVS_POD_CIDR
hostnameOverride: $KVS_NODE_NAME
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$KVS_NODE_IP/32]
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 30s, minSyncPeriod: 1s}
EOF
start kube-proxy "$B/kube-proxy" --config="$D/kube-proxy.yaml" --v=1
wait_for kube-controller-manager 60 "kube-controller-manager healthz" inns curl -skf --max-time 2 https://127.0.0.1:10257/healthz
wait_for kube-scheduler 60 "kube-scheduler healthz" inns curl -skf --max-time 2 https://127.0.0.1:10259/healthz
wait_for kube-proxy 60 "kube-proxy healthz" inns curl -sf --max-time 2 http://127.0.0.1:10256/healthz
wait_for kubelet 90 "node $KVS_NODE_NAME Ready" "${KUBECTL[@]}" wait --for=condition=Ready "node/$KVS_NODE_NAME" --timeout=2s

# ---------- add-ons: storage class, CoreDNS ----------
sed -e "s|@DNS_IP@|$KVS_DNS_IP|g" -e "s|@COREDNS_IMAGE@|docker.io/$KVS_COREDNS_IMAGE|g" \
  "$here/manifests/addons.yaml" > "$D/addons.yaml"
"${KUBECTL[@]}" apply -f "$D/addons.yaml" > "$LOGS/addons.log" 2>&1 || fail addons "kubectl apply addons"
deadline=$(( $(date +%s) + 120 ))
until "${KUBECTL[@]}" -n kube-system rollout status deploy/coredns --timeout=2s >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    "${KUBECTL[@]}" -n kube-system get pods -o wide >&2 || true
    "${KUBECTL[@]}" -n kube-system describe pods -l k8s-app=kube-dns 2>&1 | tail -n 20 >&2 || true
    "${KUBECTL[@]}" -n kube-system logs -l k8s-app=kube-dns --tail=20 >&2 || true
    fail kubelet "CoreDNS did not become ready within 120s"
  fi
  sleep 1
done
kvs_log "CoreDNS ready (+$(( $(date +%s) - T0 ))s)"
if ! wait "$IMPORT_PID"; then fail image-import "ctr images import (node base, extra)"; fi
kvs_log "images: $("${CTR[@]}" images ls -q | grep -v '^sha256:' | sed 's|^docker.io/||' | tr '\n' ' ')"
kvs_log "cluster up in $(( $(date +%s) - T0 ))s; kubeconfig: $D/kubeconfig (server $SERVER)"
