// `make bench`: starts its own stores on loopback (kvs-node processes; Debian etcd members), loads
// records, runs each workload for a bounded time with the same closed-loop load generator, prints a
// table and writes JSON (bench/out/). Options: node dist/bench/run.js --help
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NodeProcess, ProcessCluster } from '../test/helpers/cluster-process.js';
import { CertDir, type Issued } from '../test/helpers/certs.js';
import type { BenchDriver } from './lib/driver.js';
import { EtcdCluster, etcdBinary, etcdVersion } from './lib/etcd-process.js';
import { validReadLeaderSlack } from '../node/src/client/read-routing.js';
import { keyName, makeValue, prng } from './lib/keys.js';
import { runWorkload, type RunResult } from './lib/loadgen.js';
import { runCaption, writeWorkloadCharts } from './lib/bench-charts.js';
import { HEADER, markdownTable, medianOfRounds, rangeRatios, ratios, roundRows, rows, textTable } from './lib/report.js';
import { shard } from './lib/shard.js';
import { cpuUs } from './lib/proc-cpu.js';
import { WORKLOADS } from './lib/workloads.js';
import { EtcdDriver } from './drivers/etcd.js';
import { KvsDriver } from './drivers/kvs.js';

/** The --rounds table: every round's ops/s beside the median a cell reports. */
const ROUND_HEADER = ['target', 'workload', 'conc', 'median ops/s', 'ops/s per round'];

const HELP = `usage: node dist/bench/run.js [options]
  --targets kvs,etcd       stores to measure (default: kvs, plus etcd when installed); kvs-readindex =
                           kvs with --lease-read=false (reads confirmed by a heartbeat round, not the lease)
  --workloads A,B,C,W,T    A 50/50, B 95/5, C read-only, W write-only, T 4-key read-modify-write txn
  --duration 10            seconds measured per workload (after --warmup)
  --warmup 5               seconds run but not measured (the same load: JIT and caches reach steady
                           state; 1 s left a lone put 15-20 % slower on kvs, 5 % on etcd — docs/benchmarks.md)
  --concurrency 64         operations in flight (comma list: 1,64,256)
  --rounds 1               measure every target this many times, alternating (kvs, etcd, kvs, etcd, ...;
                           a fresh cluster each time) and report per cell the round of median ops/s and
                           the median p99: on a shared VM throughput drifts ±25 % over minutes, and a
                           single pass puts all of that drift between the targets
  --records 10000          records loaded before the run
  --value-size 100         bytes per value
  --dist zipfian           zipfian | uniform (workloads A, B, C, W)
  --txn-dist uniform       key distribution of T (zipfian makes it a conflict/backoff benchmark)
  --kvs-nodes 1            kvs-node processes: 1 = single node (group commit), 3 = one Raft group of 3
                           replicas (writes and gets to their range's leader; see --kvs-read-leader-slack)
  --etcd-members 1         etcd members (1 or 3)
  --kvs-ranges 1           with --kvs-nodes > 1: split the loaded key space into this many ranges and
                           spread their leaders round-robin over the stores before measuring; a comma
                           list (64,1) measures one fresh kvs cluster per count and prints their ratios
  --kvs-transport stream   KvClient transport: stream (BatchStream multiplexing, the default) | unary
  --kvs-read-leader-slack N  KvClient readLeaderSlack (default: the client's, Infinity = every get to its
                           range's leader; N = spill to the preferred node past N more in flight there)
  --kvs-address H:P        measure an already running kvs node instead of starting one
  --etcd-endpoints URLs    measure running etcd instead of starting members
  --no-ceiling             skip bench/engine-ceiling (raw classic-level)
  --out FILE               JSON results (default bench/out/bench-<time>.json); SVG charts per workload
                           (ops/s and p99 by concurrency, one bar per target) next to it: <FILE>-<workload>.svg
  --markdown               also print the tables as markdown
  --tls                    mutual TLS for both stores (throwaway CA by openssl): kvs --cert-file etc.,
                           etcd --cert-file/--client-cert-auth and the same for its peers`;

const { values: a } = parseArgs({
  options: {
    targets: { type: 'string' },
    workloads: { type: 'string', default: 'A,B,C,W,T' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '1' },
    records: { type: 'string', default: '10000' },
    'value-size': { type: 'string', default: '100' },
    dist: { type: 'string', default: 'zipfian' },
    'txn-dist': { type: 'string', default: 'uniform' },
    'kvs-nodes': { type: 'string', default: '1' },
    'etcd-members': { type: 'string', default: '1' },
    'kvs-ranges': { type: 'string', default: '1' },
    'kvs-transport': { type: 'string', default: 'stream' },
    'kvs-read-leader-slack': { type: 'string' },
    'kvs-address': { type: 'string' },
    'etcd-endpoints': { type: 'string' },
    'no-ceiling': { type: 'boolean', default: false },
    'max-ops': { type: 'string', default: '5000000' },
    seed: { type: 'string', default: '42' },
    out: { type: 'string' },
    markdown: { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log(HELP);
  process.exit(0);
}

const num = (s: string | undefined, name: string): number => {
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${s}`);
  return n;
};

const etcdBin = etcdBinary();
const targets = (a.targets ?? (etcdBin ? 'kvs,etcd' : 'kvs')).split(',').filter(Boolean);
const workloads = a.workloads!.split(',').map((w) => {
  const spec = WORKLOADS[w.trim().toUpperCase()];
  if (!spec) throw new Error(`unknown workload ${w} (have ${Object.keys(WORKLOADS).join(',')})`);
  return spec.id === 'T' ? { ...spec, dist: a['txn-dist'] === 'zipfian' ? ('zipfian' as const) : ('uniform' as const) } : spec;
});
const kvsTransport = a['kvs-transport'] === 'unary' ? ('unary' as const) : a['kvs-transport'] === 'stream' ? ('stream' as const) : undefined;
if (!kvsTransport) throw new Error(`--kvs-transport: expected stream or unary, got ${a['kvs-transport']}`);
const readLeaderSlack = a['kvs-read-leader-slack'] === undefined ? undefined : Number(a['kvs-read-leader-slack']);
if (readLeaderSlack !== undefined && !validReadLeaderSlack(readLeaderSlack)) throw new Error(`--kvs-read-leader-slack: expected a non-negative integer or Infinity, got ${a['kvs-read-leader-slack']}`);
const concurrencies = a.concurrency!.split(',').map((c) => num(c, 'concurrency'));
const records = num(a.records, 'records');
const valueSize = num(a['value-size'], 'value-size');
const dist = a.dist === 'uniform' ? 'uniform' : 'zipfian';
const durationMs = num(a.duration, 'duration') * 1000;
const warmupMs = num(a.warmup, 'warmup') * 1000;
const kvsNodes = num(a['kvs-nodes'], 'kvs-nodes');
const etcdMembers = num(a['etcd-members'], 'etcd-members');
const rangeCounts = a['kvs-ranges']!.split(',').map((r) => num(r, 'kvs-ranges'));
const roundCount = num(a.rounds, 'rounds');
if (!Number.isInteger(roundCount) || roundCount < 1) throw new Error(`--rounds: expected a positive integer, got ${a.rounds}`);

function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    host: hostname(),
    cpu: `${c.length} × ${c[0]?.model ?? '?'}`,
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    kernel: release(),
    node: process.version,
    etcd: etcdBin ? etcdVersion(etcdBin) : 'not installed',
    loadavgAtStart: loadavg().map((x) => +x.toFixed(2)),
  };
}

/**
 * Store CPU per operation (docs/scaling.md's per-store cost): CPU of every kvs-node (or etcd member) process over one
 * runWorkload call (warm-up included, so it is scaled to the measured share of the wall time — pass
 * --warmup 0 for an exact count), divided by the operations measured.
 */
type StoreCpu = { storeCpuUsPerOp: number[]; clientCpuUsPerOp: number };

async function measure(driver: BenchDriver, pids: () => number[] = () => []): Promise<Array<RunResult & Partial<StoreCpu>>> {
  const out: Array<RunResult & Partial<StoreCpu>> = [];
  const rand = prng(Number(a.seed));
  const pool = Array.from({ length: 64 }, () => makeValue(valueSize, rand));
  const keys = Array.from({ length: records }, (_, i) => keyName(i));
  const t = Date.now();
  await driver.load(keys, (i) => pool[i % pool.length]!, 64);
  console.error(`  ${driver.name}: loaded ${records} records in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  for (const spec of workloads) {
    for (const concurrency of concurrencies) {
      const ps = pids();
      const c0 = ps.map(cpuUs);
      const self0 = process.cpuUsage();
      const w0 = performance.now();
      const r = await runWorkload(driver, spec, {
        concurrency,
        durationMs,
        warmupMs,
        maxOps: num(a['max-ops'], 'max-ops'),
        records,
        valueSize,
        dist,
        seed: Number(a.seed),
      });
      const share = Math.min(1, r.durationS / ((performance.now() - w0) / 1000));
      const self = process.cpuUsage(self0);
      const c1 = ps.map(cpuUs);
      const perOp = (us: number) => (r.ops > 0 ? (us * share) / r.ops : 0);
      const cpu: Partial<StoreCpu> =
        ps.length > 0 && c0.every((x) => x !== undefined) && c1.every((x) => x !== undefined)
          ? { storeCpuUsPerOp: ps.map((_, i) => Math.round(perOp(c1[i]! - c0[i]!))), clientCpuUsPerOp: Math.round(perOp(self.user + self.system)) }
          : {};
      const cpuText = cpu.storeCpuUsPerOp ? `; CPU per op: stores ${cpu.storeCpuUsPerOp.map((x) => `${x} µs`).join(' / ')}, load generator ${cpu.clientCpuUsPerOp} µs` : '';
      console.error(`  ${driver.name} ${spec.id} c=${concurrency}: ${Math.round(r.opsPerSec)} ops/s p99 ${(r.all.p99Us / 1000).toFixed(2)} ms errors ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples[0]})` : ''}${cpuText}`);
      out.push({ ...r, ...cpu });
    }
  }
  return out;
}

/** Throwaway PKI for --tls: one CA, a server+client certificate for every loopback host used, a client. */
let pki: { dir: CertDir; ca: string; node: Issued; client: Issued } | undefined;
function benchPki(): NonNullable<typeof pki> {
  if (pki) return pki;
  const dir = new CertDir();
  const ca = dir.ca('bench-ca');
  const sans = ['IP:127.0.0.1', ...[20, 21, 22, 23, 24, 40, 41, 42, 43, 44].map((h) => `IP:127.0.0.${h}`), 'DNS:localhost'];
  pki = { dir, ca: ca.crt, node: dir.issue(ca, 'node', { cn: 'kvs-node', sans, days: 2 }), client: dir.issue(ca, 'client', { cn: 'kvs-admin', eku: 'clientAuth', days: 2 }) };
  process.on('exit', () => pki?.dir.remove());
  return pki;
}
const kvsTlsArgs = (): string[] => {
  if (!a.tls) return [];
  const p = benchPki();
  return ['--cert-file', p.node.crt, '--key-file', p.node.key, '--trusted-ca-file', p.ca];
};
const kvsClientTls = () => (a.tls ? { tls: { ca: benchPki().ca, cert: benchPki().client.crt, key: benchPki().client.key } } : {});
const tlsTag = () => (a.tls ? '+tls' : '');

async function benchKvs(nodeArgs: string[] = [], suffix = '', ranges = 1): Promise<RunResult[]> {
  if (a['kvs-address']) {
    const d = new KvsDriver(a['kvs-address'].split(','), 'kvs(ext)', { transport: kvsTransport });
    try {
      return await measure(d);
    } finally {
      await d.close();
    }
  }
  if (kvsNodes > 1) {
    const cluster = await ProcessCluster.start({
      size: kvsNodes,
      hostOf: (i) => `127.0.0.${20 + i}`,
      env: { KVS_LOG_LEVEL: 'warn' },
      extraArgs: (self, all) => ['--raft-id', String(all.findIndex((s) => s.nodeId === self.nodeId) + 1), '--peers', all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(','), ...kvsTlsArgs(), ...nodeArgs],
    });
    let sharded = false;
    const d = new KvsDriver(cluster.addresses, `kvs×${kvsNodes}${ranges > 1 ? `/${ranges}r` : ''}${tlsTag()}${suffix}`, {
      replicated: true,
      transport: kvsTransport,
      ...(readLeaderSlack !== undefined ? { readLeaderSlack } : {}),
      ...kvsClientTls(),
      afterLoad: async () => {
        if (ranges > 1 && !sharded) await shard(cluster.addresses, ranges, kvsNodes, records);
        sharded = true;
      },
    });
    try {
      return await measure(d, () => cluster.nodes.map((n) => n.pid ?? 0).filter((p) => p > 0));
    } catch (e) {
      for (const n of cluster.nodes) console.error(`${n.nodeId} log tail:\n${n.logTail()}`);
      throw e;
    } finally {
      await d.close();
      await cluster.cleanup();
    }
  }
  const node = new NodeProcess({ nodeId: 'bench1', host: '127.0.0.20', env: { KVS_LOG_LEVEL: 'warn' }, extraArgs: [...kvsTlsArgs(), ...nodeArgs] });
  await node.start();
  const d = new KvsDriver([node.address], `kvs×${kvsNodes}${tlsTag()}${suffix}`, { transport: kvsTransport, ...kvsClientTls() });
  try {
    return await measure(d, () => (node.pid !== undefined ? [node.pid] : []));
  } catch (e) {
    console.error(`kvs node log tail:\n${node.logTail()}`);
    throw e;
  } finally {
    await d.close();
    await node.cleanup();
  }
}

async function benchEtcd(): Promise<RunResult[]> {
  if (a['etcd-endpoints']) {
    const d = new EtcdDriver(a['etcd-endpoints'].split(','), 'etcd(ext)');
    try {
      return await measure(d);
    } finally {
      await d.close();
    }
  }
  const p = a.tls ? benchPki() : undefined;
  const cluster = await EtcdCluster.start(etcdMembers, etcdBin, p ? { ca: p.ca, cert: p.node.crt, key: p.node.key } : undefined);
  const d = new EtcdDriver(cluster.endpoints, `etcd×${etcdMembers}${tlsTag()}`, p ? { ca: readFileSync(p.ca), cert: readFileSync(p.client.crt), key: readFileSync(p.client.key) } : undefined);
  try {
    // The members' CPU per op too, as for kvs: the same box runs both, so the comparison is per op.
    return await measure(d, () => cluster.members.map((m) => m.child?.pid ?? 0).filter((pid) => pid > 0));
  } finally {
    await d.close();
    await cluster.stop();
  }
}

/** Runs bench/engine-ceiling (the storage engineer's raw classic-level benchmark) if it was built. */
async function engineCeiling(): Promise<string | undefined> {
  const file = fileURLToPath(new URL('./engine-ceiling.js', import.meta.url));
  if (!existsSync(file)) return undefined;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve(code === 0 ? out.trim() : `${out.trim()}\n(engine-ceiling exited with ${code})`);
    });
  });
}

async function main(): Promise<void> {
  const m = machine();
  console.error(`bench: targets ${targets.join(',')}, workloads ${workloads.map((w) => w.id).join(',')}, ${durationMs / 1000}s each (+${warmupMs / 1000}s warm-up), concurrency ${concurrencies.join(',')}, ${records} records × ${valueSize} B, ${dist}`);
  console.error(`machine: ${JSON.stringify(m)}`);
  const rounds: RunResult[][] = [];
  for (let round = 1; round <= roundCount; round++) {
    if (roundCount > 1) console.error(`bench: round ${round} of ${roundCount}`);
    const results: RunResult[] = [];
    for (const t of targets) {
      if (t === 'kvs') for (const r of rangeCounts) results.push(...(await benchKvs([], '', r)));
      else if (t === 'kvs-readindex') for (const r of rangeCounts) results.push(...(await benchKvs(['--lease-read=false'], ' ReadIndex', r)));
      else if (t === 'etcd') results.push(...(await benchEtcd()));
      else throw new Error(`unknown target ${t}`);
    }
    rounds.push(results);
  }
  const medians = roundCount > 1 ? medianOfRounds(rounds) : undefined;
  const results: RunResult[] = medians ?? rounds[0]!;
  const ceiling = a['no-ceiling'] ? undefined : await engineCeiling();
  const loadEnd = loadavg().map((x) => +x.toFixed(2));
  if (medians) console.log(`${roundCount} rounds, alternating targets; per cell the round of median ops/s and the median p99 of all rounds\n`);
  console.log(textTable(HEADER, rows(results)));
  if (medians) console.log('\n' + textTable(ROUND_HEADER, roundRows(medians)));
  const rat = ratios(results);
  if (rat.length) console.log('\n' + textTable(['workload', 'conc', 'kvs/etcd ops/s', 'kvs/etcd p99'], rat));
  const rr = rangeRatios(results);
  if (rr.rows.length) console.log('\n' + textTable(rr.header, rr.rows));
  if (ceiling !== undefined) console.log(`\nengine ceiling (bench/engine-ceiling):\n${ceiling}`);
  else if (!a['no-ceiling']) console.log('\nengine ceiling: bench/engine-ceiling.js not built (absent)');
  console.log(`\nload average at start ${JSON.stringify(m.loadavgAtStart)}, at end ${JSON.stringify(loadEnd)}`);
  if (a.markdown) {
    console.log('\n' + markdownTable(HEADER, rows(results)));
    if (medians) console.log('\n' + markdownTable(ROUND_HEADER, roundRows(medians)));
    if (rat.length) console.log('\n' + markdownTable(['workload', 'conc', 'kvs/etcd ops/s', 'kvs/etcd p99'], rat));
    if (rr.rows.length) console.log('\n' + markdownTable(rr.header, rr.rows));
  }
  const out = a.out ?? join('bench', 'out', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine: { ...m, loadavgAtEnd: loadEnd }, options: a, results, ...(medians ? { rounds } : {}), ceiling }, null, 2));
  console.error(`results: ${out}`);
  const caption = runCaption(`${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, m, durationMs / 1000);
  for (const p of writeWorkloadCharts(out, results, caption)) console.error(`chart: ${p}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
