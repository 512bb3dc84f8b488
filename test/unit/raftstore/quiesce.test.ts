// Quiescence (raftstore/quiesce.ts, store-liveness.ts) and the raft core's part of it (quiesceHeartbeat,
// unquiesce, forgetLeader): when an idle leader may stop ticking, when a follower follows, which store
// liveness transitions are reported, and that a tick-clock lease refuses to quiesce (a leader that does
// not tick would never see that lease expire).
import assert from 'node:assert/strict';
import { MessageType, ReadOnlyOption, StateType, msg } from '../../../node/src/raft/index.js';
import {
  decodeQuiesceMarker,
  encodeQuiesceMarker,
  followerMayQuiesce,
  leaderQuiesceBlocker,
  type LeaderQuiesceInput,
} from '../../../node/src/raftstore/quiesce.js';
import { StoreLiveness } from '../../../node/src/raftstore/store-liveness.js';
import { Network, TestNode, tickN } from '../raft/helpers.js';

function idle(over: Partial<LeaderQuiesceInput> = {}): LeaderQuiesceInput {
  return {
    self: 1,
    lastIndex: 10,
    committed: 10,
    applied: 10,
    hostBusy: false,
    raftBusy: false,
    voters: [1, 2, 3],
    learners: [],
    progress: new Map([
      [2, { match: 10, replicating: true }],
      [3, { match: 10, replicating: true }],
    ]),
    live: () => true,
    ...over,
  };
}

describe('quiesce: the leader decision', function () {
  it('an idle, fully replicated range may quiesce', function () {
    assert.equal(leaderQuiesceBlocker(idle()), undefined);
  });

  it('busy host, raft work, uncommitted or unapplied entries block it', function () {
    assert.equal(leaderQuiesceBlocker(idle({ hostBusy: true })), 'host work in flight');
    assert.equal(leaderQuiesceBlocker(idle({ raftBusy: true })), 'raft work in flight');
    assert.equal(leaderQuiesceBlocker(idle({ committed: 9 })), 'uncommitted entries');
    assert.equal(leaderQuiesceBlocker(idle({ applied: 9 })), 'unapplied entries');
  });

  it('a live follower or learner that is behind (or probing) blocks it', function () {
    const behind = new Map([
      [2, { match: 10, replicating: true }],
      [3, { match: 9, replicating: true }],
    ]);
    assert.equal(leaderQuiesceBlocker(idle({ progress: behind })), 'member 3 is behind');
    const probing = new Map([
      [2, { match: 10, replicating: true }],
      [3, { match: 10, replicating: false }],
    ]);
    assert.equal(leaderQuiesceBlocker(idle({ progress: probing })), 'member 3 is behind');
    const learner = new Map([...idle().progress, [4, { match: 3, replicating: true }]]);
    assert.equal(leaderQuiesceBlocker(idle({ learners: [4], progress: learner })), 'member 4 is behind');
  });

  it('a dead member is left out, but the live caught-up voters must be a quorum', function () {
    const behind = new Map([
      [2, { match: 10, replicating: true }],
      [3, { match: 2, replicating: false }],
    ]);
    assert.equal(leaderQuiesceBlocker(idle({ progress: behind, live: (id) => id !== 3 })), undefined);
    assert.equal(leaderQuiesceBlocker(idle({ live: () => false })), 'no live quorum');
    // Five voters, two dead: three live caught up is a quorum; three dead is not.
    const five = new Map([2, 3, 4, 5].map((id) => [id, { match: 10, replicating: true }] as const));
    assert.equal(leaderQuiesceBlocker(idle({ voters: [1, 2, 3, 4, 5], progress: five, live: (id) => id <= 3 })), undefined);
    assert.equal(leaderQuiesceBlocker(idle({ voters: [1, 2, 3, 4, 5], progress: five, live: (id) => id <= 2 })), 'no live quorum');
  });
});

describe('quiesce: the follower decision and the marker', function () {
  it('the marker round-trips and is never mistaken for a read-index context', function () {
    assert.equal(decodeQuiesceMarker(encodeQuiesceMarker(123456789)), 123456789);
    assert.equal(decodeQuiesceMarker(new Uint8Array(0)), undefined);
    assert.equal(decodeQuiesceMarker(Buffer.alloc(12)), undefined); // a read-index ctx is 12 bytes too
  });

  it('a follower follows only with the whole log committed and nothing pending', function () {
    const base = { isFollower: true, fromLeader: true, lastIndex: 10, committed: 10, leaderLastIndex: 10, hostBusy: false };
    assert.equal(followerMayQuiesce(base), true);
    assert.equal(followerMayQuiesce({ ...base, lastIndex: 9 }), false);
    assert.equal(followerMayQuiesce({ ...base, lastIndex: 11 }), false); // uncommitted tail of an old term
    assert.equal(followerMayQuiesce({ ...base, committed: 9 }), false);
    assert.equal(followerMayQuiesce({ ...base, fromLeader: false }), false);
    assert.equal(followerMayQuiesce({ ...base, isFollower: false }), false);
    assert.equal(followerMayQuiesce({ ...base, hostBusy: true }), false);
  });
});

describe('store liveness', function () {
  it('reports down after the timeout, up when heard again or restarted', function () {
    const l = new StoreLiveness(1000, 0);
    l.heard(2, 7, 0);
    l.heard(3, 9, 0);
    assert.deepEqual(l.check(500), { down: [], up: [] });
    l.heard(2, 7, 900);
    assert.deepEqual(l.check(1200), { down: [3], up: [] });
    assert.equal(l.live(3, 1200), false);
    assert.equal(l.live(2, 1200), true);
    assert.deepEqual(l.check(1300), { down: [], up: [] }, 'reported once');
    l.heard(3, 9, 1400);
    assert.deepEqual(l.check(1400), { down: [], up: [3] });
    l.heard(2, 8, 1500); // a new boot id: restarted in between
    assert.deepEqual(l.check(1500), { down: [], up: [2], restarted: [2] });
    assert.deepEqual(l.downStores(), []);
  });

  it('a store never heard from is live during the start-up grace, then goes down', function () {
    const l = new StoreLiveness(1000, 5000);
    assert.equal(l.live(4, 5500), true);
    assert.deepEqual(l.check(5500, [4]), { down: [], up: [] });
    assert.deepEqual(l.check(6100, [4]), { down: [4], up: [] });
    assert.equal(l.live(4, 6100), false);
  });
});

describe('raft core: quiescence hooks', function () {
  let clock = 0;
  const lease = () => ({ checkQuorum: true, preVote: true, readOnlyOption: ReadOnlyOption.LeaseBased, leaseClock: { now: () => clock, tickInterval: 100_000 } });

  function elected(extra: () => object = () => ({ checkQuorum: true, preVote: true })): Network {
    const ids = [1, 2, 3];
    clock = 0;
    const net = new Network(ids.map((id) => TestNode.create(id, ids, 10, 1, extra())));
    // Past the start-up vote hold of a lease (on the clock, or in ticks).
    clock = 10_000_000;
    for (const n of net.nodes.values()) n.raft.ticks = 100;
    net.campaign(1);
    assert.equal(net.raft(1).state, StateType.Leader);
    return net;
  }

  it('quiesceHeartbeat sends one heartbeat per follower carrying the marker', function () {
    const net = elected();
    const r = net.raft(1);
    net.node(1).readMessages();
    assert.equal(r.quiesceHeartbeat(encodeQuiesceMarker(7)), true);
    const out = net.node(1).readMessages();
    assert.deepEqual(out.map((m) => [m.type, m.to, decodeQuiesceMarker(m.context)]), [
      [MessageType.Heartbeat, 2, 7],
      [MessageType.Heartbeat, 3, 7],
    ]);
    assert.equal(net.raft(2).quiesceHeartbeat(encodeQuiesceMarker(7)), false, 'followers do not');
  });

  it('is refused when lease time is the tick count (negative control: a clock lease accepts)', function () {
    const ticks = elected(() => ({ checkQuorum: true, preVote: true, readOnlyOption: ReadOnlyOption.LeaseBased }));
    assert.equal(ticks.raft(1).quiesceHeartbeat(encodeQuiesceMarker(1)), false);
    const clock = elected(lease);
    assert.equal(clock.raft(1).quiesceHeartbeat(encodeQuiesceMarker(1)), true);
  });

  it('unquiesce restarts the check-quorum window and re-learns activity from a heartbeat round', function () {
    const net = elected();
    const r = net.raft(1);
    tickN(r, 9); // one tick short of a check-quorum
    net.node(1).readMessages();
    r.unquiesce();
    assert.equal(r.electionElapsed, 0);
    assert.equal(r.trk.progress.get(2)!.recentActive, false);
    const out = net.node(1).readMessages();
    assert.deepEqual(out.map((m) => m.type), [MessageType.Heartbeat, MessageType.Heartbeat]);
    net.send(...out);
    assert.equal(r.trk.progress.get(2)!.recentActive, true);
    // Only followers answering keeps it leader: cut off, it steps down within one election timeout.
    r.unquiesce();
    net.node(1).readMessages();
    tickN(r, 10);
    assert.equal(r.state, StateType.Follower);
  });

  it('forgetLeader lets a follower grant a pre-vote at once (without it the vote is withheld)', function () {
    const net = elected();
    const f2 = net.raft(2);
    const f3 = net.raft(3);
    const preVote = () => msg({ type: MessageType.PreVote, from: 3, to: 2, term: f3.term + 1, logTerm: f3.raftLog.lastTerm(), index: f3.raftLog.lastIndex() });
    // Negative control: a follower that heard from its leader ignores the pre-vote.
    net.node(2).readMessages();
    f2.step(preVote());
    assert.equal(net.node(2).readMessages().filter((m) => m.type === MessageType.PreVoteResp).length, 0);
    f2.forgetLeader();
    assert.equal(f2.lead, 0);
    f2.step(preVote());
    const resp = net.node(2).readMessages().filter((m) => m.type === MessageType.PreVoteResp);
    assert.equal(resp.length, 1);
    assert.equal(resp[0]!.reject, false);
    // And it campaigns within one election timeout of ticks.
    tickN(f2, 10);
    assert.notEqual(f2.state, StateType.Follower);
  });
});
