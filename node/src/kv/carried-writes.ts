// A commit that carries its transaction's writes (CommitRequest.writes in proto/kv.proto): the client
// kept them and sends them once, with the commit, instead of one Put/Delete request each. They are applied
// to the transaction in order, exactly as those requests would have been, and then it commits.
//
// Retries: every attempt of one commit (one session seq) carries the same writes, and applying them again
// changes nothing (the last write of a key wins, in the same order). Only a transaction still open for
// writes takes them: once an attempt is committing, committed, in doubt or gone, the transaction refuses
// writes with TXN_NOT_FOUND, the writes stop there and the commit itself answers — with the attempt in
// flight, the session's stored result, a fence through the log, or its own TXN_NOT_FOUND. So a retry is
// never told "not committed" because its writes met a transaction an earlier attempt is committing.
import type { KvStore, Mutation } from './api.js';
import { TxnNotFoundError } from './errors.js';

export async function applyCarriedWrites(store: Pick<KvStore, 'put' | 'delete'>, txnId: string, writes: readonly Mutation[]): Promise<void> {
  for (const m of writes) {
    try {
      if (m.op === 'put') await store.put(m.key, m.value, { txnId });
      else await store.delete(m.key, { txnId });
    } catch (e) {
      if (e instanceof TxnNotFoundError) return; // not open for writes: the commit decides (above)
      throw e;
    }
  }
}
