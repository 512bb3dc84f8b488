// The scale simulation (bench/scale-sim.ts) agrees with the closed-form model of docs/scaling.md on a
// small cluster, is deterministic for a seed, and the comparison has teeth: a model that forgets
// coalescing, quiescence or routing hints is rejected by the same tolerance check, and turning each of
// them on or off moves the simulated count the way the model says.
import assert from 'node:assert/strict';
import { COUNT_KEYS, DEFAULTS, runScaleSim, scaleModel, type ScaleArgs, type ScaleCounts } from '../../../bench/scale-sim.js';

// Small but busy: enough churn that the routing counts are hundreds of events, not a handful.
const SMALL: ScaleArgs = { ...DEFAULTS, stores: 20, ranges: 2000, seconds: 10, activeFraction: 0.2, opsPerStore: 1000, splitsPer1k: 5, leaderChangesPer1k: 20, movesPer1k: 2, reportS: 5 };

/** Metrics where |sim/model − 1| > tol (counts below `floor` per second compare absolutely). */
function disagreements(model: ScaleCounts, sim: ScaleCounts, tol = 0.08, floor = 5): string[] {
  const bad: string[] = [];
  for (const k of COUNT_KEYS) {
    const m = model[k];
    const s = sim[k];
    const ok = m < floor ? Math.abs(s - m) <= floor * tol * 4 : Math.abs(s / m - 1) <= tol;
    if (!ok) bad.push(`${k}: model ${m.toFixed(1)} sim ${s.toFixed(1)}`);
  }
  return bad;
}

describe('scale simulation vs model (docs/scaling.md)', function () {
  this.timeout(30_000);
  const sim = runScaleSim(SMALL);
  const model = scaleModel(SMALL);

  it('agrees with the closed-form model within 8 % on every count', () => {
    assert.deepEqual(disagreements(model, sim.counts), []);
    // The counts it compares are not trivially small.
    assert.ok(sim.counts.cacheMisses * SMALL.seconds > 300, `misses ${sim.counts.cacheMisses}`);
    assert.ok(sim.counts.metaWrites * SMALL.seconds > 100);
  });

  it('is deterministic for a seed and differs for another', () => {
    assert.deepEqual(runScaleSim(SMALL).counts, sim.counts);
    assert.notDeepEqual(runScaleSim({ ...SMALL, seed: 2 }).counts, sim.counts);
  });

  it('negative control: a model without coalescing / quiescence is rejected', () => {
    // Claim the coalesced count is today's per-range count: the check must fail on that metric.
    const noCoalescing = { ...model, hbCoalesced: model.hbPlain, hbCoalescedQuiesced: model.hbQuiesced };
    const bad = disagreements(noCoalescing, sim.counts);
    assert.ok(bad.some((b) => b.startsWith('hbCoalesced:')), bad.join('; '));
    const noQuiescence = { ...model, hbQuiesced: model.hbPlain };
    assert.ok(disagreements(noQuiescence, sim.counts).some((b) => b.startsWith('hbQuiesced:')));
  });

  it('coalescing saves what the model predicts: per-range messages ÷ store pairs', () => {
    const simRatio = sim.counts.hbPlain / sim.counts.hbCoalesced;
    const modelRatio = model.hbPlain / model.hbCoalesced;
    assert.ok(simRatio > 5, `coalescing saves ${simRatio.toFixed(1)}×`);
    assert.ok(Math.abs(simRatio / modelRatio - 1) < 0.05, `sim ${simRatio} model ${modelRatio}`);
  });

  it('routing hints remove the meta lookups of stale entries, not the misses', () => {
    const a = { ...SMALL, hints: true };
    const s = runScaleSim(a).counts;
    const m = scaleModel(a);
    assert.ok(s.cacheMisses > 0.9 * sim.counts.cacheMisses);
    assert.ok(s.metaLookups < 0.05 * sim.counts.metaLookups, `lookups with hints ${s.metaLookups} vs ${sim.counts.metaLookups}`);
    assert.equal(m.metaLookups, 0);
  });

  it('quiescence follows the active fraction; cold caches follow the model', () => {
    for (const activeFraction of [0.05, 0.5]) {
      const a = { ...SMALL, activeFraction, opsPerStore: 200 };
      assert.deepEqual(disagreements(scaleModel(a), runScaleSim(a).counts), [], `active ${activeFraction}`);
    }
    const cold = { ...SMALL, cold: true, opsPerStore: 200 };
    const s = runScaleSim(cold).counts;
    assert.deepEqual(disagreements(scaleModel(cold), s), []);
    assert.ok(s.cacheMisses > 3 * sim.counts.cacheMisses);
  });

  it('TSO batching: without a window every timestamp is an RPC', () => {
    const a = { ...SMALL, tsoWindowMs: 0 };
    const s = runScaleSim(a).counts;
    assert.equal(s.tsoRpcs, s.tsRequests);
    assert.ok(sim.counts.tsoRpcs < sim.counts.tsRequests);
  });
});
