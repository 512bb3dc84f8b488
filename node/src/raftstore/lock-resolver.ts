// Settles a lock of a prepared cross-range transaction that a request ran into (kv/txn-locks.ts;
// Percolator's lock resolution). While the lock's TTL runs the caller backs off and retries — its
// coordinator is usually a few milliseconds from committing. Once the TTL is over, the transaction's
// primary range decides its fate (TxnCheckCommand: its record, or an abort recorded now), and the lock's
// own range is rolled forward (commit at the recorded ts) or back. Nothing here can commit a transaction
// that did not reach its commit point, or undo one that did: both answers come from the primary's log.
import type { TxnParticipant } from '../kv/txn-steps.js';
import type { KeyLockedError } from '../kv/errors.js';
import { TS_PER_MS } from '../kv/state-machine.js';
import type { Logger } from '../common/logger.js';

export interface ResolverHost {
  /** The transaction steps of the range holding `key` (a local replica's, or a remote range's). */
  storeFor(key: Buffer): Promise<TxnParticipant>;
  /** Now, in ts units (the local hybrid clock's physical part is enough for TTL estimates). */
  nowTs(): number;
  log?: Logger;
}

export interface ResolveStats {
  waited: number;
  committed: number;
  rolledBack: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export class LockResolver {
  readonly stats: ResolveStats = { waited: 0, committed: 0, rolledBack: 0 };

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
      // Alive (by this node's clock): back off, up to the lock's remaining life.
      this.stats.waited++;
      const remainingMs = Math.ceil((expiresAt - now) / TS_PER_MS);
      await sleep(Math.max(1, Math.min(remainingMs, Math.min(2 ** Math.min(attempt, 6), 50))));
      return;
    }
    const primary = await this.host.storeFor(lock.primary);
    const st = await primary.checkTxn(lock.txnId, lock.primary, expiresAt);
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
}
