// The controller's side of placement (issue 13), pure: the planner's spec from the KvsCluster, the
// stores it places on (the members of range 1, from the members table), and what a pass puts into
// status (status.shardMap, the Balanced condition). The I/O is in runtime/placement-*.ts.
//
// One replacement mechanism (issue item 7): a store down longer than failover.downTimeout is "lost" for
// the planner too (storeDownTimeout IS failover.downTimeout, read from the same members-table clock
// `downSince`), and failover.enabled=false turns both off. The membership planner replaces the store
// itself (RemoveMember of the old id, whose fan-out drops its replicas, a new id for the pod); the
// placement planner re-replicates the ranges that lost a replica onto the remaining stores. Placement
// only runs while no membership step is planned or waited for, so the two never act in the same pass.
import type { V1Pod } from '@kubernetes/client-node';
import { parseDuration } from '../../../node/src/common/units.js';
import { DEFAULTS, type Condition, type KvsClusterSpec, type ShardMapStatus } from '../api/types.js';
import type { PlacementSpec, PlacementSummary } from '../placement/types.js';
import type { StoreEndpoint } from '../runtime/placement-observe.js';
import type { RaftView } from './membership.js';
import { adminAddress, podOrdinal } from './names.js';
import type { MembersState } from './raftids.js';
import { setCondition } from './status.js';

/** "Never lost" for the planner (its spec wants a finite duration). */
const NEVER_MS = Number.MAX_SAFE_INTEGER;

/** The largest odd number ≤ n (≥ 1). */
export function largestOdd(n: number): number {
  const m = Math.max(1, Math.floor(n));
  return m % 2 === 1 ? m : m - 1;
}

/** The replication factor in force: spec (default 3), never more than the stores can hold. */
export function effectiveReplicationFactor(spec: Pick<KvsClusterSpec, 'replicationFactor'>, stores: number): number {
  return Math.min(largestOdd(spec.replicationFactor ?? DEFAULTS.replicationFactor), largestOdd(stores));
}

export function placementSpecOf(spec: KvsClusterSpec, stores: number): PlacementSpec {
  const f = spec.failover ?? {};
  let down: number;
  try {
    down = parseDuration(f.downTimeout ?? DEFAULTS.failoverDownTimeout, 'failover.downTimeout');
  } catch {
    down = parseDuration(DEFAULTS.failoverDownTimeout);
  }
  return {
    replicationFactor: effectiveReplicationFactor(spec, stores),
    ...(spec.placement?.topologyKey ? { topologyKey: spec.placement.topologyKey } : {}),
    maxConcurrentMoves: Math.max(1, spec.placement?.maxConcurrentMoves ?? DEFAULTS.maxConcurrentMoves),
    storeDownTimeoutMs: (f.enabled ?? DEFAULTS.failoverEnabled) ? down : NEVER_MS,
  };
}

/**
 * A store's labels for placement: its pod's, overlaid with those of the Kubernetes node the pod runs on
 * (spec.nodeName; topology keys such as topology.kubernetes.io/zone are node labels). `nodeLabels`
 * holds the nodes read this pass; a node not in it (unreadable, pod not scheduled) adds nothing.
 */
export function storeLabels(pod: V1Pod | undefined, nodeLabels?: ReadonlyMap<string, Record<string, string>>): Record<string, string> | undefined {
  const own = pod?.metadata?.labels;
  const nodeName = pod?.spec?.nodeName;
  const node = nodeName ? nodeLabels?.get(nodeName) : undefined;
  if (!own && !node) return undefined;
  return { ...(own ?? {}), ...(node ?? {}) };
}

/** The nodes the cluster's pods run on (to read their labels when a topology key is set). */
export function podNodeNames(pods: readonly V1Pod[]): string[] {
  return [...new Set(pods.map((p) => p.spec?.nodeName ?? '').filter((n) => n !== ''))].sort();
}

/**
 * The stores placement works with: every pod whose raft id is a voter of range 1. Pods at or above
 * `desiredReplicas` are draining (the scale-in removes them next). Addresses: each pod's Admin port.
 * Labels: storeLabels (the pod's, overlaid with its node's from `nodeLabels`).
 */
export function storeEndpoints(members: MembersState, view: RaftView, pods: readonly V1Pod[], desiredReplicas: number, nodeLabels?: ReadonlyMap<string, Record<string, string>>): StoreEndpoint[] {
  const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
  const out: StoreEndpoint[] = [];
  for (const [pod, a] of Object.entries(members.pods).sort(([x], [y]) => podOrdinal(x) - podOrdinal(y))) {
    if (!a.added || view.members.get(a.raftId)?.role !== 'voter') continue;
    const p = byName.get(pod);
    const address = p && !p.metadata?.deletionTimestamp ? adminAddress(p) : undefined;
    const labels = storeLabels(p, nodeLabels);
    out.push({
      storeId: a.raftId,
      pod,
      ...(address ? { address } : {}),
      ...(podOrdinal(pod) >= desiredReplicas ? { draining: true } : {}),
      ...(a.downSince !== undefined ? { downSinceMs: Date.parse(a.downSince) } : {}),
      ...(labels ? { labels } : {}),
    });
  }
  return out;
}

export function shardMapStatus(s: PlacementSummary, rf: number, pods: ReadonlyMap<number, string>): ShardMapStatus {
  return {
    ranges: s.ranges,
    underReplicated: s.underReplicated,
    unavailable: s.unavailable,
    movesInFlight: s.movesInFlight,
    replicationFactor: rf,
    replicaImbalancePercent: Math.round(s.imbalance.replicas * 100),
    leaderImbalancePercent: Math.round(s.imbalance.leaders * 100),
    leaderLoadImbalancePercent: Math.round(s.imbalance.qps * 100),
    stores: s.stores.map((x) => ({ pod: pods.get(x.storeId) ?? '', storeId: x.storeId, ranges: x.ranges, leaders: x.leaders, bytes: Math.round(x.bytes), qps: Math.round(x.qps * 10) / 10, state: x.state })),
  };
}

/**
 * The Balanced condition: True when the planner finds nothing to do; False with its reason otherwise, or
 * PlacementStepFailed (the last pass's failures) / MembershipChanging (placement waits) / NotObserved.
 */
export function balancedCondition(
  prev: Condition[] | undefined,
  input: { summary?: PlacementSummary; failed?: string[]; waiting?: string },
  generation: number,
  now: string,
): Condition {
  const { summary, failed, waiting } = input;
  if (failed && failed.length > 0) {
    return setCondition(prev, { type: 'Balanced', status: 'False', reason: 'PlacementStepFailed', message: failed.join('; ').slice(0, 2000) }, generation, now);
  }
  if (summary) {
    return setCondition(prev, { type: 'Balanced', status: summary.balanced ? 'True' : 'False', reason: summary.reason, message: summary.message }, generation, now);
  }
  return setCondition(prev, { type: 'Balanced', status: 'Unknown', reason: waiting ? 'MembershipChanging' : 'NotObserved', message: waiting ?? 'the shard map was not observed (no store answered the admin API)' }, generation, now);
}
