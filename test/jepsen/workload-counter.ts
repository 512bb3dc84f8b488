// Counters: each client increments its own key, by a transaction (get; put v+1) or by a CAS
// (get; put v+1 if still v). Per key the client counts increments acknowledged, of unknown outcome,
// and definitely failed. After healing the final value must lie in [acked, acked + unknown]: above is
// a duplicated increment (an increment applied twice, e.g. a retried commit re-run although the first
// attempt committed), below a lost one. The reads inside increments are checked too: a counter never
// goes backwards.
import { ErrorTally, runClientLoops, errLine, sessionProblems, txnDefinitelyFailed, type CheckResult, type FinalContext, type Workload, type WorkloadRunContext } from './workload.js';

export interface CounterTally {
  acked: number;
  unknown: number;
  failed: number;
  /** Highest value read so far (an increment's read). */
  maxRead: number;
}

const keyOf = (c: number): string => `jepsen/ctr/c${c}`;

export class CounterWorkload implements Workload {
  readonly kind = 'counter' as const;
  readonly tally = new Map<string, CounterTally>();
  private readonly problems: string[] = [];
  private readonly ops = { txn: 0, cas: 0, casMismatch: 0 };
  private readonly errors = new ErrorTally();

  /** `txnFraction` of increments are transactions, the rest CAS. */
  constructor(private readonly txnFraction = 0.7) {}

  async setup(): Promise<void> {}

  async run(ctx: WorkloadRunContext): Promise<void> {
    await runClientLoops(ctx, 977, async (c, kv, rand) => {
      const key = keyOf(c);
      const t: CounterTally = { acked: 0, unknown: 0, failed: 0, maxRead: 0 };
      this.tally.set(key, t);
      const sawValue = (v: number, how: string): void => {
        if (v < t.maxRead) this.problems.push(`${key}: ${how} read ${v} after ${t.maxRead} had been read (a counter went backwards)`);
        t.maxRead = Math.max(t.maxRead, v);
      };
      while (ctx.running()) {
        if (rand() < this.txnFraction) {
          this.ops.txn++;
          try {
            await kv.txn(async (tx) => {
              const g = await tx.get(key);
              const v = g.found ? Number(g.value!.toString()) : 0;
              sawValue(v, 'a transaction');
              await tx.put(key, String(v + 1));
            });
            t.acked++;
          } catch (e) {
            this.noteError(e);
            if (txnDefinitelyFailed(e)) t.failed++;
            else t.unknown++;
          }
        } else {
          this.ops.cas++;
          let v: number;
          try {
            const g = await kv.get(key);
            v = g.found ? Number(g.value!.toString()) : 0;
            sawValue(v, 'a get');
          } catch (e) {
            this.noteError(e);
            continue; // a failed read changes nothing
          }
          try {
            const p = await kv.put(key, String(v + 1), v === 0 ? { expectAbsent: true } : { expectedValue: String(v) });
            if (p.succeeded) t.acked++;
            else this.ops.casMismatch++; // an earlier increment of unknown outcome did apply
          } catch (e) {
            this.noteError(e);
            t.unknown++;
          }
        }
      }
    });
  }

  private noteError(e: unknown): void {
    this.errors.note(e);
  }

  async check(fc: FinalContext): Promise<CheckResult> {
    const problems = [...this.problems, ...sessionProblems(this.errors)];
    const finals = new Map<string, number>();
    for (const m of fc.members) {
      for (const key of this.tally.keys()) {
        let v: number;
        try {
          const g = await m.client.get(key);
          v = g.found ? Number(g.value!.toString()) : 0;
        } catch (e) {
          problems.push(`final read of ${key} on n${m.id} failed: ${errLine(e)}`);
          continue;
        }
        const prev = finals.get(key);
        if (prev === undefined) finals.set(key, v);
        else if (prev !== v) problems.push(`final reads of ${key} differ between members (${prev} vs ${v} on n${m.id})`);
      }
    }
    const r = checkCounters(this.tally, finals);
    problems.push(...r.problems);
    if (r.counts.acked < 5) problems.push(`too few acknowledged increments (${r.counts.acked}): the run checked little`);
    const verdict = `counters: ${r.counts.duplicates} duplicated, ${r.counts.lost} lost increments`;
    const errors = this.errors.toJSON();
    return { problems, counts: { ops: this.ops.txn + this.ops.cas, ...r.counts, txnIncrements: this.ops.txn, casIncrements: this.ops.cas, casMismatch: this.ops.casMismatch }, verdict, history: { tally: Object.fromEntries(this.tally), finals: Object.fromEntries(finals), errors } };
  }
}

/** Final value per key within [acked, acked + unknown]; counts duplicated and lost increments. */
export function checkCounters(tally: Map<string, CounterTally>, finals: Map<string, number>): { problems: string[]; counts: Record<string, number> } {
  const problems: string[] = [];
  const counts = { keys: tally.size, acked: 0, unknown: 0, failed: 0, duplicates: 0, lost: 0, keysDuplicated: 0, keysLost: 0 };
  for (const [key, t] of tally) {
    counts.acked += t.acked;
    counts.unknown += t.unknown;
    counts.failed += t.failed;
    const v = finals.get(key);
    if (v === undefined) {
      problems.push(`${key}: no final value read`);
      continue;
    }
    if (!Number.isInteger(v) || v < 0) problems.push(`${key} = ${v}: not a counter value`);
    else if (v > t.acked + t.unknown) {
      counts.duplicates += v - t.acked - t.unknown;
      counts.keysDuplicated++;
      problems.push(`duplicate increments: ${key} = ${v} > ${t.acked} acknowledged + ${t.unknown} unknown (${t.failed} definitely failed)`);
    } else if (v < t.acked) {
      counts.lost += t.acked - v;
      counts.keysLost++;
      problems.push(`lost increments: ${key} = ${v} < ${t.acked} acknowledged`);
    }
  }
  return { problems, counts };
}
