// Learners and configuration changes: confchange.Changer (simple + joint), the leader's
// one-pending-change rule, auto-leave, and learner behaviour (etcd confchange/ and
// raft_test.go TestLearner*, TestAddNode*, TestRemoveNode*, TestCommitAfterRemoveNode).
import { strict as assert } from 'node:assert';
import {
  Changer,
  ConfChangeError,
  ConfChangeRefusedError,
  ProposalDroppedError,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChange,
  EntryType,
  MessageType,
  ProgressTracker,
  Raft,
  StateType,
  describeConfig,
  encodeConfChange,
  msg,
  restoreConfState,
  EMPTY,
  type ConfChangeSingle,
  decodeMessage,
  encodeMessage,
} from '../../../node/src/raft/index.js';
import { Network, TestNode, newTestConfig, storageWithLog, tickN } from './helpers.js';

const add = (id: number): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId: id });
const learner = (id: number): ConfChangeSingle => ({ type: ConfChangeType.AddLearner, nodeId: id });
const remove = (id: number): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId: id });
const cc = (changes: ConfChangeSingle[], transition = ConfChangeTransition.Auto): ConfChange => ({ transition, changes, context: EMPTY });

function tracker(voters: number[], learners: number[] = []): ProgressTracker {
  const t = new ProgressTracker(10);
  const r = restoreConfState(t, 5, { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false });
  t.config = r.config;
  t.progress = r.progress;
  return t;
}

function applyTo(t: ProgressTracker, r: { config: ProgressTracker['config']; progress: ProgressTracker['progress'] }): void {
  t.config = r.config;
  t.progress = r.progress;
}

describe('raft confchange', () => {
  it('simple: add a voter, add a learner, promote, remove', () => {
    const t = tracker([1]);
    applyTo(t, new Changer(t, 5).simple([add(2)]));
    assert.equal(describeConfig(t.config), 'voters=(1 2)');
    applyTo(t, new Changer(t, 5).simple([learner(3)]));
    assert.equal(describeConfig(t.config), 'voters=(1 2) learners=(3)');
    assert.equal(t.progress.get(3)!.isLearner, true);
    applyTo(t, new Changer(t, 5).simple([add(3)]));
    assert.equal(describeConfig(t.config), 'voters=(1 2 3)');
    assert.equal(t.progress.get(3)!.isLearner, false);
    applyTo(t, new Changer(t, 5).simple([remove(2)]));
    assert.equal(describeConfig(t.config), 'voters=(1 3)');
    assert.equal(t.progress.has(2), false);
  });

  it('simple: refuses to change more than one voter at once', () => {
    const t = tracker([1]);
    assert.throws(() => new Changer(t, 5).simple([add(2), add(3)]), /more than one voter changed/);
    // Learners don't count: one voter plus learners is fine.
    applyTo(t, new Changer(t, 5).simple([add(2), learner(3), learner(4)]));
    assert.equal(describeConfig(t.config), 'voters=(1 2) learners=(3 4)');
  });

  it('refuses to remove all voters', () => {
    const t = tracker([1]);
    assert.throws(() => new Changer(t, 5).simple([remove(1)]), (e: unknown) => e instanceof ConfChangeError && /removed all voters/.test(e.message));
  });

  it('joint: enter with several changes, then leave; demoted voters become learners on leave', () => {
    const t = tracker([1, 2, 3]);
    applyTo(t, new Changer(t, 5).enterJoint(true, [add(4), remove(1), learner(2)]));
    assert.equal(describeConfig(t.config), 'voters=(3 4)&&(1 2 3) learners_next=(2) autoleave');
    assert.throws(() => new Changer(t, 5).enterJoint(false, [add(5)]), /already joint/);
    assert.throws(() => new Changer(t, 5).simple([add(5)]), /in joint config/);
    applyTo(t, new Changer(t, 5).leaveJoint());
    assert.equal(describeConfig(t.config), 'voters=(3 4) learners=(2)');
    assert.equal(t.progress.has(1), false);
    assert.equal(t.progress.get(2)!.isLearner, true);
    assert.throws(() => new Changer(t, 5).leaveJoint(), /non-joint/);
  });

  it('joint quorum needs majorities of both halves', () => {
    const t = tracker([1, 2, 3]);
    applyTo(t, new Changer(t, 5).enterJoint(false, [remove(1), remove(2), add(4), add(5)]));
    // incoming (3 4 5), outgoing (1 2 3)
    const set = (m: Record<number, number>): void => {
      for (const [id, pr] of t.progress) pr.match = m[id] ?? 0;
    };
    set({ 1: 10, 2: 10, 3: 10 });
    assert.equal(t.committed(), 0, 'outgoing majority alone is not enough');
    set({ 3: 10, 4: 10, 5: 10 });
    assert.equal(t.committed(), 0, 'incoming majority alone is not enough');
    set({ 1: 10, 3: 8, 4: 9 });
    assert.equal(t.committed(), 8);
  });

  it('restoring a ConfState reproduces the config', () => {
    const t = tracker([1, 2, 3]);
    applyTo(t, new Changer(t, 5).enterJoint(true, [add(4), learner(1)]));
    const cs = t.confState();
    const t2 = new ProgressTracker(10);
    applyTo(t2, restoreConfState(t2, 5, cs));
    assert.equal(describeConfig(t2.config), describeConfig(t.config));
  });
});

describe('raft membership changes', () => {
  function proposeCC(net: Network, leader: number, c: ConfChange): void {
    net.send(msg({ type: MessageType.Prop, from: leader, to: leader, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(c) }] }));
  }

  /** Apply committed entries everywhere, calling applyConfChange like a host would. */
  function applyAll(net: Network): void {
    for (const n of net.nodes.values()) {
      n.applyCommitted();
    }
    net.flush();
  }

  it('the leader refuses a second conf change while one is pending (proposed but not applied)', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    applyAll(net);
    const r = net.raft(1);
    proposeCC(net, 1, cc([learner(4)]));
    const pending = r.pendingConfIndex;
    assert.ok(pending > r.raftLog.applied);
    // Proposed on the leader itself: refused with a typed error, nothing appended.
    const li = r.raftLog.lastIndex();
    assert.throws(
      () => r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc([learner(5)])) }] })),
      (e: unknown) => e instanceof ConfChangeRefusedError && e.code === 'RAFT_CONF_CHANGE_REFUSED' && e instanceof ProposalDroppedError && /unapplied conf change/.test(e.message),
    );
    assert.equal(r.raftLog.lastIndex(), li);
    // Forwarded from a follower: neutralised into an empty normal entry (as in etcd).
    net.send(msg({ type: MessageType.Prop, from: 2, to: 2, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc([learner(5)])) }] }));
    const last = r.raftLog.slice(r.raftLog.lastIndex(), r.raftLog.lastIndex() + 1, Infinity)[0]!;
    assert.equal(r.raftLog.lastIndex(), li + 1);
    assert.equal(last.type, EntryType.Normal);
    assert.equal(last.data.length, 0);
    assert.equal(r.pendingConfIndex, pending);
    applyAll(net);
    assert.deepEqual(r.trk.confState().learners, [4]);
    // Now that it is applied, the next change is accepted.
    proposeCC(net, 1, cc([learner(5)]));
    applyAll(net);
    assert.deepEqual(r.trk.confState().learners, [4, 5]);
  });

  it('an undecodable conf change never enters the log (replaced by an empty entry)', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    applyAll(net);
    const r = net.raft(1);
    const before = r.pendingConfIndex;
    net.send(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: new Uint8Array([9, 9, 9]) }] }));
    const last = r.raftLog.slice(r.raftLog.lastIndex(), r.raftLog.lastIndex() + 1, Infinity)[0]!;
    assert.equal(last.type, EntryType.Normal);
    assert.equal(r.pendingConfIndex, before);
    applyAll(net); // no replica chokes on it
  });

  it('a conf change dropped by the uncommitted-size limit does not block the next one', () => {
    const net = Network.ofSize(3, { maxUncommittedEntriesSize: 50 });
    net.campaign(1);
    applyAll(net);
    net.isolate(1);
    const r = net.raft(1);
    net.send(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: new Uint8Array(40) }] }));
    const big = encodeConfChange({ transition: 0, changes: [learner(4)], context: new Uint8Array(40) });
    assert.throws(
      () => r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: big }] })),
      /uncommitted/,
    );
    assert.ok(r.pendingConfIndex <= r.raftLog.applied, 'no phantom pending conf change');
  });

  it('a new leader refuses conf changes until its log tail is applied', () => {
    // All nodes already have two entries of term 1 (possibly including a conf change).
    const nodes = [1, 2, 3].map((id) => {
      const s = storageWithLog([1, 2, 3], [1, 1], 1);
      return new TestNode(new Raft(newTestConfig(id, 10, 1, s)), s);
    });
    const net = new Network(nodes);
    net.campaign(1);
    const r = net.raft(1);
    assert.equal(r.pendingConfIndex, 2);
    const li = r.raftLog.lastIndex();
    assert.throws(
      () => r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc([learner(4)])) }] })),
      ConfChangeRefusedError,
    );
    assert.equal(r.raftLog.lastIndex(), li);
    applyAll(net);
    proposeCC(net, 1, cc([learner(4)]));
    applyAll(net);
    assert.deepEqual(r.trk.confState().learners, [4]);
  });

  it('joint consensus with auto-leave: the leader proposes leaving once the joint config is applied', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    applyAll(net);
    proposeCC(net, 1, cc([add(4), remove(3)], ConfChangeTransition.JointImplicit));
    applyAll(net); // enter joint (leader then auto-proposes leave)
    const r = net.raft(1);
    applyAll(net);
    applyAll(net);
    assert.deepEqual(r.trk.confState().voters, [1, 2, 4]);
    assert.deepEqual(r.trk.confState().votersOutgoing, []);
    assert.equal(r.trk.config.autoLeave, false);
  });

  it('explicit joint consensus stays joint until an empty conf change is proposed', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    applyAll(net);
    proposeCC(net, 1, cc([add(4), remove(3)], ConfChangeTransition.JointExplicit));
    applyAll(net);
    applyAll(net);
    const r = net.raft(1);
    assert.deepEqual(r.trk.confState().votersOutgoing, [1, 2, 3]);
    proposeCC(net, 1, cc([]));
    applyAll(net);
    assert.deepEqual(r.trk.confState().votersOutgoing, []);
    assert.deepEqual(r.trk.confState().voters, [1, 2, 4]);
  });

  it('a removed leader steps down when it applies its own removal', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    applyAll(net);
    proposeCC(net, 1, cc([remove(1)]));
    applyAll(net);
    assert.equal(net.raft(1).state, StateType.Follower);
    // The remaining two elect a leader among themselves.
    net.campaign(2);
    assert.equal(net.raft(2).state, StateType.Leader);
  });

  it('removing a node lets pending entries commit with the smaller quorum', () => {
    const net = Network.ofSize(3);
    net.campaign(1);
    applyAll(net);
    net.isolate(2);
    net.isolate(3);
    net.propose(1, 'stuck');
    const r = net.raft(1);
    const stuckIdx = r.raftLog.lastIndex();
    assert.ok(r.raftLog.committed < stuckIdx);
    // Apply removals directly (as if committed earlier): with voters {1} the entry commits.
    r.applyConfChange(cc([remove(2)]));
    r.applyConfChange(cc([remove(3)]));
    assert.equal(r.raftLog.committed, stuckIdx);
  });
});

describe('raft learners', () => {
  it('a learner never campaigns', () => {
    const n = TestNode.create(2, [1], 10, 1, {}, [2]);
    assert.equal(n.raft.isLearner, true);
    tickN(n.raft, 100);
    assert.equal(n.raft.state, StateType.Follower);
    assert.equal(n.readMessages().length, 0);
    n.raft.step(msg({ type: MessageType.Hup, from: 2, to: 2 }));
    assert.equal(n.raft.state, StateType.Follower);
  });

  it('a learner receives the log but does not count toward commit', () => {
    const a = TestNode.create(1, [1, 2], 10, 1, {}, [3]);
    const b = TestNode.create(2, [1, 2], 10, 1, {}, [3]);
    const c = TestNode.create(3, [1, 2], 10, 1, {}, [3]);
    const net = new Network([a, b, c]);
    net.campaign(1);
    net.isolate(2);
    net.propose(1, 'x');
    const last = a.raft.raftLog.lastIndex();
    assert.equal(c.raft.raftLog.lastIndex(), last, 'learner got the entry');
    assert.ok(a.raft.raftLog.committed < last, 'learner ack is not a quorum');
    net.recover();
    net.send(msg({ type: MessageType.Beat, from: 1, to: 1 }));
    assert.equal(a.raft.raftLog.committed, last);
  });

  it('a learner does not vote (its vote is not counted) and votes are not requested from it', () => {
    const a = TestNode.create(1, [1, 2], 10, 1, {}, [3]);
    a.raft.step(msg({ type: MessageType.Hup, from: 1, to: 1 }));
    const to = a.readMessages().map((m) => m.to);
    assert.deepEqual(to, [2]);
    a.raft.step(msg({ type: MessageType.VoteResp, from: 3, to: 1, term: a.raft.term }));
    assert.equal(a.raft.state, StateType.Candidate);
  });

  it('a promoted learner can campaign and win', () => {
    const a = TestNode.create(1, [1, 2], 10, 1, {}, [3]);
    const b = TestNode.create(2, [1, 2], 10, 1, {}, [3]);
    const c = TestNode.create(3, [1, 2], 10, 1, {}, [3]);
    const net = new Network([a, b, c]);
    net.campaign(1);
    for (const n of [a, b, c]) n.raft.applyConfChange(cc([add(3)]));
    assert.equal(c.raft.isLearner, false);
    net.campaign(3);
    assert.equal(c.raft.state, StateType.Leader);
  });
});

function applyEverywhere(net: Network): void {
  for (const n of net.nodes.values()) n.applyCommitted();
  net.flush();
}

describe('raft progress generations (a peer id removed and added back)', () => {
  // Jepsen seed 601: a store re-added ~400 ms after its removal was promoted on its destroyed replica's
  // late acknowledgements. The leader now drops answers to messages sent under an earlier Progress.
  function leaderWithLearner(): { r: Raft; sentGen: () => number } {
    const net = Network.ofSize(2);
    net.campaign(1);
    applyEverywhere(net);
    const r = net.raft(1);
    r.applyConfChange(cc([learner(3)]));
    for (let i = 0; i < 3; i++) net.propose(1, `e${i}`);
    applyEverywhere(net);
    r.msgs = [];
    const sentGen = (): number => {
      r.msgs = [];
      r.bcastHeartbeat();
      const m = r.msgs.find((x) => x.to === 3 && x.type === MessageType.Heartbeat);
      assert.ok(m !== undefined, 'the leader sends learner 3 a heartbeat');
      assert.equal(m.gen, r.trk.progress.get(3)!.gen);
      return m.gen ?? 0;
    };
    return { r, sentGen };
  }

  it("a late answer of the removed replica does not count for the new one", () => {
    const { r, sentGen } = leaderWithLearner();
    const oldGen = sentGen();
    assert.ok(oldGen > 0, 'appends carry the generation');
    const last = r.raftLog.lastIndex();
    r.applyConfChange(cc([remove(3)]));
    r.applyConfChange(cc([learner(3)]));
    const newGen = sentGen();
    assert.notEqual(newGen, oldGen);
    // The destroyed replica's acknowledgement of everything, arriving now.
    r.step(msg({ type: MessageType.AppResp, from: 3, to: 1, term: r.term, index: last, gen: oldGen }));
    r.step(msg({ type: MessageType.HeartbeatResp, from: 3, to: 1, term: r.term, gen: oldGen }));
    assert.equal(r.trk.progress.get(3)!.match, 0, 'the new replica is not credited with the old one\'s log');
    // The new replica's own answer counts.
    r.step(msg({ type: MessageType.AppResp, from: 3, to: 1, term: r.term, index: last, gen: newGen }));
    assert.equal(r.trk.progress.get(3)!.match, last);
  });

  it('negative control: the same late answer without a generation is credited (the hazard)', () => {
    const { r } = leaderWithLearner();
    const last = r.raftLog.lastIndex();
    r.applyConfChange(cc([remove(3)]));
    r.applyConfChange(cc([learner(3)]));
    r.step(msg({ type: MessageType.AppResp, from: 3, to: 1, term: r.term, index: last }));
    assert.equal(r.trk.progress.get(3)!.match, last);
  });

  it('followers echo the generation; the codec carries it (and omits it when 0)', () => {
    const f = TestNode.create(2, [1, 2]);
    f.raft.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1, gen: 42 }));
    f.raft.step(msg({ type: MessageType.App, from: 1, to: 2, term: 1, index: 0, logTerm: 0, gen: 43 }));
    const out = f.readMessages();
    assert.deepEqual(out.map((m) => [MessageType[m.type], m.gen]), [['HeartbeatResp', 42], ['AppResp', 43]]);
    const m = msg({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 9, gen: 77 });
    assert.equal(decodeMessage(encodeMessage(m)).gen, 77);
    const plain = msg({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: 9 });
    assert.equal(decodeMessage(encodeMessage(plain)).gen, undefined);
    assert.equal(encodeMessage(plain).length, encodeMessage({ ...plain, gen: 0 }).length);
  });
});
