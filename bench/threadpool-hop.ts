// What one hand-off to libuv's thread pool costs a store here (issues 12 and 16): every classic-level call
// except `getSync` runs on the pool, so each engine write — an unsynced apply batch as much as a synced
// Raft log write — pays a wake-up of a pool thread and of the event loop on its way back. Measured side by
// side in one process, one call in flight (what a lone request's path does), CPU of the whole process
// (all threads, user + system) and wall time per call:
//   - a point read through the pool (`get`) vs the same read on the main thread (`getSync`): the pair
//     differs only by the hand-off;
//   - an unsynced write batch of 2 and of 8 puts: the batch's size next to its fixed cost.
// Bounded: `calls` per phase (default 20 000), phases alternated twice.
// Usage: node dist/bench/threadpool-hop.js [calls]
import { runMain, withTempLevel } from './lib/temp-level.js';

interface Phase {
  name: string;
  run: () => Promise<void> | void;
}

async function measure(calls: number, p: Phase): Promise<{ cpuUs: number; wallUs: number }> {
  for (let i = 0; i < Math.min(2000, calls); i++) await p.run();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await p.run();
  const c = process.cpuUsage(c0);
  return { cpuUs: (c.user + c.system) / calls, wallUs: ((performance.now() - t0) * 1000) / calls };
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 20_000);
  if (!Number.isInteger(calls) || calls <= 0) throw new Error(`calls: expected a positive integer, got ${process.argv[2]}`);
  await withTempLevel('kvs-hop-', async (db) => {
    const key = Buffer.from('hop-key');
    const value = Buffer.alloc(100, 7);
    await db.put(key, value);
    const keys = Array.from({ length: 8 }, (_, i) => Buffer.from(`hop-batch-${i}`.padEnd(24, '.')));
    const batch = (n: number) => async (): Promise<void> => {
      const b = db.batch();
      for (let i = 0; i < n; i++) b.put(keys[i]!, value);
      await b.write({ sync: false });
    };
    const phases: Phase[] = [
      { name: 'get (thread pool)', run: async () => void (await db.get(key)) },
      { name: 'getSync (main thread)', run: () => void db.getSync(key) },
      { name: 'write batch, 2 puts, unsynced', run: batch(2) },
      { name: 'write batch, 8 puts, unsynced', run: batch(8) },
    ];
    const rows: string[] = [];
    for (let round = 1; round <= 2; round++) {
      for (const p of phases) {
        const r = await measure(calls, p);
        rows.push(`round ${round}  ${p.name.padEnd(32)} cpu ${r.cpuUs.toFixed(1).padStart(6)} µs/call  wall ${r.wallUs.toFixed(1).padStart(6)} µs/call`);
      }
    }
    console.log(`libuv thread pool hand-off (${calls} calls per phase, one in flight; cpu = whole process, all threads):`);
    for (const r of rows) console.log(`  ${r}`);
  });
}

runMain(main);
