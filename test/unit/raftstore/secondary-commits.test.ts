import { strict as assert } from 'node:assert';
import type { TxnParticipant } from '../../../node/src/kv/txn-steps.js';
import { SecondaryCommits } from '../../../node/src/raftstore/secondary-commits.js';

/** A range whose commits are answered when the test says so; records what arrived together. */
function fakeRange(rangeId: number): { p: TxnParticipant; batches: string[][]; answer: (fail?: boolean) => void } {
  const batches: string[][] = [];
  let pending: Array<{ txnId: string; resolve: () => void; reject: (e: Error) => void }> = [];
  let scheduled = false;
  const p: TxnParticipant = {
    rangeId,
    commitTxnLocks: (txnId, commitTs) =>
      new Promise((resolve, reject) => {
        pending.push({ txnId, resolve: () => resolve({ txnId, commitTs }), reject });
        // Commands submitted in one event-loop turn form one batch (what shares one Raft round).
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(() => {
            scheduled = false;
            batches.push(pending.map((c) => c.txnId));
          });
        }
      }),
    prepareTxn: () => Promise.reject(new Error('unused')),
    stageTxn: () => Promise.reject(new Error('unused')),
    checkPart: () => Promise.reject(new Error('unused')),
    rollbackTxnLocks: () => Promise.reject(new Error('unused')),
    checkTxn: () => Promise.reject(new Error('unused')),
    fence: () => Promise.reject(new Error('unused')),
  };
  const answer = (fail = false): void => {
    const now = pending;
    pending = [];
    for (const c of now) (fail ? c.reject(new Error('lost')) : c.resolve());
  };
  return { p, batches, answer };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('raftstore/secondary-commits: secondaries coalesced per range', () => {
  it('one batch in flight per range: commits arriving meanwhile go together in the next', async () => {
    const c = new SecondaryCommits();
    const r = fakeRange(7);
    c.commit(r.p, 't1', 10);
    await tick();
    c.commit(r.p, 't2', 11);
    c.commit(r.p, 't3', 12);
    c.commit(r.p, 't4', 13);
    await tick();
    assert.deepEqual(r.batches, [['t1']], 'nothing more is submitted while the first batch is in flight');
    r.answer();
    await tick();
    assert.deepEqual(r.batches, [['t1'], ['t2', 't3', 't4']]);
    const idle = c.idle();
    r.answer();
    await idle;
  });

  it('ranges do not wait for each other; a failed commit is logged and the queue goes on', async () => {
    const warned: string[] = [];
    const log = { warn: (msg: string) => warned.push(msg), info: () => undefined, error: () => undefined, debug: () => undefined } as never;
    const c = new SecondaryCommits(log);
    const a = fakeRange(1);
    const b2 = fakeRange(2);
    c.commit(a.p, 'x1', 1);
    c.commit(b2.p, 'y1', 1);
    await tick();
    assert.deepEqual([a.batches, b2.batches], [[['x1']], [['y1']]]);
    c.commit(a.p, 'x2', 2);
    a.answer(true);
    await tick();
    assert.equal(warned.length, 1);
    assert.deepEqual(a.batches, [['x1'], ['x2']]);
    a.answer();
    b2.answer();
    await c.idle();
  });
});
