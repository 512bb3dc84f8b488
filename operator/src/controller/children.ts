// Desired child objects of a KvsCluster: ConfigMap, Services, StatefulSet, PodDisruptionBudget, NetworkPolicy.
// Pure: (cluster, observed StatefulSet) → plain objects ready for server-side apply.
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1NetworkPolicy, V1PodDisruptionBudget, V1Service, V1StatefulSet, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, DEFAULTS, KIND, type KvsCluster, type KvsClusterSpec } from '../api/types.js';
import {
  ANNOTATION_CONFIG_HASH,
  DATA_DIR,
  DATA_VOLUME,
  LABEL_VERSION,
  MEMBERS_DIR,
  MEMBERS_VOLUME,
  PORT_ADMIN,
  PORT_GRPC,
  PORT_HTTP,
  PORT_NAME_ADMIN,
  names,
  nodeConfigEnvName,
  selectorLabels,
  standardLabels,
} from './names.js';
import { ANNOTATION_TLS_MODE, TLS_VOLUME, modeOf } from './tls-mode.js';

/** Where the TLS Secret is mounted in a node pod. */
export const TLS_DIR = '/etc/kvs/tls';

/**
 * spec.tls as node settings (common/tls.ts reads them): the Secret's files and the identities. The
 * Secret volume follows a rotation of the Secret (kubelet swaps the files), which the node reloads.
 */
function tlsPodParts(spec: EffectiveSpec): { env: Array<{ name: string; value: string }>; mounts: object[]; volumes: object[] } {
  const t = spec.tls;
  if (!t) return { env: [], mounts: [], volumes: [] };
  return {
    env: [
      { name: 'KVS_CERT_FILE', value: `${TLS_DIR}/tls.crt` },
      { name: 'KVS_KEY_FILE', value: `${TLS_DIR}/tls.key` },
      { name: 'KVS_TRUSTED_CA_FILE', value: `${TLS_DIR}/ca.crt` },
      ...(t.adminIdentities?.length ? [{ name: 'KVS_ADMIN_IDENTITIES', value: t.adminIdentities.join(',') }] : []),
      ...(t.peerIdentities?.length ? [{ name: 'KVS_PEER_IDENTITIES', value: t.peerIdentities.join(',') }] : []),
      ...(t.transition ? [{ name: 'KVS_TLS_TRANSITION', value: 'true' }] : []),
    ],
    mounts: [{ name: TLS_VOLUME, mountPath: TLS_DIR, readOnly: true }],
    // 0440 + fsGroup 1000: readable by the node (uid 1000), not by others.
    volumes: [{ name: TLS_VOLUME, secret: { secretName: t.secretName, defaultMode: 0o440 } }],
  };
}

/** The spec with every default filled in (the API server applies the same defaults from the schema). */
export type EffectiveSpec = Required<Pick<KvsClusterSpec, 'replicas' | 'image' | 'version' | 'pvcRetentionPolicy' | 'paused' | 'storage'>> &
  KvsClusterSpec & { podDisruptionBudget: { maxUnavailable: number }; nodeConfig: Record<string, string> };

export function withDefaults(spec: KvsClusterSpec): EffectiveSpec {
  return {
    ...spec,
    image: spec.image ?? DEFAULTS.image,
    version: spec.version ?? DEFAULTS.version,
    pvcRetentionPolicy: spec.pvcRetentionPolicy ?? DEFAULTS.pvcRetentionPolicy,
    paused: spec.paused ?? DEFAULTS.paused,
    podDisruptionBudget: { maxUnavailable: spec.podDisruptionBudget?.maxUnavailable ?? DEFAULTS.pdbMaxUnavailable },
    nodeConfig: spec.nodeConfig ?? {},
  };
}

export function ownerReference(c: KvsCluster): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: c.metadata.name,
    uid: c.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

function meta(c: KvsCluster, name: string, component: string) {
  return {
    name,
    namespace: c.metadata.namespace,
    labels: standardLabels(c.metadata.name, component),
    ownerReferences: [ownerReference(c)],
  };
}

/** Node settings as environment variables (KVS_*), sorted by key. */
export function nodeConfigData(spec: EffectiveSpec): Record<string, string> {
  const data: Record<string, string> = {};
  for (const k of Object.keys(spec.nodeConfig).sort()) data[nodeConfigEnvName(k)] = spec.nodeConfig[k]!;
  return data;
}

export function configHash(data: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);
}

export function configMap(c: KvsCluster, spec: EffectiveSpec): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(c, names.configMap(c), 'config'), data: nodeConfigData(spec) };
}

/** The members ConfigMap: raft id allocation (state.json) + one env file per pod (raftids.ts). */
export function membersConfigMap(c: KvsCluster, data: Record<string, string>): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(c, names.membersConfigMap(c), 'members'), data };
}

const servicePorts = [
  { name: 'grpc', port: PORT_GRPC, targetPort: 'grpc', protocol: 'TCP' },
  { name: 'http', port: PORT_HTTP, targetPort: 'http', protocol: 'TCP' },
];

/** Headless Service: stable DNS <pod>.<name>-peers.<ns>.svc for Raft peers, also before they are ready. */
export function peerService(c: KvsCluster): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(c, names.peerService(c), 'peers'),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(c.metadata.name),
      ports: servicePorts.map((p) => ({ ...p })),
    },
  };
}

/** Client Service: ready nodes only. */
export function clientService(c: KvsCluster): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(c, names.clientService(c), 'client'),
    spec: { type: 'ClusterIP', selector: selectorLabels(c.metadata.name), ports: servicePorts.map((p) => ({ ...p })) },
  };
}

export function podDisruptionBudget(c: KvsCluster, spec: EffectiveSpec): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(c, names.pdb(c), 'node'),
    spec: {
      maxUnavailable: spec.podDisruptionBudget.maxUnavailable,
      selector: { matchLabels: selectorLabels(c.metadata.name) },
    },
  };
}

/** Who may call the nodes' Admin port: the operator's pods (namespace + labels, the operator's own settings). */
export interface AdminPeers {
  namespace: string;
  podLabels: Record<string, string>;
}

/**
 * NetworkPolicy of the node pods: the data, Raft and metrics ports (grpc, http) stay open — clients,
 * peers and Prometheus reach them — while the Admin port admits only the operator's pods. Namespaced
 * like the pods, so the operator renders one per KvsCluster (a chart-level policy would reach only
 * the chart's namespace). Enforced by any CNI that implements NetworkPolicy.
 */
export function networkPolicy(c: KvsCluster, admin: AdminPeers): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(c, names.networkPolicy(c), 'node'),
    spec: {
      podSelector: { matchLabels: selectorLabels(c.metadata.name) },
      policyTypes: ['Ingress'],
      ingress: [
        { ports: [{ protocol: 'TCP', port: PORT_GRPC }, { protocol: 'TCP', port: PORT_HTTP }] },
        {
          // `_from`: the client library's model name for `from` (a reserved word); the apply serializes
          // by the model and would drop a plain `from`.
          _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': admin.namespace } }, podSelector: { matchLabels: admin.podLabels } }],
          ports: [{ protocol: 'TCP', port: PORT_ADMIN }],
        },
      ],
    },
  };
}

function defaultAffinity(name: string) {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selectorLabels(name) } },
        },
      ],
    },
  };
}

/**
 * The pods' affinity: the user's, merged with the default soft anti-affinity (one kvs pod per node).
 * A user who only pins nodes (nodeAffinity) or co-locates with something (podAffinity) keeps the
 * spreading that protects the quorum; only a user `podAntiAffinity` replaces the default one.
 */
export function podAffinity(name: string, user: Record<string, unknown> | undefined): Record<string, unknown> {
  const def = defaultAffinity(name);
  if (!user) return def;
  if (user['podAntiAffinity'] !== undefined) return user;
  return { ...user, podAntiAffinity: def.podAntiAffinity };
}

/**
 * The StatefulSet. podManagementPolicy Parallel: a Raft group needs a majority up before any node can
 * report ready, so OrderedReady would deadlock the bootstrap of >1 node; the order of membership changes
 * is the operator's job (plan.ts), not the StatefulSet controller's.
 *
 * `observed` keeps what cannot change: volumeClaimTemplates are immutable in a StatefulSet, so an
 * existing one's are kept (the CRD also rejects storage changes).
 */
export function statefulSet(c: KvsCluster, spec: EffectiveSpec, replicas: number, observed?: V1StatefulSet): V1StatefulSet {
  const name = c.metadata.name;
  const hash = configHash(nodeConfigData(spec));
  const podLabels = { ...standardLabels(name, 'node'), [LABEL_VERSION]: spec.version };
  const vct = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: DATA_VOLUME, labels: standardLabels(name, 'node') },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(spec.storage.storageClassName ? { storageClassName: spec.storage.storageClassName } : {}),
      resources: { requests: { storage: String(spec.storage.size) } },
    },
  };
  const tsc = spec.topologySpreadConstraints?.map((t) => ({ labelSelector: { matchLabels: selectorLabels(name) }, ...t }));
  // Raft: the same gRPC server serves Kv and Raft, Admin has its own port (PORT_ADMIN); the raft id, --peers / --join come from the
  // pod's file in the members ConfigMap (assigned before the pod exists, raftids.ts); NotLeader hints
  // carry the pod IP (reachable by clients in and next to the cluster).
  const args = [
    '--listen', `0.0.0.0:${PORT_GRPC}`,
    '--http', `0.0.0.0:${PORT_HTTP}`,
    '--data-dir', DATA_DIR,
    '--node-id', '$(POD_NAME)',
    '--raft-listen', `0.0.0.0:${PORT_GRPC}`,
    '--admin-listen', `0.0.0.0:${PORT_ADMIN}`,
    '--advertise', `$(POD_IP):${PORT_GRPC}`,
    '--env-file', `${MEMBERS_DIR}/$(POD_NAME)`,
  ];
  const tls = tlsPodParts(spec);
  const sts: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(c, names.statefulSet(c), 'node'),
    spec: {
      replicas,
      serviceName: names.peerService(c),
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(name) },
      // The operator restarts pods itself, one at a time, leadership moved away first (membership.ts).
      updateStrategy: { type: 'OnDelete' },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: spec.pvcRetentionPolicy,
        // A PVC left behind by a scale-in would resurrect a removed Raft member on the next scale-out.
        whenScaled: 'Delete',
      },
      template: {
        metadata: { labels: podLabels, annotations: { [ANNOTATION_CONFIG_HASH]: hash, [ANNOTATION_TLS_MODE]: modeOf(spec.tls) } },
        spec: {
          terminationGracePeriodSeconds: 30,
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          affinity: podAffinity(name, spec.affinity) as never,
          ...(tsc ? { topologySpreadConstraints: tsc as never } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations as never } : {}),
          containers: [
            {
              name: 'kvs',
              image: spec.image,
              imagePullPolicy: 'IfNotPresent',
              args,
              ports: [
                { name: 'grpc', containerPort: PORT_GRPC, protocol: 'TCP' },
                { name: 'http', containerPort: PORT_HTTP, protocol: 'TCP' },
                { name: PORT_NAME_ADMIN, containerPort: PORT_ADMIN, protocol: 'TCP' },
              ],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'KVS_CLUSTER_NAME', value: name },
                { name: 'KVS_PEER_SERVICE', value: names.peerService(c) },
                ...tls.env,
              ],
              envFrom: [{ configMapRef: { name: names.configMap(c) } }],
              ...(spec.resources ? { resources: spec.resources as never } : {}),
              // Probed every second: a restarted node is usually ready ~1 s after its container starts
              // (it hears the leader's next heartbeat), and each probe period is added to every pod
              // restart of a rollout. Startup keeps its 120 s budget (120 × 1 s); /readyz is cheap.
              startupProbe: { httpGet: { path: '/healthz', port: 'http' as never }, periodSeconds: 1, failureThreshold: 120 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' as never }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' as never }, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 3 },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: DATA_VOLUME, mountPath: DATA_DIR },
                { name: 'tmp', mountPath: '/tmp' },
                { name: MEMBERS_VOLUME, mountPath: MEMBERS_DIR, readOnly: true },
                ...(tls.mounts as never[]),
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' as never } },
            { name: MEMBERS_VOLUME, configMap: { name: names.membersConfigMap(c) } },
            ...(tls.volumes as never[]),
          ],
        },
      },
      volumeClaimTemplates: (observed?.spec?.volumeClaimTemplates?.length ? stripVct(observed.spec.volumeClaimTemplates) : [vct]) as never,
    },
  };
  return sts;
}

/** The apply-relevant part of observed volumeClaimTemplates (drops server-filled status/defaults). */
function stripVct(vcts: NonNullable<V1StatefulSet['spec']>['volumeClaimTemplates'] = []): unknown[] {
  return vcts.map((v) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: v.metadata?.name, labels: v.metadata?.labels },
    spec: {
      accessModes: v.spec?.accessModes,
      ...(v.spec?.storageClassName ? { storageClassName: v.spec.storageClassName } : {}),
      resources: { requests: { storage: String(v.spec?.resources?.requests?.['storage'] ?? '') } },
    },
  }));
}
