// Ranges on some stores only (what placement and drains produce): a store without a replica of a range
// in a scan's span refuses the scan retryably instead of skipping the range (it used to answer without
// that range's keys), and the client then reads the page range by range from the meta directory's range
// table, each piece at a store that holds it — forward, reverse, with limits. Negative control: with the
// piecewise fallback off, a client that can only reach that store gets the routing error.
import assert from 'node:assert/strict';
import { AdminClient, KvClient } from '../../node/src/client/index.js';
import { KvRoutingError } from '../../node/src/client/errors.js';
import { addReplica } from '../../node/src/client/range-moves.js';
import { ProcessCluster, collectLogsOnFailure, until, startRaftCluster } from '../helpers/cluster-process.js';
import { dropReplica, splitThree } from '../helpers/partial-placement.js';

const b = (s: string) => Buffer.from(s);
const keys = ['a', 'h', 'q'].flatMap((p) => Array.from({ length: 10 }, (_, i) => `${p}${i}`));

describe('scans over ranges a store does not hold (multi-process, 4 stores)', function () {
  this.timeout(180_000);
  let cluster: ProcessCluster;
  let admin: AdminClient;
  let middle = 0;
  const clients: KvClient[] = [];

  before(async function () {
    // Parallel commits (and their 10 ms secondary hold), the default, set explicitly: remote participants
    // and sessions across ranges are where they differ from two rounds. The DeleteRange cases below failed
    // with them before the DeleteRange kept to two rounds (its retries reuse the session seq, which a
    // staging prepare stores at once); two rounds are covered by the unit suites and half the nemesis seeds.
    cluster = await startRaftCluster(180, { size: 4, env: { KVS_TXN_PARALLEL_COMMIT: 'true' } });
    admin = new AdminClient(cluster.addresses, 10_000);
    middle = await splitThree(admin);
    const w = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
    for (const k of keys) await w.put(k, `v-${k}`);
    w.close();
    // Store 4 gives up its replica of the middle range [g, p).
    await dropReplica(admin, middle, 4, cluster.addresses[3]!);
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async function () {
    for (const c of clients) c.close();
    admin?.close();
    await cluster?.cleanup();
  });

  const client = (o: Partial<ConstructorParameters<typeof KvClient>[0]> = {}): KvClient => {
    // Store 4 first: the first attempt reaches the store that lacks the middle range.
    const c = new KvClient({ endpoints: [cluster.addresses[3]!, ...cluster.addresses.slice(0, 3)], start: 'first', timeoutMs: 15_000, ...o });
    clients.push(c);
    return c;
  };

  it('the store without the range refuses the scan (never a page without its keys)', async () => {
    const c = client({ endpoints: [cluster.addresses[3]!], maxAttempts: 1, piecewiseScans: false });
    await assert.rejects(c.scan({ limit: 100 }), (e: unknown) => e instanceof Error && /holds no replica of the range of key 67 \(range \d+, led at /.test(e.message));
  });

  it('the client reads the page range by range: every key once, in order, forward and reverse, limits kept', async () => {
    const c = client();
    const all = await c.scan({ limit: 100 });
    assert.deepEqual(all.kvs.map((x) => x.key.toString()), keys);
    assert.equal(all.more, false);
    assert.ok(c.piecewiseScanCount > 0, 'served range by range');
    const rev = await c.scan({ limit: 100, reverse: true });
    assert.deepEqual(rev.kvs.map((x) => x.key.toString()), [...keys].reverse());
    const page = await c.scan({ start: b('a5'), limit: 10 });
    assert.deepEqual(page.kvs.map((x) => x.key.toString()), keys.slice(5, 15));
    assert.equal(page.more, true);
    const revPage = await c.scan({ end: b('q3'), limit: 8, reverse: true });
    assert.deepEqual(revPage.kvs.map((x) => x.key.toString()), keys.slice(15, 23).reverse());
    assert.equal(revPage.more, true);
    const pre = await c.scan({ prefix: b('h') });
    assert.deepEqual(pre.kvs.map((x) => x.key.toString()), keys.slice(10, 20));
    // Paging through everything with small pages.
    const it = await c.scanAll({ pageSize: 7 });
    assert.deepEqual(it.map((x) => x.key.toString()), keys);
  });

  it('negative control: without the range-by-range fallback a client reaching only that store fails', async () => {
    const c = new KvClient({ endpoints: [cluster.addresses[3]!], timeoutMs: 3000, piecewiseScans: false });
    clients.push(c);
    await assert.rejects(c.scan({ limit: 100 }), KvRoutingError);
  });

  it('a plain read of a key store 4 lacks is served through store 4 (a gateway): linearizable, and at a snapshot', async () => {
    const c4 = client({ endpoints: [cluster.addresses[3]!], maxAttempts: 1 });
    const w = client({ endpoints: cluster.addresses.slice(0, 3) });
    for (let i = 0; i < 5; i++) {
      const p = await w.put('h3', `g-${i}`);
      // Acknowledged on another store just before: the read through store 4 must see it.
      const g = await c4.get('h3');
      assert.equal(g.value?.toString(), `g-${i}`);
      assert.equal(g.version, p.version);
      assert.ok(g.readTs >= p.version);
    }
    assert.equal((await c4.get('h-absent')).found, false);
    const before = await w.get('h4');
    await w.put('h4', 'later');
    const snap = await c4.get('h4', { snapshotTs: before.readTs });
    assert.equal(snap.value?.toString(), 'v-h4', 'the read at the earlier snapshot does not see the later write');
    assert.equal((await c4.get('h4')).value?.toString(), 'later');
    await w.put('h3', 'v-h3');
    await w.put('h4', 'v-h4');
  });

  it('Admin.Ranges reports each store\'s data filesystem (statfs): capacity and free bytes, for placement', async () => {
    const { statfsSync } = await import('node:fs');
    for (const a of cluster.addresses) {
      const r = await admin.ranges(a);
      assert.ok((r.capacityBytes ?? 0) > 0 && (r.availableBytes ?? 0) > 0, JSON.stringify({ capacity: r.capacityBytes, available: r.availableBytes }));
      assert.ok(r.availableBytes! <= r.capacityBytes!);
    }
    // The same filesystem the test's data directories are on (within what other writers change meanwhile).
    const fs = statfsSync(cluster.nodes[0]!.dataDir);
    const r0 = await admin.ranges(cluster.addresses[0]!);
    assert.equal(r0.capacityBytes, fs.blocks * fs.bsize);
  });

  it('Admin.Ranges reports each range\'s load (requests per second over its replicas): the range written to has it', async () => {
    const c = client();
    // 40 puts and 40 linearizable gets into the first range [-inf, g).
    for (let i = 0; i < 40; i++) {
      await c.put(`b${i}`, 'x');
      await c.get(`b${i}`);
    }
    const { collectShardMap } = await import('../../node/src/client/range-moves.js');
    const map = await collectShardMap(admin);
    const first = map.ranges.find((r) => r.start.length === 0)!;
    assert.ok(first.writesPerSec > 0 && first.readsPerSec > 0, `the written range reports its load: ${JSON.stringify({ id: first.rangeId, w: first.writesPerSec, r: first.readsPerSec })}`);
    // The writes counted once (the replica they reached), not once per replica: at most the 40 puts
    // (plus the few writes of the earlier tests) over the window of at least a second.
    assert.ok(first.writesPerSec <= 200, `writes/s ${first.writesPerSec}`);
    assert.ok(map.stores.some((s) => s.qps > 0));
    // The later tests count every key of the store.
    for (let i = 0; i < 40; i++) await c.delete(`b${i}`);
  });

  it('single-key writes and a Batch within the range store 4 lacks reach a store that holds it; a Batch across ranges commits atomically', async () => {
    const c = client({ maxAttempts: 6 });
    await c.put('k-put', 'v');
    await c.batch([
      { op: 'put', key: 'k-b1', value: 'v1' },
      { op: 'put', key: 'k-b2', value: 'v2' },
    ]);
    const r = client({ endpoints: cluster.addresses.slice(0, 3) });
    for (const [k, v] of [['k-put', 'v'], ['k-b1', 'v1'], ['k-b2', 'v2']]) assert.equal((await r.get(k!)).value?.toString(), v);
    // Across ranges: atomic, wherever it lands (store 4 reaches the range it lacks remotely).
    const v = await c.batch([{ op: 'put', key: 'a-x', value: '1' }, { op: 'put', key: 'k-x', value: '2' }]);
    assert.equal((await r.get('a-x')).version, v.version);
    assert.equal((await r.get('k-x')).version, v.version);
    await c.batch([{ op: 'delete', key: 'a-x' }, { op: 'delete', key: 'k-x' }]);
    await c.batch([{ op: 'delete', key: 'k-put' }, { op: 'delete', key: 'k-b1' }, { op: 'delete', key: 'k-b2' }]);
  });

  it('transactions and batches coordinated by the store lacking a range reach it remotely: atomic and serializable', async () => {
    const via4 = client({ endpoints: [cluster.addresses[3]!], maxAttempts: 5 });
    const r = client({ endpoints: cluster.addresses.slice(0, 3) });
    // A local range ('a-…') and the range store 4 lacks ('k-…') in one transaction.
    const { commitTs } = await via4.txnDetailed(async (tx) => {
      assert.equal((await tx.get('k-t1')).found, false);
      await tx.put('a-t1', '1');
      await tx.put('k-t1', '1');
      assert.equal((await tx.get('k-t1')).value?.toString(), '1', 'a remote part reads its own writes');
    });
    assert.equal((await r.get('a-t1')).version, commitTs);
    assert.equal((await r.get('k-t1')).version, commitTs);
    // Writes only on the remote range: store 4 cannot hold the commit point (a retried commit whose reply
    // was lost is resolved by fences in its own ranges' logs), so it refuses retryably, nothing written;
    // a client that can reach another store commits there.
    await assert.rejects(
      via4.txn(async (tx) => {
        const v = Number((await tx.get('k-t1')).value?.toString());
        await tx.put('k-t1', String(v + 1));
      }),
      // (the refusal, or — the commit retried on the same store — the fence's "did not commit")
      (e: unknown) => e instanceof Error && /holds no replica of any range the transaction writes|did not commit/.test(e.message),
    );
    assert.equal((await r.get('k-t1')).value?.toString(), '1');
    // Write skew across the local and the remote range: of two transactions reading both and writing
    // one each, one conflicts.
    await r.batch([{ op: 'put', key: 'a-d0', value: '1' }, { op: 'put', key: 'k-d1', value: '1' }]);
    const t1 = await via4.begin();
    const t2 = await via4.begin();
    for (const t of [t1, t2]) {
      await via4.get('a-d0', { txnId: t.txnId });
      await via4.get('k-d1', { txnId: t.txnId });
    }
    await via4.put('a-d0', '0', { txnId: t1.txnId });
    await via4.put('k-d1', '0', { txnId: t2.txnId });
    const outcomes = await Promise.allSettled([via4.commit(t1.txnId), via4.commit(t2.txnId)]);
    assert.ok(outcomes.filter((o) => o.status === 'fulfilled').length <= 1, 'never both');
    const onCall = Number((await r.get('a-d0')).value?.toString()) + Number((await r.get('k-d1')).value?.toString());
    assert.ok(onCall >= 1, `on call: ${onCall}`);
    // A Batch over the local and the remote range, through store 4: one commit ts.
    const v = await via4.batch([{ op: 'put', key: 'a-b9', value: 'x' }, { op: 'put', key: 'k-b9', value: 'x' }]);
    assert.equal((await r.get('a-b9')).version, v.version);
    assert.equal((await r.get('k-b9')).version, v.version);
    await r.batch(['a-t1', 'k-t1', 'a-d0', 'k-d1', 'a-b9', 'k-b9'].map((key) => ({ op: 'delete' as const, key })));
  });

  it('a commit retried on a store lacking its range is resolved there through that range\'s log: committed, never "not committed"', async () => {
    // The first attempt commits a one-range transaction on the middle range through store 1; its reply
    // is "lost" and the same session seq reaches store 4 (a second client with the same session id:
    // its first mutating request is seq 1 again). Store 4 holds no replica of that range: fencing only
    // its own ranges would answer TXN_NOT_FOUND and the client's helper would run the increment again
    // (the nemesis's duplicate, seed 89). It must find the commit in the middle range's log.
    const id = `fence-${Date.now()}`;
    const first = client({ endpoints: [cluster.addresses[0]!], clientId: id });
    const t = await first.begin();
    await first.get('k-fence', { txnId: t.txnId });
    await first.put('k-fence', '1', { txnId: t.txnId });
    const { commitTs } = await first.commit(t.txnId);
    const retry = client({ endpoints: [cluster.addresses[3]!], clientId: id, maxAttempts: 3 });
    assert.deepEqual(await retry.commit(t.txnId), { commitTs }, 'the retry on store 4 is answered with the commit');
    // A seq whose commit never happened is fenced in every range, then reported as not committed.
    const idle = await first.begin();
    await first.put('k-fence2', '1', { txnId: idle.txnId });
    await assert.rejects(retry.commit(idle.txnId), (e: unknown) => e instanceof Error && /did not commit/.test(e.message));
    const r = client({ endpoints: cluster.addresses.slice(0, 3) });
    assert.equal((await r.get('k-fence')).version, commitTs);
    await r.delete('k-fence');
  });

  it('a Batch across ranges retried on a store lacking the range of its smallest key is answered with the first attempt: applied once', async () => {
    // The first attempt runs on store 1 (every range local); its reply is "lost" and the same session
    // seq reaches store 4 (a second client with the same id: its first mutating request is seq 1 again),
    // which lacks the middle range. The commit point of every attempt must be the same range (the one
    // holding the smallest key), wherever the coordinator runs: store 4 used to pick a range it holds
    // (the last one), whose session table had never seen the seq, and the Batch applied twice.
    const id = `batch-eo-${Date.now()}`;
    const mutations = [
      { op: 'put' as const, key: 'k-eo', value: '1' },
      { op: 'put' as const, key: 'q-eo', value: '1' },
    ];
    const first = client({ endpoints: [cluster.addresses[0]!], clientId: id });
    const v1 = await first.batch(mutations);
    const retry = client({ endpoints: [cluster.addresses[3]!], clientId: id, maxAttempts: 3 });
    const v2 = await retry.batch(mutations);
    const r = client({ endpoints: cluster.addresses.slice(0, 3) });
    assert.equal((await r.get('k-eo')).version, v1.version);
    assert.equal((await r.get('q-eo')).version, v1.version, 'the retry wrote nothing');
    assert.equal(v2.version, v1.version, 'the retry is answered with the first attempt');
    await r.batch(mutations.map((m) => ({ op: 'delete' as const, key: m.key })));
  });

  it('a DeleteRange across ranges retried on a store lacking the range of its span\'s start is answered with the first attempt: applied once, same count', async () => {
    // The first attempt runs on store 1 and deletes keys of the middle and the last range; its reply is
    // "lost". Another client then writes keys into the span, and the same session seq reaches store 4,
    // which lacks the middle range. Every attempt's commit point must be the same range (the one holding
    // the span's start): store 4 used to commit in the last range, whose session table had never seen
    // the seq, so the retry deleted again — the other client's writes with it.
    const id = `delrange-eo-${Date.now()}`;
    const w = client({ endpoints: cluster.addresses.slice(0, 3) });
    const mine = ['k-dr0', 'k-dr1', 'k-dr2', 'q-dr0', 'q-dr1', 'q-dr2'];
    for (const k of mine) await w.put(k, 'v');
    const span = { start: b('k-dr'), end: b('q-ds') };
    const first = client({ endpoints: [cluster.addresses[0]!], clientId: id });
    const d1 = await first.deleteRange(span);
    assert.equal(d1.deleted, mine.length);
    // Written after the first attempt, one key in each range (the middle one last: a snapshot begun on
    // the middle range then sees both).
    await w.put('q-dr9', 'written after the first attempt');
    await w.put('k-dr9', 'written after the first attempt');
    const retry = client({ endpoints: [cluster.addresses[3]!], clientId: id, maxAttempts: 3 });
    const d2 = await retry.deleteRange(span);
    assert.equal((await w.get('q-dr9')).found, true, 'the retry deleted nothing');
    assert.equal((await w.get('k-dr9')).found, true, 'the retry deleted nothing');
    assert.deepEqual(d2, d1, 'the retry is answered with the first attempt (its version and count)');
    await w.batch([{ op: 'delete', key: 'k-dr9' }, { op: 'delete', key: 'q-dr9' }]);
  });

  // Last: it deletes keys the scan cases read.
  it('DeleteRange across the range store 4 lacks: atomic through store 4 (one transaction); above the atomic limit refused there before anything is deleted, then deleted range by range with the exact count', async () => {
    const extra = ['f-del', 'm-del', 'p-del'].flatMap((p) => Array.from({ length: 5 }, (_, i) => `${p}${i}`));
    const w = client({ endpoints: cluster.addresses.slice(0, 3) });
    for (const k of extra) await w.put(k, `v-${k}`);
    const span = { start: b('f-del'), end: b('p-dem') };
    const inSpan = [...extra, ...keys].filter((k) => k >= 'f-del' && k < 'p-dem').sort();
    assert.equal(inSpan.length, 25);
    const only4 = client({ endpoints: [cluster.addresses[3]!], maxAttempts: 1, piecewiseScans: false });
    const d = await only4.deleteRange(span);
    assert.equal(d.deleted, 25);
    assert.equal(only4.piecewiseDeleteCount, 0, 'one request: store 4 deleted across the range it lacks');
    // Atomic: a snapshot just below its version sees every key of the span (on both ranges), at it none
    // (range by range, each range would delete at a version of its own).
    const below = await w.scan({ ...span, limit: 100, snapshotTs: d.version - 1 });
    assert.deepEqual(below.kvs.map((x) => x.key.toString()), inSpan);
    assert.deepEqual((await w.scan({ ...span, limit: 100, snapshotTs: d.version })).kvs, []);
    const rest = (await w.scan({ limit: 100 })).kvs.map((x) => x.key.toString());
    assert.deepEqual(rest, [...extra, ...keys].filter((k) => !inSpan.includes(k)).sort(), 'keys outside the span kept');

    // Above the atomic limit (1 000 keys): store 4 refuses before deleting anything; the client then
    // deletes range by range, with the exact count.
    const big = [...Array.from({ length: 1001 }, (_, i) => `m-big${String(i).padStart(4, '0')}`), 'f-big', 'p-big'];
    for (let i = 0; i < big.length; i += 250) await w.batch(big.slice(i, i + 250).map((key) => ({ op: 'put' as const, key, value: 'v' })));
    const bigSpan = { start: b('f-big'), end: b('p-bih') };
    await assert.rejects(only4.deleteRange(bigSpan), KvRoutingError);
    assert.equal((await w.scan({ ...bigSpan, limit: 2000 })).kvs.length, big.length, 'nothing deleted by the refused call');
    const c = client();
    const r = await c.deleteRange(bigSpan);
    assert.equal(c.piecewiseDeleteCount, 1, 'sent range by range');
    assert.equal(r.deleted, big.length);
    assert.deepEqual((await w.scan({ ...bigSpan, limit: 100 })).kvs, []);
  });

  it('a transaction whose range changes replicas under it (remote, then re-added here) fails retryably — it never commits without its reads', async () => {
    const via4 = client({ endpoints: [cluster.addresses[3]!], maxAttempts: 1 });
    const w = client({ endpoints: cluster.addresses.slice(0, 3) });
    await w.put('k-rc-a', '1');
    const t = await via4.begin();
    // Read through a remote part: store 4 lacks the middle range.
    assert.equal((await via4.get('k-rc-a', { txnId: t.txnId })).value?.toString(), '1');
    await w.put('k-rc-a', '2'); // the transaction's read is now stale: its commit must not pass validation
    await addReplica(admin, middle, 4, { timeoutMs: 60_000 });
    await until('store 4 holds the middle range again', async () => ((await admin.ranges(cluster.addresses[3]!)).ranges.some((x) => Number(x.rangeId) === middle) ? true : undefined), 60_000);
    try {
      // The middle range is local now: a new part there would carry no read set (the old code committed).
      await assert.rejects(
        (async () => {
          await via4.put('k-rc-b', 'x', { txnId: t.txnId });
          await via4.put('a-rc', 'x', { txnId: t.txnId });
          await via4.commit(t.txnId);
        })(),
        (e: unknown) => e instanceof Error && /changed while it ran|conflict/i.test(e.message),
      );
      assert.equal((await w.get('k-rc-b')).found, false, 'nothing of the transaction committed');
      assert.equal((await w.get('a-rc')).found, false);
    } finally {
      await dropReplica(admin, middle, 4, cluster.addresses[3]!);
    }
  });
});
