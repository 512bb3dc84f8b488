// GC at store level, racing with writes: reads at any ts >= the safe point match a model of the history,
// and GC never removes what a registered transaction reads.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { LocalStore } from '../../../node/src/kv/local-store.js';
import { SnapshotTooOldError } from '../../../node/src/kv/errors.js';

const KEYS = ['a', 'b', 'c', 'd'];
const b = (s: string): Buffer => Buffer.from(s);

type Step = { kind: 'put'; key: string; value: string } | { kind: 'del'; key: string } | { kind: 'gc'; back: number; budget: number; wait: boolean } | { kind: 'txn' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.constantFrom(...KEYS), value: fc.string({ maxLength: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: fc.constantFrom(...KEYS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('gc' as const), back: fc.nat(6), budget: fc.integer({ min: 1, max: 8 }), wait: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('txn' as const) }) },
);

describe('gc at store level (racing writes)', function () {
  this.timeout(120_000);

  it('reads at ts >= safe point always match the model; pinned transactions keep their snapshot (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), async (steps) => {
        const s = await LocalStore.open({ gcIntervalMs: 0, gcLifetimeMs: 0 });
        try {
          // model: every committed version in order
          const history: Array<{ key: string; ts: number; value: string | null }> = [];
          const stateAt = (ts: number): Map<string, string> => {
            const m = new Map<string, string>();
            for (const v of history) if (v.ts <= ts) (v.value === null ? m.delete(v.key) : m.set(v.key, v.value));
            return m;
          };
          const pinned: Array<{ txnId: string; startTs: number }> = [];
          const inflight: Array<Promise<unknown>> = [];
          for (const st of steps) {
            if (st.kind === 'put') {
              inflight.push(s.put(b(st.key), b(st.value)).then((r) => history.push({ key: st.key, ts: r.version, value: st.value })));
            } else if (st.kind === 'del') {
              inflight.push(s.delete(b(st.key)).then((r) => r.deleted && history.push({ key: st.key, ts: r.version, value: null })));
            } else if (st.kind === 'txn') {
              pinned.push(await s.begin());
            } else {
              // GC concurrently with the writes still in flight.
              const versions = history.map((v) => v.ts).sort((x, y) => x - y);
              const sp = versions.length === 0 ? 0 : versions[Math.max(0, versions.length - 1 - st.back)]!;
              const run = s.runGc({ safePoint: sp, maxEntries: st.budget });
              if (st.wait) await run;
              else inflight.push(run);
            }
          }
          await Promise.all(inflight);
          history.sort((x, y) => x.ts - y.ts);
          for (let i = 0; i < 3; i++) await s.runGc({ safePoint: (await s.status()).safePoint, maxEntries: 1000 });
          const { safePoint, appliedTs } = await s.status();
          const minPinned = Math.min(...pinned.map((p) => p.startTs));
          assert.ok(safePoint <= minPinned, 'GC never passes a registered transaction');
          const checkTs = new Set([safePoint, appliedTs, ...history.map((v) => v.ts).filter((t) => t >= safePoint)].filter((t) => t > 0)); // 0 = latest
          for (const ts of checkTs) {
            const want = stateAt(ts);
            const got = await s.scan({ snapshotTs: ts });
            assert.deepEqual(new Map(got.kvs.map((kv) => [kv.key.toString(), kv.value.toString()])), want, `scan @${ts} (safe point ${safePoint})`);
            const rev = await s.scan({ snapshotTs: ts, reverse: true });
            assert.deepEqual(rev.kvs.map((kv) => kv.key.toString()), [...want.keys()].sort().reverse());
            for (const key of KEYS) assert.equal((await s.get(b(key), { snapshotTs: ts })).value?.toString(), want.get(key), `get ${key} @${ts}`);
          }
          for (const p of pinned) {
            const want = stateAt(p.startTs);
            const got = await s.scan({ txnId: p.txnId });
            assert.deepEqual(new Map(got.kvs.map((kv) => [kv.key.toString(), kv.value.toString()])), want, 'a pinned transaction reads its snapshot');
          }
          if (safePoint > 1) await assert.rejects(s.get(b('a'), { snapshotTs: safePoint - 1 }), SnapshotTooOldError);
        } finally {
          await s.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('the background GC works through a backlog in bounded steps', async () => {
    const { MemoryEngine } = await import('../../../node/src/engine/memory-engine.js');
    const { collect } = await import('../../../node/src/engine/engine.js');
    const { DATA_START, DATA_END } = await import('../../../node/src/mvcc/keyspace.js');
    const engine = new MemoryEngine();
    let runs = 0;
    const s = await LocalStore.open({ engine, gcIntervalMs: 30, gcLifetimeMs: 0, gcBatchEntries: 10, observer: { onGcRun: () => void runs++ } });
    try {
      for (let v = 0; v < 10; v++) await s.batch(Array.from({ length: 20 }, (_, i) => ({ op: 'put' as const, key: b(`key${i}`), value: b(`v${v}`) })));
      await s.delete(b('key0'));
      await new Promise((r) => setTimeout(r, 5));
      await s.put(b('tick'), b('1')); // applied ts moves past the last version
      const deadline = Date.now() + 10_000;
      let history = Infinity;
      while (Date.now() < deadline) {
        history = (await collect(engine, { gte: DATA_START, lt: DATA_END })).length;
        if (history === 20) break; // key1..key19 + tick
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(history, 20);
      assert.ok(runs >= 20, `GC ran ${runs} bounded steps`);
      assert.equal((await s.scan({})).kvs.length, 20);
    } finally {
      await s.close();
    }
  });
});
