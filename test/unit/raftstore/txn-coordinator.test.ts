// The coordinator's reading of the commit point's answers (raftstore/txn-coordinator.ts): which
// refusals prove the transaction did not commit (roll back, conflict) and which leave it unknown.
import { strict as assert } from 'node:assert';
import { KeyNotInRangeError, OutcomeUnknownError, SessionExpiredError, TxnConflictError } from '../../../node/src/kv/errors.js';
import type { TxnParticipant } from '../../../node/src/kv/txn-steps.js';
import { LockResolver } from '../../../node/src/raftstore/lock-resolver.js';
import { SecondaryCommits } from '../../../node/src/raftstore/secondary-commits.js';
import { commitTwoPhase, type TxnPart } from '../../../node/src/raftstore/txn-coordinator.js';

const b = (s: string): Buffer => Buffer.from(s);

/** A range whose commit point answers from a script; records rollbacks. */
function range(rangeId: number, commits: Array<() => Promise<{ commitTs: number; txnId: string }>> = []): TxnParticipant & { rollbacks: number; onePhase: number } {
  const p = {
    rangeId,
    rollbacks: 0,
    onePhase: 0,
    prepareTxn: () => Promise.resolve(10),
    stageTxn: () => Promise.reject(new Error('unused')),
    checkPart: () => Promise.reject(new Error('unused')),
    commitTxnLocks: (_t: string, _ts: number, o?: { onePhase?: unknown }) => {
      if (o?.onePhase !== undefined) p.onePhase++;
      const next = commits.shift();
      return next !== undefined ? next() : Promise.resolve({ commitTs: 11, txnId: 'tx' });
    },
    rollbackTxnLocks: () => {
      p.rollbacks++;
      return Promise.resolve('aborted' as const);
    },
    checkTxn: () => Promise.reject(new Error('unused')),
    fence: () => Promise.reject(new Error('unused')),
  };
  return p;
}

function parts(primary: TxnParticipant, secondary: TxnParticipant): TxnPart[] {
  return [
    { store: primary, local: true, readKeys: [b('a')], readRanges: [], writes: [{ op: 'put', key: b('a'), value: b('1') }] },
    { store: secondary, local: true, readKeys: [b('z')], readRanges: [], writes: [{ op: 'put', key: b('z'), value: b('1') }] },
  ];
}

const opts = () => ({ txnId: 'tx', startTs: 5, ttlTs: 1000, resolver: new LockResolver({ storeFor: () => Promise.reject(new Error('unused')), nowTs: () => 0 }), secondaries: new SecondaryCommits() });

describe('raftstore/txn-coordinator: the commit point', () => {
  it('commits the primary in one phase (never prepared) and the secondary behind the reply', async () => {
    const p = range(1);
    const s = range(2);
    let prepared = 0;
    p.prepareTxn = () => Promise.reject(new Error('the primary must not be prepared'));
    s.prepareTxn = () => {
      prepared++;
      return Promise.resolve(10);
    };
    const o = opts();
    assert.deepEqual(await commitTwoPhase(parts(p, s), o), { commitTs: 11 });
    assert.equal(p.onePhase, 1);
    assert.equal(prepared, 1);
    await o.secondaries.idle();
  });

  it('a routing refusal of the first attempt is definite: rolled back, a conflict the client re-runs', async () => {
    const p = range(1, [() => Promise.reject(new KeyNotInRangeError(1, 'split'))]);
    const s = range(2);
    const o = opts();
    await assert.rejects(commitTwoPhase(parts(p, s), o), TxnConflictError);
    assert.equal(p.rollbacks, 1, 'the primary records the abort before the reply');
    await o.secondaries.idle(); // the secondary's rollback goes behind the reply
    assert.equal(p.rollbacks + s.rollbacks, 2);
  });

  it('a session table refusing the first commit command (its seq already forgotten) rolls the locks back at once; on a retry it does not (jepsen seed 26013)', async () => {
    const expired = () => Promise.reject(new SessionExpiredError('result of seq 94 of session s was already forgotten (acknowledged below 101)'));
    const p = range(1, [expired]);
    const s = range(2);
    const o = opts();
    await assert.rejects(commitTwoPhase(parts(p, s), o), SessionExpiredError);
    await o.secondaries.idle();
    assert.equal(s.rollbacks, 1, 'the secondary lock is rolled back now, not left for its TTL');
    assert.equal(p.rollbacks, 1, 'and the primary records the abort');
    const p2 = range(1, [() => Promise.reject(new OutcomeUnknownError(0, undefined, 'lost')), expired]);
    const s2 = range(2);
    await assert.rejects(commitTwoPhase(parts(p2, s2), opts()), SessionExpiredError);
    assert.equal(p2.rollbacks + s2.rollbacks, 0, 'the first command may have applied before its result was forgotten');
  });

  it('a routing refusal of a RETRY is not: the first attempt may have applied (refused before the session table) — outcome unknown, nothing rolled back', async () => {
    const p = range(1, [() => Promise.reject(new OutcomeUnknownError(0, undefined, 'lost')), () => Promise.reject(new KeyNotInRangeError(1, 'split'))]);
    const s = range(2);
    await assert.rejects(commitTwoPhase(parts(p, s), opts()), OutcomeUnknownError);
    assert.equal(p.rollbacks + s.rollbacks, 0);
  });
});
