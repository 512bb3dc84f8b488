// Flow control and quorum arithmetic (etcd tracker/inflights_test.go, progress_test.go,
// quorum/ datadriven tests) plus replication behaviour that depends on them.
import { strict as assert } from 'node:assert';
import {
  Inflights,
  MessageType,
  Progress,
  ProgressState,
  VoteResult,
  jointCommitted,
  jointVoteResult,
  majorityCommitted,
  majorityVoteResult,
  msg,
} from '../../../node/src/raft/index.js';
import { TestNode, bytes, types } from './helpers.js';

describe('raft inflights', () => {
  it('fills up to the count limit and frees by index', () => {
    const f = new Inflights(3);
    f.add(1);
    f.add(2);
    assert.equal(f.full(), false);
    f.add(3);
    assert.equal(f.full(), true);
    assert.throws(() => f.add(4));
    f.freeLE(2);
    assert.equal(f.count(), 1);
    f.freeLE(1); // stale ack
    assert.equal(f.count(), 1);
    f.add(4);
    f.add(5);
    assert.equal(f.full(), true);
    f.freeFirstOne();
    assert.equal(f.count(), 2);
    f.freeLE(100);
    assert.equal(f.count(), 0);
  });

  it('respects a byte budget', () => {
    const f = new Inflights(100, 1000);
    f.add(1, 600);
    assert.equal(f.full(), false);
    f.add(2, 600);
    assert.equal(f.full(), true);
    f.freeLE(1);
    assert.equal(f.full(), false);
  });

  it('keeps working across many add/free cycles (internal compaction)', () => {
    const f = new Inflights(10);
    for (let i = 1; i <= 10_000; i++) {
      f.add(i);
      if (i % 3 === 0) f.freeLE(i - 1);
    }
    assert.ok(f.count() <= 10);
  });
});

describe('raft progress', () => {
  const pr = (state: ProgressState, match: number, next: number): Progress => {
    const p = new Progress(next, new Inflights(256), false);
    p.state = state;
    p.match = match;
    return p;
  };

  it('maybeUpdate advances match/next and ignores stale acks', () => {
    const p = pr(ProgressState.Replicate, 3, 5);
    assert.equal(p.maybeUpdate(2), false);
    assert.equal(p.maybeUpdate(4), true);
    assert.equal(p.match, 4);
    assert.equal(p.next, 5);
    assert.equal(p.maybeUpdate(6), true);
    assert.equal(p.next, 7);
  });

  it('maybeDecrTo in Replicate: a rejection above match resets next to match+1', () => {
    const p = pr(ProgressState.Replicate, 5, 10);
    assert.equal(p.maybeDecrTo(4, 4), false, 'stale rejection');
    assert.equal(p.maybeDecrTo(9, 9), true);
    assert.equal(p.next, 6);
  });

  it('maybeDecrTo in Probe: only the latest probe counts; uses the hint', () => {
    const p = pr(ProgressState.Probe, 0, 10);
    assert.equal(p.maybeDecrTo(5, 5), false, 'not the latest probe (next-1 = 9)');
    assert.equal(p.maybeDecrTo(9, 3), true);
    assert.equal(p.next, 4);
    assert.equal(p.maybeDecrTo(3, 0), true);
    assert.equal(p.next, 1, 'never below 1');
  });

  it('isPaused per state', () => {
    const probe = pr(ProgressState.Probe, 0, 1);
    assert.equal(probe.isPaused(), false);
    probe.probeSent = true;
    assert.equal(probe.isPaused(), true);
    const snap = pr(ProgressState.Snapshot, 0, 1);
    assert.equal(snap.isPaused(), true);
    const rep = new Progress(1, new Inflights(1), false);
    rep.becomeReplicate();
    assert.equal(rep.isPaused(), false);
    rep.inflights.add(1);
    assert.equal(rep.isPaused(), true);
  });

  it('becomeProbe after a snapshot resumes after the snapshot index', () => {
    const p = pr(ProgressState.Replicate, 1, 5);
    p.becomeSnapshot(10);
    p.becomeProbe();
    assert.equal(p.next, 11);
    assert.equal(p.state, ProgressState.Probe);
  });
});

describe('raft quorum', () => {
  it('majority committed index', () => {
    const m = (acks: Record<number, number>) => (id: number) => acks[id];
    assert.equal(majorityCommitted(new Set([1, 2, 3]), m({ 1: 5, 2: 3, 3: 1 })), 3);
    assert.equal(majorityCommitted(new Set([1, 2, 3]), m({ 1: 5 })), 0);
    assert.equal(majorityCommitted(new Set([1, 2, 3, 4]), m({ 1: 5, 2: 4, 3: 3, 4: 2 })), 3);
    assert.equal(majorityCommitted(new Set([1]), m({ 1: 7 })), 7);
    assert.equal(majorityCommitted(new Set(), m({})), Number.MAX_SAFE_INTEGER);
  });

  it('joint committed index is the minimum of both halves', () => {
    const acks = (id: number): number | undefined => ({ 1: 10, 2: 9, 3: 2, 4: 1 })[id];
    assert.equal(jointCommitted([new Set([1, 2, 3]), new Set()], acks), 9);
    assert.equal(jointCommitted([new Set([1, 2, 3]), new Set([3, 4])], acks), 1);
  });

  it('vote results: won, lost, pending; joint requires both', () => {
    const v = (o: Record<number, boolean>) => new Map(Object.entries(o).map(([k, b]) => [Number(k), b]));
    assert.equal(majorityVoteResult(new Set([1, 2, 3]), v({ 1: true, 2: true })), VoteResult.Won);
    assert.equal(majorityVoteResult(new Set([1, 2, 3]), v({ 1: true, 2: false })), VoteResult.Pending);
    assert.equal(majorityVoteResult(new Set([1, 2, 3]), v({ 1: false, 2: false })), VoteResult.Lost);
    assert.equal(majorityVoteResult(new Set(), v({})), VoteResult.Won);
    assert.equal(jointVoteResult([new Set([1, 2, 3]), new Set([3, 4, 5])], v({ 1: true, 2: true, 3: true })), VoteResult.Pending);
    assert.equal(jointVoteResult([new Set([1, 2, 3]), new Set([3, 4, 5])], v({ 1: true, 3: true, 4: true })), VoteResult.Won);
    assert.equal(jointVoteResult([new Set([1, 2, 3]), new Set([3, 4, 5])], v({ 1: true, 2: true, 4: false, 5: false })), VoteResult.Lost);
  });
});

describe('raft replication flow control', () => {
  function leader(extra = {}): TestNode {
    const n = TestNode.create(1, [1, 2], 10, 1, extra);
    n.raft.becomeCandidate();
    n.raft.becomeLeader();
    n.readMessages();
    n.persist();
    return n;
  }

  it('probe state: one append per heartbeat interval until a response arrives', () => {
    const n = leader();
    const r = n.raft;
    for (let i = 0; i < 3; i++) r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('x') }] }));
    const ms = n.readMessages();
    assert.deepEqual(types(ms), ['App'], 'only the first proposal is sent while probing');
    r.step(msg({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: r.term }));
    assert.deepEqual(types(n.readMessages()), ['App'], 'heartbeat response unpauses the probe');
  });

  it('replicate state: pipelines appends up to maxInflightMsgs, then pauses', () => {
    const n = leader({ maxInflightMsgs: 3 });
    const r = n.raft;
    r.trk.progress.get(2)!.becomeReplicate();
    for (let i = 0; i < 5; i++) r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('x') }] }));
    const ms = n.readMessages();
    assert.equal(ms.length, 3, 'window of 3 in-flight appends');
    assert.equal(r.trk.progress.get(2)!.isPaused(), true);
    // Acknowledging the first frees one slot, and the leader sends the rest in one batch.
    r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: ms[0]!.index + ms[0]!.entries.length }));
    const more = n.readMessages();
    assert.equal(more.length, 1);
    assert.deepEqual(more[0]!.entries.map((e) => e.index), [5, 6], 'the rest, batched into one message');
  });

  it('batching: maxSizePerMsg limits bytes per append (at least one entry)', () => {
    const n = leader({ maxSizePerMsg: 100 });
    const r = n.raft;
    const pr = r.trk.progress.get(2)!;
    pr.becomeReplicate();
    r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: Array.from({ length: 6 }, () => ({ term: 0, index: 0, type: 0, data: new Uint8Array(40) })) }));
    const ms = n.readMessages();
    // Entries cost 40 bytes + 24 overhead: one per message (the first also carries the
    // leader's empty entry), all pipelined at once.
    assert.deepEqual(
      ms.map((m) => m.entries.map((e) => e.index)),
      [[1, 2], [3], [4], [5], [6], [7]],
    );
  });

  it('a rejection with a hint lets the leader skip a divergent term in one round trip', () => {
    const n = leader();
    const r = n.raft;
    for (let i = 0; i < 5; i++) r.raftLog.append([{ term: r.term, index: r.raftLog.lastIndex() + 1, type: 0, data: new Uint8Array() }]);
    const pr = r.trk.progress.get(2)!;
    pr.next = r.raftLog.lastIndex() + 1;
    const rejectedAt = pr.next - 1;
    // Follower says: my log matches at most up to index 1 (term 1).
    r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: rejectedAt, reject: true, rejectHint: 1, logTerm: 1 }));
    assert.equal(pr.next, 2);
    const m = n.readMessages()[0]!;
    assert.equal(m.index, 1);
  });

  it('uncommitted size limit drops proposals once exceeded', () => {
    const n = leader({ maxUncommittedEntriesSize: 100 });
    const r = n.raft;
    r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: new Uint8Array(80) }] }));
    assert.throws(() => r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: new Uint8Array(80) }] })), /uncommitted/);
  });
});
