// Leader transfer (Raft thesis §3.10; etcd TestLeaderTransfer*).
import { strict as assert } from 'node:assert';
import { MessageType, StateType, msg, NONE, ProposalDroppedError } from '../../../node/src/raft/index.js';
import { Network, tickN } from './helpers.js';

function transfer(net: Network, via: number, to: number): void {
  net.send(msg({ type: MessageType.TransferLeader, from: to, to: via }));
}

describe('raft leader transfer', () => {
  it('transfers to an up-to-date follower via MsgTimeoutNow', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.recordTrace = true;
    transfer(net, 1, 2);
    assert.equal(net.raft(2).state, StateType.Leader);
    assert.equal(net.raft(1).state, StateType.Follower);
    assert.equal(net.raft(1).lead, 2);
    assert.equal(net.raft(2).term, 2);
    assert.ok(net.trace.includes('1->2 TimeoutNow Term:1'));
  });

  it('transfer requests to a follower are forwarded to the leader', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    transfer(net, 3, 2); // asked at node 3
    assert.equal(net.raft(2).state, StateType.Leader);
  });

  it('catches a lagging transferee up first, then sends MsgTimeoutNow', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, 'a');
    net.propose(1, 'b');
    net.recover();
    net.ignore(MessageType.AppResp); // keep node 3 lagging for a moment
    transfer(net, 1, 3);
    assert.equal(net.raft(1).leadTransferee, 3);
    assert.equal(net.raft(1).state, StateType.Leader);
    net.recover();
    // Any append response from node 3 that shows it caught up triggers TimeoutNow.
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.equal(net.raft(3).state, StateType.Leader);
    assert.equal(net.raft(3).raftLog.lastIndex(), net.raft(1).raftLog.lastIndex());
  });

  it('drops proposals while a transfer is in progress', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.isolate(3);
    transfer(net, 1, 3);
    const r = net.raft(1);
    assert.equal(r.leadTransferee, 3);
    assert.throws(
      () => r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: new Uint8Array([1]) }] })),
      (e: unknown) => e instanceof ProposalDroppedError && e.code === 'RAFT_PROPOSAL_DROPPED' && e.leaderHint === 3,
    );
  });

  it('aborts the transfer after an election timeout without success', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.isolate(3);
    transfer(net, 1, 3);
    const r = net.raft(1);
    tickN(r, r.electionTimeout);
    assert.equal(r.leadTransferee, NONE);
    assert.equal(r.state, StateType.Leader);
    // Proposals are accepted again.
    net.propose(1, 'after');
    assert.equal(net.raft(2).raftLog.lastIndex(), r.raftLog.lastIndex());
  });

  it('a new transfer request to another node replaces the previous one; repeats are ignored', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.isolate(3);
    net.isolate(2);
    transfer(net, 1, 3);
    const e0 = net.raft(1).electionElapsed;
    tickN(net.raft(1), 1);
    transfer(net, 1, 3); // same target: ignored, timer not reset
    assert.equal(net.raft(1).leadTransferee, 3);
    assert.equal(net.raft(1).electionElapsed, e0 + 1);
    transfer(net, 1, 2);
    assert.equal(net.raft(1).leadTransferee, 2);
    assert.equal(net.raft(1).electionElapsed, 0);
  });

  it('transfer to self or to a learner is a no-op', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    transfer(net, 1, 1);
    assert.equal(net.raft(1).leadTransferee, NONE);
    net.raft(1).applyConfChange({ transition: 0, changes: [{ type: 2, nodeId: 4 }], context: new Uint8Array() });
    transfer(net, 1, 4);
    assert.equal(net.raft(1).leadTransferee, NONE);
  });

  it('the transferee campaigns even with check-quorum leases in place (forced vote)', () => {
    const net = Network.ofSize(3, { checkQuorum: true, preVote: true });
    net.campaign(1);
    transfer(net, 1, 3);
    assert.equal(net.raft(3).state, StateType.Leader);
    assert.equal(net.raft(3).term, 2);
  });

  it('a transfer to a node removed from the config is aborted', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.isolate(3);
    transfer(net, 1, 3);
    assert.equal(net.raft(1).leadTransferee, 3);
    net.raft(1).applyConfChange({ transition: 0, changes: [{ type: 1, nodeId: 3 }], context: new Uint8Array() });
    assert.equal(net.raft(1).leadTransferee, NONE);
  });
});
