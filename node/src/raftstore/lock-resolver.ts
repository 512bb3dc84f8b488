// Settles a lock of a prepared cross-range transaction that a request ran into (kv/txn-locks.ts;
// Percolator's lock resolution). While the lock's TTL runs the caller backs off and retries — its
// coordinator is usually a few milliseconds from committing. A lock older than EARLY_CHECK_AGE_MS (any
// lock where secondary commits are held: earlyCheckPolicy) is also checked at its primary at once,
// without deciding anything (TiKV's CheckTxnStatus on meeting a lock): a recorded outcome — a
// coordinator that died after its commit point, a commit behind the reply that is late or held — settles
// it now instead of after the TTL. Once the TTL is over, the transaction's
// primary range decides its fate (TxnCheckCommand: its record, or an abort recorded now), and the lock's
// own range is rolled forward (commit at the recorded ts) or back. Nothing here can commit a transaction
// that did not reach its commit point, or undo one that did: both answers come from the primary's log.
//
// A STAGING transaction (parallel commits, txn-coordinator.ts) may be committed without a record: every
// part prepared is the commit point. Its recovery asks every participant range (TxnCheckPartCommand):
// prepared, or prevented from now on. All prepared → commit at the largest prepare ts; any prevented →
// abort; either is written at the primary, where the coordinator's own decision may have come first.
import type { TxnParticipant } from '../kv/txn-steps.js';
import { KvError, type KeyLockedError } from '../kv/errors.js';
import { TS_PER_MS } from '../kv/state-machine.js';
import type { Logger } from '../common/logger.js';

export interface ResolverHost {
  /** The transaction steps of the range holding `key` (a local replica's, or a remote range's). */
  storeFor(key: Buffer): Promise<TxnParticipant>;
  /** Now, in ts units (the local hybrid clock's physical part is enough for TTL estimates). */
  nowTs(): number;
  /**
   * A lock of `txnId` is in the way: send its commit now if this store holds it back
   * (secondary-commits.ts, --txn-secondary-hold); true when it did.
   */
  hurry?(txnId: string): boolean;
  log?: Logger;
}

export interface ResolveStats {
  waited: number;
  /** Live locks checked at their primary before their TTL (EARLY_CHECK_AGE_MS), and of those, settled. */
  earlyChecks: number;
  earlySettled: number;
  /** Staging transactions recovered through their participants. */
  recovered: number;
  committed: number;
  rolledBack: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * A live lock at least this old (by its prepare ts) is checked at its primary before its TTL ends. Younger
 * ones are usually mid-commit (a commit takes a few Raft rounds): backing off costs less than a Raft
 * round at the primary. At most one such check per transaction per this interval, per store.
 */
export const EARLY_CHECK_AGE_MS = 100;

/** When a live lock is checked at its primary: from what age, and at most once per interval per transaction. */
export interface EarlyCheckPolicy {
  ageMs: number;
  intervalMs: number;
}

/**
 * The early check on a store whose coordinators hold secondary commits for up to `holdMs`
 * (secondary-commits.ts): at once, at most once a millisecond per transaction — TiKV's CheckTxnStatus on
 * meeting a lock. A held lock belongs to a transaction already committed, so a reader or prepare on
 * another store that meets it settles it itself instead of waiting out the hold (a prepare gives way
 * after three tries, ~6 ms). Without a hold, locks are almost always mid-commit: EARLY_CHECK_AGE_MS.
 */
export function earlyCheckPolicy(holdMs: number): EarlyCheckPolicy {
  return holdMs > 0 ? { ageMs: 0, intervalMs: 1 } : { ageMs: EARLY_CHECK_AGE_MS, intervalMs: EARLY_CHECK_AGE_MS };
}
/** An expiry no check can reach: the primary answers its record, or `alive` — it decides nothing. */
const NEVER = Number.MAX_SAFE_INTEGER;

export class LockResolver {
  readonly stats: ResolveStats = { waited: 0, earlyChecks: 0, earlySettled: 0, committed: 0, rolledBack: 0, recovered: 0 };
  /** When each transaction's live lock was last checked early (ms; pruned as it grows). */
  private readonly earlyChecked = new Map<string, number>();

  private readonly early: EarlyCheckPolicy;

  constructor(private readonly host: ResolverHost, opts: { earlyCheck?: EarlyCheckPolicy } = {}) {
    this.early = opts.earlyCheck ?? earlyCheckPolicy(0);
  }

  /** Whether `txnId`'s live lock may be checked at its primary now (rate limit, see EARLY_CHECK_AGE_MS). */
  private earlyCheckDue(txnId: string, nowMs: number): boolean {
    const last = this.earlyChecked.get(txnId);
    if (last !== undefined && nowMs - last < this.early.intervalMs) return false;
    if (this.earlyChecked.size >= 4096) {
      for (const [t, at] of this.earlyChecked) if (nowMs - at >= this.early.intervalMs) this.earlyChecked.delete(t);
    }
    this.earlyChecked.set(txnId, nowMs);
    return true;
  }

  /**
   * One step towards settling `e`'s lock; the caller retries its request afterwards. `attempt` (1-based)
   * paces the backoff while the lock is alive.
   */
  async resolve(e: KeyLockedError, attempt: number): Promise<void> {
    const lock = e.lock;
    const expiresAt = lock.prepTs + lock.ttlTs;
    const now = this.host.nowTs();
    if (now < expiresAt) {
      // Alive (by this node's clock): back off, up to the lock's remaining life. A commit this store
      // holds back goes now, and the retry after a short backoff finds the lock gone.
      this.stats.waited++;
      if (this.host.hurry?.(lock.txnId) === true) {
        await sleep(1);
        return;
      }
      if (now - lock.prepTs >= this.early.ageMs * TS_PER_MS && this.earlyCheckDue(lock.txnId, now / TS_PER_MS)) {
        this.stats.earlyChecks++;
        const st = await this.host
          .storeFor(lock.primary)
          .then((p) => p.checkTxn(lock.txnId, lock.primary, NEVER))
          .catch(() => undefined); // only a shortcut: the backoff below goes on as before
        if (st !== undefined && (st.state === 'committed' || st.state === 'aborted')) {
          await this.settle(e.key, lock.txnId, st.state, st.ts);
          this.stats.earlySettled++;
          return;
        }
      }
      const remainingMs = Math.ceil((expiresAt - now) / TS_PER_MS);
      await sleep(Math.max(1, Math.min(remainingMs, Math.min(2 ** Math.min(attempt, 6), 50))));
      return;
    }
    const st = await this.decide(lock.txnId, lock.primary, { lockExpiresTs: expiresAt });
    if (st.state === 'alive') {
      // The primary's clock says it still lives (clocks differ a little): wait and ask again.
      this.stats.waited++;
      await sleep(Math.max(1, Math.min(Math.ceil((st.ts - now) / TS_PER_MS), 50)));
      return;
    }
    await this.settle(e.key, lock.txnId, st.state, st.ts);
  }

  /** Rolls the locks of `txnId` in the range of `key` forward (at `ts`) or back, as its primary decided. */
  private async settle(key: Buffer, txnId: string, state: 'committed' | 'aborted', ts: number): Promise<void> {
    const owner = await this.host.storeFor(key);
    if (state === 'committed') {
      await owner.commitTxnLocks(txnId, ts);
      this.stats.committed++;
    } else {
      await owner.rollbackTxnLocks(txnId);
      this.stats.rolledBack++;
    }
    this.host.log?.info('resolved a transaction lock', { txnId, outcome: state, commitTs: state === 'committed' ? ts : undefined, rangeId: owner.rangeId });
  }

  /**
   * The fate of transaction `txnId` at its primary, deciding it when its TTL is over (or `force`): a
   * staging one is recovered through its participants. `alive`: its TTL runs (not with `force`).
   */
  async decide(txnId: string, primary: Buffer, o: { lockExpiresTs?: number; force?: boolean } = {}): Promise<{ state: 'committed' | 'aborted' | 'alive'; ts: number }> {
    const p = await this.host.storeFor(primary);
    const st = await p.checkTxn(txnId, primary, o.lockExpiresTs, o.force === true);
    if (st.state === 'committed' || st.state === 'aborted' || st.state === 'alive') return { state: st.state, ts: st.ts };
    if (st.state !== 'staging' || st.participants === undefined) throw new Error(`transaction ${txnId}: unexpected ${st.state} from its primary`);
    let commitTs = st.ts;
    let prevented = false;
    const parts = await Promise.all(st.participants.map(async (k) => (await this.host.storeFor(k)).checkPart(txnId, k)));
    for (const a of parts) {
      if (a.state === 'prepared') commitTs = Math.max(commitTs, a.ts);
      else prevented = true;
    }
    this.stats.recovered++;
    const decided = await this.host.storeFor(primary); // the range may have split meanwhile
    if (!prevented) {
      // Every part prepared: the transaction was committed when the last prepare applied.
      try {
        return { state: 'committed', ts: (await decided.commitTxnLocks(txnId, commitTs, { primary })).commitTs };
      } catch (e) {
        if (e instanceof KvError && e.code === 'TXN_CONFLICT') return { state: 'aborted', ts: 0 }; // the coordinator rolled back first
        throw e;
      }
    }
    // A part can never prepare now: not committed — unless the coordinator recorded the commit first.
    if ((await decided.rollbackTxnLocks(txnId, primary)) === 'aborted') return { state: 'aborted', ts: 0 };
    const again = await decided.checkTxn(txnId, primary);
    if (again.state !== 'committed') throw new Error(`transaction ${txnId}: rollback answered committed, check ${again.state}`);
    return { state: 'committed', ts: again.ts };
  }
}
