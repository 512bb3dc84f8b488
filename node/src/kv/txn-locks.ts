// The lock table of one range (cross-range transactions, docs/ARCHITECTURE.md "Transactions across
// ranges"). Pure in-memory index + record codecs; the state machine keeps it in step with the engine.
//
// A prepared transaction holds, in every range it touches:
//   * a WRITE lock per written key (the mutation travels in the lock: committing writes it at commitTs),
//   * a READ lock per read key it does not write (shared: several transactions may hold one),
//   * RANGE locks over the spans it scanned (phantoms: no write may land inside until it resolves).
// Write locks block readers at ts >= the lock's prepTs (the commit ts will be >= prepTs) and every
// writer; read and range locks block writers only. The primary range also holds the transaction's
// RECORD once decided (committed at commitTs, or aborted): the single commit point every resolver asks.
//
// Engine layout (key-addressed, so a split moves point locks and records with their keys):
//   't' | memcomparable(userKey) | kind (1 = lock, 2 = record) | txnId (utf8) → encoded lock / record
// Range locks are group-local (metaKey(groupId, 'rangelocks')) and clipped to both halves at a split.
import { inKeyRange } from './key-span.js';
import type { Mutation } from './api.js';
import type { KeyRange } from './commands.js';
import { BinaryReader, BinaryWriter } from './commands.js';
import { decodeBytes, encodeBytesInto, encodedLength } from '../mvcc/codec.js';

export const TXN_PREFIX = 0x74; // 't'
const KIND_LOCK = 1;
const KIND_RECORD = 2;

export interface TxnLock {
  txnId: string;
  key: Buffer;
  /** The key whose range holds the transaction's record (the commit point). */
  primary: Buffer;
  startTs: number;
  /** The version assigned to the prepare command here: the commit ts will be >= it. */
  prepTs: number;
  /** Lifetime in ts units from prepTs: after it, a resolver may abort the transaction. */
  ttlTs: number;
  kind: 'write' | 'read';
  /** Write locks: the mutation applied at commit. */
  mutation?: Mutation;
  /**
   * The primary lock of a STAGING transaction (parallel commits): one key of every other range it
   * prepares, and the session of the commit (its stored result is settled with the outcome).
   */
  staging?: { participants: Buffer[]; session?: { clientId: string; seq: number } };
}

export interface TxnRecord {
  txnId: string;
  primary: Buffer;
  state: 'committed' | 'aborted';
  /** Commit ts (committed), or the ts the abort was decided at. */
  ts: number;
}

export interface RangeLock {
  txnId: string;
  primary: Buffer;
  prepTs: number;
  ttlTs: number;
  start: Buffer;
  end: Buffer;
}

function txnSpaceKey(userKey: Buffer, kind: number, txnId: string): Buffer {
  const id = Buffer.from(txnId, 'utf8');
  const n = encodedLength(userKey.length);
  const out = Buffer.allocUnsafe(1 + n + 1 + id.length);
  out[0] = TXN_PREFIX;
  encodeBytesInto(userKey, out, 1);
  out[1 + n] = kind;
  id.copy(out, 2 + n);
  return out;
}

export function lockKey(userKey: Buffer, txnId: string): Buffer {
  return txnSpaceKey(userKey, KIND_LOCK, txnId);
}
export function recordKey(primary: Buffer, txnId: string): Buffer {
  return txnSpaceKey(primary, KIND_RECORD, txnId);
}

/** Engine span of the txn space for user keys in [start, end) (empty = unbounded). */
export function txnSpan(start?: Buffer, end?: Buffer): { start: Buffer; end: Buffer } {
  const bound = (k: Buffer): Buffer => {
    const out = Buffer.allocUnsafe(1 + encodedLength(k.length));
    out[0] = TXN_PREFIX;
    encodeBytesInto(k, out, 1);
    return out;
  };
  return {
    start: start !== undefined && start.length > 0 ? bound(start) : Buffer.from([TXN_PREFIX]),
    end: end !== undefined && end.length > 0 ? bound(end) : Buffer.from([TXN_PREFIX + 1]),
  };
}

export function parseTxnKey(k: Buffer): { userKey: Buffer; kind: 'lock' | 'record'; txnId: string } {
  const { key, next } = decodeBytes(k, 1);
  const kind = k[next];
  if (kind !== KIND_LOCK && kind !== KIND_RECORD) throw new Error('malformed txn-space key');
  return { userKey: key, kind: kind === KIND_LOCK ? 'lock' : 'record', txnId: k.toString('utf8', next + 1) };
}

const LOCK_FORMAT = 1;
/** A staging primary lock: format 1 plus the participants and the session. */
const LOCK_FORMAT_STAGING = 2;
const RECORD_FORMAT = 1;

export function encodeLock(l: TxnLock): Buffer {
  const w = new BinaryWriter(64 + l.primary.length + (l.mutation?.op === 'put' ? l.mutation.value.length : 0));
  w.u8(l.staging !== undefined ? LOCK_FORMAT_STAGING : LOCK_FORMAT).bytes(l.primary).varint(l.startTs).varint(l.prepTs).varint(l.ttlTs);
  if (l.kind === 'read') w.u8(0);
  else if (l.mutation?.op === 'put') w.u8(1).bytes(l.mutation.value);
  else w.u8(2);
  if (l.staging !== undefined) {
    w.varint(l.staging.participants.length);
    for (const k of l.staging.participants) w.bytes(k);
    const ss = l.staging.session;
    w.u8(ss !== undefined ? 1 : 0);
    if (ss !== undefined) w.string(ss.clientId).varint(ss.seq);
  }
  return w.finish();
}

export function decodeLock(key: Buffer, txnId: string, v: Buffer): TxnLock {
  const r = new BinaryReader(v);
  const format = r.u8();
  if (format !== LOCK_FORMAT && format !== LOCK_FORMAT_STAGING) throw new Error('unknown lock format');
  const primary = r.bytes();
  const startTs = r.varint();
  const prepTs = r.varint();
  const ttlTs = r.varint();
  const t = r.u8();
  const l: TxnLock = { txnId, key, primary, startTs, prepTs, ttlTs, kind: t === 0 ? 'read' : 'write' };
  if (t === 1) l.mutation = { op: 'put', key, value: r.bytes() };
  else if (t === 2) l.mutation = { op: 'delete', key };
  if (format === LOCK_FORMAT_STAGING) {
    const n = r.varint();
    const participants: Buffer[] = [];
    for (let i = 0; i < n; i++) participants.push(r.bytes());
    l.staging = r.u8() === 1 ? { participants, session: { clientId: r.string(), seq: r.varint() } } : { participants };
  }
  r.end();
  return l;
}

export function encodeRecord(rec: TxnRecord): Buffer {
  return new BinaryWriter(16).u8(RECORD_FORMAT).u8(rec.state === 'committed' ? 1 : 2).varint(rec.ts).finish();
}

export function decodeRecord(primary: Buffer, txnId: string, v: Buffer): TxnRecord {
  const r = new BinaryReader(v);
  if (r.u8() !== RECORD_FORMAT) throw new Error('unknown txn record format');
  const s = r.u8();
  const rec: TxnRecord = { txnId, primary, state: s === 1 ? 'committed' : 'aborted', ts: r.varint() };
  r.end();
  return rec;
}

export function encodeRangeLocks(ls: readonly RangeLock[]): Buffer {
  const w = new BinaryWriter(64);
  w.u8(1).varint(ls.length);
  for (const l of ls) w.string(l.txnId).bytes(l.primary).varint(l.prepTs).varint(l.ttlTs).bytes(l.start).bytes(l.end);
  return w.finish();
}

export function decodeRangeLocks(v: Buffer): RangeLock[] {
  const r = new BinaryReader(v);
  if (r.u8() !== 1) throw new Error('unknown range-lock format');
  const n = r.varint();
  const out: RangeLock[] = [];
  for (let i = 0; i < n; i++) out.push({ txnId: r.string(), primary: r.bytes(), prepTs: r.varint(), ttlTs: r.varint(), start: r.bytes(), end: r.bytes() });
  r.end();
  return out;
}

function spansOverlap(a: KeyRange, bStart: Buffer, bEnd: Buffer): boolean {
  const aStart = a.start ?? Buffer.alloc(0);
  const aEnd = a.end ?? Buffer.alloc(0);
  const startsBeforeBEnds = bEnd.length === 0 || Buffer.compare(aStart, bEnd) < 0;
  const bStartsBeforeAEnds = aEnd.length === 0 || Buffer.compare(bStart, aEnd) < 0;
  return startsBeforeBEnds && bStartsBeforeAEnds;
}

/**
 * The in-memory locks and records of one range. Iteration orders are deterministic (insertion order of
 * deterministic apply), so decisions made from it are the same on every replica.
 */
export class LockTable {
  /** userKey (latin1) → locks on it (at most one write lock, or any number of read locks). */
  private readonly byKey = new Map<string, TxnLock[]>();
  /** txnId → its point locks here. */
  private readonly byTxn = new Map<string, TxnLock[]>();
  private rangeLocks: RangeLock[] = [];
  /** txnId → record (primary range only). */
  private readonly records = new Map<string, TxnRecord>();
  /**
   * Locks removed by applied commands whose engine batch may not be readable yet, with the lastTs of
   * that batch: a reader treats them as still held until the host published that ts (a committed
   * version below the published applied ts must not be missed between the lock's removal and the write).
   */
  private retired: Array<{ lock: TxnLock; untilTs: number }> = [];

  get size(): number {
    return this.byTxn.size + this.rangeLocks.length + this.retired.length;
  }
  get lockCount(): number {
    let n = 0;
    for (const ls of this.byTxn.values()) n += ls.length;
    return n;
  }
  get recordCount(): number {
    return this.records.size;
  }

  add(l: TxnLock): void {
    const k = l.key.toString('latin1');
    const at = this.byKey.get(k);
    if (at === undefined) this.byKey.set(k, [l]);
    else at.push(l);
    const t = this.byTxn.get(l.txnId);
    if (t === undefined) this.byTxn.set(l.txnId, [l]);
    else t.push(l);
  }

  addRangeLock(l: RangeLock): void {
    this.rangeLocks.push(l);
  }

  get allRangeLocks(): readonly RangeLock[] {
    return this.rangeLocks;
  }

  setRangeLocks(ls: RangeLock[]): void {
    this.rangeLocks = ls;
  }

  locksOf(txnId: string): readonly TxnLock[] {
    return this.byTxn.get(txnId) ?? [];
  }

  rangeLocksOf(txnId: string): RangeLock[] {
    return this.rangeLocks.filter((l) => l.txnId === txnId);
  }

  holds(txnId: string): boolean {
    return this.byTxn.has(txnId) || this.rangeLocks.some((l) => l.txnId === txnId);
  }

  /** Every point lock (diagnostics: kvsctl locks list). */
  allPointLocks(): TxnLock[] {
    const out: TxnLock[] = [];
    for (const ls of this.byTxn.values()) out.push(...ls);
    return out;
  }

  /** The locks a write of `key` would meet: point locks on it and range locks over it. */
  locksOnKey(key: Buffer): Array<TxnLock | RangeLock> {
    return [...(this.byKey.get(key.toString('latin1')) ?? []), ...this.rangeLocks.filter((r) => inKeyRange(key, r.start, r.end))];
  }

  /** Removes every lock of `txnId`; returns the point locks removed (retired until `untilTs` is published). */
  removeTxn(txnId: string, untilTs: number): { point: TxnLock[]; ranges: number } {
    const point = this.byTxn.get(txnId) ?? [];
    this.byTxn.delete(txnId);
    for (const l of point) {
      const k = l.key.toString('latin1');
      const rest = (this.byKey.get(k) ?? []).filter((x) => x.txnId !== txnId);
      if (rest.length === 0) this.byKey.delete(k);
      else this.byKey.set(k, rest);
      if (l.kind === 'write') this.retired.push({ lock: l, untilTs });
    }
    const before = this.rangeLocks.length;
    this.rangeLocks = this.rangeLocks.filter((l) => l.txnId !== txnId);
    return { point, ranges: before - this.rangeLocks.length };
  }

  /** The host published applied ts `ts`: retired locks of batches up to it are gone for readers too. */
  published(ts: number): void {
    if (this.retired.length > 0) this.retired = this.retired.filter((r) => r.untilTs > ts);
  }

  record(txnId: string): TxnRecord | undefined {
    return this.records.get(txnId);
  }
  setRecord(r: TxnRecord): void {
    this.records.set(r.txnId, r);
  }
  deleteRecord(txnId: string): void {
    this.records.delete(txnId);
  }
  /** Records in insertion order (deterministic sweeps). */
  allRecords(): IterableIterator<TxnRecord> {
    return this.records.values();
  }

  /** A lock another transaction holds that a write of `key` must wait for (any kind, or a range lock over it). */
  // The blockers below pick deterministically (smallest key, then smallest txn id): the in-memory order
  // after a restart (engine order) differs from the order locks were taken in, and the refusal they
  // produce is part of the replicated result.
  writeBlocker(key: Buffer, self?: string): TxnLock | RangeLock | undefined {
    let best: TxnLock | undefined;
    for (const l of this.byKey.get(key.toString('latin1')) ?? []) if (l.txnId !== self && (best === undefined || l.txnId < best.txnId)) best = l;
    if (best !== undefined) return best;
    for (const r of this.rangeLocks) if (r.txnId !== self && inKeyRange(key, r.start, r.end)) return r;
    return undefined;
  }

  /** A lock of another transaction blocking a write anywhere in [start, end). */
  spanWriteBlocker(start: Buffer | undefined, end: Buffer | undefined, self?: string): TxnLock | RangeLock | undefined {
    let best: TxnLock | undefined;
    for (const ls of this.byTxn.values()) {
      for (const l of ls) {
        if (l.txnId === self || !inKeyRange(l.key, start, end)) continue;
        const c = best === undefined ? -1 : Buffer.compare(l.key, best.key);
        if (c < 0 || (c === 0 && l.txnId < best!.txnId)) best = l;
      }
    }
    if (best !== undefined) return best;
    for (const r of this.rangeLocks) if (r.txnId !== self && spansOverlap({ start, end }, r.start, r.end)) return r;
    return undefined;
  }

  /** A write lock of another transaction on `key` that a read at `ts` must not pass (apply-time view). */
  readBlocker(key: Buffer, ts: number, self?: string): TxnLock | undefined {
    for (const l of this.byKey.get(key.toString('latin1')) ?? []) if (l.kind === 'write' && l.txnId !== self && l.prepTs <= ts) return l;
    return undefined;
  }

  /** readBlocker, plus write locks removed by batches readers may not see yet (the read path's view). */
  readerBlocker(key: Buffer, ts: number, self?: string): TxnLock | undefined {
    const l = this.readBlocker(key, ts, self);
    if (l !== undefined) return l;
    for (const r of this.retired) if (r.lock.prepTs <= ts && r.lock.txnId !== self && r.lock.key.equals(key)) return r.lock;
    return undefined;
  }

  /**
   * The first (smallest key) write lock in [start, end) that a read at `ts` must not pass; with
   * `retiredToo` (the read path) also those removed by batches readers may not see yet — never at apply,
   * where only replicated state may decide.
   */
  scanBlocker(start: Buffer | undefined, end: Buffer | undefined, ts: number, self?: string, retiredToo = true): TxnLock | undefined {
    let best: TxnLock | undefined;
    const consider = (l: TxnLock): void => {
      if (l.kind !== 'write' || l.txnId === self || l.prepTs > ts || !inKeyRange(l.key, start, end)) return;
      if (best === undefined || Buffer.compare(l.key, best.key) < 0) best = l;
    };
    for (const ls of this.byTxn.values()) for (const l of ls) consider(l);
    if (retiredToo) for (const r of this.retired) consider(r.lock);
    return best;
  }

  /** Drops everything outside [start, end) (the left half after a split; the right half loads its own). */
  retainSpan(start: Buffer, end: Buffer): void {
    for (const [txnId, ls] of [...this.byTxn]) {
      const keep = ls.filter((l) => inKeyRange(l.key, start, end));
      for (const l of ls) if (!inKeyRange(l.key, start, end)) {
        const k = l.key.toString('latin1');
        const rest = (this.byKey.get(k) ?? []).filter((x) => x.txnId !== txnId);
        if (rest.length === 0) this.byKey.delete(k);
        else this.byKey.set(k, rest);
      }
      if (keep.length === 0) this.byTxn.delete(txnId);
      else this.byTxn.set(txnId, keep);
    }
    for (const [id, r] of [...this.records]) if (!inKeyRange(r.primary, start, end)) this.records.delete(id);
    this.retired = this.retired.filter((r) => inKeyRange(r.lock.key, start, end));
  }
}

/** Clips range locks to [start, end) (empty end = unbounded), dropping those outside. */
export function clipRangeLocks(ls: readonly RangeLock[], start: Buffer, end: Buffer): RangeLock[] {
  const out: RangeLock[] = [];
  for (const l of ls) {
    if (!spansOverlap({ start: l.start, end: l.end }, start, end)) continue;
    const s = Buffer.compare(l.start, start) >= 0 ? l.start : start;
    const e = end.length === 0 ? l.end : l.end.length === 0 || Buffer.compare(l.end, end) > 0 ? end : l.end;
    out.push({ ...l, start: s, end: e });
  }
  return out;
}
