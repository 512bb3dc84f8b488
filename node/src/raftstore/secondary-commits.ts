// Secondary commits of cross-range transactions, coalesced per range (raftstore/txn-coordinator.ts).
//
// A transaction's secondaries are committed after its reply: nobody waits for them, and every store round
// a range's Raft group takes costs far more than one more command in it (a Ready, a synced log write and a
// frame per follower, an apply write — docs/benchmarks.md). So each range has at most one batch of
// secondary commits in flight from this coordinator: commits arriving meanwhile queue, and the next batch
// submits them together, in one event-loop turn, so they share the group's next round. Under load a
// range's secondaries ride in a handful of rounds instead of one round each; alone, a commit goes at once.
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
}

export class SecondaryCommits {
  private readonly queues = new Map<number, RangeQueue>();
  /** Commits submitted and not yet answered (tests, metrics). */
  private outstanding = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly log?: Logger) {}

  /**
   * Queues the commit of `txnId`'s locks on `participant`'s range at `commitTs` (behind the reply). With
   * `opts.primary`, the explicit commit of a parallel commit's primary (its record); `opts.then` hears
   * whether it applied.
   */
  commit(participant: TxnParticipant, txnId: string, commitTs: number, opts: { primary?: Buffer; then?: (ok: boolean) => void } = {}): void {
    this.enqueue(participant, { txnId, commitTs, ...opts, attempt: 1 });
  }

  private enqueue(participant: TxnParticipant, c: Pending): void {
    let q = this.queues.get(participant.rangeId);
    if (q === undefined) this.queues.set(participant.rangeId, (q = { participant, pending: [], inFlight: false }));
    q.participant = participant; // the newest handle (a replica re-created after a move)
    q.pending.push(c);
    this.outstanding++;
    if (!q.inFlight) this.flush(participant.rangeId, q);
  }

  /** Resolves once every queued commit was answered (or failed). */
  idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
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
            return;
          }
          this.log?.warn('secondary commit failed; readers resolve its locks through the primary', { rangeId, txnId: c.txnId, primary: c.primary !== undefined, err: String(r.reason) });
        }
        c.then?.(r.status === 'fulfilled');
      });
      this.outstanding -= batch.length;
      if (this.outstanding === 0) for (const w of this.idleWaiters.splice(0)) w();
      this.flush(rangeId, q);
    });
  }
}
