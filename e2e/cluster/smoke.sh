#!/usr/bin/env bash
# Smoke test of the local cluster: up -> a StatefulSet of 2 pods (locally built image, non-root,
# read-only root fs) with a PVC each + headless Service -> PVCs bind, pod-0 resolves pod-1 by
# <pod>.<svc>.<ns>.svc.cluster.local and fetches from it, the host reaches a pod IP and a
# ClusterIP Service, scale to 3 binds a third PVC -> down.
#   e2e/cluster/smoke.sh          (KVS_KEEP=1 keeps the cluster up afterwards)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/env.sh"
T0=$(date +%s)
step() { kvs_log "smoke: $* (+$(( $(date +%s) - T0 ))s)"; }
NS=kvs-smoke
K=("$KVS_BIN/kubectl" --kubeconfig "$KVS_CLUSTER_DIR/kubeconfig")

"$here/build.sh"

# The smoke image: the Node.js base + the placeholder app.
app=$(mktemp -d)
mkdir -p "$app/app"
cp "$here/testapp/server.mjs" "$app/app/server.mjs"
chmod -R a+rX "$app"
"$repo/images/mkimage.sh" --tag kvs/smoke:dev --out "$KVS_IMAGES/smoke.tar" \
  --from "$KVS_IMAGES/node-base.tar" --layer "$app" --user 1000:1000 --workdir /app \
  --entrypoint '["node","/app/server.mjs"]'
rm -rf "$app"
step "images built"

cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    kvs_log "smoke: FAILED; diagnostics:"
    "${K[@]}" get pods,pvc,pv -A -o wide >&2 2>&1 || true
    "${K[@]}" -n $NS describe pods >&2 2>&1 | tail -n 40 || true
    "${K[@]}" -n $NS logs web-0 --tail=20 >&2 2>&1 || true
  fi
  if [ "${KVS_KEEP:-0}" = 1 ]; then
    kvs_log "smoke: KVS_KEEP=1: cluster left running ($KVS_CLUSTER_DIR/kubeconfig)"
  else
    "$here/down.sh" || rc=1
  fi
  [ $rc -eq 0 ] && kvs_log "smoke: PASSED in $(( $(date +%s) - T0 ))s"
  exit $rc
}
trap cleanup EXIT

t_up=$(date +%s)
"$here/up.sh"
step "cluster up in $(( $(date +%s) - t_up ))s"
ctr --address "$KVS_CLUSTER_DIR/containerd/containerd.sock" -n k8s.io images import "$KVS_IMAGES/smoke.tar" >/dev/null

"${K[@]}" apply -f - <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: $NS}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: $NS}
spec:
  serviceName: web
  replicas: 2
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: web
        image: kvs/smoke:dev
        imagePullPolicy: Never
        env:
        - {name: DATA_DIR, value: /data}
        - {name: PORT, value: "8080"}
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 64Mi}}
EOF
"${K[@]}" -n $NS rollout status statefulset/web --timeout=120s
step "StatefulSet web ready (2 pods)"

for i in 0 1; do
  phase=$("${K[@]}" -n $NS get pvc "data-web-$i" -o jsonpath='{.status.phase}')
  [ "$phase" = Bound ] || kvs_die "PVC data-web-$i is $phase, not Bound"
done
step "PVCs data-web-0, data-web-1 Bound"

fqdn=web-1.web.$NS.svc.cluster.local
out=$("${K[@]}" -n $NS exec web-0 -- node -e "
  const dns = require('node:dns/promises');
  (async () => {
    const { address } = await dns.lookup('$fqdn', { family: 4 });
    const r = await fetch('http://$fqdn:8080/');
    console.log(JSON.stringify({ address, body: await r.json() }));
  })().catch(e => { console.error(String(e)); process.exit(1); });")
echo "  web-0 -> $fqdn: $out" >&2
ip1=$("${K[@]}" -n $NS get pod web-1 -o jsonpath='{.status.podIP}')
echo "$out" | grep -q "\"address\":\"$ip1\"" || kvs_die "$fqdn did not resolve to web-1's IP $ip1"
echo "$out" | grep -q '"host":"web-1"' || kvs_die "fetch from web-0 to $fqdn did not reach web-1"
echo "$out" | grep -q 'hello-web-1' || kvs_die "web-1 did not write to its PVC"
step "web-0 resolved $fqdn -> $ip1 and fetched from it (data on PVC)"

# Short names through the pod's search path, and the ClusterIP Service through kube-proxy.
out=$("${K[@]}" -n $NS exec web-1 -- node -e "
  fetch('http://web-lb/').then(r => r.json()).then(b => console.log(JSON.stringify(b)),
    e => { console.error(String(e)); process.exit(1); });")
echo "$out" | grep -q '"host":"web-' || kvs_die "web-1 -> Service web-lb failed: $out"
step "pod -> Service web-lb (short name, ClusterIP) ok"

ip0=$("${K[@]}" -n $NS get pod web-0 -o jsonpath='{.status.podIP}')
curl -sf --max-time 5 "http://$ip0:8080/" | grep -q '"host":"web-0"' || kvs_die "host -> pod IP $ip0 failed"
svc=$("${K[@]}" -n $NS get svc web-lb -o jsonpath='{.spec.clusterIP}')
curl -sf --max-time 5 "http://$svc/" | grep -q '"host":"web-' || kvs_die "host -> ClusterIP $svc failed"
step "host -> pod IP $ip0 and ClusterIP $svc ok"

# The project's images (images/build-offline.sh), when built: native deps load and a
# classic-level database opens, as uid 1000 with a read-only root filesystem.
if ctr --address "$KVS_CLUSTER_DIR/containerd/containerd.sock" -n k8s.io images ls -q | grep -q '^docker.io/kvs/node:dev$'; then
  "${K[@]}" apply -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: image-check, namespace: kvs-smoke}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true}
  containers:
  - name: node
    image: kvs/node:dev
    imagePullPolicy: Never
    command:
    - node
    - --input-type=module
    - -e
    - |
      await import('@grpc/grpc-js');
      const { ClassicLevel } = await import('classic-level');
      const db = new ClassicLevel('/data/db');
      await db.put('k', 'v');
      console.log('image-check ok: uid', process.getuid(), 'classic-level get ->', await db.get('k'));
      await db.close();
    securityContext:
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
EOF
  "${K[@]}" -n $NS wait --for=jsonpath='{.status.phase}'=Succeeded pod/image-check --timeout=60s \
    || { "${K[@]}" -n $NS logs image-check >&2; kvs_die "kvs/node:dev image check failed"; }
  "${K[@]}" -n $NS logs image-check >&2
  step "kvs/node:dev runs non-root on a read-only root fs (native classic-level ok)"
else
  step "kvs/node:dev not built (images/build-offline.sh): image check skipped"
fi

"${K[@]}" -n $NS scale statefulset/web --replicas=3
"${K[@]}" -n $NS rollout status statefulset/web --timeout=120s
[ "$("${K[@]}" -n $NS get pvc data-web-2 -o jsonpath='{.status.phase}')" = Bound ] || kvs_die "PVC data-web-2 not Bound"
"${K[@]}" -n $NS scale statefulset/web --replicas=1
"${K[@]}" -n $NS wait --for=delete pod/web-2 pod/web-1 --timeout=60s
step "scaled 2 -> 3 (third PVC bound) -> 1"

"${K[@]}" delete namespace $NS --wait=true --timeout=60s >/dev/null
pvs=$("${K[@]}" get pv -o name | wc -l)
[ "$pvs" = 0 ] || kvs_die "$pvs PVs left after deleting the namespace (reclaim Delete)"
step "namespace deleted, PVs reclaimed"
