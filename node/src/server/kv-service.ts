// gRPC handlers of kvs.v1.Kv: validate → call the KvStore → map the result (or the typed error) to the
// wire. Every call goes through `wrap`, which records metrics, logs at debug (method, code, latency and
// key sizes; never values) and maps errors in one place (status-mapping.ts).
import { status as grpcStatus } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import type { KvStore } from '../kv/api.js';
import type { Logger } from '../common/logger.js';
import { grpcStatusName } from '../common/wire-errors.js';
import type { KvHandlers } from '../generated/kvs/v1/Kv.js';
import { toServiceError } from './status-mapping.js';
import type { ServerMetrics } from './metrics.js';
import {
  FieldError,
  type Limits,
  effectiveScanLimit,
  requireTxnId,
  sessionOf,
  validateIdleTimeout,
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
}

const EMPTY = Buffer.alloc(0);

/** Key of the marker object the tolerant decoder (node-server.ts) passes for an undecodable request. */
export const MALFORMED_REQUEST = Symbol('kvs.malformedRequest');

type Handler<Req, Res> = (req: Req) => Promise<Res>;

export function createKvHandlers(deps: KvServiceDeps): KvHandlers {
  const { store, limits, logger, metrics } = deps;
  const startedAt = deps.startedAt ?? Date.now();
  const debug = logger.isLevelEnabled('debug');

  function wrap<Req, Res>(method: string, fn: Handler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const done = metrics?.startRequest(method);
      const t0 = debug ? process.hrtime.bigint() : 0n;
      const finish = (code: number, extra?: Record<string, unknown>) => {
        // A call the client cancelled (deadline, disconnect) never delivers its result: count it as such.
        const name = call.cancelled ? 'CANCELLED' : grpcStatusName(code);
        done?.(name);
        if (debug) {
          logger.debug('request', { method, code: name, ms: Number(process.hrtime.bigint() - t0) / 1e6, peer: call.getPeer(), ...describe(call.request), ...extra });
        }
      };
      if (call.cancelled) {
        // Queued behind other work until the client gave up: do not spend the store's time on it
        // (a write is safe to skip: the client either retries with the same session seq or gives up).
        finish(grpcStatus.CANCELLED);
        return;
      }
      let p: Promise<Res>;
      try {
        const req = call.request as Req & { [MALFORMED_REQUEST]?: string };
        if (req && typeof req === 'object' && MALFORMED_REQUEST in req) {
          throw new FieldError('request', `malformed protobuf message for ${method} (${req[MALFORMED_REQUEST]})`);
        }
        p = fn(req);
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (res) => {
          finish(0);
          callback(null, res);
        },
        (err: unknown) => {
          const se = toServiceError(err, logger, { method });
          finish(se.code, { error: se.errorCode });
          callback(se);
        },
      );
    };
  }

  return {
    Get: wrap('Get', async (req) => {
      const key = validateKey(req.key, limits);
      const txnId = validateTxnId(req.txnId);
      const snapshotTs = validateTimestamp(req.snapshotTs, 'snapshot_ts');
      if (txnId && snapshotTs) throw fieldConflict('snapshot_ts', 'cannot be combined with txn_id (a transaction reads at its start_ts)');
      const r = await store.get(key, { ...(snapshotTs ? { snapshotTs } : {}), ...(txnId ? { txnId } : {}) });
      return { found: r.found, value: r.found ? (r.value ?? EMPTY) : EMPTY, version: r.version, readTs: r.readTs };
    }),

    Put: wrap('Put', async (req) => {
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
    }),

    Delete: wrap('Delete', async (req) => {
      const key = validateKey(req.key, limits);
      const txnId = validateTxnId(req.txnId);
      const session = sessionOf(req.header, limits);
      const r = await store.delete(key, { ...(session ? { session } : {}), ...(txnId ? { txnId } : {}) });
      return { deleted: r.deleted, version: r.version };
    }),

    DeleteRange: wrap('DeleteRange', async (req) => {
      const range = validateRange(req, limits, { requireBound: true });
      const session = sessionOf(req.header, limits);
      const r = await store.deleteRange(range, session ? { session } : {});
      return { deleted: r.deleted, version: r.version };
    }),

    Scan: wrap('Scan', async (req) => {
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
    }),

    Batch: wrap('Batch', async (req) => {
      const mutations = validateMutations(req.mutations, limits);
      const session = sessionOf(req.header, limits);
      const r = await store.batch(mutations, session ? { session } : {});
      return { version: r.version };
    }),

    Begin: wrap('Begin', async (req) => {
      const idleTimeoutMs = validateIdleTimeout(req.idleTimeoutMs, limits);
      const r = await store.begin({ ...(idleTimeoutMs ? { idleTimeoutMs } : {}), readOnly: req.readOnly });
      return { txnId: r.txnId, startTs: r.startTs };
    }),

    Commit: wrap('Commit', async (req) => {
      const txnId = requireTxnId(req.txnId);
      const session = sessionOf(req.header, limits);
      const r = await store.commit(txnId, session ? { session } : {});
      return { commitTs: r.commitTs };
    }),

    Rollback: wrap('Rollback', async (req) => {
      const txnId = requireTxnId(req.txnId);
      await store.rollback(txnId);
      return {};
    }),

    Status: wrap('Status', async () => {
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
    }),
  } as KvHandlers;
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
