// The per-range request rate Admin.Ranges reports (raftstore/range-load.ts): sampled lazily from the
// replica's counters, over one to two windows.
import { strict as assert } from 'node:assert';
import { RangeLoad, RateWindow } from '../../../node/src/raftstore/range-load.js';

describe('range load (requests per second per replica)', function () {
  it('a steady rate is reported as such, from the first answer on', function () {
    const w = new RateWindow(0, 0, 10_000);
    // 50 events per second.
    for (let t = 1000; t <= 60_000; t += 1000) assert.equal(w.rate(t, t / 20), 50, `at ${t} ms`);
  });

  it('covers at least one window: a burst is averaged, and a stopped load decays to 0 within two windows', function () {
    const w = new RateWindow(0, 0, 10_000);
    assert.equal(w.rate(10_000, 0), 0);
    // 1 000 events in the next second: averaged over the window since the last sample, not 1 000/s.
    const burst = w.rate(11_000, 1000);
    assert.ok(burst > 0 && burst <= 1000 / 11 + 1e-9, `burst ${burst}`);
    // No more events: two windows later the rate is 0.
    w.rate(20_000, 1000);
    assert.equal(w.rate(30_000, 1000), 0);
  });

  it('a counter that went backwards (a re-created replica) starts over at 0', function () {
    const w = new RateWindow(0, 500, 10_000);
    assert.equal(w.rate(5000, 10), 0);
    assert.equal(w.rate(6000, 30), 20);
  });

  it('RangeLoad: reads from read barriers, writes from proposals', function () {
    const l = new RangeLoad(0, { reads: 0, proposals: 0 }, 10_000);
    assert.deepEqual(l.sample(10_000, { reads: 300, proposals: 100 }), { readsPerSec: 30, writesPerSec: 10 });
  });
});
