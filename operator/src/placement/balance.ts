// Balancing, once nothing more urgent needs the move budget: replicas (count and size) by moving one
// replica of a stable range from the most loaded store to the least loaded one (AddLearner there; the
// range's own rules then promote it and remove the extra voter, the most loaded one), and leaders
// (count and measured load) by transferring leadership of a range between two of its voters. Both only
// move when one side is outside the tolerance band and the move lowers the potential (scores.ts), and a
// replica move never makes a range's spread across topology values worse.
import { VOTER, type RangeView } from './range-view.js';
import { leaderCost, leaderFloor, leaderScore, removeGain, replicaCost, replicaFloor, replicaScore, tolerance } from './scores.js';
import type { Means } from './scores.js';
import type { StoreView } from './store-view.js';
import type { PlacementStep } from './types.js';

export interface BalanceInput {
  v: StoreView;
  rv: RangeView;
  m: Means;
  /** Per store index: stable ranges (no step this pass, every replica usable) with a replica there. */
  replicasOn: number[][];
  /** Per store index: stable ranges it leads. */
  ledBy: number[][];
  /** Ranges that already got a step this pass. */
  touched: Uint8Array;
}

/** Moving range k's replica from src to dst keeps its topology spread (same value, or a value its other
 * replicas do not use). */
function keepsSpread(b: BalanceInput, k: number, src: number, dst: number): boolean {
  const { v, rv } = b;
  if (v.zone[dst] === v.zone[src]) return true;
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
    const o = rv.repStore[j]!;
    if (o !== src && v.zone[o] === v.zone[dst]) return false;
  }
  return true;
}

/** Whether, once range k has a voter on dst too, the extra-voter rule (range-rules.ts: shares a
 * topology value, then the largest drop of the potential) removes a voter other than the new one — else
 * the move would be undone by its own completion. The one removed is src or a voter whose removal lowers
 * the potential at least as much, so the move balances either way. */
function notUndone(b: BalanceInput, k: number, dst: number): boolean {
  const { v, rv, m } = b;
  const stores: number[] = [];
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) if (rv.repRole[j] === VOTER) stores.push(rv.repStore[j]!);
  stores.push(dst);
  const size = rv.bytes(k);
  let worst = -1;
  let wr: [number, number] = [-1, -Infinity];
  for (const s of stores) {
    const dup = stores.some((o) => o !== s && v.zone[o] === v.zone[s]) ? 1 : 0;
    // dst already holds the new replica when the removal is decided: its gain is that of undoing it.
    const gain = s === dst ? replicaCost(v, m, s, 1, size) - replicaCost(v, m, s) : removeGain(v, m, s, size);
    if (dup > wr[0] || (dup === wr[0] && gain > wr[1])) {
      worst = s;
      wr = [dup, gain];
    }
  }
  return worst !== dst;
}

/**
 * Plans up to `budget` replica moves; returns them and updates the projected counters. Source: the
 * highest replica score; targets by rising floor (the first try in the source's topology value); the
 * range: the one whose move lowers the potential Φ most (scores.ts), if any lowers it.
 */
/**
 * The most loaded usable store that still has something to give (a candidate in `lists`, not exhausted
 * this pass), and the lowest floor of any usable store (is anybody underfull?).
 */
function pickSource(v: StoreView, score: Float64Array, floor: Float64Array, exhausted: Uint8Array, lists: number[][]): { src: number; minFloor: number } {
  let src = -1;
  let minFloor = Infinity;
  for (let i = 0; i < v.size; i++) {
    if (!v.usable(i)) continue;
    if (floor[i]! < minFloor) minFloor = floor[i]!;
    if (exhausted[i] === 1 || lists[i]!.length === 0) continue;
    if (src < 0 || score[i]! > score[src]!) src = i;
  }
  return { src, minFloor };
}

export function balanceReplicas(b: BalanceInput, budget: number): PlacementStep[] {
  const { v, rv, m } = b;
  const steps: PlacementStep[] = [];
  const tol = tolerance(m.replicas);
  const hi = 1 + tol;
  const lo = 1 - tol;
  const exhausted = new Uint8Array(v.size);
  const score = new Float64Array(v.size);
  const floor = new Float64Array(v.size);
  const minGain = 2 / Math.max(m.replicas * m.replicas, 1e-9) - 1e-12;
  for (let i = 0; i < v.size; i++) {
    score[i] = v.usable(i) ? replicaScore(v, m, i) : 0;
    floor[i] = v.usable(i) ? replicaFloor(v, m, i) : 0;
  }
  while (steps.length < budget) {
    const { src, minFloor } = pickSource(v, score, floor, exhausted, b.replicasOn);
    if (src < 0) break;
    if (score[src]! <= hi && minFloor >= lo) break; // every store inside the band: nothing is worth a snapshot
    const tried = new Set<number>([src]);
    let moved = false;
    for (let attempt = 0; attempt < 8 && !moved; attempt++) {
      let dst = -1;
      for (let i = 0; i < v.size; i++) {
        if (!v.usable(i) || tried.has(i) || (attempt === 0 && v.zone[i] !== v.zone[src])) continue;
        if (dst < 0 || floor[i]! < floor[dst]!) dst = i;
      }
      if (dst < 0) continue;
      tried.add(dst);
      if (score[src]! <= hi && floor[dst]! >= lo) continue; // both inside the band
      let best = -1;
      // A move must lower Φ by at least what moving one replica between two stores two replicas apart
      // does (2/mean²): smaller gains are noise of sizes and concurrent moves, not worth a snapshot.
      let bestCost = -minGain;
      const base = replicaCost(v, m, src) + replicaCost(v, m, dst);
      for (const k of b.replicasOn[src]!) {
        if (b.touched[k] === 1) continue;
        const size = rv.bytes(k);
        const cost = replicaCost(v, m, src, -1, -size) + replicaCost(v, m, dst, 1, size) - base;
        if (cost >= bestCost || rv.holds(k, dst) || !v.hasRoom(dst, size) || !keepsSpread(b, k, src, dst) || !notUndone(b, k, dst)) continue;
        best = k;
        bestCost = cost;
      }
      if (best < 0) continue;
      const d = rv.ranges[best]!.descriptor;
      const bytes = rv.bytes(best);
      steps.push({
        type: 'AddLearner',
        rangeId: d.rangeId,
        storeId: v.ids[dst]!,
        epoch: { ...d.epoch },
        cause: 'balance',
        why: `move a replica from store ${v.ids[src]} (${v.replicas[src]} replicas, ${mib(v.bytes[src]!)}) to store ${v.ids[dst]} (${v.replicas[dst]}, ${mib(v.bytes[dst]!)}); mean ${m.replicas.toFixed(1)}, ${mib(m.bytes)}`,
      });
      b.touched[best] = 1;
      v.replicas[dst]!++;
      v.bytes[dst]! += bytes;
      v.used[dst]! += bytes;
      v.replicas[src]!--;
      v.bytes[src]! -= bytes;
      score[dst] = replicaScore(v, m, dst);
      score[src] = replicaScore(v, m, src);
      floor[dst] = replicaFloor(v, m, dst);
      floor[src] = replicaFloor(v, m, src);
      moved = true;
    }
    if (!moved) exhausted[src] = 1;
  }
  return steps;
}

const mib = (x: number) => `${Math.round(x / 1048576)} MiB`;

/** Plans up to `budget` leader transfers; returns them and updates the projected counters. */
export function balanceLeaders(b: BalanceInput, budget: number): PlacementStep[] {
  const { v, rv, m } = b;
  const steps: PlacementStep[] = [];
  const tol = tolerance(m.leaders);
  const hi = 1 + tol;
  const lo = 1 - tol;
  const exhausted = new Uint8Array(v.size);
  const score = new Float64Array(v.size);
  const floor = new Float64Array(v.size);
  const rescore = (i: number) => {
    score[i] = leaderScore(v, m, i);
    floor[i] = leaderFloor(v, m, i);
  };
  for (let i = 0; i < v.size; i++) if (v.usable(i)) rescore(i);
  while (steps.length < budget) {
    const { src, minFloor } = pickSource(v, score, floor, exhausted, b.ledBy);
    if (src < 0) break;
    const srcScore = score[src]!;
    if (srcScore <= hi && minFloor >= lo) break; // every store inside the band
    let best = -1;
    let bestTo = -1;
    let bestCost = -(2 / Math.max(m.leaders * m.leaders, 1e-9) - 1e-12); // as for replicas: a real gain
    for (const k of b.ledBy[src]!) {
      if (b.touched[k] === 1) continue;
      const qps = rv.qps(k);
      for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
        const s = rv.repStore[j]!;
        if (s === src || rv.repRole[j] !== VOTER || !v.usable(s)) continue;
        if (srcScore <= hi && floor[s]! >= lo) continue;
        const cost = leaderCost(v, m, src, -1, -qps) + leaderCost(v, m, s, 1, qps) - leaderCost(v, m, src) - leaderCost(v, m, s);
        if (cost >= bestCost) continue;
        best = k;
        bestTo = s;
        bestCost = cost;
      }
    }
    if (best < 0) {
      exhausted[src] = 1;
      continue;
    }
    const qps = rv.qps(best);
    const d = rv.ranges[best]!.descriptor;
    steps.push({ type: 'TransferLeader', rangeId: d.rangeId, fromStoreId: v.ids[src]!, toStoreId: v.ids[bestTo]!, epoch: { ...d.epoch }, cause: 'leader-balance', why: leaderWhy(v, m, src, bestTo) });
    b.touched[best] = 1;
    v.leaders[src]!--;
    v.qps[src]! -= qps;
    v.leaders[bestTo]!++;
    v.qps[bestTo]! += qps;
    rescore(src);
    rescore(bestTo);
  }
  return steps;
}

/** Why a leadership moves: the two stores' leader counts and, when measured, their leader load. */
function leaderWhy(v: StoreView, m: Means, src: number, to: number): string {
  if (m.qps <= 0) return `store ${v.ids[src]} leads ${v.leaders[src]} ranges, store ${v.ids[to]} ${v.leaders[to]}; mean ${m.leaders.toFixed(1)}`;
  const q = (i: number) => Math.round(v.qps[i]!);
  return `store ${v.ids[src]} leads ${v.leaders[src]} ranges (${q(src)} req/s), store ${v.ids[to]} ${v.leaders[to]} (${q(to)} req/s); mean ${m.leaders.toFixed(1)} (${Math.round(m.qps)} req/s)`;
}
