// YCSB core workloads A/B/C, a write-only workload and a 4-key read-modify-write transaction workload.
import type { BenchDriver } from './driver.js';
import { chooser, keyName, makeValue, type KeyChooser } from './keys.js';

export interface WorkloadSpec {
  /** Short id used on the command line. */
  id: string;
  description: string;
  readFraction: number;
  updateFraction: number;
  txnFraction: number;
  /** Keys per transaction. */
  txnKeys?: number;
  /** Key distribution of this workload when it differs from the run's (--txn-dist for T). */
  dist?: 'zipfian' | 'uniform';
}

export const WORKLOADS: Record<string, WorkloadSpec> = {
  A: { id: 'A', description: 'YCSB A: 50% read / 50% update', readFraction: 0.5, updateFraction: 0.5, txnFraction: 0 },
  B: { id: 'B', description: 'YCSB B: 95% read / 5% update', readFraction: 0.95, updateFraction: 0.05, txnFraction: 0 },
  C: { id: 'C', description: 'YCSB C: 100% read', readFraction: 1, updateFraction: 0, txnFraction: 0 },
  W: { id: 'W', description: '100% update (put throughput)', readFraction: 0, updateFraction: 1, txnFraction: 0 },
  T: { id: 'T', description: 'transactions: read 4 keys, write 4 keys (serializable, retried on conflict); uniform keys unless --txn-dist', readFraction: 0, updateFraction: 0, txnFraction: 1, txnKeys: 4, dist: 'uniform' },
};

export type OpKind = 'read' | 'update' | 'txn';

export interface OpGenerator {
  /** Runs one operation; returns its kind and conflict retries. */
  run(): Promise<{ kind: OpKind; retries: number }>;
}

export function opGenerator(
  spec: WorkloadSpec,
  driver: BenchDriver,
  opts: { records: number; valueSize: number; dist: 'zipfian' | 'uniform'; rand: () => number },
): OpGenerator {
  const keys: KeyChooser = chooser(spec.dist ?? opts.dist, opts.records, opts.rand);
  // A small pool of pre-generated values keeps value generation out of the measurement.
  const pool = Array.from({ length: 64 }, () => makeValue(opts.valueSize, opts.rand));
  const value = (): Buffer => pool[Math.floor(opts.rand() * pool.length)]!;
  return {
    async run() {
      const r = opts.rand();
      if (r < spec.readFraction) {
        await driver.read(keyName(keys.next()));
        return { kind: 'read', retries: 0 };
      }
      if (r < spec.readFraction + spec.updateFraction) {
        await driver.update(keyName(keys.next()), value());
        return { kind: 'update', retries: 0 };
      }
      const n = spec.txnKeys ?? 4;
      const set = new Set<string>();
      while (set.size < Math.min(n, opts.records)) set.add(keyName(keys.next()));
      // Sorted key order: no lock-order cycles in stores that lock.
      const txnKeys = [...set].sort();
      const { retries } = await driver.rmw(txnKeys, (old) => {
        const v = Buffer.from(value());
        // Derive from the old value so the read matters (a counter in the first 8 bytes).
        const n0 = old && old.length >= 8 ? Number.parseInt(old.subarray(0, 8).toString('latin1'), 36) || 0 : 0;
        v.write((n0 + 1).toString(36).padStart(8, '0').slice(-8), 0, 'latin1');
        return v;
      });
      return { kind: 'txn', retries };
    },
  };
}
