// Idle cost of ranges (issue 12, "a store with 1 000 ranges and no traffic uses < 5 % of one core"; the
// per-range constants of docs/scaling.md): a 3-store cluster of real kvs-node processes is split into N
// ranges (every range on every store, as today), then left idle; over a window, per store: CPU (utime +
// stime from /proc/<pid>/stat), RSS and V8 heap (median of the /metrics samples: one sample lands
// anywhere in a GC cycle), and the transport counters of /metrics (raft messages, heartbeats, bytes).
// Prints one line per N and the marginal cost per range (last N against the first). Bounded: a few N,
// a few seconds each, every split retried at most 50 times.
// --cpu-prof DIR: the stores run with `node --cpu-prof`; the profile of the idle window (the last
// --window seconds before the graceful stop) is summarised per store by category (bench/lib/cpu-profile).
//   node dist/bench/idle-ranges.js [--ranges 1,250,1000] [--window 10] [--json] [--cpu-prof DIR]
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminClient } from '../node/src/client/index.js';
import { ProcessCluster, sleep } from '../test/helpers/cluster-process.js';
import { summarise } from './lib/cpu-profile.js';
import { cpuUs } from './lib/proc-cpu.js';

const { values: a } = parseArgs({
  options: {
    ranges: { type: 'string', default: '1,250,1000' },
    window: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const counts = a.ranges.split(',').map(Number);
const windowS = Number(a.window);
const HZ = 100; // USER_HZ on Linux
const SAMPLES = 5; // memory samples per window

function cpuTicks(pid: number): number {
  const us = cpuUs(pid);
  if (us === undefined) throw new Error(`kvs-node ${pid}: no CPU counts (/proc/${pid}/stat unreadable)`);
  return us / 10_000; // utime + stime in USER_HZ ticks
}

/** Sum of one metric's samples (all label sets) in a Prometheus text exposition. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

const COUNTERS = ['kvs_raft_transport_messages_sent', 'kvs_raft_transport_frames_sent', 'kvs_raft_transport_bytes_sent', 'kvs_raft_transport_heartbeats_sent', 'kvs_raft_transport_heartbeat_bytes_sent'] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

async function scrape(url: string): Promise<{ c: Counters; rss: number; heap: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const c = Object.fromEntries(COUNTERS.map((n) => [n, metricSum(text, n)])) as Counters;
  return { c, rss: metricSum(text, 'process_resident_memory_bytes'), heap: metricSum(text, 'nodejs_heap_size_used_bytes') };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;

interface Row {
  ranges: number;
  /** Busiest store, % of one core. */
  cpuPct: number;
  /** Median over stores of each store's median sample, MiB. */
  rssMiB: number;
  heapMiB: number;
  /** Whole cluster, per second. */
  msgsPerS: number;
  framesPerS: number;
  bytesPerS: number;
  heartbeatsPerS: number;
  heartbeatBytesPerS: number;
}

async function measure(n: number): Promise<Row> {
  const profDir = a['cpu-prof'] !== undefined ? resolve(a['cpu-prof'], `ranges-${n}`) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const cluster = await ProcessCluster.start({
    ...(profDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {}),
    size: 3,
    hostOf: (i) => `127.0.0.${120 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(all.findIndex((s) => s.nodeId === self.nodeId) + 1), '--peers', all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(',')],
  });
  const admin = new AdminClient(cluster.addresses);
  let windowEnd = 0;
  try {
    const splitT0 = performance.now();
    let stopped = '';
    for (let i = 1; i < n && !stopped; i++) {
      const key = Buffer.from(`r${String(i).padStart(6, '0')}`);
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.splitRange(key);
          break;
        } catch (e) {
          // An earlier attempt that timed out on our side may have applied: the key is a range start now.
          if (attempt > 1 && /split key must lie strictly inside/.test((e as Error).message)) break;
          // A range that stays leaderless (seen under heavy outside load) blocks every later split:
          // measure what exists rather than lose the run, and say so.
          if (attempt >= 50) {
            stopped = `splits stopped at ${i} ranges: ${(e as Error).message}`;
            console.error(stopped);
            break;
          }
          await sleep(200);
        }
      }
      if (i % 100 === 0) console.error(`  ${i} splits, ${((performance.now() - splitT0) / i).toFixed(0)} ms per split`);
    }
    await sleep(3000); // elections of the new ranges settle
    const pids = cluster.nodes.map((x) => x.pid!);
    const urls = cluster.nodes.map((x) => x.httpUrl);
    const s0 = await Promise.all(urls.map(scrape));
    const t0 = pids.map(cpuTicks);
    const w0 = performance.now();
    const mem: Array<{ rss: number[]; heap: number[] }> = urls.map(() => ({ rss: [], heap: [] }));
    let last = s0;
    for (let k = 0; k < SAMPLES; k++) {
      await sleep((windowS * 1000) / SAMPLES);
      last = await Promise.all(urls.map(scrape));
      last.forEach((s, i) => {
        mem[i]!.rss.push(s.rss);
        mem[i]!.heap.push(s.heap);
      });
    }
    const t1 = pids.map(cpuTicks);
    windowEnd = performance.now();
    const secs = (windowEnd - w0) / 1000;
    const delta = (k: keyof Counters) => last.reduce((sum, s, i) => sum + s.c[k] - s0[i]!.c[k], 0) / secs;
    const cpuPct = Math.max(...pids.map((_, i) => ((t1[i]! - t0[i]!) / HZ / secs) * 100));
    const list = (await admin.ranges()).ranges;
    const leaderless = list.filter((r) => r.leaderId === 0).length;
    if (leaderless > 0) console.error(`  ${leaderless} of ${list.length} ranges without a known leader at the end of the window`);
    return {
      ranges: list.length,
      cpuPct,
      rssMiB: median(mem.map((m) => median(m.rss))) / 2 ** 20,
      heapMiB: median(mem.map((m) => median(m.heap))) / 2 ** 20,
      msgsPerS: delta('kvs_raft_transport_messages_sent'),
      framesPerS: delta('kvs_raft_transport_frames_sent'),
      bytesPerS: delta('kvs_raft_transport_bytes_sent'),
      heartbeatsPerS: delta('kvs_raft_transport_heartbeats_sent'),
      heartbeatBytesPerS: delta('kvs_raft_transport_heartbeat_bytes_sent'),
    };
  } finally {
    admin.close();
    if (profDir) await cluster.stopAll(); // graceful: the profiles are written at exit
    // A profile ends at its process's exit: skip what came after the window (the stop itself).
    const tail = (performance.now() - windowEnd) / 1000;
    await cluster.cleanup();
    if (profDir && windowEnd > 0) {
      for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'))) {
        console.log(`\n${n} ranges, ${f} (the idle window: ${windowS} s, ending ${tail.toFixed(1)} s before the exit):`);
        console.log(summarise(join(profDir, f), { seconds: windowS, skipTailSeconds: tail }));
      }
    }
  }
}

const rows: Row[] = [];
for (const n of counts) {
  const t = performance.now();
  const r = await measure(n);
  rows.push(r);
  console.log(
    `ranges=${r.ranges}\tbusiest store CPU ${r.cpuPct.toFixed(1)} % of one core\tRSS ${r.rssMiB.toFixed(0)} MiB\theap ${r.heapMiB.toFixed(1)} MiB\t` +
      `cluster: ${r.msgsPerS.toFixed(0)} msg/s (${r.heartbeatsPerS.toFixed(0)} heartbeat+resp), ${r.framesPerS.toFixed(0)} frames/s, ${(r.bytesPerS / 1024).toFixed(1)} KiB/s\t(${((performance.now() - t) / 1000).toFixed(0)} s)`,
  );
}
if (rows.length > 1) {
  const f = rows[0]!;
  const l = rows[rows.length - 1]!;
  const dn = l.ranges - f.ranges;
  const per = (k: keyof Row) => (l[k] - f[k]) / dn;
  console.log(
    `per idle range (3 replicas, marginal ${f.ranges}→${l.ranges}): CPU ${(per('cpuPct') * 1000).toFixed(1)} % of a core per 1000 ranges on the busiest store; ` +
      `RSS ${(per('rssMiB') * 1024).toFixed(1)} KiB, heap ${(per('heapMiB') * 1024).toFixed(1)} KiB per replica; ` +
      `${per('msgsPerS').toFixed(1)} msg/s (${per('heartbeatsPerS').toFixed(1)} heartbeat+resp), ${per('framesPerS').toFixed(1)} frames/s, ${per('bytesPerS').toFixed(0)} B/s (heartbeats ${per('heartbeatBytesPerS').toFixed(0)} B/s) cluster-wide`,
  );
  if (a.json) console.log(JSON.stringify({ rows, perRange: { cpuPctPer1000: per('cpuPct') * 1000, rssKiB: per('rssMiB') * 1024, heapKiB: per('heapMiB') * 1024, msgsPerS: per('msgsPerS'), heartbeatsPerS: per('heartbeatsPerS'), framesPerS: per('framesPerS'), bytesPerS: per('bytesPerS'), heartbeatBytesPerS: per('heartbeatBytesPerS') } }));
}
