// A two-round commit whose session seq is re-run by its request after a conflict (the atomic DeleteRange,
// range-kv-store.ts commitPinned) meeting the lock of a transaction already committed at its primary,
// whose secondary commit has not reached this range yet (held to ride the next round, secondary-commits.ts,
// or just late). With the primary prepared in round one (`preparePrimary`), the prepare is refused before
// any session table: the lock is settled and the prepare retried. Control: the one-phase commit point
// validates inside the session table, stores the refusal under the seq, and every later attempt of that
// seq is answered with it — though the lock is long gone.
import { strict as assert } from 'node:assert';
import { TxnConflictError } from '../../../node/src/kv/errors.js';
import { LockResolver, earlyCheckPolicy } from '../../../node/src/raftstore/lock-resolver.js';
import { SecondaryCommits } from '../../../node/src/raftstore/secondary-commits.js';
import { commitTwoPhase, type TxnPart } from '../../../node/src/raftstore/txn-coordinator.js';
import { b, cluster, put, session, value, type Range } from '../../helpers/txn-ranges.js';

type Cluster = Awaited<ReturnType<typeof cluster>>;

/** t1 writes 'a' (range 0) and 'n' (range 1, its primary): committed at 'n'; its lock on 'a' is still there. */
async function committedWithLockLeft(c: Cluster): Promise<number> {
  const prepTs = await c.ranges[0]!.steps.prepareTxn({ txnId: 't1', startTs: 0, primary: b('n'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [put('a', 'T1')] });
  const r = await c.ranges[1]!.steps.commitTxnLocks('t1', prepTs, { primary: b('n'), onePhase: { startTs: 0, readKeys: [], readRanges: [], writes: [put('n', 'T1')] } });
  assert.equal(c.ranges[0]!.sm.locks.locksOf('t1').length, 1, "t1's lock on 'a' is left");
  return r.commitTs;
}

/** The request's transaction: writes 'a' (range 0, its primary, as a DeleteRange's span start) and 'z' (range 2). */
function request(ranges: Range[]): TxnPart[] {
  return [
    { store: ranges[0]!.steps, local: true, readKeys: [], readRanges: [], writes: [put('a', 'T2')] },
    { store: ranges[2]!.steps, local: true, readKeys: [], readRanges: [], writes: [put('z', 'T2')] },
  ];
}

describe('raftstore/txn-coordinator: a two-round commit re-run under one session seq meets a committed transaction\'s lock', () => {
  // The resolver of a store whose secondary commits are held: a lock met is checked at its primary at once.
  const opts = (c: Cluster, txnId: string, preparePrimary: boolean) => ({
    txnId,
    startTs: 0,
    ttlTs: 1_000_000,
    resolver: new LockResolver({ storeFor: (k: Buffer) => Promise.resolve(c.storeFor(k).steps), nowTs: () => c.clock.now }, { earlyCheck: earlyCheckPolicy(10) }),
    secondaries: new SecondaryCommits(),
    session: session(7),
    primaryKey: b('a'),
    parallel: false,
    preparePrimary,
  });

  it('with the primary prepared: the prepare settles the lock and retries; the first attempt commits', async () => {
    const c = await cluster();
    const t1 = await committedWithLockLeft(c);
    const o = opts(c, 't2', true);
    const r = await commitTwoPhase(request(c.ranges), o);
    assert.ok(r.commitTs > t1, `committed above t1 (${r.commitTs} > ${t1})`);
    assert.equal(r.earlier, undefined);
    assert.ok(c.ranges[0]!.applied.includes('txnPrepare'), 'the primary was prepared');
    assert.equal(c.ranges[0]!.sm.locks.record('t2')?.state, 'committed', 'its commit point recorded the commit');
    await o.secondaries.idle();
    assert.deepEqual([await value(c.ranges[0]!, 'a'), await value(c.ranges[1]!, 'n'), await value(c.ranges[2]!, 'z')], ['T2', 'T1', 'T2']);
    assert.equal(c.ranges[0]!.sm.locks.lockCount + c.ranges[2]!.sm.locks.lockCount, 0, 'no lock left');
    // A resend of the same seq (its reply lost) is answered with this commit.
    const again = await commitTwoPhase(request(c.ranges), opts(c, 't2-resend', true));
    assert.equal(again.commitTs, r.commitTs);
    assert.ok(again.earlier !== undefined, 'answered from the session table');
  });

  it('control: a one-phase commit point stores the lock refusal under the seq; every later attempt is refused though the lock is gone', async () => {
    const c = await cluster();
    await committedWithLockLeft(c);
    await assert.rejects(commitTwoPhase(request(c.ranges), opts(c, 't2', false)), TxnConflictError);
    assert.equal(c.ranges[0]!.sm.locks.locksOf('t1').length, 0, "the refusal settled t1's lock");
    await assert.rejects(commitTwoPhase(request(c.ranges), opts(c, 't2-rerun', false)), TxnConflictError, 'the re-run is answered with the stored refusal');
    assert.equal(await value(c.ranges[0]!, 'a'), 'T1');
    assert.equal(await value(c.ranges[2]!, 'z'), undefined);
  });
});
