// Two-phase commit of a transaction that touched several ranges (docs/ARCHITECTURE.md "Transactions
// across ranges"). The node the client talks to coordinates; each range's part was read at the same
// start ts by that range's TxnManager (read set + buffered writes, kv/txn-manager.ts).
//
//   1. prepare every SECONDARY part in parallel (TxnPrepareCommand: validate against startTs as a
//      one-range commit does — serializable — then lock: write locks carry the mutations, read/range
//      locks keep writers out); a part refused (conflict, live lock) rolls everything back: certainly not
//      committed;
//   2. commit the PRIMARY part in one phase (TxnCommitLocksCommand.onePhase: its range validates and
//      writes it at a version above every secondary's prepare ts and records the outcome): the commit
//      point. It carries the client's session, so a lost reply is answered from the primary range's
//      session table (exactly-once), and a retry elsewhere is resolved by a fence in that same log;
//      (With `preparePrimary` the primary is prepared in step 1 too and its commit point only commits its
//      own locks: what a request that re-runs its transaction under one session seq needs.)
//   3. reply, and commit the secondaries behind the reply at the commit ts, coalesced per range
//      (secondary-commits.ts; a crash here leaves locks that readers roll forward through the primary).
// Locks carry a TTL: a coordinator that dies before step 2 leaves locks that a resolver aborts after it
// (it then records the abort at the primary, which refuses a late commit point).
//
// PARALLEL COMMITS (--txn-parallel-commit, on by default; CockroachDB's, TiKV's async commit): steps 1 and 2
// become one round.
//   1'. prepare EVERY part at once, the primary too: its *staging* prepare locks its part like the others
//       and its primary lock keeps one key of every other part (the participants) and the client's session;
//   2'. once every prepare succeeded the transaction IS committed, at commitTs = the largest prepare ts
//       (deterministic from the locks) — reply; once one is refused (and the primary's own prepare
//       settled), the primary records the abort and the client hears the conflict at once: the other
//       parts roll back behind the reply, each after its own prepare settles (settledOrRefused);
//   3'. behind the reply: record it explicitly (commit the primary's locks, which writes the record and
//       settles the session's stored result), then commit the secondaries (after the record: a recovery
//       that finds a part's lock gone must find the outcome decided at the primary).
// A staging transaction whose coordinator died is recovered by whoever meets its locks after their TTL
// (lock-resolver.ts): every participant is asked whether its part prepared; one that did not is
// *prevented* (an aborted record there refuses the prepare for good). All prepared: commit at the largest
// prepare ts; any prevented: abort. Both go through the primary's record, so they agree with the
// coordinator, whichever applies first. A retried commit whose reply was lost meets the staging prepare's
// stored result in the session table and runs the same recovery at once (range-kv-store.ts).
import type { Session } from '../kv/api.js';
import { KeyLockedError, KeyNotInRangeError, KvError, NotLeaderError, OutcomeUnknownError, TxnConflictError } from '../kv/errors.js';
import type { Logger } from '../common/logger.js';
import type { Mutation } from '../kv/api.js';
import { resultError, type CommandResult, type KeyRange } from '../kv/commands.js';
import { storedCommit, type PrepareRequest, type TxnParticipant } from '../kv/txn-steps.js';
import type { LockResolver } from './lock-resolver.js';
import type { SecondaryCommits } from './secondary-commits.js';

/** One range's part of a transaction: the local replica, its read set and its writes. */
export interface TxnPart {
  store: TxnParticipant;
  /** The range has a replica on the coordinator's store (only such a range may hold the commit point). */
  local?: boolean;
  readKeys: Buffer[];
  readRanges: KeyRange[];
  writes: Mutation[];
}

/**
 * Test-only crash points of the coordinator (KVS_TEST_CRASH_AT_TXN). Under parallel commits a coordinator
 * with a crash point stages the primary before preparing the rest, so 'after-first-prepare' leaves
 * exactly the primary staged; 'after-prepare' is then a committed transaction nobody recorded yet.
 */
export type TxnCrashPoint = 'after-first-prepare' | 'after-prepare' | 'after-primary-commit';

export interface TwoPhaseOptions {
  txnId: string;
  /** 0 = blind writes (an atomic Batch): nothing validated. */
  startTs: number;
  ttlTs: number;
  session?: Session;
  resolver: LockResolver;
  /** Where the secondaries' commits go after the commit point (one queue per range, per store). */
  secondaries: SecondaryCommits;
  log?: Logger;
  crashAt?: (point: TxnCrashPoint) => void;
  /** Parallel commits (see the header); false: prepare the secondaries, then the one-phase commit point. */
  parallel?: boolean;
  /**
   * Two rounds with the primary prepared in the first too (ignored with `parallel`): the commit point then
   * commits only its own locks, so no other transaction's lock can refuse it. A one-phase commit point
   * stores a lock refusal under the session seq (it validates inside the session table), so a request
   * that re-runs its transaction under the same seq (the atomic DeleteRange) could never get past a lock
   * held there — a secondary commit held to ride the next round (secondary-commits.ts) is one. A prepare
   * is refused before any session table, and settles the lock and retries like the secondaries'. Cost:
   * one Raft command more on the primary's range.
   */
  preparePrimary?: boolean;
  /**
   * The primary is the part writing this key, wherever its range is (a cross-range Batch: every attempt
   * of its session seq, on any store, then meets the same session table — batch-commit.ts). Default: the
   * first writing part whose range this store holds.
   */
  primaryKey?: Buffer;
}

/**
 * How a request that re-runs its transaction under one session seq (an atomic DeleteRange after a
 * conflict) or whose client resends that seq (a Batch after a leader change or a split) commits, whatever
 * the store's mode: two rounds, its primary prepared in the first, so the seq is used only once every
 * part holds its locks. A staging prepare (parallel commits) would store the seq's result in the first
 * round, so an attempt aborted there would answer every later one with its abort; a one-phase commit
 * point would store a lock's refusal under the seq (a secondary commit held on its range, say).
 */
export const SEQ_REUSING_COMMIT = { parallel: false, preparePrimary: true } as const;

/**
 * A commit's outcome. `earlier`: the session seq was answered from the primary range's table — another
 * attempt of the same request committed it, and this attempt wrote nothing; `deleted` when that attempt
 * was a one-range DeleteRange (its stored count).
 */
export interface TwoPhaseResult {
  commitTs: number;
  earlier?: { deleted?: number };
}

/** The outcome of a request whose seq an earlier attempt committed at `commitTs` (`deleted`: its stored count). */
export function earlierCommit(commitTs: number, deleted?: number): TwoPhaseResult {
  return { commitTs, earlier: deleted !== undefined ? { deleted } : {} };
}

const PREPARE_LOCK_ATTEMPTS = 3;
const COMMIT_ATTEMPTS = 4;

/**
 * A prepare met a lock it cannot outwait: a lock on a key this part READ, prepared above the
 * transaction's snapshot. Only a write lock blocks a read key, and its transaction can commit only at or
 * above that prepare ts, so either it aborts or this transaction's read is stale — validation would
 * refuse the prepare once the lock is settled. Percolator's prewrite gives way to any lock; this gives
 * way only when waiting cannot help (unless the other transaction aborts), instead of settling the lock
 * (rolling it forward is a Raft round) and preparing again only to be refused. The conflict names the
 * lock's prepare ts: the client's token rises to it, so its retry reads at or above it and waits for or
 * settles the lock there. (A lock on a key only written may be a read lock, which a wait can outlast.)
 */
function lostToLock(e: KeyLockedError, part: TxnPart, startTs: number): TxnConflictError | undefined {
  if (startTs === 0 || e.lock.prepTs <= startTs || !part.readKeys.some((k) => k.equals(e.key))) return undefined;
  return new TxnConflictError(e.key, e.lock.prepTs, `transaction conflict on key ${JSON.stringify(e.key.toString('latin1'))}: transaction ${e.lock.txnId} prepared a write of it at ${e.lock.prepTs}, above this transaction's snapshot ${startTs}; retry the transaction`);
}

/** A part's prepare. */
function prepareRequest(s: TxnPart, primary: Buffer, o: TwoPhaseOptions): PrepareRequest {
  return { txnId: o.txnId, startTs: o.startTs, primary, ttlTs: o.ttlTs, readKeys: s.readKeys, readRanges: s.readRanges, writes: s.writes };
}

/**
 * Runs a part's prepare, retrying it when a lock refused it once the lock is settled a step: a dead
 * transaction's lock goes and the prepare is retried; a live one (after PREPARE_LOCK_ATTEMPTS, or at
 * once when lostToLock) makes this transaction give way — no waiting while holding locks, no deadlock.
 * Other refusals are final (asConflict).
 */
async function withLockRetries<T>(s: TxnPart, primary: Buffer, o: TwoPhaseOptions, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (e) {
      if (e instanceof KeyLockedError && attempt < PREPARE_LOCK_ATTEMPTS) {
        const lost = lostToLock(e, s, o.startTs);
        if (lost !== undefined) throw lost;
        await o.resolver.resolve(e, attempt);
        continue;
      }
      throw asConflict(e, s.writes[0]?.key ?? s.readKeys[0] ?? primary);
    }
  }
}

/**
 * A prepare refused by a live lock, or because its range split or moved since the transaction read it,
 * fails the transaction as a conflict: nothing committed, and the client's helper re-runs it (a routing
 * error would make a client with one endpoint give up).
 */
export const ROUTING_CODES: ReadonlySet<string> = new Set(['KEY_NOT_IN_RANGE', 'EPOCH_NOT_MATCH', 'RANGE_NOT_FOUND']);

function asConflict(e: unknown, firstKey: Buffer): unknown {
  if (e instanceof KeyLockedError) return new TxnConflictError(e.key, 0, `${e.message}: the transaction conflicts with a prepared transaction; retry`);
  if (e instanceof KvError && ROUTING_CODES.has(e.code)) {
    return new TxnConflictError(firstKey, 0, `${e.message} (the range changed under the transaction's commit; retry the transaction)`);
  }
  return e;
}

/** Commits `parts` (>= 2 ranges with reads or writes) atomically; see the header. */
export async function commitTwoPhase(sets: readonly TxnPart[], o: TwoPhaseOptions): Promise<TwoPhaseResult> {
  const writers = sets.filter((s) => s.writes.length > 0);
  if (writers.length === 0) throw new Error('commitTwoPhase needs a write (read-only transactions commit without one)');
  // A transaction's primary is a range this store holds a replica of (its retried commit is resolved by
  // fences, RangeKvStore.commitUnknown; the nemesis once found duplicates with a remote primary when only
  // local ranges were fenced). A Batch names its primary key instead: the same range on every store.
  const pk = o.primaryKey;
  const primaryPart = pk !== undefined ? writers.find((s) => s.writes.some((w) => w.key.equals(pk))) : writers.find((s) => s.local === true);
  if (primaryPart === undefined) {
    if (pk !== undefined) throw new Error('commitTwoPhase: no part writes the primary key');
    throw new KeyNotInRangeError(0, 'this store holds no replica of any range the transaction writes; retry on a store that does');
  }
  const primary = pk ?? primaryPart.writes[0]!.key;
  const secondaries = sets.filter((s) => s !== primaryPart);
  const ordered = [primaryPart, ...secondaries];
  if (o.parallel === true) return commitParallel(primaryPart, primary, secondaries, o);
  const prepareOne = (s: TxnPart): Promise<number> => withLockRetries(s, primary, o, () => s.store.prepareTxn(prepareRequest(s, primary, o)));
  const prepTs: number[] = [];
  const preparePrimary = o.preparePrimary === true;
  try {
    // The secondaries, all at once. The primary's range is not prepared (unless preparePrimary): its
    // commit below validates and writes its part in one step (a secondary lock met before that finds no
    // record and no primary lock: once its TTL is over a resolver records the abort, and the commit point
    // is then refused).
    let first = true;
    // Commits held on these ranges (secondary-commits.ts) ride in this round.
    for (const s of ordered) o.secondaries.ride(s.store.rangeId);
    const all = await Promise.allSettled(
      (preparePrimary ? ordered : secondaries).map((s) =>
        prepareOne(s).then((ts) => {
          if (first) o.crashAt?.('after-first-prepare');
          first = false;
          return ts;
        }),
      ),
    );
    const failed = all.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    for (const r of all) prepTs.push((r as PromiseFulfilledResult<number>).value);
  } catch (e) {
    await rollbackAll(ordered, primaryPart, primary, o);
    throw e;
  }
  o.crashAt?.('after-prepare');
  // Every lock's prepare ts is below the commit ts (readers rely on it); a one-phase primary's range
  // raises it past its own last version. A prepared primary commits at exactly the largest prepare ts
  // (its own among them), as parallel commits do.
  const minCommitTs = Math.max(1, ...prepTs);
  const onePhase = preparePrimary ? undefined : { startTs: o.startTs, readKeys: primaryPart.readKeys, readRanges: primaryPart.readRanges, writes: primaryPart.writes };
  let res: { commitTs: number; txnId: string; deleted?: number } | undefined;
  for (let attempt = 1; res === undefined; attempt++) {
    try {
      res = await primaryPart.store.commitTxnLocks(o.txnId, minCommitTs, { primary, ...(onePhase !== undefined ? { onePhase } : {}), ...(o.session !== undefined ? { session: o.session } : {}) });
    } catch (e) {
      // Lost track of the proposal: the same command again (its session, or the record, answers a
      // duplicate). A definite refusal (a conflict, a live lock, aborted by a resolver, fenced by a
      // retry) rolls back: certainly not committed.
      if ((e instanceof OutcomeUnknownError || e instanceof NotLeaderError) && attempt < COMMIT_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, 50 * attempt)); // an election may be under way
        continue;
      }
      // A routing refusal (the primary's range split or moved) is checked before the session table: on a
      // retry it does not prove the earlier attempt did not apply. Only the first attempt's is definite.
      if (attempt > 1 && e instanceof KvError && ROUTING_CODES.has(e.code)) {
        throw new OutcomeUnknownError(0, undefined, `the commit point of transaction ${o.txnId} was retried and refused by routing (${e.message}); retry the commit with the same session`);
      }
      if (e instanceof KeyLockedError) {
        await rollbackAll(ordered, primaryPart, primary, o);
        await o.resolver.resolve(e, PREPARE_LOCK_ATTEMPTS).catch(() => undefined); // a dead lock: settle it a step for the retry
        throw asConflict(e, primary);
      }
      if (e instanceof KvError && (e.code === 'TXN_CONFLICT' || e.code === 'TXN_NOT_FOUND' || e.code === 'SNAPSHOT_TOO_OLD' || ROUTING_CODES.has(e.code))) {
        await rollbackAll(ordered, primaryPart, primary, o);
        throw asConflict(e, primary);
      }
      // The session table refused the first commit command (its seq's result was already forgotten: an
      // old attempt of a request its client gave up on): this transaction wrote nothing there. Its locks
      // go now — left to their TTL, they blocked every reader of those keys for the TTL, and the next
      // old attempt met them and left its own (jepsen seed 26013). On a retry the first command may have
      // applied before its result was forgotten: nothing is rolled back then.
      if (attempt === 1 && e instanceof KvError && e.code === 'SESSION_EXPIRED') await rollbackAll(ordered, primaryPart, primary, o);
      throw e;
    }
  }
  const commitTs = res.commitTs;
  if (res.txnId !== o.txnId) {
    // The session's seq was answered from the primary range's table: this is a retry of a commit that
    // already happened (another attempt's transaction). Ours never committed: drop its locks.
    await rollbackAll(ordered, primaryPart, primary, o);
    return earlierCommit(commitTs, res.deleted);
  }
  o.crashAt?.('after-primary-commit');
  // The transaction is committed: answer now, commit the secondaries behind the reply (a reader that
  // meets one of their locks first waits for it, or rolls it forward through the primary), coalesced
  // per range with other transactions' (secondary-commits.ts).
  for (const s of ordered.slice(1)) o.secondaries.commit(s.store, o.txnId, commitTs);
  return { commitTs };
}

/**
 * One key of a part's range that its prepare locks: a write, a read, or a scanned span's start (spans
 * are recorded per range, within it; an unbounded start is the empty key, in the first range).
 */
function partKey(p: TxnPart): Buffer {
  return p.writes[0]?.key ?? p.readKeys[0] ?? p.readRanges[0]?.start ?? Buffer.alloc(0);
}

/** Parallel commits (see the header): one round of prepares, the primary's staging among them. */
async function commitParallel(primaryPart: TxnPart, primary: Buffer, secondaries: readonly TxnPart[], o: TwoPhaseOptions): Promise<TwoPhaseResult> {
  const ordered = [primaryPart, ...secondaries];
  const staging = { ...prepareRequest(primaryPart, primary, o), participants: secondaries.map(partKey) };
  let answered: CommandResult | undefined;
  const stage = (): Promise<number> =>
    withLockRetries(primaryPart, primary, o, () => primaryPart.store.stageTxn(staging, o.session)).then((r) => {
      if (r.staged) return r.prepTs;
      answered = r.result; // the seq was used by an earlier attempt: it decides, below
      return 0;
    });
  const prepare = (s: TxnPart): Promise<number> => withLockRetries(s, primary, o, () => s.store.prepareTxn(prepareRequest(s, primary, o)));
  let all: Array<PromiseSettledResult<number> | undefined>;
  /** The secondaries' prepares: a rollback of a part waits for its own (settledOrRefused may leave some in flight). */
  const pending = new Map<TxnPart, Promise<number>>();
  for (const s of ordered) o.secondaries.ride(s.store.rangeId);
  if (o.crashAt !== undefined) {
    // Failpoint mode only: the primary alone first, so the first crash point has exactly it staged.
    const first = await Promise.allSettled([stage()]);
    if (first[0]!.status === 'fulfilled') o.crashAt('after-first-prepare');
    all = [...first, ...(await Promise.allSettled(secondaries.map(prepare)))];
  } else {
    const staged = stage();
    all = await settledOrRefused(
      staged,
      secondaries.map((s) => {
        const p = prepare(s);
        pending.set(s, p);
        return p;
      }),
    );
  }
  if (answered !== undefined) {
    // This commit's session seq was answered from the primary range's table: an earlier attempt of this
    // same request (a retried Batch) used it, so that one's outcome is the answer — also when one of our
    // prepares met its locks. Ours never staged (the table answered instead): drop our other locks.
    await rollbackAll(ordered, primaryPart, primary, o, pending);
    return earlierAttempt(answered, o);
  }
  const failed = all.find((r) => r?.status === 'rejected');
  if (failed !== undefined) {
    // A refused part is final only once the primary records the abort: without that record a staging
    // primary could still be joined by a late (duplicated) prepare of that part, and a recovery would
    // then find every part prepared. So a rollback that did not reach the primary leaves it unknown.
    if (!(await rollbackAll(ordered, primaryPart, primary, o, pending))) {
      const why = (failed as PromiseRejectedResult).reason;
      throw new OutcomeUnknownError(0, undefined, `transaction ${o.txnId}: a part failed (${why instanceof Error ? why.message : String(why)}) and the abort could not be recorded at its primary; retry the commit with the same session`);
    }
    throw (failed as PromiseRejectedResult).reason;
  }
  // Nothing was refused, so every prepare settled (settledOrRefused returns early only on a refusal).
  const prepTs = all.map((r) => (r as PromiseFulfilledResult<number>).value);
  o.crashAt?.('after-prepare');
  // Every part is prepared: committed, at the largest prepare ts (what a recovery computes from the locks).
  const commitTs = Math.max(...prepTs);
  o.secondaries.commit(primaryPart.store, o.txnId, commitTs, {
    primary,
    then: (ok) => {
      if (!ok) return; // readers recover it through the staging record after the TTL
      o.crashAt?.('after-primary-commit');
      for (const s of secondaries) o.secondaries.commit(s.store, o.txnId, commitTs);
    },
  });
  return { commitTs };
}

/**
 * The outcomes of a parallel commit's prepares: every one once all settled — or, as soon as the
 * primary's staging prepare (`first`) settled and any prepare was refused, those settled so far
 * (undefined: still in flight). The transaction is lost then, and waiting for the others (a prepare may
 * be backing off from a lock) only delayed the abort and the client's retry; the rollback of a part
 * still preparing waits for it (rollbackAll). The primary's own outcome is always awaited: its session
 * table may answer for an earlier attempt (`answered`), and its abort record is what makes the refusal
 * certain.
 */
function settledOrRefused(first: Promise<number>, rest: readonly Promise<number>[]): Promise<Array<PromiseSettledResult<number> | undefined>> {
  const all = [first, ...rest];
  const out: Array<PromiseSettledResult<number> | undefined> = all.map(() => undefined);
  return new Promise((resolve) => {
    let left = all.length;
    let done = false;
    const settle = (i: number, r: PromiseSettledResult<number>): void => {
      out[i] = r;
      left--;
      if (done || !(left === 0 || (out[0] !== undefined && out.some((x) => x?.status === 'rejected')))) return;
      done = true;
      resolve([...out]); // a copy: later settlements do not change what the caller saw
    };
    all.forEach((p, i) => {
      void p.then(
        (value) => settle(i, { status: 'fulfilled', value }),
        (reason: unknown) => settle(i, { status: 'rejected', reason }),
      );
    });
  });
}

/** The outcome of the earlier attempt whose result the session table gave a retried commit. */
async function earlierAttempt(r: CommandResult, o: TwoPhaseOptions): Promise<TwoPhaseResult> {
  const stored = storedCommit(r);
  if (stored !== undefined) return earlierCommit(stored.commitTs, stored.deleted);
  if (r.type === 'error') throw resultError(r);
  if (r.type === 'txnStatus') {
    let st: { state: string; ts: number } = r;
    if (r.state === 'prepared' && r.primary !== undefined) st = await o.resolver.decide(r.txnId, r.primary, { force: true });
    if (st.state === 'committed') return earlierCommit(st.ts);
    if (st.state === 'aborted') throw new TxnConflictError(Buffer.alloc(0), 0, `an earlier attempt of this request (transaction ${r.txnId}) was aborted; retry it`);
  }
  throw new OutcomeUnknownError(0, undefined, `transaction ${o.txnId}: its session seq answered a ${r.type} result; retry the commit with the same session`);
}

/**
 * Rolls back every part: the primary first, awaited — its record then says aborted, so no late lock can
 * commit and the refusal the caller answers is certain — then the others behind the caller's reply
 * (secondary-commits.ts), each once its own prepare (`pending`, maybe still in flight) settled: that is
 * cleanup a reader could do as well, through the primary's record, and it cost an aborted transaction a
 * second Raft round before its client heard of the conflict (docs/benchmarks.md 2026-12-07 14:20).
 * False when the primary's abort could not be recorded.
 */
async function rollbackAll(parts: readonly TxnPart[], primaryPart: TxnPart, primary: Buffer, o: TwoPhaseOptions, pending?: ReadonlyMap<TxnPart, Promise<unknown>>): Promise<boolean> {
  try {
    const outcome = await primaryPart.store.rollbackTxnLocks(o.txnId, primary);
    if (outcome === 'committed') throw new Error(`transaction ${o.txnId} committed while rolling back`);
  } catch (e) {
    // Locks left behind expire and are aborted by the first request that meets them.
    o.log?.warn('rollback of the primary failed; its locks expire', { txnId: o.txnId, err: String(e) });
    return false;
  }
  for (const p of parts) if (p !== primaryPart) o.secondaries.rollback(p.store, o.txnId, pending?.get(p));
  return true;
}
