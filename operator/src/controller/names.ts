// Names, labels and ports shared by the planner and the runtime. Pure.
import type { KvsCluster } from '../api/types.js';

export const FIELD_MANAGER = 'kvs-operator';
export const MANAGED_BY = 'kvs-operator';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_VERSION = 'app.kubernetes.io/version';
export const ANNOTATION_CONFIG_HASH = 'kvs.dev/config-hash';

export const PORT_GRPC = 7379;
export const PORT_HTTP = 7380;
/**
 * The Admin API's own port (the node's --admin-listen): in no Service, and the cluster's NetworkPolicy
 * lets only the operator reach it, so a client that can reach the data port still cannot call Admin.
 */
export const PORT_ADMIN = 7381;
export const PORT_NAME_ADMIN = 'admin';
export const DATA_DIR = '/data';
export const DATA_VOLUME = 'data';
/** Where each pod finds its Raft identity: the members ConfigMap, one file per pod name. */
export const MEMBERS_DIR = '/etc/kvs/members';
export const MEMBERS_VOLUME = 'members';
/** Key of the operator's membership state (raft id allocation) in the members ConfigMap. */
export const MEMBERS_STATE_KEY = 'state.json';
/** Pod label the StatefulSet controller sets to the pod's template revision. */
export const LABEL_REVISION = 'controller-revision-hash';

export function selectorLabels(name: string): Record<string, string> {
  return { [LABEL_NAME]: 'kvs', [LABEL_INSTANCE]: name };
}

export function standardLabels(name: string, component = 'node'): Record<string, string> {
  return { ...selectorLabels(name), [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_COMPONENT]: component };
}

/** The label selector in string form (status.selector, list calls). */
export function selectorString(name: string): string {
  return Object.entries(selectorLabels(name))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export const names = {
  statefulSet: (c: KvsCluster) => c.metadata.name,
  peerService: (c: KvsCluster) => `${c.metadata.name}-peers`,
  clientService: (c: KvsCluster) => c.metadata.name,
  configMap: (c: KvsCluster) => `${c.metadata.name}-config`,
  membersConfigMap: (c: KvsCluster) => `${c.metadata.name}-members`,
  pdb: (c: KvsCluster) => c.metadata.name,
  networkPolicy: (c: KvsCluster) => c.metadata.name,
};

/** Ordinal of a StatefulSet pod name (`<sts>-<n>`), or -1. */
export function podOrdinal(podName: string): number {
  const m = /-(\d+)$/.exec(podName);
  return m ? Number(m[1]) : -1;
}

/** nodeConfig key `raft-tick-ms` → environment variable `KVS_RAFT_TICK_MS`. */
export function nodeConfigEnvName(key: string): string {
  return 'KVS_' + key.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Raft majority of n voters. */
export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * Where the operator calls a pod's Admin API: the admin port when the pod was created with one, else the
 * data port (pods from templates before the admin port existed, until their restart). Undefined without an IP.
 */
export function adminAddress(pod: { spec?: { containers?: Array<{ ports?: Array<{ name?: string; containerPort: number }> }> }; status?: { podIP?: string } }): string | undefined {
  const ip = pod.status?.podIP;
  if (!ip) return undefined;
  const port = pod.spec?.containers?.[0]?.ports?.find((p) => p.name === PORT_NAME_ADMIN)?.containerPort;
  return `${ip}:${port ?? PORT_GRPC}`;
}

/** Stable Raft address of a pod (headless Service DNS; publishNotReadyAddresses). */
export function raftAddress(c: KvsCluster, pod: string): string {
  return `${pod}.${names.peerService(c)}.${c.metadata.namespace ?? 'default'}.svc:${PORT_GRPC}`;
}

/** The data PVC of a StatefulSet pod (`<volumeClaimTemplate>-<pod>`). */
export function pvcName(pod: string): string {
  return `${DATA_VOLUME}-${pod}`;
}

export function podName(c: KvsCluster, ordinal: number): string {
  return `${names.statefulSet(c)}-${ordinal}`;
}
