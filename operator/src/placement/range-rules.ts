// What one range needs next, derived only from its observed descriptor, leader and learner progress
// (so a killed operator resumes where the shard map is: a learner already added is promoted next, never
// added again). One step per range per pass; in this order:
//   1. below a majority of healthy voters → nothing can change it: no step, a reason (Unavailable);
//      no leader known → no step (a replica change needs a leader to propose it);
//   2. a learner on a lost or draining store → remove it (learners do not vote: always safe);
//   3. more voters than the replication factor (a move between promote and remove) → remove the worst
//      voter (lost > down > draining > shares a topology value > most loaded), only when the healthy
//      voters left are still a majority of the new configuration; if the worst one leads, transfer the
//      leadership away first;
//   4. a caught-up learner on a usable store → promote it (the move started earlier completes, whatever
//      started it); a learner still catching up → wait (a move in flight);
//   5. the leader on a draining store → transfer leadership to another voter;
//   6. a new replica is needed (fewer voters than the factor; a voter on a lost store; a voter on a
//      draining store; replicas not spread across the topology values they could use) → AddLearner,
//      chosen by the planner within maxConcurrentMoves, most urgent first.
// Nothing ever removes a voter before its replacement has been promoted: removals only happen in rule 3,
// i.e. when there are MORE voters than the factor.
import { majority } from './spec.js';
import { LEARNER, VOTER, type RangeView } from './range-view.js';
import { leaderCost, removeGain, type Means } from './scores.js';
import type { StoreView } from './store-view.js';
import type { PlacementStep, StepCause } from './types.js';

export type Assessment =
  | { kind: 'step'; step: PlacementStep; moveInFlight: boolean }
  | { kind: 'wait'; moveInFlight: boolean }
  | { kind: 'blocked'; reason: string }
  | { kind: 'add'; cause: StepCause; priority: number; margin: number; keptZones: number[]; newZoneOnly: boolean; why: string }
  | { kind: 'stable' };

export interface RangeFacts {
  voters: number;
  /** Voters whose store is up. */
  healthyVoters: number;
  hasMajority: boolean;
}

/** Fills `out` (reused across ranges: one pass visits 100 000 of them) with range k's facts. */
export function rangeFacts(v: StoreView, rv: RangeView, k: number, out: RangeFacts = { voters: 0, healthyVoters: 0, hasMajority: false }): RangeFacts {
  let voters = 0;
  let healthy = 0;
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
    if (rv.repRole[j] !== VOTER) continue;
    voters++;
    if (v.healthy(rv.repStore[j]!)) healthy++;
  }
  out.voters = voters;
  out.healthyVoters = healthy;
  out.hasMajority = healthy >= majority(voters);
  return out;
}

export interface RuleContext {
  v: StoreView;
  rv: RangeView;
  m: Means;
  rf: number;
  usableZones: number;
  /** Per range: the store a move in flight will remove a replica from (−1: none); the store counters
   * have it subtracted already (the projected load). */
  victim: Int32Array;
}

const STABLE: Assessment = { kind: 'stable' };
const WAIT_MOVE: Assessment = { kind: 'wait', moveInFlight: true };
const WAIT: Assessment = { kind: 'wait', moveInFlight: false };

const storeName = (v: StoreView, i: number) => `store ${v.ids[i]}`;

export function assessRange(ctx: RuleContext, k: number, f: RangeFacts): Assessment {
  const { v, rv, rf } = ctx;
  const d = rv.ranges[k]!.descriptor;
  const epoch = { ...d.epoch };
  const rangeId = d.rangeId;
  if (!f.hasMajority) {
    return { kind: 'blocked', reason: `range ${rangeId}: ${f.healthyVoters} of ${f.voters} voters healthy, a majority is ${majority(f.voters)}: unavailable, no replica change possible until its stores return` };
  }
  const leader = rv.leader[k]!;
  if (leader < 0) return { kind: 'blocked', reason: `range ${rangeId}: no leader known: waiting for an election` };

  // 2. Learners on stores that will not come back or are being emptied.
  let learner = -1;
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
    if (rv.repRole[j] !== LEARNER) continue;
    const s = rv.repStore[j]!;
    if (v.lost[s] === 1 || v.draining[s] === 1) {
      const cause: StepCause = v.lost[s] === 1 ? 'replace-lost' : 'drain';
      return { kind: 'step', moveInFlight: true, step: { type: 'RemoveReplica', rangeId, storeId: v.ids[s]!, peerId: rv.repPeer[j]!, epoch, cause, why: `learner on ${storeName(v, s)} (${v.summaryState[s]}) will never be promoted` } };
    }
    if (learner < 0) learner = s;
  }

  // 3. An extra voter (a move between promote and remove, or the factor was lowered).
  if (f.voters > rf) return removeExtraVoter(ctx, k, f, leader);

  // 4. Finish a move: promote a caught-up learner.
  if (learner >= 0) {
    if (v.usable(learner) && !rv.catchingUp(k, learner)) {
      return { kind: 'step', moveInFlight: true, step: { type: 'Promote', rangeId, storeId: v.ids[learner]!, epoch, cause: 'finish-move', why: `learner on ${storeName(v, learner)} caught up` } };
    }
    // 5 still applies while the learner catches up (a leader transfer does not change the descriptor).
    const t = drainLeader(ctx, k, leader);
    if (t) return { kind: 'step', step: t, moveInFlight: true };
    return WAIT_MOVE;
  }

  // 5. Leadership off a draining store.
  const t = drainLeader(ctx, k, leader);
  if (t) return { kind: 'step', step: t, moveInFlight: false };

  // 6. A new replica: why, and how urgent (fewer healthy voters above the majority first). Counted
  // without allocating: this runs for every stable range of every pass.
  let lost = 0;
  let draining = 0;
  let allUsable = true;
  let distinct = 0;
  const a = rv.start[k]!;
  const z = rv.start[k + 1]!;
  for (let j = a; j < z; j++) {
    const s = rv.repStore[j]!;
    if (!v.usable(s)) allUsable = false;
    if (rv.repRole[j] !== VOTER) continue;
    if (v.lost[s] === 1) lost++;
    else if (v.draining[s] === 1) draining++;
    let seen = false;
    for (let i = a; i < j; i++) if (rv.repRole[i] === VOTER && v.zone[rv.repStore[i]!] === v.zone[s]) seen = true;
    if (!seen) distinct++;
  }
  const margin = f.healthyVoters - majority(f.voters);
  const zones = (keep: boolean) => {
    const out: number[] = [];
    for (let j = a; j < z; j++) {
      const s = rv.repStore[j]!;
      if (rv.repRole[j] === VOTER && (!keep || (v.lost[s] === 0 && v.draining[s] === 0))) out.push(v.zone[s]!);
    }
    return out;
  };
  if (f.voters < rf) return { kind: 'add', cause: 'under-replicated', priority: 0, margin, keptZones: zones(true), newZoneOnly: false, why: `${f.voters} voters, replication factor ${rf}` };
  if (lost > 0) return { kind: 'add', cause: 'replace-lost', priority: 1, margin, keptZones: zones(true), newZoneOnly: false, why: `${lost} voter(s) on a lost store` };
  if (draining > 0) return { kind: 'add', cause: 'drain', priority: 2, margin, keptZones: zones(true), newZoneOnly: false, why: `${draining} voter(s) on a draining store` };
  // A voter briefly down is not replaced before storeDownTimeout, not even to improve the spread.
  if (!allUsable) return WAIT;
  const possible = Math.min(rf, ctx.usableZones);
  if (distinct < possible) {
    return { kind: 'add', cause: 'topology', priority: 3, margin, keptZones: zones(false), newZoneOnly: true, why: `replicas in ${distinct} topology value(s), ${possible} possible` };
  }
  return STABLE;
}

/** How much a voter should go, highest first: lost > down > draining > shares a topology value > the
 * removal that lowers the replica potential most (scores.ts). */
function removalRank(ctx: RuleContext, k: number, s: number, learnersVote = false): [number, number, number] {
  const { v, rv } = ctx;
  const bad = v.lost[s] === 1 ? 3 : !v.healthy(s) ? 2 : v.draining[s] === 1 ? 1 : 0;
  let dup = 0;
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
    const o = rv.repStore[j]!;
    if (o !== s && (learnersVote || rv.repRole[j] === VOTER) && v.zone[o] === v.zone[s]) dup = 1;
  }
  return [bad, dup, removeGain(v, ctx.m, s, rv.bytes(k))];
}

function removeExtraVoter(ctx: RuleContext, k: number, f: RangeFacts, leader: number): Assessment {
  const { v, rv } = ctx;
  // Rank on the projected load of every OTHER move in flight: this range's own projected removal is put
  // back while its voters are compared.
  const own = ctx.victim[k]!;
  if (own >= 0) {
    v.replicas[own]!++;
    v.bytes[own]! += rv.bytes(k);
  }
  try {
    return pickExtraVoter(ctx, k, f, leader);
  } finally {
    if (own >= 0) {
      v.replicas[own]!--;
      v.bytes[own]! -= rv.bytes(k);
    }
  }
}

function pickExtraVoter(ctx: RuleContext, k: number, f: RangeFacts, leader: number): Assessment {
  const { v, rv } = ctx;
  const d = rv.ranges[k]!.descriptor;
  let worst = -1;
  let worstPeer = 0;
  let wr: [number, number, number] = [-1, -1, -Infinity];
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
    if (rv.repRole[j] !== VOTER) continue;
    const s = rv.repStore[j]!;
    const r = removalRank(ctx, k, s);
    if (r[0] > wr[0] || (r[0] === wr[0] && (r[1] > wr[1] || (r[1] === wr[1] && r[2] > wr[2])))) {
      worst = s;
      worstPeer = rv.repPeer[j]!;
      wr = r;
    }
  }
  const healthyAfter = f.healthyVoters - (v.healthy(worst) ? 1 : 0);
  const need = majority(f.voters - 1);
  if (healthyAfter < need) {
    return { kind: 'blocked', reason: `range ${d.rangeId}: removing the voter on store ${v.ids[worst]} would leave ${healthyAfter} healthy of ${f.voters - 1} voters (a majority is ${need}): waiting` };
  }
  if (worst === leader) {
    const to = transferTarget(ctx, k, leader);
    if (to < 0) return { kind: 'blocked', reason: `range ${d.rangeId}: the voter to remove (store ${v.ids[worst]}) leads and no other voter can take over` };
    return { kind: 'step', moveInFlight: true, step: { type: 'TransferLeader', rangeId: d.rangeId, fromStoreId: v.ids[leader]!, toStoreId: v.ids[to]!, epoch: { ...d.epoch }, cause: 'finish-move', why: `its voter on store ${v.ids[leader]} is removed next` } };
  }
  const cause: StepCause = wr[0] === 3 ? 'replace-lost' : wr[0] === 1 ? 'drain' : 'finish-move';
  return {
    kind: 'step',
    moveInFlight: true,
    step: { type: 'RemoveReplica', rangeId: d.rangeId, storeId: v.ids[worst]!, peerId: worstPeer, epoch: { ...d.epoch }, cause, why: `${f.voters} voters, replication factor ${ctx.rf}: remove the one on store ${v.ids[worst]} (${v.summaryState[worst]})` },
  };
}

/**
 * The store whose replica a move in flight on range k will remove once its learners are promoted (rule 3
 * on the state after promotion), or −1 when nothing will be removed. The planner subtracts it from the
 * projected load before balancing (PD's operator influence), so a store already losing replicas to moves
 * in flight is not picked as a source again and again.
 */
export function expectedRemoval(ctx: RuleContext, k: number): number {
  const { v, rv } = ctx;
  let count = 0;
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
    const s = rv.repStore[j]!;
    if (rv.repRole[j] === VOTER || v.usable(s)) count++;
  }
  if (count <= ctx.rf) return -1;
  let worst = -1;
  let wr: [number, number, number] = [-1, -1, -Infinity];
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
    const s = rv.repStore[j]!;
    if (rv.repRole[j] !== VOTER && !v.usable(s)) continue;
    const r = removalRank(ctx, k, s, true);
    if (r[0] > wr[0] || (r[0] === wr[0] && (r[1] > wr[1] || (r[1] === wr[1] && r[2] > wr[2])))) {
      worst = s;
      wr = r;
    }
  }
  return worst;
}

/** The voter (other than `from`) best suited to lead: on a usable store, where one more leadership
 * raises the leader potential least; −1 if none. */
export function transferTarget(ctx: RuleContext, k: number, from: number): number {
  const { v, rv } = ctx;
  let best = -1;
  let bestScore = Infinity;
  for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
    const s = rv.repStore[j]!;
    if (s === from || rv.repRole[j] !== VOTER || !v.usable(s)) continue;
    const sc = leaderCost(v, ctx.m, s, 1, rv.qps(k)) - leaderCost(v, ctx.m, s);
    if (sc < bestScore) {
      best = s;
      bestScore = sc;
    }
  }
  return best;
}

function drainLeader(ctx: RuleContext, k: number, leader: number): PlacementStep | undefined {
  const { v, rv } = ctx;
  if (v.draining[leader] !== 1) return undefined;
  const to = transferTarget(ctx, k, leader);
  if (to < 0) return undefined;
  const d = rv.ranges[k]!.descriptor;
  return { type: 'TransferLeader', rangeId: d.rangeId, fromStoreId: v.ids[leader]!, toStoreId: v.ids[to]!, epoch: { ...d.epoch }, cause: 'drain', why: `store ${v.ids[leader]} is draining` };
}
