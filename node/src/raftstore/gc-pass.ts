// The store-wide GC pass (TiKV's GC worker: one per store, regions without garbage are skipped): one
// timer for every range replica of the store instead of one per range. Each pass asks every replica
// what a GC step would do (LocalStore.gcPlan: cheap, synchronous) and runs the step only where there is
// one, one range after the other. A hibernating range is touched only when its step needs no Raft
// proposal (a local scan wakes nothing) or when its one safe-point proposal is due — and at most
// `maxWakesPerPass` of those per pass, so thousands of ranges created together (splits) do not all
// wake in the same pass ten minutes later. A pass that leaves backlog comes back soon for it.
import type { Logger } from '../common/logger.js';

/** The part of a range replica the pass uses (RangeReplica: its LocalStore). */
export interface GcReplica {
  readonly rangeId: number;
  readonly store: {
    gcPlan(): { propose: number | undefined; scan: boolean; wakes: boolean };
    runGc(): Promise<number>;
    readonly gcBacklogged: boolean;
  };
}

export interface StoreGcPassOptions {
  /** Pause between passes (default 10 s; 0 = no timer, pass() can still be called). */
  intervalMs?: number;
  /** Hibernating ranges a pass may wake for their safe-point proposal (default 64); the rest wait. */
  maxWakesPerPass?: number;
  logger?: Logger;
}

export interface GcPassResult {
  /** Replicas asked. */
  visited: number;
  /** Replicas whose GC step ran. */
  ran: number;
  /** Of those, hibernating ranges woken by their safe-point proposal. */
  woken: number;
  /** Hibernating ranges whose proposal was deferred to a later pass (the wake cap). */
  deferred: number;
  /** Some range has backlog (the next pass comes soon). */
  backlog: boolean;
}

export class StoreGcPass {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private running: Promise<GcPassResult> | undefined;
  readonly stats = { passes: 0, steps: 0, wakes: 0, deferred: 0, errors: 0 };

  constructor(
    private readonly replicas: () => Iterable<GcReplica>,
    private readonly opts: StoreGcPassOptions = {},
  ) {}

  start(): void {
    const interval = this.opts.intervalMs ?? 10_000;
    if (interval > 0) this.schedule(interval);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    const interval = this.opts.intervalMs ?? 10_000;
    this.timer = setTimeout(() => {
      const t0 = performance.now();
      this.pass().then(
        (r) => {
          // Backlog: bounded steps follow each other with pauses as long as the pass (≤ 50 % duty cycle).
          this.schedule(r.backlog ? Math.min(Math.max(performance.now() - t0, 5), interval) : interval);
        },
        () => this.schedule(interval),
      );
    }, delayMs);
    this.timer.unref();
  }

  /** One pass over every replica (one at a time; a second call waits for the running one). */
  async pass(): Promise<GcPassResult> {
    while (this.running !== undefined) await this.running.catch(() => undefined);
    const p = this.passOnce();
    this.running = p;
    try {
      return await p;
    } finally {
      this.running = undefined;
    }
  }

  private async passOnce(): Promise<GcPassResult> {
    const cap = this.opts.maxWakesPerPass ?? 64;
    const out: GcPassResult = { visited: 0, ran: 0, woken: 0, deferred: 0, backlog: false };
    this.stats.passes++;
    // A snapshot of the set: replicas opened or destroyed meanwhile are seen next pass.
    for (const r of [...this.replicas()]) {
      if (this.closed) break;
      out.visited++;
      const plan = r.store.gcPlan();
      if (plan.propose === undefined && !plan.scan) continue;
      if (plan.wakes) {
        if (out.woken >= cap) {
          out.deferred++;
          continue;
        }
        out.woken++;
      }
      out.ran++;
      try {
        await r.store.runGc();
      } catch (e) {
        // A closed replica (destroyed meanwhile) or a proposal that did not commit: tried again next pass.
        this.stats.errors++;
        this.opts.logger?.debug('gc step failed (retried next pass)', { range: r.rangeId, err: e instanceof Error ? e.message : String(e) });
      }
      if (r.store.gcBacklogged) out.backlog = true;
    }
    this.stats.steps += out.ran;
    this.stats.wakes += out.woken;
    // Deferred wakes wait for the next regular pass (not a quick one: the cap spreads them over time).
    this.stats.deferred += out.deferred;
    return out;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}
