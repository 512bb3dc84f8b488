// Server side of kvs.v1.Kv/BatchStream: many requests multiplexed over one bidi stream.
// - Every sub-request of a frame is dispatched synchronously, in frame order, in the turn the frame
//   arrives, so the store batches them exactly like concurrent unary calls (one ReadIndex round for the
//   reads of a turn, one group commit for the writes).
// - Each runs through the shared RequestRunner (kv-service.ts): same validation, sessions, metrics and
//   error mapping (status-mapping.ts) as the unary method.
// - Replies completed in one event-loop turn leave as one response frame (flushed on setImmediate, or
//   earlier once a frame reaches maxResponseFrameBytes).
// - At most maxInFlight sub-requests per stream run at once; beyond that a sub-request is refused with
//   RESOURCE_EXHAUSTED (OVERLOADED: not run, safe to retry). A malformed sub-request gets
//   INVALID_ARGUMENT; an unparseable frame ends the stream with INVALID_ARGUMENT.
// - When the client goes away, in-flight work completes and its replies are dropped.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { grpcStatusName } from '../common/wire-errors.js';
import { loadKvProto } from '../common/proto.js';
import { FrameDecodeError, decodeRequestFrame, encodeErrorItem, encodeMaxFrameField, encodeResponseItem, type StreamMethod } from '../common/stream-frames.js';
import { OverloadedError, StoreClosedError } from '../kv/errors.js';
import type { RequestContext, RequestRunner } from './kv-service.js';
import { MALFORMED_REQUEST } from './malformed.js';
import type { ServerMetrics } from './metrics.js';
import { serviceErrorOf, toWireError, type MappedError } from './status-mapping.js';
import { FieldError } from './validate.js';

export interface BatchStreamOptions {
  runner: RequestRunner;
  logger: Logger;
  metrics: ServerMetrics | undefined;
  /** The server's max_receive_message_length: announced to the client, which never sends a larger frame. */
  maxRequestFrameBytes: number;
  /** Sub-requests running at once per stream (default 4096). */
  maxInFlight?: number;
  /** A response frame is written as soon as it holds this many bytes (default 1 MiB). */
  maxResponseFrameBytes?: number;
}

type Call = grpc.ServerDuplexStream<Buffer, Buffer>;
type Codec = { deserialize: (b: Buffer) => unknown; serialize: (v: unknown) => Buffer };

const BATCH_STREAM = 'BatchStream';

/**
 * The Kv service definition with BatchStream carrying raw frames (this module encodes the envelope; the
 * embedded messages use the unary methods' serializers).
 */
export function withRawBatchStream(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const m = def[BATCH_STREAM];
  if (!m) return def;
  const ident = (b: Buffer): Buffer => b;
  return { ...def, [BATCH_STREAM]: { ...m, requestDeserialize: ident, responseSerialize: ident } };
}

export class BatchStreamServer {
  readonly maxInFlight: number;
  readonly maxResponseFrameBytes: number;
  private readonly sessions = new Set<StreamSession>();
  private readonly codecs = new Map<StreamMethod, Codec>();
  private drainWaiters: Array<() => void> = [];
  draining = false;
  private readonly debug: boolean;

  constructor(readonly opts: BatchStreamOptions) {
    this.debug = opts.logger.isLevelEnabled('debug');
    this.maxInFlight = opts.maxInFlight ?? 4096;
    this.maxResponseFrameBytes = opts.maxResponseFrameBytes ?? 1024 * 1024;
    const service = loadKvProto().kvs.v1.Kv.service;
    for (const name of Object.keys(service)) {
      if (name === BATCH_STREAM) continue;
      const def = service[name]!;
      this.codecs.set(name as StreamMethod, {
        // Tolerant like the unary decoder (node-server.ts): a malformed body reaches the runner as a
        // marker and is answered INVALID_ARGUMENT there.
        deserialize: (b) => {
          try {
            return def.requestDeserialize(b);
          } catch (err) {
            return { [MALFORMED_REQUEST]: err instanceof Error ? err.message : String(err) };
          }
        },
        serialize: (v) => def.responseSerialize(v),
      });
    }
  }

  /** Open streams. */
  get size(): number {
    return this.sessions.size;
  }

  handler(): grpc.handleBidiStreamingCall<Buffer, Buffer> {
    return (call) => {
      const s = new StreamSession(this, call);
      this.sessions.add(s);
      this.opts.metrics?.streamsOpen.inc();
      if (this.debug) this.opts.logger.debug('BatchStream opened', { peer: s.peer, streams: this.sessions.size });
      s.start();
    };
  }

  codec(method: StreamMethod): Codec {
    return this.codecs.get(method)!;
  }

  /** Called by a session once its call is over. */
  closed(s: StreamSession): void {
    if (!this.sessions.delete(s)) return;
    this.opts.metrics?.streamsOpen.dec();
    if (this.debug) this.opts.logger.debug('BatchStream closed', { peer: s.peer, streams: this.sessions.size });
    if (this.sessions.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  /**
   * Shutdown: sub-requests arriving from now on are refused (STORE_CLOSED: not run, retry elsewhere);
   * each stream ends (status OK) once its in-flight sub-requests are answered. Resolves when all ended.
   */
  drain(): Promise<void> {
    this.draining = true;
    for (const s of this.sessions) s.maybeEnd();
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
}

/** One sub-request in flight: the runner's context, and what its reply needs. */
class SubCall implements RequestContext {
  constructor(
    readonly session: StreamSession,
    readonly requestId: number,
    readonly method: StreamMethod,
    /** Date.now() after which the client no longer waits (0 = no deadline). */
    readonly deadline: number,
  ) {}

  get cancelled(): boolean {
    return this.session.gone || (this.deadline > 0 && Date.now() > this.deadline);
  }

  peer(): string {
    return this.session.peer;
  }
}

function subDone(sub: SubCall, res: unknown, err: MappedError | undefined): void {
  sub.session.complete(sub, res, err);
}

class StreamSession {
  /** Replies can no longer be delivered (client cancelled, connection lost, stream failed): they are dropped. */
  gone = false;
  private inFlight = 0;
  private readEnded = false;
  private ended = false;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private firstFrame = true;
  private paused = false;
  readonly peer: string;
  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(
    private readonly server: BatchStreamServer,
    private readonly call: Call,
  ) {
    this.peer = call.getPeer();
  }

  start(): void {
    const call = this.call;
    call.on('data', (frame: Buffer) => this.onFrame(frame));
    call.on('end', () => {
      // The client half-closed: answer what is in flight, then end the call.
      this.readEnded = true;
      this.maybeEnd();
    });
    call.on('cancelled', () => this.onGone());
    call.on('error', () => this.onGone());
    call.on('close', () => this.onGone());
    call.on('drain', () => {
      if (this.paused && !this.gone) {
        this.paused = false;
        call.resume();
      }
    });
  }

  private onGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.ended = true;
    this.out = [];
    this.outBytes = 0;
    this.server.closed(this);
  }

  private onFrame(frame: Buffer): void {
    if (this.ended) return;
    const { opts } = this.server;
    let subs;
    try {
      subs = decodeRequestFrame(frame);
    } catch (err) {
      const msg = err instanceof FrameDecodeError ? err.message : String(err);
      this.failStream(new FieldError('frame', `unparseable BatchStream frame (${msg})`));
      return;
    }
    opts.metrics?.streamFrameRequests.observe(subs.length);
    const now = subs.length > 0 ? Date.now() : 0;
    for (const s of subs) {
      if (s.error !== undefined) {
        this.refuse(s.requestId, 'BatchStream', new FieldError('request', s.error));
      } else if (this.server.draining) {
        this.refuse(s.requestId, s.method, new StoreClosedError());
      } else if (this.inFlight >= this.server.maxInFlight) {
        this.refuse(s.requestId, s.method, new OverloadedError(`more than ${this.server.maxInFlight} requests in flight on this stream; retry later`));
      } else {
        this.inFlight++;
        const req = this.server.codec(s.method).deserialize(s.body);
        opts.runner.run(s.method, req, new SubCall(this, s.requestId, s.method, s.timeoutMs > 0 ? now + s.timeoutMs : 0), subDone);
      }
    }
  }

  /** Answers a sub-request that was not run (counted in the request metrics under its method). */
  private refuse(requestId: number, method: string, err: Error): void {
    const w = toWireError(err, this.server.opts.logger, { method });
    const mm = this.server.opts.metrics?.method(method);
    if (mm) mm.finished(mm.started(), grpcStatusName(w.code));
    this.push(encodeErrorItem(requestId, w));
  }

  complete(sub: SubCall, res: unknown, err: MappedError | undefined): void {
    this.inFlight--;
    if (this.gone || sub.cancelled) {
      // Nobody waits for this reply (stream closed, or the client's deadline passed).
      this.maybeEnd();
      return;
    }
    let item: Buffer;
    if (err) item = encodeErrorItem(sub.requestId, err);
    else {
      try {
        item = encodeResponseItem(sub.requestId, sub.method, this.server.codec(sub.method).serialize(res));
      } catch (e) {
        item = encodeErrorItem(sub.requestId, toWireError(e, this.server.opts.logger, { method: sub.method }));
      }
    }
    this.push(item);
  }

  private push(item: Buffer): void {
    if (this.ended) return;
    this.out.push(item);
    this.outBytes += item.length;
    if (this.outBytes >= this.server.maxResponseFrameBytes) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  private flush(): void {
    if (this.ended || this.out.length === 0) {
      this.maybeEnd();
      return;
    }
    if (this.firstFrame) {
      this.firstFrame = false;
      this.out.unshift(encodeMaxFrameField(this.server.opts.maxRequestFrameBytes));
    }
    const frame = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.outBytes = 0;
    // Backpressure: a client that does not read its replies stops being read from.
    if (!this.call.write(frame) && !this.paused) {
      this.paused = true;
      this.call.pause();
    }
    this.maybeEnd();
  }

  /** Ends the call (status OK) once the client half-closed or the server drains, and nothing is pending. */
  maybeEnd(): void {
    if (this.ended || this.inFlight > 0 || this.out.length > 0) return;
    if (!this.readEnded && !this.server.draining) return;
    this.ended = true;
    this.call.end();
    this.server.closed(this);
  }

  private failStream(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.gone = true;
    this.out = [];
    const w = toWireError(err, this.server.opts.logger, { method: BATCH_STREAM });
    this.server.opts.logger.warn('BatchStream ended: malformed frame', { peer: this.peer, error: w.errorCode });
    this.call.emit('error', serviceErrorOf(w));
    this.server.closed(this);
  }
}
