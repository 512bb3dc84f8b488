// Failover time: SIGKILL the leader of a 3-member cluster while writers keep putting, and measure the
// time from the kill to the first acknowledged put issued after it. Trials restart the killed member
// and wait for health in between. etcd now (Debian etcd-server members on loopback); kvs joins when the
// Raft stage lands. `--client direct` (default) measures the servers: the etcd3 client with its fault
// handling disabled (no circuit breaker, no retries; the writers retry every 5 ms, on any member).
// `--client default` keeps etcd3's defaults (per-host circuit breaker: 3 failures → host skipped 5 s;
// 3 global retries), which is what an application with a default etcd3 client would see.
// `--target kvs` runs the same measurement on a 3-node kvs Raft cluster (KvClient with all endpoints:
// its own retries/rotation/leader hints; writers retry every 5 ms after a failed put).
//   node dist/bench/failover.js [--target etcd|kvs|both] [--members 3] [--trials 3] [--writers 4] [--client direct|default] [--node-args=--lease-read=false]
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { ProcessCluster, sleep } from '../test/helpers/cluster-process.js';
import { AdminClient, KvClient } from '../node/src/client/index.js';
import { EtcdCluster, etcdBinary } from './lib/etcd-process.js';

const { values: a } = parseArgs({
  options: {
    target: { type: 'string', default: 'etcd' },
    members: { type: 'string', default: '3' },
    trials: { type: 'string', default: '3' },
    writers: { type: 'string', default: '4' },
    'put-timeout-ms': { type: 'string', default: '500' },
    'max-wait-ms': { type: 'string', default: '20000' },
    client: { type: 'string', default: 'direct' },
    'node-args': { type: 'string', default: '' },
  },
});

/** A pass-through fault policy (etcd3 only calls `execute`): no breaker, no retries. */
const NOOP_POLICY = {
  execute: <T>(fn: (ctx: { signal: AbortSignal; attempt: number }) => T | Promise<T>): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal, attempt: 0 })),
} as never;

interface Writers {
  /** Resolves with the ack time (ms, performance.now) of the first put issued at or after `from`. */
  firstAckAfter(from: number): Promise<number>;
  stop(): Promise<void>;
}

function startWriters(put: (key: string, value: string) => Promise<void>, n: number): Writers {
  let running = true;
  const waiters: Array<{ from: number; resolve: (t: number) => void }> = [];
  const loop = async (w: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const issued = performance.now();
      try {
        await put(`failover/w${w}`, String(i));
        const acked = performance.now();
        for (let j = waiters.length - 1; j >= 0; j--) {
          if (issued >= waiters[j]!.from) {
            waiters[j]!.resolve(acked);
            waiters.splice(j, 1);
          }
        }
      } catch {
        await sleep(5);
      }
    }
  };
  const loops = Array.from({ length: n }, (_, w) => loop(w));
  return {
    firstAckAfter: (from) => new Promise((resolve) => waiters.push({ from, resolve })),
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function etcdFailover(): Promise<number[]> {
  const members = Number(a.members);
  if (members < 3) throw new Error('failover needs at least 3 members');
  const cluster = await EtcdCluster.start(members, etcdBinary());
  const client = new Etcd3({ hosts: cluster.endpoints, ...(a.client === 'direct' ? { faultHandling: { host: () => NOOP_POLICY, global: NOOP_POLICY } } : {}) });
  const results: number[] = [];
  const timeout = Number(a['put-timeout-ms']);
  try {
    const writers = startWriters(async (k, v) => {
      await client.put(k).value(v).options({ deadline: new Date(Date.now() + timeout) });
    }, Number(a.writers));
    try {
      for (let t = 1; t <= Number(a.trials); t++) {
        await sleep(1500);
        // The leader, as the members see it.
        const { members: list } = await client.cluster.memberList({});
        const status = await client.maintenance.status({});
        const leader = list.find((m) => m.ID === status.leader);
        if (!leader) throw new Error(`leader ${status.leader} not in member list`);
        const killedAt = performance.now();
        await cluster.kill9(leader.name);
        const ack = await Promise.race([writers.firstAckAfter(killedAt), sleep(Number(a['max-wait-ms'])).then(() => NaN)]);
        const ms = ack - killedAt;
        results.push(ms);
        console.error(`  trial ${t}: killed leader ${leader.name}; first acknowledged put after ${Number.isNaN(ms) ? 'timeout' : `${ms.toFixed(0)} ms`}`);
        await cluster.restart(leader.name);
      }
    } finally {
      await writers.stop();
    }
  } finally {
    client.close();
    await cluster.stop();
  }
  return results;
}

async function kvsFailover(): Promise<number[]> {
  const members = Number(a.members);
  if (members < 3) throw new Error('failover needs at least 3 members');
  const cluster = await ProcessCluster.start({
    size: members,
    hostOf: (i) => `127.0.0.${30 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(all.findIndex((x) => x.nodeId === self.nodeId) + 1), '--peers', all.map((x, i) => `${i + 1}=${x.host}:${x.grpcPort}`).join(','), ...a['node-args']!.split(' ').filter(Boolean)],
  });
  const timeout = Number(a['put-timeout-ms']);
  const clients = Array.from({ length: Number(a.writers) }, () => new KvClient({ endpoints: cluster.addresses, timeoutMs: timeout, attemptTimeoutMs: timeout }));
  const admin = new AdminClient(cluster.addresses);
  const results: number[] = [];
  let w = 0;
  try {
    const writers = startWriters(async (k, v) => {
      await clients[w++ % clients.length]!.put(k, v);
    }, Number(a.writers));
    try {
      for (let t = 1; t <= Number(a.trials); t++) {
        await sleep(1500);
        let leaderAddr = '';
        for (let i = 0; i < 100 && !leaderAddr; i++) {
          leaderAddr = (await admin.status().catch(() => undefined))?.leaderAddress ?? '';
          if (!leaderAddr) await sleep(100);
        }
        const victim = cluster.nodes.find((n) => n.address === leaderAddr);
        if (!victim) throw new Error(`leader ${leaderAddr} not found`);
        const killedAt = performance.now();
        await victim.kill9();
        const ack = await Promise.race([writers.firstAckAfter(killedAt), sleep(Number(a['max-wait-ms'])).then(() => NaN)]);
        const ms = ack - killedAt;
        results.push(ms);
        console.error(`  trial ${t}: killed leader ${victim.nodeId}; first acknowledged put after ${Number.isNaN(ms) ? 'timeout' : `${ms.toFixed(0)} ms`}`);
        await victim.restart();
      }
    } finally {
      await writers.stop();
    }
  } finally {
    for (const c of clients) c.close();
    admin.close();
    await cluster.cleanup();
  }
  return results;
}

function summary(name: string, r: number[]): { median: number; max: number; line: string } {
  const ok = r.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y);
  const median = ok.length ? ok[Math.floor(ok.length / 2)]! : NaN;
  // A timed-out trial counts as the worst case.
  const max = r.some((x) => Number.isNaN(x)) ? Infinity : ok.length ? ok[ok.length - 1]! : NaN;
  const line = `${name} failover (leader SIGKILL → first acknowledged put): ${r.map((x) => (Number.isNaN(x) ? 'timeout' : `${x.toFixed(0)} ms`)).join(', ')}; median ${Number.isNaN(median) ? '-' : median.toFixed(0)} ms, max ${Number.isFinite(max) ? max.toFixed(0) : 'timeout'} ms`;
  return { median, max, line };
}

async function main(): Promise<void> {
  // --target both: etcd first, then kvs, same trials/writers; prints the ratio kvs/etcd.
  if (a.target !== 'etcd' && a.target !== 'kvs' && a.target !== 'both') throw new Error(`--target ${a.target}: etcd, kvs or both`);
  const etcdName = `etcd×${a.members} (client ${a.client})`;
  const kvsName = `kvs×${a.members}`;
  if (a.target === 'both') {
    const e = summary(etcdName, await etcdFailover());
    const k = summary(kvsName, await kvsFailover());
    console.log(e.line);
    console.log(k.line);
    console.log(`failover kvs/etcd: median ${(k.median / e.median).toFixed(2)}x, max ${(k.max / e.max).toFixed(2)}x; target: kvs median < 1500 ms → ${k.median < 1500 && k.max < 1500 ? 'met' : k.median < 1500 ? 'median met, max not' : 'NOT met'}`);
    return;
  }
  const r = a.target === 'kvs' ? await kvsFailover() : await etcdFailover();
  console.log(summary(a.target === 'kvs' ? kvsName : etcdName, r).line);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`failover failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
