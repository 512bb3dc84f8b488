// CPU profile of a 3-node kvs Raft group under load: every node runs with `node --cpu-prof`, the same
// load generator drives one workload, the nodes are stopped gracefully (profiles are written at exit),
// and self time is summarised per node by category (raft core, raftstore, engine/leveldb, grpc/http2,
// protobuf, gc/idle, ...) and by top functions.
//   node dist/bench/profile-replicated.js [--workload W] [--concurrency 64] [--duration 8] [--ranges 1] [--dist zipfian|uniform] [--out DIR]
// --ranges N splits the key space into N ranges with leaders spread over the stores (bench/lib/shard.ts).
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ProcessCluster } from '../test/helpers/cluster-process.js';
import { summarise } from './lib/cpu-profile.js';
import { KvsDriver } from './drivers/kvs.js';
import { keyName, makeValue, prng } from './lib/keys.js';
import { runWorkload } from './lib/loadgen.js';
import { shard } from './lib/shard.js';
import { WORKLOADS } from './lib/workloads.js';

const { values: a } = parseArgs({
  options: {
    workload: { type: 'string', default: 'W' },
    concurrency: { type: 'string', default: '64' },
    duration: { type: 'string', default: '8' },
    records: { type: 'string', default: '2000' },
    ranges: { type: 'string', default: '1' },
    // Key choice: zipfian (the get/put workloads' default) or uniform (what `bench/run.ts` uses for T).
    dist: { type: 'string', default: 'zipfian' },
    out: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const out = resolve(a.out ?? join('bench', 'out', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  mkdirSync(out, { recursive: true });
  const cluster = await ProcessCluster.start({
    size: 3,
    hostOf: (i) => `127.0.0.${50 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(all.findIndex((s) => s.nodeId === self.nodeId) + 1), '--peers', all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(',')],
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', out],
  });
  const d = new KvsDriver(cluster.addresses, 'kvs×3', { replicated: true });
  let leader = '';
  try {
    const records = Number(a.records);
    const rand = prng(42);
    const pool = Array.from({ length: 64 }, () => makeValue(100, rand));
    await d.load(Array.from({ length: records }, (_, i) => keyName(i)), (i) => pool[i % pool.length]!, 64);
    const ranges = Number(a.ranges);
    if (ranges > 1) await shard(cluster.addresses, ranges, 3, records);
    const spec = WORKLOADS[a.workload!.toUpperCase()]!;
    const r = await runWorkload(d, spec, { concurrency: Number(a.concurrency), durationMs: Number(a.duration) * 1000, warmupMs: 500, maxOps: 5_000_000, records, valueSize: 100, dist: a.dist === 'uniform' ? 'uniform' : 'zipfian', seed: 42 });
    console.log(`kvs×3 ${spec.id} c=${a.concurrency}: ${Math.round(r.opsPerSec)} ops/s, p50 ${(r.all.p50Us / 1000).toFixed(2)} ms, p99 ${(r.all.p99Us / 1000).toFixed(2)} ms, errors ${r.errors}`);
    const { AdminClient } = await import('../node/src/client/index.js');
    const adm = new AdminClient(cluster.addresses);
    leader = (await adm.status().catch(() => undefined))?.leaderAddress ?? '';
    adm.close();
  } finally {
    await d.close();
    await cluster.stopAll(); // graceful: the profiles are written at exit
    await cluster.cleanup();
  }
  const files = readdirSync(out).filter((f) => f.endsWith('.cpuprofile'));
  const pidToNode = new Map(cluster.nodes.map((n) => [String(n.pid ?? ''), n]));
  for (const f of files) {
    const pid = /CPU\.\d+\.\d+\.(\d+)\./.exec(f)?.[1] ?? '';
    const n = pidToNode.get(pid);
    console.log(`\n${n ? `${n.nodeId}${n.address === leader ? ' (leader)' : ''}` : f}: ${join(out, f)}`);
    console.log(summarise(join(out, f)));
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`profile failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
