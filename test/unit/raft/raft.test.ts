// Behaviour tests ported from etcd raft_test.go (handlers, state transitions, flow control).
import { strict as assert } from 'node:assert';
import {
  MessageType,
  ProgressState,
  RaftPanic,
  StateType,
  msg,
  NONE,
  Raft,
  bytesToKey,
} from '../../../node/src/raft/index.js';
import { Network, TestNode, bytes, newTestConfig, storageWithLog, tickN, types } from './helpers.js';

function leaderOf3(): TestNode {
  const n = TestNode.create(1, [1, 2, 3]);
  n.raft.becomeCandidate();
  n.raft.becomeLeader();
  n.readMessages();
  n.persist();
  return n;
}

describe('raft handlers and transitions', () => {
  it('state transitions: allowed and forbidden (TestStateTransition)', () => {
    const r = TestNode.create(1, [1, 2]).raft;
    assert.throws(() => r.becomeLeader(), RaftPanic, 'follower → leader is invalid');
    r.becomeCandidate();
    r.becomeLeader();
    assert.throws(() => r.becomeCandidate(), RaftPanic);
    assert.throws(() => r.becomePreCandidate(), RaftPanic);
    r.becomeFollower(5, 2);
    assert.equal(r.term, 5);
    assert.equal(r.lead, 2);
  });

  it('all roles step down on a higher-term message (TestAllServerStepdown)', () => {
    for (const make of [(r: Raft) => r.becomeFollower(1, NONE), (r: Raft) => r.becomeCandidate(), (r: Raft) => r.becomePreCandidate(), (r: Raft) => (r.becomeCandidate(), r.becomeLeader())]) {
      for (const t of [MessageType.Vote, MessageType.App]) {
        const r = TestNode.create(1, [1, 2, 3]).raft;
        make(r);
        r.step(msg({ type: t, from: 2, to: 1, term: 3, logTerm: 3, index: 3 }));
        assert.equal(r.state, StateType.Follower);
        assert.equal(r.term, 3);
        assert.equal(r.lead, t === MessageType.App ? 2 : NONE);
      }
    }
  });

  it('handleHeartbeat commits up to the given commit and never decreases it (TestHandleHeartbeat)', () => {
    const s = storageWithLog([1, 2], [1, 2, 3]);
    const r = new Raft(newTestConfig(1, 10, 1, s));
    r.becomeFollower(2, 2);
    r.raftLog.commitTo(1);
    r.step(msg({ type: MessageType.Heartbeat, from: 2, to: 1, term: 2, commit: 3 }));
    assert.equal(r.raftLog.committed, 3);
    r.step(msg({ type: MessageType.Heartbeat, from: 2, to: 1, term: 2, commit: 1 }));
    assert.equal(r.raftLog.committed, 3);
    assert.deepEqual(types(r.msgs), ['HeartbeatResp', 'HeartbeatResp']);
  });

  it('heartbeat response: resends appends to a lagging follower (TestHandleHeartbeatResp)', () => {
    const n = leaderOf3();
    const r = n.raft;
    r.trk.progress.get(2)!.becomeReplicate();
    r.step(msg({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: r.term }));
    const ms = n.readMessages();
    assert.deepEqual(types(ms), ['App']);
    // Once caught up, heartbeat responses don't trigger appends.
    r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: r.raftLog.lastIndex() }));
    n.readMessages();
    r.step(msg({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: r.term }));
    assert.deepEqual(n.readMessages(), []);
  });

  it('heartbeat response recovers a follower from a full inflight window', () => {
    const n = TestNode.create(1, [1, 2], 10, 1, { maxInflightMsgs: 1 });
    n.raft.becomeCandidate();
    n.raft.becomeLeader();
    n.readMessages();
    const r = n.raft;
    const pr = r.trk.progress.get(2)!;
    pr.becomeReplicate();
    r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('a') }] }));
    assert.equal(n.readMessages().length, 1);
    assert.equal(pr.isPaused(), true);
    r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('b') }] }));
    assert.equal(n.readMessages().length, 0, 'window full: the appends were lost, say');
    r.step(msg({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: r.term }));
    assert.deepEqual(types(n.readMessages()), ['App']);
  });

  it('a caught-up follower stuck in Probe recovers to Replicate via a heartbeat round (heartbeat_resp_recovers_from_probing)', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    const r = net.raft(1);
    const pr = r.trk.progress.get(2)!;
    assert.equal(pr.state, ProgressState.Replicate);
    r.step(msg({ type: MessageType.Unreachable, from: 2, to: 1 }));
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.match, r.raftLog.lastIndex());
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.equal(pr.state, ProgressState.Replicate);
  });

  it('MsgUnreachable moves a replicating follower back to probing (TestRecvMsgUnreachable)', () => {
    const n = leaderOf3();
    const pr = n.raft.trk.progress.get(2)!;
    pr.maybeUpdate(1);
    pr.becomeReplicate();
    n.raft.step(msg({ type: MessageType.Unreachable, from: 2, to: 1 }));
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.next, pr.match + 1);
  });

  it('the leader ignores append responses from unknown peers and stale terms', () => {
    const n = TestNode.create(1, [1, 2, 3]);
    n.raft.becomeFollower(1, NONE);
    n.raft.becomeCandidate();
    n.raft.becomeLeader(); // term 2
    n.readMessages();
    const r = n.raft;
    const before = r.raftLog.committed;
    r.step(msg({ type: MessageType.AppResp, from: 9, to: 1, term: r.term, index: 100 }));
    r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term - 1, index: 100 }));
    assert.equal(r.raftLog.committed, before);
    assert.equal(r.trk.progress.get(2)!.match, 0);
  });

  it('a follower answers a stale leader with its term so it steps down (TestStepIgnoreOldTermMsg variant)', () => {
    const n = TestNode.create(2, [1, 2, 3], 10, 1, { checkQuorum: true });
    n.raft.becomeFollower(5, 3);
    n.raft.step(msg({ type: MessageType.App, from: 1, to: 2, term: 2 }));
    const ms = n.readMessages();
    assert.deepEqual(
      ms.map((m) => [MessageType[m.type], m.to, m.term]),
      [['AppResp', 1, 5]],
    );
    // Also without check-quorum / pre-vote (unlike etcd): the stale leader must learn our term.
    const m = TestNode.create(2, [1, 2, 3]);
    m.raft.becomeFollower(5, 3);
    m.raft.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 2 }));
    assert.deepEqual(
      m.readMessages().map((x) => [MessageType[x.type], x.to, x.term]),
      [['AppResp', 1, 5]],
    );
    // Other old-term messages are ignored.
    m.raft.step(msg({ type: MessageType.Vote, from: 1, to: 2, term: 2 }));
    m.raft.step(msg({ type: MessageType.AppResp, from: 1, to: 2, term: 2, index: 9 }));
    assert.deepEqual(m.readMessages(), []);
  });

  it('a follower resets its election timer on leader contact and times out without it', () => {
    const n = TestNode.create(2, [1, 2, 3]);
    n.raft.becomeFollower(1, 1);
    for (let i = 0; i < 50; i++) {
      n.raft.tick();
      n.raft.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1 }));
    }
    assert.equal(n.raft.state, StateType.Follower);
    tickN(n.raft, 2 * n.raft.electionTimeout);
    assert.equal(n.raft.state, StateType.Candidate);
  });

  it('the leader increases next optimistically in Replicate, not in Probe (TestLeaderIncreaseNext)', () => {
    for (const [state, next, want] of [
      // log [1 1 1] + the leader's empty entry (4) + the proposal (5): all sent, next = 6
      [ProgressState.Replicate, 2, 6],
      [ProgressState.Probe, 2, 2],
    ] as const) {
      const s = storageWithLog([1, 2], [1, 1, 1]);
      const r = new Raft(newTestConfig(1, 10, 1, s));
      r.becomeCandidate();
      r.becomeLeader();
      const pr = r.trk.progress.get(2)!;
      pr.state = state;
      pr.next = next;
      r.msgs = [];
      r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('x') }] }));
      assert.equal(pr.next, want, state);
    }
  });

  it('the leader tells a follower the commit index in heartbeats, capped at its match (TestBcastBeat)', () => {
    const n = leaderOf3();
    const r = n.raft;
    r.trk.progress.get(2)!.maybeUpdate(r.raftLog.lastIndex());
    r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: r.raftLog.lastIndex() }));
    n.readMessages();
    r.step(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    const hb = n.readMessages();
    assert.deepEqual(
      hb.map((m) => [m.to, MessageType[m.type], m.commit]),
      [
        [2, 'Heartbeat', r.raftLog.committed],
        [3, 'Heartbeat', 0],
      ],
    );
  });

  it('MsgBeat is ignored by non-leaders (TestRecvMsgBeat)', () => {
    const n = TestNode.create(1, [1, 2, 3]);
    n.raft.step(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.deepEqual(n.readMessages(), []);
  });

  it('a candidate drops proposals (no leader to forward to)', () => {
    const n = TestNode.create(1, [1, 2, 3]);
    n.raft.becomeCandidate();
    assert.throws(() => n.raft.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('x') }] })), /dropped/);
  });

  it('duplicate messages are harmless (idempotent appends and votes)', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    const copies = new Map<number, number>();
    net.msgHook = (m) => {
      copies.set(m.type, (copies.get(m.type) ?? 0) + 1);
      return true;
    };
    net.propose(1, 'once');
    const r2 = net.raft(2);
    const before = r2.raftLog.lastIndex();
    // Replay the append that carried 'once' again.
    const e = r2.raftLog.slice(before, before + 1, Infinity)[0]!;
    r2.step(msg({ type: MessageType.App, from: 1, to: 2, term: 1, logTerm: 1, index: before - 1, entries: [e], commit: 0 }));
    assert.equal(r2.raftLog.lastIndex(), before);
    assert.equal(bytesToKey(r2.raftLog.slice(before, before + 1, Infinity)[0]!.data), 'once');
  });
});
