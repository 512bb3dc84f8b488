// A read-only transaction's later part (beginAt a snapshot from another range, below what this range has
// applied) must not answer from a stale snapshot: a write here acknowledged before the transaction began
// may be above it. Reads whose answer differs between the snapshot and the range's applied ts at join
// are refused with TXN_CONFLICT carrying the newer version (the client's token rises past it).
import { strict as assert } from 'node:assert';
import { TxnConflictError } from '../../../node/src/kv/errors.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const str = (x: Buffer | undefined): string | undefined => x?.toString('latin1');

async function conflictOf(p: Promise<unknown>): Promise<TxnConflictError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.ok(e instanceof TxnConflictError, `expected TXN_CONFLICT, got ${String(e)}`);
  return e;
}

describe('read-only transaction parts: the uncertainty limit', function () {
  let s: LocalStore;
  let old: number; // a snapshot from "another range", before the writes below
  let vB: number;
  beforeEach(async () => {
    s = await LocalStore.open({ gcIntervalMs: 0 });
    await s.put(b('a'), b('1'));
    await s.put(b('c'), b('1'));
    old = (await s.status()).appliedTs;
    vB = (await s.put(b('b'), b('2'))).version; // acknowledged after the snapshot
    await s.delete(b('c'));
    await s.put(b('x'), b('1'));
  });
  afterEach(async () => {
    await s.close();
  });

  it('an unchanged key reads as at the snapshot; an absent one stays absent', async () => {
    const t = await s.beginAt(old, { readOnly: true });
    assert.equal(t.startTs, old);
    assert.equal(str((await s.get(b('a'), { txnId: t.txnId })).value), '1');
    assert.equal((await s.get(b('zz'), { txnId: t.txnId })).found, false);
    assert.equal((await s.scan({ txnId: t.txnId, start: b('a'), end: b('b') })).kvs.length, 1);
  });

  it('a key written after the snapshot is a conflict naming its version', async () => {
    const t = await s.beginAt(old, { readOnly: true });
    const e = await conflictOf(s.get(b('b'), { txnId: t.txnId }));
    assert.equal(e.conflictTs, vB);
    assert.equal(str(e.key), 'b');
  });

  it('a key deleted after the snapshot is a conflict (it still exists at the snapshot)', async () => {
    const t = await s.beginAt(old, { readOnly: true });
    await conflictOf(s.get(b('c'), { txnId: t.txnId }));
  });

  it('a scan over a changed span is a conflict, forward and reverse, also when the change is past the limit', async () => {
    for (const reverse of [false, true]) {
      const t = await s.beginAt(old, { readOnly: true });
      await conflictOf(s.scan({ txnId: t.txnId, reverse }));
      await s.rollback(t.txnId);
    }
    const t = await s.beginAt(old, { readOnly: true });
    // One key asked: at the snapshot 'a' then more ('c'); at the limit 'a' then more ('b'): what `more`
    // stood on changed.
    await conflictOf(s.scan({ txnId: t.txnId, limit: 1 }));
  });

  it('a transaction begun at or above what the range applied has nothing uncertain', async () => {
    const now = (await s.status()).appliedTs;
    const t = await s.beginAt(now, { readOnly: true });
    assert.equal(str((await s.get(b('b'), { txnId: t.txnId })).value), '2');
    assert.equal((await s.scan({ txnId: t.txnId })).kvs.map((x) => str(x.key)).join(), 'a,b,x');
  });

  it('a read-write part reads the snapshot as before (its commit validates the reads)', async () => {
    const t = await s.beginAt(old, {});
    assert.equal((await s.get(b('b'), { txnId: t.txnId })).found, false);
    await s.put(b('y'), b('1'), { txnId: t.txnId });
    await conflictOf(s.commit(t.txnId));
  });

  it('negative control: with the unsafe switch the read-only part answers from the stale snapshot', async () => {
    const u = await LocalStore.open({ gcIntervalMs: 0, unsafeStaleSnapshots: true });
    try {
      const o = (await u.put(b('a'), b('1'))).version;
      await u.put(b('b'), b('2'));
      const t = await u.beginAt(o, { readOnly: true });
      assert.equal((await u.get(b('b'), { txnId: t.txnId })).found, false, 'the stale answer');
    } finally {
      await u.close();
    }
  });
});
