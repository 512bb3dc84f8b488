import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncReadGate } from '../../../node/src/engine/sync-read-gate.js';
import { LevelEngine } from '../../../node/src/engine/level-engine.js';

describe('engine/sync-read-gate', function () {
  it('keeps reads synchronous while they are fast, and through a few slow ones (a descheduled thread)', function () {
    const g = new SyncReadGate({ slowUs: 100, perKeyUs: 5 });
    for (let i = 0; i < 1000; i++) {
      assert.equal(g.allow(), true);
      g.observe(i % 20 === 0 ? 5000 : 3); // 5 % slow
    }
    // A batch: 64 keys at 2 µs each is fast (under 100 + 64 × 5).
    assert.equal(g.allow(64), true);
    g.observe(128, 64);
    assert.equal(g.asynchronous, false);
    assert.deepEqual(g.stats, { sync: 1064, async: 0, slow: 50, switchedOff: 0 });
  });

  it('sends reads to the thread pool once most are slow, probing one in `probeEvery`', function () {
    const g = new SyncReadGate({ slowUs: 100, alpha: 0.25, offAbove: 0.5, onBelow: 0.2, probeEvery: 4 });
    let n = 0;
    while (!g.asynchronous) {
      assert.equal(g.allow(), true);
      g.observe(900); // disk reads
      n++;
    }
    assert.equal(n, 3, 'the moving average passes one half after three slow reads at alpha 1/4');
    assert.deepEqual([g.allow(), g.allow(), g.allow(), g.allow()], [false, false, false, true]);
    assert.deepEqual(g.stats, { sync: 3, async: 3, slow: 3, switchedOff: 1 });
  });

  it('returns to synchronous reads only once the probes show the slow share well down (hysteresis)', function () {
    const g = new SyncReadGate({ slowUs: 100, alpha: 0.25, offAbove: 0.5, onBelow: 0.2, probeEvery: 2 });
    for (let i = 0; i < 20; i++) g.observe(900);
    assert.equal(g.asynchronous, true);
    const probes: boolean[] = [];
    for (let i = 0; i < 40 && g.asynchronous; i++) {
      if (g.allow()) {
        g.observe(2); // fast: the data fits the cache again
        probes.push(g.asynchronous);
      }
    }
    // 1 → 0.75 → 0.56 → 0.42 (< 0.5 but not < 0.2: still off) → 0.32 → 0.24 → 0.18: on again.
    assert.deepEqual(probes, [true, true, true, true, true, false]);
    assert.equal(g.stats.switchedOff, 1);
  });

  it('a batch counts as slow only beyond one slow read plus the per-key cost', function () {
    const g = new SyncReadGate({ slowUs: 100, perKeyUs: 5 });
    g.observe(100 + 64 * 5, 64);
    assert.equal(g.stats.slow, 0);
    g.observe(100 + 64 * 5 + 1, 64);
    assert.equal(g.stats.slow, 1);
  });

  describe('in LevelEngine', function () {
    let dir: string;
    let engine: LevelEngine;
    beforeEach(async function () {
      dir = mkdtempSync(join(tmpdir(), 'kvs-sync-gate-'));
    });
    afterEach(async function () {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads synchronously, and through the thread pool after a slow read — same answers, snapshots included', async function () {
      // Every read is "slow" (0 µs allowed) and one is enough to switch: the first read goes
      // synchronously, then two of every three asynchronously.
      engine = await LevelEngine.open(dir, { syncReads: { slowUs: 0, perKeyUs: 0, alpha: 1, probeEvery: 3 } });
      await engine.write([
        { type: 'put', key: Buffer.from('a'), value: Buffer.from('1') },
        { type: 'put', key: Buffer.from('b'), value: Buffer.from('2') },
      ]);
      const snap = engine.snapshot();
      await engine.write([{ type: 'put', key: Buffer.from('a'), value: Buffer.from('changed') }]);
      const got: Array<string | undefined> = [];
      got.push((await engine.get(Buffer.from('a'), { snapshot: snap }))?.toString()); // sync: slow, switches
      got.push((await engine.get(Buffer.from('a'), { snapshot: snap }))?.toString()); // async
      got.push((await engine.get(Buffer.from('a')))?.toString()); // async
      got.push((await engine.get(Buffer.from('zz')))?.toString()); // sync probe
      assert.deepEqual(got, ['1', '1', 'changed', undefined]);
      assert.deepEqual(engine.syncReads.stats, { sync: 2, async: 2, slow: 2, switchedOff: 1 });
      const many = await engine.getMany([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], { snapshot: snap });
      assert.deepEqual(many.map((v) => v?.toString()), ['1', '2', undefined]);
      await snap.release();
    });
  });
});
