// Secondary commits of cross-range transactions, coalesced per range (raftstore/txn-coordinator.ts).
//
// A transaction's secondaries are committed after its reply: nobody waits for them, and every store round
// a range's Raft group takes costs far more than one more command in it (a Ready, a synced log write and a
// frame per follower, an apply write — docs/benchmarks.md). So each range has at most one batch of
// secondary commits in flight from this coordinator: commits arriving meanwhile queue, and the next batch
// submits them together, in one event-loop turn, so they share the group's next round. Under load a
// range's secondaries ride in a handful of rounds instead of one round each.
//
// With `holdMs` (--txn-secondary-hold: a store's is 10 ms by default, with parallel commits only; 0 = off),
// a commit with nothing in flight on its range is HELD for up to that long and then sent
// — unless this coordinator proposes to that range first (its next transaction's prepare or commit
// point: `ride`), in which case it goes in the same event-loop turn and so in that proposal's Raft round,
// instead of a round of its own (TiKV and CockroachDB resolve intents asynchronously too; a round of a
// range costs far more CPU than one more command in it). Back-to-back transactions over 4 ranges then pay
// ~4 rounds each instead of ~7. A get on this store that meets a queued commit's lock reads through it
// (`committedTs`, LocalStore.readThroughLock); another reader here sends a held commit at once
// (`hurry`, from the lock resolver) rather than waiting; a reader or prepare on ANOTHER store backs off
// as for any lock whose commit is on its way, and checks the lock at its primary at once (lock-resolver.ts
// earlyCheckPolicy, TiKV's CheckTxnStatus): a committed transaction's lock is settled by that reader.
// CockroachDB's intent resolver batches its asynchronous resolutions per range the same way (a batch
// waits up to 10 ms). A store holds (10 ms by default) with parallel commits only (the default): with
// them, a lone cross-range transaction is 16-20 % faster and its stores spend ~15 % less CPU; at 64 in
// flight no change outside the drift (docs/benchmarks.md 2026-12-07). Why only with them: another
// coordinator's transaction that meets a held lock must be able to settle it and try again. Its prepares
// can (a lock refuses a prepare before the session table); a two-round one-phase commit point cannot — it
// stores a lock's refusal under the session seq, so the client gets a conflict instead. (The two-round
// atomic DeleteRange and Batch prepare their primary too for that reason: txn-coordinator.ts
// SEQ_REUSING_COMMIT.)
//
// Safety does not depend on any of this: a secondary's locks are resolved by readers through the primary
// if its commit is late or lost (the coordinator may crash at any point).
import type { Logger } from '../common/logger.js';
import type { TxnParticipant } from '../kv/txn-steps.js';
import { KvError } from '../kv/errors.js';

interface Pending {
  txnId: string;
  commitTs: number;
  /** The primary's explicit commit of a parallel commit (records the outcome; its secondaries wait for it). */
  primary?: Buffer;
  /** Called with whether the commit was applied (the primary's: then its secondaries go). */
  then?: (ok: boolean) => void;
  attempt: number;
}

/** A primary's explicit commit that lost track of its proposal is sent again this many times in all. */
const PRIMARY_ATTEMPTS = 3;

interface RangeQueue {
  participant: TxnParticipant;
  pending: Pending[];
  inFlight: boolean;
  /** The hold of the pending commits (nothing in flight). */
  timer?: NodeJS.Timeout;
}

export interface SecondaryCommitsOptions {
  /** How long a commit with nothing in flight on its range waits for a proposal there to ride (default 0: none; a store passes its configured hold). */
  holdMs?: number;
}

/** A store's default hold with parallel commits (see the header; CockroachDB's intent-resolution batch wait; docs/benchmarks.md 2026-12-07). */
export const SECONDARY_HOLD_MS = 10;

/**
 * The hold a store uses: the configured one (default SECONDARY_HOLD_MS) with parallel commits, none
 * without — a two-round commit point cannot settle a held lock and retry (see the header).
 */
export function storeSecondaryHoldMs(parallelCommit: boolean, configuredMs?: number): number {
  return parallelCommit ? (configuredMs ?? SECONDARY_HOLD_MS) : 0;
}

export class SecondaryCommits {
  private readonly queues = new Map<number, RangeQueue>();
  /** Commits submitted and not yet answered (tests, metrics). */
  private outstanding = 0;
  private idleWaiters: Array<() => void> = [];

  private readonly holdMs: number;
  /**
   * Every transaction with a commit queued, held or in flight here: its commit ts, and how many of its
   * commits are. Each is decided (committed) — a commit is queued only after the commit point — so a
   * reader on this store may read through its locks (committedTs; LocalStore.readThroughLock).
   */
  private readonly decided = new Map<string, { commitTs: number; commits: number }>();

  constructor(private readonly log?: Logger, opts: SecondaryCommitsOptions = {}) {
    this.holdMs = opts.holdMs ?? 0;
  }

  /**
   * Queues the commit of `txnId`'s locks on `participant`'s range at `commitTs` (behind the reply). With
   * `opts.primary`, the explicit commit of a parallel commit's primary (its record); `opts.then` hears
   * whether it applied.
   */
  commit(participant: TxnParticipant, txnId: string, commitTs: number, opts: { primary?: Buffer; then?: (ok: boolean) => void } = {}): void {
    this.enqueue(participant, { txnId, commitTs, ...opts, attempt: 1 });
  }

  /** The commit ts of `txnId` when this store has its commit queued, held or in flight (see `decided`). */
  committedTs(txnId: string): number | undefined {
    return this.decided.get(txnId)?.commitTs;
  }

  private enqueue(participant: TxnParticipant, c: Pending): void {
    const d = this.decided.get(c.txnId);
    if (d !== undefined) d.commits++;
    else this.decided.set(c.txnId, { commitTs: c.commitTs, commits: 1 });
    let q = this.queues.get(participant.rangeId);
    if (q === undefined) this.queues.set(participant.rangeId, (q = { participant, pending: [], inFlight: false }));
    q.participant = participant; // the newest handle (a replica re-created after a move)
    q.pending.push(c);
    this.outstanding++;
    if (q.inFlight || q.timer !== undefined) return;
    // A primary's explicit commit (parallel commits) is not held: its secondaries wait for it.
    if (this.holdMs <= 0 || c.primary !== undefined) {
      this.flush(participant.rangeId, q);
      return;
    }
    const rangeId = participant.rangeId;
    const held = q;
    held.timer = setTimeout(() => this.release(rangeId, held), this.holdMs);
    held.timer.unref();
  }

  /**
   * This coordinator is about to propose to `rangeId` in this event-loop turn: the range's held commits
   * go now, so they share that proposal's Raft round.
   */
  ride(rangeId: number): void {
    const q = this.queues.get(rangeId);
    if (q !== undefined && q.timer !== undefined) this.release(rangeId, q);
  }

  /**
   * A reader met a lock of `txnId`: its commit, if held here, goes now (true: the lock is about to go, a
   * short backoff is enough). A commit only queued behind an in-flight batch is left to the usual backoff.
   */
  hurry(txnId: string): boolean {
    for (const [rangeId, q] of this.queues) {
      if (q.timer === undefined || !q.pending.some((c) => c.txnId === txnId)) continue;
      this.release(rangeId, q);
      return true;
    }
    return false;
  }

  /** Every held commit goes now (the store is closing). */
  releaseAll(): void {
    for (const [rangeId, q] of this.queues) if (q.timer !== undefined) this.release(rangeId, q);
  }

  private release(rangeId: number, q: RangeQueue): void {
    clearTimeout(q.timer);
    q.timer = undefined;
    if (!q.inFlight) this.flush(rangeId, q);
  }

  /**
   * Rolls back `txnId`'s locks on `participant`'s range behind the reply of an aborted transaction, once
   * `after` (that range's prepare, maybe still in flight) settled. Its primary already records the abort,
   * so this is cleanup: a reader that meets such a lock first settles it through the primary.
   */
  rollback(participant: TxnParticipant, txnId: string, after: Promise<unknown> = Promise.resolve()): void {
    this.outstanding++;
    void after
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => participant.rollbackTxnLocks(txnId))
      .then(
        () => undefined,
        (e: unknown) => this.log?.warn('rollback of a secondary failed; its locks expire', { rangeId: participant.rangeId, txnId, err: String(e) }),
      )
      .then(() => this.answered(1));
  }

  /** One of `txnId`'s commits was answered: it leaves `decided` with its last (a retry re-enters it). */
  private forget(txnId: string): void {
    const d = this.decided.get(txnId);
    if (d !== undefined && --d.commits === 0) this.decided.delete(txnId);
  }

  /** Resolves once every queued commit (and rollback) was answered (or failed). */
  idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** `n` submitted commits or rollbacks were answered; idle() waiters wake when none is left. */
  private answered(n: number): void {
    this.outstanding -= n;
    if (this.outstanding === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private flush(rangeId: number, q: RangeQueue): void {
    const batch = q.pending;
    if (batch.length === 0) {
      q.inFlight = false;
      this.queues.delete(rangeId);
      return;
    }
    q.pending = [];
    q.inFlight = true;
    const p = q.participant;
    void Promise.allSettled(batch.map((c) => p.commitTxnLocks(c.txnId, c.commitTs, c.primary !== undefined ? { primary: c.primary } : {}))).then((rs) => {
      rs.forEach((r, i) => {
        const c = batch[i]!;
        if (r.status === 'rejected') {
          const retry = c.primary !== undefined && c.attempt < PRIMARY_ATTEMPTS && r.reason instanceof KvError && (r.reason.code === 'NOT_LEADER' || r.reason.code === 'OUTCOME_UNKNOWN');
          if (retry) {
            // An election may be under way: the same command again (the record answers a duplicate).
            const again = { ...c, attempt: c.attempt + 1 };
            this.outstanding++;
            setTimeout(() => {
              this.outstanding--;
              this.enqueue(p, again);
            }, 50 * c.attempt).unref();
            this.forget(c.txnId);
            return;
          }
          this.log?.warn('secondary commit failed; readers resolve its locks through the primary', { rangeId, txnId: c.txnId, primary: c.primary !== undefined, err: String(r.reason) });
        }
        c.then?.(r.status === 'fulfilled');
        this.forget(c.txnId);
      });
      this.answered(batch.length);
      this.flush(rangeId, q);
    });
  }
}
