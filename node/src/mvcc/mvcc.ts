// Multi-version storage over two key spaces (see keyspace.ts):
//   history 'z'|enc(k)|^ts → type | value     every version, newest first per key
//   latest  'l'|k          → ts | type | value the newest version of k (same batch as its history entry)
// Type byte: 0x00 = put, 0x01 = tombstone (delete). Room for more (e.g. Percolator locks).
//
// Reads at the current snapshot (the common case) use the latest record: one engine read per point get,
// one entry per key for scans. A key whose latest version is newer than the read ts falls back to the
// history (a seek to 'z'|enc(k)|^readTs). Versions are immutable and GC never removes a version some
// reader at ts >= safe point can see, so combining a latest-record iterator with later history lookups
// gives a consistent snapshot at readTs.
//
// Invariant (maintained by the state machine and GC): for every key having a version newer than the GC
// safe point, or whose newest version is a value, the latest record exists and names the newest version.
// GC removes a latest record only when it is a tombstone at or below the safe point, and does so
// exclusively with respect to applies (see gc.ts).
import type { Engine, EngineEntry, EngineOp, EngineSnapshot } from '../engine/engine.js';
import type { KeyValue } from '../kv/api.js';
import { readU64BE, writeU64BE } from './codec.js';
import { dataKey, dataKeyPrefixEnd, dataKeyTs, latestKey, latestRange } from './keyspace.js';

export const VALUE_PUT = 0x00;
export const VALUE_TOMBSTONE = 0x01;
export const TOMBSTONE_VALUE: Buffer = Buffer.from([VALUE_TOMBSTONE]);

export function encodePutValue(value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(value.length + 1);
  out[0] = VALUE_PUT;
  out.set(value, 1);
  return out;
}

export function isTombstone(raw: Buffer): boolean {
  return raw[0] === VALUE_TOMBSTONE;
}

/** The user value of an engine value of a put (a view, no copy). */
export function userValue(raw: Buffer): Buffer {
  return raw.subarray(1);
}

const EMPTY = Buffer.alloc(0);
const LATEST_HEADER = 9;

/**
 * The two engine writes of one version: its history entry and the latest record. `value` null = a
 * tombstone. Both values share one allocation.
 */
export function versionOps(key: Buffer, ts: number, value: Buffer | null): [EngineOp, EngineOp] {
  const len = value === null ? 0 : value.length;
  const lv = Buffer.allocUnsafe(LATEST_HEADER + len);
  writeU64BE(lv, 0, ts);
  lv[8] = value === null ? VALUE_TOMBSTONE : VALUE_PUT;
  if (value !== null) value.copy(lv, LATEST_HEADER);
  return [
    { type: 'put', key: dataKey(key, ts), value: lv.subarray(8) },
    { type: 'put', key: latestKey(key), value: lv },
  ];
}

export interface Versioned {
  ts: number;
  /** null for a tombstone. */
  value: Buffer | null;
}

export function decodeLatest(raw: Buffer): Versioned {
  return { ts: readU64BE(raw, 0), value: raw[8] === VALUE_TOMBSTONE ? null : raw.subarray(LATEST_HEADER) };
}

/** Newest history version of `key` with ts <= readTs (tombstones included). */
export async function historyGetVersion(engine: Engine, key: Buffer, readTs: number, snapshot?: EngineSnapshot): Promise<Versioned | undefined> {
  const seek = dataKey(key, readTs);
  const it = engine.iterator({ gte: seek, lt: dataKeyPrefixEnd(seek.subarray(0, seek.length - 8)), limit: 1, snapshot });
  let e: EngineEntry | undefined;
  try {
    e = await it.next();
  } finally {
    // Not awaited: saves a thread-pool round trip; the engine waits for open iterators on close.
    it.close().catch(() => undefined);
  }
  if (e === undefined) return undefined;
  return { ts: dataKeyTs(e[0]), value: isTombstone(e[1]) ? null : userValue(e[1]) };
}

/** The newest version of `key` (tombstones included), or undefined. */
export async function mvccLatest(engine: Engine, key: Buffer, snapshot?: EngineSnapshot): Promise<Versioned | undefined> {
  const raw = await engine.get(latestKey(key), snapshot === undefined ? undefined : { snapshot });
  return raw === undefined ? undefined : decodeLatest(raw);
}

/** The newest version of `key` with ts <= readTs (tombstones included), or undefined. */
export async function mvccGetVersion(engine: Engine, key: Buffer, readTs: number, snapshot?: EngineSnapshot): Promise<Versioned | undefined> {
  const latest = await mvccLatest(engine, key, snapshot);
  if (latest === undefined || latest.ts <= readTs) return latest;
  return historyGetVersion(engine, key, readTs, snapshot);
}

/** Value visible at readTs (tombstone = absent). */
export async function mvccGet(engine: Engine, key: Buffer, readTs: number, snapshot?: EngineSnapshot): Promise<{ value: Buffer; version: number } | undefined> {
  const v = await mvccGetVersion(engine, key, readTs, snapshot);
  if (v === undefined || v.value === null) return undefined;
  return { value: v.value, version: v.ts };
}

export interface MvccScanOptions {
  /** Inclusive user-key start (undefined/empty = from the beginning). */
  start?: Buffer;
  /** Exclusive user-key end (undefined/empty = to the end). */
  end?: Buffer;
  readTs: number;
  /** Maximum number of keys returned (> 0). */
  limit: number;
  reverse?: boolean;
  keysOnly?: boolean;
  snapshot?: EngineSnapshot;
}

export interface MvccScanResult {
  kvs: KeyValue[];
  /** True when more visible keys exist after the last returned one. */
  more: boolean;
  /** With `more`: the first visible key not returned (what `more` depends on). */
  nextKey?: Buffer;
}

/** Visible key/values in a user-key range at readTs, forward or reverse, at most `limit`. */
export async function mvccScan(engine: Engine, opts: MvccScanOptions): Promise<MvccScanResult> {
  const { start, end } = latestRange(opts.start, opts.end);
  // Created synchronously: the iterator's implicit snapshot is taken before any await.
  const it = engine.iterator({ gte: start, lt: end, reverse: opts.reverse === true, snapshot: opts.snapshot });
  const kvs: KeyValue[] = [];
  const { limit, readTs } = opts;
  const keysOnly = opts.keysOnly === true;
  let more = false;
  let nextKey: Buffer | undefined;
  let chunk = Math.min(limit + 1, 1024);
  try {
    outer: for (;;) {
      const batch = await it.nextBatch(chunk);
      if (batch.length === 0) break;
      chunk = Math.min(chunk * 2, 4096);
      for (let i = 0; i < batch.length; i++) {
        const [k, raw] = batch[i]!;
        let ts = readU64BE(raw, 0);
        let value: Buffer | null;
        if (ts <= readTs) {
          if (raw[8] === VALUE_TOMBSTONE) continue;
          value = raw.subarray(LATEST_HEADER);
        } else {
          // Written after the snapshot: find the version visible at readTs in the history.
          const userKey = k.subarray(1);
          const v = await historyGetVersion(engine, userKey, readTs, opts.snapshot);
          if (v === undefined || v.value === null) continue;
          ts = v.ts;
          value = v.value;
        }
        if (kvs.length === limit) {
          more = true;
          nextKey = k.subarray(1);
          break outer;
        }
        kvs.push({ key: k.subarray(1), value: keysOnly ? EMPTY : value, version: ts });
      }
    }
  } finally {
    it.close().catch(() => undefined);
  }
  return more ? { kvs, more, nextKey } : { kvs, more };
}

/**
 * The first (in key order) user key in [start, end) whose newest version is newer than `ts`
 * (tombstones count), with that version; undefined when there is none. Transaction validation.
 */
export async function mvccFindNewer(engine: Engine, startKey: Buffer | undefined, endKey: Buffer | undefined, ts: number): Promise<{ key: Buffer; ts: number } | undefined> {
  const { start, end } = latestRange(startKey, endKey);
  const it = engine.iterator({ gte: start, lt: end });
  try {
    let chunk = 64;
    for (;;) {
      const batch = await it.nextBatch(chunk);
      if (batch.length === 0) return undefined;
      chunk = Math.min(chunk * 2, 4096);
      for (let i = 0; i < batch.length; i++) {
        const [k, raw] = batch[i]!;
        const vts = readU64BE(raw, 0);
        if (vts > ts) return { key: k.subarray(1), ts: vts };
      }
    }
  } finally {
    it.close().catch(() => undefined);
  }
}
