// A tiny pure simulated shard map for the placement planner: stores (up/down/removed, draining, zones,
// capacity) and ranges (descriptors changed with the store's own changeReplicas, a leader, a size) that
// applies planner steps the way the Admin API will — each replica change checked against the epoch it
// was planned on — with learners catching up after a seeded number of ticks. Used by the property tests
// (test/unit/operator/placement-sim.test.ts) and the scale simulation (bench/placement-sim.ts).
// The invariant checker (checkStep / checkCluster) is what must catch a broken planner.
import { mulberry32 } from '../../node/src/common/prng.js';
import { adminEpochMatches, changeReplicas, type RangeDescriptor } from '../../node/src/meta/range-descriptor.js';
import type { HostedPeer, ObservedRange, ObservedStore, PlacementInput, PlacementPlan, PlacementSpec, PlacementStep } from '../../operator/src/placement/types.js';

export const ZONE_KEY = 'topology.kubernetes.io/zone';
export const TICK_MS = 10_000;

export interface SimStore {
  storeId: number;
  state: 'up' | 'down' | 'removed';
  draining: boolean;
  lastSeenMs: number;
  zone: string;
  capacityBytes: number;
  /** Ever lost (down past the timeout): reports the peers it holds when it is back. */
  returned: boolean;
}

interface SimRange {
  desc: RangeDescriptor;
  leader: number | undefined;
  bytes: number;
  qps: number;
  /** Learner store → tick at which it has caught up. */
  readyAt: Map<number, number>;
}

export interface ClusterOptions {
  seed: number;
  stores: number;
  zones: number;
  ranges: number;
  rf: number;
  /** A learner catches up after 1..maxCatchUpTicks ticks (seeded). */
  maxCatchUpTicks?: number;
  capacityBytes?: number;
  /** Ranges are 1..maxRangeBytes (uniform, seeded). */
  maxRangeBytes?: number;
}

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  readonly code = 'PLACEMENT_INVARIANT' as const;
}

export class PlacementCluster {
  readonly stores = new Map<number, SimStore>();
  readonly ranges: SimRange[] = [];
  private readonly byId = new Map<number, number>();
  /** Store → range id → the peer it holds and the confVer it last applied. */
  private readonly hosted = new Map<number, Map<number, { peerId: number; confVer: number }>>();
  tick = 0;
  nextPeerId = 1;
  nextStoreId = 1;
  readonly rand: () => number;
  readonly maxCatchUpTicks: number;
  private readonly capacity: number;
  private readonly withLearners = new Set<number>();
  private readonly observed: ObservedRange[] = [];

  constructor(readonly opts: ClusterOptions) {
    this.rand = mulberry32(opts.seed);
    this.maxCatchUpTicks = opts.maxCatchUpTicks ?? 3;
    this.capacity = opts.capacityBytes ?? 0;
    for (let i = 0; i < opts.stores; i++) this.addStore(`z${i % opts.zones}`);
    // Balanced start: zones rotate per range, stores round-robin inside each zone.
    const zones = [...new Set([...this.stores.values()].map((s) => s.zone))].sort();
    const inZone = new Map(zones.map((z) => [z, [...this.stores.values()].filter((s) => s.zone === z).map((s) => s.storeId)]));
    const cursor = new Map(zones.map((z) => [z, 0]));
    const maxBytes = opts.maxRangeBytes ?? 64 << 20;
    for (let k = 0; k < opts.ranges; k++) {
      const replicas: RangeDescriptor['replicas'] = [];
      for (let r = 0; r < opts.rf; r++) {
        const z = zones[(k + r) % zones.length]!;
        const list = inZone.get(z)!;
        let c = cursor.get(z)!;
        let storeId = list[c % list.length]!;
        // Fewer zones than the factor: skip stores the range already uses.
        while (replicas.some((x) => x.storeId === storeId)) storeId = list[++c % list.length]!;
        cursor.set(z, c + 1);
        replicas.push({ storeId, peerId: this.nextPeerId++, role: 'voter' as const });
      }
      const start = k === 0 ? Buffer.alloc(0) : Buffer.from(`k${String(k).padStart(8, '0')}`);
      const end = k === opts.ranges - 1 ? Buffer.alloc(0) : Buffer.from(`k${String(k + 1).padStart(8, '0')}`);
      const desc: RangeDescriptor = { rangeId: k + 1, start, end, epoch: { confVer: 1, version: 1 }, replicas };
      this.byId.set(k + 1, k);
      this.ranges.push({ desc, leader: replicas[Math.floor(k / zones.length) % opts.rf]!.storeId, bytes: 1 + Math.floor(this.rand() * maxBytes), qps: 0, readyAt: new Map() });
      for (const r of replicas) this.host(r.storeId, k + 1, r.peerId, 1);
      this.observed.push(this.observe(k));
    }
  }

  get nowMs(): number {
    return this.tick * TICK_MS;
  }

  addStore(zone: string): number {
    const id = this.nextStoreId++;
    this.stores.set(id, { storeId: id, state: 'up', draining: false, lastSeenMs: this.nowMs, zone, capacityBytes: this.capacity, returned: false });
    return id;
  }

  private host(storeId: number, rangeId: number, peerId: number, confVer: number): void {
    let m = this.hosted.get(storeId);
    if (!m) this.hosted.set(storeId, (m = new Map()));
    m.set(rangeId, { peerId, confVer });
  }

  private observe(k: number): ObservedRange {
    const r = this.ranges[k]!;
    const pending = [...r.readyAt].filter(([s, t]) => t > this.tick || this.stores.get(s)!.state !== 'up').map(([s]) => s).sort((a, b) => a - b);
    return { descriptor: r.desc, ...(r.leader !== undefined ? { leaderStoreId: r.leader } : {}), approxBytes: r.bytes, ...(r.qps > 0 ? { qps: r.qps } : {}), ...(pending.length > 0 ? { pendingLearners: pending } : {}) };
  }

  private refresh(k: number): void {
    this.observed[k] = this.observe(k);
    if (this.ranges[k]!.readyAt.size > 0) this.withLearners.add(k);
    else this.withLearners.delete(k);
  }

  input(spec: PlacementSpec): PlacementInput {
    for (const k of this.withLearners) this.observed[k] = this.observe(k);
    const used = new Map<number, number>();
    for (const r of this.ranges) for (const rep of r.desc.replicas) used.set(rep.storeId, (used.get(rep.storeId) ?? 0) + r.bytes);
    const stores: ObservedStore[] = [...this.stores.values()].map((s) => {
      const o: ObservedStore = { storeId: s.storeId, state: s.state, lastSeenMs: s.state === 'up' ? this.nowMs : s.lastSeenMs, labels: { [ZONE_KEY]: s.zone }, capacityBytes: s.capacityBytes, usedBytes: used.get(s.storeId) ?? 0 };
      if (s.draining) o.draining = true;
      if (s.returned && s.state === 'up') {
        const peers: HostedPeer[] = [...(this.hosted.get(s.storeId) ?? new Map<number, { peerId: number; confVer: number }>())].map(([rangeId, p]) => ({ rangeId, peerId: p.peerId, confVer: p.confVer }));
        o.hostedPeers = peers;
      }
      return o;
    });
    return { spec, stores, ranges: this.observed, nowMs: this.nowMs };
  }

  /** Store ids holding a voter of range k that are up. */
  private healthyVoters(r: SimRange): number {
    return r.desc.replicas.filter((x) => x.role === 'voter' && this.stores.get(x.storeId)?.state === 'up').length;
  }

  hasMajority(rangeId: number): boolean {
    const r = this.ranges[this.byId.get(rangeId)!]!;
    const voters = r.desc.replicas.filter((x) => x.role === 'voter').length;
    return this.healthyVoters(r) >= Math.floor(voters / 2) + 1;
  }

  range(rangeId: number): { desc: RangeDescriptor; leader: number | undefined } {
    const r = this.ranges[this.byId.get(rangeId)!]!;
    return { desc: r.desc, leader: r.leader };
  }

  /** Applies one step like the Admin API would; returns false when the range refuses it (stale epoch,
   * no leader, target not a voter), as a real applier would see an error. */
  apply(step: PlacementStep): boolean {
    if (step.type === 'RemoveStalePeer') {
      const m = this.hosted.get(step.storeId);
      const p = m?.get(step.rangeId);
      if (p?.peerId === step.peerId) m!.delete(step.rangeId);
      return true;
    }
    const k = this.byId.get(step.rangeId)!;
    const r = this.ranges[k]!;
    if (r.leader === undefined || !this.hasMajority(step.rangeId)) return false;
    if (step.type === 'TransferLeader') {
      const to = r.desc.replicas.find((x) => x.storeId === step.toStoreId);
      if (!to || to.role !== 'voter' || this.stores.get(step.toStoreId)!.state !== 'up') return false;
      r.leader = step.toStoreId;
      this.refresh(k);
      return true;
    }
    if (!adminEpochMatches(r.desc.epoch, step.epoch)) return false;
    let desc: RangeDescriptor;
    switch (step.type) {
      case 'AddLearner': {
        const peerId = this.nextPeerId++;
        desc = changeReplicas(r.desc, [{ kind: 'addLearner', storeId: step.storeId, peerId }]);
        r.readyAt.set(step.storeId, this.tick + 1 + Math.floor(this.rand() * this.maxCatchUpTicks));
        break;
      }
      case 'Promote':
        if (r.readyAt.get(step.storeId)! > this.tick) return false; // not caught up: the leader refuses
        desc = changeReplicas(r.desc, [{ kind: 'promote', storeId: step.storeId }]);
        r.readyAt.delete(step.storeId);
        break;
      case 'RemoveReplica':
        desc = changeReplicas(r.desc, [{ kind: 'remove', storeId: step.storeId }]);
        r.readyAt.delete(step.storeId);
        if (step.storeId === r.leader) r.leader = undefined; // the leader steps down; an election follows
        break;
    }
    r.desc = desc;
    for (const rep of desc.replicas) if (this.stores.get(rep.storeId)!.state === 'up') this.host(rep.storeId, step.rangeId, rep.peerId, desc.epoch.confVer);
    if (step.type === 'RemoveReplica' && this.stores.get(step.storeId)!.state === 'up') this.hosted.get(step.storeId)?.delete(step.rangeId);
    if (r.leader === undefined) this.elect(r);
    this.refresh(k);
    return true;
  }

  /** A new leader among the healthy voters (if a majority is healthy). */
  private elect(r: SimRange): void {
    const voters = r.desc.replicas.filter((x) => x.role === 'voter');
    const healthy = voters.filter((x) => this.stores.get(x.storeId)!.state === 'up');
    r.leader = healthy.length >= Math.floor(voters.length / 2) + 1 ? healthy[Math.floor(this.rand() * healthy.length)]!.storeId : undefined;
  }

  setStore(storeId: number, change: { state?: 'up' | 'down' | 'removed'; draining?: boolean }): void {
    this.setStores([storeId], change);
  }

  /** Liveness / drain changes of several stores at once (one sweep over the ranges). */
  setStores(storeIds: readonly number[], change: { state?: 'up' | 'down' | 'removed'; draining?: boolean }): void {
    const moved = new Set<number>();
    for (const id of storeIds) {
      const s = this.stores.get(id)!;
      if (change.draining !== undefined) s.draining = change.draining;
      if (change.state === undefined || change.state === s.state) continue;
      if (s.state === 'up') s.lastSeenMs = this.nowMs;
      if (change.state === 'up') s.returned = true;
      s.state = change.state;
      moved.add(id);
    }
    if (moved.size === 0) return;
    // Leaders move (or are lost) with the stores' liveness; a store back up re-applies what it holds.
    this.ranges.forEach((r, k) => {
      if (!r.desc.replicas.some((x) => moved.has(x.storeId))) return;
      if (r.leader !== undefined && this.stores.get(r.leader)!.state !== 'up') r.leader = undefined;
      if (r.leader === undefined) this.elect(r);
      for (const rep of r.desc.replicas) if (moved.has(rep.storeId) && this.stores.get(rep.storeId)!.state === 'up') this.host(rep.storeId, r.desc.rangeId, rep.peerId, r.desc.epoch.confVer);
      this.refresh(k);
    });
  }

  /** Peers held by up stores that no descriptor lists (stale replicas left behind). */
  stalePeers(): number {
    let n = 0;
    for (const [storeId, m] of this.hosted) {
      if (this.stores.get(storeId)!.state !== 'up') continue;
      for (const [rangeId, p] of m) if (!this.range(rangeId).desc.replicas.some((r) => r.peerId === p.peerId)) n++;
    }
    return n;
  }

  advance(ticks = 1): void {
    this.tick += ticks;
  }
}

// ---- invariants --------------------------------------------------------------------------------------

export interface RangeSnapshot {
  voters: number;
  healthyVoters: number;
  leader: number | undefined;
}

export function snapshot(c: PlacementCluster, rangeId: number): RangeSnapshot {
  const { desc, leader } = c.range(rangeId);
  const voters = desc.replicas.filter((x) => x.role === 'voter');
  return { voters: voters.length, healthyVoters: voters.filter((x) => c.stores.get(x.storeId)!.state === 'up').length, leader };
}

const majority = (n: number) => Math.floor(n / 2) + 1;

/** Checked around every applied step: the step never takes a range below a majority of healthy voters,
 * never removes a voter unless there are more voters than the factor (remove only after promote), and
 * never removes the leader's replica. */
export function checkStep(step: PlacementStep, before: RangeSnapshot, after: RangeSnapshot, rf: number): void {
  const where = `${step.type} range ${step.rangeId}`;
  if (before.healthyVoters >= majority(before.voters) && after.healthyVoters < majority(after.voters)) {
    throw new InvariantViolation(`${where}: left ${after.healthyVoters} healthy of ${after.voters} voters (below a majority)`);
  }
  if (step.type === 'RemoveReplica' && after.voters < before.voters && before.voters <= rf) {
    throw new InvariantViolation(`${where}: removed a voter of a range with ${before.voters} voters (factor ${rf}) — removal before the replacement was promoted`);
  }
  if (step.type === 'RemoveReplica' && before.leader === step.storeId) {
    throw new InvariantViolation(`${where}: removed the leader's replica (store ${step.storeId})`);
  }
}

/** Checked after every pass: moves in flight within the limit; with `noMajorityLoss`, every range has a
 * healthy majority (the fault schedule never took one away). */
export function checkCluster(c: PlacementCluster, spec: PlacementSpec, opts: { noMajorityLoss: boolean }): void {
  let moves = 0;
  for (const r of c.ranges) {
    const voters = r.desc.replicas.filter((x) => x.role === 'voter').length;
    if (voters !== r.desc.replicas.length || voters > spec.replicationFactor) moves++;
    if (opts.noMajorityLoss && !c.hasMajority(r.desc.rangeId)) throw new InvariantViolation(`range ${r.desc.rangeId} lost its majority`);
  }
  if (moves > spec.maxConcurrentMoves) throw new InvariantViolation(`${moves} moves in flight, limit ${spec.maxConcurrentMoves}`);
}

/** The cluster is where the planner should leave it: every range at the factor, all voters on usable
 * stores, distinct stores, no learner. */
export function converged(c: PlacementCluster, rf: number): string | undefined {
  for (const r of c.ranges) {
    const voters = r.desc.replicas.filter((x) => x.role === 'voter');
    if (voters.length !== rf || r.desc.replicas.length !== rf) return `range ${r.desc.rangeId} has ${voters.length} voters, ${r.desc.replicas.length} replicas`;
    for (const v of voters) {
      const s = c.stores.get(v.storeId)!;
      if (s.state !== 'up' || s.draining) return `range ${r.desc.rangeId} keeps a voter on store ${s.storeId} (${s.state}${s.draining ? ', draining' : ''})`;
    }
  }
  return undefined;
}

export type Planner = (input: PlacementInput) => PlacementPlan;

export interface PassResult {
  plan: PlacementPlan;
  applied: number;
  refused: number;
}

/** One reconcile pass: plan, apply every step with the step invariants, check the cluster, tick. */
export function runPass(c: PlacementCluster, spec: PlacementSpec, planner: Planner, opts: { noMajorityLoss: boolean }): PassResult {
  const plan = planner(c.input(spec));
  let applied = 0;
  let refused = 0;
  for (const step of plan.steps) {
    const before = step.type === 'RemoveStalePeer' ? undefined : snapshot(c, step.rangeId);
    const ok = c.apply(step);
    if (ok) applied++;
    else refused++;
    if (before) checkStep(step, before, snapshot(c, step.rangeId), spec.replicationFactor);
  }
  checkCluster(c, spec, opts);
  c.advance();
  return { plan, applied, refused };
}
