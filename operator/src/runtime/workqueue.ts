// A work queue in the manner of client-go's: keys (namespace/name) are deduplicated while waiting,
// one key is never processed by two workers at once (an add during processing marks it dirty and it is
// queued again when done), and failures requeue with per-key exponential backoff.
//
// Unlike client-go, a failing key is *held* for its backoff: watch events (a child's status, the
// operator's own status write, a resync) do not bring it back before the backoff expires — they are
// folded into the retry that is already scheduled. Without the hold, any event stream re-ran a
// permanently failing pass as fast as events came (issue 11: ~20 passes/s while the log said
// "retryInMs 60000"). Only addUrgent (a spec change by a user, who may be fixing the cause) skips it.

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
  /** key → time before which the key is not processed again (set by backOff, cleared by forget). */
  private readonly holds = new Map<string, number>();
  /** Keys that got an urgent add while being processed. */
  private readonly urgent = new Set<string>();
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

  /** Adds the key now, or — while it is held by a backoff — at the end of the backoff. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      // Decided in done(): the pass may still fail and hold the key.
      this.dirty.add(key);
      return;
    }
    const until = this.heldUntil(key);
    if (until !== undefined) {
      this.schedule(key, until);
      return;
    }
    this.enqueue(key);
  }

  /** Adds the key now even if it is held (the user changed the spec: the cause may be fixed). */
  addUrgent(key: string): void {
    if (this.shuttingDown) return;
    this.holds.delete(key);
    // Being processed: the pass may fail and hold the key again; done() lifts that hold.
    if (this.processing.has(key)) this.urgent.add(key);
    this.add(key);
  }

  /** True while a backoff holds the key. */
  isHeld(key: string): boolean {
    return this.heldUntil(key) !== undefined;
  }

  private heldUntil(key: string): number | undefined {
    const until = this.holds.get(key);
    if (until === undefined) return undefined;
    if (until <= this.clock.now()) {
      this.holds.delete(key);
      return undefined;
    }
    return until;
  }

  private enqueue(key: string): void {
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    const g = this.getters.shift();
    if (g) {
      this.waiting.delete(key);
      this.processing.add(key);
      g(key);
    } else this.queue.push(key);
  }

  /** Adds the key after `ms` (an earlier pending delayed add wins; never before a backoff ends). */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    const at = Math.max(this.clock.now() + ms, this.heldUntil(key) ?? 0);
    if (at <= this.clock.now()) return this.add(key);
    this.schedule(key, at);
  }

  /**
   * Holds the key for `ms` (a failed pass): it is processed again once, after `ms`, however many
   * events arrive meanwhile. A pending earlier delayed add is pushed back to the end of the hold.
   */
  backOff(key: string, ms: number): void {
    if (this.shuttingDown) return;
    const until = this.clock.now() + Math.max(0, ms);
    this.holds.set(key, until);
    const cur = this.delayed.get(key);
    if (cur && cur.at < until) {
      this.clock.clearTimeout(cur.handle);
      this.delayed.delete(key);
    }
    this.schedule(key, until);
  }

  /**
   * Holds the key for `ms` without scheduling a retry (a failure that is not retried: NotFound,
   * InvalidSpec); events in the meantime are folded into one pass at the end of the hold.
   */
  hold(key: string, ms: number): void {
    if (this.shuttingDown) return;
    this.holds.set(key, this.clock.now() + Math.max(0, ms));
  }

  /** One pending timer per key, at the earliest requested time. */
  private schedule(key: string, at: number): void {
    const cur = this.delayed.get(key);
    if (cur && cur.at <= at) return;
    if (cur) this.clock.clearTimeout(cur.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      // The hold has run out (timers may fire a hair early: the timer itself ends it).
      if ((this.holds.get(key) ?? 0) <= at) this.holds.delete(key);
      this.add(key);
    }, Math.max(0, at - this.clock.now()));
    this.delayed.set(key, { at, handle });
  }

  /** Backoff for the key's consecutive failures: base·2^(n−1), capped. */
  nextDelay(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return Math.min(this.max, this.base * 2 ** Math.min(n - 1, 30));
  }

  /** Holds the key for its next exponential backoff delay; returns the delay. */
  addRateLimited(key: string): number {
    const d = this.nextDelay(key);
    this.backOff(key, d);
    return d;
  }

  /** Clears the key's failure count and hold (after a successful pass). */
  forget(key: string): void {
    this.failures.delete(key);
    this.holds.delete(key);
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
    if (this.urgent.delete(key)) this.holds.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.handle);
    this.delayed.clear();
    this.holds.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }
}
