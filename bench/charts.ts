// SVG charts of an existing benchmark JSON (bench/out/bench-*.json): ops/s and p99 by concurrency per
// workload, one bar per target. `make bench` writes them itself; this redraws old runs.
//   node dist/bench/charts.js bench/out/bench-….json [--out-dir docs/img --name bench-replicated]
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCaption, writeWorkloadCharts } from './lib/bench-charts.js';
import type { RunResult } from './lib/loadgen.js';

const { values: a, positionals } = parseArgs({ allowPositionals: true, options: { 'out-dir': { type: 'string' }, name: { type: 'string' } } });
if (positionals.length !== 1) {
  console.error('usage: node dist/bench/charts.js RESULTS.json [--out-dir DIR] [--name BASENAME]');
  process.exit(2);
}
const file = positionals[0]!;
const run = JSON.parse(readFileSync(file, 'utf8')) as { results: RunResult[]; machine?: { cpu?: unknown; loadavgAtStart?: unknown } };
const dir = a['out-dir'] ?? join(file, '..');
mkdirSync(dir, { recursive: true });
const target = join(dir, `${a.name ?? basename(file, '.json')}.json`);
const durationS = +(run.results[0]?.durationS ?? 0).toFixed(1);
for (const p of writeWorkloadCharts(target, run.results, runCaption(basename(file, '.json'), run.machine ?? {}, durationS))) console.log(p);
