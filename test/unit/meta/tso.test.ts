// The timestamp oracle: strictly increasing across batches, leader changes and clock jumps; never serves
// beyond what it persisted.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { TimestampOracle, TsoError, LOGICAL_BITS } from '../../../node/src/meta/tso.js';

class FakeDeps {
  now = 1_000_000;
  persisted = 0;
  persists: number[] = [];
  failNext = false;
  nowMs(): number {
    return this.now;
  }
  async persist(hw: number): Promise<void> {
    await Promise.resolve();
    if (this.failNext) {
      this.failNext = false;
      throw new Error('raft: no leader');
    }
    this.persists.push(hw);
    this.persisted = Math.max(this.persisted, hw);
  }
}

const phys = (ts: number) => Math.floor(ts / (1 << LOGICAL_BITS));

describe('meta/tso', () => {
  it('refuses before start; persists a window before serving; batches are consecutive', async () => {
    const d = new FakeDeps();
    const t = new TimestampOracle(d, 0, { windowMs: 3000 });
    await assert.rejects(t.next(), TsoError);
    await t.start();
    assert.deepEqual(d.persists, [1_003_000]);
    const a = await t.next(10);
    const b = await t.next();
    assert.equal(b, a + 10);
    assert.equal(phys(a), 1_000_000);
    await assert.rejects(t.next(0), /count/);
  });

  it('a new leader starts above the persisted bound even when its clock is behind', async () => {
    const d = new FakeDeps();
    const t1 = new TimestampOracle(d, 0);
    await t1.start();
    const last = await t1.next();
    d.now -= 60_000; // the next leader's clock is a minute behind
    const t2 = new TimestampOracle(d, d.persisted);
    await t2.start();
    const first = await t2.next();
    assert.ok(first > last);
    assert.ok(phys(first) > d.persists[0]! - 1);
  });

  it('negative control: a leader that ignores the persisted bound hands out smaller timestamps (the check can fail)', async () => {
    const d = new FakeDeps();
    const t1 = new TimestampOracle(d, 0);
    await t1.start();
    const last = await t1.next();
    d.now -= 60_000;
    const broken = new TimestampOracle(d, 0);
    await broken.start();
    assert.ok((await broken.next()) < last);
  });

  it('the wall clock jumping back never makes timestamps go back; logical overflow borrows the next ms', async () => {
    const d = new FakeDeps();
    const t = new TimestampOracle(d, 0);
    await t.start();
    const a = await t.next(1000);
    d.now -= 5000;
    const b = await t.next(1000);
    assert.ok(b >= a + 1000);
    assert.equal(phys(b), phys(a) + 1, 'the 1024 logical values of the ms were used up');
  });

  it('extends the window as time passes; a failed persist serves nothing and is retried', async () => {
    const d = new FakeDeps();
    const t = new TimestampOracle(d, 0, { windowMs: 100 });
    await t.start();
    d.now += 150;
    d.failNext = true;
    await assert.rejects(t.next(), /no leader/);
    const x = await t.next();
    assert.equal(phys(x), 1_000_150);
    assert.ok(t.persistedBound > phys(x));
  });

  it('property: any interleaving of clock moves, batches and leader changes yields strictly increasing, persisted timestamps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.record({ k: fc.constant('tick'), ms: fc.integer({ min: -3000, max: 3000 }) }), fc.record({ k: fc.constant('next'), n: fc.integer({ min: 1, max: 1024 }) }), fc.record({ k: fc.constant('failover') })), { maxLength: 60 }), async (ops) => {
        const d = new FakeDeps();
        let t = new TimestampOracle(d, 0, { windowMs: 500 });
        await t.start();
        let last = -1;
        for (const op of ops) {
          if (op.k === 'tick') d.now = Math.max(0, d.now + op.ms);
          else if (op.k === 'failover') {
            t = new TimestampOracle(d, d.persisted, { windowMs: 500 });
            await t.start();
          } else {
            const first = await t.next(op.n);
            assert.ok(first > last, `${first} > ${last}`);
            last = first + op.n - 1;
            assert.ok(phys(last) < d.persisted, 'served within the persisted window');
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
