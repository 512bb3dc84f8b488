// Client side of kvs.v1.Kv/BatchStream: KvClient's requests multiplexed over one long-lived bidi stream
// per endpoint (TiKV's BatchCommands), instead of one grpc-js unary call each.
// - A stream is opened lazily on the endpoint's channel and re-opened by the next request after it broke.
// - Requests issued in one event-loop turn leave as one frame (flushed on setImmediate; split by size).
// - Replies are matched by request id. Deadlines are enforced by one periodic sweep per client (no timer
//   per request) and sent along as timeout_ms.
// - A broken stream fails every request written to it with KvOutcomeUnknownError (retryable: KvClient
//   retries with the same session seq, so exactly-once holds); requests not yet written simply go out on
//   the next stream. Only a stream that never connected fails them as certainly-not-applied.
// - A node without BatchStream (older version: UNIMPLEMENTED) gets its requests re-sent as unary calls,
//   and the endpoint stays unary.
// - A request larger than the server accepts in one frame (it announces its limit in the first reply
//   frame; until then a conservative floor applies) is left to the unary path (send returns undefined).
import * as grpc from '@grpc/grpc-js';
import { loadKvProto } from '../common/proto.js';
import { FrameDecodeError, decodeResponseFrame, encodeRequestItem, type StreamMethod } from '../common/stream-frames.js';
import { KvCancelledError, KvDeadlineError, KvInternalError, KvOutcomeUnknownError, KvUnavailableError, fromGrpcError, fromWireError, type KvError } from './errors.js';
import type { LostReplyInjector } from './fault-injection.js';

const PATH = '/kvs.v1.Kv/BatchStream';
/** Frame size used until the server announced its limit (servers accept far more by default: 8 MiB). */
const INITIAL_MAX_FRAME_BYTES = 16 * 1024;
/** Frames are split around this size even when the server accepts more (head-of-line latency). */
const COALESCE_FRAME_BYTES = 1024 * 1024;
const DEFAULT_SWEEP_MS = 10;

export interface StreamTransportOptions {
  /** The grpc-js client (channel) of an endpoint; shared with the unary calls. */
  channel: (endpoint: string) => grpc.Client;
  lostReplies?: LostReplyInjector;
  /**
   * Sends a request as a unary call: used for the requests of a stream the server does not implement
   * (a node of an older version answers UNIMPLEMENTED; the endpoint then stays on unary calls).
   */
  unary?: (endpoint: string, method: StreamMethod, req: unknown, timeoutMs: number) => Promise<unknown>;
  /** Period of the deadline sweep (default 10 ms): the precision of per-request deadlines. */
  sweepMs?: number;
}

type Codec = { serialize: (v: unknown) => Buffer; deserialize: (b: Buffer) => unknown };

/** One request in flight (the only per-request allocation besides its promise). */
interface Pending {
  id: number;
  method: StreamMethod;
  /** Date.now() at which the attempt times out. */
  deadline: number;
  timeoutMs: number;
  /** The request object (kept for a unary re-send when the node has no BatchStream). */
  req: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** The call it was written to (undefined while queued). */
  call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
}

export class StreamTransport {
  private readonly streams = new Map<string, EndpointStream>();
  private readonly codecs = new Map<StreamMethod, Codec>();
  private nextId = 1;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly sweepMs: number;

  constructor(readonly opts: StreamTransportOptions) {
    this.sweepMs = opts.sweepMs ?? DEFAULT_SWEEP_MS;
    const service = loadKvProto().kvs.v1.Kv.service;
    for (const [name, def] of Object.entries(service)) {
      if (name !== 'BatchStream') this.codecs.set(name as StreamMethod, { serialize: def.requestSerialize, deserialize: def.responseDeserialize });
    }
  }

  /** Requests in flight or queued, over all endpoints. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.pending.size;
    return n;
  }

  /**
   * Sends one request over the endpoint's stream; the promise settles with the decoded response or a
   * typed KvError. Returns undefined when the request is too large for a frame (send it unary).
   */
  send<Res>(endpoint: string, method: StreamMethod, req: unknown, timeoutMs: number): Promise<Res> | undefined {
    if (this.closed) return Promise.reject(new KvCancelledError(`${method}: client closed`));
    let s = this.streams.get(endpoint);
    if (!s) {
      s = new EndpointStream(this, endpoint);
      this.streams.set(endpoint, s);
    }
    if (s.unsupported) return undefined;
    const body = this.codec(method).serialize(req);
    const id = this.nextId++;
    // timeout_ms is a uint32 on the wire (≈ 49 days): longer deadlines are clamped.
    const ms = Math.min(0xffffffff, Math.max(1, Math.ceil(timeoutMs)));
    const item = encodeRequestItem(id, ms, method, body);
    if (item.length > s.maxFrameBytes) return undefined;
    return new Promise<Res>((resolve, reject) => {
      s.enqueue({ id, method, deadline: Date.now() + ms, timeoutMs: ms, req, resolve: resolve as (v: unknown) => void, reject, call: undefined }, item);
      if (!this.sweepTimer) {
        this.sweepTimer = setInterval(() => this.sweep(), this.sweepMs);
        this.sweepTimer.unref();
      }
    });
  }

  codec(method: StreamMethod): Codec {
    const c = this.codecs.get(method);
    if (!c) throw new KvInternalError(`unknown method ${method}`);
    return c;
  }

  /** Fails every request whose deadline passed; stops itself when nothing is in flight. */
  private sweep(): void {
    const now = Date.now();
    let left = 0;
    for (const s of this.streams.values()) left += s.expire(now);
    if (left === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** Cancels every stream; requests in flight fail with KvCancelledError. */
  close(): void {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const s of this.streams.values()) s.close();
    this.streams.clear();
  }
}

class EndpointStream {
  readonly pending = new Map<number, Pending>();
  /** Largest frame the server takes (announced in its first reply frame). */
  maxFrameBytes = INITIAL_MAX_FRAME_BYTES;
  /** The node does not implement BatchStream (older version): its requests go unary. */
  unsupported = false;
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  /** Whether the current call received anything (then it certainly reached the server). */
  private heardFrom = false;
  private queue: Buffer[] = [];
  private queued: Pending[] = [];
  private queueBytes = 0;
  private flushScheduled = false;
  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(
    private readonly transport: StreamTransport,
    readonly endpoint: string,
  ) {}

  enqueue(p: Pending, item: Buffer): void {
    this.pending.set(p.id, p);
    if (this.queue.length > 0 && this.queueBytes + item.length > Math.min(this.maxFrameBytes, COALESCE_FRAME_BYTES)) this.flush();
    this.queue.push(item);
    this.queued.push(p);
    this.queueBytes += item.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const call = this.open();
    const frame = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queueBytes);
    for (const p of this.queued) p.call = call;
    this.queue = [];
    this.queued = [];
    this.queueBytes = 0;
    // Writes are not throttled here: what is in flight is bounded by the application's concurrency,
    // and grpc-js buffers under HTTP/2 flow control.
    call.write(frame);
  }

  private open(): grpc.ClientDuplexStream<Buffer, Buffer> {
    if (this.call) return this.call;
    const ident = (b: Buffer): Buffer => b;
    const call = this.transport.opts.channel(this.endpoint).makeBidiStreamRequest<Buffer, Buffer>(PATH, ident, ident);
    this.call = call;
    this.heardFrom = false;
    call.on('data', (frame: Buffer) => this.onFrame(call, frame));
    call.on('error', () => undefined); // reported by 'status', which always follows
    call.on('status', (st: grpc.StatusObject) => this.onStatus(call, st));
    return call;
  }

  private onFrame(call: grpc.ClientDuplexStream<Buffer, Buffer>, frame: Buffer): void {
    if (call === this.call) this.heardFrom = true;
    let decoded;
    try {
      decoded = decodeResponseFrame(frame);
    } catch (err) {
      // A corrupt reply stream: nothing on it can be trusted any more.
      const msg = err instanceof FrameDecodeError ? err.message : String(err);
      this.fail(call, (p) => new KvOutcomeUnknownError(`${p.method} ${this.endpoint}: malformed BatchStream reply (${msg}); outcome unknown`));
      if (call === this.call) this.call = undefined; // the next request opens a fresh stream
      call.cancel();
      return;
    }
    if (decoded.maxRequestFrameBytes > 0) this.maxFrameBytes = decoded.maxRequestFrameBytes;
    const inj = this.transport.opts.lostReplies;
    for (const r of decoded.responses) {
      const p = this.pending.get(r.requestId);
      if (!p) continue; // timed out already (or a reply for another client's id: ignored)
      if (inj && inj.shouldDrop(p.method)) {
        if (!inj.silent) {
          this.pending.delete(p.id);
          const lost = (): void => p.reject(new KvUnavailableError(`${p.method} ${this.endpoint}: reply lost (kvs test hook: LostReplyInjector)`));
          const hold = inj.runOnDrop(p.method);
          if (hold) void Promise.resolve(hold).then(lost, lost);
          else lost();
        }
        continue; // silent: the attempt runs into its deadline
      }
      this.pending.delete(p.id);
      if (r.error) {
        p.reject(fromWireError(r.error, `${p.method} ${this.endpoint}`));
        continue;
      }
      let res: unknown;
      try {
        res = this.transport.codec(p.method).deserialize(r.body);
      } catch (err) {
        p.reject(new KvInternalError(`${p.method} ${this.endpoint}: undecodable response (${err instanceof Error ? err.message : String(err)})`, grpc.status.INTERNAL));
        continue;
      }
      p.resolve(res);
    }
  }

  private onStatus(call: grpc.ClientDuplexStream<Buffer, Buffer>, st: grpc.StatusObject): void {
    const heard = call === this.call ? this.heardFrom : true;
    if (call === this.call) this.call = undefined;
    const unary = this.transport.opts.unary;
    if (!heard && st.code === grpc.status.UNIMPLEMENTED && unary) {
      // An older node without BatchStream refused the call itself: nothing ran. Stay unary there.
      this.unsupported = true;
      for (const p of this.pending.values()) {
        if (p.call !== call) continue;
        this.pending.delete(p.id);
        unary(this.endpoint, p.method, p.req, Math.max(1, p.deadline - Date.now())).then(p.resolve, p.reject);
      }
      return;
    }
    const neverConnected = !heard && st.code === grpc.status.UNAVAILABLE && /ECONNREFUSED|No connection established|Connection refused/i.test(st.details);
    // The node's authorizer refuses a call before reading any request (server/authz.ts): nothing ran,
    // and the typed, non-retryable error says why (certificate refused, identity not allowed).
    const refused = !heard && (st.code === grpc.status.UNAUTHENTICATED || st.code === grpc.status.PERMISSION_DENIED);
    this.fail(call, (p) => {
      if (refused) return fromGrpcError(Object.assign(new Error(st.details), st), `${p.method} ${this.endpoint}`);
      // The request surely did not reach a server that was never connected: report the connection error
      // itself (retryable even without a session).
      if (neverConnected) return fromGrpcError(Object.assign(new Error(st.details), st), `${p.method} ${this.endpoint}`);
      const how = st.code === grpc.status.OK ? 'ended by the server' : `broke (${grpc.status[st.code] ?? st.code}: ${st.details})`;
      return new KvOutcomeUnknownError(`${p.method} ${this.endpoint}: BatchStream ${how} with the request in flight; outcome unknown`);
    });
  }

  /** Fails the requests written to `call`. */
  private fail(call: grpc.ClientDuplexStream<Buffer, Buffer>, err: (p: Pending) => KvError): void {
    for (const p of this.pending.values()) {
      if (p.call !== call) continue;
      this.pending.delete(p.id);
      p.reject(err(p));
    }
  }

  /** Rejects expired requests; returns how many are still pending. */
  expire(now: number): number {
    for (const p of this.pending.values()) {
      if (p.deadline > now) continue;
      this.pending.delete(p.id);
      p.reject(new KvDeadlineError(`${p.method} ${this.endpoint}: deadline of ${p.timeoutMs} ms exceeded (BatchStream)`));
    }
    return this.pending.size;
  }

  close(): void {
    const call = this.call;
    this.call = undefined;
    for (const p of this.pending.values()) p.reject(new KvCancelledError(`${p.method}: client closed`));
    this.pending.clear();
    this.queue = [];
    this.queued = [];
    call?.cancel();
  }
}
