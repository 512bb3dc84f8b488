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
import { Network, ctx, newTestConfig, types } from './helpers.js';

function readIndex(net: Network, id: number, c: string): void {
  net.send(msg({ type: MessageType.ReadIndex, from: id, to: id, entries: [{ term: 0, index: 0, type: 0, data: ctx(c) }] }));
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

  it('lease-based reads are answered without a heartbeat round', () => {
    const net = Network.ofSize(3, { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased });
    net.campaign(1);
    net.isolate(1); // no round trip possible, but within the lease the leader answers
    readIndex(net, 1, 'lease');
    assert.equal(net.raft(1).readStates.length, 1);
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
