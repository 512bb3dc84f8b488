// Observation for the placement planner (issue 13): the shard map as the stores report it (Admin.Ranges
// on every store, in parallel) turned into the planner's PlacementInput. The only I/O of a placement
// pass besides the steps themselves; the planner (placement/planner.ts) stays pure.
//
// Per range the newest report wins (higher epoch version, then confVer, then the leader's own report, as
// client/range-moves.ts collectShardMap): its descriptor, leader and size. A learner is pending (still
// waiting for its snapshot or catching up) until its own store reports the range applied close to the
// leader. Every replica a store reports is a hosted peer: one the current descriptor no longer lists is
// stale (its removal not yet applied or destroyed there) and the planner never targets that store for
// the range (peer ids are store ids: a re-added replica would inherit the old one's acknowledgements).
// Range 1 is not placed: its members are the cluster's stores (the membership planner owns it).
import type { RangeInfo } from '../../../node/src/client/admin-client.js';
import { MEMBERSHIP_RANGE_ID } from '../../../node/src/client/drain.js';
import type { RangeDescriptor } from '../../../node/src/meta/range-descriptor.js';
import type { HostedPeer, ObservedRange, ObservedStore } from '../placement/types.js';
import { toNodeAdminError, type RangeAdmin, type StoreRanges } from './admin.js';

/** A learner more than this many entries behind the leader's applied index is still catching up (the
 * node's own Promote check uses the same default lag). */
export const LEARNER_MAX_LAG = 100;

/** One store of the cluster as the operator knows it (a member of range 1). */
export interface StoreEndpoint {
  storeId: number;
  pod: string;
  /** Admin address (host:port); undefined = the pod has no IP (not running). */
  address?: string;
  /** Being scaled in: replicas and leaderships move away, nothing moves there. */
  draining?: boolean;
  /** Since when the operator has seen it unhealthy (the members table's clock, ms); undefined = healthy. */
  downSinceMs?: number;
  labels?: Record<string, string>;
}

export interface ObservedShardMap {
  stores: ObservedStore[];
  ranges: ObservedRange[];
  /** Store id → admin address of the stores that answered. */
  addresses: Map<number, string>;
  /** Store id → pod. */
  pods: Map<number, string>;
  /** Stores that did not answer, with the error. */
  unreachable: Array<{ storeId: number; pod: string; error: string }>;
}

function newer(x: RangeInfo, cur: RangeInfo | undefined): boolean {
  if (cur === undefined) return true;
  if (x.version !== cur.version) return x.version > cur.version;
  if (x.confVer !== cur.confVer) return x.confVer > cur.confVer;
  return x.role === 'Leader' && (cur.role !== 'Leader' || x.term > cur.term);
}

function descriptorOf(r: RangeInfo): RangeDescriptor {
  return {
    rangeId: r.rangeId,
    start: r.start,
    end: r.end,
    epoch: { confVer: r.confVer, version: r.version },
    replicas: r.replicas.map((x) => ({ storeId: x.storeId, peerId: x.peerId, role: x.role === 'learner' ? 'learner' : 'voter' })),
  };
}

/**
 * Reads every store's ranges and builds the planner's stores and ranges. A store that does not answer is
 * `down` since `downSinceMs` (or since now: never lost on the first silent pass); a `retired` id still
 * named by a descriptor is `removed`. Never throws for one store; the caller decides what to do when none
 * answered (`addresses.size === 0`).
 */
export async function observeShardMap(admin: RangeAdmin, endpoints: readonly StoreEndpoint[], nowMs: number, retired: readonly number[] = []): Promise<ObservedShardMap> {
  const reports = await Promise.all(
    endpoints.map(async (e): Promise<StoreRanges | Error> => {
      if (e.address === undefined) return new Error('no address (pod not running)');
      try {
        const r = await admin.ranges(e.address);
        // A pod answering as another store (its slot got a new raft id, not yet restarted) is not this store.
        if (r.storeId !== e.storeId) return new Error(`answers as store ${r.storeId}`);
        return r;
      } catch (err) {
        return toNodeAdminError(err, `Ranges ${e.pod}`);
      }
    }),
  );
  const best = new Map<number, RangeInfo>();
  /** range id → store id → that store's own report (applied index, for learner catch-up). */
  const own = new Map<number, Map<number, RangeInfo>>();
  const stores: ObservedStore[] = [];
  const addresses = new Map<number, string>();
  const pods = new Map<number, string>();
  const unreachable: ObservedShardMap['unreachable'] = [];
  endpoints.forEach((e, i) => {
    const r = reports[i]!;
    pods.set(e.storeId, e.pod);
    const base = { storeId: e.storeId, capacityBytes: 0, ...(e.draining ? { draining: true } : {}), ...(e.labels ? { labels: e.labels } : {}) };
    if (r instanceof Error) {
      unreachable.push({ storeId: e.storeId, pod: e.pod, error: r.message });
      stores.push({ ...base, state: 'down', lastSeenMs: e.downSinceMs ?? nowMs, usedBytes: 0 });
      return;
    }
    addresses.set(e.storeId, e.address!);
    const hostedPeers: HostedPeer[] = [];
    let used = 0;
    for (const x of r.ranges) {
      used += x.approximateBytes;
      if (!own.has(x.rangeId)) own.set(x.rangeId, new Map());
      own.get(x.rangeId)!.set(e.storeId, x);
      if (newer(x, best.get(x.rangeId))) best.set(x.rangeId, x);
      const self = x.replicas.find((p) => p.storeId === e.storeId);
      hostedPeers.push({ rangeId: x.rangeId, peerId: self?.peerId ?? e.storeId, confVer: x.confVer });
    }
    // What the store's data could grow to: its ranges plus the free space of their filesystem (other
    // files on that disk count against the store). Not reported (no filesystem size): no limit; a full
    // disk reports a size and 0 free bytes, and is limited.
    const reported = (r.capacityBytes ?? 0) > 0;
    stores.push({ ...base, ...(reported ? { capacityBytes: used + (r.availableBytes ?? 0) } : {}), state: 'up', lastSeenMs: nowMs, usedBytes: used, hostedPeers });
  });

  const ranges: ObservedRange[] = [];
  for (const [rangeId, r] of [...best].sort(([a], [b]) => a - b)) {
    if (rangeId === MEMBERSHIP_RANGE_ID) continue;
    const reps = own.get(rangeId)!;
    // The leader as the freshest self-declared leader says, else as the winning report names it.
    let leaderReport: RangeInfo | undefined;
    let leaderStore = 0;
    for (const [s, x] of reps) {
      if (x.role === 'Leader' && (leaderReport === undefined || x.term > leaderReport.term)) {
        leaderReport = x;
        leaderStore = s;
      }
    }
    if (leaderStore === 0) leaderStore = r.leaderId;
    const d = descriptorOf(r);
    const o: ObservedRange = { descriptor: d, approxBytes: (leaderReport ?? r).approximateBytes };
    // Its load: the requests all of its replicas saw (the client sends to the leader; a follower forwards
    // writes there). Stores that do not report it (older builds) read as 0; none at all: not measured.
    let qps = 0;
    for (const x of reps.values()) qps += x.readsPerSec + x.writesPerSec;
    if (qps > 0) o.qps = qps;
    if (leaderStore > 0 && d.replicas.some((x) => x.storeId === leaderStore && x.role === 'voter')) o.leaderStoreId = leaderStore;
    const leaderApplied = leaderReport?.applied ?? r.applied;
    const pending = d.replicas
      .filter((x) => x.role === 'learner')
      .filter((x) => {
        const mine = reps.get(x.storeId);
        return mine === undefined || mine.applied === 0 || mine.applied + LEARNER_MAX_LAG < leaderApplied;
      })
      .map((x) => x.storeId);
    if (pending.length > 0) o.pendingLearners = pending;
    ranges.push(o);
  }
  // A retired store id (its slot got a new id after a lost volume, or scale-in removed it; ids are never
  // reused) that a descriptor still names is gone for good: `removed`, so its replicas are replaced at
  // once. Unlisted, it would count as down but never lost, and the range would stay a replica short.
  const listed = new Set(stores.map((x) => x.storeId));
  const named = new Set(ranges.flatMap((r) => r.descriptor.replicas.map((x) => x.storeId)));
  for (const id of [...new Set(retired)].sort((a, b) => a - b)) {
    if (named.has(id) && !listed.has(id)) stores.push({ storeId: id, state: 'removed', lastSeenMs: 0, capacityBytes: 0, usedBytes: 0 });
  }
  return { stores, ranges, addresses, pods, unreachable };
}
