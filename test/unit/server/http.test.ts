import assert from 'node:assert/strict';
import { KvClient } from '../../../node/src/client/index.js';
import { startTestNode, type TestNode } from '../../helpers/test-node.js';
import type { FakeStore } from '../../helpers/fake-store.js';
import { silentLogger } from '../../../node/src/common/logger.js';
import { openLocalStore } from '../../../node/src/kv/local-store.js';
import { startHttpServer, type ReadinessCheck, type ReadinessCondition } from '../../../node/src/server/http.js';
import { ServerMetrics } from '../../../node/src/server/metrics.js';

async function fetchText(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
}

describe('server/http: /metrics /healthz /readyz', function () {
  this.timeout(10_000);
  let t: TestNode<FakeStore>;
  let c: KvClient;
  before(async () => {
    t = await startTestNode<FakeStore>();
    c = new KvClient({ endpoints: t.endpoint });
  });
  after(async () => {
    c.close();
    await t.stop();
  });

  it('/healthz and /readyz are 200 while serving', async () => {
    assert.equal((await fetchText(`${t.httpUrl}/healthz`)).status, 200);
    const r = await fetchText(`${t.httpUrl}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { ready: true });
    assert.match(r.type ?? '', /application\/json/);
    assert.equal((await fetchText(`${t.httpUrl}/nope`)).status, 404);
  });

  it('/metrics exposes every kvs metric family after traffic', async () => {
    await c.put('a', '1');
    await c.get('a');
    await c.batch([{ op: 'put', key: 'b', value: '2' }]);
    await c.put('', 'x').catch(() => undefined);
    await c.txn(async (tx) => {
      await tx.get('a');
      void tx.put('a', '2'); // queued: a failure surfaces at commit
    });
    const m = await fetchText(`${t.httpUrl}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.type ?? '', /text\/plain/);
    for (const family of [
      'kvs_requests_total',
      'kvs_request_duration_seconds',
      'kvs_write_batch_commands',
      'kvs_sync_duration_seconds',
      'kvs_txn_total',
      'kvs_engine_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.match(m.body, new RegExp(`^# TYPE ${family} `, 'm'), `missing ${family}`);
    }
    assert.match(m.body, /^kvs_requests_total\{method="Put",code="OK"\} 1$/m); // the plain put (the txn's rides its commit)
    assert.match(m.body, /^kvs_requests_total\{method="Commit",code="OK"\} 1$/m);
    assert.match(m.body, /^kvs_requests_total\{method="Put",code="INVALID_ARGUMENT"\} 1$/m);
    assert.match(m.body, /^kvs_requests_total\{method="Batch",code="OK"\} 1$/m);
    assert.match(m.body, /^kvs_request_duration_seconds_count\{method="Get"\} [1-9]/m);
    assert.match(m.body, /^kvs_write_batch_commands_count [1-9]/m);
    assert.match(m.body, /^kvs_txn_total\{outcome="committed"\} 1$/m);
    assert.match(m.body, /^kvs_txn_total\{outcome="conflict"\} 0$/m);
    assert.match(m.body, /^kvs_engine_bytes [1-9]/m);
  });

  it('conflicts are counted', async () => {
    const a = await c.begin();
    await c.get('a', { txnId: a.txnId });
    await c.put('a', 'x', { txnId: a.txnId });
    await c.put('a', 'y');
    await c.commit(a.txnId).catch(() => undefined);
    const m = await fetchText(`${t.httpUrl}/metrics`);
    assert.match(m.body, /^kvs_txn_total\{outcome="conflict"\} 1$/m);
    assert.match(m.body, /^kvs_requests_total\{method="Commit",code="ABORTED"\} 1$/m);
  });

  it('calls the client gave up on are counted as CANCELLED', async () => {
    t.store.delayMs = 400;
    const impatient = new KvClient({ endpoints: t.endpoint, timeoutMs: 100, maxAttempts: 1 });
    await assert.rejects(impatient.get('a'));
    impatient.close();
    await new Promise((r) => setTimeout(r, 600));
    t.store.delayMs = 0;
    const m = await fetchText(`${t.httpUrl}/metrics`);
    assert.match(m.body, /^kvs_requests_total\{method="Get",code="CANCELLED"\} 1$/m);
  });

  it('/readyz is 503 when the store fails, and during shutdown', async () => {
    t.store.failNext(new Error('disk on fire'));
    const r = await fetchText(`${t.httpUrl}/readyz`);
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { ready: false, code: 'STORE_UNAVAILABLE', reason: 'disk on fire' });
    assert.equal((await fetchText(`${t.httpUrl}/readyz`)).status, 200);
  });
});

describe('server/http: /readyz readiness conditions', function () {
  this.timeout(10_000);
  it('a failing condition (e.g. a Raft group without a leader) makes /readyz 503 with its code; /healthz stays 200', async () => {
    let state: true | { code: string; reason: string } = { code: 'RAFT_NO_LEADER', reason: 'no known leader of group 1' };
    let other: () => true | { code: string; reason: string } = () => true;
    const t = await startTestNode<FakeStore>({ readiness: [() => state, () => other()] });
    try {
      const r = await fetchText(`${t.httpUrl}/readyz`);
      assert.equal(r.status, 503);
      assert.deepEqual(JSON.parse(r.body), { ready: false, code: 'RAFT_NO_LEADER', reason: 'no known leader of group 1' });
      assert.equal((await fetchText(`${t.httpUrl}/healthz`)).status, 200, 'the process is alive');
      state = true;
      assert.equal((await fetchText(`${t.httpUrl}/readyz`)).status, 200);
      other = () => ({ code: 'X', reason: 'y' });
      assert.deepEqual(JSON.parse((await fetchText(`${t.httpUrl}/readyz`)).body), { ready: false, code: 'X', reason: 'y' }, 'every condition counts');
      other = () => {
        throw new Error('boom');
      };
      assert.deepEqual(JSON.parse((await fetchText(`${t.httpUrl}/readyz`)).body), { ready: false, code: 'CHECK_FAILED', reason: 'boom' });
    } finally {
      await t.stop();
    }
  });
});

describe('server/http: /readyz answers whatever its checks do', function () {
  this.timeout(10_000);
  it('a check that throws synchronously, or a verdict that cannot be rendered, answers 503 (no hang, no unhandled rejection)', async () => {
    const rejections: unknown[] = [];
    const onRejection = (r: unknown) => rejections.push(r);
    process.on('unhandledRejection', onRejection);
    const unrenderable = {
      get code(): string {
        throw new Error('bad verdict');
      },
      reason: 'x',
    };
    let conditions: ReadinessCondition[] = [() => unrenderable];
    let ready: ReadinessCheck = () => Promise.resolve(true);
    const h = await startHttpServer({ host: '127.0.0.1', port: 0, metrics: new ServerMetrics(), logger: silentLogger(), ready: () => ready(), conditions: [() => conditions[0]!()] });
    try {
      const get = async () => {
        const r = await fetch(`http://${h.address}/readyz`, { signal: AbortSignal.timeout(3000) });
        return { status: r.status, body: JSON.parse(await r.text()) as unknown };
      };
      assert.deepEqual(await get(), { status: 503, body: { ready: false, code: 'CHECK_FAILED', reason: 'readiness check failed' } });
      conditions = [() => true];
      ready = () => {
        throw new Error('store gone');
      };
      assert.deepEqual(await get(), { status: 503, body: { ready: false, code: 'STORE_UNAVAILABLE', reason: 'store gone' } });
      ready = () => Promise.resolve(true);
      assert.deepEqual(await get(), { status: 200, body: { ready: true } });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', onRejection);
      await h.close();
    }
  });
});

describe('server: graceful shutdown drains in-flight calls', function () {
  this.timeout(10_000);
  it('a slow call finishes; new calls are refused; the store is closed after', async () => {
    const t = await startTestNode<FakeStore>();
    const c = new KvClient({ endpoints: t.endpoint, timeoutMs: 1500 });
    await c.put('warm', 'up');
    t.store.delayMs = 300;
    const slow = c.put('slow', '1');
    await new Promise((r) => setTimeout(r, 50));
    const stopping = t.node.shutdown(5000);
    const rz = await fetchText(`${t.httpUrl}/readyz`);
    assert.equal(rz.status, 503, 'not ready while draining');
    assert.match(rz.body, /shutting down/);
    const r = await slow;
    assert.equal(r.succeeded, true);
    await stopping;
    assert.equal(t.store.isClosed, true);
    await assert.rejects(c.get('slow'), (err: Error) => /UNAVAILABLE|DEADLINE/.test((err as { code?: string }).code ?? ''));
    c.close();
  });
});

describe('server/http: metrics fed by the real store (openLocalStore StoreObserver)', function () {
  this.timeout(20_000);
  it('group-commit sizes, sync latency, txn outcomes and engine bytes appear', async () => {
    const t = await startTestNode({ makeStore: (m) => openLocalStore({ nodeId: 'test-node', logger: silentLogger(), observer: m.storeObserver() }) });
    const c = new KvClient({ endpoints: t.endpoint });
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.put(`k${i}`, 'v'.repeat(100))));
    await c.txn(async (tx) => {
      await tx.get('k1');
      void tx.put('k1', 'w'); // queued: a failure surfaces at commit
    });
    const m = await fetchText(`${t.httpUrl}/metrics`);
    assert.match(m.body, /^kvs_write_batch_commands_count [1-9]/m);
    assert.match(m.body, /^kvs_sync_duration_seconds_count [1-9]/m);
    assert.match(m.body, /^kvs_txn_total\{outcome="committed"\} 1$/m);
    assert.match(m.body, /^kvs_engine_bytes \d+/m);
    c.close();
    await t.stop();
  });
});
