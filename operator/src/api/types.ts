// KvsCluster v1alpha1 (group kvs.dev): the TypeScript shape of the custom resource.
// The OpenAPI schema lives next to it in schema.ts; test/unit/operator/api.test.ts checks that every
// field declared here exists in the schema (and vice versa), so the two cannot drift apart.

export const GROUP = 'kvs.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'KvsCluster';
export const PLURAL = 'kvsclusters';
export const SINGULAR = 'kvscluster';
export const SHORT_NAMES = ['kvs', 'kvsc'];

/** Defaults applied by the API server (schema `default`) and again by the planner (defensive). */
export const DEFAULTS = {
  image: 'kvs/node:dev',
  version: 'dev',
  pvcRetentionPolicy: 'Retain' as PvcRetentionPolicy,
  paused: false,
  pdbMaxUnavailable: 1,
  failoverEnabled: true,
  failoverDownTimeout: '5m',
  maxConcurrentReplacements: 1,
  /** Applied by the operator, not the schema: capped at the largest odd number ≤ the stores. */
  replicationFactor: 3,
  maxConcurrentMoves: 2,
} as const;

export type PvcRetentionPolicy = 'Retain' | 'Delete';

export interface ResourceRequirements {
  limits?: Record<string, string | number>;
  requests?: Record<string, string | number>;
}

export interface StorageSpec {
  /** PVC size of each node, e.g. "1Gi". Immutable. */
  size: string;
  /** StorageClass of the PVCs; the cluster default when unset. Immutable. */
  storageClassName?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  [other: string]: unknown;
}

export interface PodDisruptionBudgetSpec {
  /** How many kvs pods a voluntary disruption may take down at once (default 1). */
  maxUnavailable?: number;
}

/**
 * Automatic replacement of members that are gone for good (dead node, lost volume): remove the old raft
 * id, give the pod a new one with an empty volume, add it as a learner, promote it once caught up.
 */
export interface FailoverSpec {
  /** Replace members that stay unhealthy longer than downTimeout (default true). A member whose volume
   * was lost (the node reports a new data-dir incarnation) is always replaced: it can never vote again. */
  enabled?: boolean;
  /** How long a member may be unhealthy (pod not ready or node not answering) before it is replaced,
   * e.g. "5m" (default), "90s". A restart within this time is never a replacement. */
  downTimeout?: string;
  /** Replacements in flight at once (default 1). */
  maxConcurrentReplacements?: number;
}

/**
 * Mutual TLS on every port of the nodes. The Secret has the kubernetes.io/tls shape cert-manager writes:
 * `tls.crt` (the nodes' certificate: serverAuth + clientAuth, SANs for the client Service and every pod
 * name under the peer Service, identity `kvs-node` unless peerIdentities says otherwise), `tls.key`, and
 * `ca.crt` (the CA verifying clients, peers and the operator). Rotating the Secret needs no restart.
 */
export interface TlsSpec {
  /** Secret with tls.crt, tls.key and ca.crt, in the cluster's namespace. */
  secretName: string;
  /** Certificate identities (CN or DNS/URI SAN, `*.suffix` allowed) that may call the Admin API (default [kvs-admin]). */
  adminIdentities?: string[];
  /** Certificate identities of the nodes, allowed to call the Raft service (default [kvs-node]). */
  peerIdentities?: string[];
  /**
   * Hold the nodes in transition (the nodes' --tls-transition: TLS offered, plaintext accepted). Turning
   * TLS on or off needs no help: the operator rolls every node through transition first by itself
   * (tls-mode.ts); this keeps the cluster there while plaintext clients move to TLS.
   */
  transition?: boolean;
}

/** Where the replicas of each range go (issue 13; the operator is the placement driver). */
export interface PlacementSettings {
  /** Node label whose values the replicas of a range spread across (e.g. topology.kubernetes.io/zone),
   * read from the Kubernetes node each store's pod runs on (a pod label of that key counts when the
   * node has none). Unset: every store counts as one value. */
  topologyKey?: string;
  /** Replica moves (AddLearner … RemoveMember) in flight at once, cluster-wide (default 2). Leader
   * transfers have their own per-pass budget of the same size. */
  maxConcurrentMoves?: number;
}

export interface KvsClusterSpec {
  replicas: number;
  /** Voters per range (odd, ≤ replicas). Unset: 3, or the largest odd number ≤ replicas when smaller.
   * A store down longer than failover.downTimeout has its ranges re-replicated elsewhere. */
  replicationFactor?: number;
  placement?: PlacementSettings;
  image?: string;
  version?: string;
  resources?: ResourceRequirements;
  storage: StorageSpec;
  /** core/v1 Affinity of the pods, merged with the default soft anti-affinity unless it sets podAntiAffinity. */
  affinity?: Record<string, unknown>;
  topologySpreadConstraints?: TopologySpreadConstraint[];
  tolerations?: Toleration[];
  podDisruptionBudget?: PodDisruptionBudgetSpec;
  /** Node settings: key `raft-tick-ms` reaches the node as env `KVS_RAFT_TICK_MS` (ConfigMap). */
  nodeConfig?: Record<string, string>;
  pvcRetentionPolicy?: PvcRetentionPolicy;
  /** When true the operator changes nothing (status is still reported). */
  paused?: boolean;
  failover?: FailoverSpec;
  /** Mutual TLS on every node port; plaintext when unset. */
  tls?: TlsSpec;
}

export type ConditionType = 'Available' | 'Progressing' | 'Degraded' | 'ReconciliationPaused' | 'ScaleInBlocked' | 'MemberReplacement' | 'ApplyFailed' | 'Balanced';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export type MemberRole = 'Leader' | 'Follower' | 'Learner' | 'Unknown';

export interface Member {
  pod: string;
  /** Raft member id assigned by the operator (never reused). */
  raftId?: string;
  role: MemberRole;
  healthy: boolean;
  appliedIndex?: number;
}

/** One store in the shard-map summary. */
export interface ShardMapStore {
  pod: string;
  storeId: number;
  /** Replicas it holds (voters and learners; range 1 not counted). */
  ranges: number;
  leaders: number;
  /** Approximate bytes of its replicas. */
  bytes: number;
  /** Requests per second of the ranges it leads (the stores' reports over the last 10–20 s; 0 = not measured). */
  qps: number;
  /** up, down, lost (down longer than failover.downTimeout), draining or removed. */
  state: string;
}

/** The shard map as the placement driver last observed it (range 1, the membership range, excluded). */
export interface ShardMapStatus {
  ranges: number;
  /** Ranges with fewer healthy voters than the replication factor. */
  underReplicated: number;
  /** Ranges whose healthy voters are no majority. */
  unavailable: number;
  /** Replica moves in flight (a learner added, or more voters than the factor). */
  movesInFlight: number;
  /** The replication factor in force. */
  replicationFactor: number;
  /** Largest relative deviation from the mean over the usable stores, in percent. */
  replicaImbalancePercent: number;
  leaderImbalancePercent: number;
  /** The same for the leaders' load (requests per second); 0 when not measured. */
  leaderLoadImbalancePercent: number;
  stores: ShardMapStore[];
}

export type Phase = 'Creating' | 'Running' | 'Scaling' | 'Upgrading' | 'Degraded' | 'Unavailable' | 'Paused';

export interface KvsClusterStatus {
  phase?: Phase;
  conditions?: Condition[];
  observedGeneration?: number;
  readyReplicas?: number;
  replicas?: number;
  /** Label selector of the pods (string form), for the scale subresource. */
  selector?: string;
  members?: Member[];
  leader?: string;
  currentVersion?: string;
  /** Next Raft id the operator hands out (monotonic; ids are never reused). */
  nextRaftId?: number;
  /** How the node pods speak TLS: plain, tls, or transition (both accepted; also while pods differ). */
  tlsMode?: 'plain' | 'transition' | 'tls';
  shardMap?: ShardMapStatus;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

export interface KvsCluster {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: KvsClusterSpec;
  status?: KvsClusterStatus;
}
