// The error convention on the wire, shared by server (server/status-mapping.ts) and client (client/errors.ts):
// a gRPC status code plus trailer metadata. Only constants and the code table live here; the mapping
// functions live on each side.
import { status as GrpcStatus } from '@grpc/grpc-js';

/** Trailer holding the typed error code (a KvErrorCode of kv/errors.ts, or a client-side code). */
export const MD_ERROR_CODE = 'kvs-error';
/** Binary trailer holding the conflicting key of a TXN_CONFLICT. */
export const MD_CONFLICT_KEY = 'kvs-conflict-key-bin';
/** Commit timestamp of the conflicting write (decimal). */
export const MD_CONFLICT_TS = 'kvs-conflict-ts';
/** Transaction id of a TXN_NOT_FOUND. */
export const MD_TXN_ID = 'kvs-txn-id';
/** GC safe point of a SNAPSHOT_TOO_OLD (decimal). */
export const MD_SAFE_POINT = 'kvs-safe-point';
/** Which request field a validation error is about (INVALID_ARGUMENT), e.g. `key` or `mutations[3].value`. */
export const MD_FIELD = 'kvs-field';
/** Client address of the current leader (NOT_LEADER), when known: retry there. */
export const MD_LEADER = 'kvs-leader';
/** Raft id of the current leader (NOT_LEADER), when known (decimal). */
export const MD_LEADER_ID = 'kvs-leader-id';
/** The range a routing error is about (KEY_NOT_IN_RANGE, EPOCH_NOT_MATCH, RANGE_NOT_FOUND; decimal). */
export const MD_RANGE_ID = 'kvs-range-id';
/** The epoch the refusing replica holds (EPOCH_NOT_MATCH, when it named one): "<confVer>.<version>". */
export const MD_RANGE_EPOCH = 'kvs-range-epoch';

export function formatRangeEpoch(e: { confVer: number; version: number }): string {
  return `${e.confVer}.${e.version}`;
}

/** Parses MD_RANGE_EPOCH; undefined when absent or malformed. */
export function parseRangeEpoch(v: string | undefined): { confVer: number; version: number } | undefined {
  const m = v === undefined ? null : /^(\d+)\.(\d+)$/.exec(v);
  return m ? { confVer: Number(m[1]), version: Number(m[2]) } : undefined;
}

/**
 * A failed request as both transports carry it: a unary call as status + trailers (the MD_* keys above),
 * a BatchStream sub-request as a StreamError message (proto/kv.proto) with the same fields.
 */
export interface WireError {
  /** gRPC status code. */
  code: number;
  message: string;
  /** Typed code (MD_ERROR_CODE). */
  errorCode?: string;
  field?: string;
  conflictKey?: Buffer;
  conflictTs?: number;
  txnId?: string;
  safePoint?: number;
  leader?: string;
  leaderId?: number;
  rangeId?: number;
  /** EPOCH_NOT_MATCH: the epoch the refusing replica holds (unary calls only). */
  rangeEpoch?: { confVer: number; version: number };
}

/** The one table of typed store error codes → gRPC status codes. */
export const STATUS_OF_ERROR_CODE = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  TXN_CONFLICT: GrpcStatus.ABORTED,
  TXN_NOT_FOUND: GrpcStatus.NOT_FOUND,
  TXN_READ_ONLY: GrpcStatus.FAILED_PRECONDITION,
  SNAPSHOT_TOO_OLD: GrpcStatus.OUT_OF_RANGE,
  SESSION_EXPIRED: GrpcStatus.FAILED_PRECONDITION,
  STORE_CLOSED: GrpcStatus.UNAVAILABLE,
  STORAGE_ERROR: GrpcStatus.UNAVAILABLE,
  NOT_LEADER: GrpcStatus.UNAVAILABLE,
  PRECONDITION_FAILED: GrpcStatus.FAILED_PRECONDITION,
  TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  OVERLOADED: GrpcStatus.RESOURCE_EXHAUSTED,
  OUTCOME_UNKNOWN: GrpcStatus.UNAVAILABLE,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  // Routing refusals: nothing was applied, retry after refreshing the route (UNAVAILABLE = retryable
  // for generic gRPC clients too).
  KEY_NOT_IN_RANGE: GrpcStatus.UNAVAILABLE,
  EPOCH_NOT_MATCH: GrpcStatus.UNAVAILABLE,
  RANGE_NOT_FOUND: GrpcStatus.UNAVAILABLE,
  CROSS_RANGE: GrpcStatus.FAILED_PRECONDITION,
  // A prepared cross-range transaction holds the key and the store could not resolve it in time:
  // nothing applied; the client retries like a conflict.
  KEY_LOCKED: GrpcStatus.ABORTED,
  INTERNAL: GrpcStatus.INTERNAL,
} as const;

export type WireErrorCode = keyof typeof STATUS_OF_ERROR_CODE;

export function isWireErrorCode(code: unknown): code is WireErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(STATUS_OF_ERROR_CODE, code);
}

/** Name of a numeric gRPC status code (`14` → `UNAVAILABLE`), used in metrics labels and messages. */
export function grpcStatusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? `CODE_${code}`;
}
