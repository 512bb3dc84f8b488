// The shard-map summary for status, the Balanced condition and the operator's gauges.
import { imbalance } from './scores.js';
import type { StoreView } from './store-view.js';
import type { PlacementSummary, StoreSummary } from './types.js';

export interface Counts {
  ranges: number;
  underReplicated: number;
  unavailable: number;
  leaderless: number;
  movesInFlight: number;
  /** Ranges that still have a replica or the leadership on a draining store. */
  draining: number;
  /** Ranges that need a replica no store can take. */
  noTarget: number;
  steps: number;
}

/** `observed`: the per-store counters before this pass planned anything. */
export function summarize(v: StoreView, observed: { replicas: Int32Array; leaders: Int32Array; bytes: Float64Array; qps: Float64Array }, c: Counts): PlacementSummary {
  const stores: StoreSummary[] = [];
  for (let i = 0; i < v.size; i++) {
    if (v.known[i] === 0) continue;
    const s: StoreSummary = { storeId: v.ids[i]!, state: v.summaryState[i]!, ranges: observed.replicas[i]!, leaders: observed.leaders[i]!, bytes: observed.bytes[i]!, qps: observed.qps[i]! };
    if (v.draining[i] === 1 && s.ranges === 0 && s.leaders === 0) s.drained = true;
    stores.push(s);
  }
  const imb = { replicas: imbalance(v, observed.replicas), leaders: imbalance(v, observed.leaders), bytes: imbalance(v, observed.bytes), qps: imbalance(v, observed.qps) };
  let reason: string;
  let message: string;
  if (c.unavailable > 0) {
    reason = 'RangesUnavailable';
    message = `${c.unavailable} range(s) have no healthy majority of voters: no replica change is possible until their stores return`;
  } else if (c.leaderless > 0) {
    reason = 'RangesLeaderless';
    message = `${c.leaderless} range(s) have no known leader: their replicas cannot change until one is elected`;
  } else if (c.underReplicated > 0) {
    reason = 'UnderReplicated';
    message = `${c.underReplicated} range(s) have fewer healthy voters than the replication factor` + (c.noTarget > 0 ? `; ${c.noTarget} cannot get a new replica (no usable store with room)` : '');
  } else if (c.draining > 0) {
    reason = 'Draining';
    message = `${c.draining} range(s) still have a replica or leadership on a draining store` + (c.noTarget > 0 ? `; ${c.noTarget} cannot move (no usable store with room outside the range)` : '');
  } else if (c.movesInFlight > 0 || c.steps > 0) {
    reason = 'Rebalancing';
    message = `${c.movesInFlight} move(s) in flight, ${c.steps} step(s) planned; imbalance ${imbalanceText(imb)}`;
  } else {
    reason = 'Balanced';
    message = `no move improves the placement; imbalance ${imbalanceText(imb)}`;
  }
  return {
    ranges: c.ranges,
    underReplicated: c.underReplicated,
    unavailable: c.unavailable,
    leaderless: c.leaderless,
    movesInFlight: c.movesInFlight,
    stores,
    balanced: reason === 'Balanced',
    reason,
    message,
    imbalance: imb,
  };
}

const pct = (x: number) => `±${Math.round(x * 100)} %`;
/** Leader load only when measured (stores report requests per second). */
const imbalanceText = (imb: PlacementSummary['imbalance']) => `replicas ${pct(imb.replicas)}, leaders ${pct(imb.leaders)}, bytes ${pct(imb.bytes)}` + (imb.qps > 0 ? `, leader load ${pct(imb.qps)}` : '');
