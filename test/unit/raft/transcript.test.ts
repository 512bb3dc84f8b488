// Transcript tests (in the spirit of etcd's testdata/*.txt): the exact sequence of messages
// delivered by the synchronous test network, as "from->to Type Term:… fields".
import { strict as assert } from 'node:assert';
import { MessageType, Raft, msg, bytesToKey } from '../../../node/src/raft/index.js';
import { Network, TestNode, bytes, newTestConfig, storageWithLog } from './helpers.js';

describe('raft transcripts', () => {
  it('election and first commit in a 3-node cluster', () => {
    const n = Network.ofSize(3);
    n.recordTrace = true;
    n.campaign(1);
    assert.deepEqual(n.trace, [
      '1->1 Hup Term:0',
      '1->2 Vote Term:1 Log:0/0',
      '1->3 Vote Term:1 Log:0/0',
      '2->1 VoteResp Term:1',
      '3->1 VoteResp Term:1',
      // The new leader appends an empty entry of its term and replicates it...
      '1->2 App Term:1 Log:0/0 Commit:0 Entries:[1/1]',
      '1->3 App Term:1 Log:0/0 Commit:0 Entries:[1/1]',
      '2->1 AppResp Term:1 Index:1',
      '3->1 AppResp Term:1 Index:1',
      // ...and, once it commits, tells the followers the new commit index.
      '1->2 App Term:1 Log:1/1 Commit:1',
      '1->3 App Term:1 Log:1/1 Commit:1',
      '2->1 AppResp Term:1 Index:1',
      '3->1 AppResp Term:1 Index:1',
    ]);
  });

  it('pre-vote round precedes the real election', () => {
    const n = Network.ofSize(3, { preVote: true });
    n.recordTrace = true;
    n.campaign(1);
    assert.deepEqual(n.trace.slice(0, 9), [
      '1->1 Hup Term:0',
      '1->2 PreVote Term:1 Log:0/0',
      '1->3 PreVote Term:1 Log:0/0',
      '2->1 PreVoteResp Term:1',
      '3->1 PreVoteResp Term:1',
      '1->2 Vote Term:1 Log:0/0',
      '1->3 Vote Term:1 Log:0/0',
      '2->1 VoteResp Term:1',
      '3->1 VoteResp Term:1',
    ]);
  });

  it('replicating one proposal', () => {
    const n = Network.ofSize(3);
    n.campaign(1);
    n.recordTrace = true;
    n.propose(1, 'x');
    assert.deepEqual(n.trace, [
      '1->1 Prop Term:0 Entries:1',
      '1->2 App Term:1 Log:1/1 Commit:1 Entries:[1/2]',
      '1->3 App Term:1 Log:1/1 Commit:1 Entries:[1/2]',
      '2->1 AppResp Term:1 Index:2',
      '3->1 AppResp Term:1 Index:2',
      '1->2 App Term:1 Log:1/2 Commit:2',
      '1->3 App Term:1 Log:1/2 Commit:2',
      '2->1 AppResp Term:1 Index:2',
      '3->1 AppResp Term:1 Index:2',
    ]);
  });

  it('repairing a divergent follower log with one rejection (term-skipping hint)', () => {
    // leader: terms [1 1 2 3 3]; follower: [1 1 2 2 2 2] (longer, but older terms)
    const ls = storageWithLog([1, 2], [1, 1, 2, 3, 3], 3);
    const fs = storageWithLog([1, 2], [1, 1, 2, 2, 2, 2], 3);
    const n = new Network([new TestNode(new Raft(newTestConfig(1, 10, 1, ls)), ls), new TestNode(new Raft(newTestConfig(2, 10, 1, fs)), fs)]);
    n.recordTrace = true;
    n.campaign(1);
    assert.deepEqual(n.trace, [
      '1->1 Hup Term:0',
      '1->2 Vote Term:4 Log:3/5',
      '2->1 VoteResp Term:4',
      '1->2 App Term:4 Log:3/5 Commit:0 Entries:[4/6]',
      // Follower: "index 5 doesn't match; my best guess is index 5 with term 2".
      '2->1 AppResp Term:4 Rejected (Hint: 5/2) Index:5',
      // Leader skips all of its term-3 entries at once: the last index with term ≤ 2 is 3.
      '1->2 App Term:4 Log:2/3 Commit:0 Entries:[3/4 3/5 4/6]',
      '2->1 AppResp Term:4 Index:6',
      '1->2 App Term:4 Log:4/6 Commit:6',
      '2->1 AppResp Term:4 Index:6',
    ]);
    assert.deepEqual(
      n.raft(2).raftLog.allEntries().map((e) => e.term),
      [1, 1, 2, 3, 3, 4],
    );
  });

  it('leader transfer', () => {
    const n = Network.ofSize(3);
    n.campaign(1);
    n.recordTrace = true;
    n.send(msg({ type: MessageType.TransferLeader, from: 3, to: 1 }));
    assert.deepEqual(n.trace.slice(0, 6), [
      '3->1 TransferLeader Term:0',
      '1->3 TimeoutNow Term:1',
      '3->1 Vote Term:2 Log:1/1',
      '3->2 Vote Term:2 Log:1/1',
      '1->3 VoteResp Term:2',
      '2->3 VoteResp Term:2',
    ]);
  });

  it('read index: four reads (three local, one forwarded) served by one heartbeat round', () => {
    const n = Network.ofSize(3);
    n.campaign(1);
    n.recordTrace = true;
    const r = n.raft(1);
    for (const c of ['a', 'b', 'c']) {
      r.step(msg({ type: MessageType.ReadIndex, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes(c) }] }));
    }
    n.send(msg({ type: MessageType.ReadIndex, from: 2, to: 2, entries: [{ term: 0, index: 0, type: 0, data: bytes('d') }] }));
    n.flush();
    assert.deepEqual(n.trace, [
      '2->2 ReadIndex Term:0',
      '2->1 ReadIndex Term:0',
      '1->2 Heartbeat Term:1 Commit:1',
      '1->3 Heartbeat Term:1 Commit:1',
      '2->1 HeartbeatResp Term:1',
      '3->1 HeartbeatResp Term:1',
      '1->2 ReadIndexResp Term:1 Index:1',
    ]);
    assert.deepEqual(
      r.readStates.map((s) => `${new TextDecoder().decode(s.requestCtx)}@${s.index}`),
      ['a@1', 'b@1', 'c@1'],
    );
    assert.deepEqual(
      n.raft(2).readStates.map((s) => bytesToKey(s.requestCtx)),
      ['d'],
    );
  });
});
