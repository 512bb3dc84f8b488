// Cross-range transactions whose coordinator store holds no replica of one of their ranges
// (docs/ARCHITECTURE.md "Transactions across ranges"): the steps on that range travel to a store that
// holds one (Raft service TxnCall, store to store, the peers' mutual TLS), are run there and answered.
//   submit  a transaction command (prepare / commit locks / roll back / check) for the range's log —
//           the remote store proposes it on its replica (Raft forwards it to the leader) and returns the
//           command's result, an error result included;
//   get     a read at a snapshot through the remote store (it raises the range past the snapshot,
//   scan    waits for or resolves locks, exactly as for its own clients);
//   readTs  the remote replica's linearizable read ts (a transaction whose first key is remote);
//   locate  a meta-directory lookup (range-locate.ts) for a store without a replica of the meta range:
//           answered by a store that holds one, refused (RANGE_NOT_FOUND) by one that does not.
// A scan served here reads this store's own replicas only (RangeKvStore.scanHeld): a piece is never
// passed on to a third store, so a stale directory cannot bounce it around.
// Every step is idempotent (prepare by transaction id, commits and rollbacks by the range's locks and
// the primary's record, the primary commit by the client's session), so a call whose answer was lost
// is simply sent again — to another replica's store if the first one is unreachable.
import type { BeginOptions, DeleteResult, GetResult, KeyValue, Mutation, PutOptions, PutResult, ScanOptions, ScanResult } from '../kv/api.js';
import { BinaryReader, BinaryWriter, decodeCommand, decodeResult, encodeCommand, encodeResult, resultError, type Command, type CommandResult, type ErrorResult, type KeyRange } from '../kv/commands.js';
import { InvalidArgumentError, KvError, OutcomeUnknownError, RangeNotFoundError, StorageError } from '../kv/errors.js';
import type { LocalStore } from '../kv/local-store.js';
import { TxnManager } from '../kv/txn-manager.js';
import { TxnSteps, type TxnParticipant } from '../kv/txn-steps.js';
import type { RangeDescriptor } from '../meta/range-descriptor.js';
import type { MvccScanOptions, MvccScanResult } from '../mvcc/mvcc.js';
import { TS_PER_MS } from '../kv/state-machine.js';
import { META_RANGE_ID } from '../kv/meta-state.js';
import { decodeMetaRecord, encodeMetaRecord, type MetaRecord } from '../meta/meta-directory.js';

const K_SUBMIT = 1;
const K_GET = 2;
const K_SCAN = 3;
const K_READ_TS = 4;
const K_LOCATE = 5;

// ------------------------------------------------------------------------------------------ codec

function errorPayload(e: unknown): Buffer {
  const r: ErrorResult =
    e instanceof KvError
      ? { type: 'error', code: e.code, message: e.message }
      : { type: 'error', code: 'STORAGE_ERROR', message: e instanceof Error ? e.message : String(e) };
  const x = e as { key?: unknown; rangeId?: unknown; lock?: unknown };
  if (Buffer.isBuffer(x.key)) r.key = x.key;
  if (typeof x.rangeId === 'number') r.rangeId = x.rangeId;
  if (r.code === 'KEY_LOCKED' && x.lock !== undefined) r.lock = x.lock as ErrorResult['lock'];
  let enc: Buffer;
  try {
    enc = encodeResult(r);
  } catch {
    enc = encodeResult({ type: 'error', code: 'STORAGE_ERROR', message: r.message });
  }
  return new BinaryWriter(enc.length + 8).u8(1).bytes(enc).finish();
}

function throwIfError(r: BinaryReader): void {
  if (r.u8() === 0) return;
  const res = decodeResult(r.bytes());
  if (res.type !== 'error') throw new StorageError('malformed transaction call error');
  throw resultError(res);
}

// ------------------------------------------------------------------------------------------ server

/** What a store needs to serve transaction calls. */
export interface TxnCallHost {
  /** The local replica of `rangeId`. */
  replica(rangeId: number): LocalStore | undefined;
  /** The store's routed reads (they settle locks like any client read; `onLock` hears each lock met). */
  get(key: Buffer, opts: { snapshotTs: number }, onLock?: () => void): Promise<GetResult>;
  scan(opts: ScanOptions, onLock?: () => void): Promise<ScanResult>;
  /**
   * The meta directory's record of the range holding `key` (`before`: the keys just below it). Throws
   * RangeNotFoundError when this store holds no (usable) replica of the meta range.
   */
  locate(key: Buffer, before: boolean): MetaRecord | undefined;
}

/** Serves one TxnCall: never rejects — errors travel back as error results. */
export async function serveTxnCall(host: TxnCallHost, rangeId: number, payload: Buffer): Promise<Buffer> {
  try {
    const r = new BinaryReader(payload);
    const kind = r.u8();
    if (kind === K_SUBMIT) {
      const cmd = decodeCommand(r.bytes());
      const store = host.replica(rangeId);
      if (store === undefined) throw new RangeNotFoundError(rangeId);
      const res = await store.submitTxnStep(cmd);
      const enc = encodeResult(res);
      return new BinaryWriter(enc.length + 8).u8(0).bytes(enc).finish();
    }
    if (kind === K_GET) {
      const key = r.bytes();
      const snapshotTs = r.varint();
      let lockMet = false;
      const g = await host.get(key, { snapshotTs }, () => (lockMet = true));
      const w = new BinaryWriter(64 + (g.value?.length ?? 0)).u8(0).u8(g.found ? 1 : 0);
      // Trailing: whether the read settled a lock (a read-only transaction re-checks; RemoteRange.locksSettled).
      w.bytes(g.value ?? Buffer.alloc(0)).varint(g.version).varint(g.readTs).u8(lockMet ? 1 : 0);
      return w.finish();
    }
    if (kind === K_SCAN) {
      const f = r.u8();
      const start = f & 1 ? r.bytes() : undefined;
      const end = f & 2 ? r.bytes() : undefined;
      const limit = r.varint();
      const snapshotTs = r.varint();
      let lockMet = false;
      const s = await host.scan({ ...(start ? { start } : {}), ...(end ? { end } : {}), limit, snapshotTs, reverse: (f & 4) !== 0, keysOnly: (f & 8) !== 0 }, () => (lockMet = true));
      const w = new BinaryWriter(256).u8(0).varint(s.kvs.length);
      for (const kv of s.kvs) w.bytes(kv.key).bytes(kv.value).varint(kv.version);
      return w.u8(s.more ? 1 : 0).varint(s.readTs).u8(lockMet ? 1 : 0).finish();
    }
    if (kind === K_READ_TS) {
      const store = host.replica(rangeId);
      if (store === undefined) throw new RangeNotFoundError(rangeId);
      return new BinaryWriter(16).u8(0).varint(await store.linearizableReadTs()).finish();
    }
    if (kind === K_LOCATE) {
      const before = r.u8() === 1;
      const rec = host.locate(r.bytes(), before);
      if (rec === undefined) return new BinaryWriter(4).u8(0).u8(0).finish();
      const enc = encodeMetaRecord(rec);
      return new BinaryWriter(enc.length + 8).u8(0).u8(1).bytes(enc).finish();
    }
    throw new InvalidArgumentError(`unknown transaction call ${kind}`);
  } catch (e) {
    return errorPayload(e);
  }
}

// ------------------------------------------------------------------------------------------ client

/** Where a range is, for a coordinator without a replica of it (from the meta directory). */
export interface RemoteRangeInfo {
  descriptor: RangeDescriptor;
  /** Stores holding a replica, the leader's first when known. */
  stores: number[];
}

export type TxnCallFn = (to: number, rangeId: number, payload: Buffer, timeoutMs: number) => Promise<Buffer>;

const CALL_TIMEOUT_MS = 10_000;

/** Whether an answer is the store's "no replica of that range here" (worth asking the next store). */
function notHeldThere(answer: Buffer): boolean {
  if (answer[0] !== 1) return false;
  try {
    const r = new BinaryReader(answer);
    r.u8();
    const res = decodeResult(r.bytes());
    return res.type === 'error' && (res.code === 'RANGE_NOT_FOUND' || res.code === 'KEY_NOT_IN_RANGE');
  } catch {
    return false;
  }
}

/** Transaction calls to one remote range: tries its stores in order until one answers. */
export class RemoteRange {
  readonly participant: TxnParticipant;

  constructor(readonly info: RemoteRangeInfo, private readonly call: TxnCallFn, now: () => number) {
    const rangeId = info.descriptor.rangeId;
    this.participant = new TxnSteps(rangeId, (cmd) => this.submit(cmd), now);
  }

  private async send(payload: Buffer): Promise<BinaryReader> {
    let last: unknown;
    let answer: Buffer | undefined;
    for (const store of this.info.stores) {
      try {
        answer = await this.call(store, this.info.descriptor.rangeId, payload, CALL_TIMEOUT_MS);
      } catch (e) {
        last = e; // unreachable or no answer in time: every step is idempotent, try the next store
        continue;
      }
      // A store that no longer holds the range (moved, or a stale directory): the next one may.
      if (!notHeldThere(answer)) return new BinaryReader(answer);
      last = new Error(`store ${store} holds no replica of range ${this.info.descriptor.rangeId}`);
    }
    if (answer !== undefined) return new BinaryReader(answer);
    throw new OutcomeUnknownError(0, undefined, `no store of range ${this.info.descriptor.rangeId} answered (${last instanceof Error ? last.message : String(last)})`);
  }

  private async submit(cmd: Command): Promise<CommandResult> {
    const enc = encodeCommand(cmd);
    const r = await this.send(new BinaryWriter(enc.length + 8).u8(K_SUBMIT).bytes(enc).finish());
    if (r.u8() === 0) return decodeResult(r.bytes());
    return decodeResult(r.bytes()); // an error result: the participant maps it
  }

  async get(key: Buffer, snapshotTs: number): Promise<{ value: Buffer; version: number } | undefined> {
    const g = await this.readAt(key, snapshotTs);
    return g.found && g.value !== undefined ? { value: g.value, version: g.version } : undefined;
  }

  private async readAt(key: Buffer, snapshotTs: number): Promise<GetResult> {
    const r = await this.send(new BinaryWriter(key.length + 16).u8(K_GET).bytes(key).varint(snapshotTs).finish());
    throwIfError(r);
    const found = r.u8() === 1;
    const value = r.bytes();
    const version = r.varint();
    const readTs = r.varint();
    this.noteLockMet(r);
    return found ? { found, value, version, readTs } : { found, version: 0, readTs };
  }

  /**
   * A plain read of `key` here (a gateway's read for a client): at `snapshotTs`, or — none given — at
   * the range's linearizable read ts (ReadIndex on a replica), so it sees every write acknowledged
   * before it began.
   */
  async getResult(key: Buffer, snapshotTs?: number): Promise<GetResult> {
    return this.readAt(key, snapshotTs !== undefined && snapshotTs > 0 ? snapshotTs : await this.readTs());
  }

  async scan(o: { start?: Buffer; end?: Buffer; limit: number; reverse?: boolean; keysOnly?: boolean; snapshotTs: number }): Promise<{ kvs: KeyValue[]; more: boolean }> {
    const w = new BinaryWriter(64).u8(K_SCAN);
    const f = (o.start && o.start.length > 0 ? 1 : 0) | (o.end && o.end.length > 0 ? 2 : 0) | (o.reverse ? 4 : 0) | (o.keysOnly ? 8 : 0);
    w.u8(f);
    if (f & 1) w.bytes(o.start!);
    if (f & 2) w.bytes(o.end!);
    const r = await this.send(w.varint(o.limit).varint(o.snapshotTs).finish());
    throwIfError(r);
    const n = r.varint();
    const kvs: KeyValue[] = [];
    for (let i = 0; i < n; i++) kvs.push({ key: r.bytes(), value: r.bytes(), version: r.varint() });
    const more = r.u8() === 1;
    if (!r.atEnd()) r.varint(); // its read ts
    this.noteLockMet(r);
    return { kvs, more };
  }

  /** Reads whose call settled a prepared transaction's lock there (TxnHost.locksSettled). */
  locksSettled = 0;

  /** The reply's trailing lock flag; a store too old to send it counts as having met one (re-check). */
  private noteLockMet(r: BinaryReader): void {
    if (r.atEnd() || r.u8() === 1) this.locksSettled++;
  }

  async readTs(): Promise<number> {
    const r = await this.send(new BinaryWriter(4).u8(K_READ_TS).finish());
    throwIfError(r);
    return r.varint();
  }
}

/**
 * Asks store `to` for the meta directory's record of the range holding `key` (`before`: the keys just
 * below it): the record, undefined (its directory has none), or 'not-held' (it holds no replica of the
 * meta range). Rejects when the store cannot be reached or answer in time.
 */
export async function remoteLocate(call: TxnCallFn, to: number, key: Buffer, before: boolean, timeoutMs: number): Promise<MetaRecord | undefined | 'not-held'> {
  const answer = await call(to, META_RANGE_ID, new BinaryWriter(key.length + 16).u8(K_LOCATE).u8(before ? 1 : 0).bytes(key).finish(), timeoutMs);
  if (notHeldThere(answer)) return 'not-held';
  const r = new BinaryReader(answer);
  throwIfError(r);
  return r.u8() === 1 ? decodeMetaRecord(r.bytes()) : undefined;
}

/**
 * A transaction's part on a range this store holds no replica of: a one-range transaction (read set,
 * buffered writes) kept here, reading through the remote range at the transaction's snapshot. Its
 * commit is always the two-phase one (the steps go to the remote range).
 */
export class RemotePartStore {
  private readonly txns: TxnManager;

  constructor(private readonly remote: RemoteRange, private readonly opts: { idleTimeoutMs?: number; maxCommandBytes?: number; unsafeStaleSnapshots?: boolean } = {}) {
    this.txns = new TxnManager(
      {
        appliedTs: () => 0,
        readAt: (key, ts) => remote.get(key, ts),
        scanAt: (o) => this.scanAt(o),
        readTsNow: () => remote.readTs(),
        locksSettled: () => remote.locksSettled,
        submit: () => Promise.reject(new StorageError('a remote part commits by two-phase commit only')),
        now: () => Date.now() * TS_PER_MS,
      },
      { ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}), ...(opts.maxCommandBytes !== undefined ? { maxCommandBytes: opts.maxCommandBytes } : {}), ...(opts.unsafeStaleSnapshots === true ? { unsafeStaleSnapshots: true } : {}) },
    );
  }

  get descriptor(): RangeDescriptor {
    return this.remote.info.descriptor;
  }
  get steps(): TxnParticipant {
    return this.remote.participant;
  }

  /** One more than asked: the extra key is what `more` depends on (the read set covers it). */
  private async scanAt(o: MvccScanOptions): Promise<MvccScanResult> {
    const r = await this.remote.scan({ ...(o.start ? { start: o.start } : {}), ...(o.end ? { end: o.end } : {}), limit: o.limit + 1, reverse: o.reverse === true, keysOnly: o.keysOnly === true, snapshotTs: o.readTs });
    if (r.kvs.length > o.limit) return { kvs: r.kvs.slice(0, o.limit), more: true, nextKey: r.kvs[o.limit]!.key };
    return { kvs: r.kvs, more: r.more };
  }

  async begin(opts: BeginOptions = {}): Promise<{ txnId: string; startTs: number }> {
    return this.txns.begin(opts, await this.remote.readTs());
  }
  async beginAt(startTs: number, opts: BeginOptions = {}): Promise<{ txnId: string; startTs: number }> {
    // A read-only transaction's later part: the range's linearizable read ts is its uncertainty limit
    // (LocalStore.beginAt, TxnManager.certainRead).
    const limitTs = opts.readOnly === true && this.opts.unsafeStaleSnapshots !== true ? await this.remote.readTs() : undefined;
    return this.txns.begin(opts, startTs, limitTs);
  }
  /** A part for a transaction read elsewhere (LocalStore.joinAt); every read here raises the range there anyway. */
  async joinAt(startTs: number, opts: BeginOptions = {}): Promise<{ txnId: string; startTs: number }> {
    return this.txns.begin(opts, startTs);
  }
  /** Nothing to do: each read of a remote part runs at the snapshot on a store holding the range, which raises it there. */
  async makeRepeatable(): Promise<void> {}
  noteReads(txnId: string, keys: readonly Buffer[]): void {
    this.txns.noteReads(txnId, keys);
  }
  get(key: Buffer, opts: { txnId?: string }): Promise<GetResult> {
    return this.txns.get(opts.txnId!, key);
  }
  put(key: Buffer, value: Buffer, opts: PutOptions & { txnId?: string }): Promise<PutResult> {
    return this.txns.put(opts.txnId!, key, value, opts);
  }
  delete(key: Buffer, opts: { txnId?: string }): Promise<DeleteResult> {
    return this.txns.delete(opts.txnId!, key);
  }
  scan(opts: ScanOptions): Promise<ScanResult> {
    return this.txns.scan(opts.txnId!, { start: opts.start, end: opts.end, limit: opts.limit ?? 1000, reverse: opts.reverse === true, keysOnly: opts.keysOnly === true });
  }
  commit(): Promise<{ commitTs: number }> {
    return Promise.reject(new StorageError('a remote part commits by two-phase commit only'));
  }
  async rollback(txnId: string): Promise<void> {
    this.txns.rollback(txnId);
  }
  hasTxn(txnId: string): boolean {
    return this.txns.has(txnId);
  }
  txnTouched(txnId: string): boolean {
    return this.txns.touched(txnId);
  }
  txnWrites(txnId: string): number {
    return this.txns.writeCount(txnId);
  }
  txnSets(txnId: string): { startTs: number; readKeys: Buffer[]; readRanges: KeyRange[]; writes: Mutation[] } {
    return this.txns.sets(txnId);
  }
  close(): void {
    this.txns.close();
  }
}
