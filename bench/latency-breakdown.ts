// Where a replicated request's time goes: starts a 3-node kvs group, drives one workload with the bench
// load generator, then reads the per-stage histograms every node exports (kvs_raft_*_seconds, see
// node/src/raftstore/metrics.ts) and prints count / mean / ~p50 / ~p99 per stage and node (leader first).
//   node dist/bench/latency-breakdown.js [--workload W] [--concurrency 1] [--duration 5] [--node-args=--lease-read=false]
import { parseArgs } from 'node:util';
import { ProcessCluster } from '../test/helpers/cluster-process.js';
import { KvsDriver } from './drivers/kvs.js';
import { keyName, makeValue, prng } from './lib/keys.js';
import { runWorkload } from './lib/loadgen.js';
import { WORKLOADS } from './lib/workloads.js';

const { values: a } = parseArgs({
  options: {
    workload: { type: 'string', default: 'W' },
    concurrency: { type: 'string', default: '1' },
    duration: { type: 'string', default: '5' },
    'node-args': { type: 'string', default: '' },
    records: { type: 'string', default: '2000' },
  },
});

interface Hist {
  buckets: Array<[number, number]>;
  sum: number;
  count: number;
}

/** Parses the histogram families of interest from Prometheus text: "name{labels}" → buckets. */
export function parseHistograms(text: string, prefix: string): Map<string, Hist> {
  const out = new Map<string, Hist>();
  const get = (k: string): Hist => {
    let h = out.get(k);
    if (h === undefined) out.set(k, (h = { buckets: [], sum: 0, count: 0 }));
    return h;
  };
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const m = /^([a-z_]+?)_(bucket|sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null) continue;
    const labels = m[3]!.split(',').filter((l) => !l.startsWith('group=') && !l.startsWith('le='));
    const key = `${m[1]}{${labels.join(',')}}`;
    const h = get(key);
    if (m[2] === 'bucket') {
      const le = /le="([^"]+)"/.exec(m[3]!)![1]!;
      h.buckets.push([le === '+Inf' ? Infinity : Number(le), Number(m[4])]);
    } else if (m[2] === 'sum') h.sum = Number(m[4]);
    else h.count = Number(m[4]);
  }
  return out;
}

/** Upper bucket bound below which a fraction q of observations fall. */
export function quantile(h: Hist, q: number): number {
  const target = q * h.count;
  for (const [le, c] of h.buckets) if (c >= target) return le;
  return Infinity;
}

function fmt(h: Hist, seconds: boolean): string {
  const f = (v: number) => (seconds ? `${(v * 1000).toFixed(3)}ms` : v.toFixed(1));
  return `n=${String(h.count).padStart(6)} mean ${f(h.sum / h.count).padStart(9)}  p50≤${f(quantile(h, 0.5)).padStart(9)}  p99≤${f(quantile(h, 0.99)).padStart(9)}`;
}

async function main(): Promise<void> {
  const cluster = await ProcessCluster.start({
    size: 3,
    hostOf: (i) => `127.0.0.${60 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(all.findIndex((s) => s.nodeId === self.nodeId) + 1), '--peers', all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(','), ...a['node-args']!.split(' ').filter(Boolean)],
  });
  let d = new KvsDriver(cluster.addresses, 'kvs×3', { replicated: true });
  try {
    const records = Number(a.records);
    const rand = prng(42);
    const pool = Array.from({ length: 64 }, () => makeValue(100, rand));
    await d.load(Array.from({ length: records }, (_, i) => keyName(i)), (i) => pool[i % pool.length]!, 64);
    // A fresh driver finds the leader again: writes must go to it (an early election may have moved it).
    await d.close();
    await new Promise((r) => setTimeout(r, 1000));
    d = new KvsDriver(cluster.addresses, 'kvs×3', { replicated: true });
    await d.load([], () => Buffer.alloc(0), 1);
    const before = await Promise.all(cluster.nodes.map((n) => fetch(`${n.httpUrl}/metrics`).then((r) => r.text())));
    const spec = WORKLOADS[a.workload!.toUpperCase()]!;
    const r = await runWorkload(d, spec, { concurrency: Number(a.concurrency), durationMs: Number(a.duration) * 1000, warmupMs: 500, maxOps: 5_000_000, records, valueSize: 100, dist: 'zipfian', seed: 42 });
    console.log(`kvs×3 ${spec.id} c=${a.concurrency}: ${Math.round(r.opsPerSec)} ops/s, p50 ${(r.all.p50Us / 1000).toFixed(2)} ms, p99 ${(r.all.p99Us / 1000).toFixed(2)} ms, errors ${r.errors}`);
    const after = await Promise.all(cluster.nodes.map((n) => fetch(`${n.httpUrl}/metrics`).then((r) => r.text())));
    const rows = cluster.nodes.map((n, i) => {
      const b = parseHistograms(before[i]!, 'kvs_');
      const h = parseHistograms(after[i]!, 'kvs_');
      // The window's own observations: after − before (load phase excluded).
      for (const [k, v] of h) {
        const p = b.get(k);
        if (p === undefined) continue;
        v.count -= p.count;
        v.sum -= p.sum;
        v.buckets = v.buckets.map(([le, c], j) => [le, c - (p.buckets[j]?.[1] ?? 0)]);
      }
      const leader = /^kvs_raft_is_leader\{[^}]*\} 1$/m.test(after[i]!);
      const term = /^kvs_raft_term\{[^}]*\} (\d+)$/m.exec(after[i]!)?.[1];
      const proposals = /^kvs_raft_proposals\{[^}]*\} (\d+)$/m.exec(after[i]!)?.[1];
      // How reads were confirmed in the window: from the leader's lease, or by a ReadIndex round.
      const delta = (name: string): number => {
        const re = new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm');
        return Number(re.exec(after[i]!)?.[1] ?? 0) - Number(re.exec(before[i]!)?.[1] ?? 0);
      };
      console.log(`${n.nodeId}: leader ${leader} term ${term} proposals ${proposals}; in the window: lease reads ${delta('kvs_raft_lease_reads')}, read-index rounds ${delta('kvs_raft_read_index_rounds')}`);
      return { n, h, leader };
    });
    rows.sort((x, y) => Number(y.leader) - Number(x.leader));
    for (const { n, h, leader } of rows) {
      console.log(`\n${n.nodeId}${leader ? ' (leader)' : ''}`);
      for (const [k, v] of [...h].sort()) {
        if (v.count <= 0 || !/^kvs_(raft_|request_duration)/.test(k)) continue;
        console.log(`  ${k.padEnd(58)} ${fmt(v, k.includes('seconds'))}`);
      }
    }
  } finally {
    await d.close();
    await cluster.stopAll();
    await cluster.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`latency breakdown failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
