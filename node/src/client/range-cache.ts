// The client's range cache (stage 2, sharding): which range holds a key, its epoch, replicas and last
// known leader — so a request goes straight to the leader of its range and names the epoch it was routed
// with. Like TiKV client-go's region cache (a B-tree by start key) it is refreshed by routing errors:
// EPOCH_NOT_MATCH carries the current descriptors (inserted here, evicting what they overlap),
// KEY_NOT_IN_RANGE / an unknown range invalidates, NOT_LEADER with a hint updates the leader.
//
// Invariant: cached ranges never overlap. An insert never lets an older descriptor replace a newer one:
// of two overlapping descriptors the one with the higher `version` is newer (versions grow along a
// range's lineage: a split gives both halves parent + 1, a merge max + 1), and for the same range id the
// higher (version, confVer) wins. Pure data structure: no I/O, no timers.
import { containsKey, isNewerEpoch, spansOverlap, type RangeDescriptor } from '../meta/range-descriptor.js';

export interface CachedRange {
  desc: RangeDescriptor;
  /** Store id of the last known leader (0 = unknown). */
  leaderStoreId: number;
}

export interface SpanPiece {
  start: Buffer;
  /** Exclusive; empty = +∞. */
  end: Buffer;
  /** The cached range covering this piece, or undefined for a gap that needs a lookup. */
  range?: CachedRange;
}

/** a < b, where an empty END means +∞. */
function endBefore(aEnd: Buffer, bEnd: Buffer): boolean {
  if (aEnd.length === 0) return false;
  if (bEnd.length === 0) return true;
  return Buffer.compare(aEnd, bEnd) < 0;
}

export class RangeCache {
  /** Sorted by start key, non-overlapping. */
  private readonly ranges: CachedRange[] = [];

  get size(): number {
    return this.ranges.length;
  }

  /** Every cached range in key order (diagnostics, tests). */
  all(): readonly CachedRange[] {
    return this.ranges;
  }

  /** Index of the last range whose start is ≤ key, or -1. */
  private floor(key: Buffer): number {
    let lo = 0;
    let hi = this.ranges.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare(this.ranges[mid]!.desc.start, key) <= 0) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The cached range holding `key`, if any. */
  lookup(key: Buffer): CachedRange | undefined {
    const i = this.floor(key);
    if (i < 0) return undefined;
    const r = this.ranges[i]!;
    return containsKey(r.desc, key) ? r : undefined;
  }

  /**
   * Caches `desc` (from a lookup or an EPOCH_NOT_MATCH reply) and evicts every cached range it overlaps —
   * unless one of them is newer, in which case `desc` is stale and ignored. Returns whether it was cached.
   */
  insert(desc: RangeDescriptor, leaderStoreId = 0): boolean {
    const overlapping: number[] = [];
    for (let i = Math.max(0, this.floor(desc.start)); i < this.ranges.length; i++) {
      const c = this.ranges[i]!.desc;
      if (!spansOverlap(c, desc)) {
        if (Buffer.compare(c.start, desc.start) >= 0) break;
        continue;
      }
      if (c.rangeId === desc.rangeId ? isNewerEpoch(c.epoch, desc.epoch) : c.epoch.version > desc.epoch.version) return false;
      overlapping.push(i);
    }
    let keepLeader = leaderStoreId;
    for (let k = overlapping.length - 1; k >= 0; k--) {
      const [old] = this.ranges.splice(overlapping[k]!, 1);
      if (keepLeader === 0 && old!.desc.rangeId === desc.rangeId && desc.replicas.some((r) => r.storeId === old!.leaderStoreId)) keepLeader = old!.leaderStoreId;
    }
    const at = this.floor(desc.start) + 1;
    this.ranges.splice(at, 0, { desc, leaderStoreId: keepLeader });
    return true;
  }

  /** Forgets a range (KEY_NOT_IN_RANGE, range not found on the store): the next request looks it up. */
  invalidate(rangeId: number): void {
    const i = this.ranges.findIndex((r) => r.desc.rangeId === rangeId);
    if (i >= 0) this.ranges.splice(i, 1);
  }

  /** Records the leader of a range (NOT_LEADER hint, or a successful reply). */
  setLeader(rangeId: number, storeId: number): void {
    const r = this.ranges.find((x) => x.desc.rangeId === rangeId);
    if (r !== undefined && r.desc.replicas.some((x) => x.storeId === storeId)) r.leaderStoreId = storeId;
  }

  /**
   * Splits [start, end) (end empty = +∞) into pieces, one per cached range it crosses and one per gap —
   * how Batch, Scan, DeleteRange and multi-get fan out by range, in key order.
   */
  pieces(start: Buffer, end: Buffer): SpanPiece[] {
    const out: SpanPiece[] = [];
    let cur = start;
    const done = (): boolean => end.length > 0 && Buffer.compare(cur, end) >= 0;
    while (!done()) {
      const r = this.lookup(cur);
      if (r !== undefined) {
        const pieceEnd = endBefore(r.desc.end, end) ? r.desc.end : end;
        out.push({ start: cur, end: pieceEnd, range: r });
        if (pieceEnd.length === 0) break;
        cur = pieceEnd;
        continue;
      }
      // A gap: up to the next cached range's start (or the span's end).
      const next = this.ranges[this.floor(cur) + 1];
      const gapEnd = next !== undefined && endBefore(next.desc.start, end) ? next.desc.start : end;
      out.push({ start: cur, end: gapEnd });
      if (gapEnd.length === 0) break;
      cur = gapEnd;
    }
    return out;
  }
}
