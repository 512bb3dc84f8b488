import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { collect, type Engine } from '../../../node/src/engine/engine.js';
import { LevelEngine } from '../../../node/src/engine/level-engine.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { decodeCommand, encodeCommand, type Command, type CommandResult } from '../../../node/src/kv/commands.js';
import { StateMachine } from '../../../node/src/kv/state-machine.js';
import { mvccGet } from '../../../node/src/mvcc/mvcc.js';
import { DATA_END, DATA_START } from '../../../node/src/mvcc/keyspace.js';
import { commandArb, plain } from './arbitraries.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const SM_OPTS = { sessionTtlMs: 0.05 }; // 51 ts units: sessions expire within generated histories

/** Splits `cmds` into consecutive groups of the given sizes (cycled). */
function groups<T>(cmds: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  let j = 0;
  while (i < cmds.length) {
    const n = Math.max(1, sizes.length === 0 ? cmds.length : sizes[j++ % sizes.length]!);
    out.push(cmds.slice(i, i + n));
    i += n;
  }
  return out;
}

async function run(engine: Engine, cmds: readonly Command[], sizes: readonly number[], reopenAfter?: number): Promise<{ results: CommandResult[]; sm: StateMachine }> {
  let sm = await StateMachine.open(engine, SM_OPTS);
  const results: CommandResult[] = [];
  let n = 0;
  let index = 0;
  for (const g of groups(cmds, sizes)) {
    index += g.length;
    const r = await sm.applyAndWrite(g, { appliedIndex: index });
    results.push(...r.results);
    n++;
    if (n === reopenAfter) sm = await StateMachine.open(engine, SM_OPTS);
  }
  return { results, sm };
}

async function dump(e: Engine): Promise<string[]> {
  return (await collect(e)).map(([k, v]) => `${k.toString('hex')}=${v.toString('hex')}`);
}

describe('kv state machine', function () {
  this.timeout(120_000);

  it('is deterministic: same commands, any grouping, any restart point ⇒ same results and engine contents (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(commandArb(), { maxLength: 50 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 5 }),
        fc.integer({ min: 1, max: 10 }),
        async (raw, sizesA, sizesB, reopenAfter) => {
          // Commands travel through the codec, as Raft entries would.
          const cmds = raw.map((c) => decodeCommand(encodeCommand(plain(c))));
          const ea = new MemoryEngine();
          const eb = new MemoryEngine();
          const a = await run(ea, cmds, sizesA);
          const bb = await run(eb, cmds, sizesB, reopenAfter);
          assert.deepEqual(bb.results, a.results);
          assert.deepEqual(await dump(eb), await dump(ea));
          assert.equal(a.sm.lastTs, bb.sm.lastTs);
          assert.equal(bb.sm.appliedIndex, cmds.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is deterministic across engine implementations (LevelDB vs memory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvs-sm-'));
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb(), { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 3 }), async (raw, sizes) => {
          const cmds = raw.map(plain);
          const level = await LevelEngine.open(mkdtempSync(join(dir, 'db-')));
          try {
            const mem = new MemoryEngine();
            const a = await run(mem, cmds, sizes);
            const l = await run(level, cmds, [7]);
            assert.deepEqual(l.results, a.results);
            assert.deepEqual(await dump(level), await dump(mem));
          } finally {
            await level.close();
          }
        }),
        { numRuns: 25 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('assigns versions max(lastTs + 1, proposedTs), monotonic, one per command', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    const r = await sm.applyAndWrite([
      { type: 'put', proposedTs: 100, key: b('a'), value: b('1') },
      { type: 'put', proposedTs: 50, key: b('a'), value: b('2') },
      { type: 'batch', proposedTs: 0, mutations: [{ op: 'put', key: b('x'), value: b('1') }, { op: 'put', key: b('y'), value: b('1') }] },
      { type: 'put', proposedTs: 500, key: b('b'), value: b('1') },
    ]);
    assert.deepEqual(r.results.map((x) => (x.type === 'put' || x.type === 'batch' ? x.version : -1)), [100, 101, 102, 500]);
    assert.equal(r.lastTs, 500);
    assert.equal((await mvccGet(e, b('a'), 100))!.value.toString(), '1');
    assert.equal((await mvccGet(e, b('a'), 101))!.value.toString(), '2');
    assert.equal((await mvccGet(e, b('y'), 102))!.version, 102);
    const sm2 = await StateMachine.open(e);
    assert.equal(sm2.lastTs, 500, 'lastTs is recovered from the engine');
  });

  it('CAS, returnPrev, delete and deleteRange see earlier commands of the same group', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    const r = await sm.applyAndWrite([
      { type: 'put', proposedTs: 1, key: b('k'), value: b('v1'), expectAbsent: true },
      { type: 'put', proposedTs: 1, key: b('k'), value: b('v2'), expectAbsent: true },
      { type: 'put', proposedTs: 1, key: b('k'), value: b('v3'), expectedValue: b('v1'), returnPrev: true },
      { type: 'put', proposedTs: 1, key: b('k'), value: b('v4'), expectedValue: b('nope') },
      { type: 'put', proposedTs: 1, key: b('p/1'), value: b('x') },
      { type: 'put', proposedTs: 1, key: b('p/2'), value: b('x') },
      { type: 'delete', proposedTs: 1, key: b('p/1') },
      { type: 'delete', proposedTs: 1, key: b('p/1') },
      { type: 'deleteRange', proposedTs: 1, start: b('p/'), end: b('p0') },
      { type: 'put', proposedTs: 1, key: Buffer.alloc(0), value: b('x') },
    ]);
    const rs = r.results.map((x) => plain(x));
    assert.deepEqual(rs[0], { type: 'put', version: 1, succeeded: true, prevFound: false });
    assert.deepEqual(rs[1], { type: 'put', version: 0, succeeded: false, prevFound: true, prevValue: b('v1') });
    assert.deepEqual(rs[2], { type: 'put', version: 2, succeeded: true, prevFound: true, prevValue: b('v1') });
    assert.deepEqual(rs[3], { type: 'put', version: 0, succeeded: false, prevFound: true, prevValue: b('v3') });
    assert.deepEqual(rs[6], { type: 'delete', deleted: true, version: 5 });
    assert.deepEqual(rs[7], { type: 'delete', deleted: false, version: 6 });
    assert.deepEqual(rs[8], { type: 'deleteRange', deleted: 1, version: 7 });
    assert.equal(rs[9]!.type, 'error');
    assert.equal(await mvccGet(e, b('p/2'), 100), undefined);
    assert.equal((await mvccGet(e, b('k'), 100))!.value.toString(), 'v3');
  });

  it('validates transactions at apply time: conflicts name the key; below the safe point is too old', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    await sm.applyAndWrite([
      { type: 'put', proposedTs: 10, key: b('a'), value: b('1') },
      { type: 'put', proposedTs: 20, key: b('r/5'), value: b('1') },
    ]);
    const txn = (startTs: number, extra: Partial<Extract<Command, { type: 'txnCommit' }>>): Command => ({
      type: 'txnCommit',
      proposedTs: 0,
      startTs,
      readKeys: [],
      readRanges: [],
      writes: [{ op: 'put', key: b('w'), value: b('1') }],
      ...extra,
    });
    const r = await sm.applyAndWrite([
      txn(10, { readKeys: [b('a')] }), // ok: a@10 <= 10
      txn(10, { readKeys: [b('zz')] }), // conflict on w (written by the previous txn at 21)
      txn(15, { readRanges: [{ start: b('r/'), end: b('r0') }], writes: [] }), // r/5@20 > 15: phantom
      txn(21, { readRanges: [{ start: b('r/'), end: b('r0') }], writes: [{ op: 'put', key: b('r/1'), value: b('x') }] }), // at 22
      txn(21, { readRanges: [{ start: b('r/') }], writes: [] }), // r/1 was written earlier in this group at 22
    ]);
    const rs = r.results;
    assert.equal(rs[0]!.type, 'txnCommit');
    assert.ok(rs[1]!.type === 'error' && rs[1]!.code === 'TXN_CONFLICT' && rs[1]!.key!.toString() === 'w');
    assert.ok(rs[2]!.type === 'error' && rs[2]!.code === 'TXN_CONFLICT' && rs[2]!.key!.toString() === 'r/5' && rs[2]!.conflictTs === 20);
    assert.equal(rs[3]!.type, 'txnCommit');
    assert.ok(rs[4]!.type === 'error' && rs[4]!.code === 'TXN_CONFLICT' && rs[4]!.key!.toString() === 'r/1', JSON.stringify(rs[4]));
    await sm.applyAndWrite([{ type: 'setSafePoint', proposedTs: 0, safePoint: 20 }]);
    assert.equal(sm.safePoint, 20);
    await sm.applyAndWrite([{ type: 'setSafePoint', proposedTs: 0, safePoint: 5 }]);
    assert.equal(sm.safePoint, 20, 'the safe point never moves back');
    const old = await sm.applyAndWrite([txn(19, {})]);
    assert.ok(old.results[0]!.type === 'error' && old.results[0]!.code === 'SNAPSHOT_TOO_OLD');
    assert.equal((await StateMachine.open(e)).safePoint, 20, 'the safe point is persisted');
  });

  it('persists appliedIndex with the batch', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    const r = await sm.apply([{ type: 'noop', proposedTs: 5 }], { appliedIndex: 42 });
    assert.equal(r.appliedIndex, 42);
    assert.equal((await StateMachine.open(e)).appliedIndex, 0, 'nothing persisted before the host writes');
    await e.write(r.ops);
    assert.equal((await StateMachine.open(e)).appliedIndex, 42);
  });

  it('produces exactly one engine batch per group', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    const cmds: Command[] = Array.from({ length: 100 }, (_, i) => ({ type: 'put', proposedTs: 0, key: b(`k${i}`), value: b('v'), session: { clientId: 'c', seq: i + 1, firstUnacked: Math.max(1, i - 5) } }));
    const before = e.writes;
    await sm.applyAndWrite(cmds);
    assert.equal(e.writes - before, 1);
  });

  describe('exactly-once sessions', () => {
    const put = (seq: number, firstUnacked: number, key = 'k', value = `v${seq}`, proposedTs = 0, clientId = 'c1'): Command => ({
      type: 'put',
      proposedTs,
      key: b(key),
      value: b(value),
      session: { clientId, seq, firstUnacked },
    });

    it('a duplicate returns the original result without applying again (same group, later group, after restart)', async () => {
      const e = new MemoryEngine();
      let sm = await StateMachine.open(e);
      const r1 = await sm.applyAndWrite([put(1, 1, 'k', 'first'), put(1, 1, 'k', 'DUP')]);
      assert.deepEqual(r1.results[1], r1.results[0]);
      const r2 = await sm.applyAndWrite([put(1, 1, 'k', 'DUP2')]);
      assert.deepEqual(r2.results[0], r1.results[0]);
      sm = await StateMachine.open(e);
      const r3 = await sm.applyAndWrite([put(1, 1, 'k', 'DUP3')]);
      assert.deepEqual(r3.results[0], r1.results[0]);
      const versions = (await collect(e, { gte: DATA_START, lt: DATA_END })).length;
      assert.equal(versions, 1, 'applied once');
      assert.equal((await mvccGet(e, b('k'), Number.MAX_SAFE_INTEGER))!.value.toString(), 'first');
      assert.equal(sm.sessionResult('c1', 1)?.type, 'put');
    });

    it('forgets results below firstUnacked; older retries fail with SESSION_EXPIRED', async () => {
      const e = new MemoryEngine();
      const sm = await StateMachine.open(e);
      await sm.applyAndWrite([put(1, 1), put(2, 1), put(3, 2)]);
      assert.equal(sm.sessionResult('c1', 1), undefined);
      assert.ok(sm.sessionResult('c1', 2));
      const r = await sm.applyAndWrite([put(1, 1), put(1, 3)]);
      assert.ok(r.results[0]!.type === 'error' && r.results[0]!.code === 'SESSION_EXPIRED', JSON.stringify(r.results));
      assert.ok(r.results[1]!.type === 'error' && r.results[1]!.code === 'INVALID_ARGUMENT', 'first_unacked > seq');
      const sm2 = await StateMachine.open(e);
      assert.equal(sm2.sessionResult('c1', 1), undefined, 'forgotten results are deleted from the engine');
      const r2 = await sm2.applyAndWrite([put(2, 2, 'k', 'again')]);
      assert.equal(r2.results[0]!.type, 'put', 'seq 2 is still remembered');
      assert.equal((await mvccGet(e, b('k'), Number.MAX_SAFE_INTEGER))!.value.toString(), 'v3');
    });

    it('an unknown session starts here even with firstUnacked > 1 (its earlier seqs went to other ranges); seqs below it are refused; invalid numbers are rejected', async () => {
      const sm = await StateMachine.open(new MemoryEngine());
      const r = await sm.applyAndWrite([put(5, 3, 'k', 'v', 0, 'never-seen'), put(2, 2, 'k', 'old', 0, 'never-seen'), put(2, 3), put(0, 0)]);
      assert.equal(r.results[0]!.type, 'put');
      assert.ok(r.results[1]!.type === 'error' && r.results[1]!.code === 'SESSION_EXPIRED', 'acknowledged below first_unacked: never applied here');
      assert.ok(r.results[2]!.type === 'error' && r.results[2]!.code === 'INVALID_ARGUMENT');
      assert.ok(r.results[3]!.type === 'error' && r.results[3]!.code === 'INVALID_ARGUMENT');
    });

    it('idle sessions expire after the TTL, measured in command timestamps', async () => {
      const e = new MemoryEngine();
      const sm = await StateMachine.open(e, { sessionTtlMs: 1 }); // 1024 ts units
      await sm.applyAndWrite([put(1, 1, 'k', 'v', 1000)]);
      // Another client keeps the clock moving.
      await sm.applyAndWrite([put(1, 1, 'o', 'v', 1500, 'c2'), put(2, 2, 'o', 'v', 1900, 'c2')]);
      assert.ok(sm.sessionResult('c1', 1), 'not yet expired');
      await sm.applyAndWrite([put(3, 3, 'o', 'v', 2100, 'c2')]);
      assert.equal(sm.sessionResult('c1', 1), undefined, 'expired');
      // A retry of the applied seq 1 meets the tombstone: SESSION_EXPIRED, not a second apply.
      const r = await sm.applyAndWrite([put(1, 1, 'k', 'v', 2200)]);
      assert.ok(r.results[0]!.type === 'error' && r.results[0]!.code === 'SESSION_EXPIRED');
      const sm2 = await StateMachine.open(e, { sessionTtlMs: 1 });
      assert.equal(sm2.sessionCount, 1, 'only c2 survives in the engine');
      const again = await sm2.applyAndWrite([put(1, 1, 'k', 'v', 2300)]);
      assert.ok(again.results[0]!.type === 'error' && again.results[0]!.code === 'SESSION_EXPIRED', 'the tombstone is durable');
      // A new seq starts the session again.
      const next = await sm2.applyAndWrite([put(2, 2, 'k', 'v2', 2400)]);
      assert.equal(next.results[0]!.type, 'put');
    });

    it('bounds the results kept for a client that never acknowledges', async () => {
      const e = new MemoryEngine();
      const sm = await StateMachine.open(e, { maxResultsPerSession: 3 });
      await sm.applyAndWrite([1, 2, 3, 4, 5].map((seq) => put(seq, 1)));
      assert.equal(sm.sessionResult('c1', 2), undefined);
      assert.ok(sm.sessionResult('c1', 3));
      const r = await sm.applyAndWrite([put(2, 1), put(5, 1, 'k', 'dup')]);
      assert.ok(r.results[0]!.type === 'error' && r.results[0]!.code === 'SESSION_EXPIRED', 'never applied twice');
      assert.equal(r.results[1]!.type, 'put');
      const sm2 = await StateMachine.open(e, { maxResultsPerSession: 3 });
      assert.equal(sm2.sessionResult('c1', 2), undefined);
      assert.deepEqual(sm2.sessionResult('c1', 5), sm.sessionResult('c1', 5));
    });

    it('stores error results too: a retried conflicting commit returns the same conflict', async () => {
      const sm = await StateMachine.open(new MemoryEngine());
      await sm.applyAndWrite([{ type: 'put', proposedTs: 10, key: b('a'), value: b('1') }]);
      const commit: Command = { type: 'txnCommit', proposedTs: 0, startTs: 5, readKeys: [b('a')], readRanges: [], writes: [{ op: 'put', key: b('b'), value: b('1') }], session: { clientId: 'c', seq: 1, firstUnacked: 1 } };
      const r1 = await sm.applyAndWrite([commit]);
      await sm.applyAndWrite([{ type: 'put', proposedTs: 0, key: b('zzz'), value: b('1') }]);
      const r2 = await sm.applyAndWrite([{ ...commit, startTs: 1000 }]);
      assert.equal(r1.results[0]!.type, 'error');
      assert.deepEqual(r2.results[0], r1.results[0]);
    });
  });
});

describe('kv state transfer (snapshot export/import)', () => {
  it('a replica rebuilt from an exported snapshot continues identically', async () => {
    const { exportState, importState } = await import('../../../node/src/kv/snapshot.js');
    const src = new MemoryEngine();
    const sm = await StateMachine.open(src);
    const first: Command[] = [
      { type: 'put', proposedTs: 10, key: b('a'), value: b('1'), session: { clientId: 'c', seq: 1, firstUnacked: 1 } },
      { type: 'put', proposedTs: 11, key: b('b'), value: b('1') },
      { type: 'delete', proposedTs: 12, key: b('a') },
    ];
    await sm.applyAndWrite(first, { appliedIndex: 3 });
    const dst = new MemoryEngine();
    await dst.write([{ type: 'put', key: dataKeyFor('stale'), value: Buffer.from([0, 1]) }]);
    const batches = [];
    for await (const batch of exportState(src, 0, { batchSize: 2 })) batches.push(batch);
    await importState(dst, 0, batches);
    assert.deepEqual(await dump(dst), await dump(src));
    const sm2 = await StateMachine.open(dst);
    assert.equal(sm2.appliedIndex, 3);
    assert.equal(sm2.lastTs, sm.lastTs);
    const next: Command[] = [
      { type: 'put', proposedTs: 0, key: b('a'), value: b('dup'), session: { clientId: 'c', seq: 1, firstUnacked: 1 } },
      { type: 'put', proposedTs: 0, key: b('c'), value: b('2') },
    ];
    const r1 = await sm.applyAndWrite(next, { appliedIndex: 5 });
    const r2 = await sm2.applyAndWrite(next, { appliedIndex: 5 });
    assert.deepEqual(r2.results, r1.results);
    assert.deepEqual(await dump(dst), await dump(src));
  });
});

function dataKeyFor(s: string): Buffer {
  return Buffer.concat([Buffer.from('z'), Buffer.from(s), Buffer.alloc(8)]);
}
