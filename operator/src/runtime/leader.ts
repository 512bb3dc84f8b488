// Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection semantics):
// acquire when the lease is free, ours, or expired (renewTime + leaseDuration < now, by our clock);
// renew every retryPeriod; if renewal has not succeeded for renewDeadline, leadership is lost and
// onStoppedLeading runs (main exits so a restarted pod starts clean). Writes use the lease's
// resourceVersion, so two candidates can never both succeed in taking it.
//
// Every attempt has a deadline (attemptTimeoutMs): a Lease call that never returns (API server hung,
// connection black-holed) must not stall the loop, or a leader would never notice that its lease is
// no longer renewed — and would keep reconciling next to the successor that took the expired lease.
import type { Logger } from '../../../node/src/common/logger.js';
import { TransientError, toOperatorError } from '../errors.js';

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions?: number;
  resourceVersion?: string;
}

/** The Lease API, reduced to what the elector needs (fake in unit tests, CoordinationV1Api in main). */
export interface LeaseApi {
  get(): Promise<LeaseRecord | undefined>;
  create(r: LeaseRecord): Promise<LeaseRecord>;
  /** Replaces with optimistic concurrency on r.resourceVersion; throws (409) on conflict. */
  replace(r: LeaseRecord): Promise<LeaseRecord>;
}

export interface LeaderElectorOptions {
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Deadline of one acquire/renew attempt (default: half the renew deadline, at least the retry period). */
  attemptTimeoutMs?: number;
  logger: Logger;
  now?: () => number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private lastRenew = 0;
  private observed?: LeaseRecord;
  private observedAt = 0;
  private timer?: NodeJS.Timeout;
  private lastLeader?: string;
  private readonly leaseMs: number;
  private readonly deadlineMs: number;
  private readonly retryMs: number;
  private readonly attemptMs: number;
  private readonly now: () => number;
  /** When the loop last finished an attempt (or started): /healthz checks that it keeps going. */
  private lastLoopAt = 0;

  constructor(
    private readonly api: LeaseApi,
    private readonly opts: LeaderElectorOptions,
  ) {
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.deadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    this.attemptMs = opts.attemptTimeoutMs ?? Math.max(this.retryMs, Math.floor(this.deadlineMs / 2));
    this.now = opts.now ?? Date.now;
  }

  /** Why leader election is not healthy: the loop stopped turning although it was not stopped. */
  healthProblems(now = this.now()): string[] {
    if (this.stopped || this.lastLoopAt === 0) return [];
    const late = now - this.lastLoopAt;
    // One attempt (bounded by its deadline) plus the pause, with room for a busy event loop.
    return late > 2 * (this.attemptMs + this.retryMs) + 5_000 ? [`leader election loop has not run for ${Math.round(late / 1000)}s`] : [];
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.lastLoopAt = this.now();
    void this.loop();
  }

  /** Stops; a leader releases the lease (holder cleared) so a successor need not wait for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      try {
        const cur = await this.api.get();
        if (cur?.holderIdentity === this.opts.identity) {
          await this.api.replace({ ...cur, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new Date(this.now()) });
        }
      } catch (e) {
        this.opts.logger.warn('releasing the lease failed', { err: String(e) });
      }
      this.opts.onStoppedLeading();
    }
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.attempt();
    } catch (e) {
      this.opts.logger.debug('lease attempt failed', { err: toOperatorError(e, 'lease').message });
    }
    if (this.stopped) return;
    const t = this.now();
    this.lastLoopAt = t;
    if (ok) {
      this.lastRenew = t;
      if (!this.leading) {
        this.leading = true;
        this.opts.logger.info('became leader', { identity: this.opts.identity });
        this.opts.onStartedLeading();
      }
    } else if (this.leading && t - this.lastRenew > this.deadlineMs) {
      this.leading = false;
      this.opts.logger.error('lost leadership: lease not renewed within the deadline', { identity: this.opts.identity });
      this.stopped = true;
      this.opts.onStoppedLeading();
      return;
    }
    this.timer = setTimeout(() => void this.loop(), this.retryMs);
    this.timer.unref?.();
  }

  /** tryAcquireOrRenew with the attempt deadline (the late call's result is ignored). */
  private attempt(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TransientError(`lease: no answer within ${this.attemptMs} ms`)), this.attemptMs);
      timer.unref?.();
    });
    return Promise.race([this.tryAcquireOrRenew(), deadline]).finally(() => clearTimeout(timer));
  }

  /** One attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const me = this.opts.identity;
    const now = new Date(this.now());
    const durationS = Math.ceil(this.leaseMs / 1000);
    const cur = await this.api.get();
    if (!cur) {
      await this.api.create({ holderIdentity: me, leaseDurationSeconds: durationS, acquireTime: now, renewTime: now, leaseTransitions: 0 });
      this.noteLeader(me);
      return true;
    }
    // Expiry is judged by when *we* last saw the record change, not by the holder's clock.
    if (!this.observed || this.observed.resourceVersion !== cur.resourceVersion) {
      this.observed = cur;
      this.observedAt = this.now();
    }
    const holder = cur.holderIdentity ?? '';
    if (holder) this.noteLeader(holder);
    const expired = this.observedAt + (cur.leaseDurationSeconds ?? durationS) * 1000 < this.now();
    if (holder && holder !== me && !expired) return false;
    const taking = holder !== me;
    const next: LeaseRecord = {
      ...cur,
      holderIdentity: me,
      leaseDurationSeconds: durationS,
      renewTime: now,
      acquireTime: taking ? now : cur.acquireTime ?? now,
      leaseTransitions: (cur.leaseTransitions ?? 0) + (taking ? 1 : 0),
    };
    const written = await this.api.replace(next);
    this.observed = written;
    this.observedAt = this.now();
    this.noteLeader(me);
    return true;
  }

  private noteLeader(id: string): void {
    if (id !== this.lastLeader) {
      this.lastLeader = id;
      this.opts.onNewLeader?.(id);
    }
  }
}
