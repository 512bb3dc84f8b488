// Where the tail of T at depth comes from (issue 14): a fresh kvs×3 split into N ranges runs T (4 uniform
// keys, read-modify-write) at C in flight for D seconds through the calls the client's txn helper makes —
// begin, the gets at the snapshot on each key's leader, a commit carrying the writes and the keys read —
// each attempt's steps timed, and prints the latency quantiles of transactions by how many attempts they
// took, of each step and of failed commits, the failures grouped by message, and the stores' lock
// counters per transaction — so a long tail can be told apart: retries, slow aborts, or lock waits.
//   node dist/bench/txn-tail.js [--ranges 4] [--concurrency 64] [--duration 8] [--warmup 3] [--records 10000]
import { parseArgs } from 'node:util';
import { ProcessCluster, peersOf, raftIdOf } from '../test/helpers/cluster-process.js';
import { KvClient, KvConflictError } from '../node/src/client/index.js';
import { KvsDriver } from './drivers/kvs.js';
import { keyName, makeValue, prng } from './lib/keys.js';
import { shard } from './lib/shard.js';
import { quantile, storeCounters } from './lib/store-counters.js';

const { values: a } = parseArgs({
  options: {
    ranges: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '64' },
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
    records: { type: 'string', default: '10000' },
  },
});

const COUNTERS = ['kvs_txn_lock_waits', 'kvs_txn_locks_resolved', 'kvs_txn_lock_early_checks', 'kvs_txn_lock_early_settled', 'kvs_txn_recoveries'];

/** p50 / p90 / p99 / max of `xs`, ms. */
const dist = (xs: number[]): string => [0.5, 0.9, 0.99, 1].map((p) => (xs.length === 0 ? '-' : quantile(xs, p).toFixed(1))).join(' / ');

async function main(): Promise<void> {
  const records = Number(a.records);
  const cluster = await ProcessCluster.start({
    size: 3,
    hostOf: (i) => `127.0.0.${90 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all)],
  });
  const driver = new KvsDriver(cluster.addresses, 'kvs×3', { replicated: true });
  const client = new KvClient({ endpoints: cluster.addresses });
  try {
    const rand = prng(42);
    const pool = Array.from({ length: 64 }, () => makeValue(100, rand));
    await driver.load(Array.from({ length: records }, (_, i) => keyName(i)), (i) => pool[i % pool.length]!, 64);
    const ranges = Number(a.ranges);
    if (ranges > 1) await shard(cluster.addresses, ranges, 3, records);
    const byAttempts = new Map<number, number[]>();
    // One attempt at a time, its steps timed (the txn helper's own calls: begin, gets at the snapshot on
    // each key's leader, commit carrying the writes and the keys read).
    const reasons = new Map<string, number>();
    const phases = { begin: [] as number[], gets: [] as number[], commit: [] as number[], failedCommit: [] as number[] };
    const warmEnd = Date.now() + Number(a.warmup) * 1000;
    const end = warmEnd + Number(a.duration) * 1000;
    let c0: Promise<Map<string, number>> | undefined;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (Date.now() < end) {
        const keys = [0, 1, 2, 3].map(() => keyName(Math.floor(rand() * records)));
        const t0 = performance.now();
        let attempts = 0;
        for (;;) {
          attempts++;
          const s0 = performance.now();
          const b = await client.begin({ directReads: true });
          const s1 = performance.now();
          await Promise.all(keys.map((k) => client.get(k, { snapshotTs: b.startTs })));
          const s2 = performance.now();
          try {
            await client.commit(b.txnId, { mutations: keys.map((k, i) => ({ op: 'put' as const, key: k, value: pool[i]! })), readKeys: keys.map((k) => Buffer.from(k)) });
          } catch (e) {
            if (!(e instanceof KvConflictError)) throw e;
            if (Date.now() >= warmEnd) {
              phases.failedCommit.push(performance.now() - s2);
              const why = e.message.replace(/"[^"]*"/g, 'K').replace(/[0-9a-f]{8,}|\d+/g, 'N').slice(0, 90);
              reasons.set(why, (reasons.get(why) ?? 0) + 1);
            }
            continue;
          }
          if (Date.now() >= warmEnd) {
            phases.begin.push(s1 - s0);
            phases.gets.push(s2 - s1);
            phases.commit.push(performance.now() - s2);
          }
          break;
        }
        if (Date.now() < warmEnd) continue;
        c0 ??= storeCounters(cluster, COUNTERS); // once, not awaited: the scrape must not time the transactions
        const list = byAttempts.get(attempts) ?? [];
        list.push(performance.now() - t0);
        byAttempts.set(attempts, list);
        done++;
      }
    };
    await Promise.all(Array.from({ length: Number(a.concurrency) }, worker));
    const c1 = await storeCounters(cluster, COUNTERS);
    const base = (await c0) ?? new Map<string, number>();
    console.log(`${ranges} ranges, T c=${a.concurrency}: ${(done / Number(a.duration)).toFixed(0)} T/s; latency ms p50 / p90 / p99 / max by attempts`);
    const all = [...byAttempts.values()].flat();
    console.log(`  all        n=${all.length}  ${dist(all)}`);
    for (const [k, v] of [...byAttempts].sort((x, y) => x[0] - y[0])) console.log(`  attempts ${k} n=${v.length} (${((100 * v.length) / all.length).toFixed(1)} %)  ${dist(v)}`);
    for (const [k, v] of Object.entries(phases)) console.log(`  ${k.padEnd(12)} n=${v.length}  ${dist(v)}`);
    for (const [k, v] of [...reasons].sort((x, y) => y[1] - x[1]).slice(0, 8)) console.log(`  ${String(v).padStart(5)}  ${k}`);
    console.log(`  per txn: ${COUNTERS.map((c) => `${c.replace('kvs_txn_', '')} ${(((c1.get(c) ?? 0) - (base.get(c) ?? 0)) / Math.max(1, done)).toFixed(3)}`).join(', ')}`);
  } finally {
    client.close();
    await driver.close();
    await cluster.stopAll();
    await cluster.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`txn-tail failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
