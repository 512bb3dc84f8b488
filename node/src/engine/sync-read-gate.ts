// When a point read may run synchronously on the event loop (LevelEngine.get/getMany).
//
// A read served from LevelDB's block cache or the page cache costs ≈ 1.5 µs on the calling thread, while
// an asynchronous one costs a thread-pool hand-off: the event loop queues the work and wakes a pool thread
// (a futex wake, often a context switch on a small box), then runs a completion callback. But a read that
// misses both caches waits for the disk, and on the event loop that stalls every range of the store. So
// reads go synchronously while they are fast, and the gate watches the share of slow ones (slower than
// `slowUs` plus a cache hit's cost per key: about one disk read more than a cache would take), as a moving
// average. A single slow read proves little — on a busy box the thread may just have been descheduled —
// but when most are slow (the data no longer fits the caches) reads go to the thread pool, where disk
// reads overlap. Then one read in `probeEvery` still runs synchronously to measure, and reads return to
// the event loop once the slow share has fallen well below the threshold (hysteresis: no flapping).
// Pure: the caller measures and reports.

export interface SyncReadGateOptions {
  /** A synchronous read slower than this (µs), beyond `perKeyUs` a key, counts as slow (default 150). */
  slowUs?: number;
  /** What a key read from a cache may cost (µs, default 5). */
  perKeyUs?: number;
  /** Weight of the newest read in the slow share's moving average (default 1/16). */
  alpha?: number;
  /** Slow share above which reads go to the thread pool (default 0.5). */
  offAbove?: number;
  /** Slow share below which they return to the event loop (default 0.2). */
  onBelow?: number;
  /** While reads go to the thread pool, one read in this many runs synchronously as a probe (default 64). */
  probeEvery?: number;
}

export interface SyncReadStats {
  /** Keys read synchronously. */
  sync: number;
  /** Keys read through the thread pool because the gate said so. */
  async: number;
  /** Synchronous reads found slow. */
  slow: number;
  /** Times reads moved to the thread pool. */
  switchedOff: number;
}

export class SyncReadGate {
  private readonly slowUs: number;
  private readonly perKeyUs: number;
  private readonly alpha: number;
  private readonly offAbove: number;
  private readonly onBelow: number;
  private readonly probeEvery: number;
  private slowShare = 0;
  private off = false;
  private sinceProbe = 0;
  readonly stats: SyncReadStats = { sync: 0, async: 0, slow: 0, switchedOff: 0 };

  constructor(o: SyncReadGateOptions = {}) {
    this.slowUs = o.slowUs ?? 150;
    this.perKeyUs = o.perKeyUs ?? 5;
    this.alpha = o.alpha ?? 1 / 16;
    this.offAbove = o.offAbove ?? 0.5;
    this.onBelow = Math.min(this.offAbove, o.onBelow ?? 0.2);
    this.probeEvery = Math.max(1, o.probeEvery ?? 64);
  }

  /** Reads currently go through the thread pool (except probes). */
  get asynchronous(): boolean {
    return this.off;
  }

  /** Whether the next read of `keys` keys may run synchronously. */
  allow(keys = 1): boolean {
    if (!this.off) return true;
    if (++this.sinceProbe >= this.probeEvery) {
      this.sinceProbe = 0;
      return true;
    }
    this.stats.async += keys;
    return false;
  }

  /** Reports a synchronous read of `keys` keys that took `us` microseconds. */
  observe(us: number, keys = 1): void {
    this.stats.sync += keys;
    const slow = us > this.slowUs + this.perKeyUs * keys;
    if (slow) this.stats.slow++;
    this.slowShare += this.alpha * ((slow ? 1 : 0) - this.slowShare);
    if (!this.off && this.slowShare > this.offAbove) {
      this.off = true;
      this.sinceProbe = 0;
      this.stats.switchedOff++;
    } else if (this.off && this.slowShare < this.onBelow) {
      this.off = false;
    }
  }
}
