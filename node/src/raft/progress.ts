import { Inflights } from './inflights.js';
import { ProgressState } from './types.js';

/** Source of Progress generations: unique within the process (see Message.gen). */
let nextGen = 1;

/**
 * The leader's view of one follower (etcd tracker.Progress).
 *  - Probe: send at most one append per heartbeat interval until we learn the match point.
 *  - Replicate: optimistically pipeline appends (next advanced on send), bounded by inflights.
 *  - Snapshot: a snapshot is in flight; no appends until the host reports its status.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** Index of the snapshot in flight (Snapshot state). */
  pendingSnapshot = 0;
  /** Heard from recently (reset by check-quorum each election timeout). */
  recentActive = false;
  /** Lease-clock stamp of the latest heartbeat or append this peer acknowledged, taken when it was sent (lease). */
  leaseAck = Number.MIN_SAFE_INTEGER;
  /** In Probe state: an append was sent and we wait for its answer (or a heartbeat response). */
  probeSent = false;
  /** An append went to this peer since the leader's last heartbeat tick (skipHeartbeatsAfterAppends). */
  appSentSinceBeat = false;
  isLearner: boolean;
  inflights: Inflights;
  /** This Progress's generation (Message.gen): a re-created Progress never answers to an old one's. */
  gen: number;

  constructor(next: number, inflights: Inflights, isLearner: boolean, recentActive = false) {
    this.gen = nextGen++;
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
    this.recentActive = recentActive;
  }

  clone(): Progress {
    const p = new Progress(this.next, this.inflights.clone(), this.isLearner, this.recentActive);
    p.match = this.match;
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.probeSent = this.probeSent;
    p.appSentSinceBeat = this.appSentSinceBeat;
    p.leaseAck = this.leaseAck;
    p.gen = this.gen;
    return p;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume probing right after it (if it wasn't rejected).
    if (this.state === ProgressState.Snapshot) {
      const pendingSnapshot = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Acknowledged up to n. Returns false if the ack is stale. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** Pipelining: entries up to n were sent, assume they'll arrive. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * The follower rejected an append at index `rejected`; `matchHint` is the leader's best guess
   * of the largest possibly-matching index. Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Stale if we already know it matched beyond `rejected`.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probe/Snapshot: only the response to the latest probe (next-1) is meaningful.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    if (this.next <= this.match) this.next = this.match + 1;
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }
}
