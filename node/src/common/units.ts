// Parsing of human-friendly sizes ("8KiB", "1MiB", "4096") and durations ("500ms", "10s", "5m", "1500").

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1000, kb: 1000, kib: 1024,
  m: 1000 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1000 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
};

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Bytes of "8KiB" / "1MiB" / "4096"; throws RangeError naming `what` on malformed input. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new RangeError(`${what}: malformed size ${JSON.stringify(text)} (examples: 4096, 8KiB, 1MiB)`);
  const v = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(v)) throw new RangeError(`${what}: size ${JSON.stringify(text)} is too large`);
  return v;
}

/** Milliseconds of "500ms" / "10s" / "5m" / "1h"; a bare number is milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? DURATION_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new RangeError(`${what}: malformed duration ${JSON.stringify(text)} (examples: 500ms, 10s, 5m; a bare number is ms)`);
  const v = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(v)) throw new RangeError(`${what}: duration ${JSON.stringify(text)} is too large`);
  return v;
}
