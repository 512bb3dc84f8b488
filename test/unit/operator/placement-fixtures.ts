// Fixtures for the placement planner tests: stores and ranges as the operator will observe them.
import type { RangeDescriptor } from '../../../node/src/meta/range-descriptor.js';
import type { HostedPeer, ObservedRange, ObservedStore, PlacementSpec } from '../../../operator/src/placement/types.js';

export const ZONE = 'topology.kubernetes.io/zone';
export const NOW_MS = Date.parse('2026-11-21T10:00:00Z');
export const MIN = 60_000;
export const GIB = 1 << 30;
export const MIB = 1 << 20;

export const spec = (over: Partial<PlacementSpec> = {}): PlacementSpec => ({ replicationFactor: 3, topologyKey: ZONE, maxConcurrentMoves: 2, storeDownTimeoutMs: 30 * MIN, ...over });

/** Store `id` in `zone`, up and seen now; `over` changes state, drain, last seen, peers. */
export function store(id: number, zone: string, over: Partial<ObservedStore> & { downForMin?: number; peers?: HostedPeer[] } = {}): ObservedStore {
  const { downForMin, peers, ...rest } = over;
  const s: ObservedStore = { storeId: id, state: 'up', lastSeenMs: NOW_MS, labels: { [ZONE]: zone }, capacityBytes: 100 * GIB, usedBytes: 0, ...rest };
  if (downForMin !== undefined) {
    s.state = 'down';
    s.lastSeenMs = NOW_MS - downForMin * MIN;
  }
  if (peers) s.hostedPeers = peers;
  return s;
}

/** Stores 1..n round-robin over zones a, b, c (or the given zones). */
export function stores(n: number, zones = ['a', 'b', 'c']): ObservedStore[] {
  return Array.from({ length: n }, (_, i) => store(i + 1, zones[i % zones.length]!));
}

export interface RangeOpts {
  learners?: number[];
  /** Learners still catching up (default: none — every learner listed is caught up). */
  pending?: number[];
  leader?: number | null;
  mib?: number;
  qps?: number;
  confVer?: number;
}

/**
 * Range `id` with voters on `voters` (store ids; the first leads unless `leader` says otherwise).
 * Peer ids are id*100 + store id, so a re-created replica would need another one.
 */
export function range(id: number, voters: number[], o: RangeOpts = {}): ObservedRange {
  const replicas: RangeDescriptor['replicas'] = [
    ...voters.map((s) => ({ storeId: s, peerId: id * 100 + s, role: 'voter' as const })),
    ...(o.learners ?? []).map((s) => ({ storeId: s, peerId: id * 100 + s, role: 'learner' as const })),
  ];
  const key = (n: number) => Buffer.from(`k${String(n).padStart(4, '0')}`);
  const descriptor: RangeDescriptor = { rangeId: id, start: id === 1 ? Buffer.alloc(0) : key(id), end: key(id + 1), epoch: { confVer: o.confVer ?? 5, version: 2 }, replicas };
  const r: ObservedRange = { descriptor, approxBytes: (o.mib ?? 32) * MIB };
  const leader = o.leader === undefined ? voters[0] : o.leader;
  if (leader !== null && leader !== undefined) r.leaderStoreId = leader;
  if (o.pending && o.pending.length > 0) r.pendingLearners = o.pending;
  if (o.qps !== undefined) r.qps = o.qps;
  return r;
}
