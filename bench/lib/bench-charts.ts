// SVG pictures of a benchmark run (bench/out/*.json): per workload, ops/s and p99 by concurrency, one bar
// per target (kvs vs etcd). Written next to the JSON by bench/run.ts and by bench/charts.ts for an
// existing JSON file.
import { writeFileSync } from 'node:fs';
import type { RunResult } from './loadgen.js';
import { barChart, svgDocument } from './svg-chart.js';
import { WORKLOADS } from './workloads.js';

export interface WorkloadChart {
  workload: string;
  svg: string;
}

const ms = (v: number): string => (v === 0 ? '0' : v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2));

/** The caption of a run's charts: when, where, how long, and how busy the machine was. */
export function runCaption(when: string, machine: { cpu?: unknown; loadavgAtStart?: unknown }, durationS: number): string {
  const load = Array.isArray(machine.loadavgAtStart) ? `, load average ${String(machine.loadavgAtStart[0])} at start` : '';
  return `${when}, ${String(machine.cpu ?? '?')}, ${durationS} s per point${load}`;
}

/** One SVG per workload in `results` (order of first appearance), targets in order of first appearance. */
export function workloadCharts(results: readonly RunResult[], caption?: string): WorkloadChart[] {
  const workloads = [...new Set(results.map((r) => r.workload))];
  return workloads.map((w) => {
    const runs = results.filter((r) => r.workload === w);
    const concurrencies = [...new Set(runs.map((r) => r.concurrency))].sort((a, b) => a - b);
    const targets = [...new Set(runs.map((r) => r.target))];
    const pick = (t: string, c: number): RunResult | undefined => runs.find((r) => r.target === t && r.concurrency === c);
    const categories = concurrencies.map((c) => `${c} in flight`);
    const name = WORKLOADS[w]?.description ?? w;
    const ops = barChart({
      title: `${w}: throughput`,
      categories,
      yLabel: 'ops/s',
      series: targets.map((t) => ({ name: t, values: concurrencies.map((c) => pick(t, c)?.opsPerSec) })),
    });
    const p99 = barChart({
      title: `${w}: p99 latency`,
      categories,
      yLabel: 'p99 (ms)',
      format: ms,
      series: targets.map((t) => ({ name: t, values: concurrencies.map((c) => (pick(t, c)?.all.p99Us ?? NaN) / 1000).map((v) => (Number.isFinite(v) ? v : undefined)) })),
    });
    return { workload: w, svg: svgDocument([ops, p99], `${name}${caption ? ` — ${caption}` : ''}`) };
  });
}

/** Writes `<json path without .json>-<workload>.svg` for every workload; returns the paths. */
export function writeWorkloadCharts(jsonPath: string, results: readonly RunResult[], caption?: string): string[] {
  const base = jsonPath.replace(/\.json$/, '');
  return workloadCharts(results, caption).map(({ workload, svg }) => {
    const path = `${base}-${workload}.svg`;
    writeFileSync(path, svg);
    return path;
  });
}
