// DeleteRange over many keys runs in chunks of at most `maxKeys` keys per command (issue 10 item 4): no
// apply loads the whole range or builds one batch for it. Exactly-once: the progress of a chunked delete
// is its session result, so a retry continues (or returns the final result) and never re-deletes a part
// already done — keys written there afterwards survive.
import { strict as assert } from 'node:assert';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import type { Mutation } from '../../../node/src/kv/api.js';
import { decodeCommand, decodeResult, encodeCommand, encodeResult, type Command, type CommandResult } from '../../../node/src/kv/commands.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';
import { StateMachine, type ApplyResult } from '../../../node/src/kv/state-machine.js';
import { mvccGet } from '../../../node/src/mvcc/mvcc.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const key = (i: number): Buffer => b(`r/${String(i).padStart(7, '0')}`);

/** Records the size of every apply's write batch. */
function spyApply(sm: StateMachine): { maxOps: () => number; applies: () => number } {
  let max = 0;
  let n = 0;
  const orig = sm.apply.bind(sm);
  sm.apply = async (cmds, opts): Promise<ApplyResult> => {
    const r = await orig(cmds, opts);
    max = Math.max(max, r.ops.length);
    n++;
    return r;
  };
  return { maxOps: () => max, applies: () => n };
}

describe('kv: chunked DeleteRange', function () {
  this.timeout(180_000);

  it('200k keys: every apply holds at most 2 ops per key of one chunk; all keys in range gone, others untouched', async () => {
    const CHUNK = 1000;
    const N = 200_000;
    const s = await LocalStore.open({ gcIntervalMs: 0, sync: false, deleteRangeChunkKeys: CHUNK });
    try {
      for (let i = 0; i < N; i += 5000) {
        const ms: Mutation[] = [];
        for (let j = i; j < Math.min(N, i + 5000); j++) ms.push({ op: 'put', key: key(j), value: b('v') });
        await s.batch(ms);
      }
      await s.batch([{ op: 'put', key: b('q/outside'), value: b('keep') }, { op: 'put', key: b('r'), value: b('keep') }]);
      const spy = spyApply(s.sm);
      const heapBefore = process.memoryUsage().heapUsed;
      const r = await s.deleteRange({ prefix: b('r/') }, { session: { clientId: 'big', seq: 1, firstUnacked: 1 } });
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      assert.equal(r.deleted, N);
      // One chunk = CHUNK keys × (history + latest) + the session record, its header and the meta.
      assert.ok(spy.maxOps() <= 2 * CHUNK + 3, `largest apply batch: ${spy.maxOps()} ops`);
      assert.ok(spy.applies() >= N / CHUNK, `${spy.applies()} applies`);
      process.stdout.write(`      (deleteRange of ${N} keys: ${spy.applies()} applies, largest ${spy.maxOps()} ops, heap growth ${(heapGrowth / 1048576).toFixed(1)} MiB)\n`);
      const left = await s.scan({ prefix: b('r/'), limit: 10 });
      assert.deepEqual(left.kvs, []);
      assert.equal((await s.get(b('q/outside'))).value?.toString(), 'keep');
      assert.equal((await s.get(b('r'))).value?.toString(), 'keep');
      // A retry of the finished request returns its result without applying anything again.
      await s.put(key(5), b('new'));
      const again = await s.deleteRange({ prefix: b('r/') }, { session: { clientId: 'big', seq: 1, firstUnacked: 1 } });
      assert.deepEqual(again, r);
      assert.equal((await s.get(key(5))).value?.toString(), 'new');
    } finally {
      await s.close();
    }
  });

  it('a retry after the proposer died mid-way continues from the stored progress: no part is deleted twice', async () => {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine);
    const put = (k: Buffer, ts: number): Command => ({ type: 'put', proposedTs: ts, key: k, value: b('v') });
    await sm.applyAndWrite(Array.from({ length: 10 }, (_, i) => put(key(i), 0)));
    const session = { clientId: 'c', seq: 1, firstUnacked: 1 };
    const first: Command = { type: 'deleteRange', proposedTs: 0, session, start: b('r/'), end: b('r0'), maxKeys: 3, deletedBefore: 0 };
    const apply1 = async (c: Command): Promise<CommandResult> => (await sm.applyAndWrite([decodeCommand(encodeCommand(c))])).results[0]!;
    const r1 = await apply1(first);
    assert.ok(r1.type === 'deleteRange' && r1.deleted === 3 && r1.resume?.equals(key(3)), JSON.stringify(r1));
    // The proposer dies here. Meanwhile key 0 (already deleted) is written again.
    await apply1(put(key(0), 0));
    // The client's retry (same session seq, the original command) gets the stored progress, not a new run.
    const retry = await apply1({ ...first, proposedTs: 1 });
    assert.deepEqual(retry, r1);
    // Its proposer continues from there.
    let r: CommandResult = retry;
    let commands = 1;
    while (r.type === 'deleteRange' && r.resume !== undefined) {
      r = await apply1({ type: 'deleteRange', proposedTs: 0, session, start: b('r/'), end: b('r0'), maxKeys: 3, resume: r.resume, deletedBefore: r.deleted });
      commands++;
    }
    assert.equal(r.type, 'deleteRange');
    assert.equal(r.type === 'deleteRange' && r.deleted, 10);
    assert.equal(commands, 4, '10 keys in chunks of 3');
    assert.equal((await mvccGet(engine, key(0), Number.MAX_SAFE_INTEGER))?.value.toString(), 'v', 'the rewritten key survives');
    for (let i = 1; i < 10; i++) assert.equal(await mvccGet(engine, key(i), Number.MAX_SAFE_INTEGER), undefined);
    // A stale continuation (a second proposer still at an older point) gets the stored final result.
    assert.deepEqual(await apply1({ type: 'deleteRange', proposedTs: 0, session, start: b('r/'), end: b('r0'), maxKeys: 3, resume: key(3), deletedBefore: 3 }), r);
    // A reopened state machine (another replica, a restart) answers the same.
    const sm2 = await StateMachine.open(engine);
    assert.deepEqual((await sm2.apply([{ ...first, proposedTs: 2 }])).results[0], r);
  });

  it('concurrent proposers of the same request (a client retry while the first attempt runs) both get the one result', async () => {
    const s = await LocalStore.open({ gcIntervalMs: 0, sync: false, deleteRangeChunkKeys: 4 });
    try {
      await s.batch(Array.from({ length: 50 }, (_, i): Mutation => ({ op: 'put', key: key(i), value: b('v') })));
      const session = { clientId: 'dup', seq: 1, firstUnacked: 1 };
      const [a, c] = await Promise.all([s.deleteRange({ prefix: b('r/') }, { session }), s.deleteRange({ prefix: b('r/') }, { session })]);
      assert.equal(a.deleted, 50);
      assert.deepEqual(a, c);
      assert.deepEqual((await s.scan({ prefix: b('r/') })).kvs, []);
    } finally {
      await s.close();
    }
  });

  it('chunks see the earlier writes of their own apply group; results and commands round-trip the codec', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await sm.applyAndWrite([{ type: 'put', proposedTs: 0, key: key(1), value: b('v') }, { type: 'put', proposedTs: 0, key: key(3), value: b('v') }]);
    const r = await sm.applyAndWrite([
      { type: 'put', proposedTs: 0, key: key(2), value: b('v') },
      { type: 'delete', proposedTs: 0, key: key(3) },
      { type: 'deleteRange', proposedTs: 0, start: b('r/'), end: b('r0'), maxKeys: 5, deletedBefore: 0 },
    ]);
    assert.deepEqual(r.results[2], { type: 'deleteRange', deleted: 2, version: r.lastTs });
    const cmd: Command = { type: 'deleteRange', proposedTs: 9, start: b('a'), end: b('z'), maxKeys: 7, resume: b('m'), deletedBefore: 12 };
    assert.deepEqual(decodeCommand(encodeCommand(cmd)), cmd);
    const res: CommandResult = { type: 'deleteRange', deleted: 5, version: 77, resume: b('m') };
    assert.deepEqual(decodeResult(encodeResult(res)), res);
    // Results stored before chunking existed (no resume) still decode.
    assert.deepEqual(decodeResult(encodeResult({ type: 'deleteRange', deleted: 1, version: 2 })), { type: 'deleteRange', deleted: 1, version: 2 });
  });
});
