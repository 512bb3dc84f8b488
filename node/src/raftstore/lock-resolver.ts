// Settles a lock of a prepared cross-range transaction that a request ran into (kv/txn-locks.ts;
// Percolator's lock resolution). While the lock's TTL runs the caller backs off and retries — its
// coordinator is usually a few milliseconds from committing. Once the TTL is over, the transaction's
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
   * (secondary-commits.ts); true when its commit is held or on its way here.
   */
  hurry?(txnId: string): boolean;
  log?: Logger;
}

export interface ResolveStats {
  waited: number;
  /** Staging transactions recovered through their participants. */
  recovered: number;
  committed: number;
  rolledBack: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export class LockResolver {
  readonly stats: ResolveStats = { waited: 0, committed: 0, rolledBack: 0, recovered: 0 };

  constructor(private readonly host: ResolverHost) {}

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
    const owner = await this.host.storeFor(e.key);
    if (st.state === 'committed') {
      await owner.commitTxnLocks(lock.txnId, st.ts);
      this.stats.committed++;
    } else {
      await owner.rollbackTxnLocks(lock.txnId);
      this.stats.rolledBack++;
    }
    this.host.log?.info('resolved a transaction lock', { txnId: lock.txnId, outcome: st.state, commitTs: st.state === 'committed' ? st.ts : undefined, rangeId: owner.rangeId });
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
