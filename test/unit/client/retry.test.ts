import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import {
  ClientSession,
  KvCancelledError,
  KvClient,
  KvDeadlineError,
  KvInvalidArgumentError,
  KvUnavailableError,
  LostReplyInjector,
  parseEndpoints,
} from '../../../node/src/client/index.js';
import { StoreClosedError, TxnNotFoundError } from '../../../node/src/kv/errors.js';
import { FakeStore } from '../../helpers/fake-store.js';
import { startTestNode } from '../../helpers/test-node.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('client: sessions', function () {
  this.timeout(10_000);
  it('seqs increase; first_unacked is the lowest in-flight seq', () => {
    const s = new ClientSession('cid');
    assert.equal(s.firstUnacked(), 1);
    const a = s.acquire();
    const b = s.acquire();
    const c = s.acquire();
    assert.deepEqual([a, b, c], [1, 2, 3]);
    assert.deepEqual(s.header(c), { clientId: 'cid', seq: 3, firstUnacked: 1 });
    s.release(a);
    assert.equal(s.firstUnacked(), 2);
    s.release(c);
    assert.equal(s.firstUnacked(), 2);
    s.release(b);
    assert.equal(s.firstUnacked(), 4, 'nothing in flight: the next seq');
    assert.equal(s.pending, 0);
    assert.match(new ClientSession().clientId, /^[0-9a-f-]{36}$/);
  });

  it('a retried write carries the same seq (server sees one seq per logical write)', async () => {
    const t = await startTestNode<FakeStore>();
    const inj = new LostReplyInjector({ dropNext: 3, methods: ['Put'] });
    const c = new KvClient({ endpoints: t.endpoint, lostReplies: inj, backoff: { initialMs: 1, maxMs: 5 } });
    const r = await c.put('k', 'v');
    assert.equal(r.succeeded, true);
    assert.equal(inj.totalDropped, 3);
    assert.equal(t.store.applied, 1, 'applied once');
    assert.equal(t.store.dedupHits, 3, 'three retries answered from the session table');
    assert.equal(c.retries, 3);
    assert.equal(c.session!.pending, 0);
    c.close();
    await t.stop();
  });
});

describe('client: endpoints, retries, backoff', function () {
  this.timeout(30_000);

  it('parses endpoint lists', () => {
    assert.deepEqual(parseEndpoints(' a:1, b:2 ,'), ['a:1', 'b:2']);
    assert.deepEqual(parseEndpoints(['[::1]:7379']), ['[::1]:7379']);
    assert.throws(() => parseEndpoints(''), KvInvalidArgumentError);
    assert.throws(() => parseEndpoints('nohost'), /malformed endpoint "nohost"/);
  });

  it('backoff grows exponentially, capped, with jitter in [base/2, base]', () => {
    const c = new KvClient({ endpoints: '127.0.0.1:1', backoff: { initialMs: 10, maxMs: 100, multiplier: 2 }, random: () => 0.999999 });
    const d = [1, 2, 3, 4, 5, 6].map((n) => Math.round(c.backoffDelay(n)));
    assert.deepEqual(d, [10, 20, 40, 80, 100, 100]);
    const lo = new KvClient({ endpoints: '127.0.0.1:1', backoff: { initialMs: 10, maxMs: 100 }, random: () => 0 });
    assert.equal(lo.backoffDelay(3), 20);
    c.close();
    lo.close();
  });

  it('rotates past a dead endpoint', async () => {
    const t = await startTestNode();
    const dead = `127.0.0.1:${await freePort()}`;
    for (const order of [[dead, t.endpoint], [t.endpoint, dead]]) {
      const c = new KvClient({ endpoints: order, backoff: { initialMs: 1, maxMs: 5 } });
      for (let i = 0; i < 5; i++) await c.put(`r${i}`, 'v');
      assert.equal((await c.get('r4')).found, true);
      c.close();
    }
    await t.stop();
  });


  it("start 'first' sends every first attempt to the first endpoint; 'random' spreads; bad values refused", async () => {
    const a = await startTestNode<FakeStore>();
    const b = await startTestNode<FakeStore>();
    for (let i = 0; i < 8; i++) {
      const c = new KvClient({ endpoints: [a.endpoint, b.endpoint], start: 'first', random: () => 0.99 });
      await c.put(`f${i}`, 'v');
      c.close();
    }
    assert.equal(a.store.applied, 8, 'all on the preferred endpoint');
    assert.equal(b.store.applied, 0);
    const c = new KvClient({ endpoints: [a.endpoint, b.endpoint], random: () => 0.99 });
    await c.put('r', 'v');
    c.close();
    assert.equal(b.store.applied, 1, "default 'random' start picks by the random source");
    assert.throws(() => new KvClient({ endpoints: [a.endpoint], start: 'leader' as never }), KvInvalidArgumentError);
    await a.stop();
    await b.stop();
  });
  it('transactions pin one endpoint and move past a dead one', async () => {
    const t = await startTestNode();
    const dead = `127.0.0.1:${await freePort()}`;
    const c = new KvClient({ endpoints: [dead, t.endpoint], timeoutMs: 2000, attemptTimeoutMs: 500, backoff: { initialMs: 1, maxMs: 5 } });
    await c.put('tx', '0');
    for (let i = 0; i < 4; i++) {
      await c.txn(async (tx) => {
        const v = Number((await tx.get('tx')).value);
        void tx.put('tx', String(v + 1)); // queued: a failure surfaces at commit
      });
    }
    assert.equal((await c.get('tx')).value?.toString(), '4');
    c.close();
    await t.stop();
  });

  it('no server at all: KvUnavailableError or KvDeadlineError within the deadline', async () => {
    const c = new KvClient({ endpoints: `127.0.0.1:${await freePort()}`, timeoutMs: 700, backoff: { initialMs: 10, maxMs: 50 } });
    const t0 = Date.now();
    await assert.rejects(c.get('k'), (err: unknown) => {
      assert.ok(err instanceof KvDeadlineError || err instanceof KvUnavailableError, String(err));
      assert.match((err as Error).message, /Get: deadline of 700 ms exceeded after \d+ attempt\(s\); last error: .*(UNAVAILABLE|ECONNREFUSED|No connection|deadline of \d+ ms exceeded)|no endpoint/i);
      return true;
    });
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    c.close();
  });

  it('a slow server: per-attempt deadline, then KvDeadlineError at the operation deadline', async () => {
    const t = await startTestNode<FakeStore>();
    t.store.delayMs = 1000;
    const c = new KvClient({ endpoints: t.endpoint, timeoutMs: 400, attemptTimeoutMs: 150, backoff: { initialMs: 5, maxMs: 10 } });
    const t0 = Date.now();
    await assert.rejects(c.get('k'), KvDeadlineError);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    assert.ok(c.retries >= 1);
    c.close();
    t.store.delayMs = 0;
    await t.stop();
  });

  it('STORE_CLOSED (UNAVAILABLE) is retried', async () => {
    const t = await startTestNode<FakeStore>();
    t.store.failNext(new StoreClosedError());
    t.store.failNext(new StoreClosedError());
    const c = new KvClient({ endpoints: t.endpoint, backoff: { initialMs: 1, maxMs: 5 } });
    assert.equal((await c.put('k', 'v')).succeeded, true);
    assert.equal(c.retries, 2);
    c.close();
    await t.stop();
  });

  it('txn helper: a transaction that vanished (idle timeout) before or at commit is re-run', async () => {
    const t = await startTestNode<FakeStore>();
    const c = new KvClient({ endpoints: t.endpoint, backoff: { initialMs: 1, maxMs: 5 } });
    t.store.failNext(new TxnNotFoundError('gone-1'), 'commit');
    t.store.failNext(new TxnNotFoundError('gone-2'), 'get');
    const out = await c.txnDetailed(async (tx) => {
      await tx.get('x');
      void tx.put('x', '1'); // queued: a failure surfaces at commit
    });
    assert.equal(out.attempts, 3);
    assert.equal((await c.get('x')).value?.toString(), '1');
    assert.equal(t.store.applied, 1);
    c.close();
    await t.stop();
  });

  it('non-retryable errors are not retried', async () => {
    const t = await startTestNode<FakeStore>();
    const c = new KvClient({ endpoints: t.endpoint });
    await assert.rejects(c.put('', 'v'), KvInvalidArgumentError);
    assert.equal(c.retries, 0);
    c.close();
    await t.stop();
  });

  it('close() cancels a retrying call', async () => {
    const c = new KvClient({ endpoints: `127.0.0.1:${await freePort()}`, timeoutMs: 10_000, backoff: { initialMs: 200, maxMs: 200 } });
    const p = c.get('k');
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    await assert.rejects(p, KvCancelledError);
    await assert.rejects(c.get('k'), KvCancelledError);
  });

  it('survives a server restart: writes issued while the node is down complete after it comes back, once', async () => {
    const store = new FakeStore();
    let t = await startTestNode({ store, ownsStore: false });
    const endpoint = t.endpoint;
    const c = new KvClient({ endpoints: endpoint, timeoutMs: 10_000, backoff: { initialMs: 20, maxMs: 200 } });
    await c.put('before', '1');
    await t.node.shutdown(1000);
    await store.close();
    const pending = Promise.all([c.put('during-1', 'x'), c.batch([{ op: 'put', key: 'during-2', value: 'y' }]), c.get('before')]);
    await new Promise((r) => setTimeout(r, 700));
    store.reopen();
    t = await startTestNode({ store, listen: endpoint, ownsStore: false });
    const [p, b, g] = await pending;
    assert.equal(p.succeeded, true);
    assert.ok(b.version > 0);
    assert.equal(g.value?.toString(), '1');
    assert.equal((await c.get('during-1')).value?.toString(), 'x');
    assert.ok(c.retries > 0, 'the client had to retry');
    assert.equal(store.applied, 3, 'each write applied once');
    c.close();
    await t.stop();
  });
});

describe('client: a lost reply, then a node restart over the same data dir', function () {
  this.timeout(30_000);
  it('the retry after the restart gets the original result (sessions survive restarts)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openLocalStore } = await import('../../../node/src/kv/local-store.js');
    const { silentLogger } = await import('../../../node/src/common/logger.js');
    const dir = mkdtempSync(join(tmpdir(), 'kvs-restart-'));
    const open = () => openLocalStore({ dir, nodeId: 'test-node', logger: silentLogger() });
    let t = await startTestNode({ store: await open() });
    const endpoint = t.endpoint;
    let restarts = 0;
    const inj = new LostReplyInjector({
      methods: ['Put'],
      onDrop: async () => {
        // The put was applied and its reply is lost; the node restarts before the client learns anything.
        await t.stop();
        t = await startTestNode({ store: await open(), listen: endpoint });
        restarts++;
      },
    });
    const c = new KvClient({ endpoints: endpoint, lostReplies: inj, backoff: { initialMs: 10, maxMs: 100 } });
    inj.dropNext(1);
    const r = await c.put('once', 'v', { expectAbsent: true });
    assert.equal(restarts, 1);
    assert.equal(r.succeeded, true, 'a re-applied put-if-absent would report succeeded=false');
    assert.ok(r.version > 0);
    assert.equal((await c.get('once')).version, r.version);
    c.close();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
