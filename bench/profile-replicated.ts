// CPU profile of a 3-node kvs Raft group under load: every node runs with `node --cpu-prof`, the same
// load generator drives one workload, the nodes are stopped gracefully (profiles are written at exit),
// and self time is summarised per node by category (raft core, raftstore, engine/leveldb, grpc/http2,
// protobuf, gc/idle, ...) and by top functions.
//   node dist/bench/profile-replicated.js [--workload W] [--concurrency 64] [--duration 8] [--out DIR]
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ProcessCluster } from '../test/helpers/cluster-process.js';
import { KvsDriver } from './drivers/kvs.js';
import { keyName, makeValue, prng } from './lib/keys.js';
import { runWorkload } from './lib/loadgen.js';
import { WORKLOADS } from './lib/workloads.js';

const { values: a } = parseArgs({
  options: {
    workload: { type: 'string', default: 'W' },
    concurrency: { type: 'string', default: '64' },
    duration: { type: 'string', default: '8' },
    records: { type: 'string', default: '2000' },
    out: { type: 'string' },
  },
});

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export function category(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program (native/uncategorised)';
  if (/node\/src\/raft\//.test(url)) return 'raft core (node/src/raft)';
  if (/node\/src\/raftstore\//.test(url)) return 'raftstore (peer/transport/storage)';
  if (/node\/src\/(engine|storage)\//.test(url)) return 'engine (kvs side)';
  if (/node\/src\/server\//.test(url)) return 'kv server';
  if (/node\/src\/generated\/|protobufjs|proto-loader/.test(url)) return 'protobuf';
  if (/@grpc\/grpc-js/.test(url)) return 'grpc-js';
  if (/node:http2|internal\/http2/.test(url)) return 'http2 (node core)';
  if (/classic-level|abstract-level|level-/.test(url)) return 'classic-level (JS side)';
  if (/^node:|internal\//.test(url) || url === '') return fn ? `node core / native: ${/^node:/.test(url) || url.startsWith('internal') ? 'js' : 'native'}` : 'native';
  return 'other JS';
}

function summarise(file: string): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const cat = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const c = category(n.callFrame.url, n.callFrame.functionName);
    cat.set(c, (cat.get(c) ?? 0) + us);
    if (c !== 'idle') {
      const f = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|node\/src)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
      fns.set(f, (fns.get(f) ?? 0) + us);
    }
    total += us;
  }
  const busy = total - (cat.get('idle') ?? 0);
  const lines = [`  total ${(total / 1e6).toFixed(1)} s sampled, busy ${((100 * busy) / total).toFixed(0)} %`];
  for (const [c, us] of [...cat].sort((x, y) => y[1] - x[1])) lines.push(`    ${((100 * us) / total).toFixed(1).padStart(5)} %  ${c}`);
  lines.push('  top functions (self time, % of busy):');
  for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, 15)) lines.push(`    ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${f}`);
  return lines.join('\n');
}

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
    const spec = WORKLOADS[a.workload!.toUpperCase()]!;
    const r = await runWorkload(d, spec, { concurrency: Number(a.concurrency), durationMs: Number(a.duration) * 1000, warmupMs: 500, maxOps: 5_000_000, records, valueSize: 100, dist: 'zipfian', seed: 42 });
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
