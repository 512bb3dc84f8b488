// A hot range among many idle ones (issue 12: "with 10 000 ranges [a store] still serves requests to a
// hot range at ≥ 80 % of the 1-range throughput"): a 3-store cluster of real kvs-node processes is split
// into N ranges (every range on every store), then C writers put keys of ONE range (above every split key)
// for a few seconds. Prints ops/s and p99 per N and the ratio against the first N (1 = one range).
// Splits go level by level (the middle of every range of a level at once, bounded concurrency), so
// 10 000 ranges take log2(N) rounds instead of N sequential splits. Bounded: a few N, a few seconds each.
// --cpu-prof DIR: the stores run with `node --cpu-prof`; the profile of the hot window is summarised
// per store (bench/lib/cpu-profile) — where a store with many ranges spends what it loses.
//   node dist/bench/hot-range.js [--ranges 1,10000] [--seconds 10] [--concurrency 64] [--json] [--cpu-prof DIR]
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminClient, KvClient } from '../node/src/client/index.js';
import { ProcessCluster, sleep } from '../test/helpers/cluster-process.js';
import { summarise } from './lib/cpu-profile.js';

const { values: a } = parseArgs({
  options: {
    ranges: { type: 'string', default: '1,10000' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '64' },
    'split-concurrency': { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const counts = a.ranges.split(',').map(Number);
const seconds = Number(a.seconds);
const conc = Number(a.concurrency);
const splitConc = Number(a['split-concurrency']);
const splitKey = (i: number): Buffer => Buffer.from(`r${String(i).padStart(6, '0')}`);

/** Split points 1..n-1, ordered level by level (a binary subdivision): each level's keys fall in distinct ranges. */
function levels(n: number): number[][] {
  const out: number[][] = [];
  let spans: Array<[number, number]> = [[0, n]];
  while (spans.length > 0) {
    const level: number[] = [];
    const next: Array<[number, number]> = [];
    for (const [lo, hi] of spans) {
      if (hi - lo < 2) continue;
      const mid = Math.floor((lo + hi) / 2);
      level.push(mid);
      next.push([lo, mid], [mid, hi]);
    }
    if (level.length > 0) out.push(level);
    spans = next;
  }
  return out;
}

async function splitAll(admin: AdminClient, n: number): Promise<void> {
  const t0 = performance.now();
  let done = 0;
  for (const level of levels(n)) {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < level.length) {
        const i = level[next++]!;
        for (let attempt = 1; ; attempt++) {
          try {
            await admin.splitRange(splitKey(i));
            break;
          } catch (e) {
            // An earlier attempt that timed out on our side may have applied: the key is a range start now.
            if (attempt > 1 && /split key must lie strictly inside/.test((e as Error).message)) break;
            if (attempt >= 50) throw new Error(`split at ${i} failed 50 times: ${(e as Error).message}`);
            await sleep(100);
          }
        }
        done++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(splitConc, level.length) }, worker));
    console.error(`  ${done + 1} ranges (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
}

/** Store counters of /metrics that say where wake-ups came from (summed over label sets). */
const STORE_COUNTERS = ['kvs_store_ranges', 'kvs_store_ranges_quiesced', 'kvs_store_quiesces', 'kvs_store_wakes', 'kvs_store_gc_wakes', 'kvs_store_liveness_pauses', 'kvs_store_liveness_longest_pause_ms', 'kvs_store_peers_down'] as const;

async function storeStats(url: string): Promise<string> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const sum = (name: string, label?: string): number => {
      let v = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
        if (label !== undefined && !line.includes(label)) continue;
        v += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
      }
      return v;
    };
    const reasons = [...text.matchAll(/^kvs_store_wakes_by_reason\{reason="([^"]+)"\} (\d+)/gm)].map((m) => `${m[1]}=${m[2]}`).join(' ');
    return STORE_COUNTERS.map((n) => `${n.replace('kvs_store_', '')}=${sum(n)}`).join(' ') + (reasons ? ` wakes_by_reason: ${reasons}` : '');
  } catch (e) {
    return `metrics unavailable: ${(e as Error).message}`;
  }
}

interface Row {
  ranges: number;
  opsPerS: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  splitSeconds: number;
}

async function measure(n: number): Promise<Row> {
  const profDir = a['cpu-prof'] !== undefined ? resolve(a['cpu-prof'], `ranges-${n}`) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  let hotEnd = 0;
  const cluster = await ProcessCluster.start({
    ...(profDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {}),
    size: 3,
    hostOf: (i) => `127.0.0.${200 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(all.findIndex((s) => s.nodeId === self.nodeId) + 1), '--peers', all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(',')],
  });
  const admin = new AdminClient(cluster.addresses, 20_000);
  const client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 10_000 });
  try {
    const ts = performance.now();
    if (n > 1) await splitAll(admin, n);
    const splitSeconds = (performance.now() - ts) / 1000;
    await sleep(3000); // new ranges elect, then quiesce
    // Warm the route table and the hot range.
    for (let i = 0; i < 100; i++) await client.put(`zhot/${i}`, 'w');
    const lat: number[] = [];
    let failed = 0;
    const until = performance.now() + seconds * 1000;
    let seq = 0;
    const value = Buffer.alloc(100, 1);
    const worker = async (): Promise<void> => {
      while (performance.now() < until) {
        const k = `zhot/${seq++ % 10_000}`;
        const t = performance.now();
        try {
          await client.put(k, value);
          lat.push(performance.now() - t);
        } catch {
          failed++;
        }
      }
    };
    const w0 = performance.now();
    await Promise.all(Array.from({ length: conc }, worker));
    hotEnd = performance.now();
    const secs = (hotEnd - w0) / 1000;
    lat.sort((x, y) => x - y);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
    const list = (await admin.ranges()).ranges;
    const leaderless = list.filter((r) => r.leaderId === 0).length;
    if (leaderless > 0) console.error(`  ${leaderless} of ${list.length} ranges without a known leader after the run`);
    for (const [i, node] of cluster.nodes.entries()) console.error(`  store ${i + 1}: ${await storeStats(node.httpUrl)}`);
    return { ranges: list.length, opsPerS: lat.length / secs, p50Ms: q(0.5), p99Ms: q(0.99), failed, splitSeconds };
  } finally {
    client.close();
    admin.close();
    if (profDir) await cluster.stopAll(); // graceful: the profiles are written at exit
    const tail = (performance.now() - hotEnd) / 1000;
    await cluster.cleanup();
    if (profDir && hotEnd > 0) {
      for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'))) {
        console.log(`\n${n} ranges, ${f} (the hot window: ${seconds} s, ending ${tail.toFixed(1)} s before the exit):`);
        console.log(summarise(join(profDir, f), { seconds, skipTailSeconds: tail }));
      }
    }
  }
}

const rows: Row[] = [];
for (const n of counts) {
  const r = await measure(n);
  rows.push(r);
  const base = rows[0]!;
  console.log(
    `ranges=${r.ranges}\tput c=${conc} to one range: ${r.opsPerS.toFixed(0)} ops/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, ${r.failed} failed` +
      `\t${(r.opsPerS / base.opsPerS).toFixed(2)}× the ${base.ranges}-range run\t(splits ${r.splitSeconds.toFixed(0)} s)`,
  );
}
if (a.json) console.log(JSON.stringify({ concurrency: conc, seconds, rows }));
