// Node-to-node Raft transport over gRPC (proto/raft.proto, service kvs.v1.Raft).
//
// * One long-lived bidi stream per peer (this node → peer). Sends are queued and leave as one RaftFrame
//   per peer store (up to `maxFrameBytes`) for a whole store round, so per-frame gRPC work is paid once
//   per round rather than once per range Ready (64 ranges: ~1 frame per write before, see
//   docs/benchmarks.md). The first frames of an event-loop turn leave at the end of the microtask run
//   (everything of that callback, e.g. the Readies one group commit resumed): a lone write does not wait
//   for the check phase, which on a busy 2-core box came 0.1–1 ms later on every hop (docs/raft.md).
//   Once frames left in a turn, later sends of the same turn (more I/O callbacks: other frames, other
//   writes completing) are collected until its check phase (setImmediate) and leave together.
//   Deferring a send never lets a message leave earlier than its caller asked, so a message sent after
//   a durable write (append responses, votes) still leaves after it.
// * A broken or refused stream is re-opened with exponential backoff (50 ms … 2 s) on a NEW channel:
//   grpc-js re-resolves a DNS name only when its own load balancer asks for it, and a channel can keep
//   dialing the old address of a restarted pod (a StatefulSet pod comes back under the same DNS name
//   with a new IP); a fresh channel resolves afresh. While a peer is unreachable its messages are
//   dropped and the owning groups are told (`onUnreachable`), so the leader re-probes it — Raft
//   retransmits by itself.
// * A stream whose channel is not connected within 2 s is given up (grpc-js has no connect timeout; a
//   stale DNS answer leaves it sending SYNs to a vanished pod IP for minutes) and retried likewise.
// * Every frame carries the sender's boot id (random, per process). When a peer's boot id changes it
//   restarted: the connection to it is replaced at once and its backoff reset, rather than waiting until
//   a dead connection is noticed (keepalive) and a backoff runs out. A starting node announces itself
//   (an empty frame) so this happens before its first Raft message.
// * Snapshots (MsgSnap) go over a separate client-streaming call: first chunk = the message (header
//   data only), then the group state in key/value chunks read from a pinned engine snapshot. The
//   outcome is reported back (`onSnapshotStatus`) so raft un-pauses the follower.
// * Peer addresses come from a resolver (the group's address book, i.e. plain config: may be a proxy).
// * Identity (raftstore/identity.ts): every frame carries this node's data-dir incarnation. A received
//   frame goes through `admit` first; a refused one never reaches raft, and the receiver answers on the
//   stream's return direction with a frame whose `refused` says why, so the sender learns it is refused.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from '../common/logger.js';
import { PROTO_LOADER_OPTIONS } from '../common/proto.js';
import { protoPath } from '../common/paths.js';
import type { EngineEntry } from '../engine/engine.js';
import { type Message, MessageType, decodeMessage, encodeMessage } from '../raft/index.js';
import type { RaftFrame } from '../generated/kvs/v1/RaftFrame.js';
import type { SnapshotChunk } from '../generated/kvs/v1/SnapshotChunk.js';
import type { SnapshotDone } from '../generated/kvs/v1/SnapshotDone.js';
import { bufferView } from '../common/buffer-view.js';

export interface TransportHandlers {
  /** Messages received from a peer (any group). */
  onMessages(msgs: Message[]): void;
  /** A complete snapshot transfer: the MsgSnap and the state entries. Resolve when handed to raft. */
  onSnapshot(msg: Message, entries: EngineEntry[]): Promise<void>;
  /** Sending to `to` failed for these groups. */
  onUnreachable(to: number, groupIds: number[]): void;
  /** An admitted frame from `from` carried this (non-empty) incarnation. */
  onIncarnation?(from: number, incarnation: string): void;
  /** Peer `by` refused this node's frames (its reason). */
  onRefused?(by: number, reason: string): void;
  /** Any admitted frame from `from` (messages or a keep-alive ping): store liveness; its GC pin (0 = none). */
  onFrame?(from: number, boot: number, minTxnStartTs: number): void;
  /** Peer `from` says this store's replicas of these ranges are no longer listed there (sendStaleNotice). */
  onStaleReplicas?(from: number, notices: StaleReplicaNotice[]): void;
  /** A transaction step a coordinator store sends to this store's replica of `rangeId` (txn-rpc.ts). */
  onTxnCall?(from: number, rangeId: number, payload: Buffer): Promise<Buffer>;
}

/** A range's applied descriptor that does not list the store it is sent to (proto StaleReplicaNotice). */
export interface StaleReplicaNotice {
  rangeId: number;
  confVer: number;
  version: number;
  storeIds: number[];
}

export interface TransportOptions {
  selfId: number;
  clientAddress: string;
  raftAddress: string;
  /** Raft address of a peer (its group's address book), or undefined if unknown. */
  resolve: (raftId: number) => string | undefined;
  logger: Logger;
  /** Message bytes per frame (common/raft-limits.ts: below the receivers' gRPC message limit). */
  maxFrameBytes?: number;
  /** Key + value bytes per snapshot chunk (common/raft-limits.ts). */
  snapshotChunkBytes?: number;
  /** Drop (and report) while more than this many bytes are buffered on a stream (default 64 MiB). */
  maxBufferedBytes?: number;
  /** This node's data-dir incarnation, sent on every frame ('' or undefined = none). */
  incarnation?: string;
  /** Channel credentials of the connections to peers (mutual TLS); default plaintext. */
  credentials?: grpc.ChannelCredentials;
  /**
   * TLS transition: credentials to try when a connection with `credentials` never came up (a peer not
   * yet, or no longer, speaking TLS). Attempts alternate until one comes up; that one is kept.
   */
  fallbackCredentials?: grpc.ChannelCredentials;
  /** Decides whether a sender's frames may reach raft; a refusal carries the reason told back to the sender. */
  admit?: (from: number, incarnation: string) => { ok: true } | { ok: false; reason: string };
}

/** Produces the state of a snapshot in chunks; `release` is called when the transfer ends. */
export interface SnapshotSource {
  chunks(): AsyncIterable<EngineEntry[]>;
  release(): void;
}

interface PeerConn {
  id: number;
  address: string;
  client: grpc.Client;
  stream: grpc.ClientDuplexStream<RaftFrame, RaftFrame> | undefined;
  queue: Uint8Array[];
  queueBytes: number;
  groups: Set<number>;
  backoffMs: number;
  retryAt: number;
  /** Dial with the fallback credentials (TLS transition). */
  fallback: boolean;
  /** Number of frames written (tests/metrics). */
  frames: number;
  messages: number;
  /** `frames` at the last keepAlive: anything written since counts as a ping. */
  framesAtPing: number;
}

type RaftServiceClient = grpc.Client & {
  TxnCall(req: { from: number; rangeId: number; payload: Buffer }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { payload?: Buffer }) => void): grpc.ClientUnaryCall;
  Stream(opts?: grpc.CallOptions): grpc.ClientDuplexStream<RaftFrame, RaftFrame>;
  Snapshot(cb: (err: grpc.ServiceError | null, res?: SnapshotDone) => void): grpc.ClientWritableStream<SnapshotChunk>;
};

interface RaftProto {
  kvs: { v1: { Raft: grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition } } };
}

let cachedProto: RaftProto | undefined;
export function loadRaftProto(): RaftProto {
  cachedProto ??= grpc.loadPackageDefinition(protoLoader.loadSync(protoPath('raft.proto'), PROTO_LOADER_OPTIONS)) as unknown as RaftProto;
  return cachedProto;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_send_message_length': -1,
  'grpc.max_receive_message_length': -1,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2000,
  // Peers are addressed by DNS name in Kubernetes, and a restarted pod comes back with a new IP. grpc-js
  // re-resolves at most every 30 s by default, so the leader would keep dialing the dead IP and the
  // restarted follower would hear nothing (no appends, no ReadIndex answers) for up to 30 s.
  'grpc.dns_min_time_between_resolutions_ms': 1000,
};

/** A stream whose channel is not connected by then is given up and retried on a new channel. */
const CONNECT_DEADLINE_MS = 2000;

const INSECURE = grpc.credentials.createInsecure();

/** Failures that retrying with the same certificates will not fix: worth an error line, not a debug one. */
function isSecurityFailure(code: number | undefined, why: string): boolean {
  return code === grpc.status.UNAUTHENTICATED || code === grpc.status.PERMISSION_DENIED || /certificate|SSL routines|TLS|self[- ]signed|altnames/i.test(why);
}

export class RaftTransport {
  private readonly peers = new Map<number, PeerConn>();
  /** Client addresses of peers, learned from their frames. */
  private readonly clientAddresses = new Map<number, string>();
  /** Raft addresses peers announced (fallback when the address book has none, e.g. a joining node). */
  private readonly announced = new Map<number, string>();
  /** Last boot id seen per peer. */
  private readonly boots = new Map<number, number>();
  /** This process's boot id (sent in every frame). */
  readonly boot = 1 + Math.floor(Math.random() * 2 ** 48);
  private closed = false;
  private inboundClosed = false;
  /** A flush of the queued messages is scheduled. */
  private flushScheduled = false;
  /** Frames already left in this event-loop turn: later sends of the turn wait for its check phase. */
  private sentThisTurn = false;
  private readonly maxFrameBytes: number;
  private readonly snapshotChunkBytes: number;
  private readonly maxBuffered: number;
  private readonly activeServerCalls = new Set<grpc.ServerDuplexStream<RaftFrame, RaftFrame>>();
  handlers: TransportHandlers | undefined;
  /** Counters (tests, metrics). */
  stats = { framesSent: 0, messagesSent: 0, bytesSent: 0, heartbeatsSent: 0, heartbeatBytesSent: 0, framesReceived: 0, messagesReceived: 0, dropped: 0, snapshotsSent: 0, snapshotsReceived: 0, refusedFrames: 0, pings: 0, staleNoticesSent: 0 };
  private readonly incarnation: string;
  private readonly securityLogged = new Map<string, number>();

  constructor(private readonly opts: TransportOptions) {
    this.maxFrameBytes = opts.maxFrameBytes ?? 4 * 1024 * 1024;
    this.snapshotChunkBytes = opts.snapshotChunkBytes ?? 2 * 1024 * 1024;
    this.maxBuffered = opts.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.incarnation = opts.incarnation ?? '';
  }

  private newClient(address: string, fallback = false): grpc.Client {
    const Ctor = loadRaftProto().kvs.v1.Raft;
    const creds = fallback && this.opts.fallbackCredentials ? this.opts.fallbackCredentials : (this.opts.credentials ?? INSECURE);
    return new Ctor(address, creds, CHANNEL_OPTIONS);
  }

  /** This store's GC pin carried by every frame (RaftNode.ownMinTxnStartTs; 0 = none). */
  minTxnStartTs: () => number = () => 0;

  /** Unary clients for transaction calls, per peer (the Stream connections stay what they are). */
  private readonly callClients = new Map<number, { address: string; client: grpc.Client }>();

  /**
   * Runs a transaction step on peer `to` (txn-rpc.ts). Rejects with the gRPC error when the peer cannot
   * be reached or answer in time: the step's outcome is then unknown to the caller.
   */
  txnCall(to: number, rangeId: number, payload: Buffer, timeoutMs: number): Promise<Buffer> {
    const address = this.addressOf(to);
    if (address === undefined || this.closed) return Promise.reject(new Error(`no address for store ${to}`));
    let c = this.callClients.get(to);
    if (c === undefined || c.address !== address) {
      c?.client.close();
      c = { address, client: this.newClient(address, this.peers.get(to)?.fallback ?? false) };
      this.callClients.set(to, c);
    }
    const client = c.client as unknown as RaftServiceClient;
    return new Promise((resolve, reject) => {
      client.TxnCall({ from: this.opts.selfId, rangeId, payload }, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(err);
        else resolve(Buffer.from(res?.payload ?? Buffer.alloc(0)));
      });
    });
  }

  /** Client (Kv API) address of a node, if known (self included). */
  clientAddressOf(raftId: number): string | undefined {
    if (raftId === this.opts.selfId) return this.opts.clientAddress;
    return this.clientAddresses.get(raftId);
  }

  private addressOf(id: number): string | undefined {
    return this.opts.resolve(id) ?? this.announced.get(id);
  }

  /**
   * Sends an empty frame (our id, addresses, boot id) to each of `ids` but ourselves: at startup, so
   * peers replace a connection to our previous process at once (noteBoot). Best effort.
   */
  announce(ids: number[]): void {
    if (this.closed) return;
    for (const id of ids) {
      if (id === this.opts.selfId) continue;
      const c = this.conn(id);
      if (c === undefined) continue;
      if (c.stream === undefined) this.openStream(c);
      c.stream?.write(this.frame([]));
    }
  }

  /**
   * Tells peer `to` that its replica of a range is no longer listed there (it sent that range messages):
   * a frame of its own, best effort, like a keep-alive (no reconnect before the backoff ends, never
   * reported unreachable: the peer sends again).
   */
  sendStaleNotice(to: number, notice: StaleReplicaNotice): void {
    if (this.closed || to === this.opts.selfId) return;
    const c = this.conn(to);
    if (c !== undefined && this.writeAside(c, { ...this.frame([]), staleReplicas: [notice] }, Date.now())) this.stats.staleNoticesSent++;
  }

  /**
   * A frame outside the store round's queue (a ping, a notice): (re)opens the stream only once the
   * reconnect backoff has run out, skips a stream that is already backed up. Whether it was written.
   */
  private writeAside(c: PeerConn, frame: RaftFrame, now: number): boolean {
    if (c.stream === undefined) {
      if (now < c.retryAt) return false;
      this.openStream(c);
    }
    const s = c.stream;
    if (s === undefined || s.writableLength > this.maxBuffered) return false;
    s.write(frame);
    c.frames++;
    return true;
  }

  /**
   * Store liveness (store-liveness.ts): an empty frame to each of `ids` we wrote nothing to since the
   * last call (the store calls every quarter election timeout): one per store pair, whatever the number
   * of ranges; none while traffic flows.
   * Respects the reconnect backoff and never reports unreachability (no range is waiting on it).
   */
  keepAlive(ids: Iterable<number>): void {
    if (this.closed) return;
    const now = Date.now();
    for (const id of ids) {
      if (id === this.opts.selfId) continue;
      const c = this.conn(id);
      if (c === undefined) continue;
      if (c.frames !== c.framesAtPing) {
        c.framesAtPing = c.frames;
        continue;
      }
      if (!this.writeAside(c, this.frame([]), now)) continue;
      this.stats.pings++;
      c.framesAtPing = c.frames;
    }
  }

  /** A frame from this node: its id, addresses, incarnation and boot id, with `messages` (none: a ping). */
  private frame(messages: Buffer[]): RaftFrame {
    return { from: this.opts.selfId, clientAddress: this.opts.clientAddress, raftAddress: this.opts.raftAddress, messages, incarnation: this.incarnation, refused: '', boot: this.boot, minTxnStartTs: this.minTxnStartTs() };
  }

  /** Queues messages for the store round's frame to each peer (see the header). MsgSnap is streamed separately by the caller. */
  send(msgs: readonly Message[]): void {
    if (this.closed) return;
    for (const m of msgs) {
      if (m.type === MessageType.Snap) throw new Error('MsgSnap must go through sendSnapshot');
      const conn = this.conn(m.to);
      if (conn === undefined) {
        this.stats.dropped++;
        this.handlers?.onUnreachable(m.to, [m.groupId]);
        continue;
      }
      const enc = encodeMessage(m);
      // Heartbeat traffic per range is what grows with the range count on an idle store (docs/scaling.md).
      if (m.type === MessageType.Heartbeat || m.type === MessageType.HeartbeatResp) {
        this.stats.heartbeatsSent++;
        this.stats.heartbeatBytesSent += enc.length;
      }
      conn.queue.push(enc);
      conn.queueBytes += enc.length;
      conn.groups.add(m.groupId);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      const f = () => {
        this.flushScheduled = false;
        this.flush();
      };
      if (this.sentThisTurn) setImmediate(f);
      else queueMicrotask(f);
    }
  }

  private conn(id: number): PeerConn | undefined {
    const address = this.addressOf(id);
    if (address === undefined) return undefined;
    let c = this.peers.get(id);
    if (c !== undefined && c.address !== address) {
      this.dropConn(c);
      c = undefined;
    }
    if (c === undefined) {
      c = { id, address, client: this.newClient(address), stream: undefined, queue: [], queueBytes: 0, groups: new Set(), backoffMs: 0, retryAt: 0, fallback: false, frames: 0, messages: 0, framesAtPing: -1 };
      this.peers.set(id, c);
    }
    return c;
  }

  private dropConn(c: PeerConn): void {
    // Out of the table first: cancelling and closing run callbacks that may send again.
    this.peers.delete(c.id);
    const s = c.stream;
    c.stream = undefined;
    s?.cancel();
    c.client.close();
  }

  private flush(): void {
    if (this.closed) return;
    if (!this.sentThisTurn) {
      this.sentThisTurn = true;
      setImmediate(() => (this.sentThisTurn = false));
    }
    const now = Date.now();
    for (const c of this.peers.values()) {
      if (c.queue.length === 0) continue;
      const queue = c.queue;
      const groups = [...c.groups];
      c.queue = [];
      c.queueBytes = 0;
      c.groups = new Set();
      if (c.stream === undefined) {
        if (now < c.retryAt) {
          this.unreachable(c, groups, queue.length);
          continue;
        }
        this.openStream(c);
      }
      const s = c.stream!;
      if (s.writableLength > this.maxBuffered) {
        this.unreachable(c, groups, queue.length);
        continue;
      }
      let batch: Buffer[] = [];
      let bytes = 0;
      const writeBatch = () => {
        if (batch.length === 0) return;
        s.write(this.frame(batch));
        this.stats.framesSent++;
        this.stats.messagesSent += batch.length;
        this.stats.bytesSent += bytes;
        c.frames++;
        c.messages += batch.length;
        batch = [];
        bytes = 0;
      };
      for (const m of queue) {
        if (bytes + m.length > this.maxFrameBytes) writeBatch();
        batch.push(bufferView(m));
        bytes += m.length;
      }
      writeBatch();
    }
  }

  private unreachable(c: PeerConn, groups: number[], n: number): void {
    this.stats.dropped += n;
    this.handlers?.onUnreachable(c.id, groups);
  }

  private openStream(c: PeerConn): void {
    const client = c.client as unknown as RaftServiceClient;
    const s = client.Stream();
    c.stream = s;
    let failed = false;
    let connected = false;
    // grpc-js has no connect timeout: a channel that resolved the old IP of a restarted pod (a stale DNS
    // answer) sends SYNs to an address that no longer exists and waits for the kernel (~2 min; 44–72 s
    // seen in the e2e). A channel not READY by the deadline is given up, and the retry resolves afresh.
    const connectTimer = setTimeout(() => {
      if (!failed && c.stream === s && c.client.getChannel().getConnectivityState(false) !== grpc.connectivityState.READY) s.cancel();
    }, CONNECT_DEADLINE_MS);
    connectTimer.unref?.();
    const fail = (why: string, code?: number) => {
      if (failed) return;
      failed = true;
      clearTimeout(connectTimer);
      if (c.stream !== s) return; // replaced already (peerRestarted)
      c.stream = undefined;
      c.backoffMs = Math.min(2000, c.backoffMs === 0 ? 50 : c.backoffMs * 2);
      c.retryAt = Date.now() + c.backoffMs;
      // A connection that never came up may be the wrong protocol for this peer (TLS transition).
      if (!connected && this.opts.fallbackCredentials !== undefined) c.fallback = !c.fallback;
      // The next attempt goes through a new channel, i.e. a fresh name resolution (see the header).
      if (!this.closed && this.peers.get(c.id) === c) {
        const old = c.client;
        c.client = this.newClient(c.address, c.fallback);
        old.close();
      }
      if (!this.closed) {
        // In a TLS transition failed attempts of the other protocol are expected: not an error.
        if (isSecurityFailure(code, why) && this.opts.fallbackCredentials === undefined) this.securityFailure(c, why);
        else this.opts.logger.debug('raft stream to peer failed', { peer: c.id, address: c.address, why, backoffMs: c.backoffMs });
      }
      this.handlers?.onUnreachable(c.id, []);
    };
    s.on('data', (f: RaftFrame) => {
      c.backoffMs = 0;
      if (f.refused) this.handlers?.onRefused?.(c.id, f.refused);
    });
    s.on('error', (e: Error) => fail(e.message, (e as Partial<grpc.ServiceError>).code));
    s.on('end', () => fail('ended'));
    s.on('status', (st: grpc.StatusObject) => {
      if (st.code !== grpc.status.OK) fail(st.details, st.code);
    });
    // A successful (re)connection resets the backoff once the channel is ready.
    const ch = c.client.getChannel();
    const watch = () => {
      // The channel is closed once the stream failed (a new one replaces it) or the conn was dropped:
      // watching a closed channel throws.
      if (failed || this.closed || this.peers.get(c.id) !== c || c.client.getChannel() !== ch) return;
      const state = ch.getConnectivityState(false);
      if (state === grpc.connectivityState.READY) {
        connected = true;
        c.backoffMs = 0;
        clearTimeout(connectTimer);
      }
      else if (state !== grpc.connectivityState.SHUTDOWN) ch.watchConnectivityState(state, Infinity, watch);
    };
    watch();
  }

  /** A peer refused us or we refused its certificate (TLS): one error line per peer and reason every 30 s. */
  private securityFailure(c: PeerConn, why: string): void {
    const key = `${c.id}|${why}`;
    const now = Date.now();
    if (now - (this.securityLogged.get(key) ?? 0) < 30_000) return;
    if (this.securityLogged.size > 1000) this.securityLogged.clear();
    this.securityLogged.set(key, now);
    this.opts.logger.error('raft connection to peer refused (TLS): check the certificates of both nodes', { peer: c.id, address: c.address, why });
  }

  /**
   * An admitted frame from `from` carried `boot`. A change means the peer restarted: our stream to it goes
   * to the old process (possibly an address that no longer exists) — replace it now, without backoff.
   */
  private noteBoot(from: number, boot: number): void {
    if (boot === 0) return;
    const prev = this.boots.get(from);
    this.boots.set(from, boot);
    if (prev === undefined || prev === boot || this.closed) return;
    const c = this.peers.get(from);
    this.opts.logger.info('peer restarted: reconnecting', { peer: from, address: c?.address });
    if (c === undefined) return;
    this.dropConn(c);
    this.handlers?.onUnreachable(from, []);
  }

  /** Streams a snapshot to `msg.to`; resolves true when the receiver handed it to raft. */
  async sendSnapshot(msg: Message, source: SnapshotSource): Promise<boolean> {
    const address = this.addressOf(msg.to);
    if (address === undefined || this.closed) {
      source.release();
      return false;
    }
    const client = this.newClient(address, this.peers.get(msg.to)?.fallback ?? false) as unknown as RaftServiceClient;
    try {
      return await new Promise<boolean>((resolve) => {
        const call = client.Snapshot((err, res) => {
          if (err) {
            this.opts.logger.warn('snapshot send failed', { to: msg.to, err: err.message });
            resolve(false);
          } else resolve(res?.accepted === true);
        });
        call.on('error', () => undefined);
        void (async () => {
          try {
            const write = (chunk: SnapshotChunk) =>
              new Promise<void>((res) => {
                if (!call.write(chunk)) call.once('drain', () => res());
                else res();
              });
            await write({ message: Buffer.from(encodeMessage(msg)), from: this.opts.selfId, clientAddress: this.opts.clientAddress, incarnation: this.incarnation });
            let n = 0;
            for await (const batch of source.chunks()) {
              let keys: Buffer[] = [];
              let values: Buffer[] = [];
              let bytes = 0;
              for (const [k, v] of batch) {
                // Cut before the pair that would overflow the chunk: a chunk stays below the receiver's
                // message limit (one pair alone always fits: key and value limits are below it).
                if (keys.length > 0 && bytes + k.length + v.length > this.snapshotChunkBytes) {
                  await write({ keys, values });
                  keys = [];
                  values = [];
                  bytes = 0;
                }
                keys.push(k);
                values.push(v);
                bytes += k.length + v.length;
                n++;
              }
              if (keys.length > 0) await write({ keys, values });
            }
            call.end();
            this.stats.snapshotsSent++;
            this.opts.logger.info('snapshot sent', { to: msg.to, index: msg.snapshot?.metadata.index, entries: n });
          } catch (e) {
            this.opts.logger.warn('snapshot export failed', { to: msg.to, err: (e as Error).message });
            call.cancel();
          }
        })();
      });
    } finally {
      source.release();
      client.close();
    }
  }

  /** Server side: the kvs.v1.Raft service implementation. */
  serviceHandlers(): grpc.UntypedServiceImplementation {
    return {
      Stream: (call: grpc.ServerDuplexStream<RaftFrame, RaftFrame>) => {
        if (this.inboundClosed) {
          call.end();
          return;
        }
        this.activeServerCalls.add(call);
        let lastRefusalReply = 0;
        call.on('data', (f: RaftFrame) => {
          const from = Number(f.from ?? 0);
          const inc = f.incarnation ?? '';
          if (from > 0 && this.opts.admit !== undefined) {
            const a = this.opts.admit(from, inc);
            if (!a.ok) {
              // Nothing of a refused sender reaches raft: no vote, no append/heartbeat ack, no read ack.
              this.stats.refusedFrames++;
              const now = Date.now();
              if (now - lastRefusalReply >= 1000) {
                lastRefusalReply = now;
                try {
                  call.write({ from: this.opts.selfId, clientAddress: this.opts.clientAddress, raftAddress: this.opts.raftAddress, messages: [], incarnation: this.incarnation, refused: a.reason });
                } catch {
                  /* the stream is going away */
                }
              }
              return;
            }
          }
          if (from > 0 && inc !== '') this.handlers?.onIncarnation?.(from, inc);
          if (from > 0) {
            if (f.clientAddress) this.clientAddresses.set(from, f.clientAddress);
            if (f.raftAddress) this.announced.set(from, f.raftAddress);
            this.noteBoot(from, Number(f.boot ?? 0));
            this.handlers?.onFrame?.(from, Number(f.boot ?? 0), Number(f.minTxnStartTs ?? 0));
          }
          const msgs: Message[] = [];
          for (const b of f.messages ?? []) {
            try {
              msgs.push(decodeMessage(b as Uint8Array));
            } catch (e) {
              this.opts.logger.warn('undecodable raft message', { from, err: (e as Error).message });
            }
          }
          this.stats.framesReceived++;
          this.stats.messagesReceived += msgs.length;
          if (msgs.length > 0) this.handlers?.onMessages(msgs);
          const stale = f.staleReplicas ?? [];
          if (from > 0 && stale.length > 0) this.handlers?.onStaleReplicas?.(from, stale.map(noticeOf));
        });
        call.on('end', () => {
          this.activeServerCalls.delete(call);
          call.end();
        });
        call.on('error', () => this.activeServerCalls.delete(call));
        call.on('cancelled', () => this.activeServerCalls.delete(call));
      },
      TxnCall: (call: grpc.ServerUnaryCall<{ from?: number | string; rangeId?: number | string; payload?: Buffer }, { payload: Buffer }>, cb: grpc.sendUnaryData<{ payload: Buffer }>) => {
        const h = this.handlers?.onTxnCall;
        if (h === undefined) {
          cb({ code: grpc.status.UNAVAILABLE, details: 'this store does not serve transaction calls yet' });
          return;
        }
        h(Number(call.request.from ?? 0), Number(call.request.rangeId ?? 0), Buffer.from(call.request.payload ?? Buffer.alloc(0))).then(
          (payload) => cb(null, { payload }),
          (e: unknown) => cb({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) }),
        );
      },
      Snapshot: (call: grpc.ServerReadableStream<SnapshotChunk, SnapshotDone>, cb: grpc.sendUnaryData<SnapshotDone>) => {
        let msg: Message | undefined;
        const entries: EngineEntry[] = [];
        let bad: string | undefined;
        call.on('data', (c: SnapshotChunk) => {
          if (msg === undefined) {
            try {
              msg = decodeMessage(c.message as Uint8Array);
              const from = Number(c.from ?? 0);
              const a = from > 0 && this.opts.admit !== undefined ? this.opts.admit(from, c.incarnation ?? '') : { ok: true as const };
              if (!a.ok) {
                this.stats.refusedFrames++;
                bad = `refused: ${a.reason}`;
                return;
              }
              if (from > 0 && c.clientAddress) this.clientAddresses.set(from, c.clientAddress);
            } catch (e) {
              bad = (e as Error).message;
            }
            return;
          }
          const ks = c.keys ?? [];
          const vs = c.values ?? [];
          for (let i = 0; i < ks.length; i++) entries.push([ks[i] as Buffer, vs[i] as Buffer]);
        });
        call.on('error', () => undefined);
        call.on('end', () => {
          if (msg === undefined || bad !== undefined || this.handlers === undefined) {
            cb(null, { accepted: false, error: bad ?? 'no message' });
            return;
          }
          this.stats.snapshotsReceived++;
          this.handlers.onSnapshot(msg, entries).then(
            () => cb(null, { accepted: true }),
            (e: unknown) => cb(null, { accepted: false, error: e instanceof Error ? e.message : String(e) }),
          );
        });
      },
    };
  }

  /**
   * Shutdown: ends every inbound Raft stream and refuses new ones (the node is about to exit; peers see
   * the stream end and stop sending). The outbound side keeps working until close().
   */
  closeInbound(): void {
    this.inboundClosed = true;
    for (const call of this.activeServerCalls) {
      try {
        call.end();
      } catch {
        /* already gone */
      }
    }
    this.activeServerCalls.clear();
  }

  close(): void {
    this.closed = true;
    for (const c of this.callClients.values()) c.client.close();
    this.callClients.clear();
    for (const c of [...this.peers.values()]) {
      try {
        c.stream?.end();
      } catch {
        /* ignore */
      }
      this.dropConn(c);
    }
    for (const call of this.activeServerCalls) {
      try {
        call.end();
      } catch {
        /* ignore */
      }
    }
    this.activeServerCalls.clear();
  }
}

/** Longs arrive as numbers (PROTO_LOADER_OPTIONS); anything missing is 0. */
function noticeOf(n: { rangeId?: unknown; confVer?: unknown; version?: unknown; storeIds?: unknown[] }): StaleReplicaNotice {
  return { rangeId: Number(n.rangeId ?? 0), confVer: Number(n.confVer ?? 0), version: Number(n.version ?? 0), storeIds: (n.storeIds ?? []).map(Number) };
}
