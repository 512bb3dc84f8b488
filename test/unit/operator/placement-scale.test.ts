// The scale simulation (bench/placement-sim.ts, issue 13 item 6) at a size `make test` runs in seconds:
// 100 stores in 5 zones, 5 000 ranges, RF 3. Every step of every phase goes through the invariant
// checker (a violation throws); each phase must converge. `make placement-sim` runs the full size
// (1 000 stores × 100 000 ranges) and prints the numbers.
import { strict as assert } from 'node:assert';
import { runPlacementSim } from '../../../bench/placement-sim.js';

describe('placement planner at scale (small simulation)', function () {
  this.timeout(120_000);
  it('100 stores × 5 000 ranges: converges after adding 10 stores and after losing a zone, never below a majority', () => {
    const r = runPlacementSim({ stores: 100, ranges: 5000, zones: 5, rf: 3, moves: 100, add: 10, seed: 7, maxPasses: 1000, downTicks: 3 });
    assert.equal(r.phases.length, 3);
    for (const p of r.phases) {
      assert.ok(p.converged, `${p.name}: not converged after ${p.passes} passes`);
      assert.ok(p.maxInFlight <= 100, `${p.name}: ${p.maxInFlight} moves in flight`);
      assert.ok(p.imbalanceAfter.replicas <= 0.2, `${p.name}: replica imbalance ${p.imbalanceAfter.replicas}`);
    }
    const [, add, lose] = r.phases;
    // Adding 10 empty stores to 100 at 150 replicas each: at least their share has to move.
    assert.ok((add!.steps['AddLearner/balance'] ?? 0) >= 10 * 150 * 0.8, JSON.stringify(add!.steps));
    // Losing one of 5 zones (22 stores): each replica that lived there (≈ 5 000 × 3 / 5) is re-created
    // exactly once, and nothing else moves.
    assert.ok(r.replicasOnLostZone > 2800, String(r.replicasOnLostZone));
    assert.equal(lose!.steps['AddLearner/replace-lost'], r.replicasOnLostZone);
    assert.equal(lose!.steps['AddLearner/balance'] ?? 0, 0, JSON.stringify(lose!.steps));
    // Far below a reconcile interval at this size, even on a busy machine.
    assert.ok(r.steadyPassMs.cpuMedian < 500, `one pass took ${r.steadyPassMs.cpuMedian} ms CPU`);
  });
});
