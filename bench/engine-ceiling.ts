// The raw classic-level ceiling on this machine: synced batches of 1000 × 100-byte puts, and single
// synced puts, each measured for a bounded time in a temp dir. Usage: node dist/bench/engine-ceiling.js [seconds]
import { runMain, withTempLevel } from './lib/temp-level.js';

async function main(): Promise<void> {
  const totalSeconds = Number(process.argv[2] ?? 5);
  const phaseMs = (totalSeconds * 1000) / 2;
  await withTempLevel('kvs-engine-ceiling-', async (db) => {
    const value = Buffer.alloc(100, 0x61);
    let n = 0;
    const key = (): Buffer => Buffer.from(`key-${(n++).toString().padStart(12, '0')}`);

    // Phase 1: synced batches of 1000 puts.
    let puts = 0;
    let t0 = performance.now();
    while (performance.now() - t0 < phaseMs) {
      const ops = new Array(1000);
      for (let i = 0; i < 1000; i++) ops[i] = { type: 'put', key: key(), value };
      await db.batch(ops, { sync: true });
      puts += 1000;
    }
    const batchRate = puts / ((performance.now() - t0) / 1000);

    // Phase 2: single synced puts, one at a time.
    let singles = 0;
    t0 = performance.now();
    while (performance.now() - t0 < phaseMs) {
      await db.put(key(), value, { sync: true });
      singles++;
    }
    const singleUs = ((performance.now() - t0) * 1000) / singles;
    console.log(`engine ceiling: synced batch(1000) = ${Math.round(batchRate)} puts/s; single synced put = ${Math.round(singleUs)} µs`);
  });
}

runMain(main);
