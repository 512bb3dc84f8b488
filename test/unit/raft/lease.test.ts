// Leader leases measured on an injected monotonic clock (lease.ts): expiry, renewal only by acks of
// heartbeats *sent* later, no renewal by stale acks, transfer and step-down invalidation, no lease for a
// new leader before its own quorum round, and the central safety property with tick accounting — a
// partitioned (or stopped) leader stops serving before any rival can be elected, for clocks drifting
// within maxClockDrift. Negative controls: the same schedules catch the overlap with a drift beyond the
// bound, with a tick clock under a stopped leader (the old etcd-style lease), and with unsafeNoExpiry.
import { strict as assert } from 'node:assert';
import {
  ConfigError,
  LeaseClock,
  decodeLeaseStamp,
  encodeLeaseStamp,
  bytesToKey,
  MessageType,
  ReadOnlyOption,
  StateType,
  msg,
  type RaftConfig,
} from '../../../node/src/raft/index.js';
import { Network, TestNode, ctx } from './helpers.js';

const T = 50_000; // µs per tick (kvs: --raft-tick 50ms)
const E = 10; // election ticks

/** Per-node monotonic clocks driven by one real time (µs), each at its own rate. */
class Clocks {
  real = 0;
  private readonly rate = new Map<number, number>();
  /** Nodes whose clock stands still (a tick clock under SIGSTOP is modelled by not ticking instead). */
  setRate(id: number, r: number): void {
    this.rate.set(id, r);
  }
  now(id: number): number {
    return Math.floor(this.real * (this.rate.get(id) ?? 1));
  }
}

interface LeaseNetOptions {
  size?: number;
  drift?: number;
  /** No injected clock: lease time = ticks (the pre-clock behaviour). */
  tickClock?: boolean;
  unsafeNoExpiry?: boolean;
  lazyCommitBroadcast?: boolean;
  /** skipHeartbeatsAfterAppends: appends carry the lease stamp, heartbeats skip followers just appended to. */
  skipBeats?: boolean;
}

function leaseNet(clocks: Clocks, o: LeaseNetOptions = {}): Network {
  const ids = Array.from({ length: o.size ?? 3 }, (_, i) => i + 1);
  const extra = (id: number): Partial<RaftConfig> => ({
    checkQuorum: true,
    preVote: true,
    readOnlyOption: ReadOnlyOption.LeaseBased,
    ...(o.lazyCommitBroadcast ? { lazyCommitBroadcast: true } : {}),
    ...(o.skipBeats ? { skipHeartbeatsAfterAppends: true } : {}),
    ...(o.tickClock ? {} : { leaseClock: { now: () => clocks.now(id), tickInterval: T, maxClockDrift: o.drift ?? 0.1, unsafeNoExpiry: o.unsafeNoExpiry } }),
  });
  const net = new Network(ids.map((id) => TestNode.create(id, ids, E, 1, extra(id))));
  // Past the restart vote hold (one election timeout after start, on every clock).
  clocks.real = 2 * E * T;
  if (o.tickClock) for (const n of net.nodes.values()) n.raft.ticks = 100;
  return net;
}

function readIndex(net: Network, id: number, c: string): void {
  net.send(msg({ type: MessageType.ReadIndex, from: id, to: id, entries: [{ term: 0, index: 0, type: 0, data: ctx(c) }] }));
}

const beat = (net: Network, id: number): void => net.send(msg({ type: MessageType.Beat, from: id, to: id }));

/** Node 1 elected and holding its lease (one acknowledged heartbeat round). */
function leasedLeader(): { clocks: Clocks; net: Network; r: ReturnType<Network['raft']> } {
  const clocks = new Clocks();
  const net = leaseNet(clocks);
  net.campaign(1);
  beat(net, 1);
  return { clocks, net, r: net.raft(1) };
}

describe('raft leader lease on a monotonic clock', () => {
  it('with lazy commit broadcast, a lease read for a follower also brings it the commit index (it serves once applied through it)', () => {
    const clocks = new Clocks();
    const net = leaseNet(clocks, { lazyCommitBroadcast: true });
    net.campaign(1);
    beat(net, 1);
    assert.equal(net.raft(1).leaseValid(), true);
    net.send(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: ctx('w') }] }));
    const committed = net.raft(1).raftLog.committed;
    assert.ok(net.raft(2).raftLog.committed < committed, 'control: the lazy broadcast left follower 2 a commit behind');
    readIndex(net, 2, 'r');
    const rs = net.raft(2).readStates;
    assert.equal(rs.length, 1);
    assert.equal(rs[0]!.index, committed);
    assert.equal(net.raft(2).raftLog.committed, committed, 'follower 2 can apply through the read index now, not a tick later');
  });

  it('expires duration after the acknowledged heartbeat was sent; reads then fall back to ReadIndex', () => {
    const clocks = new Clocks();
    const net = leaseNet(clocks);
    net.campaign(1);
    const r = net.raft(1);
    beat(net, 1);
    const sent = clocks.now(1);
    assert.equal(r.leaseValid(), true);
    net.isolate(1);
    readIndex(net, 1, 'in-lease');
    assert.equal(r.readStates.length, 1, 'served from the lease without a round trip');
    // The tick count does not matter, only the clock: ticking far past the election timeout without the
    // clock moving keeps the lease (check-quorum steps down only after a real election timeout of ticks).
    clocks.real = sent + Math.floor(r.lease.duration) - 1;
    assert.equal(r.leaseValid(), true);
    clocks.real = sent + Math.ceil(r.lease.duration);
    assert.equal(r.leaseValid(), false);
    readIndex(net, 1, 'expired');
    assert.equal(r.readStates.length, 1, 'falls back to a heartbeat round, which cannot complete while isolated');
    net.recover();
    beat(net, 1);
    assert.deepEqual(r.readStates.map((s) => bytesToKey(s.requestCtx)), ['in-lease', 'expired']);
  });

  it('is renewed only up to the send time of what a quorum acknowledged; stale acks do not extend it', () => {
    const clocks = new Clocks();
    const net = leaseNet(clocks);
    net.campaign(1);
    const r = net.raft(1);
    const n1 = net.node(1);
    beat(net, 1);
    const t0 = clocks.now(1);
    // Round A is built at t0 + 100 ms but delayed in the network.
    clocks.real += 100_000;
    r.bcastHeartbeat();
    const roundA = n1.readMessages();
    const tA = clocks.now(1);
    // Round B at t0 + 200 ms is delivered and acknowledged at once.
    clocks.real += 100_000;
    beat(net, 1);
    const tB = clocks.now(1);
    // Round A's acks arrive much later: they carry tA < tB and must not move the lease.
    clocks.real = tB + Math.floor(r.lease.duration) - 1;
    net.send(...roundA);
    assert.equal(r.leaseValid(), true);
    clocks.real = tB + Math.ceil(r.lease.duration);
    assert.equal(r.leaseValid(), false, 'the stale acks (sent at tA) did not renew the lease');
    assert.ok(tA < tB && t0 < tA);

    // A round sent before the expiry but answered after it renews from its SEND time, not its receipt.
    const n1b = net.node(1);
    r.bcastHeartbeat();
    const roundC = n1b.readMessages();
    const tC = clocks.now(1);
    clocks.real = tC + 400_000;
    net.send(...roundC);
    assert.equal(r.leaseValid(), true);
    clocks.real = tC + Math.ceil(r.lease.duration);
    assert.equal(r.leaseValid(), false, 'lease = send time + duration, although the acks arrived 400 ms later');

    // An ack from an older term never counts: step down, win a later term, then crafted old-term acks.
    clocks.real += E * T; // the followers' vote hold passes
    for (const id of [2, 3]) net.raft(id).becomeFollower(net.raft(id).term, 0);
    r.becomeFollower(r.term + 1, 0);
    net.campaign(1);
    assert.equal(r.state, StateType.Leader);
    // Past the lease its empty entry's acknowledged appends gave it.
    clocks.real += Math.ceil(r.lease.duration) + 1;
    const fresh = clocks.now(1);
    net.isolate(1);
    for (const from of [2, 3]) r.step(msg({ type: MessageType.HeartbeatResp, from, to: 1, term: r.term - 1, index: fresh }));
    assert.equal(r.leaseValid(), false);
    // The same acks in the current term would count (the check above can fail).
    for (const from of [2, 3]) r.step(msg({ type: MessageType.HeartbeatResp, from, to: 1, term: r.term, index: fresh }));
    assert.equal(r.leaseValid(), true);
  });

  it('a transfer (MsgTimeoutNow sent) voids the lease at once; the new leader has none until its own round', () => {
    const { net, r: r1 } = leasedLeader();
    assert.equal(r1.leaseValid(), true);
    net.ignore(MessageType.TimeoutNow);
    net.send(msg({ type: MessageType.TransferLeader, from: 2, to: 1 }));
    assert.equal(r1.leaseValid(), false, 'no clock movement needed: the transferee may be elected right away');
    net.recover();
    // Deliver the TimeoutNow now: node 2 campaigns with a forced vote and wins. Its empty entry's
    // appends are acknowledged without the lease stamp echoed (as by a node of an older version), so
    // no round of its term counts toward a lease yet.
    net.msgHook = (m) => {
      if (m.type === MessageType.AppResp) m.context = new Uint8Array(0);
      return true;
    };
    net.send(msg({ type: MessageType.TimeoutNow, from: 1, to: 2, term: r1.term }));
    net.msgHook = undefined;
    const r2 = net.raft(2);
    assert.equal(r2.state, StateType.Leader);
    assert.equal(r1.state, StateType.Follower);
    assert.equal(r1.leaseValid(), false);
    assert.equal(r2.committedEntryInCurrentTerm(), true);
    assert.equal(r2.leaseValid(), false);
    net.isolate(2);
    readIndex(net, 2, 'new-leader');
    assert.equal(r2.readStates.length, 0, 'a new leader never serves before its lease starts');
    net.recover();
    beat(net, 2);
    assert.equal(r2.leaseValid(), true);
    assert.equal(r2.readStates.length, 1);
  });

  it('a new leader\'s lease starts with its first acknowledged round: its empty entry\'s appends, stamped and echoed', () => {
    const { net, r: r1 } = leasedLeader();
    net.send(msg({ type: MessageType.TransferLeader, from: 2, to: 1 }));
    const r2 = net.raft(2);
    assert.equal(r2.state, StateType.Leader);
    assert.equal(r1.leaseValid(), false);
    assert.equal(r2.leaseValid(), true, 'no heartbeat round needed');
  });

  it('localLeaseReadIndex (a leader\'s own read answered in place) follows the lease: commit index while held, nothing otherwise', () => {
    const { clocks, net, r } = leasedLeader();
    const sent = clocks.now(1);
    assert.equal(net.raft(2).localLeaseReadIndex(), undefined, 'a follower never answers in place');
    const before = r.leaseReadCount;
    assert.equal(r.localLeaseReadIndex(), r.raftLog.committed);
    assert.equal(r.leaseReadCount, before + 1, 'counted as a lease read (kvs_raft_lease_reads)');
    net.isolate(1);
    clocks.real = sent + Math.ceil(r.lease.duration);
    assert.equal(r.localLeaseReadIndex(), undefined, 'expired: the host falls back to a ReadIndex round');
    net.recover();
    beat(net, 1);
    assert.equal(r.localLeaseReadIndex(), r.raftLog.committed);
    // A transfer voids it at once, as it voids every lease read.
    net.ignore(MessageType.TimeoutNow);
    net.send(msg({ type: MessageType.TransferLeader, from: 2, to: 1 }));
    assert.equal(r.localLeaseReadIndex(), undefined);
  });

  it('localLeaseReadIndex: a new leader answers nothing in place before it committed an entry of its term and its lease started', () => {
    const { clocks, net, r } = leasedLeader();
    net.ignore(MessageType.AppResp);
    clocks.real += E * T; // the followers' vote hold passes
    for (const id of [2, 3]) net.raft(id).becomeFollower(net.raft(id).term, 0);
    r.becomeFollower(r.term + 1, 0);
    net.campaign(1);
    assert.equal(r.state, StateType.Leader);
    assert.equal(r.committedEntryInCurrentTerm(), false, 'its empty entry is not acknowledged');
    beat(net, 1);
    assert.equal(r.leaseValid(), true, 'the lease alone is held');
    assert.equal(r.localLeaseReadIndex(), undefined, 'its commit index may be stale (§6.4)');
    net.recover();
    beat(net, 1);
    assert.equal(r.committedEntryInCurrentTerm(), true);
    assert.equal(r.localLeaseReadIndex(), r.raftLog.committed);
  });

  it('a step-down (higher term seen) drops the lease immediately', () => {
    const clocks = new Clocks();
    const net = leaseNet(clocks);
    net.campaign(1);
    beat(net, 1);
    const r = net.raft(1);
    assert.equal(r.leaseValid(), true);
    r.step(msg({ type: MessageType.AppResp, from: 3, to: 1, term: r.term + 1, index: 0 }));
    assert.equal(r.state, StateType.Follower);
    assert.equal(r.leaseValid(), false);
  });

  it('a voter refuses votes and does not campaign for the vote hold on its clock, however fast it ticks', () => {
    const clocks = new Clocks();
    const net = leaseNet(clocks);
    net.campaign(1);
    beat(net, 1);
    const n3 = net.node(3);
    const r3 = n3.raft;
    n3.readMessages();
    // A host catching up on timers: 3 × the election timeout of ticks in no clock time.
    for (let i = 0; i < 3 * E; i++) r3.tick();
    assert.deepEqual(n3.readMessages().filter((m) => m.type === MessageType.PreVote || m.type === MessageType.Vote), [], 'no campaign while holding');
    // A rival's (pre-)vote request is ignored too, even though `lead` may be forgotten.
    r3.becomeFollower(r3.term, 0);
    r3.step(msg({ type: MessageType.PreVote, from: 2, to: 3, term: r3.term + 1, index: 100, logTerm: 100 }));
    assert.deepEqual(n3.readMessages(), []);
    clocks.real += E * T;
    for (let i = 0; i < 2 * E; i++) r3.tick();
    assert.ok(n3.readMessages().some((m) => m.type === MessageType.PreVote), 'campaigns once the hold passed on the clock');
  });

  it('a restarted voter holds its vote for an election timeout of clock time after it started', () => {
    const clocks = new Clocks();
    clocks.real = 5_000_000;
    const n = TestNode.create(2, [1, 2, 3], E, 1, { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased, leaseClock: { now: () => clocks.now(2), tickInterval: T } });
    for (let i = 0; i < 3 * E; i++) n.raft.tick(); // ticks do not shorten the hold
    n.readMessages();
    n.raft.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 5 }));
    assert.deepEqual(n.readMessages(), [], 'ignored right after start');
    clocks.real += E * T;
    n.raft.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 5 }));
    const out = n.readMessages().filter((m) => m.type === MessageType.VoteResp);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.reject, false);
  });

  it('a replica created for a new group (a split) has no start-up hold; a restarted one has', () => {
    const clocks = new Clocks();
    clocks.real = 5_000_000;
    const vote = (newGroup: boolean) => {
      const n = TestNode.create(2, [1, 2, 3], E, 1, { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased, leaseClock: { now: () => clocks.now(2), tickInterval: T, newGroup } });
      n.raft.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 5 }));
      return n.readMessages().filter((m) => m.type === MessageType.VoteResp && !m.reject).length;
    };
    assert.equal(vote(true), 1, 'the split leader is elected within one round trip');
    assert.equal(vote(false), 0);
  });

  it('config: drift must be in [0, 0.5], tick interval a positive integer; kvs defaults give a 540 ms lease', () => {
    const ticks = () => 0;
    assert.throws(() => new LeaseClock(E, ticks, { now: ticks, tickInterval: T, maxClockDrift: 0.6 }), ConfigError);
    assert.throws(() => new LeaseClock(E, ticks, { now: ticks, tickInterval: 0 }), ConfigError);
    assert.throws(() => new LeaseClock(E, ticks, { now: ticks, tickInterval: 0.5 }), ConfigError);
    const kvs = new LeaseClock(12, ticks, { now: ticks, tickInterval: 50_000 });
    assert.equal(kvs.voteHold, 600_000);
    assert.equal(Math.round(kvs.duration / 1000), 540);
    // Tick clock (no injected clock): E − 3 ticks at drift 0 and 0.1 for E = 10, as the old rule.
    assert.ok(new LeaseClock(10, ticks, { now: ticks, tickInterval: 1, maxClockDrift: 0 }).duration > 7);
    const tickLease = new LeaseClock(10, ticks);
    assert.ok(tickLease.valid(0, 7) && !tickLease.valid(0, 8));
  });

  describe('a partitioned or stopped leader stops serving before a rival can be elected (tick accounting)', () => {
    interface Outcome {
      /** Real µs: last moment the old leader considered its lease valid / a rival became leader. */
      lastValid: number;
      elected: number;
      isolatedAt: number;
      /** After the rival won: would the old leader (resumed, still cut off) serve a read locally? */
      servesAfterResume: boolean;
      duration: number;
    }

    /**
     * 1 ms steps of real time. Each node ticks when ITS clock passes its next tick deadline (a timer on
     * its own clock), at its own phase; messages are delivered at once. After a few heartbeat rounds the
     * leader is cut off (and with `pause`, also stops ticking and stepping: SIGSTOP). The run ends when
     * another node leads a later term.
     */
    function run(o: LeaseNetOptions & { leaderRate: number; followerRate: number; pause: boolean; proposeEveryMs?: number }): Outcome & { heartbeatsBeforeCut: number; appendsBeforeCut: number } {
      const clocks = new Clocks();
      const size = o.size ?? 3;
      const net = leaseNet(clocks, o);
      clocks.setRate(1, o.leaderRate);
      for (let id = 2; id <= size; id++) clocks.setRate(id, o.followerRate);
      net.campaign(1);
      const r1 = net.raft(1);
      const nextTick = new Map<number, number>();
      for (const id of net.nodes.keys()) nextTick.set(id, clocks.now(id) + ((id * 7919) % T));
      let isolatedAt = -1;
      let lastValid = -1;
      let elected = -1;
      let heartbeatsBeforeCut = 0;
      let appendsBeforeCut = 0;
      net.msgHook = (m) => {
        if (isolatedAt < 0 && m.from === 1 && m.type === MessageType.Heartbeat) heartbeatsBeforeCut++;
        if (isolatedAt < 0 && m.from === 1 && m.type === MessageType.App) appendsBeforeCut++;
        return true;
      };
      const start = clocks.real;
      for (let step = 0; step < 20_000 && elected < 0; step++) {
        clocks.real += 1000;
        // A steady write load: the lease then rests on acknowledged appends (with skipBeats).
        if (o.proposeEveryMs !== undefined && step % o.proposeEveryMs === 0 && r1.state === StateType.Leader && !(o.pause && isolatedAt >= 0)) {
          net.send(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: ctx(`w${step}`) }] }));
        }
        if (isolatedAt < 0 && clocks.real - start >= 5 * T) {
          net.isolate(1);
          isolatedAt = clocks.real;
          // Worst case: the followers campaign on the first tick their vote hold allows.
          for (const [id, n] of net.nodes) if (id !== 1) n.raft.randomizedElectionTimeout = E;
        }
        for (const [id, n] of net.nodes) {
          if (o.pause && isolatedAt >= 0 && id === 1) continue; // stopped: no ticks (the clock runs on)
          while (clocks.now(id) >= nextTick.get(id)!) {
            nextTick.set(id, nextTick.get(id)! + T);
            n.raft.tick();
          }
        }
        net.flush();
        if (isolatedAt >= 0 && !o.pause && r1.leaseValid()) lastValid = clocks.real;
        if (isolatedAt >= 0 && o.pause && lastValid < 0) lastValid = isolatedAt; // stopped right after its last ack
        for (const [id, n] of net.nodes) if (id !== 1 && n.raft.state === StateType.Leader && n.raft.term > r1.term) elected = clocks.real;
      }
      assert.ok(elected > 0, 'a rival was elected');
      // The leader resumes (SIGCONT), still cut off: does it believe in its lease?
      const servesAfterResume = r1.state === StateType.Leader && r1.leaseValid();
      if (!o.pause && r1.state === StateType.Leader && r1.leaseValid()) lastValid = clocks.real;
      return { lastValid, elected, isolatedAt, servesAfterResume, duration: r1.lease.duration, heartbeatsBeforeCut, appendsBeforeCut };
    }

    for (const size of [3, 5]) {
      it(`${size} nodes, leader clock slow and followers fast within the 10 % bound: the lease ends first`, () => {
        const out = run({ size, leaderRate: 0.95, followerRate: 1.05, pause: false });
        assert.ok(out.lastValid > out.isolatedAt + 200_000, `the lease stayed useful after the cut (${out.lastValid - out.isolatedAt} µs)`);
        assert.ok(out.lastValid < out.elected, `lease valid until ${out.lastValid}, rival elected at ${out.elected}`);
        assert.ok(out.elected - out.lastValid < 50_000, `the schedule is tight: the rival wins soon after the lease ends (${out.elected - out.lastValid} µs)`);
        assert.equal(out.servesAfterResume, false);
      });
    }

    for (const size of [3, 5]) {
      it(`${size} nodes under writes with skipped heartbeats (the lease rests on acknowledged appends): the lease ends first`, () => {
        const out = run({ size, leaderRate: 0.95, followerRate: 1.05, pause: false, skipBeats: true, proposeEveryMs: 5 });
        assert.ok(out.appendsBeforeCut > 50, `appends flowed (${out.appendsBeforeCut})`);
        assert.ok(out.heartbeatsBeforeCut <= 2 * (size - 1), `the heartbeats were skipped (${out.heartbeatsBeforeCut} sent before the cut)`);
        assert.ok(out.lastValid > out.isolatedAt + 200_000, `the lease stayed useful after the cut (${out.lastValid - out.isolatedAt} µs)`);
        assert.ok(out.lastValid < out.elected, `lease valid until ${out.lastValid}, rival elected at ${out.elected}`);
        assert.equal(out.servesAfterResume, false);
      });
    }

    it('negative control: under writes with skipped heartbeats, drift beyond the bound lets the append-renewed lease overlap the rival', () => {
      const out = run({ leaderRate: 0.4, followerRate: 1, pause: false, skipBeats: true, proposeEveryMs: 5 });
      assert.ok(out.heartbeatsBeforeCut <= 4);
      assert.ok(out.lastValid >= out.elected, `expected an overlap (lease valid until ${out.lastValid}, rival elected at ${out.elected})`);
    });

    it('a SIGSTOPped leader (no ticks, clock running) finds its lease expired when it resumes', () => {
      const out = run({ leaderRate: 1, followerRate: 1, pause: true });
      assert.equal(out.servesAfterResume, false);
    });

    it('negative control: the same clocks with maxClockDrift 0 configured let the lease overlap the rival', () => {
      const out = run({ leaderRate: 0.95, followerRate: 1.05, pause: false, drift: 0 });
      assert.ok(out.lastValid >= out.elected, `expected an overlap (lease valid until ${out.lastValid}, rival elected at ${out.elected})`);
    });

    it('negative control: drift beyond maxClockDrift (leader clock at 0.4×) lets the lease overlap the rival', () => {
      const out = run({ leaderRate: 0.4, followerRate: 1, pause: false });
      assert.ok(out.lastValid >= out.elected, `expected an overlap (lease valid until ${out.lastValid}, rival elected at ${out.elected})`);
    });

    it('negative control: a tick-count lease under a stopped leader resumes believing it holds', () => {
      const out = run({ leaderRate: 1, followerRate: 1, pause: true, tickClock: true });
      assert.equal(out.servesAfterResume, true);
    });

    it('negative control: unsafeNoExpiry keeps serving after the rival won', () => {
      const out = run({ leaderRate: 1, followerRate: 1, pause: true, unsafeNoExpiry: true });
      assert.equal(out.servesAfterResume, true);
    });
  });

  describe('skipHeartbeatsAfterAppends: appends stand in for heartbeats', () => {
    const propose = (net: Network, data: string): void =>
      net.send(msg({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: 0, data: ctx(data) }] }));

    /** Node 1 leads a 3-node group with skipped heartbeats, holding its lease. */
    function skipNet(): { clocks: Clocks; net: Network; r: ReturnType<Network['raft']> } {
      const clocks = new Clocks();
      const net = leaseNet(clocks, { skipBeats: true });
      net.campaign(1);
      beat(net, 1);
      return { clocks, net, r: net.raft(1) };
    }

    /** The followers a Beat sends a heartbeat to (messages captured, not delivered). */
    function heartbeatTargets(net: Network): number[] {
      const r = net.raft(1);
      r.step(msg({ type: MessageType.Beat, from: 1, to: 1 }));
      const out = net.node(1).readMessages();
      const hb = out.filter((m) => m.type === MessageType.Heartbeat).map((m) => m.to);
      net.send(...out);
      return hb.sort();
    }

    it('a follower sent an append since the last beat gets no heartbeat; with nothing sent since, it does again', () => {
      const { net } = skipNet();
      propose(net, 'a');
      assert.deepEqual(heartbeatTargets(net), [], 'both followers got the append: no heartbeat');
      assert.deepEqual(heartbeatTargets(net), [2, 3], 'nothing sent since the last beat: heartbeats');
      propose(net, 'b');
      assert.deepEqual(heartbeatTargets(net), []);
    });

    it('control: without the option every beat heartbeats every follower', () => {
      const clocks = new Clocks();
      const net = leaseNet(clocks);
      net.campaign(1);
      beat(net, 1);
      propose(net, 'a');
      assert.deepEqual(heartbeatTargets(net), [2, 3]);
    });

    it('a follower in Probe state or with a full window is still heartbeated (its answer unsticks replication)', () => {
      const { net, r } = skipNet();
      propose(net, 'a');
      r.trk.progress.get(2)!.becomeProbe();
      assert.deepEqual(heartbeatTargets(net), [2]);
    });

    it('acknowledged appends renew the lease from their send stamp, heartbeats or not', () => {
      const { clocks, net, r } = skipNet();
      const t0 = clocks.now(1);
      clocks.real += 300_000;
      propose(net, 'a');
      const t1 = clocks.now(1);
      clocks.real = t0 + Math.ceil(r.lease.duration) + 1;
      assert.equal(r.leaseValid(), true, 'renewed by the acknowledged append sent at t1');
      clocks.real = t1 + Math.ceil(r.lease.duration);
      assert.equal(r.leaseValid(), false, 'and only up to its send time + duration');
    });

    it('negative control: with the followers\' echo stripped the same appends do not renew the lease', () => {
      const { clocks, net, r } = skipNet();
      net.msgHook = (m) => {
        if (m.type === MessageType.AppResp) m.context = new Uint8Array(0);
        return true;
      };
      const t0 = clocks.now(1);
      clocks.real += 300_000;
      propose(net, 'a');
      clocks.real = t0 + Math.ceil(r.lease.duration) + 1;
      assert.equal(r.leaseValid(), false);
    });

    it('a stamped answer of an older term, or of an earlier Progress generation, does not renew the lease', () => {
      const { clocks, net, r } = skipNet();
      // A later term (term 1 − 1 = 0 would be a local message).
      clocks.real += E * T;
      for (const id of [2, 3]) net.raft(id).becomeFollower(net.raft(id).term, 0);
      r.becomeFollower(r.term + 1, 0);
      net.campaign(1);
      assert.equal(r.state, StateType.Leader);
      assert.ok(r.term >= 2);
      const t0 = clocks.now(1);
      clocks.real += 300_000;
      net.isolate(1);
      const stamp = encodeLeaseStamp(clocks.now(1));
      clocks.real = t0 + Math.ceil(r.lease.duration) + 1;
      for (const from of [2, 3]) r.step(msg({ type: MessageType.AppResp, from, to: 1, term: r.term - 1, index: r.raftLog.lastIndex(), context: stamp }));
      assert.equal(r.leaseValid(), false, 'older term');
      for (const from of [2, 3]) r.step(msg({ type: MessageType.AppResp, from, to: 1, term: r.term, index: r.raftLog.lastIndex(), context: stamp, gen: r.trk.progress.get(from)!.gen + 1 }));
      assert.equal(r.leaseValid(), false, 'earlier generation');
      // The same answers in the current term and generation would count (the checks above can fail).
      for (const from of [2, 3]) r.step(msg({ type: MessageType.AppResp, from, to: 1, term: r.term, index: r.raftLog.lastIndex(), context: stamp, gen: r.trk.progress.get(from)!.gen }));
      assert.equal(r.leaseValid(), true);
    });

    it('the stamp codec round-trips clock values and rejects anything not 8 bytes', () => {
      for (const t of [0, 1, 2 ** 32 - 1, 2 ** 32, 1_733_000_000_000_123, Number.MAX_SAFE_INTEGER]) assert.equal(decodeLeaseStamp(encodeLeaseStamp(t)), t);
      assert.equal(encodeLeaseStamp(-1).length, 0);
      assert.equal(decodeLeaseStamp(new Uint8Array(0)), undefined);
      assert.equal(decodeLeaseStamp(new Uint8Array(9)), undefined);
    });
  });
});
