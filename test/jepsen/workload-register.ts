// The original workload: single-key get / put / CAS registers (history-workload.ts), checked by
// Porcupine (per-key register model) plus an independent "no lost acknowledged write" check.
import { checkLinearizable } from '../helpers/history-porcupine.js';
import { runRegisterWorkload } from '../helpers/history-workload.js';
import type { HistoryOp, HistoryRecorder } from '../helpers/history-recorder.js';
import type { CheckResult, FinalContext, Workload, WorkloadRunContext } from './workload.js';

export class RegisterWorkload implements Workload {
  readonly kind = 'register' as const;
  private h: HistoryRecorder | undefined;

  constructor(private readonly keys: number) {}

  async setup(): Promise<void> {}

  async run(ctx: WorkloadRunContext): Promise<void> {
    this.h = await runRegisterWorkload({
      endpointsFor: ctx.endpointsFor,
      clients: ctx.clients,
      keys: this.keys,
      opsPerClient: 100_000,
      timeLimitMs: ctx.timeLimitMs,
      seed: ctx.seed,
      keyPrefix: 'jepsen/k',
      // A third of the blind puts write two registers in one Batch: across ranges once a split fault
      // separates them, through stores that lack a range once a move-range fault places it elsewhere.
      batchFraction: 0.35,
      // And a few DeleteRanges over registers between two keys: exactly-once across ranges, on stores
      // lacking one (the span's start fixes the commit point).
      deleteRangeFraction: 0.04,
      clientOptions: () => ctx.clientOptions,
    });
  }

  async check(fc: FinalContext, dir: string): Promise<CheckResult> {
    const h = this.h!;
    const problems: string[] = [];
    // Final reads of every key (linearizable reads, recorded into the history), from every member.
    const finals = new Map<string, string | undefined>();
    for (const m of fc.members) {
      for (let k = 0; k < this.keys; k++) {
        const key = `jepsen/k${k}`;
        const out = await h.record(900 + m.id, { op: 'get', key }, async () => {
          const g = await m.client.get(key);
          return g.found ? { found: true, value: g.value!.toString() } : { found: false };
        });
        if (!out) problems.push(`final read of ${key} on n${m.id} failed`);
        else if (!finals.has(key)) finals.set(key, out.found ? out.value : undefined);
        else if (finals.get(key) !== (out.found ? out.value : undefined)) problems.push(`final reads of ${key} differ between members`);
      }
    }
    problems.push(...lostWrites(h.ops, finals));
    const pr = checkLinearizable(h.ops, { dir, timeoutS: 90 });
    if (pr.exitCode !== 0) problems.push(`porcupine: ${pr.verdict}${pr.htmlFile ? ` (visualization ${pr.htmlFile})` : ''}`);
    const okOps = h.ops.filter((x) => x.return !== null && x.input.op !== 'get').length;
    if (okOps < 5) problems.push(`too few acknowledged writes (${okOps}): the run checked little`);
    return { problems, counts: { ops: h.ops.length, ...h.counts, ackedWrites: okOps }, verdict: pr.verdict, history: h.ops };
  }
}

/**
 * No lost acknowledged write: the final value of each key must be written by a write W that may be
 * linearized last, i.e. W took effect or may have (acknowledged, or outcome unknown) and W did not
 * return before some acknowledged write of that key was invoked. No writes at all → the key is absent.
 */
export function lostWrites(ops: HistoryOp[], finals: Map<string, string | undefined>): string[] {
  const out: string[] = [];
  const removes = (x: HistoryOp): boolean => x.input.op === 'delete' || x.input.op === 'clear';
  for (const [key, final] of finals) {
    const writes = ops.filter((x) => x.input.key === key && x.input.op !== 'get' && x.clientId < 900 && (x.return === null || x.input.op === 'put' || x.input.op === 'clear' || x.output.ok === true));
    const acked = writes.filter((x) => x.return !== null);
    const lastAckedCall = (except: HistoryOp): number => Math.max(-1, ...acked.filter((a) => a !== except).map((a) => a.call));
    // The write that may be linearized last: one that set the final value, or (absent) a delete.
    const candidates = final === undefined ? writes.filter(removes) : writes.filter((x) => 'value' in x.input && x.input.value === final);
    if (candidates.length === 0) {
      if (final !== undefined) out.push(`${key} = ${final}: a value no client wrote (or whose write failed)`);
      else if (acked.length > 0) out.push(`lost write: ${key} is absent after ${acked.length} acknowledged writes`);
      continue;
    }
    if (candidates.some((w) => w.return === null || w.return >= lastAckedCall(w))) continue;
    const w = candidates.reduce((a, x) => (x.return! > a.return! ? x : a)); // the last to return
    const later = acked.filter((a) => a !== w && a.call > w.return!);
    out.push(
      final === undefined
        ? `lost write: ${key} is absent, but ${later.length} acknowledged write(s) of ${key} began after its last delete returned, e.g. ${JSON.stringify(later[0]?.input)} by client ${later[0]?.clientId}`
        : `lost write: ${key} = ${final} (written by client ${w.clientId}), but ${later.length} acknowledged write(s) of ${key} began after it returned, e.g. ${JSON.stringify(later[0]?.input)} by client ${later[0]?.clientId}`,
    );
  }
  return out;
}
