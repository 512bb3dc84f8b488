// RaftLog, Unstable and MemoryStorage (etcd log_test.go, log_unstable_test.go, storage_test.go).
import { strict as assert } from 'node:assert';
import {
  CompactedError,
  type Entry,
  MemoryStorage,
  RaftLog,
  RaftPanic,
  SnapshotOutOfDateError,
  UnavailableError,
  Unstable,
  EMPTY,
} from '../../../node/src/raft/index.js';

const e = (index: number, term: number, size = 0): Entry => ({ index, term, type: 0, data: new Uint8Array(size) });
const ids = (es: Entry[]): [number, number][] => es.map((x) => [x.index, x.term]);

function logWith(...entries: Entry[]): RaftLog {
  const l = new RaftLog(new MemoryStorage());
  l.append(entries);
  return l;
}

describe('raft log', () => {
  const prev = [e(1, 1), e(2, 2), e(3, 3)];
  const conflictTable: [Entry[], number][] = [
    [[], 0],
    [[e(1, 1), e(2, 2), e(3, 3)], 0], // no conflict
    [[e(2, 2), e(3, 3)], 0],
    [[e(3, 3)], 0],
    [[e(1, 1), e(2, 2), e(3, 3), e(4, 4), e(5, 4)], 4], // new entries
    [[e(3, 3), e(4, 4), e(5, 4)], 4],
    [[e(4, 4), e(5, 4)], 4],
    [[e(1, 4), e(2, 4)], 1], // conflicts with existing
    [[e(2, 1), e(3, 4), e(4, 4)], 2],
    [[e(3, 1), e(4, 2), e(5, 4), e(6, 4)], 3],
  ];
  conflictTable.forEach(([ents, want], i) => {
    it(`findConflict case ${i}`, () => {
      assert.equal(logWith(...prev).findConflict(ents), want);
    });
  });

  it('findConflictByTerm returns the last index with term ≤ the given term', () => {
    const l = logWith(e(1, 1), e(2, 1), e(3, 2), e(4, 2), e(5, 5));
    assert.deepEqual(l.findConflictByTerm(5, 4), [4, 2]);
    assert.deepEqual(l.findConflictByTerm(5, 5), [5, 5]);
    assert.deepEqual(l.findConflictByTerm(4, 1), [2, 1]);
    assert.deepEqual(l.findConflictByTerm(5, 0), [0, 0]);
  });

  it('isUpToDate compares last term, then last index (§5.4.1)', () => {
    const l = logWith(e(1, 1), e(2, 2), e(3, 3));
    assert.equal(l.isUpToDate(2, 4), true);
    assert.equal(l.isUpToDate(3, 3), true);
    assert.equal(l.isUpToDate(4, 3), true);
    assert.equal(l.isUpToDate(2, 3), false);
    assert.equal(l.isUpToDate(9, 2), false);
  });

  it('maybeAppend: match, conflict-free append, truncate conflicts, and commit clamp', () => {
    const l = logWith(e(1, 1), e(2, 2), e(3, 3));
    l.committed = 1;
    // mismatched previous entry
    assert.equal(l.maybeAppend(3, 2, 3, [e(4, 4)]), undefined);
    // append new entries and commit up to the last new index
    assert.equal(l.maybeAppend(3, 3, 10, [e(4, 4), e(5, 4)]), 5);
    assert.equal(l.committed, 5);
    // conflict after committed: truncated
    const l2 = logWith(e(1, 1), e(2, 2), e(3, 3));
    assert.equal(l2.maybeAppend(1, 1, 1, [e(2, 4)]), 2);
    assert.deepEqual(ids(l2.allEntries()), [
      [1, 1],
      [2, 4],
    ]);
    // conflict with a committed entry is a bug
    const l3 = logWith(e(1, 1), e(2, 2), e(3, 3));
    l3.committed = 3;
    assert.throws(() => l3.maybeAppend(1, 1, 3, [e(2, 4)]), RaftPanic);
  });

  it('commit never goes backwards or beyond the last index', () => {
    const l = logWith(e(1, 1), e(2, 2));
    l.commitTo(2);
    l.commitTo(1);
    assert.equal(l.committed, 2);
    assert.throws(() => l.commitTo(3), RaftPanic);
  });

  it('maybeCommit only commits entries of the given term', () => {
    const l = logWith(e(1, 1), e(2, 2));
    assert.equal(l.maybeCommit(2, 1), false);
    assert.equal(l.maybeCommit(2, 2), true);
    assert.equal(l.committed, 2);
  });

  it('nextCommittedEnts returns committed, unapplied entries (including unstable ones)', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(2, 1)]);
    const l = new RaftLog(s);
    l.append([e(3, 1), e(4, 1)]);
    l.commitTo(3);
    l.appliedTo(1);
    assert.deepEqual(ids(l.nextCommittedEnts()), [
      [2, 1],
      [3, 1],
    ]);
    assert.equal(l.hasNextCommittedEnts(), true);
    l.appliedTo(3);
    assert.equal(l.hasNextCommittedEnts(), false);
  });

  it('slice respects maxSize but always returns at least one entry', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1, 100), e(2, 1, 100), e(3, 1, 100)]);
    const l = new RaftLog(s);
    l.append([e(4, 1, 100), e(5, 1, 100)]);
    assert.equal(l.slice(1, 6, 1).length, 1);
    assert.equal(l.slice(1, 6, 250).length, 2);
    assert.equal(l.slice(2, 6, Number.MAX_SAFE_INTEGER).length, 4);
    assert.equal(l.slice(3, 6, 250).length, 2, 'crosses the stable/unstable boundary');
  });

  it('term() throws Compacted below the first index and Unavailable past the last', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(2, 2), e(3, 3), e(4, 4)]);
    s.compact(2);
    const l = new RaftLog(s);
    assert.equal(l.term(2), 2, 'the compaction point keeps its term');
    assert.throws(() => l.term(1), CompactedError);
    assert.throws(() => l.term(5), UnavailableError);
    assert.equal(l.zeroTermOnOutOfBounds(1), 0);
    assert.throws(() => l.slice(1, 3, 100), CompactedError);
  });

  it('stableTo only marks entries durable if the term still matches (truncation in between)', () => {
    const u = new Unstable(1);
    u.truncateAndAppend([e(1, 1), e(2, 1)]);
    u.truncateAndAppend([e(2, 2)]); // overwrite index 2
    u.stableTo(2, 1); // stale ack of the old entry
    assert.equal(u.offset, 1);
    u.stableTo(2, 2);
    assert.equal(u.offset, 3);
    assert.equal(u.entries.length, 0);
  });

  it('unstable truncateAndAppend: append, replace all, and truncate in the middle', () => {
    const u = new Unstable(5);
    u.truncateAndAppend([e(5, 1)]);
    u.truncateAndAppend([e(6, 1), e(7, 1)]);
    assert.deepEqual(ids(u.entries), [
      [5, 1],
      [6, 1],
      [7, 1],
    ]);
    u.truncateAndAppend([e(6, 2)]);
    assert.deepEqual(ids(u.entries), [
      [5, 1],
      [6, 2],
    ]);
    u.truncateAndAppend([e(4, 3)]);
    assert.equal(u.offset, 4);
    assert.deepEqual(ids(u.entries), [[4, 3]]);
  });

  it('restore replaces the log with the snapshot', () => {
    const l = logWith(e(1, 1), e(2, 2));
    l.restore({ metadata: { index: 100, term: 7, confState: { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: EMPTY });
    assert.equal(l.committed, 100);
    assert.equal(l.firstIndex(), 101);
    assert.equal(l.lastIndex(), 100);
    assert.equal(l.term(100), 7);
  });
});

describe('raft MemoryStorage', () => {
  function storage35(): MemoryStorage {
    // Dummy at 3 (like etcd's tests): entries 3(dummy),4,5
    const s = new MemoryStorage();
    s.applySnapshot({ metadata: { index: 3, term: 3, confState: { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: EMPTY });
    s.append([e(4, 4), e(5, 5)]);
    return s;
  }

  it('term and entries bounds', () => {
    const s = storage35();
    assert.throws(() => s.term(2), CompactedError);
    assert.equal(s.term(3), 3);
    assert.equal(s.term(5), 5);
    assert.throws(() => s.term(6), UnavailableError);
    assert.throws(() => s.entries(3, 5, 100), CompactedError);
    assert.deepEqual(ids(s.entries(4, 6, 1000)), [
      [4, 4],
      [5, 5],
    ]);
    assert.throws(() => s.entries(4, 7, 100), RaftPanic);
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.lastIndex(), 5);
  });

  it('append truncates conflicting suffixes and ignores compacted prefixes', () => {
    const s = storage35();
    s.append([e(2, 2), e(3, 3), e(4, 6)]);
    assert.deepEqual(ids(s.entries(4, 5, 1000)), [[4, 6]]);
    assert.equal(s.lastIndex(), 4);
    s.append([e(5, 6), e(6, 6)]);
    assert.equal(s.lastIndex(), 6);
    assert.throws(() => s.append([e(9, 6)]), RaftPanic, 'gaps are a bug');
  });

  it('compact and createSnapshot', () => {
    const s = storage35();
    s.append([e(6, 5)]);
    assert.throws(() => s.compact(3), CompactedError);
    s.compact(5);
    assert.equal(s.firstIndex(), 6);
    assert.equal(s.term(5), 5);
    const snap = s.createSnapshot(6, undefined, new Uint8Array([1]));
    assert.equal(snap.metadata.term, 5);
    assert.deepEqual(snap.metadata.confState.voters, [1]);
    assert.throws(() => s.createSnapshot(6, undefined, EMPTY), SnapshotOutOfDateError);
    assert.throws(() => s.applySnapshot(snap), SnapshotOutOfDateError);
  });

  it('bootstrap creates an index-1 snapshot carrying the initial configuration', () => {
    const s = MemoryStorage.bootstrap([1, 2, 3], [4]);
    assert.equal(s.firstIndex(), 2);
    assert.equal(s.lastIndex(), 1);
    assert.deepEqual(s.initialState().confState.voters, [1, 2, 3]);
    assert.deepEqual(s.initialState().confState.learners, [4]);
    assert.deepEqual(s.initialState().hardState, { term: 1, vote: 0, commit: 1 });
  });
});
