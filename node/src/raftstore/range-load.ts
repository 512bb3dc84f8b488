// Requests per second of one range replica, for placement (the operator balances leaderships by load
// as well as count — PD's hot-region scheduling reads the same from region heartbeats). Sampled lazily
// from the replica's monotonic counters when someone asks (Admin.Ranges), so an idle store with
// thousands of ranges pays nothing: no timer, no work per request beyond the counters it already keeps.

/** How long one sample lasts; a rate covers the last one to two windows. */
export const LOAD_WINDOW_MS = 10_000;

interface Sample {
  t: number;
  n: number;
}

/**
 * A rate over a sliding window of two samples: `a` (older) and `b` (newer). When `b` is a window old a
 * new sample takes its place and it becomes `a`, so the rate always spans at least one window (a burst
 * is not reported as a spike) and at most the time since the older sample was taken.
 */
export class RateWindow {
  private a: Sample;
  private b: Sample;

  constructor(
    nowMs: number,
    n: number,
    private readonly windowMs = LOAD_WINDOW_MS,
  ) {
    this.a = { t: nowMs, n };
    this.b = { t: nowMs, n };
  }

  /** Events per second, given the counter's value `n` now. */
  rate(nowMs: number, n: number): number {
    if (nowMs - this.b.t >= this.windowMs) {
      this.a = this.b;
      this.b = { t: nowMs, n };
    }
    // A counter that went backwards (a replica re-created) starts over rather than reporting nonsense.
    if (n < this.a.n) {
      this.a = { t: nowMs, n };
      this.b = { t: nowMs, n };
      return 0;
    }
    // At least one second: the first answers after a replica opens would otherwise divide by ~0.
    const elapsed = Math.max(nowMs - this.a.t, 1000);
    return ((n - this.a.n) * 1000) / elapsed;
  }
}

/** The load Admin.Ranges reports for a replica: reads (linearizable read barriers) and writes (proposals). */
export class RangeLoad {
  private readonly reads: RateWindow;
  private readonly writes: RateWindow;

  constructor(nowMs: number, counters: { reads: number; proposals: number }, windowMs = LOAD_WINDOW_MS) {
    this.reads = new RateWindow(nowMs, counters.reads, windowMs);
    this.writes = new RateWindow(nowMs, counters.proposals, windowMs);
  }

  sample(nowMs: number, counters: { reads: number; proposals: number }): { readsPerSec: number; writesPerSec: number } {
    return { readsPerSec: this.reads.rate(nowMs, counters.reads), writesPerSec: this.writes.rate(nowMs, counters.proposals) };
  }
}
