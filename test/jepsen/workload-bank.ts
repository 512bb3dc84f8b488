// Bank: a few accounts with a fixed total; clients transfer random amounts between two accounts in a
// transaction (read both; if the source covers the amount, write both) and audit with read-only
// transactions that read every account. Every audit — during the run and on every member at the end —
// must see the initial total and no negative balance (a read-only transaction reads one snapshot, and
// transfers are serializable, so any other sum is a torn snapshot or a lost/duplicated half of a
// transfer). Members must agree on the final balances. Freshness (real-time order across clients): an
// audit's snapshot ts is at least the commit ts of every transfer acknowledged (to any client) before
// the audit began — else it missed an acknowledged write ("stale audit").
import { KvClient } from '../../node/src/client/index.js';
import { ErrorTally, runClientLoops, errLine, openSession, sessionProblems, txnDefinitelyFailed, type CheckResult, type FinalContext, type Workload, type WorkloadRunContext } from './workload.js';

const ACCOUNTS = 5;
const INITIAL = 100;
const TOTAL = ACCOUNTS * INITIAL;
const account = (i: number): string => `jepsen/bank/a${i}`;

export class BankWorkload implements Workload {
  readonly kind = 'bank' as const;
  private readonly problems: string[] = [];
  private readonly errors = new ErrorTally();
  private readonly counts = { transfers: 0, transfersAcked: 0, transfersUnknown: 0, transfersFailed: 0, insufficient: 0, audits: 0, auditsOk: 0, badAudits: 0, staleAudits: 0 };
  /** The highest commit ts of a transfer acknowledged so far (to any client). */
  private ackedTs = 0;

  async setup(boot: KvClient): Promise<void> {
    await boot.txn(async (tx) => {
      for (let i = 0; i < ACCOUNTS; i++) await tx.put(account(i), String(INITIAL));
    });
  }

  /** Reads every account in one read-only transaction; returns the balances and the snapshot ts they were read at. */
  private static async audit(kv: KvClient, endpoint?: string): Promise<{ balances: number[]; snapshotTs: number }> {
    return kv.txn(
      async (tx) => {
        const balances: number[] = [];
        let snapshotTs = Infinity;
        for (let i = 0; i < ACCOUNTS; i++) {
          const g = await tx.get(account(i));
          balances.push(g.found ? Number(g.value!.toString()) : NaN);
          snapshotTs = Math.min(snapshotTs, g.readTs);
        }
        return { balances, snapshotTs };
      },
      { readOnly: true, ...(endpoint ? { endpoint } : {}) },
    );
  }

  /** `floor`: the highest commit ts acknowledged before the audit began. */
  private judgeFreshness(snapshotTs: number, floor: number, where: string): void {
    if (snapshotTs >= floor) return;
    this.counts.staleAudits++;
    if (this.problems.length < 20) this.problems.push(`stale audit ${where}: snapshot ts ${snapshotTs} below commit ts ${floor} of a transfer acknowledged before it began`);
  }

  private judge(balances: number[], where: string): void {
    const sum = balances.reduce((a, b) => a + b, 0);
    if (sum !== TOTAL || balances.some((b) => !(b >= 0))) {
      this.counts.badAudits++;
      if (this.problems.length < 20) this.problems.push(`bank audit ${where}: balances [${balances.join(', ')}] sum ${sum} (expected ${TOTAL}, none negative)`);
    }
  }

  async run(ctx: WorkloadRunContext): Promise<void> {
    await runClientLoops(ctx, 7919, async (c, kv, rand) => {
      await openSession(kv, `jepsen/hello/bank/c${c}`, ctx.running);
      while (ctx.running()) {
        if (rand() < 0.25) {
          this.counts.audits++;
          try {
            const floor = this.ackedTs;
            const a = await BankWorkload.audit(kv);
            this.judge(a.balances, `by client ${c} during the run`);
            this.judgeFreshness(a.snapshotTs, floor, `by client ${c} during the run`);
            this.counts.auditsOk++;
          } catch (e) {
            this.errors.note(e); // an audit that could not run observed nothing
          }
          continue;
        }
        const from = Math.floor(rand() * ACCOUNTS);
        const to = (from + 1 + Math.floor(rand() * (ACCOUNTS - 1))) % ACCOUNTS;
        const amount = 1 + Math.floor(rand() * 20);
        this.counts.transfers++;
        try {
          const { result: moved, commitTs } = await kv.txnDetailed(async (tx) => {
            const a = Number((await tx.get(account(from))).value?.toString());
            const b = Number((await tx.get(account(to))).value?.toString());
            if (!(a >= amount)) return false;
            await tx.put(account(from), String(a - amount));
            await tx.put(account(to), String(b + amount));
            return true;
          });
          this.counts.transfersAcked++;
          if (!moved) this.counts.insufficient++;
          else if (commitTs > this.ackedTs) this.ackedTs = commitTs;
        } catch (e) {
          this.errors.note(e);
          if (txnDefinitelyFailed(e)) this.counts.transfersFailed++;
          else this.counts.transfersUnknown++;
        }
      }
    });
  }

  async check(fc: FinalContext): Promise<CheckResult> {
    let first: string | undefined;
    for (const m of fc.members) {
      let balances: number[];
      try {
        const a = await BankWorkload.audit(m.client, m.endpoint);
        balances = a.balances;
        this.judgeFreshness(a.snapshotTs, this.ackedTs, `on n${m.id} after healing`);
      } catch (e) {
        this.problems.push(`final audit on n${m.id} failed: ${errLine(e)}`);
        continue;
      }
      this.judge(balances, `on n${m.id} after healing`);
      const s = balances.join(',');
      if (first === undefined) first = s;
      else if (first !== s) this.problems.push(`final balances differ between members: [${first}] vs [${s}] on n${m.id}`);
    }
    if (this.counts.transfersAcked - this.counts.insufficient < 5) this.problems.push(`too few acknowledged transfers (${this.counts.transfersAcked - this.counts.insufficient}): the run checked little`);
    if (this.counts.auditsOk < 3) this.problems.push(`too few audits during the run (${this.counts.auditsOk})`);
    const verdict = `bank: ${this.counts.badAudits} bad and ${this.counts.staleAudits} stale audit(s) of ${this.counts.auditsOk + fc.members.length}`;
    return { problems: [...this.problems, ...sessionProblems(this.errors)], counts: { ops: this.counts.transfers + this.counts.audits, ...this.counts }, verdict, history: { counts: this.counts, errors: this.errors.toJSON(), final: first } };
  }
}
