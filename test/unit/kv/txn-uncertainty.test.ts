// A read-only transaction's later part (beginAt a snapshot from another range, below what this range has
// applied) must not answer from a stale snapshot: a write here acknowledged before the transaction began
// may be above it. Reads whose answer differs between the snapshot and the range's applied ts at join
// are refused with TXN_CONFLICT carrying the newer version (the client's token rises past it).
import { strict as assert } from 'node:assert';
import { KeyLockedError, TxnConflictError } from '../../../node/src/kv/errors.js';
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

  /**
   * A secondary lock met at the snapshot, then committed (by its coordinator behind the reply, or by a
   * resolver) at a commit ts above the snapshot: that transaction may have been acknowledged before this
   * one began, so the retried read is uncertain — also on the transaction's first range.
   */
  async function lockThenCommit(store: LocalStore): Promise<{ err: unknown; value?: string; commitTs: number }> {
    await store.put(b('k'), b('old'));
    const prepTs = await store.prepareTxn({ txnId: 'T', startTs: (await store.status()).appliedTs, primary: b('elsewhere'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [{ op: 'put', key: b('k'), value: b('new') }] });
    const t = await store.begin({ readOnly: true });
    assert.ok(t.startTs >= prepTs);
    await assert.rejects(store.get(b('k'), { txnId: t.txnId }), KeyLockedError);
    const { commitTs } = await store.commitTxnLocks('T', prepTs + 5000); // the primary's commit ts, above the snapshot
    assert.ok(commitTs > t.startTs);
    return store.get(b('k'), { txnId: t.txnId }).then(
      (g) => ({ err: undefined, value: str(g.value), commitTs }),
      (err: unknown) => ({ err, commitTs }),
    );
  }

  it('a lock met at the snapshot and committed above it makes the retried read uncertain (the first range too)', async () => {
    const r = await lockThenCommit(s);
    assert.ok(r.err instanceof TxnConflictError, `expected TXN_CONFLICT, got ${String(r.err)} / ${r.value}`);
    assert.equal(r.err.conflictTs, r.commitTs);
  });

  it('negative control: with the unsafe switch the retried read answers the old value', async () => {
    const u = await LocalStore.open({ gcIntervalMs: 0, unsafeStaleSnapshots: true });
    try {
      const r = await lockThenCommit(u);
      assert.equal(r.err, undefined);
      assert.equal(r.value, 'old');
    } finally {
      await u.close();
    }
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

describe('read-only transaction parts on a remote range: a lock settled there', function () {
  /**
   * A remote range over the real wire codec (serveTxnCall ↔ RemoteRange), backed by one LocalStore whose
   * routed read settles a lock the way a store does: the first read at the snapshot meets T's lock, T is
   * committed above the snapshot (its primary said so), and the read answers at the snapshot.
   */
  async function run(unsafe: boolean): Promise<{ err: unknown; value?: string; commitTs: number }> {
    const { RemoteRange, RemotePartStore, serveTxnCall } = await import('../../../node/src/raftstore/txn-rpc.js');
    const store = await LocalStore.open({ gcIntervalMs: 0 });
    try {
      await store.put(b('k'), b('old'));
      const prepTs = await store.prepareTxn({ txnId: 'T', startTs: (await store.status()).appliedTs, primary: b('elsewhere'), ttlTs: 1_000_000, readKeys: [], readRanges: [], writes: [{ op: 'put', key: b('k'), value: b('new') }] });
      const snapshot = (await store.status()).appliedTs;
      let commitTs = 0;
      const settle = async <R>(read: () => Promise<R>, onLock?: () => void): Promise<R> => {
        for (;;) {
          try {
            return await read();
          } catch (e) {
            if (!(e instanceof KeyLockedError)) throw e;
            onLock?.();
            commitTs = (await store.commitTxnLocks('T', prepTs + 5000)).commitTs;
          }
        }
      };
      const host = {
        replica: () => store,
        get: (key: Buffer, o: { snapshotTs: number }, onLock?: () => void) => settle(() => store.get(key, o), onLock),
        scan: (o: Parameters<LocalStore['scan']>[0], onLock?: () => void) => settle(() => store.scan(o), onLock),
        locate: () => undefined,
      };
      const desc = store.descriptor;
      const remote = new RemoteRange({ descriptor: desc, stores: [2] }, (_to, rangeId, payload) => serveTxnCall(host, rangeId, payload), () => Date.now());
      const part = new RemotePartStore(remote, unsafe ? { unsafeStaleSnapshots: true } : {});
      const t = await part.beginAt(snapshot, { readOnly: true });
      return await part.get(b('k'), { txnId: t.txnId }).then(
        (g) => ({ err: undefined, value: str(g.value), commitTs }),
        (err: unknown) => ({ err, commitTs }),
      );
    } finally {
      await store.close();
    }
  }

  it('the read is re-checked at the range\'s read ts after it: TXN_CONFLICT at the commit ts', async () => {
    const r = await run(false);
    assert.ok(r.err instanceof TxnConflictError, `expected TXN_CONFLICT, got ${String(r.err)} / ${r.value}`);
    assert.equal(r.err.conflictTs, r.commitTs);
  });

  it('negative control: with the unsafe switch the old value is answered', async () => {
    const r = await run(true);
    assert.equal(r.err, undefined);
    assert.equal(r.value, 'old');
  });
});
