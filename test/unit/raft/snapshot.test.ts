// Log compaction and snapshots (etcd TestSendingSnapshot*, TestSnapshot*, TestRestore*,
// TestProvideSnap, TestIgnoreProvidingSnap).
import { strict as assert } from 'node:assert';
import {
  MessageType,
  ProgressState,
  StateType,
  msg,
  Raft,
  type Snapshot,
  MemoryStorage,
  RawNode,
  SnapshotStatus,
  SnapshotTemporarilyUnavailableError,
  EMPTY,
  EntryType,
  decodeConfChange,
} from '../../../node/src/raft/index.js';
import { TestNode, newTestConfig, types } from './helpers.js';

function snap(index: number, term: number, voters: number[], learners: number[] = []): Snapshot {
  return { metadata: { index, term, confState: { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array([7]) };
}

/** Leader (id 1, peers 1,2) whose storage has been compacted to a snapshot at index 11. */
function compactedLeader(): TestNode {
  const s = new MemoryStorage();
  s.applySnapshot(snap(11, 11, [1, 2]));
  const r = new Raft(newTestConfig(1, 10, 1, s));
  r.becomeCandidate();
  r.becomeLeader();
  const n = new TestNode(r, s);
  n.readMessages();
  n.persist();
  return n;
}

describe('raft snapshots', () => {
  it('the leader sends a snapshot when the follower needs compacted entries', () => {
    const n = compactedLeader();
    const r = n.raft;
    // Follower 2 is probed at next = 12... force it to need index ≤ 11.
    const pr = r.trk.progress.get(2)!;
    pr.next = r.raftLog.firstIndex() - 1; // 11: term(10) is compacted
    pr.recentActive = true;
    r.sendAppend(2);
    const ms = n.readMessages();
    assert.deepEqual(types(ms), ['Snap']);
    assert.equal(ms[0]!.snapshot!.metadata.index, 11);
    assert.equal(pr.state, ProgressState.Snapshot);
    assert.equal(pr.pendingSnapshot, 11);
    assert.equal(pr.isPaused(), true, 'no appends while the snapshot is in flight');
  });

  it('the leader does not send a snapshot to a peer that is not recently active', () => {
    const n = compactedLeader();
    const pr = n.raft.trk.progress.get(2)!;
    pr.next = 11;
    pr.recentActive = false;
    n.raft.sendAppend(2);
    assert.deepEqual(n.readMessages(), []);
  });

  it('snapshot status failure resumes probing from match+1 after a pause', () => {
    const n = compactedLeader();
    const r = n.raft;
    const pr = r.trk.progress.get(2)!;
    pr.next = 11;
    pr.recentActive = true;
    r.sendAppend(2);
    n.readMessages();
    r.step(msg({ type: MessageType.SnapStatus, from: 2, to: 1, reject: true }));
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.pendingSnapshot, 0);
    assert.equal(pr.next, 1);
    assert.equal(pr.isPaused(), true);
  });

  it('snapshot status success resumes probing right after the snapshot', () => {
    const n = compactedLeader();
    const r = n.raft;
    const pr = r.trk.progress.get(2)!;
    pr.next = 11;
    pr.recentActive = true;
    r.sendAppend(2);
    n.readMessages();
    r.step(msg({ type: MessageType.SnapStatus, from: 2, to: 1, reject: false }));
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.next, 12);
    assert.equal(pr.isPaused(), true);
  });

  it('a follower acknowledging the snapshot index moves back to Replicate', () => {
    const n = compactedLeader();
    const r = n.raft;
    const pr = r.trk.progress.get(2)!;
    pr.next = 11;
    pr.recentActive = true;
    r.sendAppend(2);
    n.readMessages();
    r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: 11 }));
    assert.equal(pr.state, ProgressState.Replicate);
    assert.equal(pr.match, 11);
  });

  it('a temporarily unavailable snapshot is retried later (no message, no state change)', () => {
    class Busy extends MemoryStorage {
      busy = true;
      override snapshot(): Snapshot {
        if (this.busy) throw new SnapshotTemporarilyUnavailableError();
        return super.snapshot();
      }
    }
    const s = new Busy();
    s.applySnapshot(snap(11, 11, [1, 2]));
    const r = new Raft(newTestConfig(1, 10, 1, s));
    r.becomeCandidate();
    r.becomeLeader();
    r.msgs = [];
    const pr = r.trk.progress.get(2)!;
    pr.next = 11;
    pr.recentActive = true;
    r.sendAppend(2);
    assert.equal(r.msgs.length, 0);
    assert.equal(pr.state, ProgressState.Probe);
    s.busy = false;
    r.sendAppend(2);
    assert.deepEqual(types(r.msgs), ['Snap']);
  });

  it('a follower restores a snapshot: log, commit and configuration', () => {
    const n = TestNode.create(2, [1, 2]);
    const s = snap(11, 11, [1, 2, 3]);
    n.raft.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 2, snapshot: s }));
    const r = n.raft;
    assert.equal(r.raftLog.lastIndex(), 11);
    assert.equal(r.raftLog.term(11), 11);
    assert.equal(r.raftLog.committed, 11);
    assert.deepEqual(r.trk.voterIds(), [1, 2, 3]);
    const ms = n.readMessages();
    assert.deepEqual(
      ms.map((m) => [MessageType[m.type], m.index]),
      [['AppResp', 11]],
    );
    assert.equal(r.promotable(), false, 'no campaigning until the snapshot is persisted');
    n.persist();
    assert.equal(r.promotable(), true);
  });

  it('a stale snapshot (index ≤ commit) is ignored', () => {
    const n = TestNode.create(2, [1, 2]);
    n.raft.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 2, snapshot: snap(11, 11, [1, 2]) }));
    n.persist();
    const ok = n.raft.restore(snap(10, 10, [1, 2]));
    assert.equal(ok, false);
    assert.equal(n.raft.raftLog.committed, 11);
  });

  it('a snapshot matching our log only fast-forwards the commit index', () => {
    const s = MemoryStorage.withConfState([1, 2]);
    s.append([
      { term: 1, index: 1, type: 0, data: EMPTY },
      { term: 2, index: 2, type: 0, data: EMPTY },
      { term: 2, index: 3, type: 0, data: EMPTY },
    ]);
    const r = new Raft(newTestConfig(2, 10, 1, s));
    assert.equal(r.restore(snap(2, 2, [1, 2])), false);
    assert.equal(r.raftLog.committed, 2);
    assert.equal(r.raftLog.lastIndex(), 3, 'entries after the snapshot are kept');
  });

  it('a snapshot not including the recipient is ignored', () => {
    const n = TestNode.create(2, [1, 2]);
    assert.equal(n.raft.restore(snap(11, 11, [1, 3])), false);
    assert.equal(n.raft.raftLog.lastIndex(), 0);
  });

  it('a new empty node catches up from a compacted leader via snapshot then log', () => {
    // Leader alone with compacted history, adds node 2 which starts empty.
    const ls = MemoryStorage.bootstrap([1]);
    const leader = new RawNode(newTestConfig(1, 10, 1, ls));
    const fs = new MemoryStorage();
    const follower = new RawNode(newTestConfig(2, 10, 1, fs));
    const nodes = new Map([
      [1, { rn: leader, s: ls }],
      [2, { rn: follower, s: fs }],
    ]);
    const pump = (): void => {
      for (let round = 0; round < 50; round++) {
        let any = false;
        for (const { rn, s } of nodes.values()) {
          if (!rn.hasReady()) continue;
          any = true;
          const rd = rn.ready();
          if (rd.snapshot) s.applySnapshot(rd.snapshot);
          s.append(rd.entries);
          if (rd.hardState) s.setHardState(rd.hardState);
          for (const e of rd.committedEntries) {
            if (e.type === EntryType.ConfChange) rn.applyConfChange(decodeConfChange(e.data));
          }
          rn.advance();
          for (const m of rd.messages) {
            nodes.get(m.to)!.rn.step(m);
            if (m.type === MessageType.Snap) rn.reportSnapshot(m.to, SnapshotStatus.Finish);
          }
        }
        if (!any) return;
      }
    };
    leader.campaign();
    pump();
    for (let i = 0; i < 5; i++) leader.propose(new Uint8Array([i]));
    pump();
    leader.proposeConfChange({ transition: 0, changes: [{ type: 2, nodeId: 2 }], context: EMPTY });
    pump();
    // Compact the leader's log past everything, with a snapshot that includes node 2.
    const applied = leader.status().applied;
    ls.createSnapshot(applied, leader.status().config, new Uint8Array([42]));
    ls.compact(applied);
    leader.propose(new Uint8Array([99]));
    pump();
    leader.raft.bcastHeartbeat();
    pump();
    assert.equal(follower.raft.raftLog.lastIndex(), leader.raft.raftLog.lastIndex());
    assert.equal(fs.snapshot().metadata.index, applied);
    assert.equal(follower.status().commit, leader.status().commit);
    assert.equal(leader.raft.state, StateType.Leader);
  });
});
