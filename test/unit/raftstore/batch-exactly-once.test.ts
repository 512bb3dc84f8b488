// A Batch across ranges is applied once per session seq, whichever store each attempt runs on
// (raftstore/batch-commit.ts): every attempt's commit point is the range of the smallest key, so a retry
// is answered from that range's session table; and a refused attempt settles the seq there (a fence)
// before answering "not applied", so an earlier attempt still on its way can no longer commit.
// Coordinators over real state machines (test/helpers/txn-ranges.ts). Negative controls: the old rules
// (the primary = a range this store holds; a refusal answered without settling) apply twice / tear.
import { strict as assert } from 'node:assert';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { decodeCommand, encodeCommand, type Command } from '../../../node/src/kv/commands.js';
import { KvError, NotLeaderError, OutcomeUnknownError, TxnConflictError } from '../../../node/src/kv/errors.js';
import { StateMachine } from '../../../node/src/kv/state-machine.js';
import type { TxnParticipant } from '../../../node/src/kv/txn-steps.js';
import { mvccGet } from '../../../node/src/mvcc/mvcc.js';
import { commitBatch } from '../../../node/src/raftstore/batch-commit.js';
import { SecondaryCommits } from '../../../node/src/raftstore/secondary-commits.js';
import { commitTwoPhase, type TxnPart } from '../../../node/src/raftstore/txn-coordinator.js';
import { b, cluster, put, session, value, type Range } from '../../helpers/txn-ranges.js';
import { until as waitUntil } from '../../helpers/cluster-process.js';

/** The Batch {a, n}: 'a' (the smallest key) in range 0, 'n' in range 1; `local` marks what the coordinator's store holds. */
function batchParts(ranges: Range[], local: [boolean, boolean], wrap: (i: number, p: TxnParticipant) => TxnParticipant = (_, p) => p): TxnPart[] {
  return [
    { store: wrap(0, ranges[0]!.steps), local: local[0], readKeys: [], readRanges: [], writes: [put('a', 'A')] },
    { store: wrap(1, ranges[1]!.steps), local: local[1], readKeys: [], readRanges: [], writes: [put('n', 'N')] },
  ];
}

/** `p` with `method` waiting for `gate` (a slow Raft round for one attempt only). */
function held(p: TxnParticipant, method: keyof TxnParticipant, gate: Promise<void>): TxnParticipant {
  return new Proxy(p, {
    get(target, k) {
      const v: unknown = Reflect.get(target, k);
      if (typeof v !== 'function') return v;
      const f = v as (...a: unknown[]) => unknown;
      if (k === method) return async (...a: unknown[]) => (await gate, f.apply(target, a));
      return f.bind(target);
    },
  });
}

async function version(r: Range, k: string): Promise<number | undefined> {
  return (await mvccGet(r.engine, b(k), Number.MAX_SAFE_INTEGER))?.version;
}

/** Until `f` holds (cluster-process.ts `until`, polling every 2 ms for up to 1 s). */
const until = (what: string, f: () => boolean): Promise<true> => waitUntil(what, () => Promise.resolve(f() ? true : undefined), 1000, 2);

// The store's mode does not matter: a Batch commits in two rounds, its primary prepared in the first
// (batch-commit.ts rule 1), under parallel commits too.
for (const parallel of [false, true]) {
  describe(`a Batch across ranges, exactly once (store ${parallel ? 'with' : 'without'} parallel commits)`, () => {
    const opts = (c: Awaited<ReturnType<typeof cluster>>, txnId: string, seq = 1) => ({ txnId, ttlTs: 1_000_000, resolver: c.resolver, secondaries: new SecondaryCommits(), parallel, session: session(seq) });
    const locate = (c: Awaited<ReturnType<typeof cluster>>) => (k: Buffer) => Promise.resolve(c.storeFor(k).steps);

    it('a retry on a store lacking the range of the smallest key is answered with the first attempt; control: a commit point chosen by locality applies it twice', async () => {
      const c = await cluster();
      const first = await commitBatch(batchParts(c.ranges, [true, true]), opts(c, 'b1'), locate(c));
      // The retry's store holds only the range of 'n'.
      const retry = await commitBatch(batchParts(c.ranges, [false, true]), opts(c, 'b2'), locate(c));
      assert.equal(retry.commitTs, first.commitTs, 'answered with the first attempt');
      await until('the first attempt settled everywhere', () => c.ranges.every((r) => r.sm.locks.lockCount === 0));
      assert.equal(await version(c.ranges[0]!, 'a'), first.commitTs);
      assert.equal(await version(c.ranges[1]!, 'n'), first.commitTs, 'the retry wrote nothing');
      assert.equal(c.ranges[0]!.sm.locks.record('b2')?.state, 'aborted', "the retry's own attempt was rolled back");

      // Control: the primary = the first range the coordinator holds (the rule before) — applied twice.
      const d = await cluster();
      const o1 = await commitTwoPhase(batchParts(d.ranges, [true, true]), { ...opts(d, 'b1'), startTs: 0, parallel: false });
      const o2 = await commitTwoPhase(batchParts(d.ranges, [false, true]), { ...opts(d, 'b2'), startTs: 0, parallel: false });
      await until('settled', () => d.ranges.every((r) => r.sm.locks.lockCount === 0));
      assert.notEqual(o2.commitTs, o1.commitTs);
      assert.equal(await version(d.ranges[1]!, 'n'), o2.commitTs, 'the control applies the Batch a second time');
    });

    it('a retry refused while the first attempt is undecided settles the seq first: the first attempt can no longer commit (control: without settling, the refusal is a lie)', async () => {
      // The first attempt is slow at its commit point (both parts prepared); the retry meets its locks
      // and gives way.
      const run = async (settle: boolean): Promise<{ retry: unknown; first: PromiseSettledResult<unknown>; a?: string; n?: string }> => {
        const c = await cluster();
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const slow = (i: number, p: TxnParticipant): TxnParticipant => (i === 0 ? held(p, 'commitTxnLocks', gate) : p);
        const first = commitBatch(batchParts(c.ranges, [true, true], slow), opts(c, 'b1'), locate(c));
        const firstDone = first.then(
          (v) => ({ status: 'fulfilled' as const, value: v }),
          (e: unknown) => ({ status: 'rejected' as const, reason: e }),
        );
        await until('the first attempt holds its secondary lock', () => c.ranges[1]!.sm.locks.locksOf('b1').length > 0);
        const parts = batchParts(c.ranges, [true, true]);
        const retry = await (settle ? commitBatch(parts, opts(c, 'b2'), locate(c)) : commitTwoPhase(parts, { ...opts(c, 'b2'), startTs: 0, primaryKey: b('a'), parallel: false, preparePrimary: true })).then(
          (v) => v,
          (e: unknown) => e,
        );
        release();
        const f = await firstDone;
        await until('settled', () => c.ranges.every((r) => r.sm.locks.lockCount === 0));
        return { retry, first: f, a: await value(c.ranges[0]!, 'a'), n: await value(c.ranges[1]!, 'n') };
      };
      const fixed = await run(true);
      assert.ok(fixed.retry instanceof TxnConflictError, `the retry gives way: ${String(fixed.retry)}`);
      assert.equal(fixed.first.status, 'rejected', 'the first attempt cannot commit after the seq was settled');
      assert.ok((fixed.first as PromiseRejectedResult).reason instanceof KvError);
      assert.deepEqual([fixed.a, fixed.n], [undefined, undefined], 'not applied, as answered');
      // Control: the same race without settling the seq — "conflict" answered, and the Batch applied.
      const control = await run(false);
      assert.ok(control.retry instanceof TxnConflictError, String(control.retry));
      assert.equal(control.first.status, 'fulfilled', `the first attempt commits: ${String((control.first as PromiseRejectedResult).reason)}`);
      assert.deepEqual([control.a, control.n], ['A', 'N'], 'the control answers "not applied" for an applied Batch');
    });

    it('a refused attempt whose seq an earlier attempt applied answers that attempt\'s commit, not the refusal', async () => {
      const c = await cluster();
      const first = await commitBatch(batchParts(c.ranges, [true, true]), opts(c, 'b1'), locate(c));
      await until('settled', () => c.ranges.every((r) => r.sm.locks.lockCount === 0));
      // Another transaction's live lock on 'n': the retry's prepare there is refused — but the seq applied.
      await c.ranges[1]!.steps.prepareTxn({ txnId: 'other', startTs: 0, primary: b('zz'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [put('n', 'O')] });
      // Control (the secondary is refused before the commit point could meet the table): the refusal as
      // answered before settling — "not applied", yet applied.
      await assert.rejects(commitTwoPhase(batchParts(c.ranges, [true, true]), { ...opts(c, 'b0'), startTs: 0, primaryKey: b('a'), parallel: false }), TxnConflictError);
      const retry = await commitBatch(batchParts(c.ranges, [true, true]), opts(c, 'b2'), locate(c));
      assert.equal(retry.commitTs, first.commitTs);
      assert.equal(await version(c.ranges[1]!, 'n'), first.commitTs);
    });

    it('a leader change passes through unsettled (the client resends the seq); a resend after a settled refusal answers a conflict, never TXN_NOT_FOUND', async () => {
      const c = await cluster();
      c.ranges[1]!.failing = new Set(['txnPrepare']); // the secondary's leader is changing
      await assert.rejects(commitBatch(batchParts(c.ranges, [true, true]), opts(c, 'b1'), locate(c)), NotLeaderError);
      c.ranges[1]!.failing = undefined;
      assert.ok(!c.ranges[0]!.applied.includes('fence'), 'not settled: the client sends the seq again');
      // The client's resend: a new attempt of the same seq.
      const resend = commitBatch(batchParts(c.ranges, [true, true]), opts(c, 'b2'), locate(c));
      assert.ok((await resend).commitTs > 0, 'the first attempt never reached its commit point: the seq is free');
      // Control: the same under parallel commits — the first attempt's staging prepare stored the seq's
      // result, its rollback settled it as aborted, and the resend is answered with that abort.
      const p = await cluster();
      p.ranges[1]!.failing = new Set(['txnPrepare']);
      await assert.rejects(commitTwoPhase(batchParts(p.ranges, [true, true]), { ...opts(p, 'b1'), startTs: 0, primaryKey: b('a'), parallel: true }), NotLeaderError);
      p.ranges[1]!.failing = undefined;
      await assert.rejects(commitTwoPhase(batchParts(p.ranges, [true, true]), { ...opts(p, 'b2'), startTs: 0, primaryKey: b('a'), parallel: true }), TxnConflictError);

      // A refusal settled by a fence, then the same seq resent (its reply was lost): still a conflict.
      const d = await cluster();
      await d.ranges[1]!.steps.prepareTxn({ txnId: 'other', startTs: 0, primary: b('zz'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [put('n', 'O')] });
      await assert.rejects(commitBatch(batchParts(d.ranges, [true, true]), opts(d, 'b1', 3), locate(d)), TxnConflictError);
      await d.ranges[1]!.steps.rollbackTxnLocks('other');
      await assert.rejects(commitBatch(batchParts(d.ranges, [true, true]), opts(d, 'b2', 3), locate(d)), TxnConflictError);
      assert.deepEqual([await value(d.ranges[0]!, 'a'), await value(d.ranges[1]!, 'n')], [undefined, undefined]);
    });

    it('a refusal whose seq cannot be settled (the fence fails every time) is an unknown outcome, never "not applied"', async () => {
      const c = await cluster();
      await c.ranges[1]!.steps.prepareTxn({ txnId: 'other', startTs: 0, primary: b('zz'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [put('n', 'O')] });
      c.ranges[0]!.failing = new Set(['fence']); // a leader change each time
      await assert.rejects(commitBatch(batchParts(c.ranges, [true, true]), opts(c, 'b1'), locate(c)), OutcomeUnknownError);
      // Without a session there is no seq to settle: the refusal stands.
      const { session: _s, ...noSession } = opts(c, 'b2');
      await assert.rejects(commitBatch(batchParts(c.ranges, [true, true]), noSession, locate(c)), TxnConflictError);
    });
  });
}

describe('the fence of a Batch seq names its key', () => {
  it('round-trips through the codec, and a range not holding the key refuses it (KEY_NOT_IN_RANGE) before its session table', async () => {
    const cmd: Command = { type: 'fence', proposedTs: 9, txnId: 'b1', key: b('q'), session: session(3) };
    assert.deepEqual(decodeCommand(encodeCommand(cmd)), cmd);
    const plain: Command = { type: 'fence', proposedTs: 9, txnId: 'b1', session: session(3) };
    assert.deepEqual(decodeCommand(encodeCommand(plain)), plain);
    const sm = await StateMachine.open(new MemoryEngine(), { groupId: 7 });
    sm.setDescriptor({ rangeId: 7, start: Buffer.alloc(0), end: b('m'), epoch: { confVer: 1, version: 2 }, replicas: [{ storeId: 1, peerId: 1, role: 'voter' }] });
    const r = (await sm.applyAndWrite([cmd])).results[0]!;
    assert.ok(r.type === 'error' && r.code === 'KEY_NOT_IN_RANGE', JSON.stringify(r));
    assert.equal(sm.sessionResult('c', 3), undefined, 'nothing stored: the seq is not fenced in the wrong range');
    const ok = (await sm.applyAndWrite([{ ...cmd, key: b('c') }])).results[0]!;
    assert.ok(ok.type === 'error' && ok.code === 'TXN_NOT_FOUND', 'fenced where the key is');
  });
});
