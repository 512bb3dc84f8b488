#!/usr/bin/env bash
# Stop the local cluster started by up.sh and remove every trace of it: pods (through CRI, so
# CNI frees addresses and network namespaces), processes (by recorded pid), containerd shims
# of this cluster's socket, mounts under $KVS_CLUSTER_DIR, the cluster's network namespace
# (bridge, iptables rules, veth, host routes), its cgroup root, host sysctls (restored), the
# state directory. Only the cluster of $KVS_CLUSTER_DIR (KVS_CLUSTER_INDEX) is touched.
# Safe to run repeatedly and when nothing is running.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
D=$KVS_CLUSTER_DIR
B=$KVS_BIN
PIDS=$D/pids
SOCK=$D/containerd/containerd.sock
t0=$(date +%s)

[ -d "$D" ] || { kvs_log "nothing to do: $D does not exist"; exit 0; }

running() { # pid: alive and not a zombie (our parent is gone; init reaps lazily)
  [ -r "/proc/$1/stat" ] || return 1
  local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
alive() { [ -f "$PIDS/$1.pid" ] && running "$(cat "$PIDS/$1.pid")"; }
stop() { # name... : SIGTERM all, wait up to $STOP_TIMEOUT (10s), then SIGKILL
  local s name pid deadline left
  s=$(date +%s%N)
  local -a pids=() names=()
  for name in "$@"; do
    [ -f "$PIDS/$name.pid" ] || continue
    pid=$(cat "$PIDS/$name.pid")
    if running "$pid"; then kill -TERM "$pid" 2>/dev/null; pids+=("$pid"); names+=("$name"); fi
    rm -f "$PIDS/$name.pid"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  deadline=$(( $(date +%s) + ${STOP_TIMEOUT:-10} ))
  while :; do
    left=0
    for pid in "${pids[@]}"; do running "$pid" && left=1; done
    [ $left = 0 ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      for pid in "${pids[@]}"; do
        running "$pid" && { kvs_log "pid $pid did not stop: SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
      done
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  kvs_log "stopped ${names[*]} ($(( ($(date +%s%N) - s) / 1000000 )) ms)"
}

# 1. kubelet first (it would restart pods), then every pod sandbox through CRI.
STOP_TIMEOUT=15 stop kubelet
if ! alive containerd && [ -f "$D/containerd/config.toml" ] && [ -d "$D/containerd/root" ]; then
  # Killed without down.sh (e.g. a session's processes were ended): start containerd briefly so
  # that CRI removes the pods properly (CNI DEL frees their network namespaces).
  kvs_log "containerd not running: starting it briefly to remove the pods through CRI"
  nsx=()
  if [ -f "$D/netns" ] && ip netns list | grep -qw "$(cat "$D/netns")"; then
    nsx=(nsenter "--net=/var/run/netns/$(cat "$D/netns")")
  fi
  setsid "${nsx[@]}" containerd --config "$D/containerd/config.toml" \
    >> "$D/logs/containerd-cleanup.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/containerd.pid"
  for _ in $(seq 1 50); do
    ctr --address "$SOCK" version >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
if alive containerd && [ -S "$SOCK" ]; then
  "$B/kvs-cri" -endpoint "unix://$SOCK" -timeout 60s stop-all 2>&1 | sed 's/^/  /' >&2 \
    || kvs_log "some pods could not be stopped through CRI; continuing"
fi

# 2. The other processes.
stop kube-proxy kvs-local-provisioner kube-scheduler kube-controller-manager
stop kube-apiserver
stop etcd containerd
# containerd-shim processes of *this* containerd (they outlive it by design).
for f in $(grep -l -a -F -- "$SOCK" /proc/[0-9]*/cmdline 2>/dev/null); do
  pid=${f#/proc/}; pid=${pid%/cmdline}
  case "$(tr '\0' ' ' < "$f" 2>/dev/null)" in
    *containerd-shim*"-address $SOCK "*)
      kvs_log "killing leftover shim $pid"
      kill -KILL "$pid" 2>/dev/null ;;
  esac
done
# Any process still running from a leftover pid file (e.g. an unknown component).
for f in "$PIDS"/*.pid; do [ -f "$f" ] && STOP_TIMEOUT=5 stop "$(basename "$f" .pid)"; done

# 3. Mounts under the state directory (pod volumes, overlay rootfs, shm), deepest first.
if [ "$(cat "$D/mode" 2>/dev/null)" = full ]; then
  for i in 1 2 3; do
    mapfile -t mnts < <(awk -v d="$D/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
    [ ${#mnts[@]} -eq 0 ] && break
    for m in "${mnts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  done
  kvs_log "unmounted"
fi
if [ -f "$D/netns" ]; then
  # 4. The cluster's network namespace: its bridge, veths, iptables rules and conntrack go with
  # it; the host end of the veth and the host routes through it too.
  ns=$(cat "$D/netns")
  ip netns del "$ns" 2>/dev/null
  ip link del "$KVS_HOST_VETH" 2>/dev/null
  kvs_log "network namespace $ns removed"
  # 5. The kubelet's cgroup root with the pods' cgroups (empty once the pods are gone).
  cg=$(cat "$D/cgroup-root" 2>/dev/null || echo "$KVS_CGROUP_ROOT")
  for c in /sys/fs/cgroup/*/; do
    [ -d "$c${cg#/}" ] && find "$c${cg#/}" -depth -type d -exec rmdir {} + 2>/dev/null
  done
elif [ "$(cat "$D/mode" 2>/dev/null)" = full ]; then
  # 4'. A cluster started by an older up.sh, on the host network: kube-proxy's chains, ours,
  # the bridge.
  "$B/kube-proxy" --cleanup --v=0 >/dev/null 2>&1 || true
  # What --cleanup leaves: the kubelet's KUBE-FIREWALL and canaries, KUBE-MARK-MASQ,
  # KUBE-IPTABLES-HINT (v4 and v6), and the CNI portmap chains.
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in filter nat mangle; do
      "$ipt" -w -t "$t" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j (KUBE-|CNI-HOSTPORT-|CNI-DN-)' \
        | grep -vE '^-A (KUBE-|CNI-)' | while read -r rule; do
          eval "$ipt -w -t $t ${rule/#-A/-D}" 2>/dev/null
        done
      chains=$("$ipt" -w -t "$t" -S 2>/dev/null | awk '/^-N (KUBE-|CNI-HOSTPORT-|CNI-DN-)/{print $2}')
      for c in $chains; do "$ipt" -w -t "$t" -F "$c" 2>/dev/null; done
      for c in $chains; do "$ipt" -w -t "$t" -X "$c" 2>/dev/null; done
    done
  done
  iptables -w -D FORWARD -j KVS-FORWARD 2>/dev/null
  iptables -w -F KVS-FORWARD 2>/dev/null && iptables -w -X KVS-FORWARD 2>/dev/null
  if [ -f "$D/bridge-created" ]; then
    ip link del "$(cat "$D/bridge-created")" 2>/dev/null
  else
    ip addr del "$KVS_NODE_IP/${KVS_POD_CIDR#*/}" dev "$KVS_BRIDGE" 2>/dev/null
  fi

  kvs_log "iptables rules and bridge removed"
  for ctl in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$ctl" ] && find "$ctl" -depth -type d -exec rmdir {} + 2>/dev/null
  done
fi
# 6. Host sysctls as they were before up.sh.
if [ -f "$D/sysctl.saved" ]; then
  while IFS='=' read -r k v; do
    [ -n "$k" ] && echo "$v" > "/proc/sys/$k" 2>/dev/null
  done < "$D/sysctl.saved"
fi

# 7. State.
if ! rm -rf "$D" 2>/dev/null; then
  kvs_log "could not remove all of $D (still mounted?):"
  awk -v d="$D/" 'index($5, d) == 1 {print "  " $5}' /proc/self/mountinfo >&2
  exit 1
fi
kvs_log "cluster down in $(( $(date +%s) - t0 ))s"
