// Client side of exactly-once (Raft thesis §6.3): one random client id per KvClient, a monotonically
// increasing seq per mutating request (kept across its retries), and first_unacked = the lowest seq still
// in flight, so the server may discard results the client can no longer ask for.
import { randomUUID } from 'node:crypto';

export class ClientSession {
  readonly clientId: string;
  private nextSeq = 1;
  private readonly inFlight = new Set<number>();

  constructor(clientId: string = randomUUID()) {
    this.clientId = clientId;
  }

  /** Allocates the seq of a new mutating request; it stays in flight until release(). */
  acquire(): number {
    const seq = this.nextSeq++;
    this.inFlight.add(seq);
    return seq;
  }

  /**
   * The request finished: acknowledged (`ok`), or abandoned for good. Its result may be forgotten —
   * except that until the server has acknowledged one request of this session it may not know the
   * session at all (e.g. the first request timed out before any Raft leader existed); abandoned seqs then
   * keep first_unacked at 1, because the server refuses an unknown session whose first_unacked > 1
   * (it cannot tell it from an expired one).
   */
  release(seq: number, ok = true): void {
    this.inFlight.delete(seq);
    if (ok) {
      this.confirmed = true;
      this.abandoned.clear();
    } else if (!this.confirmed) this.abandoned.add(seq);
  }

  private confirmed = false;
  private readonly abandoned = new Set<number>();

  /** Every seq below this is released and not held back as abandoned (only ever moves up). */
  private low = 1;

  /**
   * Lowest seq still awaited; when nothing is in flight, the next seq to be allocated. Amortised O(1):
   * seqs are never reused, so `low` only advances (it runs once per request on the hot path).
   */
  firstUnacked(): number {
    while (this.low < this.nextSeq && !this.inFlight.has(this.low) && !this.abandoned.has(this.low)) this.low++;
    return this.low;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** The wire header for (a retry of) request `seq`. */
  header(seq: number): { clientId: string; seq: number; firstUnacked: number } {
    return { clientId: this.clientId, seq, firstUnacked: this.firstUnacked() };
  }
}
