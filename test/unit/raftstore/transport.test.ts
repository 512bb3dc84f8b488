// RaftTransport over real gRPC on loopback: batching (many messages of one event-loop turn share a
// frame), unreachable reporting, and chunked snapshot streaming.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger } from '../../../node/src/common/logger.js';
import type { EngineEntry } from '../../../node/src/engine/engine.js';
import { type Message, MessageType, EMPTY, emptyConfState, encodeMessage } from '../../../node/src/raft/index.js';
import { RaftTransport } from '../../../node/src/raftstore/transport.js';
import { raftServiceDefinition } from '../../../node/src/raftstore/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const msg = (to: number, from: number, index: number, type = MessageType.App): Message => ({
  groupId: 1,
  type,
  from,
  to,
  term: 3,
  logTerm: 3,
  index,
  entries: type === MessageType.App ? [{ term: 3, index: index + 1, type: 0, data: Buffer.alloc(100, 7) }] : [],
  commit: index,
  reject: false,
  rejectHint: 0,
  context: EMPTY,
});

async function serve(t: RaftTransport): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  server.addService(raftServiceDefinition(), t.serviceHandlers());
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { server, address: `127.0.0.1:${port}` };
}

/**
 * A name service like a pod's DNS: `kvstest:///<name>` resolves to whatever NAMES holds when the channel
 * asks (grpc-js asks when a channel starts and when its load balancer requests re-resolution).
 */
const NAMES = new Map<string, string>();
class TestNameResolver {
  constructor(
    private readonly target: { path: string },
    private readonly listener: (r: unknown, attrs: object, sc: null, note: string) => boolean,
  ) {}
  updateResolution(): void {
    process.nextTick(() => {
      const a = NAMES.get(this.target.path);
      if (a === undefined) {
        this.listener({ ok: false, error: { code: grpc.status.UNAVAILABLE, details: `no such name ${this.target.path}`, metadata: new grpc.Metadata() } }, {}, null, '');
        return;
      }
      const [host, port] = a.split(':');
      this.listener({ ok: true, value: [{ addresses: [{ host, port: Number(port) }] }] }, {}, null, '');
    });
  }
  destroy(): void {}
  static getDefaultAuthority(target: { path: string }): string {
    return target.path;
  }
}
grpc.experimental.registerResolver('kvstest', TestNameResolver as never);

describe('raftstore: gRPC transport', function () {
  this.timeout(20_000);
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const f of cleanup.splice(0)) f();
  });

  async function pair() {
    const received: Message[] = [];
    const snapshots: Array<{ m: Message; entries: EngineEntry[] }> = [];
    const unreachable: number[] = [];
    const addrs = new Map<number, string>();
    const b = new RaftTransport({ selfId: 2, clientAddress: 'client-b:1', raftAddress: 'raft-b', resolve: (id) => addrs.get(id), logger: silentLogger() });
    b.handlers = { onMessages: (ms) => received.push(...ms), onSnapshot: async (m, entries) => void snapshots.push({ m, entries }), onUnreachable: () => undefined };
    const { server, address } = await serve(b);
    addrs.set(2, address);
    const a = new RaftTransport({ selfId: 1, clientAddress: 'client-a:1', raftAddress: 'raft-a', resolve: (id) => addrs.get(id), logger: silentLogger() });
    a.handlers = { onMessages: () => undefined, onSnapshot: async () => undefined, onUnreachable: (to) => unreachable.push(to) };
    cleanup.push(() => {
      a.close();
      b.close();
      server.forceShutdown();
    });
    return { a, b, received, snapshots, unreachable };
  }

  it('sends the messages of one send() call (a Ready) as one frame, right away and in order', async function () {
    const { a, b, received } = await pair();
    a.send(Array.from({ length: 200 }, (_, i) => msg(2, 1, i)));
    assert.equal(a.stats.framesSent, 0, 'queued for the end of this microtask run');
    await Promise.resolve();
    assert.equal(a.stats.framesSent, 1, 'written in the same microtask run: no wait for the next event-loop phase');
    for (let i = 0; i < 50 && received.length < 200; i++) await sleep(20);
    assert.equal(received.length, 200);
    assert.deepEqual(received.map((m) => m.index), Array.from({ length: 200 }, (_, i) => i));
    assert.equal(a.stats.framesSent, 1, 'one frame for the whole call');
    assert.equal(b.stats.framesReceived, 1);
    assert.equal(b.clientAddressOf(1), 'client-a:1', 'the receiver learns the sender\'s client address');
    // The next call: a second frame on the same stream.
    a.send([msg(2, 1, 999, MessageType.Heartbeat)]);
    for (let i = 0; i < 50 && received.length < 201; i++) await sleep(20);
    assert.equal(received.length, 201);
    assert.equal(a.stats.framesSent, 2);
    // Heartbeats and bytes are counted apart (docs/scaling.md: heartbeat traffic per range).
    assert.equal(a.stats.heartbeatsSent, 1);
    assert.ok(a.stats.heartbeatBytesSent > 0 && a.stats.heartbeatBytesSent < a.stats.bytesSent);
    const sent = [...Array.from({ length: 200 }, (_, i) => msg(2, 1, i)), msg(2, 1, 999, MessageType.Heartbeat)];
    assert.equal(a.stats.bytesSent, sent.reduce((n, m) => n + encodeMessage(m).length, 0));
  });

  it('the send() calls of many ranges in one microtask run (a store round) share one frame per peer, in call order', async function () {
    const { a, b, received } = await pair();
    // 64 ranges' Readies finishing together (e.g. resumed by one group commit), each sending its own message.
    await Promise.all(
      Array.from({ length: 64 }, async (_, g) => {
        await Promise.resolve();
        a.send([{ ...msg(2, 1, g), groupId: g + 1 }]);
      }),
    );
    for (let i = 0; i < 50 && received.length < 64; i++) await sleep(20);
    assert.deepEqual(received.map((m) => m.groupId), Array.from({ length: 64 }, (_, g) => g + 1));
    assert.equal(a.stats.framesSent, 1, 'one frame for the round, not one per range');
    assert.equal(b.stats.framesReceived, 1);
  });

  it('after a frame left in this event-loop turn, later sends of the turn leave together at its check phase', async function () {
    const { a, received } = await pair();
    a.send([msg(2, 1, 1)]);
    await Promise.resolve();
    assert.equal(a.stats.framesSent, 1, 'the first frame of the turn leaves at the end of its microtask run');
    a.send([{ ...msg(2, 1, 2), groupId: 2 }]);
    await Promise.resolve();
    a.send([{ ...msg(2, 1, 3), groupId: 3 }]);
    await Promise.resolve();
    assert.equal(a.stats.framesSent, 1, 'later sends of the turn wait for its check phase');
    await new Promise((r) => setImmediate(r));
    assert.equal(a.stats.framesSent, 2, 'and leave as one frame');
    for (let i = 0; i < 50 && received.length < 3; i++) await sleep(20);
    assert.deepEqual(received.map((m) => m.index), [1, 2, 3], 'in send order');
    // A new turn starts afresh: its first frame leaves at once again.
    await sleep(5);
    a.send([msg(2, 1, 4)]);
    await Promise.resolve();
    assert.equal(a.stats.framesSent, 3);
  });

  it('carries a stale-replica notice to the peer it names, whole (range, epoch, stores)', async function () {
    const { a, b } = await pair();
    const got: Array<{ from: number; notices: unknown[] }> = [];
    b.handlers!.onStaleReplicas = (from, notices) => void got.push({ from, notices });
    a.sendStaleNotice(2, { rangeId: 7, confVer: 12, version: 3, storeIds: [1, 4, 5] });
    for (let i = 0; i < 100 && got.length === 0; i++) await sleep(20);
    assert.deepEqual(got, [{ from: 1, notices: [{ rangeId: 7, confVer: 12, version: 3, storeIds: [1, 4, 5] }] }]);
    assert.equal(a.stats.staleNoticesSent, 1);
  });

  it('reports peers without an address or with a dead address as unreachable', async function () {
    const { a, unreachable } = await pair();
    a.send([msg(7, 1, 1)]);
    assert.deepEqual(unreachable, [7]);
    const dead = new RaftTransport({ selfId: 1, clientAddress: 'x:1', raftAddress: 'x', resolve: () => '127.0.0.1:1', logger: silentLogger() });
    const seen: number[] = [];
    dead.handlers = { onMessages: () => undefined, onSnapshot: async () => undefined, onUnreachable: (to) => seen.push(to) };
    cleanup.push(() => dead.close());
    dead.send([msg(3, 1, 1)]);
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(20);
    assert.ok(seen.includes(3), 'the failed stream is reported');
  });

  it('a peer restarted under its name at a new address (a pod: same DNS name, new IP) is reached as soon as it speaks, while the old connection hangs', async function () {
    // A black hole: accepts TCP and never answers, like a stale DNS answer with the dead pod's IP.
    const held: Socket[] = [];
    const hole: Server = createServer((sock) => void held.push(sock));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()));
    const holeAddr = `127.0.0.1:${(hole.address() as { port: number }).port}`;
    cleanup.push(() => {
      for (const x of held) x.destroy();
      hole.close();
    });
    const mk = (selfId: number, got: Message[]) => {
      const t = new RaftTransport({ selfId, clientAddress: `c${selfId}:1`, raftAddress: `r${selfId}`, resolve: (id) => `kvstest:///peer-${id}`, logger: silentLogger() });
      t.handlers = { onMessages: (ms) => got.push(...ms), onSnapshot: async () => undefined, onUnreachable: () => undefined };
      return t;
    };
    const atA: Message[] = [];
    const a = mk(1, atA);
    const sa = await serve(a);
    NAMES.set('peer-1', sa.address);
    const atB1: Message[] = [];
    const b1 = mk(2, atB1);
    const sb1 = await serve(b1);
    NAMES.set('peer-2', sb1.address);
    cleanup.push(() => {
      a.close();
      sa.server.forceShutdown();
    });
    // Both directions up: A knows B's incarnation, A's stream to B is established.
    b1.send([msg(1, 2, 1)]);
    a.send([msg(2, 1, 1)]);
    for (let i = 0; i < 100 && (atA.length === 0 || atB1.length === 0); i++) await sleep(20);
    assert.ok(atA.length > 0 && atB1.length > 0, 'connected both ways');

    // B's pod goes away; its name answers with the dead address for a while (DNS cache).
    b1.close();
    sb1.server.forceShutdown();
    NAMES.set('peer-2', holeAddr);
    const heartbeats = setInterval(() => a.send([msg(2, 1, 5, MessageType.Heartbeat)]), 50);
    cleanup.push(() => clearInterval(heartbeats));
    await sleep(1000);

    // B restarts elsewhere and announces itself (RaftNode.open does, before any Raft message): A must reach
    // it now, not after its connection to the black hole times out (keepalive 10 + 5 s, connect 20 s).
    const atB2: Message[] = [];
    const b2 = mk(2, atB2);
    const sb2 = await serve(b2);
    cleanup.push(() => {
      b2.close();
      sb2.server.forceShutdown();
    });
    NAMES.set('peer-2', sb2.address);
    const t0 = Date.now();
    b2.announce([1, 2]);
    for (let i = 0; i < 150 && atB2.length === 0; i++) await sleep(20);
    assert.ok(atB2.length > 0, `A reached the restarted B within ${Date.now() - t0} ms`);
    assert.ok(Date.now() - t0 < 2000);
  });

  it('a connection that does not come up (a stale name answer: a vanished address) is given up and the name resolved again', async function () {
    // The old address swallows the connection attempt (accepts TCP, never speaks HTTP/2); grpc-js itself
    // has no connect timeout. The peer is meanwhile reachable under its name at a new address, and never
    // sends anything itself (no announce): only the connect deadline gets the sender there.
    const held: Socket[] = [];
    const hole: Server = createServer((sock) => void held.push(sock));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => {
      for (const x of held) x.destroy();
      hole.close();
    });
    NAMES.set('peer-12', `127.0.0.1:${(hole.address() as { port: number }).port}`);
    const got: Message[] = [];
    const b = new RaftTransport({ selfId: 12, clientAddress: 'c12:1', raftAddress: 'r12', resolve: () => undefined, logger: silentLogger() });
    b.handlers = { onMessages: (ms) => got.push(...ms), onSnapshot: async () => undefined, onUnreachable: () => undefined };
    const sb = await serve(b);
    const a = new RaftTransport({ selfId: 11, clientAddress: 'c11:1', raftAddress: 'r11', resolve: (id) => `kvstest:///peer-${id}`, logger: silentLogger() });
    a.handlers = { onMessages: () => undefined, onSnapshot: async () => undefined, onUnreachable: () => undefined };
    const heartbeats = setInterval(() => a.send([msg(12, 11, 5, MessageType.Heartbeat)]), 50);
    cleanup.push(() => {
      clearInterval(heartbeats);
      a.close();
      b.close();
      sb.server.forceShutdown();
    });
    await sleep(300);
    assert.ok(held.length > 0, 'A is stuck connecting to the old address');
    NAMES.set('peer-12', sb.address);
    const t0 = Date.now();
    for (let i = 0; i < 300 && got.length === 0; i++) await sleep(20);
    assert.ok(got.length > 0, `A reached the peer at its new address (${Date.now() - t0} ms)`);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  });

  it('streams a snapshot in chunks and reports the outcome', async function () {
    const { a, snapshots } = await pair();
    const m: Message = { ...msg(2, 1, 0, MessageType.Snap), snapshot: { metadata: { index: 42, term: 3, confState: { ...emptyConfState(), voters: [1, 2] } }, data: Buffer.from('{}') } };
    const entries: EngineEntry[] = Array.from({ length: 30_000 }, (_, i) => [Buffer.from(`k${String(i).padStart(6, '0')}`), Buffer.alloc(100, i % 256)]);
    let released = false;
    const ok = await a.sendSnapshot(m, {
      chunks: async function* () {
        for (let i = 0; i < entries.length; i += 1024) yield entries.slice(i, i + 1024);
      },
      release: () => (released = true),
    });
    assert.equal(ok, true);
    assert.equal(released, true);
    assert.equal(snapshots.length, 1);
    assert.equal(snapshots[0]!.m.snapshot?.metadata.index, 42);
    assert.equal(snapshots[0]!.entries.length, 30_000);
    assert.equal(snapshots[0]!.entries[29_999]![0].toString(), 'k029999');
  });
});
