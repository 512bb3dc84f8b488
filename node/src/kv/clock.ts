// Hybrid logical clock of a proposer: ts = physicalMs * 1024 + logical (the proposal's `proposedTs`).
// Strictly increasing per process; observe() keeps it above timestamps seen elsewhere (recovered lastTs,
// other nodes). Arithmetic, not shifts: JS shifts are 32-bit. Values stay below 2^53 until year ~2248.
import { TS_PER_MS } from './state-machine.js';

export interface Clock {
  now(): number;
  observe(ts: number): void;
}

export class HybridClock implements Clock {
  private last = 0;
  constructor(private readonly wallMs: () => number = Date.now) {}

  now(): number {
    const phys = this.wallMs() * TS_PER_MS;
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
