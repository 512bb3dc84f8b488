// An in-memory shard map behind the operator's RangeAdmin interface (issue 13 tests): stores answer at
// 10.0.0.<store id>:7379; per-range calls are refused like the node refuses them (not a voter of the
// range → NotLeader, a learner not caught up → Refused, a removal losing the quorum → Refused, an epoch
// other than the range's → EpochNotMatch with the current one). A store can also hold a stale replica
// (`stale`: a copy from before it was removed) that only DestroyStaleReplica removes, on the node's terms.
import type { RangeInfo } from '../../../node/src/client/admin-client.js';
import type { StoreEndpoint } from '../../../operator/src/runtime/placement-observe.js';
import { FakeNodeAdmin, NodeAdminError, type DrainStoreOptions, type NodeAdmin, type RangeAdmin, type RangeChange, type RangeEpoch, type StoreRanges } from '../../../operator/src/runtime/admin.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KvsCluster, KvsClusterStatus } from '../../../operator/src/api/types.js';
import type { PlannedEvent } from '../../../operator/src/controller/plan.js';
import type { NodeReport } from '../../../operator/src/controller/status.js';
import type { Writer } from '../../../operator/src/runtime/kube.js';

export interface FakeRange {
  id: number;
  replicas: Array<{ storeId: number; role: 'voter' | 'learner' }>;
  confVer: number;
  leader: number;
  applied: number;
  bytes: number;
  /** Requests per second its leader reports (writes). */
  qps?: number;
}

export class FakeRangeAdmin implements RangeAdmin {
  readonly ranges_ = new Map<number, FakeRange>();
  readonly down = new Set<number>();
  /** Learners on these stores never catch up. */
  readonly lagging = new Set<number>();
  /** `${change} ${rangeId}` → error thrown once. */
  readonly failOnce = new Map<string, NodeAdminError>();
  readonly calls: string[] = [];
  /** `${rangeId}/${storeId}` → a stale replica there: the descriptor it last applied (it lists its store). */
  readonly stale = new Map<string, { confVer: number; replicas: FakeRange['replicas'] }>();
  /** Store id → room on its data filesystem for its ranges: Admin.Ranges reports what its ranges leave
   * of it as available (absent: not reported). */
  readonly disk = new Map<number, number>();
  /** Every range is at this epoch version (no splits here). */
  readonly version = 2;
  constructor(readonly stores: number[]) {
    // Range 1: every store (the membership range).
    this.ranges_.set(1, { id: 1, replicas: stores.map((s) => ({ storeId: s, role: 'voter' })), confVer: 1, leader: stores[0]!, applied: 100, bytes: 1000 });
  }
  addr = (s: number): string => `10.0.0.${s}:7379`;
  private storeAt(address: string): number {
    const s = this.stores.find((x) => this.addr(x) === address);
    if (s === undefined || this.down.has(s)) throw new NodeAdminError('Unavailable', `${address} does not answer`);
    return s;
  }
  addRange(id: number, voters: number[], leader = voters[0]!): void {
    this.ranges_.set(id, { id, replicas: voters.map((s) => ({ storeId: s, role: 'voter' })), confVer: 5, leader, applied: 100, bytes: 1 << 20 });
  }
  info(r: FakeRange, self: number): RangeInfo {
    const learnerLag = this.lagging.has(self) && r.replicas.find((x) => x.storeId === self)?.role === 'learner';
    return {
      rangeId: r.id,
      start: Buffer.from(r.id === 1 ? '' : `k${r.id}`),
      end: Buffer.from(`k${r.id + 1}`),
      confVer: r.confVer,
      version: this.version,
      replicas: r.replicas.map((x) => ({ storeId: x.storeId, peerId: x.storeId, role: x.role })),
      leaderId: r.leader,
      leaderAddress: '',
      approximateBytes: r.bytes,
      role: r.leader === self ? 'Leader' : 'Follower',
      term: 3,
      applied: learnerLag ? 0 : r.applied,
      proposals: 0,
      // The client reaches the leader: its replica sees the range's requests, the followers none.
      readsPerSec: 0,
      writesPerSec: r.leader === self ? (r.qps ?? 0) : 0,
    };
  }
  async ranges(address: string): Promise<StoreRanges> {
    const s = this.storeAt(address);
    const out: RangeInfo[] = [];
    for (const r of this.ranges_.values()) {
      const old = this.stale.get(`${r.id}/${s}`);
      if (old) out.push({ ...this.info({ ...r, confVer: old.confVer, replicas: old.replicas, leader: 0 }, s), leaderId: 0 });
      else if (r.replicas.some((x) => x.storeId === s)) out.push(this.info(r, s));
    }
    const disk = this.disk.get(s);
    const used = out.reduce((n, r) => n + r.approximateBytes, 0);
    return { storeId: s, ranges: out, ...(disk !== undefined ? { capacityBytes: 1 << 40, availableBytes: Math.max(0, disk - used) } : {}) };
  }
  /** The node's epoch check (raftstore/admin.ts checkRequestEpoch). */
  private checkEpoch(r: FakeRange, epoch: RangeEpoch | undefined): void {
    if (epoch === undefined || (epoch.confVer === r.confVer && epoch.version === this.version)) return;
    throw new NodeAdminError('EpochNotMatch', `range ${r.id} is at epoch confVer ${r.confVer} version ${this.version}, the call was planned at confVer ${epoch.confVer} version ${epoch.version}`, undefined, { confVer: r.confVer, version: this.version });
  }
  private voterAt(address: string, rangeId: number): FakeRange {
    const s = this.storeAt(address);
    const r = this.ranges_.get(rangeId);
    if (!r || !r.replicas.some((x) => x.storeId === s && x.role === 'voter')) throw new NodeAdminError('NotLeader', `store ${s} is not a voter of range ${rangeId}`);
    return r;
  }
  async changeRangeReplica(address: string, rangeId: number, change: RangeChange, storeId: number, epoch?: RangeEpoch): Promise<string> {
    this.calls.push(`${change} ${rangeId} ${storeId}`);
    const injected = this.failOnce.get(`${change} ${rangeId}`);
    if (injected) {
      this.failOnce.delete(`${change} ${rangeId}`);
      throw injected;
    }
    const r = this.voterAt(address, rangeId);
    this.checkEpoch(r, epoch);
    const cur = r.replicas.find((x) => x.storeId === storeId);
    if (change === 'AddLearner') {
      if (cur) return 'already a member';
      r.replicas.push({ storeId, role: 'learner' });
    } else if (change === 'Promote') {
      if (!cur) throw new NodeAdminError('Refused', 'not a member');
      if (this.lagging.has(storeId)) throw new NodeAdminError('Refused', `learner ${storeId} is not caught up in range ${rangeId}; retry later`);
      cur.role = 'voter';
    } else {
      if (!cur) return 'not a member';
      const remaining = r.replicas.filter((x) => x.role === 'voter' && x.storeId !== storeId);
      const healthy = remaining.filter((x) => !this.down.has(x.storeId));
      if (cur.role === 'voter' && healthy.length < Math.floor(remaining.length / 2) + 1) throw new NodeAdminError('Refused', 'would lose the quorum');
      r.replicas = r.replicas.filter((x) => x.storeId !== storeId);
      if (r.leader === storeId) r.leader = remaining[0]!.storeId;
    }
    r.confVer++;
    return `${change} ${storeId} done`;
  }
  async transferRangeLeader(address: string, rangeId: number, toStoreId: number, epoch?: RangeEpoch): Promise<string> {
    this.calls.push(`TransferLeader ${rangeId} ${toStoreId}`);
    const r = this.voterAt(address, rangeId);
    this.checkEpoch(r, epoch);
    r.leader = toStoreId;
    return `leader is now ${toStoreId}`;
  }
  /** The node's rules (raftstore/admin.ts destroyStaleReplica): named descriptor without this store, newer. */
  async destroyStaleReplica(address: string, rangeId: number, epoch: RangeEpoch, storeIds: readonly number[]): Promise<string> {
    const s = this.storeAt(address);
    this.calls.push(`DestroyStaleReplica ${rangeId} ${s}`);
    const old = this.stale.get(`${rangeId}/${s}`);
    if (old === undefined) {
      if (this.ranges_.get(rangeId)?.replicas.some((x) => x.storeId === s)) throw new NodeAdminError('Refused', `store ${s} is a replica of range ${rangeId}`);
      return `store ${s} holds no replica of range ${rangeId}`;
    }
    if (storeIds.includes(s)) throw new NodeAdminError('Refused', `range ${rangeId} lists store ${s}: not stale`);
    if (old.confVer >= epoch.confVer) throw new NodeAdminError('Refused', `replica at confVer ${old.confVer} is not older than ${epoch.confVer}`);
    this.stale.delete(`${rangeId}/${s}`);
    return `destroyed the stale replica of range ${rangeId}`;
  }
  endpoints(): StoreEndpoint[] {
    return this.stores.map((s) => ({ storeId: s, pod: `demo-${s - 1}`, address: this.addr(s) }));
  }
  placement(): Map<number, number[]> {
    return new Map([...this.ranges_.values()].filter((r) => r.id !== 1).map((r) => [r.id, r.replicas.map((x) => x.storeId).sort((a, b) => a - b)]));
  }
}

/** Range 1 through FakeNodeAdmin (membership), the other ranges through FakeRangeAdmin: one admin, like GrpcNodeAdmin. */
export class FakeClusterAdmin implements NodeAdmin, RangeAdmin {
  readonly node = new FakeNodeAdmin();
  constructor(readonly placed: FakeRangeAdmin) {}
  status(address: string): Promise<NodeReport> {
    return this.node.status(address);
  }
  addLearner(leader: string, raftId: number, raftAddress: string, membershipOnly?: boolean): Promise<string> {
    return this.node.addLearner(leader, raftId, raftAddress, membershipOnly);
  }
  promote(leader: string, raftId: number, maxLag?: number, membershipOnly?: boolean): Promise<string> {
    return this.node.promote(leader, raftId, maxLag, membershipOnly);
  }
  removeMember(leader: string, raftId: number): Promise<string> {
    return this.node.removeMember(leader, raftId);
  }
  transferLeader(leader: string, toRaftId: number): Promise<string> {
    return this.node.transferLeader(leader, toRaftId);
  }
  drainStore(addresses: string[], storeId: number, opts: DrainStoreOptions): Promise<string> {
    return this.node.drainStore(addresses, storeId, opts);
  }
  snapshot(address: string): Promise<string> {
    return this.node.snapshot(address);
  }
  close(): void {}
  ranges(address: string): Promise<StoreRanges> {
    return this.placed.ranges(address);
  }
  changeRangeReplica(address: string, rangeId: number, change: RangeChange, storeId: number, epoch?: RangeEpoch): Promise<string> {
    return this.placed.changeRangeReplica(address, rangeId, change, storeId, epoch);
  }
  transferRangeLeader(address: string, rangeId: number, toStoreId: number, epoch?: RangeEpoch): Promise<string> {
    return this.placed.transferRangeLeader(address, rangeId, toStoreId, epoch);
  }
  destroyStaleReplica(address: string, rangeId: number, epoch: RangeEpoch, storeIds: readonly number[]): Promise<string> {
    return this.placed.destroyStaleReplica(address, rangeId, epoch, storeIds);
  }
}

export class RecordingWriter implements Writer {
  statuses: KvsClusterStatus[] = [];
  events: PlannedEvent[] = [];
  async apply(_o: KubernetesObject) {}
  async applyStatus(_c: KvsCluster, s: KvsClusterStatus) {
    this.statuses.push(s);
  }
  async event(_c: KvsCluster, e: PlannedEvent) {
    this.events.push(e);
  }
  async deletePod() {}
  async deletePvc() {}
}
