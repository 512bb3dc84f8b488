// The ONE place where typed store errors become gRPC statuses (code + details + trailer metadata).
// The client maps them back in client/errors.ts using the same constants (common/wire-errors.ts).
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
  MD_SAFE_POINT,
  MD_TXN_ID,
  STATUS_OF_ERROR_CODE,
  isWireErrorCode,
} from '../common/wire-errors.js';
import type { Logger } from '../common/logger.js';

export interface MappedStatus {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
  /** The typed code sent in `kvs-error`. */
  errorCode: KvErrorCode | 'INTERNAL';
}

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
 * Maps any error thrown by validation or the store to a gRPC status. `logger` receives the full
 * error of unexpected failures (INTERNAL) and of storage errors, whose messages stay server-side.
 */
export function toGrpcStatus(err: unknown, logger?: Logger, context: Record<string, unknown> = {}): MappedStatus {
  const metadata = new Metadata();
  const code = typedCode(err);
  if (!code) {
    const errorId = randomBytes(6).toString('hex');
    logger?.error('internal error', { ...context, errorId, err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) });
    metadata.set(MD_ERROR_CODE, 'INTERNAL');
    return { code: GrpcStatus.INTERNAL, details: `internal error (id ${errorId})`, metadata, errorCode: 'INTERNAL' };
  }
  const e = err as Error & Record<string, unknown>;
  metadata.set(MD_ERROR_CODE, code);
  let details = e.message || code;
  switch (code) {
    case 'TXN_CONFLICT':
      if (Buffer.isBuffer(e.key)) metadata.set(MD_CONFLICT_KEY, e.key);
      if (typeof e.conflictTs === 'number') metadata.set(MD_CONFLICT_TS, String(e.conflictTs));
      break;
    case 'TXN_NOT_FOUND':
      if (typeof e.txnId === 'string') metadata.set(MD_TXN_ID, e.txnId);
      break;
    case 'SNAPSHOT_TOO_OLD':
      if (typeof e.safePoint === 'number') metadata.set(MD_SAFE_POINT, String(e.safePoint));
      break;
    case 'INVALID_ARGUMENT':
      if (typeof e.field === 'string') metadata.set(MD_FIELD, e.field);
      break;
    case 'NOT_LEADER':
      if (typeof e.leaderAddress === 'string' && e.leaderAddress) metadata.set(MD_LEADER, e.leaderAddress);
      if (typeof e.leaderId === 'number' && e.leaderId > 0) metadata.set(MD_LEADER_ID, String(e.leaderId));
      break;
    case 'STORAGE_ERROR': {
      // Engine messages may carry paths or internals: keep them in the log only.
      const errorId = randomBytes(6).toString('hex');
      logger?.error('storage error', { ...context, errorId, err: { name: e.name, message: e.message, stack: e.stack } });
      details = `storage error (id ${errorId}); retry later`;
      break;
    }
    default:
      break;
  }
  return { code: STATUS_OF_ERROR_CODE[code], details, metadata, errorCode: code };
}

/** The same mapping as a grpc-js ServiceError, ready to pass to a unary callback. */
export function toServiceError(err: unknown, logger?: Logger, context?: Record<string, unknown>): ServiceError & { errorCode: string } {
  const s = toGrpcStatus(err, logger, context);
  const e = new Error(s.details) as ServiceError & { errorCode: string };
  e.code = s.code;
  e.details = s.details;
  e.metadata = s.metadata;
  e.errorCode = s.errorCode;
  return e;
}
