// The placement planner (issue 13): a pure function (spec, observed stores, observed ranges, steps in
// flight, now) → the next safe steps and a shard-map summary. Deterministic (ranges and stores are
// visited in id order), no I/O, no memory between passes: everything is re-derived from the observed
// shard map, so an operator killed at any point resumes where the cluster is. The steps in flight only
// keep a range from getting a second step before the first shows up in the observed descriptor.
//
// Per pass: every range is assessed by its own rules (range-rules.ts: repair, finish moves, drain
// leaderships); new replicas are handed out within maxConcurrentMoves, most urgent first
// (under-replicated, then lost stores, then draining stores, then topology spread — fewest healthy
// voters above the majority first); only when no repair is left waiting does balancing
// (balance.ts) use what remains of the budget; leader transfers have a per-pass budget of the same size;
// stale peers on stores that came back are removed last (stale-peers.ts).
import { balanceLeaders, balanceReplicas, type BalanceInput } from './balance.js';
import { assessRange, expectedRemoval, rangeFacts, type Assessment, type RuleContext } from './range-rules.js';
import { LEARNER, RangeView } from './range-view.js';
import { means } from './scores.js';
import { majority, validatePlacementSpec } from './spec.js';
import { recordForeignPeers, staleReplicaSteps } from './stale-peers.js';
import { StoreView } from './store-view.js';
import { summarize, type Counts } from './summary.js';
import { chooseTarget, usableZoneCount } from './targets.js';
import type { BlockedRange, InFlightStep, PlacementInput, PlacementPlan, PlacementStep } from './types.js';

/** How many blocked ranges the plan lists (the count is exact). */
export const BLOCKED_LISTED = 20;

interface InFlightIndex {
  /** The range already has a step the observed state does not show yet. */
  busy: Uint8Array;
  /** ... and that step started a move (AddLearner). */
  busyMove: Uint8Array;
  stalePeers: Set<string>;
}

function indexInFlight(inFlight: readonly InFlightStep[], rv: RangeView): InFlightIndex {
  const busy = new Uint8Array(rv.size);
  const busyMove = new Uint8Array(rv.size);
  const stalePeers = new Set<string>();
  for (const { step } of inFlight) {
    if (step.type === 'RemoveStalePeer') {
      stalePeers.add(`${step.storeId}/${step.peerId}`);
      continue;
    }
    const k = rv.byId.get(step.rangeId);
    if (k < 0) continue;
    const r = rv.ranges[k]!;
    if (step.type === 'TransferLeader') {
      if (r.leaderStoreId !== step.toStoreId) busy[k] = 1;
      continue;
    }
    // A replica change shows up as a new epoch; until then the range waits for it.
    if (step.epoch.confVer === r.descriptor.epoch.confVer && step.epoch.version === r.descriptor.epoch.version) {
      busy[k] = 1;
      if (step.type === 'AddLearner') busyMove[k] = 1;
    }
  }
  return { busy, busyMove, stalePeers };
}

interface AddCandidate {
  k: number;
  a: Extract<Assessment, { kind: 'add' }>;
}

export function planPlacement(input: PlacementInput): PlacementPlan {
  const { spec } = input;
  validatePlacementSpec(spec);
  const rf = spec.replicationFactor;
  const v = new StoreView(input.stores, input.ranges, spec, input.nowMs);
  const rv = new RangeView(input.ranges, v);
  recordForeignPeers(input.stores, rv, (id) => v.index.get(id));

  // Observed load per store.
  for (let k = 0; k < rv.size; k++) {
    const bytes = rv.bytes(k);
    for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
      const s = rv.repStore[j]!;
      v.replicas[s]!++;
      v.bytes[s]! += bytes;
    }
    const l = rv.leader[k]!;
    if (l >= 0) {
      v.leaders[l]!++;
      v.qps[l]! += rv.qps(k);
    }
  }
  const observed = { replicas: v.replicas.slice(), leaders: v.leaders.slice(), bytes: v.bytes.slice(), qps: v.qps.slice() };
  // Where the moves in flight will remove a replica once promoted (rule 3 on the observed load), then
  // the load as it will be after them (PD's operator influence). Every later decision — which voter a
  // finishing move removes, where a new replica goes, what balancing moves — sees that projected load,
  // so concurrent moves do not undo each other and a store already losing replicas is not drained twice.
  const ctx: RuleContext = { v, rv, m: means(v), rf, usableZones: usableZoneCount(v), victim: new Int32Array(rv.size).fill(-1) };
  for (let k = 0; k < rv.size; k++) {
    let inFlight = false;
    let voters = 0;
    let healthy = 0;
    for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
      if (rv.repRole[j] === LEARNER) inFlight = true;
      else {
        voters++;
        if (v.healthy(rv.repStore[j]!)) healthy++;
      }
    }
    if ((inFlight || voters > rf) && healthy >= majority(voters)) {
      // Projected at once: the next range's removal sees this one (many over-replicated ranges, e.g.
      // splits that inherited every store, would otherwise all pick the same store in one pass).
      const s = expectedRemoval(ctx, k);
      ctx.victim[k] = s;
      if (s >= 0) {
        v.replicas[s]!--;
        v.bytes[s]! -= rv.bytes(k);
      }
    }
  }
  const m = means(v);
  ctx.m = m;
  const fl = indexInFlight(input.inFlight ?? [], rv);

  const steps: PlacementStep[] = [];
  const blocked: BlockedRange[] = [];
  const adds: AddCandidate[] = [];
  const touched = new Uint8Array(rv.size);
  const replicasOn: number[][] = Array.from({ length: v.size }, () => []);
  const ledBy: number[][] = Array.from({ length: v.size }, () => []);
  const c: Counts = { ranges: rv.size, underReplicated: 0, unavailable: 0, leaderless: 0, movesInFlight: 0, draining: 0, noTarget: 0, steps: 0 };
  let leaderBudget = spec.maxConcurrentMoves;

  const f = { voters: 0, healthyVoters: 0, hasMajority: false };
  for (let k = 0; k < rv.size; k++) {
    rangeFacts(v, rv, k, f);
    if (f.healthyVoters < rf) c.underReplicated++;
    if (!f.hasMajority) c.unavailable++;
    if (rv.leader[k]! < 0) c.leaderless++;
    let learners = false;
    let onDraining = rv.leader[k]! >= 0 && v.draining[rv.leader[k]!] === 1;
    for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) {
      if (rv.repRole[j] === LEARNER) learners = true;
      if (v.draining[rv.repStore[j]!] === 1) onDraining = true;
    }
    if (onDraining) c.draining++;
    if (learners || f.voters > rf || fl.busyMove[k] === 1) c.movesInFlight++;
    if (fl.busy[k] === 1) continue;

    const a = assessRange(ctx, k, f);
    switch (a.kind) {
      case 'step':
        if (a.step.type === 'TransferLeader') {
          if (leaderBudget <= 0) break;
          leaderBudget--;
          const from = v.index.get(a.step.fromStoreId);
          const to = v.index.get(a.step.toStoreId);
          v.leaders[from]!--;
          v.leaders[to]!++;
        }
        steps.push(a.step);
        touched[k] = 1;
        break;
      case 'blocked':
        blocked.push({ rangeId: rv.ranges[k]!.descriptor.rangeId, reason: a.reason });
        break;
      case 'add':
        adds.push({ k, a });
        break;
      case 'stable': {
        for (let j = rv.start[k]!; j < rv.start[k + 1]!; j++) replicasOn[rv.repStore[j]!]!.push(k);
        ledBy[rv.leader[k]!]!.push(k);
        break;
      }
      case 'wait':
        break;
    }
  }

  // New replicas, most urgent first, within the move budget.
  adds.sort((x, y) => x.a.priority - y.a.priority || x.a.margin - y.a.margin || x.k - y.k);
  let budget = Math.max(0, spec.maxConcurrentMoves - c.movesInFlight);
  let waitingForBudget = 0;
  // Ranges no store can take bound the number of target searches (each scans every store).
  let attempts = Math.max(2 * spec.maxConcurrentMoves, 100);
  for (const { k, a } of adds) {
    if (budget <= 0 || attempts <= 0) {
      if (a.cause !== 'topology') waitingForBudget++;
      continue;
    }
    attempts--;
    const dst = chooseTarget(v, rv, m, k, a.keptZones, a.newZoneOnly);
    const d = rv.ranges[k]!.descriptor;
    if (dst < 0) {
      if (a.cause === 'topology') continue; // no better spread is possible: fine as it is
      c.noTarget++;
      blocked.push({ rangeId: d.rangeId, reason: `range ${d.rangeId}: needs a new replica (${a.why}) but no usable store with room holds none of it` });
      continue;
    }
    const bytes = rv.bytes(k);
    steps.push({ type: 'AddLearner', rangeId: d.rangeId, storeId: v.ids[dst]!, epoch: { ...d.epoch }, cause: a.cause, why: a.why });
    touched[k] = 1;
    v.replicas[dst]!++;
    v.bytes[dst]! += bytes;
    v.used[dst]! += bytes;
    budget--;
    c.movesInFlight++;
  }

  const b: BalanceInput = { v, rv, m, replicasOn, ledBy, touched };
  if (waitingForBudget === 0 && budget > 0) {
    const moves = balanceReplicas(b, budget);
    steps.push(...moves);
    c.movesInFlight += moves.length;
  }
  if (leaderBudget > 0) steps.push(...balanceLeaders(b, leaderBudget));
  steps.push(...staleReplicaSteps(input.stores, rv, spec.maxConcurrentMoves, (s, p) => fl.stalePeers.has(`${s}/${p}`)));

  c.steps = steps.length;
  blocked.sort((x, y) => x.rangeId - y.rangeId);
  return { steps, summary: summarize(v, observed, c), blocked: blocked.slice(0, BLOCKED_LISTED), blockedCount: blocked.length };
}
