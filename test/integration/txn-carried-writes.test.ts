// A transaction's writes carried by its commit (CommitRequest.writes; client Transaction keeps them) over
// a real node process: the txn helper sends no Put/Delete request of its own, its reads still see its own
// writes, a scan sends the kept writes first, a large transaction sends them ahead in bounded requests, a
// lost Commit reply is retried without applying anything twice, point reads issued together run
// concurrently without breaking program order, and a Commit carrying writes for a
// transaction the node does not know writes nothing. Each counting test has its control with
// `bufferTxnWrites: false` (the path an older node, which does not offer commit_carries_writes, gets).
import assert from 'node:assert/strict';
import { KvClient, KvTxnNotFoundError, LostReplyInjector } from '../../node/src/client/index.js';
import { useNode } from './support/fixture.js';

describe('transactions: writes carried by the commit', function () {
  this.timeout(60_000);
  const f = useNode();

  /** A client counting the requests it sends, by method (the injector drops nothing unless told). */
  function counting(o: { bufferTxnWrites?: boolean } = {}): { client: KvClient; seen: Map<string, number>; lost: LostReplyInjector } {
    const lost = new LostReplyInjector();
    return { client: f.client({ lostReplies: lost, ...o }), seen: lost.seen, lost };
  }

  it('Begin says the node takes writes with the commit', async function () {
    const c = f.client();
    const b = await c.begin();
    assert.equal(b.commitCarriesWrites, true);
    await c.rollback(b.txnId);
  });

  it('the helper sends no Put/Delete: the writes ride the Commit and are committed (control: without buffering, one Put each)', async function () {
    for (const bufferTxnWrites of [true, false]) {
      const { client, seen } = counting({ bufferTxnWrites });
      const p = `cw/${bufferTxnWrites}/`;
      await client.put(`${p}gone`, 'x');
      seen.clear();
      await client.txn(async (tx) => {
        for (let i = 0; i < 5; i++) void tx.put(`${p}k${i}`, `v${i}`);
        void tx.delete(`${p}gone`);
      });
      const puts = seen.get('Put') ?? 0;
      const deletes = seen.get('Delete') ?? 0;
      if (bufferTxnWrites) assert.deepEqual([puts, deletes, seen.get('Commit')], [0, 0, 1], `requests ${JSON.stringify([...seen])}`);
      else assert.deepEqual([puts, deletes], [5, 1], `control: requests ${JSON.stringify([...seen])}`);
      for (let i = 0; i < 5; i++) assert.equal((await client.get(`${p}k${i}`)).value?.toString(), `v${i}`);
      assert.equal((await client.get(`${p}gone`)).found, false);
    }
  });

  it('reads see the kept writes (put, overwrite, delete); a scan sends them first and merges them', async function () {
    const { client, seen } = counting();
    await client.put('cw/r/b', 'old-b');
    await client.put('cw/r/d', 'old-d');
    seen.clear();
    const got = await client.txn(async (tx) => {
      await tx.put('cw/r/a', '1');
      await tx.put('cw/r/a', '2');
      await tx.delete('cw/r/b');
      const a = await tx.get('cw/r/a');
      const b = await tx.get('cw/r/b');
      const before = seen.get('Put') ?? 0;
      await tx.put('cw/r/c', '3');
      const scan = await tx.scan({ prefix: 'cw/r/' });
      return { a: a.value?.toString(), aVersion: a.version, bFound: b.found, putsBeforeScan: before, scan: scan.kvs.map((kv) => `${kv.key.toString()}=${kv.value.toString()}`) };
    });
    assert.deepEqual(got, { a: '2', aVersion: 0, bFound: false, putsBeforeScan: 0, scan: ['cw/r/a=2', 'cw/r/c=3', 'cw/r/d=old-d'] });
    assert.equal(seen.get('Put'), 2, 'the scan sent the two kept puts (a, c) first');
    assert.equal(seen.get('Delete'), 1, 'and the kept delete (b)');
    const after = await client.scanAll({ prefix: 'cw/r/' });
    assert.deepEqual(after.map((kv) => `${kv.key.toString()}=${kv.value.toString()}`), ['cw/r/a=2', 'cw/r/c=3', 'cw/r/d=old-d']);
  });

  it('program order holds with concurrent reads: a read issued after a write sees it, a write issued after a read does not change what it read (kept and sent writes)', async function () {
    for (const bufferTxnWrites of [true, false]) {
      const c = f.client({ bufferTxnWrites });
      const p = `cw/order/${bufferTxnWrites}/`;
      await c.put(`${p}x`, 'old');
      const got = await c.txn(async (tx) => {
        // Not awaited one by one: issued in this order, the reads may run together.
        const r1 = tx.get(`${p}x`);
        const r2 = tx.get(`${p}y`);
        const w = tx.put(`${p}x`, 'new');
        const r3 = tx.get(`${p}x`);
        const d = tx.delete(`${p}x`);
        const r4 = tx.get(`${p}x`);
        await Promise.all([w, d]);
        return [(await r1).value?.toString(), (await r2).found, (await r3).value?.toString(), (await r4).found];
      });
      assert.deepEqual(got, ['old', false, 'new', false], `bufferTxnWrites ${bufferTxnWrites}`);
      assert.equal((await c.get(`${p}x`)).found, false);
    }
  });

  it('a large transaction sends its kept writes ahead in bounded requests and commits every one', async function () {
    const { client, seen } = counting();
    const N = 2500;
    await client.txn(async (tx) => {
      for (let i = 0; i < N; i++) void tx.put(`cw/big/${String(i).padStart(5, '0')}`, `v${i}`);
    });
    const puts = seen.get('Put') ?? 0;
    assert.ok(puts >= 2000 && puts < N, `${puts} of ${N} writes went ahead as Puts (1001 at a time), the rest with the commit`);
    const all = await client.scanAll({ prefix: 'cw/big/' });
    assert.equal(all.length, N);
    assert.equal(all[N - 1]!.value.toString(), `v${N - 1}`);
  });

  it('a Commit reply lost after the node committed: the retry (same session, same writes) applies nothing twice', async function () {
    const { client, lost } = counting();
    const key = 'cw/eo/counter';
    await client.put(key, '0');
    const ROUNDS = 12;
    for (let n = 0; n < ROUNDS; n++) {
      lost.dropNext(1, ['Commit']);
      await client.txn(async (tx) => {
        const cur = Number((await tx.get(key)).value!.toString());
        void tx.put(key, String(cur + 1));
      });
    }
    assert.equal(lost.totalDropped, ROUNDS);
    assert.equal((await client.get(key)).value?.toString(), String(ROUNDS), 'every increment exactly once');
  });

  it('a Commit carrying writes for a transaction the node does not know is TXN_NOT_FOUND and writes nothing', async function () {
    const c = f.client();
    await assert.rejects(c.commit('t00000000000000000000000000', { mutations: [{ op: 'put', key: 'cw/unknown', value: 'x' }] }), KvTxnNotFoundError);
    const b = await c.begin();
    await c.rollback(b.txnId);
    await assert.rejects(c.commit(b.txnId, { mutations: [{ op: 'put', key: 'cw/rolled-back', value: 'x' }] }), KvTxnNotFoundError);
    assert.equal((await c.get('cw/unknown')).found, false);
    assert.equal((await c.get('cw/rolled-back')).found, false);
  });

  it('bad carried writes are refused with the field named, and nothing of the transaction commits', async function () {
    const c = f.client();
    const b = await c.begin();
    await assert.rejects(
      c.commit(b.txnId, { mutations: [{ op: 'put', key: 'cw/bad/ok', value: 'x' }, { op: 'put', key: '', value: 'y' }] }),
      (e: Error) => /writes\[1\]\.key/.test(e.message),
    );
    await c.rollback(b.txnId).catch(() => undefined);
    assert.equal((await c.get('cw/bad/ok')).found, false);
  });
});
