// Port of the essence of etcd-io/raft raft_paper_test.go: each test names the section of the
// Raft paper ("In Search of an Understandable Consensus Algorithm") whose rule it checks.
import { strict as assert } from 'node:assert';
import {
  type Message,
  MessageType,
  StateType,
  msg,
  NONE,
  Raft,
  type Entry,
} from '../../../node/src/raft/index.js';
import { Network, TestNode, bytes, ents, newTestConfig, storageWithLog, tickN, leaderOf } from './helpers.js';

function acceptAndReply(m: Message): Message {
  assert.equal(m.type, MessageType.App);
  return msg({ type: MessageType.AppResp, from: m.to, to: m.from, term: m.term, index: m.index + m.entries.length });
}

/** Make the (leader) node commit its empty entry with acks from all followers. */
function commitNoopEntry(n: TestNode): void {
  const r = n.raft;
  assert.equal(r.state, StateType.Leader);
  r.bcastAppend();
  for (const m of n.readMessages()) {
    assert.equal(m.entries.length, 1);
    assert.equal(m.entries[0]!.data.length, 0);
    r.step(acceptAndReply(m));
  }
  n.readMessages();
  n.persist();
  n.applyCommitted();
}

describe('raft paper', () => {
  describe('§5.1 terms', () => {
    for (const state of [StateType.Follower, StateType.Candidate, StateType.PreCandidate, StateType.Leader]) {
      it(`§5.1 ${state} updates its term and reverts to follower on a message with a higher term`, () => {
        const n = TestNode.create(1, [1, 2, 3]);
        const r = n.raft;
        if (state === StateType.Candidate) r.becomeCandidate();
        if (state === StateType.PreCandidate) r.becomePreCandidate();
        if (state === StateType.Leader) {
          r.becomeCandidate();
          r.becomeLeader();
        }
        r.step(msg({ type: MessageType.App, from: 2, to: 1, term: 2 }));
        assert.equal(r.term, 2);
        assert.equal(r.state, StateType.Follower);
        assert.equal(r.lead, 2);
      });
    }

    it('§5.1 a server rejects a request with a stale term, replying with its current term', () => {
      const n = TestNode.create(1, [1, 2, 3]);
      n.raft.becomeFollower(2, NONE);
      const before = n.raft.raftLog.lastIndex();
      n.raft.step(msg({ type: MessageType.App, from: 2, to: 1, term: 1, entries: ents(1) }));
      assert.equal(n.raft.raftLog.lastIndex(), before, 'nothing appended');
      assert.equal(n.raft.term, 2);
      assert.deepEqual(
        n.readMessages().map((m) => [MessageType[m.type], m.to, m.term]),
        [['AppResp', 2, 2]],
      );
    });
  });

  describe('§5.2 leader election', function () {
    this.timeout(30_000); // the randomized-timeout tests run hundreds of elections
    it('§5.2 servers start as followers', () => {
      const r = TestNode.create(1, [1, 2, 3]).raft;
      assert.equal(r.state, StateType.Follower);
    });

    it('§5.2 the leader sends heartbeats to all followers every heartbeat interval', () => {
      const hi = 1;
      const n = TestNode.create(1, [1, 2, 3], 10, hi);
      n.raft.becomeCandidate();
      n.raft.becomeLeader();
      n.readMessages();
      for (let i = 0; i < hi; i++) n.raft.tick();
      const msgs = n.readMessages().sort((a, b) => a.to - b.to);
      assert.deepEqual(
        msgs.map((m) => [m.from, m.to, m.term, MessageType[m.type]]),
        [
          [1, 2, 1, 'Heartbeat'],
          [1, 3, 1, 'Heartbeat'],
        ],
      );
    });

    for (const state of [StateType.Follower, StateType.Candidate]) {
      it(`§5.2 a ${state} that times out starts a new election (term+1, votes for itself, requests votes)`, () => {
        const et = 10;
        const n = TestNode.create(1, [1, 2, 3], et);
        if (state === StateType.Follower) n.raft.becomeFollower(1, 2);
        else n.raft.becomeCandidate();
        tickN(n.raft, 2 * et);
        assert.equal(n.raft.term, 2);
        assert.equal(n.raft.state, StateType.Candidate);
        assert.equal(n.raft.vote, 1);
        const msgs = n.readMessages().sort((a, b) => a.to - b.to);
        assert.deepEqual(
          msgs.map((m) => [m.to, m.term, MessageType[m.type]]),
          [
            [2, 2, 'Vote'],
            [3, 2, 'Vote'],
          ],
        );
      });
    }

    const table: [number, Map<number, boolean>, StateType][] = [
      [1, new Map(), StateType.Leader],
      [3, new Map([[2, true], [3, true]]), StateType.Leader],
      [3, new Map([[2, true]]), StateType.Leader],
      [5, new Map([[2, true], [3, true], [4, true], [5, true]]), StateType.Leader],
      [5, new Map([[2, true], [3, true], [4, true]]), StateType.Leader],
      [5, new Map([[2, true], [3, true]]), StateType.Leader],
      [3, new Map([[2, false], [3, false]]), StateType.Follower],
      [5, new Map([[2, false], [3, false], [4, false], [5, false]]), StateType.Follower],
      [5, new Map([[2, true], [3, false], [4, false], [5, false]]), StateType.Follower],
      [3, new Map(), StateType.Candidate],
      [5, new Map([[2, true]]), StateType.Candidate],
      [5, new Map([[2, false], [3, false]]), StateType.Candidate],
      [5, new Map(), StateType.Candidate],
    ];
    table.forEach(([size, votes, want], i) => {
      it(`§5.2 election in one round of RPCs: case ${i} (${size} nodes, ${votes.size} responses) → ${want}`, () => {
        const ids = Array.from({ length: size }, (_, k) => k + 1);
        const n = TestNode.create(1, ids);
        n.raft.step(msg({ type: MessageType.Hup, from: 1, to: 1 }));
        for (const [id, v] of votes) {
          n.raft.step(msg({ type: MessageType.VoteResp, from: id, to: 1, term: n.raft.term, reject: !v }));
        }
        assert.equal(n.raft.state, want);
        assert.equal(n.raft.term, 1);
      });
    });

    const voteTable: [number, number, boolean][] = [
      [NONE, 1, false],
      [NONE, 2, false],
      [1, 1, false],
      [2, 2, false],
      [1, 2, true],
      [2, 1, true],
    ];
    voteTable.forEach(([vote, nvote, wreject], i) => {
      it(`§5.2 a follower votes for at most one candidate per term, first come first served: case ${i}`, () => {
        const n = TestNode.create(1, [1, 2, 3]);
        n.raft.loadState({ term: 1, vote, commit: 0 });
        n.raft.step(msg({ type: MessageType.Vote, from: nvote, to: 1, term: 1 }));
        const msgs = n.readMessages();
        assert.equal(msgs.length, 1);
        assert.equal(msgs[0]!.type, MessageType.VoteResp);
        assert.equal(msgs[0]!.reject, wreject);
        assert.equal(msgs[0]!.to, nvote);
      });
    });

    for (const term of [1, 2]) {
      it(`§5.2 a candidate receiving AppendEntries from a leader of term ≥ its own (${term}) becomes follower`, () => {
        const n = TestNode.create(1, [1, 2, 3]);
        n.raft.step(msg({ type: MessageType.Hup, from: 1, to: 1 }));
        assert.equal(n.raft.state, StateType.Candidate);
        n.raft.step(msg({ type: MessageType.App, from: 2, to: 1, term }));
        assert.equal(n.raft.state, StateType.Follower);
        assert.equal(n.raft.term, term);
        assert.equal(n.raft.lead, 2);
      });
    }

    for (const state of [StateType.Follower, StateType.Candidate]) {
      it(`§5.2 ${state} election timeouts are randomized in [et, 2et)`, () => {
        const et = 10;
        const seen = new Set<number>();
        for (let round = 0; round < 50 * et; round++) {
          const n = TestNode.create(1, [1, 2, 3], et, 1, { rand: Math.random });
          if (state === StateType.Follower) n.raft.becomeFollower(n.raft.term + 1, 2);
          else n.raft.becomeCandidate();
          let time = 0;
          while (n.readMessages().length === 0) {
            n.raft.tick();
            time++;
          }
          seen.add(time);
        }
        for (let d = et; d < 2 * et; d++) assert.ok(seen.has(d), `timeout ${d} never observed`);
        for (const t of seen) assert.ok(t >= et && t < 2 * et + 1, `timeout ${t} out of range`);
      });
    }

    it('§5.2 randomized timeouts make it likely that only one server times out first (no split vote)', () => {
      const et = 10;
      let conflicts = 0;
      for (let round = 0; round < 1000; round++) {
        const nodes = [1, 2, 3].map((id) => TestNode.create(id, [1, 2, 3], et, 1, { rand: Math.random }));
        for (const n of nodes) n.raft.becomeFollower(n.raft.term + 1, NONE);
        let timeouts = 0;
        while (timeouts === 0) {
          for (const n of nodes) {
            n.raft.tick();
            if (n.readMessages().length > 0) timeouts++;
          }
        }
        if (timeouts > 1) conflicts++;
      }
      assert.ok(conflicts / 1000 <= 0.3, `too many simultaneous timeouts: ${conflicts}`);
    });
  });

  describe('§5.3 log replication', () => {
    it('§5.3 the leader appends a proposal to its log and issues AppendEntries in parallel', () => {
      const n = TestNode.create(1, [1, 2, 3]);
      n.raft.becomeCandidate();
      n.raft.becomeLeader();
      commitNoopEntry(n);
      const li = n.raft.raftLog.lastIndex();
      n.raft.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('some data') }] }));
      assert.equal(n.raft.raftLog.lastIndex(), li + 1);
      assert.equal(n.raft.raftLog.committed, li);
      const msgs = n.readMessages().sort((a, b) => a.to - b.to);
      assert.deepEqual(
        msgs.map((m) => [m.to, MessageType[m.type], m.index, m.logTerm, m.commit, m.entries.map((e) => [e.index, e.term])]),
        [
          [2, 'App', li, 1, li, [[li + 1, 1]]],
          [3, 'App', li, 1, li, [[li + 1, 1]]],
        ],
      );
    });

    it('§5.3 an entry replicated on a majority is committed and applied; followers learn the commit', () => {
      const n = TestNode.create(1, [1, 2, 3]);
      n.raft.becomeCandidate();
      n.raft.becomeLeader();
      commitNoopEntry(n);
      const li = n.raft.raftLog.lastIndex();
      n.raft.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('some data') }] }));
      n.persist();
      for (const m of n.readMessages()) n.raft.step(acceptAndReply(m));
      assert.equal(n.raft.raftLog.committed, li + 1);
      const applied = n.applyCommitted();
      assert.deepEqual(applied.map((e) => [e.index, new TextDecoder().decode(e.data)]), [[li + 1, 'some data']]);
      const msgs = n.readMessages().sort((a, b) => a.to - b.to);
      assert.deepEqual(
        msgs.map((m) => [m.to, MessageType[m.type], m.commit]),
        [
          [2, 'App', li + 1],
          [3, 'App', li + 1],
        ],
      );
    });

    const ackTable: [number, Map<number, boolean>, boolean][] = [
      [1, new Map(), true],
      [3, new Map(), false],
      [3, new Map([[2, true]]), true],
      [3, new Map([[2, true], [3, true]]), true],
      [5, new Map(), false],
      [5, new Map([[2, true]]), false],
      [5, new Map([[2, true], [3, true]]), true],
      [5, new Map([[2, true], [3, true], [4, true]]), true],
    ];
    ackTable.forEach(([size, acceptors, wack], i) => {
      it(`§5.3 a log entry is committed once replicated on a majority (incl. the durable leader): case ${i}`, () => {
        const ids = Array.from({ length: size }, (_, k) => k + 1);
        const n = TestNode.create(1, ids);
        n.raft.becomeCandidate();
        n.raft.becomeLeader();
        if (size > 1) commitNoopEntry(n);
        else {
          n.persist();
          n.applyCommitted();
        }
        const li = n.raft.raftLog.lastIndex();
        n.raft.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('d') }] }));
        n.persist(); // leader's own durable write self-acks
        for (const m of n.readMessages()) {
          if (acceptors.get(m.to)) n.raft.step(acceptAndReply(m));
        }
        assert.equal(n.raft.raftLog.committed > li, wack);
      });
    });

    it('§5.3 the leader counts its own entry only after it is durable (self-ack via persist/advance)', () => {
      const n = TestNode.create(1, [1, 2, 3]);
      n.raft.becomeCandidate();
      n.raft.becomeLeader();
      commitNoopEntry(n);
      const li = n.raft.raftLog.lastIndex();
      n.raft.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('d') }] }));
      const msgs = n.readMessages();
      n.raft.step(acceptAndReply(msgs.find((m) => m.to === 2)!));
      // Only follower 2 is durable so far: 1 of 3 is not a majority.
      assert.equal(n.raft.raftLog.committed, li);
      n.persist();
      assert.equal(n.raft.raftLog.committed, li + 1);
    });

    const precTable: Entry[][] = [[], ents(2), ents(1, 1), ents(1)];
    precTable.forEach((prev, i) => {
      it(`§5.3 committing an entry also commits all preceding entries, including from previous leaders: case ${i}`, () => {
        const s = storageWithLog([1, 2, 3], prev.map((e) => e.term), 2);
        const r = new Raft(newTestConfig(1, 10, 1, s));
        const n = new TestNode(r, s);
        r.becomeCandidate();
        r.becomeLeader();
        r.step(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: bytes('some data') }] }));
        n.persist();
        for (const m of n.readMessages()) r.step(acceptAndReply(m));
        const li = prev.length;
        const got = n.applyCommitted();
        assert.deepEqual(
          got.map((e) => [e.term, e.index]),
          [...prev.map((e) => [e.term, e.index]), [3, li + 1], [3, li + 2]],
        );
      });
    });

    const fcTable: [Entry[], number][] = [
      [[{ term: 1, index: 1, type: 0, data: bytes('some data') }], 1],
      [[{ term: 1, index: 1, type: 0, data: bytes('some data') }, { term: 1, index: 2, type: 0, data: bytes('some data2') }], 2],
      [[{ term: 1, index: 1, type: 0, data: bytes('some data2') }, { term: 1, index: 2, type: 0, data: bytes('some data') }], 2],
      [[{ term: 1, index: 1, type: 0, data: bytes('some data') }, { term: 1, index: 2, type: 0, data: bytes('some data2') }], 1],
    ];
    fcTable.forEach(([es, commit], i) => {
      it(`§5.3 a follower applies entries once it learns they are committed: case ${i}`, () => {
        const n = TestNode.create(1, [1, 2, 3]);
        n.raft.becomeFollower(1, 2);
        n.raft.step(msg({ type: MessageType.App, from: 2, to: 1, term: 1, entries: es, commit }));
        assert.equal(n.raft.raftLog.committed, commit);
        n.persist();
        assert.deepEqual(n.applyCommitted().map((e) => e.index), es.slice(0, commit).map((e) => e.index));
      });
    });

    const checkTable: [number, number, number, boolean, number, number][] = [
      // term, index, windex, wreject, wrejectHint, wlogterm
      [0, 0, 1, false, 0, 0], // match with committed entries
      [1, 1, 1, false, 0, 0],
      [2, 2, 2, false, 0, 0], // match with uncommitted entries
      [1, 1, 1, false, 0, 0], // unmatch with existing entry is handled below as reject
      [3, 3, 3, true, 2, 2], // unexisting entry
    ];
    checkTable.forEach(([term, index, windex, wreject, whint, wlogterm], i) => {
      it(`§5.3 a follower rejects AppendEntries when it lacks the previous entry (log matching check): case ${i}`, () => {
        const s = storageWithLog([1, 2, 3], [1, 2]);
        const r = new Raft(newTestConfig(1, 10, 1, s));
        const n = new TestNode(r, s);
        r.loadState({ term: 0, vote: 0, commit: 1 });
        r.becomeFollower(2, 2);
        r.step(msg({ type: MessageType.App, from: 2, to: 1, term: 2, logTerm: term, index }));
        const m = n.readMessages();
        assert.equal(m.length, 1);
        assert.equal(m[0]!.reject, wreject);
        assert.equal(m[0]!.index, windex);
        if (wreject) {
          assert.equal(m[0]!.rejectHint, whint);
          assert.equal(m[0]!.logTerm, wlogterm);
        }
      });
    });

    const faTable: [number, number, Entry[], [number, number][], [number, number][]][] = [
      // index, term, entries, wents (index,term), wunstable
      [2, 2, [{ term: 3, index: 3, type: 0, data: new Uint8Array() }], [[1, 1], [2, 2], [3, 3]], [[3, 3]]],
      [1, 1, [{ term: 3, index: 2, type: 0, data: new Uint8Array() }, { term: 4, index: 3, type: 0, data: new Uint8Array() }], [[1, 1], [2, 3], [3, 4]], [[2, 3], [3, 4]]],
      [0, 0, [{ term: 1, index: 1, type: 0, data: new Uint8Array() }], [[1, 1], [2, 2]], []],
      [0, 0, [{ term: 3, index: 1, type: 0, data: new Uint8Array() }], [[1, 3]], [[1, 3]]],
    ];
    faTable.forEach(([index, term, es, wents, wunstable], i) => {
      it(`§5.3 a follower deletes conflicting entries and appends new ones: case ${i}`, () => {
        const s = storageWithLog([1, 2, 3], [1, 2]);
        const r = new Raft(newTestConfig(1, 10, 1, s));
        r.becomeFollower(2, 2);
        r.step(msg({ type: MessageType.App, from: 2, to: 1, term: 2, logTerm: term, index, entries: es }));
        assert.deepEqual(r.raftLog.allEntries().map((e) => [e.index, e.term]), wents);
        assert.deepEqual(r.raftLog.unstableEntries().map((e) => [e.index, e.term]), wunstable);
      });
    });

    // Figure 7 of the paper: followers with missing, extra and conflicting entries.
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const fig7: number[][] = [
      [1, 1, 1, 4, 4, 5, 5, 6, 6], // (a)
      [1, 1, 1, 4], // (b)
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // (c)
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // (d)
      [1, 1, 1, 4, 4, 4, 4], // (e)
      [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // (f)
    ];
    fig7.forEach((flog, i) => {
      it(`§5.3 figure 7: the leader brings follower (${'abcdef'[i]}) in line with its own log`, () => {
        const term = 8;
        const ls = storageWithLog([1, 2, 3], leaderLog, term);
        const lead = new Raft(newTestConfig(1, 10, 1, ls));
        lead.loadState({ term, vote: 0, commit: leaderLog.length });
        const fs = storageWithLog([1, 2, 3], flog, term - 1);
        const follower = new Raft(newTestConfig(2, 10, 1, fs));
        // The third node always votes for the leader, so the election succeeds regardless of
        // whether the follower's log is more up to date.
        const net = new Network([new TestNode(lead, ls), new TestNode(follower, fs), TestNode.create(3, [1, 2, 3])]);
        net.raft(3).loadState({ term: term - 1, vote: 0, commit: 0 });
        net.campaign(1);
        net.send(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: new Uint8Array() }] }));
        assert.equal(lead.state, StateType.Leader);
        const want = lead.raftLog.allEntries().map((e) => [e.index, e.term]);
        assert.deepEqual(follower.raftLog.allEntries().map((e) => [e.index, e.term]), want);
      });
    });
  });

  describe('§5.4 safety', () => {
    it('§5.4.1 a candidate requests votes with its last log index and term', () => {
      for (const [es, wterm] of [
        [ents(1, 2), 3],
        [ents(1, 2, 3), 4],
      ] as const) {
        const s = storageWithLog([1, 2, 3], es.map((e) => e.term));
        const r = new Raft(newTestConfig(1, 10, 1, s));
        const n = new TestNode(r, s);
        r.step(msg({ type: MessageType.App, from: 2, to: 1, term: wterm - 1, logTerm: 0, index: 0, entries: [] }));
        n.readMessages();
        while (r.state !== StateType.Candidate) r.tick();
        const msgs = n.readMessages().sort((a, b) => a.to - b.to);
        assert.deepEqual(
          msgs.map((m) => [m.to, MessageType[m.type], m.term, m.index, m.logTerm]),
          [
            [2, 'Vote', wterm, es.length, es[es.length - 1]!.term],
            [3, 'Vote', wterm, es.length, es[es.length - 1]!.term],
          ],
        );
      }
    });

    const voterTable: [number[], number, number, boolean][] = [
      // voter log terms, candidate logterm, candidate index, wreject
      [[1], 1, 1, false],
      [[1], 1, 2, false],
      [[1, 1], 1, 1, true],
      [[1], 2, 1, false],
      [[1], 2, 2, false],
      [[1, 1], 2, 1, false],
      [[2], 1, 1, true],
      [[2], 1, 2, true],
      [[2, 1], 1, 1, true],
    ];
    voterTable.forEach(([logTerms, logterm, index, wreject], i) => {
      it(`§5.4.1 a voter denies its vote if its own log is more up-to-date: case ${i}`, () => {
        const s = storageWithLog([1, 2], logTerms);
        const r = new Raft(newTestConfig(1, 10, 1, s));
        const n = new TestNode(r, s);
        r.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 3, logTerm: logterm, index }));
        const msgs = n.readMessages();
        assert.equal(msgs.length, 1);
        assert.equal(msgs[0]!.type, MessageType.VoteResp);
        assert.equal(msgs[0]!.reject, wreject);
      });
    });

    const curTermTable: [number, number][] = [
      // index, wcommit
      [1, 0], // do not commit log entries in previous terms
      [2, 0],
      [3, 3], // commit log in current term
    ];
    curTermTable.forEach(([index, wcommit], i) => {
      it(`§5.4.2 the leader only commits entries of its current term by counting replicas: case ${i}`, () => {
        const s = storageWithLog([1, 2], [1, 2], 2);
        const r = new Raft(newTestConfig(1, 10, 1, s));
        r.becomeCandidate();
        r.becomeLeader();
        r.msgs = [];
        new TestNode(r, s).persist(); // the leader's own durable ack of index 3
        // the empty entry of term 3 is at index 3
        r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index }));
        assert.equal(r.raftLog.committed, wcommit);
      });
    });

    it('§5.4.2 figure 8: an entry from an old term replicated on a majority is not committed by counting', () => {
      // Five servers. (a) S1 led term 2 and replicated X (term 2, index 2) to S2 only.
      // (b) S5 became leader of term 3 (votes S3,S4,S5) and wrote Y (term 3, index 2) locally.
      // (c) S1 is leader again in term 4 (after term 3 ended... here term 5) and replicates X to S3:
      //     X is now stored on a majority {S1,S2,S3}, but it must not be committed.
      const s = storageWithLog([1, 2, 3, 4, 5], [1, 2], 4);
      const r = new Raft(newTestConfig(1, 10, 1, s));
      r.becomeCandidate(); // term 5
      r.becomeLeader(); // appends the term-5 empty entry at index 3
      r.msgs = [];
      new TestNode(r, s).persist(); // leader self-acks index 3
      r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: 2 }));
      r.step(msg({ type: MessageType.AppResp, from: 3, to: 1, term: r.term, index: 2 }));
      assert.equal(r.raftLog.committed, 0, 'an old-term entry must not be committed by counting replicas');
      // (d) Were S1 to crash now, S5 (last entry term 3) could win votes from S2, S3, S4 (last
      // term 2) and overwrite X — safe only because X was never committed.
      const voter = new Raft(newTestConfig(2, 10, 1, storageWithLog([1, 2, 3, 4, 5], [1, 2], 5)));
      voter.step(msg({ type: MessageType.Vote, from: 5, to: 2, term: 6, logTerm: 3, index: 2 }));
      assert.equal(voter.msgs[0]!.reject, false, 'S5 may be elected and overwrite the uncommitted X');
      // (e) Once an entry of the current term is on a majority, it commits — and X with it.
      r.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: 3 }));
      r.step(msg({ type: MessageType.AppResp, from: 3, to: 1, term: r.term, index: 3 }));
      assert.equal(r.raftLog.committed, 3);
      // After that, any server holding the committed entries rejects S5: S5 cannot win.
      const voter2 = new Raft(newTestConfig(2, 10, 1, storageWithLog([1, 2, 3, 4, 5], [1, 2, 5], 5)));
      voter2.step(msg({ type: MessageType.Vote, from: 5, to: 2, term: 6, logTerm: 3, index: 2 }));
      assert.equal(voter2.msgs[0]!.reject, true, 'a server holding the committed entry rejects S5');
    });

    it('§5.4.2 figure 8 end-to-end: old-term entries commit only with a current-term entry', () => {
      const net = Network.ofSize(5);
      net.campaign(1);
      assert.equal(leaderOf(net), 1);
      // S1 replicates X to S2 only.
      for (const id of [3, 4, 5]) net.cut(1, id);
      net.propose(1, 'X');
      const xIndex = net.raft(1).raftLog.lastIndex();
      assert.equal(net.raft(2).raftLog.lastIndex(), xIndex);
      // S5 becomes leader without S1, S2 and appends Y locally only.
      net.recover();
      net.isolate(1);
      net.cut(5, 2);
      // S5's appends are lost: its entries stay local.
      net.msgHook = (m) => !(m.from === 5 && m.type === MessageType.App);
      net.campaign(5);
      assert.equal(net.raft(5).state, StateType.Leader);
      net.msgHook = undefined;
      net.isolate(5);
      net.propose(5, 'Y');
      // S1 comes back and wins (S2, S3) while S5 is away; only S3 hears from it, and then
      // S1 is cut before S3 acks anything of the new term: X must stay uncommitted.
      net.recover();
      net.isolate(5);
      net.cut(1, 4);
      const ackedFromS3: Message[] = [];
      net.msgHook = (m) => {
        // Lose successful append acks from S2/S3 (rejections still drive the log repair).
        if (m.from === 3 && m.to === 1 && m.type === MessageType.AppResp && !m.reject) {
          ackedFromS3.push(m);
          return false;
        }
        if (m.from === 2 && m.to === 1 && m.type === MessageType.AppResp && !m.reject) return false;
        return true;
      };
      // S1 "restarts" (as follower) and campaigns until it wins a term above S5's.
      net.raft(1).becomeFollower(net.raft(1).term, NONE);
      while (net.raft(1).state !== StateType.Leader) net.campaign(1);
      assert.ok(net.raft(1).term > net.raft(5).term);
      assert.equal(net.raft(3).raftLog.term(xIndex), net.raft(2).raftLog.term(xIndex), 'X reached S3');
      assert.ok(net.raft(1).raftLog.committed < xIndex, 'X is on a majority but not committed');
      // Deliver only S3's ack of the old prefix (index xIndex): still not committed.
      net.msgHook = undefined;
      net.raft(1).step(msg({ type: MessageType.AppResp, from: 3, to: 1, term: net.raft(1).term, index: xIndex }));
      net.raft(1).step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: net.raft(1).term, index: xIndex }));
      assert.ok(net.raft(1).raftLog.committed < xIndex);
      // Now let the current-term entry replicate: everything commits together.
      net.recover();
      net.isolate(5);
      net.propose(1, 'Z');
      assert.ok(net.raft(1).raftLog.committed >= xIndex + 1);
      assert.equal(ackedFromS3.length > 0, true);
    });
  });
});

