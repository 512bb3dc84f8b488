// Interactive serializable transactions (optimistic, backward validation at commit).
//
// begin: startTs = the applied ts (registered: pins GC). Reads at startTs plus the transaction's own
// buffered writes; every point read records its key, every scan records the key range it actually
// covered. Writes are buffered. Commit sends ONE txnCommit command carrying startTs, the read set, the
// scanned ranges and the writes; the state machine validates at apply time (deterministically) that no
// read key, scanned range or written key has a committed version > startTs, and applies the writes at a
// fresh version. Since all validation+apply happens in the serial apply order, the committed history is
// equivalent to executing each transaction atomically at its commit ts (serializable; write skew and
// phantoms are caught). Read-only transactions commit without a command (they read one snapshot).
//
// An idle transaction times out: it is rolled back and unregistered (a timer here — an I/O edge).
//
// Exactly-once commit (docs/ARCHITECTURE.md "Exactly-once"): a commit's outcome is reported as definite
// only when it is: the state machine's result (committed, conflict...), or "never proposed" (the commit
// was refused before reaching the Raft log, or the transaction was rolled back / timed out before its
// commit). A proposal this node lost track of (leadership change, timeout, shutdown) leaves the
// transaction IN DOUBT: a retry with the same session re-proposes the same commit (the session table
// answers it if the first one applied, and makes the first one a no-op if the retry applies first). A
// transaction this node does not know (restarted, or another node) is resolved by a FENCE: a command
// with the retry's session, answered from whichever of the two — the original commit or the fence — the
// state machine applied first. Nothing is answered from one replica's memory alone.
import { fenceOutcome } from './txn-steps.js';
import { inKeyRange } from './key-span.js';
import { randomUUID } from 'node:crypto';
import type { BeginOptions, DeleteResult, GetResult, KeyValue, Mutation, PutOptions, PutResult, ScanResult, Session, StoreObserver } from './api.js';
import type { Command, CommandResult, KeyRange } from './commands.js';
import { encodedMutationBytes, resultError } from './commands.js';
import { CommandTooLargeError, checkCommandSize, commandHeaderBound } from './command-size.js';
import { InvalidArgumentError, KeyLockedError, NotLeaderError, OutcomeUnknownError, StorageError, StoreClosedError, TxnConflictError, TxnNotFoundError, TxnReadOnlyError } from './errors.js';
import type { MvccScanOptions, MvccScanResult } from '../mvcc/mvcc.js';

export interface TxnHost {
  appliedTs(): number;
  readAt(key: Buffer, ts: number): Promise<{ value: Buffer; version: number } | undefined>;
  scanAt(opts: MvccScanOptions): Promise<MvccScanResult>;
  /** The range's linearizable read ts now (a read barrier, then its applied ts). */
  readTsNow(): Promise<number>;
  /**
   * A host whose reads settle the locks they meet themselves (a remote range: no KEY_LOCKED comes back)
   * counts the reads that did. A read-only transaction's read that settled one is re-checked at the
   * range's read ts after it (Txn.lockMet).
   */
  locksSettled?(): number;
  submit(cmd: Command): Promise<CommandResult>;
  /** proposedTs for a new command. */
  now(): number;
}

export interface TxnManagerOptions {
  /** Default idle timeout (ms) of a transaction; default 30 s. */
  idleTimeoutMs?: number;
  /** Upper bound for a per-transaction idle timeout (default 10 min). */
  maxIdleTimeoutMs?: number;
  observer?: StoreObserver;
  /** How many finished transactions to remember for idempotent commit/rollback retries (default 10 000). */
  finishedMemory?: number;
  /** Largest encoded txnCommit command (common/raft-limits.ts); undefined = unbounded. */
  maxCommandBytes?: number;
  /**
   * TEST ONLY (negative control of the exactly-once tests and nemesis): answer a commit of a transaction
   * this node does not know with TXN_NOT_FOUND instead of resolving it through the log — the old bug.
   */
  unsafeNoCommitFence?: boolean;
  /**
   * TEST ONLY (negative control of the cross-range freshness test): no uncertainty check — a transaction's
   * part on a range whose applied ts was ahead of the snapshot reads the snapshot as is (the old behaviour).
   */
  unsafeStaleSnapshots?: boolean;
}

export interface TxnScanOptions {
  start?: Buffer;
  end?: Buffer;
  limit: number;
  reverse?: boolean;
  keysOnly?: boolean;
}

/**
 * `failed` holds a definite answer of the state machine (conflict, snapshot too old...); `in_doubt` a
 * transaction whose commit proposal may be in the log (its outcome is resolved through the log).
 */
type Outcome = { kind: 'committed'; commitTs: number } | { kind: 'failed'; error: Error } | { kind: 'rolled_back' } | { kind: 'timed_out' } | { kind: 'in_doubt' };

interface Txn {
  id: string;
  startTs: number;
  /**
   * The range's linearizable read ts when the transaction joined it (> startTs only for a read-only
   * transaction's later part): a write in (startTs, limitTs] may have been acknowledged before the
   * transaction began, so a read that would see a different answer at limitTs is uncertain (see read()).
   */
  limitTs: number;
  /**
   * A read of this read-only transaction met a prepared transaction's lock: once settled, that
   * transaction may be committed at a ts above the snapshot and have been acknowledged before this one
   * began (secondary locks are committed behind the reply). The next read first raises limitTs to the
   * range's read ts then, so certainRead sees its version.
   */
  lockMet: boolean;
  readOnly: boolean;
  timer: NodeJS.Timeout;
  writes: Map<string, Mutation>;
  readKeys: Map<string, Buffer>;
  readRanges: KeyRange[];
  /** Encoded bytes of `writes` in the commit command (kept against maxCommandBytes as the set grows). */
  writeBytes: number;
  committing?: Promise<{ commitTs: number }>;
  /** The session of the commit attempt that may be in the log (set once a proposal's outcome was lost). */
  inDoubt?: Session;
}

/** The smallest key greater than `k`. */
function successor(k: Buffer): Buffer {
  const out = Buffer.allocUnsafe(k.length + 1);
  k.copy(out, 0);
  out[k.length] = 0;
  return out;
}

export class TxnManager {
  private readonly txns = new Map<string, Txn>();
  private readonly finished = new Map<string, Outcome>();
  private readonly idleTimeoutMs: number;
  private readonly maxIdleTimeoutMs: number;
  private readonly finishedMemory: number;
  private closed = false;

  constructor(private readonly host: TxnHost, private readonly opts: TxnManagerOptions = {}) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.maxIdleTimeoutMs = Math.max(opts.maxIdleTimeoutMs ?? 600_000, this.idleTimeoutMs);
    this.finishedMemory = opts.finishedMemory ?? 10_000;
  }

  get activeCount(): number {
    return this.txns.size;
  }

  /** Whether the transaction is open (not committed, rolled back or timed out). */
  has(txnId: string): boolean {
    return this.txns.has(txnId);
  }

  /** Smallest start ts of a registered transaction (GC must not pass it). */
  minStartTs(): number | undefined {
    let min: number | undefined;
    for (const t of this.txns.values()) if (min === undefined || t.startTs < min) min = t.startTs;
    return min;
  }

  /**
   * The read set and writes of an open transaction, for a cross-range commit that prepares them itself
   * (the transaction stays registered — its start ts pinned against GC — until rolled back).
   */
  sets(id: string): { startTs: number; readKeys: Buffer[]; readRanges: KeyRange[]; writes: Mutation[] } {
    const t = this.active(id);
    return { startTs: t.startTs, readKeys: [...t.readKeys.values()], readRanges: [...t.readRanges], writes: [...t.writes.values()] };
  }

  /** Buffered writes of a registered transaction (also one whose commit is in doubt); 0 if unknown. */
  writeCount(id: string): number {
    return this.txns.get(id)?.writes.size ?? 0;
  }

  /** Whether the open transaction read or wrote anything. */
  touched(id: string): boolean {
    const t = this.txns.get(id);
    return t !== undefined && (t.writes.size > 0 || t.readKeys.size > 0 || t.readRanges.length > 0);
  }

  /**
   * `startTs`: a given snapshot (one cross-range transaction's parts on several ranges share it).
   * `limitTs`: this range's linearizable read ts when the part joined (the uncertainty limit, see Txn).
   */
  begin(opts: BeginOptions = {}, startTs?: number, limitTs?: number): { txnId: string; startTs: number } {
    if (this.closed) throw new StorageError('transaction manager is closed');
    let timeout = opts.idleTimeoutMs ?? 0;
    if (!Number.isFinite(timeout) || timeout < 0) throw new InvalidArgumentError('idle timeout must be >= 0');
    if (timeout === 0) timeout = this.idleTimeoutMs;
    timeout = Math.min(timeout, this.maxIdleTimeoutMs);
    const id = randomUUID();
    startTs ??= this.host.appliedTs();
    const timer = setTimeout(() => this.expire(id), timeout);
    timer.unref();
    const limit = this.opts.unsafeStaleSnapshots === true || limitTs === undefined || limitTs < startTs ? startTs : limitTs;
    this.txns.set(id, { id, startTs, limitTs: limit, lockMet: false, readOnly: opts.readOnly === true, timer, writes: new Map(), readKeys: new Map(), readRanges: [], writeBytes: 0 });
    return { txnId: id, startTs };
  }

  private expire(id: string): void {
    const t = this.txns.get(id);
    if (t === undefined || t.committing !== undefined) return;
    if (t.inDoubt !== undefined) {
      this.finish(t, { kind: 'in_doubt' });
      return;
    }
    this.finish(t, { kind: 'timed_out' });
    this.opts.observer?.onTxnFinished?.('timed_out');
  }

  private finish(t: Txn, outcome: Outcome): void {
    clearTimeout(t.timer);
    this.txns.delete(t.id);
    this.finished.set(t.id, outcome);
    if (this.finished.size > this.finishedMemory) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }

  private active(id: string): Txn {
    const t = this.txns.get(id);
    if (t === undefined) {
      const f = this.finished.get(id);
      throw new TxnNotFoundError(id, f === undefined ? 'unknown' : f.kind === 'timed_out' ? 'timed out while idle' : `already ${f.kind === 'failed' ? 'aborted' : f.kind.replace('_', ' ')}`);
    }
    if (t.committing !== undefined) throw new TxnNotFoundError(id, 'commit in progress');
    if (t.inDoubt !== undefined) throw new TxnNotFoundError(id, 'commit in doubt; retry the commit');
    t.timer.refresh();
    return t;
  }

  /** Start ts of an active transaction. */
  startTs(id: string): number {
    return this.active(id).startTs;
  }

  async get(id: string, key: Buffer): Promise<GetResult> {
    const t = this.active(id);
    const s = key.toString('latin1');
    const own = t.writes.get(s);
    if (own !== undefined) {
      return own.op === 'put' ? { found: true, value: own.value, version: 0, readTs: t.startTs } : { found: false, version: 0, readTs: t.startTs };
    }
    t.readKeys.set(s, key);
    await this.afterLock(t);
    const settled = this.host.locksSettled?.();
    let r = await this.noteLock(t, () => (t.limitTs > t.startTs ? this.certainRead(t, key) : this.host.readAt(key, t.startTs)));
    if (await this.limitRoseOnHost(t, settled)) r = await this.certainRead(t, key);
    return r === undefined ? { found: false, version: 0, readTs: t.startTs } : { found: true, value: r.value, version: r.version, readTs: t.startTs };
  }

  /** Whether `t`'s reads must not trail acknowledged writes (read-only, and not the unsafe test switch). */
  private fresh(t: Txn): boolean {
    return t.readOnly && this.opts.unsafeStaleSnapshots !== true;
  }

  /** A read-only transaction's read that met a lock is retried by its caller after settling it (see Txn.lockMet). */
  private async noteLock<T>(t: Txn, read: () => Promise<T>): Promise<T> {
    try {
      return await read(); // (the host may throw synchronously)
    } catch (e) {
      if (e instanceof KeyLockedError && this.fresh(t)) t.lockMet = true;
      throw e;
    }
  }

  /**
   * After a read on a host that settles locks itself (TxnHost.locksSettled, counted `before` it): if that
   * read settled one, raises the limit to the range's read ts now; true when it rose (re-check there).
   */
  private async limitRoseOnHost(t: Txn, before: number | undefined): Promise<boolean> {
    if (before === undefined || !this.fresh(t) || this.host.locksSettled!() === before) return false;
    const was = t.limitTs;
    t.lockMet = true;
    await this.afterLock(t);
    return t.limitTs > was;
  }

  private async afterLock(t: Txn): Promise<void> {
    if (!t.lockMet) return;
    t.lockMet = false; // before the await: a concurrent read's new lock keeps its flag for its retry
    const now = await this.host.readTsNow();
    if (now > t.limitTs) t.limitTs = now;
  }

  /**
   * A read-only transaction's snapshot comes from its first range; a later range's applied ts may be
   * ahead of it (no clock orders ranges), so a write there acknowledged before the transaction began can
   * carry a version above the snapshot. Such a write is at or below `limitTs` (the range's linearizable
   * read ts at join), so a key whose answer at limitTs differs from its answer at the snapshot is
   * uncertain: TXN_CONFLICT carrying the newer version's ts — the client's causality token rises to it,
   * and the retried transaction's snapshot sees it. (CockroachDB's uncertainty interval, bounded by what
   * the range had applied instead of by a clock offset: clocks may jump.)
   */
  private async certainRead(t: Txn, key: Buffer): Promise<{ value: Buffer; version: number } | undefined> {
    const newest = await this.host.readAt(key, t.limitTs);
    if (newest !== undefined && newest.version <= t.startTs) return newest; // the same version at the snapshot
    const atStart = await this.host.readAt(key, t.startTs);
    if (newest === undefined && atStart === undefined) return undefined; // absent at both
    throw new TxnConflictError(key, newest?.version ?? t.limitTs, `transaction ${t.id}'s snapshot (ts ${t.startTs}) may miss a write to ${JSON.stringify(key.toString('latin1'))} acknowledged before it began (this range had applied ts ${t.limitTs}); retry the transaction (its snapshot moves past it)`);
  }

  /** The scan's answer must be the same at limitTs (see certainRead); else TXN_CONFLICT. */
  private certainScan(t: Txn, atStart: MvccScanResult, newest: MvccScanResult): void {
    const n = Math.max(atStart.kvs.length, newest.kvs.length);
    for (let i = 0; i < n; i++) {
      const a = atStart.kvs[i];
      const b = newest.kvs[i];
      if (a !== undefined && b !== undefined && a.version === b.version && a.key.equals(b.key)) continue;
      const key = (b ?? a)!.key;
      throw new TxnConflictError(key, b !== undefined && b.version > t.startTs ? b.version : t.limitTs, `transaction ${t.id}'s snapshot (ts ${t.startTs}) may miss a write near ${JSON.stringify(key.toString('latin1'))} acknowledged before it began (this range had applied ts ${t.limitTs}); retry the transaction (its snapshot moves past it)`);
    }
    const sameNext = atStart.nextKey === undefined ? newest.nextKey === undefined : newest.nextKey !== undefined && atStart.nextKey.equals(newest.nextKey);
    if (atStart.more !== newest.more || !sameNext) throw new TxnConflictError(atStart.nextKey ?? newest.nextKey ?? Buffer.alloc(0), t.limitTs, `transaction ${t.id}'s snapshot (ts ${t.startTs}) may miss a write acknowledged before it began (this range had applied ts ${t.limitTs}); retry the transaction`);
  }

  async scan(id: string, opts: TxnScanOptions): Promise<ScanResult> {
    const t = this.active(id);
    const reverse = opts.reverse === true;
    const own: Mutation[] = [];
    let dels = 0;
    for (const m of t.writes.values()) {
      if (inKeyRange(m.key, opts.start, opts.end)) {
        own.push(m);
        if (m.op === 'delete') dels++;
      }
    }
    const scanOpts = { start: opts.start, end: opts.end, limit: opts.limit + dels, reverse, keysOnly: opts.keysOnly };
    await this.afterLock(t);
    const settled = this.host.locksSettled?.();
    const base = await this.noteLock(t, () => this.host.scanAt({ ...scanOpts, readTs: t.startTs }));
    if (t.limitTs > t.startTs) this.certainScan(t, base, await this.noteLock(t, () => this.host.scanAt({ ...scanOpts, readTs: t.limitTs })));
    if (await this.limitRoseOnHost(t, settled)) this.certainScan(t, base, await this.host.scanAt({ ...scanOpts, readTs: t.limitTs }));
    let kvs: KeyValue[] = base.kvs;
    let more = base.more;
    let nextKey = base.nextKey;
    if (own.length > 0) {
      const merged = new Map<string, KeyValue>();
      for (const kv of base.kvs) merged.set(kv.key.toString('latin1'), kv);
      const boundary = base.more && base.kvs.length > 0 ? base.kvs[base.kvs.length - 1]!.key : undefined;
      for (const m of own) {
        const s = m.key.toString('latin1');
        if (m.op === 'delete') merged.delete(s);
        else if (boundary === undefined || (reverse ? Buffer.compare(m.key, boundary) >= 0 : Buffer.compare(m.key, boundary) <= 0)) {
          merged.set(s, { key: m.key, value: opts.keysOnly ? Buffer.alloc(0) : m.value, version: 0 });
        }
      }
      kvs = [...merged.values()].sort((a, b) => (reverse ? Buffer.compare(b.key, a.key) : Buffer.compare(a.key, b.key)));
    }
    if (kvs.length > opts.limit) {
      nextKey = kvs[opts.limit]!.key;
      kvs = kvs.slice(0, opts.limit);
      more = true;
    }
    // Record the key range whose contents determined this answer — including the key that made `more`
    // true, so even that flag stays serializable.
    if (!more || nextKey === undefined) t.readRanges.push({ start: opts.start, end: opts.end });
    else if (!reverse) t.readRanges.push({ start: opts.start, end: successor(nextKey) });
    else t.readRanges.push({ start: nextKey, end: opts.end });
    return { kvs, more, readTs: t.startTs };
  }

  /**
   * Keys the transaction's client read at its snapshot outside it (direct reads, BeginOptions.directReads):
   * they join the read set and are validated at commit like keys read here (also one the transaction
   * wrote since: the read came first).
   */
  noteReads(id: string, keys: readonly Buffer[]): void {
    const t = this.active(id);
    for (const k of keys) t.readKeys.set(k.toString('latin1'), k);
  }

  async put(id: string, key: Buffer, value: Buffer, opts: PutOptions = {}): Promise<PutResult> {
    const t = this.active(id);
    if (t.readOnly) throw new TxnReadOnlyError(`transaction ${id} is read-only`);
    let prevFound = false;
    let prevValue: Buffer | undefined;
    if (opts.expectedValue !== undefined || opts.expectAbsent || opts.returnPrev) {
      const cur = await this.get(id, key);
      prevFound = cur.found;
      prevValue = cur.value;
      let ok = true;
      if (opts.expectAbsent) ok = !cur.found;
      else if (opts.expectedValue !== undefined) ok = cur.found && cur.value!.equals(opts.expectedValue);
      if (!ok) {
        const r: PutResult = { version: 0, succeeded: false, prevFound };
        if (prevValue !== undefined) r.prevValue = prevValue;
        return r;
      }
    }
    this.addWrite(this.active(id), { op: 'put', key, value });
    const r: PutResult = { version: 0, succeeded: true, prevFound };
    if (opts.returnPrev && prevValue !== undefined) r.prevValue = prevValue;
    return r;
  }

  async delete(id: string, key: Buffer): Promise<DeleteResult> {
    const t = this.active(id);
    if (t.readOnly) throw new TxnReadOnlyError(`transaction ${id} is read-only`);
    const cur = await this.get(id, key);
    this.addWrite(this.active(id), { op: 'delete', key });
    return { deleted: cur.found, version: 0 };
  }

  /**
   * Buffers a write, refusing one that would grow the write set beyond what one commit command (one Raft
   * entry) can carry: the transaction stays usable without it.
   */
  private addWrite(t: Txn, m: Mutation): void {
    const k = m.key.toString('latin1');
    const prev = t.writes.get(k);
    const bytes = t.writeBytes - (prev !== undefined ? encodedMutationBytes(prev) : 0) + encodedMutationBytes(m);
    const limit = this.opts.maxCommandBytes;
    if (limit !== undefined && bytes > limit) throw new CommandTooLargeError('writes', bytes, limit, `transaction write set (${t.writes.size + (prev === undefined ? 1 : 0)} writes)`);
    t.writes.set(k, m);
    t.writeBytes = bytes;
  }

  /** Bytes of the read set in a commit command (upper bound: 5-byte length prefixes, range flags). */
  private static readBytesBound(t: Txn): number {
    let n = 0;
    for (const k of t.readKeys.values()) n += 5 + k.length;
    for (const r of t.readRanges) n += 11 + (r.start?.length ?? 0) + (r.end?.length ?? 0);
    return n;
  }

  async commit(id: string, session?: Session): Promise<{ commitTs: number }> {
    const t = this.txns.get(id);
    if (t === undefined) {
      const f = this.finished.get(id);
      if (f?.kind === 'committed') return { commitTs: f.commitTs };
      if (f?.kind === 'failed') throw f.error;
      // Rolled back or timed out while idle: its commit was never proposed — certainly not committed.
      if (f?.kind === 'rolled_back' || f?.kind === 'timed_out') throw new TxnNotFoundError(id, f.kind === 'timed_out' ? 'timed out while idle' : 'rolled back');
      // Unknown here (this node restarted, or the transaction ran elsewhere) or in doubt.
      return this.resolveThroughLog(id, session);
    }
    if (t.committing !== undefined) return t.committing;
    if (t.inDoubt !== undefined && !sameSession(t.inDoubt, session)) {
      throw new OutcomeUnknownError(0, undefined, `the commit of transaction ${id} is in doubt; retry it with the session (client id, seq) of its first attempt`);
    }
    clearTimeout(t.timer);
    if (t.writes.size === 0) {
      if (session !== undefined) {
        // Nothing to write, but the client spent a session seq on this commit: record it in the log (a
        // noop with the session), or a new session whose first seq never reached the state machine would
        // look expired to every later request (first_unacked > 1 for a session the group never saw).
        t.committing = this.host.submit({ type: 'noop', proposedTs: this.host.now(), session }).then(
          () => {
            this.finish(t, { kind: 'committed', commitTs: 0 });
            this.opts.observer?.onTxnFinished?.('committed');
            return { commitTs: 0 };
          },
          (e: unknown) => {
            t.committing = undefined;
            t.timer.refresh();
            throw e instanceof Error ? e : new Error(String(e));
          },
        );
        return t.committing;
      }
      this.finish(t, { kind: 'committed', commitTs: 0 });
      this.opts.observer?.onTxnFinished?.('committed');
      return { commitTs: 0 };
    }
    const cmd: Command = {
      type: 'txnCommit',
      proposedTs: this.host.now(),
      startTs: t.startTs,
      readKeys: [...t.readKeys.values()],
      readRanges: t.readRanges,
      writes: [...t.writes.values()],
    };
    if (session !== undefined) cmd.session = session;
    try {
      // The write set is bounded as it grows; its read set can still tip the command over the limit.
      checkCommandSize(cmd, commandHeaderBound(cmd) + TxnManager.readBytesBound(t) + t.writeBytes, this.opts.maxCommandBytes, 'reads', `transaction commit (${t.readKeys.size} read keys, ${t.readRanges.length} scanned ranges, ${t.writes.size} writes)`);
    } catch (e) {
      // It can never commit: finish it like any failed commit (a retry gets the same error).
      this.finish(t, { kind: 'failed', error: e as Error });
      this.opts.observer?.onTxnFinished?.('rolled_back');
      throw e;
    }
    t.committing = this.host.submit(cmd).then(
      (r) => {
        if (r.type === 'txnCommit') {
          this.finish(t, { kind: 'committed', commitTs: r.commitTs });
          this.opts.observer?.onTxnFinished?.('committed');
          return { commitTs: r.commitTs };
        }
        const err = r.type === 'error' ? resultError(r) : new StorageError(`unexpected commit result ${r.type}`);
        this.finish(t, { kind: 'failed', error: err });
        this.opts.observer?.onTxnFinished?.(r.type === 'error' && r.code === 'TXN_CONFLICT' ? 'conflict' : 'rolled_back');
        throw err;
      },
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        t.committing = undefined;
        if (t.inDoubt === undefined && (err instanceof NotLeaderError || err instanceof StoreClosedError)) {
          // Refused before reaching the log: the transaction stays active, a retry proposes it again.
          t.timer.refresh();
          throw err;
        }
        if (session === undefined) {
          // Without a session a retry cannot be told apart from a second commit: the outcome stays unknown.
          this.finish(t, { kind: 'in_doubt' });
          this.opts.observer?.onTxnFinished?.('rolled_back');
          throw err;
        }
        t.inDoubt = session;
        t.timer.refresh();
        throw err;
      },
    );
    return t.committing;
  }

  /**
   * A commit of a transaction this node does not know, or whose proposal it lost track of: propose a
   * fence with the retry's session and answer from whichever the state machine applied first.
   */
  private async resolveThroughLog(id: string, session: Session | undefined): Promise<{ commitTs: number }> {
    if (this.opts.unsafeNoCommitFence) throw new TxnNotFoundError(id, 'unknown');
    if (session === undefined) {
      throw new OutcomeUnknownError(0, undefined, `transaction ${id} is not known on this node (restarted, or begun elsewhere) and the commit carries no session to resolve its outcome with`);
    }
    const r = await this.host.submit({ type: 'fence', proposedTs: this.host.now(), session, txnId: id });
    // One reading of a fence's answer for this range and a coordinator's fences elsewhere (txn-steps.ts).
    const o = fenceOutcome(r, id, session.seq, 'this range');
    if (o.committed === 'staged') {
      const e = new OutcomeUnknownError(0, undefined, `transaction ${o.txnId} is staging (prepared in every range it reached so far); its outcome is decided through its primary`);
      e.staged = { txnId: o.txnId, primary: o.primary };
      throw e;
    }
    if (!o.committed) throw new TxnNotFoundError(id, 'did not commit: fenced off in the log by this retry');
    // A commit with nothing to write (ts 0) leaves nothing to remember.
    if (o.commitTs > 0) this.finished.set(id, { kind: 'committed', commitTs: o.commitTs });
    return { commitTs: o.commitTs };
  }

  /** Whether the transaction is open for reads and writes (not committing, in doubt or finished). */
  isOpen(id: string): boolean {
    const t = this.txns.get(id);
    return t !== undefined && t.committing === undefined && t.inDoubt === undefined;
  }

  rollback(id: string): void {
    const t = this.txns.get(id);
    if (t === undefined) {
      const f = this.finished.get(id);
      if (f === undefined) throw new TxnNotFoundError(id, 'unknown');
      if (f.kind === 'committed') throw new TxnNotFoundError(id, 'already committed');
      if (f.kind === 'in_doubt') return; // nothing left to roll back here; the commit resolves through the log
      return; // rolled back, timed out or aborted: idempotent
    }
    if (t.committing !== undefined) throw new TxnNotFoundError(id, 'commit in progress');
    // An in-doubt commit may still apply: forget the transaction, but never as "rolled back".
    this.finish(t, { kind: t.inDoubt !== undefined ? 'in_doubt' : 'rolled_back' });
    this.opts.observer?.onTxnFinished?.('rolled_back');
  }

  /** Rolls back every active transaction (store close). */
  close(): void {
    this.closed = true;
    for (const t of [...this.txns.values()]) {
      if (t.committing !== undefined) continue;
      this.finish(t, { kind: t.inDoubt !== undefined ? 'in_doubt' : 'rolled_back' });
      this.opts.observer?.onTxnFinished?.('rolled_back');
    }
  }
}

function sameSession(a: Session, b: Session | undefined): boolean {
  return b !== undefined && a.clientId === b.clientId && a.seq === b.seq;
}
