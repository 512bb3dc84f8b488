import type { Entry, Snapshot } from './types.js';
import { RaftPanic } from './errors.js';

/**
 * Entries (and possibly an incoming snapshot) not yet persisted by the host. Index
 * `offset` is the first unstable entry; everything below it is in Storage.
 */
export class Unstable {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];
  /**
   * Entries in [offset, offsetInProgress) were handed to the host in a Ready that is being persisted
   * asynchronously (RawNode.advanceAsync): not handed out again, not durable until stableTo. Equal to
   * `offset` whenever the host persists synchronously (advance).
   */
  offsetInProgress: number;
  constructor(public offset: number) {
    this.offsetInProgress = offset;
  }

  /** Entries not yet handed to the host for persisting. */
  entriesToPersist(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  hasEntriesToPersist(): boolean {
    return this.offsetInProgress < this.offset + this.entries.length;
  }

  /** Entries up to (i, t) are being persisted — unless they were replaced meanwhile (term check). */
  acceptInProgress(i: number, t: number): void {
    if (this.maybeTerm(i) === t && i >= this.offsetInProgress) this.offsetInProgress = i + 1;
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** Entries up to (i, t) are now durable. The term check guards against a truncation in between. */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(i + 1 - this.offset);
      this.offset = i + 1;
      this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
    }
  }

  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
  }

  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0]!.index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replace all unstable entries; storage entries at ≥ after are superseded too.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.slice(this.offset, after).concat(ents);
    }
    // Replaced entries being persisted are handed out again (their write's stableTo fails its term check).
    this.offsetInProgress = Math.max(this.offset, Math.min(this.offsetInProgress, after));
  }

  slice(lo: number, hi: number): Entry[] {
    const upper = this.offset + this.entries.length;
    if (lo > hi || lo < this.offset || hi > upper) {
      throw new RaftPanic(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
