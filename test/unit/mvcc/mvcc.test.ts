// MVCC reads and GC against a model of the version history.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { collect, type Engine, type EngineOp } from '../../../node/src/engine/engine.js';
import { LevelEngine } from '../../../node/src/engine/level-engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { MvccGc } from '../../../node/src/mvcc/gc.js';
import { DATA_END, DATA_START, LATEST_END, LATEST_START, dataKey, decodeDataKey } from '../../../node/src/mvcc/keyspace.js';
import { decodeLatest, historyGetVersion, mvccFindNewer, mvccGet, mvccGetVersion, mvccLatest, mvccScan, TOMBSTONE_VALUE, versionOps } from '../../../node/src/mvcc/mvcc.js';

/** A version history: key -> [{ts, value|null}] */
type History = Map<string, Array<{ ts: number; value: string | null }>>;

const KEYS = ['', 'a', 'a\0', 'ab', 'b', '\xff', '\xff\xff', 'abcdefgh', 'abcdefghi', 'c'];
const k = (s: string): Buffer => Buffer.from(s, 'latin1');

const opArb = fc.record({ key: fc.constantFrom(...KEYS.slice(1)), del: fc.boolean(), value: fc.string({ maxLength: 3 }), gap: fc.integer({ min: 1, max: 3 }) });

function buildHistory(ops: Array<{ key: string; del: boolean; value: string; gap: number }>): { hist: History; writes: EngineOp[]; maxTs: number } {
  const hist: History = new Map();
  const writes: EngineOp[] = [];
  let ts = 10;
  for (const op of ops) {
    ts += op.gap;
    const list = hist.get(op.key) ?? [];
    list.push({ ts, value: op.del ? null : op.value });
    hist.set(op.key, list);
    writes.push(...versionOps(k(op.key), ts, op.del ? null : k(op.value)));
  }
  return { hist, writes, maxTs: ts };
}

function modelGet(hist: History, key: string, readTs: number): { value: string; ts: number } | undefined {
  let best: { ts: number; value: string | null } | undefined;
  for (const v of hist.get(key) ?? []) if (v.ts <= readTs && (best === undefined || v.ts > best.ts)) best = v;
  return best === undefined || best.value === null ? undefined : { value: best.value, ts: best.ts };
}

function modelScan(hist: History, start: string | undefined, end: string | undefined, readTs: number, limit: number, reverse: boolean): { keys: string[]; more: boolean } {
  const keys = [...hist.keys()]
    .filter((x) => (start === undefined || Buffer.compare(k(x), k(start)) >= 0) && (end === undefined || Buffer.compare(k(x), k(end)) < 0))
    .filter((x) => modelGet(hist, x, readTs) !== undefined)
    .sort((x, y) => Buffer.compare(k(x), k(y)));
  if (reverse) keys.reverse();
  return { keys: keys.slice(0, limit), more: keys.length > limit };
}

describe('mvcc reads', function () {
  this.timeout(60_000);

  it('point reads at any ts see exactly the newest version <= ts (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const e = new MemoryEngine();
        const { hist, writes, maxTs } = buildHistory(ops);
        await e.write(writes);
        for (let ts = 0; ts <= maxTs + 1; ts++) {
          for (const key of KEYS.slice(1)) {
            const got = await mvccGet(e, k(key), ts);
            const want = modelGet(hist, key, ts);
            assert.deepEqual(got === undefined ? undefined : { value: got.value.toString('latin1'), ts: got.version }, want, `get ${JSON.stringify(key)} @${ts}`);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('forward and reverse scans with limits match the model (property)', async () => {
    const bound = fc.option(fc.constantFrom(...KEYS), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 60 }),
        bound,
        bound,
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 200 }),
        async (ops, start, end, limit, reverse, keysOnly, tsPick) => {
          const e = new MemoryEngine();
          const { hist, writes, maxTs } = buildHistory(ops);
          await e.write(writes);
          const readTs = Math.min(tsPick, maxTs + 1);
          const res = await mvccScan(e, { start: start === undefined ? undefined : k(start), end: end === undefined ? undefined : k(end), readTs, limit, reverse, keysOnly });
          const want = modelScan(hist, start, end === '' ? undefined : end, readTs, limit, reverse);
          assert.deepEqual(res.kvs.map((x) => x.key.toString('latin1')), want.keys);
          assert.equal(res.more, want.more);
          for (const kv of res.kvs) {
            const m = modelGet(hist, kv.key.toString('latin1'), readTs)!;
            assert.equal(kv.version, m.ts);
            assert.equal(kv.value.toString('latin1'), keysOnly ? '' : m.value);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads below the newest version fall back to the history', async () => {
    const e = new MemoryEngine();
    const ops = [];
    for (let ts = 1; ts <= 100; ts++) ops.push(...versionOps(k('a'), ts, k(`a${ts}`)));
    ops.push(...versionOps(k('b'), 5, k('b5')));
    ops.push(...versionOps(k('c'), 60, null));
    await e.write(ops);
    const r = await mvccScan(e, { readTs: 50, limit: 10 });
    assert.deepEqual(r.kvs.map((x) => `${x.key.toString()}=${x.value.toString()}@${x.version}`), ['a=a50@50', 'b=b5@5']);
    const rr = await mvccScan(e, { readTs: 50, limit: 10, reverse: true });
    assert.deepEqual(rr.kvs.map((x) => `${x.key.toString()}=${x.value.toString()}`), ['b=b5', 'a=a50']);
    assert.deepEqual(await mvccFindNewer(e, undefined, undefined, 99), { key: k('a'), ts: 100 });
    assert.equal(await mvccFindNewer(e, k('b'), k('c'), 5), undefined);
    assert.deepEqual(await mvccFindNewer(e, k('b'), undefined, 5), { key: k('c'), ts: 60 }, 'tombstones count');
    assert.deepEqual(await mvccFindNewer(e, k('b'), undefined, 4), { key: k('b'), ts: 5 });
    assert.deepEqual(await mvccGetVersion(e, k('a'), 0), undefined);
    assert.deepEqual(await mvccLatest(e, k('c')), { ts: 60, value: null });
    assert.equal((await historyGetVersion(e, k('a'), 42))!.ts, 42);
  });

  it('works on the LevelDB engine too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvs-mvcc-'));
    const e = await LevelEngine.open(dir);
    try {
      const { hist, writes, maxTs } = buildHistory(
        Array.from({ length: 200 }, (_, i) => ({ key: KEYS[1 + (i % (KEYS.length - 1))]!, del: i % 7 === 3, value: `v${i}`, gap: 1 + (i % 3) })),
      );
      await e.write(writes);
      for (const ts of [0, 15, 100, 250, maxTs]) {
        for (const reverse of [false, true]) {
          const r = await mvccScan(e, { readTs: ts, limit: 100, reverse });
          assert.deepEqual(r.kvs.map((x) => x.key.toString('latin1')), modelScan(hist, undefined, undefined, ts, 100, reverse).keys);
        }
      }
    } finally {
      await e.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mvcc gc', function () {
  this.timeout(60_000);

  async function versions(e: Engine): Promise<Map<string, Array<{ ts: number; tomb: boolean }>>> {
    const out = new Map<string, Array<{ ts: number; tomb: boolean }>>();
    for (const [key, v] of await collect(e, { gte: DATA_START, lt: DATA_END })) {
      const d = decodeDataKey(key);
      const s = d.userKey.toString('latin1');
      const list = out.get(s) ?? [];
      list.push({ ts: d.ts, tomb: v.equals(TOMBSTONE_VALUE) });
      out.set(s, list);
    }
    return out;
  }

  it('keeps every read at ts >= safe point intact and removes all garbage, with any budget (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 12 }), async (ops, spPick, budget) => {
        const e = new MemoryEngine();
        const { hist, writes, maxTs } = buildHistory(ops);
        await e.write(writes);
        const safePoint = Math.min(spPick, maxTs + 1);
        const before = new Map<number, Array<[string, string | undefined]>>();
        for (let ts = safePoint; ts <= maxTs + 1; ts++) before.set(ts, KEYS.slice(1).map((x) => [x, modelGet(hist, x, ts)?.value]));
        const gc = new MvccGc(e, { maxEntries: budget, batchSize: 3 });
        // Interleave reads with GC runs: at every point, reads >= safePoint are unchanged.
        for (let runs = 0; runs < 1000; runs++) {
          const r = await gc.run(safePoint);
          for (const [ts, want] of before) {
            for (const [key, value] of want) {
              const got = await mvccGet(e, k(key), ts);
              assert.equal(got?.value.toString('latin1'), value, `read ${JSON.stringify(key)} @${ts} after gc run ${runs}`);
            }
          }
          if (r.completedPass) break;
        }
        // Minimality: per key, only versions > safePoint plus the newest <= safePoint if it is a value.
        const vs = await versions(e);
        for (const [key, list] of vs) {
          const below = list.filter((v) => v.ts <= safePoint);
          assert.ok(below.length <= 1, `key ${JSON.stringify(key)} keeps ${below.length} versions <= safe point`);
          if (below.length === 1) assert.equal(below[0]!.tomb, false, 'a tombstone at/below the safe point is removed');
          const expectedAbove = (hist.get(key) ?? []).filter((v) => v.ts > safePoint).length;
          assert.equal(list.length - below.length, expectedAbove);
        }
        // Latest records: present and exact unless the newest version was a tombstone <= safe point.
        const latest = new Map((await collect(e, { gte: LATEST_START, lt: LATEST_END })).map(([lk, v]) => [lk.subarray(1).toString('latin1'), decodeLatest(v)]));
        for (const [key, list] of hist) {
          const newest = list[list.length - 1]!;
          const l = latest.get(key);
          if (newest.value === null && newest.ts <= safePoint) {
            assert.equal(l, undefined, `latest record of ${JSON.stringify(key)} should be gone`);
            assert.equal(vs.has(key), false);
          } else {
            assert.deepEqual(l && { ts: l.ts, value: l.value?.toString('latin1') ?? null }, newest);
          }
        }
        assert.equal(latest.size, [...hist.values()].filter((l) => !(l[l.length - 1]!.value === null && l[l.length - 1]!.ts <= safePoint)).length);
      }),
      { numRuns: 200 },
    );
  });

  it('GC progress is bounded per run and resumes where it stopped', async () => {
    const e = new MemoryEngine();
    const ops: EngineOp[] = [];
    void dataKey;
    for (let i = 0; i < 50; i++) for (let ts = 1; ts <= 4; ts++) ops.push(...versionOps(k(`key${String(i).padStart(2, '0')}`), ts, k('v')));
    await e.write(ops);
    const gc = new MvccGc(e, { maxEntries: 40 });
    let total = 0;
    let runs = 0;
    for (;;) {
      const r = await gc.run(10);
      assert.ok(r.scanned <= 40);
      total += r.removed;
      runs++;
      if (r.completedPass) break;
    }
    assert.equal(total, 150);
    assert.ok(runs >= 5, `runs=${runs}`);
    assert.equal((await collect(e, { gte: DATA_START, lt: DATA_END })).length, 50);
  });
});
