// A commit that carries its transaction's writes (CommitRequest.writes in proto/kv.proto): the client
// kept them and sends them once, with the commit, instead of one Put/Delete request each. They are applied
// to the transaction in order, exactly as those requests would have been, and then it commits. Keys the
// client read outside the transaction (direct reads, CommitRequest.read_keys) join its read set first.
//
// Retries: every attempt of one commit (one session seq) carries the same writes, and applying them again
// changes nothing (the last write of a key wins, in the same order). Attempts may overlap (the client gives
// up on a slow one and sends the next while the node still works on the first). So:
//  - once ANY attempt has started the commit itself (`commitStarted`), a carried write's error is never the
//    answer: the writes stop and the commit path answers — the attempt in flight, the session's stored
//    result, a fence through the log. (The nemesis found duplicate increments when a retry's write met the
//    range's re-created replica and answered TXN_CONFLICT — "re-run it" — for a commit that had applied.)
//  - a transaction no longer open for writes (committing, committed, in doubt, gone: TXN_NOT_FOUND) is
//    likewise left to the commit path;
//  - any other error, while no commit has started, is the answer, and the transaction is aborted first:
//    nothing of it committed, and no slower attempt can commit it later (it finds it gone, and the commit
//    path's fence settles its session seq as not applied).
import type { KvStore, Mutation } from './api.js';
import { TxnNotFoundError } from './errors.js';

export interface CarriedWritesTxn {
  /** Whether an attempt has started committing the transaction (set before the commit's first await). */
  commitStarted(): boolean;
  /** Drops the open transaction (synchronously: a concurrent attempt must find it gone). */
  abort(): void;
}

/**
 * Runs a commit's carried steps in order (a carried write, or a reported read noted in its range's part),
 * with the rules above for an error.
 */
async function applyInOrder<T>(items: readonly T[], step: (item: T) => Promise<unknown>, txn: CarriedWritesTxn): Promise<void> {
  for (const item of items) {
    try {
      await step(item);
    } catch (e) {
      if (txn.commitStarted() || e instanceof TxnNotFoundError) return; // the commit path answers (above)
      txn.abort();
      throw e;
    }
  }
}

/**
 * The keys a commit reports as read outside the transaction (direct reads: CommitRequest.read_keys), each
 * noted in its range's part, before the carried writes and with the same rules for errors.
 */
export function applyReportedReads(note: (key: Buffer) => Promise<void>, keys: readonly Buffer[], txn: CarriedWritesTxn): Promise<void> {
  return applyInOrder(keys, note, txn);
}

export function applyCarriedWrites(store: Pick<KvStore, 'put' | 'delete'>, txnId: string, writes: readonly Mutation[], txn: CarriedWritesTxn): Promise<void> {
  return applyInOrder(writes, (m) => (m.op === 'put' ? store.put(m.key, m.value, { txnId }) : store.delete(m.key, { txnId })), txn);
}
