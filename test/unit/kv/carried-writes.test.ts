// kv/carried-writes.ts: which error of a commit's carried writes may be the commit's answer. The nemesis
// (make jepsen RUNS=100, counter seeds 4 and 90: move-range + wipe) found duplicate increments when a
// retried Commit's write met the range's re-created replica and answered TXN_CONFLICT ("re-run it") for a
// commit an earlier attempt had applied. These cases pin the rule; the first fails with a helper that
// answers every error it meets.
import assert from 'node:assert/strict';
import type { Mutation } from '../../../node/src/kv/api.js';
import { applyCarriedWrites } from '../../../node/src/kv/carried-writes.js';
import { InvalidArgumentError, TxnConflictError, TxnNotFoundError } from '../../../node/src/kv/errors.js';

const W: Mutation[] = [
  { op: 'put', key: Buffer.from('a'), value: Buffer.from('1') },
  { op: 'delete', key: Buffer.from('b') },
  { op: 'put', key: Buffer.from('c'), value: Buffer.from('3') },
];

/** A store whose write number `failAt` (0-based) throws `err`; records what it applied. */
function store(failAt: number, err: Error): { applied: string[]; put: (k: Buffer, v: Buffer, o: { txnId?: string }) => Promise<never>; delete: (k: Buffer, o: { txnId?: string }) => Promise<never> } {
  const applied: string[] = [];
  let n = 0;
  const step = async (what: string): Promise<never> => {
    if (n++ === failAt) throw err;
    applied.push(what);
    return undefined as never;
  };
  return { applied, put: (k) => step(`put ${k.toString()}`), delete: (k) => step(`del ${k.toString()}`) };
}

describe('carried writes: which error answers the commit', () => {
  it('a write refused after an attempt started the commit is not the answer: the writes stop, the commit path answers, nothing is aborted', async () => {
    const s = store(1, new TxnConflictError(Buffer.from('b'), 0, 'range 2 replica changed; retry the transaction'));
    let aborted = 0;
    await applyCarriedWrites(s, 't1', W, { commitStarted: () => true, abort: () => aborted++ });
    assert.deepEqual(s.applied, ['put a']);
    assert.equal(aborted, 0);
  });

  it('TXN_NOT_FOUND (committing, in doubt, finished) leaves it to the commit path', async () => {
    const s = store(0, new TxnNotFoundError('t1', 'commit in doubt; retry the commit'));
    let aborted = 0;
    await applyCarriedWrites(s, 't1', W, { commitStarted: () => false, abort: () => aborted++ });
    assert.deepEqual(s.applied, []);
    assert.equal(aborted, 0);
  });

  it('any other error before a commit started is the answer, after the transaction is aborted (no slower attempt can commit it)', async () => {
    for (const err of [new TxnConflictError(Buffer.from('c'), 0, 'replica changed'), new InvalidArgumentError('writes[2].value too large')]) {
      const s = store(2, err);
      let aborted = 0;
      await assert.rejects(applyCarriedWrites(s, 't1', W, { commitStarted: () => false, abort: () => aborted++ }), (e) => e === err);
      assert.deepEqual(s.applied, ['put a', 'del b']);
      assert.equal(aborted, 1);
    }
  });

  it('all writes applied, in order, when none fails', async () => {
    const s = store(-1, new Error('never'));
    await applyCarriedWrites(s, 't1', W, { commitStarted: () => false, abort: () => assert.fail('not aborted') });
    assert.deepEqual(s.applied, ['put a', 'del b', 'put c']);
  });
});
