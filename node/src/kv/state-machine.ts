// The deterministic state machine of the store. Every mutation is a Command (./commands.ts); `apply()`
// turns a group of commands into ONE engine write batch (data versions + session records + meta) and
// one result per command. Given the same engine contents and the same commands, every replica produces
// exactly the same batch and results:
//   * versions are assigned here, at apply time: ts = max(lastTs + 1, cmd.proposedTs);
//   * every decision (CAS, transaction validation, session expiry) depends only on engine state, the
//     commands, and values derived from them (the "clock" for session expiry is lastTs);
//   * no wall clock, no randomness, no iteration over unordered state.
//
// Contract with the host (commit pipeline now, Raft apply loop later):
//   1. call apply() for group N, write `result.ops` to the engine (synced or not), and only then call
//      apply() for group N+1: reads during apply see the engine plus the group's own earlier writes;
//   2. readers may observe versions <= result.lastTs once the write has completed;
//   3. if the engine write fails, the in-memory state is ahead of the engine: discard this instance and
//      reopen it from the engine (StateMachine.open). apply() throwing has the same consequence.
//
// Exactly-once (Raft thesis §6.3): a command with a Session {clientId, seq, firstUnacked} stores its
// result in the session table in the same batch; a duplicate returns the stored result without applying;
// results below firstUnacked are forgotten; a seq below the forgotten mark fails with SESSION_EXPIRED;
// sessions idle for longer than the TTL (measured in command timestamps) expire.
import { inKeyRange } from './key-span.js';
import type { Engine, EngineOp } from '../engine/engine.js';
import { decodeResult, encodeResult, type Command, type CommandResult, type ErrorResult, type KeyRange, type ReplicatedSettings } from './commands.js';
import { decodeLatest, mvccFindNewer, mvccLatest, mvccScan, versionOps, type Versioned } from '../mvcc/mvcc.js';
import { latestKey, metaKey, parseSessionKey, sessionHeaderKey, sessionResultKey, sessionSpace } from '../mvcc/keyspace.js';
import { readU64BE, writeU64BE } from '../mvcc/codec.js';
import type { Mutation } from './api.js';
import type { Logger } from '../common/logger.js';
import { containsKey, containsSpan, decodeDescriptor, encodeDescriptor, splitRange, type RangeDescriptor } from '../meta/range-descriptor.js';
import { META_RANGE_ID, MetaState } from './meta-state.js';
import { decodeMetaRecord } from '../meta/meta-directory.js';
import { clipRangeLocks, decodeLock, decodeRangeLocks, decodeRecord, encodeLock, encodeRangeLocks, encodeRecord, lockKey, LockTable, parseTxnKey, recordKey, txnSpan, type RangeLock, type TxnLock } from './txn-locks.js';
import type { LockInfo, OnePhasePart, TxnState, TxnStatusResult } from './commands.js';

/**
 * Raft index (and term) a range created by a split starts at (TiKV's RAFT_INIT_LOG_INDEX/TERM): the
 * new group's log is "truncated" at it, so a replica that did not apply the split yet (index 0) is
 * told apart from one that did and gets a snapshot instead of entries it cannot have.
 */
export const SPLIT_INIT_INDEX = 5;

/** Hybrid timestamps carry 10 logical bits: 1 ms of physical time = 1024 ts units. */
export const TS_PER_MS = 1024;

export interface StateMachineOptions {
  /** Replication group whose local keys (meta, sessions) this instance owns; 0 for the single-node store. */
  groupId?: number;
  /**
   * The settings in force until a setSettings command is applied (DEFAULT_SETTINGS when omitted).
   * Apply must be identical on every replica, so every replica of a group must be opened with the same
   * values: the node never passes its flags here, it proposes them (setSettings, onlyIfUnset). Tests
   * use these to run with tiny TTLs.
   */
  sessionTtlMs?: number;
  maxResultsPerSession?: number;
  /**
   * Most sessions kept (default 100 000). When full, a new session evicts the least recently active one
   * if that was idle for minEvictIdleMs, else its command is refused with OVERLOADED (not applied).
   * It decides what apply does, so like the settings above every replica must use the same value: nodes
   * never pass it (the default everywhere); tests use small values.
   */
  maxSessions?: number;
  /**
   * A full table only evicts sessions idle at least this long (default 5 min; measured in command
   * timestamps). Longer than any client's retry horizon, so no evicted session can still have a request
   * in flight whose retry would start a new session and apply twice. Same on every replica (see maxSessions).
   */
  minEvictIdleMs?: number;
  /**
   * TEST ONLY (negative control of the write-skew nemesis): validate a transaction's written keys only
   * (snapshot isolation, first committer wins) instead of its read set too. Never set in production.
   */
  unsafeSnapshotIsolation?: boolean;
  logger?: Logger;
}

/** Settings of a group that never applied a setSettings command. */
export const DEFAULT_SETTINGS: Readonly<ReplicatedSettings> = Object.freeze({ sessionTtlMs: 3_600_000, maxResultsPerSession: 10_000 });

/** Bounds a setSettings command must respect (it is refused otherwise, on every replica alike). */
export const SETTINGS_BOUNDS = Object.freeze({ sessionTtlMs: { min: 1_000, max: 30 * 86_400_000 }, maxResultsPerSession: { min: 16, max: 1_000_000 } });

export interface ApplyOptions {
  /** Raft log index of the last command of the group; persisted atomically with the batch. */
  appliedIndex?: number;
}

export interface ApplyResult {
  /** The ONE engine write batch of the group. */
  ops: EngineOp[];
  /** One result per command, in order. */
  results: CommandResult[];
  /** Highest version assigned so far (readers may read at it once `ops` are written). */
  lastTs: number;
  appliedIndex: number;
  /** Approximate payload bytes of `ops`. */
  bytes: number;
}

interface SessionState {
  lastActive: number;
  /** Results of seqs below this were forgotten (max firstUnacked seen). */
  forgottenBelow: number;
  /** Stored encoded results by seq. */
  results: Map<number, Buffer>;
}

interface OverlayEntry {
  key: Buffer;
  value: Buffer | null;
  ts: number;
}

/** At most this many range ids per allocation (a store asks for a few at a time). */
export const MAX_IDS_PER_ALLOC = 1024;
// Format 2 appends the timestamp ceiling; format 1 (written before it existed) reads as ceiling 0.
const META_FORMAT = 2;
const META_LEN = 1 + 5 * 8;
const META_V1_LEN = 1 + 4 * 8;
const SESSION_FORMAT = 1;
/** Header of an expired session (a tombstone): [format, expired at ts, highest seq applied]. */
const SESSION_EXPIRED_FORMAT = 3;
const SETTINGS_FORMAT = 1;

/** The small fixed records of the local state: a format byte and two u64 (settings, session headers, tombstones). */
function record17(format: number, a: number, b: number): Buffer {
  const v = Buffer.allocUnsafe(17);
  v[0] = format;
  writeU64BE(v, 1, a);
  writeU64BE(v, 9, b);
  return v;
}

function errorResult(code: ErrorResult['code'], message: string, extra: Partial<ErrorResult> = {}): ErrorResult {
  return { type: 'error', code, message, ...extra };
}

/** KEY_LOCKED for `key` when `lock` is set (what a resolver needs: the transaction and its primary). */
function lockedResult(key: Buffer, lock: LockInfo | undefined): ErrorResult | undefined {
  if (lock === undefined) return undefined;
  const info: LockInfo = { txnId: lock.txnId, primary: lock.primary, prepTs: lock.prepTs, ttlTs: lock.ttlTs };
  return errorResult('KEY_LOCKED', `key ${JSON.stringify(key.toString('latin1'))} is locked by prepared transaction ${lock.txnId}; resolve and retry`, { key, lock: info });
}

/**
 * A chunked DeleteRange keeps its progress as its session result: the chunk that starts where the stored
 * progress says runs (and replaces it); any other retry of the request — its first command again, a stale
 * chunk of a second proposer — gets the stored result, so no part of the range is deleted twice.
 */
function continuesStoredChunk(cmd: Command, stored: Buffer): boolean {
  if (cmd.type !== 'deleteRange' || cmd.maxKeys === undefined || cmd.resume === undefined) return false;
  const r = decodeResult(stored);
  return r.type === 'deleteRange' && r.resume !== undefined && r.resume.equals(cmd.resume);
}

/** Per-group scratch state: the write batch plus an index of the group's own data writes. */
class ApplyContext {
  readonly ops: EngineOp[] = [];
  private readonly writes: OverlayEntry[] = [];
  private index: Map<string, OverlayEntry> | undefined;
  /** Latest records read ahead for the whole group (null = absent). */
  private prefetched: Map<string, Versioned | null> | undefined;

  constructor(private readonly engine: Engine) {}

  /**
   * Reads the latest records of every key the group's commands will look at, in one engine call.
   * Sound because nothing but this group (through the overlay, which takes precedence) changes latest
   * records until the group's batch is written (GC removals run exclusively between applies).
   */
  async prefetch(cmds: readonly Command[]): Promise<void> {
    const keys: Buffer[] = [];
    for (const c of cmds) {
      if (c.type === 'put') {
        if (c.expectedValue !== undefined || c.expectAbsent || c.returnPrev) keys.push(c.key);
      } else if (c.type === 'delete') keys.push(c.key);
      else if (c.type === 'txnCommit' || (c.type === 'txnPrepare' && c.startTs !== 0)) {
        // A prepare validates its reads and writes like a one-range commit (a blind one reads nothing).
        for (const k of c.readKeys) keys.push(k);
        for (const w of c.writes) keys.push(w.key);
      } else if (c.type === 'txnCommitLocks' && c.onePhase !== undefined && c.onePhase.startTs !== 0) {
        for (const k of c.onePhase.readKeys) keys.push(k);
        for (const w of c.onePhase.writes) keys.push(w.key);
      }
    }
    if (keys.length < 2) return; // a single read is as cheap on demand
    // One engine call for the group: each get costs a native round of its own on the event loop.
    const unique = new Map<string, Buffer>();
    for (const k of keys) unique.set(k.toString('latin1'), k);
    const names = [...unique.keys()];
    const raws = await this.engine.getMany(names.map((s) => latestKey(unique.get(s)!)));
    const m = new Map<string, Versioned | null>();
    for (let i = 0; i < names.length; i++) {
      const raw = raws[i];
      m.set(names[i]!, raw === undefined ? null : decodeLatest(raw));
    }
    this.prefetched = m;
  }

  private record(e: OverlayEntry): void {
    if (this.index !== undefined) this.index.set(e.key.toString('latin1'), e);
    else this.writes.push(e);
  }

  put(key: Buffer, value: Buffer, ts: number): void {
    const [history, latest] = versionOps(key, ts, value);
    this.ops.push(history, latest);
    this.record({ key, value, ts });
  }

  del(key: Buffer, ts: number): void {
    const [history, latest] = versionOps(key, ts, null);
    this.ops.push(history, latest);
    this.record({ key, value: null, ts });
  }

  private buildIndex(): Map<string, OverlayEntry> {
    if (this.index === undefined) {
      this.index = new Map();
      for (const e of this.writes) this.index.set(e.key.toString('latin1'), e);
      this.writes.length = 0;
    }
    return this.index;
  }

  /** Newest version of a key: the group's own writes first, then the engine. */
  async latest(key: Buffer): Promise<Versioned | undefined> {
    const s = key.toString('latin1');
    const o = this.buildIndex().get(s);
    if (o !== undefined) return { ts: o.ts, value: o.value };
    const p = this.prefetched?.get(s);
    if (p !== undefined) return p ?? undefined;
    return mvccLatest(this.engine, key);
  }

  /** Group writes in [start, end), in write order. */
  overlayInRange(start: Buffer | undefined, end: Buffer | undefined): OverlayEntry[] {
    const out: OverlayEntry[] = [];
    for (const e of this.buildIndex().values()) if (inKeyRange(e.key, start, end)) out.push(e);
    return out;
  }

  /** First key in range with a version newer than ts, considering group writes and the engine. */
  async findNewer(start: Buffer | undefined, end: Buffer | undefined, ts: number): Promise<{ key: Buffer; ts: number } | undefined> {
    let best: OverlayEntry | undefined;
    for (const e of this.overlayInRange(start, end)) {
      if (e.ts > ts && (best === undefined || Buffer.compare(e.key, best.key) < 0)) best = e;
    }
    const fromEngine = await mvccFindNewer(this.engine, start, end, ts);
    if (best !== undefined && (fromEngine === undefined || Buffer.compare(best.key, fromEngine.key) <= 0)) return { key: best.key, ts: best.ts };
    return fromEngine;
  }

  /**
   * One chunk of a chunked DeleteRange: at most `maxKeys` keys visible in the engine from `from` on, plus
   * the group's own writes up to the chunk's boundary, in key order; `resume` = where the next chunk
   * starts (undefined: the range is done). Memory and batch size are bounded by maxKeys + the group.
   */
  async visibleKeysChunk(from: Buffer | undefined, end: Buffer | undefined, maxKeys: number): Promise<{ keys: Buffer[]; resume?: Buffer }> {
    const scanned = await mvccScan(this.engine, { start: from, end, readTs: Number.MAX_SAFE_INTEGER, limit: maxKeys, keysOnly: true });
    const resume = scanned.more && scanned.nextKey !== undefined ? Buffer.from(scanned.nextKey) : undefined;
    const visible = new Map<string, Buffer>();
    for (const kv of scanned.kvs) visible.set(kv.key.toString('latin1'), kv.key);
    for (const e of this.overlayInRange(from, resume ?? end)) {
      const s = e.key.toString('latin1');
      if (e.value === null) visible.delete(s);
      else visible.set(s, e.key);
    }
    const keys = [...visible.values()].sort(Buffer.compare);
    return resume !== undefined ? { keys, resume } : { keys };
  }

  /** Keys visible (latest, not deleted) in [start, end), group writes included, in key order. */
  async visibleKeys(start: Buffer | undefined, end: Buffer | undefined): Promise<Buffer[]> {
    const scanned = await mvccScan(this.engine, { start, end, readTs: Number.MAX_SAFE_INTEGER, limit: Number.MAX_SAFE_INTEGER, keysOnly: true });
    const visible = new Map<string, Buffer>();
    for (const kv of scanned.kvs) visible.set(kv.key.toString('latin1'), kv.key);
    for (const e of this.overlayInRange(start, end)) {
      const s = e.key.toString('latin1');
      if (e.value === null) visible.delete(s);
      else visible.set(s, e.key);
    }
    return [...visible.values()].sort(Buffer.compare);
  }
}

export class StateMachine {
  private _lastTs = 0;
  private _lastWriteTs: number | undefined;
  private _appliedIndex = 0;
  private _safePoint = 0;
  /** The timestamp ceiling (NoopCommand.ceiling): replicated, monotonic, copied to a split's right half. */
  private _tsCeiling = 0;
  private lastSweepTs = 0;
  private readonly sessions = new Map<string, SessionState>();
  /**
   * Sessions that expired or were evicted here, with the highest seq this range applied for them: a
   * retry of one of those seqs must fail SESSION_EXPIRED (its result is gone), while a NEW seq starts the
   * session again. Kept for 4 × the TTL (and at most maxSessions of them).
   */
  private readonly expired = new Map<string, { at: number; maxSeq: number }>();
  private broken: Error | undefined;
  private readonly groupId: number;
  private ttl: number;
  private readonly metaKey: Buffer;
  private readonly maxSessions: number;
  private readonly minEvictIdle: number;
  /**
   * While the table is full: no session becomes evictable before this ts (a lower bound from the last
   * scan — sessions only get more recent — so skipping scans until then changes no decision).
   */
  private noEvictionBefore = 0;
  private readonly log: Logger | undefined;
  private readonly settingsKey: Buffer;
  private maxResults: number;
  private _settings: ReplicatedSettings;
  private _settingsStored = false;
  private readonly unsafeSnapshotIsolation: boolean;
  private readonly descriptorKey: Buffer;
  /**
   * The range this group serves (docs/sharding.md). A group that never stored one (the single-node store,
   * a data dir from before sharding) covers the whole key space as range `groupId`, epoch 0.
   */
  private _descriptor: RangeDescriptor;
  private _descriptorStored = false;
  /** The meta range's directory and TSO bound (range 1 only; kv/meta-state.ts). */
  readonly meta: MetaState | undefined;
  /** Locks and records of prepared cross-range transactions in this range (kv/txn-locks.ts). */
  readonly locks = new LockTable();
  private readonly rangeLocksKey: Buffer;

  private constructor(private readonly engine: Engine, opts: StateMachineOptions) {
    this.groupId = opts.groupId ?? 0;
    this._settings = {
      sessionTtlMs: opts.sessionTtlMs ?? DEFAULT_SETTINGS.sessionTtlMs,
      maxResultsPerSession: opts.maxResultsPerSession ?? DEFAULT_SETTINGS.maxResultsPerSession,
    };
    this.maxResults = 0;
    this.ttl = 0;
    this.useSettings(this._settings);
    this.unsafeSnapshotIsolation = opts.unsafeSnapshotIsolation === true;
    this.metaKey = metaKey(this.groupId, 'applied');
    this.log = opts.logger;
    this.maxSessions = Math.max(1, opts.maxSessions ?? 100_000);
    this.minEvictIdle = Math.round((opts.minEvictIdleMs ?? 300_000) * TS_PER_MS);
    this.settingsKey = metaKey(this.groupId, 'settings');
    this.descriptorKey = metaKey(this.groupId, 'descriptor');
    this.rangeLocksKey = metaKey(this.groupId, 'rangelocks');
    this._descriptor = { rangeId: Math.max(1, this.groupId), start: Buffer.alloc(0), end: Buffer.alloc(0), epoch: { confVer: 0, version: 0 }, replicas: [] };
    this.meta = this.groupId === META_RANGE_ID ? new MetaState(engine, this.groupId) : undefined;
  }

  private useSettings(st: ReplicatedSettings): void {
    this._settings = { ...st };
    this.maxResults = Math.max(1, st.maxResultsPerSession);
    this.ttl = Math.round(st.sessionTtlMs * TS_PER_MS);
  }

  /** Loads applied state and the session table from the engine. */
  static async open(engine: Engine, opts: StateMachineOptions = {}): Promise<StateMachine> {
    const sm = new StateMachine(engine, opts);
    await sm.load();
    return sm;
  }

  private async load(): Promise<void> {
    const meta = await this.engine.get(this.metaKey);
    if (meta !== undefined) {
      const v1 = meta.length === META_V1_LEN && meta[0] === 1;
      if (!v1 && (meta.length !== META_LEN || meta[0] !== META_FORMAT)) throw new Error('unknown state machine meta format');
      this._lastTs = readU64BE(meta, 1);
      this._appliedIndex = readU64BE(meta, 9);
      this._safePoint = readU64BE(meta, 17);
      this.lastSweepTs = readU64BE(meta, 25);
      this._tsCeiling = v1 ? 0 : readU64BE(meta, 33);
    }
    const settings = await this.engine.get(this.settingsKey);
    if (settings !== undefined) {
      if (settings.length !== 17 || settings[0] !== SETTINGS_FORMAT) throw new Error('unknown settings record format');
      this.useSettings({ sessionTtlMs: readU64BE(settings, 1), maxResultsPerSession: readU64BE(settings, 9) });
      this._settingsStored = true;
    }
    const desc = await this.engine.get(this.descriptorKey);
    if (desc !== undefined) {
      this._descriptor = decodeDescriptor(Buffer.from(desc));
      this._descriptorStored = true;
    }
    await this.meta?.load();
    await this.loadLocks();
    const { start, end } = sessionSpace(this.groupId);
    const it = this.engine.iterator({ gte: start, lt: end });
    try {
      for (;;) {
        const batch = await it.nextBatch(1024);
        if (batch.length === 0) break;
        for (const [k, v] of batch) {
          const { clientId, seq } = parseSessionKey(k);
          if (seq === undefined && v[0] === SESSION_EXPIRED_FORMAT && v.length === 17) {
            this.expired.set(clientId, { at: readU64BE(v, 1), maxSeq: readU64BE(v, 9) });
            continue;
          }
          let st = this.sessions.get(clientId);
          if (st === undefined) {
            st = { lastActive: 0, forgottenBelow: 1, results: new Map() };
            this.sessions.set(clientId, st);
          }
          if (seq === undefined) {
            if (v[0] !== SESSION_FORMAT || v.length !== 17) throw new Error('unknown session record format');
            st.lastActive = readU64BE(v, 1);
            st.forgottenBelow = readU64BE(v, 9);
          } else st.results.set(seq, Buffer.from(v));
        }
      }
    } finally {
      await it.close();
    }
  }

  /** Point locks and records in this range's key span, and its range locks. */
  private async loadLocks(): Promise<void> {
    const span = txnSpan(this._descriptor.start, this._descriptor.end);
    const it = this.engine.iterator({ gte: span.start, lt: span.end });
    try {
      for (;;) {
        const batch = await it.nextBatch(1024);
        if (batch.length === 0) break;
        for (const [k, v] of batch) {
          const p = parseTxnKey(Buffer.from(k));
          if (p.kind === 'lock') this.locks.add(decodeLock(p.userKey, p.txnId, Buffer.from(v)));
          else this.locks.setRecord(decodeRecord(p.userKey, p.txnId, Buffer.from(v)));
        }
      }
    } finally {
      await it.close();
    }
    const rl = await this.engine.get(this.rangeLocksKey);
    if (rl !== undefined) this.locks.setRangeLocks(decodeRangeLocks(Buffer.from(rl)));
  }

  /** Highest version assigned (including a group whose write may still be in flight). */
  get lastTs(): number {
    return this._lastTs;
  }
  get appliedIndex(): number {
    return this._appliedIndex;
  }
  /** The replicated GC safe point: no transaction may validate below it. */
  get safePoint(): number {
    return this._safePoint;
  }
  /**
   * The timestamp ceiling: a leader that applied it may promise snapshot reads at or below it without a
   * Raft round, because the first entry of every later term lifts this range's timestamps above it.
   */
  get tsCeiling(): number {
    return this._tsCeiling;
  }
  /**
   * Timestamp of the last applied command that wrote versions (in memory; the applied lastTs after a
   * restart, which only errs towards one more safe-point advance). GC has nothing to gain from a safe
   * point past it: an idle range stops proposing safe points, so it can stay quiesced.
   */
  get lastWriteTs(): number {
    return this._lastWriteTs ?? this._lastTs;
  }
  get sessionCount(): number {
    return this.sessions.size;
  }
  /** The replicated settings in force. */
  get settings(): Readonly<ReplicatedSettings> {
    return this._settings;
  }
  /** Whether a setSettings command was ever applied (else the defaults are in force). */
  get settingsStored(): boolean {
    return this._settingsStored;
  }

  /** The range this group serves (bounds, epoch, replicas as of the last split or replica change). */
  get descriptor(): Readonly<RangeDescriptor> {
    return this._descriptor;
  }
  get descriptorStored(): boolean {
    return this._descriptorStored;
  }

  /**
   * Replaces the descriptor (bootstrap, replica changes applied by the Raft host at a log position) and
   * returns the engine op to write in the same batch as that position's applied index.
   */
  setDescriptor(d: RangeDescriptor): EngineOp {
    if (d.rangeId !== this._descriptor.rangeId && this._descriptorStored) throw new Error(`group ${this.groupId}: descriptor of range ${d.rangeId} replaces range ${this._descriptor.rangeId}`);
    this._descriptor = { ...d, start: Buffer.from(d.start), end: Buffer.from(d.end), epoch: { ...d.epoch }, replicas: d.replicas.map((r) => ({ ...r })) };
    this._descriptorStored = true;
    return { type: 'put', key: this.descriptorKey, value: encodeDescriptor(this._descriptor) };
  }

  /**
   * The refusal of a command whose keys are not all inside this range (deterministic: the descriptor is
   * replicated state). Checked at apply, so a command routed before a split and applied after it never
   * touches the half that moved away — it fails retryably, certainly not applied.
   */
  private outOfRange(cmd: Command): ErrorResult | undefined {
    const d = this._descriptor;
    if (d.start.length === 0 && d.end.length === 0) return undefined;
    const refuse = (what: string): ErrorResult =>
      errorResult('KEY_NOT_IN_RANGE', `${what} is not in range ${d.rangeId} [${d.start.toString('hex') || '-∞'}, ${d.end.toString('hex') || '+∞'}) (epoch version ${d.epoch.version}); refresh the route and retry`, { rangeId: d.rangeId });
    const keyOk = (k: Buffer): boolean => k.length === 0 || containsKey(d, k);
    const spanOk = (start: Buffer | undefined, end: Buffer | undefined): boolean => containsSpan(d, start ?? Buffer.alloc(0), end ?? Buffer.alloc(0));
    switch (cmd.type) {
      case 'put':
      case 'delete':
        return keyOk(cmd.key) ? undefined : refuse('key');
      case 'batch':
        return cmd.mutations.every((m) => keyOk(m.key)) ? undefined : refuse('a key of the batch');
      case 'deleteRange':
        return spanOk(cmd.start, cmd.end) ? undefined : refuse('the deleted range');
      case 'txnCommit':
        if (!cmd.writes.every((m) => keyOk(m.key))) return refuse('a written key of the transaction');
        if (!cmd.readKeys.every(keyOk)) return refuse('a read key of the transaction');
        return cmd.readRanges.every((r) => spanOk(r.start, r.end)) ? undefined : refuse('a scanned range of the transaction');
      case 'txnPrepare':
        if (!cmd.writes.every((m) => keyOk(m.key))) return refuse('a written key of the transaction');
        if (!cmd.readKeys.every(keyOk)) return refuse('a read key of the transaction');
        return cmd.readRanges.every((r) => spanOk(r.start, r.end)) ? undefined : refuse('a scanned range of the transaction');
      case 'txnCheck':
        return keyOk(cmd.primary) ? undefined : refuse('the primary key of the transaction');
      case 'txnCheckPart':
        return keyOk(cmd.key) ? undefined : refuse('the checked key of the transaction');
      case 'txnCommitLocks':
        if (cmd.onePhase !== undefined) {
          if (!cmd.onePhase.writes.every((m) => keyOk(m.key))) return refuse('a written key of the transaction');
          if (!cmd.onePhase.readKeys.every(keyOk)) return refuse('a read key of the transaction');
          if (!cmd.onePhase.readRanges.every((r) => spanOk(r.start, r.end))) return refuse('a scanned range of the transaction');
        }
        return cmd.primary === undefined || keyOk(cmd.primary) ? undefined : refuse('the primary key of the transaction');
      case 'txnRollbackLocks':
        // The primary commit point must run where the primary key (and its lock) lives.
        return cmd.primary === undefined || keyOk(cmd.primary) ? undefined : refuse('the primary key of the transaction');
      case 'fence':
        return cmd.key === undefined || keyOk(cmd.key) ? undefined : refuse('the fenced key');
      case 'split':
        return undefined; // checked by split() itself (EPOCH_NOT_MATCH / INVALID_ARGUMENT)
      default:
        return undefined;
    }
  }

  /**
   * The refusal of a plain write that a prepared cross-range transaction's lock blocks (any lock on a
   * written key, a range lock over it). Deterministic: the lock table is replicated state.
   */
  private lockRefusal(cmd: Command): ErrorResult | undefined {
    if (this.locks.size === 0) return undefined;
    switch (cmd.type) {
      case 'put':
      case 'delete':
        return lockedResult(cmd.key, this.locks.writeBlocker(cmd.key));
      case 'batch':
        for (const m of cmd.mutations) {
          const r = lockedResult(m.key, this.locks.writeBlocker(m.key));
          if (r !== undefined) return r;
        }
        return undefined;
      case 'deleteRange': {
        const from = cmd.resume !== undefined && (cmd.start === undefined || Buffer.compare(cmd.resume, cmd.start) > 0) ? cmd.resume : cmd.start;
        const b = this.locks.spanWriteBlocker(from, cmd.end);
        return lockedResult('key' in (b ?? {}) ? (b as TxnLock).key : (from ?? Buffer.alloc(0)), b);
      }
      case 'txnPrepare':
        // A staging prepare carries the session: a live lock refuses it before the table, so the
        // coordinator may settle the lock and send the same seq again (another prepare checks inside).
        if (cmd.participants === undefined || this.locks.record(cmd.txnId) !== undefined) return undefined;
        return cmd.startTs === 0 ? this.lockBlocking(cmd.txnId, [], [], cmd.writes) : this.lockBlocking(cmd.txnId, cmd.readKeys, cmd.readRanges, cmd.writes);
      default:
        return undefined;
    }
  }

  /** A stored session result (for diagnostics and retries of finished commands). */
  sessionResult(clientId: string, seq: number): CommandResult | undefined {
    const st = this.sessions.get(clientId);
    if (st === undefined || this._lastTs - st.lastActive > this.ttl) return undefined;
    const b = st.results.get(seq);
    return b === undefined ? undefined : decodeResult(b);
  }

  /** Applies a group of commands; see the contract at the top of this file. */
  async apply(cmds: readonly Command[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    if (this.broken !== undefined) throw this.broken;
    const ctx = new ApplyContext(this.engine);
    const results: CommandResult[] = new Array(cmds.length);
    const dirty = new Set<string>();
    try {
      await ctx.prefetch(cmds);
      for (let i = 0; i < cmds.length; i++) {
        const cmd = cmds[i]!;
        const refused = this.outOfRange(cmd) ?? (cmd.session === undefined ? this.lockRefusal(cmd) : undefined);
        const r = refused !== undefined ? refused : cmd.session === undefined ? this.execute(ctx, cmd) : this.applyWithSession(ctx, cmd, dirty);
        results[i] = r instanceof Promise ? await r : r;
        // Deterministic expiry sweep, driven by command timestamps, checked after every command so the
        // outcome does not depend on how commands are grouped.
        if (this._lastTs - this.lastSweepTs >= this.sweepInterval) this.sweep(ctx, dirty);
      }
      for (const clientId of dirty) {
        const st = this.sessions.get(clientId);
        if (st === undefined) continue;
        const v = record17(SESSION_FORMAT, st.lastActive, st.forgottenBelow);
        ctx.ops.push({ type: 'put', key: sessionHeaderKey(this.groupId, clientId), value: v });
      }
      if (opts.appliedIndex !== undefined) this._appliedIndex = opts.appliedIndex;
      ctx.ops.push({ type: 'put', key: this.metaKey, value: this.encodeMeta() });
    } catch (e) {
      this.broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
    let bytes = 0;
    for (const op of ctx.ops) bytes += op.key.length + (op.type === 'put' ? op.value.length : 0);
    return { ops: ctx.ops, results, lastTs: this._lastTs, appliedIndex: this._appliedIndex, bytes };
  }

  /** apply() followed by the engine write (hosts without their own write path, tests). */
  async applyAndWrite(cmds: readonly Command[], opts: ApplyOptions & { sync?: boolean } = {}): Promise<ApplyResult> {
    const r = await this.apply(cmds, opts);
    try {
      await this.engine.write(r.ops, { sync: opts.sync === true });
    } catch (e) {
      this.broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
    return r;
  }

  private encodeMeta(appliedIndex = this._appliedIndex): Buffer {
    const v = Buffer.allocUnsafe(META_LEN);
    v[0] = META_FORMAT;
    writeU64BE(v, 1, this._lastTs);
    writeU64BE(v, 9, appliedIndex);
    writeU64BE(v, 17, this._safePoint);
    writeU64BE(v, 25, this.lastSweepTs);
    writeU64BE(v, 33, this._tsCeiling);
    return v;
  }

  private nextTs(cmd: Command): number {
    const p = cmd.proposedTs;
    const proposed = Number.isSafeInteger(p) && p > 0 ? p : 0;
    const ts = Math.max(this._lastTs + 1, proposed);
    this._lastTs = ts;
    if (cmd.type !== 'setSafePoint' && cmd.type !== 'noop') this._lastWriteTs = ts;
    return ts;
  }

  private get sweepInterval(): number {
    return Math.max(Math.floor(this.ttl / 4), 1);
  }

  private sweep(ctx: ApplyContext, dirty: Set<string>): void {
    this.lastSweepTs = this._lastTs;
    // Transaction records outlive their locks by far (resolvers ask for them within the locks' TTL);
    // those older than the session TTL whose transaction holds nothing here go.
    for (const rec of [...this.locks.allRecords()]) {
      if (this._lastTs - rec.ts > this.ttl && !this.locks.holds(rec.txnId)) {
        this.locks.deleteRecord(rec.txnId);
        ctx.ops.push({ type: 'del', key: recordKey(rec.primary, rec.txnId) });
      }
    }
    for (const [clientId, st] of this.sessions) {
      if (this._lastTs - st.lastActive > this.ttl) this.dropSession(ctx, clientId, st, dirty);
    }
    for (const [clientId, t] of this.expired) {
      if (this._lastTs - t.at > 4 * this.ttl) {
        this.expired.delete(clientId);
        ctx.ops.push({ type: 'del', key: sessionHeaderKey(this.groupId, clientId) });
      }
    }
  }

  private dropSession(ctx: ApplyContext, clientId: string, st: SessionState, dirty: Set<string>): void {
    let maxSeq = st.forgottenBelow - 1;
    for (const seq of st.results.keys()) {
      ctx.ops.push({ type: 'del', key: sessionResultKey(this.groupId, clientId, seq) });
      if (seq > maxSeq) maxSeq = seq;
    }
    // A tombstone replaces the header (the same key): retries of seqs up to maxSeq stay refused.
    const t = record17(SESSION_EXPIRED_FORMAT, this._lastTs, maxSeq);
    ctx.ops.push({ type: 'put', key: sessionHeaderKey(this.groupId, clientId), value: t });
    this.expired.set(clientId, { at: this._lastTs, maxSeq });
    this.sessions.delete(clientId);
    dirty.delete(clientId);
    if (this.expired.size > this.maxSessions) this.dropOldestTombstones(ctx);
  }

  /** Deterministic bound on tombstones: the oldest (expiry ts, then client id) go first. */
  private dropOldestTombstones(ctx: ApplyContext): void {
    const all = [...this.expired].sort((x, y) => x[1].at - y[1].at || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const n = this.expired.size - this.maxSessions + Math.ceil(this.maxSessions / 100);
    for (let i = 0; i < n && i < all.length; i++) {
      this.expired.delete(all[i]![0]);
      ctx.ops.push({ type: 'del', key: sessionHeaderKey(this.groupId, all[i]![0]) });
    }
  }

  /**
   * Room for one more session. A full table evicts its least recently active sessions (lastActive, then
   * client id: the same choice on every replica, restarted or not) among those idle for minEvictIdle —
   * up to 1 % of the cap at once, so the scan is paid once per many new sessions. None idle that long:
   * the error result refusing the new session (nothing applied, the client retries after a backoff).
   */
  private makeRoomForSession(ctx: ApplyContext, now: number, dirty: Set<string>): ErrorResult | undefined {
    if (this.sessions.size < this.maxSessions) return undefined;
    const refuse = (): ErrorResult =>
      errorResult('OVERLOADED', `session table is full (${this.sessions.size} sessions, none idle for ${Math.round(this.minEvictIdle / TS_PER_MS)} ms); retry later`);
    if (now < this.noEvictionBefore) return refuse();
    const idle: Array<[string, SessionState]> = [];
    let oldestBusy = Infinity;
    for (const e of this.sessions) {
      if (now - e[1].lastActive >= this.minEvictIdle) idle.push(e);
      else oldestBusy = Math.min(oldestBusy, e[1].lastActive);
    }
    if (idle.length === 0) {
      this.noEvictionBefore = oldestBusy + this.minEvictIdle;
      return refuse();
    }
    idle.sort((x, y) => x[1].lastActive - y[1].lastActive || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const n = Math.min(idle.length, Math.max(this.sessions.size - this.maxSessions + 1, Math.ceil(this.maxSessions / 100)));
    for (let i = 0; i < n; i++) this.dropSession(ctx, idle[i]![0], idle[i]![1], dirty);
    this.log?.info('session table full: evicted the least recently active sessions', { evicted: n, sessions: this.sessions.size, maxSessions: this.maxSessions });
    return undefined;
  }

  private applyWithSession(ctx: ApplyContext, cmd: Command, dirty: Set<string>): CommandResult | Promise<CommandResult> {
    const s = cmd.session!;
    if (typeof s.clientId !== 'string' || s.clientId.length === 0 || Buffer.byteLength(s.clientId) > 1024) {
      return errorResult('INVALID_ARGUMENT', 'session client id must be 1..1024 bytes');
    }
    if (!Number.isSafeInteger(s.seq) || s.seq < 1 || !Number.isSafeInteger(s.firstUnacked) || s.firstUnacked < 1 || s.firstUnacked > s.seq) {
      return errorResult('INVALID_ARGUMENT', 'session requires 1 <= first_unacked <= seq');
    }
    const p = Number.isSafeInteger(cmd.proposedTs) && cmd.proposedTs > 0 ? cmd.proposedTs : 0;
    const now = Math.max(this._lastTs, p);
    let st = this.sessions.get(s.clientId);
    if (st !== undefined && now - st.lastActive > this.ttl) {
      this.dropSession(ctx, s.clientId, st, dirty);
      st = undefined;
    }
    // A write blocked by a prepared transaction's lock is refused before the session table changes at
    // all (no new session, no trimming, nothing stored): the store resolves the lock and retries the same
    // seq — certainly not applied. A seq whose result is stored is answered from it below, lock or not
    // (except the next chunk of a DeleteRange, which deletes more).
    const answered = st?.results.get(s.seq);
    if (answered === undefined || continuesStoredChunk(cmd, answered)) {
      const locked = this.lockRefusal(cmd);
      if (locked !== undefined) return locked;
    }
    if (st === undefined) {
      // Unknown here. With many ranges a session legitimately reaches a range for the first time with
      // first_unacked > 1 (its earlier requests went to other ranges), so only a seq this range applied
      // before it expired the session is refused (its result is gone: applying again could duplicate).
      const tomb = this.expired.get(s.clientId);
      if (tomb !== undefined && s.seq <= tomb.maxSeq) {
        return errorResult('SESSION_EXPIRED', `session ${s.clientId} expired here; the result of seq ${s.seq} is gone (seqs up to ${tomb.maxSeq} were applied)`);
      }
      const refused = this.makeRoomForSession(ctx, now, dirty);
      if (refused !== undefined) return refused;
      // Seqs below first_unacked were acknowledged by the client: none of them can be retried here.
      st = { lastActive: now, forgottenBelow: Math.max(1, s.firstUnacked, tomb !== undefined ? tomb.maxSeq + 1 : 1), results: new Map() };
      this.sessions.set(s.clientId, st);
      if (tomb !== undefined) this.expired.delete(s.clientId);
      dirty.add(s.clientId); // the header replaces the tombstone
    }
    if (s.seq < st.forgottenBelow) {
      return errorResult('SESSION_EXPIRED', `result of seq ${s.seq} of session ${s.clientId} was already forgotten (acknowledged below ${st.forgottenBelow})`);
    }
    const stored = st.results.get(s.seq);
    if (stored !== undefined && !continuesStoredChunk(cmd, stored)) {
      st.lastActive = Math.max(st.lastActive, now);
      dirty.add(s.clientId);
      return decodeResult(stored);
    }
    if (s.firstUnacked > st.forgottenBelow) {
      for (const seq of st.results.keys()) {
        if (seq < s.firstUnacked) {
          st.results.delete(seq);
          ctx.ops.push({ type: 'del', key: sessionResultKey(this.groupId, s.clientId, seq) });
        }
      }
      st.forgottenBelow = s.firstUnacked;
    }
    const session = st;
    const finish = (r: CommandResult): CommandResult => {
      const enc = encodeResult(r);
      session.results.set(s.seq, enc);
      session.lastActive = Math.max(session.lastActive, this._lastTs);
      dirty.add(s.clientId);
      ctx.ops.push({ type: 'put', key: sessionResultKey(this.groupId, s.clientId, s.seq), value: enc });
      if (session.results.size > this.maxResults) {
        // A client that never acknowledges: forget its oldest result (a retry of it then fails with
        // SESSION_EXPIRED — never a second apply). Deterministic: depends on state only.
        let min = Infinity;
        for (const seq of session.results.keys()) if (seq < min) min = seq;
        session.results.delete(min);
        ctx.ops.push({ type: 'del', key: sessionResultKey(this.groupId, s.clientId, min) });
        session.forgottenBelow = Math.max(session.forgottenBelow, min + 1);
      }
      return r;
    };
    const r = this.execute(ctx, cmd);
    return r instanceof Promise ? r.then(finish) : finish(r);
  }

  private execute(ctx: ApplyContext, cmd: Command): CommandResult | Promise<CommandResult> {
    switch (cmd.type) {
      case 'put': {
        if (cmd.key.length === 0) return errorResult('INVALID_ARGUMENT', 'empty key');
        if (cmd.expectedValue === undefined && !cmd.expectAbsent && !cmd.returnPrev) {
          const ts = this.nextTs(cmd);
          ctx.put(cmd.key, cmd.value, ts);
          return { type: 'put', version: ts, succeeded: true, prevFound: false };
        }
        return this.casPut(ctx, cmd);
      }
      case 'delete':
        if (cmd.key.length === 0) return errorResult('INVALID_ARGUMENT', 'empty key');
        return this.del(ctx, cmd);
      case 'deleteRange':
        return cmd.maxKeys !== undefined ? this.deleteRangeChunk(ctx, cmd) : this.deleteRange(ctx, cmd);
      case 'batch': {
        for (const m of cmd.mutations) if (m.key.length === 0) return errorResult('INVALID_ARGUMENT', 'empty key in batch');
        const ts = this.nextTs(cmd);
        this.writeMutations(ctx, cmd.mutations, ts);
        return { type: 'batch', version: ts };
      }
      case 'txnCommit':
        return this.txnCommit(ctx, cmd);
      case 'txnPrepare':
        return this.txnPrepare(ctx, cmd);
      case 'txnCommitLocks':
        return this.txnCommitLocks(ctx, cmd);
      case 'txnRollbackLocks':
        return this.txnRollbackLocks(ctx, cmd, cmd.primary !== undefined);
      case 'txnCheck':
        return this.txnCheck(ctx, cmd);
      case 'txnCheckPart':
        return this.txnCheckPart(ctx, cmd);
      case 'setSafePoint': {
        const ts = this.nextTs(cmd);
        const sp = Math.min(cmd.safePoint, ts - 1);
        if (Number.isSafeInteger(sp) && sp > this._safePoint) this._safePoint = sp;
        return { type: 'ok', ts };
      }
      case 'noop':
        // A new term's first entry: whatever the previous leaders promised is at most the ceiling.
        if (cmd.termStart === true && this._tsCeiling > this._lastTs) this._lastTs = this._tsCeiling;
        if (cmd.ceiling !== undefined && Number.isSafeInteger(cmd.ceiling) && cmd.ceiling > this._tsCeiling) this._tsCeiling = cmd.ceiling;
        return { type: 'ok', ts: this.nextTs(cmd) };
      case 'fence':
        // Reached only when the session table holds no result for this seq: the commit it fences was
        // not applied before, and from now on never will be (its seq answers with this result).
        if (cmd.session === undefined) return errorResult('INVALID_ARGUMENT', 'a fence needs a session');
        return errorResult('TXN_NOT_FOUND', `transaction ${cmd.txnId} not found (did not commit: fenced off in the log by a retry)`);
      case 'setSettings':
        return this.setSettings(ctx, cmd);
      case 'split':
        return this.split(ctx, cmd);
      case 'metaUpdate':
        return this.metaUpdate(ctx, cmd);
      case 'tsoPersist':
        if (this.meta === undefined) return errorResult('INVALID_ARGUMENT', `range ${this._descriptor.rangeId} is not the meta range`);
        if (!Number.isSafeInteger(cmd.highWaterMs) || cmd.highWaterMs <= 0) return errorResult('INVALID_ARGUMENT', `bad TSO high-water mark ${cmd.highWaterMs}`);
        this.meta.raiseTso(cmd.highWaterMs, ctx.ops);
        return { type: 'ok', ts: this._lastTs };
      case 'allocIds': {
        if (this.meta === undefined) return errorResult('INVALID_ARGUMENT', `range ${this._descriptor.rangeId} is not the meta range`);
        if (!Number.isSafeInteger(cmd.count) || cmd.count <= 0 || cmd.count > MAX_IDS_PER_ALLOC) return errorResult('INVALID_ARGUMENT', `bad id count ${cmd.count} (1..${MAX_IDS_PER_ALLOC})`);
        const first = this.meta.allocRangeIds(cmd.count, ctx.ops);
        if (first === undefined) return errorResult('INVALID_ARGUMENT', 'the range id space is exhausted');
        return { type: 'ids', first, count: cmd.count };
      }
    }
  }

  /** Records published into the meta directory; a record the directory's rules refuse is skipped (stale). */
  private metaUpdate(ctx: ApplyContext, cmd: Extract<Command, { type: 'metaUpdate' }>): CommandResult {
    if (this.meta === undefined) return errorResult('INVALID_ARGUMENT', `range ${this._descriptor.rangeId} is not the meta range`);
    let recs;
    try {
      recs = cmd.records.map((b) => decodeMetaRecord(b));
    } catch (e) {
      return errorResult('INVALID_ARGUMENT', `bad meta record: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const r of recs) this.meta.put(r, ctx.ops);
    return { type: 'ok', ts: this._lastTs };
  }

  /**
   * Applies a split (SplitCommand): this group keeps [start, splitKey); the right half's local state —
   * descriptor, applied meta (index SPLIT_INIT_INDEX, this group's lastTs and safe point), settings and a
   * copy of the session table (a retry routed to either half after the split is still answered from its
   * table) — goes into this same batch. The Raft host adds the right group's Raft state and starts it.
   */
  private split(ctx: ApplyContext, cmd: Extract<Command, { type: 'split' }>): CommandResult {
    const d = this._descriptor;
    if (cmd.expectVersion !== d.epoch.version) {
      return errorResult('EPOCH_NOT_MATCH', `range ${d.rangeId} is at epoch version ${d.epoch.version}, the split was proposed at ${cmd.expectVersion}`, { rangeId: d.rangeId });
    }
    if (!Number.isSafeInteger(cmd.newRangeId) || cmd.newRangeId <= 0 || cmd.newRangeId === this.groupId) return errorResult('INVALID_ARGUMENT', `bad new range id ${cmd.newRangeId}`);
    if (d.replicas.length === 0) return errorResult('INVALID_ARGUMENT', `range ${d.rangeId} has no replica list yet; cannot split`);
    let halves: { left: RangeDescriptor; right: RangeDescriptor };
    try {
      // Peer ids are the stores' raft ids at this stage (one replica per store; docs/sharding.md).
      halves = splitRange(d, cmd.splitKey, { rangeId: cmd.newRangeId, peerIds: new Map(d.replicas.map((r) => [r.storeId, r.storeId])) });
    } catch (e) {
      return errorResult('INVALID_ARGUMENT', e instanceof Error ? e.message : String(e));
    }
    this.nextTs(cmd);
    ctx.ops.push(this.setDescriptor(halves.left));
    const g = cmd.newRangeId;
    // Point locks and records are key-addressed: the right half loads its own when it opens. Range locks
    // are clipped to each half.
    this.locks.retainSpan(halves.left.start, halves.left.end);
    if (this.locks.allRangeLocks.length > 0) {
      const right = clipRangeLocks(this.locks.allRangeLocks, halves.right.start, halves.right.end);
      this.locks.setRangeLocks(clipRangeLocks(this.locks.allRangeLocks, halves.left.start, halves.left.end));
      this.persistRangeLocks(ctx);
      if (right.length > 0) ctx.ops.push({ type: 'put', key: metaKey(g, 'rangelocks'), value: encodeRangeLocks(right) });
    }
    ctx.ops.push({ type: 'put', key: metaKey(g, 'descriptor'), value: encodeDescriptor(halves.right) });
    // The right half inherits the ceiling too: a promise made here for its keys holds after the split.
    ctx.ops.push({ type: 'put', key: metaKey(g, 'applied'), value: this.encodeMeta(SPLIT_INIT_INDEX) });
    if (this._settingsStored) {
      const v = record17(SETTINGS_FORMAT, this._settings.sessionTtlMs, this._settings.maxResultsPerSession);
      ctx.ops.push({ type: 'put', key: metaKey(g, 'settings'), value: v });
    }
    for (const [clientId, st] of this.sessions) {
      const h = record17(SESSION_FORMAT, st.lastActive, st.forgottenBelow);
      ctx.ops.push({ type: 'put', key: sessionHeaderKey(g, clientId), value: h });
      for (const [seq, res] of st.results) ctx.ops.push({ type: 'put', key: sessionResultKey(g, clientId, seq), value: res });
    }
    for (const [clientId, t] of this.expired) {
      const v = record17(SESSION_EXPIRED_FORMAT, t.at, t.maxSeq);
      ctx.ops.push({ type: 'put', key: sessionHeaderKey(g, clientId), value: v });
    }
    // The meta range's own split updates its directory in the same batch (atomically); other ranges'
    // leaders publish theirs after the split (raftstore/meta-publisher.ts). The leader is filled in then.
    if (this.meta !== undefined) {
      for (const h of [halves.left, halves.right]) this.meta.put({ descriptor: h, leaderStoreId: 0, leaderTerm: 0, leaderAddress: '' }, ctx.ops);
    }
    return { type: 'split', left: encodeDescriptor(halves.left), right: encodeDescriptor(halves.right) };
  }

  private setSettings(ctx: ApplyContext, cmd: Extract<Command, { type: 'setSettings' }>): CommandResult {
    const ts = this.nextTs(cmd);
    if (cmd.onlyIfUnset && this._settingsStored) return { type: 'ok', ts };
    const st = cmd.settings;
    for (const k of ['sessionTtlMs', 'maxResultsPerSession'] as const) {
      const b = SETTINGS_BOUNDS[k];
      if (!Number.isSafeInteger(st[k]) || st[k] < b.min || st[k] > b.max) {
        return errorResult('INVALID_ARGUMENT', `setting ${k} must be an integer in [${b.min}, ${b.max}], got ${st[k]}`);
      }
    }
    this.useSettings(st);
    this._settingsStored = true;
    const v = record17(SETTINGS_FORMAT, st.sessionTtlMs, st.maxResultsPerSession);
    ctx.ops.push({ type: 'put', key: this.settingsKey, value: v });
    return { type: 'ok', ts };
  }

  private writeMutations(ctx: ApplyContext, ms: readonly Mutation[], ts: number): void {
    for (const m of ms) {
      if (m.op === 'put') ctx.put(m.key, m.value, ts);
      else ctx.del(m.key, ts);
    }
  }

  private async casPut(ctx: ApplyContext, cmd: Extract<Command, { type: 'put' }>): Promise<CommandResult> {
    const prev = await ctx.latest(cmd.key);
    const found = prev !== undefined && prev.value !== null;
    const prevValue = found ? prev.value! : undefined;
    let ok = true;
    if (cmd.expectAbsent) ok = !found;
    else if (cmd.expectedValue !== undefined) ok = found && prevValue!.equals(cmd.expectedValue);
    if (!ok) {
      const r: CommandResult = { type: 'put', version: 0, succeeded: false, prevFound: found };
      if (prevValue !== undefined) r.prevValue = prevValue;
      return r;
    }
    const ts = this.nextTs(cmd);
    ctx.put(cmd.key, cmd.value, ts);
    const r: CommandResult = { type: 'put', version: ts, succeeded: true, prevFound: found };
    if (cmd.returnPrev && prevValue !== undefined) r.prevValue = prevValue;
    return r;
  }

  private async del(ctx: ApplyContext, cmd: Extract<Command, { type: 'delete' }>): Promise<CommandResult> {
    const prev = await ctx.latest(cmd.key);
    const found = prev !== undefined && prev.value !== null;
    const ts = this.nextTs(cmd);
    if (found) ctx.del(cmd.key, ts);
    return { type: 'delete', deleted: found, version: ts };
  }

  private async deleteRange(ctx: ApplyContext, cmd: Extract<Command, { type: 'deleteRange' }>): Promise<CommandResult> {
    const keys = await ctx.visibleKeys(cmd.start, cmd.end);
    const ts = this.nextTs(cmd);
    for (const k of keys) ctx.del(k, ts);
    return { type: 'deleteRange', deleted: keys.length, version: ts };
  }

  /**
   * One chunk of a chunked DeleteRange (the proposer sends chunks until the result has no `resume`):
   * at most maxKeys keys, deleted at one version; deterministic (maxKeys travels in the command).
   */
  private async deleteRangeChunk(ctx: ApplyContext, cmd: Extract<Command, { type: 'deleteRange' }>): Promise<CommandResult> {
    const maxKeys = cmd.maxKeys!;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) return errorResult('INVALID_ARGUMENT', 'delete range chunk size must be at least 1');
    // A resume point before the range start cannot come from a chunk of this range: never delete outside it.
    const from = cmd.resume !== undefined && (cmd.start === undefined || Buffer.compare(cmd.resume, cmd.start) > 0) ? cmd.resume : cmd.start;
    const { keys, resume } = await ctx.visibleKeysChunk(from, cmd.end, maxKeys);
    const ts = this.nextTs(cmd);
    for (const k of keys) ctx.del(k, ts);
    const r: CommandResult = { type: 'deleteRange', deleted: (cmd.deletedBefore ?? 0) + keys.length, version: ts };
    if (resume !== undefined) r.resume = resume;
    return r;
  }

  private async txnCommit(ctx: ApplyContext, cmd: Extract<Command, { type: 'txnCommit' }>): Promise<CommandResult> {
    if (cmd.startTs < this._safePoint) {
      return errorResult('SNAPSHOT_TOO_OLD', `transaction start ${cmd.startTs} is below the GC safe point ${this._safePoint}`, {
        snapshotTs: cmd.startTs,
        safePoint: this._safePoint,
      });
    }
    for (const m of cmd.writes) if (m.key.length === 0) return errorResult('INVALID_ARGUMENT', 'empty key in transaction');
    const blocked = this.lockBlocking(undefined, cmd.readKeys, cmd.readRanges, cmd.writes);
    if (blocked !== undefined) return blocked;
    const conflict = await this.validate(ctx, cmd.startTs, cmd.readKeys, cmd.readRanges, cmd.writes);
    if (conflict !== undefined) {
      return errorResult('TXN_CONFLICT', `transaction conflict on key ${JSON.stringify(conflict.key.toString('latin1'))} (committed at ${conflict.ts}); retry the transaction`, {
        key: conflict.key,
        conflictTs: conflict.ts,
      });
    }
    const ts = this.nextTs(cmd);
    this.writeMutations(ctx, cmd.writes, ts);
    return { type: 'txnCommit', commitTs: ts };
  }

  /**
   * A lock of another transaction in the way of a transaction's read set or writes (apply-time view):
   * write locks on read keys and in scanned ranges, any lock (or range lock) on a written key.
   */
  private lockBlocking(self: string | undefined, readKeys: readonly Buffer[], readRanges: readonly KeyRange[], writes: readonly Mutation[]): ErrorResult | undefined {
    if (this.locks.size === 0) return undefined;
    if (!this.unsafeSnapshotIsolation) {
      for (const k of readKeys) {
        const r = lockedResult(k, this.locks.readBlocker(k, Number.MAX_SAFE_INTEGER, self));
        if (r !== undefined) return r;
      }
      for (const rg of readRanges) {
        const l = this.locks.scanBlocker(rg.start, rg.end, Number.MAX_SAFE_INTEGER, self, false);
        if (l !== undefined) return lockedResult(l.key, l);
      }
    }
    for (const w of writes) {
      const r = lockedResult(w.key, this.locks.writeBlocker(w.key, self));
      if (r !== undefined) return r;
    }
    return undefined;
  }

  private persistRangeLocks(ctx: ApplyContext): void {
    const ls = this.locks.allRangeLocks;
    ctx.ops.push(ls.length > 0 ? { type: 'put', key: this.rangeLocksKey, value: encodeRangeLocks(ls) } : { type: 'del', key: this.rangeLocksKey });
  }

  private txnStatus(state: TxnState, ts: number, txnId: string): TxnStatusResult {
    return { type: 'txnStatus', state, ts, txnId };
  }

  private static abortedResult(txnId: string): ErrorResult {
    return errorResult('TXN_CONFLICT', `transaction ${txnId} was aborted (its locks were rolled back by a conflicting request after their TTL, or it was rolled back); retry the transaction`);
  }

  /** Phase one of a cross-range transaction in this range (TxnPrepareCommand). */
  private async txnPrepare(ctx: ApplyContext, cmd: Extract<Command, { type: 'txnPrepare' }>): Promise<CommandResult> {
    if (typeof cmd.txnId !== 'string' || cmd.txnId.length === 0 || cmd.txnId.length > 256) return errorResult('INVALID_ARGUMENT', 'transaction id must be 1..256 characters');
    if (!Number.isSafeInteger(cmd.ttlTs) || cmd.ttlTs <= 0) return errorResult('INVALID_ARGUMENT', 'lock TTL must be positive');
    if (cmd.primary.length === 0) return errorResult('INVALID_ARGUMENT', 'empty primary key');
    for (const m of cmd.writes) if (m.key.length === 0) return errorResult('INVALID_ARGUMENT', 'empty key in transaction');
    const staging = cmd.participants;
    if (staging !== undefined && !cmd.writes.some((m) => m.key.equals(cmd.primary))) {
      return errorResult('INVALID_ARGUMENT', 'a staging prepare must write its primary key (the primary lock keeps the participants)');
    }
    const rec = this.locks.record(cmd.txnId);
    if (rec !== undefined) return rec.state === 'aborted' ? StateMachine.abortedResult(cmd.txnId) : this.txnStatus('committed', rec.ts, cmd.txnId);
    const held = this.locks.locksOf(cmd.txnId)[0] ?? this.locks.rangeLocksOf(cmd.txnId)[0];
    if (held !== undefined) return this.prepared(held.prepTs, cmd); // a retry of this prepare
    if (cmd.startTs !== 0 && cmd.startTs < this._safePoint) {
      return errorResult('SNAPSHOT_TOO_OLD', `transaction start ${cmd.startTs} is below the GC safe point ${this._safePoint}`, { snapshotTs: cmd.startTs, safePoint: this._safePoint });
    }
    const blind = cmd.startTs === 0;
    const readKeys = blind ? [] : cmd.readKeys;
    const readRanges = blind ? [] : cmd.readRanges;
    const blocked = this.lockBlocking(cmd.txnId, readKeys, readRanges, cmd.writes);
    if (blocked !== undefined) return blocked;
    if (!blind) {
      const conflict = await this.validate(ctx, cmd.startTs, readKeys, readRanges, cmd.writes);
      if (conflict !== undefined) {
        return errorResult('TXN_CONFLICT', `transaction conflict on key ${JSON.stringify(conflict.key.toString('latin1'))} (committed at ${conflict.ts}); retry the transaction`, { key: conflict.key, conflictTs: conflict.ts });
      }
    }
    const prepTs = this.nextTs(cmd);
    const base = { txnId: cmd.txnId, primary: cmd.primary, startTs: cmd.startTs, prepTs, ttlTs: cmd.ttlTs };
    const written = new Set<string>();
    for (const m of cmd.writes) {
      const s = m.key.toString('latin1');
      if (written.has(s)) continue; // the transaction layer sends each key once; keep the first
      written.add(s);
      const l: TxnLock = { ...base, key: m.key, kind: 'write', mutation: m };
      if (staging !== undefined && m.key.equals(cmd.primary)) {
        l.staging = { participants: staging };
        if (cmd.session !== undefined) l.staging.session = { clientId: cmd.session.clientId, seq: cmd.session.seq };
      }
      this.locks.add(l);
      ctx.ops.push({ type: 'put', key: lockKey(m.key, cmd.txnId), value: encodeLock(l) });
    }
    if (!this.unsafeSnapshotIsolation) {
      for (const k of readKeys) {
        const s = k.toString('latin1');
        if (written.has(s)) continue;
        written.add(s);
        const l: TxnLock = { ...base, key: k, kind: 'read' };
        this.locks.add(l);
        ctx.ops.push({ type: 'put', key: lockKey(k, cmd.txnId), value: encodeLock(l) });
      }
      if (readRanges.length > 0) {
        for (const rg of readRanges) {
          const rl: RangeLock = { txnId: cmd.txnId, primary: cmd.primary, prepTs, ttlTs: cmd.ttlTs, start: rg.start ?? Buffer.alloc(0), end: rg.end ?? Buffer.alloc(0) };
          this.locks.addRangeLock(rl);
        }
        this.persistRangeLocks(ctx);
      }
    }
    return this.prepared(prepTs, cmd);
  }

  /** A prepare's answer; a staging prepare's names its primary (a fence meeting it resolves through it). */
  private prepared(prepTs: number, cmd: Extract<Command, { type: 'txnPrepare' }>): TxnStatusResult {
    const r = this.txnStatus('prepared', prepTs, cmd.txnId);
    if (cmd.participants !== undefined) r.primary = cmd.primary;
    return r;
  }

  /**
   * The staging primary lock of `txnId` here, if any: its session's stored result (the staging prepare's
   * `prepared`) becomes the decided outcome `r`, so a retry of that seq is answered without a recovery.
   */
  private settleStagedSession(ctx: ApplyContext, txnId: string, primary: Buffer | undefined, r: CommandResult): void {
    if (primary === undefined) return;
    const pl = this.locks.locksOf(txnId).find((l) => l.staging !== undefined && l.key.equals(primary));
    const ss = pl?.staging?.session;
    if (ss === undefined) return;
    const st = this.sessions.get(ss.clientId);
    const stored = st?.results.get(ss.seq);
    if (st === undefined || stored === undefined) return;
    const was = decodeResult(stored);
    if (was.type !== 'txnStatus' || was.state !== 'prepared' || was.txnId !== txnId) return;
    const enc = encodeResult(r);
    st.results.set(ss.seq, enc);
    ctx.ops.push({ type: 'put', key: sessionResultKey(this.groupId, ss.clientId, ss.seq), value: enc });
  }

  /** Commits this range's locks of a transaction at commitTs (TxnCommitLocksCommand). */
  private txnCommitLocks(ctx: ApplyContext, cmd: Extract<Command, { type: 'txnCommitLocks' }>): CommandResult | Promise<CommandResult> {
    if (!Number.isSafeInteger(cmd.commitTs) || cmd.commitTs <= 0) return errorResult('INVALID_ARGUMENT', 'commit ts must be positive');
    if (cmd.onePhase !== undefined) return this.txnCommitOnePhase(ctx, cmd, cmd.onePhase);
    const mine = this.locks.locksOf(cmd.txnId);
    if (cmd.primary !== undefined) {
      const rec = this.locks.record(cmd.txnId);
      if (rec !== undefined) return rec.state === 'committed' ? this.txnStatus('committed', rec.ts, cmd.txnId) : StateMachine.abortedResult(cmd.txnId);
      if (!mine.some((l) => l.key.equals(cmd.primary!))) return StateMachine.abortedResult(cmd.txnId);
    } else if (!this.locks.holds(cmd.txnId)) {
      return this.txnStatus('committed', cmd.commitTs, cmd.txnId); // resolved before: nothing left here
    }
    for (const l of mine) {
      // The commit ts is the largest prepare ts of the transaction: never below a lock's (readers rely on it).
      if (l.prepTs > cmd.commitTs) return errorResult('INVALID_ARGUMENT', `commit ts ${cmd.commitTs} is below the prepare ts ${l.prepTs} of a lock`);
    }
    // Later writes here must get versions above the commit ts (the read set stays valid up to it).
    this.nextTs({ ...cmd, proposedTs: Math.max(cmd.proposedTs, cmd.commitTs) });
    this.settleStagedSession(ctx, cmd.txnId, cmd.primary, this.txnStatus('committed', cmd.commitTs, cmd.txnId));
    for (const l of mine) {
      if (l.kind === 'write' && l.mutation !== undefined) {
        if (l.mutation.op === 'put') ctx.put(l.key, l.mutation.value, cmd.commitTs);
        else ctx.del(l.key, cmd.commitTs);
      }
    }
    this.releaseLocks(ctx, cmd.txnId);
    if (cmd.primary !== undefined) {
      this.locks.setRecord({ txnId: cmd.txnId, primary: cmd.primary, state: 'committed', ts: cmd.commitTs });
      ctx.ops.push({ type: 'put', key: recordKey(cmd.primary, cmd.txnId), value: encodeRecord({ txnId: cmd.txnId, primary: cmd.primary, state: 'committed', ts: cmd.commitTs }) });
    }
    return this.txnStatus('committed', cmd.commitTs, cmd.txnId);
  }

  /**
   * The commit point of a transaction whose primary range was not prepared: its part is validated and
   * written here like a one-range commit, at a version above every secondary's prepare ts, and the
   * outcome recorded. Refused like a prepare (live lock in the way, conflict, too old), and refused if a
   * resolver recorded the abort first (it found a secondary lock past its TTL and no record here).
   */
  private async txnCommitOnePhase(ctx: ApplyContext, cmd: Extract<Command, { type: 'txnCommitLocks' }>, part: OnePhasePart): Promise<CommandResult> {
    if (typeof cmd.txnId !== 'string' || cmd.txnId.length === 0 || cmd.txnId.length > 256) return errorResult('INVALID_ARGUMENT', 'transaction id must be 1..256 characters');
    if (cmd.primary === undefined || cmd.primary.length === 0) return errorResult('INVALID_ARGUMENT', 'a one-phase commit needs its primary key');
    for (const m of part.writes) if (m.key.length === 0) return errorResult('INVALID_ARGUMENT', 'empty key in transaction');
    const rec = this.locks.record(cmd.txnId);
    if (rec !== undefined) return rec.state === 'committed' ? this.txnStatus('committed', rec.ts, cmd.txnId) : StateMachine.abortedResult(cmd.txnId);
    if (this.locks.holds(cmd.txnId)) return errorResult('INVALID_ARGUMENT', `transaction ${cmd.txnId} holds locks on its primary range: commit them, not a one-phase part`);
    if (part.startTs !== 0 && part.startTs < this._safePoint) {
      return errorResult('SNAPSHOT_TOO_OLD', `transaction start ${part.startTs} is below the GC safe point ${this._safePoint}`, { snapshotTs: part.startTs, safePoint: this._safePoint });
    }
    const blind = part.startTs === 0;
    const blocked = this.lockBlocking(cmd.txnId, blind ? [] : part.readKeys, blind ? [] : part.readRanges, part.writes);
    if (blocked !== undefined) return blocked;
    if (!blind) {
      const conflict = await this.validate(ctx, part.startTs, part.readKeys, part.readRanges, part.writes);
      if (conflict !== undefined) {
        return errorResult('TXN_CONFLICT', `transaction conflict on key ${JSON.stringify(conflict.key.toString('latin1'))} (committed at ${conflict.ts}); retry the transaction`, { key: conflict.key, conflictTs: conflict.ts });
      }
    }
    // Above the secondaries' prepare ts (readers rely on commit ts >= every lock's) and this range's last.
    const ts = this.nextTs({ ...cmd, proposedTs: Math.max(cmd.proposedTs, cmd.commitTs) });
    this.writeMutations(ctx, part.writes, ts);
    const record = { txnId: cmd.txnId, primary: cmd.primary, state: 'committed' as const, ts };
    this.locks.setRecord(record);
    ctx.ops.push({ type: 'put', key: recordKey(cmd.primary, cmd.txnId), value: encodeRecord(record) });
    return this.txnStatus('committed', ts, cmd.txnId);
  }

  private releaseLocks(ctx: ApplyContext, txnId: string): void {
    const { point, ranges } = this.locks.removeTxn(txnId, this._lastTs);
    for (const l of point) ctx.ops.push({ type: 'del', key: lockKey(l.key, txnId) });
    if (ranges > 0) this.persistRangeLocks(ctx);
  }

  /** Drops a transaction's locks here; as the primary, records the abort (TxnRollbackLocksCommand). */
  private txnRollbackLocks(ctx: ApplyContext, cmd: { txnId: string; primary?: Buffer; proposedTs: number; type: Command['type'] }, primary: boolean): CommandResult {
    const rec = this.locks.record(cmd.txnId);
    if (rec?.state === 'committed') return this.txnStatus('committed', rec.ts, cmd.txnId);
    const ts = this.nextTs(cmd as Command);
    if (primary && rec === undefined) {
      this.settleStagedSession(ctx, cmd.txnId, cmd.primary, this.txnStatus('aborted', ts, cmd.txnId));
    }
    this.releaseLocks(ctx, cmd.txnId);
    if (primary && rec === undefined && cmd.primary !== undefined) {
      this.locks.setRecord({ txnId: cmd.txnId, primary: cmd.primary, state: 'aborted', ts });
      ctx.ops.push({ type: 'put', key: recordKey(cmd.primary, cmd.txnId), value: encodeRecord({ txnId: cmd.txnId, primary: cmd.primary, state: 'aborted', ts }) });
    }
    return this.txnStatus('aborted', ts, cmd.txnId);
  }

  /** The transaction's fate as its primary range decides it (TxnCheckCommand). */
  private txnCheck(ctx: ApplyContext, cmd: Extract<Command, { type: 'txnCheck' }>): CommandResult {
    const rec = this.locks.record(cmd.txnId);
    if (rec !== undefined) return this.txnStatus(rec.state, rec.ts, cmd.txnId);
    const pl = this.locks.locksOf(cmd.txnId).find((l) => l.key.equals(cmd.primary));
    const expires = Math.max(pl !== undefined ? pl.prepTs + pl.ttlTs : 0, Number.isSafeInteger(cmd.lockExpiresTs) ? cmd.lockExpiresTs! : 0);
    if (cmd.force !== true && cmd.proposedTs < expires) return this.txnStatus('alive', expires, cmd.txnId);
    if (pl?.staging !== undefined) {
      // Parallel commits: it may be committed already (every part prepared) — only the participants'
      // answers can tell (a recovery, raftstore/lock-resolver.ts); aborting here could undo a commit.
      return { ...this.txnStatus('staging', pl.prepTs, cmd.txnId), primary: pl.key, participants: pl.staging.participants };
    }
    return this.txnRollbackLocks(ctx, cmd, true);
  }

  /** Recovery of a staging transaction asks one participant range (TxnCheckPartCommand). */
  private txnCheckPart(ctx: ApplyContext, cmd: Extract<Command, { type: 'txnCheckPart' }>): CommandResult {
    if (typeof cmd.txnId !== 'string' || cmd.txnId.length === 0 || cmd.txnId.length > 256) return errorResult('INVALID_ARGUMENT', 'transaction id must be 1..256 characters');
    // A split moves point locks with their keys and clips range locks to both halves: the lock that
    // proves this part prepared is in the range holding `key`.
    const held = this.locks.locksOf(cmd.txnId).find((l) => l.key.equals(cmd.key)) ?? this.locks.rangeLocksOf(cmd.txnId).find((l) => inKeyRange(cmd.key, l.start, l.end));
    if (held !== undefined) return this.txnStatus('prepared', held.prepTs, cmd.txnId);
    const rec = this.locks.record(cmd.txnId);
    if (rec !== undefined) return this.txnStatus(rec.state, rec.ts, cmd.txnId);
    // Not prepared here (or prepared and already resolved — then the primary's record is decided and the
    // recovery's own decision there yields to it): prevent the prepare for good.
    const ts = this.nextTs(cmd);
    const record = { txnId: cmd.txnId, primary: cmd.key, state: 'aborted' as const, ts };
    this.locks.setRecord(record);
    ctx.ops.push({ type: 'put', key: recordKey(cmd.key, cmd.txnId), value: encodeRecord(record) });
    return this.txnStatus('aborted', ts, cmd.txnId);
  }

  /** Backward OCC validation: the first read/written key or scanned range with a version > startTs. */
  private async validate(ctx: ApplyContext, startTs: number, readKeys: readonly Buffer[], ranges: readonly KeyRange[], writes: readonly Mutation[]): Promise<{ key: Buffer; ts: number } | undefined> {
    if (!this.unsafeSnapshotIsolation) {
      for (const k of readKeys) {
        const v = await ctx.latest(k);
        if (v !== undefined && v.ts > startTs) return { key: k, ts: v.ts };
      }
    }
    const checked = this.unsafeSnapshotIsolation ? undefined : new Set(readKeys.map((k) => k.toString('latin1')));
    for (const w of writes) {
      if (checked?.has(w.key.toString('latin1'))) continue; // a read-modify-write key: checked above
      const v = await ctx.latest(w.key);
      if (v !== undefined && v.ts > startTs) return { key: w.key, ts: v.ts };
    }
    if (this.unsafeSnapshotIsolation) return undefined;
    for (const r of ranges) {
      const c = await ctx.findNewer(r.start, r.end, startTs);
      if (c !== undefined) return c;
    }
    return undefined;
  }
}
