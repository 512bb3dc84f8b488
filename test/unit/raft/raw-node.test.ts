// RawNode: the Ready/advance contract, persistence-driven self-acks, errors, status.
import { strict as assert } from 'node:assert';
import {
  MemoryStorage,
  RawNode,
  type Ready,
  StateType,
  MessageType,
  ProposalDroppedError,
  StepLocalMsgError,
  StepPeerNotFoundError,
  RaftPanic,
  msg,
  ConfChangeType,
  ConfChangeTransition,
  EntryType,
  decodeConfChange,
  ProgressState,
  mulberry32,
  EMPTY,
  type RaftConfig,
  encodeConfChange,
} from '../../../node/src/raft/index.js';
import { bytes, td } from './helpers.js';

function cfg(id: number, storage: MemoryStorage, extra: Partial<RaftConfig> = {}): RaftConfig {
  return { id, electionTick: 10, heartbeatTick: 1, storage, rand: mulberry32(id), ...extra };
}

/** A host that does exactly what the contract says: persist, (send), apply, advance. */
function handle(rn: RawNode, s: MemoryStorage, applied: string[] = []): Ready {
  const rd = rn.ready();
  if (rd.snapshot) s.applySnapshot(rd.snapshot);
  s.append(rd.entries);
  if (rd.hardState) s.setHardState(rd.hardState);
  for (const e of rd.committedEntries) {
    if (e.type === EntryType.ConfChange) rn.applyConfChange(decodeConfChange(e.data));
    else if (e.data.length) applied.push(td.decode(e.data));
  }
  rn.advance();
  return rd;
}

describe('raft RawNode', () => {
  it('single node: campaign, propose, commit only after the host persisted (self-ack via advance)', () => {
    const s = MemoryStorage.bootstrap([1]);
    const rn = new RawNode(cfg(1, s));
    rn.campaign();
    assert.equal(rn.raft.state, StateType.Leader);
    let rd = rn.ready();
    assert.deepEqual(rd.softState, { lead: 1, raftState: StateType.Leader });
    assert.equal(rd.mustSync, true);
    assert.deepEqual(rd.entries.map((e) => [e.term, e.index]), [[2, 2]]);
    assert.equal(rd.committedEntries.length, 0, 'not committed before it is durable');
    s.append(rd.entries);
    s.setHardState(rd.hardState!);
    rn.advance();
    assert.ok(rn.hasReady());
    rd = rn.ready();
    assert.deepEqual(rd.committedEntries.map((e) => e.index), [2]);
    rn.advance();

    rn.propose(bytes('hello'));
    const applied: string[] = [];
    handle(rn, s, applied);
    handle(rn, s, applied);
    assert.deepEqual(applied, ['hello']);
    assert.equal(rn.hasReady(), false);
    assert.equal(rn.status().applied, 3);
  });

  it('ready() twice without advance() is a contract violation; hasReady is false meanwhile', () => {
    const s = MemoryStorage.bootstrap([1]);
    const rn = new RawNode(cfg(1, s));
    rn.campaign();
    rn.ready();
    assert.equal(rn.hasReady(), false);
    assert.throws(() => rn.ready(), RaftPanic);
    rn.advance();
    assert.throws(() => rn.advance(), RaftPanic);
  });

  it('restart: state is restored from storage and applied entries are not re-delivered', () => {
    const s = MemoryStorage.bootstrap([1]);
    let rn = new RawNode(cfg(1, s));
    rn.campaign();
    const applied: string[] = [];
    for (let i = 0; i < 3; i++) {
      while (rn.hasReady()) handle(rn, s, applied);
      rn.propose(bytes(`v${i}`));
    }
    while (rn.hasReady()) handle(rn, s, applied);
    assert.deepEqual(applied, ['v0', 'v1', 'v2']);
    const hs = s.initialState().hardState;
    // Restart having applied up to index 3 (v0): v1, v2 are delivered again.
    rn = new RawNode(cfg(1, s, { applied: 3 }));
    assert.equal(rn.raft.term, hs.term);
    assert.equal(rn.raft.raftLog.committed, hs.commit);
    const again: string[] = [];
    while (rn.hasReady()) handle(rn, s, again);
    assert.deepEqual(again, ['v1', 'v2']);
  });

  it('mustSync is false when only the commit index changes', () => {
    const s = MemoryStorage.bootstrap([1, 2]);
    const rn = new RawNode(cfg(2, s));
    rn.step(msg({ type: MessageType.App, from: 1, to: 2, term: 2, logTerm: 1, index: 1, entries: [{ term: 2, index: 2, type: 0, data: bytes('a') }] }));
    let rd = handle(rn, s);
    assert.equal(rd.mustSync, true);
    rn.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 2, commit: 2 }));
    rd = handle(rn, s);
    assert.equal(rd.mustSync, false);
    assert.equal(rd.hardState!.commit, 2);
    assert.deepEqual(rd.committedEntries.map((e) => e.index), [2]);
  });

  it('follower forwards proposals to the leader; with forwarding disabled it throws with a leader hint', () => {
    const s = MemoryStorage.bootstrap([1, 2]);
    const rn = new RawNode(cfg(2, s));
    assert.throws(() => rn.propose(bytes('x')), (e: unknown) => e instanceof ProposalDroppedError && e.leaderHint === 0);
    rn.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 2, commit: 1 }));
    handle(rn, s);
    rn.propose(bytes('x'));
    const rd = rn.ready();
    assert.equal(rd.messages.length, 1);
    assert.equal(rd.messages[0]!.type, MessageType.Prop);
    assert.equal(rd.messages[0]!.to, 1);
    rn.advance();

    const s2 = MemoryStorage.bootstrap([1, 2]);
    const rn2 = new RawNode(cfg(2, s2, { disableProposalForwarding: true }));
    rn2.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 2, commit: 1 }));
    assert.throws(
      () => rn2.propose(bytes('x')),
      (e: unknown) => e instanceof ProposalDroppedError && e.leaderHint === 1 && e.name === 'ProposalDroppedError',
    );
  });

  it('every outgoing message and Ready carries the group id', () => {
    const s = MemoryStorage.bootstrap([1, 2, 3]);
    const rn = new RawNode(cfg(1, s, { groupId: 42 }));
    rn.campaign();
    const rd = rn.ready();
    assert.equal(rd.groupId, 42);
    assert.ok(rd.messages.length > 0);
    for (const m of rd.messages) assert.equal(m.groupId, 42);
  });

  it('rejects local message types and responses from unknown peers', () => {
    const rn = new RawNode(cfg(1, MemoryStorage.bootstrap([1, 2])));
    assert.throws(() => rn.step(msg({ type: MessageType.Hup, from: 1, to: 1 })), StepLocalMsgError);
    assert.throws(() => rn.step(msg({ type: MessageType.AppResp, from: 9, to: 1, term: 1 })), StepPeerNotFoundError);
  });

  it('status() reports role, term, commit, progress and configuration', () => {
    const s = MemoryStorage.bootstrap([1, 2, 3]);
    const rn = new RawNode(cfg(1, s, { groupId: 7 }));
    rn.campaign();
    for (const id of [2, 3]) rn.step(msg({ type: MessageType.VoteResp, from: id, to: 1, term: 2 }));
    const st = rn.status();
    assert.equal(st.raftState, StateType.Leader);
    assert.equal(st.groupId, 7);
    assert.equal(st.term, 2);
    assert.equal(st.lead, 1);
    assert.deepEqual(st.config.voters, [1, 2, 3]);
    assert.deepEqual(st.progress.map((p) => [p.id, p.state]), [
      [1, ProgressState.Replicate],
      [2, ProgressState.Probe],
      [3, ProgressState.Probe],
    ]);
    assert.ok(JSON.stringify(st)); // plain data for the admin API
  });

  it('conf change through RawNode: add a learner, then promote it', () => {
    const s = MemoryStorage.bootstrap([1]);
    const rn = new RawNode(cfg(1, s));
    rn.campaign();
    while (rn.hasReady()) handle(rn, s);
    rn.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddLearner, nodeId: 2 }], context: EMPTY });
    while (rn.hasReady()) handle(rn, s);
    assert.deepEqual(rn.status().config.learners, [2]);
    rn.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddNode, nodeId: 2 }], context: EMPTY });
    while (rn.hasReady()) handle(rn, s);
    assert.deepEqual(rn.status().config.voters, [1, 2]);
    assert.deepEqual(rn.status().config.learners, []);
  });

  it('a snapshot arriving while committed entries are being applied is ignored until advance()', () => {
    // Found by the simulator: a learner was applying a committed "enter joint" entry when a
    // snapshot taken after it arrived; restoring it would make the pending applyConfChange fail.
    const s = MemoryStorage.bootstrap([1, 2]);
    const rn = new RawNode(cfg(2, s));
    const cc = encodeConfChange({ transition: ConfChangeTransition.JointImplicit, changes: [{ type: ConfChangeType.AddLearner, nodeId: 3 }], context: EMPTY });
    rn.step(msg({ type: MessageType.App, from: 1, to: 2, term: 2, logTerm: 1, index: 1, commit: 2, entries: [{ term: 2, index: 2, type: EntryType.ConfChange, data: cc }] }));
    const rd = rn.ready();
    assert.deepEqual(rd.committedEntries.map((e) => e.index), [2]);
    const snapCs = { voters: [1, 2], learners: [3], votersOutgoing: [1, 2], learnersNext: [], autoLeave: true };
    rn.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 2, snapshot: { metadata: { index: 5, term: 2, confState: snapCs }, data: EMPTY } }));
    assert.equal(rn.raft.raftLog.committed, 2, 'snapshot ignored while applying');
    // The host finishes the Ready as usual: the conf change applies cleanly.
    s.append(rd.entries);
    s.setHardState(rd.hardState!);
    rn.applyConfChange(decodeConfChange(rd.committedEntries[0]!.data));
    rn.advance();
    // Now the (retried) snapshot is accepted.
    rn.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 2, snapshot: { metadata: { index: 5, term: 2, confState: snapCs }, data: EMPTY } }));
    assert.equal(rn.raft.raftLog.committed, 5);
    assert.ok(rn.hasReady());
    assert.equal(rn.ready().snapshot?.metadata.index, 5);
  });

  it('readIndex through RawNode produces a ReadState in a Ready', () => {
    const s = MemoryStorage.bootstrap([1]);
    const rn = new RawNode(cfg(1, s));
    rn.campaign();
    while (rn.hasReady()) handle(rn, s);
    rn.readIndex(bytes('r1'));
    assert.ok(rn.hasReady());
    const rd = handle(rn, s);
    assert.equal(rd.readStates.length, 1);
    assert.equal(rd.readStates[0]!.index, rn.status().commit);
  });
});
