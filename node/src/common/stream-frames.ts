// Wire codec of the BatchStream envelope (proto/kv.proto: BatchStreamRequest / StreamSubRequest,
// BatchStreamResponse / StreamSubResponse / StreamError), shared by server and client.
// Only the envelope is encoded here; the embedded request/response messages are encoded and decoded by
// the very serializers grpc-js uses for the unary methods, so a sub-request reaches the handler as the
// same object a unary call would. Writing the envelope by hand gives exact sizes (frames are split by
// size), lets the server recover the request_id of a sub-request whose body is malformed, and
// concatenates already-encoded sub-messages without re-encoding them.
import type { WireError } from './wire-errors.js';

/** The unary Kv methods a BatchStream carries, with the oneof field number shared by request and response. */
export const STREAM_METHOD_FIELDS = {
  Get: 10,
  Put: 11,
  Delete: 12,
  DeleteRange: 13,
  Scan: 14,
  Batch: 15,
  Begin: 16,
  Commit: 17,
  Rollback: 18,
  Status: 19,
} as const;

export type StreamMethod = keyof typeof STREAM_METHOD_FIELDS;

const METHOD_OF_FIELD: Array<StreamMethod | undefined> = [];
for (const [m, f] of Object.entries(STREAM_METHOD_FIELDS)) METHOD_OF_FIELD[f] = m as StreamMethod;

const ERROR_FIELD = 30;
/** Frame field 1: repeated sub-request / sub-response. */
const TAG_ITEM = (1 << 3) | 2;
const TAG_ID = (1 << 3) | 0;
const TAG_TIMEOUT = (2 << 3) | 0;
const TAG_MAX_FRAME = (2 << 3) | 0;

/** A frame or sub-message that cannot be parsed. */
export class FrameDecodeError extends Error {
  override name = 'FrameDecodeError';
}

// ---------------------------------------------------------------- varints (uint64 kept below 2^53)

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, off: number, v: number): number {
  while (v >= 128) {
    buf[off++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[off++] = v;
  return off;
}

/** Cursor over a buffer; every read checks bounds and throws FrameDecodeError. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new FrameDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) throw new FrameDecodeError('integer above 2^53');
        return v;
      }
      mul *= 128;
    }
    throw new FrameDecodeError('varint longer than 10 bytes');
  }

  /** Start/end of a length-delimited field's payload. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new FrameDecodeError('length-delimited field runs past the end');
    this.pos = start + len;
    return [start, start + len];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new FrameDecodeError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new FrameDecodeError('truncated fixed-size field');
    this.pos += n;
  }
}

// ---------------------------------------------------------------- request frames

/**
 * One sub-request, already wrapped as a frame item (tag + length + StreamSubRequest): frames are plain
 * concatenations of items, so the client encodes each request once and splits frames by size.
 */
export function encodeRequestItem(requestId: number, timeoutMs: number, method: StreamMethod, body: Uint8Array): Buffer {
  return encodeItem(requestId, timeoutMs, STREAM_METHOD_FIELDS[method], body);
}

/**
 * A frame item: TAG_ITEM + length + {request_id, timeout_ms (omitted when 0), body as length-delimited
 * field `field`}. StreamSubRequest and StreamSubResponse share this layout (a response has no timeout).
 */
function encodeItem(requestId: number, timeoutMs: number, field: number, body: Uint8Array): Buffer {
  const tag = (field << 3) | 2;
  const subLen = 1 + varintSize(requestId) + (timeoutMs > 0 ? 1 + varintSize(timeoutMs) : 0) + varintSize(tag) + varintSize(body.length) + body.length;
  const buf = Buffer.allocUnsafe(1 + varintSize(subLen) + subLen);
  let o = 0;
  buf[o++] = TAG_ITEM;
  o = writeVarint(buf, o, subLen);
  buf[o++] = TAG_ID;
  o = writeVarint(buf, o, requestId);
  if (timeoutMs > 0) {
    buf[o++] = TAG_TIMEOUT;
    o = writeVarint(buf, o, timeoutMs);
  }
  o = writeVarint(buf, o, tag);
  o = writeVarint(buf, o, body.length);
  buf.set(body, o);
  return buf;
}

export type DecodedSubRequest =
  | { requestId: number; timeoutMs: number; method: StreamMethod; body: Buffer; error?: undefined }
  /** The sub-request could not be understood; `error` says why (answered INVALID_ARGUMENT). */
  | { requestId: number; timeoutMs: number; method?: undefined; body?: undefined; error: string };

/**
 * Splits a BatchStreamRequest into sub-requests. Throws FrameDecodeError when the frame itself is
 * unparseable (nothing of it is then dispatched); a broken sub-request only yields an error entry
 * (its request_id when it could be read, else 0).
 */
export function decodeRequestFrame(frame: Buffer): DecodedSubRequest[] {
  const r = new Reader(frame, 0, frame.length);
  const items: Array<[number, number]> = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === TAG_ITEM) items.push(r.bytes());
    else r.skip(tag & 7); // unknown fields: newer clients may add some
  }
  const out: DecodedSubRequest[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = decodeSubRequest(frame, items[i]![0], items[i]![1]);
  return out;
}

function decodeSubRequest(buf: Buffer, start: number, end: number): DecodedSubRequest {
  const r = new Reader(buf, start, end);
  let requestId = 0;
  let timeoutMs = 0;
  let method: StreamMethod | undefined;
  let body: Buffer | undefined;
  try {
    while (r.pos < r.end) {
      const tag = r.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 1 && wire === 0) requestId = r.varint();
      else if (field === 2 && wire === 0) timeoutMs = r.varint();
      else if (wire === 2 && METHOD_OF_FIELD[field]) {
        const [s, e] = r.bytes();
        method = METHOD_OF_FIELD[field];
        body = buf.subarray(s, e);
      } else r.skip(wire);
    }
  } catch (err) {
    return { requestId, timeoutMs, error: `malformed sub-request (${(err as Error).message})` };
  }
  if (!method || !body) return { requestId, timeoutMs, error: 'sub-request without a request (unknown or missing method)' };
  if (timeoutMs > 0xffffffff) return { requestId, timeoutMs: 0, error: 'timeout_ms out of range' };
  return { requestId, timeoutMs, method, body };
}

// ---------------------------------------------------------------- response frames

/** A successful sub-response as a frame item. */
export function encodeResponseItem(requestId: number, method: StreamMethod, body: Uint8Array): Buffer {
  return encodeItem(requestId, 0, STREAM_METHOD_FIELDS[method], body);
}

/** A failed sub-response as a frame item. */
export function encodeErrorItem(requestId: number, e: WireError): Buffer {
  return encodeItem(requestId, 0, ERROR_FIELD, encodeStreamError(e));
}

/** BatchStreamResponse.max_request_frame_bytes, prepended to the first frame of a stream. */
export function encodeMaxFrameField(maxRequestFrameBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(1 + varintSize(maxRequestFrameBytes));
  buf[0] = TAG_MAX_FRAME;
  writeVarint(buf, 1, maxRequestFrameBytes);
  return buf;
}

export type DecodedSubResponse =
  | { requestId: number; method: StreamMethod; body: Buffer; error?: undefined }
  | { requestId: number; method?: undefined; body?: undefined; error: WireError };

export interface DecodedResponseFrame {
  responses: DecodedSubResponse[];
  /** max_request_frame_bytes when the frame carries it, else 0. */
  maxRequestFrameBytes: number;
}

/** Parses a BatchStreamResponse; throws FrameDecodeError when it is malformed. */
export function decodeResponseFrame(frame: Buffer): DecodedResponseFrame {
  const r = new Reader(frame, 0, frame.length);
  const responses: DecodedSubResponse[] = [];
  let maxRequestFrameBytes = 0;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === TAG_ITEM) {
      const [s, e] = r.bytes();
      responses.push(decodeSubResponse(frame, s, e));
    } else if (tag === TAG_MAX_FRAME) maxRequestFrameBytes = r.varint();
    else r.skip(tag & 7);
  }
  return { responses, maxRequestFrameBytes };
}

function decodeSubResponse(buf: Buffer, start: number, end: number): DecodedSubResponse {
  const r = new Reader(buf, start, end);
  let requestId = 0;
  let method: StreamMethod | undefined;
  let body: Buffer | undefined;
  let error: WireError | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === 0) requestId = r.varint();
    else if (wire === 2 && field === ERROR_FIELD) {
      const [s, e] = r.bytes();
      error = decodeStreamError(buf, s, e);
      method = undefined;
    } else if (wire === 2 && METHOD_OF_FIELD[field]) {
      const [s, e] = r.bytes();
      method = METHOD_OF_FIELD[field];
      body = buf.subarray(s, e);
      error = undefined;
    } else r.skip(wire);
  }
  if (error) return { requestId, error };
  if (!method || !body) throw new FrameDecodeError(`sub-response ${requestId} carries neither a response nor an error`);
  return { requestId, method, body };
}

// ---------------------------------------------------------------- StreamError

const E_CODE = 1;
const E_MESSAGE = 2;
const E_ERROR_CODE = 3;
const E_FIELD = 4;
const E_CONFLICT_KEY = 5;
const E_CONFLICT_TS = 6;
const E_TXN_ID = 7;
const E_SAFE_POINT = 8;
const E_LEADER = 9;
const E_LEADER_ID = 10;
const E_RANGE_ID = 11;

export function encodeStreamError(e: WireError): Buffer {
  const parts: Array<[number, number | Buffer]> = [[E_CODE, e.code]];
  const str = (field: number, s: string | undefined) => {
    if (s) parts.push([field, Buffer.from(s, 'utf8')]);
  };
  const num = (field: number, n: number | undefined) => {
    if (n !== undefined && n > 0) parts.push([field, n]);
  };
  str(E_MESSAGE, e.message);
  str(E_ERROR_CODE, e.errorCode);
  str(E_FIELD, e.field);
  if (e.conflictKey) parts.push([E_CONFLICT_KEY, e.conflictKey]);
  num(E_CONFLICT_TS, e.conflictTs);
  str(E_TXN_ID, e.txnId);
  num(E_SAFE_POINT, e.safePoint);
  str(E_LEADER, e.leader);
  num(E_LEADER_ID, e.leaderId);
  num(E_RANGE_ID, e.rangeId);
  let size = 0;
  for (const [f, v] of parts) size += typeof v === 'number' ? varintSize(f << 3) + varintSize(v) : varintSize((f << 3) | 2) + varintSize(v.length) + v.length;
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  for (const [f, v] of parts) {
    if (typeof v === 'number') {
      o = writeVarint(buf, o, f << 3);
      o = writeVarint(buf, o, v);
    } else {
      o = writeVarint(buf, o, (f << 3) | 2);
      o = writeVarint(buf, o, v.length);
      v.copy(buf, o);
      o += v.length;
    }
  }
  return buf;
}

function decodeStreamError(buf: Buffer, start: number, end: number): WireError {
  const r = new Reader(buf, start, end);
  const e: WireError = { code: 2 /* UNKNOWN until the field says */, message: '' };
  const text = (): string => {
    const [s, t] = r.bytes();
    return buf.toString('utf8', s, t);
  };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = r.varint();
      if (field === E_CODE) e.code = v;
      else if (field === E_CONFLICT_TS) e.conflictTs = v;
      else if (field === E_SAFE_POINT) e.safePoint = v;
      else if (field === E_LEADER_ID) e.leaderId = v;
      else if (field === E_RANGE_ID) e.rangeId = v;
    } else if (wire === 2) {
      if (field === E_MESSAGE) e.message = text();
      else if (field === E_ERROR_CODE) e.errorCode = text();
      else if (field === E_FIELD) e.field = text();
      else if (field === E_TXN_ID) e.txnId = text();
      else if (field === E_LEADER) e.leader = text();
      else if (field === E_CONFLICT_KEY) {
        const [s, t] = r.bytes();
        e.conflictKey = Buffer.from(buf.subarray(s, t));
      } else r.skip(wire);
    } else r.skip(wire);
  }
  return e;
}
