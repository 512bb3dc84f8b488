// The meta range's directory (docs/sharding.md "Meta range and timestamps"): one record per range —
// its descriptor and the leader its leader last published — kept in the replicated state of the meta
// range, so any store answers "which range holds key K, where are its replicas and leader" from its own
// replica, and a routing client needs no broadcast.
//
// Records are published by each range's leader after the range changed (split, replica change, new
// leader) and re-published until they are in (raftstore/meta-publisher.ts). Publishing is a separate
// proposal, so records can arrive late, twice, or out of order; the rules below make every order end in
// the same directory (PD's region cache rules, tikv/pd pkg/core/region.go `PreCheckPutRegion` and
// `RegionsInfo.SetRegion`):
//   * a record older than the one held for its range (epoch) is refused, as is an equal epoch with an
//     older leader term;
//   * a record overlapping another range's record of a newer-or-equal epoch version is refused (without
//     merges, the range holding a key only ever gets newer versions, so the overlapped one is newer);
//   * an accepted record removes the records it overlaps (they are older: their ranges split since).
// Pure: no I/O; the state machine persists what `put` returns.
import { containsKey, isNewerEpoch, spansOverlap, type RangeDescriptor, encodeDescriptor, decodeDescriptor } from './range-descriptor.js';

export interface MetaRecord {
  descriptor: RangeDescriptor;
  /** Store id of the leader when published; 0 = unknown (a record written by a split's apply). */
  leaderStoreId: number;
  /** That leader's Raft term (orders leader changes at one epoch). */
  leaderTerm: number;
  /** The leader's client (Kv) address; '' = unknown. */
  leaderAddress: string;
}

export type PutOutcome =
  | { accepted: true; removed: number[] }
  | { accepted: false; reason: 'stale-epoch' | 'stale-term' | 'unchanged' | 'overlaps-newer'; newer?: number };

function sameRecord(a: MetaRecord, b: MetaRecord): boolean {
  return a.leaderStoreId === b.leaderStoreId && a.leaderTerm === b.leaderTerm && a.leaderAddress === b.leaderAddress && encodeDescriptor(a.descriptor).equals(encodeDescriptor(b.descriptor));
}

export class MetaDirectory {
  /** Records sorted by start key (non-overlapping by construction). */
  private sorted: MetaRecord[] = [];
  private readonly byId = new Map<number, MetaRecord>();

  get size(): number {
    return this.sorted.length;
  }

  /** Every record in key order. */
  all(): readonly MetaRecord[] {
    return this.sorted;
  }

  get(rangeId: number): MetaRecord | undefined {
    return this.byId.get(rangeId);
  }

  /** The largest range id with a record (0 when empty). */
  maxRangeId(): number {
    let max = 0;
    for (const id of this.byId.keys()) if (id > max) max = id;
    return max;
  }

  /** The record whose range holds `key`, if the directory has one. */
  lookup(key: Buffer): MetaRecord | undefined {
    // Last record with start <= key.
    let lo = 0;
    let hi = this.sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare(this.sorted[mid]!.descriptor.start, key) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const r = found >= 0 ? this.sorted[found] : undefined;
    return r !== undefined && containsKey(r.descriptor, key) ? r : undefined;
  }

  /**
   * The record whose range holds the keys just below `end` (an exclusive bound, empty = +∞): where a
   * reverse scan whose cursor is `end` reads next. Undefined for `end` = the smallest key, or a gap.
   */
  lookupBefore(end: Buffer): MetaRecord | undefined {
    if (end.length === 0) {
      const last = this.sorted[this.sorted.length - 1];
      return last !== undefined && last.descriptor.end.length === 0 ? last : undefined;
    }
    // Last record with start < end; it must reach up to end.
    let lo = 0;
    let hi = this.sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare(this.sorted[mid]!.descriptor.start, end) < 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const r = found >= 0 ? this.sorted[found] : undefined;
    if (r === undefined) return undefined;
    return r.descriptor.end.length === 0 || Buffer.compare(r.descriptor.end, end) >= 0 ? r : undefined;
  }

  /** Decides whether `rec` is newer than what the directory holds (see the rules above). */
  check(rec: MetaRecord): PutOutcome {
    const d = rec.descriptor;
    const cur = this.byId.get(d.rangeId);
    if (cur !== undefined) {
      if (isNewerEpoch(cur.descriptor.epoch, d.epoch)) return { accepted: false, reason: 'stale-epoch' };
      const sameEpoch = !isNewerEpoch(d.epoch, cur.descriptor.epoch);
      if (sameEpoch) {
        if (rec.leaderTerm < cur.leaderTerm) return { accepted: false, reason: 'stale-term' };
        if (sameRecord(cur, rec)) return { accepted: false, reason: 'unchanged' };
        // Same epoch and term with a different leader: only a known leader may replace an unknown one.
        if (rec.leaderTerm === cur.leaderTerm && rec.leaderStoreId === 0 && cur.leaderStoreId !== 0) return { accepted: false, reason: 'stale-term' };
      }
    }
    const removed: number[] = [];
    for (const o of this.overlapping(d)) {
      if (o.descriptor.rangeId === d.rangeId) continue;
      if (o.descriptor.epoch.version >= d.epoch.version) return { accepted: false, reason: 'overlaps-newer', newer: o.descriptor.rangeId };
      removed.push(o.descriptor.rangeId);
    }
    return { accepted: true, removed };
  }

  /** Applies `rec` if `check` accepts it. */
  put(rec: MetaRecord): PutOutcome {
    const out = this.check(rec);
    if (!out.accepted) return out;
    for (const id of out.removed) this.remove(id);
    this.remove(rec.descriptor.rangeId);
    this.byId.set(rec.descriptor.rangeId, rec);
    const i = this.insertionPoint(rec.descriptor.start);
    this.sorted.splice(i, 0, rec);
    return out;
  }

  /** Loads a persisted record without checks (the state machine's open). */
  load(rec: MetaRecord): void {
    this.remove(rec.descriptor.rangeId);
    this.byId.set(rec.descriptor.rangeId, rec);
    this.sorted.splice(this.insertionPoint(rec.descriptor.start), 0, rec);
  }

  clear(): void {
    this.sorted = [];
    this.byId.clear();
  }

  private remove(rangeId: number): void {
    const r = this.byId.get(rangeId);
    if (r === undefined) return;
    this.byId.delete(rangeId);
    const i = this.sorted.indexOf(r);
    if (i >= 0) this.sorted.splice(i, 1);
  }

  private insertionPoint(start: Buffer): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare(this.sorted[mid]!.descriptor.start, start) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private overlapping(d: RangeDescriptor): MetaRecord[] {
    const out: MetaRecord[] = [];
    // Records starting before d.end; the one just before d.start may reach into d.
    let i = Math.max(0, this.insertionPoint(d.start) - 1);
    for (; i < this.sorted.length; i++) {
      const r = this.sorted[i]!;
      if (d.end.length > 0 && Buffer.compare(r.descriptor.start, d.end) >= 0) break;
      if (spansOverlap(r.descriptor, d)) out.push(r);
    }
    return out;
  }
}

// Record codec: format byte, descriptor (canonical), leader store id, term, address.
const RECORD_FORMAT = 1;

export function encodeMetaRecord(r: MetaRecord): Buffer {
  const d = encodeDescriptor(r.descriptor);
  const addr = Buffer.from(r.leaderAddress, 'utf8');
  const b = Buffer.allocUnsafe(1 + 4 + d.length + 8 + 8 + 4 + addr.length);
  let o = 0;
  b[o++] = RECORD_FORMAT;
  b.writeUInt32BE(d.length, o);
  o += 4;
  d.copy(b, o);
  o += d.length;
  b.writeBigUInt64BE(BigInt(r.leaderStoreId), o);
  o += 8;
  b.writeBigUInt64BE(BigInt(r.leaderTerm), o);
  o += 8;
  b.writeUInt32BE(addr.length, o);
  o += 4;
  addr.copy(b, o);
  return b;
}

export class MetaRecordError extends Error {
  override readonly name = 'MetaRecordError';
  readonly code = 'INVALID_META_RECORD' as const;
}

export function decodeMetaRecord(b: Buffer): MetaRecord {
  const fail = (m: string): never => {
    throw new MetaRecordError(m);
  };
  if (b.length < 1 + 4 || b[0] !== RECORD_FORMAT) fail('unknown meta record format');
  let o = 1;
  const dl = b.readUInt32BE(o);
  o += 4;
  if (o + dl + 20 > b.length) fail('truncated meta record');
  const descriptor = decodeDescriptor(Buffer.from(b.subarray(o, o + dl)));
  o += dl;
  const u64 = (): number => {
    const v = b.readBigUInt64BE(o);
    o += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('meta record integer out of range');
    return Number(v);
  };
  const leaderStoreId = u64();
  const leaderTerm = u64();
  const al = b.readUInt32BE(o);
  o += 4;
  if (o + al !== b.length) fail('meta record length mismatch');
  return { descriptor, leaderStoreId, leaderTerm, leaderAddress: b.subarray(o, o + al).toString('utf8') };
}
