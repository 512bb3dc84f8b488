// Pre-vote, check-quorum and leader stickiness (etcd raft_test.go TestPreVote*, TestCheckQuorum*,
// TestLeaderElectionWithCheckQuorum, TestFreeStuckCandidateWithCheckQuorum, TestDisruptiveFollower).
import { strict as assert } from 'node:assert';
import { MessageType, StateType, msg, NONE } from '../../../node/src/raft/index.js';
import { Network, TestNode, tickN, types } from './helpers.js';

describe('raft elections: pre-vote and check-quorum', () => {
  it('elects a leader in a 3-node cluster with and without pre-vote', () => {
    for (const preVote of [false, true]) {
      const net = Network.ofSize(3, { preVote });
      net.campaign(1);
      assert.equal(net.raft(1).state, StateType.Leader);
      assert.equal(net.raft(1).term, 1);
      assert.equal(net.raft(2).lead, 1);
      assert.equal(net.raft(3).lead, 1);
    }
  });

  it('a pre-candidate does not increase its term, and a pre-vote does not change the voter term', () => {
    const net = Network.ofSize(3, { preVote: true });
    net.isolate(1);
    net.campaign(1);
    const r = net.raft(1);
    assert.equal(r.state, StateType.PreCandidate);
    assert.equal(r.term, 0, 'term unchanged during pre-vote');
    assert.equal(r.vote, NONE);
  });

  it('pre-vote: a partitioned node rejoining does not disrupt the leader (no term inflation)', () => {
    const net = Network.ofSize(3, { preVote: true });
    net.campaign(1);
    net.isolate(3);
    // Node 3 times out repeatedly while isolated.
    for (let i = 0; i < 5; i++) net.campaign(3);
    assert.equal(net.raft(3).state, StateType.PreCandidate);
    assert.equal(net.raft(3).term, 1);
    net.recover();
    net.propose(1, 'x'); // heartbeats/appends reach node 3 again
    assert.equal(net.raft(1).state, StateType.Leader);
    assert.equal(net.raft(1).term, 1);
    assert.equal(net.raft(3).state, StateType.Follower);
    assert.equal(net.raft(3).lead, 1);
  });

  it('without pre-vote, the same rejoining node forces a new election (term inflation)', () => {
    const net = Network.ofSize(3, { preVote: false });
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 5; i++) net.campaign(3);
    assert.equal(net.raft(3).term, 6);
    net.recover();
    // Its next timeout sends MsgVote at term 7, which deposes the healthy leader.
    net.campaign(3);
    assert.equal(net.raft(1).term, 7);
    assert.notEqual(net.raft(1).state, StateType.Leader);
  });

  it('pre-vote: a node with a stale log cannot win a pre-vote, and nobody changes term', () => {
    const net = Network.ofSize(3, { preVote: true });
    net.campaign(1);
    net.isolate(3);
    net.propose(1, 'a');
    net.propose(1, 'b');
    net.recover();
    // Make node 1 and 2 forget the leader so they would vote.
    net.raft(1).becomeFollower(net.raft(1).term, NONE);
    net.raft(2).becomeFollower(net.raft(2).term, NONE);
    net.ignore(MessageType.App);
    net.ignore(MessageType.Heartbeat);
    net.campaign(3);
    assert.equal(net.raft(3).state, StateType.Follower, 'pre-vote lost');
    assert.equal(net.raft(3).term, 1);
    assert.equal(net.raft(1).term, 1);
  });

  it('pre-vote with a node that has a higher term: the pre-candidate learns it from the rejection', () => {
    const a = TestNode.create(1, [1, 2, 3], 10, 1, { preVote: true });
    a.raft.becomeFollower(1, NONE);
    a.raft.step(msg({ type: MessageType.Hup, from: 1, to: 1 }));
    assert.equal(a.raft.state, StateType.PreCandidate);
    a.readMessages();
    // A peer at term 5 rejects the pre-vote: we must adopt term 5 and become follower.
    a.raft.step(msg({ type: MessageType.PreVoteResp, from: 2, to: 1, term: 5, reject: true }));
    assert.equal(a.raft.term, 5);
    assert.equal(a.raft.state, StateType.Follower);
  });

  it('a stale pre-vote (lower term) is answered with an explicit rejection carrying our term', () => {
    const a = TestNode.create(1, [1, 2, 3], 10, 1, { preVote: true });
    a.raft.becomeFollower(4, NONE);
    a.raft.step(msg({ type: MessageType.PreVote, from: 2, to: 1, term: 2 }));
    const ms = a.readMessages();
    assert.deepEqual(types(ms), ['PreVoteResp']);
    assert.equal(ms[0]!.reject, true);
    assert.equal(ms[0]!.term, 4);
  });

  it('check-quorum: a leader that loses contact with a quorum steps down after an election timeout', () => {
    const net = Network.ofSize(3, { checkQuorum: true });
    net.campaign(1);
    const r = net.raft(1);
    assert.equal(r.state, StateType.Leader);
    net.isolate(1);
    tickN(r, r.electionTimeout + 1);
    net.flush();
    // First check passes (peers were recently active), the second one fails.
    tickN(r, r.electionTimeout + 1);
    assert.equal(r.state, StateType.Follower);
    assert.equal(r.lead, NONE);
  });

  it('check-quorum: a leader in contact with a quorum stays leader', () => {
    const net = Network.ofSize(3, { checkQuorum: true });
    net.campaign(1);
    net.isolate(3);
    const r = net.raft(1);
    for (let i = 0; i < 5 * r.electionTimeout; i++) {
      r.tick();
      net.flush();
    }
    assert.equal(r.state, StateType.Leader);
  });

  it('check-quorum: followers ignore vote requests while they have a live leader (leader stickiness)', () => {
    const net = Network.ofSize(3, { checkQuorum: true });
    net.campaign(1);
    const r3 = net.raft(3);
    // Node 3 campaigns without a timeout: nodes 1 and 2 heard from the leader recently.
    net.send(msg({ type: MessageType.Hup, from: 3, to: 3 }));
    assert.equal(net.raft(1).state, StateType.Leader);
    assert.equal(net.raft(1).term, 1);
    assert.equal(net.raft(2).term, 1, 'vote request ignored: term unchanged');
    assert.equal(r3.state, StateType.Candidate);
  });

  it('check-quorum: a stuck candidate with a higher term is freed when the leader hears its response', () => {
    const net = Network.ofSize(3, { checkQuorum: true });
    net.campaign(1);
    net.isolate(1);
    // Node 3 keeps campaigning, nodes 2 ignores it (lease), node 1 can't hear it.
    net.send(msg({ type: MessageType.Hup, from: 3, to: 3 }));
    net.send(msg({ type: MessageType.Hup, from: 3, to: 3 }));
    assert.equal(net.raft(3).state, StateType.Candidate);
    assert.equal(net.raft(3).term, 3);
    net.recover();
    // The leader's heartbeat reaches node 3 (lower term): node 3 answers with its term, which
    // makes the leader step down so the cluster can move on.
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.equal(net.raft(1).state, StateType.Follower);
    assert.equal(net.raft(1).term, 3);
  });

  it('a candidate that receives a heartbeat of its own term becomes follower of that leader', () => {
    const a = TestNode.create(1, [1, 2, 3]);
    a.raft.becomeCandidate();
    a.raft.step(msg({ type: MessageType.Heartbeat, from: 2, to: 1, term: a.raft.term }));
    assert.equal(a.raft.state, StateType.Follower);
    assert.equal(a.raft.lead, 2);
  });

  it('a node cannot campaign while conf changes are committed but not yet applied', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    const r2 = net.raft(2);
    // Fake a committed-but-unapplied conf change at node 2.
    r2.raftLog.append([{ term: r2.term, index: r2.raftLog.lastIndex() + 1, type: 1, data: new Uint8Array() }]);
    r2.raftLog.commitTo(r2.raftLog.lastIndex());
    r2.becomeFollower(r2.term, NONE);
    r2.step(msg({ type: MessageType.Hup, from: 2, to: 2 }));
    assert.equal(r2.state, StateType.Follower);
  });
});
