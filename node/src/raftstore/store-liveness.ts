// Store-level liveness: which peer stores this store has heard from recently. Quiesced ranges send no
// heartbeats, so Raft alone would never notice a dead leader; instead every store pings each peer store
// every quarter election timeout when it sent it nothing else (one message per store pair, not per range — CockroachDB's
// node liveness / TiKV's store heartbeat idea), and a change here wakes the affected quiesced ranges.
// Pure: the caller passes the time (monotonic milliseconds) and acts on the returned transitions.

export interface LivenessChanges {
  /** Stores silent for longer than the timeout since the last check. */
  down: number[];
  /** Stores heard again after being down, or restarted (a new boot id). */
  up: number[];
  /** Of `up`: the stores that restarted (a new boot id) — optional so a plain `{ down, up }` still reads. */
  restarted?: number[];
}

interface Entry {
  lastHeard: number;
  boot: number;
  down: boolean;
  /** A new boot id was seen since the last check. */
  restarted: boolean;
}

export interface StoreLivenessOptions {
  /**
   * How often check() is meant to run (the store's tick). A longer gap between two checks is this
   * store's own pause (a busy or stalled event loop): frames that arrived meanwhile are still queued
   * behind the timer that runs check(), so that pause is not counted as the peers' silence. Without it
   * one long stall made every peer look dead at once and woke every quiesced range (a wake-up storm
   * that stalled the loop again). Undefined: no credit.
   */
  checkIntervalMs?: number;
}

export class StoreLiveness {
  private readonly stores = new Map<number, Entry>();
  private lastCheck: number;
  /** Checks whose down decisions were deferred because this store itself had paused (metrics, tests). */
  pausesForgiven = 0;
  /** The longest such pause (ms) since start. */
  longestPauseMs = 0;

  /** `timeoutMs`: silence after which a store counts as down; `startedAt`: a grace start for unknown stores. */
  constructor(
    private readonly timeoutMs: number,
    private readonly startedAt: number,
    private readonly opts: StoreLivenessOptions = {},
  ) {
    this.lastCheck = startedAt;
  }

  /** Any admitted frame from `store` (boot: its process's boot id, 0 = unknown). */
  heard(store: number, boot: number, now: number): void {
    const e = this.stores.get(store);
    if (e === undefined) {
      this.stores.set(store, { lastHeard: now, boot, down: false, restarted: false });
      return;
    }
    e.lastHeard = now;
    if (boot !== 0 && e.boot !== 0 && boot !== e.boot) e.restarted = true;
    if (boot !== 0) e.boot = boot;
  }

  /**
   * Whether `store` counts as live: heard within the timeout, or never heard while this store is younger
   * than the timeout (a starting store gives its peers time to say hello).
   */
  live(store: number, now: number): boolean {
    const e = this.stores.get(store);
    if (e === undefined) return now - this.startedAt <= this.timeoutMs;
    return !e.down && now - e.lastHeard <= this.timeoutMs;
  }

  /** Transitions since the last call; `known` adds stores never heard from (so they can go down too). */
  check(now: number, known: Iterable<number> = []): LivenessChanges {
    for (const id of known) if (!this.stores.has(id)) this.stores.set(id, { lastHeard: this.startedAt, boot: 0, down: false, restarted: false });
    const down: number[] = [];
    const up: number[] = [];
    const restarted: number[] = [];
    // This store's own pause since the last check (beyond twice the check interval) is not silence of
    // the peers: their frames are still queued. A really dead store is declared down at a later check.
    const interval = this.opts.checkIntervalMs;
    const pause = interval === undefined ? 0 : Math.max(0, now - this.lastCheck - 2 * interval);
    this.lastCheck = now;
    if (pause > 0) {
      this.pausesForgiven++;
      this.longestPauseMs = Math.max(this.longestPauseMs, pause);
    }
    for (const [id, e] of this.stores) {
      const silent = now - pause - e.lastHeard > this.timeoutMs;
      if (silent && !e.down) {
        e.down = true;
        down.push(id);
      } else if (!silent && (e.down || e.restarted)) {
        e.down = false;
        up.push(id);
        if (e.restarted) restarted.push(id);
      }
      e.restarted = false;
    }
    return restarted.length > 0 ? { down, up, restarted } : { down, up };
  }

  /** Stores currently counted down (metrics, status). */
  downStores(): number[] {
    return [...this.stores].filter(([, e]) => e.down).map(([id]) => id);
  }

  forget(store: number): void {
    this.stores.delete(store);
  }
}
