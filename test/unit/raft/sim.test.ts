// Runs a slice of the deterministic simulation inside the unit suite (the full 1000+ seeds run
// via `make test-sim`). Each seed checks the Raft safety invariants after every step, client
// linearizability and liveness after healing.
import { strict as assert } from 'node:assert';
import { runSeed } from '../../sim/scenario.js';

describe('raft deterministic simulation (50 seeds)', function () {
  this.timeout(120_000);

  it('50 seeds pass safety, linearizability and liveness checks', () => {
    const failures: string[] = [];
    let ops = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const r = runSeed(seed);
      ops += r.ops;
      if (!r.ok) failures.push(`seed ${seed}: ${r.error?.split('\n')[0]}`);
    }
    assert.deepEqual(failures, []);
    assert.ok(ops > 1000, `workload too small: ${ops} ops`);
  });

  it('detects a host that sends before persisting (the checkers have teeth)', () => {
    let failed = 0;
    for (let seed = 1; seed <= 150 && failed === 0; seed++) {
      if (!runSeed(seed, { unsafeSendBeforeSync: true }).ok) failed++;
    }
    assert.ok(failed > 0, 'no violation found in 150 seeds of a contract-breaking host');
  });

  it('is deterministic: the same seed replays the same run', () => {
    const a = runSeed(7, { verbose: true });
    const b = runSeed(7, { verbose: true });
    assert.equal(a.summary, b.summary);
    assert.deepEqual(a.trace, b.trace);
    assert.ok((a.trace?.length ?? 0) > 100);
  });
});

describe('raft simulation: scripted figure 8', function () {
  this.timeout(60_000);
  it('§5.4.2 an old-term entry on a majority is not committed by counting; S5 may overwrite it safely', async () => {
    const { runFigure8 } = await import('../../sim/figure8.js');
    let overwritten = 0;
    let reached = 0;
    for (let seed = 1; seed <= 20; seed++) {
      // Throws SafetyViolation if a committed entry is ever lost (leader completeness etc.).
      const r = runFigure8(seed);
      assert.equal(r.xCommitted, false, `seed ${seed}: X committed by counting replicas`);
      if (r.reached) reached++;
      if (r.s5Elected) overwritten++;
    }
    assert.ok(reached >= 15, `the scripted schedule was followed in only ${reached}/20 runs`);
    // The dangerous schedule must actually be reached in most runs.
    assert.ok(overwritten >= 10, `S5 was elected in only ${overwritten}/20 runs`);
  });
});
