// Plain-text and markdown tables of benchmark results.
import type { LatencySummary, RunResult } from './loadgen.js';

const ms = (us: number): string => (us / 1000).toFixed(us < 10_000 ? 2 : 1);

function lat(s: LatencySummary | undefined): string[] {
  return s ? [ms(s.p50Us), ms(s.p99Us), ms(s.p999Us)] : ['-', '-', '-'];
}

export const HEADER = ['target', 'workload', 'conc', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'read p99', 'write p99', 'errors', 'txn retries'];

export function rows(results: RunResult[]): string[][] {
  return results.map((r) => [
    r.target,
    r.workload,
    String(r.concurrency),
    Math.round(r.opsPerSec).toString(),
    ...lat(r.all),
    r.byKind.read ? ms(r.byKind.read.p99Us) : '-',
    r.byKind.update ? ms(r.byKind.update.p99Us) : r.byKind.txn ? ms(r.byKind.txn.p99Us) : '-',
    String(r.errors),
    r.byKind.txn ? String(r.txnRetries) : '-',
  ]);
}

export function textTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(header: string[], body: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/**
 * Several rounds of the same cells (--rounds N: every target measured once per round, the targets
 * alternating, so the box's drift over minutes falls on all of them alike): one result per target,
 * workload and concurrency — the round of median throughput, with the median p99 of all rounds (each
 * of them robust to one outlier round). `rounds` keeps every round's ops/s, in order.
 */
export function medianOfRounds(rounds: RunResult[][]): Array<RunResult & { rounds: number[] }> {
  const key = (r: RunResult): string => `${r.target}|${r.workload}|${r.concurrency}`;
  const cells = new Map<string, RunResult[]>();
  for (const round of rounds) for (const r of round) cells.set(key(r), [...(cells.get(key(r)) ?? []), r]);
  const median = (xs: number[]): number => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const out: Array<RunResult & { rounds: number[] }> = [];
  for (const rs of cells.values()) {
    // The lower middle for an even count: a real round, not an average of two.
    const byOps = [...rs].sort((x, y) => x.opsPerSec - y.opsPerSec);
    const mid = byOps[Math.floor((byOps.length - 1) / 2)]!;
    out.push({ ...mid, all: { ...mid.all, p99Us: median(rs.map((r) => r.all.p99Us)) }, rounds: rs.map((r) => Math.round(r.opsPerSec)) });
  }
  return out;
}

/** Every round's ops/s per cell (--rounds > 1), to show the spread behind each median. */
export function roundRows(results: Array<RunResult & { rounds: number[] }>): string[][] {
  return results.map((r) => [r.target, r.workload, String(r.concurrency), Math.round(r.opsPerSec).toString(), r.rounds.join(' / ')]);
}

/** Ratios kvs/etcd per workload (throughput and p99), when both ran. */
export function ratios(results: RunResult[], a = 'kvs', b = 'etcd'): string[][] {
  const out: string[][] = [];
  const key = (r: RunResult): string => `${r.workload}@${r.concurrency}`;
  const bs = new Map(results.filter((r) => r.target.startsWith(b)).map((r) => [key(r), r]));
  const as = results.filter((r) => r.target.startsWith(a));
  // Several variants of `a` (e.g. kvs with leases and with ReadIndex): name each in the workload column.
  const named = new Set(as.map((r) => r.target)).size > 1;
  for (const ra of as) {
    const rb = bs.get(key(ra));
    if (!rb) continue;
    out.push([named ? `${ra.workload} (${ra.target})` : ra.workload, String(ra.concurrency), (ra.opsPerSec / rb.opsPerSec).toFixed(2) + 'x', (ra.all.p99Us / rb.all.p99Us).toFixed(2) + 'x']);
  }
  return out;
}

/**
 * With several range counts in one run (--kvs-ranges 64,1): each sharded kvs target against the unsharded
 * one (target names `kvs×N/<R>r` vs `kvs×N`), ops/s and p99 per workload and concurrency.
 */
export function rangeRatios(results: RunResult[]): { header: string[]; rows: string[][] } {
  const key = (r: RunResult): string => `${r.workload}@${r.concurrency}`;
  const base = new Map(results.filter((r) => /^kvs×\d+$/.test(r.target)).map((r) => [key(r), r]));
  const rows: string[][] = [];
  for (const r of results.filter((x) => /^kvs×\d+\/\d+r$/.test(x.target))) {
    const b = base.get(key(r));
    if (b) rows.push([`${r.workload} (${r.target} / ${b.target})`, String(r.concurrency), (r.opsPerSec / b.opsPerSec).toFixed(2) + 'x', (r.all.p99Us / b.all.p99Us).toFixed(2) + 'x']);
  }
  return { header: ['workload', 'conc', 'ranges ops/s ratio', 'ranges p99 ratio'], rows };
}
