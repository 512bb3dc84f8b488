// Store-level counters of a process cluster, summed over its stores (one /metrics scrape per store), and
// the quantile of a sample list — what the per-transaction bench tools (lone-txn.ts, txn-tail.ts) print.
import type { ProcessCluster } from '../../test/helpers/cluster-process.js';

/** The sum over the stores of each of `names` (unlabelled counters, e.g. kvs_txn_lock_waits); 0 if absent. */
export async function storeCounters(cluster: ProcessCluster, names: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(names.map((c) => [c, 0]));
  for (const n of cluster.nodes) {
    const text = await n.metrics().catch(() => '');
    for (const c of names) {
      const m = new RegExp(`^${c} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
      if (m !== null) out.set(c, out.get(c)! + Number(m[1]));
    }
  }
  return out;
}

/** The q-quantile (0..1) of `xs` (NaN when empty). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}
