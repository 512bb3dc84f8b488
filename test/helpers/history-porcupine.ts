// Runs the porcupine linearizability checker (test/porcupine, Go) on a history. The binary is built once
// per source version by test/porcupine/build.sh into ~/.cache/kvs-tools/ (needs the Go toolchain).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HistoryOp } from './history-recorder.js';

/** The repository root: the nearest ancestor holding test/porcupine/go.mod. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'test', 'porcupine', 'go.mod'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find test/porcupine/go.mod above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

let cachedBinary: string | undefined;

/** Builds (or finds in the cache) the checker binary and returns its path. */
export function porcupineBinary(): string {
  if (cachedBinary) return cachedBinary;
  const script = join(repoRoot(), 'test', 'porcupine', 'build.sh');
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
  cachedBinary = out.trim().split('\n').pop()!;
  return cachedBinary;
}

export interface PorcupineResult {
  /** 0 linearizable, 1 not, 2 unknown (checker timeout), 3 bad input. */
  exitCode: number;
  linearizable: boolean;
  /** The checker's one-line verdict. */
  verdict: string;
  historyFile: string;
  htmlFile: string | undefined;
}

/**
 * Checks a history (ops or a JSON file). On a failed check the HTML visualization is written to
 * `opts.dir` (default: a new temp dir; recorded histories are written there too).
 */
export function checkLinearizable(history: HistoryOp[] | string, opts: { timeoutS?: number; dir?: string } = {}): PorcupineResult {
  let file: string;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'kvs-history-'));
  if (typeof history === 'string') {
    file = history;
  } else {
    file = join(dir, 'history.json');
    writeFileSync(file, JSON.stringify(history));
  }
  // The visualization goes to `dir` (never next to a checked-in history file).
  const html = join(dir, basename(file).replace(/\.json$/, '') + '.html');
  const r = spawnSync(porcupineBinary(), ['-timeout', `${opts.timeoutS ?? 60}s`, '-html', html, file], { encoding: 'utf8', timeout: ((opts.timeoutS ?? 60) + 30) * 1000 });
  const verdict = (r.stdout ?? '').trim() || (r.stderr ?? '').trim() || String(r.error ?? '');
  const exitCode = r.status ?? -1;
  return { exitCode, linearizable: exitCode === 0, verdict, historyFile: file, htmlFile: exitCode === 1 ? html : undefined };
}
