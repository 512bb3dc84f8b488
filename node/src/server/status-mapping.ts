// The ONE place where typed store errors become wire errors: a gRPC status + trailer metadata for unary
// calls, a StreamError for BatchStream sub-requests — both built from the same WireError, so the two
// transports always carry the same code and details. The client maps them back in client/errors.ts
// using the same constants (common/wire-errors.ts).
// Unknown errors become INTERNAL with a generic message and an error id; the details are only logged.
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { KvError, type KvErrorCode } from '../kv/errors.js';
import {
  MD_CONFLICT_KEY,
  MD_CONFLICT_TS,
  MD_ERROR_CODE,
  MD_FIELD,
  MD_LEADER,
  MD_LEADER_ID,
  MD_RANGE_EPOCH,
  MD_RANGE_ID,
  MD_SAFE_POINT,
  MD_TXN_ID,
  STATUS_OF_ERROR_CODE,
  formatRangeEpoch,
  isWireErrorCode,
  type WireError,
} from '../common/wire-errors.js';
import type { Logger } from '../common/logger.js';
import { decodeDescriptor } from '../meta/range-descriptor.js';

export interface MappedStatus {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
  /** The typed code sent in `kvs-error`. */
  errorCode: KvErrorCode | 'INTERNAL';
}

/** A WireError whose typed code is always set. */
export type MappedError = WireError & { errorCode: KvErrorCode | 'INTERNAL' };

/** Error-like objects carrying a typed `code` (instances of kv/errors.ts, possibly from another module copy). */
function typedCode(err: unknown): KvErrorCode | undefined {
  if (err instanceof KvError) return err.code;
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (isWireErrorCode(code) && code !== 'INTERNAL') return code;
  }
  return undefined;
}

/**
 * Maps any error thrown by validation or the store to its wire form. `logger` receives the full error of
 * unexpected failures (INTERNAL) and of storage errors, whose messages stay server-side.
 */
export function toWireError(err: unknown, logger?: Logger, context: Record<string, unknown> = {}): MappedError {
  const code = typedCode(err);
  if (!code) {
    const errorId = randomBytes(6).toString('hex');
    logger?.error('internal error', { ...context, errorId, err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) });
    return { code: GrpcStatus.INTERNAL, message: `internal error (id ${errorId})`, errorCode: 'INTERNAL' };
  }
  const e = err as Error & Record<string, unknown>;
  const out: MappedError = { code: STATUS_OF_ERROR_CODE[code], message: e.message || code, errorCode: code };
  switch (code) {
    case 'TXN_CONFLICT':
    case 'KEY_LOCKED':
      if (Buffer.isBuffer(e.key)) out.conflictKey = e.key;
      if (typeof e.conflictTs === 'number') out.conflictTs = e.conflictTs;
      break;
    case 'TXN_NOT_FOUND':
      if (typeof e.txnId === 'string') out.txnId = e.txnId;
      break;
    case 'SNAPSHOT_TOO_OLD':
      if (typeof e.safePoint === 'number') out.safePoint = e.safePoint;
      break;
    case 'INVALID_ARGUMENT':
      if (typeof e.field === 'string') out.field = e.field;
      break;
    case 'NOT_LEADER':
    case 'OUTCOME_UNKNOWN':
      if (typeof e.leaderAddress === 'string' && e.leaderAddress) out.leader = e.leaderAddress;
      if (typeof e.leaderId === 'number' && e.leaderId > 0) out.leaderId = e.leaderId;
      break;
    case 'KEY_NOT_IN_RANGE':
    case 'EPOCH_NOT_MATCH':
    case 'RANGE_NOT_FOUND':
      if (typeof e.rangeId === 'number' && e.rangeId > 0) out.rangeId = e.rangeId;
      if (code === 'EPOCH_NOT_MATCH') {
        const epoch = currentEpochOf(e.current, out.rangeId);
        if (epoch) out.rangeEpoch = epoch;
      }
      break;
    case 'STORAGE_ERROR': {
      // Engine messages may carry paths or internals: keep them in the log only.
      const errorId = randomBytes(6).toString('hex');
      logger?.error('storage error', { ...context, errorId, err: { name: e.name, message: e.message, stack: e.stack } });
      out.message = `storage error (id ${errorId}); retry later`;
      break;
    }
    default:
      break;
  }
  return out;
}

/** The epoch of range `rangeId` among an EPOCH_NOT_MATCH's current descriptors (encoded), if any. */
function currentEpochOf(current: unknown, rangeId: number | undefined): { confVer: number; version: number } | undefined {
  if (!Array.isArray(current) || rangeId === undefined) return undefined;
  for (const b of current) {
    if (!Buffer.isBuffer(b)) continue;
    try {
      const d = decodeDescriptor(b);
      if (d.rangeId === rangeId) return { confVer: d.epoch.confVer, version: d.epoch.version };
    } catch {
      // A malformed descriptor only loses the hint; the code and range still go out.
    }
  }
  return undefined;
}

/** The trailers of a unary call carrying `w`. */
export function metadataOf(w: WireError): Metadata {
  const md = new Metadata();
  if (w.errorCode) md.set(MD_ERROR_CODE, w.errorCode);
  if (w.conflictKey) md.set(MD_CONFLICT_KEY, w.conflictKey);
  if (w.conflictTs !== undefined) md.set(MD_CONFLICT_TS, String(w.conflictTs));
  if (w.txnId !== undefined) md.set(MD_TXN_ID, w.txnId);
  if (w.safePoint !== undefined) md.set(MD_SAFE_POINT, String(w.safePoint));
  if (w.field !== undefined) md.set(MD_FIELD, w.field);
  if (w.leader) md.set(MD_LEADER, w.leader);
  if (w.leaderId) md.set(MD_LEADER_ID, String(w.leaderId));
  if (w.rangeId) md.set(MD_RANGE_ID, String(w.rangeId));
  if (w.rangeEpoch) md.set(MD_RANGE_EPOCH, formatRangeEpoch(w.rangeEpoch));
  return md;
}

/** Maps any error to a gRPC status (code + details + trailers); see toWireError. */
export function toGrpcStatus(err: unknown, logger?: Logger, context: Record<string, unknown> = {}): MappedStatus {
  const w = toWireError(err, logger, context);
  return { code: w.code, details: w.message, metadata: metadataOf(w), errorCode: w.errorCode };
}

/** A mapped error as a grpc-js ServiceError, ready to pass to a unary callback. */
export function serviceErrorOf(w: MappedError): ServiceError & { errorCode: string } {
  const e = new Error(w.message) as ServiceError & { errorCode: string };
  e.code = w.code;
  e.details = w.message;
  e.metadata = metadataOf(w);
  e.errorCode = w.errorCode;
  return e;
}

/** The same mapping as a grpc-js ServiceError, ready to pass to a unary callback. */
export function toServiceError(err: unknown, logger?: Logger, context?: Record<string, unknown>): ServiceError & { errorCode: string } {
  return serviceErrorOf(toWireError(err, logger, context));
}
