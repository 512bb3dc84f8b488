// Where a new replica goes: a store that can hold replicas (up, not draining, below 95 % of its
// capacity) and holds none of the range yet; first one whose topology value the range's remaining
// replicas do not use yet (spread across zones), then where it raises the replica potential least (scores.ts: the least loaded by count and size, projected), then
// the lowest store id (determinism). When every usable zone is already used (fewer zones than replicas,
// e.g. after a zone was lost) the range still gets its replica: spreading is a preference, the
// replication factor is not.
import type { RangeView } from './range-view.js';
import { addCost, type Means } from './scores.js';
import type { StoreView } from './store-view.js';

/**
 * Best target store index for a new replica of range k, or −1.
 * `keptZones`: topology values of the replicas that stay; `newZoneOnly`: the move exists only to spread
 * (a target in a used zone would not improve anything).
 */
export function chooseTarget(v: StoreView, rv: RangeView, m: Means, k: number, keptZones: readonly number[], newZoneOnly: boolean): number {
  const bytes = rv.bytes(k);
  let best = -1;
  let bestUsed = true;
  let bestScore = Infinity;
  for (let i = 0; i < v.size; i++) {
    if (!v.usable(i) || !v.hasRoom(i, bytes) || rv.holds(k, i)) continue;
    const used = keptZones.includes(v.zone[i]!);
    if (used && newZoneOnly) continue;
    const score = addCost(v, m, i, bytes);
    if ((bestUsed && !used) || (used === bestUsed && score < bestScore)) {
      best = i;
      bestUsed = used;
      bestScore = score;
    }
  }
  return best;
}

/** Number of distinct topology values among the usable stores (what a range can spread across). */
export function usableZoneCount(v: StoreView): number {
  const seen = new Set<number>();
  for (let i = 0; i < v.size; i++) if (v.usable(i)) seen.add(v.zone[i]!);
  return seen.size;
}
