// Store-round counters of a 3-store kvs cluster split into N ranges under one workload: per put, how many
// Readies, engine writes (log / apply) and transport frames/messages each store made — the per-range
// costs the store's batching (log-writer.ts group commit, merged apply writes, one frame per store round)
// is meant to amortise. Reads the counters from /metrics before and after the measured window.
//   node dist/bench/round-stats.js [--ranges 64] [--workload W] [--concurrency 64] [--duration 5] [--dist zipfian|uniform]
import { parseArgs } from 'node:util';
import { ProcessCluster } from '../test/helpers/cluster-process.js';
import { KvsDriver } from './drivers/kvs.js';
import { keyName, makeValue, prng } from './lib/keys.js';
import { runWorkload } from './lib/loadgen.js';
import { shard } from './lib/shard.js';
import { WORKLOADS } from './lib/workloads.js';

const { values: a } = parseArgs({
  options: {
    ranges: { type: 'string', default: '64' },
    workload: { type: 'string', default: 'W' },
    concurrency: { type: 'string', default: '64' },
    duration: { type: 'string', default: '5' },
    records: { type: 'string', default: '2000' },
    // Key choice: zipfian (the get/put workloads' default) or uniform (what `bench/run.ts` uses for T).
    dist: { type: 'string', default: 'zipfian' },
  },
});

const COUNTERS = ['kvs_store_quiesces', 'kvs_store_wakes', 'kvs_raft_read_index_rounds', 'kvs_raft_lease_reads', 'kvs_store_log_writes', 'kvs_store_log_synced_writes', 'kvs_store_apply_requests', 'kvs_raft_transport_frames_sent', 'kvs_raft_transport_messages_sent', 'kvs_raft_transport_heartbeats_sent', 'kvs_store_readies', 'kvs_store_proposals', 'kvs_store_applied_entries', 'kvs_store_floor_noops'];

async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m && COUNTERS.includes(m[1]!)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[3]));
    // gRPC requests by method (client calls and the stores' own forwarded ones alike).
    const method = m?.[1] === 'kvs_requests_total' ? /method="([^"]+)"/.exec(m[2] ?? '')?.[1] : undefined;
    if (method !== undefined) out.set(`rpc ${method}`, (out.get(`rpc ${method}`) ?? 0) + Number(m![3]));
  }
  return out;
}

async function main(): Promise<void> {
  const cluster = await ProcessCluster.start({
    size: 3,
    hostOf: (i) => `127.0.0.${60 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(all.findIndex((s) => s.nodeId === self.nodeId) + 1), '--peers', all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(',')],
  });
  const d = new KvsDriver(cluster.addresses, 'kvs×3', { replicated: true });
  try {
    const records = Number(a.records);
    const rand = prng(42);
    const pool = Array.from({ length: 64 }, () => makeValue(100, rand));
    await d.load(Array.from({ length: records }, (_, i) => keyName(i)), (i) => pool[i % pool.length]!, 64);
    const ranges = Number(a.ranges);
    if (ranges > 1) await shard(cluster.addresses, ranges, 3, records);
    const before = await Promise.all(cluster.nodes.map((n) => scrape(n.httpUrl)));
    const spec = WORKLOADS[a.workload!.toUpperCase()]!;
    const r = await runWorkload(d, spec, { concurrency: Number(a.concurrency), durationMs: Number(a.duration) * 1000, warmupMs: 0, maxOps: 5_000_000, records, valueSize: 100, dist: a.dist === 'uniform' ? 'uniform' : 'zipfian', seed: 42 });
    const after = await Promise.all(cluster.nodes.map((n) => scrape(n.httpUrl)));
    const ops = r.opsPerSec * r.durationS;
    console.log(`${ranges} ranges, ${spec.id} c=${a.concurrency}: ${Math.round(r.opsPerSec)} ops/s, ${Math.round(ops)} ops`);
    for (const [i, n] of cluster.nodes.entries()) {
      const names = [...COUNTERS.filter((c) => after[i]!.has(c)), ...[...after[i]!.keys()].filter((k) => k.startsWith('rpc ')).sort()];
      const per = names.map((c) => [c, (after[i]!.get(c)! - (before[i]!.get(c) ?? 0)) / ops] as const).filter(([, v]) => v >= 0.005).map(([c, v]) => `${c.replace(/^kvs_(store|raft)_/, '')} ${v.toFixed(2)}`);
      console.log(`  ${n.nodeId} per op: ${per.join(', ')}`);
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
    console.error(`round-stats failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
