// KvClient: the kvs client library (also used by kvsctl, tests and the benchmark).
// - endpoints list; calls go to the current endpoint and rotate to the next on retryable failures
// - per-operation deadline (timeoutMs, covering all retries) and per-attempt deadline (attemptTimeoutMs)
// - retries with exponential backoff + jitter on UNAVAILABLE (connection failures, store closed, storage
//   errors) and on attempt deadlines
// - exactly-once sessions: every mutating request (Put, Delete, DeleteRange, Batch, Commit) gets a seq
//   from one ClientSession and keeps it across its retries, so a lost reply never applies a write twice
// - typed errors (errors.ts), transaction helper with bounded conflict retries (txn), scan paging helpers
// - transport: by default every request rides the endpoint's BatchStream (stream-transport.ts), which
//   multiplexes the requests of an event-loop turn into one frame; 'unary' = one gRPC call each
import * as grpc from '@grpc/grpc-js';
import { loadKvProto } from '../common/proto.js';
import type { KvClient as GrpcKvClient } from '../generated/kvs/v1/Kv.js';
import type { GetResponse__Output } from '../generated/kvs/v1/GetResponse.js';
import type { PutResponse__Output } from '../generated/kvs/v1/PutResponse.js';
import type { DeleteResponse__Output } from '../generated/kvs/v1/DeleteResponse.js';
import type { DeleteRangeResponse__Output } from '../generated/kvs/v1/DeleteRangeResponse.js';
import type { ScanResponse__Output } from '../generated/kvs/v1/ScanResponse.js';
import type { BatchResponse__Output } from '../generated/kvs/v1/BatchResponse.js';
import type { BeginResponse__Output } from '../generated/kvs/v1/BeginResponse.js';
import type { CommitResponse__Output } from '../generated/kvs/v1/CommitResponse.js';
import type { StatusResponse__Output } from '../generated/kvs/v1/StatusResponse.js';
import {
  KvCancelledError,
  KvConflictError,
  KvDeadlineError,
  KvError,
  KvInvalidArgumentError,
  KvNotLeaderError,
  KvRoutingError,
  KvOutcomeUnknownError,
  KvOverloadedError,
  KvTxnNotFoundError,
  KvUnavailableError,
  fromGrpcError,
  isServiceError,
} from './errors.js';
import type { LostReplyInjector } from './fault-injection.js';
import { type KeyLike, keySuccessor, prefixEnd, toBuffer } from './keys.js';
import { LeaderRoutes } from './leader-routes.js';
import { DEFAULT_READ_LEADER_SLACK, readGoesToLeader, validReadLeaderSlack, type ReadLeaderSlack } from './read-routing.js';
import { RangeCache, type SpanPiece } from './range-cache.js';
import { ClientSession } from './session.js';
import { StreamTransport } from './stream-transport.js';
import { clientCredentials, type ClientTlsOptions, type ReloadingTls } from '../common/tls.js';

export interface BackoffOptions {
  /** First retry delay (default 25 ms). */
  initialMs?: number;
  /** Delay cap (default 1000 ms). */
  maxMs?: number;
  /** Growth factor (default 2). */
  multiplier?: number;
}

export interface KvClientOptions {
  /** host:port list, or a comma-separated string. */
  endpoints: string | string[];
  /** Deadline of one operation including all its retries (default 10 000 ms). */
  timeoutMs?: number;
  /** Deadline of one attempt (default 5000 ms, capped by what is left of timeoutMs). */
  attemptTimeoutMs?: number;
  /** Maximum attempts of one operation (default 30; the timeoutMs budget usually ends it first). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Session id (default: a random UUID). */
  clientId?: string;
  /** Exactly-once sessions for mutating requests (default true). Without them a retried write may apply twice. */
  sessions?: boolean;
  /** Test hook: drop replies after the server processed the request (see fault-injection.ts). */
  lostReplies?: LostReplyInjector;
  /** Extra grpc-js client interceptors. */
  interceptors?: grpc.Interceptor[];
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
  /**
   * Mutual TLS to nodes started with --cert-file/--key-file/--trusted-ca-file: the CA verifying them and
   * this client's certificate and key (file paths, re-read when they change, or PEM bytes). A bad file
   * throws a TlsConfigError from the constructor. Default plaintext.
   */
  tls?: ClientTlsOptions | ReloadingTls;
  /** Random source for jitter (default Math.random). */
  random?: () => number;
  /**
   * How requests reach the nodes (default 'stream'): multiplexed over one BatchStream per endpoint
   * (requests of one event-loop turn share a frame; far less CPU per request on both sides), or one
   * gRPC unary call per request. Retries, sessions and errors behave the same.
   */
  transport?: 'unary' | 'stream';
  /**
   * Send single-key requests straight to the leader of their key's range, learned from Kv.Routes
   * (default true): no follower → leader hop for writes, no ReadIndex round trip through a follower
   * for reads. Only a hint — a stale entry still gets a correct (forwarded) answer and a refresh.
   */
  routeToLeaders?: boolean;
  /**
   * Linearizable gets go to their range's leader, which answers from its lease without a ReadIndex round
   * (default Infinity, as in TiKV). A finite slack is load-based replica read (TiDB): a get goes to the
   * preferred (rotation) node instead when this client has more than `slack` requests in flight at the
   * leader's node beyond those at the preferred one — for a hot range whose leader's CPU is the limit.
   * With up to 4 other requests in flight a get always goes to the leader. Needs routeToLeaders.
   */
  readLeaderSlack?: ReadLeaderSlack;
  /**
   * Read a scan page (or send a DeleteRange) range by range when the store reached holds no replica of a range in its span
   * (default true; false = fail with the routing error — the negative control of the placement test).
   */
  piecewiseScans?: boolean;
  /**
   * Which endpoint the first attempt goes to (default 'random': clients spread over the nodes).
   * 'first': the list's order is a preference (e.g. the caller knows the Raft leader, so writes skip the
   * follower's forwarding hop); later attempts still rotate and follow NOT_LEADER hints.
   */
  start?: 'random' | 'first';
  /**
   * The txn helper keeps a transaction's puts and deletes and sends them with its commit, one request
   * instead of one per write (default true), when the node says it takes them there
   * (BeginResponse.commit_carries_writes; an older node gets them one by one). A transaction's own
   * writes are still what its reads see; a scan first sends the writes kept so far.
   */
  bufferTxnWrites?: boolean;
  /**
   * The txn helper's point reads of a read-write transaction go straight to each key's range leader, at
   * the transaction's snapshot, instead of through the node running it (default true, with
   * bufferTxnWrites): a transaction over several ranges then waits for no hop between nodes before its
   * reads. The keys read go with the commit, which validates them as it validates reads made through
   * it. Used when Begin answers direct_reads (an older node does not: reads go through it as before).
   * Read-only transactions (`readOnly`) always read through the node (their freshness check is there).
   */
  directTxnReads?: boolean;
}

export interface CallOptions {
  /** Overrides the client's timeoutMs for this operation. */
  timeoutMs?: number;
  /** Send every attempt to this endpoint (no rotation); transactions pin their endpoint this way. */
  endpoint?: string;
}

/** How often the leader table is refreshed while in use, and at most how often it is fetched. */
const ROUTES_MAX_AGE_MS = 10_000;
const ROUTES_MIN_INTERVAL_MS = 500;

export interface GetResult {
  found: boolean;
  /** The value when found. */
  value: Buffer | undefined;
  version: number;
  readTs: number;
}

export interface PutOptions extends CallOptions {
  /** Compare-and-set: apply only if the current value equals this. */
  expectedValue?: KeyLike;
  /** Compare-and-set: apply only if the key is absent. */
  expectAbsent?: boolean;
  /** Return the previous value. */
  returnPrev?: boolean;
  txnId?: string;
}

export interface PutResult {
  version: number;
  /** False only for a failed compare-and-set. */
  succeeded: boolean;
  prevFound: boolean;
  /** With returnPrev, or the current value when a compare-and-set failed. */
  prevValue: Buffer | undefined;
}

export interface RangeOptions {
  /** Keys with this prefix (excludes start/end). */
  prefix?: KeyLike;
  /** Inclusive start; empty/undefined = from the beginning. */
  start?: KeyLike;
  /** Exclusive end; empty/undefined = to the end. */
  end?: KeyLike;
}

export interface ScanOptions extends RangeOptions, CallOptions {
  /** Page size (0/undefined = server default 1000, capped by the server). */
  limit?: number;
  reverse?: boolean;
  keysOnly?: boolean;
  snapshotTs?: number;
  txnId?: string;
}

export interface IterateOptions extends Omit<ScanOptions, 'limit'> {
  /** Keys per page (default 1000). */
  pageSize?: number;
  /** Stop after this many pairs in total (default: all). */
  limit?: number;
}

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  version: number;
}

export interface ScanResult {
  kvs: KeyValue[];
  /** True when the page limit stopped the scan: more keys may follow. */
  more: boolean;
  readTs: number;
}

export type MutationInput = { op: 'put'; key: KeyLike; value: KeyLike } | { op: 'delete'; key: KeyLike };

export interface TxnOptions extends CallOptions {
  /** Attempts on conflict (default 10). */
  maxAttempts?: number;
  readOnly?: boolean;
  /** Server-side idle timeout of the transaction (ms; 0 = server default). */
  idleTimeoutMs?: number;
}

export interface TxnOutcome<T> {
  result: T;
  /** Commit timestamp (0 for read-only / empty transactions). */
  commitTs: number;
  attempts: number;
}

export type StatusResult = StatusResponse__Output;

type Method = 'Get' | 'Put' | 'Delete' | 'DeleteRange' | 'Scan' | 'Batch' | 'Begin' | 'Commit' | 'Rollback' | 'Status';
const EMPTY_KEY = Buffer.alloc(0);
/** A piecewise scan page without a limit returns at most this many pairs (the stores' default). */
const PIECEWISE_DEFAULT_LIMIT = 1000;

/** One range as Kv.Routes reports it (KvClient.routes). */
export interface RouteInfo {
  rangeId: number;
  start: Buffer;
  end: Buffer;
  version: number;
  confVer: number;
  /** Store id of the leader; 0 = unknown. */
  leaderId: number;
  leaderAddress: string;
  replicas: Array<{ storeId: number; peerId: number; role: string }>;
}
type RouteWire = { rangeId?: number | string; start?: Buffer; end?: Buffer; version?: number | string; confVer?: number | string; leaderId?: number | string; leaderAddress?: string; replicas?: Array<{ storeId?: number | string; peerId?: number | string; role?: string }> };
function routeOf(x: RouteWire): RouteInfo {
  return {
    rangeId: Number(x.rangeId ?? 0),
    start: x.start ?? Buffer.alloc(0),
    end: x.end ?? Buffer.alloc(0),
    version: Number(x.version ?? 0),
    confVer: Number(x.confVer ?? 0),
    leaderId: Number(x.leaderId ?? 0),
    leaderAddress: x.leaderAddress ?? '',
    replicas: (x.replicas ?? []).map((r) => ({ storeId: Number(r.storeId ?? 0), peerId: Number(r.peerId ?? 0), role: r.role ?? '' })),
  };
}

/** Methods that are not BatchStream sub-requests (always unary). */
type UnaryMethod = 'Timestamp';

interface RetryState {
  attempts: number;
  lastError: KvError | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_ATTEMPTS = 30;

/** Parses "a:1,b:2" / ["a:1", "b:2"] into a non-empty list of endpoints. */
export function parseEndpoints(endpoints: string | string[]): string[] {
  const list = (Array.isArray(endpoints) ? endpoints : endpoints.split(','))
    .map((e) => e.trim())
    .filter((e) => e.length > 0)
    .map((e) => e.replace(/^(grpc|http):\/\//, ''));
  if (list.length === 0) throw new KvInvalidArgumentError('no endpoints given (expected host:port[,host:port...])');
  for (const e of list) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(e)) throw new KvInvalidArgumentError(`malformed endpoint ${JSON.stringify(e)} (expected host:port)`);
  }
  return list;
}

export class KvClient {
  readonly endpoints: readonly string[];
  /** The exactly-once session (undefined when sessions are disabled). */
  readonly session: ClientSession | undefined;
  private readonly opts: Required<Pick<KvClientOptions, 'timeoutMs' | 'attemptTimeoutMs' | 'maxAttempts'>> & { backoff: Required<BackoffOptions> };
  private readonly random: () => number;
  private readonly stubs = new Map<string, GrpcKvClient>();
  private readonly interceptors: grpc.Interceptor[];
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly security: { credentials: grpc.ChannelCredentials; close(): void };
  private current = 0;
  private closed = false;
  /**
   * Causality token: the highest version, read ts or commit ts any reply carried. A transaction begins at
   * a snapshot of at least this, so it sees every write this client saw acknowledged — also on ranges
   * whose clocks were ahead of the range the transaction starts on.
   */
  private seenTs = 0;

  private observeTs(res: unknown): void {
    if (res === null || typeof res !== 'object') return;
    const r = res as { version?: unknown; readTs?: unknown; commitTs?: unknown; startTs?: unknown };
    for (const v of [r.version, r.readTs, r.commitTs, r.startTs]) {
      const n = Number(v ?? 0);
      if (Number.isSafeInteger(n) && n > this.seenTs) this.seenTs = n;
    }
  }
  private readonly sleepers = new Set<() => void>();
  /** Retries performed (all operations), for tests and the benchmark. */
  retries = 0;
  /** Attempts sent straight to the leader of their key's range (Kv.Routes), for tests and the benchmark. */
  routedToLeader = 0;
  /** Scan pages read range by range (scanByRange), for tests. */
  piecewiseScanCount = 0;
  /** DeleteRange calls sent range by range (deleteRangeByRange), for tests. */
  piecewiseDeleteCount = 0;
  private readonly piecewiseScans: boolean;
  /** Operations of this client in flight (call() entered, not returned). */
  private inFlight = 0;
  /** Attempts of this client in flight per endpoint, kept only for a finite readLeaderSlack (read-routing.ts). */
  private readonly endpointLoad: Map<string, number> | undefined;
  private readonly readLeaderSlack: ReadLeaderSlack;
  private readonly leaders = new LeaderRoutes();
  private readonly routeToLeaders: boolean;
  private routesFetch: Promise<void> | undefined;
  private routesAttemptAt = 0;
  /** The BatchStream transport (undefined with transport 'unary'). */
  private readonly streams: StreamTransport | undefined;
  readonly transport: 'unary' | 'stream';
  private readonly bufferTxnWrites: boolean;
  private readonly directTxnReads: boolean;

  constructor(options: KvClientOptions) {
    this.endpoints = parseEndpoints(options.endpoints);
    this.session = options.sessions === false ? undefined : new ClientSession(options.clientId);
    this.opts = {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      attemptTimeoutMs: options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      backoff: { initialMs: 25, maxMs: 1000, multiplier: 2, ...options.backoff },
    };
    this.random = options.random ?? Math.random;
    this.security = clientCredentials(options.tls);
    this.interceptors = [...(options.lostReplies ? [options.lostReplies.interceptor()] : []), ...(options.interceptors ?? [])];
    this.channelOptions = {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.use_local_subchannel_pool': 1,
      // A connection that died silently (no RST: a vanished NAT entry, a frozen host) would hold the
      // long-lived BatchStream — and every request on it — until each one's deadline: HTTP/2 pings
      // detect it, the stream fails ("outcome unknown") and the retries go out on a new connection.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5000,
      ...options.channelOptions,
    };
    if (options.start !== undefined && options.start !== 'random' && options.start !== 'first') throw new KvInvalidArgumentError(`start: expected 'random' or 'first', got ${JSON.stringify(options.start)}`);
    this.current = options.start === 'first' ? 0 : Math.floor(this.random() * this.endpoints.length);
    this.routeToLeaders = options.routeToLeaders !== false;
    const slack = options.readLeaderSlack ?? DEFAULT_READ_LEADER_SLACK;
    if (!validReadLeaderSlack(slack)) {
      throw new KvInvalidArgumentError(`readLeaderSlack: expected a non-negative integer or Infinity, got ${String(slack)}`);
    }
    this.readLeaderSlack = slack;
    this.endpointLoad = slack === Infinity ? undefined : new Map();
    this.piecewiseScans = options.piecewiseScans !== false;
    this.bufferTxnWrites = options.bufferTxnWrites !== false;
    this.directTxnReads = this.bufferTxnWrites && options.directTxnReads !== false;
    this.transport = options.transport ?? 'stream';
    if (this.transport !== 'unary' && this.transport !== 'stream') throw new KvInvalidArgumentError(`transport: expected 'unary' or 'stream', got ${JSON.stringify(this.transport)}`);
    this.streams =
      this.transport === 'stream'
        ? new StreamTransport({
            channel: (e) => this.stub(e),
            unary: (e, m, req, ms) => this.unary(e, m, req, ms),
            ...(options.lostReplies ? { lostReplies: options.lostReplies } : {}),
          })
        : undefined;
  }

  // ---------------------------------------------------------------- reads

  async get(key: KeyLike, opts: CallOptions & { snapshotTs?: number; txnId?: string } = {}): Promise<GetResult> {
    const k = toBuffer(key);
    const route = !opts.txnId && this.readToLeader(k) ? k : undefined;
    const r = await this.call<GetResponse__Output>('Get', () => ({ key: k, snapshotTs: opts.snapshotTs ?? 0, txnId: opts.txnId ?? '' }), opts, false, route);
    return { found: r.found, value: r.found ? r.value : undefined, version: r.version, readTs: r.readTs };
  }

  /**
   * One page of a scan. See iterate()/scanAll() for paging. Sent as one request; when the store it
   * reaches holds no replica of a range in the span (ranges placed on some stores only, or moved), the
   * page is read range by range instead (scanByRange), each piece at a store that holds it.
   */
  async scan(opts: ScanOptions = {}): Promise<ScanResult> {
    if (opts.txnId || opts.endpoint !== undefined) return this.scanOnce(opts);
    try {
      return await this.scanOnce(opts, undefined, true);
    } catch (e) {
      if (e instanceof KvRoutingError && this.piecewiseScans) return this.scanByRange(opts);
      throw e;
    }
  }

  private async scanOnce(opts: ScanOptions, routeKey?: Buffer, failOnRouting = false): Promise<ScanResult> {
    const r = await this.call<ScanResponse__Output>(
      'Scan',
      () => ({
        ...rangeToWire(opts),
        limit: opts.limit ?? 0,
        reverse: !!opts.reverse,
        keysOnly: !!opts.keysOnly,
        snapshotTs: opts.snapshotTs ?? 0,
        txnId: opts.txnId ?? '',
      }),
      opts,
      false,
      routeKey,
      failOnRouting,
    );
    return { kvs: r.kvs.map((kv) => ({ key: kv.key, value: kv.value, version: kv.version })), more: r.more, readTs: r.readTs };
  }

  /**
   * A scan page read range by range in key order (forward or reverse; the limit spans the pieces), from
   * the range table of Kv.Routes (the meta directory): each piece lies in one range and goes first to
   * that range's leader. Linearizable per range, like a store's own cross-range scan.
   */
  private async scanByRange(opts: ScanOptions): Promise<ScanResult> {
    this.piecewiseScanCount++;
    const { start, end } = bounds(opts);
    const requested = opts.limit !== undefined && opts.limit > 0 ? opts.limit : PIECEWISE_DEFAULT_LIMIT;
    const kvs: KeyValue[] = [];
    let readTs = 0;
    let more = false;
    let lo = start ?? EMPTY_KEY;
    let hi = end ?? EMPTY_KEY;
    const t = { table: await this.rangeTable() };
    for (;;) {
      // The next piece to read: the first (forward) or the last (reverse) of those still to read.
      const next = await this.nextPiece('Scan', t, lo, hi, !!opts.reverse);
      if (next === undefined) break;
      const { piece: p, last: lastPiece } = next;
      const res = await this.scanOnce(
        {
          ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
          ...(p.start.length > 0 ? { start: p.start } : {}),
          ...(p.end.length > 0 ? { end: p.end } : {}),
          limit: requested - kvs.length,
          reverse: !!opts.reverse,
          keysOnly: !!opts.keysOnly,
          ...(opts.snapshotTs ? { snapshotTs: opts.snapshotTs } : {}),
        },
        p.start,
      );
      // The page's readTs covers every store it read from (each answers with all its ranges' readable ts).
      if (res.readTs > readTs) readTs = res.readTs;
      kvs.push(...res.kvs);
      if (kvs.length >= requested || res.more) {
        more = res.more || !lastPiece;
        break;
      }
      if (lastPiece) break;
      if (opts.reverse) hi = p.start;
      else lo = p.end;
    }
    return { kvs, more, readTs };
  }

  /**
   * The next piece of [lo, hi) to send range by range — the first, or the last in reverse — and whether
   * it is the last one left. A hole in the table (a split not published yet) re-reads the table once;
   * a hole still there is a retryable routing error.
   */
  private async nextPiece(what: string, t: { table: RangeCache }, lo: Buffer, hi: Buffer, reverse: boolean): Promise<{ piece: SpanPiece; last: boolean } | undefined> {
    for (let refreshed = false; ; refreshed = true) {
      const pieces = t.table.pieces(lo, hi);
      const p = reverse ? pieces[pieces.length - 1] : pieces[0];
      if (p === undefined) return undefined;
      if (p.range !== undefined) return { piece: p, last: pieces.length === 1 };
      if (refreshed) throw new KvRoutingError(`${what}: no range record covers [${p.start.toString('hex')}, ${p.end.toString('hex') || '+inf'}); retry`, 'KEY_NOT_IN_RANGE');
      t.table = await this.rangeTable();
    }
  }

  /** The range table of Kv.Routes (the meta directory) as a RangeCache, for fanning a span out by range. */
  private async rangeTable(): Promise<RangeCache> {
    const table = new RangeCache();
    for (const r of await this.routes()) {
      const replicas = r.replicas.map((x) => ({ storeId: x.storeId, peerId: x.peerId, role: x.role === 'learner' ? ('learner' as const) : ('voter' as const) }));
      table.insert({ rangeId: r.rangeId, start: r.start, end: r.end, epoch: { confVer: r.confVer, version: r.version }, replicas }, r.leaderId);
    }
    return table;
  }

  /**
   * All pairs of a range (or prefix), page by page. Every page after the first reads at the first page's
   * read timestamp, so the whole iteration is one consistent snapshot (unless txnId is set).
   */
  async *iterate(opts: IterateOptions = {}): AsyncGenerator<KeyValue> {
    const pageSize = opts.pageSize ?? 1000;
    let { start, end } = bounds(opts);
    let snapshotTs = opts.snapshotTs;
    let remaining = opts.limit ?? Infinity;
    for (;;) {
      const page = await this.scan({
        ...(start ? { start } : {}),
        ...(end ? { end } : {}),
        limit: Math.min(pageSize, remaining),
        reverse: !!opts.reverse,
        keysOnly: !!opts.keysOnly,
        ...(snapshotTs ? { snapshotTs } : {}),
        ...(opts.txnId ? { txnId: opts.txnId } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      });
      if (!opts.txnId) snapshotTs ??= page.readTs;
      for (const kv of page.kvs) {
        yield kv;
        if (--remaining <= 0) return;
      }
      if (!page.more || page.kvs.length === 0) return;
      const last = page.kvs[page.kvs.length - 1]!.key;
      if (opts.reverse) end = last;
      else start = keySuccessor(last);
    }
  }

  /** Collects iterate() into an array. */
  async scanAll(opts: IterateOptions = {}): Promise<KeyValue[]> {
    const out: KeyValue[] = [];
    for await (const kv of this.iterate(opts)) out.push(kv);
    return out;
  }

  scanPrefix(prefix: KeyLike, opts: Omit<IterateOptions, 'prefix' | 'start' | 'end'> = {}): Promise<KeyValue[]> {
    return this.scanAll({ ...opts, prefix });
  }

  scanRange(start: KeyLike | undefined, end: KeyLike | undefined, opts: Omit<IterateOptions, 'prefix' | 'start' | 'end'> = {}): Promise<KeyValue[]> {
    return this.scanAll({ ...opts, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) });
  }

  // ---------------------------------------------------------------- writes (exactly-once via sessions)

  async put(key: KeyLike, value: KeyLike, opts: PutOptions = {}): Promise<PutResult> {
    const inTxn = !!opts.txnId;
    const r = await this.call<PutResponse__Output>(
      'Put',
      (header) => ({
        header,
        key: toBuffer(key),
        value: toBuffer(value),
        txnId: opts.txnId ?? '',
        hasExpected: opts.expectedValue !== undefined,
        expectedValue: opts.expectedValue !== undefined ? toBuffer(opts.expectedValue) : Buffer.alloc(0),
        expectAbsent: !!opts.expectAbsent,
        returnPrev: !!opts.returnPrev,
      }),
      opts,
      // Writes buffered in a transaction are idempotent; only non-transactional puts take a session seq.
      !inTxn,
      inTxn ? undefined : toBuffer(key),
    );
    return { version: r.version, succeeded: r.succeeded, prevFound: r.prevFound, prevValue: r.prevFound || r.prevValue.length > 0 ? r.prevValue : undefined };
  }

  async delete(key: KeyLike, opts: CallOptions & { txnId?: string } = {}): Promise<{ deleted: boolean; version: number }> {
    const r = await this.call<DeleteResponse__Output>('Delete', (header) => ({ header, key: toBuffer(key), txnId: opts.txnId ?? '' }), opts, !opts.txnId, opts.txnId ? undefined : toBuffer(key));
    return { deleted: r.deleted, version: r.version };
  }

  /**
   * Deletes every key of the span. Sent as one request: the store deletes it atomically across ranges
   * (one transaction) up to 1 000 keys, in chunks above. When such a big span reaches a store holding no
   * replica of one of its ranges (it refuses before deleting anything), the span is deleted range by
   * range from the meta directory's range table, each piece at its range's leader — not atomic across
   * ranges then; each piece is exactly-once.
   */
  async deleteRange(range: RangeOptions, opts: CallOptions = {}): Promise<{ deleted: number; version: number }> {
    try {
      const r = await this.call<DeleteRangeResponse__Output>('DeleteRange', (header) => ({ header, ...rangeToWire(range) }), opts, true, undefined, true);
      return { deleted: r.deleted, version: r.version };
    } catch (e) {
      if (e instanceof KvRoutingError && this.piecewiseScans) return this.deleteRangeByRange(range, opts);
      throw e;
    }
  }

  private async deleteRangeByRange(range: RangeOptions, opts: CallOptions): Promise<{ deleted: number; version: number }> {
    this.piecewiseDeleteCount++;
    const { start, end } = bounds(range);
    let deleted = 0;
    let version = 0;
    let lo = start ?? EMPTY_KEY;
    const hi = end ?? EMPTY_KEY;
    const t = { table: await this.rangeTable() };
    for (;;) {
      const p = (await this.nextPiece('DeleteRange', t, lo, hi, false))?.piece;
      if (p === undefined) break;
      const piece = { ...(p.start.length > 0 ? { start: p.start } : {}), ...(p.end.length > 0 ? { end: p.end } : {}) };
      const r = await this.call<DeleteRangeResponse__Output>('DeleteRange', (header) => ({ header, ...rangeToWire(piece) }), opts, true, p.start);
      deleted += r.deleted;
      version = Math.max(version, r.version);
      if (p.end.length === 0) break;
      lo = p.end;
    }
    return { deleted, version };
  }

  /** Applies the mutations atomically, in order. */
  async batch(mutations: MutationInput[], opts: CallOptions = {}): Promise<{ version: number }> {
    const wire = mutations.map(toWireMutation);
    const r = await this.call<BatchResponse__Output>('Batch', (header) => ({ header, mutations: wire }), opts, true);
    return { version: r.version };
  }

  // ---------------------------------------------------------------- transactions

  /** `commitCarriesWrites`: the node takes the transaction's writes with its commit (see commit). */
  /**
   * `directReads`: ask the node to fix the snapshot now so the caller can read at `startTs` anywhere and
   * report the keys with the commit (`readKeys`); the answer's `directReads` says whether it did.
   */
  async begin(opts: CallOptions & { readOnly?: boolean; idleTimeoutMs?: number; directReads?: boolean } = {}): Promise<{ txnId: string; startTs: number; commitCarriesWrites: boolean; directReads: boolean }> {
    const r = await this.call<BeginResponse__Output>('Begin', () => ({ idleTimeoutMs: opts.idleTimeoutMs ?? 0, readOnly: !!opts.readOnly, minStartTs: this.seenTs, directReads: opts.directReads === true && !opts.readOnly }), opts);
    return { txnId: r.txnId, startTs: Number(r.startTs), commitCarriesWrites: r.commitCarriesWrites === true, directReads: r.directReads === true };
  }

  /**
   * Commits a transaction. `writes: false` (the caller knows it wrote nothing, as the txn helper does)
   * sends it without a session seq: nothing to make exactly-once, and no Raft round for it.
   * `mutations`: writes of the transaction not sent yet, applied before the commit — only to a node whose
   * Begin answered `commitCarriesWrites` (an older node would ignore them). Every retry carries them.
   */
  async commit(txnId: string, opts: CallOptions & { writes?: boolean; mutations?: MutationInput[]; readKeys?: Buffer[] } = {}): Promise<{ commitTs: number }> {
    const writes = (opts.mutations ?? []).map(toWireMutation);
    const readKeys = opts.readKeys ?? [];
    const r = await this.call<CommitResponse__Output>('Commit', (header) => ({ header, txnId, ...(writes.length > 0 ? { writes } : {}), ...(readKeys.length > 0 ? { readKeys } : {}) }), opts, opts.writes !== false || writes.length > 0);
    return { commitTs: r.commitTs };
  }

  async rollback(txnId: string, opts: CallOptions = {}): Promise<void> {
    await this.call('Rollback', () => ({ txnId }), opts);
  }

  /**
   * Runs `fn` in a serializable transaction and commits it; on conflict (or when the transaction vanished
   * before commit) rolls back, backs off and runs `fn` again, at most maxAttempts times. `fn` may run
   * several times: keep side effects out of it. tx.put/tx.delete need not be awaited (they are sent in
   * order; reads wait for them; errors surface at the latest at commit).
   */
  async txn<T>(fn: (tx: Transaction) => Promise<T> | T, opts: TxnOptions = {}): Promise<T> {
    return (await this.txnDetailed(fn, opts)).result;
  }

  async txnDetailed<T>(fn: (tx: Transaction) => Promise<T> | T, opts: TxnOptions = {}): Promise<TxnOutcome<T>> {
    const maxAttempts = opts.maxAttempts ?? 10;
    let lastErr: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      // A transaction lives on one node: every call of this attempt goes to the same endpoint.
      const endpoint = opts.endpoint ?? this.endpoints[this.current % this.endpoints.length]!;
      const callOpts: CallOptions = { endpoint, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
      let begun: { txnId: string; startTs: number; commitCarriesWrites: boolean; directReads: boolean };
      try {
        begun = await this.begin({ ...callOpts, readOnly: !!opts.readOnly, idleTimeoutMs: opts.idleTimeoutMs ?? 0, directReads: this.directTxnReads && !opts.readOnly });
      } catch (err) {
        if ((err instanceof KvUnavailableError || err instanceof KvDeadlineError) && !opts.endpoint && this.endpoints.length > 1 && attempt < maxAttempts) {
          lastErr = err;
          this.current = (this.current + 1) % this.endpoints.length;
          continue;
        }
        throw err;
      }
      const { txnId, startTs } = begun;
      const keep = this.bufferTxnWrites && begun.commitCarriesWrites;
      const tx = new Transaction(this, txnId, startTs, callOpts, keep, keep && begun.directReads);
      let result: T;
      try {
        result = await fn(tx);
        await tx.flush();
      } catch (err) {
        tx.abandon();
        await this.rollback(txnId, { endpoint, timeoutMs: 2000 }).catch(() => undefined);
        const nodeTrouble = (err instanceof KvUnavailableError || err instanceof KvDeadlineError) && !opts.endpoint && this.endpoints.length > 1;
        if (nodeTrouble) this.current = (this.current + 1) % this.endpoints.length;
        if ((err instanceof KvConflictError || err instanceof KvTxnNotFoundError || nodeTrouble) && attempt < maxAttempts) {
          lastErr = err;
          await this.sleep(this.backoffDelay(attempt));
          continue;
        }
        throw err;
      }
      try {
        const { commitTs } = await this.commit(txnId, { ...callOpts, writes: tx.wrote, mutations: tx.kept(), readKeys: tx.readOutside() });
        return { result, commitTs, attempts: attempt };
      } catch (err) {
        // TXN_NOT_FOUND at commit means it did not commit (timed out while idle): a retried commit of an
        // applied one would have been answered from the session table, not with TXN_NOT_FOUND.
        if ((err instanceof KvConflictError || err instanceof KvTxnNotFoundError) && attempt < maxAttempts) {
          lastErr = err;
          await this.sleep(this.backoffDelay(attempt));
          continue;
        }
        throw err;
      }
    }
    throw lastErr ?? new KvConflictError('transaction failed', undefined, undefined);
  }

  // ---------------------------------------------------------------- status

  /** Status of one node: the given endpoint (no rotation), or the current one (with retries). */
  async status(opts: CallOptions = {}): Promise<StatusResult> {
    return this.call<StatusResponse__Output>('Status', () => ({}), opts);
  }

  /**
   * Every range of the cluster as one node's meta directory knows it (Kv.Routes): bounds, epoch,
   * replicas and leader. May be slightly stale; requests routed by it are checked by epoch on the store.
   * `directoryOnly`: the meta directory alone, without the answering store's own replicas' views.
   */
  async routes(opts: { endpoint?: string; timeoutMs?: number; directoryOnly?: boolean } = {}): Promise<RouteInfo[]> {
    const endpoint = opts.endpoint ?? this.endpoints[this.current % this.endpoints.length]!;
    try {
      const r = await this.unary<{ ranges?: RouteWire[] }>(endpoint, 'Routes', { directoryOnly: opts.directoryOnly === true }, opts.timeoutMs ?? this.opts.attemptTimeoutMs);
      return (r.ranges ?? []).map(routeOf);
    } catch (raw) {
      throw fromGrpcError(raw, `Routes ${endpoint}`);
    }
  }

  /**
   * `count` (1..1024) consecutive timestamps from the cluster's TSO (Kv.Timestamp, served by the meta
   * range's leader; NOT_LEADER answers are followed); returns the first.
   */
  async timestamp(count = 1, opts: CallOptions = {}): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 1 || count > 1024) throw new KvInvalidArgumentError(`timestamp count must be in [1, 1024], got ${count}`);
    const r = await this.call<{ timestamp?: number | string }>('Timestamp', () => ({ count }), opts);
    return Number(r.timestamp ?? 0);
  }

  close(): void {
    this.closed = true;
    for (const wake of this.sleepers) wake();
    this.streams?.close();
    for (const stub of this.stubs.values()) stub.close();
    this.stubs.clear();
    this.security.close();
  }

  // ---------------------------------------------------------------- internals

  private stub(endpoint: string): GrpcKvClient {
    let s = this.stubs.get(endpoint);
    if (!s) {
      const Ctor = loadKvProto().kvs.v1.Kv;
      s = new Ctor(endpoint, this.security.credentials, { ...this.channelOptions, interceptors: this.interceptors });
      this.stubs.set(endpoint, s);
    }
    return s;
  }

  /** Delay before retry number `attempt` (1-based): exponential, capped, with "equal jitter". */
  backoffDelay(attempt: number): number {
    const { initialMs, maxMs, multiplier } = this.opts.backoff;
    const base = Math.min(maxMs, initialMs * Math.pow(multiplier, attempt - 1));
    return base / 2 + this.random() * (base / 2);
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.reject(new KvCancelledError('client closed'));
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(t);
        this.sleepers.delete(wake);
        if (this.closed) reject(new KvCancelledError('client closed'));
        else resolve();
      };
      const t = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** One attempt: over the endpoint's BatchStream, or unary (transport 'unary', or a request too large for a frame). */
  private attempt<Res>(endpoint: string, method: Method | UnaryMethod, req: unknown, deadlineMs: number): Promise<Res> {
    if (this.streams && method !== 'Timestamp') {
      const p = this.streams.send<Res>(endpoint, method, req, deadlineMs);
      if (p) return p;
    }
    return this.unary<Res>(endpoint, method, req, deadlineMs);
  }

  private unary<Res>(endpoint: string, method: Method | UnaryMethod | 'Routes', req: unknown, deadlineMs: number): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const stub = this.stub(endpoint) as unknown as Record<string, (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void>;
      stub[method]!.call(stub, req, new grpc.Metadata(), { deadline: new Date(Date.now() + deadlineMs) }, (err, res) => {
        if (err) reject(err);
        else resolve(res as Res);
      });
    });
  }

  /**
   * One operation with retries. `build` receives the session header (same seq on every retry of a
   * mutating call). `pinned` sends every attempt to that endpoint instead of rotating.
   */
  private async call<Res>(method: Method | UnaryMethod, build: (header: { clientId: string; seq: number; firstUnacked: number } | undefined) => unknown, opts: CallOptions, mutating = false, routeKey?: Buffer, failOnRouting = false): Promise<Res> {
    if (this.closed) throw new KvCancelledError(`${method}: client closed`);
    const pinned = opts.endpoint;
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const seq = mutating && this.session ? this.session.acquire() : undefined;
    const state: RetryState = { attempts: 0, lastError: undefined };
    this.inFlight++;
    // A NOT_LEADER answer naming the leader sends the next attempt there (once per hint).
    let hinted: string | undefined;
    let succeeded = false;
    try {
      for (;;) {
        const leader = pinned === undefined && hinted === undefined && state.attempts === 0 && routeKey !== undefined ? this.leaderOf(routeKey) : undefined;
        if (leader !== undefined) this.routedToLeader++;
        const endpoint = pinned ?? hinted ?? leader ?? this.endpoints[this.current % this.endpoints.length]!;
        hinted = undefined;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw this.exhausted(method, state, timeoutMs);
        state.attempts++;
        // Building the request may throw (bad arguments): that propagates as is, never retried.
        const req = build(seq !== undefined ? this.session!.header(seq) : undefined);
        try {
          let res: Res;
          const load = this.endpointLoad;
          load?.set(endpoint, (load.get(endpoint) ?? 0) + 1);
          try {
            res = await this.attempt<Res>(endpoint, method, req, Math.min(this.opts.attemptTimeoutMs, remaining));
          } finally {
            load?.set(endpoint, load.get(endpoint)! - 1);
          }
          succeeded = true;
          this.observeTs(res);
          return res;
        } catch (raw) {
          const err = fromGrpcError(raw, `${method} ${endpoint}`);
          // A conflict names the committed version it met: the token rises to it, so the retried
          // transaction's snapshot includes that write (an uncertain read-only snapshot moves past it).
          if (err instanceof KvConflictError && err.conflictTs !== undefined) this.observeTs({ version: err.conflictTs });
          if (leader !== undefined || err instanceof KvNotLeaderError || err instanceof KvOutcomeUnknownError || err instanceof KvRoutingError) this.leaders.markStale(Date.now());
          if (!this.isRetryable(raw, err, mutating && seq === undefined)) throw err;
          // The caller has another way (a scan read range by range): no rotating through every store.
          if (failOnRouting && err instanceof KvRoutingError) throw err;
          state.lastError = err;
          if (this.closed) throw new KvCancelledError(`${method}: client closed`);
          if (state.attempts >= this.opts.maxAttempts) throw this.exhausted(method, state, timeoutMs);
          if (!pinned && (err instanceof KvNotLeaderError || err instanceof KvOutcomeUnknownError) && err.leaderAddress && err.leaderAddress !== endpoint) {
            hinted = err.leaderAddress;
            const i = this.endpoints.indexOf(hinted);
            if (i >= 0) this.current = i;
            this.retries++;
            continue; // straight to the leader, no backoff
          }
          if (!pinned && this.endpoints.length > 1) this.current = (this.current + 1) % this.endpoints.length;
          this.retries++;
          const delay = Math.min(this.backoffDelay(state.attempts), Math.max(0, deadline - Date.now() - 1));
          await this.sleep(delay);
        }
      }
    } finally {
      this.inFlight--;
      if (seq !== undefined) this.session!.release(seq, succeeded);
    }
  }

  /** Whether a linearizable get of `key` goes to its range's leader (read-routing.ts). */
  private readToLeader(key: Buffer): boolean {
    // No spill: always route by key (call() looks the leader up once, and rotates when it is unknown).
    const load = this.endpointLoad;
    if (load === undefined) return true;
    return readGoesToLeader({
      inFlight: this.inFlight,
      leader: this.leaderOf(key),
      preferred: this.endpoints[this.current % this.endpoints.length]!,
      load: (e) => load.get(e) ?? 0,
      slack: this.readLeaderSlack,
    });
  }

  /** The cached leader of `key`'s range (refreshing the table in the background when due). */
  private leaderOf(key: Buffer): string | undefined {
    if (!this.routeToLeaders) return undefined;
    const now = Date.now();
    if (this.routesFetch === undefined && now - this.routesAttemptAt >= ROUTES_MIN_INTERVAL_MS && this.leaders.needsRefresh(now, ROUTES_MAX_AGE_MS, ROUTES_MIN_INTERVAL_MS)) {
      this.routesAttemptAt = now;
      const endpoint = this.endpoints[this.current % this.endpoints.length]!;
      this.routesFetch = this.unary<{ ranges?: Array<{ start?: Buffer; end?: Buffer; leaderAddress?: string; version?: number | string }> }>(endpoint, 'Routes', {}, 2000)
        .then((r) => {
          this.leaders.update(
            (r.ranges ?? []).map((x) => ({ start: x.start ?? Buffer.alloc(0), end: x.end ?? Buffer.alloc(0), leaderAddress: x.leaderAddress ?? '', version: Number(x.version ?? 0) })),
            Date.now(),
          );
        })
        .catch(() => undefined) // an older node without Routes, or unreachable: keep rotating
        .finally(() => {
          this.routesFetch = undefined;
        });
    }
    // Only nodes this client was given: behind a Service or a proxy the advertised pod addresses may not
    // be reachable from here (the rotation over the configured endpoints still works there).
    const leader = this.leaders.leaderFor(key);
    return leader !== undefined && this.endpoints.includes(leader) ? leader : undefined;
  }

  private isRetryable(raw: unknown, err: KvError, unsafeWrite: boolean): boolean {
    // Refused before it ran (too many requests in flight on the stream): always safe to retry.
    if (err instanceof KvOverloadedError) return true;
    if (err instanceof KvUnavailableError || err instanceof KvDeadlineError) return !unsafeWrite || certainlyNotApplied(err);
    // Transport-level INTERNAL (RST_STREAM, connection reset) without our typed trailer: treat as unavailable.
    if (isServiceError(raw) && raw.code === grpc.status.INTERNAL && raw.metadata?.get('kvs-error').length === 0 && /RST_STREAM|connection|socket|ECONN|http2/i.test(raw.details)) {
      return !unsafeWrite;
    }
    return false;
  }

  private exhausted(method: string, state: RetryState, timeoutMs: number): KvError {
    const last = state.lastError;
    const suffix = last ? `; last error: ${last.message}` : '';
    if (last instanceof KvUnavailableError && state.attempts >= this.opts.maxAttempts) {
      return new KvUnavailableError(`${method}: no endpoint available after ${state.attempts} attempts (${this.endpoints.join(',')})${suffix}`);
    }
    return new KvDeadlineError(`${method}: deadline of ${timeoutMs} ms exceeded after ${state.attempts} attempt(s)${suffix}`);
  }
}

/** Writes kept by a transaction are sent ahead of the commit past these sizes (bounded commit requests). */
const KEPT_WRITES_MAX = 1000;
const KEPT_BYTES_MAX = 256 * 1024;
/**
 * Direct reads a transaction reports with its commit, at most (keys, bytes): later reads go through the
 * node, which records them itself — the commit request stays far below the node's read_keys limit (10 000)
 * and its message size.
 */
const DIRECT_READS_MAX = 1000;
const DIRECT_READ_BYTES_MAX = 256 * 1024;

/** A running interactive transaction (see KvClient.txn). */
export class Transaction {
  private chain: Promise<unknown> = Promise.resolve();
  /** Point reads issued since the last write or scan (see enqueue). */
  private reads: Array<Promise<unknown>> = [];
  private failure: unknown;
  private abandoned = false;
  private wroteAny = false;
  /** Writes not sent yet (with `keepWrites`), one per key (the last), for the commit to carry. */
  private readonly keptWrites = new Map<string, MutationInput & { key: Buffer }>();
  private keptBytes = 0;
  /** Keys read straight from their range's leader (direct reads), for the commit to report. */
  private readonly directReadKeys = new Map<string, Buffer>();
  private directReadBytes = 0;
  /** Keys whose writes were sent to the node: only a read through it sees them. */
  private readonly sentWrites = new Set<string>();

  /**
   * `keepWrites`: puts and deletes are kept here and sent with the commit (the node takes them there,
   * BeginResponse.commit_carries_writes); otherwise each is its own request, as with an older node.
   */
  constructor(
    private readonly client: KvClient,
    readonly txnId: string,
    readonly startTs: number,
    private readonly callOpts: CallOptions,
    private readonly keepWrites = false,
    private readonly directReads = false,
  ) {}

  /**
   * Runs `op` after every operation issued before it (writes and scans: program order). Point reads
   * (`concurrent`) wait only for the writes and scans before them, so reads issued together run
   * together — a transaction joining several ranges waits for their snapshots at once, not one by one.
   */
  private enqueue<T>(op: () => Promise<T>, concurrent = false): Promise<T> {
    const before = concurrent || this.reads.length === 0 ? this.chain : Promise.all([this.chain, ...this.reads]);
    const p = before.then(() => {
      if (this.abandoned) throw new KvCancelledError(`transaction ${this.txnId} is finished`);
      if (this.failure) throw this.failure;
      return op();
    });
    const settled = p.catch((err: unknown) => {
      this.failure ??= err;
    });
    if (concurrent) this.reads.push(settled);
    else {
      this.chain = settled;
      this.reads = [];
    }
    p.catch(() => undefined); // errors are reported at flush/commit when the caller does not await
    return p;
  }

  /** Reads `key` as of the transaction's snapshot, seeing the transaction's own writes. */
  get(key: KeyLike): Promise<GetResult> {
    return this.enqueue(async () => {
      const own = this.keptWrites.get(toBuffer(key).toString('latin1'));
      // A kept write answers as the node answers a read of the transaction's own write.
      if (own !== undefined) return own.op === 'put' ? { found: true, value: toBuffer(own.value), version: 0, readTs: this.startTs } : { found: false, value: undefined, version: 0, readTs: this.startTs };
      const k = toBuffer(key);
      const s = k.toString('latin1');
      if (this.directReads && !this.sentWrites.has(s) && this.directReadKeys.size < DIRECT_READS_MAX && this.directReadBytes < DIRECT_READ_BYTES_MAX) {
        // At the snapshot, from the key's range leader (which makes the snapshot repeatable there); the
        // commit reports the key so the node validates it like its own reads.
        const r = await this.client.get(k, { snapshotTs: this.startTs, ...(this.callOpts.timeoutMs !== undefined ? { timeoutMs: this.callOpts.timeoutMs } : {}) });
        if (!this.directReadKeys.has(s)) this.directReadBytes += k.length;
        this.directReadKeys.set(s, k);
        return r;
      }
      return this.client.get(key, { ...this.callOpts, txnId: this.txnId });
    }, true);
  }

  /** Scans as of the snapshot; the writes kept so far are sent first, so the node merges them in. */
  scan(opts: Omit<ScanOptions, 'txnId' | 'snapshotTs'> = {}): Promise<ScanResult> {
    return this.enqueue(async () => {
      await this.sendKept();
      return this.client.scan({ ...this.callOpts, ...opts, txnId: this.txnId });
    });
  }

  /** The keys read outside the transaction (direct reads), for the commit to report. */
  readOutside(): Buffer[] {
    return [...this.directReadKeys.values()];
  }

  /** The writes kept for the commit to carry (KvClient.txn passes them to commit). */
  kept(): MutationInput[] {
    return [...this.keptWrites.values()];
  }

  private keep(m: MutationInput & { key: Buffer }): Promise<void> | undefined {
    const s = m.key.toString('latin1');
    const old = this.keptWrites.get(s);
    if (old !== undefined) this.keptBytes -= old.key.length + (old.op === 'put' ? toBuffer(old.value).length : 0);
    this.keptWrites.delete(s); // re-inserted last: the order of the writes is the order of their last change
    this.keptWrites.set(s, m);
    this.keptBytes += m.key.length + (m.op === 'put' ? toBuffer(m.value).length : 0);
    return this.keptWrites.size > KEPT_WRITES_MAX || this.keptBytes > KEPT_BYTES_MAX ? this.sendKept() : undefined;
  }

  /** Sends the kept writes one request each (before a scan, or when they grew large), in order. */
  private async sendKept(): Promise<void> {
    for (const [s, m] of [...this.keptWrites]) {
      this.sentWrites.add(s);
      if (m.op === 'put') await this.client.put(m.key, m.value, { ...this.callOpts, txnId: this.txnId });
      else await this.client.delete(m.key, { ...this.callOpts, txnId: this.txnId });
      this.keptWrites.delete(s);
    }
    this.keptBytes = 0;
  }

  /** Whether put/delete was called (the commit then needs a session seq; a read-only one does not). */
  get wrote(): boolean {
    return this.wroteAny;
  }

  put(key: KeyLike, value: KeyLike): Promise<void> {
    this.wroteAny = true;
    return this.enqueue(async () => {
      if (this.keepWrites) return this.keep({ op: 'put', key: toBuffer(key), value: toBuffer(value) });
      await this.client.put(key, value, { ...this.callOpts, txnId: this.txnId });
    });
  }

  delete(key: KeyLike): Promise<void> {
    this.wroteAny = true;
    return this.enqueue(async () => {
      if (this.keepWrites) return this.keep({ op: 'delete', key: toBuffer(key) });
      await this.client.delete(key, { ...this.callOpts, txnId: this.txnId });
    });
  }

  /** Waits for every queued operation; throws the first failure. */
  async flush(): Promise<void> {
    await Promise.all([this.chain, ...this.reads]);
    if (this.failure) throw this.failure;
  }

  abandon(): void {
    this.abandoned = true;
  }
}

/**
 * Without a session a write may only be retried when it surely did not reach the store (the table in
 * the client README, "Which errors mean not applied"): the node refused it before handing it to Raft
 * (STORE_CLOSED, NOT_LEADER — a proposal that did reach the log and was lost track of is OUTCOME_UNKNOWN
 * instead), or the connection was never established.
 */
export function certainlyNotApplied(err: KvError): boolean {
  if (err instanceof KvOutcomeUnknownError) return false;
  if (err instanceof KvNotLeaderError) return true;
  // Routing refusals happen before proposing, or at apply as the state machine's own result.
  if (err instanceof KvRoutingError) return true;
  if (err instanceof KvUnavailableError && err.serverCode === 'STORE_CLOSED') return true;
  return err instanceof KvUnavailableError && /ECONNREFUSED|No connection established|Connection refused/i.test(err.message);
}

function toWireMutation(m: MutationInput): { op: 'PUT' | 'DELETE'; key: Buffer; value?: Buffer } {
  return m.op === 'put' ? { op: 'PUT', key: toBuffer(m.key), value: toBuffer(m.value) } : { op: 'DELETE', key: toBuffer(m.key) };
}

function rangeToWire(r: RangeOptions): { start: Buffer; end: Buffer; prefix: Buffer } {
  return {
    start: r.start !== undefined ? toBuffer(r.start) : Buffer.alloc(0),
    end: r.end !== undefined ? toBuffer(r.end) : Buffer.alloc(0),
    prefix: r.prefix !== undefined ? toBuffer(r.prefix) : Buffer.alloc(0),
  };
}

/** A prefix becomes [prefix, prefixEnd(prefix)) so pages can move the bounds. */
function bounds(r: RangeOptions): { start: Buffer | undefined; end: Buffer | undefined } {
  if (r.prefix !== undefined && toBuffer(r.prefix).length > 0) {
    if ((r.start !== undefined && toBuffer(r.start).length > 0) || (r.end !== undefined && toBuffer(r.end).length > 0)) {
      throw new KvInvalidArgumentError('prefix cannot be combined with start/end');
    }
    const p = toBuffer(r.prefix);
    return { start: p, end: prefixEnd(p) };
  }
  const start = r.start !== undefined ? toBuffer(r.start) : undefined;
  const end = r.end !== undefined ? toBuffer(r.end) : undefined;
  return { start: start && start.length > 0 ? start : undefined, end: end && end.length > 0 ? end : undefined };
}
