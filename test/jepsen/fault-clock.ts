// The `clock` fault: writes the skew file a node polls through its test clock hook
// (node/src/kv/clock.ts, KVS_TEST_CLOCK_FILE). A jump forward or backward of 2–60 s, or a drift
// (0.25–0.9× or 1.5–4× real speed); healed by writing offset 0 (back to real time, itself a jump).
import { renameSync, writeFileSync } from 'node:fs';
import type { ClockSkew } from '../../node/src/kv/clock.js';

/** The skew of one clock fault from two random numbers in [0, 1). */
export function clockSkewFor(kind: number, size: number): ClockSkew {
  const jumpMs = Math.round(2000 + size * 58_000);
  if (kind < 0.35) return { offsetMs: jumpMs };
  if (kind < 0.7) return { offsetMs: -jumpMs };
  const rate = size < 0.5 ? 0.25 + size * 1.3 : 1.5 + (size - 0.5) * 5;
  return { offsetMs: 0, rate: Math.round(rate * 100) / 100 };
}

export function describeSkew(s: ClockSkew): string {
  if (s.rate !== undefined && s.rate !== 1) return `drifts at ${s.rate}× real speed`;
  return s.offsetMs >= 0 ? `jumps ${(s.offsetMs / 1000).toFixed(1)} s forward` : `jumps ${(-s.offsetMs / 1000).toFixed(1)} s backward`;
}

/** Replaces the file atomically (the node never reads a torn write; it would keep the old skew anyway). */
export function writeSkew(path: string, s: ClockSkew): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(s));
  renameSync(`${path}.tmp`, path);
}
