// Property tests of the placement planner against the simulated shard map (test/helpers/
// placement-cluster.ts): seeded scenarios of scale-out, drains (then removal of the drained store),
// brief restarts, stores lost past storeDownTimeout that come back later with stale peers. After every
// applied step: never below a majority, never a voter removed before its replacement was promoted, never
// the leader's replica; after every pass: moves in flight ≤ maxConcurrentMoves, every range keeps a
// healthy majority (the schedule never takes down more than one store at a time). At the end: converged
// within a bound (every range at the factor on usable stores, no learner, no stale peer, no step left,
// Balanced). Negative controls: deliberately broken planners must be caught by the same checker.
import { strict as assert } from 'node:assert';
import { mulberry32 } from '../../../node/src/common/prng.js';
import { planPlacement } from '../../../operator/src/placement/planner.js';
import type { PlacementInput, PlacementPlan, PlacementSpec, PlacementStep } from '../../../operator/src/placement/types.js';
import { InvariantViolation, PlacementCluster, TICK_MS, ZONE_KEY, checkCluster, checkStep, converged, runPass, snapshot, type Planner } from '../../helpers/placement-cluster.js';

interface ScenarioResult {
  passes: number;
  steps: number;
  last: PlacementPlan;
  events: string[];
  cluster: PlacementCluster;
}

/** Seeded events for `eventPasses` passes, then quiet until the planner has nothing left to do. */
function scenario(seed: number, rf: number, planner: Planner = planPlacement, o: { stores?: number; ranges?: number; eventPasses?: number; maxPasses?: number; moves?: number } = {}): ScenarioResult {
  const rand = mulberry32(seed * 7919 + rf);
  const c = new PlacementCluster({ seed, stores: o.stores ?? 3 * rf, zones: 3, ranges: o.ranges ?? 120, rf, maxCatchUpTicks: 4 });
  const spec: PlacementSpec = { replicationFactor: rf, topologyKey: ZONE_KEY, maxConcurrentMoves: o.moves ?? 1 + (seed % 4), storeDownTimeoutMs: 3 * TICK_MS };
  const events: string[] = [];
  const eventPasses = o.eventPasses ?? 120;
  const maxPasses = o.maxPasses ?? 1500;
  let down: { id: number; until: number } | undefined;
  let last: PlacementPlan | undefined;
  let steps = 0;
  let passes = 0;
  const up = () => [...c.stores.values()].filter((s) => s.state === 'up');
  for (; passes < maxPasses; passes++) {
    // The operator removes a drained store (pod and PVC) — what scale-in does after the drain.
    for (const s of last?.summary.stores ?? []) {
      if (s.drained && c.stores.get(s.storeId)!.state === 'up') {
        c.setStore(s.storeId, { state: 'removed' });
        events.push(`${passes}: store ${s.storeId} drained → removed`);
      }
    }
    if (down && passes >= down.until) {
      c.setStore(down.id, { state: 'up' });
      events.push(`${passes}: store ${down.id} back`);
      down = undefined;
    }
    const calm = last !== undefined && last.summary.underReplicated === 0 && last.summary.unavailable === 0;
    if (passes < eventPasses && rand() < 0.08) {
      const r = rand();
      const usable = up().filter((s) => !s.draining);
      if (r < 0.3) {
        const id = c.addStore(`z${Math.floor(rand() * 3)}`);
        events.push(`${passes}: store ${id} added`);
      } else if (r < 0.5 && usable.length > rf + 1) {
        const s = usable[Math.floor(rand() * usable.length)]!;
        c.setStore(s.storeId, { draining: true });
        events.push(`${passes}: store ${s.storeId} draining`);
      } else if (!down && calm) {
        // One store down at a time, and only once the last loss was repaired: no range can lose its majority.
        const s = up()[Math.floor(rand() * up().length)]!;
        const lost = r >= 0.75;
        down = { id: s.storeId, until: passes + (lost ? 10 + Math.floor(rand() * 20) : 1 + Math.floor(rand() * 2)) };
        c.setStore(s.storeId, { state: 'down' });
        events.push(`${passes}: store ${s.storeId} down (${lost ? 'past the timeout' : 'briefly'})`);
      }
    }
    const res = runPass(c, spec, planner, { noMajorityLoss: true });
    last = res.plan;
    steps += res.applied;
    if (passes >= eventPasses && !down && last.steps.length === 0 && last.summary.movesInFlight === 0 && last.summary.underReplicated === 0) break;
  }
  return { passes, steps, last: last!, events, cluster: c };
}

/** Max relative deviation of a store's replica count from the mean of its zone (usable stores). */
function zoneImbalance(c: PlacementCluster, plan: PlacementPlan): number {
  const byZone = new Map<string, number[]>();
  for (const s of plan.summary.stores) {
    if (s.state !== 'up') continue;
    const z = c.stores.get(s.storeId)!.zone;
    byZone.set(z, [...(byZone.get(z) ?? []), s.ranges]);
  }
  let worst = 0;
  for (const counts of byZone.values()) {
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    for (const n of counts) worst = Math.max(worst, mean === 0 ? 0 : Math.abs(n - mean) / mean);
  }
  return worst;
}

describe('placement planner (simulation: invariants after every step)', function () {
  this.timeout(60_000);
  const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
  for (const rf of [3, 5]) {
    it(`RF ${rf}: ${rf === 3 ? seeds.length : 4} seeded scenarios converge within bounds, never below a majority, moves within the limit`, () => {
      const stats: string[] = [];
      for (const seed of rf === 3 ? seeds : seeds.slice(0, 4)) {
        const r = scenario(seed, rf);
        const shape = r.last.summary.stores.map((x) => `${x.storeId}:${x.state}:${x.ranges}/${x.leaders}`).join(' ');
        const ctx = `seed ${seed} RF ${rf} (stores ${shape}):\n  ${r.events.join('\n  ')}`;
        assert.ok(r.passes < 1500, `did not converge within 1500 passes; ${ctx}`);
        assert.equal(converged(r.cluster, rf), undefined, ctx);
        assert.equal(r.cluster.stalePeers(), 0, `stale peers left; ${ctx}`);
        assert.deepEqual(r.last.steps, [], ctx);
        assert.equal(r.last.summary.balanced, true, `${r.last.summary.reason}: ${r.last.summary.message}; ${ctx}`);
        // Replicas spread across zones first (a zone with one store holds a replica of every range), so
        // replica balance is judged among the stores of each zone.
        const zi = zoneImbalance(r.cluster, r.last);
        assert.ok(zi <= 0.2, `replicas imbalance within a zone ${zi}; ${ctx}`);
        assert.ok(r.last.summary.imbalance.leaders <= 0.25, `leaders imbalance ${r.last.summary.imbalance.leaders}; ${ctx}`);
        stats.push(`${seed}:${r.passes}p/${r.steps}s`);
      }
      assert.ok(stats.length > 0);
    });
  }

  /** Steps land one pass after they were planned (the operator's view lags); `killRate`: chance per pass
   * that the operator restarts and forgets what it issued; `remember`: whether it passes its in-flight
   * steps to the planner at all. Checks every step and the move limit × `limitSlack`. */
  const lagged = (seed: number, o: { killRate: number; remember: boolean; limitSlack: number }) => {
    const rand = mulberry32(seed);
    const c = new PlacementCluster({ seed, stores: 9, zones: 3, ranges: 60, rf: 3, maxCatchUpTicks: 3 });
    const spec: PlacementSpec = { replicationFactor: 3, topologyKey: ZONE_KEY, maxConcurrentMoves: 3, storeDownTimeoutMs: 3 * TICK_MS };
    c.setStore(1, { draining: true });
    c.addStore('z1');
    c.addStore('z2');
    let landing: PlacementStep[] = [];
    let memory: PlacementStep[] = [];
    let last: PlacementPlan | undefined;
    let refused = 0;
    for (let pass = 0; pass < 600; pass++) {
      if (rand() < o.killRate) memory = [];
      // The operator plans on a view that does not show last pass's steps yet; they land after.
      last = planPlacement({ ...c.input(spec), inFlight: o.remember ? memory.map((step) => ({ step })) : [] });
      for (const step of landing) {
        const before = step.type === 'RemoveStalePeer' ? undefined : snapshot(c, step.rangeId);
        if (!c.apply(step)) refused++;
        if (before) checkStep(step, before, snapshot(c, step.rangeId), 3);
      }
      checkCluster(c, { ...spec, maxConcurrentMoves: o.limitSlack * spec.maxConcurrentMoves }, { noMajorityLoss: true });
      if (landing.length === 0 && last.steps.length === 0 && last.summary.movesInFlight === 0 && pass > 10) break;
      landing = last.steps;
      memory = last.steps;
      c.advance();
    }
    return { c, last: last!, refused };
  };

  it('under a lagging view the in-flight steps keep the move limit exact', () => {
    for (const seed of [1, 2, 3, 4]) {
      const r = lagged(seed, { killRate: 0, remember: true, limitSlack: 1 });
      assert.equal(converged(r.c, 3), undefined, `seed ${seed}`);
      assert.equal(r.last.summary.balanced, true, `seed ${seed}: ${r.last.summary.message}`);
    }
  });

  it('a killed operator resumes under a lagging view: it forgets what it issued at random; duplicates are refused by the epoch check, never applied twice', () => {
    let refused = 0;
    for (const seed of [1, 2, 3, 4]) {
      // Forgetting what was issued while the view lags can start up to one extra budget of moves.
      const r = lagged(seed, { killRate: 0.2, remember: true, limitSlack: 2 });
      refused += r.refused;
      assert.equal(converged(r.c, 3), undefined, `seed ${seed}`);
      assert.equal(r.last.summary.balanced, true, `seed ${seed}: ${r.last.summary.message}`);
    }
    assert.ok(refused > 0, 'a restart re-issued at least one step that had already landed (refused by its epoch)');
  });

  it('negative control: without the in-flight steps a lagging view exceeds the move limit (caught)', () => {
    assert.throws(() => {
      for (const seed of [1, 2, 3, 4]) lagged(seed, { killRate: 0, remember: false, limitSlack: 1 });
    }, (e: unknown) => e instanceof InvariantViolation && /moves in flight, limit 3/.test(e.message));
  });
});

// ---- negative controls: broken planners the checker must catch --------------------------------------

const rangeOf = (input: PlacementInput, id: number) => input.ranges.find((r) => r.descriptor.rangeId === id)!;

/** Removes the voter being replaced BEFORE promoting the new learner (the classic unsafe order). */
const removeBeforePromote: Planner = (input) => {
  const p = planPlacement(input);
  const steps: PlacementStep[] = p.steps.map((s) => {
    if (s.type !== 'Promote') return s;
    const r = rangeOf(input, s.rangeId);
    const victim = r.descriptor.replicas.find((x) => x.role === 'voter' && x.storeId !== r.leaderStoreId)!;
    return { type: 'RemoveReplica', rangeId: s.rangeId, storeId: victim.storeId, peerId: victim.peerId, epoch: r.descriptor.epoch, cause: 'finish-move', why: 'broken' };
  });
  return { ...p, steps };
};

/** Plans with four times the move budget it was given. */
const ignoresMoveLimit: Planner = (input) => planPlacement({ ...input, spec: { ...input.spec, maxConcurrentMoves: input.spec.maxConcurrentMoves * 4 } });

/** Removes the leader's replica instead of transferring leadership first. */
const removesLeader: Planner = (input) => {
  const p = planPlacement(input);
  const steps: PlacementStep[] = p.steps.map((s) => {
    if (s.type !== 'TransferLeader' || s.cause !== 'finish-move') return s;
    const r = rangeOf(input, s.rangeId);
    const peer = r.descriptor.replicas.find((x) => x.storeId === s.fromStoreId)!;
    return { type: 'RemoveReplica', rangeId: s.rangeId, storeId: s.fromStoreId, peerId: peer.peerId, epoch: r.descriptor.epoch, cause: 'finish-move', why: 'broken' };
  });
  return { ...p, steps };
};

/** Ignores the majority: with a voter down, also removes another healthy follower. */
const ignoresMajority: Planner = (input) => {
  const p = planPlacement(input);
  const downStores = new Set(input.stores.filter((s) => s.state !== 'up').map((s) => s.storeId));
  for (const r of input.ranges) {
    const voters = r.descriptor.replicas.filter((x) => x.role === 'voter');
    if (!voters.some((x) => downStores.has(x.storeId)) || p.steps.some((s) => 'rangeId' in s && s.rangeId === r.descriptor.rangeId)) continue;
    const victim = voters.find((x) => !downStores.has(x.storeId) && x.storeId !== r.leaderStoreId);
    if (!victim) continue;
    p.steps.push({ type: 'RemoveReplica', rangeId: r.descriptor.rangeId, storeId: victim.storeId, peerId: victim.peerId, epoch: r.descriptor.epoch, cause: 'finish-move', why: 'broken' });
    break;
  }
  return p;
};

describe('placement invariant checker (negative controls: broken planners are caught)', function () {
  this.timeout(60_000);
  const caught = (planner: Planner, pattern: RegExp) => {
    let err: unknown;
    for (let seed = 1; seed <= 12 && err === undefined; seed++) {
      try {
        scenario(seed, 3, planner, { moves: 3 });
      } catch (e) {
        err = e;
      }
    }
    assert.ok(err instanceof InvariantViolation, `not caught: ${String(err)}`);
    assert.match(err.message, pattern);
  };
  it('removing the replaced voter before the promote', () => caught(removeBeforePromote, /removal before the replacement was promoted/));
  it('more moves in flight than maxConcurrentMoves', () => caught(ignoresMoveLimit, /moves in flight, limit 3/));
  it("removing the leader's replica without a transfer", () => caught(removesLeader, /removed the leader's replica/));
  it('removing a healthy voter while another is down', () => caught(ignoresMajority, /below a majority/));
});
