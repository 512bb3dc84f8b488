// Typed errors of the storage layer. Each has a fixed `code`; the server maps codes to gRPC statuses
// in exactly one place (server/status-mapping.ts) and the client maps them back.

export type KvErrorCode =
  | 'INVALID_ARGUMENT'
  | 'TXN_CONFLICT'
  | 'TXN_NOT_FOUND'
  | 'TXN_READ_ONLY'
  | 'SNAPSHOT_TOO_OLD'
  | 'SESSION_EXPIRED'
  | 'STORE_CLOSED'
  | 'STORAGE_ERROR'
  | 'NOT_LEADER'
  | 'PRECONDITION_FAILED'
  | 'TIMEOUT'
  | 'OVERLOADED'
  | 'OUTCOME_UNKNOWN'
  | 'KEY_NOT_IN_RANGE'
  | 'EPOCH_NOT_MATCH'
  | 'KEY_LOCKED'
  | 'CROSS_RANGE'
  | 'RANGE_NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED';

export abstract class KvError extends Error {
  abstract readonly code: KvErrorCode;
  /** Whether a client may retry the same request (possibly after a backoff). */
  abstract readonly retryable: boolean;
}

/** A request failed validation (limits, empty key, bad range...). Never retryable. */
export class InvalidArgumentError extends KvError {
  override readonly name = 'InvalidArgumentError';
  readonly code = 'INVALID_ARGUMENT' as const;
  readonly retryable = false;
}

/** Serializable validation failed at commit: another transaction committed a write to `key` after start. */
export class TxnConflictError extends KvError {
  override readonly name = 'TxnConflictError';
  readonly code = 'TXN_CONFLICT' as const;
  readonly retryable = true;
  constructor(readonly key: Buffer, readonly conflictTs: number, message?: string) {
    super(message ?? `transaction conflict on key ${JSON.stringify(key.toString('latin1'))} (committed at ${conflictTs}); retry the transaction`);
  }
}

/** The transaction id is unknown: never begun, committed, rolled back, or timed out while idle. */
export class TxnNotFoundError extends KvError {
  override readonly name = 'TxnNotFoundError';
  readonly code = 'TXN_NOT_FOUND' as const;
  readonly retryable = false;
  constructor(readonly txnId: string, reason = 'unknown, finished or timed out') {
    super(`transaction ${txnId} not found (${reason})`);
  }
}

export class TxnReadOnlyError extends KvError {
  override readonly name = 'TxnReadOnlyError';
  readonly code = 'TXN_READ_ONLY' as const;
  readonly retryable = false;
}

/** A snapshot read below the GC safe point: the versions it needs may be gone. */
export class SnapshotTooOldError extends KvError {
  override readonly name = 'SnapshotTooOldError';
  readonly code = 'SNAPSHOT_TOO_OLD' as const;
  readonly retryable = false;
  constructor(readonly snapshotTs: number, readonly safePoint: number) {
    super(`snapshot ${snapshotTs} is older than the GC safe point ${safePoint}`);
  }
}

/** A retry for a seq whose result the server already forgot (below first_unacked, or session expired). */
export class SessionExpiredError extends KvError {
  override readonly name = 'SessionExpiredError';
  readonly code = 'SESSION_EXPIRED' as const;
  readonly retryable = false;
}

export class StoreClosedError extends KvError {
  override readonly name = 'StoreClosedError';
  readonly code = 'STORE_CLOSED' as const;
  readonly retryable = true;
  constructor() {
    super('store is closed');
  }
}

export class StorageError extends KvError {
  override readonly name = 'StorageError';
  readonly code = 'STORAGE_ERROR' as const;
  readonly retryable = true;
}

/**
 * Replication: this node cannot serve the request now (no leader known, leadership lost while the
 * proposal was pending, or an admin call that must run on the leader). Retry, preferably at `leaderAddress`.
 */
export class NotLeaderError extends KvError {
  override readonly name = 'NotLeaderError';
  readonly code = 'NOT_LEADER' as const;
  readonly retryable = true;
  constructor(readonly leaderId: number, readonly leaderAddress: string | undefined, message?: string) {
    super(message ?? (leaderId ? `not the leader (leader is ${leaderId}${leaderAddress ? ` at ${leaderAddress}` : ''})` : 'no leader known; retry'));
  }
}

/** An administrative change was refused because it is unsafe now (e.g. a learner not caught up, quorum at risk). */
export class PreconditionFailedError extends KvError {
  override readonly name = 'PreconditionFailedError';
  readonly code = 'PRECONDITION_FAILED' as const;
  readonly retryable = false;
}

/** An operation did not complete in time (e.g. a leader transfer); its effect may still happen. */
export class OperationTimeoutError extends KvError {
  override readonly name = 'OperationTimeoutError';
  readonly code = 'TIMEOUT' as const;
  readonly retryable = true;
}

/**
 * The node refused the request before running it (e.g. too many requests in flight on one BatchStream).
 * Nothing was applied, so a retry after a backoff is always safe.
 */
export class OverloadedError extends KvError {
  override readonly name = 'OverloadedError';
  readonly code = 'OVERLOADED' as const;
  readonly retryable = true;
}

/**
 * A write was handed to Raft and then lost track of (leadership changed, the proposal timed out, the
 * node is shutting down or its group failed): the entry may still commit. Retryable ONLY with the same
 * session (client id + seq) — the retry is resolved through the log and returns the real outcome. Never
 * "certainly not applied". Carries the leader hint for the retry.
 */
export class OutcomeUnknownError extends KvError {
  override readonly name = 'OutcomeUnknownError';
  readonly code = 'OUTCOME_UNKNOWN' as const;
  readonly retryable = true;
  /**
   * A retried commit met a STAGING transaction (parallel commits) in this range's session table: it is
   * decided by a recovery through its primary (raftstore/lock-resolver.ts), which the store runs.
   */
  staged?: { txnId: string; primary: Buffer };
  constructor(readonly leaderId: number, readonly leaderAddress: string | undefined, message: string) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Routing (sharding, docs/sharding.md "Routing"). All of them are refusals before or at apply: the
// request was certainly not applied, so a retry after refreshing the range cache is always safe.

/**
 * The range a request was routed to no longer holds (or never held) the key: it split, or the routing
 * was stale. The state machine also returns it at apply for a command proposed before a split whose keys
 * moved to the other half. Retry after refreshing the route.
 */
export class KeyNotInRangeError extends KvError {
  override readonly name = 'KeyNotInRangeError';
  readonly code = 'KEY_NOT_IN_RANGE' as const;
  readonly retryable = true;
  constructor(readonly rangeId: number, message: string) {
    super(message);
  }
}

/** The request named an epoch of its range that is not the current one (a split or merge happened). */
export class EpochNotMatchError extends KvError {
  override readonly name = 'EpochNotMatchError';
  readonly code = 'EPOCH_NOT_MATCH' as const;
  readonly retryable = true;
  /** Encoded descriptors (meta/range-descriptor.ts) of the ranges now covering the request's range. */
  constructor(readonly rangeId: number, message: string, readonly current: Buffer[] = []) {
    super(message);
  }
}

/**
 * A key is locked by a prepared cross-range transaction (kv/txn-locks.ts): the request was refused
 * before applying anything. The store resolves the lock through its primary (wait while its TTL runs,
 * then commit or roll it back) and retries; it reaches a client only when that did not settle it (then
 * as a conflict to retry).
 */
export class KeyLockedError extends KvError {
  override readonly name = 'KeyLockedError';
  readonly code = 'KEY_LOCKED' as const;
  readonly retryable = true;
  constructor(readonly key: Buffer, readonly lock: { txnId: string; primary: Buffer; prepTs: number; ttlTs: number }, message?: string) {
    super(message ?? `key ${JSON.stringify(key.toString('latin1'))} is locked by transaction ${lock.txnId}; retry`);
  }
}

/** The request names a range this store holds no replica of. */
export class RangeNotFoundError extends KvError {
  override readonly name = 'RangeNotFoundError';
  readonly code = 'RANGE_NOT_FOUND' as const;
  readonly retryable = true;
  constructor(readonly rangeId: number, message?: string) {
    super(message ?? `range ${rangeId} has no replica on this store`);
  }
}

/**
 * An operation that must be atomic (a Batch, a transaction) touches keys of more than one range.
 * Sent by stores built before cross-range transactions (kept so clients still understand them): not
 * retryable as is; split the operation per range. Current stores commit such operations by two-phase commit.
 */
export class CrossRangeError extends KvError {
  override readonly name = 'CrossRangeError';
  readonly code = 'CROSS_RANGE' as const;
  readonly retryable = false;
}

/**
 * The call's connection carries no verified client certificate (TLS on: none presented, another CA's,
 * expired, wrong key usage); the message says which. Retrying with the same certificate cannot succeed.
 */
export class UnauthenticatedError extends KvError {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'UNAUTHENTICATED' as const;
  readonly retryable = false;
}

/** The client's verified identity may not call this service (e.g. a data client calling Admin). */
export class PermissionDeniedError extends KvError {
  override readonly name = 'PermissionDeniedError';
  readonly code = 'PERMISSION_DENIED' as const;
  readonly retryable = false;
}
