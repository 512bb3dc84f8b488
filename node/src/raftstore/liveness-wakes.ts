// Staggered wake-ups after a store liveness change (raft-node.ts onLivenessChange): the quiesced
// ranges a change concerns are queued and woken at most `perTick` per store tick, each re-checked when
// its turn comes. Thousands of ranges then do not all wake (and campaign, and heartbeat every tick) in
// one tick — which stalled the loop, made the next liveness check fail and woke everything again — and
// when the store is back before a range's turn (a flap), that range sleeps on. A real failure wakes
// them all within a few ticks (10 000 ranges / 256 per tick ≈ 40 ticks).

export interface LivenessChange {
  down: readonly number[];
  up: readonly number[];
  restarted: readonly number[];
}

/** The part of a Peer the queue drives. */
export interface LivenessWakeTarget {
  readonly quiesced: boolean;
  readonly isLeader: boolean;
  /** Store id of the leader this replica knows (0 = none). */
  readonly leader: number;
  wakeLeaderDown(): void;
  /** Wakes a quiesced leader if the change gives it work; the reason, or undefined. */
  wakeLeaderOnLiveness(change: LivenessChange): string | undefined;
}

export class LivenessWakeQueue {
  private queue: Array<{ target: LivenessWakeTarget; change: LivenessChange | undefined }> = [];
  private head = 0;
  readonly stats = { queued: 0, woken: 0, skipped: 0 };

  constructor(private readonly perTick: number) {}

  /** A follower whose leader's store went down (`change` undefined), or a leader with a member on a changed store. */
  enqueue(target: LivenessWakeTarget, change?: LivenessChange): void {
    this.queue.push({ target, change });
    this.stats.queued++;
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  /**
   * Wakes up to `perTick` queued ranges that still need it: a follower whose leader's store is still
   * down (`isLive` says no), a leader the change still gives work. Returns how many woke.
   */
  drain(isLive: (store: number) => boolean): number {
    let woken = 0;
    while (woken < this.perTick && this.head < this.queue.length) {
      const { target: p, change } = this.queue[this.head++]!;
      let did = false;
      if (p.quiesced) {
        if (change === undefined) {
          if (!p.isLeader && p.leader !== 0 && !isLive(p.leader)) {
            p.wakeLeaderDown();
            did = true;
          }
        } else did = p.wakeLeaderOnLiveness(change) !== undefined;
      }
      if (did) woken++;
      else this.stats.skipped++;
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.stats.woken += woken;
    return woken;
  }
}
