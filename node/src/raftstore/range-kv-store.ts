// The KvStore of a multi-range store (docs/sharding.md "Routing"): routes every request to the local
// replica of the range that holds its key(s). Each range is its own Raft group with its own LocalStore
// (state machine, sessions, transactions, GC) over the store's one engine.
//
// Rules:
// * Single-key requests go to the range containing the key. A routing refusal (the range split after it
//   was chosen; the state machine refuses at apply) is certainly not applied: re-route and retry.
// * A read whose range split while it ran is re-run: after the read, the key must still be inside the
//   range that served it (else a newer write on the other half could have been missed).
// * Scans and DeleteRange run range by range, in key order (reverse scans backwards); limits span the
//   pieces. A scan without a snapshot is linearizable per range; with one (or in a transaction) every
//   piece reads the same snapshot — a piece of a range this store holds no replica of is then read at a
//   store that holds one (txn-rpc.ts; in a transaction recorded in that range's part); without one such
//   a piece is refused retryably (the client reads the page range by range). A Batch within one range
//   is one command; across ranges it commits atomically by two-phase commit (raftstore/txn-coordinator.ts),
//   blind (nothing validated).
// * A transaction takes its snapshot (start ts) at its first operation, on that key's range; every other
//   range it touches joins at the same start ts (its own one-range transaction there: read set, buffered
//   writes). Commit: one range touched → that range's one-proposal commit (1PC, as before ranges);
//   several → two-phase commit. A key its range lost to a split while the transaction ran is
//   EPOCH_NOT_MATCH (retryable: the client helper re-runs the body).
// * A request that meets a prepared transaction's lock (KEY_LOCKED) settles it (raftstore/lock-resolver.ts)
//   and retries, for at most the lock TTL plus a margin.
import { uniqueId } from '../common/unique-id.js';
import type { BeginOptions, DeleteResult, GetResult, KvStore, Mutation, PutOptions, PutResult, ReadOptions, ScanOptions, ScanResult, Session, StoreStatus, KeyValue } from '../kv/api.js';
import { applyCarriedWrites, applyReportedReads } from '../kv/carried-writes.js';
import { EpochNotMatchError, InvalidArgumentError, KeyLockedError, KeyNotInRangeError, KvError, OutcomeUnknownError, StoreClosedError, TxnConflictError, TxnNotFoundError } from '../kv/errors.js';
import { TS_PER_MS } from '../kv/state-machine.js';
import type { Logger } from '../common/logger.js';
import { LockResolver, earlyCheckPolicy } from './lock-resolver.js';
import { SecondaryCommits, storeSecondaryHoldMs } from './secondary-commits.js';
import { commitBatch, settleRefusal } from './batch-commit.js';
import { SEQ_REUSING_COMMIT, commitTwoPhase, type TwoPhaseResult, type TxnCrashPoint, type TxnPart } from './txn-coordinator.js';
import { RemotePartStore, RemoteRange, type RemoteRangeInfo, type TxnCallFn } from './txn-rpc.js';
import type { FenceOutcome, TxnParticipant } from '../kv/txn-steps.js';
import type { KeyRange } from '../kv/commands.js';
import type { RangeDescriptor } from '../meta/range-descriptor.js';
import type { LocalStore } from '../kv/local-store.js';
import { containsKey, containsSpan } from '../meta/range-descriptor.js';
import { prefixEnd } from '../engine/engine.js';

/** One local range replica as the router sees it. */
export interface RangeReplicaView {
  readonly rangeId: number;
  readonly store: LocalStore;
}

/** The local replicas, for routing. */
export interface RangeSet {
  /** Replicas sorted by start key (non-overlapping). */
  sorted(): readonly RangeReplicaView[];
  get(rangeId: number): RangeReplicaView | undefined;
  /** Resolves once the replicas of splits applied so far are open (a split's right half opens asynchronously). */
  settled(): Promise<void>;
}

/**
 * What a transaction's part needs of its range: a local replica (LocalStore) or, for a range this store
 * holds no replica of, a RemotePartStore (raftstore/txn-rpc.ts: reads and the commit steps travel to a
 * store that holds one).
 */
export interface TxnPartStore {
  readonly descriptor: Readonly<RangeDescriptor>;
  readonly steps: TxnParticipant;
  begin(opts?: BeginOptions): Promise<{ txnId: string; startTs: number }>;
  beginAt(startTs: number, opts?: BeginOptions): Promise<{ txnId: string; startTs: number }>;
  /** A part at `startTs` without making it repeatable here (its reads ran elsewhere: direct reads). */
  joinAt(startTs: number, opts?: BeginOptions): Promise<{ txnId: string; startTs: number }>;
  /** Reads at `ts` through this part are repeatable from now on (a part that was joined). */
  makeRepeatable(ts: number): Promise<void>;
  /** Keys the client read at the snapshot outside the transaction. */
  noteReads(txnId: string, keys: readonly Buffer[]): void;
  get(key: Buffer, opts: ReadOptions): Promise<GetResult>;
  put(key: Buffer, value: Buffer, opts: PutOptions): Promise<PutResult>;
  delete(key: Buffer, opts: { txnId?: string }): Promise<DeleteResult>;
  scan(opts: ScanOptions): Promise<ScanResult>;
  commit(txnId: string, opts?: { session?: Session }): Promise<{ commitTs: number }>;
  rollback(txnId: string): Promise<void>;
  hasTxn(txnId: string): boolean;
  txnTouched(txnId: string): boolean;
  txnWrites(txnId: string): number;
  txnSets(txnId: string): { startTs: number; readKeys: Buffer[]; readRanges: KeyRange[]; writes: Mutation[] };
}

/** One range's part of a running transaction (its one-range transaction there). */
interface RoutePart {
  rangeId: number;
  store: TxnPartStore;
  /** Set when the range has no replica here. */
  remote?: RemotePartStore;
  innerId: string;
  /** The range's bounds when the part began (a key inside them but no longer in the range: it split). */
  start: Buffer;
  end: Buffer;
  /**
   * Reads at the snapshot through this part are repeatable on its replica (begun at it). A part joined
   * for direct reads' validation or for writes is not, until a read through it (partOf) makes it so.
   */
  repeatable: boolean;
}

interface TxnRoute {
  opts: BeginOptions;
  createdAt: number;
  lastUsed: number;
  /** The snapshot every part reads at, fixed by the first operation (at Begin with direct reads). */
  startTs?: number;
  /**
   * Direct reads (BeginOptions.directReads): the client reads at `startTs` outside the transaction, each
   * read made repeatable on the replica that served it, and reports the keys with the commit. Parts it
   * only validates or writes then join without a raise here (no timestamp promise from a leader elsewhere).
   */
  direct?: boolean;
  starting?: Promise<number>;
  parts: Map<number, RoutePart>;
  committing?: Promise<{ commitTs: number }>;
  /** An attempt started committing it (kv/carried-writes.ts: then no carried write's error is an answer). */
  commitStarted?: boolean;
}

const MAX_ROUTE_ATTEMPTS = 10;
const EMPTY = Buffer.alloc(0);

function isRoutingRefusal(e: unknown): boolean {
  return e instanceof KvError && (e.code === 'KEY_NOT_IN_RANGE' || e.code === 'RANGE_NOT_FOUND');
}

export interface RangeKvStoreOptions {
  /** Scan limit when the request gives none (the LocalStores' default). */
  defaultScanLimit?: number;
  maxScanLimit?: number;
  /** Unbound transactions are forgotten after this long without their first operation (default 10 min). */
  unboundTxnTimeoutMs?: number;
  /** Closing the KvStore closes its owner (the RaftNode: every replica, the transport, the engine). */
  onClose?: () => Promise<void>;
  /** Where a key's range is, from the meta directory (for the hint of a refusal). */
  locate?: (key: Buffer) => { rangeId: number; leaderAddress: string } | undefined;
  /** Lifetime of a prepared cross-range transaction's locks (default 3 s): a dead coordinator's locks are aborted after it. */
  txnLockTtlMs?: number;
  /** Parallel commits: a cross-range commit replies once every range prepared (txn-coordinator.ts). Off unless set; kvs-node sets it from --txn-parallel-commit, on by default. */
  txnParallelCommit?: boolean;
  /** How long a secondary commit waits to ride the range's next proposal from this store (secondary-commits.ts; default SECONDARY_HOLD_MS, 10 ms; 0: sent at once). Only with parallel commits. */
  secondaryHoldMs?: number;
  /**
   * A DeleteRange spanning several ranges is one transaction (atomic) while it finds at most this many
   * keys (default 1 000, the per-range chunk: one range's DeleteRange is one command up to it); above,
   * it runs range by range, chunk by chunk.
   */
  atomicDeleteKeys?: number;
  /** Wall clock in ms (tests). */
  nowMs?: () => number;
  logger?: Logger;
  /** TEST ONLY: see TxnManagerOptions.unsafeStaleSnapshots (for the parts on ranges reached remotely). */
  unsafeStaleSnapshots?: boolean;
  /** TEST ONLY (KVS_TEST_CRASH_AT_TXN): called at each crash point of a cross-range commit. */
  testCrashAtTxn?: (point: TxnCrashPoint) => void;
  /**
   * Ranges this store holds no replica of (transactions and batches reaching them): where they are (the
   * meta directory) and how to call a store that holds one (raftstore/txn-rpc.ts). Absent: such keys are
   * refused retryably (KEY_NOT_IN_RANGE) and the client tries another store. `locate(key, true)`: the
   * range holding the keys just below `key` (an exclusive bound, empty = +∞; a reverse scan's cursor).
   * It may ask other stores (raftstore/range-locate.ts) and rejects with a retryable error when none answers.
   */
  remote?: { locate(key: Buffer, before?: boolean): Promise<RemoteRangeInfo | undefined>; call: TxnCallFn };
}

export class RangeKvStore implements KvStore {
  private readonly txns = new Map<string, TxnRoute>();
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;
  private readonly defaultScanLimit: number;
  private readonly maxScanLimit: number;
  private readonly lockTtlMs: number;
  readonly resolver: LockResolver;
  /** Secondary commits behind the replies, coalesced per range. */
  readonly secondaries: SecondaryCommits;

  constructor(private readonly ranges: RangeSet, private readonly opts: RangeKvStoreOptions = {}) {
    this.defaultScanLimit = opts.defaultScanLimit ?? 1000;
    this.maxScanLimit = opts.maxScanLimit ?? 10_000;
    this.lockTtlMs = opts.txnLockTtlMs ?? 3000;
    const nowMs = opts.nowMs ?? Date.now;
    // Held commits only with parallel commits: there every part of another coordinator's transaction is a
    // prepare (the two-round Batch and DeleteRange prepare their primary too), which a lock refuses before
    // the session table, so it settles a held lock and tries again. Without them a transaction's commit
    // point is one-phase: it stores a lock's refusal under its session seq (secondary-commits.ts).
    const holdMs = storeSecondaryHoldMs(opts.txnParallelCommit === true, opts.secondaryHoldMs);
    this.secondaries = new SecondaryCommits(opts.logger, { holdMs });
    this.resolver = new LockResolver(
      {
        storeFor: async (key) => this.participantFor(key),
        nowTs: () => nowMs() * TS_PER_MS,
        hurry: (txnId) => this.secondaries.hurry(txnId),
        ...(opts.logger !== undefined ? { log: opts.logger } : {}),
      },
      // The stores of one cluster run with the same hold: a lock met may be held elsewhere, checked at once.
      { earlyCheck: earlyCheckPolicy(holdMs) },
    );
    this.sweeper = setInterval(() => this.sweep(), 5000);
    this.sweeper.unref();
  }

  // ---------------- routing ----------------

  /** The local replica whose range contains `key` (binary search over start keys). */
  replicaFor(key: Buffer): RangeReplicaView {
    const list = this.ranges.sorted();
    let lo = 0;
    let hi = list.length - 1;
    let found: RangeReplicaView | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = list[mid]!;
      if (Buffer.compare(r.store.descriptor.start, key) <= 0) {
        found = r;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found === undefined || !containsKey(found.store.descriptor, key)) {
      throw new KeyNotInRangeError(found?.rangeId ?? 0, `no local range holds key ${key.toString('hex')} (this store does not replicate it)`);
    }
    return found;
  }

  /**
   * A prepared transaction's outcome as this store already knows it, without a Raft command
   * (LocalStoreOptions.knownTxnOutcome): committed when this store, as its coordinator, has its commit
   * queued (secondary-commits.ts: queued only after the commit point); else the record in a local
   * replica of its primary's range — a decided record never changes, so a replica lagging behind its
   * leader may answer. Only the primary's own record counts: a participant's "prevented" record (an
   * aborted record keyed by that participant's key) does not decide the transaction.
   */
  knownTxnOutcome(txnId: string, primary: Buffer): { state: 'committed' | 'aborted'; ts: number } | undefined {
    const ts = this.secondaries.committedTs(txnId);
    if (ts !== undefined) return { state: 'committed', ts };
    try {
      const rec = this.replicaFor(primary).store.sm.locks.record(txnId);
      return rec !== undefined && rec.primary.equals(primary) ? { state: rec.state, ts: rec.ts } : undefined;
    } catch {
      return undefined; // no local replica of the primary's range (or one being replaced by a snapshot)
    }
  }

  /** replicaFor, waiting for replicas that applied splits are still opening. */
  private async route(key: Buffer): Promise<RangeReplicaView> {
    try {
      return this.replicaFor(key);
    } catch (e) {
      await this.ranges.settled();
      return this.replicaFor(key);
    }
  }

  /** Replicas overlapping [start, end) (end empty = +∞), in key order. */
  private replicasOver(start: Buffer, end: Buffer): RangeReplicaView[] {
    const out: RangeReplicaView[] = [];
    for (const r of this.ranges.sorted()) {
      const d = r.store.descriptor;
      if (end.length > 0 && Buffer.compare(d.start, end) >= 0) break;
      if (d.end.length > 0 && Buffer.compare(d.end, start) <= 0) continue;
      out.push(r);
    }
    return out;
  }

  /** Runs `fn` on the range of `key`, re-routing after routing refusals (certainly not applied). */
  private async onKey<T>(key: Buffer, fn: (r: RangeReplicaView) => Promise<T>, recheck = false): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.check();
      const r = await this.route(key);
      try {
        const out = await fn(r);
        // A read must have been served while the key was still this range's.
        if (recheck && !containsKey(r.store.descriptor, key)) {
          if (attempt >= MAX_ROUTE_ATTEMPTS) throw new KeyNotInRangeError(r.rangeId, `range ${r.rangeId} kept changing under the read; retry`);
          continue;
        }
        return out;
      } catch (e) {
        if (!isRoutingRefusal(e) || attempt >= MAX_ROUTE_ATTEMPTS) throw e;
      }
    }
  }

  private check(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /**
   * Runs `fn`, settling the prepared transactions' locks it meets (each attempt re-runs `fn`: a refusal
   * by a lock is certainly not applied). Gives up after the lock TTL plus a margin, as a conflict.
   */
  private async settling<T>(fn: () => Promise<T>, onLock?: () => void): Promise<T> {
    const deadline = Date.now() + this.lockTtlMs + 5000;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof KeyLockedError)) throw e;
        onLock?.();
        if (Date.now() > deadline) throw new TxnConflictError(e.key, 0, `${e.message}; it did not resolve in time`);
        await this.resolver.resolve(e, attempt);
      }
    }
  }

  /** The first key of [start, end) (end empty = +∞) that no local range holds, or undefined. */
  private firstHole(start: Buffer, end: Buffer): Buffer | undefined {
    let at = start;
    for (const r of this.replicasOver(start, end)) {
      const d = r.store.descriptor;
      if (Buffer.compare(d.start, at) > 0) return at;
      if (d.end.length === 0) return undefined;
      if (Buffer.compare(d.end, at) > 0) at = d.end;
    }
    return end.length > 0 && Buffer.compare(at, end) >= 0 ? undefined : at;
  }

  /** The refusal of a request reaching a key span no local range holds (scan cursor `at`). */
  private notHeld(at: Buffer, reverse: boolean): KeyNotInRangeError {
    // In reverse the cursor is an exclusive upper bound: the missing span ends there.
    const where = reverse ? (at.length === 0 ? 'the end of the key space' : `keys below ${at.toString('hex')}`) : `key ${at.toString('hex') || '(start)'}`;
    const rec = reverse ? undefined : this.opts.locate?.(at);
    const hint = rec !== undefined ? ` (range ${rec.rangeId}${rec.leaderAddress ? `, led at ${rec.leaderAddress}` : ''})` : '';
    return new KeyNotInRangeError(rec?.rangeId ?? 0, `this store holds no replica of the range of ${where}${hint}; retry on a store that does`);
  }

  // ---------------- KvStore ----------------

  /** `onLock`: hears each lock this read met (a transaction call reports it, txn-rpc.ts). */
  async get(key: Buffer, opts: ReadOptions = {}, onLock?: () => void): Promise<GetResult> {
    if (opts.txnId) return this.inTxn(opts.txnId, key, (st, id) => st.get(key, { ...opts, txnId: id }));
    return this.settling(async () => {
      try {
        return await this.onKey(key, (r) => r.store.get(key, opts), true);
      } catch (e) {
        if (!(e instanceof KeyNotInRangeError) || this.opts.remote === undefined) throw e;
        // No local replica holds the key (a range moved off this store): read it at a store that does,
        // as a gateway — whatever store a client (or a Kubernetes Service) reached serves the read.
        const at = await this.localOrRemote(key);
        if (at.remote === undefined) throw e; // a replica appeared meanwhile: the client retries here
        // No holder answered: a read has no outcome to be unsure of — refuse it as before (the client
        // tries another store) rather than with the remote call's OUTCOME_UNKNOWN.
        return await at.remote.getResult(key, opts.snapshotTs).catch((err: unknown) => {
          throw err instanceof OutcomeUnknownError ? e : err;
        });
      }
    }, onLock);
  }

  async put(key: Buffer, value: Buffer, opts: PutOptions = {}): Promise<PutResult> {
    if (opts.txnId) {
      const reads = opts.expectedValue !== undefined || opts.expectAbsent === true || opts.returnPrev === true;
      return this.inTxn(opts.txnId, key, (st, id) => st.put(key, value, { ...opts, txnId: id }), reads);
    }
    return this.settling(() => this.onKey(key, (r) => r.store.put(key, value, opts)));
  }

  async delete(key: Buffer, opts: { session?: Session; txnId?: string } = {}): Promise<DeleteResult> {
    if (opts.txnId) return this.inTxn(opts.txnId, key, (st, id) => st.delete(key, { ...opts, txnId: id }));
    return this.settling(() => this.onKey(key, (r) => r.store.delete(key, opts)));
  }

  async batch(mutations: Mutation[], opts: { session?: Session } = {}): Promise<{ version: number }> {
    if (!Array.isArray(mutations) || mutations.length === 0) return this.onKey(this.firstKey(), (r) => r.store.batch(mutations, opts));
    return this.settling(async () => {
      for (let attempt = 1; ; attempt++) {
        const first = await this.route(mutations[0]!.key).catch((e: unknown) => {
          if (this.opts.remote !== undefined && e instanceof KeyNotInRangeError) return undefined;
          throw e;
        });
        if (first === undefined) return await this.batchAcrossRanges(mutations, opts.session);
        let one = true;
        for (const m of mutations) {
          if (!Buffer.isBuffer(m.key) || m.key.length === 0) break; // the range store reports it
          if (!containsKey(first.store.descriptor, m.key)) one = false;
        }
        try {
          if (one) return await first.store.batch(mutations, opts);
          return await this.batchAcrossRanges(mutations, opts.session);
        } catch (e) {
          if (!isRoutingRefusal(e) || attempt >= MAX_ROUTE_ATTEMPTS) throw e;
        }
      }
    });
  }

  /** An atomic Batch over several ranges: blind two-phase commit (the last write of a key wins; batch-commit.ts). */
  private async batchAcrossRanges(mutations: Mutation[], session: Session | undefined): Promise<{ version: number }> {
    const byRange = new Map<number, TxnPart>();
    const last = new Map<string, Mutation>();
    for (const m of mutations) {
      if (m.op !== 'put' && m.op !== 'delete') throw new InvalidArgumentError('mutation op must be put or delete');
      if (m.op === 'put' && !Buffer.isBuffer(m.value)) throw new InvalidArgumentError('mutation value must be bytes');
      last.set(m.key.toString('latin1'), m);
    }
    for (const m of last.values()) {
      const where = await this.localOrRemote(m.key);
      const rangeId = where.local !== undefined ? where.local.rangeId : where.remote.info.descriptor.rangeId;
      let part = byRange.get(rangeId);
      if (part === undefined) byRange.set(rangeId, (part = { store: where.local !== undefined ? where.local.store.steps : where.remote.participant, local: where.local !== undefined, readKeys: [], readRanges: [], writes: [] }));
      part.writes.push(m);
    }
    const only = byRange.size === 1 ? [...byRange.values()][0]! : undefined;
    if (only !== undefined && only.local !== true) {
      // One range, none of it here: a one-range Batch on a store holding it (its seq must be applied the
      // way any attempt of it on such a store applies it, as one batch command).
      throw new KeyNotInRangeError(0, 'this store holds no replica of the range the batch writes; retry on a store that does');
    }
    // Exactly once across attempts on any store: the commit point is the range of the smallest key.
    const { commitTs } = await commitBatch([...byRange.values()], this.twoPhaseOptions(uniqueId('b'), 0, session), (key) => this.participantFor(key));
    return { version: commitTs };
  }

  private twoPhaseOptions(txnId: string, startTs: number, session: Session | undefined): Parameters<typeof commitTwoPhase>[1] {
    return {
      txnId,
      startTs,
      ttlTs: this.lockTtlMs * TS_PER_MS,
      parallel: this.opts.txnParallelCommit === true,
      resolver: this.resolver,
      secondaries: this.secondaries,
      ...(session !== undefined && session.clientId && session.seq > 0 ? { session: { clientId: session.clientId, seq: session.seq, firstUnacked: session.firstUnacked > 0 ? session.firstUnacked : 1 } } : {}),
      ...(this.opts.logger !== undefined ? { log: this.opts.logger } : {}),
      ...(this.opts.testCrashAtTxn !== undefined ? { crashAt: this.opts.testCrashAtTxn } : {}),
    };
  }

  /** The smallest key of the first local range (where key-less requests go). */
  private firstKey(): Buffer {
    const list = this.ranges.sorted();
    const s = list[0]?.store.descriptor.start;
    return s !== undefined && s.length > 0 ? s : Buffer.from([0]);
  }

  async deleteRange(range: { start?: Buffer; end?: Buffer; prefix?: Buffer }, opts: { session?: Session } = {}): Promise<{ deleted: number; version: number }> {
    // Re-run whole after a lock was settled: pieces done before answer from their session tables.
    return this.settling(() => this.deleteRangeOnce(range, opts));
  }

  private async deleteRangeOnce(range: { start?: Buffer; end?: Buffer; prefix?: Buffer }, opts: { session?: Session }): Promise<{ deleted: number; version: number }> {
    const { start, end } = userBounds(range);
    let deleted = 0;
    let version = 0;
    let hole = this.firstHole(start, end);
    if (hole !== undefined) {
      await this.ranges.settled();
      hole = this.firstHole(start, end);
    }
    // Several ranges (a range this store lacks is reached remotely, txn-rpc.ts): one transaction.
    if ((hole !== undefined && this.opts.remote !== undefined) || (hole === undefined && this.replicasOver(start, end).length > 1)) {
      const atomic = await this.deleteRangeAtomic(start, end, opts);
      if (atomic !== undefined) return atomic;
    }
    // Too many keys for one, and a range this store lacks: refused before anything is deleted, so the
    // client can send it range by range without losing the count of what this store deleted first —
    // under new seqs: this one is settled first (an earlier attempt of it, say on a store holding every
    // range, is answered, or can no longer apply).
    if (hole !== undefined) {
      if (opts.session === undefined || this.opts.remote === undefined) throw this.notHeld(hole, false);
      const r = await this.settleDeleteRange(this.notHeld(hole, false), start, opts.session);
      if (r.earlier?.deleted !== undefined) {
        // A one-range DeleteRange result: most likely the first piece of an earlier attempt that ran
        // range by range (it too found more keys than one atomic delete takes). Only its own pieces,
        // on a store holding every range of the span, can finish it exactly once.
        throw new OutcomeUnknownError(0, undefined, 'an earlier attempt of this DeleteRange ran range by range; retry it with the same session on a store holding every range of its span');
      }
      return this.earlierDelete(start, end, r.commitTs, undefined);
    }
    // Piece by piece in key order: one range, or a span with more keys than one atomic delete takes (not
    // atomic across ranges then, as a DeleteRange above one chunk is not within a range); a retry with the
    // same session is answered per range from its table.
    let from = start;
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.check();
      if (end.length > 0 && Buffer.compare(from, end) >= 0) break;
      const r = await this.route(from.length > 0 ? from : this.firstKey());
      const d = r.store.descriptor;
      const pieceEnd = d.end.length === 0 ? end : end.length === 0 ? d.end : Buffer.compare(d.end, end) < 0 ? d.end : end;
      try {
        const res = await r.store.deleteRange({ ...(from.length > 0 ? { start: from } : {}), ...(pieceEnd.length > 0 ? { end: pieceEnd } : {}) }, opts);
        deleted += res.deleted;
        version = Math.max(version, res.version);
      } catch (e) {
        if (isRoutingRefusal(e)) continue; // split under us: the same piece again, re-routed
        throw e;
      }
      if (pieceEnd.length === 0) break;
      from = pieceEnd;
    }
    return { deleted, version };
  }

  /**
   * A DeleteRange over several ranges as one serializable transaction: scan the span at a snapshot (the
   * scanned span joins the read set, so a key written into it before the commit is a conflict), delete
   * every key found, commit — two-phase across the ranges, all or nothing. A conflict re-runs it, at a
   * snapshot above the conflicting write. Undefined: more keys than one atomic delete takes (nothing was
   * written; the caller deletes piecewise).
   *
   * Exactly once, on any store (batch-commit.ts's two rules, as for a Batch): the commit point is always
   * the range holding the span's start (`primaryKey`, which the transaction deletes too — a tombstone if
   * there is no such key, not counted), so every attempt of the session seq meets the same table; and a
   * refusal is final only once the seq is settled there. Always writing also keeps an empty span from
   * committing read-only at a snapshot below a write that completed before the request began.
   */
  private async deleteRangeAtomic(start: Buffer, end: Buffer, opts: { session?: Session }): Promise<{ deleted: number; version: number } | undefined> {
    const max = this.opts.atomicDeleteKeys ?? 1000;
    const primaryKey = deleteRangePrimary(start);
    if (end.length > 0 && Buffer.compare(primaryKey, end) >= 0) return undefined; // no key fits: one range's business
    let minStartTs = 0;
    for (let attempt = 1; ; attempt++) {
      const { txnId } = await this.begin(minStartTs > 0 ? { minStartTs } : {});
      try {
        const keys: Buffer[] = [];
        let from = start;
        for (;;) {
          const page = await this.scan({ txnId, keysOnly: true, limit: Math.min(max + 1 - keys.length, this.maxScanLimit), ...(from.length > 0 ? { start: from } : {}), ...(end.length > 0 ? { end } : {}) });
          for (const kv of page.kvs) keys.push(kv.key);
          if (keys.length > max) {
            await this.rollback(txnId);
            return undefined;
          }
          if (!page.more || page.kvs.length === 0) break;
          from = Buffer.concat([page.kvs[page.kvs.length - 1]!.key, ZERO_BYTE]);
        }
        for (const k of keys) await this.delete(k, { txnId });
        if (!keys.some((k) => k.equals(primaryKey))) await this.delete(primaryKey, { txnId });
        const r = await this.commitPinned(txnId, primaryKey, opts.session);
        return r.earlier === undefined ? { deleted: keys.length, version: r.commitTs } : await this.earlierDelete(start, end, r.commitTs, r.earlier.deleted);
      } catch (e) {
        await this.rollback(txnId).catch(() => undefined);
        if (e instanceof TxnConflictError && attempt < ATOMIC_DELETE_ATTEMPTS) {
          minStartTs = Math.max(minStartTs, e.conflictTs);
          await new Promise((r) => setTimeout(r, 5 * attempt * (1 + Math.random())));
          continue;
        }
        const r = await this.settleDeleteRange(e, start, opts.session);
        return this.earlierDelete(start, end, r.commitTs, r.earlier?.deleted);
      }
    }
  }

  /**
   * Rule 2 for a DeleteRange refused with `e` (batch-commit.ts): settled at its commit point, routing
   * refusals too — its client answers those by sending the span range by range under new seqs.
   */
  private settleDeleteRange(e: unknown, start: Buffer, session: Session | undefined): Promise<TwoPhaseResult> {
    return settleRefusal(e, this.twoPhaseOptions(uniqueId('d'), 0, session), deleteRangePrimary(start), (key) => this.participantFor(key), true);
  }

  /**
   * The answer of an earlier attempt of this DeleteRange that committed at `version`: its stored count
   * (a one-range DeleteRange), or the keys of the span live just below `version` — exactly the keys it
   * deleted, as its read of the span was validated up to its commit.
   */
  private async earlierDelete(start: Buffer, end: Buffer, version: number, deleted: number | undefined): Promise<{ deleted: number; version: number }> {
    if (deleted !== undefined) return { deleted, version };
    let n = 0;
    try {
      for (let from = start; ; ) {
        const page = await this.scan({ snapshotTs: version - 1, keysOnly: true, limit: this.maxScanLimit, ...(from.length > 0 ? { start: from } : {}), ...(end.length > 0 ? { end } : {}) });
        n += page.kvs.length;
        if (!page.more || page.kvs.length === 0) return { deleted: n, version };
        from = Buffer.concat([page.kvs[page.kvs.length - 1]!.key, ZERO_BYTE]);
      }
    } catch (e) {
      // Applied once, at `version`; only its count is lost (collected, say): the client retries the seq.
      throw new OutcomeUnknownError(0, undefined, `this DeleteRange applied at version ${version}, but its count could not be read back (${e instanceof Error ? e.message : String(e)}); retry it with the same session`);
    }
  }

  async scan(opts: ScanOptions): Promise<ScanResult> {
    return this.settling(() => this.scanOnce(opts, true));
  }

  /**
   * A scan over this store's own replicas only (a hole is refused, never read elsewhere): what a
   * transaction call from another store runs (txn-rpc.ts), so a stale directory cannot bounce a piece
   * from store to store.
   */
  async scanHeld(opts: ScanOptions, onLock?: () => void): Promise<ScanResult> {
    return this.settling(() => this.scanOnce(opts, false), onLock);
  }

  private async scanOnce(opts: ScanOptions, allowRemote: boolean): Promise<ScanResult> {
    const { start, end } = userBounds(opts);
    const txn = opts.txnId ? this.txnRoute(opts.txnId) : undefined;
    const requested = opts.limit !== undefined && opts.limit > 0 ? opts.limit : this.defaultScanLimit;
    // (A piece for another store may ask a few more than the client's maximum: the key deciding `more`,
    // and room for the transaction's buffered deletes.)
    if (requested > this.maxScanLimit && allowRemote) throw new InvalidArgumentError(`limit ${requested} exceeds the maximum ${this.maxScanLimit}`);
    // Ranges this store does not hold are read at a store that does — only at a fixed snapshot (in a
    // transaction, or an explicit snapshot ts): a linearizable scan is refused and read range by range
    // by the client (its page's readTs could not cover a remote range's reads).
    const remoteOk = allowRemote && (txn !== undefined || (opts.snapshotTs ?? 0) > 0);
    const kvs: KeyValue[] = [];
    let readTs = 0;
    let more = false;
    // Cursor: forward = next start key; reverse = exclusive upper bound still to scan.
    let lo = start;
    let hi = end;
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.check();
      if (hi.length > 0 && Buffer.compare(lo, hi) >= 0) break;
      let pieces = this.replicasOver(lo, hi);
      const at = opts.reverse ? hi : lo;
      if (pieces.length === 0 || !covers(pieces, at, opts.reverse)) {
        await this.ranges.settled();
        pieces = this.replicasOver(lo, hi);
      }
      const remaining = requested - kvs.length;
      const pieceOpts = (pStart: Buffer, pEnd: Buffer): ScanOptions => ({
        ...opts,
        prefix: undefined,
        ...(pStart.length > 0 ? { start: pStart } : { start: undefined }),
        ...(pEnd.length > 0 ? { end: pEnd } : { end: undefined }),
        limit: remaining,
      });
      let pStart: Buffer;
      let pEnd: Buffer;
      let res: ScanResult;
      if (pieces.length === 0 || !covers(pieces, at, opts.reverse)) {
        // A hole at the cursor: a range this store does not hold (moved away, placed elsewhere, or not
        // created here yet). Never skip it — that would be a wrong answer: read it at a store that holds
        // it, or refuse retryably so the client asks elsewhere.
        const remote = remoteOk ? await this.remoteAt(at, opts.reverse === true) : undefined;
        if (remote === undefined) throw this.notHeld(at, opts.reverse === true);
        const d = remote.info.descriptor;
        // The piece: the remote range within the cursor's span, up to the next local range (which the
        // next round reads here).
        if (opts.reverse) {
          pEnd = hi;
          pStart = maxStart(maxStart(d.start, lo), pieces.length > 0 ? pieces[pieces.length - 1]!.store.descriptor.end : EMPTY);
        } else {
          pStart = lo;
          pEnd = minEnd(minEnd(d.end, hi), pieces.length > 0 ? pieces[0]!.store.descriptor.start : EMPTY);
        }
        if (txn !== undefined) {
          // Recorded in that range's part (its read set: the prepare there takes the range locks).
          const part = await this.remotePartOf(txn, remote);
          res = await part.store.scan({ ...pieceOpts(pStart, pEnd), txnId: part.innerId });
        } else {
          const snapshotTs = opts.snapshotTs!;
          const r = await remote.scan({ ...(pStart.length > 0 ? { start: pStart } : {}), ...(pEnd.length > 0 ? { end: pEnd } : {}), limit: remaining, reverse: opts.reverse === true, keysOnly: opts.keysOnly === true, snapshotTs });
          res = { ...r, readTs: snapshotTs };
        }
      } else {
        const r = opts.reverse ? pieces[pieces.length - 1]! : pieces[0]!;
        const d = r.store.descriptor;
        const version = d.epoch.version;
        pStart = Buffer.compare(d.start, lo) > 0 ? d.start : lo;
        pEnd = d.end.length === 0 ? hi : hi.length === 0 ? d.end : Buffer.compare(d.end, hi) < 0 ? d.end : hi;
        try {
          const piece = pieceOpts(pStart, pEnd);
          if (txn !== undefined) {
            const part = await this.partOf(txn, r.rangeId, r.store);
            res = await r.store.scan({ ...piece, txnId: part.innerId });
          } else res = await r.store.scan(piece);
        } catch (e) {
          if (isRoutingRefusal(e)) continue;
          throw e;
        }
        // The piece must have been read while it was still this range's (else re-read it, re-routed).
        if (r.store.descriptor.epoch.version !== version && !containsSpan(r.store.descriptor, pStart, pEnd)) continue;
      }
      if (readTs === 0) readTs = res.readTs;
      kvs.push(...res.kvs);
      if (kvs.length >= requested) {
        const lastPiece = opts.reverse ? pStart.length === 0 || Buffer.compare(pStart, lo) <= 0 : pEnd.length === 0 || (hi.length > 0 && Buffer.compare(pEnd, hi) >= 0);
        more = res.more || !lastPiece;
        break;
      }
      if (opts.reverse) {
        if (pStart.length === 0 || Buffer.compare(pStart, lo) <= 0) break;
        hi = pStart;
      } else {
        if (pEnd.length === 0 || (hi.length > 0 && Buffer.compare(pEnd, hi) >= 0)) break;
        lo = pEnd;
      }
    }
    if (txn !== undefined) return { kvs, more, readTs: txn.startTs ?? readTs };
    if (readTs === 0) readTs = (await this.status()).appliedTs;
    // The readTs a client pages on (KvClient.iterate reads the next pages at it) must cover every range
    // the next pages may reach, not just the ones this page read: a later range's writes can carry
    // versions above this page's range's applied ts. Every local range's readable ts, then.
    // (An explicit snapshot is answered as asked.) Exact cross-range snapshots come with issue 14's TSO.
    if (!opts.snapshotTs) for (const r of this.ranges.sorted()) if (r.store.readableTs > readTs) readTs = r.store.readableTs;
    return { kvs, more, readTs };
  }

  // ---------------- transactions ----------------

  async begin(opts: BeginOptions = {}): Promise<{ txnId: string; startTs: number; directReads?: boolean }> {
    this.check();
    const txnId = uniqueId('t');
    const now = Date.now();
    if (opts.directReads === true && opts.readOnly !== true) {
      // Direct reads: the snapshot is fixed now — the newest ts any range here has applied, and at least
      // the client's token — and the client reads at it on each key's range leader (that replica makes it
      // repeatable). Read-only transactions keep reading through here: their freshness needs the
      // uncertainty limit of each range they join (TxnManager.certainRead).
      let startTs = opts.minStartTs ?? 0;
      for (const r of this.ranges.sorted()) startTs = Math.max(startTs, r.store.readableTs);
      this.txns.set(txnId, { opts, createdAt: now, lastUsed: now, parts: new Map(), startTs, direct: true });
      return { txnId, startTs, directReads: true };
    }
    this.txns.set(txnId, { opts, createdAt: now, lastUsed: now, parts: new Map() });
    // The snapshot is taken at the first operation (on that key's range); startTs here is informational
    // (the store's applied ts now).
    let startTs = 0;
    for (const r of this.ranges.sorted()) startTs = Math.max(startTs, r.store.sm.lastTs); // in memory: no engine call per range
    return { txnId, startTs };
  }

  /**
   * Settles the locks on `key` now (kvsctl locks resolve): each transaction holding one is asked at its
   * primary — committed: rolled forward here; aborted (or TTL over: aborted there first): rolled back;
   * alive: left alone unless `force`, which judges its TTL as expired. One line per transaction.
   */
  async resolveLocksOn(key: Buffer, force: boolean): Promise<string[]> {
    const r = await this.route(key);
    const seen = new Set<string>();
    const out: string[] = [];
    for (const l of r.store.sm.locks.locksOnKey(key)) {
      if (seen.has(l.txnId)) continue;
      seen.add(l.txnId);
      // A staging transaction (parallel commits) is recovered through its participants: --force can
      // only abort it if one of them never prepared (else it was committed already).
      const st = await this.resolver.decide(l.txnId, l.primary, { lockExpiresTs: l.prepTs + l.ttlTs, force });
      if (st.state === 'alive') out.push(`${l.txnId}: alive (its TTL runs until ts ${st.ts}); left alone (--force aborts it)`);
      else if (st.state === 'committed') {
        await r.store.steps.commitTxnLocks(l.txnId, st.ts);
        out.push(`${l.txnId}: committed at ${st.ts}; rolled forward here`);
      } else {
        await r.store.steps.rollbackTxnLocks(l.txnId);
        out.push(`${l.txnId}: aborted; rolled back here`);
      }
    }
    return out;
  }

  /** The smallest snapshot of the transactions this store coordinates (its part of the cluster's GC pin). */
  minActiveStartTs(): number | undefined {
    let min: number | undefined;
    for (const t of this.txns.values()) if (t.startTs !== undefined && (min === undefined || t.startTs < min)) min = t.startTs;
    return min;
  }

  private txnRoute(txnId: string): TxnRoute {
    this.check();
    const t = this.txns.get(txnId);
    if (t === undefined || t.committing !== undefined) throw new TxnNotFoundError(txnId, t === undefined ? 'unknown, finished or timed out' : 'commit in progress');
    t.lastUsed = Date.now();
    return t;
  }

  /** The transaction steps of `key`'s range: the local replica's, or a remote range's (txn-rpc.ts). */
  private async participantFor(key: Buffer): Promise<TxnParticipant> {
    const local = await this.localOrRemote(key);
    return local.local !== undefined ? local.local.store.steps : local.remote.participant;
  }

  /** `key`'s range: the local replica, else (with remote access) where the range is. */
  private async localOrRemote(key: Buffer): Promise<{ local: RangeReplicaView; remote?: undefined } | { local?: undefined; remote: RemoteRange }> {
    try {
      return { local: await this.route(key) };
    } catch (e) {
      const remote = this.opts.remote;
      if (!(e instanceof KeyNotInRangeError) || remote === undefined) throw e;
      const info = await remote.locate(key);
      if (info === undefined || !containsKey(info.descriptor, key)) throw e;
      return { remote: new RemoteRange(info, remote.call, () => Date.now() * TS_PER_MS) };
    }
  }

  /**
   * The remote range a scan reads at its cursor `at` (forward: the range holding `at`; reverse: the one
   * holding the keys just below `at`), or undefined (no remote access, unknown, or no other store holds it).
   */
  private async remoteAt(at: Buffer, reverse: boolean): Promise<RemoteRange | undefined> {
    const remote = this.opts.remote;
    if (remote === undefined) return undefined;
    const info = await remote.locate(at, reverse);
    if (info === undefined || info.stores.length === 0) return undefined;
    const d = info.descriptor;
    if (!(reverse ? holdsBelow(d, at) : containsKey(d, at))) return undefined;
    return new RemoteRange(info, remote.call, () => Date.now() * TS_PER_MS);
  }

  /** The transaction's part on `key`'s range (local replica or remote range), begun at its snapshot. */
  private async partFor(t: TxnRoute, key: Buffer, read = true): Promise<RoutePart> {
    const where = await this.localOrRemote(key);
    if (where.local !== undefined) return this.partOf(t, where.local.rangeId, where.local.store, undefined, read);
    return this.remotePartOf(t, where.remote);
  }

  /** The transaction's part on a range this store holds no replica of, begun at its snapshot. */
  private async remotePartOf(t: TxnRoute, remote: RemoteRange): Promise<RoutePart> {
    const have = t.parts.get(remote.info.descriptor.rangeId);
    if (have?.remote !== undefined) return have;
    const rs = new RemotePartStore(remote, { ...(t.opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: t.opts.idleTimeoutMs } : {}), ...(this.opts.unsafeStaleSnapshots === true ? { unsafeStaleSnapshots: true } : {}) });
    const part = await this.partOf(t, remote.info.descriptor.rangeId, rs, rs);
    if (part.remote !== rs) rs.close();
    return part;
  }

  /**
   * The transaction's part on range `rangeId` (through `store`), begun at the transaction's snapshot (the
   * first part fixes it). `read`: the caller reads through it, so reads at the snapshot must be repeatable
   * on this replica; a part of a direct-reads transaction that is only written or validated joins without.
   */
  private async partOf(t: TxnRoute, rangeId: number, store: TxnPartStore, remote?: RemotePartStore, read = true): Promise<RoutePart> {
    const have = t.parts.get(rangeId);
    if (have !== undefined && have.store === store) return this.repeatableIf(read, t, have);
    // The transaction has a part on this range through ANOTHER replica object: the range's replica here
    // was destroyed and re-created, or moved between local and remote, while it ran. The part's read set
    // and writes live on the old one; a new part would commit without them (the nemesis saw write skew,
    // seed 108). Nothing is committed yet: the transaction is re-run.
    if (have !== undefined) throw replicaChanged(rangeId);
    let inner: { txnId: string; startTs: number };
    const join = t.direct === true && !read && remote === undefined;
    if (join) inner = await store.joinAt(t.startTs!, t.opts);
    else if (t.startTs === undefined) {
      if (t.starting === undefined) {
        // The client's causality token may be above this range's applied ts (it saw a write on another
        // range): the snapshot goes up to it, and this range is raised past it like any other.
        const min = t.opts.minStartTs ?? 0;
        const first = store.begin(t.opts).then(async (x) => {
          if (x.startTs >= min) return x;
          await store.rollback(x.txnId);
          return store.beginAt(min, t.opts);
        });
        const starting = first.then((x) => x.startTs);
        // Awaited only by a concurrent first operation: never an unhandled rejection; a failed begin
        // lets the next operation try again.
        starting.catch(() => {
          if (t.starting === starting) t.starting = undefined;
        });
        t.starting = starting;
        inner = await first;
        t.startTs = inner.startTs;
      } else {
        inner = await store.beginAt(await t.starting, t.opts);
      }
    } else inner = await store.beginAt(t.startTs, t.opts);
    const raced = t.parts.get(rangeId);
    if (raced !== undefined) {
      await store.rollback(inner.txnId).catch(() => undefined); // a concurrent operation joined it first
      if (raced.store === store || (remote !== undefined && raced.remote !== undefined)) {
        // (Two remote parts of one range: the first is it.) A concurrent write may have joined it.
        return this.repeatableIf(read, t, raced);
      }
      throw replicaChanged(rangeId);
    }
    const d = store.descriptor;
    const part: RoutePart = { rangeId, store, innerId: inner.txnId, start: Buffer.from(d.start), end: Buffer.from(d.end), repeatable: !join, ...(remote !== undefined ? { remote } : {}) };
    t.parts.set(rangeId, part);
    return part;
  }

  /** `part`, first made repeatable at the snapshot when the caller reads through it and it was only joined. */
  private async repeatableIf(read: boolean, t: TxnRoute, part: RoutePart): Promise<RoutePart> {
    if (read && !part.repeatable) {
      await part.store.makeRepeatable(t.startTs!);
      part.repeatable = true;
    }
    return part;
  }

  /**
   * Runs a transactional point operation on `key` in its range's part of the transaction. `read`: the
   * operation reads the key through the part (a get, a delete, a conditional put).
   */
  private async inTxn<T>(txnId: string, key: Buffer, fn: (store: TxnPartStore, innerId: string) => Promise<T>, read = true): Promise<T> {
    return this.settling(async () => {
      const t = this.txnRoute(txnId);
      const part = await this.partFor(t, key, read);
      // A key that was inside the part's range when it began and is no longer: the range split under the
      // transaction (its read set there may now belong to the other half).
      for (const p of t.parts.values()) {
        if (p !== part && containsKey(p, key) && !containsKey(p.store.descriptor, key)) {
          throw new EpochNotMatchError(p.rangeId, `range ${p.rangeId} split while transaction ${txnId} ran; retry the transaction`);
        }
      }
      return fn(part.store, part.innerId);
    });
  }

  /** Forgets a transaction's route and ends its parts, at once (a concurrent attempt finds it gone). */
  private dropRoute(txnId: string, t: TxnRoute): void {
    this.txns.delete(txnId);
    this.releaseParts(t.parts.values());
  }

  /** Ends a transaction's parts (unpins them; a remote part's local bookkeeping goes too). */
  private releaseParts(parts: Iterable<RoutePart>, except?: RoutePart): void {
    for (const p of parts) {
      if (p === except) continue;
      if (p.store.hasTxn(p.innerId)) p.store.rollback(p.innerId).catch(() => undefined);
      p.remote?.close();
    }
  }

  async commit(txnId: string, opts: { session?: Session; writes?: readonly Mutation[]; readKeys?: readonly Buffer[] } = {}): Promise<{ commitTs: number }> {
    this.check();
    // Keys read outside the transaction (direct reads), then the writes carried by the commit, go in
    // first, while the transaction is open (kv/carried-writes.ts).
    const reported = opts.readKeys ?? [];
    const carried = opts.writes ?? [];
    if (reported.length > 0 || carried.length > 0) {
      const open = this.txns.get(txnId);
      if (open !== undefined && open.committing === undefined && open.commitStarted !== true) {
        const txn = {
          commitStarted: () => open.commitStarted === true,
          abort: () => {
            if (this.txns.get(txnId) === open) this.dropRoute(txnId, open);
          },
        };
        const note = (key: Buffer) => this.inTxn(txnId, key, async (st, id) => st.noteReads(id, [key]), false);
        await applyReportedReads(note, reported, txn);
        await applyCarriedWrites(this, txnId, carried, txn);
      }
    }
    const down = { ...(opts.session !== undefined ? { session: opts.session } : {}), ...(opts.writes !== undefined ? { writes: opts.writes } : {}) };
    const t = this.txns.get(txnId);
    if (t === undefined) return this.commitUnknown(txnId, down);
    t.commitStarted = true; // before the first await of the commit path
    if (t.committing !== undefined) return t.committing;
    const parts = [...t.parts.values()];
    // (Never through txnSets here: it refuses a transaction whose commit is in doubt, and a retried
    // commit of one must reach its one-range commit, which resolves it through the log.)
    const touched = parts.filter((p) => p.store.txnTouched(p.innerId));
    const writes = touched.some((p) => p.store.txnWrites(p.innerId) > 0);
    const onlyLocal = touched.length === 0 || (touched.length === 1 && touched[0]!.remote === undefined);
    if (!writes || onlyLocal) {
      // One local range (1PC, exactly as before ranges), or a read-only transaction: its reads were one
      // snapshot, nothing to validate. The commit runs on one local part (a session seq is logged there).
      let main = touched.find((p) => p.remote === undefined) ?? parts.find((p) => p.remote === undefined);
      if (main === undefined) {
        const r = await this.route(this.firstKey()).catch(() => undefined);
        if (r !== undefined) main = await this.partOf(t, r.rangeId, r.store);
      }
      this.releaseParts(parts, main);
      if (main === undefined) {
        // Read-only over ranges this store does not hold, and no local range to log a session seq in.
        this.txns.delete(txnId);
        return { commitTs: t.startTs ?? 0 };
      }
      try {
        return await main.store.commit(main.innerId, down);
      } catch (e) {
        if (e instanceof KeyLockedError) {
          // A one-range commit refused by a prepared transaction's lock: settle it a step, then the
          // client retries the transaction (this commit is over: not applied).
          await this.resolver.resolve(e, 8).catch(() => undefined);
          throw new TxnConflictError(e.key, 0, `${e.message}; retry the transaction`);
        }
        throw e;
      } finally {
        if (!main.store.hasTxn(main.innerId)) this.txns.delete(txnId);
      }
    }
    // Several ranges, or one this store holds no replica of: two-phase commit.
    const sets = this.twoPhaseParts(touched);
    t.committing = commitTwoPhase(sets, this.twoPhaseOptions(txnId, t.startTs ?? 0, opts.session)).finally(() => this.endRoute(txnId, parts));
    return t.committing;
  }

  /**
   * Commits one of this store's own transactions (an atomic DeleteRange) with its commit point in the
   * range of `primaryKey`, a key it writes: two-phase even on one range (one command then: the primary's
   * one-phase commit), so every attempt of its session seq, on any store, meets the same session table
   * and learns an earlier attempt's commit as `earlier`.
   */
  private async commitPinned(txnId: string, primaryKey: Buffer, session: Session | undefined): Promise<TwoPhaseResult> {
    const t = this.txns.get(txnId);
    if (t === undefined) throw new TxnNotFoundError(txnId);
    t.commitStarted = true;
    const parts = [...t.parts.values()];
    try {
      const sets = this.twoPhaseParts(parts.filter((p) => p.store.txnTouched(p.innerId)));
      // The DeleteRange re-runs its transaction under the same session seq after a conflict.
      return await commitTwoPhase(sets, { ...this.twoPhaseOptions(txnId, t.startTs ?? 0, session), primaryKey, ...SEQ_REUSING_COMMIT });
    } finally {
      this.endRoute(txnId, parts);
    }
  }

  /** The two-phase commit's view of a route's parts: each range's steps, read set and writes. */
  private twoPhaseParts(parts: readonly RoutePart[]): TxnPart[] {
    return parts.map((p) => ({ store: p.store.steps, local: p.remote === undefined, ...p.store.txnSets(p.innerId) }));
  }

  /** A route whose commit is over: forgotten, its parts released. */
  private endRoute(txnId: string, parts: readonly RoutePart[]): void {
    this.txns.delete(txnId);
    try {
      this.releaseParts(parts);
    } catch {
      // closed store: nothing pinned any more
    }
  }

  /**
   * A commit of a transaction this store does not know (it restarted, or the transaction ran
   * elsewhere): its original commit may still be in ANY range's log. Every range resolves the retry's
   * session seq through its own log (a fence, kv/txn-manager.ts); the one that applied the original
   * answers with its result, the others fence it off for good.
   */
  private async commitUnknown(txnId: string, opts: { session?: Session }): Promise<{ commitTs: number }> {
    const list = this.ranges.sorted();
    const session = opts.session;
    if (session === undefined || (list.length === 1 && this.opts.remote === undefined && coversKeySpace(list))) {
      const r = list[0];
      if (r === undefined) throw new TxnNotFoundError(txnId);
      return r.store.commit(txnId, opts).catch(async (e: unknown) => {
        if (!(e instanceof OutcomeUnknownError) || e.staged === undefined) throw e;
        const d = await this.resolver.decide(e.staged.txnId, e.staged.primary, { force: true });
        if (d.state === 'committed') return { commitTs: d.ts };
        throw new TxnNotFoundError(txnId, 'did not commit: its staging transaction was aborted');
      });
    }
    // The commit may have applied in ANY range of the cluster (a one-range commit goes to its keys'
    // range, which this store may not hold — it moved away, or never was here): fence every one. Local
    // replicas through their logs here, the others on a store that holds them (txn-rpc.ts). "Not
    // committed" only when every range of the key space answered so; any gap leaves the outcome unknown.
    // (The nemesis found a duplicate increment when a retry reached a store between a range's move
    // away and back, and only this store's own ranges were fenced.)
    // Each fence settles to an outcome or the error itself (never a rejection left unobserved while the
    // remote ranges are still being located).
    type Settled = FenceOutcome | { error: unknown };
    const settle = (p: Promise<FenceOutcome>): Promise<Settled> => p.then((v) => v, (error: unknown) => ({ error }));
    const fences: Array<Promise<Settled>> = list.map((r) =>
      settle(
        r.store.commit(txnId, opts).then(
          (c): FenceOutcome => ({ committed: true, commitTs: c.commitTs }),
          (e: unknown): FenceOutcome => {
            if (e instanceof KvError && e.code === 'TXN_NOT_FOUND') return { committed: false };
            if (e instanceof OutcomeUnknownError && e.staged !== undefined) return { committed: 'staged', ...e.staged };
            throw e;
          },
        ),
      ),
    );
    const remote = this.opts.remote;
    let gap: string | undefined;
    for (let at: Buffer = EMPTY, guard = 0; guard < 1_000_000; guard++) {
      const local = list.find((r) => containsKey(r.store.descriptor, at));
      let info: RemoteRangeInfo | undefined;
      if (local === undefined && remote !== undefined) info = await remote.locate(at).catch(() => undefined);
      const d = local?.store.descriptor ?? info?.descriptor;
      if (d === undefined || !containsKey(d, at)) {
        gap = `no range found for key ${at.toString('hex')}`;
        break;
      }
      if (info !== undefined) fences.push(settle(new RemoteRange(info, remote!.call, () => Date.now() * TS_PER_MS).participant.fence(txnId, session)));
      if (d.end.length === 0) break;
      at = d.end;
    }
    // A staging transaction (parallel commits) met in a primary's session table is decided now, through
    // its participants: the retry's answer must not wait for the lock TTL.
    const outcomes = await Promise.all(
      fences.map((p) =>
        p.then(async (o): Promise<Settled> => {
          if (!('committed' in o) || o.committed !== 'staged') return o;
          return settle(this.resolver.decide(o.txnId, o.primary, { force: true }).then((d): FenceOutcome => (d.state === 'committed' ? { committed: true, commitTs: d.ts } : { committed: false })));
        }),
      ),
    );
    for (const o of outcomes) if ('committed' in o && o.committed === true) return { commitTs: o.commitTs };
    const failed = outcomes.find((o): o is { error: unknown } => 'error' in o);
    if (failed !== undefined || gap !== undefined) {
      const why = gap ?? (failed!.error instanceof Error ? failed!.error.message : String(failed!.error));
      throw new OutcomeUnknownError(0, undefined, `the commit of transaction ${txnId} could not be resolved in every range (${why}); retry it with the same session`);
    }
    throw new TxnNotFoundError(txnId, 'did not commit: fenced off in the log of every range by this retry');
  }

  async rollback(txnId: string): Promise<void> {
    this.check();
    const t = this.txns.get(txnId);
    if (t?.committing !== undefined) throw new TxnNotFoundError(txnId, 'commit in progress');
    this.txns.delete(txnId);
    if (t !== undefined) {
      for (const p of t.parts.values()) await p.store.rollback(p.innerId);
      this.releaseParts(t.parts.values());
    }
  }

  /** Forgets routes of transactions whose parts all ended (timed out) or that never began a part. */
  private sweep(): void {
    const now = Date.now();
    const unboundMs = this.opts.unboundTxnTimeoutMs ?? 600_000;
    for (const [id, t] of this.txns) {
      if (t.committing !== undefined) continue;
      const ended = t.parts.size === 0 ? now - t.createdAt > Math.max(unboundMs, t.opts.idleTimeoutMs ?? 0) : [...t.parts.values()].some((p) => !p.store.hasTxn(p.innerId));
      if (!ended) continue;
      this.dropRoute(id, t);
    }
  }

  async status(): Promise<StoreStatus> {
    this.check();
    const ranges = this.ranges.sorted();
    // Every range shares the node's engine: one size estimate of its data keyspaces, not two per range
    // (status backs the readiness probe and /metrics; with thousands of ranges those added up).
    const approximateBytes = ranges.length > 0 ? await ranges[0]!.store.engineDataBytes() : 0;
    let appliedTs = 0;
    let safePoint = Infinity;
    let activeTxns = 0;
    for (const r of ranges) {
      const c = r.store.counters;
      appliedTs = Math.max(appliedTs, c.appliedTs);
      safePoint = Math.min(safePoint, c.safePoint);
      activeTxns += c.activeTxns;
    }
    return { appliedTs, safePoint: ranges.length > 0 ? safePoint : 0, approximateBytes, activeTxns };
  }

  /** Stops routing and closes the owner (which closes every replica). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.secondaries.releaseAll();
    await this.opts.onClose?.();
  }
}

/** Whether the first piece to scan starts at the cursor (no hole left by a split still opening). */
function covers(pieces: readonly RangeReplicaView[], at: Buffer, reverse: boolean | undefined): boolean {
  const d = (reverse ? pieces[pieces.length - 1]! : pieces[0]!).store.descriptor;
  if (reverse) return d.end.length === 0 || (at.length > 0 && Buffer.compare(d.end, at) >= 0);
  return Buffer.compare(d.start, at) <= 0;
}

/** Whether the range holds the keys just below the exclusive bound `at` (empty = +∞). */
function holdsBelow(d: Pick<RangeDescriptor, 'start' | 'end'>, at: Buffer): boolean {
  if (at.length === 0) return d.end.length === 0;
  return Buffer.compare(d.start, at) < 0 && (d.end.length === 0 || Buffer.compare(d.end, at) >= 0);
}

/** The smaller of two exclusive upper bounds (empty = +∞). */
function minEnd(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return Buffer.compare(a, b) <= 0 ? a : b;
}

/** The larger of two start keys. */
function maxStart(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) >= 0 ? a : b;
}

/** [start, end) of a range/prefix request in user keys (empty = unbounded). */
const ZERO_BYTE = Buffer.from([0]);
/** An atomic DeleteRange's commit point: its span's start, or the smallest key for an unbounded start. */
const deleteRangePrimary = (start: Buffer): Buffer => (start.length > 0 ? start : ZERO_BYTE);

/** A transaction's range changed replicas under it (see partOf): certainly not committed, re-run it. */
function replicaChanged(rangeId: number): TxnConflictError {
  return new TxnConflictError(EMPTY, 0, `the replica of range ${rangeId} serving this transaction changed while it ran (moved or re-created); retry the transaction`);
}

/** Whether the (sorted) local ranges cover the whole key space with no gap. */
function coversKeySpace(list: readonly RangeReplicaView[]): boolean {
  let at: Buffer = EMPTY;
  for (const r of list) {
    const d = r.store.descriptor;
    if (!d.start.equals(at)) return false;
    if (d.end.length === 0) return true;
    at = d.end;
  }
  return false;
}
/** Conflicts an atomic DeleteRange re-runs through before it reports one (writers kept racing into the span). */
const ATOMIC_DELETE_ATTEMPTS = 8;

function userBounds(r: { start?: Buffer; end?: Buffer; prefix?: Buffer }): { start: Buffer; end: Buffer } {
  if (r.prefix !== undefined && r.prefix.length > 0) {
    if ((r.start !== undefined && r.start.length > 0) || (r.end !== undefined && r.end.length > 0)) throw new InvalidArgumentError('prefix and start/end are mutually exclusive');
    return { start: r.prefix, end: prefixEnd(r.prefix) ?? EMPTY };
  }
  return { start: r.start ?? EMPTY, end: r.end ?? EMPTY };
}
