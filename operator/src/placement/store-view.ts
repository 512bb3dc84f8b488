// The stores of one planning pass, indexed densely (typed arrays: one pass over 100 000 ranges must stay
// far below a second). Counters start from the observed shard map and are updated as the pass plans
// steps ("projected" load, PD's operator influence), so one pass does not send every move to the same
// emptiest store.
import { IdIndex } from './id-index.js';
import type { ObservedRange, ObservedStore, PlacementSpec, StoreSummaryState } from './types.js';

export class StoreView {
  readonly ids: number[] = [];
  /** Store id → index (−1: unknown). */
  readonly index: IdIndex;
  readonly live: Uint8Array;
  /** Down longer than storeDownTimeout, or removed: its replicas are re-created elsewhere. */
  readonly lost: Uint8Array;
  readonly draining: Uint8Array;
  /** Observed by the operator (0 = only named by a descriptor: treated as down, never as lost). */
  readonly known: Uint8Array;
  /** Interned topology value. */
  readonly zone: Int32Array;
  readonly zoneNames: string[] = [];
  readonly capacity: Float64Array;
  readonly used: Float64Array;
  readonly replicas: Int32Array;
  readonly leaders: Int32Array;
  readonly bytes: Float64Array;
  readonly qps: Float64Array;
  /** Replica moves planned onto the store this pass (not in flight yet). */
  readonly incoming: Int32Array;
  readonly summaryState: StoreSummaryState[] = [];
  readonly size: number;

  constructor(stores: readonly ObservedStore[], ranges: readonly ObservedRange[], spec: PlacementSpec, nowMs: number) {
    const sorted = [...stores].sort((a, b) => a.storeId - b.storeId);
    // Stores named by a descriptor but not observed are indexed too (treated as down, never as lost).
    const known = new IdIndex(sorted.map((s) => s.storeId));
    const extraSet = new Set<number>();
    for (const r of ranges) for (const rep of r.descriptor.replicas) if (known.get(rep.storeId) < 0) extraSet.add(rep.storeId);
    const extra = [...extraSet].sort((a, b) => a - b);
    const n = sorted.length + extra.length;
    this.size = n;
    this.live = new Uint8Array(n);
    this.lost = new Uint8Array(n);
    this.draining = new Uint8Array(n);
    this.known = new Uint8Array(n);
    this.zone = new Int32Array(n);
    this.capacity = new Float64Array(n);
    this.used = new Float64Array(n);
    this.replicas = new Int32Array(n);
    this.leaders = new Int32Array(n);
    this.bytes = new Float64Array(n);
    this.qps = new Float64Array(n);
    this.incoming = new Int32Array(n);
    const zones = new Map<string, number>();
    const intern = (v: string) => {
      let z = zones.get(v);
      if (z === undefined) {
        z = this.zoneNames.length;
        zones.set(v, z);
        this.zoneNames.push(v);
      }
      return z;
    };
    sorted.forEach((s, i) => {
      this.ids.push(s.storeId);
      this.known[i] = 1;
      this.live[i] = s.state === 'up' ? 1 : 0;
      const lost = s.state === 'removed' || (s.state === 'down' && nowMs - s.lastSeenMs >= spec.storeDownTimeoutMs);
      this.lost[i] = lost ? 1 : 0;
      this.draining[i] = s.draining ? 1 : 0;
      this.zone[i] = intern(spec.topologyKey ? (s.labels?.[spec.topologyKey] ?? '') : '');
      this.capacity[i] = s.capacityBytes;
      this.used[i] = s.usedBytes;
      this.summaryState.push(s.state === 'removed' ? 'removed' : lost ? 'lost' : s.state === 'down' ? 'down' : s.draining ? 'draining' : 'up');
    });
    extra.forEach((id, j) => {
      const i = sorted.length + j;
      this.ids.push(id);
      this.zone[i] = intern('');
      this.summaryState.push('down');
    });
    this.index = new IdIndex(this.ids);
  }

  /** Counts toward a majority: its process is up. */
  healthy(i: number): boolean {
    return this.live[i] === 1;
  }

  /** May receive new replicas and leaderships. */
  usable(i: number): boolean {
    return this.live[i] === 1 && this.draining[i] === 0;
  }

  /** Room for `bytes` more without passing 95 % of its capacity (CockroachDB's disk-full threshold);
   * a store that reports no capacity is not limited. */
  hasRoom(i: number, bytes: number): boolean {
    const cap = this.capacity[i]!;
    return cap <= 0 || this.used[i]! + bytes <= 0.95 * cap;
  }
}
