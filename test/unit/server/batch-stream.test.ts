// kvs.v1.Kv/BatchStream on a real gRPC server, driven with hand-built frames (no client library):
// dispatch through the unary handlers, coalesced replies, malformed sub-requests and frames, the
// in-flight bound, metrics per method, a client that goes away mid-flight, and shutdown draining.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadKvProto } from '../../../node/src/common/proto.js';
import { encodeRequestItem, type StreamMethod } from '../../../node/src/common/stream-frames.js';
import { RawBatchStream } from '../../helpers/raw-batch-stream.js';
import { KvClient } from '../../../node/src/client/index.js';
import type { FakeStore } from '../../helpers/fake-store.js';
import { startTestNode, type TestNode } from '../../helpers/test-node.js';

const svc = loadKvProto().kvs.v1.Kv.service;
const body = (m: StreamMethod, v: unknown): Buffer => (svc[m]!.requestSerialize as (x: unknown) => Buffer)(v);
const item = (id: number, m: StreamMethod, v: unknown, timeoutMs = 0): Buffer => encodeRequestItem(id, timeoutMs, m, body(m, v));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RawBatchStream plus assertions on one request's reply. */
class RawStream extends RawBatchStream {
  result(id: number, m: StreamMethod): Record<string, unknown> {
    const r = this.byId.get(id);
    assert.ok(r, `no reply for ${id}`);
    assert.equal(r.error, undefined, `request ${id} failed: ${JSON.stringify(r.error)}`);
    assert.equal(r.method, m);
    return svc[m]!.responseDeserialize(r.body!) as Record<string, unknown>;
  }

  error(id: number): { code: number; errorCode?: string; message: string; field?: string } {
    const r = this.byId.get(id);
    assert.ok(r?.error, `request ${id}: expected an error, got ${r ? r.method : 'nothing'}`);
    return r.error;
  }
}

/** Sum of a metric's samples matching `labels`; `_count` / `_sum` select a histogram's series. */
async function metric(t: TestNode, name: string, labels: Record<string, string> = {}): Promise<number> {
  const base = name.replace(/_(count|sum)$/, '');
  const data = await t.metrics.registry.getSingleMetric(base)!.get();
  return data.values
    .filter((v) => {
      const n = (v as { metricName?: string }).metricName;
      return name === base ? !n || n === base : n === name;
    })
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((a, v) => a + v.value, 0);
}

describe('server: BatchStream', function () {
  this.timeout(20_000);
  let t: TestNode<FakeStore>;
  beforeEach(async () => {
    t = await startTestNode<FakeStore>({ limits: { maxStreamInFlight: 8, maxReceiveMessageBytes: 256 * 1024, maxValueBytes: 64 * 1024 } });
  });
  afterEach(async () => {
    t.store.delayMs = 0;
    await t.stop();
  });

  it('runs every method through the unary handlers; one frame in, replies of a turn in one frame', async () => {
    const s = new RawStream(t.endpoint);
    s.send(
      item(1, 'Put', { key: Buffer.from('a'), value: Buffer.from('1'), header: { clientId: 'raw', seq: 1, firstUnacked: 1 } }),
      item(2, 'Put', { key: Buffer.from('b'), value: Buffer.from('2') }),
      item(3, 'Batch', { mutations: [{ op: 'PUT', key: Buffer.from('c'), value: Buffer.from('3') }] }),
      item(4, 'Status', {}),
    );
    await s.until(() => s.byId.size === 4);
    assert.equal(s.frames.length, 1, 'the four replies completed in one turn share a frame');
    assert.equal(s.maxRequestFrameBytes, 256 * 1024, 'the first frame announces the server limit');
    assert.equal(s.result(1, 'Put').succeeded, true);
    assert.equal(s.result(4, 'Status').nodeId, 'test-node');
    // Same session seq again: answered from the session table, not applied twice.
    const applied = t.store.applied;
    s.send(item(5, 'Put', { key: Buffer.from('a'), value: Buffer.from('1'), header: { clientId: 'raw', seq: 1, firstUnacked: 1 } }), item(6, 'Get', { key: Buffer.from('b') }));
    await s.until(() => s.byId.size === 6);
    assert.equal(t.store.applied, applied);
    assert.equal(t.store.dedupHits, 1);
    assert.equal(s.result(5, 'Put').version, s.result(1, 'Put').version);
    assert.equal((s.result(6, 'Get').value as Buffer).toString(), '2');
    // Transactions span frames on one stream.
    s.send(item(7, 'Begin', {}));
    await s.until(() => s.byId.has(7));
    const txnId = s.result(7, 'Begin').txnId as string;
    s.send(item(8, 'Put', { key: Buffer.from('t'), value: Buffer.from('x'), txnId }));
    await s.until(() => s.byId.has(8));
    s.send(item(9, 'Commit', { txnId }), item(10, 'Scan', { prefix: Buffer.from('') , start: Buffer.from('a'), end: Buffer.from('z') }));
    await s.until(() => s.byId.has(10));
    assert.ok((s.result(9, 'Commit').commitTs as number) > 0);
    // Metrics: sub-requests are counted per method; frames in the histogram.
    assert.equal(await metric(t, 'kvs_requests_total', { method: 'Put', code: 'OK' }), 4);
    assert.equal(await metric(t, 'kvs_stream_frame_requests_count'), 5);
    assert.equal(await metric(t, 'kvs_stream_frame_requests_sum'), 10);
    s.close();
  });

  it('typed errors carry the unary details; malformed sub-requests → INVALID_ARGUMENT; the stream goes on', async () => {
    const s = new RawStream(t.endpoint);
    const broken = Buffer.from([0x08, 21, (11 << 3) | 2, 100, 1]);
    const garbageBody = encodeRequestItem(22, 0, 'Get', Buffer.from([0x12, 0x64, 0x41]));
    s.send(
      item(20, 'Get', { key: Buffer.alloc(0) }),
      Buffer.concat([Buffer.from([0x0a, broken.length]), broken]),
      garbageBody,
      item(23, 'Commit', { txnId: 'no-such-txn' }),
      item(24, 'Put', { key: Buffer.from('k'), value: Buffer.alloc(65 * 1024) }),
    );
    await s.until(() => s.byId.size === 5);
    const e20 = s.error(20);
    assert.equal(e20.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(e20.errorCode, 'INVALID_ARGUMENT');
    assert.equal(e20.field, 'key');
    assert.equal(s.error(21).code, grpc.status.INVALID_ARGUMENT);
    assert.match(s.error(21).message, /malformed sub-request/);
    assert.match(s.error(22).message, /^request: malformed protobuf message for Get/);
    assert.equal(s.error(23).code, grpc.status.NOT_FOUND);
    assert.equal(s.error(23).errorCode, 'TXN_NOT_FOUND');
    assert.match(s.error(24).message, /value: 66560 bytes exceeds the limit of 65536 bytes/);
    s.send(item(25, 'Put', { key: Buffer.from('still'), value: Buffer.from('ok') }));
    await s.until(() => s.byId.has(25));
    assert.equal(s.result(25, 'Put').succeeded, true);
    assert.equal(await metric(t, 'kvs_requests_total', { method: 'BatchStream', code: 'INVALID_ARGUMENT' }), 1);
    assert.equal(await metric(t, 'kvs_requests_total', { method: 'Get', code: 'INVALID_ARGUMENT' }), 2);
    s.close();
  });

  it('an unparseable frame ends that stream with INVALID_ARGUMENT; the node keeps serving', async () => {
    const s = new RawStream(t.endpoint);
    s.send(Buffer.from([0x0a, 0x05, 0x08]));
    await s.until(() => s.status !== undefined);
    assert.equal(s.status!.code, grpc.status.INVALID_ARGUMENT);
    assert.match(s.status!.details, /unparseable BatchStream frame/);
    s.close();
    const c = new KvClient({ endpoints: t.endpoint });
    assert.equal((await c.put('after', 'x')).succeeded, true);
    c.close();
  });

  it('beyond maxStreamInFlight a sub-request is refused with RESOURCE_EXHAUSTED (OVERLOADED), nothing lost', async () => {
    t.store.delayMs = 200;
    const s = new RawStream(t.endpoint);
    s.send(...Array.from({ length: 12 }, (_, i) => item(100 + i, 'Put', { key: Buffer.from(`o/${i}`), value: Buffer.from('v') })));
    await s.until(() => s.byId.size === 12);
    const refused = [...s.byId.values()].filter((r) => r.error);
    assert.equal(refused.length, 4);
    for (const r of refused) {
      assert.equal(r.error!.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(r.error!.errorCode, 'OVERLOADED');
    }
    t.store.delayMs = 0;
    const c = new KvClient({ endpoints: t.endpoint });
    const keys = (await c.scanPrefix('o/')).map((kv) => kv.key.toString());
    assert.equal(keys.length, 8, 'exactly the admitted ones were applied');
    assert.equal(await metric(t, 'kvs_requests_total', { method: 'Put', code: 'RESOURCE_EXHAUSTED' }), 4);
    c.close();
    s.close();
  });

  it('a client that goes away mid-flight: the work completes, the replies are dropped, the node is fine', async () => {
    t.store.delayMs = 150;
    const s = new RawStream(t.endpoint);
    s.send(...Array.from({ length: 5 }, (_, i) => item(i + 1, 'Put', { key: Buffer.from(`gone/${i}`), value: Buffer.from('v') })));
    await sleep(50);
    s.close();
    await sleep(300);
    t.store.delayMs = 0;
    const c = new KvClient({ endpoints: t.endpoint });
    assert.equal((await c.scanPrefix('gone/')).length, 5, 'in-flight writes completed');
    assert.equal(await metric(t, 'kvs_requests_total', { method: 'Put', code: 'CANCELLED' }), 5);
    assert.equal(await metric(t, 'kvs_streams_open'), 1, 'only the new client stream is open');
    c.close();
  });

  it('a late reply (timeout_ms passed) is dropped and counted CANCELLED', async () => {
    t.store.delayMs = 120;
    const s = new RawStream(t.endpoint);
    s.send(item(1, 'Get', { key: Buffer.from('k') }, 30), item(2, 'Get', { key: Buffer.from('k') }, 5000));
    await s.until(() => s.byId.has(2));
    await sleep(50);
    assert.equal(s.byId.has(1), false);
    assert.equal(await metric(t, 'kvs_requests_total', { method: 'Get', code: 'CANCELLED' }), 1);
    s.close();
  });

  it('shutdown drains: in-flight sub-requests are answered, later ones refused STORE_CLOSED, the stream ends OK', async () => {
    t.store.delayMs = 200;
    const s = new RawStream(t.endpoint);
    s.send(item(1, 'Put', { key: Buffer.from('d1'), value: Buffer.from('v') }));
    await sleep(50);
    const t0 = Date.now();
    const stopping = t.node.shutdown(5000);
    await sleep(20);
    s.send(item(2, 'Put', { key: Buffer.from('d2'), value: Buffer.from('v') }));
    await s.until(() => s.status !== undefined);
    await stopping;
    assert.ok(Date.now() - t0 < 2000, `shutdown took ${Date.now() - t0} ms`);
    assert.equal(s.result(1, 'Put').succeeded, true);
    assert.equal(s.error(2).errorCode, 'STORE_CLOSED');
    assert.equal(s.status!.code, grpc.status.OK);
    s.close();
  });
});
