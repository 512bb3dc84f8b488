// Commands: every mutation of the store is a command, applied by the deterministic state machine
// (./state-machine.ts). Under Raft, each command is one log entry (encodeCommand → entry data →
// decodeCommand on every replica). Results are encoded too: the exactly-once session table stores them.
//
// Binary format (little code, no schema dependency): version byte, type byte, flags byte, varints for
// integers (all < 2^53), length-prefixed bytes/strings.
import type { Mutation, Session } from './api.js';
import {
  InvalidArgumentError,
  KvError,
  SessionExpiredError,
  SnapshotTooOldError,
  StorageError,
  TxnConflictError,
  TxnNotFoundError,
  TxnReadOnlyError,
  StoreClosedError,
  OverloadedError,
  KeyNotInRangeError,
  EpochNotMatchError,
  KeyLockedError,
  NotLeaderError,
  OutcomeUnknownError,
  RangeNotFoundError,
  OperationTimeoutError,
  type KvErrorCode,
} from './errors.js';

export interface KeyRange {
  /** Inclusive; undefined/empty = from the beginning. */
  start?: Buffer;
  /** Exclusive; undefined/empty = to the end. */
  end?: Buffer;
}

interface CommandBase {
  /** The proposer's hybrid clock reading; the applied version is max(lastTs + 1, proposedTs). */
  proposedTs: number;
  session?: Session;
}

export interface PutCommand extends CommandBase {
  type: 'put';
  key: Buffer;
  value: Buffer;
  expectedValue?: Buffer;
  expectAbsent?: boolean;
  returnPrev?: boolean;
}
export interface DeleteCommand extends CommandBase {
  type: 'delete';
  key: Buffer;
}
export interface DeleteRangeCommand extends CommandBase {
  type: 'deleteRange';
  start?: Buffer;
  end?: Buffer;
  /**
   * Chunked: delete at most this many keys, from `resume` (or `start`) on; the result's `resume` says
   * where the next chunk starts. Absent = the whole range in one command (commands logged before chunking).
   */
  maxKeys?: number;
  /** Where this chunk starts (the previous chunk's result.resume). */
  resume?: Buffer;
  /** Keys deleted by the earlier chunks (the result's `deleted` counts the whole request). */
  deletedBefore?: number;
}
export interface BatchCommand extends CommandBase {
  type: 'batch';
  mutations: Mutation[];
}
export interface TxnCommitCommand extends CommandBase {
  type: 'txnCommit';
  startTs: number;
  /** Keys read by the transaction (point reads). */
  readKeys: Buffer[];
  /** Ranges scanned by the transaction (phantom protection). */
  readRanges: KeyRange[];
  writes: Mutation[];
}
/** Raises the replicated GC safe point (monotonic). */
export interface SetSafePointCommand extends CommandBase {
  type: 'setSafePoint';
  safePoint: number;
}
/** Consumes a timestamp (e.g. to move applied ts past a future snapshot read; a Raft leader's empty entry). */
export interface NoopCommand extends CommandBase {
  type: 'noop';
  /**
   * Raises the range's timestamp ceiling (monotonic): the bound below which its leader may promise a
   * snapshot read without a Raft round, and which the first entry of every new term lifts the range's
   * timestamps above (docs/ARCHITECTURE.md, "Timestamp promises").
   */
  ceiling?: number;
  /** Local only, never encoded: the leader's empty entry of a new term (lastTs rises to the ceiling). */
  termStart?: boolean;
}
/**
 * Resolves a retried transaction commit through the log (exactly-once). Carries the retry's session
 * (same client id and seq as the commit it fences). Applied after the original commit entry, it returns
 * that entry's stored result; applied first, it stores "not committed" under the seq, so the original
 * entry — if it is still on its way — is answered from the session table and never applies.
 */
export interface FenceCommand extends CommandBase {
  type: 'fence';
  txnId: string;
  /**
   * A key the range must hold (KEY_NOT_IN_RANGE otherwise): a cross-range Batch's seq is settled only in
   * the range of its smallest key (raftstore/batch-commit.ts), so a stale route must not fence another.
   */
  key?: Buffer;
}
/**
 * Cluster-wide settings that change what apply does (so they must be identical on every replica).
 * `onlyIfUnset`: a node's startup flags seed the settings of a new cluster; the first such command
 * wins, later ones are no-ops (an operator changes them explicitly with onlyIfUnset = false).
 */
export interface SetSettingsCommand extends CommandBase {
  type: 'setSettings';
  settings: ReplicatedSettings;
  onlyIfUnset: boolean;
}

/** Settings every replica applies identically (persisted in the replicated state, part of snapshots). */
export interface ReplicatedSettings {
  /** Sessions idle for longer than this (measured in command timestamps) are dropped. */
  sessionTtlMs: number;
  /** Stored results per session before the oldest is forgotten. */
  maxResultsPerSession: number;
}

/**
 * Splits the range at `splitKey` (docs/sharding.md "Splits"): applied by every replica of the range, it
 * shrinks this range to [start, splitKey) and creates the right half [splitKey, end) as range
 * `newRangeId` with the same replicas, a copy of the session table and settings, and its own Raft state —
 * in the same engine batch, no data copied. `expectVersion` is the epoch version the proposer saw: a
 * split racing another split of the same range is refused (EPOCH_NOT_MATCH), never applied twice.
 */
export interface SplitCommand extends CommandBase {
  type: 'split';
  splitKey: Buffer;
  newRangeId: number;
  expectVersion: number;
}

/**
 * Publishes range records into the meta directory (meta/meta-directory.ts). Proposed to the meta range
 * (range 1) only, by each range's leader after the range changed; idempotent and order-insensitive (the
 * directory keeps the newest record per range by epoch and leader term), so a lost or repeated publish
 * is harmless and the publisher simply re-sends.
 */
export interface MetaUpdateCommand extends CommandBase {
  type: 'metaUpdate';
  /** Encoded MetaRecords. */
  records: Buffer[];
}

/**
 * Persists the TSO's high-water mark (meta/tso.ts): no timestamp at or above it has been handed out. The
 * meta range's leader proposes it before it serves from the window below it.
 */
export interface TsoPersistCommand extends CommandBase {
  type: 'tsoPersist';
  highWaterMs: number;
}

/**
 * Allocates `count` consecutive range ids from the meta range's counter (range 1 only): ids are unique
 * cluster-wide and never reused, because the counter is replicated state and moves only forward.
 * Proposed on any store's replica of range 1 (forwarded to its leader by Raft) before a split.
 */
export interface AllocIdsCommand extends CommandBase {
  type: 'allocIds';
  count: number;
}

/**
 * Phase one of a cross-range transaction (kv/txn-locks.ts) on one of its ranges: validates the range's
 * part of the read set and writes against startTs like txnCommit (serializable), then locks them —
 * write locks carry the mutations, read locks and range locks keep writers out until the transaction
 * resolves. `startTs` 0 = a blind write set (an atomic Batch): no version check. Idempotent per txnId.
 */
export interface TxnPrepareCommand extends CommandBase {
  type: 'txnPrepare';
  txnId: string;
  startTs: number;
  primary: Buffer;
  ttlTs: number;
  readKeys: Buffer[];
  readRanges: KeyRange[];
  writes: Mutation[];
  /**
   * Parallel commits: present on the PRIMARY range's prepare only (its *staging* prepare). One key of
   * every other range the transaction prepares; the primary lock keeps them (and the command's session),
   * so a recovery can ask each of those ranges whether its part prepared. The transaction is committed
   * once every part is prepared (the coordinator replies then), at the largest prepare ts of them all.
   */
  participants?: Buffer[];
}
/**
 * Commits the transaction's locks in this range at `commitTs`. With `primary` (the primary key) it is
 * the commit point: refused if the transaction's record says aborted or its primary lock is gone; writes
 * the committed record. Without, it resolves a secondary (no locks left here: already resolved, a no-op).
 *
 * With `onePhase` (and `primary`) the primary range was never prepared: this one command validates and
 * writes its part like a one-range commit (TxnCommitCommand) at a version >= `commitTs` (the largest
 * prepare ts of the secondaries) and records the outcome — one Raft round less per transaction.
 */
export interface TxnCommitLocksCommand extends CommandBase {
  type: 'txnCommitLocks';
  txnId: string;
  commitTs: number;
  primary?: Buffer;
  onePhase?: OnePhasePart;
}
/** The primary range's part of a transaction committed in one step (TxnCommitLocksCommand.onePhase). */
export interface OnePhasePart {
  /** 0 = blind writes (an atomic Batch): nothing validated. */
  startTs: number;
  readKeys: Buffer[];
  readRanges: KeyRange[];
  writes: Mutation[];
}
/** Drops the transaction's locks here; with `primary`, records the abort (a committed record wins). */
export interface TxnRollbackLocksCommand extends CommandBase {
  type: 'txnRollbackLocks';
  txnId: string;
  primary?: Buffer;
}
/**
 * Asks the primary's range for the transaction's fate: its record; else `alive` while its primary lock's
 * TTL — or the TTL of the lock the asker met (`lockExpiresTs`: the primary's range is not prepared when it
 * commits in one phase) — runs against this command's proposedTs; else it aborts it here (writes the
 * record) — so a dead coordinator's transaction is decided exactly once, by whichever of commit or check
 * applies first.
 */
export interface TxnCheckCommand extends CommandBase {
  type: 'txnCheck';
  txnId: string;
  primary: Buffer;
  lockExpiresTs?: number;
  /**
   * Judge the transaction as expired now (a retried commit resolving its lost outcome, or an operator's
   * --force): a staging transaction is answered `staging` at once, any other one aborted.
   */
  force?: boolean;
}
/**
 * Parallel-commit recovery on one participant range of a staging transaction: `prepared` (at the lock's
 * prepare ts) when the transaction holds a lock on `key` here; else the part is PREVENTED — an aborted
 * record for the transaction is written here (unless one is), which refuses its prepare for good — and
 * the answer is `aborted`. Either answer stays true: the recovery may decide on it.
 */
export interface TxnCheckPartCommand extends CommandBase {
  type: 'txnCheckPart';
  txnId: string;
  key: Buffer;
}

export type Command = PutCommand | DeleteCommand | DeleteRangeCommand | BatchCommand | TxnCommitCommand | SetSafePointCommand | NoopCommand | FenceCommand | SetSettingsCommand | SplitCommand | MetaUpdateCommand | TsoPersistCommand | AllocIdsCommand | TxnPrepareCommand | TxnCommitLocksCommand | TxnRollbackLocksCommand | TxnCheckCommand | TxnCheckPartCommand;

/** `staging`: prepared under parallel commits, its fate not yet recorded (TxnCheckCommand). */
export type TxnState = 'prepared' | 'committed' | 'aborted' | 'alive' | 'staging';

export type CommandResult =
  | { type: 'put'; version: number; succeeded: boolean; prevFound: boolean; prevValue?: Buffer }
  | { type: 'delete'; deleted: boolean; version: number }
  | { type: 'deleteRange'; deleted: number; version: number; resume?: Buffer }
  | { type: 'batch'; version: number }
  | { type: 'txnCommit'; commitTs: number }
  | { type: 'ok'; ts: number }
  /** Encoded descriptors (meta/range-descriptor.ts) of both halves after a split. */
  | { type: 'split'; left: Buffer; right: Buffer }
  /** allocIds: the ids [first, first + count) are this proposer's. */
  | { type: 'ids'; first: number; count: number }
  /** Cross-range transactions: prepared at ts (prepTs) / committed at ts / aborted / alive; txnId it concerns. */
  | TxnStatusResult
  | ErrorResult;

/**
 * Cross-range transactions: prepared at ts (prepTs) / committed at ts / aborted / alive / staging; the
 * txnId it concerns. A staging prepare's and a `staging` check's carry the primary key; a `staging`
 * check's also the participants (optional trailing fields).
 */
export interface TxnStatusResult {
  type: 'txnStatus';
  state: TxnState;
  ts: number;
  txnId: string;
  primary?: Buffer;
  participants?: Buffer[];
}

export interface ErrorResult {
  type: 'error';
  code: KvErrorCode;
  message: string;
  key?: Buffer;
  conflictTs?: number;
  snapshotTs?: number;
  safePoint?: number;
  /** KEY_NOT_IN_RANGE / EPOCH_NOT_MATCH: the range that refused. */
  rangeId?: number;
  /** KEY_LOCKED: the blocking lock (its transaction, primary key, prepare ts and TTL). */
  lock?: LockInfo;
}

/** What a refusal says about the lock in the way (enough to resolve it through its primary). */
export interface LockInfo {
  txnId: string;
  primary: Buffer;
  prepTs: number;
  ttlTs: number;
}

/** The typed error carried by an error result. */
export function resultError(r: ErrorResult): KvError {
  switch (r.code) {
    case 'TXN_CONFLICT':
      return new TxnConflictError(r.key ?? Buffer.alloc(0), r.conflictTs ?? 0, r.message);
    case 'SNAPSHOT_TOO_OLD':
      return new SnapshotTooOldError(r.snapshotTs ?? 0, r.safePoint ?? 0);
    case 'SESSION_EXPIRED':
      return new SessionExpiredError(r.message);
    case 'INVALID_ARGUMENT':
      return new InvalidArgumentError(r.message);
    case 'TXN_NOT_FOUND':
      return new TxnNotFoundError('?', r.message);
    case 'TXN_READ_ONLY':
      return new TxnReadOnlyError(r.message);
    case 'STORE_CLOSED':
      return new StoreClosedError();
    case 'OVERLOADED':
      return new OverloadedError(r.message);
    case 'KEY_NOT_IN_RANGE':
      return new KeyNotInRangeError(r.rangeId ?? 0, r.message);
    case 'EPOCH_NOT_MATCH':
      return new EpochNotMatchError(r.rangeId ?? 0, r.message);
    case 'NOT_LEADER':
      return new NotLeaderError(0, undefined, r.message);
    case 'OUTCOME_UNKNOWN':
      return new OutcomeUnknownError(0, undefined, r.message);
    case 'RANGE_NOT_FOUND':
      return new RangeNotFoundError(r.rangeId ?? 0, r.message);
    case 'TIMEOUT':
      return new OperationTimeoutError(r.message);
    case 'KEY_LOCKED':
      return new KeyLockedError(r.key ?? Buffer.alloc(0), r.lock ?? { txnId: '?', primary: Buffer.alloc(0), prepTs: 0, ttlTs: 0 }, r.message);
    case 'STORAGE_ERROR':
    default:
      return new StorageError(r.message);
  }
}

/** Throws the typed error of an error result, returns any other result unchanged. */
export function unwrapResult<T extends CommandResult['type']>(r: CommandResult, expected: T): Extract<CommandResult, { type: T }> {
  if (r.type === 'error') throw resultError(r);
  if (r.type !== expected) throw new StorageError(`unexpected command result ${r.type}, expected ${expected}`);
  return r as Extract<CommandResult, { type: T }>;
}

// ---------------------------------------------------------------------------------------------------
// Binary codec

const FORMAT_VERSION = 1;

const CMD_TYPES = ['put', 'delete', 'deleteRange', 'batch', 'txnCommit', 'setSafePoint', 'noop', 'fence', 'setSettings', 'split', 'metaUpdate', 'tsoPersist', 'allocIds', 'txnPrepare', 'txnCommitLocks', 'txnRollbackLocks', 'txnCheck', 'txnCheckPart'] as const;
const RESULT_TYPES = ['put', 'delete', 'deleteRange', 'batch', 'txnCommit', 'ok', 'error', 'split', 'ids', 'txnStatus'] as const;
const TXN_STATES: readonly TxnState[] = ['prepared', 'committed', 'aborted', 'alive', 'staging'];
const ERROR_CODES: readonly KvErrorCode[] = [
  'INVALID_ARGUMENT',
  'TXN_CONFLICT',
  'TXN_NOT_FOUND',
  'TXN_READ_ONLY',
  'SNAPSHOT_TOO_OLD',
  'SESSION_EXPIRED',
  'STORE_CLOSED',
  'STORAGE_ERROR',
  // Appended: the index is the encoding.
  'OVERLOADED',
  'KEY_NOT_IN_RANGE',
  'EPOCH_NOT_MATCH',
  'KEY_LOCKED',
  // Carried back from a remote store's transaction step (raftstore/txn-rpc.ts); never stored in sessions.
  'NOT_LEADER',
  'OUTCOME_UNKNOWN',
  'RANGE_NOT_FOUND',
  'TIMEOUT',
];

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export class BinaryWriter {
  private buf: Buffer;
  private pos = 0;
  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }
  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }
  /** Unsigned LEB128 varint of a safe non-negative integer. */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  string(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.ensure(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    return this;
  }
  /** Leaves `n` bytes unwritten (the caller fills them in later). */
  skip(n: number): this {
    this.ensure(n);
    this.pos += n;
    return this;
  }
  /** The written bytes: a view when the buffer is mostly used, else a copy sized exactly (nothing large kept alive for them). */
  finish(): Buffer {
    if (this.pos * 2 >= this.buf.length) return this.buf.subarray(0, this.pos);
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class BinaryReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    if (this.pos >= this.buf.length) throw new DecodeError('truncated');
    return this.buf[this.pos++]!;
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(v)) throw new DecodeError('varint too large');
        return v;
      }
      mul *= 0x80;
    }
    throw new DecodeError('varint too long');
  }
  bytes(): Buffer {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new DecodeError('truncated bytes');
    // Copy: decoded commands may outlive the (possibly pooled) input buffer.
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return out;
  }
  string(): string {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new DecodeError('truncated string');
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new DecodeError('trailing bytes');
  }
  /** Whether everything was read (optional trailing fields added by later formats). */
  atEnd(): boolean {
    return this.pos === this.buf.length;
  }
}

// Flags of a command.
const F_SESSION = 1;
const F_EXPECTED = 2;
const F_EXPECT_ABSENT = 4;
const F_RETURN_PREV = 8;
const F_START = 16;
const F_END = 32;
const F_CHUNK = 64;
const F_RESUME = 128;
/** txnCheck: `lockExpiresTs` follows (type-specific bits share the flag byte). */
const F_LOCK_EXPIRES = 2;
/** noop: `ceiling` follows. */
const F_CEILING = 2;
/** txnPrepare: the participants of a staging prepare follow the writes. */
const F_STAGING = 2;
/** txnCheck: judge as expired (TxnCheckCommand.force). */
const F_FORCE = 4;
/** fence: the key its range must hold follows. */
const F_FENCE_KEY = 2;

function writeMutations(w: BinaryWriter, ms: readonly Mutation[]): void {
  w.varint(ms.length);
  for (const m of ms) {
    if (m.op === 'put') {
      w.u8(0).bytes(m.key).bytes(m.value);
    } else {
      w.u8(1).bytes(m.key);
    }
  }
}

function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Exactly the bytes writeMutations emits for `m` (size checks against the Raft entry limit, kv/command-size.ts). */
export function encodedMutationBytes(m: Mutation): number {
  return 1 + varintBytes(m.key.length) + m.key.length + (m.op === 'put' ? varintBytes(m.value.length) + m.value.length : 0);
}

function readMutations(r: BinaryReader): Mutation[] {
  const n = r.varint();
  const out: Mutation[] = [];
  for (let i = 0; i < n; i++) {
    const op = r.u8();
    if (op === 0) out.push({ op: 'put', key: r.bytes(), value: r.bytes() });
    else if (op === 1) out.push({ op: 'delete', key: r.bytes() });
    else throw new DecodeError(`bad mutation op ${op}`);
  }
  return out;
}

const keysBound = (ks: readonly Uint8Array[]): number => {
  let n = 8;
  for (const k of ks) n += 8 + k.length;
  return n;
};

const mutationsBound = (ms: readonly Mutation[]): number => {
  let n = 8;
  for (const m of ms) n += 17 + m.key.length + (m.op === 'put' ? m.value.length : 0);
  return n;
};

const readSetBound = (readKeys: readonly Uint8Array[], readRanges: readonly KeyRange[]): number => {
  let n = keysBound(readKeys) + 8;
  for (const rg of readRanges) n += 17 + (rg.start?.length ?? 0) + (rg.end?.length ?? 0);
  return n;
};

/**
 * An upper bound of `cmd`'s encoded size (strings counted at 3 bytes a UTF-16 unit): its encoder
 * allocates once (a transaction's prepare, ~1 KB, regrew from 32 bytes five times).
 */
export function encodedBound(cmd: Command): number {
  let n = 64 + (cmd.session !== undefined ? 3 * cmd.session.clientId.length : 0);
  switch (cmd.type) {
    case 'put':
      return n + cmd.key.length + cmd.value.length + (cmd.expectedValue?.length ?? 0);
    case 'delete':
      return n + cmd.key.length;
    case 'deleteRange':
      return n + (cmd.start?.length ?? 0) + (cmd.end?.length ?? 0) + (cmd.resume?.length ?? 0);
    case 'batch':
      return n + mutationsBound(cmd.mutations);
    case 'txnCommit':
      return n + readSetBound(cmd.readKeys, cmd.readRanges) + mutationsBound(cmd.writes);
    case 'fence':
      return n + 3 * cmd.txnId.length + (cmd.key?.length ?? 0);
    case 'split':
      return n + cmd.splitKey.length;
    case 'metaUpdate':
      return n + keysBound(cmd.records);
    case 'txnPrepare':
      n += 3 * cmd.txnId.length + cmd.primary.length + readSetBound(cmd.readKeys, cmd.readRanges) + mutationsBound(cmd.writes);
      return n + (cmd.participants !== undefined ? keysBound(cmd.participants) : 0);
    case 'txnCommitLocks':
      n += 3 * cmd.txnId.length + (cmd.primary?.length ?? 0);
      return cmd.onePhase === undefined ? n : n + readSetBound(cmd.onePhase.readKeys, cmd.onePhase.readRanges) + mutationsBound(cmd.onePhase.writes);
    case 'txnRollbackLocks':
      return n + 3 * cmd.txnId.length + (cmd.primary?.length ?? 0);
    case 'txnCheck':
      return n + 3 * cmd.txnId.length + cmd.primary.length;
    case 'txnCheckPart':
      return n + 3 * cmd.txnId.length + cmd.key.length;
    default:
      return n;
  }
}

/**
 * The command's bytes. `prefix` bytes are left unwritten at the start for the caller's own header (a
 * Raft proposal's: raftstore/peer.ts encodeProposal), so the command is not copied behind it.
 */
export function encodeCommand(cmd: Command, prefix = 0): Buffer {
  const w = new BinaryWriter(prefix + encodedBound(cmd));
  w.skip(prefix);
  let flags = 0;
  if (cmd.session !== undefined) flags |= F_SESSION;
  if (cmd.type === 'put') {
    if (cmd.expectedValue !== undefined) flags |= F_EXPECTED;
    if (cmd.expectAbsent) flags |= F_EXPECT_ABSENT;
    if (cmd.returnPrev) flags |= F_RETURN_PREV;
  }
  if (cmd.type === 'deleteRange') {
    if (cmd.start !== undefined) flags |= F_START;
    if (cmd.end !== undefined) flags |= F_END;
    if (cmd.maxKeys !== undefined) flags |= F_CHUNK;
    if (cmd.resume !== undefined) flags |= F_RESUME;
  }
  if (cmd.type === 'txnCheck' && cmd.lockExpiresTs !== undefined) flags |= F_LOCK_EXPIRES;
  if (cmd.type === 'noop' && cmd.ceiling !== undefined) flags |= F_CEILING;
  if (cmd.type === 'txnPrepare' && cmd.participants !== undefined) flags |= F_STAGING;
  if (cmd.type === 'txnCheck' && cmd.force === true) flags |= F_FORCE;
  if (cmd.type === 'fence' && cmd.key !== undefined) flags |= F_FENCE_KEY;
  w.u8(FORMAT_VERSION).u8(CMD_TYPES.indexOf(cmd.type)).u8(flags).varint(cmd.proposedTs);
  if (cmd.session !== undefined) w.string(cmd.session.clientId).varint(cmd.session.seq).varint(cmd.session.firstUnacked);
  switch (cmd.type) {
    case 'put':
      w.bytes(cmd.key).bytes(cmd.value);
      if (cmd.expectedValue !== undefined) w.bytes(cmd.expectedValue);
      break;
    case 'delete':
      w.bytes(cmd.key);
      break;
    case 'deleteRange':
      if (cmd.start !== undefined) w.bytes(cmd.start);
      if (cmd.end !== undefined) w.bytes(cmd.end);
      if (cmd.maxKeys !== undefined) w.varint(cmd.maxKeys).varint(cmd.deletedBefore ?? 0);
      if (cmd.resume !== undefined) w.bytes(cmd.resume);
      break;
    case 'batch':
      writeMutations(w, cmd.mutations);
      break;
    case 'txnCommit':
      w.varint(cmd.startTs);
      writeReadSet(w, cmd.readKeys, cmd.readRanges);
      writeMutations(w, cmd.writes);
      break;
    case 'setSafePoint':
      w.varint(cmd.safePoint);
      break;
    case 'noop':
      if (cmd.ceiling !== undefined) w.varint(cmd.ceiling);
      break;
    case 'fence':
      w.string(cmd.txnId);
      if (cmd.key !== undefined) w.bytes(cmd.key);
      break;
    case 'setSettings':
      w.u8(cmd.onlyIfUnset ? 1 : 0).varint(cmd.settings.sessionTtlMs).varint(cmd.settings.maxResultsPerSession);
      break;
    case 'split':
      w.bytes(cmd.splitKey).varint(cmd.newRangeId).varint(cmd.expectVersion);
      break;
    case 'metaUpdate':
      w.varint(cmd.records.length);
      for (const r of cmd.records) w.bytes(r);
      break;
    case 'tsoPersist':
      w.varint(cmd.highWaterMs);
      break;
    case 'allocIds':
      w.varint(cmd.count);
      break;
    case 'txnPrepare':
      w.string(cmd.txnId).varint(cmd.startTs).bytes(cmd.primary).varint(cmd.ttlTs);
      writeReadSet(w, cmd.readKeys, cmd.readRanges);
      writeMutations(w, cmd.writes);
      if (cmd.participants !== undefined) writeKeyList(w, cmd.participants);
      break;
    case 'txnCommitLocks':
      // Flags: 1 = primary, 2 = one-phase part (appended bit: entries without it decode as before).
      w.string(cmd.txnId).varint(cmd.commitTs).u8((cmd.primary !== undefined ? 1 : 0) | (cmd.onePhase !== undefined ? 2 : 0));
      if (cmd.primary !== undefined) w.bytes(cmd.primary);
      if (cmd.onePhase !== undefined) {
        w.varint(cmd.onePhase.startTs);
        writeReadSet(w, cmd.onePhase.readKeys, cmd.onePhase.readRanges);
        writeMutations(w, cmd.onePhase.writes);
      }
      break;
    case 'txnRollbackLocks':
      w.string(cmd.txnId).u8(cmd.primary !== undefined ? 1 : 0);
      if (cmd.primary !== undefined) w.bytes(cmd.primary);
      break;
    case 'txnCheck':
      w.string(cmd.txnId).bytes(cmd.primary);
      if (cmd.lockExpiresTs !== undefined) w.varint(cmd.lockExpiresTs);
      break;
    case 'txnCheckPart':
      w.string(cmd.txnId).bytes(cmd.key);
      break;
  }
  return w.finish();
}

function writeKeyList(w: BinaryWriter, keys: readonly Buffer[]): void {
  w.varint(keys.length);
  for (const k of keys) w.bytes(k);
}

function readKeyList(r: BinaryReader): Buffer[] {
  const n = r.varint();
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes());
  return out;
}

function writeReadSet(w: BinaryWriter, readKeys: readonly Buffer[], readRanges: readonly KeyRange[]): void {
  w.varint(readKeys.length);
  for (const k of readKeys) w.bytes(k);
  w.varint(readRanges.length);
  for (const rg of readRanges) {
    w.u8((rg.start !== undefined ? 1 : 0) | (rg.end !== undefined ? 2 : 0));
    if (rg.start !== undefined) w.bytes(rg.start);
    if (rg.end !== undefined) w.bytes(rg.end);
  }
}

function readReadSet(r: BinaryReader): { readKeys: Buffer[]; readRanges: KeyRange[] } {
  const nk = r.varint();
  const readKeys: Buffer[] = [];
  for (let i = 0; i < nk; i++) readKeys.push(r.bytes());
  const nr = r.varint();
  const readRanges: KeyRange[] = [];
  for (let i = 0; i < nr; i++) {
    const f = r.u8();
    const rg: KeyRange = {};
    if (f & 1) rg.start = r.bytes();
    if (f & 2) rg.end = r.bytes();
    readRanges.push(rg);
  }
  return { readKeys, readRanges };
}

export function decodeCommand(buf: Buffer): Command {
  const r = new BinaryReader(buf);
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new DecodeError(`unknown command format ${version}`);
  const type = CMD_TYPES[r.u8()];
  if (type === undefined) throw new DecodeError('unknown command type');
  const flags = r.u8();
  const proposedTs = r.varint();
  let session: Session | undefined;
  if (flags & F_SESSION) session = { clientId: r.string(), seq: r.varint(), firstUnacked: r.varint() };
  const base = session !== undefined ? { proposedTs, session } : { proposedTs };
  let cmd: Command;
  switch (type) {
    case 'put': {
      const c: PutCommand = { type, ...base, key: r.bytes(), value: r.bytes() };
      if (flags & F_EXPECTED) c.expectedValue = r.bytes();
      if (flags & F_EXPECT_ABSENT) c.expectAbsent = true;
      if (flags & F_RETURN_PREV) c.returnPrev = true;
      cmd = c;
      break;
    }
    case 'delete':
      cmd = { type, ...base, key: r.bytes() };
      break;
    case 'deleteRange': {
      const c: DeleteRangeCommand = { type, ...base };
      if (flags & F_START) c.start = r.bytes();
      if (flags & F_END) c.end = r.bytes();
      if (flags & F_CHUNK) {
        c.maxKeys = r.varint();
        c.deletedBefore = r.varint();
      }
      if (flags & F_RESUME) c.resume = r.bytes();
      cmd = c;
      break;
    }
    case 'batch':
      cmd = { type, ...base, mutations: readMutations(r) };
      break;
    case 'txnCommit': {
      const startTs = r.varint();
      const { readKeys, readRanges } = readReadSet(r);
      cmd = { type, ...base, startTs, readKeys, readRanges, writes: readMutations(r) };
      break;
    }
    case 'txnPrepare': {
      const txnId = r.string();
      const startTs = r.varint();
      const primary = r.bytes();
      const ttlTs = r.varint();
      const { readKeys, readRanges } = readReadSet(r);
      const c: TxnPrepareCommand = { type, ...base, txnId, startTs, primary, ttlTs, readKeys, readRanges, writes: readMutations(r) };
      if (flags & F_STAGING) c.participants = readKeyList(r);
      cmd = c;
      break;
    }
    case 'txnCommitLocks': {
      const c: TxnCommitLocksCommand = { type, ...base, txnId: r.string(), commitTs: r.varint() };
      const flags = r.u8();
      if (flags > 3) throw new DecodeError(`bad txnCommitLocks flags ${flags}`);
      if ((flags & 1) !== 0) c.primary = r.bytes();
      if ((flags & 2) !== 0) {
        const startTs = r.varint();
        const { readKeys, readRanges } = readReadSet(r);
        c.onePhase = { startTs, readKeys, readRanges, writes: readMutations(r) };
      }
      cmd = c;
      break;
    }
    case 'txnRollbackLocks': {
      const c: TxnRollbackLocksCommand = { type, ...base, txnId: r.string() };
      if (r.u8() === 1) c.primary = r.bytes();
      cmd = c;
      break;
    }
    case 'txnCheck': {
      const c: TxnCheckCommand = { type, ...base, txnId: r.string(), primary: r.bytes() };
      if (flags & F_LOCK_EXPIRES) c.lockExpiresTs = r.varint();
      if (flags & F_FORCE) c.force = true;
      cmd = c;
      break;
    }
    case 'txnCheckPart':
      cmd = { type, ...base, txnId: r.string(), key: r.bytes() };
      break;
    case 'setSafePoint':
      cmd = { type, ...base, safePoint: r.varint() };
      break;
    case 'noop':
      cmd = flags & F_CEILING ? { type, ...base, ceiling: r.varint() } : { type, ...base };
      break;
    case 'fence': {
      const c: FenceCommand = { type, ...base, txnId: r.string() };
      if (flags & F_FENCE_KEY) c.key = r.bytes();
      cmd = c;
      break;
    }
    case 'setSettings': {
      const onlyIfUnset = r.u8() === 1;
      cmd = { type, ...base, onlyIfUnset, settings: { sessionTtlMs: r.varint(), maxResultsPerSession: r.varint() } };
      break;
    }
    case 'split':
      cmd = { type, ...base, splitKey: r.bytes(), newRangeId: r.varint(), expectVersion: r.varint() };
      break;
    case 'metaUpdate': {
      const n = r.varint();
      const records: Buffer[] = [];
      for (let i = 0; i < n; i++) records.push(r.bytes());
      cmd = { type, ...base, records };
      break;
    }
    case 'tsoPersist':
      cmd = { type, ...base, highWaterMs: r.varint() };
      break;
    case 'allocIds':
      cmd = { type, ...base, count: r.varint() };
      break;
  }
  r.end();
  return cmd;
}

const R_SUCCEEDED = 1;
const R_PREV_FOUND = 2;
const R_PREV_VALUE = 4;
const R_DELETED = 8;
const R_KEY = 16;

export function encodeResult(res: CommandResult): Buffer {
  const w = new BinaryWriter(res.type === 'put' && res.prevValue ? res.prevValue.length + 32 : 32);
  w.u8(FORMAT_VERSION).u8(RESULT_TYPES.indexOf(res.type));
  switch (res.type) {
    case 'put':
      w.u8((res.succeeded ? R_SUCCEEDED : 0) | (res.prevFound ? R_PREV_FOUND : 0) | (res.prevValue !== undefined ? R_PREV_VALUE : 0));
      w.varint(res.version);
      if (res.prevValue !== undefined) w.bytes(res.prevValue);
      break;
    case 'delete':
      w.u8(res.deleted ? R_DELETED : 0).varint(res.version);
      break;
    case 'deleteRange':
      w.varint(res.deleted).varint(res.version);
      // Optional trailing field: results stored before chunking existed end after the version.
      if (res.resume !== undefined) w.u8(1).bytes(res.resume);
      break;
    case 'batch':
      w.varint(res.version);
      break;
    case 'txnCommit':
      w.varint(res.commitTs);
      break;
    case 'ok':
      w.varint(res.ts);
      break;
    case 'split':
      w.bytes(res.left).bytes(res.right);
      break;
    case 'ids':
      w.varint(res.first).varint(res.count);
      break;
    case 'txnStatus':
      w.u8(TXN_STATES.indexOf(res.state)).varint(res.ts).string(res.txnId);
      // Optional trailing fields (results stored before parallel commits end here).
      if (res.primary !== undefined || res.participants !== undefined) {
        w.bytes(res.primary ?? Buffer.alloc(0));
        writeKeyList(w, res.participants ?? []);
      }
      break;
    case 'error': {
      const code = ERROR_CODES.indexOf(res.code);
      if (code < 0) throw new DecodeError(`error code ${res.code} cannot be stored`);
      w.u8(code).string(res.message);
      w.u8(res.key !== undefined ? R_KEY : 0);
      if (res.key !== undefined) w.bytes(res.key);
      w.varint(res.conflictTs ?? 0).varint(res.snapshotTs ?? 0).varint(res.safePoint ?? 0);
      // Optional trailing fields (results stored before ranges existed end here).
      if (res.rangeId !== undefined || res.lock !== undefined) w.varint(res.rangeId ?? 0);
      if (res.lock !== undefined) w.string(res.lock.txnId).bytes(res.lock.primary).varint(res.lock.prepTs).varint(res.lock.ttlTs);
      break;
    }
  }
  return w.finish();
}

export function decodeResult(buf: Buffer): CommandResult {
  const r = new BinaryReader(buf);
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new DecodeError(`unknown result format ${version}`);
  const type = RESULT_TYPES[r.u8()];
  let res: CommandResult;
  switch (type) {
    case 'put': {
      const f = r.u8();
      const p: Extract<CommandResult, { type: 'put' }> = { type, version: r.varint(), succeeded: (f & R_SUCCEEDED) !== 0, prevFound: (f & R_PREV_FOUND) !== 0 };
      if (f & R_PREV_VALUE) p.prevValue = r.bytes();
      res = p;
      break;
    }
    case 'delete': {
      const f = r.u8();
      res = { type, deleted: (f & R_DELETED) !== 0, version: r.varint() };
      break;
    }
    case 'deleteRange': {
      const d: Extract<CommandResult, { type: 'deleteRange' }> = { type, deleted: r.varint(), version: r.varint() };
      if (!r.atEnd() && r.u8() === 1) d.resume = r.bytes();
      res = d;
      break;
    }
    case 'batch':
      res = { type, version: r.varint() };
      break;
    case 'txnCommit':
      res = { type, commitTs: r.varint() };
      break;
    case 'ok':
      res = { type, ts: r.varint() };
      break;
    case 'split':
      res = { type, left: r.bytes(), right: r.bytes() };
      break;
    case 'ids':
      res = { type, first: r.varint(), count: r.varint() };
      break;
    case 'txnStatus': {
      const state = TXN_STATES[r.u8()];
      if (state === undefined) throw new DecodeError('unknown transaction state');
      const t: TxnStatusResult = { type, state, ts: r.varint(), txnId: r.string() };
      if (!r.atEnd()) {
        t.primary = r.bytes();
        const ps = readKeyList(r);
        if (state === 'staging') t.participants = ps;
      }
      res = t;
      break;
    }
    case 'error': {
      const code = ERROR_CODES[r.u8()];
      if (code === undefined) throw new DecodeError('unknown error code');
      const e: ErrorResult = { type, code, message: r.string() };
      if (r.u8() & R_KEY) e.key = r.bytes();
      const conflictTs = r.varint();
      const snapshotTs = r.varint();
      const safePoint = r.varint();
      if (code === 'TXN_CONFLICT') e.conflictTs = conflictTs;
      if (code === 'SNAPSHOT_TOO_OLD') {
        e.snapshotTs = snapshotTs;
        e.safePoint = safePoint;
      }
      if (!r.atEnd()) e.rangeId = r.varint();
      if (!r.atEnd()) e.lock = { txnId: r.string(), primary: r.bytes(), prepTs: r.varint(), ttlTs: r.varint() };
      res = e;
      break;
    }
    default:
      throw new DecodeError('unknown result type');
  }
  r.end();
  return res;
}
