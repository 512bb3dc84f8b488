// The counter checker of the Jepsen counter workload: the final value must lie in
// [acked, acked + unknown]; above is a duplicated increment, below a lost one.
import { strict as assert } from 'node:assert';
import { checkCounters, type CounterTally } from '../../jepsen/workload-counter.js';

const t = (acked: number, unknown: number, failed = 0): CounterTally => ({ acked, unknown, failed, maxRead: 0 });

describe('jepsen counter checker', () => {
  it('accepts every final value within [acked, acked + unknown]', () => {
    for (const v of [10, 11, 12]) {
      const r = checkCounters(new Map([['k', t(10, 2)]]), new Map([['k', v]]));
      assert.deepEqual(r.problems, []);
      assert.equal(r.counts.duplicates + r.counts.lost, 0);
    }
  });

  it('reports duplicates above acked + unknown — a definitely failed increment does not widen the bound', () => {
    const r = checkCounters(new Map([['k', t(10, 1, 3)]]), new Map([['k', 13]]));
    assert.equal(r.counts.duplicates, 2);
    assert.equal(r.counts.keysDuplicated, 1);
    assert.match(r.problems[0]!, /^duplicate increments: k = 13 > 10 acknowledged \+ 1 unknown/);
  });

  it('reports lost increments below acked, and keys without a final value', () => {
    const r = checkCounters(new Map([['a', t(5, 0)], ['b', t(1, 0)]]), new Map([['a', 3]]));
    assert.equal(r.counts.lost, 2);
    assert.equal(r.problems.length, 2);
    assert.match(r.problems[1]!, /b: no final value/);
  });
});
