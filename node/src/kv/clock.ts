// Hybrid logical clock of a proposer: ts = physicalMs * 1024 + logical (the proposal's `proposedTs`).
// Strictly increasing per process; observe() keeps it above timestamps seen elsewhere (recovered lastTs,
// other nodes). Arithmetic, not shifts: JS shifts are 32-bit. Values stay below 2^53 until year ~2248.
//
// The physical part comes from systemWallMs(): Date.now, unless the process was started with the test
// hook KVS_TEST_CLOCK_FILE (below), which lets the Jepsen nemesis make one node's clock jump or drift.
import { readFileSync } from 'node:fs';
import { TS_PER_MS } from './state-machine.js';

export interface Clock {
  now(): number;
  observe(ts: number): void;
}

export class HybridClock implements Clock {
  private last = 0;
  constructor(private readonly wallMs: () => number = systemWallMs()) {}

  now(): number {
    // Whole ms only: a drifting wall clock (the test hook's rate) reads fractions, and a timestamp must
    // be an integer (it is varint-encoded in every command; nemesis seed 134 made every put fail).
    const phys = Math.floor(this.wallMs()) * TS_PER_MS;
    this.last = phys > this.last ? phys : this.last + 1;
    return this.last;
  }

  observe(ts: number): void {
    if (ts > this.last) this.last = ts;
  }
}

/** The hybrid timestamp of a wall-clock time in ms. */
export function tsFromMs(ms: number): number {
  return Math.floor(ms) * TS_PER_MS;
}

/** The physical ms of a hybrid timestamp. */
export function msFromTs(ts: number): number {
  return Math.floor(ts / TS_PER_MS);
}

// ---------------------------------------------------------------- test hook: a skewed wall clock

/**
 * Env var naming the skew file. Test-only: no flag, config file or Kubernetes manifest sets it, so a
 * production node always reads Date.now (kvs-node logs a warning when it is set).
 */
export const TEST_CLOCK_ENV = 'KVS_TEST_CLOCK_FILE';

/**
 * Content of the skew file, applied from the moment the node reads it: the node's wall clock becomes
 * `real(at read) + offsetMs + (real - real(at read)) * rate`. {offsetMs: 30000} jumps 30 s ahead,
 * {offsetMs: -5000} 5 s back, {offsetMs: 0, rate: 1.5} drifts 50 % fast; {offsetMs: 0} (or deleting the
 * file) returns to the real clock — itself a jump, as when NTP steps a clock.
 */
export interface ClockSkew {
  offsetMs: number;
  rate?: number;
}

/**
 * A wall clock controlled by a file that is polled (reading a tiny file every 50 ms is cheap, and
 * polling works the same whether the node is busy or idle; fs.watch is not reliable on every file
 * system). A missing or unparsable file (the writer is expected to rename it into place) keeps the
 * last skew.
 */
export class FileSkewedClock {
  private anchorReal: number;
  private anchorFake: number;
  private rate = 1;
  private lastText: string | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly o: { pollMs?: number; realMs?: () => number } = {},
  ) {
    this.anchorReal = this.anchorFake = this.real();
    this.poll();
    const pollMs = o.pollMs ?? 50;
    if (pollMs > 0) {
      this.timer = setInterval(() => this.poll(), pollMs);
      this.timer.unref();
    }
  }

  private real(): number {
    return (this.o.realMs ?? Date.now)();
  }

  /** The skewed wall clock (ms). */
  now(): number {
    return this.anchorFake + (this.real() - this.anchorReal) * this.rate;
  }

  /** Reads the file; a changed skew takes effect now. */
  poll(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      text = '';
    }
    if (text === this.lastText) return;
    let skew: ClockSkew;
    if (text.trim() === '') skew = { offsetMs: 0 };
    else {
      try {
        skew = JSON.parse(text) as ClockSkew;
      } catch {
        return; // torn write: keep the previous skew and re-read next time
      }
      if (!Number.isFinite(skew.offsetMs) || (skew.rate !== undefined && !(Number.isFinite(skew.rate) && skew.rate > 0))) return;
    }
    this.lastText = text;
    this.anchorReal = this.real();
    this.anchorFake = this.anchorReal + skew.offsetMs;
    this.rate = skew.rate ?? 1;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

let processClock: (() => number) | undefined;

/** The skew file path when the test hook is on, else undefined. */
export function testClockHookPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const p = env[TEST_CLOCK_ENV];
  return p !== undefined && p !== '' ? p : undefined;
}

/** The process's wall clock (ms): Date.now, or the skewed clock of the test hook (one per process). */
export function systemWallMs(): () => number {
  if (processClock) return processClock;
  const path = testClockHookPath();
  if (path === undefined) processClock = Date.now;
  else {
    const c = new FileSkewedClock(path);
    processClock = () => c.now();
  }
  return processClock;
}
