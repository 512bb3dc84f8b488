// Direct reads (BeginOptions.directReads): the client reads a transaction's keys at its snapshot outside
// it (plain Gets at snapshot_ts, made repeatable by the replica that serves them) and reports the keys with
// the commit. The node's part of the transaction joins at the snapshot without raising its replica
// (`joinAt`) and validates the reported keys at commit like its own reads. Negative control: the same
// stale read not reported commits — so it is the report that the validation rests on.
import { strict as assert } from 'node:assert';
import { TxnConflictError } from '../../../node/src/kv/errors.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('kv/local-store: direct reads reported with the commit', function () {
  let s: LocalStore;
  beforeEach(async () => {
    s = await LocalStore.open({ gcIntervalMs: 0 });
    await s.put(b('a'), b('1'));
    await s.put(b('b'), b('1'));
  });
  afterEach(async () => {
    await s.close();
  });

  /** A transaction that read 'a' at snapshot T outside it, after which another client wrote 'a'; it writes 'b'. */
  async function staleRead(): Promise<{ txnId: string; readA: string }> {
    const t = (await s.status()).appliedTs;
    const readA = (await s.get(b('a'), { snapshotTs: t })).value!.toString();
    await s.put(b('a'), b('2')); // committed above the snapshot
    const { txnId } = await s.joinAt(t);
    await s.put(b('b'), b(`from a=${readA}`), { txnId });
    return { txnId, readA };
  }

  it('a reported key written above the snapshot fails the commit (TXN_CONFLICT); nothing is written', async () => {
    const { txnId } = await staleRead();
    await assert.rejects(s.commit(txnId, { readKeys: [b('a')] }), TxnConflictError);
    assert.equal((await s.get(b('b'))).value!.toString(), '1');
  });

  it('control: the same stale read, not reported, commits (the check rests on the report)', async () => {
    const { txnId, readA } = await staleRead();
    await s.commit(txnId);
    assert.equal(readA, '1');
    assert.equal((await s.get(b('a'))).value!.toString(), '2');
    assert.equal((await s.get(b('b'))).value!.toString(), 'from a=1', 'committed on a stale read');
  });

  it('a reported key unchanged since the snapshot commits', async () => {
    const t = (await s.status()).appliedTs;
    await s.get(b('a'), { snapshotTs: t });
    await s.put(b('x'), b('1')); // another key: no conflict
    const { txnId } = await s.joinAt(t);
    await s.put(b('b'), b('2'), { txnId });
    const r = await s.commit(txnId, { readKeys: [b('a')] });
    assert.ok(r.commitTs > t);
    assert.equal((await s.get(b('b'))).value!.toString(), '2');
  });

  it('joinAt leaves the replica as it is; makeRepeatable raises it to the snapshot', async () => {
    const applied = (await s.status()).appliedTs;
    const t = applied + 1_000; // a snapshot fixed on another range, ahead of this one
    await s.joinAt(t);
    assert.equal(s.readableTs, applied, 'joining raised nothing');
    await s.makeRepeatable(t);
    assert.ok(s.readableTs >= t, `raised to the snapshot (${s.readableTs} >= ${t})`);
    const v = (await s.put(b('a'), b('3'))).version;
    assert.ok(v > t, 'later writes land above the snapshot');
  });
});
