// The SVG writer of the benchmark pictures: well-formed, bars proportional to the values, escaping,
// missing values, axis ticks; and the per-workload charts built from benchmark results.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { barChart, compact, escapeXml, niceTicks, svgDocument } from '../../../bench/lib/svg-chart.js';
import { runCaption, workloadCharts, writeWorkloadCharts } from '../../../bench/lib/bench-charts.js';
import type { RunResult } from '../../../bench/lib/loadgen.js';

/** Bars as drawn: series, category, value and pixel height. */
function bars(svg: string): Array<{ series: string; category: string; value: number; height: number; y: number }> {
  return [...svg.matchAll(/<rect x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)" fill="[^"]+" data-series="([^"]*)" data-category="([^"]*)" data-value="([^"]+)">/g)].map((m) => ({
    y: Number(m[1]),
    height: Number(m[2]),
    series: m[3]!,
    category: m[4]!,
    value: Number(m[5]),
  }));
}

/** Minimal well-formedness: every element opened is closed in order (no XML parser dependency). */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === '/') continue;
    if (m[1] === '/') assert.equal(stack.pop(), m[2], `unbalanced </${m[2]}>`);
    else stack.push(m[2]!);
  }
  assert.deepEqual(stack, []);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
}

function result(target: string, workload: string, concurrency: number, opsPerSec: number, p99Us: number): RunResult {
  const all = { count: 1, p50Us: p99Us / 2, p99Us, p999Us: p99Us * 2, maxUs: p99Us * 3, meanUs: p99Us / 2 };
  return { target, workload, concurrency, durationS: 10, ops: opsPerSec * 10, opsPerSec, errors: 0, errorSamples: [], txnRetries: 0, all, byKind: {} };
}

describe('bench/svg-chart', () => {
  it('niceTicks: 0 to a round maximum at or above the data', () => {
    assert.deepEqual(niceTicks(14029), [0, 5000, 10000, 15000]);
    assert.deepEqual(niceTicks(99.3), [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(niceTicks(1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0), [0, 1]);
    assert.deepEqual(niceTicks(NaN), [0, 1]);
  });

  it('compact numbers and XML escaping', () => {
    assert.equal(compact(14029), '14k');
    assert.equal(compact(28462), '28.5k');
    assert.equal(compact(641), '641');
    assert.equal(compact(2500000), '2.5M');
    assert.equal(escapeXml(`a<b & "c" 'd'>`), 'a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
  });

  it('bar heights are proportional to the values; a missing value draws no bar', () => {
    const c = barChart({ title: 'T <x>', categories: ['1', '64'], yLabel: 'ops/s', series: [{ name: 'kvs', values: [1000, 4000] }, { name: 'etcd', values: [2000, undefined] }] });
    const svg = svgDocument([c], 'caption & co');
    assertWellFormed(svg);
    const b = bars(svg);
    assert.deepEqual(b.map((x) => [x.series, x.category, x.value]), [['kvs', '1', 1000], ['etcd', '1', 2000], ['kvs', '64', 4000]]);
    const perUnit = b.map((x) => x.height / x.value);
    for (const r of perUnit) assert.ok(Math.abs(r - perUnit[0]!) < 1e-3, `not proportional: ${perUnit.join(', ')}`);
    // All bars stand on the same baseline.
    assert.equal(new Set(b.map((x) => Math.round((x.y + x.height) * 10))).size, 1);
    assert.match(svg, /T &lt;x&gt;/);
    assert.match(svg, /caption &amp; co/);
  });

  it('all-zero data still renders a valid chart (zero-height bars, no NaN)', () => {
    const svg = svgDocument([barChart({ title: 'z', categories: ['a'], yLabel: 'y', series: [{ name: 's', values: [0] }] })]);
    assertWellFormed(svg);
    assert.equal(bars(svg)[0]!.height, 0);
  });

  it('documents place charts side by side: width is the sum', () => {
    const a = barChart({ title: 'a', categories: ['x'], yLabel: 'y', series: [{ name: 's', values: [1] }], width: 300 });
    const b = barChart({ title: 'b', categories: ['x'], yLabel: 'y', series: [{ name: 's', values: [1] }], width: 200 });
    assert.match(svgDocument([a, b]), /^<svg [^>]*width="500" height="300"/);
  });
});

describe('bench/bench-charts: per-workload charts of a run', () => {
  const results = [
    result('kvs×3', 'W', 64, 10189, 23700),
    result('kvs×3', 'W', 1, 641, 6100),
    result('etcd×3', 'W', 1, 967, 2470),
    result('etcd×3', 'W', 64, 4643, 34600),
    result('kvs×3', 'C', 256, 28462, 32100),
  ];

  it('one chart per workload; ops/s and p99 (ms) by concurrency, one series per target', () => {
    const charts = workloadCharts(results, 'test run');
    assert.deepEqual(charts.map((c) => c.workload), ['W', 'C']);
    const w = charts[0]!.svg;
    assertWellFormed(w);
    const b = bars(w);
    // Throughput panel first (targets in order of appearance, concurrencies ascending), then p99 in ms.
    assert.deepEqual(b.slice(0, 4).map((x) => [x.series, x.category, x.value]), [['kvs×3', '1 in flight', 641], ['etcd×3', '1 in flight', 967], ['kvs×3', '64 in flight', 10189], ['etcd×3', '64 in flight', 4643]]);
    assert.deepEqual(b.slice(4).map((x) => [x.series, x.category, x.value]), [['kvs×3', '1 in flight', 6.1], ['etcd×3', '1 in flight', 2.47], ['kvs×3', '64 in flight', 23.7], ['etcd×3', '64 in flight', 34.6]]);
    assert.match(w, /100% update \(put throughput\) — test run/);
    // C ran on kvs only: one series, no etcd bar.
    assert.deepEqual(bars(charts[1]!.svg).map((x) => x.series), ['kvs×3', 'kvs×3']);
  });

  it('the caption names the run, the machine and its load', () => {
    assert.equal(runCaption('2026-12-03 12:32 UTC', { cpu: '2 × AMD EPYC', loadavgAtStart: [10.28, 7.6, 5] }, 10), '2026-12-03 12:32 UTC, 2 × AMD EPYC, 10 s per point, load average 10.28 at start');
    assert.equal(runCaption('x', {}, 5), 'x, ?, 5 s per point');
  });

  it('writes <json base>-<workload>.svg next to the JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvs-bench-svg-'));
    try {
      const paths = writeWorkloadCharts(join(dir, 'bench-x.json'), results);
      assert.deepEqual(paths, [join(dir, 'bench-x-W.svg'), join(dir, 'bench-x-C.svg')]);
      assert.match(readFileSync(paths[0]!, 'utf8'), /^<svg /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
