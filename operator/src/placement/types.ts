// Types of the placement planner (issue 13): what it reads (spec, observed stores and ranges, steps
// already issued) and what it returns (next safe steps + a shard-map summary for status and gauges).
// The range descriptor is the store's own type (node/src/meta/range-descriptor.ts): the operator
// already imports node/src (logger, units, admin client), and one type means one set of epoch rules.
import type { RangeDescriptor, RangeEpoch } from '../../../node/src/meta/range-descriptor.js';

export interface PlacementSpec {
  /** Voters per range; odd, ≥ 1. */
  replicationFactor: number;
  /** Store label whose values the replicas of a range spread across (e.g. topology.kubernetes.io/zone).
   * Undefined or absent on a store: every such store counts as one value. */
  topologyKey?: string;
  /** AddLearner steps (moves) in flight at once, cluster-wide (FoundationDB's maxConcurrentReplacements,
   * PD's replica-schedule-limit). Leader transfers have their own per-pass budget of the same size. */
  maxConcurrentMoves: number;
  /** A store down this long is lost: its replicas are re-created elsewhere (TiKV's max-store-down-time). */
  storeDownTimeoutMs: number;
}

/** Liveness as the operator observes it. `removed`: gone for good (pod and PVC deleted, or tombstoned). */
export type StoreLiveness = 'up' | 'down' | 'removed';

export interface ObservedStore {
  storeId: number;
  state: StoreLiveness;
  /** The operator's intent (scale-in): move every replica and leadership away. Kept while the store is
   * down, which is why it is not a fourth liveness value. */
  draining?: boolean;
  /** Last time the store was seen up (ms since the epoch); `down` stores count from here. */
  lastSeenMs: number;
  /** Store (pod / node) labels; the topology key is looked up here. */
  labels?: Record<string, string>;
  capacityBytes: number;
  usedBytes: number;
  /** Peers this store hosts, as it reports them (only needed to find stale ones: a store that returns
   * after its replicas were replaced still holds peers no descriptor lists). */
  hostedPeers?: HostedPeer[];
}

export interface HostedPeer {
  rangeId: number;
  peerId: number;
  /** The descriptor epoch the peer last applied. */
  confVer: number;
}

export interface ObservedRange {
  /** The descriptor from the meta range (the newest one: stale reports are dropped by epoch upstream). */
  descriptor: RangeDescriptor;
  /** Store of the Raft leader; undefined = no leader known (no replica change can be applied). */
  leaderStoreId?: number;
  /** Approximate size (bytes). */
  approxBytes: number;
  /** Requests per second served by the leader, when measured. */
  qps?: number;
  /** Learners still catching up (snapshot not applied yet), by store id; a learner not listed is caught
   * up (PD's pending peers). */
  pendingLearners?: number[];
}

/** A step the applier issued in an earlier pass that the observed state may not show yet. */
export interface InFlightStep {
  step: PlacementStep;
  /** When it was issued (ms); for the applier's own time-outs, informative here. */
  issuedAtMs?: number;
}

export interface PlacementInput {
  spec: PlacementSpec;
  stores: ObservedStore[];
  ranges: ObservedRange[];
  inFlight?: InFlightStep[];
  /** This pass's clock (ms since the epoch). */
  nowMs: number;
}

/** Why a step was chosen: metrics label and event reason. */
export type StepCause =
  | 'under-replicated' // fewer voters than the replication factor
  | 'replace-lost' // a replica on a store down longer than storeDownTimeout (or removed)
  | 'drain' // a replica or leadership on a draining store
  | 'topology' // replicas not spread across the topology values they could use
  | 'balance' // replica count / size balance
  | 'finish-move' // promote a caught-up learner, remove the extra voter
  | 'leader-balance'
  | 'stale-peer'; // a peer no descriptor lists any more

// Each step is exactly one Admin call on the range's leader (or, for RemoveStalePeer, on the store).
// Every step carries the epoch of the descriptor it was planned against: the store refuses it when the
// descriptor changed in between (adminEpochMatches → EPOCH_NOT_MATCH), so a stale plan never applies;
// the driver then observes again and re-plans. RemoveStalePeer carries the current descriptor's epoch
// and stores: the store destroys its replica only when that descriptor is newer and does not list it.
export type PlacementStep =
  | { type: 'AddLearner'; rangeId: number; storeId: number; epoch: RangeEpoch; cause: StepCause; why: string }
  | { type: 'Promote'; rangeId: number; storeId: number; epoch: RangeEpoch; cause: StepCause; why: string }
  | { type: 'RemoveReplica'; rangeId: number; storeId: number; peerId: number; epoch: RangeEpoch; cause: StepCause; why: string }
  | { type: 'TransferLeader'; rangeId: number; fromStoreId: number; toStoreId: number; epoch: RangeEpoch; cause: StepCause; why: string }
  | { type: 'RemoveStalePeer'; rangeId: number; storeId: number; peerId: number; epoch: RangeEpoch; descriptorStores: number[]; cause: StepCause; why: string };

export type StoreSummaryState = 'up' | 'down' | 'lost' | 'draining' | 'removed';

export interface StoreSummary {
  storeId: number;
  state: StoreSummaryState;
  /** Replicas (voters + learners) in the shard map. */
  ranges: number;
  leaders: number;
  /** Sum of the approximate sizes of its replicas. */
  bytes: number;
  /** Requests per second of the ranges it leads (0 when not measured). */
  qps: number;
  /** Draining and holds nothing any more: its pod and PVC may go. */
  drained?: boolean;
}

export interface PlacementSummary {
  ranges: number;
  /** Ranges with fewer voters on live stores than the replication factor. */
  underReplicated: number;
  /** Ranges whose healthy voters are not a majority: nothing can change them (no step). */
  unavailable: number;
  /** Ranges with no known leader (no replica change possible until one is elected). */
  leaderless: number;
  movesInFlight: number;
  stores: StoreSummary[];
  balanced: boolean;
  /** Condition reason (CamelCase) and a readable message. */
  reason: string;
  message: string;
  /** Max relative deviation from the mean over the stores that can hold replicas (0.2 = ±20 %). */
  /** qps: of the leaders' load (0 when not measured). */
  imbalance: { replicas: number; leaders: number; bytes: number; qps: number };
}

export interface BlockedRange {
  rangeId: number;
  reason: string;
}

export interface PlacementPlan {
  steps: PlacementStep[];
  summary: PlacementSummary;
  /** Ranges that need a change the planner may not make now (below majority, no target store, no
   * leader), first few by range id, with the total in `blockedCount`. */
  blocked: BlockedRange[];
  blockedCount: number;
}
