// Load of the stores that can hold replicas (up, not draining), normalised by the mean so replica count
// and size weigh alike (and, for leaders, leader count and measured load). Balancing only acts when a
// store is outside the tolerance band around the mean (CockroachDB: mean ± max(5 %, a minimum)).
import type { StoreView } from './store-view.js';

export interface Means {
  /** Stores that can hold replicas. */
  stores: number;
  replicas: number;
  bytes: number;
  leaders: number;
  qps: number;
}

export function means(v: StoreView): Means {
  let stores = 0;
  let replicas = 0;
  let bytes = 0;
  let leaders = 0;
  let qps = 0;
  for (let i = 0; i < v.size; i++) {
    if (!v.usable(i)) continue;
    stores++;
    replicas += v.replicas[i]!;
    bytes += v.bytes[i]!;
    leaders += v.leaders[i]!;
    qps += v.qps[i]!;
  }
  const d = Math.max(stores, 1);
  return { stores, replicas: replicas / d, bytes: bytes / d, leaders: leaders / d, qps: qps / d };
}

// One potential per kind of load, Φ = Σ over stores of (count/mean − 1)² + (bytes/mean − 1)² (for
// leaders: leader count and measured qps). Every balancing move must lower Φ, so balancing converges and
// cannot ping-pong; a new replica goes where it raises Φ least; the extra voter of a range is removed
// where that lowers Φ most — so a move's completion, re-derived from the shard map, finishes what its
// start intended. Squares, not a sum of ratios: a store low on count but high on bytes does not look
// average. The max/min ratios pick the sources and targets to try and decide the tolerance band.

const sq = (x: number) => x * x;

/** Store i's share of the replica potential with dCount/dBytes more. */
export function replicaCost(v: StoreView, m: Means, i: number, dCount = 0, dBytes = 0): number {
  const c = sq((v.replicas[i]! + dCount) / Math.max(m.replicas, 1e-9) - 1);
  return m.bytes > 0 ? c + sq((v.bytes[i]! + dBytes) / m.bytes - 1) : c;
}

/** How much Φ grows when store i gets a replica of `bytes` (a new replica goes where this is least). */
export function addCost(v: StoreView, m: Means, i: number, bytes: number): number {
  return replicaCost(v, m, i, 1, bytes) - replicaCost(v, m, i);
}

/** How much Φ drops when store i loses a replica of `bytes` (the extra voter goes where this is most). */
export function removeGain(v: StoreView, m: Means, i: number, bytes: number): number {
  return replicaCost(v, m, i) - replicaCost(v, m, i, -1, -bytes);
}

/** The larger of count/mean and bytes/mean: the most loaded store is tried first as a source. */
export function replicaScore(v: StoreView, m: Means, i: number): number {
  const c = v.replicas[i]! / Math.max(m.replicas, 1e-9);
  return m.bytes > 0 ? Math.max(c, v.bytes[i]! / m.bytes) : c;
}

/** The smaller of the two: a store is underfull when either dimension is below the band. */
export function replicaFloor(v: StoreView, m: Means, i: number): number {
  const c = v.replicas[i]! / Math.max(m.replicas, 1e-9);
  return m.bytes > 0 ? Math.min(c, v.bytes[i]! / m.bytes) : c;
}

export function leaderCost(v: StoreView, m: Means, i: number, dLeaders = 0, dQps = 0): number {
  const l = sq((v.leaders[i]! + dLeaders) / Math.max(m.leaders, 1e-9) - 1);
  return m.qps > 0 ? l + sq((v.qps[i]! + dQps) / m.qps - 1) : l;
}

/**
 * A store's leader load relative to the mean, for the band test — 1 (average) while it is within
 * max(25 %, 100 req/s) of the mean. Measured rates are noisy (a 10–20 s window, a few requests per range
 * at low traffic); without this band leaderships would chase the noise. The same thresholds as
 * CockroachDB's load-based rebalancing (qpsRebalanceThreshold 0.25, minQPSThresholdDifference 100).
 */
export function loadRatio(v: StoreView, m: Means, i: number): number {
  const q = v.qps[i]!;
  return Math.abs(q - m.qps) <= Math.max(LOAD_BAND * m.qps, LOAD_MIN_DIFF_QPS) ? 1 : q / m.qps;
}
export const LOAD_BAND = 0.25;
export const LOAD_MIN_DIFF_QPS = 100;

export function leaderScore(v: StoreView, m: Means, i: number): number {
  const l = v.leaders[i]! / Math.max(m.leaders, 1e-9);
  return m.qps > 0 ? Math.max(l, loadRatio(v, m, i)) : l;
}

export function leaderFloor(v: StoreView, m: Means, i: number): number {
  const l = v.leaders[i]! / Math.max(m.leaders, 1e-9);
  return m.qps > 0 ? Math.min(l, loadRatio(v, m, i)) : l;
}

/** Relative tolerance around the mean score: 5 %, but at least one unit of the count (small clusters
 * would otherwise move replicas back and forth over a difference of one). */
export function tolerance(meanCount: number): number {
  return Math.max(0.05, 1 / Math.max(meanCount, 1e-9));
}

/** Max relative deviation from the mean over the usable stores (the gauge; 0.2 = ±20 %). */
export function imbalance(v: StoreView, values: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < v.size; i++) {
    if (!v.usable(i)) continue;
    sum += values[i]!;
    n++;
  }
  if (n === 0 || sum === 0) return 0;
  const mean = sum / n;
  let worst = 0;
  for (let i = 0; i < v.size; i++) if (v.usable(i)) worst = Math.max(worst, Math.abs(values[i]! - mean) / mean);
  return Math.round(worst * 1000) / 1000;
}
