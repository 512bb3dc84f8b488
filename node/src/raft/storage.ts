import {
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  emptySnapshot,
} from './types.js';
import { CompactedError, RaftPanic, SnapshotOutOfDateError, UnavailableError } from './errors.js';
import { limitSize } from './util.js';

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/**
 * Read side of the durable Raft log, implemented by the host (e.g. over LevelDB).
 * Raft only reads through this interface; the host writes (after each Ready).
 *
 * Contract: entries in [firstIndex, lastIndex] are available; term(firstIndex-1) must still
 * work (it is the term of the last compacted entry / snapshot). Out-of-range requests throw
 * CompactedError (below) or UnavailableError (above). `snapshot()` may throw
 * SnapshotTemporarilyUnavailableError; raft retries later.
 */
export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi); at most maxSize bytes but always at least one entry if any. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  term(index: number): number;
  lastIndex(): number;
  firstIndex(): number;
  snapshot(): Snapshot;
}

function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
}

/**
 * In-memory Storage (like etcd's MemoryStorage). Used by tests and the simulator, and usable
 * by a host as the "cache" in front of its disk.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  // ents[0] is a dummy entry holding the index/term of the snapshot (or 0/0).
  private ents: Entry[] = [{ term: 0, index: 0, type: 0, data: new Uint8Array(0) }];

  /** Convenience for tests/bootstrap: a storage whose snapshot carries the given voters/learners. */
  static withConfState(voters: number[], learners: number[] = []): MemoryStorage {
    const s = new MemoryStorage();
    s.snap.metadata.confState = { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
    return s;
  }

  /**
   * Storage of an initial member of a new group: an (empty) snapshot at index 1, term 1 that
   * carries the initial configuration. Members added later start from an empty storage and
   * receive a snapshot from the leader; since the log starts after index 1, the leader can
   * never replay a log that lacks the initial configuration to them.
   */
  static bootstrap(voters: number[], learners: number[] = []): MemoryStorage {
    const s = new MemoryStorage();
    s.applySnapshot({
      metadata: { index: 1, term: 1, confState: { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false } },
      data: new Uint8Array(0),
    });
    s.setHardState({ term: 1, vote: 0, commit: 1 });
    return s;
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new RaftPanic(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    if (this.ents.length === 1) throw new UnavailableError();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError();
    if (i - offset >= this.ents.length) throw new UnavailableError();
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replace the whole log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapshotOutOfDateError();
    this.snap = { metadata: { ...snap.metadata, confState: cloneConfState(snap.metadata.confState) }, data: snap.data };
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: 0, data: new Uint8Array(0) }];
  }

  /**
   * Record a snapshot of the applied state machine at index i (≤ applied). Does not compact;
   * call compact() separately (typically keeping some entries for slow followers).
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapshotOutOfDateError();
    const offset = this.ents[0]!.index;
    if (i > this.lastIndex()) throw new RaftPanic(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = {
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: cloneConfState(cs ?? this.snap.metadata.confState),
      },
      data,
    };
    return this.snap;
  }

  /** Discard entries before compactIndex; the entry at compactIndex becomes the dummy. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new CompactedError();
    if (compactIndex > this.lastIndex()) throw new RaftPanic(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const dummy: Entry = { index: this.ents[i]!.index, term: this.ents[i]!.term, type: 0, data: new Uint8Array(0) };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Append entries (from a Ready), truncating any conflicting suffix. Entries must be
   * contiguous with the existing log (index ≤ lastIndex+1).
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all already compacted
    let es = entries as Entry[];
    if (first > es[0]!.index) es = es.slice(first - es[0]!.index);
    const offset = es[0]!.index - this.ents[0]!.index;
    if (this.ents.length > offset) {
      this.ents = this.ents.slice(0, offset).concat(es);
    } else if (this.ents.length === offset) {
      for (const e of es) this.ents.push(e);
    } else {
      throw new RaftPanic(`missing log entry [last: ${this.lastIndex()}, append at: ${es[0]!.index}]`);
    }
  }

  /** Deep-enough copy (entries are immutable by convention) — the simulator's "disk image". */
  clone(): MemoryStorage {
    const s = new MemoryStorage();
    s.hardState = { ...this.hardState };
    s.snap = this.snap;
    s.ents = this.ents.slice();
    return s;
  }
}
