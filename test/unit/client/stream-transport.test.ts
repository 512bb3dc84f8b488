// KvClient over BatchStream (the default transport): per-turn frames, the unary fallback for requests
// larger than the server takes in a frame, OVERLOADED refusals retried, a stream killed mid-flight
// (server force-stopped and restarted over the same store) with CAS counters exactly once, and a Raft
// follower answering NOT_LEADER over the stream with the client following the hint; an older node without
// BatchStream (UNIMPLEMENTED → unary).
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../../node/src/common/logger.js';
import { KvClient, KvNotLeaderError, KvOutcomeUnknownError, KvResourceExhaustedError } from '../../../node/src/client/index.js';
import { StreamTransport } from '../../../node/src/client/stream-transport.js';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { raftServiceDefinition } from '../../../node/src/raftstore/services.js';
import { loadKvProto } from '../../../node/src/common/proto.js';
import { withRawBatchStream } from '../../../node/src/server/batch-stream.js';
import { createKvService } from '../../../node/src/server/kv-service.js';
import { ServerMetrics } from '../../../node/src/server/metrics.js';
import { resolveLimits } from '../../../node/src/server/validate.js';
import { startKvsNode, type KvsNode } from '../../../node/src/server/node-server.js';
import { freePort } from '../../helpers/cluster-process.js';
import { FakeStore } from '../../helpers/fake-store.js';
import { FaultProxy } from '../../helpers/process-proxy.js';
import { startTestNode, type TestNode } from '../../helpers/test-node.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function frames(t: TestNode): Promise<{ count: number; sum: number }> {
  const data = await t.metrics.streamFrameRequests.get();
  const pick = (n: string) => data.values.find((v) => (v as { metricName?: string }).metricName === n)?.value ?? 0;
  return { count: pick('kvs_stream_frame_requests_count'), sum: pick('kvs_stream_frame_requests_sum') };
}

describe('client: BatchStream transport', function () {
  this.timeout(30_000);

  it('requests of one turn share a frame; a request above the announced frame limit goes unary', async () => {
    const t = await startTestNode<FakeStore>({ limits: { maxReceiveMessageBytes: 64 * 1024, maxValueBytes: 32 * 1024, maxKeyBytes: 1024 } });
    const c = new KvClient({ endpoints: t.endpoint });
    assert.equal(c.transport, 'stream');
    await c.put('warm', 'x'); // learns the server's 64 KiB frame limit
    const f0 = await frames(t);
    await Promise.all(Array.from({ length: 100 }, (_, i) => c.put(`k${i}`, 'v')));
    const f1 = await frames(t);
    assert.equal(f1.sum - f0.sum, 100);
    assert.ok(f1.count - f0.count <= 2, `100 puts of one turn took ${f1.count - f0.count} frames`);
    // 20 KiB fits a 64 KiB frame (it rides the stream), 100 KiB does not: unary, RESOURCE_EXHAUSTED there.
    await c.put('mid', Buffer.alloc(20 * 1024));
    assert.equal((await frames(t)).sum - f1.sum, 1);
    await assert.rejects(c.put('big', Buffer.alloc(100 * 1024)), KvResourceExhaustedError);
    assert.equal((await frames(t)).sum - f1.sum, 1, 'the oversized request did not use (and break) the stream');
    assert.equal((await c.get('mid')).value?.length, 20 * 1024);
    c.close();
    await t.stop();
  });

  it('sub-requests refused as OVERLOADED are retried (they never ran): each write applied once', async () => {
    const t = await startTestNode<FakeStore>({ limits: { maxStreamInFlight: 4 } });
    t.store.delayMs = 30;
    const c = new KvClient({ endpoints: t.endpoint, backoff: { initialMs: 5, maxMs: 20 } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.put(`o${i}`, 'v')));
    assert.ok(c.retries > 0, 'some requests were refused and retried');
    assert.equal(t.store.applied, 20);
    assert.equal(t.store.dedupHits, 0, 'refused requests never reached the store');
    c.close();
    t.store.delayMs = 0;
    await t.stop();
  });

  it('deadlines beyond timeout_ms (uint32) are clamped, not refused', async () => {
    const t = await startTestNode<FakeStore>();
    const c = new KvClient({ endpoints: t.endpoint, timeoutMs: 1e11, attemptTimeoutMs: 1e11 });
    assert.equal((await c.put('far', 'v')).succeeded, true);
    c.close();
    await t.stop();
  });

  it('transport "unary" never opens a stream', async () => {
    const t = await startTestNode<FakeStore>();
    const c = new KvClient({ endpoints: t.endpoint, transport: 'unary' });
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.put(`u${i}`, 'v')));
    assert.equal((await frames(t)).count, 0);
    assert.throws(() => new KvClient({ endpoints: t.endpoint, transport: 'carrier-pigeon' as 'unary' }), /transport/);
    c.close();
    await t.stop();
  });

  it('a stream killed mid-flight (node force-stopped, restarted on the same store): in-flight CAS increments retried exactly once', async () => {
    const store = new FakeStore();
    let t = await startTestNode({ store, ownsStore: false });
    const endpoint = t.endpoint;
    const c = new KvClient({ endpoints: endpoint, timeoutMs: 20_000, backoff: { initialMs: 10, maxMs: 100 }, maxAttempts: 500 });
    await c.put('ctr', '0');
    store.delayMs = 5; // keeps requests in flight when the node dies
    let acked = 0;
    let outcomeUnknown = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const cur = (await c.get('ctr')).value!.toString();
        if ((await c.put('ctr', String(Number(cur) + 1), { expectedValue: cur })).succeeded) acked++;
      }
    };
    // Without a session the client may not retry a write cut off mid-flight: it must say "outcome unknown".
    const probe = new KvClient({ endpoints: endpoint, sessions: false, timeoutMs: 20_000 });
    try {
      const workers = Array.from({ length: 6 }, () => worker());
      for (let kill = 0; kill < 3; kill++) {
        await sleep(150);
        store.delayMs = 60;
        const p = probe.put(`probe/${kill}`, 'x').catch((e: unknown) => {
          if (e instanceof KvOutcomeUnknownError) outcomeUnknown++;
        });
        await sleep(20);
        await t.node.shutdown(0); // drain 0 ms: every call, streams included, cancelled mid-flight
        await p;
        store.delayMs = 5;
        await sleep(100);
        t = await startTestNode({ store, listen: endpoint, ownsStore: false });
      }
      await sleep(150);
      stop = true;
      await Promise.all(workers);
      store.delayMs = 0;
      // Progress under three kills (a loaded CI box manages few); the point is exactly-once below.
      assert.ok(acked >= 3, `only ${acked} increments`);
      assert.ok(c.retries > 0, 'the workers had to retry');
      assert.equal((await c.get('ctr')).value?.toString(), String(acked), 'every acknowledged increment applied exactly once');
      assert.ok(outcomeUnknown >= 1, 'a write cut off by the dying stream surfaces as outcome unknown without a session');
    } finally {
      // Even after a failed assertion: a server or client left open keeps mocha from exiting.
      c.close();
      probe.close();
      await t.stop();
    }
  });
});

describe('client: NOT_LEADER over BatchStream (3 in-process Raft nodes)', function () {
  this.timeout(60_000);
  const nodes: Array<{ raft: RaftNode; kv: KvsNode }> = [];

  before(async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const addr = (i: number) => `127.0.0.1:${ports[i]}`;
    const peers = new Map(ports.map((_, i) => [i + 1, addr(i)] as [number, string]));
    for (let i = 0; i < 3; i++) {
      const metrics = new ServerMetrics({ defaultMetrics: false });
      const raft = await RaftNode.open({
        raftId: i + 1,
        peers,
        clientAddress: addr(i),
        raftAddress: addr(i),
        engine: new MemoryEngine(),
        logger: silentLogger(),
        tickMs: 20,
        store: { nodeId: `n${i + 1}`, logger: silentLogger(), observer: metrics.storeObserver() },
      });
      const kv = await startKvsNode({
        store: raft.kvStore,
        listen: addr(i),
        nodeId: `n${i + 1}`,
        logger: silentLogger(),
        metrics,
        ownsStore: false,
        extraServices: [{ definition: raftServiceDefinition(), implementation: raft.transport.serviceHandlers() as grpc.UntypedServiceImplementation }],
      });
      nodes.push({ raft, kv });
    }
    const deadline = Date.now() + 20_000;
    while (!nodes.some((n) => n.raft.peer.isLeader)) {
      if (Date.now() > deadline) throw new Error('no leader elected');
      await sleep(50);
    }
  });

  after(async () => {
    for (const n of nodes) {
      await n.kv.shutdown(1000);
      await n.raft.close();
    }
  });

  it('a follower that refuses to forward answers NOT_LEADER with the leader hint; the client retries at the leader', async () => {
    const leader = nodes.find((n) => n.raft.peer.isLeader)!;
    const follower = nodes.find((n) => !n.raft.peer.isLeader)!;
    // Make the follower answer NOT_LEADER instead of forwarding proposals (a test-only switch of the raft
    // core; in production this is what a follower does while it knows a leader but cannot forward).
    (follower.raft.peer.rn.raft as unknown as { disableProposalForwarding: boolean }).disableProposalForwarding = true;
    try {
      // The raw answer over the follower's stream (the transport alone, no retries).
      const ch = new grpc.Client(follower.kv.grpcAddress, grpc.credentials.createInsecure());
      const st = new StreamTransport({ channel: () => ch });
      await assert.rejects(st.send(follower.kv.grpcAddress, 'Put', { key: Buffer.from('nl/raw'), value: Buffer.from('x') }, 3000)!, (err: unknown) => {
        assert.ok(err instanceof KvNotLeaderError, String(err));
        assert.equal(err.leaderAddress, leader.kv.grpcAddress);
        assert.match(err.message, /not proposed \(proposal forwarding disabled\)/);
        return true;
      });
      st.close();
      ch.close();
      // The client knows only the follower: it follows the hint straight to the leader.
      const c = new KvClient({ endpoints: follower.kv.grpcAddress, timeoutMs: 5000 });
      const before = await leaderPuts(leader.kv);
      for (let i = 0; i < 5; i++) assert.equal((await c.put(`nl/${i}`, String(i))).succeeded, true);
      assert.equal(c.retries, 5, 'one redirect per write, no backoff loop');
      assert.equal((await leaderPuts(leader.kv)) - before, 5, 'the leader served the writes over its own stream');
      // Reads are served by the follower itself (ReadIndex), over the same stream.
      assert.equal((await c.get('nl/4')).value?.toString(), '4');
      c.close();
    } finally {
      (follower.raft.peer.rn.raft as unknown as { disableProposalForwarding: boolean }).disableProposalForwarding = false;
    }
  });
});

async function leaderPuts(kv: KvsNode): Promise<number> {
  const data = await kv.metrics.requests.get();
  return data.values.filter((v) => v.labels.method === 'Put' && v.labels.code === 'OK').reduce((a, v) => a + v.value, 0);
}

describe('client: a node without BatchStream (older version)', function () {
  this.timeout(20_000);
  it('UNIMPLEMENTED: the requests are re-sent as unary calls and the endpoint stays unary', async () => {
    const store = new FakeStore();
    const def = Object.fromEntries(Object.entries(loadKvProto().kvs.v1.Kv.service).filter(([m]) => m !== 'BatchStream')) as grpc.ServiceDefinition;
    const { handlers } = createKvService({ store, limits: resolveLimits(), logger: silentLogger(), nodeId: 'old', version: '0.0.1' });
    const server = new grpc.Server();
    server.addService(def, handlers as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const c = new KvClient({ endpoints: `127.0.0.1:${port}` });
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => c.put(`old/${i}`, 'v')));
    assert.ok(rs.every((r) => r.succeeded));
    assert.equal((await c.get('old/3')).value?.toString(), 'v');
    assert.equal(store.applied, 10, 'each write ran once');
    assert.equal(c.retries, 0, 'the fallback is not a retry');
    c.close();
    server.forceShutdown();
  });
});

describe('client: a misbehaving BatchStream server', function () {
  this.timeout(20_000);
  /** A Kv server whose BatchStream misbehaves as `mode` says (unary methods are the real ones). */
  async function misbehaving(mode: { current: 'garbage' | 'end-ok' | 'real' }) {
    const store = new FakeStore();
    const svc = createKvService({ store, limits: resolveLimits(), logger: silentLogger(), nodeId: 'odd', version: '0.0.1' });
    const real = svc.handlers.BatchStream as unknown as grpc.handleBidiStreamingCall<Buffer, Buffer>;
    const handlers = {
      ...(svc.handlers as unknown as grpc.UntypedServiceImplementation),
      BatchStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        if (mode.current === 'real') return real(call);
        call.on('error', () => undefined);
        call.once('data', () => {
          if (mode.current === 'garbage') call.write(Buffer.from([0x0a, 0x7f, 0x01]));
          else call.end();
        });
      },
    };
    const server = new grpc.Server();
    server.addService(withRawBatchStream(loadKvProto().kvs.v1.Kv.service), handlers);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    return { store, server, endpoint: `127.0.0.1:${port}` };
  }

  for (const bad of ['garbage', 'end-ok'] as const) {
    it(`${bad === 'garbage' ? 'an undecodable reply frame' : 'a stream ended (OK) with requests in flight'}: outcome unknown; with a session the retry on a new stream succeeds once`, async () => {
      const mode = { current: bad as 'garbage' | 'end-ok' | 'real' };
      const s = await misbehaving(mode);
      const naive = new KvClient({ endpoints: s.endpoint, sessions: false, timeoutMs: 5000 });
      await assert.rejects(naive.put('n', 'v'), (err: unknown) => {
        assert.ok(err instanceof KvOutcomeUnknownError, String(err));
        assert.match((err as Error).message, bad === 'garbage' ? /malformed BatchStream reply/ : /ended by the server with the request in flight; outcome unknown/);
        return true;
      });
      naive.close();
      const c = new KvClient({ endpoints: s.endpoint, timeoutMs: 5000, backoff: { initialMs: 5, maxMs: 20 } });
      const p = c.put('k', 'v');
      await sleep(60);
      mode.current = 'real';
      assert.equal((await p).succeeded, true);
      assert.ok(c.retries >= 1);
      assert.equal(s.store.applied, 1);
      c.close();
      s.server.forceShutdown();
    });
  }
});

describe('client: a connection that dies silently under the stream', function () {
  this.timeout(30_000);
  it('keepalive pings detect it: the in-flight write fails over to a new connection long before its deadline, applied once', async () => {
    const t = await startTestNode<FakeStore>();
    const proxy = await FaultProxy.start(t.endpoint);
    const c = new KvClient({
      endpoints: proxy.address,
      timeoutMs: 25_000,
      attemptTimeoutMs: 20_000,
      backoff: { initialMs: 5, maxMs: 20 },
      channelOptions: { 'grpc.keepalive_time_ms': 200, 'grpc.keepalive_timeout_ms': 300 },
    });
    await c.put('warm', 'x');
    proxy.silenceOpenConnections();
    const t0 = Date.now();
    const r = await c.put('k', 'v', { expectAbsent: true });
    const ms = Date.now() - t0;
    assert.equal(r.succeeded, true, 'a re-applied put-if-absent would fail');
    assert.ok(ms < 5000, `took ${ms} ms (the attempt deadline is 20 s)`);
    assert.ok(c.retries >= 1);
    c.close();
    await proxy.close();
    await t.stop();
  });
});
