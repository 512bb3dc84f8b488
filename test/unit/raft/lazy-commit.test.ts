// lazyCommitBroadcast: a commit index that advances is not sent on its own; followers learn it with the
// next append or heartbeat. etcd-raft's eager broadcast is the negative control of each check.
import { strict as assert } from 'node:assert';
import { ConfChangeTransition, ConfChangeType, EntryType, MessageType, encodeConfChange, msg } from '../../../node/src/raft/index.js';
import { Network, TestNode, bytes } from './helpers.js';

function cluster(lazy: boolean): { net: Network; sent: Array<{ from: number; to: number; type: string; entries: number; commit: number }> } {
  const ids = [1, 2, 3];
  const net = new Network(ids.map((id) => TestNode.create(id, ids, 10, 1, { lazyCommitBroadcast: lazy })));
  net.campaign(1);
  const sent: Array<{ from: number; to: number; type: string; entries: number; commit: number }> = [];
  net.msgHook = (m) => {
    sent.push({ from: m.from, to: m.to, type: MessageType[m.type]!, entries: m.entries.length, commit: m.commit });
    return true;
  };
  return { net, sent };
}

function proposeOne(net: Network): void {
  net.send(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('x') }] }));
}

describe('raft: lazy commit broadcast', () => {
  for (const lazy of [true, false]) {
    it(`${lazy ? 'lazy' : 'eager (negative control)'}: a lone proposal costs ${lazy ? 'no' : 'two'} commit-only appends`, () => {
      const { net, sent } = cluster(lazy);
      proposeOne(net);
      const leader = net.raft(1);
      const commitOnly = sent.filter((m) => m.from === 1 && m.type === 'App' && m.entries === 0);
      assert.equal(commitOnly.length, lazy ? 0 : 2, JSON.stringify(sent));
      assert.equal(sent.filter((m) => m.type === 'App' && m.entries === 1).length, 2, 'the entry itself goes to both followers');
      const committed = leader.raftLog.committed;
      assert.equal(committed, leader.raftLog.lastIndex(), 'committed on the leader');
      for (const id of [2, 3]) assert.equal(net.raft(id).raftLog.committed, lazy ? committed - 1 : committed, `follower ${id}`);
    });
  }

  it('lazy: the next heartbeat carries the commit index to the followers', () => {
    const { net } = cluster(true);
    proposeOne(net);
    const committed = net.raft(1).raftLog.committed;
    assert.ok(net.raft(2).raftLog.committed < committed);
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    for (const id of [2, 3]) assert.equal(net.raft(id).raftLog.committed, committed);
  });

  it('lazy: the next proposal\'s append carries the earlier commit index', () => {
    const { net } = cluster(true);
    proposeOne(net);
    const first = net.raft(1).raftLog.committed;
    proposeOne(net);
    for (const id of [2, 3]) assert.equal(net.raft(id).raftLog.committed, first, `follower ${id} learned the first commit with the second append`);
  });

  it('lazy: a follower missing entries still gets them when the commit advances (only commit-only appends are skipped)', () => {
    const { net, sent } = cluster(true);
    net.drop(1, 3, 1); // follower 3 misses the append
    proposeOne(net);
    net.recover();
    sent.length = 0;
    // Follower 3 is in Replicate with the entry optimistically sent; a heartbeat round reveals it lacks it.
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.ok(sent.some((m) => m.from === 1 && m.to === 3 && m.type === 'App' && m.entries === 1), JSON.stringify(sent));
    assert.equal(net.raft(3).raftLog.lastIndex(), net.raft(1).raftLog.lastIndex());
    assert.equal(net.raft(3).raftLog.committed, net.raft(1).raftLog.committed);
  });
});

const removeThree = (): Uint8Array => encodeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, nodeId: 3 }], context: new Uint8Array(0) });
const proposeConfChange = (net: Network): void =>
  net.send(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: removeThree() }] }));

describe('raft: lazy commit broadcast and conf changes', () => {
  for (const lazy of [true, false]) {
    it(`${lazy ? 'lazy' : 'eager'}: the commit of a conf change removing a member reaches that member at once`, () => {
      const { net } = cluster(lazy);
      proposeOne(net);
      proposeConfChange(net);
      const committed = net.raft(1).raftLog.committed;
      assert.equal(committed, net.raft(1).raftLog.lastIndex());
      assert.equal(net.raft(3).raftLog.committed, committed, 'the member being removed knows the conf change committed');
      assert.equal(net.raft(2).raftLog.committed, committed);
    });
  }

  it('negative control: with the pending conf index forgotten, the member being removed does not learn the commit', () => {
    const { net } = cluster(true);
    proposeOne(net);
    net.msgHook = (m) => {
      if (m.type === MessageType.AppResp) net.raft(1).pendingConfIndex = 0;
      return true;
    };
    proposeConfChange(net);
    const committed = net.raft(1).raftLog.committed;
    assert.equal(committed, net.raft(1).raftLog.lastIndex());
    assert.ok(net.raft(3).raftLog.committed < committed, 'a lazy broadcast leaves it behind');
  });
});

describe('raft: lazy commit broadcast, entries flagged by the host', () => {
  for (const flagged of [true, false]) {
    it(`${flagged ? 'a flagged entry' : 'an unflagged entry (control)'}: its commit reaches the followers ${flagged ? 'at once' : 'later'}`, () => {
      const { net } = cluster(true);
      proposeOne(net);
      net.ignore(MessageType.AppResp);
      proposeOne(net);
      net.recover();
      if (flagged) net.raft(1).commitEagerlyThrough(net.raft(1).raftLog.lastIndex());
      net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
      // The heartbeat round re-sends the entry; the acknowledgements commit it.
      const committed = net.raft(1).raftLog.committed;
      assert.equal(committed, net.raft(1).raftLog.lastIndex());
      for (const id of [2, 3]) assert.equal(net.raft(id).raftLog.committed === committed, flagged, `follower ${id}`);
    });
  }
});

describe('raft: lazy commit broadcast, proposals forwarded by a follower', () => {
  // The follower answers its client (or a transaction's step) once it applies the entry: waiting for
  // the next heartbeat would add up to a tick to every write sent to a follower.
  it('the commit of a forwarded proposal reaches the follower that forwarded it at once, and only it', () => {
    const { net, sent } = cluster(true);
    net.send(msg({ type: MessageType.Prop, from: 2, to: 2, entries: [{ term: 0, index: 0, type: 0, data: bytes('via 2') }] }));
    const committed = net.raft(1).raftLog.committed;
    assert.equal(committed, net.raft(1).raftLog.lastIndex(), 'committed on the leader');
    assert.equal(net.raft(2).raftLog.committed, committed, 'follower 2, which waits to apply its proposal, is told at once');
    // Telling every follower cost each forwarded proposal one more append and its ack (issue 14's T).
    assert.ok(net.raft(3).raftLog.committed < committed, 'follower 3 learns it lazily');
    const commitOnly = sent.filter((m) => m.from === 1 && m.type === 'App' && m.entries === 0).map((m) => m.to);
    assert.deepEqual(commitOnly, [2], JSON.stringify(sent));
  });

  it('a follower missing the entry when the commit advances gets the entry with the commit', () => {
    const { net } = cluster(true);
    let dropped = 0;
    net.msgHook = (m) => {
      // Follower 2 misses the append of its own proposal (and only that).
      if (m.from === 1 && m.to === 2 && m.type === MessageType.App && m.entries.length > 0 && dropped === 0) return (dropped++, false);
      return true;
    };
    net.send(msg({ type: MessageType.Prop, from: 2, to: 2, entries: [{ term: 0, index: 0, type: 0, data: bytes('via 2') }] }));
    assert.equal(dropped, 1);
    const committed = net.raft(1).raftLog.committed;
    assert.equal(committed, net.raft(1).raftLog.lastIndex(), 'committed by the leader and follower 3');
    // The prompt append reveals the gap (rejected), and the entry follows with the commit — no heartbeat needed.
    assert.equal(net.raft(2).raftLog.lastIndex(), committed);
    assert.equal(net.raft(2).raftLog.committed, committed);
  });

  it("control: the leader's own proposal still leaves the followers a commit behind", () => {
    const { net } = cluster(true);
    proposeOne(net);
    assert.ok(net.raft(2).raftLog.committed < net.raft(1).raftLog.committed);
  });
});

describe('raft: lazy commit broadcast, a follower waiting to apply an index (a timestamp promise)', () => {
  // The leader answers a follower's promise request with its last index; the follower serves its read
  // once it applied it. Waiting for the next append or heartbeat cost transactions ~30 ms at p90.
  it('an index already committed: a heartbeat carries the commit to that follower now', () => {
    const { net, sent } = cluster(true);
    proposeOne(net);
    const committed = net.raft(1).raftLog.committed;
    assert.ok(net.raft(2).raftLog.committed < committed, 'lazy: follower 2 is a commit behind');
    sent.length = 0;
    net.raft(1).commitPromptlyTo(2, committed);
    net.flush();
    assert.equal(net.raft(2).raftLog.committed, committed, 'follower 2 learned it');
    assert.ok(net.raft(3).raftLog.committed < committed, 'only the follower that waits is told');
    assert.deepEqual(sent.filter((m) => m.from === 1).map((m) => `${m.type}→${m.to}`), ['Heartbeat→2']);
  });

  it('an index not committed yet: its commit goes out as soon as it advances; without the call (control) it does not', () => {
    for (const prompt of [true, false]) {
      const { net } = cluster(true);
      proposeOne(net);
      net.ignore(MessageType.AppResp);
      proposeOne(net);
      net.recover();
      const last = net.raft(1).raftLog.lastIndex();
      assert.ok(net.raft(1).raftLog.committed < last);
      if (prompt) net.raft(1).commitPromptlyTo(2, last);
      net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
      assert.equal(net.raft(1).raftLog.committed, last);
      assert.equal(net.raft(2).raftLog.committed === last, prompt, prompt ? 'told at once' : 'control: left a commit behind');
    }
  });
});
