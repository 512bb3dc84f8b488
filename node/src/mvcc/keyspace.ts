// Engine key layout. Four disjoint key spaces:
//
//   data     'z' | memcomparable(userKey) | ^version (8 bytes, big-endian, bitwise inverted: newest first)
//            → type byte | value                                  — every version (the history)
//   latest   'l' | userKey → version (u64 BE) | type byte | value — the newest version of each key
//            (a read-optimised copy written in the same batch as the data version: reads and scans at
//            the current snapshot touch one entry per key instead of walking version chains)
//   meta     0x01 0x01 | groupId (u64 BE) | name                  — applied ts/index, safe point, ...
//   session  0x01 0x02 | groupId (u64 BE) | len(u16 BE) | clientId (utf8) [ | seq (u64 BE) ]
//            (without seq: the session header; with seq: a stored command result)
//
// Data keys are global (like TiKV's 'z' prefix): a range split later does not move data. Local keys
// (meta, sessions) belong to one replication group (`groupId`, 0 for the single-node store), because each
// Raft group has its own applied state and its own session table.
import { encodeBytesInto, encodedLength, readInvertedU64BE, skipBytes, writeInvertedU64BE, writeU64BE, decodeBytes } from './codec.js';

export const DATA_PREFIX = 0x7a; // 'z'
export const LOCAL_PREFIX = 0x01;
export const META_KIND = 0x01;
export const SESSION_KIND = 0x02;

export const LATEST_PREFIX = 0x6c; // 'l'
export const LATEST_START = Buffer.from([LATEST_PREFIX]);
export const LATEST_END = Buffer.from([LATEST_PREFIX + 1]);

/** 'l' | userKey */
export function latestKey(userKey: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + userKey.length);
  out[0] = LATEST_PREFIX;
  out.set(userKey, 1);
  return out;
}

/** Engine range of the latest records of user keys in [userStart, userEnd) (empty/undefined = unbounded). */
export function latestRange(userStart?: Buffer, userEnd?: Buffer): { start: Buffer; end: Buffer } {
  return {
    start: userStart !== undefined && userStart.length > 0 ? latestKey(userStart) : LATEST_START,
    end: userEnd !== undefined && userEnd.length > 0 ? latestKey(userEnd) : LATEST_END,
  };
}

export const DATA_START = Buffer.from([DATA_PREFIX]);
export const DATA_END = Buffer.from([DATA_PREFIX + 1]);

/** Largest timestamp/version (keeps every ts a safe JS integer). */
export const MAX_TS = Number.MAX_SAFE_INTEGER;

/** 'z' | enc(userKey) | ^ts */
export function dataKey(userKey: Uint8Array, ts: number): Buffer {
  const encLen = encodedLength(userKey.length);
  const out = Buffer.allocUnsafe(1 + encLen + 8);
  out[0] = DATA_PREFIX;
  encodeBytesInto(userKey, out, 1);
  writeInvertedU64BE(out, 1 + encLen, ts);
  return out;
}

/** 'z' | enc(userKey): the smallest engine key of any version of userKey (and a range bound). */
export function dataKeyPrefix(userKey: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + encodedLength(userKey.length));
  out[0] = DATA_PREFIX;
  encodeBytesInto(userKey, out, 1);
  return out;
}

/**
 * The smallest engine key above every version of the user key whose data key prefix is `prefix`
 * (`'z' | enc(k)`): the last byte of enc(k) is a final-group marker <= 0xfe, so incrementing it is safe.
 */
export function dataKeyPrefixEnd(prefix: Buffer): Buffer {
  const out = Buffer.from(prefix);
  out[out.length - 1] = out[out.length - 1]! + 1;
  return out;
}

/** The version of a data key. */
export function dataKeyTs(key: Buffer): number {
  return readInvertedU64BE(key, key.length - 8);
}

/** The user-key part 'z' | enc(k) of a data key, as a view (no copy). */
export function dataKeyUserPart(key: Buffer): Buffer {
  return key.subarray(0, key.length - 8);
}

export function decodeDataKey(key: Buffer): { userKey: Buffer; ts: number } {
  if (key[0] !== DATA_PREFIX) throw new Error('not a data key');
  const { key: userKey, next } = decodeBytes(key, 1);
  if (next + 8 !== key.length) throw new Error('malformed data key');
  return { userKey, ts: readInvertedU64BE(key, next) };
}

/** Decodes the user key of a data key (allocates). */
export function dataKeyUserKey(key: Buffer): Buffer {
  return decodeBytes(key, 1).key;
}

/** Checks that a buffer is a well-formed data key (tests/debugging). */
export function isDataKey(key: Buffer): boolean {
  if (key[0] !== DATA_PREFIX) return false;
  try {
    return skipBytes(key, 1) + 8 === key.length;
  } catch {
    return false;
  }
}

/**
 * Engine range [start, end) holding every version of every user key in [userStart, userEnd)
 * (undefined/empty bounds = unbounded).
 */
export function dataRange(userStart?: Buffer, userEnd?: Buffer): { start: Buffer; end: Buffer } {
  return {
    start: userStart !== undefined && userStart.length > 0 ? dataKeyPrefix(userStart) : DATA_START,
    end: userEnd !== undefined && userEnd.length > 0 ? dataKeyPrefix(userEnd) : DATA_END,
  };
}

function localPrefix(kind: number, groupId: number): Buffer {
  const out = Buffer.allocUnsafe(10);
  out[0] = LOCAL_PREFIX;
  out[1] = kind;
  writeU64BE(out, 2, groupId);
  return out;
}

export function metaKey(groupId: number, name: string): Buffer {
  return Buffer.concat([localPrefix(META_KIND, groupId), Buffer.from(name, 'utf8')]);
}

/** Every meta key of a group (metaKey(groupId, *)). */
export function metaSpace(groupId: number): { start: Buffer; end: Buffer } {
  return { start: localPrefix(META_KIND, groupId), end: localPrefix(META_KIND, groupId + 1) };
}

export function sessionSpace(groupId: number): { start: Buffer; end: Buffer } {
  const start = localPrefix(SESSION_KIND, groupId);
  const end = Buffer.from(start);
  // groupId < 2^53, so the u64 never overflows when incremented.
  writeU64BE(end, 2, groupId + 1);
  return { start, end };
}

export function sessionHeaderKey(groupId: number, clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  if (id.length > 0xffff) throw new Error('client id too long');
  const out = Buffer.allocUnsafe(12 + id.length);
  out[0] = LOCAL_PREFIX;
  out[1] = SESSION_KIND;
  writeU64BE(out, 2, groupId);
  out.writeUInt16BE(id.length, 10);
  id.copy(out, 12);
  return out;
}

export function sessionResultKey(groupId: number, clientId: string, seq: number): Buffer {
  const h = sessionHeaderKey(groupId, clientId);
  const out = Buffer.allocUnsafe(h.length + 8);
  h.copy(out, 0);
  writeU64BE(out, h.length, seq);
  return out;
}

/** Parses a session-space key: header (seq undefined) or result. */
export function parseSessionKey(key: Buffer): { clientId: string; seq: number | undefined } {
  const len = key.readUInt16BE(10);
  const clientId = key.toString('utf8', 12, 12 + len);
  if (key.length === 12 + len) return { clientId, seq: undefined };
  if (key.length !== 12 + len + 8) throw new Error('malformed session key');
  return { clientId, seq: key.readUInt32BE(12 + len) * 0x1_0000_0000 + key.readUInt32BE(12 + len + 4) };
}
