// The controller manager: leader election gates informers + workers; workers drain the work queue,
// calling reconcile() and turning its outcome into requeue decisions (errors.ts, one place). A failed
// pass holds its key for the decided delay (WorkQueue.backOff): watch events cannot shorten it.
import type { Logger } from '../../../node/src/common/logger.js';
import { SLOW_RETRY_MS, requeueDecision, toOperatorError } from '../errors.js';
import type { ClusterCache } from './informers.js';
import type { ReconcileResult } from '../controller/reconcile.js';
import type { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './workqueue.js';

export interface Source {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ManagerOptions {
  logger: Logger;
  metrics: OperatorMetrics;
  workers?: number;
  /** Every key is reconciled at least this often (drift in objects that are not watched). */
  resyncMs?: number;
  reconcile: (key: string) => Promise<ReconcileResult>;
  /** /healthz fails when one pass runs longer than this (a hung call without deadline). */
  stuckAfterMs?: number;
  /** /healthz fails when the informers have not synced after this long. */
  syncTimeoutMs?: number;
  now?: () => number;
}

export class Manager {
  readonly queue: WorkQueue;
  private running = false;
  private synced = false;
  private workers: Promise<void>[] = [];
  private resyncTimer?: NodeJS.Timeout;
  private depthTimer?: NodeJS.Timeout;
  private startedAt = 0;
  /** Passes in flight: key → start time. */
  private readonly busy = new Map<string, number>();
  private workersExited = 0;

  constructor(
    private readonly opts: ManagerOptions,
    queue?: WorkQueue,
  ) {
    this.queue = queue ?? new WorkQueue({ baseDelayMs: 200, maxDelayMs: 60_000 });
  }

  get isRunning(): boolean {
    return this.running;
  }
  get isSynced(): boolean {
    return this.synced;
  }

  /** Starts the source (informers), waits for its initial lists, then the workers. */
  async start(source: Source, cache: ClusterCache): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.now();
    await source.start();
    this.synced = true;
    for (const c of cache.listClusters()) this.queue.add(`${c.metadata.namespace}/${c.metadata.name}`);
    const n = this.opts.workers ?? 2;
    for (let i = 0; i < n; i++)
      this.workers.push(
        this.work().finally(() => {
          if (this.running) this.workersExited++;
        }),
      );
    const resync = this.opts.resyncMs ?? 300_000;
    this.resyncTimer = setInterval(() => {
      for (const c of cache.listClusters()) this.queue.add(`${c.metadata.namespace}/${c.metadata.name}`);
      this.opts.metrics.clusters.set(cache.listClusters().length);
    }, resync);
    this.resyncTimer.unref();
    this.depthTimer = setInterval(() => this.opts.metrics.queueDepth.set(this.queue.depth), 1000);
    this.depthTimer.unref();
    this.opts.metrics.clusters.set(cache.listClusters().length);
  }

  async stop(source?: Source): Promise<void> {
    this.running = false;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.depthTimer) clearInterval(this.depthTimer);
    this.queue.shutDown();
    await Promise.all(this.workers);
    this.workers = [];
    if (source) await source.stop();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Why the work loop is not healthy (empty = healthy); only meaningful while running. */
  healthProblems(now = this.now()): string[] {
    if (!this.running) return [];
    const out: string[] = [];
    const syncTimeout = this.opts.syncTimeoutMs ?? 120_000;
    if (!this.synced && now - this.startedAt > syncTimeout) out.push(`informers not synced ${Math.round((now - this.startedAt) / 1000)}s after start`);
    const stuck = this.opts.stuckAfterMs ?? 300_000;
    for (const [key, since] of this.busy) if (now - since > stuck) out.push(`reconcile of ${key} running for ${Math.round((now - since) / 1000)}s`);
    if (this.workersExited > 0) out.push(`${this.workersExited} worker loop(s) exited`);
    return out;
  }

  private async work(): Promise<void> {
    const { metrics } = this.opts;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      metrics.queueDepth.set(this.queue.depth);
      const end = metrics.reconcileDuration.startTimer();
      this.busy.set(key, this.now());
      try {
        const r = await this.opts.reconcile(key);
        if (r.stepError) this.failed(key, r.stepError);
        else {
          this.queue.forget(key);
          if (r.requeueAfterMs !== undefined) {
            this.queue.addAfter(key, r.requeueAfterMs);
            metrics.reconcileTotal.inc({ result: 'requeue' });
          } else metrics.reconcileTotal.inc({ result: 'success' });
        }
      } catch (e) {
        this.failed(key, e);
      } finally {
        this.busy.delete(key);
        end();
        // After failed(): an event that arrived during the pass is folded into the backoff.
        this.queue.done(key);
      }
    }
  }

  /** A failed pass: the key is held for the delay errors.ts decides, whatever events come meanwhile. */
  private failed(key: string, e: unknown): void {
    const { logger, metrics } = this.opts;
    const err = toOperatorError(e);
    const d = requeueDecision(err);
    metrics.reconcileTotal.inc({ result: 'error' });
    metrics.reconcileErrors.inc({ code: err.code });
    let delay: number | undefined;
    if (d.requeue === 'backoff') {
      delay = Math.max(this.queue.nextDelay(key), d.minMs ?? 0);
      this.queue.backOff(key, delay);
      metrics.queueRetries.inc();
    } else if (d.requeue === 'after') {
      delay = d.afterMs;
      this.queue.backOff(key, d.afterMs);
      metrics.queueRetries.inc();
    } else {
      // Not retried — but events must not re-run it at their own pace either; a spec change still does.
      this.queue.forget(key);
      this.queue.hold(key, SLOW_RETRY_MS);
    }
    logger.warn('reconcile failed', { cluster: key, code: err.code, http: err.httpStatus, err: err.message, retryInMs: delay ?? null });
  }
}
