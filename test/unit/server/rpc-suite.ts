// The RPC conformance suite: every kvs.v1.Kv method through a real gRPC server (127.0.0.1, ephemeral
// port) and the client library, over a store made by `makeStore` (the fake store, or openLocalStore).
// It runs twice: over BatchStream (the client's default transport) and over unary calls.
import assert from 'node:assert/strict';
import {
  KvClient,
  KvConflictError,
  KvInvalidArgumentError,
  KvResourceExhaustedError,
  KvTxnNotFoundError,
} from '../../../node/src/client/index.js';
import type { KvStore } from '../../../node/src/kv/api.js';
import type { ServerMetrics } from '../../../node/src/server/metrics.js';
import { startTestNode, type TestNode } from '../../helpers/test-node.js';

export const TRANSPORTS = ['stream', 'unary'] as const;

export function rpcSuite(name: string, makeStore: (metrics: ServerMetrics) => Promise<KvStore> | KvStore): void {
  for (const transport of TRANSPORTS) rpcSuiteOver(name, makeStore, transport);
}

function rpcSuiteOver(name: string, makeStore: (metrics: ServerMetrics) => Promise<KvStore> | KvStore, transport: (typeof TRANSPORTS)[number]): void {
  describe(`kv-service RPCs over ${name} (transport: ${transport})`, function () {
    this.timeout(20_000);
    let t: TestNode;
    let c: KvClient;
    before(async () => {
      t = await startTestNode({ makeStore, limits: { maxKeyBytes: 64, maxValueBytes: 1024, maxBatchMutations: 5, maxScanLimit: 50, maxReceiveMessageBytes: 64 * 1024 } });
      c = new KvClient({ endpoints: t.endpoint, timeoutMs: 5000, transport });
    });
    after(async () => {
      c?.close();
      await t?.stop();
    });

    it('Put / Get / versions / snapshot reads', async () => {
      const p1 = await c.put('k1', 'v1');
      assert.equal(p1.succeeded, true);
      assert.ok(p1.version > 0);
      const p2 = await c.put('k1', 'v2', { returnPrev: true });
      assert.ok(p2.version > p1.version);
      assert.equal(p2.prevFound, true);
      assert.equal(p2.prevValue?.toString(), 'v1');
      const g = await c.get('k1');
      assert.equal(g.found, true);
      assert.equal(g.value?.toString(), 'v2');
      assert.equal(g.version, p2.version);
      assert.ok(g.readTs >= p2.version);
      const old = await c.get('k1', { snapshotTs: p1.version });
      assert.equal(old.value?.toString(), 'v1');
      const missing = await c.get('nope');
      assert.equal(missing.found, false);
      assert.equal(missing.value, undefined);
    });

    it('Put with empty value and binary keys', async () => {
      const key = Buffer.from([0, 1, 0xff]);
      await c.put(key, Buffer.alloc(0));
      const g = await c.get(key);
      assert.equal(g.found, true);
      assert.equal(g.value?.length, 0);
    });

    it('compare-and-set', async () => {
      assert.equal((await c.put('cas', 'a', { expectAbsent: true })).succeeded, true);
      const fail = await c.put('cas', 'b', { expectAbsent: true });
      assert.equal(fail.succeeded, false);
      assert.equal(fail.version, 0);
      assert.equal(fail.prevValue?.toString(), 'a');
      assert.equal((await c.put('cas', 'b', { expectedValue: 'wrong' })).succeeded, false);
      assert.equal((await c.put('cas', 'b', { expectedValue: 'a' })).succeeded, true);
      assert.equal((await c.get('cas')).value?.toString(), 'b');
    });

    it('Delete / DeleteRange', async () => {
      await c.put('d/1', 'x');
      await c.put('d/2', 'x');
      await c.put('d/3', 'x');
      await c.put('e/1', 'x');
      assert.equal((await c.delete('d/1')).deleted, true);
      assert.equal((await c.delete('d/1')).deleted, false);
      assert.equal((await c.deleteRange({ start: 'd/2', end: 'd/3' })).deleted, 1);
      assert.equal((await c.deleteRange({ prefix: 'd/' })).deleted, 1);
      assert.equal((await c.get('e/1')).found, true);
    });

    it('Scan: prefix, range, reverse, keys-only, limit/more, paging helpers', async () => {
      for (let i = 0; i < 20; i++) await c.put(`s/${String(i).padStart(2, '0')}`, `v${i}`);
      await c.put('s0', 'outside');
      const page = await c.scan({ prefix: 's/', limit: 5 });
      assert.equal(page.kvs.length, 5);
      assert.equal(page.more, true);
      assert.equal(page.kvs[0]!.key.toString(), 's/00');
      const rng = await c.scan({ start: 's/05', end: 's/08' });
      assert.deepEqual(rng.kvs.map((kv) => kv.key.toString()), ['s/05', 's/06', 's/07']);
      assert.equal(rng.more, false);
      const rev = await c.scan({ prefix: 's/', reverse: true, limit: 2 });
      assert.deepEqual(rev.kvs.map((kv) => kv.key.toString()), ['s/19', 's/18']);
      const ko = await c.scan({ prefix: 's/', keysOnly: true, limit: 1 });
      assert.equal(ko.kvs[0]!.value.length, 0);
      // limit above the server cap (50) is capped, not rejected
      assert.equal((await c.scan({ limit: 100_000 })).kvs.length <= 50, true);
      const all = await c.scanPrefix('s/', { pageSize: 3 });
      assert.deepEqual(all.map((kv) => kv.value.toString()), Array.from({ length: 20 }, (_, i) => `v${i}`));
      const allRev = await c.scanAll({ prefix: 's/', pageSize: 7, reverse: true });
      assert.deepEqual(allRev.map((kv) => kv.key.toString()), all.map((kv) => kv.key.toString()).reverse());
      const limited = await c.scanRange('s/03', 's/15', { pageSize: 4, limit: 6 });
      assert.deepEqual(limited.map((kv) => kv.key.toString()), ['s/03', 's/04', 's/05', 's/06', 's/07', 's/08']);
    });

    it('Batch is atomic and ordered', async () => {
      const r = await c.batch([
        { op: 'put', key: 'b/1', value: 'one' },
        { op: 'put', key: 'b/2', value: 'two' },
        { op: 'delete', key: 'b/1' },
      ]);
      assert.ok(r.version > 0);
      assert.equal((await c.get('b/1')).found, false);
      const g2 = await c.get('b/2');
      assert.equal(g2.value?.toString(), 'two');
      assert.equal(g2.version, r.version);
    });

    it('Begin / Get / Put / Scan / Commit / Rollback', async () => {
      await c.put('t/a', '1');
      const { txnId, startTs } = await c.begin();
      assert.ok(txnId.length > 0);
      assert.ok(startTs > 0);
      await c.put('t/b', '2', { txnId });
      assert.equal((await c.get('t/b', { txnId })).value?.toString(), '2', 'reads its own writes');
      assert.equal((await c.get('t/b')).found, false, 'not visible outside before commit');
      const sc = await c.scan({ prefix: 't/', txnId });
      assert.deepEqual(sc.kvs.map((kv) => kv.key.toString()), ['t/a', 't/b']);
      await c.delete('t/a', { txnId });
      const { commitTs } = await c.commit(txnId);
      assert.ok(commitTs > startTs);
      assert.equal((await c.get('t/b')).value?.toString(), '2');
      assert.equal((await c.get('t/a')).found, false);

      const t2 = await c.begin();
      await c.put('t/c', '3', { txnId: t2.txnId });
      await c.rollback(t2.txnId);
      assert.equal((await c.get('t/c')).found, false);
      await assert.rejects(c.commit(t2.txnId), KvTxnNotFoundError);
    });

    it('conflicting commits: ABORTED with the key, typed KvConflictError', async () => {
      await c.put('acct', '100');
      const a = await c.begin();
      const b = await c.begin();
      await c.get('acct', { txnId: a.txnId });
      await c.get('acct', { txnId: b.txnId });
      await c.put('acct', '90', { txnId: a.txnId });
      await c.put('acct', '80', { txnId: b.txnId });
      await c.commit(a.txnId);
      await assert.rejects(c.commit(b.txnId), (err: unknown) => {
        assert.ok(err instanceof KvConflictError, String(err));
        assert.equal(err.key?.toString(), 'acct');
        assert.equal(err.grpcCode, 10);
        return true;
      });
      assert.equal((await c.get('acct')).value?.toString(), '90');
    });

    it('txn helper retries conflicts and returns the result', async () => {
      await c.put('ctr', '0');
      const other = new KvClient({ endpoints: t.endpoint, transport });
      let runs = 0;
      const result = await c.txn(async (tx) => {
        runs++;
        const v = Number((await tx.get('ctr')).value);
        if (runs === 1) await other.put('ctr', '100'); // a concurrent writer → conflict on the first run
        void tx.put('ctr', String(v + 1)); // queued: a failure surfaces at commit
        return v + 1;
      });
      other.close();
      assert.equal(runs, 2);
      assert.equal(result, 101);
      assert.equal((await c.get('ctr')).value?.toString(), '101');
    });

    it('txn helper gives up after maxAttempts with the conflict error', async () => {
      await c.put('hot', '0');
      const other = new KvClient({ endpoints: t.endpoint, transport });
      let runs = 0;
      await assert.rejects(
        c.txn(
          async (tx) => {
            runs++;
            await tx.get('hot');
            await other.put('hot', String(runs));
            void tx.put('hot', 'mine'); // queued: a failure surfaces at commit
          },
          { maxAttempts: 3 },
        ),
        KvConflictError,
      );
      other.close();
      assert.equal(runs, 3);
    });

    it('Status', async () => {
      const s = await c.status();
      assert.equal(s.nodeId, 'test-node');
      assert.match(s.version, /^\d+\.\d+\.\d+/);
      assert.ok(s.appliedTs > 0);
      assert.ok(s.uptimeMs >= 0);
    });

    it('limits → INVALID_ARGUMENT with clear messages', async () => {
      const inv = async (p: Promise<unknown>, field: string, re: RegExp) =>
        assert.rejects(p, (err: unknown) => {
          assert.ok(err instanceof KvInvalidArgumentError, String(err));
          assert.equal(err.field, field);
          assert.match(err.message, re);
          assert.equal(err.grpcCode, 3);
          return true;
        });
      await inv(c.put('', 'x'), 'key', /key: must not be empty/);
      await inv(c.get(''), 'key', /must not be empty/);
      await inv(c.put('k'.repeat(65), 'x'), 'key', /key: 65 bytes exceeds the limit of 64 bytes/);
      await inv(c.put('k', 'v'.repeat(1025)), 'value', /value: 1025 bytes exceeds the limit of 1024 bytes/);
      await inv(c.batch(Array.from({ length: 6 }, (_, i) => ({ op: 'put' as const, key: `k${i}`, value: 'v' }))), 'mutations', /6 mutations exceeds the limit of 5/);
      await inv(c.batch([]), 'mutations', /at least 1/);
      await inv(c.scan({ start: 'z', end: 'a' }), 'start', /start > end/);
      await inv(c.deleteRange({}), 'start', /one of start, end or prefix/);
      await inv(c.get('k', { txnId: 'not a txn id' }), 'txn_id', /malformed transaction id/);
      await inv(c.commit(''), 'txn_id', /must not be empty/);
    });

    it('messages above max_receive_message_length → RESOURCE_EXHAUSTED', async () => {
      const big = Array.from({ length: 5 }, (_, i) => ({ op: 'put' as const, key: `big${i}`, value: Buffer.alloc(1024) }));
      await c.batch(big); // 5 KiB fits in 64 KiB
      const raw = new KvClient({ endpoints: t.endpoint, transport });
      await assert.rejects(raw.put('k', Buffer.alloc(100 * 1024)), KvResourceExhaustedError);
      raw.close();
    });

    it(`requests travel over the ${transport} transport`, async () => {
      const before = await t.metrics.streamFrameRequests.get();
      const frames0 = before.values.find((v) => v.metricName === 'kvs_stream_frame_requests_count')?.value ?? 0;
      await Promise.all(Array.from({ length: 20 }, (_, i) => c.get(`via/${i}`)));
      const after = await t.metrics.streamFrameRequests.get();
      const frames = (after.values.find((v) => v.metricName === 'kvs_stream_frame_requests_count')?.value ?? 0) - frames0;
      if (transport === 'stream') {
        assert.ok(frames >= 1 && frames <= 2, `20 gets issued in one turn arrived in ${frames} frame(s)`);
      } else assert.equal(frames, 0);
    });

    it('unknown transaction → TXN_NOT_FOUND', async () => {
      await assert.rejects(c.get('k', { txnId: '00000000-0000-4000-8000-000000000000' }), KvTxnNotFoundError);
    });
  });
}
