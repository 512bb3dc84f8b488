// Idle cost of ranges (issue 12, "a store with 1 000 ranges and no traffic uses < 5 % of one core"):
// a 3-store cluster of real kvs-node processes is split into N ranges (every range on every store, as
// today), then left idle; CPU (utime + stime from /proc/<pid>/stat) and RSS of each store are sampled over
// a window. Prints one line per N and the marginal cost per range. Bounded: a few N, a few seconds each.
//   node dist/bench/idle-ranges.js [--ranges 1,100,300] [--window 5]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdminClient } from '../node/src/client/index.js';
import { ProcessCluster, sleep } from '../test/helpers/cluster-process.js';

const { values: a } = parseArgs({ options: { ranges: { type: 'string', default: '1,100,300' }, window: { type: 'string', default: '5' } } });
const counts = a.ranges.split(',').map(Number);
const windowS = Number(a.window);
const HZ = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14, 15)
}
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function measure(n: number): Promise<{ ranges: number; cpuPct: number; rssMiB: number }> {
  const cluster = await ProcessCluster.start({
    size: 3,
    hostOf: (i) => `127.0.0.${120 + i}`,
    env: { KVS_LOG_LEVEL: 'warn' },
    extraArgs: (self, all) => ['--raft-id', String(all.findIndex((s) => s.nodeId === self.nodeId) + 1), '--peers', all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(',')],
  });
  const admin = new AdminClient(cluster.addresses);
  try {
    for (let i = 1; i < n; i++) {
      const key = Buffer.from(`r${String(i).padStart(6, '0')}`);
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.splitRange(key);
          break;
        } catch (e) {
          if (attempt >= 50) throw e;
          await sleep(200);
        }
      }
    }
    await sleep(2000); // elections of the new ranges settle
    const pids = cluster.nodes.map((x) => x.pid!);
    const t0 = pids.map(cpuTicks);
    await sleep(windowS * 1000);
    const t1 = pids.map(cpuTicks);
    const cpuPct = Math.max(...pids.map((_, i) => ((t1[i]! - t0[i]!) / HZ / windowS) * 100));
    return { ranges: (await admin.ranges()).ranges.length, cpuPct, rssMiB: Math.max(...pids.map(rssMiB)) };
  } finally {
    admin.close();
    await cluster.cleanup();
  }
}

const rows: Array<{ ranges: number; cpuPct: number; rssMiB: number }> = [];
for (const n of counts) {
  const r = await measure(n);
  rows.push(r);
  console.log(`ranges=${r.ranges}\tbusiest store CPU ${r.cpuPct.toFixed(1)} % of one core\tRSS ${r.rssMiB.toFixed(0)} MiB`);
}
if (rows.length > 1) {
  const f = rows[0]!;
  const l = rows[rows.length - 1]!;
  const per = (l.cpuPct - f.cpuPct) / (l.ranges - f.ranges);
  console.log(`per idle range: ${(per * 1000).toFixed(2)} % of a core per 1000 ranges → 1000 ranges ≈ ${(f.cpuPct + per * (1000 - f.ranges)).toFixed(0)} % ; RSS ${(((l.rssMiB - f.rssMiB) / (l.ranges - f.ranges)) * 1024).toFixed(0)} KiB per range`);
}
