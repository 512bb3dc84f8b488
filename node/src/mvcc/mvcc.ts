// Multi-version reads over the data key space. A version's engine value is one type byte followed by
// the user value: 0x00 = put, 0x01 = tombstone (delete). Room for more types (e.g. Percolator locks).
//
// Every read runs on ONE engine iterator, which reads from an implicit engine snapshot taken when the
// iterator is created (synchronously, before the first await): concurrent applies and GC never produce
// a torn view.
import type { Engine, EngineEntry, EngineSnapshot } from '../engine/engine.js';
import type { KeyValue } from '../kv/api.js';
import { dataKey, dataKeyPrefix, dataKeyPrefixEnd, dataKeyTs, dataKeyUserKey, dataRange } from './keyspace.js';

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

/** After this many consecutive skipped versions of one key, a scan seeks past the key instead. */
const SEEK_AFTER_SKIPS = 16;

export interface Versioned {
  ts: number;
  /** null for a tombstone. */
  value: Buffer | null;
}

/** The end bound of the data key range of one user key, derived from its seek key 'z'|enc|^ts. */
function keyEndFromSeek(seekKey: Buffer): Buffer {
  return dataKeyPrefixEnd(seekKey.subarray(0, seekKey.length - 8));
}

/** The newest version of `key` with ts <= readTs (tombstones included), or undefined. */
export async function mvccGetVersion(engine: Engine, key: Buffer, readTs: number, snapshot?: EngineSnapshot): Promise<Versioned | undefined> {
  const seek = dataKey(key, readTs);
  const it = engine.iterator({ gte: seek, lt: keyEndFromSeek(seek), limit: 1, snapshot });
  let e: EngineEntry | undefined;
  try {
    e = await it.next();
  } finally {
    // Not awaited: saves a thread-pool round trip per point read; the engine waits for open iterators
    // on close.
    it.close().catch(() => undefined);
  }
  if (e === undefined) return undefined;
  return { ts: dataKeyTs(e[0]), value: isTombstone(e[1]) ? null : userValue(e[1]) };
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
}

/** Visible key/values in a user-key range at readTs, forward or reverse, at most `limit`. */
export async function mvccScan(engine: Engine, opts: MvccScanOptions): Promise<MvccScanResult> {
  const { start, end } = dataRange(opts.start, opts.end);
  const it = engine.iterator({ gte: start, lt: end, reverse: opts.reverse === true, snapshot: opts.snapshot });
  const kvs: KeyValue[] = [];
  const limit = opts.limit;
  const readTs = opts.readTs;
  const keysOnly = opts.keysOnly === true;
  let more = false;
  let chunk = Math.min(Math.max(limit + 1, 16), 1024);
  try {
    if (!opts.reverse) {
      let done: Buffer | undefined; // user part ('z'|enc) of the key whose visible version was handled
      let skips = 0;
      outer: for (;;) {
        const batch = await it.nextBatch(chunk);
        if (batch.length === 0) break;
        chunk = Math.min(chunk * 2, 4096);
        for (let i = 0; i < batch.length; i++) {
          const [k, v] = batch[i]!;
          const partLen = k.length - 8;
          if (done !== undefined && partLen === done.length && k.compare(done, 0, partLen, 0, partLen) === 0) {
            if (++skips >= SEEK_AFTER_SKIPS) {
              it.seek(dataKeyPrefixEnd(done));
              skips = 0;
              continue outer;
            }
            continue;
          }
          if (dataKeyTs(k) > readTs) continue;
          done = k.subarray(0, partLen);
          skips = 0;
          if (isTombstone(v)) continue;
          if (kvs.length === limit) {
            more = true;
            break outer;
          }
          kvs.push({ key: dataKeyUserKey(k), value: keysOnly ? EMPTY : userValue(v), version: dataKeyTs(k) });
        }
      }
    } else {
      // Reverse order meets a key's versions oldest first: remember the newest one <= readTs and emit it
      // when the key changes.
      let cur: Buffer | undefined; // user part of the key being collected
      let cand: EngineEntry | undefined;
      const flush = (): boolean => {
        if (cand !== undefined && !isTombstone(cand[1])) {
          if (kvs.length === limit) {
            more = true;
            return false;
          }
          const [k, v] = cand;
          kvs.push({ key: dataKeyUserKey(k), value: keysOnly ? EMPTY : userValue(v), version: dataKeyTs(k) });
        }
        cand = undefined;
        return true;
      };
      outer: for (;;) {
        const batch = await it.nextBatch(chunk);
        if (batch.length === 0) break;
        chunk = Math.min(chunk * 2, 4096);
        for (let i = 0; i < batch.length; i++) {
          const e = batch[i]!;
          const k = e[0];
          const partLen = k.length - 8;
          if (cur === undefined || partLen !== cur.length || k.compare(cur, 0, partLen, 0, partLen) !== 0) {
            if (!flush()) break outer;
            cur = k.subarray(0, partLen);
          }
          if (dataKeyTs(k) <= readTs) cand = e;
        }
      }
      if (!more) flush();
    }
  } finally {
    await it.close();
  }
  return { kvs, more };
}

/**
 * The first (in key order) user key in [start, end) having a version newer than `ts` (tombstones count),
 * with that version; undefined when there is none. Used by transaction validation.
 */
export async function mvccFindNewer(engine: Engine, startKey: Buffer | undefined, endKey: Buffer | undefined, ts: number): Promise<{ key: Buffer; ts: number } | undefined> {
  const { start, end } = dataRange(startKey, endKey);
  const it = engine.iterator({ gte: start, lt: end });
  try {
    let chunk = 64;
    let done: Buffer | undefined;
    let skips = 0;
    outer: for (;;) {
      const batch = await it.nextBatch(chunk);
      if (batch.length === 0) return undefined;
      chunk = Math.min(chunk * 2, 4096);
      for (let i = 0; i < batch.length; i++) {
        const k = batch[i]![0];
        const partLen = k.length - 8;
        if (done !== undefined && partLen === done.length && k.compare(done, 0, partLen, 0, partLen) === 0) {
          if (++skips >= SEEK_AFTER_SKIPS) {
            it.seek(dataKeyPrefixEnd(done));
            skips = 0;
            continue outer;
          }
          continue;
        }
        // The first version met of a key is its newest.
        const vts = dataKeyTs(k);
        if (vts > ts) return { key: dataKeyUserKey(k), ts: vts };
        done = k.subarray(0, partLen);
        skips = 0;
      }
    }
  } finally {
    await it.close();
  }
}

/** Newest version of a key regardless of ts (the state machine's "latest committed" read). */
export function mvccLatest(engine: Engine, key: Buffer): Promise<Versioned | undefined> {
  return mvccGetVersion(engine, key, Number.MAX_SAFE_INTEGER);
}

export { dataKeyPrefix };
