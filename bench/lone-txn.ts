// Where a lone transaction's time goes (issue 14: lone cross-range latency ≤ 2.5× single-range): for each
// range count, a fresh kvs×3 split into that many ranges (leaders spread), then transactions one at a time
// — begin, 4 gets one after another (keys in different quarters of the key space: one per range at 4
// ranges), commit carrying the 4 writes — each step timed from the client. Prints the steps' medians and
// p90, and the CPU the stores spent per transaction (main threads vs the rest: LevelDB's thread pool, V8's
// compiler and GC threads), so a change can be judged by phase and by cost. Warm-up transactions are not
// counted (V8 optimises the commit paths only after hundreds of them; docs/benchmarks.md).
//   node dist/bench/lone-txn.js [--ranges 1,4] [--txns 1000] [--warmup 300] [--endpoint rotate|first] [--reads direct|node]
import { parseArgs } from 'node:util';
import { KvClient, KvConflictError } from '../node/src/client/index.js';
import { ProcessCluster, peersOf, raftIdOf } from '../test/helpers/cluster-process.js';
import { KvsDriver } from './drivers/kvs.js';
import { keyName, makeValue, prng } from './lib/keys.js';
import { cpuUs, threadCpuUs } from './lib/proc-cpu.js';
import { shard } from './lib/shard.js';
import { quantile, storeCounters } from './lib/store-counters.js';

const { values: a } = parseArgs({
  options: {
    ranges: { type: 'string', default: '1,4' },
    txns: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '300' },
    endpoint: { type: 'string', default: 'rotate' },
    records: { type: 'string', default: '2000' },
    // t: like the T workload of bench/run.ts — 4 uniform random keys, gets in parallel.
    mode: { type: 'string', default: 'quarters' },
    // Idle time between transactions (ms): with it, the work a commit leaves behind its reply (the
    // record, the secondaries) is done before the next transaction starts — what that work costs the next.
    'gap-ms': { type: 'string', default: '0' },
    // direct: the gets go to each key's range leader at the snapshot and the commit reports the keys
    // (what the client's txn helper does, KvClientOptions.directTxnReads); node: through the transaction.
    reads: { type: 'string', default: 'direct' },
    // Extra store counters (comma-separated /metrics names, e.g. kvs_store_log_writes,kvs_store_readies):
    // printed per transaction, summed over the stores, after the table row.
    counters: { type: 'string', default: '' },
  },
});

/** CPU ms of a whole process and of its main thread (0 once it is gone). */
function cpuMs(pid: number): { all: number; main: number } {
  return { all: (cpuUs(pid) ?? 0) / 1000, main: (threadCpuUs(pid, pid) ?? 0) / 1000 };
}

async function measure(ranges: number): Promise<void> {
  const records = Number(a.records);
  const cluster = await ProcessCluster.start({
    size: 3,
    hostOf: (i) => `127.0.0.${80 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all)],
  });
  const driver = new KvsDriver(cluster.addresses, 'kvs×3', { replicated: true });
  const client = new KvClient({ endpoints: cluster.addresses });
  try {
    const rand = prng(42);
    const pool = Array.from({ length: 64 }, () => makeValue(100, rand));
    await driver.load(Array.from({ length: records }, (_, i) => keyName(i)), (i) => pool[i % pool.length]!, 64);
    if (ranges > 1) await shard(cluster.addresses, ranges, 3, records);
    const warmup = Number(a.warmup);
    const n = Number(a.txns);
    const steps = { begin: [] as number[], gets: [] as number[], commit: [] as number[], total: [] as number[] };
    const pids = cluster.nodes.map((p) => p.pid).filter((p): p is number => p !== undefined);
    let cpu0 = pids.map(cpuMs);
    let self0 = process.cpuUsage();
    let wall0 = performance.now();
    const extra = a.counters!.split(',').filter((c) => c !== '');
    const COUNTERS = ['kvs_txn_lock_waits', 'kvs_txn_locks_resolved', 'kvs_txn_snapshot_raises_total', 'kvs_txn_ts_promises_total', ...extra];
    let counters0 = new Map<string, number>();
    let conflicts = 0;
    for (let t = 0; t < warmup + n; t++) {
      if (t === warmup) {
        counters0 = await storeCounters(cluster, COUNTERS);
        cpu0 = pids.map(cpuMs);
        self0 = process.cpuUsage();
        wall0 = performance.now();
      }
      if (Number(a['gap-ms']) > 0) await new Promise((r) => setTimeout(r, Number(a['gap-ms'])));
      const endpoint = cluster.addresses[a.endpoint === 'first' ? 0 : t % cluster.addresses.length]!;
      const keys = a.mode === 't' ? [0, 1, 2, 3].map(() => keyName(Math.floor(rand() * records))) : [0, 1, 2, 3].map((q) => keyName(Math.floor((q * records) / 4 + ((t * 7) % (records / 4)))));
      const t0 = performance.now();
      const b = await client.begin({ endpoint, directReads: a.reads === 'direct' });
      const t1 = performance.now();
      const get = (k: string) => (b.directReads ? client.get(k, { snapshotTs: b.startTs }) : client.get(k, { txnId: b.txnId, endpoint }));
      if (a.mode === 't') await Promise.all(keys.map(get));
      else for (const k of keys) await get(k);
      const t2 = performance.now();
      const readKeys = b.directReads ? keys.map((k) => Buffer.from(k)) : [];
      try {
        await client.commit(b.txnId, { endpoint, mutations: keys.map((k) => ({ op: 'put' as const, key: k, value: 'x' })), readKeys });
      } catch (e) {
        // This client's token starts at 0, so its first snapshot is the coordinator store's applied ts,
        // which may lie below the loader's last writes (another client's: a follower learns their commit
        // a moment after the leader). Such a transaction is refused, as serializability demands, and the
        // token rises to the conflicting version. Counted, not timed.
        if (!(e instanceof KvConflictError)) throw e;
        conflicts++;
        continue;
      }
      const t3 = performance.now();
      if (t >= warmup) {
        steps.begin.push(t1 - t0);
        steps.gets.push(t2 - t1);
        steps.commit.push(t3 - t2);
        steps.total.push(t3 - t0);
      }
    }
    const wall = performance.now() - wall0;
    const cpu1 = pids.map(cpuMs);
    const counters1 = await storeCounters(cluster, COUNTERS);
    const delta = (c: string): number => counters1.get(c)! - (counters0.get(c) ?? 0);
    const [waits, resolved, raises, promises] = COUNTERS.map(delta) as [number, number, number, number];
    const self = process.cpuUsage(self0);
    const stores = cpu1.reduce((s, c, i) => s + c.all - cpu0[i]!.all, 0);
    const mains = cpu1.reduce((s, c, i) => s + c.main - cpu0[i]!.main, 0);
    const f = (xs: number[]): string => `${quantile(xs, 0.5).toFixed(2)} / ${quantile(xs, 0.9).toFixed(2)}`;
    console.log(
      `| ${ranges} | ${steps.total.length} | ${f(steps.begin)} | ${f(steps.gets)} | ${f(steps.commit)} | ${f(steps.total)} | ${(stores / n).toFixed(1)} (${(mains / n).toFixed(1)}) | ${((self.user + self.system) / 1000 / n).toFixed(2)} | ${(stores / wall).toFixed(2)} | ${(waits / n).toFixed(2)} / ${(resolved / n).toFixed(2)} | ${(raises / n).toFixed(2)} / ${(promises / n).toFixed(2)} |`,
    );
    if (conflicts > 0) console.log(`  ${conflicts} transactions refused by a conflict (not timed)`);
    if (extra.length > 0) console.log(`  per transaction, all stores: ${extra.map((c) => `${c} ${(delta(c) / n).toFixed(2)}`).join(', ')}`);
  } finally {
    client.close();
    await driver.close();
    await cluster.stopAll();
    await cluster.cleanup();
  }
}

async function main(): Promise<void> {
  console.log(`lone transactions: ${a.txns} measured after ${a.warmup} warm-up, endpoint ${a.endpoint}, reads ${a.reads}, gap ${a['gap-ms']} ms; ms p50 / p90; CPU ms per transaction`);
  console.log('| ranges | txns | begin | 4 gets | commit | total | stores CPU (main threads) | client CPU | stores cores busy | lock waits / resolved | snapshot raises / promises |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of a.ranges!.split(',').map(Number)) await measure(r);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`lone-txn failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
