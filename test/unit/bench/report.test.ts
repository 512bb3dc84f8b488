import assert from 'node:assert/strict';
import { medianOfRounds, roundRows } from '../../../bench/lib/report.js';
import type { RunResult } from '../../../bench/lib/loadgen.js';

const cell = (target: string, workload: string, concurrency: number, opsPerSec: number, p99Us: number): RunResult => ({
  target,
  workload,
  concurrency,
  durationS: 8,
  ops: opsPerSec * 8,
  opsPerSec,
  errors: 0,
  errorSamples: [],
  txnRetries: 0,
  all: { count: opsPerSec * 8, p50Us: 1000, p99Us, p999Us: 2 * p99Us, maxUs: 3 * p99Us, meanUs: 1100 },
  byKind: {},
});

describe('bench/lib/report: --rounds', () => {
  it('per cell: the round of median ops/s, the median p99 of all rounds, every round listed in order', () => {
    const rounds = [
      [cell('kvs×3', 'W', 64, 10_000, 5000), cell('etcd×3', 'W', 64, 4000, 9000)],
      [cell('kvs×3', 'W', 64, 7000, 4000), cell('etcd×3', 'W', 64, 5000, 8000)],
      [cell('kvs×3', 'W', 64, 13_000, 7000), cell('etcd×3', 'W', 64, 4500, 20_000)],
    ];
    const m = medianOfRounds(rounds);
    assert.equal(m.length, 2);
    const kvs = m.find((r) => r.target === 'kvs×3')!;
    assert.equal(kvs.opsPerSec, 10_000);
    assert.equal(kvs.all.p99Us, 5000);
    assert.deepEqual(kvs.rounds, [10_000, 7000, 13_000]);
    const etcd = m.find((r) => r.target === 'etcd×3')!;
    assert.equal(etcd.opsPerSec, 4500);
    assert.equal(etcd.all.p99Us, 9000); // not the 20 ms outlier of the round whose ops/s is the median
    assert.deepEqual(roundRows([kvs]), [['kvs×3', 'W', '64', '10000', '10000 / 7000 / 13000']]);
  });

  it('an even count takes the lower middle round (a measured round, not an average), cells kept apart', () => {
    const m = medianOfRounds([
      [cell('kvs×3', 'C', 1, 600, 2000), cell('kvs×3', 'C', 64, 30_000, 7000)],
      [cell('kvs×3', 'C', 1, 800, 3000), cell('kvs×3', 'C', 64, 20_000, 9000)],
    ]);
    assert.equal(m.find((r) => r.concurrency === 1)!.opsPerSec, 600);
    assert.equal(m.find((r) => r.concurrency === 1)!.all.p99Us, 2500);
    assert.equal(m.find((r) => r.concurrency === 64)!.opsPerSec, 20_000);
  });
});
