// The ranges of one planning pass, flattened: replicas as (store index, role, peer id) runs in typed
// arrays, ranges in range-id order (the plan must not depend on the order the meta range listed them).
import type { ObservedRange } from './types.js';
import { IdIndex } from './id-index.js';
import type { StoreView } from './store-view.js';

export const VOTER = 1;
export const LEARNER = 2;

export class RangeView {
  readonly ranges: ObservedRange[];
  /** Replicas of range k are rep*[start[k], start[k + 1]). */
  readonly start: Int32Array;
  readonly repStore: Int32Array;
  readonly repRole: Uint8Array;
  readonly repPeer: Float64Array;
  /** Store index of the leader, −1 = none known (or a leader reported on a store that is not up). */
  readonly leader: Int32Array;
  readonly approxBytes: Float64Array;
  readonly load: Float64Array;
  /** Range id → index (−1: unknown). */
  readonly byId: IdIndex;
  /** Store index → learners still catching up on it, per range (sparse). */
  private readonly pending = new Map<number, Set<number>>();
  private readonly foreign = new Map<number, number[]>();

  constructor(observed: readonly ObservedRange[], stores: StoreView) {
    this.ranges = isSorted(observed) ? [...observed] : [...observed].sort((a, b) => a.descriptor.rangeId - b.descriptor.rangeId);
    const n = this.ranges.length;
    this.start = new Int32Array(n + 1);
    let total = 0;
    for (let k = 0; k < n; k++) total += this.ranges[k]!.descriptor.replicas.length;
    this.repStore = new Int32Array(total);
    this.repRole = new Uint8Array(total);
    this.repPeer = new Float64Array(total);
    this.leader = new Int32Array(n);
    this.approxBytes = new Float64Array(n);
    this.load = new Float64Array(n);
    this.byId = new IdIndex(this.ranges.map((r) => r.descriptor.rangeId));
    let o = 0;
    for (let k = 0; k < n; k++) {
      const r = this.ranges[k]!;
      this.approxBytes[k] = r.approxBytes;
      this.load[k] = r.qps ?? 0;
      this.start[k] = o;
      for (const rep of r.descriptor.replicas) {
        this.repStore[o] = stores.index.get(rep.storeId);
        this.repRole[o] = rep.role === 'voter' ? VOTER : LEARNER;
        this.repPeer[o] = rep.peerId;
        o++;
      }
      if (r.pendingLearners && r.pendingLearners.length > 0) {
        this.pending.set(k, new Set(r.pendingLearners.map((s) => stores.index.get(s))));
      }
    }
    this.start[n] = o;
    for (let k = 0; k < n; k++) {
      const id = this.ranges[k]!.leaderStoreId;
      const l = id === undefined ? -1 : stores.index.get(id);
      this.leader[k] = l >= 0 && stores.healthy(l) && this.holdsVoter(k, l) ? l : -1;
    }
  }

  get size(): number {
    return this.ranges.length;
  }

  holdsVoter(k: number, store: number): boolean {
    for (let j = this.start[k]!; j < this.start[k + 1]!; j++) if (this.repStore[j] === store && this.repRole[j] === VOTER) return true;
    return false;
  }

  /** The store holds a replica of range k in the descriptor, or a peer of it the descriptor no longer
   * lists (a stale peer): no new replica of k goes there until that peer is gone. */
  holds(k: number, store: number): boolean {
    for (let j = this.start[k]!; j < this.start[k + 1]!; j++) if (this.repStore[j] === store) return true;
    return this.foreign.get(k)?.includes(store) === true;
  }

  /** Records that `store` still hosts a peer of range k outside the descriptor. */
  addForeignPeer(k: number, store: number): void {
    const l = this.foreign.get(k);
    if (l) l.push(store);
    else this.foreign.set(k, [store]);
  }

  /** The learner on `store` has not caught up yet. */
  catchingUp(k: number, store: number): boolean {
    return this.pending.get(k)?.has(store) === true;
  }

  bytes(k: number): number {
    return this.approxBytes[k]!;
  }

  qps(k: number): number {
    return this.load[k]!;
  }
}

function isSorted(rs: readonly ObservedRange[]): boolean {
  for (let i = 1; i < rs.length; i++) if (rs[i - 1]!.descriptor.rangeId >= rs[i]!.descriptor.rangeId) return false;
  return true;
}
