// Closed-loop load generator: `concurrency` workers each run one operation at a time until the
// duration (or the operation budget) is used up. Latencies go to HDR histograms in microseconds;
// operations of the warm-up period are run but not recorded.
import * as hdr from 'hdr-histogram-js';
import type { BenchDriver } from './driver.js';
import { opGenerator, type OpKind, type WorkloadSpec } from './workloads.js';
import { prng } from './keys.js';

export interface RunOptions {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** Hard cap on operations (keeps a runaway fast target bounded too). */
  maxOps: number;
  records: number;
  valueSize: number;
  dist: 'zipfian' | 'uniform';
  seed: number;
}

export interface LatencySummary {
  count: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
}

export interface RunResult {
  target: string;
  workload: string;
  concurrency: number;
  durationS: number;
  ops: number;
  opsPerSec: number;
  errors: number;
  errorSamples: string[];
  txnRetries: number;
  all: LatencySummary;
  byKind: Partial<Record<OpKind, LatencySummary>>;
}

function newHist(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

function summarize(h: hdr.Histogram): LatencySummary {
  return {
    count: h.totalCount,
    p50Us: h.getValueAtPercentile(50),
    p99Us: h.getValueAtPercentile(99),
    p999Us: h.getValueAtPercentile(99.9),
    maxUs: h.maxValue,
    meanUs: Math.round(h.mean),
  };
}

export async function runWorkload(driver: BenchDriver, spec: WorkloadSpec, opts: RunOptions): Promise<RunResult> {
  const rand = prng(opts.seed);
  const gen = opGenerator(spec, driver, { records: opts.records, valueSize: opts.valueSize, dist: opts.dist, rand });
  const all = newHist();
  const byKind = new Map<OpKind, hdr.Histogram>();
  let ops = 0;
  let started = 0;
  let errors = 0;
  let retries = 0;
  const errorSamples: string[] = [];
  const t0 = performance.now();
  const measureFrom = t0 + opts.warmupMs;
  const end = measureFrom + opts.durationMs;
  const worker = async (): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (now >= end || started >= opts.maxOps) return;
      started++;
      const s = performance.now();
      try {
        const r = await gen.run();
        const e = performance.now();
        if (s >= measureFrom && e <= end) {
          const us = Math.max(1, Math.round((e - s) * 1000));
          all.recordValue(us);
          let h = byKind.get(r.kind);
          if (!h) byKind.set(r.kind, (h = newHist()));
          h.recordValue(us);
          ops++;
          retries += r.retries;
        }
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(String((err as Error)?.message ?? err).slice(0, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const measuredEnd = Math.min(end, performance.now());
  const durationS = Math.max(0.001, (measuredEnd - measureFrom) / 1000);
  const result: RunResult = {
    target: driver.name,
    workload: spec.id,
    concurrency: opts.concurrency,
    durationS,
    ops,
    opsPerSec: ops / durationS,
    errors,
    errorSamples,
    txnRetries: retries,
    all: summarize(all),
    byKind: {},
  };
  for (const [k, h] of byKind) result.byKind[k] = summarize(h);
  return result;
}
