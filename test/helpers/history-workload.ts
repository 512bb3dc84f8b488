// A register workload for linearizability checks: concurrent clients run get / put / compare-and-set on a
// few keys and every operation goes into a HistoryRecorder. Endpoints and client options are the
// caller's, so the same workload runs against one node, a node behind a fault proxy, or (Raft stage) a
// cluster while a nemesis kills / pauses / partitions nodes.
import { KvClient, type KvClientOptions } from '../../node/src/client/index.js';
import { KvConflictError } from '../../node/src/client/errors.js';
import { HistoryRecorder } from './history-recorder.js';
import { mulberry32 as prng } from '../../node/src/common/prng.js';

export interface RegisterWorkloadOptions {
  /** Endpoints of client i (e.g. a proxy per client). */
  endpointsFor: (client: number) => string[];
  clients: number;
  keys: number;
  opsPerClient: number;
  timeLimitMs: number;
  seed: number;
  /** Extra KvClient options of client i (deadlines, lost-reply hooks...). */
  clientOptions?: (client: number) => Partial<KvClientOptions>;
  /** Operation mix: fraction of gets and of blind puts; the rest are CAS. */
  getFraction?: number;
  putFraction?: number;
  /**
   * Of the blind puts, the fraction sent as one Batch writing the same value to two keys (across ranges
   * once the keys are split apart). Its TXN_CONFLICT is recorded as "not applied" (the client's answer
   * for a refused Batch): a Batch that answered so and applied anyway, or applied twice, leaves a value
   * that the checks find.
   */
  batchFraction?: number;
  /**
   * Of all operations, the fraction that are a DeleteRange over the registers between two keys (recorded
   * as a `clear` of each, within the call): across ranges once a split separates them. Its TXN_CONFLICT
   * is recorded as "not applied". Applied twice (a retry that deleted a later write), or applied although
   * it answered "not applied", leaves a read the checks find.
   */
  deleteRangeFraction?: number;
  /** Per-client operation mix (overrides getFraction/putFraction for that client), e.g. read-only clients. */
  mixFor?: (client: number) => { getFraction: number; putFraction: number } | undefined;
  keyPrefix?: string;
  /** Record into this recorder (so a nemesis can timestamp its faults on the history's clock). */
  recorder?: HistoryRecorder;
}

/** Runs the workload to completion (bounded by ops and time) and returns the recorded history. */
export async function runRegisterWorkload(o: RegisterWorkloadOptions): Promise<HistoryRecorder> {
  const h = o.recorder ?? new HistoryRecorder();
  const deadline = Date.now() + o.timeLimitMs;
  const getFAll = o.getFraction ?? 0.45;
  const putFAll = o.putFraction ?? 0.3;
  const prefix = o.keyPrefix ?? 'lin/k';
  const clients: KvClient[] = [];
  const allKeys = Array.from({ length: o.keys }, (_, k) => `${prefix}${k}`);
  const run = async (c: number): Promise<void> => {
    const rand = prng(o.seed * 31 + c);
    const mix = o.mixFor?.(c);
    const getF = mix?.getFraction ?? getFAll;
    const putF = mix?.putFraction ?? putFAll;
    const kv = new KvClient({ endpoints: o.endpointsFor(c), timeoutMs: 5000, ...o.clientOptions?.(c) });
    clients.push(kv);
    const lastSeen = new Map<string, string | undefined>();
    for (let n = 0; n < o.opsPerClient && Date.now() < deadline; n++) {
      const key = `${prefix}${Math.floor(rand() * o.keys)}`;
      // (Drawn only with deleteRangeFraction set: other users' seeded sequences stay as they were.)
      if (o.deleteRangeFraction !== undefined && rand() < o.deleteRangeFraction) {
        const other = `${prefix}${Math.floor(rand() * o.keys)}`;
        const [lo, hi] = key <= other ? [key, other] : [other, key];
        const inputs = allKeys.filter((k) => k >= lo && k <= hi).map((k) => ({ op: 'clear' as const, key: k }));
        await h.recordMany(
          c,
          inputs,
          async () => {
            await kv.deleteRange({ start: lo, end: `${hi}\u0000` });
            return { ok: true };
          },
          { definitelyFailed: (e) => e instanceof KvConflictError },
        );
        continue;
      }
      const r = rand();
      const value = `c${c}-${n}`;
      if (r < getF) {
        const out = await h.record(c, { op: 'get', key }, async () => {
          const g = await kv.get(key);
          return g.found ? { found: true, value: g.value!.toString() } : { found: false };
        });
        if (out) lastSeen.set(key, out.found ? out.value : undefined);
      } else if (r < getF + putF) {
        // (Drawn only with batchFraction set: other users' seeded sequences stay as they were.)
        const other = o.batchFraction !== undefined && rand() < o.batchFraction ? `${prefix}${Math.floor(rand() * o.keys)}` : key;
        if (other !== key) {
          const inputs = [key, other].map((k) => ({ op: 'put' as const, key: k, value }));
          await h.recordMany(
            c,
            inputs,
            async () => {
              await kv.batch(inputs);
              return { ok: true };
            },
            { definitelyFailed: (e) => e instanceof KvConflictError },
          );
        } else {
          await h.record(c, { op: 'put', key, value }, async () => {
            await kv.put(key, value);
            return { ok: true };
          });
        }
      } else {
        const expected = lastSeen.get(key);
        const input = expected === undefined ? { op: 'cas' as const, key, value, expectAbsent: true } : { op: 'cas' as const, key, value, expected };
        await h.record(c, input, async () => {
          const p = await kv.put(key, value, expected === undefined ? { expectAbsent: true } : { expectedValue: expected });
          return { ok: p.succeeded };
        });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.clients }, (_, c) => run(c)));
  } finally {
    clients.forEach((c) => c.close());
  }
  return h;
}
