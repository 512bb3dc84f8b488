// The controller manager: leader election gates informers + workers; workers drain the work queue,
// calling reconcile() and turning its outcome into requeue decisions (errors.ts, one place).
import type { Logger } from '../../../node/src/common/logger.js';
import { requeueDecision, toOperatorError } from '../errors.js';
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
}

export class Manager {
  readonly queue: WorkQueue;
  private running = false;
  private synced = false;
  private workers: Promise<void>[] = [];
  private resyncTimer?: NodeJS.Timeout;
  private depthTimer?: NodeJS.Timeout;

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
    await source.start();
    this.synced = true;
    for (const c of cache.listClusters()) this.queue.add(`${c.metadata.namespace}/${c.metadata.name}`);
    const n = this.opts.workers ?? 2;
    for (let i = 0; i < n; i++) this.workers.push(this.work());
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

  private async work(): Promise<void> {
    const { logger, metrics } = this.opts;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      metrics.queueDepth.set(this.queue.depth);
      const end = metrics.reconcileDuration.startTimer();
      try {
        const r = await this.opts.reconcile(key);
        this.queue.forget(key);
        if (r.requeueAfterMs !== undefined) {
          this.queue.addAfter(key, r.requeueAfterMs);
          metrics.reconcileTotal.inc({ result: 'requeue' });
        } else metrics.reconcileTotal.inc({ result: 'success' });
      } catch (e) {
        const err = toOperatorError(e);
        const d = requeueDecision(err);
        metrics.reconcileTotal.inc({ result: 'error' });
        metrics.reconcileErrors.inc({ code: err.code });
        let delay: number | undefined;
        if (d.requeue === 'backoff') {
          delay = this.queue.addRateLimited(key);
          metrics.queueRetries.inc();
        } else if (d.requeue === 'after') {
          delay = d.afterMs;
          this.queue.addAfter(key, d.afterMs);
          metrics.queueRetries.inc();
        } else this.queue.forget(key);
        logger.warn('reconcile failed', { cluster: key, code: err.code, http: err.httpStatus, err: err.message, retryInMs: delay ?? null });
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }
}
