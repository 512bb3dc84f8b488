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

  it('is deterministic: the same seed replays the same run', () => {
    const a = runSeed(7, { verbose: true });
    const b = runSeed(7, { verbose: true });
    assert.equal(a.summary, b.summary);
    assert.deepEqual(a.trace, b.trace);
    assert.ok((a.trace?.length ?? 0) > 100);
  });
});
