// CPU profile (.cpuprofile, `node --cpu-prof`) summaries shared by the profiling benchmarks: self time
// per category (raft core, raftstore, grpc/http2, protobuf, gc, idle, ...) and the top functions.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export function category(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program (native/uncategorised)';
  if (/node\/src\/raft\//.test(url)) return 'raft core (node/src/raft)';
  if (/node\/src\/raftstore\//.test(url)) return 'raftstore (peer/transport/storage)';
  if (/node\/src\/(engine|storage)\//.test(url)) return 'engine (kvs side)';
  if (/node\/src\/server\//.test(url)) return 'kv server';
  if (/node\/src\/generated\/|protobufjs|proto-loader/.test(url)) return 'protobuf';
  if (/@grpc\/grpc-js/.test(url)) return 'grpc-js';
  if (/node:http2|internal\/http2/.test(url)) return 'http2 (node core)';
  if (/classic-level|abstract-level|level-/.test(url)) return 'classic-level (JS side)';
  if (/^node:|internal\//.test(url) || url === '') return fn ? `node core / native: ${/^node:/.test(url) || url.startsWith('internal') ? 'js' : 'native'}` : 'native';
  return 'other JS';
}

/**
 * Self time of a .cpuprofile by category and top functions. `window` keeps only the samples of the
 * last `seconds` before the last `skipTailSeconds` of the profile (a window of a longer run, e.g. the
 * idle measurement after the splits; a graceful stop follows it).
 */
export function summarise(file: string, window?: { seconds: number; skipTailSeconds: number }): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let from = 0;
  let to = p.samples.length;
  if (window) {
    // Sample times from the deltas; keep [end − tail − seconds, end − tail].
    const t: number[] = [];
    let acc = 0;
    for (let i = 0; i < p.samples.length; i++) t.push((acc += p.timeDeltas[i] ?? 0));
    const end = acc - window.skipTailSeconds * 1e6;
    const begin = end - window.seconds * 1e6;
    from = t.findIndex((x) => x >= begin);
    to = t.findIndex((x) => x > end);
    if (from < 0) from = p.samples.length;
    if (to < 0) to = p.samples.length;
  }
  for (let i = from; i < to; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const cat = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const c = category(n.callFrame.url, n.callFrame.functionName);
    cat.set(c, (cat.get(c) ?? 0) + us);
    if (c !== 'idle') {
      const f = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|node\/src)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
      fns.set(f, (fns.get(f) ?? 0) + us);
    }
    total += us;
  }
  const busy = total - (cat.get('idle') ?? 0);
  const lines = [`  total ${(total / 1e6).toFixed(1)} s sampled, busy ${((100 * busy) / total).toFixed(0)} %`];
  for (const [c, us] of [...cat].sort((x, y) => y[1] - x[1])) lines.push(`    ${((100 * us) / total).toFixed(1).padStart(5)} %  ${c}`);
  lines.push('  top functions (self time, % of busy):');
  for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, 15)) lines.push(`    ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${f}`);
  return lines.join('\n');
}

