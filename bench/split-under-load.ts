// Splits under load (issue 12: "a split under load (c=64): no failed request, p99 during the split ≤ 3×
// the steady p99"): a 3-store cluster of real kvs-node processes, C writers putting keys of one range;
// after a steady window, that range is split several times (each split inside the written key space, so
// every split moves keys in use), then another steady window. Prints the steady p99, the p99 of the
// requests that overlapped a split (from its start until 200 ms after it returned), their ratio, and the
// failed requests (there must be none: a request caught by a split is re-routed, not failed).
//   node dist/bench/split-under-load.js [--concurrency 64] [--splits 6] [--steady 4] [--json]
import { parseArgs } from 'node:util';
import { AdminClient, KvClient } from '../node/src/client/index.js';
import { ProcessCluster, sleep } from '../test/helpers/cluster-process.js';

const { values: a } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '64' },
    splits: { type: 'string', default: '6' },
    steady: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});
const conc = Number(a.concurrency);
const nSplits = Number(a.splits);
const steadyS = Number(a.steady);
const KEYS = 10_000;
const key = (i: number): string => `k${String(i).padStart(5, '0')}`;

const cluster = await ProcessCluster.start({
  size: 3,
  hostOf: (i) => `127.0.0.${205 + i}`,
  env: { KVS_LOG_LEVEL: 'warn' },
  extraArgs: (self, all) => ['--raft-id', String(all.findIndex((s) => s.nodeId === self.nodeId) + 1), '--peers', all.map((s, i) => `${i + 1}=${s.host}:${s.grpcPort}`).join(',')],
});
const admin = new AdminClient(cluster.addresses, 20_000);
const client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
try {
  for (let i = 0; i < 200; i++) await client.put(key(i * 50), 'w'); // routes, leaders, data in the range
  const reqs: Array<{ t0: number; t1: number; ok: boolean }> = [];
  let stop = false;
  let seq = 0;
  const value = Buffer.alloc(100, 1);
  const worker = async (): Promise<void> => {
    while (!stop) {
      const k = key((seq++ * 7919) % KEYS);
      const t0 = performance.now();
      let ok = true;
      try {
        await client.put(k, value);
      } catch {
        ok = false;
      }
      reqs.push({ t0, t1: performance.now(), ok });
    }
  };
  const load = Promise.all(Array.from({ length: conc }, worker));
  const start = performance.now();
  await sleep(steadyS * 1000);
  const steadyEnd = performance.now();
  const windows: Array<[number, number]> = [];
  for (let s = 1; s <= nSplits; s++) {
    const at = Math.floor((s * KEYS) / (nSplits + 1));
    const w0 = performance.now();
    await admin.splitRange(Buffer.from(key(at)));
    windows.push([w0, performance.now() + 200]);
    await sleep(300);
  }
  const splitsEnd = performance.now();
  await sleep(steadyS * 1000);
  stop = true;
  await load;
  const end = performance.now();
  const inSplit = (r: { t0: number; t1: number }) => windows.some(([w0, w1]) => r.t0 < w1 && r.t1 > w0);
  const steady = reqs.filter((r) => r.ok && !inSplit(r) && (r.t1 < steadyEnd || r.t0 > splitsEnd)).map((r) => r.t1 - r.t0);
  const during = reqs.filter((r) => r.ok && inSplit(r)).map((r) => r.t1 - r.t0);
  const failed = reqs.filter((r) => !r.ok).length;
  const p = (xs: number[], q: number) => {
    const s = [...xs].sort((x, y) => x - y);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  };
  const ranges = (await admin.ranges()).ranges.length;
  const row = {
    concurrency: conc,
    splits: nSplits,
    ranges,
    requests: reqs.length,
    opsPerS: reqs.length / ((end - start) / 1000),
    failed,
    steadyP99Ms: p(steady, 0.99),
    steadyP50Ms: p(steady, 0.5),
    splitP99Ms: p(during, 0.99),
    splitRequests: during.length,
    splitMs: windows.map(([w0, w1]) => w1 - 200 - w0),
  };
  console.log(
    `put c=${conc}, ${nSplits} splits of the written range (${ranges} ranges at the end): ${row.requests} requests (${row.opsPerS.toFixed(0)} ops/s), ${failed} failed; ` +
      `steady p50 ${row.steadyP50Ms.toFixed(1)} ms p99 ${row.steadyP99Ms.toFixed(1)} ms; during splits (${row.splitRequests} requests) p99 ${row.splitP99Ms.toFixed(1)} ms = ${(row.splitP99Ms / row.steadyP99Ms).toFixed(2)}× steady; ` +
      `split calls ${row.splitMs.map((x) => x.toFixed(0)).join('/')} ms`,
  );
  if (a.json) console.log(JSON.stringify(row));
} finally {
  client.close();
  admin.close();
  await cluster.cleanup();
}
