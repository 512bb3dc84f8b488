// A work queue in the manner of client-go's: keys (namespace/name) are deduplicated while waiting,
// one key is never processed by two workers at once (an add during processing marks it dirty and it is
// queued again when done), and failures requeue with per-key exponential backoff.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly waiting = new Set<string>(); // in `queue`
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>(); // added while processing
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly base: number;
  private readonly max: number;
  private readonly clock: Clock;

  constructor(opts: WorkQueueOptions = {}) {
    this.base = opts.baseDelayMs ?? 200;
    this.max = opts.maxDelayMs ?? 60_000;
    this.clock = opts.clock ?? realClock;
  }

  /** Keys waiting (not counting the ones being processed or delayed). */
  get depth(): number {
    return this.queue.length;
  }
  get delayedCount(): number {
    return this.delayed.size;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    const g = this.getters.shift();
    if (g) {
      this.waiting.delete(key);
      this.processing.add(key);
      g(key);
    } else this.queue.push(key);
  }

  /** Adds the key after `ms` (an earlier pending delayed add wins). */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const cur = this.delayed.get(key);
    if (cur && cur.at <= at) return;
    if (cur) this.clock.clearTimeout(cur.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Backoff for the key's consecutive failures: base·2^(n−1), capped. */
  nextDelay(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return Math.min(this.max, this.base * 2 ** Math.min(n - 1, 30));
  }

  addRateLimited(key: string): number {
    const d = this.nextDelay(key);
    this.addAfter(key, d);
    return d;
  }

  /** Clears the key's failure count (after a successful pass). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key to process, or undefined once shut down. Call done(key) after processing. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.waiting.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.handle);
    this.delayed.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }
}
