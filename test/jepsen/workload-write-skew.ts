// Write skew ("doctors on call"): pairs of keys (d0, d1), each 1 (on call) or 0 (off call), constraint
// d0 + d1 >= 1. A client going off call runs a transaction that reads both keys and writes 0 to its own
// one only if the other is still on call; a client going back on call writes 1. Each transaction reads
// two keys and writes one, so two concurrent "off call" transactions on different doctors have disjoint
// write sets: snapshot isolation commits both (x = y = 0); serializable isolation must abort one.
// Every snapshot a transaction reads is committed state, so any read of a pair with d0 + d1 < 1 — in a
// transaction during the run, or in the final audit on every member — is a violation.
import { KvClient, type Transaction } from '../../node/src/client/index.js';
import { ErrorTally, runClientLoops, errLine, openSession, sessionProblems, sleepMs, txnDefinitelyFailed, type CheckResult, type FinalContext, type Workload, type WorkloadRunContext } from './workload.js';

const doctor = (pair: number, d: 0 | 1): string => `jepsen/ws/p${pair}/d${d}`;

export class WriteSkewWorkload implements Workload {
  readonly kind = 'write-skew' as const;
  private readonly problems: string[] = [];
  private readonly errors = new ErrorTally();
  private readonly counts = { txns: 0, offCall: 0, onCall: 0, audits: 0, acked: 0, unknown: 0, failed: 0, violations: 0 };

  constructor(private readonly pairs: number) {}

  async setup(boot: KvClient): Promise<void> {
    await boot.txn(async (tx) => {
      for (let p = 0; p < this.pairs; p++) {
        await tx.put(doctor(p, 0), '1');
        await tx.put(doctor(p, 1), '1');
      }
    });
  }

  /** Reads a pair inside `tx` and records a violation when the snapshot breaks the constraint. */
  private async readPair(tx: Transaction, pair: number, where: string): Promise<[number, number]> {
    const a = Number((await tx.get(doctor(pair, 0))).value?.toString());
    const b = Number((await tx.get(doctor(pair, 1))).value?.toString());
    if (!(a + b >= 1)) {
      this.counts.violations++;
      if (this.problems.length < 20) this.problems.push(`write skew: pair p${pair} read d0=${a} d1=${b} ${where} (constraint d0 + d1 >= 1)`);
    }
    return [a, b];
  }

  async run(ctx: WorkloadRunContext): Promise<void> {
    await runClientLoops(ctx, 104729, async (c, kv, rand) => {
      await openSession(kv, `jepsen/hello/ws/c${c}`, ctx.running);
      while (ctx.running()) {
        const pair = Math.floor(rand() * this.pairs);
        const me = (rand() < 0.5 ? 0 : 1) as 0 | 1;
        const r = rand();
        // Think time between the reads and the write widens the window in which two transactions of
        // the same pair overlap (both checks see the other doctor on call).
        const thinkMs = Math.floor(rand() * 8);
        const kind = r < 0.15 ? 'audit' : r < 0.6 ? 'off' : 'on';
        this.counts.txns++;
        try {
          await kv.txn(
            async (tx) => {
              const v = await this.readPair(tx, pair, `by client ${c} (${kind})`);
              if (kind === 'audit') return;
              await sleepMs(thinkMs);
              if (kind === 'off' && v[0] + v[1] >= 2) await tx.put(doctor(pair, me), '0');
              if (kind === 'on' && v[me] === 0) await tx.put(doctor(pair, me), '1');
            },
            { readOnly: kind === 'audit' },
          );
          this.counts.acked++;
          if (kind === 'audit') this.counts.audits++;
          else if (kind === 'off') this.counts.offCall++;
          else this.counts.onCall++;
        } catch (e) {
          this.errors.note(e);
          if (txnDefinitelyFailed(e)) this.counts.failed++;
          else this.counts.unknown++;
        }
      }
    });
  }

  async check(fc: FinalContext): Promise<CheckResult> {
    let first: string | undefined;
    for (const m of fc.members) {
      try {
        const all = await m.client.txn(
          async (tx) => {
            const out: string[] = [];
            for (let p = 0; p < this.pairs; p++) out.push((await this.readPair(tx, p, `on n${m.id} after healing`)).join('+'));
            return out.join(' ');
          },
          { readOnly: true, endpoint: m.endpoint },
        );
        if (first === undefined) first = all;
        else if (first !== all) this.problems.push(`final pairs differ between members: ${first} vs ${all} on n${m.id}`);
      } catch (e) {
        this.problems.push(`final audit on n${m.id} failed: ${errLine(e)}`);
      }
    }
    if (this.counts.offCall < 5) this.problems.push(`too few acknowledged off-call transactions (${this.counts.offCall}): the run checked little`);
    const verdict = `write-skew: ${this.counts.violations} snapshot(s) violating d0 + d1 >= 1`;
    return { problems: [...this.problems, ...sessionProblems(this.errors)], counts: { ops: this.counts.txns, ...this.counts }, verdict, history: { counts: this.counts, errors: this.errors.toJSON(), final: first } };
  }
}
