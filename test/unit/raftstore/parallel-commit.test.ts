// Parallel commits end to end in one process (raftstore/txn-coordinator.ts, lock-resolver.ts): the
// coordinator over three ranges — each a real state machine behind TxnSteps — replies after one round of
// prepares, records the outcome and commits the secondaries behind the reply; a dead coordinator's
// staging transaction is recovered by a resolver through its participants; a retried request whose
// session seq meets an earlier staging attempt answers that attempt's outcome.
import { strict as assert } from 'node:assert';
import { OutcomeUnknownError, TxnConflictError } from '../../../node/src/kv/errors.js';
import type { Mutation } from '../../../node/src/kv/api.js';
import { LockResolver, earlyCheckPolicy } from '../../../node/src/raftstore/lock-resolver.js';
import { SecondaryCommits } from '../../../node/src/raftstore/secondary-commits.js';
import { commitTwoPhase } from '../../../node/src/raftstore/txn-coordinator.js';
import { b, cluster, parts, put, session, value } from '../../helpers/txn-ranges.js';

describe('parallel commits (coordinator, resolver, state machines)', () => {
  it('replies after one round of prepares, at the largest prepare ts; the record and the secondaries follow behind the reply', async () => {
    const { ranges, resolver } = await cluster();
    await ranges[2]!.sm.applyAndWrite([{ type: 'put', proposedTs: 5000, key: b('u'), value: b('0') }]); // a range ahead
    // The primary range is held after its staging prepare: the reply must not wait for the record.
    let release!: () => void;
    ranges[0]!.holdFrom = 1;
    ranges[0]!.gate = new Promise((r) => (release = r));
    const secondaries = new SecondaryCommits();
    const o = { txnId: 't1', startTs: 6000, ttlTs: 10_000, resolver, secondaries, parallel: true, session: session(1) };
    const { commitTs } = await commitTwoPhase(parts(ranges, [[put('a', 'A')], [put('n', 'N')], [put('u', 'U')]]), o);
    assert.deepEqual(ranges.map((r) => r.applied), [['txnPrepare'], ['txnPrepare'], ['txnPrepare']], 'one prepare per range before the reply');
    assert.equal(commitTs, Math.max(...ranges.map((r) => r.sm.locks.allPointLocks()[0]!.prepTs)));
    assert.ok(commitTs > 5000, 'above the range that was ahead');
    release();
    await secondaries.idle();
    assert.deepEqual(ranges.map((r) => r.applied), [['txnPrepare', 'txnCommitLocks'], ['txnPrepare', 'txnCommitLocks'], ['txnPrepare', 'txnCommitLocks']]);
    assert.equal(ranges[0]!.sm.locks.record('t1')?.state, 'committed');
    assert.deepEqual([await value(ranges[0]!, 'a'), await value(ranges[1]!, 'n'), await value(ranges[2]!, 'u')], ['A', 'N', 'U']);
    assert.ok(ranges.every((r) => r.sm.locks.lockCount === 0));
    assert.equal(ranges[0]!.sm.sessionResult('c', 1)?.type, 'txnStatus');
  });

  it('a part refused: the primary is rolled back first (its record and the seq say aborted), then the others — certainly not committed', async () => {
    const { ranges, resolver } = await cluster();
    await ranges[1]!.sm.applyAndWrite([{ type: 'put', proposedTs: 3000, key: b('n'), value: b('newer') }]);
    const o = { txnId: 't1', startTs: 2000, ttlTs: 10_000, resolver, secondaries: new SecondaryCommits(), parallel: true, session: session(1) };
    await assert.rejects(commitTwoPhase([...parts(ranges, [[put('a', 'A')]]), { store: ranges[1]!.steps, local: true, readKeys: [b('n')], readRanges: [], writes: [put('n', 'N')] }], o), TxnConflictError);
    assert.equal(ranges[0]!.sm.locks.record('t1')?.state, 'aborted');
    const r = ranges[0]!.sm.sessionResult('c', 1);
    assert.ok(r?.type === 'txnStatus' && r.state === 'aborted');
    await o.secondaries.idle(); // the other parts are rolled back behind the reply
    assert.ok(ranges.every((x) => x.sm.locks.lockCount === 0));
    assert.equal(await value(ranges[0]!, 'a'), undefined);
  });

  it('a part refused while another is still preparing: the conflict is answered once the primary records the abort, without waiting for that part; its locks go once its prepare lands', async () => {
    const { ranges, resolver } = await cluster();
    await ranges[1]!.sm.applyAndWrite([{ type: 'put', proposedTs: 3000, key: b('n'), value: b('newer') }]);
    // The third range's prepare is a slow Raft round.
    let release!: () => void;
    ranges[2]!.holdFrom = 0;
    ranges[2]!.gate = new Promise((r) => (release = r));
    const o = { txnId: 't1', startTs: 2000, ttlTs: 10_000, resolver, secondaries: new SecondaryCommits(), parallel: true, session: session(1) };
    const p = [...parts(ranges, [[put('a', 'A')]]), { store: ranges[1]!.steps, local: true, readKeys: [b('n')], readRanges: [], writes: [put('n', 'N')] }, { store: ranges[2]!.steps, local: true, readKeys: [], readRanges: [], writes: [put('u', 'U')] }];
    const outcome = await Promise.race([
      commitTwoPhase(p, o).then(
        () => 'committed',
        (e: unknown) => (e instanceof TxnConflictError ? 'conflict' : String(e)),
      ),
      new Promise((r) => setTimeout(() => r('still waiting for the held prepare'), 1000)),
    ]);
    assert.equal(outcome, 'conflict');
    assert.equal(ranges[0]!.sm.locks.record('t1')?.state, 'aborted', 'the abort is recorded before the answer');
    assert.deepEqual(ranges[2]!.applied, [], 'the held prepare has not applied yet');
    release();
    await o.secondaries.idle();
    assert.deepEqual(ranges[2]!.applied, ['txnPrepare', 'txnRollbackLocks'], 'rolled back after its prepare, not before (no lock left behind)');
    assert.ok(ranges.every((x) => x.sm.locks.lockCount === 0));
    assert.equal(await value(ranges[2]!, 'u'), undefined);
  });

  it('a prepare meeting a write lock above the snapshot on a key it read gives way at once (the lock is not settled first); below the snapshot it is settled and the prepare retried', async () => {
    const { ranges, clock, storeFor } = await cluster();
    // Settles a committed transaction's lock at once, as a store holding secondary commits does.
    const resolver = new LockResolver({ storeFor: (k) => Promise.resolve(storeFor(k).steps), nowTs: () => clock.now }, { earlyCheck: earlyCheckPolicy(10) });
    // Another transaction, committed and recorded at its primary 'a'; its lock on 'n' is still there (its
    // coordinator holds that secondary commit to ride a later round).
    const other = { txnId: 'other', primary: b('a'), ttlTs: 1_000_000, readKeys: [], readRanges: [] };
    const staged = await ranges[0]!.steps.stageTxn({ ...other, startTs: 10, writes: [put('a', 'O')], participants: [b('n')] });
    assert.ok(staged.staged);
    const stagedTs = staged.prepTs;
    const lockTs = await ranges[1]!.steps.prepareTxn({ ...other, startTs: 10, writes: [put('n', 'O')] });
    const otherTs = Math.max(stagedTs, lockTs);
    await ranges[0]!.steps.commitTxnLocks('other', otherTs, { primary: b('a') });
    const o = (txnId: string, startTs: number) => ({ txnId, startTs, ttlTs: 10_000, resolver, secondaries: new SecondaryCommits(), parallel: true });
    const readN = () => [{ store: ranges[2]!.steps, local: true, readKeys: [], readRanges: [], writes: [put('u', 'U')] }, { store: ranges[1]!.steps, local: true, readKeys: [b('n')], readRanges: [], writes: [put('n', 'N')] }];
    const applied0 = ranges[1]!.applied.length;
    const err = await commitTwoPhase(readN(), o('t1', lockTs - 1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof TxnConflictError, String(err));
    assert.equal(err.conflictTs, lockTs, 'names the lock\'s prepare ts: the client\'s retry reads at or above it');
    assert.deepEqual(ranges[1]!.applied.slice(applied0).filter((t) => t !== 'txnRollbackLocks'), ['txnPrepare'], 'one refused prepare: the lock was not settled, the prepare not retried');
    assert.equal(ranges[1]!.sm.locks.locksOf('other').length, 1, 'the other transaction\'s lock was left to its coordinator');
    // Control: a snapshot at or above the lock's prepare ts may still see that transaction commit at or
    // below it, so the lock is settled (rolled forward through its primary) and the prepare retried.
    const applied1 = ranges[1]!.applied.length;
    const { commitTs } = await commitTwoPhase(readN(), o('t2', otherTs));
    assert.ok(commitTs > otherTs);
    assert.equal(ranges[1]!.sm.locks.locksOf('other').length, 0, 'settled through its primary');
    assert.deepEqual(ranges[1]!.applied.slice(applied1).filter((t) => t === 'txnPrepare' || t === 'txnCommitLocks'), ['txnPrepare', 'txnCommitLocks', 'txnPrepare'], 'refused by the lock once, the lock rolled forward, then prepared');
  });

  it('a refused part whose abort cannot be recorded at the primary is an unknown outcome, not a conflict: a late duplicate of that prepare would complete the staging', async () => {
    const { ranges, resolver, clock } = await cluster();
    // Another transaction's live lock on 'n' (long TTL): the prepare there is refused KEY_LOCKED each time.
    await ranges[1]!.steps.prepareTxn({ txnId: 'other', startTs: 10, primary: b('zz'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [put('n', 'O')] });
    ranges[0]!.failing = new Set(['txnRollbackLocks']);
    const o = { txnId: 't1', startTs: 2000, ttlTs: 100, resolver, secondaries: new SecondaryCommits(), parallel: true };
    const p = parts(ranges, [[put('a', 'A')], [put('n', 'N')]]);
    await assert.rejects(commitTwoPhase(p, o), OutcomeUnknownError);
    // Why not "conflict" (certainly not committed): the other lock goes, a delayed duplicate of the
    // refused prepare applies, and a recovery then finds every part prepared — committed.
    await ranges[1]!.steps.rollbackTxnLocks('other');
    await ranges[1]!.steps.prepareTxn({ txnId: 't1', startTs: 2000, primary: b('a'), ttlTs: 100, readKeys: [], readRanges: [], writes: [put('n', 'N')] });
    ranges[0]!.failing = undefined;
    clock.now += 1000;
    assert.equal((await resolver.decide('t1', b('a'))).state, 'committed');
    // Control: when the primary's abort is recorded, the refusal is a conflict and stays true.
    const c2 = await cluster();
    await c2.ranges[1]!.steps.prepareTxn({ txnId: 'other', startTs: 10, primary: b('zz'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [put('n', 'O')] });
    await assert.rejects(commitTwoPhase(parts(c2.ranges, [[put('a', 'A')], [put('n', 'N')]]), { ...o, resolver: c2.resolver }), TxnConflictError);
    await c2.ranges[1]!.steps.rollbackTxnLocks('other');
    await c2.ranges[1]!.steps.prepareTxn({ txnId: 't1', startTs: 2000, primary: b('a'), ttlTs: 100, readKeys: [], readRanges: [], writes: [put('n', 'N')] });
    c2.clock.now += 1000;
    assert.equal((await c2.resolver.decide('t1', b('a'))).state, 'aborted', 'the record decides: the late lock is rolled back');
  });

  it('a dead coordinator: every part prepared → a resolver commits it at the largest prepare ts; a part missing → prevented and aborted', async () => {
    const { ranges, resolver, clock } = await cluster();
    const req = (w: Mutation[], extra = {}) => ({ txnId: 't1', startTs: 500, primary: b('a'), ttlTs: 100, readKeys: [], readRanges: [], writes: w, ...extra });
    // All prepared, nobody recorded it (the coordinator died after replying, or before).
    assert.ok((await ranges[0]!.steps.stageTxn(req([put('a', 'A')], { participants: [b('n'), b('u')] }))).staged);
    await ranges[1]!.steps.prepareTxn(req([put('n', 'N')]));
    const last = await ranges[2]!.steps.prepareTxn(req([put('u', 'U')]));
    // Within the TTL it is alive (left alone).
    assert.equal((await resolver.decide('t1', b('a'))).state, 'alive');
    clock.now += 1000;
    assert.deepEqual(await resolver.decide('t1', b('a')), { state: 'committed', ts: last });
    assert.equal(ranges[0]!.sm.locks.record('t1')?.ts, last);
    assert.equal(await value(ranges[0]!, 'a'), 'A');

    // t2: the third part never prepared.
    const req2 = (w: Mutation[], extra = {}) => ({ ...req(w, extra), txnId: 't2', primary: b('b') });
    await ranges[0]!.steps.stageTxn(req2([put('b', 'B')], { participants: [b('o'), b('v')] }));
    await ranges[1]!.steps.prepareTxn(req2([put('o', 'O')]));
    assert.equal((await resolver.decide('t2', b('b'), { force: true })).state, 'aborted');
    await assert.rejects(ranges[2]!.steps.prepareTxn(req2([put('v', 'V')])), TxnConflictError, 'the late prepare is refused');
    // The resolver rolls back the locks it meets (here: what a reader meeting 'o' would do).
    await ranges[1]!.steps.rollbackTxnLocks('t2');
    assert.equal(await value(ranges[0]!, 'b'), undefined);
    assert.equal(ranges[0]!.sm.locks.lockCount, 0);
  });

  it('a retried request whose seq meets an earlier staging attempt answers that attempt (recovered at once), and drops its own locks', async () => {
    const { ranges, resolver } = await cluster();
    const s = session(4);
    // The first attempt (a Batch across ranges, its own txn id) staged and prepared everything, then its reply was lost.
    const first = { txnId: 'b1', startTs: 0, primary: b('a'), ttlTs: 100_000, readKeys: [], readRanges: [], writes: [put('a', 'A')] };
    await ranges[0]!.steps.stageTxn({ ...first, participants: [b('n')] }, s);
    const prepTs = await ranges[1]!.steps.prepareTxn({ ...first, writes: [put('n', 'N')] });
    // The retry runs a new two-phase commit with the same seq.
    const o = { txnId: 'b2', startTs: 0, ttlTs: 100_000, resolver, secondaries: new SecondaryCommits(), parallel: true, session: s };
    const { commitTs } = await commitTwoPhase(parts(ranges, [[put('a', 'A')], [put('n', 'N')]]), o);
    assert.equal(commitTs, prepTs, 'the first attempt committed (every part prepared): its commit ts');
    assert.equal(ranges[0]!.sm.locks.record('b1')?.state, 'committed');
    assert.ok(ranges[1]!.sm.locks.locksOf('b2').length === 0, 'the retry\'s own prepare was rolled back');
    assert.equal(ranges[0]!.sm.locks.record('b2')?.state, 'aborted');
  });
});
