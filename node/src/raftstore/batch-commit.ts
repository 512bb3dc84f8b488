// An atomic Batch across ranges, exactly once (docs/ARCHITECTURE.md "Transactions across ranges").
//
// A Batch has no transaction the client could name: each attempt of its session seq (a retry after a
// lost reply, on any store) runs a two-phase commit of its own. Two rules make the attempts one:
//   1. The commit point is always the range holding the Batch's SMALLEST key, wherever the coordinator
//      runs. Every way the seq can apply leaves its result in that range's session table: the commit
//      point, or a one-range Batch (whose range holds that key too). A split copies the table to both
//      halves; only the half holding the key is used after it. A later attempt's commit point is
//      answered from the table: the earlier attempt's outcome.
//      Always two rounds, the primary's range prepared in the first too, also under parallel commits
//      (txn-coordinator.ts SEQ_REUSING_COMMIT: the client resends the seq after a leader change or a
//      split).
//   2. A refusal is "not applied" only once the seq is settled there: an attempt refused before its
//      commit point (another attempt's live locks, a conflict) fences the seq in that range first. The
//      fence finds an earlier attempt's result (committed: that is the answer), or a staging attempt
//      (decided now through its participants), or it fences the seq off for good, so an earlier attempt
//      still on its way can no longer apply — then the refusal is true (and answered as a conflict, so
//      the client never resends a fenced seq). Refusals the client resends anyway (a leader change, a
//      routing refusal) pass through unsettled: a later attempt answers them through the same table.
// (Choosing a range this store holds instead — what an interactive transaction does — let a retry on a
// store lacking that range commit the Batch a second time.) An atomic DeleteRange across ranges uses
// rule 2 too (settleRefusal), its commit point being the range of its span's start (range-kv-store.ts).
import { KvError, OutcomeUnknownError, TxnConflictError } from '../kv/errors.js';
import type { FenceOutcome, TxnParticipant } from '../kv/txn-steps.js';
import { ROUTING_CODES, SEQ_REUSING_COMMIT, commitTwoPhase, earlierCommit, type TwoPhaseOptions, type TwoPhaseResult, type TxnPart } from './txn-coordinator.js';

/** The participant of the range holding `key` now (local replica or remote). */
export type LocateRange = (key: Buffer) => Promise<TxnParticipant>;

/** Errors that a fence can only have from the seq's stored result: an earlier attempt's refusal. */
const STORED_REFUSALS: ReadonlySet<string> = new Set(['TXN_CONFLICT', 'KEY_LOCKED', 'INVALID_ARGUMENT', 'SNAPSHOT_TOO_OLD']);
/** Refusals after which the client sends the same seq again (client/kv-client.ts isRetryable). */
const RESENT: ReadonlySet<string> = new Set([...ROUTING_CODES, 'NOT_LEADER', 'STORE_CLOSED', 'OVERLOADED', 'TIMEOUT']);
/** Worth another try at the fence: the route or the leader changed. */
const TRANSIENT: ReadonlySet<string> = new Set([...ROUTING_CODES, 'NOT_LEADER', 'OUTCOME_UNKNOWN', 'TIMEOUT', 'OVERLOADED']);
const SETTLE_ATTEMPTS = 5;

/** The smallest written key: the Batch's primary (rule 1). */
export function batchPrimaryKey(parts: readonly TxnPart[]): Buffer {
  let min: Buffer | undefined;
  for (const p of parts) for (const w of p.writes) if (min === undefined || Buffer.compare(w.key, min) < 0) min = w.key;
  if (min === undefined) throw new Error('a Batch writes at least one key');
  return min;
}

/** Commits a Batch's parts atomically, once per session seq; see the header. */
export async function commitBatch(parts: readonly TxnPart[], o: Omit<TwoPhaseOptions, 'primaryKey' | 'startTs'>, locate: LocateRange): Promise<TwoPhaseResult> {
  const primaryKey = batchPrimaryKey(parts);
  try {
    return await commitTwoPhase(parts, { ...o, startTs: 0, primaryKey, ...SEQ_REUSING_COMMIT });
  } catch (e) {
    return settleRefusal(e, o, primaryKey, locate);
  }
}

/**
 * Rule 2 for a request whose every attempt commits in the range of `primaryKey` (a Batch; an atomic
 * DeleteRange, whose commit point is its span's start): the refusal `e` stands only once the seq is
 * settled there. Resolves with an earlier attempt's commit (`earlier`), or throws the refusal.
 * `settleRouting`: a routing refusal is settled too, and then kept as it is — for a DeleteRange, whose
 * client answers one by sending the span range by range under NEW seqs, not by resending this one.
 */
export async function settleRefusal(e: unknown, o: Omit<TwoPhaseOptions, 'primaryKey' | 'startTs'>, primaryKey: Buffer, locate: LocateRange, settleRouting = false): Promise<TwoPhaseResult> {
  const routing = e instanceof KvError && ROUTING_CODES.has(e.code);
  // No seq to settle; or the client resends this seq anyway (unknown outcome, a leader change, a
  // routing refusal, a busy store): a later attempt answers it, through the same table.
  if (o.session === undefined || e instanceof OutcomeUnknownError || (e instanceof KvError && RESENT.has(e.code) && !(routing && settleRouting))) throw e;
  const earlier = await settleSeq(o, primaryKey, locate);
  if (earlier !== undefined) return earlierCommit(earlier.commitTs, earlier.deleted);
  throw routing ? e : notApplied(e, primaryKey); // the seq is settled as not applied: the refusal is true
}

/** Refusals the client reports as final (it does not resend the seq): kept as they are. */
const FINAL: ReadonlySet<string> = new Set(['TXN_CONFLICT', 'INVALID_ARGUMENT']);

/**
 * The answer for a request whose seq is now settled as not applied. It must be final for the client (it
 * must not resend the seq: the fence answers that TXN_NOT_FOUND now), so anything but a conflict or a
 * bad request — the fenced answer itself among them — becomes a conflict ("not applied; retry it").
 */
function notApplied(e: unknown, primaryKey: Buffer): unknown {
  if (e instanceof KvError && FINAL.has(e.code)) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new TxnConflictError(primaryKey, 0, `the request did not apply (${why}); retry it`);
}

/** Rule 2: an earlier attempt's commit, or undefined once the seq can no longer apply. */
async function settleSeq(o: Omit<TwoPhaseOptions, 'primaryKey' | 'startTs'>, primaryKey: Buffer, locate: LocateRange): Promise<{ commitTs: number; deleted?: number } | undefined> {
  let last: unknown;
  for (let attempt = 1; attempt <= SETTLE_ATTEMPTS; attempt++) {
    try {
      const at = await locate(primaryKey);
      let f: FenceOutcome;
      try {
        f = await at.fence(o.txnId, o.session!, primaryKey);
      } catch (e) {
        // Only the fence's own answer can be the seq's stored refusal (an earlier attempt's).
        if (e instanceof KvError && STORED_REFUSALS.has(e.code)) return undefined;
        throw e;
      }
      if (f.committed === true) return f;
      if (f.committed === false) return undefined;
      // A staging attempt (parallel commits): decided now, through its participants and its record.
      const d = await o.resolver.decide(f.txnId, f.primary, { force: true });
      if (d.state === 'committed') return { commitTs: d.ts };
      if (d.state === 'aborted') return undefined;
      last = new Error(`staging transaction ${f.txnId} still ${d.state}`);
    } catch (e) {
      last = e;
      if (!(e instanceof KvError && TRANSIENT.has(e.code))) break;
    }
    await new Promise((r) => setTimeout(r, 50 * attempt)); // a split or an election may be under way
  }
  const why = last instanceof Error ? last.message : String(last);
  o.log?.warn('a refused request could not settle its session seq', { txnId: o.txnId, err: why });
  throw new OutcomeUnknownError(0, undefined, `the request was refused, but whether an earlier attempt of its session seq applied is unknown (${why}); retry it with the same session`);
}
