// The Raft log write path, measured side by side in one run (issues 12 and 16): a durable append to the
// store-wide WAL (node/src/raftlog/wal.ts: preallocated segment, write + fdatasync) vs a synced LevelDB
// batch (today's Raft log write), each with one append in flight (lone-request latency) and with 64 in
// flight (group commit). Bounded: `seconds` per phase (default 2).
// Usage: node dist/bench/wal-sync.js [seconds] [wal|leveldb|both] [in-flight list, e.g. 1,64]
// Three stores of a replicated cluster sync one disk at once: run three of these together with the same
// arguments to see each write path under that contention (issue 16's lone put).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Wal } from '../node/src/raftlog/wal.js';

interface Result {
  opsPerSec: number;
  p50us: number;
  p99us: number;
}

async function measure(ms: number, inflight: number, op: (i: number) => Promise<void>): Promise<Result> {
  const lat: number[] = [];
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (performance.now() - t0 < ms) {
        const s = performance.now();
        await op(n++);
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! * 1000);
  return { opsPerSec: Math.round(lat.length / secs), p50us: q(0.5), p99us: q(0.99) };
}

async function main(): Promise<void> {
  const ms = Number(process.argv[2] ?? 2) * 1000;
  const which = process.argv[3] ?? 'both';
  if (!['wal', 'leveldb', 'both'].includes(which)) throw new Error(`unknown write path ${which}: wal, leveldb or both`);
  const inflights = (process.argv[4] ?? '1,64').split(',').map(Number);
  if (inflights.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('in-flight list: positive integers, e.g. 1,64');
  const dir = mkdtempSync(join(tmpdir(), 'kvs-wal-bench-'));
  const entry = Buffer.alloc(150, 0x61); // a 100-byte put plus its Raft entry framing
  try {
    const { wal } = await Wal.open(join(dir, 'wal'), { segmentBytes: 256 << 20 });
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'level'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const key = (i: number) => Buffer.from(`raft-${String(i).padStart(12, '0')}`);
    const rows: Array<[string, number, Result]> = [];
    for (const inflight of inflights) {
      if (which !== 'leveldb') rows.push(['wal append (write + fdatasync)', inflight, await measure(ms, inflight, async () => void (await wal.append(1, 1, entry)))]);
      if (which !== 'wal') rows.push(['LevelDB batch {sync: true}', inflight, await measure(ms, inflight, (i) => db.batch([{ type: 'put', key: key(i), value: entry }], { sync: true }))]);
    }
    await wal.close();
    await db.close();
    console.log('| write | in flight | ops/s | p50 µs | p99 µs |');
    console.log('|---|---:|---:|---:|---:|');
    for (const [name, c, r] of rows) console.log(`| ${name} | ${c} | ${r.opsPerSec} | ${r.p50us} | ${r.p99us} |`);
    const lone = (name: string) => rows.find((r) => r[0].startsWith(name) && r[1] === 1)![2];
    if (which === 'both' && inflights.includes(1)) console.log(`lone append: wal p50 ${lone('wal').p50us} µs vs LevelDB ${lone('LevelDB').p50us} µs (${(lone('wal').p50us / lone('LevelDB').p50us).toFixed(2)}×)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
