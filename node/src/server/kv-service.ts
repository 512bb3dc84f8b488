// gRPC handlers of kvs.v1.Kv: validate → call the KvStore → map the result (or the typed error) to the
// wire. Every request — a unary call or a BatchStream sub-request (batch-stream.ts) — goes through
// RequestRunner.run, which records metrics, logs at debug (method, code, latency and key sizes; never
// values) and maps errors in one place (status-mapping.ts).
import { status as grpcStatus } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import type { KvStore } from '../kv/api.js';
import type { Logger } from '../common/logger.js';
import { grpcStatusName } from '../common/wire-errors.js';
import type { KvHandlers } from '../generated/kvs/v1/Kv.js';
import type { GetRequest__Output } from '../generated/kvs/v1/GetRequest.js';
import type { PutRequest__Output } from '../generated/kvs/v1/PutRequest.js';
import type { DeleteRequest__Output } from '../generated/kvs/v1/DeleteRequest.js';
import type { DeleteRangeRequest__Output } from '../generated/kvs/v1/DeleteRangeRequest.js';
import type { ScanRequest__Output } from '../generated/kvs/v1/ScanRequest.js';
import type { BatchRequest__Output } from '../generated/kvs/v1/BatchRequest.js';
import type { BeginRequest__Output } from '../generated/kvs/v1/BeginRequest.js';
import type { CommitRequest__Output } from '../generated/kvs/v1/CommitRequest.js';
import type { RollbackRequest__Output } from '../generated/kvs/v1/RollbackRequest.js';
import type { StatusRequest__Output } from '../generated/kvs/v1/StatusRequest.js';
import { STREAM_METHOD_FIELDS, type StreamMethod } from '../common/stream-frames.js';
import { BatchStreamServer } from './batch-stream.js';
import { MALFORMED_REQUEST } from './malformed.js';
import { serviceErrorOf, toWireError, type MappedError } from './status-mapping.js';
import type { ServerMetrics } from './metrics.js';
import type { RangeRoute } from '../raftstore/raft-node.js';
import {
  FieldError,
  type Limits,
  effectiveScanLimit,
  requireTxnId,
  sessionOf,
  validateIdleTimeout,
  validateMinStartTs, validateReadKeys,
  validateKey,
  validateMutations,
  validateRange,
  validateTimestamp,
  validateTxnId,
  validateValue,
} from './validate.js';

export interface KvServiceDeps {
  store: KvStore;
  limits: Limits;
  logger: Logger;
  metrics?: ServerMetrics;
  nodeId: string;
  version: string;
  startedAt?: number;
  /** The store's ranges with their leaders (Kv.Routes); undefined = a store without ranges (empty answer). */
  routes?: (directoryOnly: boolean) => RangeRoute[];
  /** `count` timestamps from the cluster's TSO (Kv.Timestamp); undefined = a store without a meta range. */
  timestamp?: (count: number) => Promise<number>;
}

export type { RangeRoute };

const EMPTY = Buffer.alloc(0);

/** Most timestamps one Kv.Timestamp call takes (the TSO's logical space per millisecond). */
export const MAX_TIMESTAMPS_PER_CALL = 1024;

export { MALFORMED_REQUEST };

type Handler<Req, Res> = (req: Req) => Promise<Res>;

/** Decoded request message of each method (what grpc-js hands a unary handler). */
interface OpRequest {
  Get: GetRequest__Output;
  Put: PutRequest__Output;
  Delete: DeleteRequest__Output;
  DeleteRange: DeleteRangeRequest__Output;
  Scan: ScanRequest__Output;
  Batch: BatchRequest__Output;
  Begin: BeginRequest__Output;
  Commit: CommitRequest__Output;
  Rollback: RollbackRequest__Output;
  Status: StatusRequest__Output;
}

/** The business logic of every unary Kv method: validate → KvStore → wire response. */
export type KvOperations = { [M in StreamMethod]: Handler<OpRequest[M], unknown> };

/** Per-call state the runner needs: whether the caller is gone, and who it is (debug logs only). */
export interface RequestContext {
  /** The caller will not read the result (unary call cancelled; stream closed or timeout_ms passed). */
  readonly cancelled: boolean;
  peer(): string;
}

/** Receives the outcome of one request: a response, or the mapped error (never both). */
export type RequestDone<C> = (ctx: C, res: unknown, err: MappedError | undefined) => void;

/**
 * Runs one request of either transport through the SAME path: metrics, debug log, malformed-message
 * check, the method's operation, error mapping (status-mapping.ts). Unary handlers and every BatchStream
 * sub-request go through here, so both transports validate, dedupe and count identically.
 */
export class RequestRunner {
  private readonly debug: boolean;

  constructor(
    readonly ops: KvOperations,
    private readonly logger: Logger,
    private readonly metrics: ServerMetrics | undefined,
  ) {
    this.debug = logger.isLevelEnabled('debug');
  }

  run<C extends RequestContext>(method: StreamMethod, request: unknown, ctx: C, done: RequestDone<C>): void {
    const mm = this.metrics?.method(method);
    const t0 = mm ? mm.started() : 0;
    const d0 = this.debug ? process.hrtime.bigint() : 0n;
    const finish = (code: number, extra?: Record<string, unknown>): void => {
      // A call whose caller is gone never delivers its result: count it as such.
      const name = ctx.cancelled ? 'CANCELLED' : grpcStatusName(code);
      mm?.finished(t0, name);
      if (this.debug) {
        this.logger.debug('request', { method, code: name, ms: Number(process.hrtime.bigint() - d0) / 1e6, peer: ctx.peer(), ...describe(request), ...extra });
      }
    };
    if (ctx.cancelled) {
      // Queued behind other work until the client gave up: do not spend the store's time on it
      // (a write is safe to skip: the client either retries with the same session seq or gives up).
      finish(grpcStatus.CANCELLED);
      return;
    }
    let p: Promise<unknown>;
    try {
      const req = request as { [MALFORMED_REQUEST]?: string };
      if (req && typeof req === 'object' && MALFORMED_REQUEST in req) {
        throw new FieldError('request', `malformed protobuf message for ${method} (${req[MALFORMED_REQUEST]})`);
      }
      p = (this.ops[method] as Handler<unknown, unknown>)(request);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (res) => {
        finish(0);
        done(ctx, res, undefined);
      },
      (err: unknown) => {
        const w = toWireError(err, this.logger, { method });
        finish(w.code, { error: w.errorCode });
        done(ctx, undefined, w);
      },
    );
  }
}

/** Context of a unary call. */
interface UnaryContext extends RequestContext {
  call: grpc.ServerUnaryCall<unknown, unknown>;
  callback: grpc.sendUnaryData<unknown>;
}

function unaryDone(ctx: UnaryContext, res: unknown, err: MappedError | undefined): void {
  if (err) ctx.callback(serviceErrorOf(err));
  else ctx.callback(null, res);
}

/** The grpc-js handler of unary method `method`, over the shared runner. */
export function unaryHandler(runner: RequestRunner, method: StreamMethod): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const ctx: UnaryContext = {
      call,
      callback,
      get cancelled() {
        return call.cancelled;
      },
      peer: () => call.getPeer(),
    };
    runner.run(method, call.request, ctx, unaryDone);
  };
}

export interface KvService {
  /** grpc-js implementation of kvs.v1.Kv (unary methods + BatchStream). */
  handlers: KvHandlers;
  runner: RequestRunner;
  /** The BatchStream calls (drained on shutdown). */
  streams: BatchStreamServer;
}

export function createKvService(deps: KvServiceDeps): KvService {
  const runner = new RequestRunner(createKvOperations(deps), deps.logger, deps.metrics);
  const streams = new BatchStreamServer({ runner, logger: deps.logger, metrics: deps.metrics, maxRequestFrameBytes: deps.limits.maxReceiveMessageBytes, maxInFlight: deps.limits.maxStreamInFlight });
  const handlers: Record<string, unknown> = {};
  for (const m of Object.keys(STREAM_METHOD_FIELDS) as StreamMethod[]) handlers[m] = unaryHandler(runner, m);
  handlers.BatchStream = streams.handler();
  // Unary only (not a BatchStream method): routing information, cheap and rare.
  handlers.Routes = (call: grpc.ServerUnaryCall<{ directoryOnly?: boolean }, unknown>, cb: (err: null, res: { ranges: RangeRoute[] }) => void) => cb(null, { ranges: deps.routes?.(call.request.directoryOnly === true) ?? [] });
  handlers.Timestamp = (call: grpc.ServerUnaryCall<{ count?: number }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
    const count = call.request.count ?? 0;
    const n = count === 0 ? 1 : count;
    let p: Promise<number>;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_TIMESTAMPS_PER_CALL) p = Promise.reject(new FieldError('count', `must be in [1, ${MAX_TIMESTAMPS_PER_CALL}], got ${count}`));
    else if (deps.timestamp === undefined) p = Promise.reject(new FieldError('method', 'this node has no meta range (a single-node store): it serves no timestamps'));
    else p = deps.timestamp(n);
    p.then(
      (timestamp) => cb(null, { timestamp, count: n }),
      (err: unknown) => cb(serviceErrorOf(toWireError(err, deps.logger, { method: 'Timestamp' }))),
    );
  };
  return { handlers: handlers as unknown as KvHandlers, runner, streams };
}

/** The operations of every unary method (validation → KvStore → wire response); no transport concerns. */
export function createKvOperations(deps: KvServiceDeps): KvOperations {
  const { store, limits } = deps;
  const startedAt = deps.startedAt ?? Date.now();
  const ops: KvOperations = {
    Get: async (req) => {
      const key = validateKey(req.key, limits);
      const txnId = validateTxnId(req.txnId);
      const snapshotTs = validateTimestamp(req.snapshotTs, 'snapshot_ts');
      if (txnId && snapshotTs) throw fieldConflict('snapshot_ts', 'cannot be combined with txn_id (a transaction reads at its start_ts)');
      const r = await store.get(key, { ...(snapshotTs ? { snapshotTs } : {}), ...(txnId ? { txnId } : {}) });
      return { found: r.found, value: r.found ? (r.value ?? EMPTY) : EMPTY, version: r.version, readTs: r.readTs };
    },

    Put: async (req) => {
      const key = validateKey(req.key, limits);
      const value = validateValue(req.value, limits);
      const txnId = validateTxnId(req.txnId);
      const session = sessionOf(req.header, limits);
      if (req.expectAbsent && req.hasExpected) throw fieldConflict('expect_absent', 'cannot be combined with has_expected');
      const expectedValue = req.hasExpected ? validateValue(req.expectedValue, limits, 'expected_value') : undefined;
      const r = await store.put(key, value, {
        ...(session ? { session } : {}),
        ...(txnId ? { txnId } : {}),
        ...(expectedValue ? { expectedValue } : {}),
        ...(req.expectAbsent ? { expectAbsent: true } : {}),
        ...(req.returnPrev ? { returnPrev: true } : {}),
      });
      return { version: r.version, succeeded: r.succeeded, prevFound: r.prevFound, prevValue: r.prevValue ?? EMPTY };
    },

    Delete: async (req) => {
      const key = validateKey(req.key, limits);
      const txnId = validateTxnId(req.txnId);
      const session = sessionOf(req.header, limits);
      const r = await store.delete(key, { ...(session ? { session } : {}), ...(txnId ? { txnId } : {}) });
      return { deleted: r.deleted, version: r.version };
    },

    DeleteRange: async (req) => {
      const range = validateRange(req, limits, { requireBound: true });
      const session = sessionOf(req.header, limits);
      const r = await store.deleteRange(range, session ? { session } : {});
      return { deleted: r.deleted, version: r.version };
    },

    Scan: async (req) => {
      const range = validateRange(req, limits);
      const txnId = validateTxnId(req.txnId);
      const snapshotTs = validateTimestamp(req.snapshotTs, 'snapshot_ts');
      if (txnId && snapshotTs) throw fieldConflict('snapshot_ts', 'cannot be combined with txn_id (a transaction reads at its start_ts)');
      const limit = effectiveScanLimit(req.limit, limits);
      const r = await store.scan({
        ...range,
        limit,
        reverse: req.reverse,
        keysOnly: req.keysOnly,
        ...(snapshotTs ? { snapshotTs } : {}),
        ...(txnId ? { txnId } : {}),
      });
      // Bound the response size: cut at maxScanResponseBytes (keeping at least one pair) and say more=true.
      let bytes = 0;
      let n = 0;
      for (const kv of r.kvs) {
        const size = kv.key.length + (req.keysOnly ? 0 : kv.value.length);
        if (n > 0 && bytes + size > limits.maxScanResponseBytes) break;
        bytes += size;
        n++;
      }
      const cut = n < r.kvs.length;
      const kvs = (cut ? r.kvs.slice(0, n) : r.kvs).map((kv) => ({ key: kv.key, value: req.keysOnly ? EMPTY : kv.value, version: kv.version }));
      return { kvs, more: r.more || cut, readTs: r.readTs };
    },

    Batch: async (req) => {
      const mutations = validateMutations(req.mutations, limits);
      const session = sessionOf(req.header, limits);
      const r = await store.batch(mutations, session ? { session } : {});
      return { version: r.version };
    },

    Begin: async (req) => {
      const idleTimeoutMs = validateIdleTimeout(req.idleTimeoutMs, limits);
      const minStartTs = validateMinStartTs(req.minStartTs === undefined ? undefined : Number(req.minStartTs));
      const directReads = req.directReads === true && !req.readOnly;
      const r = await store.begin({ ...(idleTimeoutMs ? { idleTimeoutMs } : {}), readOnly: req.readOnly, ...(minStartTs !== undefined ? { minStartTs } : {}), ...(directReads ? { directReads } : {}) });
      return { txnId: r.txnId, startTs: r.startTs, commitCarriesWrites: true, directReads: r.directReads === true };
    },

    Commit: async (req) => {
      const txnId = requireTxnId(req.txnId);
      const session = sessionOf(req.header, limits);
      const writes = req.writes !== undefined && req.writes.length > 0 ? validateMutations(req.writes, limits, 'writes') : undefined;
      const readKeys = validateReadKeys(req.readKeys, limits);
      const r = await store.commit(txnId, { ...(session ? { session } : {}), ...(writes ? { writes } : {}), ...(readKeys ? { readKeys } : {}) });
      return { commitTs: r.commitTs };
    },

    Rollback: async (req) => {
      const txnId = requireTxnId(req.txnId);
      await store.rollback(txnId);
      return {};
    },

    Status: async () => {
      const s = await store.status();
      return {
        nodeId: deps.nodeId,
        version: deps.version,
        appliedTs: s.appliedTs,
        safePoint: s.safePoint,
        approximateBytes: s.approximateBytes,
        activeTxns: s.activeTxns,
        uptimeMs: Date.now() - startedAt,
      };
    },
  };
  return ops;
}

function fieldConflict(field: string, message: string): FieldError {
  return new FieldError(field, message);
}

/** Loggable shape of a request: sizes and flags only, never values (nor keys: they may be sensitive). */
function describe(req: unknown): Record<string, unknown> {
  if (!req || typeof req !== 'object') return {};
  const r = req as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (Buffer.isBuffer(r.key)) out.keyBytes = r.key.length;
  if (Buffer.isBuffer(r.value)) out.valueBytes = r.value.length;
  if (Array.isArray(r.mutations)) out.mutations = r.mutations.length;
  if (typeof r.txnId === 'string' && r.txnId) out.txnId = r.txnId;
  const h = r.header as { clientId?: string; seq?: number } | null | undefined;
  if (h && h.clientId) {
    out.clientId = h.clientId;
    out.seq = h.seq;
  }
  return out;
}
