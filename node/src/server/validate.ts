// Request validation and limits. Every check throws InvalidArgumentError (→ INVALID_ARGUMENT) with a
// message naming the field and the limit, e.g. "key: 9000 bytes exceeds the limit of 8192 bytes".
import { InvalidArgumentError } from '../kv/errors.js';
import type { Mutation, Session } from '../kv/api.js';
import { DEFAULT_MAX_MESSAGE_BYTES, RAFT_FRAME_RESERVE_BYTES } from '../common/raft-limits.js';

export interface Limits {
  /** Maximum key size in bytes (default 8 KiB). */
  maxKeyBytes: number;
  /** Maximum value size in bytes (default 1 MiB). */
  maxValueBytes: number;
  /** Maximum mutations in one Batch (default 10 000). */
  maxBatchMutations: number;
  /** Scan limit used when a request says 0 (default 1000). */
  defaultScanLimit: number;
  /** Requested scan limits above this are capped to it (default 10 000). */
  maxScanLimit: number;
  /** A Scan response is cut (more=true) once its keys+values reach this many bytes (default 4 MiB). */
  maxScanResponseBytes: number;
  /** grpc max_receive_message_length of the server (default 8 MiB). */
  maxReceiveMessageBytes: number;
  /** Upper bound of a Begin idle_timeout_ms (default 10 min). */
  maxTxnIdleTimeoutMs: number;
  /** Maximum client_id length (default 128). */
  maxClientIdLength: number;
  /** Sub-requests running at once on one BatchStream; more are refused with RESOURCE_EXHAUSTED (default 4096). */
  maxStreamInFlight: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxKeyBytes: 8 * 1024,
  maxValueBytes: 1024 * 1024,
  maxBatchMutations: 10_000,
  defaultScanLimit: 1000,
  maxScanLimit: 10_000,
  maxScanResponseBytes: 4 * 1024 * 1024,
  maxReceiveMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxTxnIdleTimeoutMs: 10 * 60 * 1000,
  maxClientIdLength: 128,
  maxStreamInFlight: 4096,
});

/** Transaction ids are opaque to clients but must look like ids: 1..128 chars of [A-Za-z0-9._:-]. */
export const TXN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const CLIENT_ID_PATTERN = /^[\x21-\x7e]+$/; // printable ASCII without spaces

export class FieldError extends InvalidArgumentError {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

function fail(field: string, message: string): never {
  throw new FieldError(field, message);
}

export function validateKey(key: Buffer | undefined, limits: Limits, field = 'key'): Buffer {
  if (!key || key.length === 0) fail(field, 'must not be empty');
  if (key.length > limits.maxKeyBytes) fail(field, `${key.length} bytes exceeds the limit of ${limits.maxKeyBytes} bytes`);
  return key;
}

export function validateValue(value: Buffer | undefined, limits: Limits, field = 'value'): Buffer {
  const v = value ?? Buffer.alloc(0);
  if (v.length > limits.maxValueBytes) fail(field, `${v.length} bytes exceeds the limit of ${limits.maxValueBytes} bytes`);
  return v;
}

/** Optional bound key (range start/end, prefix): may be empty, bounded by the key limit. */
function validateBound(b: Buffer | undefined, limits: Limits, field: string): Buffer | undefined {
  if (!b || b.length === 0) return undefined;
  if (b.length > limits.maxKeyBytes) fail(field, `${b.length} bytes exceeds the limit of ${limits.maxKeyBytes} bytes`);
  return b;
}

export interface RangeSpec {
  start?: Buffer;
  end?: Buffer;
  prefix?: Buffer;
}

/** start/end/prefix: prefix excludes start/end; start must be <= end when both are set. */
export function validateRange(r: { start?: Buffer; end?: Buffer; prefix?: Buffer }, limits: Limits, opts: { requireBound?: boolean } = {}): RangeSpec {
  const start = validateBound(r.start, limits, 'start');
  const end = validateBound(r.end, limits, 'end');
  const prefix = validateBound(r.prefix, limits, 'prefix');
  if (prefix && (start || end)) fail('prefix', 'cannot be combined with start/end');
  if (start && end && Buffer.compare(start, end) > 0) fail('start', 'must be <= end (malformed range: start > end)');
  if (opts.requireBound && !start && !end && !prefix) {
    fail('start', 'one of start, end or prefix must be set (refusing an unbounded range over the whole key space)');
  }
  const out: RangeSpec = {};
  if (start) out.start = start;
  if (end) out.end = end;
  if (prefix) out.prefix = prefix;
  return out;
}

/** A scan limit: 0 → default, otherwise capped at maxScanLimit. */
export function effectiveScanLimit(limit: number | undefined, limits: Limits): number {
  if (limit === undefined || limit === 0) return Math.min(limits.defaultScanLimit, limits.maxScanLimit);
  if (!Number.isInteger(limit) || limit < 0) fail('limit', `must be a non-negative integer, got ${limit}`);
  return Math.min(limit, limits.maxScanLimit);
}

export function validateTxnId(txnId: string | undefined, field = 'txn_id'): string | undefined {
  if (txnId === undefined || txnId === '') return undefined;
  if (!TXN_ID_PATTERN.test(txnId)) fail(field, `malformed transaction id (expected 1..128 characters of [A-Za-z0-9._:-])`);
  return txnId;
}

export function requireTxnId(txnId: string | undefined): string {
  const id = validateTxnId(txnId);
  if (!id) fail('txn_id', 'must not be empty');
  return id;
}

export function validateTimestamp(ts: number | undefined, field: string): number | undefined {
  if (ts === undefined || ts === 0) return undefined;
  if (!Number.isSafeInteger(ts) || ts < 0) fail(field, `must be a non-negative integer below 2^53, got ${ts}`);
  return ts;
}

export interface WireHeader {
  clientId?: string;
  seq?: number;
  firstUnacked?: number;
}

/**
 * The exactly-once session of a request header, or undefined when the client did not ask for
 * deduplication (empty client_id or seq 0).
 */
export function sessionOf(header: WireHeader | null | undefined, limits: Limits): Session | undefined {
  if (!header) return undefined;
  const clientId = header.clientId ?? '';
  const seq = header.seq ?? 0;
  const firstUnacked = header.firstUnacked ?? 0;
  if (clientId.length > limits.maxClientIdLength) fail('header.client_id', `${clientId.length} characters exceeds the limit of ${limits.maxClientIdLength}`);
  if (clientId && !CLIENT_ID_PATTERN.test(clientId)) fail('header.client_id', 'must be printable ASCII without spaces');
  if (!Number.isSafeInteger(seq) || seq < 0) fail('header.seq', `must be a non-negative integer below 2^53, got ${seq}`);
  if (!Number.isSafeInteger(firstUnacked) || firstUnacked < 0) fail('header.first_unacked', `must be a non-negative integer below 2^53, got ${firstUnacked}`);
  if (seq > 0 && !clientId) fail('header.client_id', 'must be set when header.seq is set');
  if (!clientId || seq === 0) {
    if (firstUnacked > 0) fail('header.first_unacked', 'requires header.client_id and header.seq');
    return undefined;
  }
  if (firstUnacked > seq) fail('header.first_unacked', `(${firstUnacked}) must be <= header.seq (${seq})`);
  return { clientId, seq, firstUnacked };
}

export interface WireMutation {
  op?: string | number;
  key?: Buffer;
  value?: Buffer;
}

/** A Batch's mutations, or (field 'writes') the writes a transaction's commit carries. */
export function validateMutations(mutations: WireMutation[] | undefined, limits: Limits, field = 'mutations'): Mutation[] {
  const ms = mutations ?? [];
  if (ms.length === 0) fail(field, 'must contain at least 1 mutation');
  if (ms.length > limits.maxBatchMutations) fail(field, `${ms.length} mutations exceeds the limit of ${limits.maxBatchMutations} per ${field === 'mutations' ? 'batch' : 'request'}`);
  return ms.map((m, i): Mutation => {
    const key = validateKey(m.key, limits, `${field}[${i}].key`);
    if (m.op === 'PUT' || m.op === 0) return { op: 'put', key, value: validateValue(m.value, limits, `${field}[${i}].value`) };
    if (m.op === 'DELETE' || m.op === 1) {
      if (m.value && m.value.length > 0) fail(`${field}[${i}].value`, 'must be empty for a DELETE');
      return { op: 'delete', key };
    }
    return fail(`${field}[${i}].op`, `unknown operation ${JSON.stringify(m.op)} (expected PUT or DELETE)`);
  });
}

/** Keys a transaction's commit reports as read outside it (CommitRequest.read_keys); none = undefined. */
export function validateReadKeys(keys: Buffer[] | undefined, limits: Limits): Buffer[] | undefined {
  if (keys === undefined || keys.length === 0) return undefined;
  if (keys.length > limits.maxBatchMutations) fail('read_keys', `${keys.length} keys exceeds the limit of ${limits.maxBatchMutations} per request`);
  return keys.map((k, i) => validateKey(k, limits, `read_keys[${i}]`));
}

/** A transaction's causality token (BeginRequest.min_start_ts); 0 = none. */
export function validateMinStartTs(ts: number | undefined): number | undefined {
  if (ts === undefined || ts === 0) return undefined;
  if (!Number.isSafeInteger(ts) || ts < 0) fail('min_start_ts', `must be a non-negative integer, got ${ts}`);
  return ts;
}

export function validateIdleTimeout(ms: number | undefined, limits: Limits): number | undefined {
  if (ms === undefined || ms === 0) return undefined;
  if (!Number.isInteger(ms) || ms < 0) fail('idle_timeout_ms', `must be a non-negative integer, got ${ms}`);
  if (ms > limits.maxTxnIdleTimeoutMs) fail('idle_timeout_ms', `${ms} ms exceeds the limit of ${limits.maxTxnIdleTimeoutMs} ms`);
  return ms;
}

/** Merges overrides onto the defaults and checks the limits are coherent. */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const l: Limits = { ...DEFAULT_LIMITS };
  if (overrides.defaultScanLimit === undefined && overrides.maxScanLimit !== undefined) {
    l.defaultScanLimit = Math.min(l.defaultScanLimit, overrides.maxScanLimit);
  }
  for (const [k, v] of Object.entries(overrides) as [keyof Limits, number | undefined][]) {
    if (v !== undefined) l[k] = v;
  }
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`limit ${k} must be a positive integer, got ${v}`);
  }
  if (l.defaultScanLimit > l.maxScanLimit) throw new RangeError(`defaultScanLimit (${l.defaultScanLimit}) must be <= maxScanLimit (${l.maxScanLimit})`);
  // A put of the largest key and value must fit one Raft entry (common/raft-limits.ts), not just one request.
  if (l.maxValueBytes + l.maxKeyBytes + 1024 + RAFT_FRAME_RESERVE_BYTES > l.maxReceiveMessageBytes) {
    throw new RangeError(
      `maxReceiveMessageBytes (${l.maxReceiveMessageBytes}) must exceed maxKeyBytes + maxValueBytes + 1 KiB + the Raft framing reserve of ${RAFT_FRAME_RESERVE_BYTES} (${l.maxKeyBytes + l.maxValueBytes + 1024 + RAFT_FRAME_RESERVE_BYTES})`,
    );
  }
  return l;
}
