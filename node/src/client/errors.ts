// Typed client errors, and the ONE place mapping wire errors back to them (fromWireError): a unary
// call's gRPC status + trailer metadata, or a BatchStream sub-response's StreamError
// (the server side is server/status-mapping.ts; both use common/wire-errors.ts).
import { status as GrpcStatus, type Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  MD_CONFLICT_KEY,
  MD_CONFLICT_TS,
  MD_ERROR_CODE,
  MD_FIELD,
  MD_LEADER,
  MD_LEADER_ID,
  MD_RANGE_ID,
  MD_SAFE_POINT,
  MD_TXN_ID,
  grpcStatusName,
  type WireError,
} from '../common/wire-errors.js';

export type KvClientErrorCode =
  | 'INVALID_ARGUMENT'
  | 'TXN_CONFLICT'
  | 'TXN_NOT_FOUND'
  | 'TXN_READ_ONLY'
  | 'SNAPSHOT_TOO_OLD'
  | 'SESSION_EXPIRED'
  | 'UNAVAILABLE'
  | 'PRECONDITION_FAILED'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'CROSS_RANGE'
  | 'INTERNAL'
  | 'UNKNOWN';

export class KvError extends Error {
  override name = 'KvError';
  /** Typed code (the server's `kvs-error` when present, else derived from the gRPC status). */
  readonly code: KvClientErrorCode;
  /** gRPC status code of the failed call (or UNAVAILABLE for connection failures). */
  readonly grpcCode: number;
  /** Whether retrying the same request may succeed. */
  readonly retryable: boolean;
  constructor(code: KvClientErrorCode, grpcCode: number, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.grpcCode = grpcCode;
    this.retryable = retryable;
  }
}

export class KvInvalidArgumentError extends KvError {
  override name = 'KvInvalidArgumentError';
  /** The request field at fault, e.g. `key` or `mutations[2].value`, when the server said. */
  readonly field: string | undefined;
  constructor(message: string, field?: string, grpcCode: number = GrpcStatus.INVALID_ARGUMENT) {
    super('INVALID_ARGUMENT', grpcCode, message, false);
    this.field = field;
  }
}

/** A transaction lost serializable validation: another commit wrote `key` after it started. Retry the transaction. */
export class KvConflictError extends KvError {
  override name = 'KvConflictError';
  constructor(message: string, readonly key: Buffer | undefined, readonly conflictTs: number | undefined) {
    super('TXN_CONFLICT', GrpcStatus.ABORTED, message, true);
  }
}

export class KvTxnNotFoundError extends KvError {
  override name = 'KvTxnNotFoundError';
  constructor(message: string, readonly txnId: string | undefined, grpcCode: number = GrpcStatus.NOT_FOUND) {
    super('TXN_NOT_FOUND', grpcCode, message, false);
  }
}

export class KvTxnReadOnlyError extends KvError {
  override name = 'KvTxnReadOnlyError';
  constructor(message: string) {
    super('TXN_READ_ONLY', GrpcStatus.FAILED_PRECONDITION, message, false);
  }
}

export class KvSnapshotTooOldError extends KvError {
  override name = 'KvSnapshotTooOldError';
  constructor(message: string, readonly safePoint: number | undefined) {
    super('SNAPSHOT_TOO_OLD', GrpcStatus.OUT_OF_RANGE, message, false);
  }
}

/** The server forgot the result of a retried request: whether it was applied is unknown. */
export class KvSessionExpiredError extends KvError {
  override name = 'KvSessionExpiredError';
  constructor(message: string) {
    super('SESSION_EXPIRED', GrpcStatus.FAILED_PRECONDITION, message, false);
  }
}

/** No node could serve the request (connection refused/lost, store closed, storage failing) within the retries. */
export class KvUnavailableError extends KvError {
  override name = 'KvUnavailableError';
  constructor(message: string, readonly serverCode?: string) {
    super('UNAVAILABLE', GrpcStatus.UNAVAILABLE, message, true);
  }
}

/**
 * The request may or may not have been applied: the connection or BatchStream carrying it broke after it
 * was sent, or the node handed it to Raft and lost track of it (OUTCOME_UNKNOWN: leadership changed,
 * proposal timed out, node shutting down). Retryable with the same session seq (exactly-once: the retry
 * resolves through the log); without a session it surfaces. `leaderAddress`: where to retry, when known.
 */
export class KvOutcomeUnknownError extends KvUnavailableError {
  override name = 'KvOutcomeUnknownError';
  constructor(message: string, serverCode?: string, readonly leaderAddress?: string, readonly leaderId?: number) {
    super(message, serverCode);
  }
}

/**
 * The node could not serve the request because it is not (or no longer) the Raft leader, or knows no
 * leader. Retryable; `leaderAddress` (when known) is where to retry.
 */
export class KvNotLeaderError extends KvUnavailableError {
  override name = 'KvNotLeaderError';
  constructor(message: string, readonly leaderAddress?: string, readonly leaderId?: number) {
    super(message, 'NOT_LEADER');
  }
}

/**
 * The node refused to route the request (KEY_NOT_IN_RANGE: the range split or the route was stale;
 * EPOCH_NOT_MATCH; RANGE_NOT_FOUND): certainly not applied, retry after refreshing the route.
 */
export class KvRoutingError extends KvUnavailableError {
  override name = 'KvRoutingError';
  constructor(message: string, serverCode: string, readonly rangeId?: number) {
    super(message, serverCode);
  }
}

/**
 * The operation must be atomic but touches more than one range (a Batch or transaction across a range
 * boundary). Not retryable as is until cross-range transactions exist: split it per range.
 */
export class KvCrossRangeError extends KvError {
  override name = 'KvCrossRangeError';
  constructor(message: string) {
    super('CROSS_RANGE', GrpcStatus.FAILED_PRECONDITION, message, false);
  }
}

/** An administrative change was refused as unsafe now (learner not caught up, quorum at risk...). */
export class KvPreconditionFailedError extends KvError {
  override name = 'KvPreconditionFailedError';
  constructor(message: string) {
    super('PRECONDITION_FAILED', GrpcStatus.FAILED_PRECONDITION, message, false);
  }
}

/** The call's deadline passed. For a write the outcome is unknown (a retry with the same session seq is safe). */
export class KvDeadlineError extends KvError {
  override name = 'KvDeadlineError';
  constructor(message: string) {
    super('DEADLINE_EXCEEDED', GrpcStatus.DEADLINE_EXCEEDED, message, true);
  }
}

export class KvCancelledError extends KvError {
  override name = 'KvCancelledError';
  constructor(message: string) {
    super('CANCELLED', GrpcStatus.CANCELLED, message, false);
  }
}

export class KvResourceExhaustedError extends KvError {
  override name = 'KvResourceExhaustedError';
  constructor(message: string, retryable = false) {
    super('RESOURCE_EXHAUSTED', GrpcStatus.RESOURCE_EXHAUSTED, message, retryable);
  }
}

/** The node refused the request before running it (too many in flight): nothing applied, retry after a backoff. */
export class KvOverloadedError extends KvResourceExhaustedError {
  override name = 'KvOverloadedError';
  constructor(message: string) {
    super(message, true);
  }
}

/** The node refused the client's certificate (none, another CA's, expired...): the message says why. */
export class KvUnauthenticatedError extends KvError {
  override name = 'KvUnauthenticatedError';
  constructor(message: string) {
    super('UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED, message, false);
  }
}

/** The client's identity may not make this call (e.g. a data client certificate calling Admin). */
export class KvPermissionDeniedError extends KvError {
  override name = 'KvPermissionDeniedError';
  constructor(message: string) {
    super('PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED, message, false);
  }
}

export class KvInternalError extends KvError {
  override name = 'KvInternalError';
  constructor(message: string, grpcCode: number = GrpcStatus.INTERNAL) {
    super(grpcCode === GrpcStatus.INTERNAL ? 'INTERNAL' : 'UNKNOWN', grpcCode, message, false);
  }
}

function mdString(md: Metadata | undefined, key: string): string | undefined {
  const v = md?.get(key)[0];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toString('utf8');
}

function mdNumber(md: Metadata | undefined, key: string): number | undefined {
  const s = mdString(md, key);
  const n = s === undefined ? NaN : Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** The WireError a unary call's status + trailers carry. */
export function wireErrorOfStatus(err: ServiceError): WireError {
  const md = err.metadata;
  const w: WireError = { code: err.code, message: err.details || grpcStatusName(err.code) };
  const set = <K extends keyof WireError>(k: K, v: WireError[K] | undefined): void => {
    if (v !== undefined) w[k] = v;
  };
  set('errorCode', mdString(md, MD_ERROR_CODE));
  set('field', mdString(md, MD_FIELD));
  const key = md?.get(MD_CONFLICT_KEY)[0];
  if (key !== undefined) w.conflictKey = Buffer.isBuffer(key) ? key : Buffer.from(key);
  set('conflictTs', mdNumber(md, MD_CONFLICT_TS));
  set('txnId', mdString(md, MD_TXN_ID));
  set('safePoint', mdNumber(md, MD_SAFE_POINT));
  set('leader', mdString(md, MD_LEADER));
  set('leaderId', mdNumber(md, MD_LEADER_ID));
  set('rangeId', mdNumber(md, MD_RANGE_ID));
  return w;
}

/** Whether `err` looks like a grpc-js ServiceError (status code + details). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

/** Maps a failed call (grpc-js ServiceError, or anything else) to a typed KvError. */
export function fromGrpcError(err: unknown, context?: string): KvError {
  if (err instanceof KvError) return err;
  if (!isServiceError(err)) {
    // grpc-js reports every call failure as a ServiceError; anything else is a local bug: not retryable.
    const msg = err instanceof Error ? err.message : String(err);
    return new KvInternalError(context ? `${context}: ${msg}` : msg, GrpcStatus.UNKNOWN);
  }
  return fromWireError(wireErrorOfStatus(err), context);
}

/**
 * THE mapping of a wire error (unary status + trailers, or a BatchStream StreamError) to a typed KvError.
 */
export function fromWireError(w: WireError, context?: string): KvError {
  const typed = w.errorCode;
  const details = w.message || grpcStatusName(w.code);
  const msg = context ? `${context}: ${details}` : details;
  switch (typed) {
    case 'INVALID_ARGUMENT':
      return new KvInvalidArgumentError(msg, w.field, w.code);
    case 'TXN_CONFLICT':
    case 'KEY_LOCKED':
      return new KvConflictError(msg, w.conflictKey, w.conflictTs);
    case 'TXN_NOT_FOUND':
      return new KvTxnNotFoundError(msg, w.txnId, w.code);
    case 'TXN_READ_ONLY':
      return new KvTxnReadOnlyError(msg);
    case 'SNAPSHOT_TOO_OLD':
      return new KvSnapshotTooOldError(msg, w.safePoint);
    case 'SESSION_EXPIRED':
      return new KvSessionExpiredError(msg);
    case 'PRECONDITION_FAILED':
      return new KvPreconditionFailedError(msg);
    case 'TIMEOUT':
      return new KvDeadlineError(msg);
    case 'NOT_LEADER':
      return new KvNotLeaderError(msg, w.leader, w.leaderId);
    case 'OUTCOME_UNKNOWN':
      return new KvOutcomeUnknownError(msg, typed, w.leader, w.leaderId);
    case 'STORE_CLOSED':
    case 'STORAGE_ERROR':
      return new KvUnavailableError(msg, typed);
    case 'OVERLOADED':
      return new KvOverloadedError(msg);
    case 'UNAUTHENTICATED':
      return new KvUnauthenticatedError(msg);
    case 'PERMISSION_DENIED':
      return new KvPermissionDeniedError(msg);
    case 'KEY_NOT_IN_RANGE':
    case 'EPOCH_NOT_MATCH':
    case 'RANGE_NOT_FOUND':
      return new KvRoutingError(msg, typed, w.rangeId);
    case 'CROSS_RANGE':
      return new KvCrossRangeError(msg);
    case 'INTERNAL':
      return new KvInternalError(msg);
    default:
      break;
  }
  // No (known) typed code: derive from the status alone (proxies, grpc-js itself, older servers).
  switch (w.code) {
    case GrpcStatus.INVALID_ARGUMENT:
      return new KvInvalidArgumentError(msg);
    case GrpcStatus.ABORTED:
      return new KvConflictError(msg, undefined, undefined);
    case GrpcStatus.UNAVAILABLE:
      return new KvUnavailableError(msg);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new KvDeadlineError(msg);
    case GrpcStatus.CANCELLED:
      return new KvCancelledError(msg);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return new KvResourceExhaustedError(msg);
    case GrpcStatus.OUT_OF_RANGE:
      return new KvSnapshotTooOldError(msg, undefined);
    case GrpcStatus.NOT_FOUND:
      return new KvTxnNotFoundError(msg, undefined);
    case GrpcStatus.UNAUTHENTICATED:
      return new KvUnauthenticatedError(msg);
    case GrpcStatus.PERMISSION_DENIED:
      return new KvPermissionDeniedError(msg);
    default:
      return new KvInternalError(msg, w.code);
  }
}

// ---- store drain (drain.ts): client-side operations, not server answers ----

/** The store to drain is not part of the cluster: no store answered with that id and no range lists it. */
export class DrainUnknownStoreError extends Error {
  override readonly name = 'DrainUnknownStoreError';
  readonly code = 'UNKNOWN_STORE' as const;
  constructor(readonly storeId: number, readonly knownStores: number[]) {
    super(`store ${storeId} is not in the cluster (known stores: ${knownStores.length > 0 ? knownStores.join(', ') : 'none'}); nothing was changed`);
  }
}

/** The drain ran but left work behind (a step kept failing, or leadership came back): run it again. */
export class DrainIncompleteError extends Error {
  override readonly name = 'DrainIncompleteError';
  readonly code = 'DRAIN_INCOMPLETE' as const;
  constructor(
    readonly storeId: number,
    /** What is still to do, one line each ("range 7: move replica 2 → 4: <error>"). */
    readonly remaining: string[],
  ) {
    super(`drain of store ${storeId} incomplete (${remaining.length} left; running it again continues): ${remaining.join('; ')}`);
  }
}
