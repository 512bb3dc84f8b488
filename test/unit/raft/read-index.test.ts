// ReadIndex (Raft thesis §6.4): safe reads confirmed by a heartbeat round, batching, follower
// forwarding, the commit-in-current-term precondition, and lease-based reads.
import { strict as assert } from 'node:assert';
import {
  MessageType,
  ReadOnlyOption,
  StateType,
  msg,
  ConfigError,
  MemoryStorage,
  Raft,
  bytesToKey,
} from '../../../node/src/raft/index.js';
import { Network, TestNode, ctx, newTestConfig, types } from './helpers.js';

function readIndex(net: Network, id: number, c: string): void {
  net.send(msg({ type: MessageType.ReadIndex, from: id, to: id, entries: [{ term: 0, index: 0, type: 0, data: ctx(c) }] }));
}

/** Lease-read cluster whose nodes have been up for a while (past the startup vote hold-off). */
function leaseNet(): Network {
  const net = Network.ofSize(3, { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased });
  for (const n of net.nodes.values()) n.raft.ticks = 100;
  return net;
}

describe('raft read index', () => {
  it('§6.4 the leader serves a read at its commit index after a quorum heartbeat round', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.propose(1, 'x');
    const r = net.raft(1);
    readIndex(net, 1, 'ctx1');
    assert.equal(r.readStates.length, 1);
    assert.equal(r.readStates[0]!.index, r.raftLog.committed);
    assert.equal(bytesToKey(r.readStates[0]!.requestCtx), 'ctx1');
  });

  it('§6.4 a read is not served without a heartbeat quorum (leader may be deposed)', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.isolate(1);
    readIndex(net, 1, 'ctx1');
    assert.equal(net.raft(1).readStates.length, 0);
    net.recover();
    // The next heartbeat round (carrying the latest pending ctx) confirms it.
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.equal(net.raft(1).readStates.length, 1);
  });

  it('batching: many read requests between two Readies share one heartbeat round', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    const n1 = net.node(1);
    const r = n1.raft;
    for (let i = 0; i < 10; i++) {
      r.step(msg({ type: MessageType.ReadIndex, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: ctx(`c${i}`) }] }));
    }
    assert.equal(r.msgs.length, 0, 'nothing sent until the batch is flushed');
    const out = n1.readMessages(); // flushes one heartbeat per follower
    assert.deepEqual(types(out), ['Heartbeat', 'Heartbeat']);
    assert.equal(bytesToKey(out[0]!.context), 'c9', 'the heartbeat carries the last ctx');
    net.send(...out);
    assert.deepEqual(
      r.readStates.map((s) => bytesToKey(s.requestCtx)),
      Array.from({ length: 10 }, (_, i) => `c${i}`),
    );
  });

  it('a follower forwards the read to the leader and gets the read index back', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.propose(1, 'x');
    readIndex(net, 2, 'f');
    const r2 = net.raft(2);
    assert.equal(r2.readStates.length, 1);
    assert.equal(r2.readStates[0]!.index, net.raft(1).raftLog.committed);
  });

  it('a follower without a leader drops the read (caller retries)', () => {
    const net = Network.ofSize(3);
    readIndex(net, 2, 'f');
    assert.equal(net.raft(2).readStates.length, 0);
  });

  it('§6.4 a new leader delays reads until it has committed an entry of its term', () => {
    const net = Network.ofSize(3);
    // Node 1 becomes leader but its empty entry's acks are lost.
    net.ignore(MessageType.AppResp);
    net.campaign(1);
    const r = net.raft(1);
    assert.equal(r.state, StateType.Leader);
    assert.equal(r.committedEntryInCurrentTerm(), false);
    readIndex(net, 1, 'early');
    assert.equal(r.readStates.length, 0);
    assert.equal(r.pendingReadIndexMessages.length, 1);
    net.recover();
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 })); // followers answer; appends resent
    net.flush();
    assert.equal(r.committedEntryInCurrentTerm(), true);
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.equal(r.readStates.length, 1);
    assert.equal(r.readStates[0]!.index, r.raftLog.committed);
  });

  it('single voter: read index is answered immediately with the commit index', () => {
    const net = Network.ofSize(1);
    net.campaign(1);
    readIndex(net, 1, 'solo');
    assert.equal(net.raft(1).readStates.length, 1);
  });

  it('lease-based reads are answered without a round trip while a quorum acked a recent heartbeat', () => {
    const net = leaseNet();
    net.campaign(1);
    const r = net.raft(1);
    // Its empty entry's appends, stamped and acknowledged, already started the lease (raft/lease.ts).
    assert.equal(r.leaseValid(), true, 'the first append round counts like a heartbeat round');
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.equal(r.leaseValid(), true);
    net.isolate(1); // no round trip possible, but within the lease the leader answers
    readIndex(net, 1, 'lease');
    assert.equal(r.readStates.length, 1);
    // The lease runs out electionTimeout-2 ticks after the acknowledged heartbeat was sent.
    for (let i = 0; i < r.electionTimeout - 3; i++) r.tick();
    assert.equal(r.leaseValid(), true);
    r.tick();
    assert.equal(r.leaseValid(), false);
    readIndex(net, 1, 'expired');
    assert.equal(r.readStates.length, 1, 'falls back to a heartbeat round, which cannot complete');
    net.recover();
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.deepEqual(r.readStates.map((s) => bytesToKey(s.requestCtx)), ['lease', 'expired']);
  });

  it('the lease is measured from when the acknowledged heartbeat was sent, not received', () => {
    const net = leaseNet();
    net.campaign(1);
    const r = net.raft(1);
    const n1 = net.node(1);
    r.bcastHeartbeat();
    const hbs = n1.readMessages();
    // The heartbeats are delayed: the leader ticks before they arrive and are answered.
    for (let i = 0; i < r.electionTimeout - 2; i++) r.tick();
    n1.readMessages();
    net.send(...hbs);
    assert.equal(r.leaseValid(), false);
  });

  it('a leader that sent MsgTimeoutNow stops trusting its lease', () => {
    const net = leaseNet();
    net.campaign(1);
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    const r = net.raft(1);
    assert.equal(r.leaseValid(), true);
    net.ignore(MessageType.TimeoutNow);
    net.send(msg({ type: MessageType.TransferLeader, from: 2, to: 1 }));
    assert.equal(r.leaseValid(), false);
    for (let i = 0; i < r.electionTimeout; i++) r.tick(); // transfer aborted, still no lease
    assert.equal(r.leadTransferee, 0);
    assert.equal(r.leaseValid(), false);
  });

  it('with lease reads, a freshly (re)started node refuses votes for an election timeout', () => {
    const n = TestNode.create(2, [1, 2, 3], 10, 1, { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased });
    n.raft.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 5 }));
    assert.deepEqual(n.readMessages(), [], 'ignored right after start');
    for (let i = 0; i < 10; i++) n.raft.tick();
    n.readMessages();
    n.raft.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 5 }));
    const out = n.readMessages().filter((m) => m.type === MessageType.VoteResp);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.reject, false);
  });

  it('lease safety across a follower restart: the restarted follower cannot hand a vote to a rival', () => {
    // 5 nodes; nodes 4 and 5 have lost contact with leader 1, whose lease rests on {1,2,3}.
    const net = Network.ofSize(5, { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased });
    for (const n of net.nodes.values()) n.raft.ticks = 100;
    net.campaign(1);
    net.cut(1, 4);
    net.cut(1, 5);
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    const l = net.raft(1);
    assert.equal(l.leaseValid(), true);
    // Node 3 crashes and restarts from its storage, forgetting whom it acknowledged.
    const old3 = net.node(3);
    const cfg3 = newTestConfig(3, 10, 1, old3.storage, { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased });
    net.nodes.set(3, new TestNode(new Raft(cfg3), old3.storage));
    // Node 4 campaigns: 5 would vote for it, 2 is in the lease; the restarted 3 must not vote.
    for (const id of [4, 5]) net.raft(id).becomeFollower(net.raft(id).term, 0);
    net.send(msg({ type: MessageType.Hup, from: 4, to: 4 }));
    assert.notEqual(net.raft(4).state, StateType.Leader);
    assert.equal(l.leaseValid(), true);
    assert.equal(l.state, StateType.Leader);
  });

  it('lease-based reads require check-quorum (config validation)', () => {
    assert.throws(
      () => new Raft(newTestConfig(1, 10, 1, MemoryStorage.withConfState([1]), { readOnlyOption: ReadOnlyOption.LeaseBased })),
      (e: unknown) => e instanceof ConfigError && e.code === 'RAFT_INVALID_CONFIG',
    );
  });

  it('pending reads are discarded when the leader steps down', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    net.isolate(1);
    readIndex(net, 1, 'lost');
    const r = net.raft(1);
    assert.equal(r.readOnly.pendingCount(), 1);
    r.becomeFollower(r.term + 1, 2);
    assert.equal(r.readOnly.pendingCount(), 0);
  });
});
