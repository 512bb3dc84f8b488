// RawNode.advanceAsync / appendPersisted: a leader takes the next Ready while its own log write is in
// flight, so follower acks commit entries before that write is durable (etcd-raft AsyncStorageWrites).
import { strict as assert } from 'node:assert';
import { MemoryStorage, RawNode, StateType, MessageType, RaftPanic, msg, mulberry32, type Ready, type RaftConfig } from '../../../node/src/raft/index.js';
import { bytes } from './helpers.js';

function cfg(id: number, storage: MemoryStorage): RaftConfig {
  return { id, electionTick: 10, heartbeatTick: 1, storage, rand: mulberry32(id) };
}

/** Node 1 leads a 3-voter group at term 2 with its empty entry committed and applied. */
function leader(): { rn: RawNode; s: MemoryStorage } {
  const s = MemoryStorage.bootstrap([1, 2, 3]);
  const rn = new RawNode(cfg(1, s));
  rn.campaign();
  const persistSync = () => {
    const rd = rn.ready();
    s.append(rd.entries);
    if (rd.hardState) s.setHardState(rd.hardState);
    rn.advance();
  };
  persistSync(); // pre-vote round
  for (const from of [2, 3]) rn.step(msg({ type: MessageType.PreVoteResp, from, to: 1, term: rn.raft.term + 1 }));
  if (rn.raft.state !== StateType.Leader) {
    persistSync();
    for (const from of [2, 3]) rn.step(msg({ type: MessageType.VoteResp, from, to: 1, term: rn.raft.term }));
  }
  assert.equal(rn.raft.state, StateType.Leader);
  // The leader's empty entry: persisted, acked by both, committed, applied.
  persistSync();
  const last = rn.raft.raftLog.lastIndex();
  for (const from of [2, 3]) rn.step(msg({ type: MessageType.AppResp, from, to: 1, term: rn.raft.term, index: last }));
  while (rn.hasReady()) persistSync();
  assert.equal(rn.raft.raftLog.committed, last);
  return { rn, s };
}

const ack = (rn: RawNode, from: number, index: number) => rn.step(msg({ type: MessageType.AppResp, from, to: 1, term: rn.raft.term, index }));

describe('raft RawNode async append (advanceAsync / appendPersisted)', () => {
  it('follower acks commit an entry the leader is still writing; the entry is handed out once', () => {
    const { rn, s } = leader();
    rn.propose(bytes('a'));
    const rd1 = rn.ready();
    assert.equal(rd1.entries.length, 1);
    const e = rd1.entries[0]!;
    rn.advanceAsync(); // the write of `e` is in flight
    assert.equal(rn.hasReady(), false, 'the in-flight entry is not handed out again');
    ack(rn, 2, e.index);
    ack(rn, 3, e.index);
    assert.equal(rn.raft.raftLog.committed, e.index, 'committed by the followers alone');
    const rd2: Ready = rn.ready();
    assert.deepEqual(rd2.entries, [], 'no entry handed out twice');
    assert.deepEqual(rd2.committedEntries.map((x) => x.index), [e.index]);
    rn.advanceAsync();
    assert.equal(rn.raft.raftLog.stableLastIndex(), e.index - 1, 'not durable here yet');
    s.append(rd1.entries);
    rn.appendPersisted(e.index, e.term);
    assert.equal(rn.raft.raftLog.stableLastIndex(), e.index);
    assert.equal(rn.raft.trk.progress.get(1)!.match, e.index, 'the leader counts itself once durable');
  });

  it('the next Ready hands out only entries not in progress; a later synchronous advance covers both', () => {
    const { rn, s } = leader();
    rn.propose(bytes('a'));
    const rd1 = rn.ready();
    rn.advanceAsync();
    rn.propose(bytes('b'));
    const rd2 = rn.ready();
    // Only the new entry: `a` is in progress.
    assert.deepEqual(rd2.entries.map((x) => x.index), [rd1.entries[0]!.index + 1]);
    s.append(rd1.entries);
    s.append(rd2.entries);
    rn.advance();
    // A synchronous advance made everything up to b stable: a's own write must have been done first (host contract).
    assert.equal(rn.raft.raftLog.stableLastIndex(), rd2.entries[0]!.index);
  });

  it('the leader alone is not a quorum: its acks wait for appendPersisted', () => {
    const { rn, s } = leader();
    rn.propose(bytes('a'));
    const rd = rn.ready();
    const e = rd.entries[0]!;
    rn.advanceAsync();
    ack(rn, 2, e.index);
    assert.equal(rn.raft.raftLog.committed, e.index - 1, 'one follower + an unwritten leader entry is no quorum');
    s.append(rd.entries);
    rn.appendPersisted(e.index, e.term);
    assert.equal(rn.raft.raftLog.committed, e.index);
  });

  it('entries replaced while being written are handed out again; the stale write is ignored', () => {
    // Node 2 follows; it takes entries of term 2 asynchronously, then a term-3 leader overwrites them.
    const s = MemoryStorage.bootstrap([1, 2, 3]);
    const rn = new RawNode(cfg(2, s));
    rn.step(msg({ type: MessageType.App, from: 1, to: 2, term: 2, logTerm: 1, index: 1, commit: 1, entries: [{ term: 2, index: 2, type: 0, data: bytes('x') }, { term: 2, index: 3, type: 0, data: bytes('y') }] }));
    const rd1 = rn.ready();
    assert.deepEqual(rd1.entries.map((x) => [x.index, x.term]), [[2, 2], [3, 2]]);
    rn.advanceAsync();
    rn.step(msg({ type: MessageType.App, from: 3, to: 2, term: 3, logTerm: 2, index: 2, commit: 1, entries: [{ term: 3, index: 3, type: 0, data: bytes('z') }] }));
    const rd2 = rn.ready();
    assert.deepEqual(rd2.entries.map((x) => [x.index, x.term]), [[3, 3]], 'the replaced entry is handed out again');
    s.append(rd1.entries);
    rn.appendPersisted(3, 2); // the first write completes late: its entry 3 is no longer in the log
    assert.equal(rn.raft.raftLog.stableLastIndex(), 1, 'a stale write makes nothing stable');
    s.append(rd2.entries);
    rn.advance();
    assert.equal(rn.raft.raftLog.stableLastIndex(), 3);
    assert.equal(rn.raft.raftLog.term(3), 3);
  });

  it('a snapshot Ready cannot be advanced asynchronously', () => {
    const s = MemoryStorage.bootstrap([1, 2, 3]);
    const rn = new RawNode(cfg(2, s));
    rn.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 2, snapshot: { data: new Uint8Array(0), metadata: { index: 10, term: 2, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } } }));
    rn.ready();
    assert.throws(() => rn.advanceAsync(), RaftPanic);
  });
});
